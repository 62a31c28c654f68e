"""Models of ``/mlops/api/models``: registered models, versions, lineage, aliases, promotion."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, model_validator

from .base import MAX_INT, Request, Response
from .lineage import LineageGraph
from .notebooks import NotebookVersion
from .runs import DatasetUse, RunSummary

#: A tag key or value as a client sends it (``mlops.*`` keys are the system's: refused by core).
TagKey = Annotated[str, Field(min_length=1, max_length=255)]
TagValue = Annotated[str, Field(max_length=5000)]
#: Free text (descriptions, reasons).
Text = Annotated[str, Field(max_length=10000)]


class ListModelsQuery(Request):
    """``GET /mlops/api/models``: which page of models (by name)."""

    limit: int = Field(50, ge=1, description="Page size, at most KernelMagicsApp.max_page_size")
    offset: int = Field(0, ge=0, le=MAX_INT, description="First row of the page")


class ModelSummary(Response):
    """A registered model: one row of the models table."""

    name: str = Field(description="Unique model name")
    description: str | None = Field(description="Free text")
    version_count: int = Field(description="How many versions it has")
    latest_version: int | None = Field(description="Highest version number")
    aliases: dict[str, int] = Field(description="Alias -> version it points at")
    tags: dict[str, str] = Field(description="The model's own tags (each version has its own too)")
    created_at: float = Field(description="UTC epoch seconds")
    updated_at: float = Field(description="Last change (new version, alias move, description)")


class ListModelsResponse(Response):
    """``GET /mlops/api/models``: one page of models, by name."""

    models: list[ModelSummary] = Field(description="The page")
    total: int = Field(description="Models in all")
    limit: int = Field(description="Page size used")
    offset: int = Field(description="First row")


class UpdateModelRequest(Request):
    """``PATCH /mlops/api/models/{name}``: what to change on the model."""

    description: Text | None = Field(None, description="The model's new description ('' clears it)")
    set_tags: dict[TagKey, TagValue] = Field(
        default_factory=dict, description="Model tags to set or overwrite"
    )
    remove_tags: list[TagKey] = Field(default_factory=list, description="Model tag keys to remove")


class SignatureField(Response):
    """One input column (or the output) of a model's signature."""

    name: str = Field(description="Column name; 'input' for a tensor, 'prediction' for outputs")
    type: str = Field(description="double, long, string... or a tensor's dtype and shape")


class ModelSignature(Response):
    """What a model takes and returns (inferred from its input example)."""

    input_type: str = Field(description="columns (named, typed) or tensor (one dtype)")
    inputs: list[SignatureField] = Field(description="Input columns in order")
    outputs: list[SignatureField] = Field(description="Outputs (empty when not recorded)")


class ModelVersionSummary(Response):
    """One version of a model: one row of the versions table."""

    name: str = Field(description="Model name")
    version: int = Field(description="Version number")
    run_id: str | None = Field(description="The run that produced it")
    created_at: float = Field(description="UTC epoch seconds")
    flavor: str = Field(description="Library, e.g. sklearn")
    format: str = Field(description="skops, pickle or cloudpickle")
    description: str | None = Field(description="Free text")
    tags: dict[str, str] = Field(description="Version tags")
    aliases: list[str] = Field(description="Aliases pointing at this version")
    signature: ModelSignature | None = Field(description="Inputs and outputs")
    metrics: dict[str, float] = Field(description="Latest metrics of its run")


class ListModelVersionsQuery(Request):
    """``GET /mlops/api/models/{name}/versions``: which page of versions (newest first)."""

    limit: int = Field(50, ge=1, description="Page size, at most KernelMagicsApp.max_page_size")
    offset: int = Field(0, ge=0, le=MAX_INT, description="First row of the page")


class ListModelVersionsResponse(Response):
    """``GET /mlops/api/models/{name}/versions``: one page of versions, newest first."""

    name: str = Field(description="Model name")
    versions: list[ModelVersionSummary] = Field(description="The page, newest first")
    total: int = Field(description="Versions in all")
    limit: int = Field(description="Page size used")
    offset: int = Field(description="First row")
    metric_keys: list[str] = Field(description="Metric names present on the page")


