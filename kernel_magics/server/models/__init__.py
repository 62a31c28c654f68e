"""Request and response models of the REST API, one module per resource.

Mirrored one for one in ``extension/src/api.ts`` (``ListRunsResponse`` <-> ``IListRunsResponse``)
and the source of ``server/openapi.yaml``; ``tests/server/test_contracts.py`` fails when either
side drifts. Query strings and bodies are validated with the ``Request`` models before any work
starts (400 naming the field); every JSON answer is serialized through a ``Response`` model.
"""

from .base import ErrorResponse, Request, Response
from .notebooks import (
    CellDiff,
    DescribeNotebookVersionResponse,
    DiffLine,
    DiffNotebooksQuery,
    DiffNotebooksResponse,
    DiffSummary,
    ListNotebookVersionsQuery,
    ListNotebookVersionsResponse,
    NotebookVersion,
    OutputSummary,
    RestoreNotebookVersionRequest,
    RestoreNotebookVersionResponse,
)
from .runs import (
    Artifact,
    DatasetUse,
    DescribeMetricQuery,
    DescribeMetricResponse,
    DescribeRunResponse,
    DownloadArtifactQuery,
    ListRunArtifactsResponse,
    ListRunMetricsResponse,
    ListRunsQuery,
    ListRunsResponse,
    MetricPoint,
    RunSummary,
)
from .status import DescribeStatusResponse, Experiment, ListExperimentsResponse

__all__ = [
    "Artifact",
    "CellDiff",
    "DatasetUse",
    "DescribeMetricQuery",
    "DescribeMetricResponse",
    "DescribeNotebookVersionResponse",
    "DescribeRunResponse",
    "DescribeStatusResponse",
    "DiffLine",
    "DiffNotebooksQuery",
    "DiffNotebooksResponse",
    "DiffSummary",
    "DownloadArtifactQuery",
    "ErrorResponse",
    "Experiment",
    "ListExperimentsResponse",
    "ListNotebookVersionsQuery",
    "ListNotebookVersionsResponse",
    "ListRunArtifactsResponse",
    "ListRunMetricsResponse",
    "ListRunsQuery",
    "ListRunsResponse",
    "MetricPoint",
    "NotebookVersion",
    "OutputSummary",
    "Request",
    "Response",
    "RestoreNotebookVersionRequest",
    "RestoreNotebookVersionResponse",
    "RunSummary",
]
