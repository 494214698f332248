"""The Ray backend: the same run_clip as Ray tasks. Ray is imported here only: the default path runs without it."""
from __future__ import annotations

import os
import sys
from collections import deque
from typing import Any, Callable

from formcheck.apps.batch.jobs import ClipJob, Observer, dispatch, empty_row, error_message, run_clip
from formcheck.core.errors import FormcheckError


def _check_reachable(address: str, timeout_s: float = 10.0) -> None:
    """Fail in seconds on a wrong --address: Ray itself retries an unreachable head node for minutes."""
    import socket

    if address == "auto" or "://" in address:
        return
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise FormcheckError(f"--address {address!r} is not host:port (e.g. 10.0.0.5:6379)")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as e:
        raise FormcheckError(f"cannot reach the Ray head node at {address} ({e.strerror or e}); start it with "
                             f"`ray start --head` or check --address") from None


def run_ray(jobs: list[ClipJob], address: str | None, n_parallel: int | None, on_row: Callable[[dict], None],
            observer: Observer | None) -> None:
    """Run the same run_clip as Ray tasks (one CPU each). Without an address a local Ray instance is started.
    The workers must see the clips and OUT at the same absolute paths (a shared file system)."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")   # no usage reports leave the machine
    if not address and "ray" not in sys.modules:
        # A private local instance: keep it on the loopback interface (Ray otherwise binds the routable address).
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
        from ray.util.queue import Queue as RayQueue
    except ImportError:
        raise FormcheckError("the Ray backend needs Ray: pip install 'formcheck[ray]' (or use --backend local)") from None
    import logging

    init_kw: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": False}
    if address:
        _check_reachable(address)
        init_kw["address"] = address
    else:
        init_kw.update(num_cpus=n_parallel or os.cpu_count() or 1, include_dashboard=False)
    try:
        ray.init(**init_kw)
    except (ConnectionError, RuntimeError, ValueError) as e:
        raise FormcheckError(f"cannot connect to the Ray cluster at {address or 'a new local instance'} "
                             f"({error_message(e)}); check --address, and if the cluster uses token "
                             f"authentication set RAY_AUTH_MODE=token (token in ~/.ray/auth_token or "
                             f"RAY_AUTH_TOKEN)") from None
    running: dict[Any, ClipJob] = {}
    try:
        limit = n_parallel or max(1, int(ray.cluster_resources().get("CPU", 1)))
        q = RayQueue(actor_options={"num_cpus": 0})
        task = ray.remote(num_cpus=1, max_retries=1)(run_clip)
        todo = deque(jobs)
        while todo or running:
            while todo and len(running) < limit:     # a window, so thousands of clips are not all queued at once
                j = todo.popleft()
                running[task.remote(j, q)] = j
            ready, _ = ray.wait(list(running), num_returns=1, timeout=0.2)
            try:
                for item in q.get_nowait_batch(q.qsize()):
                    dispatch(item, observer)
            except Exception:  # noqa: BLE001 - progress only
                pass
            for ref in ready:
                job = running.pop(ref)
                try:
                    row = ray.get(ref)
                except Exception as e:  # noqa: BLE001 - worker crash, node lost, OOM kill: record, go on
                    row = {**empty_row(job.clip_label, job.name), "error": error_message(e)}
                on_row(row)
    except BaseException:
        for ref in running:   # interrupted: do not leave tasks running on the cluster
            ray.cancel(ref, force=True)
        raise
    finally:
        ray.shutdown()

