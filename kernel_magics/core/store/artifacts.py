"""Artifacts (run, path -> blob), datasets and their versions, and garbage collection."""

from __future__ import annotations

import json
import mimetypes
import time
from typing import Any

from sqlalchemy import Connection, select, union

from ...errors import ArtifactNotFoundError, ValidationError
from .blobs import BlobRef, BlobStore
from .db import Database
from .schema import (
    artifacts,
    blobs,
    dataset_versions,
    datasets,
    model_versions,
    notebook_versions,
    run_datasets,
    runs,
)
from .upsert import upsert


def register_blob(conn: Connection, ref: BlobRef) -> None:
    """Record a stored blob in the ``blobs`` table (idempotent)."""
    from sqlalchemy import exists

    if not conn.execute(select(exists().where(blobs.c.hash == ref.hash))).scalar():
        upsert(
            conn, blobs, [{"hash": ref.hash, "size": ref.size, "created_at": time.time()}],
            ["hash"], ["size"],
        )  # fmt: skip


def normalize_artifact_path(path: str) -> str:
    """Return a clean relative artifact path, refusing anything that could escape a run.

    Raises
    ------
    ValidationError
        For absolute paths, ``..`` segments, backslashes or empty names.
    """
    clean = path.replace("\\", "/").strip()
    parts = [p for p in clean.split("/") if p not in ("", ".")]
    if not parts or clean.startswith("/") or any(p == ".." for p in parts):
        raise ValidationError(
            f"Artifact path {path!r} must be a relative path inside the run, without '..'."
        )
    return "/".join(parts)


class ArtifactRepository:
    """Link blobs to runs under artifact paths, and read them back (hash-checked)."""

    def __init__(self, db: Database, blob_store: BlobStore):
        self.db = db
        self.blobs = blob_store

    def add(self, run_id: str, path: str, ref: BlobRef, media_type: str | None = None) -> str:
        """Attach blob ``ref`` to ``run_id`` at ``path`` (replacing an earlier one there)."""
        path = normalize_artifact_path(path)
        media_type = media_type or mimetypes.guess_type(path)[0] or "application/octet-stream"
        row = {
            "run_id": run_id,
            "path": path,
            "blob_hash": ref.hash,
            "size": ref.size,
            "media_type": media_type,
            "created_at": time.time(),
        }
        with self.db.write() as conn:
            register_blob(conn, ref)
            upsert(conn, artifacts, [row], ["run_id", "path"], ["blob_hash", "size", "media_type"])
        return path

    def get(self, run_id: str, path: str) -> dict[str, Any]:
        """Return an artifact's row (blob hash, size, media type)."""
        path = normalize_artifact_path(path)
        with self.db.read() as conn:
            row = (
                conn.execute(
                    select(artifacts).where(artifacts.c.run_id == run_id, artifacts.c.path == path)
                )
                .mappings()
                .first()
            )
        if row is None:
            raise ArtifactNotFoundError(f"Run {run_id[:8]} has no artifact {path!r}.")
        return dict(row)

    def read(self, run_id: str, path: str) -> tuple[bytes, str]:
        """Return an artifact's bytes (hash verified) and its media type."""
        row = self.get(run_id, path)
        return self.blobs.get_bytes(row["blob_hash"]), row["media_type"]

    def list(self, run_id: str) -> list[dict[str, Any]]:
        """Every artifact of a run, by path."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(artifacts).where(artifacts.c.run_id == run_id).order_by(artifacts.c.path)
            ).mappings()
            return [dict(r) for r in rows]

    def referenced_hashes(self) -> set[str]:
        """Every blob hash some row still points at."""
        query = union(
            select(artifacts.c.blob_hash.label("h")),
            select(notebook_versions.c.blob_hash),
            select(model_versions.c.blob_hash),
            select(runs.c.environment_hash).where(runs.c.environment_hash.is_not(None)),
        )
        with self.db.read() as conn:
            return set(conn.execute(query).scalars())

    def collect_garbage(self, dry_run: bool = False) -> list[str]:
        """Delete blobs that nothing references; return their hashes.

        Blobs younger than an hour are kept: a process may have written one and not yet
        recorded the row that points at it.
        """
        from sqlalchemy import delete

        referenced = self.referenced_hashes()
        cutoff = time.time() - 3600
        with self.db.read() as conn:
            young = set(
                conn.execute(select(blobs.c.hash).where(blobs.c.created_at > cutoff)).scalars()
            )
            known = set(conn.execute(select(blobs.c.hash)).scalars())
        present = self.blobs.list_hashes()
        orphans = sorted((present | known) - referenced - young)
        if not dry_run:
            for digest in orphans:
                self.blobs.delete(digest)
            with self.db.write() as conn:
                for start in range(0, len(orphans), 500):
                    conn.execute(
                        delete(blobs).where(blobs.c.hash.in_(orphans[start : start + 500]))
                    )
        return orphans


class DatasetRepository:
    """Datasets, their content versions, and which runs read or wrote them."""

    def __init__(self, db: Database):
        self.db = db

    def record(
        self,
        run_id: str | None,
        name: str,
        digest: str,
        *,
        size: int | None,
        rows: int | None,
        schema: list[dict[str, str]] | None,
        source: str | None,
        role: str = "input",
    ) -> dict[str, Any]:
        """Record a dataset version (deduplicated by content) and link it to a run.

        Returns
        -------
        dict
            ``{"name", "version_id", "hash", "rows", "size", "schema", "new"}``.
        """
        if not name or len(name) > 255:
            raise ValidationError("A dataset name must be 1 to 255 characters long.")
        now = time.time()
        with self.db.write() as conn:
            ds_id = conn.execute(select(datasets.c.id).where(datasets.c.name == name)).scalar()
            if ds_id is None:
                ds_id = conn.execute(
                    datasets.insert().values(name=name, created_at=now)
                ).inserted_primary_key[0]
            version = conn.execute(
                select(dataset_versions.c.id).where(
                    dataset_versions.c.dataset_id == ds_id, dataset_versions.c.hash == digest
                )
            ).scalar()
            new = version is None
            if new:
                version = conn.execute(
                    dataset_versions.insert().values(
                        dataset_id=ds_id,
                        hash=digest,
                        size=size,
                        rows=rows,
                        schema=json.dumps(schema) if schema is not None else None,
                        source=source,
                        created_at=now,
                    )
                ).inserted_primary_key[0]
            if run_id:
                exists = conn.execute(
                    select(run_datasets.c.run_id).where(
                        run_datasets.c.run_id == run_id,
                        run_datasets.c.dataset_version_id == version,
                        run_datasets.c.role == role,
                    )
                ).first()
                if exists is None:
                    conn.execute(
                        run_datasets.insert().values(
                            run_id=run_id, dataset_version_id=version, role=role
                        )
                    )
        return {
            "name": name, "version_id": version, "hash": digest, "rows": rows, "size": size,
            "schema": schema, "new": new,
        }  # fmt: skip

    def versions(self, name: str) -> list[dict[str, Any]]:
        """Every version of a dataset, oldest first."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(dataset_versions)
                .join(datasets)
                .where(datasets.c.name == name)
                .order_by(dataset_versions.c.created_at)
            ).mappings()
            return [dict(r) for r in rows]
