"""SQL for the registry: models, versions, tags, aliases and the history of alias moves.

Everything here goes through the store's :class:`~kernel_magics.core.store.db.Database`
transactions (``BEGIN IMMEDIATE`` on SQLite), so two processes registering versions of one model
at once get consecutive version numbers.
"""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ...errors import ConflictError, ModelNotFoundError
from ..store import Store
from ..store.artifacts import register_blob
from ..store.blobs import BlobRef
from ..store.schema import (
    deployments,
    model_alias_history,
    model_aliases,
    model_version_tags,
    model_versions,
    models,
    prediction_log,
)
from ..store.upsert import upsert
from .records import AliasMove, ModelRecord, ModelRef, ModelVersionRecord, check_alias

ROLLBACK_REASON = "rollback"


class ModelRepository:
    """Create and query models, versions and aliases in one store."""

    def __init__(self, store: Store):
        self.store = store
        self.db = store.db

    # -- models ------------------------------------------------------------------------------
    def _model_id(self, conn: Connection, name: str) -> int:
        model_id = conn.execute(select(models.c.id).where(models.c.name == name)).scalar()
        if model_id is None:
            raise ModelNotFoundError(
                f"No model named {name!r}. Register one with mlops.log_model(model, {name!r}, "
                "input_example=X), or list models with `mlops models ls`."
            )
        return model_id

    def create_version(
        self,
        name: str,
        ref: BlobRef,
        *,
        flavor: str,
        format: str,
        signature: dict[str, Any] | None,
        profile: dict[str, Any] | None,
        run_id: str | None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> ModelVersionRecord:
        """Register the next version of ``name`` (creating the model on first use)."""
        for attempt in range(5):
            try:
                return self._create_version(
                    name, ref, flavor, format, signature, profile, run_id, description, tags or {}
                )
            except IntegrityError:  # a concurrent writer took the same number (PostgreSQL)
                if attempt == 4:
                    raise
        raise AssertionError("unreachable")

    def _create_version(
        self, name, ref, flavor, format, signature, profile, run_id, description, tags
    ) -> ModelVersionRecord:
        now = time.time()
        with self.db.write() as conn:
            register_blob(conn, ref)
            upsert(
                conn,
                models,
                [{"name": name, "created_at": now, "updated_at": now}],
                ["name"],
                ["updated_at"],
            )
            model_id = self._model_id(conn, name)
            last = conn.execute(
                select(func.max(model_versions.c.version)).where(
                    model_versions.c.model_id == model_id
                )
            ).scalar()
            version = (last or 0) + 1
            version_id = conn.execute(
                insert(model_versions).values(
                    model_id=model_id,
                    version=version,
                    run_id=run_id,
                    blob_hash=ref.hash,
                    flavor=flavor,
                    format=format,
                    signature=json.dumps(signature) if signature is not None else None,
                    profile=json.dumps(profile) if profile is not None else None,
                    description=description,
                    created_at=now,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            if tags:
                conn.execute(
                    insert(model_version_tags),
                    [
                        {"model_version_id": version_id, "key": k, "value": str(v)}
                        for k, v in tags.items()
                    ],
                )
        return self.get_version(ModelRef(name, version=version))

    def list_models(self) -> list[ModelRecord]:
        """Every model, by name, with its latest version, version count and aliases."""
        with self.db.read() as conn:
            stats = {
                row.model_id: (row.latest, row.n)
                for row in conn.execute(
                    select(
                        model_versions.c.model_id,
                        func.max(model_versions.c.version).label("latest"),
                        func.count().label("n"),
                    ).group_by(model_versions.c.model_id)
                )
            }
            alias_rows = conn.execute(
                select(model_aliases.c.model_id, model_aliases.c.alias, model_versions.c.version)
                .join(model_versions, model_versions.c.id == model_aliases.c.model_version_id)
                .order_by(model_aliases.c.alias)
            ).all()
            out = []
            for row in conn.execute(select(models).order_by(models.c.name)).mappings():
                latest, count = stats.get(row["id"], (None, 0))
                aliases = {a.alias: a.version for a in alias_rows if a.model_id == row["id"]}
                out.append(
                    ModelRecord(
                        **dict(row), latest_version=latest, version_count=count, aliases=aliases
                    )
                )
        return out

    def get_model(self, name: str) -> ModelRecord:
        """One model by name."""
        for record in self.list_models():
            if record.name == name:
                return record
        with self.db.read() as conn:
            self._model_id(conn, name)  # raises the helpful error
        raise AssertionError("unreachable")

    # -- versions ----------------------------------------------------------------------------
    def _version_row(self, conn: Connection, ref: ModelRef) -> Any:
        model_id = self._model_id(conn, ref.name)
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

    def _record(self, conn: Connection, name: str, row: Any) -> ModelVersionRecord:
        data = dict(row)
        data["signature"] = json.loads(data["signature"]) if data["signature"] else None
        data["profile"] = json.loads(data["profile"]) if data["profile"] else None
        record = ModelVersionRecord(name=name, **data)
        record.tags = dict(
            conn.execute(
                select(model_version_tags.c.key, model_version_tags.c.value).where(
                    model_version_tags.c.model_version_id == row["id"]
                )
            ).all()
        )
        record.aliases = sorted(
            conn.execute(
                select(model_aliases.c.alias).where(model_aliases.c.model_version_id == row["id"])
            ).scalars()
        )
        return record

    def get_version(self, ref: ModelRef) -> ModelVersionRecord:
        """Resolve ``ref`` (latest version when it names neither a version nor an alias)."""
        with self.db.read() as conn:
            return self._record(conn, ref.name, self._version_row(conn, ref))

    def get_version_by_id(self, version_id: int) -> ModelVersionRecord:
        """Return a version by its row id (deployments store this)."""
        with self.db.read() as conn:
            row = (
                conn.execute(
                    select(model_versions, models.c.name)
                    .join(models, models.c.id == model_versions.c.model_id)
                    .where(model_versions.c.id == version_id)
                )
                .mappings()
                .first()
            )
            if row is None:
                raise ModelNotFoundError(f"No model version with id {version_id}.")
            data = {k: v for k, v in row.items() if k != "name"}
            return self._record(conn, row["name"], data)

    def list_versions(self, name: str) -> list[ModelVersionRecord]:
        """Every version of ``name``, newest first."""
        with self.db.read() as conn:
            model_id = self._model_id(conn, name)
            rows = (
                conn.execute(
                    select(model_versions)
                    .where(model_versions.c.model_id == model_id)
                    .order_by(model_versions.c.version.desc())
                )
                .mappings()
                .all()
            )
            return [self._record(conn, name, row) for row in rows]

    def set_version_tags(self, ref: ModelRef, values: dict[str, Any]) -> None:
        """Set (or overwrite) tags of one version."""
        with self.db.write() as conn:
            row = self._version_row(conn, ref)
            upsert(
                conn,
                model_version_tags,
                [
                    {"model_version_id": row["id"], "key": k, "value": str(v)}
                    for k, v in values.items()
                ],
                ["model_version_id", "key"],
                ["value"],
            )

    def set_description(self, ref: ModelRef, description: str) -> None:
        """Set a version's description (or the model's, when ``ref`` is a bare name)."""
        with self.db.write() as conn:
            if ref.version is None and ref.alias is None:
                conn.execute(
                    update(models)
                    .where(models.c.id == self._model_id(conn, ref.name))
                    .values(description=description, updated_at=time.time())
                )
            else:
                row = self._version_row(conn, ref)
                conn.execute(
                    update(model_versions)
                    .where(model_versions.c.id == row["id"])
                    .values(description=description)
                )

    # -- aliases -----------------------------------------------------------------------------
    def set_alias(
        self, name: str, alias: str, version: int, reason: str | None = None
    ) -> AliasMove:
        """Point ``alias`` at ``version`` and record the move (a no-op move is not recorded)."""
        check_alias(alias)
        now = time.time()
        with self.db.write() as conn:
            target = self._version_row(conn, ModelRef(name, version=version))
            model_id = target["model_id"]
            current = conn.execute(
                select(model_aliases.c.model_version_id).where(
                    model_aliases.c.model_id == model_id, model_aliases.c.alias == alias
                )
            ).scalar()
            from_version = self._version_number(conn, current)
            if current == target["id"]:
                return AliasMove(alias, from_version, version, now, "unchanged")
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
                )
            )
            conn.execute(update(models).where(models.c.id == model_id).values(updated_at=now))
        return AliasMove(alias, from_version, version, now, reason)

    def delete_alias(self, name: str, alias: str, reason: str | None = None) -> AliasMove:
        """Remove ``alias`` (recorded in the history as a move to no version)."""
        now = time.time()
        with self.db.write() as conn:
            model_id = self._model_id(conn, name)
            current = conn.execute(
                select(model_aliases.c.model_version_id).where(
                    model_aliases.c.model_id == model_id, model_aliases.c.alias == alias
                )
            ).scalar()
            if current is None:
                raise ModelNotFoundError(f"Model {name!r} has no alias {alias!r}.")
            from_version = self._version_number(conn, current)
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
                )
            )
        return AliasMove(alias, from_version, None, now, reason)

    @staticmethod
    def _version_number(conn: Connection, version_id: int | None) -> int | None:
        if version_id is None:
            return None
        return conn.execute(
            select(model_versions.c.version).where(model_versions.c.id == version_id)
        ).scalar()

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasMove]:
        """Every recorded move of the model's aliases (or of one alias), oldest first."""
        from_v = model_versions.alias("from_v")
        to_v = model_versions.alias("to_v")
        with self.db.read() as conn:
            model_id = self._model_id(conn, name)
            query = (
                select(
                    model_alias_history.c.alias,
                    from_v.c.version.label("from_version"),
                    to_v.c.version.label("to_version"),
                    model_alias_history.c.changed_at,
                    model_alias_history.c.reason,
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
            elif move.reason != "unchanged":
                stack.append(move.to_version)
        if len(stack) < 2:
            raise ConflictError(
                f"{name}@{alias} has no earlier version to roll back to (history: "
                f"{' -> '.join(map(str, stack)) or 'empty'}). Point it at a version explicitly "
                f"with `mlops models alias {name} {alias} VERSION`."
            )
        return stack[-2]

    # -- deletion ----------------------------------------------------------------------------
    def delete(self, ref: ModelRef) -> list[int]:
        """Delete one version (``churn/3``) or a whole model (``churn``); return the versions.

        Raises
        ------
        ConflictError
            When a version to delete is aliased or served by a running deployment.
        """
        with self.db.write() as conn:
            model_id = self._model_id(conn, ref.name)
            query = select(model_versions.c.id, model_versions.c.version).where(
                model_versions.c.model_id == model_id
            )
            whole_model = ref.version is None and ref.alias is None
            if not whole_model:
                query = query.where(model_versions.c.id == self._version_row(conn, ref)["id"])
            rows = conn.execute(query).all()
            ids = [r.id for r in rows]
            live = (
                conn.execute(
                    select(deployments.c.id).where(
                        deployments.c.model_version_id.in_(ids),
                        deployments.c.status.in_(("starting", "running")),
                    )
                )
                .scalars()
                .all()
            )
            if live:
                raise ConflictError(
                    f"{ref} is served by running deployment(s) {', '.join(map(str, live))}; "
                    "stop them first with `mlops deployments stop ID`."
                )
            if not whole_model:
                aliased = (
                    conn.execute(
                        select(model_aliases.c.alias).where(
                            model_aliases.c.model_version_id.in_(ids)
                        )
                    )
                    .scalars()
                    .all()
                )
                if aliased:
                    raise ConflictError(
                        f"{ref} is aliased as {', '.join(aliased)}; move or delete the alias "
                        "first (`mlops models alias NAME ALIAS VERSION` or `--delete`)."
                    )
            h = model_alias_history.c
            conn.execute(
                delete(model_alias_history).where(
                    h.from_version_id.in_(ids) | h.to_version_id.in_(ids)
                )
            )
            conn.execute(delete(model_aliases).where(model_aliases.c.model_version_id.in_(ids)))
            conn.execute(
                update(prediction_log)
                .where(prediction_log.c.model_version_id.in_(ids))
                .values(model_version_id=None)
            )
            conn.execute(delete(deployments).where(deployments.c.model_version_id.in_(ids)))
            conn.execute(delete(model_versions).where(model_versions.c.id.in_(ids)))
            if whole_model:
                conn.execute(delete(models).where(models.c.id == model_id))
        return sorted(r.version for r in rows)
