"""Models of ``/mlops/api/runs``: run lists, run detail, metric series and artifacts."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from kernel_magics.core.names import RUN_SOURCES, RUN_STATUSES

from .base import MAX_INT, Request, Response
from .notebooks import NotebookVersion

#: The statuses and sources of ``core.names``, as types (``api.ts`` mirrors them; a test checks).
RunStatus = Literal[RUN_STATUSES]  # type: ignore[valid-type]
RunSource = Literal[RUN_SOURCES]  # type: ignore[valid-type]


class ListRunsQuery(Request):
    """``GET /mlops/api/runs``: which runs, in which order, which page."""

    experiment: str | None = Field(
        None, max_length=255, description="Only this experiment's runs (404 if unknown)"
    )
    notebook: str | None = Field(
        None, max_length=4096, description="Only this notebook's runs (Jupyter path)"
    )
    parent: str | None = Field(
        None,
        max_length=64,
        description="Only this run's child runs: a sweep's trials, an automation's steps",
    )
    filter: str | None = Field(
        None, max_length=4000, description="Filter, e.g. metrics.acc > 0.9 and params.C = '0.1'"
    )
    order_by: list[str] = Field(
        default_factory=list, description="Sort keys, comma-separated: metrics.acc DESC,start_time"
    )
    limit: int = Field(50, ge=1, description="Page size, at most KernelMagicsApp.max_page_size")
    offset: int = Field(0, ge=0, le=MAX_INT, description="First row of the page")

    @field_validator("order_by", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value


class RunSummary(Response):
    """One row of the runs table."""

    id: str = Field(description="32 hex characters")
    name: str | None = Field(description="Optional run name")
    experiment: str = Field(description="Experiment name")
    status: RunStatus = Field(description="Lifecycle status; a dead run shows as crashed")
    source: RunSource = Field(description="What made the run")
    start_time: float = Field(description="UTC epoch seconds")
    end_time: float | None = Field(description="UTC epoch seconds, null while running")
    duration: float | None = Field(description="Seconds, null while running")
    notebook_path: str | None = Field(description="Absolute path of the notebook that made it")
    notebook_version_id: int | None = Field(description="The notebook version the run used")
    parent_run_id: str | None = Field(description="Parent run of a sweep")
    user: str | None = Field(None, description="Who ran it")
    params: dict[str, str] = Field(description="Parameters (strings)")
    metrics: dict[str, float] = Field(description="Latest value of each metric")
    tags: dict[str, str] = Field(description="Tags")


class ListRunsResponse(Response):
    """One page of runs plus what a table needs to lay it out."""

    runs: list[RunSummary] = Field(description="The page")
    total: int = Field(description="Rows that matched in all")
    limit: int = Field(description="Page size used")
    offset: int = Field(description="First row")
    metric_keys: list[str] = Field(description="Metric names present on the page")
    param_keys: list[str] = Field(description="Param names present on the page")


class Artifact(Response):
    """A stored artifact of a run."""

    path: str = Field(description="Relative path inside the run")
    size: int = Field(description="Bytes")
    media_type: str | None = Field(description="MIME type")
    blob_hash: str = Field(description="BLAKE3 digest")


class DatasetUse(Response):
    """A dataset version a run read (role input) or wrote (role output)."""

    name: str = Field(description="Dataset name")
    version_id: int = Field(description="Dataset version id")
    hash: str = Field(description="Content digest")
    rows: int | None = Field(description="Row count")
    size: int | None = Field(description="Bytes")
    schema_: str | None = Field(
        alias="schema", serialization_alias="schema", description="Columns and dtypes (JSON)"
    )
    source: str | None = Field(description="Where it was read from")
    role: str = Field(description="input or output")


class DescribeRunResponse(RunSummary):
    """``GET /mlops/api/runs/{run_id}``: one run with everything logged into it."""

    experiment_id: int = Field(description="Numeric id of the experiment")
    heartbeat_at: float | None = Field(description="Last sign of life (UTC epoch seconds)")
    pid: int | None = Field(description="Process id of the run's process")
    hostname: str | None = Field(description="Host of the run's process")
    environment_hash: str | None = Field(description="Digest of the environment blob")
    error: str | None = Field(description="Traceback or reason of a failed or crashed run")
    artifacts: list[Artifact] = Field(description="Artifacts by path")
    datasets: list[DatasetUse] = Field(description="Datasets read or written")
    metric_keys: list[str] = Field(description="Metric names")
    warnings: list[str] = Field(description="Warnings such as cells run out of order")
    environment: dict[str, Any] | None = Field(description="Python, platform, packages, git")
    notebook_version: NotebookVersion | None = Field(description="The notebook version used")
    jupyter_path: str | None = Field(description="The notebook's path relative to the root")


class ListRunMetricsResponse(Response):
    """``GET /mlops/api/runs/{run_id}/metrics``: the names of the metrics a run logged."""

    run_id: str = Field(description="Full run id")
    keys: list[str] = Field(description="Metric names")


class DescribeMetricQuery(Request):
    """``GET /mlops/api/runs/{run_id}/metrics/{key}``: how many points at most."""

    max_points: int | None = Field(
        None, ge=2, description="Thin to this many points (capped by max_metric_points)"
    )


class MetricPoint(Response):
    """One point of a metric series."""

    step: int = Field(description="Step")
    timestamp: float = Field(description="UTC epoch seconds")
    value: float = Field(description="Value")


class DescribeMetricResponse(Response):
    """``GET /mlops/api/runs/{run_id}/metrics/{key}``: one series in step order."""

    run_id: str = Field(description="Full run id")
    key: str = Field(description="Metric name")
    max_points: int = Field(description="Thinning limit applied")
    points: list[MetricPoint] = Field(description="Points in step order; the last is kept")


class ListRunArtifactsResponse(Response):
    """``GET /mlops/api/runs/{run_id}/artifacts``: the artifacts of a run."""

    run_id: str = Field(description="Full run id")
    artifacts: list[Artifact] = Field(description="Artifacts by path")


class DownloadArtifactQuery(Request):
    """``GET /mlops/api/runs/{run_id}/artifacts/{path}``: inline or as a download."""

    download: str = Field("0", description="Anything but 0, false or empty: save the file")


class UpdateRunRequest(Request):
    """``PATCH /mlops/api/runs/{run_id}``: tags to set or remove, and the run's note."""

    set_tags: dict[
        Annotated[str, Field(min_length=1, max_length=255)], Annotated[str, Field(max_length=5000)]
    ] = Field(default_factory=dict, description="Tags to set or overwrite (not mlops.*)")
    remove_tags: list[Annotated[str, Field(min_length=1, max_length=255)]] = Field(
        default_factory=list, description="Tag keys to remove (not mlops.*)"
    )
    note: str | None = Field(
        None, max_length=6000, description="Free-text note on the run ('' removes it)"
    )

    @model_validator(mode="after")
    def _something(self) -> UpdateRunRequest:
        if self.note is None and not self.set_tags and not self.remove_tags:
            raise ValueError("give set_tags, remove_tags or note")
        return self


