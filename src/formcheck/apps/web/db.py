"""The history: one SQLite file in the data folder, with a schema version and ordered migrations.

Why SQLite: one file the lifter owns, transactions (a set becomes `done` together with its reps in one commit, so a
half-written set is never listed as complete), concurrent readers with WAL, and it is in the standard library.
Each call opens its own short connection: the server's threads, the dispatcher and `formcheck import` never share
one, and SQLite's own locking (busy timeout) serialises the writers.

Migrations: `MIGRATIONS[i]` takes the schema from version i to i+1; `schema_version` holds the current version.
A newer file than this code knows is refused with a message rather than guessed at.
"""
from __future__ import annotations

import json
import re
import sqlite3
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from formcheck.core.errors import OutputError

DB_NAME = "formcheck.sqlite3"
STATUSES = ("queued", "running", "done", "failed")
ID_RE = re.compile(r"[0-9a-f]{16}")     # server-made set ids (secrets.token_hex(8)); nothing else names a file

MIGRATIONS: tuple[str, ...] = (
    # 1: the sets, one row per upload or imported folder
    """
    CREATE TABLE sets (
        id            TEXT PRIMARY KEY,
        created_at    TEXT NOT NULL,              -- ISO 8601 UTC: when uploaded (imports: when analysed)
        clip_name     TEXT NOT NULL,              -- the client's file name: display text only, never a path
        source        TEXT NOT NULL CHECK (source IN ('upload', 'import')),
        status        TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
        error         TEXT NOT NULL DEFAULT '',
        exercise_choice TEXT NOT NULL DEFAULT 'auto',
        has_profile   INTEGER NOT NULL DEFAULT 0, -- an uploaded profile TOML waits in uploads/<id>.toml
        want_video    INTEGER NOT NULL DEFAULT 1,
        upload_bytes  INTEGER,
        started_at    TEXT,
        finished_at   TEXT,
        exercise      TEXT,                       -- what the set was judged as (done only)
        n_reps        INTEGER,
        n_clean       INTEGER,
        duration_s    REAL,
        report_sha256 TEXT                        -- of report.json: an imported folder is imported once
    );
    CREATE INDEX sets_created ON sets (created_at);
    """,
    # 2: per-rep numbers and per-cue verdicts, for the history list and the trend charts
    """
    CREATE TABLE reps (
        set_id   TEXT NOT NULL REFERENCES sets (id) ON DELETE CASCADE,
        idx      INTEGER NOT NULL,
        start_s  REAL NOT NULL,
        hold_s   REAL,
        knee_deg REAL,                            -- knee angle at lockout
        hip_deg  REAL,                            -- hip angle at lockout
        clean    INTEGER NOT NULL,                -- no fault on this rep
        faults   TEXT NOT NULL DEFAULT '',        -- rule ids, space-separated
        PRIMARY KEY (set_id, idx)
    );
    CREATE TABLE cues (
        set_id    TEXT NOT NULL REFERENCES sets (id) ON DELETE CASCADE,
        cue       TEXT NOT NULL,                  -- the cue's name, e.g. 'knee at lockout'
        pos       INTEGER NOT NULL,               -- its order on the report
        verdict   TEXT NOT NULL,
        n_fail    INTEGER NOT NULL,
        n_judged  INTEGER NOT NULL,
        PRIMARY KEY (set_id, cue)
    );
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Database:
    """The history file. Thread-safe by construction: every method uses its own connection."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.migrate()

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """One transaction: committed when the block ends, rolled back on an exception."""
        try:
            con = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
        except sqlite3.Error as e:
            raise OutputError(f"cannot open the history database {self.path} ({e}); check the data folder") from None
        con.row_factory = sqlite3.Row
        con.execute("PRAGMA foreign_keys = ON")
        try:
            con.execute("BEGIN IMMEDIATE")
            yield con
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        finally:
            con.close()

    def migrate(self) -> int:
        """Bring the file to SCHEMA_VERSION (creating it if new); returns the version it had."""
        try:
            con = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
            con.execute("PRAGMA journal_mode = WAL")
        except sqlite3.Error as e:
            raise OutputError(f"cannot open the history database {self.path} ({e}); check the data folder") from None
        con.close()
        with self.connect() as con:
            con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = con.execute("SELECT version FROM schema_version").fetchone()
            had = row[0] if row else 0
            if had > SCHEMA_VERSION:
                raise OutputError(f"{self.path} was written by a newer formcheck (schema {had}, this one knows "
                                  f"{SCHEMA_VERSION}); upgrade formcheck or use another --data folder")
            for script in MIGRATIONS[had:]:
                for statement in script.split(";"):
                    if statement.strip():
                        con.execute(statement)
            if row:
                con.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
            else:
                con.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
        return had

    def version(self) -> int:
        with self.connect() as con:
            return con.execute("SELECT version FROM schema_version").fetchone()[0]

    # ------------------------------------------------------------------------------------------------ sets

    def add_set(self, set_id: str, clip_name: str, *, source: str = "upload", status: str = "queued",
                exercise_choice: str = "auto", has_profile: bool = False, want_video: bool = True,
                upload_bytes: int | None = None, created_at: str | None = None) -> None:
        with self.connect() as con:
            con.execute("INSERT INTO sets (id, created_at, clip_name, source, status, exercise_choice, has_profile, "
                        "want_video, upload_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (set_id, created_at or now_iso(), clip_name, source, status, exercise_choice,
                         int(has_profile), int(want_video), upload_bytes))

    def get(self, set_id: str) -> dict | None:
        with self.connect() as con:
            row = con.execute("SELECT * FROM sets WHERE id = ?", (set_id,)).fetchone()
            if row is None:
                return None
            out = dict(row)
            out["cues"] = [dict(r) for r in con.execute(
                "SELECT cue, verdict, n_fail, n_judged FROM cues WHERE set_id = ? ORDER BY pos", (set_id,))]
            return out

    def list(self) -> list[dict]:
        """Every set, newest first, with its per-cue fault counts (one snapshot; `seq` is the upload order)."""
        with self.connect() as con:
            rows = [dict(r) for r in con.execute(
                "SELECT rowid AS seq, * FROM sets ORDER BY created_at DESC, rowid DESC")]
            cues: dict[str, list[dict]] = {}
            for r in con.execute("SELECT set_id, cue, verdict, n_fail, n_judged FROM cues ORDER BY set_id, pos"):
                cues.setdefault(r["set_id"], []).append({k: r[k] for k in ("cue", "verdict", "n_fail", "n_judged")})
        for r in rows:
            r["cues"] = cues.get(r["id"], [])
        return rows

    def queued(self) -> list[str]:
        """Waiting sets in the order they were uploaded."""
        with self.connect() as con:
            return [r[0] for r in con.execute("SELECT id FROM sets WHERE status = 'queued' ORDER BY rowid")]

    def claim(self, set_id: str) -> bool:
        """queued -> running; False when it is no longer queued (deleted meanwhile)."""
        with self.connect() as con:
            cur = con.execute("UPDATE sets SET status = 'running', started_at = ? WHERE id = ? AND status = 'queued'",
                              (now_iso(), set_id))
            return cur.rowcount == 1

    def fail(self, set_id: str, error: str) -> None:
        with self.connect() as con:
            con.execute("UPDATE sets SET status = 'failed', error = ?, finished_at = ? WHERE id = ? "
                        "AND status != 'done'", (error, now_iso(), set_id))

    def fail_unfinished(self, error: str) -> list[str]:
        """At start-up: whatever a previous server left queued or running can no longer finish."""
        with self.connect() as con:
            ids = [r[0] for r in con.execute("SELECT id FROM sets WHERE status IN ('queued', 'running')")]
            con.execute("UPDATE sets SET status = 'failed', error = ?, finished_at = ? "
                        "WHERE status IN ('queued', 'running')", (error, now_iso()))
        return ids

    def complete(self, set_id: str, summary: dict, *, report_sha256: str, finished_at: str | None = None,
                 new_status_from: tuple[str, ...] = ("running",)) -> bool:
        """The set is done: its summary, reps and cues in one transaction (all or nothing). False when the set
        was deleted (or is not in an expected state) meanwhile."""
        with self.connect() as con:
            return _complete(con, set_id, summary, report_sha256, finished_at or now_iso(), new_status_from)

    def add_imported(self, set_id: str, clip_name: str, summary: dict, *, report_sha256: str,
                     created_at: str) -> None:
        """An imported folder goes in as `done` in one transaction: it is never seen half-added."""
        with self.connect() as con:
            con.execute("INSERT INTO sets (id, created_at, clip_name, source, status) VALUES (?, ?, ?, 'import', "
                        "'running')", (set_id, created_at, clip_name))
            _complete(con, set_id, summary, report_sha256, created_at, ("running",))

    def has_report(self, report_sha256: str) -> bool:
        with self.connect() as con:
            return con.execute("SELECT 1 FROM sets WHERE report_sha256 = ?", (report_sha256,)).fetchone() is not None

    def delete(self, set_id: str) -> bool:
        with self.connect() as con:
            return con.execute("DELETE FROM sets WHERE id = ?", (set_id,)).rowcount == 1

    # ---------------------------------------------------------------------------------------------- trends

    def trend_rows(self) -> tuple[list[dict], list[dict], list[dict]]:
        """(done sets oldest first, their reps, their cues) for the trend charts."""
        with self.connect() as con:
            sets = [dict(r) for r in con.execute(
                "SELECT id, created_at, clip_name, exercise, n_reps, n_clean FROM sets WHERE status = 'done' "
                "ORDER BY created_at, rowid")]
            reps = [dict(r) for r in con.execute(
                "SELECT reps.* FROM reps JOIN sets ON sets.id = reps.set_id WHERE sets.status = 'done'")]
            cues = [dict(r) for r in con.execute(
                "SELECT cues.* FROM cues JOIN sets ON sets.id = cues.set_id WHERE sets.status = 'done' "
                "ORDER BY cues.pos")]
        return sets, reps, cues


