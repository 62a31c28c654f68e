"""Monitoring records: per-bucket request statistics, predictions by request id, labels.

The model server's collector (:mod:`kernel_magics.core.monitoring.collector`) and batch
monitoring write here; the analysis (:mod:`kernel_magics.core.monitoring.windows`) and the
alerts read. Counts are stored as JSON in the shapes of :mod:`kernel_magics.core.monitoring.counts`
so adding a feature needs no schema change.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import and_, insert, select

from ..names import MONITORING_SOURCES
from ..registry.records import ModelRef
from .db import Database
from .model_aliases import find_model_id, find_version
from .schema import model_versions, models
from .schema_monitoring import monitoring_buckets, monitoring_labels, monitoring_predictions
from .upsert import upsert

#: Keys of one (request id, row) pair, the unit labels are joined on.
RowKey = tuple[str, int]
#: The most (request, row) keys one IN query asks about (SQLite's variable limit is 32,766).
KEY_CHUNK = 5_000


@dataclass(frozen=True)
class MonitoringBucket:
    """The statistics of one time bucket of one model server (or of one batch).

    ``latency`` holds counts over :data:`kernel_magics.core.monitoring.counts.LATENCY_EDGES_MS`
    (one more count than edges: below the first edge ... at or above the last).
    ``features`` maps each input feature to its counts and ``prediction`` holds the
    predictions' counts (None when nothing was predicted): numeric
    ``{"bins": [...], "below": n, "above": n, "missing": n}`` over the training profile's
    histogram edges, categorical ``{"categories": {value: n}, "unseen": n, "missing": n}``.
    """

    model: str
    version: int
    model_version_id: int
    deployment_id: int | None
    source: str
    start: float
    seconds: float
    requests: int
    errors: int
    rows: int
    latency: list[int]
    features: dict[str, dict[str, Any]]
    prediction: dict[str, Any] | None

    @property
    def end(self) -> float:
        """When the bucket closed (epoch seconds)."""
        return self.start + self.seconds


@dataclass(frozen=True)
class KeptPrediction:
    """What a model predicted for one row of one request."""

    request_id: str
    row: int
    at: float
    model_version_id: int
    deployment_id: int | None
    prediction: Any
    score: float | None


@dataclass(frozen=True)
class LabelledPrediction:
    """A kept prediction joined with the label that arrived for it later."""

    request_id: str
    row: int
    at: float
    version: int
    prediction: Any
    score: float | None
    label: Any


_PREDICTION_COLUMNS = ("model_version_id", "deployment_id", "request_id", "row", "at",
                       "prediction", "score")  # fmt: skip


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()


class MonitoringRepository:
    """Write and read monitoring buckets, kept predictions and labels."""

    def __init__(self, db: Database):
        self.db = db

    # -- buckets -----------------------------------------------------------------------------
    def add_bucket(
        self,
        model_version_id: int,
        *,
        source: str,
        start: float,
        seconds: float,
        requests: int,
        errors: int,
        rows: int,
        latency: Sequence[int],
        features: dict[str, dict[str, Any]],
        prediction: dict[str, Any] | None,
        deployment_id: int | None = None,
    ) -> int:
        """Record one closed bucket; return its id.

        Raises
        ------
        ValueError
            For a source other than ``"serving"`` or ``"batch"``.
        """
        if source not in MONITORING_SOURCES:
            raise ValueError(f"source must be one of {MONITORING_SOURCES}, not {source!r}")
        with self.db.write() as conn:
            result = conn.execute(
                insert(monitoring_buckets).values(
                    model_version_id=model_version_id,
                    deployment_id=deployment_id,
                    source=source,
                    start=float(start),
                    seconds=float(seconds),
                    requests=int(requests),
                    errors=int(errors),
                    rows=int(rows),
                    latency=_json(list(latency)),
                    features=_json(features),
                    prediction=_json(prediction) if prediction is not None else None,
                    created_at=time.time(),
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    def buckets(
        self,
        model: str,
        version: int | None = None,
        since: float | None = None,
        until: float | None = None,
        deployment_id: int | None = None,
        source: str | None = None,
    ) -> list[MonitoringBucket]:
        """Return a model's buckets, oldest first.

        Parameters
        ----------
        model : str
            The registered model's name (or a reference such as ``churn@production`` or
            ``churn/3``, which selects that version unless ``version`` is given).
        version : int, optional
            Only this version's buckets (all versions otherwise).
        since, until : float, optional
            Buckets that *start* in ``[since, until)`` (epoch seconds).
        deployment_id : int, optional
            Only this deployment's buckets.
        source : str, optional
            ``"serving"`` or ``"batch"`` only.

        Raises
        ------
        ModelNotFoundError
            When the model (or the alias or version in the reference) does not exist.
        """
        t = monitoring_buckets
        with self.db.read() as conn:
            name, version_id = self._scope(conn, model, version)
            query = (
                select(t, models.c.name.label("model_name"), model_versions.c.version)
                .join(model_versions, model_versions.c.id == t.c.model_version_id)
                .join(models, models.c.id == model_versions.c.model_id)
                .where(models.c.name == name)
                .order_by(t.c.start, t.c.id)
            )
            if version_id is not None:
                query = query.where(t.c.model_version_id == version_id)
            if since is not None:
                query = query.where(t.c.start >= since)
            if until is not None:
                query = query.where(t.c.start < until)
            if deployment_id is not None:
                query = query.where(t.c.deployment_id == deployment_id)
            if source is not None:
                query = query.where(t.c.source == source)
            rows = conn.execute(query).mappings().all()
        return [
            MonitoringBucket(
                model=r["model_name"],
                version=r["version"],
                model_version_id=r["model_version_id"],
                deployment_id=r["deployment_id"],
                source=r["source"],
                start=r["start"],
                seconds=r["seconds"],
                requests=r["requests"],
                errors=r["errors"],
                rows=r["rows"],
                latency=orjson.loads(r["latency"]),
                features=orjson.loads(r["features"]),
                prediction=orjson.loads(r["prediction"]) if r["prediction"] else None,
            )
            for r in rows
        ]

    # -- predictions kept by request id ------------------------------------------------------
    def add_predictions(self, rows: Sequence[dict[str, Any]]) -> int:
        """Keep predictions in one transaction; return how many.

        Each row is a dict with ``model_version_id``, ``deployment_id``, ``request_id``,
        ``row``, ``at``, ``prediction`` (any JSON scalar) and ``score`` (float or None).
        """
        if not rows:
            return 0
        values = [(r["model_version_id"], r["deployment_id"], r["request_id"], r["row"], r["at"],
                   _json(r["prediction"]), r["score"]) for r in rows]  # fmt: skip
        with self.db.write() as conn:
            # The driver's executemany with plain tuples: a model server keeps every row it
            # predicts, and SQLAlchemy's per-row parameter processing costs 5x the INSERT.
            mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
            quote = conn.dialect.identifier_preparer.quote
            names = ", ".join(quote(c) for c in _PREDICTION_COLUMNS)
            conn.exec_driver_sql(
                f"INSERT INTO monitoring_predictions ({names}) "
                f"VALUES ({', '.join([mark] * len(_PREDICTION_COLUMNS))})",
                values,
            )
        return len(values)

    def predictions(self, model: str, request_ids: Iterable[str]) -> list[KeptPrediction]:
        """Return the kept predictions of these requests (every row of each), by request id.

        Raises
        ------
        ModelNotFoundError
            When no model has that name.
        """
        p = monitoring_predictions
        ids = list(dict.fromkeys(request_ids))
        out: list[KeptPrediction] = []
        with self.db.read() as conn:
            model_id = find_model_id(conn, _model_name(model))
            for chunk in _chunks(ids, KEY_CHUNK):
                rows = conn.execute(
                    select(p)
                    .join(model_versions, model_versions.c.id == p.c.model_version_id)
                    .where(model_versions.c.model_id == model_id, p.c.request_id.in_(chunk))
                    .order_by(p.c.at, p.c.request_id, p.c.row)
                ).mappings()
                out.extend(
                    KeptPrediction(
                        request_id=r["request_id"],
                        row=r["row"],
                        at=r["at"],
                        model_version_id=r["model_version_id"],
                        deployment_id=r["deployment_id"],
                        prediction=orjson.loads(r["prediction"]),
                        score=r["score"],
                    )
                    for r in rows
                )
        return out

    # -- labels ------------------------------------------------------------------------------
    def add_labels(self, model: str, labels: Sequence[tuple[str, int, Any]]) -> tuple[int, int]:
        """Store labels ``(request_id, row, label)`` of a model; return (matched, unknown).

        Every label is kept (a later label for the same row replaces the earlier one), so a
        label that arrives before its prediction was written still joins once it is. *Matched*
        counts the labels whose row has a kept prediction of this model now.

        Raises
        ------
        ModelNotFoundError
            When no model has that name.
        """
        if not labels:
            return 0, 0
        now = time.time()
        with self.db.write() as conn:
            model_id = find_model_id(conn, _model_name(model))
            values = [
                {
                    "model_id": model_id,
                    "request_id": rid,
                    "row": int(row),
                    "label": _json(label),
                    "at": now,
                }  # fmt: skip
                for rid, row, label in labels
            ]
            for chunk in _chunks(values, KEY_CHUNK):
                upsert(
                    conn,
                    monitoring_labels,
                    chunk,
                    keys=("model_id", "request_id", "row"),
                    update_columns=("label", "at"),
                )
            keys = list(dict.fromkeys((rid, int(row)) for rid, row, _ in labels))
            matched = len(_found(conn, model_id, keys))
        return matched, len(keys) - matched

    def unknown_keys(self, model: str, keys: Sequence[RowKey]) -> list[RowKey]:
        """Of these (request id, row) keys, the ones with no kept prediction of ``model``."""
        unique = list(dict.fromkeys(keys))
        with self.db.read() as conn:
            found = _found(conn, find_model_id(conn, _model_name(model)), unique)
        return [k for k in unique if k not in found]

    def labelled(
        self,
        model: str,
        since: float | None = None,
        until: float | None = None,
        version: int | None = None,
    ) -> list[LabelledPrediction]:
        """Return predictions made in ``[since, until)`` that have a label, oldest first.

        Parameters
        ----------
        model : str
            The model's name, or a reference (``churn@production`` selects that version's
            predictions unless ``version`` is given).
        since, until : float, optional
            When the prediction was made (epoch seconds).
        version : int, optional
            Only this version's predictions.
        """
        p, lab = monitoring_predictions, monitoring_labels
        with self.db.read() as conn:
            name, version_id = self._scope(conn, model, version)
            model_id = find_model_id(conn, name)
            query = (
                select(p, lab.c.label, model_versions.c.version)
                .join(model_versions, model_versions.c.id == p.c.model_version_id)
                .join(
                    lab,
                    and_(
                        lab.c.model_id == model_id,
                        lab.c.request_id == p.c.request_id,
                        lab.c.row == p.c.row,
                    ),
                )
                .where(model_versions.c.model_id == model_id)
                .order_by(p.c.at, p.c.id)
            )
            if version_id is not None:
                query = query.where(p.c.model_version_id == version_id)
            if since is not None:
                query = query.where(p.c.at >= since)
            if until is not None:
                query = query.where(p.c.at < until)
            rows = conn.execute(query).mappings().all()
        return [
            LabelledPrediction(
                request_id=r["request_id"],
                row=r["row"],
                at=r["at"],
                version=r["version"],
                prediction=orjson.loads(r["prediction"]),
                score=r["score"],
                label=orjson.loads(r["label"]),
            )
            for r in rows
        ]

    # -- helpers -----------------------------------------------------------------------------
    @staticmethod
    def _scope(conn: Any, model: str, version: int | None) -> tuple[str, int | None]:
        """The model name and, when a version or alias is named, that version's row id."""
        from ..registry.records import parse_ref

        ref = parse_ref(model)
        if version is not None:
            ref = ModelRef(ref.name, version=version)
        if ref.version is None and ref.alias is None:
            find_model_id(conn, ref.name)  # raises ModelNotFoundError for an unknown name
            return ref.name, None
        return ref.name, int(find_version(conn, ref).id)


def _model_name(model: str) -> str:
    """The model name of a reference (``churn@production`` -> ``churn``)."""
    from ..registry.records import parse_ref

    return parse_ref(model).name


def _found(conn: Any, model_id: int, keys: list[RowKey]) -> set[RowKey]:
    """The keys among ``keys`` that have a kept prediction of the model ``model_id``."""
    p = monitoring_predictions
    wanted, found = set(keys), set[RowKey]()
    for chunk in _chunks(keys, KEY_CHUNK):
        rows = conn.execute(
            select(p.c.request_id, p.c.row)
            .join(model_versions, model_versions.c.id == p.c.model_version_id)
            .where(
                model_versions.c.model_id == model_id,
                p.c.request_id.in_({rid for rid, _ in chunk}),
            )
        ).all()
        found.update(k for k in ((r.request_id, r.row) for r in rows) if k in wanted)
    return found


def _chunks(items: list, size: int) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


__all__ = [
    "KeptPrediction",
    "LabelledPrediction",
    "MonitoringBucket",
    "MonitoringRepository",
    "RowKey",
]
