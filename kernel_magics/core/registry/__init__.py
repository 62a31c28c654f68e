"""The model registry: models, versions, aliases with history, lineage, safe model formats.

``import kernel_magics as mlops`` re-exports the public functions (``mlops.log_model``,
``mlops.load_model``, ``mlops.set_alias`` ...). See :mod:`.api`.
"""

from __future__ import annotations

from ..lazy import lazy_getattr

_LAZY = {
    **dict.fromkeys(
        [
            "LoadedModel", "alias_history", "delete_alias", "delete_model", "get_model_version",
            "list_model_versions", "list_models", "load_model", "load_model_version", "log_model",
            "model_lineage", "registry", "set_alias", "set_model_description",
            "set_model_version_tags",
        ],
        ".api",
    ),
    **dict.fromkeys(
        ["AliasMove", "ModelRecord", "ModelRef", "ModelVersionRecord", "parse_ref"], ".records"
    ),
}  # fmt: skip

__all__ = sorted(_LAZY)

# Lazy, so that the store's repositories can import .records without loading the API (which
# imports the store back) and ``import kernel_magics`` stays light.
__getattr__ = lazy_getattr(__name__, _LAZY)
