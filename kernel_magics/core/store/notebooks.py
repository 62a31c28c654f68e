"""Notebook versions: a notebook file's bytes as a content-addressed blob plus a row.

A version is ``(path, blob_hash)`` in ``notebook_versions``; recording the same content twice for
one path returns the existing version. Parsing, diffs and restores live in
:mod:`kernel_magics.core.notebooks`; this module only stores and reads.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select

from ...errors import NotebookVersionNotFoundError
from .artifacts import register_blob
from .blobs import BlobStore
from .db import Database
from .schema import blobs, notebook_versions, runs


@dataclass
class NotebookVersion:
    """One stored version of a notebook.

    Attributes
    ----------
    id : int
        The version id (what ``runs.notebook_version_id`` points at).
    path : str
        The notebook's absolute path when the version was recorded.
    blob_hash : str
        BLAKE3 digest of the file's bytes.
    created_at : float
        When this content was first recorded (UTC epoch seconds).
    size : int, optional
        The file's size in bytes (in listings).
    run_ids : list of str
        Runs that used this version, newest first.
    """

    id: int
    path: str
    blob_hash: str
    created_at: float
    size: int | None = None
    run_ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary."""
        return asdict(self)


class NotebookRepository:
    """Record, list and read notebook versions.

    Parameters
    ----------
    db : Database
        The store's database.
    blobs : BlobStore
        Where the notebooks' bytes go.
    """

    def __init__(self, db: Database, blobs: BlobStore):
        self.db = db
        self.blobs = blobs

    def record(self, path: str) -> int:
        """Store the current bytes of the notebook file at ``path``; return the version id.

        Parameters
        ----------
        path : str
            The notebook's absolute, resolved path (the key versions are listed by).

        Returns
        -------
        int
            The id of the (new or existing) version with exactly this content.
        """
        ref = self.blobs.put_file(path)
        where = (notebook_versions.c.path == path, notebook_versions.c.blob_hash == ref.hash)
        with self.db.write() as conn:
            register_blob(conn, ref)
            found = conn.execute(select(notebook_versions.c.id).where(*where)).scalar()
            if found is not None:
                return int(found)
            inserted = conn.execute(
                notebook_versions.insert().values(
                    path=path, blob_hash=ref.hash, created_at=time.time()
                )
            )
            primary_key = inserted.inserted_primary_key
            assert primary_key is not None
            return int(primary_key[0])

    def list(self, paths: Sequence[str], runs_per_version: int = 20) -> list[NotebookVersion]:
        """Return the versions recorded under any of ``paths``, newest first, with their runs.

        Parameters
        ----------
        paths : sequence of str
            Spellings of one notebook's path (absolute and server-relative, say).
        runs_per_version : int
            At most this many run ids per version.
        """
        query = (
            select(notebook_versions, blobs.c.size)
            .join(blobs, blobs.c.hash == notebook_versions.c.blob_hash)
            .where(notebook_versions.c.path.in_(list(paths)))
            .order_by(notebook_versions.c.created_at.desc(), notebook_versions.c.id.desc())
        )
        with self.db.read() as conn:
            versions = [NotebookVersion(**dict(r)) for r in conn.execute(query).mappings()]
            by_id = {v.id: v for v in versions}
            if by_id:
                used = conn.execute(
                    select(runs.c.id, runs.c.notebook_version_id)
                    .where(runs.c.notebook_version_id.in_(list(by_id)))
                    .order_by(runs.c.start_time.desc())
                )
                for run_id, version_id in used:
                    version = by_id[version_id]
                    if len(version.run_ids) < runs_per_version:
                        version.run_ids.append(run_id)
        return versions

    def get(self, version_id: int) -> NotebookVersion:
        """Return one version with (up to 20 of) the runs that used it, newest first.

        Raises
        ------
        NotebookVersionNotFoundError
            When no version has that id.
        """
        with self.db.read() as conn:
            row = (
                conn.execute(select(notebook_versions).where(notebook_versions.c.id == version_id))
                .mappings()
                .first()
            )
            if row is None:
                raise NotebookVersionNotFoundError(f"No notebook version with id {version_id}.")
            version = NotebookVersion(**dict(row))
            version.run_ids = list(
                conn.execute(
                    select(runs.c.id)
                    .where(runs.c.notebook_version_id == version_id)
                    .order_by(runs.c.start_time.desc())
                    .limit(20)
                ).scalars()
            )
        return version

    def read_bytes(self, version_id: int) -> bytes:
        """Return the stored bytes of a version (hash-checked by the blob store).

        Raises
        ------
        NotebookVersionNotFoundError
            When no version has that id.
        """
        return self.blobs.get_bytes(self.get(version_id).blob_hash)
