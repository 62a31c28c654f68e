"""Where runs execute: threads of this process (local) or a Dask cluster.

Both follow the same template: the calling process records the notebook version and creates each
run just before it is dispatched (so a queued run is never shown ``running``), at most
``workers`` runs are in flight, and every run ends with a terminal status, even when the machine
that executed it disappears.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from typing import TYPE_CHECKING, Any

from ...errors import ExecutorError, ValidationError
from ..store.schema import CRASHED, KILLED, RUNNING
from . import RunResult
from .execute import RunPlan, execute_plan, launch, record_version
from .kernels import KernelPool

if TYPE_CHECKING:
    from ..store import Store

ResultCallback = Callable[[int, RunResult], None]
WORKER_TAG = "mlops.dask_worker"
#: Seconds between a Dask task's checks that its run was not ended by the submitting process.
STATUS_POLL_S = 2.0


class BaseExecutor(ABC):
    """Executes run plans; the contract every executor keeps.

    Subclasses override :meth:`run_plans` (and :meth:`close` when they hold resources). They
    must call :func:`~.execute.launch` in this process right before dispatching a plan, return
    one :class:`~kernel_magics.core.runner.RunResult` per plan in plan order, and leave no run
    ``running`` when they return: a run whose worker vanished is ended ``crashed`` here.

    Parameters
    ----------
    workers : int
        Runs executing at the same time.
    """

    def __init__(self, workers: int = 1):
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValidationError(f"--workers must be a positive integer, got {workers!r}.")
        self.workers = workers

    @abstractmethod
    def run_plans(
        self,
        plans: Sequence[RunPlan],
        *,
        store: Store | None = None,
        progress: bool = False,
        on_result: ResultCallback | None = None,
    ) -> list[RunResult]:
        """Execute every plan; return their results in plan order."""

    def close(self) -> None:  # noqa: B027 - optional hook; nothing to release by default
        """Release what the executor holds (connections, threads)."""

    def __enter__(self) -> BaseExecutor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _store_for(plans: Sequence[RunPlan], store: Store | None) -> Store:
    from ..store import open_store

    store = store or open_store(plans[0].location)
    seen: dict[tuple[str, bytes], int | None] = {}
    for plan in plans:  # one version per distinct content, recorded before any run starts
        key = (plan.notebook_path, plan.notebook)
        if key in seen and seen[key] is not None:
            plan.version_id = seen[key]
        else:
            record_version(store, plan)
            seen[key] = plan.version_id
    return store


def _progress_bar(progress: bool, total: int):
    if not progress or total < 2:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="run", desc="Runs")


def _pool_key(plan: RunPlan) -> tuple:
    """Plans whose kernels are interchangeable share a pool (same kernel, store, folder)."""
    return (plan.kernel_name, tuple(sorted(plan.kernel_env().items())), plan.cwd)


class LocalExecutor(BaseExecutor):
    """Runs on threads of this process, each on its own kernel started ahead of time.

    Kernels for the next runs boot while the current ones execute, so kernel start-up, most
    of a short notebook's run time, overlaps with execution.
    """

    def run_plans(self, plans, *, store=None, progress=False, on_result=None):
        """Execute the plans on ``workers`` threads; see :class:`BaseExecutor`."""
        if not plans:
            return []
        pools: dict[tuple, KernelPool] = {}
        keys = [_pool_key(plan) for plan in plans]
        for plan, key in zip(plans, keys, strict=True):
            if key not in pools:
                count = keys.count(key)
                # A kernel boots in about a second of which half is CPU: keep enough booting
                # to use the cores while `workers` runs execute (never more than needed).
                size = min(4 * self.workers + 2, 16, count)
                pools[key] = KernelPool(plan.kernel_name, dict(key[1]), plan.cwd, size, count)
                pools[key].start()  # kernels boot while the store is prepared
        try:
            store = _store_for(plans, store)
            return self._run(plans, pools, store, progress, on_result)
        finally:
            for pool in pools.values():
                pool.close(wait=False)

    def _run(self, plans, pools, store, progress, on_result) -> list[RunResult]:
        results: list[RunResult | None] = [None] * len(plans)
        cancel = threading.Event()
        bar = _progress_bar(progress, len(plans))

        def job(index: int) -> RunResult:
            plan = plans[index]
            pool = pools[_pool_key(plan)]
            if cancel.is_set():
                run_id = launch(store, plan)
                store.runs.finish(run_id, KILLED, "Cancelled before it started.")
                return RunResult(run_id, KILLED, "Cancelled before it started.")
            try:
                km = pool.acquire()
            except Exception as exc:
                run_id = launch(store, plan)
                store.runs.finish(run_id, CRASHED, f"The kernel could not start: {exc}")
                return RunResult(run_id, CRASHED, f"The kernel could not start: {exc}",
                                 parameters=dict(plan.parameters))  # fmt: skip
            try:
                run_id = launch(store, plan)
                return execute_plan(plan, run_id, store, km, cancel=cancel)
            finally:
                pool.release(km)

        with ThreadPoolExecutor(self.workers, thread_name_prefix="mlops-run") as pool_threads:
            futures = {pool_threads.submit(job, i): i for i in range(len(plans))}
            pending = set(futures)
            try:
                while pending:
                    done, pending = wait_futures(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        index = futures[future]
                        results[index] = future.result()
                        if bar is not None:
                            bar.update(1)
                        if on_result is not None:
                            on_result(index, results[index])  # type: ignore[arg-type]
            except KeyboardInterrupt:
                cancel.set()  # running runs end killed, queued ones never start
                wait_futures(pending)
                raise
            finally:
                if bar is not None:
                    bar.close()
        return [r for r in results if r is not None]


def _execute_on_worker(plan: RunPlan, run_id: str) -> RunResult:
    """Execute one launched run on this Dask worker (the task; never twice)."""
    from distributed import get_worker

    from ..store import open_store

    store = open_store(plan.location)
    record = store.runs.get(run_id)
    if record.status != RUNNING:  # lost with an earlier worker and re-scheduled: not again
        return RunResult(run_id, record.status, record.error, parameters=dict(plan.parameters))
    worker = get_worker()
    store.runs.set_tags(run_id, {WORKER_TAG: worker.address, "mlops.host": socket.gethostname()})
    if not os.path.isdir(plan.cwd):
        plan.cwd = os.getcwd()
    pool = KernelPool(plan.kernel_name, plan.kernel_env(), plan.cwd, 1, 1).start()
    try:
        km = pool.acquire()
    except Exception as exc:
        store.runs.finish(run_id, CRASHED, f"The kernel could not start on {worker.address}: {exc}")
        return RunResult(run_id, CRASHED, str(exc), parameters=dict(plan.parameters))
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


class DaskExecutor(BaseExecutor):
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

    def close(self) -> None:
        """Disconnect from the scheduler (the cluster keeps running)."""
        self.client.close()

    def run_plans(self, plans, *, store=None, progress=False, on_result=None):
        """Submit the plans as Dask tasks; see :class:`BaseExecutor`."""
        if not plans:
            return []
        store = _store_for(plans, store)
        results: list[RunResult | None] = [None] * len(plans)
        queue = list(range(len(plans)))
        inflight: dict[Any, tuple[int, str]] = {}
        bar = _progress_bar(progress, len(plans))
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
            worker = store.runs.get(run_id).tags.get(WORKER_TAG)
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


def executor_for(spec: str | None, workers: int = 1) -> BaseExecutor:
    """``"local"`` (or None) -> :class:`LocalExecutor`; ``"dask://HOST:PORT"`` -> Dask.

    Raises
    ------
    ValidationError
        When the spec is neither.
    ExecutorError
        When the Dask scheduler cannot be reached.
    """
    if spec in (None, "", "local"):
        return LocalExecutor(workers)
    if spec.startswith(("dask://", "tcp://")) and ":" in spec.split("://", 1)[1]:
        return DaskExecutor(spec, workers)
    raise ValidationError(f"--executor must be 'local' or 'dask://HOST:PORT', not {spec!r}.")
