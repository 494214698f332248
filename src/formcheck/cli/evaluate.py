"""`formcheck eval DIR...`: score the checker against labelled clips.

Default: cross-validated (everything fitted from data is fitted on some clips and scored on others) from cached
landmarks (the model runs once per clip, then a change re-scores every clip in seconds). `--end-to-end`: the
shipped profile through the whole `analyze` path on one folder, in-sample."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add(sub, common) -> None:
    ev = sub.add_parser("eval", help="score the checker against clips with NAME.truth.json beside them "
                                     "(cross-validated by default)")
    ev.add_argument("dirs", nargs="+", metavar="DIR", help="folders of labelled clips (NAME.mp4 + NAME.truth.json)")
    ev.add_argument("--json", help="write the metrics as JSON here")
    ev.add_argument("--markdown", help="write the Markdown tables here")
    ev.add_argument("--folds", type=int, default=5, help="cross-validation folds over the rendered clips (default 5)")
    ev.add_argument("--cache", help="landmark cache folder (default ~/.cache/formcheck/poses or $FORMCHECK_CACHE)")
    ev.add_argument("--end-to-end", action="store_true",
                    help="no fitting: the shipped profile through the whole analyze path (one folder, in-sample)")
    ev.add_argument("--jobs", type=int, default=1, help="with --end-to-end: clips analysed in parallel")
    common(ev)
    ev.set_defaults(func=run)


def _write(path: str | Path, text: str) -> None:
    from formcheck.report.files import write_text_atomic

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(Path(path), text)


def run(a: argparse.Namespace) -> int:
    """Print the Markdown tables (and write --json / --markdown); a clip that could not be analysed is scored as
    all misses and named in its row, so the exit code stays 0."""
    from formcheck.core.errors import FormcheckError, InputError

    folders = [Path(d) for d in a.dirs]
    for folder in folders:
        if not folder.is_dir() or not any(folder.glob("*.truth.json")):
            raise InputError(f"{folder}: no NAME.truth.json files found; point eval at a folder of labelled clips")
    if a.end_to_end:
        from formcheck.apps.evaluate import evaluate, markdown

        if len(folders) != 1:
            raise FormcheckError("--end-to-end scores one folder; give one DIR")
        m = evaluate(folders[0], a.profile, a.model, max(1, a.jobs), exercise=a.exercise)
        md = markdown(m)
    else:
        from formcheck.apps.crossval import cross_validate, labelled_clips, markdown

        if a.profile:
            raise FormcheckError("cross-validation fits the calibration itself; --profile goes with --end-to-end")
        if a.folds < 2:
            raise FormcheckError(f"--folds must be at least 2 (got {a.folds})")
        m = cross_validate(labelled_clips(folders), k=a.folds, exercise=a.exercise, model=a.model,
                           cache_dir=a.cache)
        md = markdown(m)
    print(md)
    if a.json:
        _write(a.json, json.dumps(m, indent=1) + "\n")
    if a.markdown:
        _write(a.markdown, md)
    failed = [c["name"] for c in m["clips"] if c["error"] and c.get("reps_truth")]
    if failed:
        print(f"formcheck: {len(failed)} labelled clip(s) gave no rep: {', '.join(failed)}", file=sys.stderr)
    return 0