class ModelLineage(Response):
    """Where a version came from (run -> notebook version -> datasets) and the whole graph."""

    run: RunSummary | None = Field(description="The run that produced it (null if none/deleted)")
    notebook_version: NotebookVersion | None = Field(description="The notebook version it used")
    datasets: list[DatasetUse] = Field(description="Datasets the run read or wrote")
    graph: LineageGraph = Field(
        description="Upstream (datasets, notebook, run) and downstream (aliases, deployments)"
    )


class DescribeModelVersionResponse(ModelVersionSummary):
    """``GET /mlops/api/models/{name}/versions/{version}``: a version with its lineage."""

    blob_hash: str = Field(description="BLAKE3 digest of the stored model")
    lineage: ModelLineage = Field(description="Run, notebook version and datasets")


class UpdateModelVersionRequest(Request):
    """``PATCH /mlops/api/models/{name}/versions/{version}``: description and tags to change."""

    description: Text | None = Field(None, description="New description ('' clears it)")
    set_tags: dict[TagKey, TagValue] = Field(
        default_factory=dict, description="Tags to set or overwrite"
    )
    remove_tags: list[TagKey] = Field(default_factory=list, description="Tag keys to remove")

    @model_validator(mode="after")
    def _something(self) -> UpdateModelVersionRequest:
        if self.description is None and not self.set_tags and not self.remove_tags:
            raise ValueError("give description, set_tags or remove_tags")
        return self


class AliasMove(Response):
    """One move of an alias: from which version to which, when, why and by whom."""

    name: str = Field(description="Model name")
    alias: str = Field(description="Alias, e.g. production")
    from_version: int | None = Field(description="Version before (null: newly set)")
    to_version: int | None = Field(description="Version after (null: deleted)")
    changed_at: float = Field(description="UTC epoch seconds")
    reason: str | None = Field(description="Why: promote conditions, rollback, log_model...")
    actor: str | None = Field(
        None, description="Who: the OS user, or the Jupyter user (null: before the audit trail)"
    )


class ListAliasHistoryQuery(Request):
    """``GET /mlops/api/models/{name}/alias_history``: all aliases, or one."""

    alias: str | None = Field(None, max_length=64, description="Only this alias's moves")


class ListAliasHistoryResponse(Response):
    """``GET /mlops/api/models/{name}/alias_history``: alias moves, newest first."""

    name: str = Field(description="Model name")
    moves: list[AliasMove] = Field(description="Newest first")


class SetAliasRequest(Request):
    """``PUT /mlops/api/models/{name}/aliases/{alias}``: the version to point at."""

    version: int = Field(ge=1, le=MAX_INT, description="Version number")
    reason: Text | None = Field(None, description="Recorded in the alias history")


class PromoteModelRequest(Request):
    """``POST /mlops/api/models/{name}/promote``: the candidate and the gate's conditions."""

    version: int | None = Field(None, ge=1, le=MAX_INT, description="Candidate; latest if absent")
    alias: str = Field("production", max_length=64, description="The alias to move")
    require: list[Annotated[str, Field(max_length=500)]] = Field(
        default_factory=list, max_length=50, description="e.g. metrics.accuracy >= 0.9"
    )
    better_than: str | None = Field(
        None, max_length=64, description="An alias the candidate must beat on metric"
    )
    metric: str | None = Field(None, max_length=255, description="The metric for better_than")
    maximize: bool = Field(True, description="Higher is better (false for a loss)")
    min_delta: float = Field(0.0, ge=0, description="Win by at least this much")
    dry_run: bool = Field(False, description="Evaluate only; move nothing")


class GateCheck(Response):
    """One condition of the promotion gate and its outcome."""

    condition: str = Field(description="The condition as written")
    candidate: Any = Field(description="The candidate's value (null when missing)")
    reference: Any = Field(description="The threshold or the other version's value")
    passed: bool = Field(description="Whether it holds")
    detail: str = Field(description="Why, in words")


class PromoteModelResponse(Response):
    """``POST /mlops/api/models/{name}/promote``: the pass/fail table (200 passed, 409 failed)."""

    name: str = Field(description="Model name")
    candidate_version: int = Field(description="The version evaluated")
    alias: str = Field(description="The alias to move")
    passed: bool = Field(description="Every check passed")
    dry_run: bool = Field(description="Nothing was moved on purpose")
    checks: list[GateCheck] = Field(description="One row per condition")
    move: AliasMove | None = Field(description="The alias move made (null: none)")
