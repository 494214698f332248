"""Command line: argument parsing, printing and exit codes. One module per command (`add` its parser, `run` it);
the apps below never print or exit."""
from __future__ import annotations

import argparse
import sys

from formcheck.cli import analyze, batch, evaluate, import_sets, live, serve
from formcheck.core.errors import FormcheckError
from formcheck.exercises import CHOICES

COMMANDS = (analyze, evaluate, live, batch, serve, import_sets)


def common(sp: argparse.ArgumentParser) -> None:
    """Options every command takes: what the clip shows, the rule profile, the pose model."""
    sp.add_argument("--profile", help="rule profile TOML laid over the exercise's shipped profile")
    sp.add_argument("--model", help="pose model: lite, full (default) or heavy (shipped in models/), or a path to a "
                                    "PoseLandmarker .task bundle")
    sp.add_argument("--exercise", choices=CHOICES, default="auto",
                    help="what the clip shows (default auto: hip thrust or glute bridge, told apart by whether the "
                         "shoulders rest on a bench or on the floor)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="formcheck", description="Hip-thrust form checker: film from the side, get per-rep feedback.")
    sub = p.add_subparsers(dest="cmd", required=True)
    for cmd in COMMANDS:
        cmd.add(sub, common)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except FormcheckError as e:
        print(f"formcheck: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("formcheck: interrupted", file=sys.stderr)
        return 130
