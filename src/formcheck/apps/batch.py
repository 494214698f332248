"""`formcheck batch`: analyse many clips in parallel worker processes (or Ray tasks), resumably.

Design, and why:
- One top-level, picklable function (`run_clip`) analyses one clip and returns its summary row. The local
  backend runs it in a 'spawn' process pool (MediaPipe is not fork-safe), the Ray backend as Ray tasks, so both
  give the same rows, the same outputs and the same error handling. It never raises for a bad clip: the error
  becomes the row's message, so one clip cannot stop the batch.
- Each clip gets its own folder under OUT with the same outputs as `formcheck analyze`. `analyze` writes them
  atomically (report.json last). Before it runs, the worker removes any older report.json and writes
  `.formcheck-job.json`, the fingerprint of what is analysed (clip size + mtime + sha256, profile and model
  identity); after it, `.formcheck-done.json` (the same plus the summary row). A rerun skips a clip only when
  a marker matches and the outputs are there, so a run killed at any point (even between report.json and the
  done marker) resumes without redoing complete clips and without trusting half-written ones.
- The parent plans (names, skip checks), shows progress and writes summary.csv / summary.json / index.html via
  temp file + os.replace, refreshed while the batch runs so a killed batch still leaves a valid summary.
- Ray is imported only by the Ray backend: the default path must run without it installed.
"""
from __future__ import annotations

import csv
import dataclasses
import hashlib
import html as html_mod
import importlib.util
import io
import json
import os
import sys
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol
from urllib.parse import quote

from formcheck.core.errors import FormcheckError, InputError, OutputError
from formcheck.report.files import write_text_atomic
from formcheck.exercises import EXERCISES

#: every rule any exercise judges (summary columns stay the same whatever each clip was)
RULE_IDS = tuple(dict.fromkeys(r for ex in EXERCISES.values() for r in ex.rule_ids))

EXIT_SOME_FAILED = 10          # some clips failed (the others' outputs and the summary are written)
DONE_MARKER = ".formcheck-done.json"   # written after report.json: fingerprint + summary row
JOB_MARKER = ".formcheck-job.json"     # written before analysis: fingerprint of the attempt under way
MARKER_VERSION = 1
SUMMARY_SCHEMA = "formcheck-batch/1"
SUMMARY_REFRESH_S = 2.0        # how often the summary files are rewritten while the batch runs
PROGRESS_EVERY_S = 0.5         # how often a worker reports frames done
_HASH_CHUNK_BYTES = 1 << 20

#: summary columns, in order; per-rule counts follow as <rule>_fail / <rule>_pass / <rule>_not_judged
BASE_COLUMNS = ("clip", "output_dir", "status", "error", "reps", "faults", "detection_rate", "duration_s",
                "frames", "seconds_taken")
RULE_COLUMNS = tuple(f"{r}_{v}" for r in RULE_IDS for v in ("fail", "pass", "not_judged"))
COLUMNS = BASE_COLUMNS + RULE_COLUMNS


# --------------------------------------------------------------------------------------------------------------
# Fingerprints: what a clip's outputs were computed from


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_HASH_CHUNK_BYTES):
            h.update(chunk)
    return h.hexdigest()


def clip_fingerprint(path: str | os.PathLike) -> dict:
    """Size, mtime and sha256 of a clip (the sha256 decides; size is a quick 'changed' check)."""
    st = os.stat(path)
    return {"size_bytes": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha256_file(path)}


_model_ids: dict[str, dict] = {}


def model_identity(model: str | os.PathLike | None) -> dict:
    """Name, size and sha256 of the pose model that `analyze` will load (cached per process: it is 9 MB)."""
    from formcheck.io.pose import resolve_model

    path = resolve_model(model)
    key = str(path)
    if key not in _model_ids:
        _model_ids[key] = {"name": path.name, "size_bytes": path.stat().st_size, "sha256": sha256_file(path)}
    return _model_ids[key]


