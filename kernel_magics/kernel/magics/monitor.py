"""``%mlops monitor``: a deployed model's windows as a table and inline matplotlib plots.

The table is the one ``mlops monitor`` prints (:mod:`kernel_magics.core.views.monitoring`);
below it: accuracy (or RMSE) and latency over time, drift per feature over time, and training
vs live histograms of the features that drifted in the latest window. The figures are drawn on
a bare :class:`matplotlib.figure.Figure` (Agg), never pyplot, so nothing leaks into the user's
own figures. ``r = %mlops monitor churn@production`` keeps the
:class:`~kernel_magics.core.monitoring.windows.MonitorReport` in ``r.data``.
"""

from __future__ import annotations

import io
import time
from typing import TYPE_CHECKING, Any

from ..parsers import MagicArgumentParser, parsed_with
from ..widgets.report import STYLE, Report, img, table_html, table_text

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ...core.monitoring.windows import MonitorReport, WindowSummary

#: At most this many drifted features get a training-vs-live histogram.
MAX_HISTOGRAMS = 6


def monitor_parser() -> MagicArgumentParser:
    """Build the parser of ``%mlops monitor``."""
    p = MagicArgumentParser(
        prog="%mlops monitor",
        description="Requests, latency, drift and accuracy of a deployed model, with plots.",
    )
    p.add_argument("ref", help="The model: churn@production, churn/3 or churn.")
    p.add_argument("--since", default="7d", help="How far back: 30m, 12h, 7d (default 7d).")
    p.add_argument("--window", default="1h", help="Length of one window: 15m, 1h, 1d (default 1h).")
    p.add_argument("--no-plots", action="store_true", help="Only the table.")
    return p


def _figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=80)
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Figure) -> bytes:
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _times(windows: list[WindowSummary]) -> list[Any]:
    import datetime as dt

    return [dt.datetime.fromtimestamp(w.start) for w in windows]


def quality_png(windows: list[WindowSummary]) -> bytes | None:
    """Accuracy (or RMSE for a regressor) and p50/p99 latency per window (None: no traffic)."""
    if not any(w.values["requests"] for w in windows):
        return None
    figure = _figure(10, 3)
    x = _times(windows)
    quality = figure.add_subplot(1, 2, 1)
    key = "accuracy" if any(w.values["accuracy"] is not None for w in windows) else "rmse"
    labelled = sum(int(w.values["labelled_rows"] or 0) for w in windows)
    if labelled:
        ys = [w.values[key] for w in windows]
        quality.plot(x, [float("nan") if y is None else y for y in ys], marker="o", markersize=3)
        quality.set_title(f"{key} ({labelled} labelled rows)", fontsize=9)
    else:
        quality.set_xlim(x[0], x[-1])  # the same time axis as the latency plot
        quality.set_yticks([])
        quality.text(0.5, 0.5, "no labels yet:\nmlops monitor labels MODEL FILE.csv",
                     ha="center", va="center", fontsize=9, transform=quality.transAxes)  # fmt: skip
        quality.set_title("accuracy", fontsize=9)
    latency = figure.add_subplot(1, 2, 2)
    for name in ("latency.p50_ms", "latency.p99_ms"):
        vals = [w.values[name] for w in windows]
        latency.plot(x, [float("nan") if v is None else v for v in vals], label=name[8:11])
    latency.set_title("latency (ms)", fontsize=9)
    latency.legend(fontsize=7)
    for axes in (quality, latency):
        axes.grid(alpha=0.3)
        axes.tick_params(axis="x", labelsize=7, rotation=30)
    return _png(figure)


def drift_png(windows: list[WindowSummary]) -> bytes | None:
    """Each feature's drift score per window, with its threshold (None: no verdicts)."""
    names = sorted({n for w in windows for n, f in w.features.items() if f.score is not None})
    if not names:
        return None
    figure = _figure(10, 3.2)
    axes = figure.add_subplot(1, 1, 1)
    x = _times(windows)
    threshold = None
    for name in names:
        scores = [w.features[name].score if name in w.features else None for w in windows]
        axes.plot(x, [float("nan") if s is None else s for s in scores], label=name, marker=".")
        threshold = next(w.features[name].threshold for w in windows if name in w.features)
    if threshold is not None:
        axes.axhline(threshold, color="#d62728", linestyle="--", linewidth=1, label="threshold")
    axes.set_title("drift per feature (PSI against the training profile)", fontsize=9)
    axes.legend(fontsize=7, ncol=4)
    axes.grid(alpha=0.3)
    axes.tick_params(axis="x", labelsize=7, rotation=30)
    return _png(figure)


def histograms_png(result: MonitorReport) -> bytes | None:
    """Training vs live shares per bin for the features that drifted in the latest window."""
    from ...core.monitoring.drift import live_counts, reference_counts

    latest = result.latest
    if latest is None or result.profile is None:
        return None
    drifted = latest.drifted_features[:MAX_HISTOGRAMS]
    if not drifted:
        return None
    figure = _figure(5 * min(len(drifted), 2), 2.8 * -(-len(drifted) // 2))
    for index, name in enumerate(drifted, start=1):
        profile = result.profile["features"][name]
        labels, expected = reference_counts(profile)
        actual = live_counts(profile, latest.counts[name])
        if profile.get("kind") == "numeric":
            edges = profile["histogram"]["edges"]
            labels = [f"{a:.3g}-{b:.3g}" for a, b in zip(edges, edges[1:], strict=False)]
            labels += [f"<{edges[0]:.3g}", f">{edges[-1]:.3g}"]
        axes = figure.add_subplot(-(-len(drifted) // 2), min(len(drifted), 2), index)
        positions = range(len(labels))
        total_e, total_a = sum(expected) or 1.0, sum(actual) or 1.0
        axes.bar([p - 0.2 for p in positions], [e / total_e for e in expected], 0.4,
                 label="training")  # fmt: skip
        axes.bar([p + 0.2 for p in positions], [a / total_a for a in actual], 0.4, label="live")
        axes.set_xticks(list(positions), labels, fontsize=6, rotation=60)
        axes.set_title(f"{name} (PSI {latest.features[name].score:.3f})", fontsize=9)
        axes.legend(fontsize=7)
    return _png(figure)


@parsed_with(monitor_parser)
def handle_monitor(magics: Any, ns: Any) -> Report:
    """Summarize ``ns.ref``'s monitoring data per window; plot it unless ``--no-plots``."""
    from ...core.monitoring.windows import parse_duration, report
    from ...core.store import open_store
    from ...core.views.monitoring import drift_table, monitor_table

    period, window_s = parse_duration(ns.since), parse_duration(ns.window)
    until = time.time()
    result = report(open_store(), ns.ref, since=until - period, until=until, window_s=window_s)
    view = monitor_table(result.windows, f"{ns.ref} (version {result.version})")
    tables = [view]
    if result.latest is not None and result.latest.features:
        tables.append(drift_table(result.latest))
    html_parts = [STYLE, "<div class='mlops-report'>", *(table_html(t) for t in tables)]
    if not ns.no_plots:
        pngs = [quality_png(result.windows), drift_png(result.windows), histograms_png(result)]
        html_parts += [img(png) for png in pngs if png]
    html_parts.append("</div>")
    return Report(result, "".join(html_parts), "\n\n".join(table_text(t) for t in tables))
