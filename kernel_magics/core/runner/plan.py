"""The plan of a run: everything checked before a kernel starts, then the run's creation.

:func:`prepare_plan` checks the notebook, the parameters, the kernel and the options and builds a
picklable :class:`RunPlan` (sent to Dask workers as is); :func:`record_version` stores the exact
bytes to execute as a notebook version; :func:`launch` creates the run in the process that owns
its final status.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import ValidationError
from ..config import StoreLocation
from ..names import SOURCE_PAPERMILL, Tag
from .kernels import NATIVE_KERNEL, resolve_kernel
from .options import RunOptions
from .parameters import load_notebook, parse_notebook_bytes, parse_parameters, validate_parameters

if TYPE_CHECKING:
    from ..store import Store


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
    requested_kernel : str
        The kernel the notebook (or ``--kernel``) asked for, before aliases were resolved
        (``python`` is started as ``python3``, as jupyter_client and papermill do).
    cwd : str
        Working directory of the kernel (``--cwd``; the notebook's folder by default).
    cell_runs : bool
        Each ``%%mlops track`` cell makes its own child run of the run (a rerun of a cell run
        compares with one of them) instead of logging into the run.
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
    source: str = SOURCE_PAPERMILL
    tags: dict[str, Any] = field(default_factory=dict)
    parent_run_id: str | None = None
    version_id: int | None = None
    defaults: dict[str, Any] = field(default_factory=dict)
    requested_kernel: str = ""
    cell_runs: bool = False

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


def prepare_plan(
    path: str | os.PathLike[str],
    options: RunOptions,
    *,
    notebook: bytes | None = None,
    location: StoreLocation | None = None,
) -> RunPlan:
    """Check a run request and build its plan; nothing is started or written.

    Parameters
    ----------
    path : path-like
        The notebook file (or, with ``notebook``, the path the content belongs to).
    options : RunOptions
        The parameters (as objects and as text) and every option of the run.
    notebook : bytes, optional
        Execute this content instead of reading ``path`` (reruns of a stored version).
    location : StoreLocation, optional
        The store the run is recorded in; the resolved default when omitted.

    Raises
    ------
    ValidationError
        For a missing or broken notebook, unknown or ill-typed parameters, a kernel that is not
        installed, or a bad option.
    """
    from ..config import resolve_location

    if notebook is None:
        notebook, nb = load_notebook(path)
    else:
        nb = parse_notebook_bytes(notebook, os.path.basename(os.fspath(path)))
    abs_path = os.path.realpath(os.fspath(path))
    origin = os.path.basename(abs_path)
    spec = nb.get("metadata", {}).get("kernelspec", {}) or {}
    requested = options.kernel or spec.get("name") or NATIVE_KERNEL
    kernel_name, language = resolve_kernel(requested)
    if language == "python":
        specs = parse_parameters(nb, origin)
        values = validate_parameters(specs, options.parameters, origin)
        values.update(validate_parameters(specs, options.text_parameters, origin, from_text=True))
    else:  # another language's parameters cell: papermill's translator injects them as given
        specs, values = {}, {**options.parameters, **options.text_parameters}
    location = location or resolve_location()
    out = options.output_dir or default_output_dir(location)
    _check_output_dir(out)
    cwd = options.cwd or os.path.dirname(abs_path)
    if not os.path.isdir(cwd):
        cwd = os.getcwd()  # the stored version's folder is gone: run where we are
    return RunPlan(
        notebook_path=abs_path, notebook=notebook, parameters=values, kernel_name=kernel_name,
        language=language, location=location, output_dir=out, cwd=cwd, timeout=options.timeout,
        experiment=options.experiment, name=options.name, source=options.source,
        tags=dict(options.tags), parent_run_id=options.parent_run_id,
        defaults={k: s.default for k, s in specs.items() if s.literal},
        requested_kernel=requested,
    )  # fmt: skip


def _check_output_dir(out: str) -> None:
    """Fail early when executed notebooks could not be written to ``out``."""
    if os.path.exists(out) and not os.path.isdir(out):
        raise ValidationError(f"--output {out!r} is a file; give a folder for executed notebooks.")
    existing = out
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValidationError(
            f"Cannot write executed notebooks to {out!r} ({existing!r} is not writable); pass "
            "--output with a folder you can write to."
        )


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
        params=plan.effective_parameters, tags={**plan.tags, Tag.KERNEL: plan.kernel_name},
    )  # fmt: skip
    if plan.version_id is not None:
        store.runs.set_fields(run_id, notebook_version_id=plan.version_id)
    return run_id
