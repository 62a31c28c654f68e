"""``GET /mlops/api/deployments/{id}/monitoring``: a deployment's windows, drift and alerts.

Built from :func:`kernel_magics.core.monitoring.windows.report` (the reader ``mlops monitor``
uses), so the panel and the CLI show the same numbers.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Request, Response


class DeploymentMonitoringQuery(Request):
    """``GET /mlops/api/deployments/{id}/monitoring``: the period and the window length."""

    since: str = Field(
        "24h", min_length=1, max_length=32, description="How far back from now: 30m, 24h, 7d"
    )
    window: str = Field("1h", min_length=1, max_length=32, description="Window length: 5m, 1h, 1d")


class MonitoringWindow(Response):
    """One window's values by the names alert rules use (``METRICS``)."""

    start: float = Field(description="Window start (UTC epoch seconds)")
    end: float = Field(description="Window end (UTC epoch seconds; the last one may be open)")
    rows: int = Field(description="Rows scored in the window")
    enough_data: bool = Field(description="Whether rows reach the model's min_rows")
    values: dict[str, float] = Field(
        description=(
            "requests, errors.rate, latency.p50_ms, latency.p99_ms, drift.share, "
            "drift.prediction, accuracy (or rmse/mae/r2), labelled_rows; a name is absent when "
            "its value cannot be known (no requests, no labels, not enough data)"
        )
    )


class FeatureDriftVerdict(Response):
    """The drift verdict of one feature (or of the prediction) in one window."""

    feature: str = Field(description="Feature name (prediction for the model's output)")
    kind: Literal["numeric", "categorical"] = Field(description="How the feature is binned")
    method: str = Field(description="The test or statistic: psi, ks, chisquare, ...")
    score: float | None = Field(description="The statistic; null with not enough data")
    threshold: float = Field(description="Drift at or above this (below it for p-values)")
    drifted: bool | None = Field(description="null when there was not enough data")
    status: Literal["drift", "ok", "not enough data"] = Field(description="The verdict in words")
    rows: int = Field(description="Live values the verdict is based on")
    bins: list[str] | None = Field(
        None, description="Bin labels of a drifted feature (null for features that did not drift)"
    )
    training_shares: list[float] | None = Field(
        None, description="Share of training rows per bin (same order as bins)"
    )
    live_shares: list[float] | None = Field(
        None, description="Share of the window's rows per bin (same order as bins)"
    )


class MonitoringDrift(Response):
    """The drift of the latest window with enough data."""

    start: float = Field(description="Start of the window the verdicts are from")
    end: float = Field(description="End of that window")
    rows: int = Field(description="Rows scored in it")
    share: float | None = Field(description="Share of drifted features (of those judged)")
    drift_share: float = Field(description="The dataset drifts when share reaches this")
    drifted: bool | None = Field(description="Whether the dataset drifted (null: not judged)")
    features: list[FeatureDriftVerdict] = Field(description="One verdict per feature, in order")
    prediction: FeatureDriftVerdict | None = Field(description="The prediction's verdict")


class MonitoringIncident(Response):
    """An alert incident that is still open."""

    id: int = Field(description="Incident id")
    opened_at: float = Field(description="When it opened (UTC epoch seconds)")
    last_seen_at: float = Field(description="The latest evaluation at which it still held")
    window_start: float = Field(description="Start of the window that opened it")
    window_end: float = Field(description="End of that window")
    broken: dict[str, float] = Field(description="The conditions that held, with their values")
    notified_at: float | None = Field(description="When it was notified (null: not yet / no one)")


class MonitoringAlertRule(Response):
    """An alert rule on the deployment's model, read-only here (``mlops alert`` edits them)."""

    name: str = Field(description="Rule name")
    model_ref: str = Field(description="The monitored model reference")
    conditions: list[str] = Field(description="Conditions; the rule fires when any holds")
    window_s: float = Field(description="Seconds of data each evaluation looks at")
    paused: bool = Field(description="Paused rules are not evaluated")
    evaluated_at: float | None = Field(description="The latest minute it was evaluated for")
    incident: MonitoringIncident | None = Field(description="Its open incident, if any")


class DescribeDeploymentMonitoringResponse(Response):
    """``GET /mlops/api/deployments/{id}/monitoring``: windows, latest drift, alert rules."""

    deployment_id: int = Field(description="Deployment id")
    model: str = Field(description="The model version monitored (churn/3)")
    version: int = Field(description="Its version")
    since: float = Field(description="Period start (UTC epoch seconds)")
    until: float = Field(description="Period end (now)")
    window_s: float = Field(description="Window length in seconds")
    has_profile: bool = Field(description="False: the version has no training profile, no drift")
    min_rows: int = Field(description="Rows a window needs for drift verdicts")
    windows: list[MonitoringWindow] = Field(description="Oldest first")
    drift: MonitoringDrift | None = Field(
        description="Drift of the latest window with enough data (null: none has enough)"
    )
    alerts: list[MonitoringAlertRule] = Field(description="Alert rules on the deployment's model")
