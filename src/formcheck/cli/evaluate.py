"""`formcheck eval DIR`: score the checker against labelled clips."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add(sub, common) -> None:
    ev = sub.add_parser("eval", help="score the checker against clips with NAME.truth.json beside them")
    ev.add_argument("dir")
    ev.add_argument("--json", help="write the metrics as JSON here")
    ev.add_argument("--markdown", help="write the Markdown table here")
    ev.add_argument("--jobs", type=int, default=1, help="clips analysed in parallel")
    common(ev)
    ev.set_defaults(func=run)


def _write(path: str | Path, text: str) -> None:
    from formcheck.report.files import write_text_atomic

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(Path(path), text)


def run(a: argparse.Namespace) -> int:
    """Print the Markdown table (and write --json / --markdown); a clip that could not be analysed is named on
    stderr but is scored (as all misses), so the exit code stays 0."""
    from formcheck.apps.evaluate import evaluate, markdown
    from formcheck.core.errors import InputError

    folder = Path(a.dir)
    if not folder.is_dir() or not any(folder.glob("*.truth.json")):
        raise InputError(f"{folder}: no NAME.truth.json files found; point eval at a folder of labelled clips")
    m = evaluate(folder, a.profile, a.model, max(1, a.jobs), exercise=a.exercise)
    md = markdown(m)
    print(md)
    if a.json:
        _write(a.json, json.dumps(m, indent=1) + "\n")
    if a.markdown:
        _write(a.markdown, md)
    failed = [c["name"] for c in m["clips"] if c["error"]]
    if failed:
        print(f"formcheck: {len(failed)} clip(s) could not be analysed: {', '.join(failed)}", file=sys.stderr)
    return 0
