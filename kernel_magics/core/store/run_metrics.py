"""Metric points of runs: the flush path's batch insert and the thinned series read."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from operator import itemgetter
from typing import TypedDict

from sqlalchemy import Connection, func, select

from .db import Database
from .run_values import require_run
from .schema import latest_metrics, metrics
from .upsert import upsert


class MetricColumns(TypedDict):
    """One metric series as columns: ``steps[i]`` and ``values[i]`` are one point."""

    steps: list[int]
    values: list[float]


class RunMetricsMixin:
    """The metrics half of :class:`~kernel_magics.core.store.runs.RunRepository`."""

    db: Database

    def write_metrics(
        self, conn: Connection, points: Sequence[tuple[str, str, int, float, float]]
    ) -> None:
        """Append metric points ``(run_id, key, step, timestamp, value)`` and update latest values.

        Called by the flusher inside its one transaction per flush.
        """
        if not points:
            return
        latest: dict[tuple[str, str], tuple] = {}
        for point in points:  # in logging order, so the last one wins
            current = latest.get((point[0], point[1]))
            if current is None or point[2] >= current[2]:
                latest[(point[0], point[1])] = point
        names = ("run_id", "key", "step", "timestamp", "value")
        upsert(
            conn,
            latest_metrics,
            [dict(zip(names, p, strict=True)) for p in latest.values()],
            ["run_id", "key"],
            ["value", "step", "timestamp"],
            only_if_newer="step",
        )
        # Look the series ids up inside this transaction (never cached across transactions: a
        # rolled-back insert's id could be handed to another series later).
        run_ids = {run_id for run_id, _ in latest}
        series = {
            (r.run_id, r.key): r.id
            for r in conn.execute(
                select(latest_metrics.c.id, latest_metrics.c.run_id, latest_metrics.c.key).where(
                    latest_metrics.c.run_id.in_(run_ids)
                )
            )
        }
        rows = [(series[(p[0], p[1])], p[2], p[3], p[4]) for p in points]
        # The driver's executemany with plain tuples: the hot path, 3x faster than building a
        # dict per point for SQLAlchemy's executemany.
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        conn.exec_driver_sql(
            f"INSERT INTO metrics (series_id, step, timestamp, value) "
            f"VALUES ({mark}, {mark}, {mark}, {mark})",
            rows,
        )

    def metric_history(self, run_id: str, key: str, max_points: int | None = None) -> list[dict]:
        """Return the points of one metric in step order, evenly thinned to ``max_points``.

        Thinning happens in SQL (every n-th row by step) and always keeps the last point.
        """
        with self.db.read() as conn:
            require_run(conn, run_id)
            series_id = conn.execute(
                select(latest_metrics.c.id).where(
                    latest_metrics.c.run_id == run_id, latest_metrics.c.key == key
                )
            ).scalar()
            where = metrics.c.series_id == series_id
            count = select(func.count()).select_from(metrics).where(where)
            total = conn.execute(count).scalar_one()
            cols = [metrics.c.step, metrics.c.timestamp, metrics.c.value]
            query = select(*cols).where(where).order_by(metrics.c.step, metrics.c.timestamp)
            if max_points and total > max_points:
                # One slot is kept for the last point, so at most max_points come back.
                stride = -(-total // max(max_points - 1, 1))
                ranked = (
                    select(
                        *cols,
                        func.row_number()
                        .over(order_by=(metrics.c.step, metrics.c.timestamp))
                        .label("rn"),
                    )
                    .where(where)
                    .subquery()
                )
                query = (
                    select(ranked.c.step, ranked.c.timestamp, ranked.c.value)
                    .where(((ranked.c.rn - 1) % stride == 0) | (ranked.c.rn == total))
                    .order_by(ranked.c.rn)
                )
            rows = conn.execute(query).all()
        return [{"step": r.step, "timestamp": r.timestamp, "value": r.value} for r in rows]

    def metric_histories(
        self, run_ids: Sequence[str], key: str, max_points: int | None = None
    ) -> dict[str, MetricColumns]:
        """Return ``{run id: {"steps": [...], "values": [...]}}`` of one metric for many runs.

        Two queries; each series is thinned as :meth:`metric_history` thins it (every n-th
        point by step, the last one kept), and comes back as columns, not one object per
        point: 50 runs x 1,000 points is what a comparison draws. Runs that did not log ``key``
        are absent.
        """
        with self.db.read() as conn:
            owners = dict(
                conn.execute(
                    select(latest_metrics.c.id, latest_metrics.c.run_id).where(
                        latest_metrics.c.run_id.in_(list(run_ids)), latest_metrics.c.key == key
                    )
                ).all()
            )
            if not owners:
                return {}
            rows = conn.execute(
                select(metrics.c.series_id, metrics.c.step, metrics.c.value)
                .where(metrics.c.series_id.in_(list(owners)))
                .order_by(metrics.c.series_id, metrics.c.step, metrics.c.timestamp)
            ).all()
        # A plain ordered read thinned by list slicing measured 2x faster on SQLite than
        # thinning in SQL with row_number() windows over 150,000 rows.
        grouped: dict[str, MetricColumns] = {}
        for series_id, points in groupby(rows, key=itemgetter(0)):
            _, steps, values = zip(*points, strict=True)
            total = len(steps)
            if max_points and total > max_points:
                # One slot is kept for the last point, so at most max_points come back.
                stride = -(-total // max(max_points - 1, 1))
                last = (total - 1) % stride != 0
                steps = steps[::stride] + (steps[-1:] if last else ())
                values = values[::stride] + (values[-1:] if last else ())
            grouped[owners[series_id]] = {"steps": list(steps), "values": list(values)}
        return grouped

    def metric_keys(self, run_id: str) -> list[str]:
        """Names of the metrics a run logged."""
        with self.db.read() as conn:
            query = select(latest_metrics.c.key).where(latest_metrics.c.run_id == run_id)
            return sorted(conn.execute(query).scalars())
