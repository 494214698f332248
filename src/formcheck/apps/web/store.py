"""The data folder: everything the web app keeps, named by server-made ids only.

    <data>/formcheck.sqlite3        the history (db.py)
    <data>/uploads/<id>             an upload waiting for (or under) analysis; removed when its job ends
    <data>/uploads/<id>.toml        its rule profile, when one was uploaded
    <data>/sets/<id>/               the set's outputs, written by analyze (report.json last)
    <data>/logs/<id>.log            a worker's stderr while its job runs (kept when the job failed)

No client text ever becomes part of a path: ids are `secrets.token_hex(8)` checked against db.ID_RE, and the
files of a set are served only by a fixed whitelist of names.
"""
from __future__ import annotations

import secrets
import shutil
from pathlib import Path

from formcheck.apps.web.db import DB_NAME, ID_RE, Database
from formcheck.core.errors import OutputError

#: the files of a set anyone may fetch, and their media types
SET_FILES = {"annotated.mp4": "video/mp4", "report.json": "application/json", "frames.csv": "text/csv",
             "report.html": "text/html"}


def default_data_dir() -> Path:
    """The user's data directory (platformdirs): ~/.local/share/formcheck on Linux."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("formcheck", appauthor=False))


class Store:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser().resolve()
        try:
            for sub in ("uploads", "sets", "logs"):
                (self.root / sub).mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise OutputError(f"cannot use {self.root} as the data folder ({e.strerror}); pass a writable --data "
                              f"folder") from None
        self.db = Database(self.root / DB_NAME)

    @staticmethod
    def new_id() -> str:
        return secrets.token_hex(8)

    @staticmethod
    def valid_id(set_id: str) -> bool:
        return ID_RE.fullmatch(set_id) is not None

    def upload_path(self, set_id: str) -> Path:
        assert self.valid_id(set_id)
        return self.root / "uploads" / set_id

    def profile_path(self, set_id: str) -> Path:
        assert self.valid_id(set_id)
        return self.root / "uploads" / f"{set_id}.toml"

    def set_dir(self, set_id: str) -> Path:
        assert self.valid_id(set_id)
        return self.root / "sets" / set_id

    def log_path(self, set_id: str) -> Path:
        assert self.valid_id(set_id)
        return self.root / "logs" / f"{set_id}.log"

    def set_file(self, set_id: str, name: str) -> Path | None:
        """A set's file by (id, whitelisted name), or None: the only way a request reaches a file."""
        if not self.valid_id(set_id) or name not in SET_FILES:
            return None
        p = self.set_dir(set_id) / name
        return p if p.is_file() else None

    def drop_inputs(self, set_id: str) -> None:
        self.upload_path(set_id).unlink(missing_ok=True)
        self.profile_path(set_id).unlink(missing_ok=True)

    def remove(self, set_id: str) -> None:
        """Every file of a set."""
        self.drop_inputs(set_id)
        shutil.rmtree(self.set_dir(set_id), ignore_errors=True)
        self.log_path(set_id).unlink(missing_ok=True)
