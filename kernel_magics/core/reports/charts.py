"""Charts for reports and model cards, drawn with matplotlib into SVG bytes.

A report is one file that must open without a network, so every chart is an SVG the HTML embeds
as a ``data:`` URI (and the Markdown writes next to itself). matplotlib runs on its Agg canvas
(no display needed) and each figure is closed after it is saved.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

#: Inches: wide enough for a legend of a few runs, small enough for several charts per row.
FIGSIZE = (5.2, 3.0)


@dataclass(frozen=True)
class Chart:
    """One drawn chart.

    Attributes
    ----------
    name : str
        A file-name-safe name (``metric-loss``), unique within a report.
    title : str
        What it shows, for captions and alt text.
    svg : bytes
        The SVG document.
    """

    name: str
    title: str
    svg: bytes

    def data_uri(self) -> str:
        """The SVG as a ``data:image/svg+xml;base64`` URI (for ``<img src>``)."""
        import base64

        return "data:image/svg+xml;base64," + base64.b64encode(self.svg).decode("ascii")


def _figure():
    import matplotlib

    matplotlib.use("Agg", force=False)  # a headless default; a notebook's backend is left alone
    from matplotlib.figure import Figure

    # A bare Figure (not pyplot): no global figure manager, nothing to close, thread-safe.
    fig = Figure(figsize=FIGSIZE, layout="constrained")
    return fig, fig.add_subplot()


def _svg(fig) -> bytes:
    buffer = io.BytesIO()
    # No date in the metadata: the same figures give the same bytes (reports diff cleanly).
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def safe_name(text: str) -> str:
    """``val loss/epoch`` -> ``val-loss-epoch`` (for file names and element ids)."""
    kept = "".join(c if c.isalnum() else "-" for c in text.strip().lower())
    return "-".join(part for part in kept.split("-") if part) or "chart"


def curves_chart(metric: str, series: dict[str, Sequence[tuple[float, float]]]) -> Chart:
    """One metric's curves, one line per run, overlaid on shared axes.

    Parameters
    ----------
    metric : str
        The metric key (the title and the y label).
    series : dict of str to list of (step, value)
        Label (a run's short id and name) -> points, in step order.
    """
    fig, ax = _figure()
    for label, points in series.items():
        if not points:
            continue
        steps = [p[0] for p in points]
        values = [p[1] for p in points]
        marker = "o" if len(points) < 30 else None  # a handful of points reads better as dots
        ax.plot(steps, values, label=label, marker=marker, markersize=3, linewidth=1.4)
    ax.set_title(metric, fontsize=10)
    ax.set_xlabel("step", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(True, alpha=0.3)
    if len(series) > 1:
        ax.legend(fontsize=7, loc="best")
    return Chart(f"metric-{safe_name(metric)}", f"{metric} by step", _svg(fig))


def importance_chart(names: Sequence[str], means: Sequence[float], stds: Sequence[float]) -> Chart:
    """Permutation importance as horizontal bars with their standard deviation, largest on top."""
    fig, ax = _figure()
    order = list(range(len(names)))[::-1]  # names come sorted largest first; barh draws bottom-up
    ax.barh(
        [names[i] for i in order],
        [means[i] for i in order],
        xerr=[stds[i] for i in order],
        color="#4c78a8",
        ecolor="#333333",
        capsize=2,
    )
    ax.set_xlabel("mean score drop when the feature is shuffled", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(True, axis="x", alpha=0.3)
    return Chart("permutation-importance", "Permutation importance on the holdout", _svg(fig))
