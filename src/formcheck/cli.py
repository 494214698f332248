"""Command line: wires concrete parts together; the only place that prints or exits."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from formcheck.core.errors import FormcheckError
from formcheck.exercises import CHOICES


def _progress_bar(desc: str):
    from tqdm import tqdm

    bar = tqdm(desc=desc, unit="frame", leave=False, dynamic_ncols=True, disable=not sys.stderr.isatty() and os.environ.get("FORMCHECK_PROGRESS") != "1")

    def update(done: int, total: int) -> None:
        if total and bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    return bar, update


def cmd_analyze(a: argparse.Namespace) -> int:
    from formcheck.apps.analyze import analyze
    from formcheck.report.files import summary_text

    bar, upd = _progress_bar(Path(a.clip).name)
    try:
        res = analyze(a.clip, a.output, profile=a.profile, exercise=a.exercise, model=a.model, video=not a.no_video,
                      html=not a.no_html,
                      progress=upd)
    finally:
        bar.close()
    print(summary_text(res))
    print("Outputs:")
    for k, v in res.outputs.items():
        print(f"  {k:12s} {v}")
    return 0


def cmd_eval(a: argparse.Namespace) -> int:
    from formcheck.apps.evaluate import main as eval_main

    return eval_main(a)


def cmd_live(a: argparse.Namespace) -> int:
    from formcheck.apps.live import main as live_main

    return live_main(a)


def cmd_batch(a: argparse.Namespace) -> int:
    from formcheck.apps.batch import main as batch_main

    return batch_main(a)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="formcheck", description="Hip-thrust form checker: film from the side, get per-rep feedback.")
    sub = p.add_subparsers(dest="cmd", required=True)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--profile", help="rule profile TOML (default: the shipped hip_thrust profile)")
        sp.add_argument("--model", help="PoseLandmarker .task bundle (default: models/pose_landmarker_full.task)")
        sp.add_argument("--exercise", choices=CHOICES, default="auto",
                        help="what the clip shows (default auto: hip thrust or glute bridge, told apart by whether "
                             "the shoulders rest on a bench or on the floor)")

    an = sub.add_parser("analyze", help="analyse one clip: annotated video, report.json/html, frames.csv")
    an.add_argument("clip")
    an.add_argument("-o", "--output", help="output folder (default: <clip>_formcheck next to the clip)")
    an.add_argument("--no-video", action="store_true", help="skip the annotated video")
    an.add_argument("--no-html", action="store_true", help="skip report.html")
    common(an)
    an.set_defaults(func=cmd_analyze)

    ev = sub.add_parser("eval", help="score the checker against clips with NAME.truth.json beside them")
    ev.add_argument("dir")
    ev.add_argument("--json", help="write the metrics as JSON here")
    ev.add_argument("--markdown", help="write the Markdown table here")
    ev.add_argument("--jobs", type=int, default=1, help="clips analysed in parallel")
    common(ev)
    ev.set_defaults(func=cmd_eval)

    lv = sub.add_parser("live", help="live coaching from a webcam (or a file played as a camera)")
    lv.add_argument("--camera", default="0", help="camera index or stream URL (default 0)")
    lv.add_argument("--source", help="play this video file as if it were a camera, paced at its frame rate")
    lv.add_argument("--no-window", action="store_true", help="run without a display")
    lv.add_argument("--voice", action="store_true", help="speak cues (offline text-to-speech)")
    lv.add_argument("--voice-wav", metavar="DIR", help="with --voice: also keep each spoken cue as a WAV in DIR")
    lv.add_argument("--record", help="also save the annotated stream to this MP4")
    lv.add_argument("-o", "--output", help="folder for the set report (default: ./formcheck_live)")
    lv.add_argument("--skip-setup", action="store_true", help="skip the camera set-up check")
    lv.add_argument("--max-seconds", type=float, help="stop after this long")
    common(lv)
    lv.set_defaults(func=cmd_live)

    bt = sub.add_parser(
        "batch", help="analyse folders/files/globs of clips in parallel, resumable",
        description="Analyse every clip under PATH (folders are searched recursively) into its own folder under "
                    "OUT, in parallel, and write OUT/summary.csv, OUT/summary.json and OUT/index.html. Running the "
                    "same command again resumes: clips whose outputs are complete and whose clip, profile and "
                    "model are unchanged are skipped.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="exit codes:\n"
               "  0   every clip analysed (or skipped as unchanged)\n"
               "  10  some clips failed: each is in the summary with its error; the others are complete\n"
               "  2-7 the batch could not start (no clips found, bad profile or model, OUT not writable,\n"
               "      Ray unreachable): see the one-line error\n"
               "  130 interrupted; run the same command again to resume\n"
               "\n"
               "Ray: --backend ray runs each clip as a Ray task (pip install 'formcheck[ray]'); every node must\n"
               "have formcheck installed and see the clips and OUT at the same absolute paths.")
    bt.add_argument("paths", nargs="+", metavar="PATH", help="video files, folders or globs")
    bt.add_argument("-o", "--output", required=True, metavar="OUT", help="output folder (one sub-folder per clip)")
    bt.add_argument("--jobs", type=int, default=None,
                    help="clips analysed at once (default: one per core; with Ray: the cluster's CPUs)")
    bt.add_argument("--force", action="store_true", help="redo clips whose outputs are already complete")
    bt.add_argument("--backend", choices=("local", "ray"), default="local",
                    help="local worker processes (default) or tasks on a Ray cluster")
    bt.add_argument("--address", help="Ray cluster address, e.g. 10.0.0.5:6379 (with --backend ray; default: "
                                      "start a local Ray instance)")
    bt.add_argument("--no-video", action="store_true", help="skip the annotated videos (much faster)")
    bt.add_argument("--no-html", action="store_true", help="skip report.html")
    common(bt)
    bt.set_defaults(func=cmd_batch)
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
