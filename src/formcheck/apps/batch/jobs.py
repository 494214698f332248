"""One clip, the unit of work for every backend: its job description, its summary row, and `run_clip`."""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from formcheck.apps.batch.fingerprint import clip_fingerprint, model_identity
from formcheck.core.errors import FormcheckError, InputError
from formcheck.core.types import VERDICTS
from formcheck.exercises import EXERCISES
from formcheck.report.files import rule_tally, write_text_atomic

#: every rule any exercise judges (summary columns stay the same whatever each clip was judged as)
RULE_IDS = tuple(dict.fromkeys(r for ex in EXERCISES.values() for r in ex.rule_ids))

EXIT_SOME_FAILED = 10          # some clips failed (the others' outputs and the summary are written)
DONE_MARKER = ".formcheck-done.json"   # written after report.json: fingerprint + summary row
JOB_MARKER = ".formcheck-job.json"     # written before analysis: fingerprint of the attempt under way
MARKER_VERSION = 2             # 2: the exercise choice is part of the fingerprint, rows have an exercise column
PROGRESS_EVERY_S = 0.5         # how often a worker reports frames done

#: summary columns, in order; per-rule counts follow as <rule>_fail / <rule>_pass / <rule>_not_judged (empty
#: for a rule the clip's exercise does not have). exercise: what the clip was judged as.
BASE_COLUMNS = ("clip", "output_dir", "status", "error", "exercise", "reps", "faults", "detection_rate",
                "duration_s", "frames", "seconds_taken")
RULE_COLUMNS = tuple(f"{r}_{v}" for r in RULE_IDS for v in VERDICTS)
COLUMNS = BASE_COLUMNS + RULE_COLUMNS


@dataclass(frozen=True)
class ClipJob:
    """Everything a worker needs for one clip; plain picklable data (Profile is a frozen dataclass)."""

    clip: str            # absolute path: workers (and Ray nodes) do not share the parent's working directory
    clip_label: str      # the path as found, for the summary
    out_dir: str         # absolute path of this clip's output folder
    name: str            # the folder's name under OUT (its key in progress events and the summary)
    profile: Any         # formcheck.core.config.Profile when there is one candidate, None: `exercise` decides
    model: str | None    # None = the shipped model, which the worker resolves (and verifies) itself
    video: bool
    html: bool
    profile_id: dict
    exercise: str = "auto"   # the --exercise choice: auto lets each clip decide from its set-up


def empty_row(clip_label: str, name: str) -> dict:
    row: dict[str, Any] = {c: None for c in COLUMNS}
    row.update(clip=clip_label, output_dir=name, status="error", error="")
    return row


def row_from_report(report: dict, row: dict) -> dict:
    """Fill a summary row from a report.json dict (Analysis.to_dict()): the one place both a fresh result and a
    recovered one are summarised, so they cannot differ."""
    row = dict(row)
    reps = report["reps"]
    tally = rule_tally(report)
    row.update(exercise=report.get("exercise"), reps=report["n_reps"], detection_rate=report["detection_rate"],
               duration_s=report["video"]["duration_s"], frames=report["n_frames"],
               faults=" ".join(f"{r['index']}:{'+'.join(r['faults'])}" for r in reps if r["faults"]))
    for rule in RULE_IDS:
        for verdict in VERDICTS:
            row[f"{rule}_{verdict}"] = len(tally[rule][verdict]) if rule in tally else None
    return row


def error_message(e: BaseException) -> str:
    """One line: a FormcheckError's own message (it already says what to do), anything else as type + message."""
    msg = str(e) if isinstance(e, FormcheckError) else f"{type(e).__name__}: {e}"
    return " ".join(msg.split()) or type(e).__name__


