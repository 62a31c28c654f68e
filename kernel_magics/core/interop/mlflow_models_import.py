"""The registry half of ``mlops import mlflow``: registered models, versions, aliases.

Each MLflow version becomes one of our versions of the same model, in MLflow's version order,
tagged ``mlops.mlflow.model_version = name/N`` (so aliases are mapped by that tag, and a second
import skips it). The model artifacts go through :func:`.mlflow_models.convert_model`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import KernelMagicsError, ModelNotFoundError, ValidationError
from ..names import Tag
from ..registry.records import ModelRef, check_alias, check_name
from .mlflow_models import convert_model, signature_and_profile

if TYPE_CHECKING:
    from .mlflow_import import MlflowImporter


class ModelImport:
    """Registered models of one import (shares the importer's client, store and summary)."""

    def __init__(self, importer: MlflowImporter):
        self.importer = importer
        self.client = importer.client
        self.store = importer.store
        self.summary = importer.summary

    def registered_models(self) -> list[Any]:
        """Every registered model in the MLflow registry."""
        found, token = [], None
        while True:
            page = self.client.search_registered_models(max_results=1000, page_token=token)
            found += list(page)
            token = page.token
            if not token:
                return found

    def import_models(self) -> None:
        """Import every registered model's new versions, then its aliases and description."""
        for model in self.registered_models():
            try:
                check_name(model.name)
            except ValidationError as exc:
                self.summary.warnings.append(f"model {model.name!r} skipped: {exc}")
                continue
            known = self._imported_versions(model.name)
            versions = self.client.search_model_versions(f"name = '{model.name}'")
            for mv in sorted(versions, key=lambda v: int(v.version)):
                if int(mv.version) in known:
                    self.summary.model_versions_already += 1
                    continue
                since = self.importer.options.since
                if since and (mv.creation_timestamp or 0) < since.timestamp() * 1000:
                    continue
                ours = self.import_version(model.name, mv)
                if ours is not None:
                    known[int(mv.version)] = ours
            if known:
                self._aliases(model, known)
                if model.description:
                    self.store.models.set_description(ModelRef(model.name), model.description)
                if model.tags:
                    self.store.models.set_model_tags(model.name, dict(model.tags))

    def _imported_versions(self, name: str) -> dict[int, int]:
        """MLflow version number -> our version number, for versions imported before."""
        try:
            versions = self.store.models.list_versions(name)
        except ModelNotFoundError:
            return {}
        found = {}
        for record in versions:
            source = record.tags.get(Tag.MLFLOW_MODEL_VERSION)
            if source and source.rpartition("/")[0] == name:
                found[int(source.rpartition("/")[2])] = record.version
        return found

    def import_version(self, name: str, mv: Any) -> int | None:
        """Download, convert and register one MLflow model version; return our version number."""
        import mlflow.artifacts

        where = f"model {name!r} version {mv.version}"
        with tempfile.TemporaryDirectory(prefix="mlops-mlflow-model-") as tmp:
            try:
                uri = self.client.get_model_version_download_uri(name, mv.version)
                folder = Path(
                    mlflow.artifacts.download_artifacts(
                        artifact_uri=uri,
                        dst_path=tmp,
                        tracking_uri=self.importer.options.tracking_uri,
                        registry_uri=self.importer.registry_uri,
                    )
                )
                converted = convert_model(folder)
            except (KernelMagicsError, OSError, KeyError) as exc:
                self.summary.warnings.append(f"{where} skipped: {exc}")
                return None
            except Exception as exc:  # MLflow's own errors (missing artifacts, bad MLmodel)
                self.summary.warnings.append(f"{where} skipped: {type(exc).__name__}: {exc}")
                return None
            signature, profile = signature_and_profile(folder, converted.model)
        ref = self.store.blobs.put_bytes(converted.data)
        tags = {str(k): str(v) for k, v in (mv.tags or {}).items()}
        tags[Tag.MLFLOW_MODEL_VERSION] = f"{name}/{mv.version}"
        record = self.store.models.create_version(
            name,
            ref,
            flavor=converted.flavor,
            format=converted.format,
            signature=signature,
            profile=profile,
            run_id=self.importer.run_ids.get(mv.run_id) if mv.run_id else None,
            description=mv.description or None,
            tags=tags,
        )
        self.summary.model_versions += 1
        if converted.format == "skops":
            self.summary.skops_versions += 1
        else:
            self.summary.pickle_versions += 1
            self.summary.warnings.append(
                f"{where} holds types outside scikit-learn/numpy/scipy; it was kept as "
                f"{converted.format} and loads only with allow_pickle=True ({record.ref})."
            )
        return record.version

    def _aliases(self, model: Any, known: dict[int, int]) -> None:
        current = {a: v for a, v in self.store.models.get_model(model.name).aliases.items()}
        for alias, version in (model.aliases or {}).items():
            ours = known.get(int(version))
            try:
                check_alias(alias)
            except ValidationError as exc:
                self.summary.warnings.append(f"alias {model.name}@{alias} skipped: {exc}")
                continue
            if ours is None or current.get(alias) == ours:
                continue
            self.store.models.set_alias(model.name, alias, ours, reason="mlops import mlflow")
            self.summary.aliases += 1