def profile_identity(profile) -> dict:
    """Where the profile came from and a hash of its effective settings (defaults included, so a changed
    shipped default also invalidates earlier results)."""
    canon = repr(dataclasses.replace(profile, source=""))
    return {"source": profile.source, "sha256": hashlib.sha256(canon.encode()).hexdigest()}


def html_available() -> bool:
    """report.html is written only once formcheck.report.page exists (it lands separately)."""
    return importlib.util.find_spec("formcheck.report.page") is not None


# --------------------------------------------------------------------------------------------------------------
# One clip: the unit of work for every backend


@dataclass(frozen=True)
class ClipJob:
    """Everything a worker needs for one clip; plain picklable data (Profile is a frozen dataclass)."""

    clip: str            # absolute path: workers (and Ray nodes) do not share the parent's working directory
    clip_label: str      # the path as found, for the summary
    out_dir: str         # absolute path of this clip's output folder
    name: str            # the folder's name under OUT (its key in progress events and the summary)
    profile: Any         # formcheck.core.config.Profile
    model: str | None    # None = the shipped model, which the worker resolves (and verifies) itself
    video: bool
    html: bool
    profile_id: dict


def empty_row(clip_label: str, name: str) -> dict:
    row: dict[str, Any] = {c: None for c in COLUMNS}
    row.update(clip=clip_label, output_dir=name, status="error", error="")
    return row


def row_from_report(report: dict, row: dict) -> dict:
    """Fill a summary row from a report.json dict (Analysis.to_dict()): the one place both a fresh result and a
    recovered one are summarised, so they cannot differ."""
    row = dict(row)
    reps = report["reps"]
    row.update(reps=report["n_reps"], detection_rate=report["detection_rate"],
               duration_s=report["video"]["duration_s"], frames=report["n_frames"],
               faults=" ".join(f"{r['index']}:{'+'.join(r['faults'])}" for r in reps if r["faults"]))
    for rule in RULE_IDS:
        for verdict in ("fail", "pass", "not_judged"):
            row[f"{rule}_{verdict}"] = sum(f["rule_id"] == rule and f["verdict"] == verdict
                                           for r in reps for f in r["findings"])
    return row


def error_message(e: BaseException) -> str:
    """One line: a FormcheckError's own message (it already says what to do), anything else as type + message."""
    msg = str(e) if isinstance(e, FormcheckError) else f"{type(e).__name__}: {e}"
    return " ".join(msg.split()) or type(e).__name__


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
        ident = {"marker_version": MARKER_VERSION, "clip_path": job.clip, "clip": fp, "profile": job.profile_id,
                 "model": model_identity(job.model)}
        if out.is_dir():   # earlier outputs are about to be replaced: stop them counting as complete first
            (out / DONE_MARKER).unlink(missing_ok=True)
            (out / "report.json").unlink(missing_ok=True)
            _remove_stale_partials(out)
        if fp is not None:
            out.mkdir(parents=True, exist_ok=True)
            write_json_atomic(out / JOB_MARKER, {**ident, "video": job.video, "html": job.html})
            started = True
        from formcheck.apps.analyze import analyze

        res = analyze(job.clip, out, profile=job.profile, model=job.model, video=job.video, html=job.html,
                      progress=progress)
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


# --------------------------------------------------------------------------------------------------------------
# Planning: folder names and what is already done


def _safe_part(s: str) -> str:
    s = "".join(ch if ch.isprintable() and ch not in '/\\:*?"<>|' else "_" for ch in s).strip()
    return ("_" + s[1:] if s.startswith(".") else s) or "_"


