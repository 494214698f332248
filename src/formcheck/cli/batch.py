"""`formcheck batch PATH... -o OUT`: many clips in parallel, resumable, with a summary."""
from __future__ import annotations

import argparse
import os
import sys


def add(sub, common) -> None:
    bt = sub.add_parser(
        "batch", help="analyse folders/files/globs of clips in parallel, resumable",
        description="Analyse every clip under PATH (folders are searched recursively) into its own folder under "
                    "OUT, in parallel, and write OUT/summary.csv, OUT/summary.json and OUT/index.html. Running the "
                    "same command again resumes: clips whose outputs are complete and whose clip, exercise choice, "
                    "profile and model are unchanged are skipped.",
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


def _fault_text(row: dict) -> str:
    from formcheck.apps.batch import RULE_IDS

    parts = [f"{rule} x{row[f'{rule}_fail']}" for rule in RULE_IDS if row.get(f"{rule}_fail")]
    return ", ".join(parts) if parts else ("none" if row.get("reps") else "")


class ConsoleObserver:
    """One overall bar (clips done, frames/s, time left) on stderr; a line per finished clip on stdout."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar = None
        self.n_total = self.n_done = 0
        self.est: dict[str, int] = {}
        self.done: dict[str, int] = {}

    def planned(self, jobs, skipped, frames_est) -> None:
        from tqdm import tqdm

        self.n_total = len(jobs) + len(skipped)
        self.n_done = len(skipped)
        self.est = dict(frames_est)
        self.done = {n: 0 for n in frames_est}
        if skipped:
            self._write(f"{len(skipped)} clip(s) already done and unchanged: skipped (--force redoes them)")
        self.bar = tqdm(total=sum(self.est.values()) or None, unit="frame", dynamic_ncols=True, file=sys.stderr,
                        disable=not self.enabled, smoothing=0.1,
                        bar_format="{desc} |{bar}| {n_fmt}/{total_fmt} frames [{elapsed}<{remaining}, {rate_fmt}]")
        self._desc()

    def _desc(self) -> None:
        if self.bar is not None:
            self.bar.set_description_str(f"{self.n_done}/{self.n_total} clips", refresh=False)

    def _set(self, name: str, done: int, total: int | None) -> None:
        if self.bar is None:
            return
        if total is not None and total != self.est.get(name):
            self.est[name] = total
            self.bar.total = sum(self.est.values())
        delta = done - self.done.get(name, 0)
        self.done[name] = done
        self.bar.update(delta)

    def started(self, name: str) -> None:
        pass

    def frames(self, name: str, done: int, total: int) -> None:
        self._set(name, done, max(total, done))

    def finished(self, row: dict) -> None:
        name = row["output_dir"]
        final = row["frames"] or self.done.get(name, 0)
        self._set(name, final, final)
        self.n_done += 1
        self._desc()
        if self.bar is not None:
            self.bar.refresh()
        if row["status"] == "ok":
            msg = (f"ok     {name}: {_exercise_text(row)}, {row['reps']} rep(s), faults: {_fault_text(row)}, "
                   f"{row['frames']} frames in {row['seconds_taken']:.1f} s")
        else:
            msg = f"error  {name}: {row['error']}"
        self._write(f"[{self.n_done}/{self.n_total}] {msg}")

    def note(self, message: str) -> None:
        from tqdm import tqdm

        tqdm.write(f"formcheck: {message}", file=sys.stderr)

    def _write(self, line: str) -> None:
        from tqdm import tqdm

        tqdm.write(line, file=sys.stdout)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _exercise_text(row: dict) -> str:
    """What the clip was judged as, in words ('' for a failed clip)."""
    from formcheck.exercises import EXERCISES

    ex = EXERCISES.get(row.get("exercise") or "")
    return ex.title.lower() if ex else (row.get("exercise") or "")


def format_table(rows: list[dict]) -> str:
    """The final table: one line per clip, faults (or the error) last so long messages do not break columns."""
    head = ("clip", "status", "exercise", "reps", "pose %", "secs", "faults / error")
    body = [(r["output_dir"], r["status"], _exercise_text(r), "" if r["reps"] is None else str(r["reps"]),
             "" if r["detection_rate"] is None else f"{100 * r['detection_rate']:.0f}",
             f"{r['seconds_taken'] or 0:.1f}", _fault_text(r) if r["status"] != "error" else r["error"])
            for r in rows]
    name_w = min(48, max(len(x[0]) for x in [head, *body]))
    ex_w = max(len(x[2]) for x in [head, *body])
    return "\n".join(f"{x[0]:<{name_w}}  {x[1]:<7}  {x[2]:<{ex_w}}  {x[3]:>4}  {x[4]:>6}  {x[5]:>6}  {x[6]}".rstrip()
                     for x in [head, *body])


def run(a: argparse.Namespace) -> int:
    """Exit 0 when every clip is analysed (or unchanged), EXIT_SOME_FAILED when some failed."""
    import signal
    import threading

    from formcheck.apps.batch import EXIT_SOME_FAILED, run_batch

    show_bar = sys.stderr.isatty() or os.environ.get("FORMCHECK_PROGRESS") == "1"
    obs = ConsoleObserver(show_bar)
    old_term = None
    if threading.current_thread() is threading.main_thread():
        def on_term(signum, frame):   # `kill PID` stops the workers and writes the summary, like Ctrl-C
            raise KeyboardInterrupt
        old_term = signal.signal(signal.SIGTERM, on_term)
    try:
        res = run_batch(a.paths, a.output, jobs=a.jobs, backend=a.backend, address=a.address, force=a.force,
                        video=not a.no_video, html=not a.no_html, profile=a.profile, exercise=a.exercise,
                        model=a.model, observer=obs)
    finally:
        obs.close()
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
    c = res.counts
    print(format_table(res.rows))
    print(f"{c['clips']} clip(s): {c['ok']} analysed, {c['skipped']} skipped (unchanged), {c['error']} failed "
          f"in {res.wall_s:.1f} s")
    print(f"Summary: {res.out_dir / 'summary.csv'}, {res.out_dir / 'summary.json'}, {res.out_dir / 'index.html'}")
    if c["error"]:
        print(f"formcheck: {c['error']} clip(s) failed; see the error column (exit code {EXIT_SOME_FAILED})",
              file=sys.stderr)
    return res.exit_code
