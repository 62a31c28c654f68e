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
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import ValidationError
from ..config import StoreLocation
from ..store.schema import CRASHED, FAILED, FINISHED, KILLED, RUN_SOURCES
from . import RunResult
from .kernels import KernelPool, check_kernel, interrupt_kernel, shutdown_kernel
from .parameters import load_notebook, parse_notebook_bytes, parse_parameters, validate_parameters

if TYPE_CHECKING:
    from ..store import Store

OUTPUT_ARTIFACT = "output.ipynb"
STDOUT_ARTIFACT = "logs/stdout.log"
STDERR_ARTIFACT = "logs/stderr.log"
#: Seconds between an interrupt on timeout and killing a kernel that ignores it.
INTERRUPT_GRACE_S = 5.0


@dataclass
class RunPlan:
    """Everything needed to execute one run, checked and picklable (sent to Dask workers).

    Attributes
    ----------
    notebook_path : str
        The notebook's absolute path (the stored version's path for a rerun).
    notebook : bytes
        The exact content to execute.
    parameters : dict
        Converted parameter values given for this run (injected by papermill).
    defaults : dict
        The literal defaults of the parameters cell; the run records ``defaults | parameters``.
    kernel_name, language : str
        The kernel to start and its language (for papermill's parameter injection).
    location : StoreLocation
        The store the run and the kernel write to.
    """

    notebook_path: str
    notebook: bytes
    parameters: dict[str, Any]
    kernel_name: str
    language: str
    location: StoreLocation
    output_dir: str
    cwd: str
    timeout: float | None = None
    experiment: str | None = None
    name: str | None = None
    source: str = "papermill"
    tags: dict[str, Any] = field(default_factory=dict)
    parent_run_id: str | None = None
    version_id: int | None = None
    defaults: dict[str, Any] = field(default_factory=dict)

    @property
    def effective_parameters(self) -> dict[str, Any]:
        """The values the notebook runs with: its defaults overridden by the given ones."""
        return {**self.defaults, **self.parameters}

    @property
    def stem(self) -> str:
        """The notebook's file name without ``.ipynb``."""
        name = os.path.basename(self.notebook_path)
        return name[: -len(".ipynb")] if name.endswith(".ipynb") else name

    def kernel_env(self) -> dict[str, str]:
        """Environment of the kernel: the store location, so the notebook logs to it."""
        env = {
            "MLOPS_STORE_URI": self.location.store_uri,
            "MLOPS_ARTIFACTS_URI": self.location.artifacts_uri,
        }
        if self.location.home is not None:
            env["MLOPS_HOME"] = str(self.location.home)
        return env


def default_output_dir(location: StoreLocation) -> str:
    """``<MLOPS_HOME>/outputs``, or ``./mlops-outputs`` for a store without a home folder."""
    if location.home is not None:
        return str(location.home / "outputs")
    return str(Path.cwd() / "mlops-outputs")


def check_options(timeout: float | None, source: str) -> None:
    """Validate run options shared by runs, sweeps and reruns.

    Raises
    ------
    ValidationError
        When the timeout is not a positive number or the source is unknown.
    """
    if timeout is not None and (isinstance(timeout, bool) or not timeout > 0):
        raise ValidationError(f"--timeout must be a positive number of seconds, got {timeout!r}.")
    if source not in RUN_SOURCES:
        raise ValidationError(f"Unknown run source {source!r}; one of {', '.join(RUN_SOURCES)}.")