def output_names(clips: list[Path], roots: Iterable[str]) -> list[str]:
    """A readable, unique folder name per clip, stable for the same command line.

    A clip found under a folder argument is named by its path inside that folder (`sub__clip` for
    sub/clip.mp4); a clip given as a file by its stem. Clips that would share a name get the folders that tell
    them apart prefixed (`a__clip`, `b__clip`), then the extension (`clip_mov`), then a short hash.
    """
    dirs = [Path(os.path.abspath(r)) for r in roots if os.path.isdir(r)]
    absolute = [Path(os.path.abspath(c)) for c in clips]

    def base(a: Path) -> str:
        for d in dirs:
            if a.is_relative_to(d):
                rel = a.relative_to(d)
                return "__".join(_safe_part(p) for p in (*rel.parent.parts, a.stem))
        return _safe_part(a.stem)

    names = [base(a) for a in absolute]
    groups: dict[str, list[int]] = {}
    for i, n in enumerate(names):
        groups.setdefault(n, []).append(i)
    for idxs in (g for g in groups.values() if len(g) > 1):
        parents = [absolute[i].parent.parts for i in idxs]
        common = len(os.path.commonprefix(parents))
        for i, pp in zip(idxs, parents):
            extra = [_safe_part(p) for p in pp[common:]]
            names[i] = "__".join([*extra, names[i]])
        if len({names[i] for i in idxs}) < len(idxs):
            for i in idxs:
                names[i] = f"{names[i]}_{_safe_part(absolute[i].suffix.lstrip('.').lower())}"
    seen: dict[str, int] = {}
    for n in names:
        seen[n] = seen.get(n, 0) + 1
    reserved = {"summary", "index"}
    for i, n in enumerate(names):
        if seen[n] > 1 or n.lower() in reserved:
            names[i] = f"{n}-{hashlib.sha1(str(absolute[i]).encode()).hexdigest()[:8]}"
    return names


def _same_inputs(marker: dict, job: ClipJob, model_id: dict) -> bool:
    """Same marker format, profile, model and clip content (size first: it rules most changes out unhashed)."""
    if marker.get("marker_version") != MARKER_VERSION:
        return False
    if marker["profile"]["sha256"] != job.profile_id["sha256"] or marker["model"]["sha256"] != model_id["sha256"]:
        return False
    st = os.stat(job.clip)
    return st.st_size == marker["clip"]["size_bytes"] and sha256_file(job.clip) == marker["clip"]["sha256"]


def _wanted_outputs(job: ClipJob) -> set[str]:
    return {"report.json", "frames.csv"} | ({"annotated.mp4"} if job.video else set()) | (
        {"report.html"} if job.html else set())


def done_row(job: ClipJob, model_id: dict) -> dict | None:
    """The clip's summary row if its outputs are complete and were computed from the same clip, profile and
    model (and include what this run asks for), else None.

    Complete means a matching done marker, or (a run killed between report.json and the done marker) a
    matching job marker beside a report.json: the worker deletes any older report.json before writing the job
    marker, and analyze moves report.json in last, so that pair can only mean this attempt finished. Such a
    folder gets its done marker here.
    """
    out = Path(job.out_dir)
    try:
        if (out / DONE_MARKER).is_file():
            marker = json.loads((out / DONE_MARKER).read_text())
            have = set(marker["outputs"])
            if (_wanted_outputs(job) <= have and all((out / n).is_file() for n in have)
                    and _same_inputs(marker, job, model_id)):
                row = {c: marker["row"].get(c) for c in COLUMNS}
            else:
                return None
        elif (out / JOB_MARKER).is_file() and (out / "report.json").is_file():
            marker = json.loads((out / JOB_MARKER).read_text())
            if not (all((out / n).is_file() for n in _wanted_outputs(job)) and _same_inputs(marker, job, model_id)):
                return None
            row = row_from_report(json.loads((out / "report.json").read_text()),
                                  {**empty_row(job.clip_label, job.name), "status": "ok"})
            have = sorted(n for n in ("annotated.mp4", "frames.csv", "report.html", "report.json") if (out / n).is_file())
            write_json_atomic(out / DONE_MARKER, {**marker, "outputs": have, "finished_at": None, "row": row})
            (out / JOB_MARKER).unlink(missing_ok=True)
        else:
            return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError, OutputError):
        return None
    row.update(clip=job.clip_label, output_dir=job.name, status="skipped", error="", seconds_taken=0.0)
    return row


