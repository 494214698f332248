"""Offline analysis of one clip: decode -> pose -> tracker -> overlay -> H.264, with every output written
atomically. Decoding and encoding run in their own threads (PyAV releases the GIL) so they overlap inference.
"""
from __future__ import annotations

import dataclasses
import os
import queue
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Callable

from formcheck.apps.pipeline import QUEUE_FRAMES, Encoder, FrameStep, build_analysis, require_set
from formcheck.core.config import Profile
from formcheck.core.exercise import Exercise
from formcheck.core.errors import InputError, OutputError
from formcheck.io.orientation_probe import open_upright
from formcheck.io.pose import ImagePoseEstimator, PeopleEstimator, PoseEstimator
from formcheck.report.files import FrameCsv, write_json
from formcheck.io.video_file import VideoFile
from formcheck.core.people import PeopleTracker
from formcheck.core.types import Analysis, VideoInfo
from formcheck.exercises import candidates, exercise_of

Progress = Callable[[int, int], None]
_END = object()



def default_out_dir(path: str | Path) -> Path:
    p = Path(path)
    return p.with_name(p.stem + "_formcheck")


def _pin_mmap_threshold() -> None:
    """Pin glibc's mmap threshold at 1 MiB (its starting value). By default it rises after the first frame-sized
    buffer is freed, so later frames and the report's big temporaries land in heaps that never shrink: peak RSS
    then grows with clip length. Pinned, such buffers go back to the OS when freed. Done here, not in the CLI, so
    batch and Ray workers and library callers get it too. Process-wide and idempotent; a no-op where libc is not
    glibc."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(-3, 1 << 20)   # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass


def _warm_matplotlib() -> None:
    """Import the report module and draw one throwaway SVG with text, so the real charts start warm."""
    try:
        import io

        from matplotlib.figure import Figure

        from formcheck.report import page as report_html  # noqa: F401

        fig = Figure(figsize=(1, 1))
        fig.add_subplot().set_title("warm-up")
        fig.savefig(io.BytesIO(), format="svg")
    except Exception:  # pragma: no cover - the real report later reports any problem
        pass


def _pump(it, q: queue.Queue, err: list) -> None:
    try:
        for item in it:
            q.put(item)
    except BaseException as e:  # hand the error to the consumer
        err.append(e)
    finally:
        q.put(_END)


def _write_page(result: Analysis, tmp: Path, prof: Profile, thumbs: list[bytes | None] | None) -> None:
    """report.html, with the thumbnails the encoder took (so the page does not decode the video again)."""
    from formcheck.report.page import write_html

    write_html(result, tmp, prof, thumbs=thumbs)


def resolve_candidates(profile: Profile | str | os.PathLike | None, exercise: str | None
                       ) -> list[tuple[Exercise, Profile]]:
    """What the tracker may choose between: a Profile object is its own exercise; a path or None go through
    `exercises.candidates` (`exercise` "auto" or None: every exercise `auto` knows)."""
    if isinstance(profile, Profile):
        return [(exercise_of(profile), profile)]
    return candidates(exercise, profile)


def analyze(path: str | os.PathLike, out_dir: str | os.PathLike | None = None, *, profile: Profile | str | None = None,
            exercise: str | None = "auto", model: str | os.PathLike | None = None, video: bool = True,
            html: bool = True, progress: Progress | None = None) -> Analysis:
    """Analyse one clip and write its outputs into `out_dir` (default: next to the clip, `<stem>_formcheck/`).

    Outputs: annotated.mp4, report.json, frames.csv and report.html (its lockout pictures taken by the encoder on
    the way, not by decoding annotated.mp4 again). They are written into a temporary folder
    inside `out_dir` and moved into place only when the analysis succeeded, report.json last, so a report.json
    on disk always belongs to a complete set.

    exercise: "hip_thrust", "glute_bridge" or "auto" (the default: told apart from the set-up).

    Raises: InputError, ModelError, NoPersonError, NoRepsError, OutputError (all FormcheckError, with a one-line
    message that says what to do).
    """
    _pin_mmap_threshold()
    cands = resolve_candidates(profile, exercise)
    if html:  # matplotlib's first figure costs ~1 s (imports, font cache): pay it while the frames are analysed
        threading.Thread(target=_warm_matplotlib, daemon=True).start()
    prof0 = cands[0][1]   # every candidate shares the [orientation] and [pose] sections (the bridge's base)
    pose = prof0.pose
    # Two graphs are set up at start-up, one per core: the lifter's VIDEO graph on a thread while the orientation
    # probe runs on an IMAGE graph here, which then becomes the people search's graph (a third graph for the
    # search cost ~0.35 s of start-up on 2 cores). The probe decides how the frames are turned, not how the model
    # is loaded.
    loaded: dict = {}
    loader = threading.Thread(target=_load_lifter, args=(model, pose.max_model_side_px, loaded),
                              name="formcheck-load", daemon=True)
    loader.start()
    kept: list[ImagePoseEstimator] = []   # the probe's graph, for the search (none with the probe off)
    try:
        src, _ = open_upright(path, prof0.orientation, pose.min_visibility, model, pose.max_model_side_px,
                              keep_graph=kept if pose.max_people > 1 else None)
    except BaseException:
        loader.join()
        if "lifter" in loaded:
            loaded["lifter"].close()
        raise
    loader.join()
    graph = kept[0] if kept else None
    try:
        if "error" in loaded:
            raise loaded["error"]
        est = PeopleEstimator(model, pose.max_model_side_px, pose, lifter=loaded["lifter"], search=graph)
    except BaseException:   # (PeopleEstimator closes the graphs it was handed when it fails)
        if "error" in loaded and graph is not None:
            graph.close()
        src.close()
        raise
    out = Path(out_dir) if out_dir else default_out_dir(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".partial-", dir=out))
    except OSError as e:
        src.close()
        est.close()
        raise OutputError(f"cannot write to {out} ({e.strerror}); pass a writable folder with -o") from None
    try:
        result, prof, thumbs = _run(src, tmp, cands, est, video, html and video, progress)
        if html:
            _write_page(result, tmp, prof, thumbs)
        final = {name: str(out / name) for name in ("annotated.mp4", "frames.csv", "report.html")
                 if (tmp / name).exists()}
        final["report.json"] = str(out / "report.json")
        outputs = {k.replace(".", "_"): v for k, v in final.items()}
        result = dataclasses.replace(result, outputs=outputs)
        write_json(result, tmp / "report.json")
        (out / "report.json").unlink(missing_ok=True)   # an older run's report must not vouch for new files
        for name in final:                       # report.json moves last: its presence marks completion
            os.replace(tmp / name, out / name)
        return result
    finally:
        src.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _load_lifter(model, max_side_px: int, out: dict) -> None:
    try:
        out["lifter"] = PoseEstimator(model, max_side_px)
    except BaseException as e:  # handed to the caller, which raises it
        out["error"] = e


def _run(src: VideoFile, tmp: Path, cands: list[tuple[Exercise, Profile]], est: PeopleEstimator, video: bool,
         thumbs: bool, progress: Progress | None) -> tuple[Analysis, Profile, list[bytes | None] | None]:
    info: VideoInfo = src.info
    tracker = PeopleTracker(cands)
    frames_q: queue.Queue = queue.Queue(maxsize=QUEUE_FRAMES)
    dec_err: list = []
    enc: Encoder | None = None
    n = 0
    reps_shown: tuple = ()      # snapshot for the overlay, rebuilt only when a rep closes
    with est, open(tmp / "frames.csv", "w", newline="") as fh:   # est: made from the same [pose] section
        step = FrameStep(est, tracker)
        csv_out = FrameCsv(fh)
        # The decode thread also prepares the model's input (downscaling large frames), off the inference path.
        size = (info.width, info.height)
        work = ((fr, est.model_input(fr.image)) for fr in src)
        dec = threading.Thread(target=_pump, args=(work, frames_q, dec_err), name="formcheck-decode", daemon=True)
        try:
            if video:
                try:
                    enc = Encoder(tmp / "annotated.mp4", info.width, info.height, info.fps, thumbs=thumbs)
                except OSError as e:
                    raise OutputError(f"cannot write the annotated video ({e.strerror or e}); check the output "
                                      f"folder") from None
            dec.start()
            while (item := frames_q.get()) is not _END:
                fr, model_image = item
                st = step(model_image, fr.t_s, size)
                csv_out.write(st)
                if enc is not None:
                    if len(reps_shown) != len(tracker.reps) or reps_shown and reps_shown[0] is not tracker.reps[0]:
                        reps_shown = tuple(tracker.reps)     # a rep closed, or someone else became the lifter
                    enc.put(fr.image, st, reps_shown)
                n += 1
                if progress:
                    progress(n, info.n_frames)
            reps = tracker.finish()
        finally:
            if enc is not None:
                enc.close(tuple(tracker.reps))   # the reps closed by finish() get their thumbnails too
            while dec.is_alive():   # unblock the decoder if we stopped early
                try:
                    frames_q.get_nowait()
                except queue.Empty:
                    pass
                dec.join(0.05)
        model_name = Path(est.model_path).name
    if dec_err:
        raise InputError(f"{info.path}: decoding failed ({dec_err[0]}); re-export the clip") from None
    if enc is not None and enc.error is not None:
        raise OutputError(f"writing the annotated video failed ({enc.error}); check disk space in the output folder")
    warnings = [w for w in (src.orientation_warning, src.decode_warning) if w]
    require_set(tracker, info.path)
    if info.n_frames and abs(n - info.n_frames) > max(2, 0.05 * info.n_frames):
        warnings.append(f"decoded {n} frames, the container announced {info.n_frames}")
    info = dataclasses.replace(info, n_frames=n, duration_s=round(tracker.last_t_s + 1.0 / info.fps, 3))
    result = build_analysis(tracker, info, reps, n_frames=n, detection_rate=tracker.detection_rate,
                            model_name=model_name, warnings=warnings)
    return result, tracker.profile, (enc.thumbs if enc is not None else None)
