"""Models of ``/mlops/api/status`` and ``/mlops/api/experiments``."""

from __future__ import annotations

from pydantic import Field

from .base import Response


class DescribeStatusResponse(Response):
    """``GET /mlops/api/status``: the extension's version and where its store lives."""

    version: str = Field(description="Version of jupyter-mlops")
    store_uri: str = Field(description="Database URL, password hidden")
    artifacts_uri: str = Field(description="Where blobs live, password hidden")
    reason: str = Field(description="Why this store was chosen")


class Experiment(Response):
    """An experiment with its run count."""

    id: int = Field(description="Numeric id")
    name: str = Field(description="Unique name")
    description: str | None = Field(description="Free text")
    created_at: float = Field(description="UTC epoch seconds")
    run_count: int = Field(description="How many runs it has")
    last_run_at: float | None = Field(description="Start of its newest run (UTC epoch seconds)")


class ListExperimentsResponse(Response):
    """``GET /mlops/api/experiments``: every experiment, most recently active first."""

    experiments: list[Experiment]
