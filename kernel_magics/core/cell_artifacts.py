"""Turn Python objects and matplotlib figures into artifact bytes, in safe formats first.

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


def figure_png(figure: Any, dpi: int = 100) -> bytes:
    """Render a matplotlib figure to PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


def open_figure_numbers() -> set[int]:
    """Numbers of the pyplot figures open now (empty when pyplot was never imported)."""
    import sys

    if "matplotlib.pyplot" not in sys.modules:
        return set()
    return set(sys.modules["matplotlib.pyplot"].get_fignums())


def drawn_figures(before: set[int]) -> list[tuple[int, Any]]:
    """Return the pyplot figures opened since ``before`` was taken, plus older ones drawn on since.

    With the inline backend every figure a cell draws is still open when the cell's code ends
    (IPython closes them afterwards), so this sees exactly the cell's figures.
    """
    import sys

    plt = sys.modules.get("matplotlib.pyplot")
    if plt is None:
        return []
    from matplotlib._pylab_helpers import Gcf

    figures = []
    for number in plt.get_fignums():
        manager = Gcf.figs.get(number)
        if manager is None:
            continue
        figure = manager.canvas.figure
        if number in before and not figure.stale:
            continue
        figures.append((number, figure))
    return figures
