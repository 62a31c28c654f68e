"""Registered models as tables: the model list, a model's versions, alias history, one version.

Each function takes the records :mod:`kernel_magics.core.registry` returns; ``mlops models`` and
``%mlops models`` render the same tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .formatting import short_id, when
from .table import Column, Page, Table, table

if TYPE_CHECKING:
    from ..promotion import GateResult
    from ..registry.records import AliasMove, ModelRecord, ModelVersionRecord

#: What to do when the registry is empty.
NO_MODELS = "No models yet: mlops.log_model(model, 'name', input_example=X) registers one."


def aliases_text(aliases: dict[str, int]) -> str:
    """``production=v1, staging=v2``."""
    return ", ".join(f"{a}=v{v}" for a, v in aliases.items())


def models_table(models: list[ModelRecord]) -> Table:
    """Every registered model with its version count, latest version and aliases."""
    return table(
        [Column("Model", priority=100), "Versions", "Latest", Column("Aliases", priority=80),
         Column("Updated", "time", 40)],
        [[m.name, m.version_count, m.latest_version, aliases_text(m.aliases), when(m.updated_at)]
         for m in models],
        "Models", "" if models else NO_MODELS,
    )  # fmt: skip


def versions_table(name: str, versions: list[ModelVersionRecord]) -> Table:
    """A model's versions, newest first."""
    return table(
        [Column("Version", priority=100), Column("Aliases", priority=90), "Flavor", "Format",
         Column("Run", "id", 70), Column("Created", "time", 60),
         Column("Description", priority=30)],
        [[v.version, ", ".join(v.aliases), v.flavor, v.format, short_id(v.run_id),
          when(v.created_at), v.description] for v in versions],
        f"{name}: versions",
    )  # fmt: skip


def alias_history_table(name: str, moves: list[AliasMove]) -> Table:
    """Every alias move of a model, newest first (a deleted alias goes ``To (deleted)``)."""
    return table(
        [Column("When", "time", 90), Column("Alias", priority=100), "From", "To",
         Column("Who", priority=60), Column("Reason", priority=40)],
        [[when(m.changed_at), m.alias, m.from_version, m.to_version or "(deleted)", m.actor,
          m.reason] for m in moves],
        f"Alias history of {name}",
    )  # fmt: skip


def signature_table(signature: dict[str, Any] | None) -> Table:
    """The input columns (or the tensor shape) a version's signature expects."""
    rows: list[list[Any]] = []
    inputs = signature["inputs"] if signature else None
    if inputs and inputs["type"] == "tensor":
        rows = [[f"tensor[{inputs['width']}]", inputs["dtype"]]]
    elif inputs:
        rows = [[c["name"], c["type"]] for c in inputs["columns"]]
    return table([Column("Column", priority=100), "Type"], rows, "Signature (inputs)")


def profile_table(profile: dict[str, Any]) -> Table:
    """The training-data profile: per feature its kind, missing count, mean and quantiles."""
    rows = []
    for name, feat in profile["features"].items():
        if feat["kind"] == "numeric":
            q = feat.get("quantiles", {})
            rows.append([name, "numeric", feat["missing"], feat.get("mean"), q.get("0.05"),
                         q.get("0.5"), q.get("0.95")])  # fmt: skip
        else:
            rows.append([name, "categorical", feat["missing"], f"{feat['unique']} values"])
            rows[-1] += [None, None, None]
    return table(
        [Column("Feature", priority=100), "Kind", "Missing", "Mean", "p5", "p50", "p95"],
        rows, f"Training profile ({profile['rows']} rows)",
    )  # fmt: skip


def version_view(
    version: ModelVersionRecord, lineage: dict[str, Any], profile: bool = False
) -> Page:
    """One model version: aliases, format, signature, tags, the run that made it, its data."""
    run = lineage["run"]
    notebook = lineage["notebook"]
    fields = [
        ("Aliases", ", ".join(version.aliases) or "-"), ("Flavor", version.flavor),
        ("Format", version.format), ("Created", when(version.created_at)),
        ("Blob", version.blob_hash[:16]), ("Description", version.description or ""),
    ]  # fmt: skip
    if run:
        made_by = (
            f"{short_id(run['id'])} ({run['experiment']}/{run['name'] or ''}, {run['status']})"
        )
        fields.append(("Run", f"{made_by} notebook: {run['notebook_path'] or '-'}"))
    if notebook:
        fields.append(("Notebook version", f"{notebook.get('id')} of {notebook.get('path')}"))
    tables = [signature_table(version.signature),
              table([Column("Key", priority=90), "Value"], sorted(version.tags.items()), "Tags"),
              table([Column("Metric", priority=90), "Value"],
                    sorted((run or {}).get("metrics", {}).items()), "Run metrics"),
              table(["Dataset", "Role", Column("Hash", "id"), "Rows"],
                    [(d["name"], d["role"], d["hash"][:12], d["rows"])
                     for d in lineage["datasets"]], "Datasets")]  # fmt: skip
    if profile and version.profile:
        tables.append(profile_table(version.profile))
    return Page(
        title=version.ref,
        fields=[(k, v) for k, v in fields if v],
        tables=[t for t in tables if t.rows],
    )


def gate_table(result: GateResult) -> Table:
    """The promotion gate's checks: each condition with both values and pass / FAIL."""
    return table(
        [Column("Condition", priority=100), "Candidate", "Reference",
         Column("Result", "status", 90), Column("Detail", priority=40)],
        [[c.condition, c.candidate, c.reference, "pass" if c.passed else "FAIL", c.detail]
         for c in result.checks],
        f"Promotion gate: {result.model}/{result.candidate_version} -> {result.alias}",
    )  # fmt: skip
