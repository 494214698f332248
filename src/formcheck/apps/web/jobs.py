"""The queue: uploads wait in the database as `queued`; a dispatcher thread runs up to N of them at a time, each in
its own worker process (worker.py), reads their progress, and settles each job from how its process ended.

A job is `done` only when its process exited 0 *and* report.json is in its folder (analyze moves it in last) *and*
its summary is committed with its reps in one transaction. Anything else (an error the worker reported, a crash,
a kill) marks it `failed` with a one-line reason and removes its partial outputs, and the next job starts.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from formcheck.apps.web.db import summarise
from formcheck.apps.web.store import Store

RESTART_REASON = "the server stopped before this analysis finished: upload it again"


@dataclass
class Progress:
    """What the page shows while a job runs."""

    frames_done: int = 0
    frames_total: int = 0
    fps: float = 0.0
    eta_s: float | None = None
    started: float = field(default_factory=time.monotonic)
    first: tuple[float, int] | None = None      # (time, frames) of the first report: fps excludes start-up

    def update(self, done: int, total: int) -> None:
        now = time.monotonic()
        self.frames_done, self.frames_total = done, total
        if self.first is None:
            self.first = (now, done)
        elif now > self.first[0] and done > self.first[1]:
            self.fps = (done - self.first[1]) / (now - self.first[0])
            self.eta_s = max(total - done, 0) / self.fps if total else None

    def as_dict(self) -> dict:
        return {"frames_done": self.frames_done, "frames_total": self.frames_total, "fps": round(self.fps, 1),
                "eta_s": None if self.eta_s is None else round(self.eta_s, 1),
                "elapsed_s": round(time.monotonic() - self.started, 1)}


def crash_reason(returncode: int) -> str:
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        how = f"was stopped by {name}"
    else:
        how = f"exited with code {returncode}"
    return (f"the analysis process {how} before it finished (killed, out of memory, or a crash in the decoder); "
            f"upload the clip again")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def ingest(store: Store, set_id: str, *, finished_at: str | None = None, from_status: tuple[str, ...] = ("running",)
           ) -> bool:
    """Commit a finished folder's report.json into the history (all or nothing). False when there is no valid
    report or the set is gone."""
    path = store.set_dir(set_id) / "report.json"
    try:
        data = path.read_bytes()
        summary = summarise(json.loads(data))
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return store.db.complete(set_id, summary, report_sha256=sha256_bytes(data), finished_at=finished_at,
                             new_status_from=from_status)


class Dispatcher:
    """Runs queued jobs in worker processes, at most `workers` at once."""

    def __init__(self, store: Store, workers: int | None = None, model: str | None = None) -> None:
        self.store = store
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.model = model
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._procs: dict[str, subprocess.Popen] = {}
        self._progress: dict[str, Progress] = {}
        self._discarded: set[str] = set()
        self._thread = threading.Thread(target=self._loop, name="formcheck-dispatch", daemon=True)

    # ------------------------------------------------------------------------------------------- public

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def progress(self, set_id: str) -> dict | None:
        with self._lock:
            p = self._progress.get(set_id)
            return p.as_dict() if p else None

    def worker_pid(self, set_id: str) -> int | None:
        with self._lock:
            proc = self._procs.get(set_id)
            return proc.pid if proc else None

    def queue_position(self, set_id: str) -> int | None:
        """1 = next to start."""
        q = self.store.db.queued()
        return q.index(set_id) + 1 if set_id in q else None

    def discard(self, set_id: str) -> None:
        """Cancel/delete: stop its worker if it runs (SIGTERM lets analyze clean up; SIGKILL after 5 s)."""
        with self._lock:
            self._discarded.add(set_id)
            proc = self._procs.get(set_id)
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(5.0)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        with self._lock:
            procs = list(self._procs.values())
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()

    # ------------------------------------------------------------------------------------------ internals

    def _loop(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                free = self.workers - len(self._procs)
            if free > 0:
                for set_id in self.store.db.queued()[:free]:
                    if self.store.db.claim(set_id):
                        self._start(set_id)
            self._wake.wait(1.0)
            self._wake.clear()

    def _start(self, set_id: str) -> None:
        row = self.store.db.get(set_id)
        job = {"upload": str(self.store.upload_path(set_id)), "out_dir": str(self.store.set_dir(set_id)),
               "profile": str(self.store.profile_path(set_id)) if row and row["has_profile"] else None,
               "exercise": row["exercise_choice"] if row else "auto", "model": self.model,
               "video": bool(row["want_video"]) if row else True, "parent_pid": os.getpid()}
        log = open(self.store.log_path(set_id), "wb")
        try:
            proc = subprocess.Popen([sys.executable, "-m", "formcheck.apps.web.worker", json.dumps(job)],
                                    stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL,
                                    env={**os.environ, "PYTHONUNBUFFERED": "1"})
        except OSError as e:
            log.close()
            self._settle(set_id, None, {"error": f"cannot start an analysis process ({e})"}, row)
            return
        finally:
            if not log.closed:
                log.close()
        with self._lock:
            self._procs[set_id] = proc
            self._progress[set_id] = Progress()
        threading.Thread(target=self._watch, args=(set_id, proc, row), name=f"formcheck-job-{set_id}",
                         daemon=True).start()

    def _watch(self, set_id: str, proc: subprocess.Popen, row: dict | None) -> None:
        last: dict = {}
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if "frames" in msg:
                with self._lock:
                    self._progress[set_id].update(int(msg["frames"]), int(msg["total"]))
            else:
                last = msg
        rc = proc.wait()
        try:
            self._settle(set_id, rc, last, row)
        finally:
            with self._lock:
                self._procs.pop(set_id, None)
                self._progress.pop(set_id, None)
            self._wake.set()

    def _settle(self, set_id: str, rc: int | None, last: dict, row: dict | None) -> None:
        with self._lock:
            discarded = set_id in self._discarded
        if discarded:
            self.store.remove(set_id)
            return
        if rc == 0 and last.get("ok") and ingest(self.store, set_id):
            self.store.upload_path(set_id).unlink(missing_ok=True)   # its profile stays: the page's bands use it
            self.store.log_path(set_id).unlink(missing_ok=True)
            return
        reason = last.get("error") or (crash_reason(rc) if rc is not None else "the analysis could not start")
        if row is not None:   # the worker names the upload by its server path: show the lifter's file name
            reason = reason.replace(str(self.store.upload_path(set_id)), row["clip_name"])
        self.store.db.fail(set_id, reason)
        self.store.drop_inputs(set_id)
        shutil.rmtree(self.store.set_dir(set_id), ignore_errors=True)   # no half-written set stays behind


def fail_unfinished(store: Store) -> list[str]:
    """At start-up (no job runs yet): jobs a previous server left queued or running are failed with a reason and
    their partial outputs removed, as is whatever an interrupted upload or import left behind (an upload with no
    row yet, a profile of a deleted set, an import's temporary folder). The history itself is kept."""
    ids = store.db.fail_unfinished(RESTART_REASON)
    for set_id in ids:
        store.drop_inputs(set_id)
        shutil.rmtree(store.set_dir(set_id), ignore_errors=True)
    known = {r["id"] for r in store.db.list()}
    for p in (store.root / "uploads").iterdir():
        if p.suffix != ".toml" or p.stem not in known:   # no analysis runs now: every clip upload is stale
            p.unlink(missing_ok=True)
    for p in (store.root / "sets").glob(".import-*"):
        shutil.rmtree(p, ignore_errors=True)
    return ids
