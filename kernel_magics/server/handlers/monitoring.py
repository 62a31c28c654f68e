"""``/mlops/api/deployments/{id}/monitoring``: the deployment's monitoring windows and alerts.

The numbers come from :func:`kernel_magics.core.monitoring.windows.report`, the reader behind
``mlops monitor`` and the alert rules; this handler only reshapes them for the panel (per-feature
verdicts as a list, values without their unknowns, training vs live bin shares of the features
that drifted) and lists the alert rules on the deployment's model with their open incident.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from kernel_magics.errors import ValidationError

from ..base import MlopsHandler
from ..contract import Operation
from ..models import DeploymentMonitoringQuery, DescribeDeploymentMonitoringResponse

if TYPE_CHECKING:
    from kernel_magics.core.monitoring.drift import FeatureDrift
    from kernel_magics.core.monitoring.windows import MonitorReport, WindowSummary
    from kernel_magics.core.store import Store
    from kernel_magics.core.store.deployments import DeploymentRecord


def _duration(value: str, name: str) -> float:
    """Seconds in ``value``; the 400 names the accepted form without echoing the input."""
    from kernel_magics.core.monitoring.windows import parse_duration

    try:
        return parse_duration(value)
    except ValidationError:
        raise ValidationError(
            f"{name} must be a positive number and a unit (s, m, h, d or w), e.g. 30m, 1h, 7d."
        ) from None


def _bin_labels(profile: dict[str, Any], labels: list[str]) -> list[str]:
    """Readable labels: a numeric bin as its edges (``0.5–1.2``) instead of ``bin3``."""
    edges = profile.get("histogram", {}).get("edges", [])
    if profile.get("kind") != "numeric" or len(edges) != len(labels) - 1:
        return labels
    spans = [f"{lo:.3g}–{hi:.3g}" for lo, hi in zip(edges, edges[1:], strict=False)]
    return [*spans, f"< {edges[0]:.3g}", f"> {edges[-1]:.3g}"]


def _shares(values: list[float]) -> list[float]:
    total = sum(values)
    return [v / total if total else 0.0 for v in values]


def _verdict(
    verdict: FeatureDrift, profile: dict[str, Any] | None, counts: dict[str, Any] | None
) -> dict[str, Any]:
    from kernel_magics.core.monitoring.drift import live_counts, reference_counts

    out: dict[str, Any] = {**verdict.to_dict(), "feature": verdict.name}
    # Bin shares only for drifted features: they explain the verdict, and they are large.
    if verdict.drifted and profile and counts and verdict.method == "psi":
        labels, expected = reference_counts(profile)
        out["bins"] = _bin_labels(profile, labels)
        out["training_shares"] = _shares(expected)
        out["live_shares"] = _shares(live_counts(profile, counts))
    return out


def _drift(found: MonitorReport) -> dict[str, Any] | None:
    from kernel_magics.core.monitoring.drift import dataset_drift
    from kernel_magics.core.monitoring.windows import PREDICTION

    latest: WindowSummary | None = next((w for w in reversed(found.windows) if w.enough_data), None)
    if latest is None:
        return None
    profiles = (found.profile or {}).get("features", {})
    verdict = dataset_drift(latest.features, latest.prediction, found.config)
    prediction = None
    if latest.prediction is not None:
        reference = (found.profile or {}).get("prediction")  # no bins for a made-up reference
        prediction = _verdict(latest.prediction, reference, latest.counts.get(PREDICTION))
    return {
        "start": latest.start,
        "end": latest.end,
        "rows": latest.rows,
        "share": verdict.share,
        "drift_share": found.config.drift_share,
        "drifted": verdict.drifted,
        "features": [
            _verdict(f, profiles.get(name), latest.counts.get(name))
            for name, f in latest.features.items()
        ],
        "prediction": prediction,
    }


def _alerts(store: Store, record: DeploymentRecord) -> list[dict[str, Any]]:
    """The rules whose model is the deployment's, each with its open incident."""
    from kernel_magics.core.registry import parse_ref

    incidents = store.alerts.open_incidents()
    rules = []
    for rule in store.alerts.list():
        try:
            if parse_ref(rule.model_ref).name != record.model:
                continue
        except ValidationError:
            continue  # a rule stored before its reference was checked: not this model's
        incident = incidents.get(rule.id)
        rules.append({**rule.to_dict(), "incident": incident.to_dict() if incident else None})
    return rules


class DeploymentMonitoringHandler(MlopsHandler):
    """Windows of traffic, latency, errors, accuracy and drift of one deployment."""

    operations = {
        "get": Operation(
            "Per-window monitoring values, the latest drift verdicts and the alert rules.",
            DescribeDeploymentMonitoringResponse,
            query=DeploymentMonitoringQuery,
            errors=(400, 404),
            description=(
                "The same summaries as `mlops monitor` for the version the deployment serves: "
                "per window the values alert rules name, for the latest window with enough "
                "rows each feature's drift verdict (training vs live bin shares of the drifted "
                "ones), and the alert rules on the model with their open incident."
            ),
        )
    }

    @web.authenticated
    @authorized
    def get(self, deployment_id: str) -> None:
        """Answer a :class:`DescribeDeploymentMonitoringResponse`."""
        from kernel_magics.core.monitoring.windows import report  # scipy: on first use

        query = self.parse_query(DeploymentMonitoringQuery)
        since_s = _duration(query.since, "since")
        window_s = _duration(query.window, "window")
        record = self.store.deployments.get(int(deployment_id))  # 404 before any work
        until = time.time()
        model = f"{record.model}/{record.version}"
        found = report(self.store, model, since=until - since_s, until=until, window_s=window_s)
        windows = [
            {
                "start": w.start,
                "end": w.end,
                "rows": w.rows,
                "enough_data": w.enough_data,
                "values": {k: v for k, v in w.values.items() if v is not None},
            }
            for w in found.windows
        ]
        self.respond(
            DescribeDeploymentMonitoringResponse,
            {
                "deployment_id": record.id,
                "model": model,
                "version": found.version,
                "since": found.since,
                "until": found.until,
                "window_s": found.window_s,
                "has_profile": found.profile is not None,
                "min_rows": found.config.min_rows,
                "windows": windows,
                "drift": _drift(found),
                "alerts": _alerts(self.store, record),
            },
        )
