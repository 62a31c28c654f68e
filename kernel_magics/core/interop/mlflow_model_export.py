"""The registry half of ``mlops export mlflow``: models, versions (as MLflow models), aliases.

Each of our versions becomes an MLflow *logged model* (MLflow 3's model entity) holding an
``MLmodel`` file with the ``sklearn`` and ``python_function`` flavors next to the stored blob,
then a registered version pointing at it, linked to the exported run. The blob is copied as
it is: a skops version stays skops (with its trusted types listed, as MLflow's loader expects);
a pickle version stays pickle and is never unpickled by the export.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..names import Tag
from .mlflow_tags import NOT_EXPORTED

if TYPE_CHECKING:
    from ..registry.records import ModelVersionRecord
    from .mlflow_export import MlflowExporter

#: Our format -> the file name and MLflow's ``serialization_format``.
FILES = {"skops": "model.skops", "pickle": "model.pkl", "cloudpickle": "model.pkl"}


def write_mlflow_model(folder: Path, record: ModelVersionRecord, data: bytes) -> None:
    """Write ``data`` as an MLflow scikit-learn model folder (``MLmodel`` + the model file)."""
    import mlflow.pyfunc
    from mlflow.models import Model

    filename = FILES[record.format]
    (folder / filename).write_bytes(data)
    trusted = None
    if record.format == "skops":
        import skops.io as sio

        # MLflow's loader passes this list to skops; it is exactly what our load would accept.
        trusted = sorted(sio.get_untrusted_types(data=data))
    model = Model()
    model.add_flavor(
        "sklearn",
        pickled_model=filename,
        sklearn_version=record.tags.get(Tag.library_version("sklearn")),
        serialization_format=record.format,
        skops_trusted_types=trusted,
        code=None,
    )
    mlflow.pyfunc.add_to_model(model, loader_module="mlflow.sklearn", model_path=filename)
    model.save(str(folder / "MLmodel"))


class ModelExport:
    """Registered models of one export (shares the exporter's client, store and summary)."""

    def __init__(self, exporter: MlflowExporter):
        self.exporter = exporter
        self.client = exporter.client
        self.store = exporter.store
        self.summary = exporter.summary

    def _exported_versions(self, name: str) -> dict[int, int]:
        """Our version number -> MLflow's, for versions an earlier export wrote."""
        found = {}
        for mv in self.client.search_model_versions(f"name = '{name}'"):
            ref = (mv.tags or {}).get(Tag.EXPORTED_MODEL_VERSION, "")
            if ref.rpartition("/")[0] == name:
                found[int(ref.rpartition("/")[2])] = int(mv.version)
        return found

    def export_models(self) -> None:
        """Export every registered model: its new versions, its description and aliases."""
        from mlflow.exceptions import MlflowException

        for model in self.store.models.list_models():
            try:
                registered = self.client.get_registered_model(model.name)
            except MlflowException:
                registered = self.client.create_registered_model(
                    model.name, description=model.description
                )
            if model.description and registered.description != model.description:
                self.client.update_registered_model(model.name, description=model.description)
            for key, value in model.tags.items():
                if (registered.tags or {}).get(key) != value:
                    self.client.set_registered_model_tag(model.name, key, value)
            known = self._exported_versions(model.name)
            for record in sorted(self.store.models.list_versions(model.name),
                                 key=lambda r: r.version):  # fmt: skip
                if record.version in known:
                    self.summary.model_versions_already += 1
                    continue
                known[record.version] = self.export_version(record)
            current = dict(registered.aliases or {})
            for alias, version in model.aliases.items():
                target = known.get(version)
                if target is not None and int(current.get(alias, -1)) != target:
                    self.client.set_registered_model_alias(model.name, alias, str(target))
                    self.summary.aliases += 1

    def _experiment_for(self, run_id: str | None) -> str:
        if run_id is not None and run_id in self.exporter.run_ids:
            run = self.client.get_run(self.exporter.run_ids[run_id])
            return run.info.experiment_id
        return self.exporter.experiment_id("Default")

    def export_version(self, record: ModelVersionRecord) -> int:
        """Write one version as an MLflow logged model and register it; return MLflow's number."""
        from mlflow.entities import LoggedModelStatus

        mlflow_run = self.exporter.run_ids.get(record.run_id) if record.run_id else None
        logged = self.client.create_logged_model(
            experiment_id=self._experiment_for(record.run_id),
            name=record.name,
            source_run_id=mlflow_run,
        )
        data = self.store.blobs.get_bytes(record.blob_hash)
        with tempfile.TemporaryDirectory(prefix="mlops-export-model-") as tmp:
            write_mlflow_model(Path(tmp), record, data)
            self.client.log_model_artifacts(logged.model_id, tmp)
        self.client.finalize_logged_model(logged.model_id, LoggedModelStatus.READY)
        tags: dict[str, Any] = {k: v for k, v in record.tags.items() if k not in NOT_EXPORTED}
        tags[Tag.EXPORTED_MODEL_VERSION] = record.ref
        mv = self.client.create_model_version(
            record.name,
            source=f"models:/{logged.model_id}",
            run_id=mlflow_run,
            tags=tags,
            description=record.description,
            model_id=logged.model_id,
        )
        self.summary.model_versions += 1
        return int(mv.version)
