"""Registered models, their versions and version tags (aliases: :mod:`.model_aliases`).

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
from ..names import NOTE_DEPLOYMENT, NOTE_MODEL_VERSION
from ..registry.records import ModelRecord, ModelRef, ModelVersionRecord
from .artifacts import register_blob
from .audit import record_change
from .blobs import BlobRef, BlobStore
from .db import Database
from .model_aliases import ModelAliases, find_model_id, find_version
from .notes import delete_notes_of
from .schema import (
    deployments,
    model_alias_history,
    model_aliases,
    model_tags,
    model_version_tags,
    model_versions,
    models,
    prediction_log,
)
from .upsert import upsert


class ModelRepository(ModelAliases):
    """Create and query models, versions, their tags and aliases in one store."""

    def __init__(self, db: Database, blobs: BlobStore):
        self.db = db
        self.blobs = blobs

    # -- models ------------------------------------------------------------------------------
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
            model_id = find_model_id(conn, name)
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

    def list_models(self, limit: int | None = None, offset: int = 0) -> list[ModelRecord]:
        """Models by name with their latest version, version count and aliases (one page).

        Parameters
        ----------
        limit : int, optional
            At most this many models (all when omitted).
        offset : int
            Skip this many models first.
        """
        with self.db.read() as conn:
            page = select(models).order_by(models.c.name).offset(offset)
            if limit is not None:
                page = page.limit(limit)
            rows = conn.execute(page).mappings().all()
            ids = [row["id"] for row in rows]
            stats = {
                row.model_id: (row.latest, row.n)
                for row in conn.execute(
                    select(
                        model_versions.c.model_id,
                        func.max(model_versions.c.version).label("latest"),
                        func.count().label("n"),
                    )
                    .where(model_versions.c.model_id.in_(ids))
                    .group_by(model_versions.c.model_id)
                )
            }
            alias_rows = conn.execute(
                select(model_aliases.c.model_id, model_aliases.c.alias, model_versions.c.version)
                .join(model_versions, model_versions.c.id == model_aliases.c.model_version_id)
                .where(model_aliases.c.model_id.in_(ids))
                .order_by(model_aliases.c.alias)
            ).all()
            tags: dict[int, dict[str, str]] = {}
            for tag in conn.execute(
                select(model_tags.c.model_id, model_tags.c.key, model_tags.c.value)
                .where(model_tags.c.model_id.in_(ids))
                .order_by(model_tags.c.key)
            ):
                tags.setdefault(tag.model_id, {})[tag.key] = tag.value
            out = []
            for row in rows:
                latest, count = stats.get(row["id"], (None, 0))
                aliases = {a.alias: a.version for a in alias_rows if a.model_id == row["id"]}
                out.append(
                    ModelRecord(
                        **dict(row),
                        latest_version=latest,
                        version_count=count,
                        aliases=aliases,
                        tags=tags.get(row["id"], {}),
                    )
                )
        return out

    def count_models(self) -> int:
        """How many models are registered."""
        with self.db.read() as conn:
            return conn.execute(select(func.count()).select_from(models)).scalar() or 0

    def get_model(self, name: str) -> ModelRecord:
        """One model by name."""
        with self.db.read() as conn:
            model_id = find_model_id(conn, name)  # raises the helpful error
            position = conn.execute(
                select(func.count()).select_from(models).where(models.c.name < name)
            ).scalar()
        for record in self.list_models(limit=1, offset=position or 0):
            if record.id == model_id:
                return record
        raise AssertionError("unreachable")

    # -- versions ----------------------------------------------------------------------------
    def _record(self, conn: Connection, name: str, row: Any) -> ModelVersionRecord:
        return self._records(conn, name, [row])[0]

    def _records(self, conn: Connection, name: str, rows: list[Any]) -> list[ModelVersionRecord]:
        # Tags and aliases of all the rows in one query each: a page of 20 versions asked two
        # queries per version before (an N+1 the versions table paid on every request).
        ids = [row["id"] for row in rows]
        tags: dict[int, dict[str, str]] = {i: {} for i in ids}
        aliases: dict[int, list[str]] = {i: [] for i in ids}
        if ids:
            tag_rows = conn.execute(
                select(
                    model_version_tags.c.model_version_id,
                    model_version_tags.c.key,
                    model_version_tags.c.value,
                ).where(model_version_tags.c.model_version_id.in_(ids))
            )
            for version_id, key, value in tag_rows:
                tags[version_id][key] = value
            alias_rows = conn.execute(
                select(model_aliases.c.model_version_id, model_aliases.c.alias).where(
                    model_aliases.c.model_version_id.in_(ids)
                )
            )
            for version_id, alias in alias_rows:
                aliases[version_id].append(alias)
        records = []
        for row in rows:
            data = dict(row)
            data["signature"] = json.loads(data["signature"]) if data["signature"] else None
            data["profile"] = json.loads(data["profile"]) if data["profile"] else None
            record = ModelVersionRecord(name=name, **data)
            record.tags = tags[row["id"]]
            record.aliases = sorted(aliases[row["id"]])
            records.append(record)
        return records

    def get_version(self, ref: ModelRef) -> ModelVersionRecord:
        """Resolve ``ref`` (latest version when it names neither a version nor an alias)."""
        with self.db.read() as conn:
            return self._record(conn, ref.name, find_version(conn, ref))

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

    def list_versions(
        self, name: str, limit: int | None = None, offset: int = 0
    ) -> list[ModelVersionRecord]:
        """Versions of ``name``, newest first (one page when ``limit`` is given)."""
        with self.db.read() as conn:
            model_id = find_model_id(conn, name)
            query = (
                select(model_versions)
                .where(model_versions.c.model_id == model_id)
                .order_by(model_versions.c.version.desc())
                .offset(offset)
            )
            if limit is not None:
                query = query.limit(limit)
            rows = conn.execute(query).mappings().all()
            return self._records(conn, name, list(rows))

    def count_versions(self, name: str) -> int:
        """How many versions ``name`` has."""
        with self.db.read() as conn:
            model_id = find_model_id(conn, name)
            query = select(func.count()).where(model_versions.c.model_id == model_id)
            return conn.execute(query).scalar() or 0

    def delete_version_tags(self, ref: ModelRef, keys: list[str]) -> None:
        """Remove tags of one version (keys it does not have are ignored)."""
        with self.db.write() as conn:
            row = find_version(conn, ref)
            conn.execute(
                delete(model_version_tags).where(
                    model_version_tags.c.model_version_id == row["id"],
                    model_version_tags.c.key.in_(keys),
                )
            )
            target = f"{ref.name}/{row['version']}"
            record_change(conn, "model", target, "untag", {"keys": sorted(keys)})

    def set_version_tags(self, ref: ModelRef, values: dict[str, Any]) -> None:
        """Set (or overwrite) tags of one version."""
        with self.db.write() as conn:
            row = find_version(conn, ref)
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
            record_change(conn, "model", f"{ref.name}/{row['version']}", "tag",
                          {"tags": {k: str(v) for k, v in values.items()}})  # fmt: skip

    def set_model_tags(self, name: str, values: dict[str, Any]) -> None:
        """Set (or overwrite) tags of a model as a whole."""
        with self.db.write() as conn:
            model_id = find_model_id(conn, name)
            upsert(
                conn,
                model_tags,
                [{"model_id": model_id, "key": k, "value": str(v)} for k, v in values.items()],
                ["model_id", "key"],
                ["value"],
            )
            conn.execute(
                update(models).where(models.c.id == model_id).values(updated_at=time.time())
            )
            record_change(conn, "model", name, "tag",
                          {"tags": {k: str(v) for k, v in values.items()}})  # fmt: skip

    def delete_model_tags(self, name: str, keys: list[str]) -> None:
        """Remove tags of a model (keys it does not have are ignored)."""
        with self.db.write() as conn:
            model_id = find_model_id(conn, name)
            conn.execute(
                delete(model_tags).where(
                    model_tags.c.model_id == model_id, model_tags.c.key.in_(keys)
                )
            )
            record_change(conn, "model", name, "untag", {"keys": sorted(keys)})

    def set_description(self, ref: ModelRef, description: str) -> None:
        """Set a version's description (or the model's, when ``ref`` is a bare name)."""
        with self.db.write() as conn:
            if ref.version is None and ref.alias is None:
                conn.execute(
                    update(models)
                    .where(models.c.id == find_model_id(conn, ref.name))
                    .values(description=description, updated_at=time.time())
                )
                target = ref.name
            else:
                row = find_version(conn, ref)
                conn.execute(
                    update(model_versions)
                    .where(model_versions.c.id == row["id"])
                    .values(description=description)
                )
                target = f"{ref.name}/{row['version']}"
            record_change(conn, "model", target, "describe", {"description": description})

    # -- deletion ----------------------------------------------------------------------------
    def delete(self, ref: ModelRef) -> list[int]:
        """Delete one version (``churn/3``) or a whole model (``churn``); return the versions.

        Raises
        ------
        ConflictError
            When a version to delete is aliased or served by a running deployment.
        """
        with self.db.write() as conn:
            model_id = find_model_id(conn, ref.name)
            query = select(model_versions.c.id, model_versions.c.version).where(
                model_versions.c.model_id == model_id
            )
            whole_model = ref.version is None and ref.alias is None
            if not whole_model:
                query = query.where(model_versions.c.id == find_version(conn, ref)["id"])
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
            gone = conn.execute(
                select(deployments.c.id).where(deployments.c.model_version_id.in_(ids))
            ).scalars()
            delete_notes_of(conn, NOTE_DEPLOYMENT, [str(i) for i in gone])
            delete_notes_of(conn, NOTE_MODEL_VERSION, [f"{ref.name}/{r.version}" for r in rows])
            conn.execute(delete(deployments).where(deployments.c.model_version_id.in_(ids)))
            conn.execute(delete(model_versions).where(model_versions.c.id.in_(ids)))
            if whole_model:
                conn.execute(delete(models).where(models.c.id == model_id))
            versions = sorted(r.version for r in rows)
            target = ref.name if whole_model else f"{ref.name}/{versions[0]}"
            record_change(conn, "model", target, "delete", {"versions": versions})
        return versions
