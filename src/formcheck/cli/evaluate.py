"""`formcheck eval DIR`: score the checker against labelled clips."""
from __future__ import annotations

import argparse


def add(sub, common) -> None:
    ev = sub.add_parser("eval", help="score the checker against clips with NAME.truth.json beside them")
    ev.add_argument("dir")
    ev.add_argument("--json", help="write the metrics as JSON here")
    ev.add_argument("--markdown", help="write the Markdown table here")
    ev.add_argument("--jobs", type=int, default=1, help="clips analysed in parallel")
    common(ev)
    ev.set_defaults(func=run)



def run(a: argparse.Namespace) -> int:
    from formcheck.apps.evaluate import main

    return main(a)
