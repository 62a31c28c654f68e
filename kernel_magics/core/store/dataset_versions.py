"""Dataset versions with their content: numbers, manifests, chunks, lookup and retention.

``DatasetRepository.record`` (in :mod:`.artifacts`) records that a version exists and numbers
it; this repository adds what was stored for it (:meth:`DatasetVersionRepository.save_content`),
finds a version by number, hash prefix or ``latest``, and drops old unreferenced versions for
``mlops gc --keep-last``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from ...errors import DatasetNotFoundError, ValidationError
from ..names import DATASET_REF
from .db import Database
from .schema import blobs, dataset_versions, datasets, run_datasets
from .schema_datasets import dataset_chunks, dataset_contents
from .upsert import upsert


@dataclass(frozen=True)
class DatasetVersionRecord:
    """One version of a dataset.

    Attributes
    ----------
    id : int
        The version's row id (what runs link to).
    dataset : str
        The dataset's name.
    number : int
        Its number within the dataset, from 1 (``train@3``); never reused.
    hash : str
        The content hash (BLAKE3 of a file's bytes; of the file list for a folder; of the row
        hashes and schema for a DataFrame).
    kind : str
        ``frame``, ``file``, ``folder`` or ``ref`` (recorded by reference only, not stored).
    rows : int or None
        Row count of tabular data.
    schema : list of dict or None
        ``[{"name": ..., "dtype": ...}]`` of tabular data.
    size : int or None
        Bytes of the data (files' sizes; a frame's memory use).
    stored_bytes : int
        Bytes this version added to the store (chunks no earlier version had).
    content_bytes : int or None
        Bytes of the stored content (for a frame, its parquet file).
    files : int or None
        Number of files (1 for a file or a frame).
    manifest_hash : str or None
        The blob of the version's manifest (None for ``ref``).
    created_at : float
        When the version was first recorded (epoch seconds).
    source : str or None
        Where it was read from (an absolute path, or ``DataFrame``).
    """

    id: int
    dataset: str
    number: int
    hash: str
    kind: str
    rows: int | None
    schema: list[dict[str, str]] | None
    size: int | None
    stored_bytes: int
    content_bytes: int | None
    files: int | None
    manifest_hash: str | None
    created_at: float
    source: str | None

    @property
    def ref(self) -> str:
        """``name@number``, the way to name this version anywhere."""
        return f"{self.dataset}@{self.number}"

    @property
    def stored(self) -> bool:
        """Whether the content is in the store (so it can be loaded and restored)."""
        return self.kind != DATASET_REF

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary (with ``ref``)."""
        return {**asdict(self), "ref": self.ref}


def ensure_numbered(conn: Connection, dataset_id: int, version_id: int) -> None:
    """Give a newly recorded version the next number of its dataset (kind ``ref`` until stored).

    Called inside the transaction that records the version. On PostgreSQL the dataset's row is
    locked first, so two processes recording two new versions at once get two numbers.
    """
    found = select(dataset_contents.c.number).where(
        dataset_contents.c.dataset_version_id == version_id
    )
    if conn.execute(found).first() is not None:
        return
    if conn.dialect.name == "postgresql":
        conn.execute(select(datasets.c.id).where(datasets.c.id == dataset_id).with_for_update())
    latest = select(func.coalesce(func.max(dataset_contents.c.number), 0)).where(
        dataset_contents.c.dataset_id == dataset_id
    )
    row = {
        "dataset_version_id": version_id,
        "dataset_id": dataset_id,
        "number": conn.execute(latest).scalar_one() + 1,
        "kind": DATASET_REF,
        "stored_bytes": 0,
    }
    upsert(conn, dataset_contents, [row], ["dataset_version_id"], [])


def _columns() -> list[Any]:
    return [
        dataset_versions.c.id, datasets.c.name.label("dataset"), dataset_contents.c.number,
        dataset_versions.c.hash, dataset_contents.c.kind, dataset_versions.c.rows,
        dataset_versions.c.schema, dataset_versions.c.size, dataset_contents.c.stored_bytes,
        dataset_contents.c.content_bytes, dataset_contents.c.files,
        dataset_contents.c.manifest_hash, dataset_versions.c.created_at, dataset_versions.c.source,
    ]  # fmt: skip


def _record(row: Any) -> DatasetVersionRecord:
    data = dict(row._mapping)
    data["schema"] = json.loads(data["schema"]) if data["schema"] else None
    return DatasetVersionRecord(**data)


