"""Store a dataset version: a file, a folder or a DataFrame, deduplicated by content.

:func:`store_dataset` describes the data, cuts it into content-defined chunks
(:mod:`.chunks`), stores the chunks and a manifest as blobs, then records the version and what
it needs in one transaction. Data over the store limit (or ``store_content=False``) is recorded
by reference only, as before content was stored.
"""

from __future__ import annotations

import io
import os
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import blake3
import tomllib

from ...errors import FileMissingError, ValidationError
from ..names import DATASET_FILE, DATASET_FOLDER, DATASET_FRAME
from .chunks import StoredStream, StreamFile, store_bytes, store_files
from .describe import (
    DatasetInfo,
    describe_dataset,
    describe_frame,
    file_schema,
    folder_files,
    folder_hash,
)
from .manifest import Manifest, ManifestFile

if TYPE_CHECKING:
    from ..store import Store
    from ..store.dataset_versions import DatasetVersionRecord

#: Above this many bytes a dataset is recorded by reference unless ``store_content=True``.
DEFAULT_STORE_LIMIT = 20 * 1024**3
LIMIT_ENV = "MLOPS_DATASET_STORE_LIMIT"
CONFIG_NAME = "config.toml"
_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}  # fmt: skip


def parse_size(text: str | int, where: str) -> int:
    """Parse ``"500MB"``, ``"2 GiB"`` or a number of bytes.

    Raises
    ------
    ValidationError
        Naming ``where`` the value came from.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", str(text))
    unit = match and match.group(2).lower()
    if not match or unit not in _UNITS:
        raise ValidationError(
            f"{where} = {text!r} is not a size; write bytes or a number with KB, MB, GB, "
            "KiB, MiB or GiB (e.g. 5GB)."
        )
    return int(float(match.group(1)) * _UNITS[unit or ""])


def store_limit(store: Store) -> int:
    """Bytes above which a dataset is recorded by reference only.

    From ``MLOPS_DATASET_STORE_LIMIT``, else ``[datasets] store_limit`` in the store's
    ``.mlops/config.toml``, else 20 GiB.
    """
    if os.environ.get(LIMIT_ENV):
        return parse_size(os.environ[LIMIT_ENV], LIMIT_ENV)
    value, where = dataset_setting(store, "store_limit")
    return DEFAULT_STORE_LIMIT if value is None else parse_size(value, where)


def dataset_setting(store: Store, key: str) -> tuple[Any, str]:
    """``[datasets] key`` from the store's ``.mlops/config.toml``: ``(value or None, where)``.

    Raises
    ------
    ValidationError
        When the file is not valid TOML.
    """
    home = store.location.home
    config = home / CONFIG_NAME if home is not None else None
    where = f"[datasets] {key} in {config}"
    if config is None or not config.is_file():
        return None, where
    try:
        settings = tomllib.loads(config.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(f"{config} is not valid TOML: {exc}. Fix the file.") from exc
    return settings.get("datasets", {}).get(key), where


def _frame_parquet(frame: Any) -> bytes:
    """The frame as parquet, with fixed writer settings: the same frame gives the same bytes."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pa.Table.from_pandas(frame, preserve_index=None)
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise ValidationError(
            f"This DataFrame cannot be stored as parquet ({exc}). Give its columns one type "
            "each, or record it by reference: log_dataset(df, name=..., store=False)."
        ) from exc
    buffer = io.BytesIO()
    pq.write_table(
        table, buffer, compression="zstd", compression_level=3, use_dictionary=True,
        write_statistics=True, version="2.6", data_page_version="1.0",
    )  # fmt: skip
    return buffer.getvalue()


def _validate(data: Any, name: str | None) -> tuple[str, str]:
    """Return ``(kind, dataset name)`` or raise before any work starts."""
    if isinstance(data, (str, os.PathLike)):
        path = Path(data)
        if path.is_dir():
            kind = DATASET_FOLDER
        elif path.is_file():
            kind = DATASET_FILE
        else:
            raise FileMissingError(
                f"Cannot log dataset {str(path)!r}: no such file or folder. Check the path "
                "(relative paths are read from the working directory)."
            )
        default = path.resolve().name if kind == DATASET_FOLDER else path.stem
    elif type(data).__name__ == "DataFrame" and hasattr(data, "dtypes"):
        kind, default = DATASET_FRAME, ""
    else:
        raise ValidationError(
            f"A dataset is a file or folder path or a pandas DataFrame, not {type(data).__name__}."
        )
    dataset = name or default
    if not dataset:
        raise ValidationError("Give the DataFrame a dataset name: log_dataset(df, name='train').")
    if len(dataset) > 255 or "@" in dataset or "/" in dataset:
        raise ValidationError(
            f"Dataset name {dataset!r} must be 1 to 255 characters without '@' or '/' "
            "('@' separates the version: train@3)."
        )
    return kind, dataset


def _size(data: Any, kind: str) -> int:
    if kind == DATASET_FILE:
        return Path(data).stat().st_size
    if kind == DATASET_FOLDER:
        return sum(size for _, _, size in folder_files(Path(data)))
    return int(data.memory_usage(deep=False).sum())