def prepare_plan(
    path: str | os.PathLike[str],
    parameters: Mapping[str, Any] | None = None,
    *,
    text_parameters: Mapping[str, str] | None = None,
    notebook: bytes | None = None,
    experiment: str | None = None,
    name: str | None = None,
    timeout: float | None = None,
    kernel: str | None = None,
    output_dir: str | os.PathLike[str] | None = None,
    source: str = "papermill",
    tags: Mapping[str, Any] | None = None,
    parent_run_id: str | None = None,
    location: StoreLocation | None = None,
) -> RunPlan:
    """Check a run request and build its plan; nothing is started or written.

    Parameters
    ----------
    path : path-like
        The notebook file (or, with ``notebook``, the path the content belongs to).
    parameters : mapping, optional
        Parameter values as Python objects (strings convert for non-string parameters).
    text_parameters : mapping, optional
        Values written as text (``-p name=value``); they override ``parameters``.
    notebook : bytes, optional
        Execute this content instead of reading ``path`` (reruns of a stored version).

    Raises
    ------
    ValidationError
        For a missing or broken notebook, unknown or ill-typed parameters, a kernel that is not
        installed, or a bad option.
    """
    from ..config import resolve_location

    check_options(timeout, source)
    if notebook is None:
        notebook, nb = load_notebook(path)
    else:
        nb = parse_notebook_bytes(notebook, os.path.basename(os.fspath(path)))
    abs_path = os.path.realpath(os.fspath(path))
    origin = os.path.basename(abs_path)
    specs = parse_parameters(nb, origin)
    values = validate_parameters(specs, parameters or {}, origin)
    values.update(validate_parameters(specs, text_parameters or {}, origin, from_text=True))
    spec = nb.get("metadata", {}).get("kernelspec", {}) or {}
    kernel_name = kernel or spec.get("name") or "python3"
    check_kernel(kernel_name)
    language = (
        spec.get("language")
        or nb.get("metadata", {}).get("language_info", {}).get("name")
        or "python"
    )
    location = location or resolve_location()
    out = os.path.abspath(os.fspath(output_dir)) if output_dir else default_output_dir(location)
    if os.path.exists(out) and not os.path.isdir(out):
        raise ValidationError(f"--output {out!r} is a file; give a folder for executed notebooks.")
    cwd = os.path.dirname(abs_path)
    if not os.path.isdir(cwd):
        cwd = os.getcwd()  # the stored version's folder is gone: run where we are
    return RunPlan(
        notebook_path=abs_path, notebook=notebook, parameters=values, kernel_name=kernel_name,
        language=language, location=location, output_dir=out, cwd=cwd, timeout=timeout,
        experiment=experiment, name=name, source=source, tags=dict(tags or {}),
        parent_run_id=parent_run_id,
        defaults={k: s.default for k, s in specs.items() if s.literal},
    )  # fmt: skip


def record_version(store: Store, plan: RunPlan) -> None:
    """Store the plan's notebook as a version and make the plan execute exactly that content."""
    if plan.version_id is not None:
        return
    from ..notebooks import get_notebook_version, record_notebook_version
    from ..store.blobs import hash_bytes

    if os.path.isfile(plan.notebook_path):
        version_id = record_notebook_version(store, plan.notebook_path)
        stored = get_notebook_version(store, version_id)
        if stored.blob_hash != hash_bytes(plan.notebook):
            # The file changed since it was checked: execute what was recorded, after checking it
            data = store.blobs.get_bytes(stored.blob_hash)
            parse_notebook_bytes(data, os.path.basename(plan.notebook_path))
            plan.notebook = data
        plan.version_id = version_id


def launch(store: Store, plan: RunPlan) -> str:
    """Create the plan's run (``running``) with its parameters, tags and notebook version."""
    experiment_id = store.experiments.get_or_create(plan.experiment)
    run_id = store.runs.create(
        experiment_id, name=plan.name or plan.stem, source=plan.source,
        parent_run_id=plan.parent_run_id, notebook_path=plan.notebook_path,
        params=plan.effective_parameters, tags={**plan.tags, "mlops.kernel": plan.kernel_name},
    )  # fmt: skip
    if plan.version_id is not None:
        store.runs.set_fields(run_id, notebook_version_id=plan.version_id)
    return run_id


class _Watchdog:
    """Interrupt, then kill, a kernel that runs past the timeout or whose run is cancelled."""

    def __init__(self, km: Any, timeout: float | None, cancel: threading.Event | None = None):
        self.km = km
        self.timeout = timeout
        self.cancel = cancel
        self.fired = False
        self.cancelled = False
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> _Watchdog:
        if self.timeout or self.cancel is not None:
            self._thread = threading.Thread(target=self._watch, name="mlops-timeout", daemon=True)
            self._thread.start()
        return self

    def _watch(self) -> None:
        deadline = time.monotonic() + self.timeout if self.timeout else None
        while True:
            step = 0.2 if self.cancel is not None else None
            if deadline is not None:
                left = deadline - time.monotonic()
                step = left if step is None else min(step, left)
            if self._done.wait(max(step, 0) if step is not None else None):
                return
            if self.cancel is not None and self.cancel.is_set():
                self.cancelled = True
                break
            if deadline is not None and time.monotonic() >= deadline:
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
            return "Cancelled (Ctrl-C on the sweep)"
        return f"Timed out after {self.timeout:g} s (--timeout)"