class DatasetVersionRepository:
    """What was stored for each dataset version, and finding versions by name."""

    def __init__(self, db: Database):
        self.db = db

    def _query(self) -> Any:
        joined = dataset_versions.join(datasets).join(
            dataset_contents, dataset_contents.c.dataset_version_id == dataset_versions.c.id
        )
        return select(*_columns()).select_from(joined)

    def save_content(
        self,
        version_id: int,
        *,
        kind: str,
        manifest: tuple[str, int],
        chunks: Sequence[tuple[str, int]],
        content_bytes: int,
        files: int,
    ) -> bool:
        """Record the stored content of a version; return whether this call stored it first.

        The first process to store a version's content wins: a later identical log (or a
        second process logging the same data at once) leaves its row and counts alone. The
        version's ``stored_bytes`` are the bytes of its chunks that no version recorded before
        it needs: what it added, however many processes wrote the blobs at once.

        Parameters
        ----------
        manifest : (hash, size)
            The manifest blob.
        chunks : sequence of (hash, size)
            Every chunk blob the content needs (duplicates allowed).
        """
        now = time.time()
        unique = dict(chunks)
        unique[manifest[0]] = manifest[1]
        blob_rows = [{"hash": h, "size": s, "created_at": now} for h, s in unique.items()]
        chunk_rows = [{"dataset_version_id": version_id, "blob_hash": h} for h in dict(chunks)]
        sizes = dict(chunks)
        with self.db.write() as conn:
            known: set[str] = set()
            hashes = list(sizes)
            for start in range(0, len(hashes), 500):  # bounded IN lists
                known.update(conn.execute(
                    select(dataset_chunks.c.blob_hash).where(
                        dataset_chunks.c.blob_hash.in_(hashes[start : start + 500]),
                        dataset_chunks.c.dataset_version_id != version_id,
                    )
                ).scalars())  # fmt: skip
            stored_bytes = sum(size for digest, size in sizes.items() if digest not in known)
            upsert(conn, blobs, blob_rows, ["hash"], ["size", "created_at"])
            upsert(conn, dataset_chunks, chunk_rows, ["dataset_version_id", "blob_hash"], [])
            first = conn.execute(
                update(dataset_contents)
                .where(
                    dataset_contents.c.dataset_version_id == version_id,
                    dataset_contents.c.kind == DATASET_REF,
                )
                .values(
                    kind=kind,
                    manifest_hash=manifest[0],
                    stored_bytes=stored_bytes,
                    content_bytes=content_bytes,
                    files=files,
                    stored_at=now,
                )  # fmt: skip
            ).rowcount
        return bool(first)

    def get(self, version_id: int) -> DatasetVersionRecord:
        """Return a version by its row id."""
        with self.db.read() as conn:
            row = conn.execute(self._query().where(dataset_versions.c.id == version_id)).first()
        if row is None:
            raise DatasetNotFoundError(f"No dataset version has id {version_id}.")
        return _record(row)

    def resolve(self, name: str, selector: str) -> DatasetVersionRecord:
        """Find a version of ``name`` by ``latest``, a number, or a hash prefix.

        Raises
        ------
        DatasetNotFoundError
            When the dataset or the version does not exist (naming the versions there are).
        ValidationError
            When a hash prefix matches several versions.
        """
        query = self._query().where(datasets.c.name == name)
        with self.db.read() as conn:
            if selector == "latest":
                rows = conn.execute(query.order_by(dataset_contents.c.number.desc()).limit(1))
            elif selector.isdigit():
                rows = conn.execute(query.where(dataset_contents.c.number == int(selector)))
            else:
                prefix = selector.lower()
                rows = conn.execute(
                    query.where(dataset_versions.c.hash.startswith(prefix, autoescape=True))
                    .order_by(dataset_contents.c.number)
                    .limit(2)
                )
            found = rows.all()
            numbers = conn.execute(
                select(dataset_contents.c.number)
                .join(datasets, datasets.c.id == dataset_contents.c.dataset_id)
                .where(datasets.c.name == name)
                .order_by(dataset_contents.c.number)
            ).scalars().all()  # fmt: skip
        if len(found) > 1:
            raise ValidationError(
                f"Hash prefix {selector!r} matches several versions of {name!r} "
                f"({', '.join(f'{name}@{r.number}' for r in found)}); give more characters."
            )
        if not found:
            if not numbers:
                raise DatasetNotFoundError(
                    f"No dataset is named {name!r}; `mlops datasets ls` lists the datasets."
                )
            listed = ", ".join(str(n) for n in numbers[-10:])
            raise DatasetNotFoundError(
                f"Dataset {name!r} has no version {selector!r}; its versions are {listed} "
                f"(or use {name}@latest, or a hash prefix)."
            )
        return _record(found[0])

    def versions(self, name: str) -> list[DatasetVersionRecord]:
        """Every version of a dataset, oldest first (empty when there is no such dataset)."""
        with self.db.read() as conn:
            rows = conn.execute(
                self._query().where(datasets.c.name == name).order_by(dataset_contents.c.number)
            ).all()
        return [_record(r) for r in rows]

    def latest_per_dataset(self) -> list[tuple[DatasetVersionRecord, int, int]]:
        """Each dataset's latest version with its version count and stored bytes, by name."""
        totals = (
            select(
                dataset_contents.c.dataset_id,
                func.max(dataset_contents.c.number).label("latest"),
                func.count().label("count"),
                func.coalesce(func.sum(dataset_contents.c.stored_bytes), 0).label("stored"),
            )
            .group_by(dataset_contents.c.dataset_id)
            .subquery()
        )
        query = (
            self._query()
            .add_columns(totals.c.count, totals.c.stored)
            .join(
                totals,
                (totals.c.dataset_id == dataset_contents.c.dataset_id)
                & (totals.c.latest == dataset_contents.c.number),
            )
            .order_by(datasets.c.name)
        )
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        out = []
        for row in rows:
            data = dict(row._mapping)
            count, stored = data.pop("count"), data.pop("stored")
            data["schema"] = json.loads(data["schema"]) if data["schema"] else None
            out.append((DatasetVersionRecord(**data), int(count), int(stored)))
        return out

    def runs_of(self, version_id: int) -> list[dict[str, str]]:
        """The runs that read or wrote a version: ``[{"run_id", "role"}]``."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(run_datasets.c.run_id, run_datasets.c.role)
                .where(run_datasets.c.dataset_version_id == version_id)
                .order_by(run_datasets.c.run_id)
            ).all()
        return [{"run_id": r.run_id, "role": r.role} for r in rows]

    def referenced_hashes(self) -> set[str]:
        """Every chunk and manifest blob some stored version needs (garbage collection)."""
        with self.db.read() as conn:
            chunks = set(conn.execute(select(dataset_chunks.c.blob_hash).distinct()).scalars())
            manifests = conn.execute(
                select(dataset_contents.c.manifest_hash).where(
                    dataset_contents.c.manifest_hash.is_not(None)
                )
            ).scalars()
            return chunks | set(manifests)

    @staticmethod
    def is_referenced(conn: Connection, digest: str) -> bool:
        """Whether a stored version needs blob ``digest`` (inside gc's delete transaction)."""
        for column in (dataset_chunks.c.blob_hash, dataset_contents.c.manifest_hash):
            if conn.execute(select(column).where(column == digest).limit(1)).first():
                return True
        return False

    def prune(self, keep_last: int, dry_run: bool = False) -> list[str]:
        """Drop each dataset's versions older than its ``keep_last`` newest that no run used.

        A version a run read or wrote stays (so does every model trained by that run), whatever
        its age. The chunks the dropped versions alone needed are left for
        :meth:`~kernel_magics.core.store.artifacts.ArtifactRepository.collect_garbage`.

        Returns
        -------
        list of str
            The dropped versions as ``name@number``.

        Raises
        ------
        ValidationError
            When ``keep_last`` is below 1.
        """
        if isinstance(keep_last, bool) or not isinstance(keep_last, int) or keep_last < 1:
            raise ValidationError(f"--keep-last must be a whole number >= 1, got {keep_last!r}.")
        used = select(run_datasets.c.dataset_version_id)
        with self.db.read() as conn:
            rows = conn.execute(
                select(
                    dataset_contents.c.dataset_version_id, dataset_contents.c.dataset_id,
                    dataset_contents.c.number, datasets.c.name,
                    dataset_contents.c.dataset_version_id.in_(used).label("used"),
                )
                .join(datasets, datasets.c.id == dataset_contents.c.dataset_id)
                .order_by(dataset_contents.c.dataset_id, dataset_contents.c.number.desc())
            ).all()  # fmt: skip
        seen: dict[int, int] = {}
        doomed: list[tuple[int, str]] = []
        for row in rows:
            seen[row.dataset_id] = seen.get(row.dataset_id, 0) + 1
            if seen[row.dataset_id] > keep_last and not row.used:
                doomed.append((row.dataset_version_id, f"{row.name}@{row.number}"))
        if dry_run or not doomed:
            return [ref for _, ref in doomed]
        dropped = []
        for version_id, ref in doomed:
            with self.db.write() as conn:
                # checked again here: a run may have read the version since the listing
                if conn.execute(
                    used.where(run_datasets.c.dataset_version_id == version_id)
                ).first():
                    continue
                conn.execute(
                    delete(dataset_chunks).where(dataset_chunks.c.dataset_version_id == version_id)
                )
                conn.execute(
                    delete(dataset_contents).where(
                        dataset_contents.c.dataset_version_id == version_id
                    )
                )
                conn.execute(delete(dataset_versions).where(dataset_versions.c.id == version_id))
            dropped.append(ref)
        return dropped
