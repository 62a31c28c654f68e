"""Describe a dataset for versioning: content hash, schema, row count, size.

Files are hashed byte for byte (BLAKE3). DataFrames are hashed from pandas' own row hashes
(``pandas.util.hash_pandas_object``) plus their column names and dtypes, so the same data gives
the same version whichever file it came from.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import blake3

from ..errors import FileMissingError, ValidationError


@dataclass(frozen=True)
class DatasetInfo:
    """What :func:`describe_dataset` found out."""

    hash: str
    size: int | None
    rows: int | None
    schema: list[dict[str, str]] | None
    source: str | None
    default_name: str | None


def _frame_schema(frame) -> list[dict[str, str]]:
    return [{"name": str(c), "dtype": str(t)} for c, t in frame.dtypes.items()]


def describe_frame(frame) -> DatasetInfo:
    """Hash and describe a pandas DataFrame."""
    import pandas as pd

    hasher = blake3.blake3()
    schema = _frame_schema(frame)
    hasher.update(repr(schema).encode())
    row_hashes = pd.util.hash_pandas_object(frame, index=True).to_numpy()
    hasher.update(row_hashes.tobytes())
    return DatasetInfo(
        hash=hasher.hexdigest(),
        size=int(frame.memory_usage(deep=False).sum()),
        rows=len(frame),
        schema=schema,
        source="DataFrame",
        default_name=None,
    )


def _file_schema(path: Path) -> tuple[int | None, list[dict[str, str]] | None]:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        meta = pq.ParquetFile(path)
        arrow = meta.schema_arrow
        return meta.metadata.num_rows, [{"name": f.name, "dtype": str(f.type)} for f in arrow]
    if suffix in (".csv", ".tsv"):
        import pandas as pd

        sample = pd.read_csv(path, nrows=1000, sep="\t" if suffix == ".tsv" else ",")
        with open(path, "rb") as fh:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
            fh.seek(-1, os.SEEK_END) if path.stat().st_size else None
            last = fh.read(1) if path.stat().st_size else b"\n"
        rows = lines - 1 + (0 if last == b"\n" else 1)
        return max(rows, 0), _frame_schema(sample)
    return None, None


def describe_file(path: str | os.PathLike[str]) -> DatasetInfo:
    """Hash and describe a data file (schema and rows for CSV, TSV and Parquet)."""
    from .store.blobs import hash_file

    file = Path(path)
    if not file.is_file():
        raise FileMissingError(f"Cannot log dataset {str(file)!r}: no such file.")
    ref = hash_file(file)
    rows, schema = _file_schema(file)
    return DatasetInfo(ref.hash, ref.size, rows, schema, str(file.resolve()), file.stem)


def describe_dataset(data: Any) -> DatasetInfo:
    """Describe a file path or a DataFrame.

    Raises
    ------
    ValidationError
        For anything else.
    """
    if isinstance(data, (str, os.PathLike)):
        return describe_file(data)
    if type(data).__name__ == "DataFrame" and hasattr(data, "dtypes"):
        return describe_frame(data)
    raise ValidationError(
        f"log_dataset takes a file path or a pandas DataFrame, not {type(data).__name__}."
    )
