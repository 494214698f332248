"""Speed and memory of `formcheck analyze` against a bare decode + pose-model loop.

Two parts, both in the default run:
1. In process (fps, no interpreter start-up): (a) decode every frame with PyAV and run formcheck's PoseLandmarker
   (VIDEO mode) on it, nothing else; (b) `formcheck.apps.analyze.analyze` with every output (annotated H.264
   video, report.json/html, frames.csv); imports done, model loaded inside the timed span for both. On the sample
   (640x480) and a 1280x720 upscale of it.
2. Whole process (--whole runs only this part), what a user waits for: (a) `python bench/bare_pose.py CLIP`, a
   standalone script (no formcheck import) doing PyAV decode + the same PoseLandmarker set-up on every frame, and
   (b) `python -m formcheck.cli analyze CLIP -o TMP` with all outputs, each a fresh process from launch to exit
   (interpreter start-up, imports, model load included), alternated a b b a a b ..., on the sample and on a
   10-minute stream-copy concatenation of it. Reports best and median wall time, the speed ratio a/b (target
   >= 0.90: formcheck at least 0.9x as fast as the bare script), and (b)'s peak RSS on the sample, on a 10-second
   cut and on the 10-minute clip (target: 10-minute / 10-second <= 1.10, and 10-minute <= 600 MB).
Peak RSS is read through a small launcher process (see _LAUNCHER). The machine may be shared: the best of N runs is
the least disturbed one, the median shows the spread. Child processes import this checkout's src/ (PYTHONPATH).
Generated clips live in a temp folder deleted afterwards; the 10-minute clip is cached in
$TMPDIR/formcheck-bench-cache (FORMCHECK_BENCH_CACHE overrides) as it is the same file every run.

    python bench/bench_speed.py                      # both parts, 3 runs each
    python bench/bench_speed.py --whole --repeat 1   # whole-process comparison only, one run each
    python bench/bench_speed.py --long-minutes 2     # a shorter long clip
    python bench/bench_speed.py --skip-long          # no 10-minute clip
    python bench/bench_speed.py --skip-short         # the 10-minute clip only (and its 10-s RSS reference)
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT / "sample_videos" / "dev01_clean_bw.mp4"
BARE = ROOT / "bench" / "bare_pose.py"
sys.path.insert(0, str(ROOT / "src"))   # the in-process part measures this checkout, like the child processes
SPEED_TARGET, RSS_RATIO_TARGET, RSS_LONG_MB_TARGET = 0.90, 1.10, 600.0


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


# A small launcher between the benchmark and the measured command: a child forked straight from this process
# (hundreds of MB after the in-process runs) starts with this process's RSS high-water mark, and Linux keeps it in
# the child's ru_maxrss across exec, so the child's peak would read as this process's size. Forked from a ~10 MB
# launcher, the command's own peak is what RUSAGE_CHILDREN reports. Its wall time spans launch to exit.
_LAUNCHER = """
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
p = subprocess.run(sys.argv[1:], capture_output=True)
dt = time.perf_counter() - t0
print(json.dumps({"rc": p.returncode, "s": dt, "err": p.stderr.decode(errors="replace")[-2000:],
                  "out": p.stdout.decode(errors="replace")[-2000:],
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def _child_env() -> dict[str, str]:
    """This checkout's src/ first on the path (a fresh clone need not be installed), no progress bar."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH")) if p)
    env.pop("FORMCHECK_PROGRESS", None)
    return env


def run_cmd(cmd: list[str], what: str) -> dict:
    """Run `cmd` as a fresh process through the launcher; its dict has s (wall seconds), maxrss_kb, out."""
    r = json.loads(subprocess.run([sys.executable, "-S", "-c", _LAUNCHER, *cmd], capture_output=True, check=True,
                                  cwd=ROOT, env=_child_env()).stdout)
    if r["rc"] != 0:
        raise SystemExit(f"{what} failed (exit {r['rc']}): {r['err'].strip()}")
    return r


def bare_cmd(path: Path) -> tuple[int, float, float]:
    """(a) `python bench/bare_pose.py CLIP` as a process. Returns (frames, seconds incl. start-up, peak RSS MB)."""
    r = run_cmd([sys.executable, str(BARE), str(path)], f"bare_pose.py on {path.name}")
    return int(r["out"].split()[0]), r["s"], r["maxrss_kb"] / 1024.0


def full_analyze(path: Path, out: Path) -> tuple[int, float, float]:
    """`formcheck analyze` in a child process. Returns (frames, seconds incl. start-up, peak RSS in MB)."""
    cmd = [sys.executable, "-m", "formcheck.cli", "analyze", str(path), "-o", str(out)]
    r = run_cmd(cmd, f"analyze on {path.name}")
    n = json.loads((out / "report.json").read_text())["n_frames"]
    return n, r["s"], r["maxrss_kb"] / 1024.0


def analyze_cmd(path: Path, tmp: Path) -> tuple[int, float, float, int]:
    """(b) `formcheck analyze CLIP -o TMP` (every output) as a process, its output folder deleted afterwards (a
    10-minute annotated video is large). Returns (frames, seconds incl. start-up, peak RSS MB, reps)."""
    out = Path(tempfile.mkdtemp(prefix="out-", dir=tmp))
    try:
        n, s, rss = full_analyze(path, out)
        missing = [f for f in ("annotated.mp4", "report.html", "report.json", "frames.csv") if not (out / f).is_file()]
        if missing:
            raise SystemExit(f"analyze on {path.name} did not write {', '.join(missing)}")
        reps = len(json.loads((out / "report.json").read_text())["reps"])
        return n, s, rss, reps
    finally:
        shutil.rmtree(out, ignore_errors=True)


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



def cached_long(src: Path, minutes: float) -> tuple[Path, bool]:
    """The long concatenation, built once and kept in the cache folder (keyed by the source's content and the
    length), written under a temporary name first so an interrupted build is never taken for a finished one."""
    cache = Path(os.environ.get("FORMCHECK_BENCH_CACHE") or Path(tempfile.gettempdir()) / "formcheck-bench-cache")
    cache.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(src.read_bytes()).hexdigest()[:12]
    dst = cache / f"{src.stem}-{minutes:g}min-{digest}.mp4"
    if dst.is_file():
        return dst, False
    part = cache / f".{dst.name}.{os.getpid()}.partial.mp4"
    try:
        make_long(src, part, minutes)
        os.replace(part, dst)
    finally:
        part.unlink(missing_ok=True)
    return dst, True


def _fmt_s(xs: list[float]) -> str:
    return f"{min(xs):7.1f} {statistics.median(xs):7.1f}"


def whole_compare(label: str, path: Path, tmp: Path, repeat: int) -> dict:
    """(a) bare script and (b) `formcheck analyze` as whole processes, alternated a b, b a, a b ... so a slow
    drift in machine load falls on both alike. Returns their wall times, frames, (b)'s peak RSS and reps."""
    ta, tb, rss_a, rss_b = [], [], [], []
    na = nb = reps = 0
    for i in range(repeat):
        for which in ("ab" if i % 2 == 0 else "ba"):
            if which == "a":
                na, s, rss = bare_cmd(path)
                ta.append(s), rss_a.append(rss)
                print(f"  {label} run {i + 1}/{repeat} (a) bare_pose.py: {s:7.1f} s, {na} frames, "
                      f"peak RSS {rss:.0f} MB", flush=True)
            else:
                nb, s, rss, reps = analyze_cmd(path, tmp)
                tb.append(s), rss_b.append(rss)
                print(f"  {label} run {i + 1}/{repeat} (b) formcheck analyze: {s:7.1f} s, {nb} frames, {reps} reps, "
                      f"peak RSS {rss:.0f} MB", flush=True)
    if na != nb:
        print(f"  WARNING: {label}: the bare script saw {na} frames, formcheck {nb}: the comparison is not like "
              f"for like", flush=True)
    return {"label": label, "frames": nb, "reps": reps, "ta": ta, "tb": tb, "rss_a": max(rss_a), "rss_b": max(rss_b)}


def whole_part(a: argparse.Namespace, tmp: Path) -> None:
    """Part 2: the whole-process comparison, its table and one verdict line per target."""
    n = max(1, a.repeat)
    print(f"\n== Whole process: (a) `python bench/bare_pose.py CLIP` vs (b) `python -m formcheck.cli analyze CLIP "
          f"-o TMP` (annotated video, report.json/html, frames.csv); wall time from launch to exit, {n} run(s) "
          f"each, alternated ==", flush=True)
    rows: list[dict] = []
    if not a.skip_short:
        rows.append(whole_compare(f"{CLIP.stem} (640x480)", CLIP, tmp, n))
    rss_10 = rss_long = None
    n10 = 0
    if not a.skip_long:
        ten = tmp / "clip_10s.mp4"
        make_cut(CLIP, ten, 10.0)
        runs = [analyze_cmd(ten, tmp) for _ in range(n)]
        rss_10, n10 = max(r[2] for r in runs), runs[0][0]
        print(f"  10-s cut (first 10 s of {CLIP.name}, {n10} frames) (b) formcheck analyze: peak RSS "
              f"{rss_10:.0f} MB", flush=True)
        long, built = cached_long(CLIP, a.long_minutes)
        print(f"  {a.long_minutes:g}-minute clip ({'built now' if built else 'from the cache'}): {long}", flush=True)
        rows.append(whole_compare(f"{a.long_minutes:g}-minute concat", long, tmp, n))
        rss_long = rows[-1]["rss_b"]
    if not rows:
        print("  nothing to run (--skip-short and --skip-long)")
        return
    print(f"\n{'clip':24s} {'frames':>6s} {'reps':>4s} | {'(a) bare s':>15s} | {'(b) analyze s':>15s} | "
          f"{'a/b best':>8s} {'a/b med':>7s} | {'(a) RSS':>7s} {'(b) RSS':>7s}")
    print(f"{'':24s} {'':6s} {'':4s} | {'best  median':>15s} | {'best  median':>15s} | {'':8s} {'':7s} | "
          f"{'MB':>7s} {'MB':>7s}")
    for r in rows:
        print(f"{r['label']:24s} {r['frames']:6d} {r['reps']:4d} | {_fmt_s(r['ta']):>15s} | {_fmt_s(r['tb']):>15s} | "
              f"{min(r['ta']) / min(r['tb']):8.2f} {statistics.median(r['ta']) / statistics.median(r['tb']):7.2f} | "
              f"{r['rss_a']:7.0f} {r['rss_b']:7.0f}")
    if rss_10 is not None:
        print(f"{'10-s cut, (b) only':24s} {n10:6d} {'':4s} | {'':15s} | {'':15s} | {'':8s} {'':7s} | {'':7s} {rss_10:7.0f}")
    print("a/b = (a)'s wall time / (b)'s: how fast formcheck is relative to the bare script (1.00 = as fast). "
          "RSS = peak resident memory of the process, highest of its runs.\n")
    for r in rows:
        best, med = min(r["ta"]) / min(r["tb"]), statistics.median(r["ta"]) / statistics.median(r["tb"])
        print(f"VERDICT speed, {r['label']}: formcheck is {best:.2f}x as fast as the bare script (best of {n}; "
              f"median {med:.2f}x): {'PASS' if best >= SPEED_TARGET else 'FAIL'} (target >= {SPEED_TARGET:.2f})")
    if rss_long is not None:
        ratio = rss_long / rss_10
        print(f"VERDICT memory, {a.long_minutes:g}-minute / 10-s peak RSS of (b): {rss_long:.0f} / {rss_10:.0f} MB = "
              f"{ratio:.2f}: {'PASS' if ratio <= RSS_RATIO_TARGET else 'FAIL'} (target <= {RSS_RATIO_TARGET:.2f})")
        print(f"VERDICT memory, {a.long_minutes:g}-minute peak RSS of (b): {rss_long:.0f} MB: "
              f"{'PASS' if rss_long <= RSS_LONG_MB_TARGET else 'FAIL'} (target <= {RSS_LONG_MB_TARGET:.0f} MB)")


def inproc_part(a: argparse.Namespace, tmp: Path) -> None:
    """Part 1: fps of the bare loop and of analyze() in this process, and analyze as a command for its RSS."""
    from formcheck.io.pose import quiet_native_stderr

    n = max(1, a.repeat)
    print(f"== In process: (a) decode + PoseLandmarker loop vs (b) formcheck.apps.analyze.analyze(), all outputs; "
          f"no interpreter start-up; best of {n} alternated runs each ==", flush=True)
    hd = tmp / "clip_720p.mp4"
    make_720p(CLIP, hd)
    for label, path in (("640x480", CLIP), ("1280x720", hd)):
        runs_a, runs_b = [], []
        for _ in range(n):
            with quiet_native_stderr():   # MediaPipe's C++ close-down chatter would bury the figures
                runs_a.append(bare_loop(path))
                runs_b.append(full_analyze_inproc(path, tmp / f"out_{label}"))
        na, ta = min(runs_a, key=lambda r: r[1])
        nb, tb = min(runs_b, key=lambda r: r[1])
        nc, tc, rss = full_analyze(path, tmp / f"out_cmd_{label}")
        fa, fb = na / ta, nb / tb
        print(f"{label:9s} (a) bare decode+pose {fa:6.1f} fps | (b) analyze, all outputs {fb:6.1f} fps | "
              f"b/a = {fb / fa:.2f} (target >= {SPEED_TARGET:.2f}) | as a command: {nc / tc:.1f} fps incl. "
              f"start-up, peak RSS {rss:.0f} MB", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--long-minutes", type=float, default=10.0)
    ap.add_argument("--skip-long", action="store_true", help="no long clip (and no 10-s RSS reference)")
    ap.add_argument("--skip-short", action="store_true",
                    help="only the long clip (and the 10-s RSS reference): no in-process part, no sample comparison")
    part = ap.add_mutually_exclusive_group()
    part.add_argument("--whole", action="store_true", help="only the whole-process comparison (part 2)")
    part.add_argument("--no-whole", action="store_true", help="only the in-process part (part 1)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of (a) and of (b) each, alternated (default 3)")
    a = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"clip: {CLIP.name}; python: {sys.executable}")
    with tempfile.TemporaryDirectory(prefix="formcheck-bench-") as tmp:
        tmp = Path(tmp)
        if not a.whole and not a.skip_short:
            inproc_part(a, tmp)
        if not a.no_whole:
            whole_part(a, tmp)
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
