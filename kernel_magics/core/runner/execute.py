"""One notebook execution as one tracked run: plan, launch, execute, record the outcome.

The steps, so that every executor (local threads, Dask workers) shares them:

1. :func:`prepare_plan` checks everything (notebook, parameters, kernel, options) and builds a
   picklable :class:`RunPlan` holding the notebook's exact bytes. Nothing is written yet.
2. :func:`record_version` stores those bytes as a notebook version.
3. :func:`launch` creates the run (``running``) with its parameters, tags and version, in the
   process that owns the run's final status.
4. :func:`execute_plan` executes the notebook with papermill on a kernel from a
   :class:`~.kernels.KernelPool`, stores the output notebook and the logs as artifacts, and ends
   the run ``finished``, ``failed``, ``killed`` or ``crashed``.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..names import CRASHED, FAILED, FINISHED, KILLED, RUN_ID_ENV
from . import RunResult
from .kernels import KernelPool, interrupt_kernel, shutdown_kernel, wait_for_warm_imports
from .options import RunOptions
from .outcome import describe_error, input_index, running_cell, saved_cells
from .parameters import parse_notebook_bytes
from .plan import RunPlan, launch, prepare_plan, record_version

__all__ = ["RunPlan", "execute_plan", "launch", "prepare_plan", "record_version", "run_one"]

if TYPE_CHECKING:
    from ..store import Store

OUTPUT_ARTIFACT = "output.ipynb"
STDOUT_ARTIFACT = "logs/stdout.log"
STDERR_ARTIFACT = "logs/stderr.log"
#: Seconds between an interrupt on timeout and killing a kernel that ignores it.
INTERRUPT_GRACE_S = 5.0


class _Watchdog:
    """Interrupt, then kill, a kernel that runs past the timeout or whose run is cancelled.

    The timeout counts from :meth:`start_clock`, called once the kernel is ready: booting a
    kernel on a loaded machine can take seconds the notebook never had, and an interrupt sent
    while the kernel is still importing IPython kills it instead of stopping a cell.
    """

    def __init__(self, km: Any, timeout: float | None, cancel: threading.Event | None = None):
        self.km = km
        self.timeout = timeout
        self.cancel = cancel
        self.fired = False
        self.cancelled = False
        self._deadline: float | None = None
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> _Watchdog:
        if self.timeout or self.cancel is not None:
            self._thread = threading.Thread(target=self._watch, name="mlops-timeout", daemon=True)
            self._thread.start()
        return self

    def start_clock(self) -> None:
        """Start counting the timeout (the kernel is ready, the first code is about to run)."""
        if self.timeout:
            self._deadline = time.monotonic() + self.timeout

    def _watch(self) -> None:
        while True:
            step = 0.2
            if self._deadline is not None:
                step = min(step, self._deadline - time.monotonic())
            if self._done.wait(max(step, 0)):
                return
            if self.cancel is not None and self.cancel.is_set():
                self.cancelled = True
                break
            if self._deadline is not None and time.monotonic() >= self._deadline:
                break
        self.fired = True
        try:
            interrupt_kernel(self.km)
        except Exception:  # noqa: S110 - the kill below still ends it
            pass
        if self._done.wait(INTERRUPT_GRACE_S):
            return
        shutdown_kernel(self.km, now=True)

    def __exit__(self, *exc: Any) -> None:
        self._done.set()

    def reason(self) -> str:
        """Why the kernel was stopped."""
        if self.cancelled:
            return "Cancelled (Ctrl-C, or the run was ended elsewhere)"
        return f"Timed out after {self.timeout:g} s (--timeout)"


def execute_plan(
    plan: RunPlan,
    run_id: str,
    store: Store,
    km: Any,
    *,
    progress: bool | dict[str, Any] = False,
    cancel: threading.Event | None = None,
) -> RunResult:
    """Execute the plan's notebook as run ``run_id`` on the started kernel ``km``.

    Records the output notebook and the stdout/stderr logs as artifacts, then ends the run.
    Never raises for a failing notebook; the result carries the status. Setting ``cancel``
    interrupts the notebook and ends the run ``killed``. Whatever happens, the run does not
    stay ``running``: an error of the runner itself ends it ``crashed`` and is re-raised.
    """
    try:
        return _execute(plan, run_id, store, km, progress=progress, cancel=cancel)
    except BaseException as exc:
        status = KILLED if isinstance(exc, KeyboardInterrupt) else CRASHED
        try:
            store.runs.finish(run_id, status, f"The runner failed: {type(exc).__name__}: {exc}")
        finally:
            store.writer.remove_run(run_id)
        raise


def _execute(plan, run_id, store, km, *, progress, cancel) -> RunResult:
    wait_for_warm_imports()
    import nbformat
    import papermill
    from nbclient.exceptions import DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    from .engine import ENGINE_NAME, TEARDOWN_CODE, setup_code

    flusher = store.writer
    flusher.add_run(run_id, environment=True)
    out_dir = Path(plan.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    base = out_dir / f"{plan.stem}-{run_id[:8]}"
    output_path = base.with_suffix(".ipynb")
    stdout_path, stderr_path = Path(f"{base}.stdout.log"), Path(f"{base}.stderr.log")
    status, error, failed_cell = FINISHED, None, None
    source = parse_notebook_bytes(plan.notebook, plan.stem)
    source_cells = source.get("cells", [])
    nb = nbformat.from_dict(source)
    watchdog = _Watchdog(km, plan.timeout, cancel)
    try:
        with (
            open(stdout_path, "w", encoding="utf-8") as out,
            open(stderr_path, "w", encoding="utf-8") as err,
            watchdog,
        ):
            papermill.execute_notebook(
                nb, str(output_path), parameters=plan.parameters or None,
                engine_name=ENGINE_NAME, kernel_name=plan.kernel_name, language=plan.language,
                progress_bar=progress, stdout_file=out, stderr_file=err, km=km,
                setup_code=setup_code({RUN_ID_ENV: run_id}, cell_runs=plan.cell_runs),
                teardown_code=TEARDOWN_CODE, on_ready=watchdog.start_clock,
                input_label=plan.notebook_path, autosave_cell_every=10,
            )  # fmt: skip
    except PapermillExecutionError as exc:
        cells = saved_cells(output_path)
        failed_cell = input_index(source_cells, cells, exc.cell_index)
        where = f"cell {failed_cell} (In [{exc.exec_count}])"
        if watchdog.fired:
            status, error = KILLED, f"{watchdog.reason()}; interrupted in {where}."
        else:
            cell = cells[exc.cell_index] if 0 <= exc.cell_index < len(cells) else None
            status = FAILED
            error = f"{where} raised {describe_error(exc.ename, exc.evalue, cell)}"
    except DeadKernelError as exc:
        cells = saved_cells(output_path)
        index = getattr(exc, "cell_index", None)
        if index is None:
            index = running_cell(cells)
        failed_cell = input_index(source_cells, cells, index)
        where = f"in cell {failed_cell}" if failed_cell is not None else "before the first cell"
        if watchdog.fired:
            status, error = KILLED, f"{watchdog.reason()}; the kernel was killed {where}."
        else:
            status = CRASHED
            error = (
                f"The kernel died {where} (os._exit, a segfault, or out of memory). The output "
                "notebook keeps every cell executed before."
            )
    except KeyboardInterrupt:
        status, error = KILLED, "Interrupted (Ctrl-C or SIGTERM) while the notebook was running."
        _finish(store, flusher, run_id, status, error, output_path, stdout_path, stderr_path)
        raise
    except Exception as exc:  # the kernel could not start, the setup failed, papermill broke
        if watchdog.fired:  # stopped while still starting (a loaded machine): the timeout's doing
            status, error = KILLED, f"{watchdog.reason()}; the kernel was stopped while starting."
        else:
            status = CRASHED
            error = f"The run could not execute: {type(exc).__name__}: {exc}\n" + "".join(
                traceback.format_exception(exc)[-3:]
            )
    record = _finish(store, flusher, run_id, status, error, output_path, stdout_path, stderr_path)
    return RunResult(
        run_id=run_id, status=record.status, error=record.error,
        output_path=str(output_path) if output_path.exists() else None, failed_cell=failed_cell,
        duration=record.duration or 0.0, parameters=dict(plan.parameters),
        kernel=plan.kernel_name,
    )  # fmt: skip


def _finish(store, flusher, run_id, status, error, output, stdout, stderr):
    """Store the outputs, write the last metrics, then end the run; return its stored record.

    The record, not this process's clock, gives the result its status (a run ended first
    elsewhere, e.g. by a lost Dask worker, keeps that ending) and its duration (from the run's
    creation, which includes waiting for a kernel, to its end: what ``mlops runs show`` says).
    """
    try:
        _store_outputs(store, run_id, output, stdout, stderr)
    finally:
        flusher.remove_run(run_id)
        try:
            flusher.flush(wait_environment=5.0)
        finally:
            store.runs.finish(run_id, status, error)
    return store.runs.get(run_id)


def _store_outputs(store: Store, run_id: str, output: Path, stdout: Path, stderr: Path) -> None:
    """Store the executed notebook and the non-empty logs as artifacts of the run."""
    for path, name, media in (
        (output, OUTPUT_ARTIFACT, "application/x-ipynb+json"),
        (stdout, STDOUT_ARTIFACT, "text/plain"),
        (stderr, STDERR_ARTIFACT, "text/plain"),
    ):
        if path.is_file() and (path.stat().st_size or name == OUTPUT_ARTIFACT):
            ref = store.blobs.put_file(path)
            store.artifacts.add(run_id, name, ref, media)


def run_one(
    path: str | os.PathLike[str], options: RunOptions, *, store: Store | None = None
) -> RunResult:
    """Check, launch and execute one run (the body of :func:`kernel_magics.run_notebook`).

    Parameters
    ----------
    path : path-like
        The notebook.
    options : RunOptions
        Parameters and options of the run (``workers`` is ignored: one run).
    store : Store, optional
        Where to record the run; the resolved default store when omitted.
    """
    from ..store import open_store

    location = store.location if store is not None else None
    plan = prepare_plan(path, options, location=location)
    if options.executor != "local":
        from .executors import executor_for

        with executor_for(options.executor, workers=1) as ex:
            return ex.run_plans([plan], store=store, progress=options.progress)[0]
    pool = KernelPool(plan.kernel_name, plan.kernel_env(), plan.cwd, size=1, total=1).start()
    try:
        store = store or open_store(plan.location)
        record_version(store, plan)
        run_id = launch(store, plan)
        try:
            km = pool.acquire()
        except Exception as exc:
            return kernel_failed(store, plan, run_id, exc)
        interrupted = False
        try:
            return execute_plan(plan, run_id, store, km, progress=options.progress)
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the user asked for the kernel to stop
            interrupted = True
            raise
        finally:
            # Killed at once when interrupted: a graceful shutdown of a kernel still in its cell
            # races ipykernel's own teardown, which printed a traceback on the user's terminal.
            pool.release(km, now=interrupted)
    finally:
        pool.close(wait=False)  # stops finish in the background (joined at exit)


def kernel_failed(store: Store, plan: RunPlan, run_id: str, exc: BaseException) -> RunResult:
    """End a launched run whose kernel could not start ``crashed``, saying why."""
    error = f"The kernel {plan.kernel_name!r} could not start: {exc}"
    store.runs.finish(run_id, CRASHED, error)
    return RunResult(run_id, CRASHED, error, parameters=dict(plan.parameters),
                     kernel=plan.kernel_name)  # fmt: skip
