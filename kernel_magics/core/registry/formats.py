"""Safe model serialization: skops first, pickle only when the user opts in.

* ``skops`` (the default): a zip of JSON + numpy arrays that skops rebuilds without running
  pickle. On load, skops lists every type it does not trust by default; we accept types from
  scikit-learn, numpy and scipy (the libraries whose constructors are safe to call with stored
  state) plus exactly the types the user listed in ``trusted=`` when logging the model. Anything
  else is refused with the list of types, so a tampered or hostile file cannot run code.
* ``pickle`` / ``cloudpickle``: arbitrary Python, for models skops cannot represent. Writing
  and reading them needs ``allow_pickle=True`` each time, and the blob's hash is checked before
  a single byte is unpickled.
"""

from __future__ import annotations

import json
from typing import Any

from ...errors import ModelLoadError, UnsafeModelError, UntrustedTypesError, ValidationError
from ..extras import require

FORMATS = ("skops", "pickle", "cloudpickle")
PICKLE_FORMATS = frozenset({"pickle", "cloudpickle"})
#: Module prefixes whose types are trusted in a skops file without being listed.
TRUSTED_MODULES = ("sklearn.", "numpy.", "scipy.")
TRUSTED_TAG = "mlops.skops_trusted"


def flavor_of(model: Any) -> str:
    """``sklearn`` for scikit-learn estimators, else ``python`` (anything with ``predict``)."""
    try:
        from sklearn.base import BaseEstimator
    except ImportError:  # pragma: no cover - scikit-learn is a dependency
        return "python"
    return "sklearn" if isinstance(model, BaseEstimator) else "python"


def _untrusted(data: bytes, trusted: list[str]) -> list[str]:
    import skops.io as sio

    found = sio.get_untrusted_types(data=data)
    return sorted(t for t in found if not t.startswith(TRUSTED_MODULES) and t not in trusted)


def dump_model(
    model: Any, format: str | None, allow_pickle: bool, trusted: list[str] | None
) -> tuple[bytes, str, list[str]]:
    """Serialize ``model``; return the bytes, the format used and the extra trusted types.

    Parameters
    ----------
    model : object
        The fitted model (anything with ``predict``).
    format : {"skops", "pickle", "cloudpickle"} or None
        None picks skops.
    allow_pickle : bool
        Must be True for the pickle formats.
    trusted : list of str or None
        Fully qualified type names (``mypkg.MyTransformer``) the user vouches for in a skops file.

    Raises
    ------
    UnsafeModelError
        For a pickle format without ``allow_pickle=True``.
    UntrustedTypesError
        When the skops file would hold types outside scikit-learn/numpy/scipy and ``trusted``.
    ValidationError
        For an unknown format, or a model skops cannot serialize.
    """
    if not hasattr(model, "predict"):
        raise ValidationError(
            f"log_model needs a fitted model with a predict() method, got {type(model).__name__}."
        )
    format = format or "skops"
    trusted = list(trusted or [])
    if format not in FORMATS:
        raise ValidationError(f"Unknown model format {format!r}; use one of {', '.join(FORMATS)}.")
    if format in PICKLE_FORMATS:
        if not allow_pickle:
            raise UnsafeModelError(
                f"The {format} format runs arbitrary code when loaded; pass allow_pickle=True if "
                "you trust everyone who can write to this store, or use the default skops format."
            )
        if format == "cloudpickle":
            import cloudpickle

            return cloudpickle.dumps(model), format, []
        import pickle

        return pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL), format, []
    require("sklearn", "skops", feature="The skops model format (the default)")
    import skops.io as sio

    try:
        data = sio.dumps(model)
    except Exception as exc:  # skops raises TypeError/others for objects it cannot represent
        raise ValidationError(
            f"skops cannot serialize this {type(model).__name__} ({exc}). Log it with "
            "format='cloudpickle', allow_pickle=True if you accept pickle's risks."
        ) from exc
    left = _untrusted(data, trusted)
    if left:
        raise UntrustedTypesError(
            f"The model holds types skops does not trust by default: {', '.join(left)}. If you "
            f"wrote them or trust them, pass trusted={left!r} to log_model (they are recorded "
            "with the version), or use format='cloudpickle', allow_pickle=True."
        )
    found = sorted(t for t in sio.get_untrusted_types(data=data) if t in trusted)
    return data, format, found


def load_model_bytes(
    data: bytes, format: str, allow_pickle: bool, trusted: list[str] | None = None
) -> Any:
    """Rebuild a model from verified blob bytes.

    Parameters
    ----------
    data : bytes
        The blob, already checked against its hash by the blob store.
    format : str
        As recorded with the version.
    allow_pickle : bool
        Required for pickle formats.
    trusted : list of str, optional
        Extra types to trust in a skops file (recorded at log time plus the caller's).

    Raises
    ------
    UnsafeModelError
        For a pickle blob without ``allow_pickle=True``.
    UntrustedTypesError
        For a skops file holding types nobody vouched for.
    ModelLoadError
        When deserialization fails (e.g. a library version mismatch).
    """
    if format in PICKLE_FORMATS:
        if not allow_pickle:
            raise UnsafeModelError(
                f"This model version is stored with {format}, which can run arbitrary code when "
                "loaded. Pass allow_pickle=True (or --allow-pickle) only if you trust whoever "
                "logged it."
            )
        import pickle

        try:
            return pickle.loads(data)  # noqa: S301 - opted in, hash verified
        except Exception as exc:
            raise ModelLoadError(f"Cannot unpickle the model: {exc}") from exc
    if format != "skops":
        raise ModelLoadError(f"Unknown stored model format {format!r}.")
    require("sklearn", "skops", feature="Loading a skops model")
    import skops.io as sio

    trusted = list(trusted or [])
    try:
        left = _untrusted(data, trusted)
    except Exception as exc:
        raise ModelLoadError(f"The stored skops file is not readable: {exc}") from exc
    if left:
        raise UntrustedTypesError(
            f"The stored model holds untrusted types: {', '.join(left)}. Load it with "
            f"trusted={left!r} if you trust them."
        )
    allowed = sio.get_untrusted_types(data=data)  # every one of them passed the check above
    try:
        return sio.loads(data, trusted=allowed)
    except Exception as exc:
        raise ModelLoadError(
            f"skops could not rebuild the model ({type(exc).__name__}: {exc}); the library "
            "versions may differ from the ones it was logged with."
        ) from exc


def trusted_from_tags(tags: dict[str, str]) -> list[str]:
    """Return the extra trusted types recorded with a version."""
    raw = tags.get(TRUSTED_TAG)
    return list(json.loads(raw)) if raw else []
