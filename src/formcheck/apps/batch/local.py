"""The local backend: run_clip in worker processes on this machine, through the shared analysis pool."""
from __future__ import annotations

from contextlib import closing
from operator import attrgetter
from typing import Callable

from formcheck.apps import pool
from formcheck.apps.batch.jobs import ClipJob, Observer, dispatch, empty_row, run_clip


def _local_task(job: ClipJob) -> dict:
    """The pool's entry point: run_clip with this worker's progress queue."""
    return run_clip(job, pool.progress_queue())


def run_local(jobs: list[ClipJob], n_workers: int, on_row: Callable[[dict], None], observer: Observer | None,
              threads_per_worker: int | None = None) -> None:
    """Run jobs in n_workers spawn processes. A worker that dies (segfault, OOM kill) costs only the clip that
    killed it: `pool.run_pool` retries the clips it may have held one at a time and records the culprit."""
    outcomes = pool.run_pool(_local_task, jobs, n_workers, key=attrgetter("name"),
                             threads_per_worker=threads_per_worker,
                             on_message=lambda item: dispatch(item, observer),
                             note=observer.note if observer is not None else None)
    with closing(outcomes):
        for o in outcomes:
            on_row(o.value if o.ok else {**empty_row(o.job.clip_label, o.job.name), "error": o.error})
