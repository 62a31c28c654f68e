"""The ``dask`` run executor: runs as tasks on a dask.distributed cluster sharing the store.

Chosen by ``--executor dask://HOST:PORT`` (the ``dask`` entry point of
``kernel_magics.executors``); ``distributed`` is imported only when one is built.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

from ...errors import ExecutorError, ValidationError
from ..names import CRASHED, KILLED, RUNNING, Tag
from . import RunResult
from .execute import RunPlan, execute_plan, kernel_failed, launch
from .executors import BaseRunExecutor, progress_bar, store_for
from .kernels import KernelPool

if TYPE_CHECKING:
    from ..store import Store

#: Seconds between a Dask task's checks that its run was not ended by the submitting process.
STATUS_POLL_S = 2.0


def _execute_on_worker(plan: RunPlan, run_id: str) -> RunResult:
    """Execute one launched run on this Dask worker (the task; never twice)."""
    from distributed import get_worker

    from ..store import open_store

    store = open_store(plan.location)
    record = store.runs.get(run_id)
    if record.status != RUNNING:  # lost with an earlier worker and re-scheduled: not again
        return RunResult(run_id, record.status, record.error, parameters=dict(plan.parameters))
    worker = get_worker()
    store.runs.set_tags(run_id, {Tag.DASK_WORKER: worker.address, Tag.HOST: socket.gethostname()})
    if not os.path.isdir(plan.cwd):
        plan.cwd = os.getcwd()
    pool = KernelPool(plan.kernel_name, plan.kernel_env(), plan.cwd, 1, 1).start()
    try:
        km = pool.acquire()
    except Exception as exc:
        return kernel_failed(store, plan, run_id, RuntimeError(f"on {worker.address}: {exc}"))
    cancel, done = threading.Event(), threading.Event()

    def watch() -> None:
        # The submitting process ended the run (Ctrl-C there): stop the notebook here too.
        while not done.wait(STATUS_POLL_S):
            try:
                if store.runs.get(run_id).status != RUNNING:
                    cancel.set()
                    return
            except Exception:  # noqa: S112 - a store hiccup: look again next time
                continue

    threading.Thread(target=watch, name="mlops-run-watch", daemon=True).start()
    try:
        return execute_plan(plan, run_id, store, km, cancel=cancel)
    finally:
        done.set()
        pool.release(km)
        pool.close(wait=True)


class DaskRunExecutor(BaseRunExecutor):
    """Runs as tasks on a dask.distributed cluster sharing this store.

    The workers write to the same store (PostgreSQL, or SQLite on a disk they share) and
    artifact store. This process owns the runs' statuses: when the worker executing a run leaves
    the cluster (killed, out of memory), the run ends ``crashed`` and its task is cancelled, so a
    re-scheduled copy never executes the notebook a second time.

    Parameters
    ----------
    address : str
        ``dask://HOST:PORT`` or ``tcp://HOST:PORT`` of the scheduler.
    workers : int
        Runs in flight at the same time.
    poll_interval : float
        Seconds between checks for lost workers.
    """

    def __init__(self, address: str, workers: int = 1, poll_interval: float = 1.0):
        super().__init__(workers)
        if ":" not in address.split("://", 1)[-1]:
            raise ValidationError(
                f"--executor must be 'dask://HOST:PORT' for a Dask cluster, not {address!r}."
            )
        from distributed import Client

        self.address = "tcp://" + address.split("://", 1)[1] if "://" in address else address
        self.poll_interval = poll_interval
        try:
            self.client = Client(self.address, timeout="5s", set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ExecutorError(
                f"Cannot reach the Dask scheduler at {self.address} ({exc}). Start one with "
                "`dask scheduler` and workers with `dask worker HOST:PORT`, or check the address."
            ) from None

    @classmethod
    def from_spec(cls, spec: str, workers: int = 1) -> DaskRunExecutor:
        """Build from ``dask://HOST:PORT`` (or Dask's own ``tcp://HOST:PORT``)."""
        return cls(spec, workers)

    def close(self) -> None:
        """Disconnect from the scheduler (the cluster keeps running)."""
        self.client.close()

    def run_plans(self, plans, *, store=None, progress=False, on_result=None):
        """Submit the plans as Dask tasks; see :class:`BaseRunExecutor`."""
        if not plans:
            return []
        store = store_for(plans, store)
        results: list[RunResult | None] = [None] * len(plans)
        queue = list(range(len(plans)))
        inflight: dict[Any, tuple[int, str]] = {}
        bar = progress_bar(progress, len(plans))
        last_check = time.monotonic()

        def settle(index: int, result: RunResult) -> None:
            results[index] = result
            if bar is not None:
                bar.update(1)
            if on_result is not None:
                on_result(index, result)

        try:
            while queue or inflight:
                while queue and len(inflight) < self.workers:
                    index = queue.pop(0)
                    run_id = launch(store, plans[index])
                    future = self.client.submit(
                        _execute_on_worker, plans[index], run_id, key=f"mlops-run-{run_id}",
                        pure=False, retries=0,
                    )  # fmt: skip
                    inflight[future] = (index, run_id)
                done = [f for f in inflight if f.done()]
                if not done:
                    time.sleep(0.1)
                    if time.monotonic() - last_check < self.poll_interval:
                        continue
                for future in done:
                    index, run_id = inflight.pop(future)
                    settle(index, self._collect(store, future, plans[index], run_id))
                last_check = time.monotonic()
                for future, (index, run_id, worker) in self._lost(store, inflight).items():
                    inflight.pop(future)
                    future.cancel()
                    settle(index, self._crash(store, plans[index], run_id, worker))
        except KeyboardInterrupt:
            for future, (_, run_id) in inflight.items():
                future.cancel()
                store.runs.finish(run_id, KILLED, "Interrupted (Ctrl-C) while on the cluster.")
            raise
        finally:
            if bar is not None:
                bar.close()
        return [r for r in results if r is not None]

    def _collect(self, store: Store, future: Any, plan: RunPlan, run_id: str) -> RunResult:
        try:
            return future.result()
        except Exception as exc:  # the task itself failed (unpicklable, import error...)
            error = f"The Dask task failed: {type(exc).__name__}: {exc}"
            store.runs.finish(run_id, CRASHED, error)
            record = store.runs.get(run_id)
            return RunResult(run_id, record.status, record.error, parameters=dict(plan.parameters))

    def _lost(self, store: Store, inflight: dict[Any, tuple[int, str]]) -> dict[Any, tuple]:
        """In-flight runs whose worker is no longer part of the cluster."""
        if not inflight:
            return {}
        alive = set(self.client.scheduler_info(n_workers=-1).get("workers", {}))
        lost = {}
        for future, (index, run_id) in inflight.items():
            worker = store.runs.get(run_id).tags.get(Tag.DASK_WORKER)
            if worker and worker not in alive:
                lost[future] = (index, run_id, worker)
        return lost

    def _crash(self, store: Store, plan: RunPlan, run_id: str, worker: str) -> RunResult:
        from pathlib import Path

        from .execute import OUTPUT_ARTIFACT

        error = (
            f"The Dask worker {worker} left the cluster while executing this run (killed, out "
            "of memory, or its machine went down)."
        )
        output = Path(plan.output_dir) / f"{plan.stem}-{run_id[:8]}.ipynb"
        if output.is_file():  # a shared disk: keep the cells executed before the loss
            store.artifacts.add(run_id, OUTPUT_ARTIFACT, store.blobs.put_file(output),
                                "application/x-ipynb+json")  # fmt: skip
        store.runs.finish(run_id, CRASHED, error)
        record = store.runs.get(run_id)
        return RunResult(run_id, record.status, record.error,
                         output_path=str(output) if output.is_file() else None,
                         parameters=dict(plan.parameters))  # fmt: skip
