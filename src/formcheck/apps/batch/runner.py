"""The whole batch: plan, skip what is done, run the rest on a backend, keep the summary files current."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from formcheck.apps.batch.fingerprint import model_identity, profile_identity
from formcheck.apps.batch.jobs import EXIT_SOME_FAILED, ClipJob, Observer
from formcheck.apps.batch.plan import done_row, output_names, probe_frames
from formcheck.apps.batch.summary import counts, write_summary
from formcheck.core.errors import FormcheckError, InputError, OutputError

SUMMARY_REFRESH_S = 2.0        # how often the summary files are rewritten while the batch runs


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
              address: str | None = None, force: bool = False, video: bool = True, html: bool = True,
              profile=None, exercise: str = "auto", model: str | None = None, observer: Observer | None = None,
              threads_per_worker: int | None = None) -> BatchResult:
    """Analyse every clip under `paths` into `out_dir`/<name>/ and write the summary files.

    profile: a Profile, a --profile path or None (the shipped profiles); exercise: hip_thrust, glute_bridge or
    auto (each clip decides from its set-up). Raises FormcheckError only for problems with the whole batch
    (nothing found, bad profile or model, OUT not writable, Ray unreachable); a bad clip is recorded in its row.
    """
    from formcheck.core.config import Profile
    from formcheck.exercises import candidates, exercise_of
    from formcheck.io.video_file import find_videos

    t0 = time.monotonic()
    if jobs is not None and jobs < 1:
        raise FormcheckError(f"--jobs must be at least 1 (got {jobs})")
    if backend not in ("local", "ray"):
        raise FormcheckError(f"unknown backend {backend!r}; valid: local, ray")
    if backend == "ray" and address:
        from formcheck.apps.batch.ray_backend import _check_reachable

        _check_reachable(address)
    out = Path(out_dir).resolve()
    # OUT may sit inside a searched folder: its annotated videos are results, not clips
    clips = [c for c in find_videos([str(p) for p in paths]) if not c.resolve().is_relative_to(out)]
    if not clips:
        raise InputError(f"no video files found in {', '.join(map(str, paths))}; give folders, files or globs "
                         f"of .mp4/.mov/... clips")
    cands = [(exercise_of(profile), profile)] if isinstance(profile, Profile) else candidates(exercise, profile)
    job_profile = cands[0][1] if len(cands) == 1 else None   # several: each clip picks one from its set-up
    model_id = model_identity(model)
    model_arg = str(Path(model).resolve()) if model else None
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot create {out} ({e.strerror}); pass a writable folder with -o") from None
    prof_id = profile_identity(cands)
    all_jobs = [ClipJob(clip=os.path.abspath(c), clip_label=str(c), out_dir=str(out / n), name=n,
                        profile=job_profile, model=model_arg, video=video, html=html, profile_id=prof_id,
                        exercise=exercise)
                for c, n in zip(clips, output_names(clips, map(str, paths)))]
    meta = {"formcheck_version": _version(), "output_dir": str(out), "backend": backend, "exercise": exercise,
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
            from formcheck.apps.batch.ray_backend import run_ray

            run_ray(todo, address, jobs, on_row, observer)
        elif todo:
            from formcheck.apps.batch.local import run_local

            run_local(todo, jobs or os.cpu_count() or 1, on_row, observer, threads_per_worker)
    finally:
        write_summary(out, ordered(), meta)   # also when interrupted: what finished is recorded
    return BatchResult(ordered(), out, round(time.monotonic() - t0, 2))


def _version() -> str:
    from formcheck import __version__

    return __version__
