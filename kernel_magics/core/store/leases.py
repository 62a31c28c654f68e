"""Named leases with an owner and an expiry.

The scheduler uses them twice: the ``scheduler`` leader lease (on SQLite only its holder claims
slots) and one ``heartbeat/<owner>`` lease per live scheduler (``mlops schedule ls`` shows who
runs the store). A lease is held while it is renewed before ``expires_at``; an expired lease is
free for anyone.
"""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from .db import Database
from .schema import leases


class LeaseRepository:
    """Take, renew, give up and list named leases."""

    def __init__(self, db: Database):
        self.db = db

    def acquire(self, name: str, owner: str, now: float, ttl: float) -> bool:
        """Take or renew the named lease for ``owner``; False while someone else holds it."""
        try:
            with self.db.write() as conn:
                row = conn.execute(
                    select(leases).where(leases.c.name == name).with_for_update()
                ).first()
                if row is None:
                    conn.execute(
                        leases.insert().values(name=name, owner=owner, expires_at=now + ttl)
                    )
                    return True
                if row.owner != owner and row.expires_at >= now:
                    return False
                conn.execute(update(leases).where(leases.c.name == name)
                             .values(owner=owner, expires_at=now + ttl))  # fmt: skip
                return True
        except IntegrityError:  # another scheduler inserted it first
            return False

    def release(self, name: str, owner: str) -> None:
        """Give the lease up (a clean shutdown lets a standby take over at once)."""
        with self.db.write() as conn:
            conn.execute(update(leases).where(leases.c.name == name, leases.c.owner == owner)
                         .values(expires_at=0.0))  # fmt: skip

    def drop(self, name: str, owner: str) -> None:
        """Delete a lease row ``owner`` holds (a scheduler's heartbeat on clean shutdown)."""
        with self.db.write() as conn:
            conn.execute(delete(leases).where(leases.c.name == name, leases.c.owner == owner))

    def prune(self, prefix: str, before: float) -> int:
        """Delete the leases named ``prefix...`` that expired before ``before``; return how many."""
        with self.db.write() as conn:
            return conn.execute(
                delete(leases).where(
                    leases.c.name.startswith(prefix, autoescape=True), leases.c.expires_at < before
                )
            ).rowcount

    def live(self, prefix: str, now: float) -> list[tuple[str, float]]:
        """``(owner, expires_at)`` of the unexpired leases whose name starts with ``prefix``."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(leases.c.owner, leases.c.expires_at)
                .where(
                    leases.c.name.startswith(prefix, autoescape=True), leases.c.expires_at >= now
                )
                .order_by(leases.c.owner)
            ).all()
        return [(r.owner, r.expires_at) for r in rows]

    def holder(self, name: str) -> tuple[str, float] | None:
        """``(owner, expires_at)`` of a lease, or None when nobody ever took it."""
        with self.db.read() as conn:
            row = conn.execute(select(leases.c.owner, leases.c.expires_at)
                               .where(leases.c.name == name)).first()  # fmt: skip
        return (row.owner, row.expires_at) if row else None
