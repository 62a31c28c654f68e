"""The registry's Python API (``mlops.log_model``, ``mlops.load_model``, aliases, lineage...)."""

from __future__ import annotations

import json
import platform
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...errors import ModelLoadError, ValidationError
from ..store import Store, open_store
from .formats import TRUSTED_TAG, dump_model, flavor_of, load_model_bytes, trusted_from_tags
from .profile import profile_data
from .records import AliasMove, ModelRecord, ModelVersionRecord, check_name, parse_ref
from .signature import column_names, infer_signature

if TYPE_CHECKING:
    from ..store.models import ModelRepository


def registry(store: Store | None = None) -> ModelRepository:
    """Return the model repository of ``store`` (the default store when omitted).

    The same object as ``store.models``: one repository per store, built on first use.
    """
    return (store or open_store()).models


def _library_versions(model: Any) -> dict[str, str]:
    tags = {"mlops.python_version": platform.python_version()}
    root = type(model).__module__.split(".")[0]
    for lib in {"sklearn", root}:
        try:
            module = __import__(lib)
            tags[f"mlops.{lib}_version"] = str(module.__version__)
        except Exception:  # not every package has a __version__; it is informational
            continue
    return tags


def log_model(
    model: Any,
    name: str,
    input_example: Any,
    *,
    training_data: Any = None,
    description: str | None = None,
    tags: dict[str, Any] | None = None,
    alias: str | None = None,
    format: str | None = None,
    allow_pickle: bool = False,
    trusted: list[str] | None = None,
    run: Any = None,
    store: Store | None = None,
) -> ModelVersionRecord:
    """Register ``model`` as the next version of ``name``, linked to the active run.

    Parameters
    ----------
    model : object
        A fitted model with ``predict`` (scikit-learn estimators and pipelines are stored with
        skops, never pickle, unless you ask for pickle).
    name : str
        The registered model's name (created on first use).
    input_example : DataFrame, 2-D ndarray, dict of columns or list of records
        Typical input. The signature (columns and types) is inferred from it; the first rows are
        kept as an example; and unless ``training_data`` is given, its feature profile (quantiles,
        histograms) becomes the training profile used for drift monitoring.
    training_data : same types as input_example, optional
        The data to profile instead of ``input_example`` (e.g. the full training frame).
    description : str, optional
        Free text shown by ``mlops models show``.
    tags : dict, optional
        Version tags.
    alias : str, optional
        Point this alias (e.g. ``staging``) at the new version.
    format : {"skops", "pickle", "cloudpickle"}, optional
        skops by default.
    allow_pickle : bool
        Required for the pickle formats.
    trusted : list of str, optional
        Extra types (``mypkg.MyTransformer``) to trust in the skops file; recorded with the version.
    run : Run, optional
        The run that produced the model; the active run by default (none is fine).
    store : Store, optional
        The default store when omitted.

    Returns
    -------
    ModelVersionRecord
        The new version (``.version``, ``.ref``, ``.signature``...).

    Raises
    ------
    ValidationError
        For a bad name, an example the model cannot predict on, or an unserializable model.
    UnsafeModelError
        For a pickle format without ``allow_pickle=True``.
    """
    check_name(name)
    if input_example is None:
        raise ValidationError(
            "log_model needs input_example=X (a few rows of real input, or the training frame): "
            "the signature that servers validate requests against is inferred from it."
        )
    from .signature import as_frame

    example = as_frame(input_example)
    try:
        output = model.predict(example[:5] if hasattr(example, "shape") else example)
    except Exception as exc:
        raise ValidationError(
            f"The model cannot predict on input_example ({type(exc).__name__}: {exc}); pass "
            "rows shaped like the training data."
        ) from exc
    signature = infer_signature(example, output)
    profile = profile_data(example if training_data is None else training_data)
    expected = column_names(signature) or [str(i) for i in range(signature["inputs"]["width"])]
    absent = [c for c in expected if c not in profile["features"]]
    if absent:
        raise ValidationError(
            f"training_data lacks the input column(s) {', '.join(map(repr, absent[:10]))}; pass "
            "the frame the model was trained on (same columns as input_example)."
        )
    data, used_format, extra_trusted = dump_model(model, format, allow_pickle, trusted)
    store = store or open_store()
    ref = store.blobs.put_bytes(data)
    run_id = _run_id(run)
    version_tags = {**_library_versions(model), **{k: str(v) for k, v in (tags or {}).items()}}
    if extra_trusted:
        version_tags[TRUSTED_TAG] = json.dumps(extra_trusted)
    repo = store.models
    record = repo.create_version(
        name,
        ref,
        flavor=flavor_of(model),
        format=used_format,
        signature=signature,
        profile=profile,
        run_id=run_id,
        description=description,
        tags=version_tags,
    )
    if alias:
        repo.set_alias(name, alias, record.version, reason="log_model")
        record = repo.get_version(parse_ref(record.ref))
    return record


def _run_id(run: Any) -> str | None:
    if run is not None:
        return run if isinstance(run, str) else run.id
    from .. import tracking

    active = tracking._active[-1] if tracking._active else tracking.active_run()
    return active.id if active is not None else None


@dataclass
class LoadedModel:
    """A deserialized model together with its version record."""

    model: Any
    version: ModelVersionRecord


