"""Where runs execute: the contract :class:`BaseRunExecutor` and :class:`LocalRunExecutor`.

Implementations are chosen by name from the ``kernel_magics.executors`` entry points
(:func:`executor_for`): ``local`` (threads of this process) and ``dask``
(:class:`~.dask.DaskRunExecutor`, a Dask cluster). All follow the same template: the calling
process records the notebook version and creates each run just before it is dispatched (so a
queued run is never shown ``running``), at most ``workers`` runs are in flight, and every run
ends with a terminal status, even when the machine that executed it disappears.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from typing import TYPE_CHECKING, Any

from ...errors import PluginNotFoundError, ValidationError
from ..names import KILLED
from . import RunResult
from .execute import RunPlan, execute_plan, kernel_failed, launch, record_version
from .kernels import KernelPool
from .options import check_workers

if TYPE_CHECKING:
    from ..store import Store

ResultCallback = Callable[[int, RunResult], None]


class BaseRunExecutor(ABC):
    """Executes run plans; the contract every executor keeps.

    Subclasses override :meth:`run_plans` (and :meth:`close` when they hold resources, and
    :meth:`from_spec` when their ``--executor`` text carries an address). They
    must call :func:`~.execute.launch` in this process right before dispatching a plan, return
    one :class:`~kernel_magics.core.runner.RunResult` per plan in plan order, and leave no run
    ``running`` when they return: a run whose worker vanished is ended ``crashed`` here.

    Parameters
    ----------
    workers : int
        Runs executing at the same time.
    """

    def __init__(self, workers: int = 1):
        self.workers = check_workers(workers)

    @classmethod
    def from_spec(cls, spec: str, workers: int = 1) -> BaseRunExecutor:
        """Build the executor from the ``--executor`` text that chose it (``local``).

        Override when the text carries more (an address: ``dask://HOST:PORT``).
        """
        return cls(workers)

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

    def __enter__(self) -> BaseRunExecutor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def store_for(plans: Sequence[RunPlan], store: Store | None) -> Store:
    """Open the plans' store (unless given) and record each distinct notebook content once."""
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


def progress_bar(progress: bool, total: int):
    """A bar of runs done, for two runs or more when asked for (None otherwise)."""
    if not progress or total < 2:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="run", desc="Runs")


def _pool_key(plan: RunPlan) -> tuple:
    """Plans whose kernels are interchangeable share a pool (same kernel, store, folder)."""
    return (plan.kernel_name, tuple(sorted(plan.kernel_env().items())), plan.cwd)


class LocalRunExecutor(BaseRunExecutor):
    """Runs on threads of this process, each on its own kernel started ahead of time.

    Kernels for the next runs boot while the current ones execute, so kernel start-up, most
    of a short notebook's run time, overlaps with execution.
    """

    def run_plans(self, plans, *, store=None, progress=False, on_result=None):
        """Execute the plans on ``workers`` threads; see :class:`BaseRunExecutor`."""
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
            store = store_for(plans, store)
            return self._run(plans, pools, store, progress, on_result)
        finally:
            for pool in pools.values():
                pool.close(wait=False)

    def _run(self, plans, pools, store, progress, on_result) -> list[RunResult]:
        results: list[RunResult | None] = [None] * len(plans)
        cancel = threading.Event()
        bar = progress_bar(progress, len(plans))

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
                return kernel_failed(store, plan, launch(store, plan), exc)
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


#: URL schemes that name an entry point under another name (Dask's own address scheme).
SCHEME_ALIASES = {"tcp": "dask"}


def executor_for(spec: str | type[BaseRunExecutor] | None, workers: int = 1) -> BaseRunExecutor:
    """Build the run executor that ``spec`` names, from the ``kernel_magics.executors`` group.

    Parameters
    ----------
    spec : str, type or None
        ``"local"`` (or None), ``"dask://HOST:PORT"`` (the scheme names the entry point, here
        ``dask``), the name of another registered executor, or a :class:`BaseRunExecutor`
        subclass (a traitlets ``Type`` value, a test's executor).
    workers : int
        Runs executing at the same time.

    Raises
    ------
    ValidationError
        When the spec names no registered executor (:class:`PluginNotFoundError`) or is
        malformed for it.
    ExecutorError
        When the executor cannot reach what it runs on (a Dask scheduler).
    """
    from .. import plugins

    if isinstance(spec, type):
        cls, spec = spec, ""
    else:
        spec = spec or "local"
        scheme = spec.split("://", 1)[0] if "://" in spec else spec
        try:
            cls = plugins.load(plugins.EXECUTORS, SCHEME_ALIASES.get(scheme, scheme))
        except PluginNotFoundError:
            known = ", ".join(plugins.available(plugins.EXECUTORS)) or "none"
            raise PluginNotFoundError(
                f"--executor must be 'local' or 'dask://HOST:PORT' (installed executors: "
                f"{known}), not {spec!r}."
            ) from None
    if not (isinstance(cls, type) and issubclass(cls, BaseRunExecutor)):
        raise ValidationError(f"The executor {cls!r} is not a BaseRunExecutor subclass.")
    return cls.from_spec(spec, workers=workers)
