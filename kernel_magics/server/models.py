"""Request and response models of the REST API (mirrored one for one in ``extension/src/api.ts``).

Query strings and bodies are validated with these pydantic models before any work starts; a
violation is answered with 400 and a message naming the field.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ListRunsQuery(_Strict):
    """``GET /mlops/api/runs``: which runs, in which order, which page."""

    experiment: str | None = Field(None, max_length=255)
    notebook: str | None = Field(None, max_length=4096, description="Jupyter path of a notebook")
    filter: str | None = Field(None, max_length=4000)
    order_by: list[str] = Field(default_factory=list)
    limit: int = Field(50, ge=1)
    offset: int = Field(0, ge=0)

    @field_validator("order_by", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value


class ListRunsResponse(BaseModel):
    """One page of runs plus what a table needs to lay it out."""

    runs: list[dict[str, Any]]
    total: int
    limit: int
    offset: int
    metric_keys: list[str]
    param_keys: list[str]


class DescribeMetricQuery(_Strict):
    """``GET /mlops/api/runs/{run_id}/metrics/{key}``: how many points at most."""

    max_points: int | None = Field(None, ge=2)


class ListNotebookVersionsQuery(_Strict):
    """``GET /mlops/api/notebook_versions``: the notebook whose history to list."""

    path: str = Field(..., min_length=1, max_length=4096)


class DiffNotebooksQuery(_Strict):
    """``GET /mlops/api/notebook_diffs``: two versions, or a version and the file on disk.

    ``a`` and ``b`` are version ids or ``current`` (the notebook at ``path`` as saved now).
    """

    a: str = Field(..., pattern=r"^(\d+|current)$")
    b: str = Field(..., pattern=r"^(\d+|current)$")
    path: str | None = Field(None, min_length=1, max_length=4096)


class RestoreNotebookVersion(_Strict):
    """``POST /mlops/api/notebook_versions/{id}/restore``: where to write the copy.

    ``path`` names the new file exactly (409 if it exists); otherwise ``next_to`` (default: the
    notebook the version came from) picks the folder and the file is named ``<stem>.v<id>.ipynb``.
    """

    path: str | None = Field(None, min_length=1, max_length=4096)
    next_to: str | None = Field(None, min_length=1, max_length=4096)