def probe_frames(path: str) -> int:
    """The container's frame count (0 when unknown or unreadable): for the progress bar's time left only."""
    try:
        import av

        with av.open(path) as c:
            s = c.streams.video[0]
            if s.frames:
                return int(s.frames)
            dur = float(s.duration * s.time_base) if s.duration else (c.duration or 0) / 1e6
            return int(round(dur * float(s.average_rate or s.guessed_rate or 30)))
    except Exception:  # noqa: BLE001 - a broken clip is reported by its worker, not here
        return 0


# --------------------------------------------------------------------------------------------------------------
# Backends


class Observer(Protocol):
    """What the batch reports while it runs (the CLI turns it into a bar and lines)."""

    def planned(self, jobs: list[ClipJob], skipped: list[dict], frames_est: dict[str, int]) -> None: ...
    def started(self, name: str) -> None: ...
    def frames(self, name: str, done: int, total: int) -> None: ...
    def finished(self, row: dict) -> None: ...
    def note(self, message: str) -> None: ...


def _dispatch(item, observer: Observer | None) -> None:
    if observer is None:
        return
    if item[0] == "start":
        observer.started(item[1])
    elif item[0] == "frames":
        observer.frames(item[1], item[2], item[3])


_WORKER_QUEUE = None


def _init_worker(queue, threads_per_worker: int | None) -> None:
    """Pool worker set-up: the progress queue, quiet native logs and (optionally) fewer helper threads so
    N workers on N cores do not oversubscribe them."""
    import signal

    global _WORKER_QUEUE
    _WORKER_QUEUE = queue
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the parent's to handle: it stops the workers
    if threads_per_worker:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(var, str(threads_per_worker))
        try:
            import cv2

            cv2.setNumThreads(threads_per_worker)
        except ImportError:  # pragma: no cover - mediapipe pulls OpenCV in
            pass


def _local_task(job: ClipJob) -> dict:
    """The pool's entry point: run_clip with this worker's progress queue."""
    return run_clip(job, _WORKER_QUEUE)


def _crash_row(job: ClipJob, e: BaseException) -> dict:
    return {**empty_row(job.clip_label, job.name),
            "error": f"the worker process died while analysing this clip ({type(e).__name__}); "
                     f"the clip may crash the decoder or the machine ran out of memory"}


def run_local(jobs: list[ClipJob], n_workers: int, on_row: Callable[[dict], None], observer: Observer | None,
              threads_per_worker: int | None = None) -> None:
    """Run jobs in a spawn process pool. A worker that dies (segfault, OOM kill) breaks the pool: the clips it
    may have been running are retried one at a time in a fresh pool, so the one that kills its worker is
    recorded as an error and the others still complete."""
    import concurrent.futures as cf
    import multiprocessing as mp
    from concurrent.futures.process import BrokenProcessPool

    ctx = mp.get_context("spawn")
    todo: deque[ClipJob] = deque(jobs)
    suspects: deque[ClipJob] = deque()
    broken: dict[str, int] = {}   # how often each clip was in a pool when it broke
    while todo or suspects:
        if suspects:
            batch, workers = [suspects.popleft()], 1
        else:
            batch, workers = list(todo), max(1, min(n_workers, len(todo)))
            todo.clear()
        q = ctx.Queue()
        started: set[str] = set()
        n_suspects = len(suspects)
        with cf.ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                                    initargs=(q, threads_per_worker)) as pool:
            futs = {pool.submit(_local_task, j): j for j in batch}
            pending = set(futs)
            try:
                while pending:
                    done, pending = cf.wait(pending, timeout=0.2, return_when=cf.FIRST_COMPLETED)
                    while True:   # progress first, so a clip's 'start' precedes its row
                        try:
                            item = q.get_nowait()
                        except Exception:  # noqa: BLE001 - Empty, or the queue broke with the pool
                            break
                        if item[0] == "start":
                            started.add(item[1])
                        _dispatch(item, observer)
                    for f in done:
                        job = futs[f]
                        try:
                            row = f.result()
                        except BrokenProcessPool as e:
                            broken[job.name] = broken.get(job.name, 0) + 1
                            if workers == 1:          # alone in its pool: it is the one
                                on_row(_crash_row(job, e))
                            elif job.name in started or broken[job.name] > 1:
                                suspects.append(job)
                            else:                     # never started: blameless, back in line
                                todo.append(job)
                            continue
                        on_row(row)
            except BaseException:   # interrupted: stop the workers now rather than after their current clip
                pool.shutdown(wait=False, cancel_futures=True)
                for proc in list(getattr(pool, "_processes", {}).values()):
                    proc.terminate()
                raise
        q.close()
        if len(suspects) > n_suspects and observer:
            new = list(suspects)[n_suspects:]
            observer.note(f"a worker process died; retrying the {len(new)} clip(s) it may have held one at "
                          f"a time: {', '.join(j.name for j in new)}")


