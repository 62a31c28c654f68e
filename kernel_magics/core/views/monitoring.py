"""A deployed model's monitoring as tables: one row per window, and one window's drift per feature.

``mlops monitor`` prints these with rich, ``%mlops monitor`` shows them as HTML above its plots,
from the :class:`~kernel_magics.core.monitoring.windows.WindowSummary` list that
:func:`~kernel_magics.core.monitoring.windows.summarize` returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .formatting import when
from .table import Column, Table, table

#: What the Drift column says for a window below the model's minimum row count.
NOT_ENOUGH = "not enough data"


def _percent(x: float | None) -> str:
    return "" if x is None else f"{100 * x:.1f}%"


def _ms(x: float | None) -> str:
    return "" if x is None else f"{x:.1f}"


def _drift_cell(summary: Any) -> str:
    if not summary.enough_data:
        return NOT_ENOUGH if summary.rows else ""
    drifted = summary.drifted_features
    share = summary.values.get("drift.share")
    if share is None:
        return ""
    judged = sum(1 for f in summary.features.values() if f.drifted is not None)
    names = ", ".join(drifted[:3]) + (f" +{len(drifted) - 3}" if len(drifted) > 3 else "")
    return f"{len(drifted)}/{judged}" + (f" ({names})" if drifted else "")


def _quality_cell(values: dict[str, float | None]) -> str:
    if values.get("accuracy") is not None:
        return f"acc {values['accuracy']:.3f}"
    if values.get("rmse") is not None:
        return f"rmse {values['rmse']:.4g}"
    return ""


def monitor_table(summaries: Sequence[Any], title: str | None = None) -> Table:
    """One row per window: traffic, errors, latency, drifted features, accuracy.

    Parameters
    ----------
    summaries : sequence of WindowSummary
    title : str, optional
        E.g. ``churn@production (version 3)``.
    """
    columns = [
        Column("Window", "time", 100), Column("Requests", "number", 90),
        Column("Rows", "number", 40), Column("Errors", "number", 70),
        Column("p50 ms", "number", 60), Column("p99 ms", "number", 75),
        Column("Drifted", priority=85), Column("Prediction", "status", 50),
        Column("Quality", priority=80), Column("Labelled", "number", 45),
    ]  # fmt: skip
    rows = []
    for s in summaries:
        v = s.values
        pred = s.prediction.status if s.prediction is not None and s.enough_data else ""
        labelled = int(v.get("labelled_rows") or 0)
        rows.append([
            when(s.start), int(v.get("requests") or 0), s.rows, _percent(v.get("errors.rate")),
            _ms(v.get("latency.p50_ms")), _ms(v.get("latency.p99_ms")), _drift_cell(s), pred,
            _quality_cell(v), labelled or "",
        ])  # fmt: skip
    note = "" if any(s.rows for s in summaries) else (
        "No monitoring data in this period: deploy the model (mlops deploy) and send it "
        "requests, or record a batch with mlops.monitor(frame, model=...)."
    )  # fmt: skip
    return table(columns, rows, title, note)


def drift_table(summary: Any, title: str | None = None) -> Table:
    """One window's verdict per feature (and the prediction): method, score, threshold, status."""
    columns = [
        Column("Feature", priority=100), Column("Kind", priority=30),
        Column("Method", priority=50), Column("Score", "number", 80),
        Column("Threshold", "number", 40), Column("Rows", "number", 45),
        Column("Status", "status", 95),
    ]  # fmt: skip
    verdicts = list(summary.features.values())
    if summary.prediction is not None:
        verdicts.append(summary.prediction)
    rows = [[f.name, f.kind, f.method, f.score, f.threshold, f.rows, f.status] for f in verdicts]
    note = "" if rows else "No feature counts in this window."
    return table(columns, rows, title or f"Drift, window from {when(summary.start)}", note)
