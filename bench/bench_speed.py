"""Speed and memory of `formcheck analyze` against the bare pose loop, measured in one run.

(a) bare loop: decode every frame with PyAV and run the same PoseLandmarker (VIDEO mode) on it, nothing else;
(b) `formcheck.analyze` with every output (annotated H.264 video, report.json/html, frames.csv), in the same
    process and conditions as (a) (imports done, model loaded inside the timed span for both);
and `formcheck analyze` as a command in a child process for its peak RSS (read through a small launcher, see
_LAUNCHER) and the wall time a user sees including interpreter start-up.
Prints fps of both, the ratio b/a (target >= 0.9), and peak RSS of (b) on a 10-second cut of the sample and a
10-minute concatenation of it (target: 10-minute <= 600 MB and within 10% of the 10-second one). Generated clips
live in a temp folder and are deleted afterwards.

    python bench/bench_speed.py                      # 640x480, 1280x720, 10-minute
    python bench/bench_speed.py --long-minutes 2     # a shorter long clip
    python bench/bench_speed.py --skip-long
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT / "sample_videos" / "dev01_clean_bw.mp4"


def bare_loop(path: Path) -> tuple[int, float]:
    """Decode + PoseLandmarker, nothing else. Returns (frames, seconds)."""
    from formcheck.io.pose import PoseEstimator

    n = 0
    t0 = time.perf_counter()
    with av.open(str(path)) as c, PoseEstimator(max_side_px=100000) as est:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        for fr in c.decode(s):
            est.detect(fr.to_ndarray(format="rgb24"), float(fr.time))
            n += 1
    return n, time.perf_counter() - t0


def full_analyze_inproc(path: Path, out: Path) -> tuple[int, float]:
    """(b): the library call with every output. Returns (frames, seconds)."""
    from formcheck.apps.analyze import analyze

    t0 = time.perf_counter()
    res = analyze(path, out, video=True, html=True)
    return res.n_frames, time.perf_counter() - t0


# A small launcher between the benchmark and `formcheck analyze`: a child forked straight from this process
# (hundreds of MB after the in-process runs) starts with this process's RSS high-water mark, and Linux keeps it in
# the child's ru_maxrss across exec, so the child's peak would read as this process's size. Forked from a ~10 MB
# launcher, the command's own peak is what RUSAGE_CHILDREN reports.
_LAUNCHER = """
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
p = subprocess.run(sys.argv[1:], capture_output=True)
dt = time.perf_counter() - t0
print(json.dumps({"rc": p.returncode, "s": dt, "err": p.stderr.decode(errors="replace")[-2000:],
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def full_analyze(path: Path, out: Path) -> tuple[int, float, float]:
    """`formcheck analyze` in a child process. Returns (frames, seconds incl. start-up, peak RSS in MB)."""
    cmd = [sys.executable, "-m", "formcheck.cli", "analyze", str(path), "-o", str(out)]
    r = json.loads(subprocess.run([sys.executable, "-S", "-c", _LAUNCHER, *cmd], capture_output=True,
                                  check=True).stdout)
    if r["rc"] != 0:
        raise SystemExit(f"analyze failed on {path}: {r['err'].strip()}")
    n = json.loads((out / "report.json").read_text())["n_frames"]
    return n, r["s"], r["maxrss_kb"] / 1024.0


def _reencode(src: Path, dst: Path, *, size: tuple[int, int] | None = None, transform=None,
              until_s: float = float("inf"), crf: int = 18) -> None:
    """Decode `src` and write it again as H.264 with the same timestamps: each RGB frame through `transform`
    (if given), frames from `until_s` on dropped, `size` (w, h) the output size (default: the source's)."""
    with av.open(str(src)) as c, av.open(str(dst), "w") as o:
        s = c.streams.video[0]
        os_ = o.add_stream("libx264", rate=s.average_rate)
        os_.width, os_.height = size or (s.codec_context.width, s.codec_context.height)
        os_.pix_fmt, os_.options = "yuv420p", {"crf": str(crf), "preset": "veryfast"}
        for fr in c.decode(s):
            if fr.time >= until_s:
                break
            img = fr.to_ndarray(format="rgb24")
            nf = av.VideoFrame.from_ndarray(transform(img) if transform else img, format="rgb24")
            nf.pts, nf.time_base = fr.pts, fr.time_base
            for pkt in os_.encode(nf):
                o.mux(pkt)
        for pkt in os_.encode():
            o.mux(pkt)


def make_720p(src: Path, dst: Path) -> None:
    """Upscale a sample to 1280x720 (letterboxed) H.264, as a phone would record it."""
    import cv2

    def letterbox(img: np.ndarray) -> np.ndarray:
        canvas = np.zeros((720, 1280, 3), np.uint8)
        canvas[:, 160:1120] = cv2.resize(img, (960, 720), interpolation=cv2.INTER_CUBIC)
        return canvas

    _reencode(src, dst, size=(1280, 720), transform=letterbox, crf=20)


def make_cut(src: Path, dst: Path, seconds: float) -> None:
    """The first `seconds` of a sample, re-encoded (a packet cut could end on a B-frame missing its reference)."""
    _reencode(src, dst, until_s=seconds)


def make_long(src: Path, dst: Path, minutes: float) -> None:
    """Concatenate the sample with itself by stream copy (no re-encode) up to `minutes`."""
    with av.open(str(src)) as c0:
        s0 = c0.streams.video[0]
        dur_pts = int(s0.duration) if s0.duration else None
        tb = s0.time_base
    dur_s = float(dur_pts * tb)
    loops = int(np.ceil(minutes * 60 / dur_s))
    with av.open(str(dst), "w") as o:
        with av.open(str(src)) as c:
            out_s = o.add_stream_from_template(c.streams.video[0])
        offset = 0
        for _ in range(loops):
            with av.open(str(src)) as c:
                s = c.streams.video[0]
                last = 0
                for pkt in c.demux(s):
                    if pkt.dts is None:
                        continue
                    pkt.pts += offset
                    pkt.dts += offset
                    last = max(last, pkt.pts + (pkt.duration or 0))
                    pkt.stream = out_s
                    o.mux(pkt)
                offset = last


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--long-minutes", type=float, default=10.0)
    ap.add_argument("--skip-long", action="store_true")
    ap.add_argument("--skip-short", action="store_true", help="only the long clip (and the 10-s RSS reference)")
    ap.add_argument("--repeat", type=int, default=2, help="runs of (a) and (b), alternated; the best of each counts "
                    "(the machine is shared: the best run is the least disturbed one)")
    a = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores; clip: {CLIP.name}")
    print(f"best of {a.repeat} alternated runs each")
    with tempfile.TemporaryDirectory(prefix="formcheck-bench-") as tmp:
        tmp = Path(tmp)
        clips = [("640x480", CLIP)]
        if not a.skip_short:
            hd = tmp / "clip_720p.mp4"
            make_720p(CLIP, hd)
            clips.append(("1280x720", hd))
        rows = []
        for label, path in clips:
            if a.skip_short:   # the long clip's RSS is compared with the short clip's as a command
                nc, tc, rss = full_analyze(path, tmp / f"out_cmd_{label}")
                rows.append((label, 0.0, 0.0, 0.0, rss))
                print(f"{label:9s} as a command: {nc / tc:.1f} fps incl. start-up, peak RSS {rss:.0f} MB", flush=True)
                continue
            runs_a, runs_b = [], []
            for _ in range(max(1, a.repeat)):
                runs_a.append(bare_loop(path))
                runs_b.append(full_analyze_inproc(path, tmp / f"out_{label}"))
            na, ta = min(runs_a, key=lambda r: r[1])
            nb, tb = min(runs_b, key=lambda r: r[1])
            nc, tc, rss = full_analyze(path, tmp / f"out_cmd_{label}")
            fa, fb = na / ta, nb / tb
            rows.append((label, fa, fb, fb / fa, rss))
            print(f"{label:9s} (a) bare decode+pose {fa:6.1f} fps | (b) analyze, all outputs {fb:6.1f} fps | "
                  f"b/a = {fb / fa:.2f} | as a command: {nc / tc:.1f} fps incl. start-up, peak RSS {rss:.0f} MB",
                  flush=True)
        if not a.skip_long:
            ten = tmp / "clip_10s.mp4"
            make_cut(CLIP, ten, 10.0)
            n10, _, rss_10 = full_analyze(ten, tmp / "out_10s")
            print(f"10-s clip (first 10 s of {CLIP.name}, {n10} frames): peak RSS {rss_10:.0f} MB", flush=True)
            long = tmp / "clip_long.mp4"
            make_long(CLIP, long, a.long_minutes)
            nl, tl, rss_long = full_analyze(long, tmp / "out_long")
            reps = len(json.loads((tmp / "out_long" / "report.json").read_text())["reps"])
            print(f"long clip: {nl} frames ({nl / 30 / 60:.1f} min, {reps} reps) at {nl / tl:.1f} fps incl. start-up; "
                  f"peak RSS {rss_long:.0f} MB (target <= 600) vs {rss_10:.0f} MB on the 10-s clip: ratio "
                  f"{rss_long / rss_10:.2f} (target <= 1.10); vs the 15-s clip: {rss_long / rows[0][4]:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
