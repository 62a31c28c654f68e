"""The live metric plot of a tracked cell, and the static figure it leaves behind.

``log_metric`` stays untouched (it only appends to the flusher's buffer). The plot registers a
listener with the run's flusher, which hands it each batch of points after writing it (every
0.5 s); the listener keeps the run's points in memory, halving them whenever a metric passes
``2 * MAX_POINTS``, and only marks the plot dirty. A timer thread redraws a matplotlib figure (Agg,
no pyplot) into an ``ipywidgets.Image`` when it is dirty; the wait between redraws grows with the
time a redraw takes, so drawing uses at most :data:`MAX_BUSY_SHARE` of the time. When the cell
ends, the widget's output is replaced by a static PNG of the full curves read from the store, so
the saved notebook renders on GitHub too.
"""

from __future__ import annotations

import io
import threading
import time
from operator import itemgetter
from typing import Any

#: Points per metric drawn (thinned evenly in SQL, the last point always kept).
MAX_POINTS = 1000
#: At most this many metrics are drawn (the first ones by name).
MAX_PANELS = 6
#: Seconds between redraws, at least (so "a few times a second" at most).
MIN_INTERVAL_S = 0.5
#: A redraw may use at most this share of wall time; the interval stretches to respect it.
MAX_BUSY_SHARE = 0.02
#: ...but the plot is redrawn at least this often (seconds) while points keep arriving.
MAX_INTERVAL_S = 5.0


def read_series(store: Any, run_id: str, max_points: int = MAX_POINTS) -> dict[str, list[tuple]]:
    """Return ``{metric: [(step, value), ...]}`` for the metrics with at least two points."""
    series = {}
    for key in store.runs.metric_keys(run_id)[:MAX_PANELS]:
        points = store.runs.metric_history(run_id, key, max_points=max_points)
        if len(points) >= 2:
            series[key] = [(p["step"], p["value"]) for p in points]
    return series


def render_png(series: dict[str, list[tuple]], title: str = "") -> bytes:
    """Draw one panel per metric (step on x) and return PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    count = max(1, len(series))
    cols = 1 if count == 1 else 2
    rows = -(-count // cols)
    figure = Figure(figsize=(5.5 * cols if cols > 1 else 6.5, 2.6 * rows), dpi=72)
    FigureCanvasAgg(figure)
    for index, (key, points) in enumerate(series.items(), start=1):
        axes = figure.add_subplot(rows, cols, index)
        steps, values = zip(*points, strict=True)
        axes.plot(steps, values, linewidth=1.2)
        axes.set_title(f"{key} = {values[-1]:.4g}", fontsize=9)
        axes.set_xlabel("step", fontsize=8)
        axes.tick_params(labelsize=7)
        axes.grid(alpha=0.3)
    if title:
        figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


class LiveFigure:
    """A figure kept between redraws, where only the lines' data change.

    About three times faster than building a new figure each time (and no ``tight_layout``).
    """

    def __init__(self) -> None:
        self._keys: tuple[str, ...] = ()
        self._figure: Any = None
        self._lines: dict[str, Any] = {}

    def _build(self, keys: tuple[str, ...], title: str) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        cols = 1 if len(keys) == 1 else 2
        rows = -(-len(keys) // cols)
        figure = Figure(figsize=(5.5 * cols if cols > 1 else 6.5, 2.6 * rows), dpi=72)
        FigureCanvasAgg(figure)
        figure.subplots_adjust(
            left=0.09, right=0.97, bottom=0.16, top=0.84, hspace=0.6, wspace=0.25
        )
        figure.suptitle(title, fontsize=9)
        self._lines = {}
        for index, key in enumerate(keys, start=1):
            axes = figure.add_subplot(rows, cols, index)
            axes.tick_params(labelsize=7)
            axes.grid(alpha=0.3)
            (self._lines[key],) = axes.plot([], [], linewidth=1.2)
        self._figure, self._keys = figure, keys

    def render(self, series: dict[str, list[tuple]], title: str) -> bytes:
        """Update the curves and return PNG bytes."""
        keys = tuple(series)
        if keys != self._keys:
            self._build(keys, title)
        for key, points in series.items():
            line = self._lines[key]
            steps, values = zip(*points, strict=True)
            line.set_data(steps, values)
            axes = line.axes
            axes.relim()
            axes.autoscale_view()
            axes.set_title(f"{key} = {values[-1]:.4g}", fontsize=9)
        buffer = io.BytesIO()
        self._figure.savefig(buffer, format="png")
        return buffer.getvalue()


def final_figure_png(store: Any, run_id: str) -> bytes | None:
    """Return the static figure of a run's curves (None when no metric has two points)."""
    series = read_series(store, run_id)
    if not series:
        return None
    return render_png(series, f"run {run_id[:8]}")


