"""``mlops import mlflow``: read an MLflow store with MLflow's client, write it into ours.

Everything is read through :class:`mlflow.MlflowClient` (so any store MLflow opens works: its
SQLite default, a file store, a tracking server) and written through the store's repositories.

Idempotent and incremental: each imported run carries the MLflow run id as the tag
``mlops.mlflow.run_id`` and each model version ``mlops.mlflow.model_version``; a second import
skips what is there. A run is imported once it has ended in MLflow, and it is written running
first and ended last, so a run an interrupted import left behind (still ``running``, or shown
``crashed``) is deleted and imported again next time.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import ValidationError
from ..extras import require
from ..names import CRASHED, RUNNING, SOURCE_API, Tag
from ..store.run_values import MAX_VALUE_LEN
from .mlflow_models_import import ModelImport
from .mlflow_tags import NOTE, STATUS_FROM_MLFLOW, split_run_tags
from .progress import ARTIFACT_BYTES, METRIC_POINTS, RUNS, NullProgress, Progress

if TYPE_CHECKING:
    from ..store import Store
    from ..views.table import Table

#: Runs fetched per MLflow search page (MLflow's own maximum for search_runs is 50,000).
PAGE = 1000


@dataclass
class ImportOptions:
    """What to import.

    Attributes
    ----------
    tracking_uri : str, optional
        The MLflow tracking URI (MLflow's own default, ``MLFLOW_TRACKING_URI``, when None).
    registry_uri : str, optional
        The model registry URI (the tracking URI when None).
    experiments : list of str
        Only these experiments (every active experiment when empty).
    since : datetime, optional
        Only runs started, and model versions created, at or after this time.
    """

    tracking_uri: str | None = None
    registry_uri: str | None = None
    experiments: list[str] = field(default_factory=list)
    since: datetime | None = None


@dataclass
class ImportSummary:
    """What an import wrote (and what it left alone, and why)."""

    experiments: int = 0
    runs: int = 0
    runs_already: int = 0
    runs_unfinished: int = 0
    runs_redone: int = 0
    params: int = 0
    tags: int = 0
    metric_points: int = 0
    artifacts: int = 0
    artifact_bytes: int = 0
    datasets: int = 0
    model_versions: int = 0
    model_versions_already: int = 0
    skops_versions: int = 0
    pickle_versions: int = 0
    aliases: int = 0
    warnings: list[str] = field(default_factory=list)

    def table(self) -> Table:
        """The summary as a view (rendered by the CLI with rich)."""
        from ..views.table import table

        rows = [
            ("Experiments", self.experiments, ""),
            ("Runs imported", self.runs, f"{self.runs_redone} redone after an interrupted import"
             if self.runs_redone else ""),
            ("Runs already imported", self.runs_already, "skipped"),
            ("Runs still running in MLflow", self.runs_unfinished, "imported once they end"),
            ("Params", self.params, ""),
            ("Tags", self.tags, ""),
            ("Metric points", self.metric_points, ""),
            ("Artifacts", self.artifacts, f"{self.artifact_bytes:,} bytes"),
            ("Dataset inputs", self.datasets, ""),
            ("Model versions imported", self.model_versions,
             f"{self.skops_versions} skops, {self.pickle_versions} pickle (allow_pickle=True)"),
            ("Model versions already imported", self.model_versions_already, "skipped"),
            ("Aliases set", self.aliases, ""),
        ]  # fmt: skip
        note = "\n".join(f"Warning: {w}" for w in self.warnings)
        return table(["What", "Count", "Note"], rows, title="MLflow import", note=note)


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


class MlflowImporter:
    """One import: an MLflow client on one side, a store on the other.

    Parameters
    ----------
    store : Store
        Where to write.
    options : ImportOptions
        What to read.
    progress : Progress, optional
        Told about runs, metric points and artifact bytes as they are written.
    """

    def __init__(self, store: Store, options: ImportOptions, progress: Progress | None = None):
        require("mlflow", feature="mlops import mlflow")
        from mlflow import MlflowClient

        self.store = store
        self.options = options
        self.progress = progress or NullProgress()
        # A registry URI left out means the tracking URI's registry, not MLflow's global default.
        self.registry_uri = options.registry_uri or options.tracking_uri
        self.client = MlflowClient(options.tracking_uri, self.registry_uri)
        self.summary = ImportSummary()
        self.run_ids: dict[str, str] = {}  # MLflow run id -> ours

    # -- experiments and what is already here ------------------------------------------------
    def experiments(self) -> list[Any]:
        """The MLflow experiments to import (checked against ``options.experiments``).

        Raises
        ------
        ValidationError
            When an experiment named in the options does not exist in MLflow.
        """
        found, token = [], None
        while True:
            page = self.client.search_experiments(max_results=PAGE, page_token=token)
            found += list(page)
            token = page.token
            if not token:
                break
        wanted = self.options.experiments
        missing = sorted(set(wanted) - {e.name for e in found})
        if missing:
            known = ", ".join(sorted(e.name for e in found)[:20]) or "none"
            raise ValidationError(
                f"MLflow has no experiment named {', '.join(map(repr, missing))}; its "
                f"experiments are: {known}. Fix --experiment (or leave it out to import all)."
            )
        return [e for e in found if not wanted or e.name in wanted]

    def _imported(self) -> dict[str, tuple[str, str]]:
        """MLflow run id -> (our run id, status as reads show it), for every imported run."""
        from ..store.summaries import run_summaries

        page = self.store.search_runs(filter=f"tags.`{Tag.MLFLOW_RUN_ID}` != ''")
        return {
            row["tags"][Tag.MLFLOW_RUN_ID]: (row["id"], row["status"])
            for row in run_summaries(self.store, page.run_ids)
        }

    # -- runs ----------------------------------------------------------------------------------
    def mlflow_runs(self, experiment_ids: list[str]) -> list[Any]:
        """Every active run of the experiments (started since ``options.since``), oldest first."""
        from mlflow.entities import ViewType

        query = f"attributes.start_time >= {_ms(self.options.since)}" if self.options.since else ""
        found, token = [], None
        while experiment_ids:
            page = self.client.search_runs(
                experiment_ids, query, ViewType.ACTIVE_ONLY, max_results=PAGE, page_token=token
            )
            found += list(page)
            token = page.token
            if not token:
                break
        return sorted(found, key=lambda r: (r.info.start_time or 0, r.info.run_id))

    def import_runs(self, exps: list[Any]) -> None:
        """Import every new, ended run of ``exps`` with its values, history and artifacts."""
        names = {e.experiment_id: e.name for e in exps}
        for exp in exps:  # experiments without runs come along too
            self.import_experiment(exp)
        imported = self._imported()
        self.run_ids = {mlflow_id: ours for mlflow_id, (ours, _) in imported.items()}
        todo = []
        for run in self.mlflow_runs(list(names)):
            done = imported.get(run.info.run_id)
            if done is not None and done[1] not in (RUNNING, CRASHED):
                self.summary.runs_already += 1
            elif run.info.status not in STATUS_FROM_MLFLOW:
                self.summary.runs_unfinished += 1
            else:
                if done is not None:  # an interrupted import left it half written: redo it
                    self.store.runs.delete(done[0], force=True)
                    self.summary.runs_redone += 1
                todo.append(run)
        self.summary.experiments = len({r.info.experiment_id for r in todo})
        self.progress.add_total(RUNS, len(todo))
        parents: dict[str, str] = {}
        for run in todo:
            ours = self.import_run(run, names[run.info.experiment_id], parents)
            self.run_ids[run.info.run_id] = ours
            self.progress.advance(RUNS, 1)
        for ours, mlflow_parent in parents.items():  # children imported before their parent
            if mlflow_parent in self.run_ids:
                self.store.runs.set_fields(ours, parent_run_id=self.run_ids[mlflow_parent])

    def import_experiment(self, exp: Any) -> None:
        """Create experiment ``exp`` here (once) with its description and tags, kept up to date.

        MLflow keeps the description as the ``mlflow.note.content`` tag; every other tag is
        kept under its own key. Importing again overwrites them with MLflow's current values.
        """
        self.store.experiments.get_or_create(exp.name)
        tags = dict(exp.tags or {})
        description = tags.pop(NOTE, None)
        if description is not None:
            self.store.experiments.set_description(exp.name, description)
        self.store.experiments.set_tags(exp.name, self._fitting(tags, f"experiment {exp.name!r}"))

    def import_run(self, run: Any, experiment: str, parents: dict[str, str]) -> str:
        """Write one MLflow run; return our id. Unresolved parents are noted in ``parents``."""
        info, data = run.info, run.data
        columns, kept = split_run_tags(dict(data.tags))
        kept = self._fitting(kept, f"run {info.run_id}")
        kept[Tag.MLFLOW_RUN_ID] = info.run_id
        parent = columns["parent"]
        start = (info.start_time or 0) / 1000
        ours = self.store.runs.create(
            self.store.experiments.get_or_create(experiment),
            name=info.run_name or columns["name"],
            source=SOURCE_API,
            parent_run_id=self.run_ids.get(parent) if parent else None,
            notebook_path=columns["notebook_path"],
            params=dict(data.params),
            tags=kept,
            start_time=start,
            user=info.user_id or columns["user"] or "",
        )
        if parent and parent not in self.run_ids:
            parents[ours] = parent
        self.summary.runs += 1
        self.summary.params += len(data.params)
        self.summary.tags += len(kept) - 1
        self._metrics(info.run_id, ours, list(data.metrics))
        self._datasets(run, ours)
        self._artifacts(info.run_id, ours)
        end = info.end_time / 1000 if info.end_time else start
        self.store.runs.end(ours, STATUS_FROM_MLFLOW[info.status], end_time=end)
        return ours

    def _fitting(self, values: dict[str, str], where: str) -> dict[str, str]:
        long = sorted(k for k, v in values.items() if len(v) > MAX_VALUE_LEN)
        if long:
            self.summary.warnings.append(
                f"{where}: tag(s) {', '.join(long)} longer than {MAX_VALUE_LEN} characters "
                "were not imported."
            )
        return {k: v for k, v in values.items() if k not in long}

    def _metrics(self, mlflow_id: str, ours: str, keys: list[str]) -> None:
        points = []
        for key in keys:
            history = self.client.get_metric_history(mlflow_id, key)
            self.progress.add_total(METRIC_POINTS, len(history))
            points += [(ours, key, m.step, m.timestamp / 1000, m.value) for m in history]
        read = len(points)
        points = [p for p in points if p[4] - p[4] == 0.0]  # NaN/inf: we store finite numbers
        if len(points) < read:
            self.summary.warnings.append(
                f"run {mlflow_id}: {read - len(points)} NaN or infinite metric point(s) were not "
                "imported (jupyter-mlops stores finite numbers only)."
            )
        if points:  # one transaction per run, through the flusher's batch insert
            with self.store.db.write() as conn:
                self.store.runs.write_metrics(conn, points)
        self.summary.metric_points += len(points)
        self.progress.advance(METRIC_POINTS, read)

    def _datasets(self, run: Any, ours: str) -> None:
        import json

        inputs = getattr(run.inputs, "dataset_inputs", None) or []
        for item in inputs:
            ds = item.dataset
            try:
                profile = json.loads(ds.profile) if ds.profile else {}
                spec = json.loads(ds.schema).get("mlflow_colspec", []) if ds.schema else []
            except (ValueError, AttributeError):
                profile, spec = {}, []
            schema = [{"name": str(c.get("name")), "dtype": str(c.get("type"))} for c in spec]
            self.store.datasets.record(
                ours,
                ds.name,
                ds.digest,
                size=None,
                rows=profile.get("num_rows"),
                schema=schema or None,
                source=ds.source,
                role="input",
            )
            self.summary.datasets += 1

    def _artifacts(self, mlflow_id: str, ours: str) -> None:
        if not self.client.list_artifacts(mlflow_id):
            return
        with tempfile.TemporaryDirectory(prefix="mlops-mlflow-") as tmp:
            root = Path(self.client.download_artifacts(mlflow_id, "", dst_path=tmp))
            files = sorted(p for p in root.rglob("*") if p.is_file())
            self.progress.add_total(ARTIFACT_BYTES, sum(p.stat().st_size for p in files))
            for path in files:
                ref = self.store.blobs.put_file(path)
                self.store.artifacts.add(ours, path.relative_to(root).as_posix(), ref)
                self.summary.artifacts += 1
                self.summary.artifact_bytes += ref.size
                self.progress.advance(ARTIFACT_BYTES, ref.size)

    # -- all of it -------------------------------------------------------------------------------
    def run(self) -> ImportSummary:
        """Import runs, then registered models; return the summary."""
        exps = self.experiments()
        self.import_runs(exps)
        ModelImport(self).import_models()
        return self.summary


def import_mlflow(
    store: Store, options: ImportOptions | None = None, progress: Progress | None = None
) -> ImportSummary:
    """Import an MLflow store's experiments, runs and registered models into ``store``.

    Parameters
    ----------
    store : Store
        The jupyter-mlops store to write into.
    options : ImportOptions, optional
        Tracking URI, experiments and start date (everything at MLflow's default URI if None).
    progress : Progress, optional
        Receives runs, metric points and artifact bytes as they are written.

    Returns
    -------
    ImportSummary
        Counts of what was written and skipped, with warnings.

    Raises
    ------
    MissingExtraError
        Without the ``mlflow`` extra.
    ValidationError
        When a requested experiment does not exist in MLflow.
    """
    return MlflowImporter(store, options or ImportOptions(), progress).run()
