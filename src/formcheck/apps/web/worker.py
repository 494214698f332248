"""One analysis in its own process: `python -m formcheck.apps.web.worker JOB_JSON`.

Why a process per analysis: MediaPipe is not fork-safe and a decoder crash or an out-of-memory kill must only fail
its own job; when the process ends, its memory goes back to the system. The server starts this with a pipe on
stdout and reads one JSON object per line:

    {"frames": done, "total": total}           at most every PROGRESS_EVERY_S
    {"ok": true}                                report.json is in place (analyze moves it in last)
    {"error": "one line", "exit_code": n}       a FormcheckError (the CLI's message and exit code) or a crash

The job is a JSON object with only server-made paths: upload, out_dir, profile (or null), exercise, model, video,
and the server's pid.
The worker dies with the server (PR_SET_PDEATHSIG, and a broken stdout pipe cancels the analysis), so an orphan
never keeps writing into a set the restarted server has marked failed.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import time

PROGRESS_EVERY_S = 0.25


def _die_with_parent(parent_pid: int | None) -> None:
    """SIGKILL when the server dies; and exit now if it died before that was set (while Python started)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").prctl(1, int(signal.SIGKILL))   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)


def _say(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    job = json.loads(argv[0])
    _die_with_parent(job.get("parent_pid"))
    # SIGTERM (cancel) unwinds through analyze's finally blocks, which remove its partial folder
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    from formcheck.apps.analyze import analyze
    from formcheck.core.errors import FormcheckError

    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY_S or done == total:
            last[0] = now
            _say({"frames": done, "total": total})   # BrokenPipeError when the server is gone: stops the analysis

    try:
        analyze(job["upload"], job["out_dir"], profile=job.get("profile"), exercise=job.get("exercise") or "auto",
                model=job.get("model"), video=bool(job.get("video", True)), html=True, progress=progress)
    except FormcheckError as e:
        _say({"error": " ".join(str(e).split()), "exit_code": e.exit_code})
        return e.exit_code
    except BrokenPipeError:
        return 141
    except Exception as e:  # noqa: BLE001 - reported to the server as the job's reason
        _say({"error": f"the analysis failed unexpectedly ({type(e).__name__}: {e})", "exit_code": 1})
        return 1
    _say({"ok": True})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