class LivePlot:
    """A widget that redraws a run's metric curves while the run logs them.

    Parameters
    ----------
    store : Store
        The store the run logs into.
    run_id : str
        The run to follow.
    min_interval : float
        Seconds between redraws at least.
    """

    def __init__(self, store: Any, run_id: str, min_interval: float = MIN_INTERVAL_S):
        self.store = store
        self.run_id = run_id
        self.min_interval = min_interval
        self.interval = min_interval
        self.redraws = 0
        #: CPU seconds of the listener and the redraws (what the plot costs the user's loop).
        self.busy_seconds = 0.0
        self.widget: Any = None
        self._handle: Any = None
        self._series: dict[str, list[tuple[str, str, int, float, float]]] = {}  # raw points
        self._dirty = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._canvas = LiveFigure()
        self._flusher = store.writer
        self._flusher.listeners.append(self._on_batch)

    def _on_batch(self, batch: list[tuple[str, str, int, float, float]]) -> None:
        # On the flusher's thread: keep this run's points, thinned; no drawing, no I/O.
        started = time.thread_time()
        run_id, series = self.run_id, self._series
        runs = set(map(itemgetter(0), batch))  # C speed; usually only this run logs
        mine = batch if runs == {run_id} else [p for p in batch if p[0] == run_id]
        if not mine:
            self.busy_seconds += time.thread_time() - started
            return
        keys = set(map(itemgetter(1), mine))  # C speed; usually one key
        with self._lock:
            for key in sorted(keys):
                if key not in series and len(series) < MAX_PANELS:
                    series[key] = []
            if len(keys) == 1:
                points = series.get(next(iter(keys)))
                if points is not None:
                    points.extend(mine)
            else:
                for point in mine:
                    points = series.get(point[1])
                    if points is not None:
                        points.append(point)
            for key, points in series.items():
                while len(points) > 2 * MAX_POINTS:
                    points = points[-2::-2][::-1] + [points[-1]]
                series[key] = points
            self._dirty = True
        self.busy_seconds += time.thread_time() - started

    def show(self, display: bool = True) -> None:
        """Create the widget (hidden until there is a curve), display it, start the timer."""
        import ipywidgets

        # Import matplotlib here, once per kernel, rather than in the timer thread where the
        # import would hold the GIL (and the import lock) while the user's loop runs.
        import matplotlib.backends.backend_agg  # noqa: F401
        import matplotlib.figure  # noqa: F401

        self.widget = ipywidgets.Image(format="png", layout=ipywidgets.Layout(display="none"))
        if display:
            from IPython.display import display as show

            self._handle = show(self.widget, display_id=True)
        self._thread = threading.Thread(target=self._loop, name="mlops-live-plot", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.refresh()
            except Exception:  # the store may be closing; the final figure still comes
                self.interval = min(self.interval * 2, 10.0)

    def refresh(self) -> bool:
        """Redraw if new points arrived; return True when it redrew.

        The next wait is stretched so that drawing (its CPU time, during which it holds the GIL)
        takes at most :data:`MAX_BUSY_SHARE` of the wall time.
        """
        with self._lock:
            if not self._dirty:
                return False
            self._dirty = False
            series = {k: [(p[2], p[4]) for p in v] for k, v in self._series.items() if len(v) >= 2}
        if not series:
            return False
        started = time.thread_time()
        png = self._canvas.render(series, f"run {self.run_id[:8]} (live)")
        if self.widget is not None:
            self.widget.value = png
            if self.widget.layout.display == "none":
                self.widget.layout.display = ""
        self.redraws += 1
        spent = time.thread_time() - started
        self.busy_seconds += spent
        self.interval = max(self.min_interval, min(spent / MAX_BUSY_SHARE, MAX_INTERVAL_S))
        return True

    def stop(self) -> None:
        """Stop the timer thread (waits for a redraw in progress)."""
        self._stop.set()
        if self._on_batch in self._flusher.listeners:
            self._flusher.listeners.remove(self._on_batch)
        if self._thread is not None:
            self._thread.join(timeout=30)

    def finish(self) -> bytes | None:
        """Stop, then replace the widget's output by the static figure (or nothing)."""
        self.stop()
        png = None
        try:
            png = final_figure_png(self.store, self.run_id)
        finally:
            if self._handle is not None:
                if png is not None:
                    from IPython.display import Image

                    self._handle.update(Image(png))
                else:
                    self._handle.update({"text/plain": ""}, raw=True)
            if self.widget is not None:
                self.widget.close()
        return png
