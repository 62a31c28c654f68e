"""Artifacts (run, path -> blob), datasets and their versions, and garbage collection."""

from __future__ import annotations

import builtins
import json
import mimetypes
import time
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select, union

from ...errors import ArtifactNotFoundError, ValidationError
from .blobs import BlobRef, BlobStore
from .dataset_versions import DatasetVersionRepository, ensure_numbered
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
    """Record a stored blob in the ``blobs`` table (idempotent).

    ``created_at`` is refreshed on every registration, so a blob that is being reused is young
    again in the eyes of garbage collection.
    """
    row = {"hash": ref.hash, "size": ref.size, "created_at": time.time()}
    upsert(conn, blobs, [row], ["hash"], ["size", "created_at"])


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

    def blob_hashes(self, run_ids: Iterable[str], path: str) -> dict[str, str]:
        """Return ``{run id: blob hash}`` of the artifact at ``path`` of each run that has one.

        One query for many runs (a comparison reads every run's cell source).
        """
        ids, path = builtins.list(run_ids), normalize_artifact_path(path)
        with self.db.read() as conn:
            rows = conn.execute(
                select(artifacts.c.run_id, artifacts.c.blob_hash).where(
                    artifacts.c.run_id.in_(ids), artifacts.c.path == path
                )
            ).all()
        return {r.run_id: r.blob_hash for r in rows}

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
            found = set(conn.execute(query).scalars())
        return found | DatasetVersionRepository(self.db).referenced_hashes()

    def _is_referenced(self, conn: Connection, digest: str) -> bool:
        for column in (artifacts.c.blob_hash, notebook_versions.c.blob_hash,
                       model_versions.c.blob_hash, runs.c.environment_hash):  # fmt: skip
            if conn.execute(select(column).where(column == digest).limit(1)).first():
                return True
        return DatasetVersionRepository.is_referenced(conn, digest)

    def collect_garbage(
        self, dry_run: bool = False, min_age_s: float = 3600.0
    ) -> builtins.list[str]:
        """Delete blobs that nothing references; return their hashes.

        A blob is only deleted when both its row and its file are older than ``min_age_s``
        (a process may have written it and not yet recorded the row that points at it, and
        writers refresh the age of a blob they reuse), and it is checked once more for
        references inside the transaction that deletes its row.
        """
        from sqlalchemy import delete

        referenced = self.referenced_hashes()
        cutoff = time.time() - min_age_s
        with self.db.read() as conn:
            rows = dict(conn.execute(select(blobs.c.hash, blobs.c.created_at)).all())
        candidates = (self.blobs.list_hashes() | set(rows)) - referenced
        removed = []
        for digest in sorted(candidates):
            if rows.get(digest, 0.0) > cutoff or (self.blobs.modified_at(digest) or 0.0) > cutoff:
                continue
            if dry_run:
                removed.append(digest)
                continue
            with self.db.write() as conn:
                if self._is_referenced(conn, digest):
                    continue
                conn.execute(delete(blobs).where(blobs.c.hash == digest))
            if (self.blobs.modified_at(digest) or 0.0) <= cutoff:
                self.blobs.delete(digest)
            removed.append(digest)
        return removed


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

        A new version gets the dataset's next number (``train@3``), as a reference until
        :meth:`DatasetVersionRepository.save_content` records its stored content.

        Returns
        -------
        dict
            ``{"name", "version_id", "hash", "rows", "size", "schema", "new"}``.
        """
        if not name or len(name) > 255:
            raise ValidationError("A dataset name must be 1 to 255 characters long.")
        now = time.time()
        with self.db.write() as conn:
            # INSERT ... ON CONFLICT DO NOTHING, then read: safe when many processes record the
            # same dataset at once (PostgreSQL has no BEGIN IMMEDIATE to serialize them).
            upsert(conn, datasets, [{"name": name, "created_at": now}], ["name"], [])
            ds_id = conn.execute(select(datasets.c.id).where(datasets.c.name == name)).scalar_one()
            version_where = (dataset_versions.c.dataset_id == ds_id) & (
                dataset_versions.c.hash == digest
            )
            new = conn.execute(select(dataset_versions.c.id).where(version_where)).scalar() is None
            if new:
                version_row = {
                    "dataset_id": ds_id, "hash": digest, "size": size, "rows": rows,
                    "schema": json.dumps(schema) if schema is not None else None,
                    "source": source, "created_at": now,
                }  # fmt: skip
                upsert(conn, dataset_versions, [version_row], ["dataset_id", "hash"], [])
            version = conn.execute(select(dataset_versions.c.id).where(version_where)).scalar_one()
            ensure_numbered(conn, ds_id, version)
            if run_id:
                link = {"run_id": run_id, "dataset_version_id": version, "role": role}
                upsert(conn, run_datasets, [link], ["run_id", "dataset_version_id", "role"], [])
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
