"""The live metric plot: reads the run back from the store, redraws only on change, throttled."""

from __future__ import annotations

import time

from kernel_magics.core import tracking
from kernel_magics.kernel.widgets import live_plot
from kernel_magics.kernel.widgets.live_plot import LivePlot, final_figure_png, read_series


def _run_with_points(store, n):
    run = tracking.start_run(experiment="live", store=store)
    for i in range(n):
        run.log_metric("loss", 1.0 / (i + 1), step=i)
    run.log_metric("acc", 0.5)  # a single point is not a curve
    run.flush()
    return run


def test_series_are_thinned_in_sql(store):
    run = _run_with_points(store, 100_000)
    series = read_series(store, run.id)
    assert list(series) == ["loss"]
    assert len(series["loss"]) <= live_plot.MAX_POINTS
    assert series["loss"][-1] == (99_999, 1.0 / 100_000)  # the last point is always kept
    tracking.end_run(run=run)


def test_refresh_redraws_only_when_points_arrive(store):
    run = tracking.start_run(experiment="live", store=store)
    plot = LivePlot(store, run.id, min_interval=3600)  # the timer never fires in this test
    plot.show(display=False)
    assert plot.refresh() is False and plot.widget.layout.display == "none"
    for i in range(50):
        run.log_metric("loss", 1.0 / (i + 1), step=i)
    run.flush()  # the flusher hands the written batch to the plot
    assert plot.refresh() is True
    assert bytes(plot.widget.value).startswith(b"\x89PNG") and plot.widget.layout.display == ""
    assert plot.refresh() is False  # nothing new
    run.log_metric("loss", 0.001, step=50)
    run.flush()
    assert plot.refresh() is True
    assert plot.redraws == 2
    # the next wait grows with the cost of a redraw (at most MAX_BUSY_SHARE of the time)
    assert plot.interval >= plot.min_interval
    tracking.end_run(run=run)
    assert plot.finish().startswith(b"\x89PNG")
    assert not plot._thread.is_alive()
    assert plot._on_batch not in plot._flusher.listeners


def test_points_kept_in_memory_are_thinned(store):
    run = tracking.start_run(experiment="live", store=store)
    other = tracking.start_run(experiment="live", store=store, nested=True)
    plot = LivePlot(store, run.id, min_interval=3600)
    for i in range(100_000):
        run.log_metric("loss", 1.0 / (i + 1), step=i)
        if i % 10_000 == 0:
            other.log_metric("noise", 1.0)
            run.flush()
    run.flush()
    points = [(p[2], p[4]) for p in plot._series["loss"]]
    assert live_plot.MAX_POINTS <= len(points) <= 2 * live_plot.MAX_POINTS
    assert points[-1] == (99_999, 1.0 / 100_000)
    assert [p[0] for p in points] == sorted(p[0] for p in points)
    assert plot.busy_seconds > 0
    assert list(plot._series) == ["loss"]  # the other run's points are not ours
    plot.stop()
    tracking.end_run(run=other)
    tracking.end_run(run=run)


def test_timer_thread_redraws_while_the_run_logs(store):
    run = tracking.start_run(experiment="live", store=store)
    plot = LivePlot(store, run.id, min_interval=0.05)
    plot.show(display=False)
    deadline = time.monotonic() + 20
    step = 0
    while plot.redraws == 0 and time.monotonic() < deadline:
        run.log_metric("loss", 1.0 / (step + 1), step=step)
        step += 1
        if step % 100 == 0:
            run.flush()
            time.sleep(0.01)
    plot.stop()
    assert plot.redraws >= 1
    assert 0.05 <= plot.interval <= live_plot.MAX_INTERVAL_S
    tracking.end_run(run=run)


def test_no_curve_no_figure(store):
    run = tracking.start_run(experiment="live", store=store)
    run.log_metric("acc", 1.0)
    tracking.end_run(run=run)
    assert final_figure_png(store, run.id) is None


def test_live_plot_in_a_shell_leaves_a_static_png(shell, store):
    # Given: a displayed live plot (InteractiveShell has no widget front end; display_id works)
    run = tracking.start_run(experiment="live", store=store)
    plot = LivePlot(store, run.id, min_interval=3600)
    outputs = []
    shell.display_pub.publish = lambda data, **kw: outputs.append((data, kw))
    plot.show()
    for i in range(20):
        run.log_metric("loss", 1.0 / (i + 1), step=i)
    tracking.end_run(run=run)
    # When
    png = plot.finish()
    # Then: the widget's output is replaced (same display id) by the PNG
    assert png is not None
    first, last = outputs[0], outputs[-1]
    assert "application/vnd.jupyter.widget-view+json" in first[0]
    assert last[1].get("update") is True
    assert last[1]["transient"]["display_id"] == first[1]["transient"]["display_id"]
    assert "image/png" in last[0]


def test_tracked_cell_without_kernel_shows_final_plot(shell):
    outputs = []
    shell.display_pub.publish = lambda data, **kw: outputs.append(data)
    shell.run_cell(
        "%%mlops track\nimport kernel_magics as mlops\n"
        "for i in range(10): mlops.log_metric('loss', 1 / (i + 1), step=i)",
        store_history=True,
    )
    assert any("image/png" in data for data in outputs)


def _published(shell, monkeypatch):
    outputs = []
    monkeypatch.setattr(shell.display_pub, "publish", lambda data, **kw: outputs.append(data))
    return outputs


CELL = "import kernel_magics as mlops\nfor i in range(10): mlops.log_metric('loss', 1 / (i + 1), step=i)"


def test_tracked_cell_in_a_kernel_shows_the_live_widget(shell, monkeypatch):
    monkeypatch.setattr(shell, "kernel", object(), raising=False)  # as in ipykernel
    outputs = _published(shell, monkeypatch)
    shell.run_cell("%%mlops track\n" + CELL, store_history=True)
    kinds = [next(k for k in data if k != "text/plain") for data in outputs]
    assert kinds == ["application/vnd.jupyter.widget-view+json", "image/png"]


def test_no_live_flag(shell, monkeypatch):
    monkeypatch.setattr(shell, "kernel", object(), raising=False)
    outputs = _published(shell, monkeypatch)
    shell.run_cell("%%mlops track --no-live\n" + CELL, store_history=True)
    assert [next(k for k in data if k != "text/plain") for data in outputs] == ["image/png"]
