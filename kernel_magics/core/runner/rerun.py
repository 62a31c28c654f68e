"""Reruns: execute a past run's exact notebook version with its parameters, then compare.

The new run is tagged ``mlops.rerun_of=<original id>`` and the report lists every difference:
status, metrics (equal within a relative tolerance), parameters, dataset content hashes (naming
each dataset whose content changed), Python and package versions, and the notebook version. A
rerun with no difference certifies the original, e.g. an interactive run whose cells executed
out of order.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ...errors import ValidationError
from . import RunResult
from .execute import prepare_plan
from .parameters import parse_notebook_bytes, parse_parameters

if TYPE_CHECKING:
    from ..store import Store
    from ..store.records import RunRecord

RERUN_TAG = "mlops.rerun_of"
#: Set on the original run when a rerun reproduced it exactly.
REPRODUCED_TAG = "mlops.reproduced_by"


@dataclass
class Difference:
    """One way the rerun differs from the original.

    Attributes
    ----------
    kind : str
        ``status``, ``metric``, ``param``, ``dataset``, ``python``, ``package`` or ``notebook``.
    name : str
        What differs (metric, parameter, dataset or package name).
    original, rerun : Any
        The two values (None when absent on that side).
    note : str
        One sentence for people.
    """

    kind: str
    name: str
    original: Any
    rerun: Any
    note: str


@dataclass
class RerunReport:
    """A rerun's result and how it differs from the original run."""

    original_run_id: str
    result: RunResult
    differences: list[Difference] = field(default_factory=list)
    tolerance: float = 1e-9

    @property
    def identical(self) -> bool:
        """Whether the rerun reproduced the original exactly (within the tolerance)."""
        return not self.differences

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary."""
        data = asdict(self)
        data["identical"] = self.identical
        return data


def rerun_run(
    run_id: str,
    *,
    tolerance: float = 1e-9,
    timeout: float | None = None,
    kernel: str | None = None,
    output_dir: str | os.PathLike[str] | None = None,
    progress: bool = False,
    store: Store | None = None,
) -> RerunReport:
    """Re-execute a run and compare (the body of :func:`kernel_magics.rerun`)."""
    from ..notebooks import get_notebook_version
    from ..store import open_store
    from .executors import LocalExecutor

    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or tolerance < 0:
        raise ValidationError(f"--tolerance must be a number >= 0, got {tolerance!r}.")
    store = store or open_store()
    original = store.runs.get(run_id)
    if original.notebook_version_id is None:
        raise ValidationError(
            f"Run {original.id[:8]} has no stored notebook version, so there is nothing to "
            "re-execute. Runs of `mlops run`, sweeps, schedules and %%mlops track cells store one."
        )
    version = get_notebook_version(store, original.notebook_version_id)
    content = store.blobs.get_bytes(version.blob_hash)
    nb = parse_notebook_bytes(content, os.path.basename(version.path))
    specs = parse_parameters(nb, os.path.basename(version.path))
    # Parameters logged from inside the notebook are not notebook parameters: it logs them again.
    text = {k: v for k, v in original.params.items() if k in specs}
    tags = {RERUN_TAG: original.id}
    plan = prepare_plan(
        original.notebook_path or version.path, text_parameters=text, notebook=content,
        experiment=original.experiment, name=f"rerun of {original.name or original.id[:8]}",
        timeout=timeout, kernel=kernel or original.tags.get("mlops.kernel"),
        output_dir=output_dir, tags=tags, location=store.location,
    )  # fmt: skip
    plan.version_id = version.id
    with LocalExecutor(1) as executor:
        result = executor.run_plans([plan], store=store, progress=progress)[0]
    rerun = store.runs.get(result.run_id)
    differences = compare(store, original, rerun, tolerance)
    store.runs.set_tags(
        rerun.id, {"mlops.rerun.differences": len(differences),
                   "mlops.rerun.identical": "true" if not differences else "false"},
    )  # fmt: skip
    if not differences:
        # The certificate an interactive run (e.g. one marked ``unordered``) can show.
        store.runs.set_tags(original.id, {REPRODUCED_TAG: rerun.id})
    return RerunReport(original.id, result, differences, tolerance)


def _close(a: float, b: float, tolerance: float) -> bool:
    return math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance)


def compare(store: Store, a: RunRecord, b: RunRecord, tolerance: float) -> list[Difference]:
    """Every difference between an original run ``a`` and its rerun ``b``."""
    diffs: list[Difference] = []
    if a.status != b.status:
        note = f"The original ended {a.status}, the rerun {b.status}"
        diffs.append(Difference("status", "status", a.status, b.status,
                                note + (f": {b.error}" if b.error else ".")))  # fmt: skip
    # causes first (code, data, environment), then what they changed
    if a.notebook_version_id != b.notebook_version_id:
        note = "The notebook versions differ."
        diffs.append(Difference("notebook", "version", a.notebook_version_id,
                                b.notebook_version_id, note))  # fmt: skip
    diffs += _dataset_differences(a, b)
    diffs += _environment_differences(store, a, b)
    for key in sorted(set(a.metrics) | set(b.metrics)):
        va, vb = a.metrics.get(key), b.metrics.get(key)
        if va is None or vb is None:
            side = "the rerun" if va is None else "the original"
            diffs.append(Difference("metric", key, va, vb, f"Metric {key} only in {side}."))
        elif not _close(va, vb, tolerance):
            diffs.append(Difference("metric", key, va, vb,
                                    f"Metric {key} changed from {va:g} to {vb:g}."))  # fmt: skip
    for key in sorted(set(a.params) | set(b.params)):
        if a.params.get(key) != b.params.get(key):
            diffs.append(Difference("param", key, a.params.get(key), b.params.get(key),
                                    f"Parameter {key} differs."))  # fmt: skip
    return diffs


def _dataset_differences(a: RunRecord, b: RunRecord) -> list[Difference]:
    diffs = []
    by_name_a = {(d["name"], d["role"]): d for d in a.datasets}
    by_name_b = {(d["name"], d["role"]): d for d in b.datasets}
    for key in sorted(set(by_name_a) | set(by_name_b)):
        da, db = by_name_a.get(key), by_name_b.get(key)
        name = key[0]
        if da is None or db is None:
            side = "the rerun" if da is None else "the original"
            diffs.append(Difference("dataset", name, da and da["hash"], db and db["hash"],
                                    f"Dataset {name!r} was only read by {side}."))  # fmt: skip
        elif da["hash"] != db["hash"]:
            rows = ""
            if da.get("rows") != db.get("rows"):
                rows = f" ({da.get('rows')} -> {db.get('rows')} rows)"
            diffs.append(Difference(
                "dataset", name, da["hash"], db["hash"],
                f"Dataset {name!r} changed content: {da['hash'][:10]} -> {db['hash'][:10]}{rows}.",
            ))  # fmt: skip
    return diffs


def _environment_differences(store: Store, a: RunRecord, b: RunRecord) -> list[Difference]:
    from ..compare import read_environment

    env_a = read_environment(store, a.environment_hash)
    env_b = read_environment(store, b.environment_hash)
    if env_a is None or env_b is None or a.environment_hash == b.environment_hash:
        return []
    diffs = []
    if env_a.get("python") != env_b.get("python"):
        diffs.append(Difference("python", "python", env_a.get("python"), env_b.get("python"),
                                "The Python versions differ."))  # fmt: skip
    pa, pb = env_a.get("packages") or {}, env_b.get("packages") or {}
    for name in sorted(set(pa) | set(pb)):
        if pa.get(name) != pb.get(name):
            note = f"{name} {pa.get(name) or '(absent)'} -> {pb.get(name) or '(absent)'}"
            diffs.append(Difference("package", name, pa.get(name), pb.get(name), note))
    return diffs
