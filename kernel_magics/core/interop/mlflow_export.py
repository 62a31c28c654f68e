"""``mlops export mlflow``: write our experiments, runs and models into an MLflow store.

Written through :class:`mlflow.MlflowClient` only. Each exported run carries our run id as the
tag ``mlops.run_id`` and each exported model version ``mlops.model_version = name/N``, so
exporting again adds only what is new. Runs keep their start and end times, status, user, name,
parent, params, tags, full metric history and artifacts; MLflow's system tags come back from our
columns (:mod:`.mlflow_tags`), so MLflow -> jupyter-mlops -> MLflow gives the same
``mlflow.search_runs`` frame apart from ids.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import ValidationError
from ..extras import require
from ..names import RUNNING, Tag
from .mlflow_model_export import ModelExport
from .mlflow_tags import NOTE, PARENT_RUN_ID, STATUS_TO_MLFLOW, run_tags_for_mlflow
from .progress import ARTIFACT_BYTES, METRIC_POINTS, RUNS, NullProgress, Progress

if TYPE_CHECKING:
    from ..store import Store
    from ..views.table import Table

#: MLflow's log_batch limits: 1,000 metrics, 100 params and 100 tags per request.
METRICS_PER_BATCH = 1000
VALUES_PER_BATCH = 100


@dataclass
class ExportOptions:
    """Where and what to export.

    Attributes
    ----------
    tracking_uri : str
        The MLflow tracking URI to write to (``sqlite:///mlflow.db``, a folder, ``http://...``).
    registry_uri : str, optional
        The model registry URI (the tracking URI when None).
    experiments : list of str
        Only these of our experiments (all when empty); registered models are exported whole.
    """

    tracking_uri: str
    registry_uri: str | None = None
    experiments: list[str] = field(default_factory=list)


@dataclass
class ExportSummary:
    """What an export wrote into MLflow."""

    experiments: int = 0
    runs: int = 0
    runs_already: int = 0
    metric_points: int = 0
    artifacts: int = 0
    artifact_bytes: int = 0
    model_versions: int = 0
    model_versions_already: int = 0
    aliases: int = 0
    warnings: list[str] = field(default_factory=list)

    def table(self) -> Table:
        """The summary as a view (rendered by the CLI with rich)."""
        from ..views.table import table

        rows = [
            ("Experiments", self.experiments, ""),
            ("Runs exported", self.runs, ""),
            ("Runs already in MLflow", self.runs_already, "skipped"),
            ("Metric points", self.metric_points, ""),
            ("Artifacts", self.artifacts, f"{self.artifact_bytes:,} bytes"),
            ("Model versions exported", self.model_versions, ""),
            ("Model versions already in MLflow", self.model_versions_already, "skipped"),
            ("Aliases set", self.aliases, ""),
        ]
        note = "\n".join(f"Warning: {w}" for w in self.warnings)
        return table(["What", "Count", "Note"], rows, title="MLflow export", note=note)


def _ms(seconds: float) -> int:
    return int(round(seconds * 1000))


class MlflowExporter:
    """One export from ``store`` into the MLflow store at ``options.tracking_uri``."""

    def __init__(self, store: Store, options: ExportOptions, progress: Progress | None = None):
        if not options.tracking_uri:
            raise ValidationError(
                "mlops export mlflow needs --tracking-uri (e.g. sqlite:///mlflow.db): the MLflow "
                "store to write into."
            )
        require("mlflow", feature="mlops export mlflow")
        from mlflow import MlflowClient

        self.store = store
        self.options = options
        self.progress = progress or NullProgress()
        self.client = MlflowClient(
            options.tracking_uri, options.registry_uri or options.tracking_uri
        )
        self.summary = ExportSummary()
        self.run_ids: dict[str, str] = {}  # our run id -> MLflow's
        self.experiment_ids: dict[str, str] = {}  # our experiment name -> MLflow's id

    def experiment_id(self, name: str) -> str:
        """MLflow's id of experiment ``name``, created there on first use.

        Its description (as ``mlflow.note.content``) and tags are written the first time an
        export uses it, so an export again carries later edits.
        """
        if name not in self.experiment_ids:
            found = self.client.get_experiment_by_name(name)
            exp_id = found.experiment_id if found else self.client.create_experiment(name)
            record = next((e for e in self.store.experiments.list() if e.name == name), None)
            if record is not None:
                tags = dict(record.tags)
                if record.description is not None:
                    tags[NOTE] = record.description
                for key, value in tags.items():
                    self.client.set_experiment_tag(exp_id, key, value)
            self.experiment_ids[name] = exp_id
        return self.experiment_ids[name]

    def _exported(self) -> dict[str, str]:
        """Our run id -> MLflow run id, for runs an earlier export wrote."""
        from mlflow.entities import ViewType

        ids = [e.experiment_id for e in self.client.search_experiments()]
        found, token = {}, None
        while ids:
            page = self.client.search_runs(
                ids, f"tags.`{Tag.EXPORTED_RUN_ID}` != ''", ViewType.ALL, 1000, page_token=token
            )
            found.update({r.data.tags[Tag.EXPORTED_RUN_ID]: r.info.run_id for r in page})
            token = page.token
            if not token:
                break
        return found

    def export_runs(self) -> None:
        """Export every run of the chosen experiments that MLflow does not have yet."""
        known = {e.name for e in self.store.experiments.list()}
        missing = sorted(set(self.options.experiments) - known)
        if missing:
            raise ValidationError(
                f"No experiment named {', '.join(map(repr, missing))} in this store; known: "
                f"{', '.join(sorted(known)[:20]) or 'none'}. Fix --experiment."
            )
        page = self.store.search_runs(experiments_=self.options.experiments or None)
        self.run_ids = self._exported()
        todo = [rid for rid in reversed(page.run_ids) if rid not in self.run_ids]  # oldest first
        self.summary.runs_already = len(page.run_ids) - len(todo)
        self.progress.add_total(RUNS, len(todo))
        exported = []
        for run_id in todo:
            run = self.store.runs.get(run_id)
            self.run_ids[run.id] = self.export_run(run)
            exported.append(run)
            self.progress.advance(RUNS, 1)
        for run in exported:  # parents are known once every run exists in MLflow
            if run.parent_run_id in self.run_ids:
                self.client.set_tag(self.run_ids[run.id], PARENT_RUN_ID,
                                    self.run_ids[run.parent_run_id])  # fmt: skip
        self.summary.experiments = len({r.experiment for r in exported})

    def export_run(self, run: Any) -> str:
        """Create one run in MLflow with everything it logged; return MLflow's run id."""
        from mlflow.entities import Metric, Param

        tags = run_tags_for_mlflow(
            run.tags, name=run.name, user=run.user, notebook_path=run.notebook_path, run_id=run.id
        )
        created = self.client.create_run(
            self.experiment_id(run.experiment),
            start_time=_ms(run.start_time),
            tags=tags,
            run_name=run.name,
        )
        mlflow_id = created.info.run_id
        params = [Param(k, v) for k, v in run.params.items()]
        for i in range(0, len(params), VALUES_PER_BATCH):
            self.client.log_batch(mlflow_id, params=params[i : i + VALUES_PER_BATCH])
        points = []
        for key in self.store.runs.metric_keys(run.id):
            points += [
                Metric(key, p["value"], _ms(p["timestamp"]), p["step"])
                for p in self.store.runs.metric_history(run.id, key)
            ]
        self.progress.add_total(METRIC_POINTS, len(points))
        for i in range(0, len(points), METRICS_PER_BATCH):
            self.client.log_batch(mlflow_id, metrics=points[i : i + METRICS_PER_BATCH])
            self.progress.advance(METRIC_POINTS, len(points[i : i + METRICS_PER_BATCH]))
        self.summary.metric_points += len(points)
        self._artifacts(run, mlflow_id)
        if run.status != RUNNING:
            end = _ms(run.end_time) if run.end_time is not None else None
            self.client.set_terminated(mlflow_id, STATUS_TO_MLFLOW[run.status], end_time=end)
        self.summary.runs += 1
        return mlflow_id

    def _artifacts(self, run: Any, mlflow_id: str) -> None:
        if not run.artifacts:
            return
        total = sum(a["size"] for a in run.artifacts)
        self.progress.add_total(ARTIFACT_BYTES, total)
        with tempfile.TemporaryDirectory(prefix="mlops-export-") as tmp:
            root = Path(tmp)
            for item in run.artifacts:
                target = root / item["path"]  # normalized on write: relative, no '..'
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(self.store.blobs.get_bytes(item["blob_hash"]))
            self.client.log_artifacts(mlflow_id, str(root))
        self.summary.artifacts += len(run.artifacts)
        self.summary.artifact_bytes += total
        self.progress.advance(ARTIFACT_BYTES, total)

    def run(self) -> ExportSummary:
        """Export runs, then registered models; return the summary."""
        import mlflow

        # MLflow's registry checks a new version's logged model in the *global* tracking store,
        # not the client's, so point it at the target for the duration of the export.
        previous = mlflow.get_tracking_uri()
        mlflow.set_tracking_uri(self.options.tracking_uri)
        try:
            self.export_runs()
            ModelExport(self).export_models()
        finally:
            mlflow.set_tracking_uri(previous)
        return self.summary


def export_mlflow(
    store: Store, options: ExportOptions, progress: Progress | None = None
) -> ExportSummary:
    """Export ``store``'s experiments, runs and registered models into an MLflow store.

    Parameters
    ----------
    store : Store
        The jupyter-mlops store to read.
    options : ExportOptions
        The MLflow tracking URI and which experiments.
    progress : Progress, optional
        Receives runs, metric points and artifact bytes as they are written.

    Returns
    -------
    ExportSummary
        Counts of what was written and skipped.

    Raises
    ------
    MissingExtraError
        Without the ``mlflow`` extra.
    ValidationError
        Without a tracking URI, or for an unknown experiment.
    """
    return MlflowExporter(store, options, progress).run()