def load_model_version(
    ref: str,
    *,
    allow_pickle: bool = False,
    trusted: list[str] | None = None,
    store: Store | None = None,
) -> LoadedModel:
    """Resolve ``ref``, verify the blob's hash, and deserialize it safely (see :func:`load_model`).

    Returns
    -------
    LoadedModel
        The model object and its version record.
    """
    repo = registry(store)
    record = repo.get_version(parse_ref(ref))
    data = repo.blobs.get_bytes(record.blob_hash)  # raises BlobIntegrityError on mismatch
    extra = trusted_from_tags(record.tags) + list(trusted or [])
    with warnings.catch_warnings():
        # skops warns when library versions differ; the version tags already record them.
        warnings.simplefilter("ignore")
        model = load_model_bytes(data, record.format, allow_pickle, extra)
    if not hasattr(model, "predict"):
        raise ModelLoadError(
            f"{record.ref} loaded as {type(model).__name__}, which has no predict()."
        )
    return LoadedModel(model, record)


def load_model(
    ref: str,
    *,
    allow_pickle: bool = False,
    trusted: list[str] | None = None,
    store: Store | None = None,
) -> Any:
    """Load a registered model: ``"churn"`` (latest), ``"churn/3"`` or ``"churn@production"``.

    The blob's BLAKE3 hash is checked before it is read; skops files are rebuilt with only
    trusted types; pickle is refused unless ``allow_pickle=True``.

    Parameters
    ----------
    ref : str
        The model reference.
    allow_pickle : bool
        Allow a version stored with pickle/cloudpickle (runs code from the file).
    trusted : list of str, optional
        Extra types to trust in a skops file.
    store : Store, optional
        The default store when omitted.

    Returns
    -------
    object
        The model, ready to ``predict``.

    Raises
    ------
    ModelNotFoundError
        When the name, version or alias does not exist.
    BlobIntegrityError
        When the stored blob was modified after it was registered.
    UnsafeModelError
        For a pickle version without ``allow_pickle=True``.
    UntrustedTypesError
        For a skops file holding types nobody vouched for.
    """
    return load_model_version(ref, allow_pickle=allow_pickle, trusted=trusted, store=store).model


def get_model_version(ref: str, store: Store | None = None) -> ModelVersionRecord:
    """Return the record of ``churn``, ``churn/3`` or ``churn@production`` (with signature)."""
    return registry(store).get_version(parse_ref(ref))


def list_models(store: Store | None = None) -> list[ModelRecord]:
    """Every registered model with its latest version and aliases."""
    return registry(store).list_models()


def list_model_versions(name: str, store: Store | None = None) -> list[ModelVersionRecord]:
    """Every version of a model, newest first."""
    return registry(store).list_versions(check_name(name))


def set_alias(
    name: str, alias: str, version: int, *, reason: str | None = None, store: Store | None = None
) -> AliasMove:
    """Point ``name@alias`` at ``version`` (recorded in the alias history)."""
    return registry(store).set_alias(check_name(name), alias, int(version), reason=reason)


def delete_alias(name: str, alias: str, store: Store | None = None) -> AliasMove:
    """Remove ``name@alias`` (recorded in the alias history)."""
    return registry(store).delete_alias(check_name(name), alias)


def alias_history(
    name: str, alias: str | None = None, store: Store | None = None
) -> list[AliasMove]:
    """Every move of the model's aliases (or of one alias), oldest first."""
    return registry(store).alias_history(check_name(name), alias)


def set_model_version_tags(ref: str, tags: dict[str, Any], store: Store | None = None) -> None:
    """Set tags on a version (``churn/3``)."""
    registry(store).set_version_tags(parse_ref(ref), tags)


def set_model_description(ref: str, description: str, store: Store | None = None) -> None:
    """Describe a version (``churn/3``, ``churn@production``) or the model itself (``churn``)."""
    registry(store).set_description(parse_ref(ref), description)


def delete_model(ref: str, store: Store | None = None) -> list[int]:
    """Delete a version (``churn/3``) or a whole model (``churn``); return the versions deleted.

    Blobs stay until ``mlops gc``. Aliased or deployed versions are refused (ConflictError).
    """
    return registry(store).delete(parse_ref(ref))


def model_lineage(ref: str, store: Store | None = None) -> dict[str, Any]:
    """Where a version came from: its run, the run's params, metrics, datasets and notebook.

    Returns
    -------
    dict
        ``{"model": "churn/3", "run": {...}, "datasets": [...], "notebook": {...}}`` (run and
        notebook may be None).
    """
    store = store or open_store()
    record = registry(store).get_version(parse_ref(ref))
    out: dict[str, Any] = {
        "model": record.ref,
        "blob_hash": record.blob_hash,
        "run": None,
        "datasets": [],
        "notebook": None,
    }
    if record.run_id is None:
        return out
    from ...errors import NotFoundError

    try:
        run = store.runs.get(record.run_id)
    except NotFoundError:
        return out
    out["run"] = {
        "id": run.id,
        "experiment": run.experiment,
        "name": run.name,
        "status": run.status,
        "params": run.params,
        "metrics": run.metrics,
        "notebook_path": run.notebook_path,
        "start_time": run.start_time,
    }
    out["datasets"] = run.datasets
    if run.notebook_version_id is not None:
        from ..notebooks import get_notebook_version

        try:
            out["notebook"] = get_notebook_version(store, run.notebook_version_id).to_dict()
        except NotFoundError:
            pass
    return out
