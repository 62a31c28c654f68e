"""The metric figure of ``%mlops compare``: many runs, no layout warning, one colour per run."""

from __future__ import annotations

import base64
import gc
import re
import struct
import time
import warnings

import pytest

from kernel_magics.core.compare import compare_runs
from kernel_magics.kernel.widgets.run_reports import _run_colours, compare_report, overlay_png

METRICS = ("accuracy", "f1", "loss")


def seed_runs(store, runs: int, points: int = 200) -> list[str]:
    """Finished runs with a param and ``points`` steps of each of three metrics."""
    exp = store.experiments.get_or_create("compare")
    ids, now = [], time.time()
    for i in range(runs):
        run_id = store.runs.create(exp, name=f"run-{i:02d}", source="cell",
                                   start_time=now - runs + i, params={"C": i})  # fmt: skip
        rows = [
            (run_id, key, step, now + step, (step + 1) ** -0.5 / (1 + k) + i / 1000)
            for k, key in enumerate(METRICS)
            for step in range(points)
        ]
        with store.db.write() as conn:
            store.runs.write_metrics(conn, rows)
        store.runs.finish(run_id, "finished")
        ids.append(run_id)
    return ids


def png_size(report_html: str) -> tuple[int, int]:
    """Width and height of the (only) PNG in a report's HTML."""
    (data,) = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", report_html)
    header = base64.b64decode(data)[:24]
    return struct.unpack(">II", header[16:24])


@pytest.mark.parametrize("runs", [2, 50])
def test_comparing_many_runs_renders_without_a_warning(store, runs):
    # Given finished runs that all logged the same three metrics
    ids = seed_runs(store, runs)
    result = compare_runs(store, ids)
    # When the notebook report is rendered (what %mlops compare shows)
    # Garbage of earlier tests in this worker (kernel clients' zmq sockets and event loops)
    # is collected first: its ResourceWarnings are about those objects, not the report.
    gc.collect()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = compare_report(result)
        html = report._repr_html_()
    # Then no warning reaches the notebook, and the figure is there
    assert [str(w.message) for w in caught if w.category is not ResourceWarning] == []
    width, height = png_size(html)
    assert width > 0 and height > 0


def test_the_figure_grows_with_the_legend_instead_of_covering_the_panels():
    # Given the same three metrics for 2 and for 50 runs
    def curves(runs: int) -> tuple[dict, dict]:
        ids = [f"{i:032x}" for i in range(runs)]
        points = [(s, 1 / (s + 1)) for s in range(50)]
        return {m: dict.fromkeys(ids, points) for m in METRICS}, {r: r[-6:] for r in ids}

    # When
    few, many = overlay_png(*curves(2)), overlay_png(*curves(50))
    # Then the 50-run figure is as wide and taller (its legend rows are added below)
    (w_few, h_few), (w_many, h_many) = (struct.unpack(">II", p[16:24]) for p in (few, many))
    assert w_few == w_many
    assert h_many > h_few


@pytest.mark.parametrize("runs", [3, 15, 50])
def test_every_run_has_its_own_colour(runs):
    ids = [f"run{i}" for i in range(runs)]
    colours = _run_colours(ids)
    assert list(colours) == ids
    assert len({tuple(c) for c in colours.values()}) == runs