def _store_files(store: Store, data: Any, kind: str) -> tuple[DatasetInfo, Manifest, StoredStream]:
    source = Path(data).resolve()
    if kind == DATASET_FILE:
        files = [StreamFile(source.name, str(source), source.stat().st_size)]
    else:
        files = [StreamFile(rel, path, size) for rel, path, size in folder_files(source)]
    stored = store_files(store.blobs, files)
    entries = [ManifestFile(f.path, f.size, f.mode, f.hash) for f in files]
    manifest = Manifest(kind, entries, stored.chunks)
    if kind == DATASET_FILE:
        rows, schema = file_schema(source)
        info = DatasetInfo(entries[0].hash, entries[0].size, rows, schema, str(source),
                           source.stem)  # fmt: skip
    else:
        digest = folder_hash([(f.path, f.hash) for f in entries])
        info = DatasetInfo(digest, manifest.total_bytes, None, None, str(source), source.name)
    return info, manifest, stored


def _store_frame(store: Store, frame: Any) -> tuple[DatasetInfo, Manifest, StoredStream]:
    info = describe_frame(frame)
    parquet = _frame_parquet(frame)
    stored = store_bytes(store.blobs, parquet)
    entry = ManifestFile("data.parquet", len(parquet), 0o644, blake3.blake3(parquet).hexdigest())
    return info, Manifest(DATASET_FRAME, [entry], stored.chunks), stored


def store_dataset(
    store: Store,
    data: Any,
    name: str | None = None,
    *,
    store_content: bool | None = None,
    run_id: str | None = None,
    role: str = "input",
    on_fail: str | None = None,
) -> DatasetVersionRecord:
    """Record a version of a dataset and store its content, deduplicated by chunks.

    Parameters
    ----------
    store : Store
        Where to record and store it.
    data : path-like or pandas.DataFrame
        A file (stored as it is), a folder (every file under it) or a DataFrame (as parquet).
    name : str, optional
        The dataset's name; a file's stem or a folder's name by default (required for frames).
    store_content : bool, optional
        True stores the content whatever its size; False records a reference only (hash,
        schema, rows). By default content is stored up to :func:`store_limit` bytes.
    run_id : str, optional
        Link the version to this run, with ``role`` ``input`` (read) or ``output`` (written).
    on_fail : str, optional
        ``warn`` or ``fail`` when the version fails the dataset's quality checks (see
        :func:`kernel_magics.core.data.quality.run_checks`); the checks' own policy otherwise.

    Returns
    -------
    DatasetVersionRecord
        The version (an earlier one when the same content was logged before).

    Raises
    ------
    FileMissingError
        When the path does not exist.
    ValidationError
        For anything that is not a path or a DataFrame, or a bad name.
    """
    record, _ = log_version(store, data, name, store_content=store_content, run_id=run_id,
                            role=role, on_fail=on_fail)  # fmt: skip
    return record


def log_version(
    store: Store,
    data: Any,
    name: str | None = None,
    *,
    store_content: bool | None = None,
    run_id: str | None = None,
    role: str = "input",
    on_fail: str | None = None,
) -> tuple[DatasetVersionRecord, bool]:
    """:func:`store_dataset`, also saying whether the version is new to the dataset."""
    from .quality import check_on_fail, run_checks

    kind, dataset = _validate(data, name)
    if on_fail is not None:
        check_on_fail(on_fail)
    if role not in ("input", "output"):
        raise ValidationError(f"role must be 'input' or 'output', not {role!r}.")
    keep = store_content
    if keep is None:
        limit = store_limit(store)
        keep = _size(data, kind) <= limit
        if not keep:
            warnings.warn(
                f"Dataset {dataset!r} is over the store limit ({limit:,} bytes), so only a "
                "reference is recorded: pass store=True to store it anyway, or raise "
                f"{LIMIT_ENV} / [datasets] store_limit in .mlops/{CONFIG_NAME}.",
                UserWarning,
                stacklevel=2,
            )
    if not keep:
        info = describe_dataset(data)
        version_id, new = _record(store, run_id, dataset, info, role)
        record = store.dataset_versions.get(version_id)
        run_checks(store, record, data, on_fail=on_fail, run_id=run_id)
        return record, new
    if kind == DATASET_FRAME:
        info, manifest, stored = _store_frame(store, data)
    else:
        info, manifest, stored = _store_files(store, data, kind)
    manifest_ref = store.blobs.put_bytes(manifest.to_bytes())
    version_id, new = _record(store, run_id, dataset, info, role)
    store.dataset_versions.save_content(
        version_id, kind=kind, manifest=(manifest_ref.hash, manifest_ref.size),
        chunks=stored.chunks, content_bytes=stored.total_bytes,
        files=len(manifest.files),
    )  # fmt: skip
    record = store.dataset_versions.get(version_id)
    run_checks(store, record, data, on_fail=on_fail, run_id=run_id)
    return record, new


def _record(
    store: Store, run_id: str | None, name: str, info: DatasetInfo, role: str
) -> tuple[int, bool]:
    recorded = store.datasets.record(
        run_id, name, info.hash, size=info.size, rows=info.rows, schema=info.schema,
        source=info.source, role=role,
    )  # fmt: skip
    return int(recorded["version_id"]), bool(recorded["new"])
