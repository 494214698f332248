"""`formcheck batch PATH... -o OUT`: many clips in parallel, resumable, with a summary."""
from __future__ import annotations

import argparse


def add(sub, common) -> None:
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
    bt.set_defaults(func=run)


def run(a: argparse.Namespace) -> int:
    from formcheck.apps.batch import main

    return main(a)