def _running_cell(output_path: Path) -> int | None:
    """Index of the cell papermill marked ``running`` in a saved output notebook."""
    import json

    try:
        nb = json.loads(output_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("metadata", {}).get("papermill", {}).get("status") == "running":
            return index
    return None


def _input_index(nb_cells: list[Any], index: int | None) -> int | None:
    """Map a cell index of the parameterized notebook back to the input notebook."""
    if index is None:
        return None
    shift = sum(
        1
        for cell in nb_cells[:index]
        if "injected-parameters" in (cell.get("metadata", {}).get("tags") or [])
    )
    return index - shift


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
    interrupts the notebook and ends the run ``killed``.
    """
    import nbformat
    import papermill
    from nbclient.exceptions import DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    from ..flusher import flusher_for
    from .engine import ENGINE_NAME, TEARDOWN_CODE, setup_code

    started = time.time()
    flusher = flusher_for(store)
    flusher.add_run(run_id, environment=True)
    out_dir = Path(plan.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    base = out_dir / f"{plan.stem}-{run_id[:8]}"
    output_path = base.with_suffix(".ipynb")
    stdout_path, stderr_path = Path(f"{base}.stdout.log"), Path(f"{base}.stderr.log")
    status, error, failed_cell = FINISHED, None, None
    nb = nbformat.from_dict(parse_notebook_bytes(plan.notebook, plan.stem))
    executed = None
    watchdog = _Watchdog(km, plan.timeout, cancel)
    try:
        with (
            open(stdout_path, "w", encoding="utf-8") as out,
            open(stderr_path, "w", encoding="utf-8") as err,
            watchdog,
        ):
            executed = papermill.execute_notebook(
                nb, str(output_path), parameters=plan.parameters or None,
                engine_name=ENGINE_NAME, kernel_name=plan.kernel_name, language=plan.language,
                progress_bar=progress, stdout_file=out, stderr_file=err, km=km,
                setup_code=setup_code({"MLOPS_RUN_ID": run_id}), teardown_code=TEARDOWN_CODE,
                input_label=plan.notebook_path, autosave_cell_every=10,
            )  # fmt: skip
    except PapermillExecutionError as exc:
        cells = _saved_cells(output_path)
        failed_cell = _input_index(cells, exc.cell_index)
        where = f"cell {failed_cell} (In [{exc.exec_count}])"
        if watchdog.fired:
            status, error = KILLED, f"{watchdog.reason()}; interrupted in {where}."
        else:
            status = FAILED
            error = f"{where} raised {exc.ename}: {exc.evalue}"
    except DeadKernelError as exc:
        cells = _saved_cells(output_path)
        index = getattr(exc, "cell_index", None)
        if index is None:
            index = _running_cell(output_path)
        failed_cell = _input_index(cells, index)
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
        status, error = KILLED, "Interrupted (Ctrl-C) while the notebook was running."
        _finish(store, flusher, run_id, status, error, output_path, stdout_path, stderr_path)
        raise
    except Exception as exc:  # the kernel could not start, the setup failed, papermill broke
        status = CRASHED
        error = f"The run could not execute: {type(exc).__name__}: {exc}\n" + "".join(
            traceback.format_exception(exc)[-3:]
        )
    del executed
    status, error = _finish(
        store, flusher, run_id, status, error, output_path, stdout_path, stderr_path
    )
    return RunResult(
        run_id=run_id, status=status, error=error,
        output_path=str(output_path) if output_path.exists() else None, failed_cell=failed_cell,
        duration=time.time() - started, parameters=dict(plan.parameters),
    )  # fmt: skip


def _finish(store, flusher, run_id, status, error, output, stdout, stderr) -> tuple[str, Any]:
    """Store the outputs, write the last metrics, then end the run; return the final status."""
    try:
        _store_outputs(store, run_id, output, stdout, stderr)
    finally:
        flusher.remove_run(run_id)
        try:
            flusher.flush(wait_environment=5.0)
        finally:
            if not store.runs.finish(run_id, status, error):
                record = store.runs.get(run_id)  # ended first elsewhere (a lost Dask worker)
                status, error = record.status, record.error
    return status, error


def _saved_cells(output_path: Path) -> list[Any]:
    import json

    try:
        return json.loads(output_path.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError):
        return []


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
    path: str | os.PathLike[str],
    parameters: Mapping[str, Any] | None = None,
    *,
    text_parameters: Mapping[str, str] | None = None,
    executor: str | None = None,
    store: Store | None = None,
    progress: bool = False,
    **options: Any,
) -> RunResult:
    """Check, launch and execute one run (the body of :func:`kernel_magics.run_notebook`)."""
    from ..store import open_store

    location = store.location if store is not None else None
    plan = prepare_plan(
        path, parameters, text_parameters=text_parameters, location=location, **options
    )
    if executor and executor != "local":
        from .executors import executor_for

        with executor_for(executor, workers=1) as ex:
            return ex.run_plans([plan], store=store, progress=progress)[0]
    pool = KernelPool(plan.kernel_name, plan.kernel_env(), plan.cwd, size=1, total=1).start()
    try:
        store = store or open_store(plan.location)
        record_version(store, plan)
        run_id = launch(store, plan)
        try:
            km = pool.acquire()
        except Exception as exc:
            store.runs.finish(run_id, CRASHED, f"The kernel could not start: {exc}")
            return RunResult(run_id, CRASHED, f"The kernel could not start: {exc}",
                             parameters=dict(plan.parameters))  # fmt: skip
        try:
            return execute_plan(plan, run_id, store, km, progress=progress)
        finally:
            pool.release(km)
    finally:
        pool.close(wait=False)  # stops finish in the background (joined at exit)
