"""One pool of analyses: `batch` (local backend) and `eval` both run a picklable per-clip function in 'spawn'
worker processes through `run_pool` (MediaPipe is not fork-safe, so never 'fork').

Why a module of its own: a worker that dies (segfault in a decoder, OOM kill) breaks a ProcessPoolExecutor and
fails every job it held. `run_pool` recovers: the jobs that may have been running when it broke are retried one
at a time in a fresh pool, so the one that kills its worker is recorded as crashed and every other job still
runs. Jobs that never started are put back in line without blame.

Workers get a progress queue (`progress_queue()` inside the job function; anything sent with `send` arrives at
the parent's `on_message`), ignore Ctrl-C (the parent stops them) and can be capped to fewer helper threads so N
workers on N cores do not oversubscribe them. The queue is a SimpleQueue written synchronously (no feeder
thread), so whatever a job sent is in the pipe before its result: the parent sees a job's messages, including
the pool's own 'started', before its outcome.
"""
from __future__ import annotations

import os
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Generic, Iterable, Iterator, TypeVar

J = TypeVar("J")

#: the job's row/report when its worker died under it: say what probably happened and that the rest went on
CRASH_MESSAGE = ("the worker process died while analysing this clip ({kind}); the clip may crash the decoder "
                 "or the machine ran out of memory")
POLL_S = 0.2                    # how often the parent drains progress messages while it waits for results
_STARTED = "formcheck-pool:started"   # the pool's own message: which job a worker took (to know whom to blame)

_queue = None                   # this worker's progress queue (set by the initializer)


class _Sender:
    """The worker's end of the progress queue, with the put_nowait that progress senders expect."""

    def __init__(self, queue) -> None:
        self._queue = queue

    def put_nowait(self, item) -> None:
        self._queue.put(item)   # a few bytes into a pipe the parent drains every POLL_S: does not block


@dataclass(frozen=True)
class Outcome(Generic[J]):
    """One finished job: its value, or why there is none (error set; crashed when the worker process died)."""

    job: J
    value: Any = None
    error: str | None = None
    crashed: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


def progress_queue():
    """Inside a job function: the queue to the parent (None outside a pool worker)."""
    return _queue


def send(item) -> None:
    """Progress is best effort: a lost message must never fail a job."""
    q = _queue
    if q is None:
        return
    try:
        q.put_nowait(item)
    except Exception:  # noqa: BLE001 - full queue, dead parent: progress only
        pass


def _init_worker(queue, threads_per_worker: int | None, initializer, initargs) -> None:
    import signal

    global _queue
    _queue = _Sender(queue)
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the parent's to handle: it stops the workers
    if threads_per_worker:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(var, str(threads_per_worker))
        try:
            import cv2

            cv2.setNumThreads(threads_per_worker)
        except ImportError:  # pragma: no cover - mediapipe pulls OpenCV in
            pass
    if initializer is not None:
        initializer(*initargs)


def _call(fn: Callable, key: str, job):
    """The worker's entry point: say which job it took, then run it."""
    send((_STARTED, key))
    return fn(job)


def _one_line(e: BaseException) -> str:
    return " ".join(f"{type(e).__name__}: {e}".split())


def run_pool(fn: Callable[[J], Any], jobs: Iterable[J], n_workers: int, *, key: Callable[[J], str] = str,
             initializer: Callable | None = None, initargs: tuple = (), threads_per_worker: int | None = None,
             on_message: Callable[[Any], None] | None = None, note: Callable[[str], None] | None = None
             ) -> Iterator[Outcome[J]]:
    """Run fn(job) for every job in up to n_workers spawn processes; yield an Outcome per job as it finishes.

    fn and the jobs must be picklable (fn a module-level function). A job that raises gives an Outcome with the
    exception as its error; a worker that dies gives crashed Outcomes as described in the module docstring.
    `key` names a job in messages (unique per job). `on_message` gets every item sent with `send`, before the
    outcome of the job that sent it. `note` gets a line when jobs are retried after a crash.

    Use it under `contextlib.closing` (or run it to the end): closing the generator, or an exception in the
    parent while it waits (Ctrl-C), terminates the workers at once instead of after their current job.
    """
    import concurrent.futures as cf
    import multiprocessing as mp
    from concurrent.futures.process import BrokenProcessPool

    ctx = mp.get_context("spawn")
    todo: deque[J] = deque(jobs)
    suspects: deque[J] = deque()
    broken: dict[str, int] = {}   # how often each job was in a pool when it broke
    while todo or suspects:
        if suspects:
            batch, workers = [suspects.popleft()], 1
        else:
            batch, workers = list(todo), max(1, min(n_workers, len(todo)))
            todo.clear()
        q = ctx.SimpleQueue()
        started: set[str] = set()
        n_suspects = len(suspects)
        with cf.ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                                    initargs=(q, threads_per_worker, initializer, initargs)) as pool:
            futs = {pool.submit(_call, fn, key(j), j): j for j in batch}
            pending = set(futs)
            try:
                while pending:
                    done, pending = cf.wait(pending, timeout=POLL_S, return_when=cf.FIRST_COMPLETED)
                    while True:   # messages first, so a job's progress precedes its outcome
                        try:
                            if q.empty():
                                break
                            item = q.get()
                        except Exception:  # noqa: BLE001 - the queue broke with the pool
                            break
                        if isinstance(item, tuple) and len(item) == 2 and item[0] == _STARTED:
                            started.add(item[1])
                        elif on_message is not None:
                            on_message(item)
                    for f in done:
                        job = futs[f]
                        k = key(job)
                        try:
                            value = f.result()
                        except BrokenProcessPool as e:
                            broken[k] = broken.get(k, 0) + 1
                            if len(batch) == 1:       # alone in its pool: it is the one
                                yield Outcome(job, error=CRASH_MESSAGE.format(kind=type(e).__name__), crashed=True)
                            elif k in started or broken[k] > 1:
                                suspects.append(job)
                            else:                     # never started: blameless, back in line
                                todo.append(job)
                            continue
                        except Exception as e:  # noqa: BLE001 - the job raised (or did not pickle): record it
                            yield Outcome(job, error=_one_line(e))
                            continue
                        yield Outcome(job, value)
            except BaseException:   # interrupted or closed: stop the workers now, not after their current job
                procs = list((getattr(pool, "_processes", None) or {}).values())   # shutdown() drops them
                pool.shutdown(wait=False, cancel_futures=True)
                for proc in procs:
                    proc.terminate()
                raise
        q.close()
        if len(suspects) > n_suspects and note is not None:
            new = list(suspects)[n_suspects:]
            note(f"a worker process died; retrying the {len(new)} clip(s) it may have held one at a time: "
                 f"{', '.join(key(j) for j in new)}")