def _complete(con: sqlite3.Connection, set_id: str, summary: dict, report_sha256: str, finished_at: str,
              from_status: tuple[str, ...]) -> bool:
    cur = con.execute(
        "UPDATE sets SET status = 'done', error = '', finished_at = ?, exercise = ?, n_reps = ?, n_clean = ?, "
        f"duration_s = ?, report_sha256 = ? WHERE id = ? AND status IN ({','.join('?' * len(from_status))})",
        (finished_at, summary["exercise"], summary["n_reps"], summary["n_clean"], summary["duration_s"],
         report_sha256, set_id, *from_status))
    if cur.rowcount != 1:
        return False
    con.executemany("INSERT INTO reps (set_id, idx, start_s, hold_s, knee_deg, hip_deg, clean, faults) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [(set_id, r["idx"], r["start_s"], r["hold_s"], r["knee_deg"], r["hip_deg"], int(r["clean"]),
                      r["faults"]) for r in summary["reps"]])
    con.executemany("INSERT INTO cues (set_id, cue, pos, verdict, n_fail, n_judged) VALUES (?, ?, ?, ?, ?, ?)",
                    [(set_id, c["cue"], i, c["verdict"], c["n_fail"], c["n_judged"])
                     for i, c in enumerate(summary["cues"])])
    return True


def summarise(report: dict) -> dict:
    """What the history keeps of a report.json: the set's counts, each rep's lockout numbers, each cue's verdict."""
    from formcheck.report.files import analysis_from_dict
    from formcheck.report.verdicts import cue_verdicts

    analysis = analysis_from_dict(report)
    reps = [{"idx": r.index, "start_s": r.start_s, "hold_s": r.hold_s, "knee_deg": r.metrics.get("knee_deg"),
             "hip_deg": r.metrics.get("hip_deg"), "clean": not r.faults, "faults": " ".join(r.faults)}
            for r in analysis.reps]
    cues = [{"cue": cv.name, "verdict": cv.verdict, "n_fail": len(cv.fail_reps),
             "n_judged": len(cv.fail_reps) + len(cv.pass_reps) + len(cv.borderline_reps)}
            for cv in cue_verdicts(analysis)]
    return {"exercise": analysis.exercise, "n_reps": analysis.n_reps, "n_clean": sum(r["clean"] for r in reps),
            "duration_s": analysis.video.duration_s, "reps": reps, "cues": cues}


