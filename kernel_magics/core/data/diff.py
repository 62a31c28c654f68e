"""What changed between two dataset versions (``mlops datasets diff train@2 train@3``).

:func:`diff_versions` compares two stored versions: their schemas (columns added, removed,
retyped), row counts, the rows added and removed (a multiset difference of pandas' own row
hashes, ``pandas.util.hash_pandas_object``, over the columns both versions share with one
type), the files added, removed and changed in a folder (from the manifests, without reading
a byte of content), and each shared column's summary with the monitoring drift test on the raw
values (:func:`kernel_magics.core.monitoring.samples.sample_drift`: KS / chi-squared for up to
1,000 reference rows, Wasserstein / Jensen-Shannon above). The quality checks recorded with
each version come along (:mod:`.quality`).

The pieces (:func:`schema_changes`, :func:`row_changes`, :func:`column_shifts`,
:func:`file_changes`) work on plain schemas, DataFrames and file lists too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..monitoring.drift import FeatureDrift
    from ..store import Store
    from ..store.dataset_versions import DatasetVersionRecord

#: Rows of each side shown as examples of what was added and removed.
SAMPLE_ROWS = 5
#: Drift needs a few values per side; below this a column says "not enough data".
MIN_DRIFT_ROWS = 5


@dataclass(frozen=True)
class SchemaChange:
    """A column added, removed or retyped (``a_dtype`` / ``b_dtype`` None where absent)."""

    column: str
    change: str
    a_dtype: str | None
    b_dtype: str | None


@dataclass(frozen=True)
class FileChange:
    """A file of a folder version added, removed or changed (sizes None where absent)."""

    path: str
    change: str
    a_size: int | None
    b_size: int | None


@dataclass(frozen=True)
class RowChanges:
    """Rows added and removed, counted by row hash over ``key_columns``.

    Attributes
    ----------
    added, removed : int
        Rows of B not in A, and rows of A not in B (duplicates counted: a multiset).
    unchanged : int
        Rows in both.
    key_columns : list of str
        The columns the hashes cover: those both versions have, with the same dtype.
    added_sample, removed_sample : list of dict
        Up to :data:`SAMPLE_ROWS` of each, as records.
    """

    added: int
    removed: int
    unchanged: int
    key_columns: list[str]
    added_sample: list[dict[str, Any]]
    removed_sample: list[dict[str, Any]]


@dataclass(frozen=True)
class ColumnShift:
    """One shared column: its summary in each version and the drift test between them.

    Attributes
    ----------
    column : str
    kind : str
        ``numeric`` or ``categorical``.
    a, b : dict
        ``null_share`` plus ``mean``/``std``/``min``/``max`` (numeric) or ``distinct``/``top``.
    drift : FeatureDrift or None
        The monitoring drift verdict of B's values against A's (None when either is empty).
    """

    column: str
    kind: str
    a: dict[str, Any]
    b: dict[str, Any]
    drift: FeatureDrift | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"column": self.column, "kind": self.kind, "a": self.a, "b": self.b,
                "drift": self.drift.to_dict() if self.drift else None}  # fmt: skip


@dataclass
class DatasetDiff:
    """Everything :func:`diff_versions` found.

    Attributes
    ----------
    a, b : str
        The two versions (``train@2``, ``train@3``).
    identical : bool
        Same content hash.
    rows : tuple of (int or None, int or None)
        Row counts of A and B.
    schema : list of SchemaChange
    row_changes : RowChanges or None
        None when the content of either side is not tabular or not stored.
    files : list of FileChange
        For files and folders.
    columns : list of ColumnShift
    checks : dict
        ``{"a": ..., "b": ...}``: each version's recorded
        :class:`~kernel_magics.core.store.dataset_checks.CheckResult` (or None).
    notes : list of str
        What could not be compared, and why.
    """

    a: str
    b: str
    identical: bool
    rows: tuple[int | None, int | None]
    schema: list[SchemaChange] = field(default_factory=list)
    row_changes: RowChanges | None = None
    files: list[FileChange] = field(default_factory=list)
    columns: list[ColumnShift] = field(default_factory=list)
    checks: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def drifted_columns(self) -> list[str]:
        """Shared columns whose values drifted from A to B."""
        return [c.column for c in self.columns if c.drift is not None and c.drift.drifted]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "a": self.a, "b": self.b, "identical": self.identical,
            "rows": {"a": self.rows[0], "b": self.rows[1]},
            "schema": [asdict(s) for s in self.schema],
            "row_changes": asdict(self.row_changes) if self.row_changes else None,
            "files": [asdict(f) for f in self.files],
            "columns": [c.to_dict() for c in self.columns],
            "drifted_columns": self.drifted_columns,
            "checks": {k: v.to_dict() if v is not None else None for k, v in self.checks.items()},
            "notes": self.notes,
        }  # fmt: skip


# -- the pieces ---------------------------------------------------------------------------------
def schema_changes(
    a: Sequence[Mapping[str, str]] | None, b: Sequence[Mapping[str, str]] | None
) -> list[SchemaChange]:
    """Columns added, removed and retyped from schema ``a`` to ``b`` (B's order, then A's)."""
    a_types = {c["name"]: c["dtype"] for c in a or []}
    b_types = {c["name"]: c["dtype"] for c in b or []}
    out = []
    for name, dtype in b_types.items():
        if name not in a_types:
            out.append(SchemaChange(name, "added", None, dtype))
        elif a_types[name] != dtype:
            out.append(SchemaChange(name, "retyped", a_types[name], dtype))
    out += [SchemaChange(n, "removed", t, None) for n, t in a_types.items() if n not in b_types]
    return out


def _records(frame: Any) -> list[dict[str, Any]]:
    import json

    # through JSON: numpy scalars and timestamps become plain values a table or a client reads
    return json.loads(frame.head(SAMPLE_ROWS).to_json(orient="records", date_format="iso"))


def row_changes(a: Any, b: Any) -> RowChanges | None:
    """Rows added and removed from frame ``a`` to ``b``, by row hash (index ignored).

    The hashes cover the columns both frames have with the same dtype, so a retyped or new
    column does not make every row look new. None when the frames share no such column.
    """
    import pandas as pd

    key = [c for c in b.columns if c in a.columns and a[c].dtype == b[c].dtype]
    if not key:
        return None
    hash_a = pd.util.hash_pandas_object(a[key], index=False)
    hash_b = pd.util.hash_pandas_object(b[key], index=False)
    counts = hash_b.value_counts().sub(hash_a.value_counts(), fill_value=0)
    added = int(counts[counts > 0].sum())
    removed = int(-counts[counts < 0].sum())
    new_rows = b[~hash_b.isin(hash_a).to_numpy()]
    gone_rows = a[~hash_a.isin(hash_b).to_numpy()]
    return RowChanges(
        added, removed, len(b) - added, [str(c) for c in key], _records(new_rows),
        _records(gone_rows),
    )  # fmt: skip


def _kind(series: Any) -> str:
    return "numeric" if series.dtype.kind in "iuf" else "categorical"


def _summary(series: Any, kind: str) -> dict[str, Any]:
    total = len(series)
    values = series.dropna()
    out: dict[str, Any] = {"null_share": (total - len(values)) / total if total else None}
    if kind == "numeric":
        numbers = values.astype("float64")
        empty = numbers.empty
        out.update(
            mean=None if empty else float(numbers.mean()),
            std=None if len(numbers) < 2 else float(numbers.std()),
            min=None if empty else float(numbers.min()),
            max=None if empty else float(numbers.max()),
        )
    else:
        counts = values.astype(str).value_counts()
        out.update(distinct=int(counts.size), top=None if counts.empty else str(counts.index[0]))
    return out


def column_shifts(a: Any, b: Any) -> list[ColumnShift]:
    """Each column both frames have: summaries and the drift test of B's values against A's.

    A column numeric in one frame and not in the other is compared as categorical.
    """
    from ..monitoring.drift import DriftConfig
    from ..monitoring.samples import sample_drift

    config = DriftConfig(min_rows=MIN_DRIFT_ROWS)
    out = []
    for name in [c for c in b.columns if c in a.columns]:
        kinds = {_kind(a[name]), _kind(b[name])}
        kind = "numeric" if kinds == {"numeric"} else "categorical"
        left, right = a[name], b[name]
        if kind == "categorical":
            left, right = left.dropna().astype(str), right.dropna().astype(str)
        drift = None
        if left.notna().any() and right.notna().any():
            drift = sample_drift(str(name), left, right, config, kind=kind)
        out.append(ColumnShift(str(name), kind, _summary(a[name], kind), _summary(b[name], kind),
                               drift))  # fmt: skip
    return out


def file_changes(
    a: Mapping[str, tuple[str, int]], b: Mapping[str, tuple[str, int]]
) -> list[FileChange]:
    """Files added, removed and changed, from ``{path: (hash, size)}`` of each side, by path."""
    out = []
    for path in sorted(set(a) | set(b)):
        if path not in a:
            out.append(FileChange(path, "added", None, b[path][1]))
        elif path not in b:
            out.append(FileChange(path, "removed", a[path][1], None))
        elif a[path][0] != b[path][0]:
            out.append(FileChange(path, "changed", a[path][1], b[path][1]))
    return out


# -- two stored versions ------------------------------------------------------------------------
def _frame(store: Store, record: DatasetVersionRecord) -> Any:
    """The version as a DataFrame when it is tabular and stored, else None."""
    from ..names import DATASET_FILE, DATASET_FRAME
    from .loading import load_dataset

    if not record.stored or record.kind not in (DATASET_FRAME, DATASET_FILE):
        return None
    if record.kind == DATASET_FILE and record.schema is None:
        return None  # not CSV, TSV or parquet
    frame = load_dataset(record.ref, store=store)
    return frame if hasattr(frame, "columns") else None


def _files(store: Store, record: DatasetVersionRecord) -> dict[str, tuple[str, int]] | None:
    from .loading import read_manifest

    if not record.stored or record.manifest_hash is None:
        return None
    return {f.path: (f.hash, f.size) for f in read_manifest(store, record).files}


def diff_versions(store: Store, a_ref: str, b_ref: str) -> DatasetDiff:
    """Compare dataset version ``a_ref`` (the older, usually) with ``b_ref``.

    Parameters
    ----------
    store : Store
    a_ref, b_ref : str
        ``train@2``, ``train@latest``, ``train@<hash prefix>``; the two may be versions of
        different datasets (a training set against its holdout).

    Returns
    -------
    DatasetDiff

    Raises
    ------
    DatasetNotFoundError
        When either version does not exist (before anything is loaded).
    ValidationError
        For a malformed reference.
    """
    from .loading import resolve_version

    a, b = resolve_version(store, a_ref), resolve_version(store, b_ref)
    result = DatasetDiff(a.ref, b.ref, a.hash == b.hash, (a.rows, b.rows))
    result.schema = schema_changes(a.schema, b.schema)
    result.checks = _checks(store, a, b)
    if result.identical:
        return result
    refs = [r.ref for r in (a, b) if not r.stored]
    if refs:
        result.notes.append(
            f"{' and '.join(refs)} recorded by reference only: compared by schema and row "
            "count, not by content."
        )
        return result
    frames = _frame(store, a), _frame(store, b)
    if frames[0] is not None and frames[1] is not None:
        result.row_changes = row_changes(*frames)
        if result.row_changes is None:
            result.notes.append("No column has one type in both versions: rows not compared.")
        result.columns = column_shifts(*frames)
    elif a.kind != b.kind or frames[0] is not None or frames[1] is not None:
        result.notes.append(f"{a.ref} is a {a.kind} and {b.ref} a {b.kind}: rows not compared.")
    if a.kind != "frame" and b.kind != "frame":
        a_files, b_files = _files(store, a), _files(store, b)
        if a_files is not None and b_files is not None:
            result.files = file_changes(a_files, b_files)
    return result


def _checks(store: Store, a: DatasetVersionRecord, b: DatasetVersionRecord) -> dict[str, Any]:
    """Each version's recorded quality check summary (None where none ran)."""
    found = store.dataset_checks.results([a.id, b.id])
    return {"a": found.get(a.id), "b": found.get(b.id)}
