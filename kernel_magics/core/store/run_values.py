"""Params and tags of runs: checked keys, values stored as text, params immutable."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, delete, select

from ...errors import InvalidParamError, RunNotFoundError
from .db import Database
from .schema import params, runs, tags
from .upsert import upsert

MAX_VALUE_LEN = 6000


def require_run(conn: Connection, run_id: str) -> None:
    """Raise :class:`RunNotFoundError` unless the run exists (inside ``conn``'s transaction)."""
    if conn.execute(select(runs.c.id).where(runs.c.id == run_id)).first() is None:
        raise RunNotFoundError(
            f"No run with id {run_id!r}. List runs with `mlops runs ls` or mlops.runs()."
        )


def stringify(key: Any, value: Any, kind: str = "param") -> tuple[str, str]:
    """Check a param/tag key and turn its value into the stored string.

    Raises
    ------
    InvalidParamError
        When the key is empty or too long, or the value is too long to store.
    """
    if not isinstance(key, str) or not key.strip() or len(key) > 255:
        raise InvalidParamError(f"A {kind} name must be a non-empty string of at most 255 chars.")
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        value = value.item()  # np.float64(0.1) is stored as "0.1", not "np.float64(0.1)"
    text = value if isinstance(value, str) else repr(value) if not _is_plain(value) else str(value)
    if len(text) > MAX_VALUE_LEN:
        raise InvalidParamError(
            f"The value of {kind} {key!r} is {len(text)} characters long (the limit is "
            f"{MAX_VALUE_LEN}); log it as an artifact with log_text or log_dict instead."
        )
    return key, text


def _is_plain(value: Any) -> bool:
    return isinstance(value, (int, float, bool)) or value is None


class RunValuesMixin:
    """The params and tags half of :class:`~kernel_magics.core.store.runs.RunRepository`."""

    db: Database

    def _insert_params(self, conn: Connection, run_id: str, values: Mapping[str, Any]) -> None:
        rows = [
            dict(zip(("key", "value"), stringify(k, v), strict=True)) for k, v in values.items()
        ]
        existing = dict(
            conn.execute(
                select(params.c.key, params.c.value).where(
                    params.c.run_id == run_id, params.c.key.in_([r["key"] for r in rows])
                )
            ).all()
        )
        fresh = []
        for r in rows:
            old = existing.get(r["key"])
            if old is None:
                fresh.append({"run_id": run_id, **r})
            elif old != r["value"]:
                raise InvalidParamError(
                    f"Param {r['key']!r} of run {run_id[:8]} is already {old!r}; params are "
                    f"immutable, so {r['value']!r} was not stored. Start a new run to change it, "
                    "or record changing values as metrics or tags."
                )
        if fresh:
            conn.execute(params.insert(), fresh)

    def _upsert_tags(self, conn: Connection, run_id: str, values: Mapping[str, Any]) -> None:
        rows = []
        for k, v in values.items():
            key, text = stringify(k, v, "tag")
            rows.append({"run_id": run_id, "key": key, "value": text})
        upsert(conn, tags, rows, ["run_id", "key"], ["value"])

    def log_params(self, run_id: str, values: Mapping[str, Any]) -> None:
        """Record params (immutable: a different value for a logged key is an error)."""
        if values:
            with self.db.write() as conn:
                require_run(conn, run_id)
                self._insert_params(conn, run_id, values)

    def set_tags(self, run_id: str, values: Mapping[str, Any]) -> None:
        """Set (or overwrite) tags."""
        if values:
            with self.db.write() as conn:
                require_run(conn, run_id)
                self._upsert_tags(conn, run_id, values)

    def delete_tags(self, run_id: str, keys: Sequence[str]) -> None:
        """Remove tags (keys the run does not have are ignored)."""
        if keys:
            with self.db.write() as conn:
                require_run(conn, run_id)
                conn.execute(delete(tags).where(tags.c.run_id == run_id, tags.c.key.in_(keys)))
