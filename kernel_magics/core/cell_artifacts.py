"""Turn Python objects into artifact bytes, in safe formats first (figures: ``core/figures.py``).

``%%mlops track --artifact model`` stores the variable ``model`` after the cell ran:

* scikit-learn estimators (and anything skops can persist) -> ``model.skops`` (loading it never
  runs arbitrary code, unlike pickle);
* pandas DataFrames / Series -> ``model.parquet``;
* numpy arrays -> ``model.npy`` (saved with ``allow_pickle=False``);
* str -> ``model.txt``; JSON-serializable dicts and lists -> ``model.json``;
* anything else only with ``--pickle``: ``model.pkl``.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

from ..errors import ValidationError


class UnsafeArtifactError(ValidationError):
    """Raised when a value can only be stored with pickle and the user did not opt in."""


@dataclass(frozen=True)
class ArtifactBytes:
    """A serialized artifact: where it goes in the run, its bytes and media type."""

    path: str
    data: bytes
    media_type: str


def _is_sklearn(value: Any) -> bool:
    module = type(value).__module__ or ""
    return module.startswith("sklearn.") or (hasattr(value, "get_params") and hasattr(value, "fit"))


def serialize_value(name: str, value: Any, allow_pickle: bool = False) -> ArtifactBytes:
    """Serialize ``value`` for the artifact ``name`` in the safest format that fits it.

    Parameters
    ----------
    name : str
        The variable name; the artifact path is ``name`` plus the format's extension.
    value : object
        The object to store.
    allow_pickle : bool
        Fall back to pickle for objects no safe format handles.

    Returns
    -------
    ArtifactBytes

    Raises
    ------
    UnsafeArtifactError
        When only pickle fits and ``allow_pickle`` is False.
    """
    type_name = f"{type(value).__module__}.{type(value).__qualname__}"
    if _is_sklearn(value):
        import skops.io as sio

        try:
            return ArtifactBytes(f"{name}.skops", sio.dumps(value), "application/x-skops")
        except Exception as exc:  # skops refuses some custom objects
            if not allow_pickle:
                raise UnsafeArtifactError(
                    f"--artifact {name}: skops cannot save this {type_name} ({exc}). Add "
                    "--pickle to store it with pickle (only load pickles you trust)."
                ) from None
    if type_name.startswith("pandas.") and hasattr(value, "to_parquet"):
        buffer = io.BytesIO()
        value.to_parquet(buffer)
        return ArtifactBytes(f"{name}.parquet", buffer.getvalue(), "application/vnd.apache.parquet")
    if type_name.startswith("pandas.") and hasattr(value, "to_frame"):
        buffer = io.BytesIO()
        value.to_frame().to_parquet(buffer)
        return ArtifactBytes(f"{name}.parquet", buffer.getvalue(), "application/vnd.apache.parquet")
    if type_name == "numpy.ndarray" and value.dtype != object:
        import numpy as np

        buffer = io.BytesIO()
        np.save(buffer, value, allow_pickle=False)
        return ArtifactBytes(f"{name}.npy", buffer.getvalue(), "application/x-npy")
    if isinstance(value, str):
        return ArtifactBytes(f"{name}.txt", value.encode("utf-8"), "text/plain")
    if isinstance(value, (dict, list)):
        try:
            body = json.dumps(value, indent=2, allow_nan=False).encode()
        except (TypeError, ValueError):
            body = None
        if body is not None:
            return ArtifactBytes(f"{name}.json", body, "application/json")
    if not allow_pickle:
        raise UnsafeArtifactError(
            f"--artifact {name}: a {type_name} has no safe format (skops, parquet, npy, json). "
            "Add --pickle to store it with pickle (only load pickles you trust)."
        )
    import pickle

    return ArtifactBytes(f"{name}.pkl", pickle.dumps(value), "application/x-pickle")