class DeleteRunResponse(Response):
    """``DELETE /mlops/api/runs/{run_id}``: the runs removed (the run and its children)."""

    deleted: list[str] = Field(description="Full ids of the deleted runs, the run first")


class CompareRunsQuery(Request):
    """``GET /mlops/api/run_comparisons``: the runs to line up (the first is the baseline)."""

    ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=2, max_length=100, description="Run ids or unique prefixes, comma-separated"
    )
    curves: list[Annotated[str, Field(min_length=1, max_length=255)]] = Field(
        default_factory=list,
        max_length=20,
        description="Metric names whose series to include for every run (one request for all)",
    )
    max_points: int | None = Field(
        None, ge=2, description="Thin each curve to this many points (capped by max_metric_points)"
    )

    @field_validator("ids", "curves", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value


class ComparedRun(RunSummary):
    """One run of a comparison, with what the code diff needs."""

    cell_source: str | None = Field(description="Source of the tracked cell (null: not a cell)")
    jupyter_path: str | None = Field(description="The notebook's path relative to the root")


class ComparedValue(Response):
    """One param or metric across the compared runs."""

    key: str = Field(description="Param or metric name")
    values: dict[str, str] = Field(description="Run id -> value; a run without it is absent")
    differs: bool = Field(description="Not the same in every run (absent counts as different)")


class ComparedMetric(Response):
    """One metric's latest value across the compared runs."""

    key: str = Field(description="Metric name")
    values: dict[str, float] = Field(description="Run id -> latest value; absent if not logged")
    differs: bool = Field(description="Not the same in every run (absent counts as different)")


class ComparedCurve(Response):
    """One run's series of one metric as columns (what uPlot draws), for the overlaid charts.

    Columns rather than one object per point: 50 runs x 3 metrics x 1,000 points is the
    comparison the panel opens, and per-point objects made that answer 10 MB and seconds.
    """

    key: str = Field(description="Metric name")
    run_id: str = Field(description="Full run id")
    steps: list[int] = Field(description="Steps in order, thinned; the last point is kept")
    values: list[float] = Field(description="The value at each step (same length as steps)")


class CompareRunsResponse(Response):
    """``GET /mlops/api/run_comparisons``: runs side by side, differing rows first."""

    runs: list[ComparedRun] = Field(description="In the order asked; the first is the baseline")
    params: list[ComparedValue] = Field(description="Differing params first, then by name")
    metrics: list[ComparedMetric] = Field(description="Differing metrics first, then by name")
    metric_keys: list[str] = Field(description="Every metric name any run logged")
    common_metric_keys: list[str] = Field(description="Metrics every run logged (for overlays)")
    curves: list[ComparedCurve] = Field(
        default_factory=list, description="The series asked for with curves=, by key then run"
    )
