"""``%mlops monitor`` in a real IPython shell, over real buckets: the table and its plots."""

from __future__ import annotations

import base64
import io
import re
import time

import pytest
from churn_data import churn_frame
from IPython.core.error import UsageError
from monitor_fixtures import register, write_bucket

HOUR = 3600.0


@pytest.fixture
def shell(monkeypatch, tmp_path):
    import matplotlib
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    InteractiveShell.clear_instance()
    sh = InteractiveShell.instance(config=config)
    assert sh.run_cell("%load_ext kernel_magics").success
    yield sh
    sh.history_manager.end_session()
    InteractiveShell.clear_instance()


def _images(html: str) -> list[tuple[int, int]]:
    """Width and height of every inline PNG."""
    from PIL import Image

    sizes = []
    for data in re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html):
        sizes.append(Image.open(io.BytesIO(base64.b64decode(data))).size)
    return sizes


def test_monitor_magic_shows_the_table_and_three_plots(shell, store):
    # Given an hour like training, then an hour with charges shifted, and labels for some rows
    model, version = register(store)
    this_hour = time.time() // HOUR * HOUR
    calm, target = churn_frame(600, seed=1)
    shifted, _ = churn_frame(600, seed=2)
    shifted["charges"] += 25.0
    predictions = write_bucket(store, model, version, calm, this_hour - HOUR + 60)
    write_bucket(store, model, version, shifted, this_hour + 1)
    store.monitoring.add_predictions([
        {"model_version_id": version.id, "deployment_id": None, "request_id": f"r{i}", "row": 0,
         "at": this_hour - HOUR + 60 + i, "prediction": int(p), "score": None}
        for i, p in enumerate(predictions[:100])
    ])  # fmt: skip
    store.monitoring.add_labels("churn", [(f"r{i}", 0, int(target.iloc[i])) for i in range(100)])
    # When
    result = shell.run_line_magic("mlops", "monitor churn@production --since 3h")
    # Then the report holds the summaries, the table names the drifted feature and the plots
    # (accuracy/latency, drift over time, training vs live histogram) are inline PNGs
    assert result.data.version == 1
    assert result.data.latest.drifted_features == ["charges"]
    html = result._repr_html_()
    assert "churn@production (version 1)" in html and "1/3 (charges)" in html
    assert "acc " in html  # the labelled window's accuracy
    sizes = _images(html)
    assert len(sizes) == 3 and all(w > 300 and h > 150 for w, h in sizes)
    assert "charges" in repr(result)
    # --no-plots: the same tables, no images
    bare = shell.run_line_magic("mlops", "monitor churn@production --since 3h --no-plots")
    assert _images(bare._repr_html_()) == []


def test_monitor_magic_without_data_says_what_to_do(shell, store):
    register(store)
    result = shell.run_line_magic("mlops", "monitor churn --since 1h")
    assert "No monitoring data in this period" in repr(result)
    assert _images(result._repr_html_()) == []


def test_monitor_magic_bad_input(shell, store):
    register(store)
    with pytest.raises(UsageError, match="not a duration"):
        shell.run_line_magic("mlops", "monitor churn --window soon")
    with pytest.raises(UsageError, match="No model named 'nope'"):
        shell.run_line_magic("mlops", "monitor nope")
