"""MLflow model artifacts -> jupyter-mlops model versions, without trusting pickle.

An MLflow scikit-learn model is a folder with an ``MLmodel`` file and the serialized estimator:

* ``model.skops`` (MLflow's default since 3.x): kept as a skops version. Whether it loads without
  ``trusted=`` is decided at load time by our rule (scikit-learn, numpy and scipy types only);
  the types MLflow's logger vouched for are *not* trusted on its behalf.
* ``model.pkl`` (pickle or cloudpickle): read with an unpickler that can only build classes from
  scikit-learn, numpy and scipy plus the few reconstructor functions numpy and copyreg use; when
  that succeeds the model is stored as skops (every type trusted, so it loads like any other
  version). Anything else (a custom class, a lambda pickled by value) is never unpickled here: the
  original bytes become a pickle-format version that loads only with ``allow_pickle=True``.
"""

from __future__ import annotations

import importlib
import io
import json
import pickle
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import KernelMagicsError
from ..registry.formats import TRUSTED_MODULES, dump_model, load_model_bytes

#: Functions (not classes) a plain pickle of a scikit-learn estimator calls to rebuild itself.
RECONSTRUCTORS = frozenset(
    {
        "copyreg._reconstructor",
        "_codecs.encode",
        "numpy.core.multiarray._reconstruct",
        "numpy._core.multiarray._reconstruct",
        "numpy.core.multiarray.scalar",
        "numpy._core.multiarray.scalar",
        "numpy._core.numeric._frombuffer",
        "numpy.core.numeric._frombuffer",
    }
)
#: Builtin types a pickled estimator may hold (containers, no callables that run code).
BUILTIN_TYPES = frozenset(
    {"builtins.slice", "builtins.set", "builtins.frozenset", "builtins.complex",
     "builtins.bytearray", "builtins.object", "collections.OrderedDict"}
)  # fmt: skip


class _TrustedOnlyUnpickler(pickle.Unpickler):
    """Builds classes of scikit-learn/numpy/scipy (and numpy's reconstructors), nothing else.

    This is the "restricting globals" pattern of the :mod:`pickle` documentation: a pickle can
    only call what ``find_class`` returns, so refusing every other global refuses arbitrary code.
    Library *functions* are refused too (``numpy.testing`` has one that runs a string).
    """

    def find_class(self, module: str, name: str) -> Any:
        qualified = f"{module}.{name}"
        if qualified in RECONSTRUCTORS or qualified in BUILTIN_TYPES:
            return super().find_class(module, name)
        if (module + ".").startswith(TRUSTED_MODULES):
            found = getattr(importlib.import_module(module), name, None)
            if isinstance(found, type):
                return found
        raise pickle.UnpicklingError(f"{qualified} is not a trusted type")


@dataclass
class ConvertedModel:
    """A model ready for :meth:`~kernel_magics.core.store.models.ModelRepository.create_version`.

    Attributes
    ----------
    data : bytes
        The blob to store.
    format : str
        ``skops``, ``pickle`` or ``cloudpickle``.
    flavor : str
        ``sklearn`` or ``python``.
    model : object or None
        The rebuilt estimator when it could be rebuilt safely (for the signature), else None.
    converted : bool
        True when a pickle was rewritten as skops.
    """

    data: bytes
    format: str
    flavor: str
    model: Any
    converted: bool


class UnsupportedModelError(KernelMagicsError):
    """Raised when an MLflow model has no flavor jupyter-mlops can load (not scikit-learn)."""


def convert_model(folder: Path) -> ConvertedModel:
    """Read an MLflow scikit-learn model folder and pick the safest format that keeps it.

    Raises
    ------
    UnsupportedModelError
        When the folder has no ``sklearn`` flavor.
    """
    import yaml

    meta = yaml.safe_load((folder / "MLmodel").read_text())
    sk = (meta.get("flavors") or {}).get("sklearn")
    if not sk:
        flavors = ", ".join(sorted(meta.get("flavors") or {})) or "none"
        raise UnsupportedModelError(
            f"only scikit-learn models can be imported (this one's flavors: {flavors})"
        )
    data = (folder / sk["pickled_model"]).read_bytes()
    serialization = sk.get("serialization_format") or "cloudpickle"
    if serialization == "skops":
        try:  # rebuilt only when every type is trusted (the signature needs predictions)
            model = load_model_bytes(data, "skops", allow_pickle=False)
        except KernelMagicsError:
            model = None
        return ConvertedModel(data, "skops", "sklearn", model, converted=False)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scikit-learn's version-mismatch warning
            model = _TrustedOnlyUnpickler(io.BytesIO(data)).load()
        skops_bytes, _, extra = dump_model(model, "skops", allow_pickle=False, trusted=None)
    except (pickle.UnpicklingError, KernelMagicsError, AttributeError, ImportError, TypeError):
        kept = "pickle" if serialization == "pickle" else "cloudpickle"
        return ConvertedModel(data, kept, "sklearn", None, converted=False)
    return ConvertedModel(skops_bytes, "skops", "sklearn", model, converted=not extra)


def signature_and_profile(folder: Path, model: Any) -> tuple[dict | None, dict | None]:
    """Our signature and training profile from the model's saved input example, if it has one.

    The signature needs the model's output on the example, so it is only inferred for a model
    that was rebuilt safely; the profile needs only the example.
    """
    from ..registry.profile import profile_data
    from ..registry.signature import infer_signature

    example_file = folder / "input_example.json"
    if not example_file.exists():
        return None, None
    import pandas as pd

    raw = json.loads(example_file.read_text())
    try:
        if isinstance(raw, dict) and "columns" in raw and "data" in raw:
            example: Any = pd.DataFrame(raw["data"], columns=raw["columns"])
        else:
            example = pd.DataFrame(raw)
        profile = profile_data(example)
        if model is None:
            return None, profile
        return infer_signature(example, model.predict(example)), profile
    except Exception:  # an example we cannot rebuild only costs the signature, not the model
        return None, None