def _check_reachable(address: str, timeout_s: float = 10.0) -> None:
    """Fail in seconds on a wrong --address: Ray itself retries an unreachable head node for minutes."""
    import socket

    if address == "auto" or "://" in address:
        return
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise FormcheckError(f"--address {address!r} is not host:port (e.g. 10.0.0.5:6379)")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as e:
        raise FormcheckError(f"cannot reach the Ray head node at {address} ({e.strerror or e}); start it with "
                             f"`ray start --head` or check --address") from None


def run_ray(jobs: list[ClipJob], address: str | None, n_parallel: int | None, on_row: Callable[[dict], None],
            observer: Observer | None) -> None:
    """Run the same run_clip as Ray tasks (one CPU each). Without an address a local Ray instance is started.
    The workers must see the clips and OUT at the same absolute paths (a shared file system)."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")   # no usage reports leave the machine
    if not address and "ray" not in sys.modules:
        # A private local instance: keep it on the loopback interface (Ray otherwise binds the routable address).
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
        from ray.util.queue import Queue as RayQueue
    except ImportError:
        raise FormcheckError("the Ray backend needs Ray: pip install 'formcheck[ray]' (or use --backend local)") from None
    import logging

    init_kw: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": False}
    if address:
        _check_reachable(address)
        init_kw["address"] = address
    else:
        init_kw.update(num_cpus=n_parallel or os.cpu_count() or 1, include_dashboard=False)
    try:
        ray.init(**init_kw)
    except (ConnectionError, RuntimeError, ValueError) as e:
        raise FormcheckError(f"cannot connect to the Ray cluster at {address or 'a new local instance'} "
                             f"({error_message(e)}); check --address, and if the cluster uses token "
                             f"authentication set RAY_AUTH_MODE=token (token in ~/.ray/auth_token or "
                             f"RAY_AUTH_TOKEN)") from None
    running: dict[Any, ClipJob] = {}
    try:
        limit = n_parallel or max(1, int(ray.cluster_resources().get("CPU", 1)))
        q = RayQueue(actor_options={"num_cpus": 0})
        task = ray.remote(num_cpus=1, max_retries=1)(run_clip)
        todo = deque(jobs)
        while todo or running:
            while todo and len(running) < limit:     # a window, so thousands of clips are not all queued at once
                j = todo.popleft()
                running[task.remote(j, q)] = j
            ready, _ = ray.wait(list(running), num_returns=1, timeout=0.2)
            try:
                for item in q.get_nowait_batch(q.qsize()):
                    _dispatch(item, observer)
            except Exception:  # noqa: BLE001 - progress only
                pass
            for ref in ready:
                job = running.pop(ref)
                try:
                    row = ray.get(ref)
                except Exception as e:  # noqa: BLE001 - worker crash, node lost, OOM kill: record, go on
                    row = {**empty_row(job.clip_label, job.name), "error": error_message(e)}
                on_row(row)
    except BaseException:
        for ref in running:   # interrupted: do not leave tasks running on the cluster
            ray.cancel(ref, force=True)
        raise
    finally:
        ray.shutdown()


# --------------------------------------------------------------------------------------------------------------
# Summary files


def _csv_text(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({c: ("" if r.get(c) is None else r.get(c)) for c in COLUMNS})
    return buf.getvalue()


def counts(rows: list[dict]) -> dict[str, int]:
    c = {"clips": len(rows), "ok": 0, "skipped": 0, "error": 0}
    for r in rows:
        c[r["status"]] += 1
    return c


_CSS = """body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse}
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}th{background:#f3f3f3}
tr.error td{background:#fff0f0}tr.skipped td{color:#555}.n{text-align:right}.err{color:#a00;max-width:40em}
.fault{color:#a40}"""


def _index_html(out: Path, rows: list[dict], meta: dict) -> str:
    e = html_mod.escape
    c = counts(rows)
    trs = []
    for r in rows:
        d = out / r["output_dir"]
        links = []
        if r["status"] in ("ok", "skipped"):
            for fname, label in (("annotated.mp4", "video"), ("report.html", "report"), ("report.json", "json"),
                                 ("frames.csv", "frames")):
                if (d / fname).is_file():
                    links.append(f'<a href="{quote(r["output_dir"])}/{fname}">{label}</a>')
        faults = [f"{rule} &times;{r[f'{rule}_fail']}" for rule in RULE_IDS if r.get(f"{rule}_fail")] or (
            ["none"] if r["reps"] else [])
        det = "" if r["detection_rate"] is None else f"{100 * r['detection_rate']:.0f}%"
        length = "" if r["duration_s"] is None else f"{r['duration_s']:.1f}"
        trs.append(
            f'<tr class="{e(r["status"])}"><td>{e(r["output_dir"])}<br><small>{e(str(r["clip"]))}</small></td>'
            f'<td>{e(r["status"])}</td><td class="n">{"" if r["reps"] is None else r["reps"]}</td>'
            f'<td class="fault">{", ".join(faults)}</td><td class="n">{det}</td>'
            f'<td class="n">{length}</td>'
            f'<td>{" &middot; ".join(links)}</td><td class="err">{e(r["error"] or "")}</td></tr>')
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>formcheck batch: {c['clips']} clips</title>
<style>{_CSS}</style></head><body>
<h1>formcheck batch</h1>
<p>{c['clips']} clips: {c['ok']} analysed, {c['skipped']} unchanged since the last run, {c['error']} failed.
Profile {e(meta['profile']['source'])}, model {e(meta['model']['name'])}; written {e(meta['generated_at'])}.
Data: <a href="summary.csv">summary.csv</a> &middot; <a href="summary.json">summary.json</a></p>
<table><thead><tr><th>clip</th><th>status</th><th>reps</th><th>faults (&times; reps)</th><th>pose found</th>
<th>length s</th><th>outputs</th><th>error</th></tr></thead><tbody>
{chr(10).join(trs)}
</tbody></table></body></html>
"""


def write_summary(out: Path, rows: list[dict], meta: dict) -> None:
    """summary.csv, summary.json and index.html, each replaced atomically."""
    meta = {**meta, "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    write_text_atomic(out / "summary.csv", _csv_text(rows))
    write_json_atomic(out / "summary.json", {"schema": SUMMARY_SCHEMA, **meta, "counts": counts(rows),
                                             "columns": list(COLUMNS), "clips": rows})
    write_text_atomic(out / "index.html", _index_html(out, rows, meta))


# --------------------------------------------------------------------------------------------------------------
# The whole batch


@dataclass
class BatchResult:
    rows: list[dict]
    out_dir: Path
    wall_s: float

    @property
    def counts(self) -> dict[str, int]:
        return counts(self.rows)

    @property
    def exit_code(self) -> int:
        return EXIT_SOME_FAILED if self.counts["error"] else 0


def run_batch(paths: list[str], out_dir: str | os.PathLike, *, jobs: int | None = None, backend: str = "local",
              address: str | None = None, force: bool = False, video: bool = True, html: bool | None = None,
              profile=None, model: str | None = None, observer: Observer | None = None,
              threads_per_worker: int | None = None) -> BatchResult:
    """Analyse every clip under `paths` into `out_dir`/<name>/ and write the summary files.

    Raises FormcheckError only for problems with the whole batch (nothing found, bad profile or model, OUT not
    writable, Ray unreachable); a bad clip is recorded in its row.
    """
    from formcheck.core.config import Profile
    from formcheck.exercises import load_profile
    from formcheck.io.video_file import find_videos

    t0 = time.monotonic()
    if jobs is not None and jobs < 1:
        raise FormcheckError(f"--jobs must be at least 1 (got {jobs})")
    if backend not in ("local", "ray"):
        raise FormcheckError(f"unknown backend {backend!r}; valid: local, ray")
    if backend == "ray" and address:
        _check_reachable(address)
    out = Path(out_dir).resolve()
    # OUT may sit inside a searched folder: its annotated videos are results, not clips
    clips = [c for c in find_videos([str(p) for p in paths]) if not c.resolve().is_relative_to(out)]
    if not clips:
        raise InputError(f"no video files found in {', '.join(map(str, paths))}; give folders, files or globs "
                         f"of .mp4/.mov/... clips")
    prof = profile if isinstance(profile, Profile) else load_profile(profile)
    model_id = model_identity(model)
    model_arg = str(Path(model).resolve()) if model else None
    html = html_available() if html is None else html
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot create {out} ({e.strerror}); pass a writable folder with -o") from None
    prof_id = profile_identity(prof)
    all_jobs = [ClipJob(clip=os.path.abspath(c), clip_label=str(c), out_dir=str(out / n), name=n, profile=prof,
                        model=model_arg, video=video, html=html, profile_id=prof_id)
                for c, n in zip(clips, output_names(clips, map(str, paths)))]
    meta = {"formcheck_version": _version(), "output_dir": str(out), "backend": backend,
            "profile": prof_id, "model": model_id, "video": video, "html": html}

    rows: dict[str, dict] = {}
    todo: list[ClipJob] = []
    for j in all_jobs:
        prev = None if force else done_row(j, model_id)
        if prev is None:
            todo.append(j)
        else:
            rows[j.name] = prev
    order = [j.name for j in all_jobs]

    def ordered() -> list[dict]:
        return [rows[n] for n in order if n in rows]

    if observer:
        observer.planned(todo, ordered(), {j.name: probe_frames(j.clip) for j in todo})
    write_summary(out, ordered(), meta)
    last_write = [time.monotonic()]

    def on_row(row: dict) -> None:
        rows[row["output_dir"]] = row
        if observer:
            observer.finished(row)
        if time.monotonic() - last_write[0] >= SUMMARY_REFRESH_S:
            write_summary(out, ordered(), meta)
            last_write[0] = time.monotonic()

    try:
        if todo and backend == "ray":
            run_ray(todo, address, jobs, on_row, observer)
        elif todo:
            run_local(todo, jobs or os.cpu_count() or 1, on_row, observer, threads_per_worker)
    finally:
        write_summary(out, ordered(), meta)   # also when interrupted: what finished is recorded
    return BatchResult(ordered(), out, round(time.monotonic() - t0, 2))


def _version() -> str:
    from formcheck import __version__

    return __version__


# --------------------------------------------------------------------------------------------------------------
# Command line (the only part that prints)


def _fault_text(row: dict) -> str:
    parts = [f"{rule} x{row[f'{rule}_fail']}" for rule in RULE_IDS if row.get(f"{rule}_fail")]
    return ", ".join(parts) if parts else ("none" if row.get("reps") else "")


class ConsoleObserver:
    """One overall bar (clips done, frames/s, time left) on stderr; a line per finished clip on stdout."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar = None
        self.n_total = self.n_done = 0
        self.est: dict[str, int] = {}
        self.done: dict[str, int] = {}

    def planned(self, jobs, skipped, frames_est) -> None:
        from tqdm import tqdm

        self.n_total = len(jobs) + len(skipped)
        self.n_done = len(skipped)
        self.est = dict(frames_est)
        self.done = {n: 0 for n in frames_est}
        if skipped:
            self._write(f"{len(skipped)} clip(s) already done and unchanged: skipped (--force redoes them)")
        self.bar = tqdm(total=sum(self.est.values()) or None, unit="frame", dynamic_ncols=True, file=sys.stderr,
                        disable=not self.enabled, smoothing=0.1,
                        bar_format="{desc} |{bar}| {n_fmt}/{total_fmt} frames [{elapsed}<{remaining}, {rate_fmt}]")
        self._desc()

    def _desc(self) -> None:
        if self.bar is not None:
            self.bar.set_description_str(f"{self.n_done}/{self.n_total} clips", refresh=False)

    def _set(self, name: str, done: int, total: int | None) -> None:
        if self.bar is None:
            return
        if total is not None and total != self.est.get(name):
            self.est[name] = total
            self.bar.total = sum(self.est.values())
        delta = done - self.done.get(name, 0)
        self.done[name] = done
        self.bar.update(delta)

    def started(self, name: str) -> None:
        pass

    def frames(self, name: str, done: int, total: int) -> None:
        self._set(name, done, max(total, done))

    def finished(self, row: dict) -> None:
        name = row["output_dir"]
        final = row["frames"] or self.done.get(name, 0)
        self._set(name, final, final)
        self.n_done += 1
        self._desc()
        if self.bar is not None:
            self.bar.refresh()
        if row["status"] == "ok":
            msg = (f"ok     {name}: {row['reps']} rep(s), faults: {_fault_text(row)}, "
                   f"{row['frames']} frames in {row['seconds_taken']:.1f} s")
        else:
            msg = f"error  {name}: {row['error']}"
        self._write(f"[{self.n_done}/{self.n_total}] {msg}")

    def note(self, message: str) -> None:
        from tqdm import tqdm

        tqdm.write(f"formcheck: {message}", file=sys.stderr)

    def _write(self, line: str) -> None:
        from tqdm import tqdm

        tqdm.write(line, file=sys.stdout)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def format_table(rows: list[dict]) -> str:
    """The final table: one line per clip, faults (or the error) last so long messages do not break columns."""
    head = ("clip", "status", "reps", "pose %", "secs", "faults / error")
    body = [(r["output_dir"], r["status"], "" if r["reps"] is None else str(r["reps"]),
             "" if r["detection_rate"] is None else f"{100 * r['detection_rate']:.0f}",
             f"{r['seconds_taken'] or 0:.1f}", _fault_text(r) if r["status"] != "error" else r["error"])
            for r in rows]
    name_w = min(48, max(len(x[0]) for x in [head, *body]))
    return "\n".join(f"{x[0]:<{name_w}}  {x[1]:<7}  {x[2]:>4}  {x[3]:>6}  {x[4]:>6}  {x[5]}".rstrip()
                     for x in [head, *body])


def main(args) -> int:
    """`formcheck batch`: exit 0 when every clip is analysed (or unchanged), EXIT_SOME_FAILED when some failed."""
    import signal
    import threading

    show_bar = sys.stderr.isatty() or os.environ.get("FORMCHECK_PROGRESS") == "1"
    obs = ConsoleObserver(show_bar)
    old_term = None
    if threading.current_thread() is threading.main_thread():
        def on_term(signum, frame):   # `kill PID` stops the workers and writes the summary, like Ctrl-C
            raise KeyboardInterrupt
        old_term = signal.signal(signal.SIGTERM, on_term)
    try:
        res = run_batch(args.paths, args.output, jobs=args.jobs, backend=args.backend, address=args.address,
                        force=args.force, video=not args.no_video, html=False if getattr(args, "no_html", False) else None,
                        profile=args.profile, model=args.model, observer=obs)
    finally:
        obs.close()
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
    c = res.counts
    print(format_table(res.rows))
    print(f"{c['clips']} clip(s): {c['ok']} analysed, {c['skipped']} skipped (unchanged), {c['error']} failed "
          f"in {res.wall_s:.1f} s")
    print(f"Summary: {res.out_dir / 'summary.csv'}, {res.out_dir / 'summary.json'}, {res.out_dir / 'index.html'}")
    if c["error"]:
        print(f"formcheck: {c['error']} clip(s) failed; see the error column (exit code {EXIT_SOME_FAILED})",
              file=sys.stderr)
    return res.exit_code
