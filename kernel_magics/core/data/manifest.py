"""A version's manifest: its files (path, size, mode, BLAKE3) and the ordered chunks of its stream.

The files' bytes follow each other in the stream in manifest order, so file ``i`` starts where
file ``i - 1`` ended. The manifest is stored as a blob of canonical JSON (sorted keys, no
spaces): the same content always gives the same manifest blob.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from ...errors import ValidationError

FORMAT = 1


@dataclass(frozen=True)
class ManifestFile:
    """One file of a version: relative path, size in bytes, permission bits, BLAKE3 hex."""

    path: str
    size: int
    mode: int
    hash: str


@dataclass
class Manifest:
    """What a stored version holds.

    Attributes
    ----------
    kind : str
        ``file``, ``folder`` or ``frame`` (a frame's one file is its parquet file).
    files : list of ManifestFile
        In stream order (sorted by path for a folder).
    chunks : list of (hash, size)
        The stream's content-defined chunks, in order.
    """

    kind: str
    files: list[ManifestFile] = field(default_factory=list)
    chunks: list[tuple[str, int]] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        """Bytes of all files together."""
        return sum(f.size for f in self.files)

    def to_bytes(self) -> bytes:
        """Canonical JSON."""
        body = {
            "format": FORMAT,
            "kind": self.kind,
            "files": [[f.path, f.size, f.mode, f.hash] for f in self.files],
            "chunks": [[h, s] for h, s in self.chunks],
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        """Parse a manifest blob, refusing paths that could escape a restore folder.

        Raises
        ------
        ValidationError
            For an unknown format or an unsafe path.
        """
        body = json.loads(data)
        if body.get("format") != FORMAT:
            raise ValidationError(
                f"Dataset manifest format {body.get('format')!r} is not known to this version "
                "of jupyter-mlops; upgrade it to read this dataset version."
            )
        files = [ManifestFile(p, int(s), int(m), h) for p, s, m, h in body["files"]]
        for entry in files:
            check_relative(entry.path)
        return cls(body["kind"], files, [(h, int(s)) for h, s in body["chunks"]])


def check_relative(path: str) -> str:
    """Return ``path`` when it is a clean relative path; raise for anything that could escape.

    Raises
    ------
    ValidationError
        For absolute paths, ``..``, backslashes or empty names.
    """
    pure = PurePosixPath(path)
    if (
        not path
        or "\\" in path
        or pure.is_absolute()
        or any(part in ("..", ".", "") for part in path.split("/"))
    ):
        raise ValidationError(f"Dataset file path {path!r} is not a clean relative path.")
    return path