class Observer(Protocol):
    """What the batch reports while it runs (the CLI turns it into a bar and lines)."""

    def planned(self, jobs: list[ClipJob], skipped: list[dict], frames_est: dict[str, int]) -> None: ...
    def started(self, name: str) -> None: ...
    def frames(self, name: str, done: int, total: int) -> None: ...
    def finished(self, row: dict) -> None: ...
    def note(self, message: str) -> None: ...


def dispatch(item, observer: Observer | None) -> None:
    """A worker's progress message to the observer."""
    if observer is None:
        return
    if item[0] == "start":
        observer.started(item[1])
    elif item[0] == "frames":
        observer.frames(item[1], item[2], item[3])


def _send(queue, item) -> None:
    """Progress is best effort: a lost message must never fail a clip."""
    if queue is None:
        return
    try:
        queue.put_nowait(item)
    except Exception:  # noqa: BLE001 - full queue, dead parent, Ray actor gone: progress only
        pass


def _remove_stale_partials(out: Path) -> None:
    """A killed run leaves `.partial-*` temp folders (analyze removes its own on any Python-level exit)."""
    import shutil

    if out.is_dir():
        for p in out.glob(".partial-*"):
            shutil.rmtree(p, ignore_errors=True)


def write_json_atomic(path: Path, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=1, allow_nan=False))


def run_clip(job: ClipJob, progress_queue=None) -> dict:
    """Analyse one clip into job.out_dir and return its summary row. Never raises for a bad clip.

    progress_queue (optional) gets ("start", name), then ("frames", name, done, total) at most every
    PROGRESS_EVERY_S; anything with put_nowait works (a multiprocessing queue, a Ray queue).
    """
    t0 = time.monotonic()
    out = Path(job.out_dir)
    row = empty_row(job.clip_label, job.name)
    _send(progress_queue, ("start", job.name))
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY_S:
            last[0] = now
            _send(progress_queue, ("frames", job.name, done, total))

    started = False
    try:
        fp = clip_fingerprint(job.clip) if os.path.isfile(job.clip) else None   # None: analyze says what is wrong
        ident = {"marker_version": MARKER_VERSION, "clip_path": job.clip, "clip": fp, "exercise": job.exercise,
                 "profile": job.profile_id, "model": model_identity(job.model)}
        if out.is_dir():   # earlier outputs are about to be replaced: stop them counting as complete first
            (out / DONE_MARKER).unlink(missing_ok=True)
            (out / "report.json").unlink(missing_ok=True)
            _remove_stale_partials(out)
        if fp is not None:
            out.mkdir(parents=True, exist_ok=True)
            write_json_atomic(out / JOB_MARKER, {**ident, "video": job.video, "html": job.html})
            started = True
        from formcheck.apps.analyze import analyze

        res = analyze(job.clip, out, profile=job.profile, exercise=job.exercise, model=job.model, video=job.video,
                      html=job.html, progress=progress)
        row = row_from_report(res.to_dict(), row)
        st = os.stat(job.clip)
        if (st.st_size, st.st_mtime_ns) != (fp["size_bytes"], fp["mtime_ns"]):
            raise InputError(f"{job.clip}: the file changed while it was analysed; run the batch again")
        row["status"] = "ok"
        row["seconds_taken"] = round(time.monotonic() - t0, 2)
        write_json_atomic(out / DONE_MARKER, {
            **ident, "outputs": sorted(Path(p).name for p in res.outputs.values()),
            "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "row": row})
        (out / JOB_MARKER).unlink(missing_ok=True)
    except Exception as e:  # noqa: BLE001 - every failure is recorded in the summary, the batch goes on
        row = {**empty_row(job.clip_label, job.name), "error": error_message(e)}
        if started:
            (out / "report.json").unlink(missing_ok=True)   # e.g. the clip changed under us: not a valid result
            (out / JOB_MARKER).unlink(missing_ok=True)
        try:
            out.rmdir()   # only if nothing else is there: a failed clip leaves no empty folder behind
        except OSError:
            pass
    row["seconds_taken"] = round(time.monotonic() - t0, 2)
    return row
