"""`formcheck analyze CLIP`: one clip in, annotated video and reports out, a summary printed."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _progress_bar(desc: str):
    from tqdm import tqdm

    bar = tqdm(desc=desc, unit="frame", leave=False, dynamic_ncols=True,
               disable=not sys.stderr.isatty() and os.environ.get("FORMCHECK_PROGRESS") != "1")

    def update(done: int, total: int) -> None:
        if total and bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    return bar, update


def add(sub, common) -> None:
    an = sub.add_parser("analyze", help="analyse one clip: annotated video, report.json/html, frames.csv")
    an.add_argument("clip")
    an.add_argument("-o", "--output", help="output folder (default: <clip>_formcheck next to the clip)")
    an.add_argument("--no-video", action="store_true", help="skip the annotated video")
    an.add_argument("--no-html", action="store_true", help="skip report.html")
    common(an)
    an.set_defaults(func=run)



def run(a: argparse.Namespace) -> int:
    from formcheck.apps.analyze import analyze
    from formcheck.report.files import summary_text

    bar, upd = _progress_bar(Path(a.clip).name)
    try:
        res = analyze(a.clip, a.output, profile=a.profile, exercise=a.exercise, model=a.model, video=not a.no_video,
                      html=not a.no_html, progress=upd)
    finally:
        bar.close()
    print(summary_text(res))
    print("Outputs:")
    for k, v in res.outputs.items():
        print(f"  {k:12s} {v}")
    return 0
