"""`formcheck import DIR...`: add `formcheck batch` output folders to the web app's history.

A command of its own (not a `serve` option) because it is a one-off that exits, needs no server, and can run
while one serves: the history is SQLite, whose locking keeps the two writers apart.
"""
from __future__ import annotations

import argparse


def add(sub, common) -> None:
    sp = sub.add_parser("import", help="add `formcheck batch` output folders to the web app's history")
    sp.add_argument("folders", nargs="+", help="batch output folder(s), or single clips' output folders")
    sp.add_argument("--data", help="the web app's data folder (default: the user's data folder, as `serve`)")
    sp.set_defaults(func=run)


def run(a: argparse.Namespace) -> int:
    from formcheck.apps.web.importer import import_folders
    from formcheck.apps.web.store import Store, default_data_dir

    store = Store(a.data or default_data_dir())
    res = import_folders(store, a.folders)
    for folder, set_id in res.imported:
        print(f"imported {folder} as /sets/{set_id}")
    for folder, why in res.skipped:
        print(f"skipped {folder}: {why}")
    print(f"{len(res.imported)} set(s) imported into {store.root}, {len(res.skipped)} skipped")
    return 0
