"""The audit trail: who changed which alias, deployment, schedule, alert, automation or model.

:func:`record_change` is called by each repository **inside its own write transaction**, with
the connection of that transaction, so a change and its audit row commit (or roll back)
together: a failed change records nothing, and no change goes unrecorded. Who made it is
:func:`kernel_magics.core.actor.current_actor` (the Jupyter user of a server request, else the
OS user). :class:`AuditRepository` (``store.audit``) lists the entries.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, insert, or_, select

from ...errors import ValidationError
from ..actor import current_actor
from ..names import AUDIT_KINDS
from .db import Database
from .schema_audit import audit_log

__all__ = ["AuditEntry", "AuditPage", "AuditRepository", "record_change"]

#: The most entries one page holds (``mlops audit`` and ``GET audit`` page through the rest).
MAX_PAGE = 1000


@dataclass
class AuditEntry:
    """One recorded change."""

    id: int
    at: float
    actor: str
    kind: str
    target: str
    action: str
    detail: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return asdict(self)


@dataclass
class AuditPage:
    """A page of entries, newest first, and the cursor of the next (older) page."""

    entries: list[AuditEntry]
    #: Pass as ``before`` to get the next page; None when this is the last one.
    next_before: int | None = None


def check_kind(kind: str) -> str:
    """Return ``kind`` if it is an audit kind.

    Raises
    ------
    ValidationError
        For anything else (the message lists the kinds).
    """
    if kind not in AUDIT_KINDS:
        raise ValidationError(f"Unknown audit kind {kind!r}: use one of {', '.join(AUDIT_KINDS)}.")
    return kind


def record_change(
    conn: Connection,
    kind: str,
    target: str,
    action: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Write one audit row in the caller's write transaction.

    Parameters
    ----------
    conn : Connection
        The connection of the write transaction making the change (``with db.write() as conn``).
    kind : str
        One of :data:`kernel_magics.core.names.AUDIT_KINDS`.
    target : str
        What changed, as a person names it: ``churn@production``, ``deployment 3``, a schedule
        or alert rule name, ``churn/7``.
    action : str
        What happened: ``set``, ``move``, ``delete``, ``create``, ``stop``, ``rollback``,
        ``pause``, ``resume``, ...
    detail : dict, optional
        JSON-serializable facts worth keeping (from and to versions, a reason).

    Raises
    ------
    ValidationError
        For an unknown ``kind`` (a programming error: the change rolls back with it).
    """
    check_kind(kind)
    conn.execute(
        insert(audit_log).values(
            at=time.time(),
            actor=current_actor(),
            kind=kind,
            target=target,
            action=action,
            detail=None if detail is None else json.dumps(detail, sort_keys=True, default=str),
        )
    )


def _entry(row: Any) -> AuditEntry:
    data = dict(row)
    data["detail"] = json.loads(data["detail"]) if data["detail"] else None
    return AuditEntry(**data)


class AuditRepository:
    """Reads of the audit trail (the writes happen in :func:`record_change`)."""

    def __init__(self, db: Database):
        self.db = db

    def list(
        self,
        since: float | None = None,
        kind: str | None = None,
        target: str | None = None,
        limit: int = 100,
        before: int | None = None,
    ) -> AuditPage:
        """Return entries newest first, filtered and paged.

        Parameters
        ----------
        since : float, optional
            Only changes at or after this UTC epoch time.
        kind : str, optional
            Only this kind (one of :data:`~kernel_magics.core.names.AUDIT_KINDS`).
        target : str, optional
            Only this target, or the targets inside it: ``churn`` also matches ``churn@prod``
            and ``churn/7`` (a model's history holds its aliases' and versions').
        limit : int
            Entries per page (1 to :data:`MAX_PAGE`).
        before : int, optional
            The ``next_before`` cursor of the previous page.

        Raises
        ------
        ValidationError
            For an unknown kind or a limit out of range.
        """
        if kind is not None:
            check_kind(kind)
        if not 1 <= limit <= MAX_PAGE:
            raise ValidationError(f"limit must be between 1 and {MAX_PAGE}; got {limit}.")
        query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit + 1)
        if since is not None:
            query = query.where(audit_log.c.at >= since)
        if kind is not None:
            query = query.where(audit_log.c.kind == kind)
        if target is not None:
            # startswith(autoescape) so a % or _ in a name is matched literally
            query = query.where(
                or_(
                    audit_log.c.target == target,
                    audit_log.c.target.startswith(target + "@", autoescape=True),
                    audit_log.c.target.startswith(target + "/", autoescape=True),
                )
            )
        if before is not None:
            query = query.where(audit_log.c.id < before)
        with self.db.read() as conn:
            rows = conn.execute(query).mappings().all()
        entries = [_entry(r) for r in rows[:limit]]
        more = len(rows) > limit
        return AuditPage(entries, entries[-1].id if more and entries else None)
