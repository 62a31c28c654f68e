"""The model registry: models, versions, aliases with history, lineage, safe model formats.

``import kernel_magics as mlops`` re-exports the public functions (``mlops.log_model``,
``mlops.load_model``, ``mlops.set_alias`` ...). See :mod:`.api`.
"""

from __future__ import annotations

from .api import (
    LoadedModel,
    alias_history,
    delete_alias,
    delete_model,
    get_model_version,
    list_model_versions,
    list_models,
    load_model,
    load_model_version,
    log_model,
    model_lineage,
    registry,
    set_alias,
    set_model_description,
    set_model_version_tags,
)
from .records import AliasMove, ModelRecord, ModelRef, ModelVersionRecord, parse_ref

__all__ = [
    "AliasMove",
    "LoadedModel",
    "ModelRecord",
    "ModelRef",
    "ModelVersionRecord",
    "alias_history",
    "delete_alias",
    "delete_model",
    "get_model_version",
    "list_model_versions",
    "list_models",
    "load_model",
    "load_model_version",
    "log_model",
    "model_lineage",
    "parse_ref",
    "registry",
    "set_alias",
    "set_model_description",
    "set_model_version_tags",
]
