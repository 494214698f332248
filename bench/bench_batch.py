"""Batch throughput and per-worker memory.

1. Clips per minute of `formcheck batch` (the real run_batch: spawn pool, real model) on the same folder with
   --jobs 1 and --jobs 2, and their ratio (target >= 1.7x on 2 cores).
2. How busy one worker keeps the CPU (CPU seconds / wall seconds) and how many OS threads it runs: MediaPipe's
   XNNPACK inference uses one thread on desktop Linux, so one worker per core is the right default.
3. Peak RSS of one worker on a short clip vs the same clip concatenated to 4x its length at run time (PyAV):
   analysis streams frames, so memory should stay flat in clip length.

Inputs are symlinked / generated in a temp folder (nothing is written into the repo). Run:
    python bench/bench_batch.py [--clips N] [--video] [--threads-per-worker K]
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_videos"
#: clips of similar length (~12 s, 30 fps), so neither job count is helped by a lucky split
DEFAULT_CLIPS = ("dev02_feet_too_far", "dev03_feet_too_close_facing_left", "dev05_head_back", "dev09_heel_lift")
SHORT_CLIP = "dev13_clean_60fps"
CONCAT_TIMES = 4


def clips_per_minute(folder: Path, out: Path, jobs: int, video: bool, threads: int | None) -> tuple[float, float]:
    from formcheck.apps.batch import run_batch

    t0 = time.perf_counter()
    res = run_batch([str(folder)], out, jobs=jobs, video=video, html=False, force=True, threads_per_worker=threads)
    wall_s = time.perf_counter() - t0
    bad = [r for r in res.rows if r["status"] != "ok"]
    if bad:
        raise SystemExit(f"bench: clip failed: {bad[0]['clip']}: {bad[0]['error']}")
    return 60.0 * len(res.rows) / wall_s, wall_s


def concat_clip(src: Path, dst: Path, times: int) -> int:
    """Write `src` `times` times back to back (decoded and re-encoded with PyAV; timestamps shifted)."""
    from formcheck.io.video_file import VideoFile
    from formcheck.io.video_writer import H264Writer

    n = 0
    offset_s = 0.0
    writer = None
    for _ in range(times):
        last_t = 0.0
        with VideoFile(src) as v:
            if writer is None:
                writer = H264Writer(dst, v.info.width, v.info.height, v.info.fps, preset="ultrafast")
            dt = 1.0 / v.info.fps
            for fr in v:
                writer.write(fr.image, offset_s + fr.t_s)
                last_t = fr.t_s
                n += 1
        offset_s += last_t + dt
    writer.close()
    return n


def _worker_probe(clip: str, out_dir: str) -> dict:
    """In a fresh spawned process: analyse one clip (no video) as a batch worker does; report peak RSS, CPU use
    and threads."""
    import threading

    from formcheck.apps.batch import ClipJob, profile_identity, run_clip
    from formcheck.exercises import load_profile

    prof = load_profile(None, "hip_thrust")   # the sample clips are hip thrusts: one candidate, no auto pick
    job = ClipJob(clip=clip, clip_label=clip, out_dir=out_dir, name=Path(out_dir).name, profile=prof, model=None,
                  video=False, html=False, profile_id=profile_identity(prof), exercise="hip_thrust")
    peak_threads = [0]
    stop = threading.Event()

    def count_threads() -> None:  # OS threads of this process (MediaPipe/PyAV threads are native)
        while not stop.wait(0.05):
            peak_threads[0] = max(peak_threads[0], len(os.listdir("/proc/self/task")))

    th = threading.Thread(target=count_threads, daemon=True)
    th.start()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    row = run_clip(job)
    wall_s = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    stop.set()
    th.join()
    cpu_s = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return {"status": row["status"], "error": row["error"], "frames": row["frames"], "wall_s": wall_s,
            "cpu_s": cpu_s, "peak_rss_mb": r1.ru_maxrss / 1024.0, "peak_threads": peak_threads[0] - 1}


def worker_probe(clip: Path, out_dir: Path) -> dict:
    ctx = mp.get_context("spawn")
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=ctx) as pool:
        res = pool.submit(_worker_probe, str(clip), str(out_dir)).result()
    if res["status"] != "ok":
        raise SystemExit(f"bench: {clip}: {res['error']}")
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clips", type=int, default=len(DEFAULT_CLIPS), help="how many sample clips to batch (1-13)")
    ap.add_argument("--video", action="store_true", help="also write annotated videos (default: --no-video)")
    ap.add_argument("--threads-per-worker", type=int, default=None,
                    help="cap OpenCV/OpenMP threads in each worker (default: leave them)")
    ap.add_argument("--skip-memory", action="store_true")
    a = ap.parse_args()
    os.environ.setdefault("GLOG_minloglevel", "2")

    names = list(DEFAULT_CLIPS) + sorted({p.stem for p in SAMPLES.glob("*.mp4")} - set(DEFAULT_CLIPS))
    names = names[: max(1, a.clips)]
    with tempfile.TemporaryDirectory(prefix="formcheck-bench-batch-") as tmp:
        tmp_p = Path(tmp)
        folder = tmp_p / "clips"
        folder.mkdir()
        for n in names:
            (folder / f"{n}.mp4").symlink_to(SAMPLES / f"{n}.mp4")
        print(f"cores: {os.cpu_count()}  clips: {len(names)} ({', '.join(names)})  video: {a.video}  "
              f"threads/worker cap: {a.threads_per_worker or 'none'}")
        print(f"load average before: {os.getloadavg()[0]:.2f} (other processes on the machine skew the figures)")
        cpm1, wall1 = clips_per_minute(folder, tmp_p / "out1", 1, a.video, a.threads_per_worker)
        print(f"--jobs 1: {cpm1:6.2f} clips/min  ({wall1:.1f} s)")
        cpm2, wall2 = clips_per_minute(folder, tmp_p / "out2", 2, a.video, a.threads_per_worker)
        print(f"--jobs 2: {cpm2:6.2f} clips/min  ({wall2:.1f} s)")
        print(f"speed-up with 2 jobs: {cpm2 / cpm1:.2f}x (target >= 1.7x)")

        if not a.skip_memory:
            short = SAMPLES / f"{SHORT_CLIP}.mp4"
            long_clip = tmp_p / f"{SHORT_CLIP}_x{CONCAT_TIMES}.mp4"
            n_long = concat_clip(short, long_clip, CONCAT_TIMES)
            p_short = worker_probe(short, tmp_p / "mem_short")
            p_long = worker_probe(long_clip, tmp_p / "mem_long")
            for label, p in ((f"short ({SHORT_CLIP})", p_short), (f"{CONCAT_TIMES}x long ({n_long} frames)", p_long)):
                print(f"worker on {label}: {p['frames']} frames, peak RSS {p['peak_rss_mb']:.0f} MB, "
                      f"CPU {p['cpu_s']:.1f} s / wall {p['wall_s']:.1f} s = {p['cpu_s'] / p['wall_s']:.2f} cores busy, "
                      f"up to {p['peak_threads']} OS threads")
            print(f"peak RSS long / short: {p_long['peak_rss_mb'] / p_short['peak_rss_mb']:.2f} "
                  f"({p_long['peak_rss_mb'] - p_short['peak_rss_mb']:+.0f} MB for {CONCAT_TIMES}x the frames)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
