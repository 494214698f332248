"""Importing batch output folders into the history (`formcheck import DIR`).

A folder counts when it holds a report.json (analyze moves it in last, so it vouches for a complete set). Its
files (from the whitelist) are copied into `<data>/sets/<new id>/` (the history owns its copies: the batch folder
can be moved or deleted later), then the set is added as done in one transaction. A report already in the history
(same report.json bytes) is skipped, so importing the same batch twice adds nothing.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from formcheck.apps.web.db import summarise
from formcheck.apps.web.jobs import sha256_bytes
from formcheck.apps.web.store import SET_FILES, Store
from formcheck.core.errors import InputError

DONE_MARKER = ".formcheck-done.json"   # the batch's marker (apps.batch.jobs.DONE_MARKER): its finished_at dates the set


@dataclass
class ImportResult:
    imported: list[tuple[Path, str]] = field(default_factory=list)   # (folder, set id)
    skipped: list[tuple[Path, str]] = field(default_factory=list)    # (folder, why)


def find_sets(root: Path) -> list[Path]:
    """The folders under root (root itself included) that hold a report.json, in path order."""
    if not root.is_dir():
        raise InputError(f"{root}: not a folder; give a `formcheck batch` output folder (or one clip's folder)")
    found = [p.parent for p in root.rglob("report.json") if not any(x.startswith(".partial-") for x in p.parts)]
    return sorted(set(found))


def _created_at(folder: Path) -> str:
    try:
        marker = json.loads((folder / DONE_MARKER).read_text())
        if marker.get("finished_at"):
            return datetime.fromisoformat(marker["finished_at"]).astimezone(timezone.utc).isoformat(timespec="seconds")
    except (OSError, ValueError, AttributeError):
        pass
    mtime = (folder / "report.json").stat().st_mtime
    return datetime.fromtimestamp(mtime, timezone.utc).isoformat(timespec="seconds")


def import_folders(store: Store, roots: list[str | os.PathLike]) -> ImportResult:
    res = ImportResult()
    for root in roots:
        for folder in find_sets(Path(root)):
            data = (folder / "report.json").read_bytes()
            sha = sha256_bytes(data)
            if store.db.has_report(sha):
                res.skipped.append((folder, "already in the history"))
                continue
            try:
                report = json.loads(data)
                summary = summarise(report)
            except (ValueError, KeyError, TypeError) as e:
                res.skipped.append((folder, f"report.json is not a formcheck report ({type(e).__name__})"))
                continue
            set_id = store.new_id()
            tmp = store.root / "sets" / f".import-{set_id}"
            tmp.mkdir()
            try:
                for name in SET_FILES:
                    if (folder / name).is_file():
                        shutil.copyfile(folder / name, tmp / name)
                os.replace(tmp, store.set_dir(set_id))
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            clip = Path(report.get("video", {}).get("path", "")).name or folder.name
            store.db.add_imported(set_id, clip, summary, report_sha256=sha, created_at=_created_at(folder))
            res.imported.append((folder, set_id))
    return res
