"""Data versioning: store dataset versions by content, find them by name, get them back.

- :func:`store_dataset` stores a file, a folder or a DataFrame as content-defined chunks
  (deduplicated against every earlier version) and records the version;
- :func:`resolve_version` finds ``train@3``, ``train@latest`` or ``train@<hash prefix>``;
- :func:`load_dataset` returns a DataFrame for tabular data, else a restored local path;
- :func:`materialize` writes a version to a destination (``mlops datasets get``).
"""

from __future__ import annotations

from ..store.dataset_versions import DatasetVersionRecord
from .describe import DatasetInfo, describe_dataset, describe_file, describe_folder, describe_frame
from .loading import load_dataset, materialize, parse_ref, read_manifest, resolve_version, restore
from .manifest import Manifest, ManifestFile
from .storing import store_dataset, store_limit

__all__ = [
    "DatasetInfo",
    "DatasetVersionRecord",
    "Manifest",
    "ManifestFile",
    "describe_dataset",
    "describe_file",
    "describe_folder",
    "describe_frame",
    "load_dataset",
    "materialize",
    "parse_ref",
    "read_manifest",
    "restore",
    "resolve_version",
    "store_dataset",
    "store_limit",
]
