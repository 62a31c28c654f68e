"""Models of ``/mlops/api/deployments``: model servers, their health, traffic and log."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import MAX_INT, Request, Response

#: Deployment statuses (``core/store/deployments.py`` plus the ones shared with runs).
DeploymentStatus = Literal["starting", "running", "stopping", "stopped", "failed", "crashed"]


class ListDeploymentsQuery(Request):
    """``GET /mlops/api/deployments``: whose deployments, which page."""

    model: str | None = Field(None, max_length=255, description="Only this model's deployments")
    live: bool = Field(False, description="Only starting, running or stopping deployments")
    limit: int = Field(50, ge=1, le=500, description="Page size (at most 500)")
    offset: int = Field(0, ge=0, le=MAX_INT, description="First row of the page")


class DeploymentHealth(Response):
    """What the server extension saw of a model server just now."""

    process_alive: bool | None = Field(
        description="The server process exists (null: it runs on another machine)"
    )
    answered: bool = Field(description="GET /health answered for this deployment")
    health_status: str | None = Field(description="ok, or draining while it shuts down")
    serving_version: int | None = Field(description="The model version /health reports")
    uptime_s: float | None = Field(description="Seconds the server has been up (from /health)")


class Deployment(Response):
    """One model server, as recorded, with its live health."""

    id: int = Field(description="Deployment id")
    model: str = Field(description="Model name")
    version: int = Field(description="Model version it was started with")
    alias: str | None = Field(description="Alias it follows (null for a pinned version)")
    ref: str = Field(description="What it serves, e.g. churn@production (v3)")
    status: DeploymentStatus = Field(description="Lifecycle status; a dead server shows crashed")
    host: str = Field(description="Interface it binds")
    port: int = Field(description="TCP port")
    url: str = Field(description="Base URL clients use")
    pid: int | None = Field(description="Server process id")
    hostname: str | None = Field(description="Machine it runs on")
    created_at: float = Field(description="UTC epoch seconds")
    updated_at: float = Field(description="UTC epoch seconds of the last state change")
    health: DeploymentHealth = Field(description="Live health (only live deployments are asked)")


class ListDeploymentsResponse(Response):
    """``GET /mlops/api/deployments``: one page of deployments, newest first."""

    deployments: list[Deployment] = Field(description="The page, newest first")
    total: int = Field(description="Deployments that matched in all")
    limit: int = Field(description="Page size used")
    offset: int = Field(description="First row")


class DeploymentEvent(Response):
    """One state change of a deployment."""

    event: str = Field(description="created, options, started, stopping, stopped, failed...")
    detail: str | None = Field(description="Why, or what changed")
    at: float = Field(description="UTC epoch seconds")


class DescribeDeploymentResponse(Deployment):
    """``GET /mlops/api/deployments/{id}``: one deployment with its events."""

    events: list[DeploymentEvent] = Field(description="State changes, oldest first")


class DeploymentTrafficQuery(Request):
    """``GET /mlops/api/deployments/{id}/traffic``: how many recent minutes."""

    minutes: int = Field(15, ge=1, le=1440, description="Minutes up to now (1-1440)")


class TrafficMinute(Response):
    """Requests in one minute."""

    start: float = Field(description="Start of the minute (UTC epoch seconds)")
    requests: int = Field(description="Requests answered in the minute")
    errors: int = Field(description="Requests answered with an error")
    p50_ms: float | None = Field(description="Median latency (null without requests)")
    p99_ms: float | None = Field(description="99th percentile latency (null without requests)")
    source: Literal["monitoring", "prediction_log"] = Field(
        description="monitoring: exact (the bucket closed); prediction_log: from the sampled log"
    )


class DescribeDeploymentTrafficResponse(Response):
    """``GET /mlops/api/deployments/{id}/traffic``: per-minute requests, errors and latency."""

    deployment_id: int = Field(description="Deployment id")
    source: Literal["monitoring", "prediction_log"] = Field(
        description="monitoring when the server wrote buckets in the window, else prediction_log"
    )
    sample_rate: float = Field(
        description="Fraction of successful requests the source records (1: all of them)"
    )
    minutes: list[TrafficMinute] = Field(description="Oldest first, one per minute")


class DeploymentLogQuery(Request):
    """``GET /mlops/api/deployments/{id}/log``: how many lines of the end."""

    lines: int = Field(200, ge=1, le=10000, description="Last lines to return (1-10000)")


class DescribeDeploymentLogResponse(Response):
    """``GET /mlops/api/deployments/{id}/log``: the end of the server's log."""

    deployment_id: int = Field(description="Deployment id")
    lines: list[str] = Field(description="The last lines, oldest first")


class CreateDeploymentRequest(Request):
    """``POST /mlops/api/deployments``: what to serve, and how."""

    ref: str = Field(min_length=1, max_length=512, description="churn@production, churn/3 or churn")
    port: int | None = Field(
        None, ge=1, le=65535, description="TCP port; the first free one from 5005 up if omitted"
    )
    allow_pickle: bool = Field(False, description="Allow a version stored with pickle")
    sample_rate: float = Field(
        0.1, ge=0, le=1, description="Fraction of successful requests kept in the prediction log"
    )
    lenient: bool = Field(
        False, description="Drop unknown columns, convert numbers sent as strings"
    )


class CreateDeploymentResponse(Response):
    """``POST /mlops/api/deployments`` (202): the deployment that is starting."""

    deployment_id: int = Field(description="Poll GET deployments/{id} for its health")
    model: str = Field(description="Model name")
    version: int = Field(description="Model version being served")
    status: DeploymentStatus = Field(description="starting, or running when it was already up")


class StopDeploymentResponse(Response):
    """``POST /mlops/api/deployments/{id}/stop``: the stopped deployment."""

    deployment: Deployment = Field(description="The deployment after it stopped")


class RollbackDeploymentRequest(Request):
    """``POST /mlops/api/deployments/{id}/rollback``: where to go back to."""

    to_version: int | None = Field(
        None, ge=1, le=MAX_INT, description="This version instead of the alias's previous one"
    )


class RollbackDeploymentResponse(Response):
    """``POST /mlops/api/deployments/{id}/rollback`` (202): the alias move that is starting."""

    deployment_id: int = Field(description="The deployment being replaced")
    model: str = Field(description="Model name")
    alias: str = Field(description="The alias moved back")
    from_version: int = Field(description="Version the alias pointed at")
    to_version: int = Field(description="Version it points at now")
