"""Upload-to-verdict through `formcheck serve` against `formcheck analyze` on the same clip (default dev01).

Both as a user runs them: `formcheck analyze CLIP -o DIR` as a subprocess (interpreter start to exit), and a real
`formcheck serve` process already running: POST the clip, poll GET /api/analyses/{id} until done (the verdicts
are in its JSON), then GET the result page (rendered on first view). Prints both and the ratios; the target is
upload-to-verdict <= 1.2x the CLI. Runs alternate (cli, web, cli, web, ...) so machine load hits both alike.

    python bench/bench_web.py [--clip sample_videos/dev01_clean_bw.mp4] [--repeat 2]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}


def _cli(clip: Path, out: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "formcheck.cli", "analyze", str(clip), "-o", str(out)], check=True,
                   env=ENV, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def _post(url: str, clip: Path) -> str:
    boundary = uuid.uuid4().hex
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{clip.name}"\r\n'
            f'Content-Type: video/mp4\r\n\r\n').encode() + clip.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(url + "/api/analyses", data=body, method="POST",
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())["id"]


def _web(url: str, clip: Path) -> tuple[float, float]:
    """(seconds to the verdict in the API, seconds to the result page served)."""
    t0 = time.perf_counter()
    set_id = _post(url, clip)
    while True:
        with urllib.request.urlopen(f"{url}/api/analyses/{set_id}") as r:
            d = json.loads(r.read())
        if d["status"] == "done":
            break
        if d["status"] == "failed":
            raise SystemExit(f"analysis failed: {d['error']}")
        time.sleep(0.1)
    t_verdict = time.perf_counter() - t0
    with urllib.request.urlopen(f"{url}/sets/{set_id}") as r:
        r.read()
    return t_verdict, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", default=str(ROOT / "sample_videos" / "dev01_clean_bw.mp4"))
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args()
    clip = Path(a.clip)
    with tempfile.TemporaryDirectory() as tmp:
        srv = subprocess.Popen([sys.executable, "-m", "formcheck.cli", "serve", "--port", "0", "--data",
                                f"{tmp}/data"], stdout=subprocess.PIPE, text=True, env=ENV)
        try:
            line = srv.stdout.readline()
            port = int(line.split("127.0.0.1:")[1].split("/")[0])
            url = f"http://127.0.0.1:{port}"
            srv.stdout.readline()
            cli, verdict, page = [], [], []
            for i in range(a.repeat):
                cli.append(_cli(clip, Path(tmp) / f"cli{i}"))
                v, p = _web(url, clip)
                verdict.append(v)
                page.append(p)
                print(f"run {i + 1}: analyze {cli[-1]:.2f} s, serve upload-to-verdict {v:.2f} s, "
                      f"to the result page {p:.2f} s", flush=True)
        finally:
            srv.terminate()
            srv.wait(15)
    c, v, p = statistics.median(cli), statistics.median(verdict), statistics.median(page)
    print(f"{clip.name} (median of {a.repeat}): formcheck analyze {c:.2f} s | formcheck serve upload-to-verdict "
          f"{v:.2f} s ({v / c:.2f}x) | to the result page {p:.2f} s ({p / c:.2f}x); target <= 1.20x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
