"""Which pose model: lite, full and heavy compared on the same labelled clips, cross-validated, with their speed.

For each model: (1) frames per second of decode + model on sample dev01 (one process per model, best of --repeat),
(2) `formcheck eval`'s cross-validated figures on the given folders with that model's landmarks (cached per model:
the first run of a model runs it over every clip). Prints one table; the README's choice of default comes from it.

    python bench/bench_models.py                                   # sample + real clips, all three models
    python bench/bench_models.py sample_videos ../shared/train_videos ../shared/real_clips --models lite,full
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def fps_of(model: str, clip: Path, repeat: int) -> float:
    """Decode + model on every frame, as bench/bare_pose.py does, in a fresh process; frames / wall time."""
    from formcheck.io.pose import resolve_model

    best = float("inf")
    n = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, str(ROOT / "bench" / "bare_pose.py"), str(clip), "--model",
                              str(resolve_model(model))], capture_output=True, text=True, check=True)
        best = min(best, time.perf_counter() - t0)
        n = int(out.stdout.split()[0])
    return n / best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dirs", nargs="*", default=[str(ROOT / "sample_videos"), str(ROOT.parent / "shared" / "real_clips")])
    ap.add_argument("--models", default="lite,full,heavy")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args()
    from formcheck.apps.crossval import cross_validate, labelled_clips

    clips = labelled_clips(a.dirs)
    print(f"{len(clips)} labelled clips from {', '.join(a.dirs)}; machine load {os.getloadavg()[0]:.2f}", flush=True)
    rows = []
    for model in a.models.split(","):
        fps = fps_of(model, ROOT / "sample_videos" / "dev01_clean_bw.mp4", a.repeat)
        t0 = time.perf_counter()
        m = cross_validate(clips, k=a.folds, model=model)
        rows.append((model, fps, m, time.perf_counter() - t0))
        print(f"  {model}: {fps:.1f} fps on dev01, evaluation {time.perf_counter() - t0:.0f} s", flush=True)

    def pct(x):
        return "    -" if x is None else f"{100 * x:5.1f}"

    print("\nmodel | fps dev01 | rendered: recall  false-alarm  judged  reps-exact | real: false-alarm  judged  "
          "reps-exact")
    for model, fps, m, _ in rows:
        r, re = m["rendered"], m["real"]
        print(f"{model:5s} | {fps:9.1f} |          {pct(r['fault_recall'])}%  {pct(r['false_alarm_rate'])}%     "
              f"{pct(r['judged_share'])}%  {r['rep_count_exact']:3d}/{r['clips']:<3d}    |        "
              f"{pct(re['false_alarm_rate'])}%  {pct(re['judged_share'])}%  {re['rep_count_exact']}/{re['clips']}")
    print("\nper rule, rendered (recall / false alarms):")
    rules = sorted(rows[0][2]["rendered"]["rules"])
    print("model | " + " | ".join(rules))
    for model, _, m, _ in rows:
        print(f"{model:5s} | " + " | ".join(f"{pct(m['rendered']['rules'][r]['recall'])}/"
                                          f"{pct(m['rendered']['rules'][r]['false_alarm_rate'])}" for r in rules))
    return 0


if __name__ == "__main__":
    sys.exit(main())
