"""Live loop speed on this machine: frames per second shown and the delay from frame capture to overlay drawn.

A sample clip is played as a camera (real time, at its own 30 fps), once at 640x480 and once scaled to 1280x720 in
memory on the capture thread (nothing is written to disk), through the same `LiveSession` as `formcheck live`:
newest-frame-wins capture, pose, tracker, overlay, and with --window the real OpenCV window (under a private Xvfb
when no display is set). Targets: >= 25 fps shown and < 100 ms capture-to-overlay delay at 720p.

    python bench/bench_live.py                      # headless
    python bench/bench_live.py --window             # include the window (starts Xvfb if DISPLAY is unset)
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from formcheck.exercises import load_profile  # noqa: E402
from formcheck.apps.live import FileAsCamera, LiveSession  # noqa: E402

SIZES = ((640, 480), (1280, 720))
TARGET_FPS = 25.0
TARGET_DELAY_MS = 100.0


def _start_xvfb() -> tuple[subprocess.Popen, str]:
    exe = shutil.which("Xvfb")
    if not exe:
        raise SystemExit("--window needs a display: set DISPLAY or install Xvfb (make sysdeps)")
    r, w = os.pipe()
    proc = subprocess.Popen([exe, "-displayfd", str(w), "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
                            pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    with os.fdopen(r) as fh:
        return proc, ":" + fh.readline().strip()


def run_one(clip: Path, size: tuple[int, int], seconds: float | None, window: bool) -> dict:
    src = FileAsCamera(clip, resize_to=size)
    cpu0 = time.process_time()
    res = LiveSession(src, load_profile(None), window=window, skip_setup=True, max_seconds=seconds).run()
    cpu_s = time.process_time() - cpu0
    s = res.stats
    return {"size": f"{size[0]}x{size[1]}", "camera_fps": src.info.fps, "fps_shown": s.fps_shown,
            "delay_median_ms": s.delay_ms_median, "delay_p95_ms": s.delay_ms_p95, "delay_max_ms": s.delay_ms_max,
            "processed": s.frames_processed, "captured": s.frames_captured, "dropped": s.frames_dropped,
            "reps": res.analysis.n_reps,
            # CPU of this process (all threads: capture, pose, overlay, window) per frame shown, and its share of
            # the machine: what the loop costs, independent of how busy other programs keep the cores
            "cpu_ms_per_frame": 1000 * cpu_s / max(1, s.frames_processed),
            "cpu_share": cpu_s / max(1e-9, s.wall_s) / (os.cpu_count() or 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", default=str(ROOT / "sample_videos" / "dev05_head_back.mp4"))
    ap.add_argument("--seconds", type=float, default=None, help="stop each run after this long (default: whole clip)")
    ap.add_argument("--window", action="store_true", help="show the live window too (Xvfb if no DISPLAY)")
    a = ap.parse_args()
    os.environ.setdefault("GLOG_minloglevel", "2")
    xvfb = None
    if a.window and not os.environ.get("DISPLAY"):
        xvfb, os.environ["DISPLAY"] = _start_xvfb()
    try:
        load0 = os.getloadavg()
        t0 = time.monotonic()
        rows = [run_one(Path(a.clip), size, a.seconds, a.window) for size in SIZES]
        wall = time.monotonic() - t0
        load1 = os.getloadavg()
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(10)
    print(f"bench_live: {Path(a.clip).name} played as a {rows[0]['camera_fps']:.0f} fps camera, "
          f"{'window' + (' (Xvfb)' if xvfb else '') if a.window else 'headless'}, {os.cpu_count()} cores, "
          f"load average {load0[0]:.2f} before / {load1[0]:.2f} after, {wall:.0f} s")
    print(f"{'size':>10} {'fps shown':>10} {'delay med':>10} {'p95':>8} {'max':>8} {'shown/captured':>15} {'reps':>5}"
          f" {'cpu/frame':>10} {'cpu share':>10}")
    for r in rows:
        print(f"{r['size']:>10} {r['fps_shown']:>10.1f} {r['delay_median_ms']:>8.1f}ms {r['delay_p95_ms']:>6.1f}ms "
              f"{r['delay_max_ms']:>6.1f}ms {r['processed']:>7d}/{r['captured']:<7d} {r['reps']:>5d}"
              f" {r['cpu_ms_per_frame']:>8.1f}ms {100 * r['cpu_share']:>9.0f}%")
    hd = rows[-1]
    ok = hd["fps_shown"] >= TARGET_FPS and hd["delay_median_ms"] < TARGET_DELAY_MS
    print(f"720p target (>= {TARGET_FPS:.0f} fps shown, < {TARGET_DELAY_MS:.0f} ms delay): "
          f"{'met' if ok else 'NOT met'} ({hd['fps_shown']:.1f} fps, {hd['delay_median_ms']:.0f} ms median, "
          f"{hd['delay_p95_ms']:.0f} ms p95)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
