"""Aliases of registered models (``churn@production``) and the history of their moves.

An alias points at one version of its model. Every move is recorded (from which version to
which, when and why), so ``mlops rollback`` can walk the history back and the panel can show it.
The lookups shared with :mod:`.models` (a model's id, the version a reference names) live here.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from ...errors import ConflictError, ModelNotFoundError
from ..actor import current_actor
from ..registry.records import AliasMove, ModelRef, check_alias
from .audit import record_change
from .db import Database
from .schema import model_alias_history, model_aliases, model_versions, models
from .upsert import upsert

#: The reason of an alias move made by ``mlops rollback`` starts with this.
ROLLBACK_REASON = "rollback"
#: The reason of a move to the version the alias already points at (not recorded).
UNCHANGED = "unchanged"


def find_model_id(conn: Connection, name: str) -> int:
    """Return the id of the model ``name``.

    Raises
    ------
    ModelNotFoundError
        When no model has that name (the message says how to register or list them).
    """
    model_id = conn.execute(select(models.c.id).where(models.c.name == name)).scalar()
    if model_id is None:
        raise ModelNotFoundError(
            f"No model named {name!r}. Register one with mlops.log_model(model, {name!r}, "
            "input_example=X), or list models with `mlops models ls`."
        )
    return model_id


def find_version(conn: Connection, ref: ModelRef) -> Any:
    """Return the ``model_versions`` row ``ref`` names (latest when it names no version/alias).

    Raises
    ------
    ModelNotFoundError
        When the model, the version or the alias does not exist.
    """
    model_id = find_model_id(conn, ref.name)
    query = select(model_versions).where(model_versions.c.model_id == model_id)
    if ref.alias is not None:
        version_id = conn.execute(
            select(model_aliases.c.model_version_id).where(
                model_aliases.c.model_id == model_id, model_aliases.c.alias == ref.alias
            )
        ).scalar()
        if version_id is None:
            raise ModelNotFoundError(
                f"Model {ref.name!r} has no alias {ref.alias!r}. Set it with "
                f"`mlops models alias {ref.name} {ref.alias} VERSION`."
            )
        query = query.where(model_versions.c.id == version_id)
    elif ref.version is not None:
        query = query.where(model_versions.c.version == ref.version)
    else:
        query = query.order_by(model_versions.c.version.desc()).limit(1)
    row = conn.execute(query).mappings().first()
    if row is None:
        raise ModelNotFoundError(
            f"Model {ref.name!r} has no version {ref.version}."
            if ref.version is not None
            else f"Model {ref.name!r} has no versions."
        )
    return row


def version_number(conn: Connection, version_id: int | None) -> int | None:
    """Return the version number of a ``model_versions`` row id (None for None)."""
    if version_id is None:
        return None
    return conn.execute(
        select(model_versions.c.version).where(model_versions.c.id == version_id)
    ).scalar()


class ModelAliases:
    """Alias moves and their history; :class:`~.models.ModelRepository` inherits them."""

    db: Database

    def set_alias(
        self, name: str, alias: str, version: int, reason: str | None = None
    ) -> AliasMove:
        """Point ``alias`` at ``version`` and record the move (a no-op move is not recorded)."""
        check_alias(alias)
        now, actor = time.time(), current_actor()
        with self.db.write() as conn:
            target = find_version(conn, ModelRef(name, version=version))
            model_id = target["model_id"]
            current = conn.execute(
                select(model_aliases.c.model_version_id).where(
                    model_aliases.c.model_id == model_id, model_aliases.c.alias == alias
                )
            ).scalar()
            from_version = version_number(conn, current)
            if current == target["id"]:
                return AliasMove(alias, from_version, version, now, UNCHANGED)
            upsert(
                conn,
                model_aliases,
                [
                    {
                        "model_id": model_id,
                        "alias": alias,
                        "model_version_id": target["id"],
                        "updated_at": now,
                    }
                ],
                ["model_id", "alias"],
                ["model_version_id", "updated_at"],
            )
            conn.execute(
                insert(model_alias_history).values(
                    model_id=model_id,
                    alias=alias,
                    from_version_id=current,
                    to_version_id=target["id"],
                    changed_at=now,
                    reason=reason,
                    actor=actor,
                )
            )
            conn.execute(update(models).where(models.c.id == model_id).values(updated_at=now))
            if reason and reason.startswith(ROLLBACK_REASON):
                action = "rollback"
            else:
                action = "set" if current is None else "move"
            detail = {"from_version": from_version, "to_version": version, "reason": reason}
            record_change(conn, "alias", f"{name}@{alias}", action, detail)
        return AliasMove(alias, from_version, version, now, reason, actor)

    def delete_alias(self, name: str, alias: str, reason: str | None = None) -> AliasMove:
        """Remove ``alias`` (recorded in the history as a move to no version)."""
        now, actor = time.time(), current_actor()
        with self.db.write() as conn:
            model_id = find_model_id(conn, name)
            current = conn.execute(
                select(model_aliases.c.model_version_id).where(
                    model_aliases.c.model_id == model_id, model_aliases.c.alias == alias
                )
            ).scalar()
            if current is None:
                raise ModelNotFoundError(f"Model {name!r} has no alias {alias!r}.")
            from_version = version_number(conn, current)
            conn.execute(
                delete(model_aliases).where(
                    model_aliases.c.model_id == model_id, model_aliases.c.alias == alias
                )
            )
            conn.execute(
                insert(model_alias_history).values(
                    model_id=model_id,
                    alias=alias,
                    from_version_id=current,
                    to_version_id=None,
                    changed_at=now,
                    reason=reason,
                    actor=actor,
                )
            )
            detail = {"from_version": from_version, "to_version": None, "reason": reason}
            record_change(conn, "alias", f"{name}@{alias}", "delete", detail)
        return AliasMove(alias, from_version, None, now, reason, actor)

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasMove]:
        """Every recorded move of the model's aliases (or of one alias), oldest first."""
        from_v = model_versions.alias("from_v")
        to_v = model_versions.alias("to_v")
        with self.db.read() as conn:
            model_id = find_model_id(conn, name)
            query = (
                select(
                    model_alias_history.c.alias,
                    from_v.c.version.label("from_version"),
                    to_v.c.version.label("to_version"),
                    model_alias_history.c.changed_at,
                    model_alias_history.c.reason,
                    model_alias_history.c.actor,
                )
                .select_from(
                    model_alias_history.outerjoin(
                        from_v, from_v.c.id == model_alias_history.c.from_version_id
                    ).outerjoin(to_v, to_v.c.id == model_alias_history.c.to_version_id)
                )
                .where(model_alias_history.c.model_id == model_id)
                .order_by(model_alias_history.c.changed_at, model_alias_history.c.id)
            )
            if alias is not None:
                query = query.where(model_alias_history.c.alias == alias)
            return [AliasMove(**dict(r)) for r in conn.execute(query).mappings()]

    def rollback_target(self, name: str, alias: str) -> int:
        """Return the version ``alias`` pointed at before its current one, skipping undone moves.

        The history is replayed as a stack: a normal move pushes its target, a rollback pops the
        current version, and deleting the alias clears the stack. Rolling back twice therefore
        walks two promotions back instead of flip-flopping between two versions.

        Raises
        ------
        ConflictError
            When the alias has no earlier version to go back to.
        """
        stack: list[int] = []
        for move in self.alias_history(name, alias):
            if move.to_version is None:
                stack.clear()
            elif move.reason and move.reason.startswith(ROLLBACK_REASON):
                if stack:
                    stack.pop()
                if not stack or stack[-1] != move.to_version:
                    stack.append(move.to_version)
            elif move.reason != UNCHANGED:
                stack.append(move.to_version)
        if len(stack) < 2:
            raise ConflictError(
                f"{name}@{alias} has no earlier version to roll back to (history: "
                f"{' -> '.join(map(str, stack)) or 'empty'}). Point it at a version explicitly "
                f"with `mlops models alias {name} {alias} VERSION`."
            )
        return stack[-2]
