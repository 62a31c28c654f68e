"""mlops import mlflow: a real MLflow store read with MLflow's client, compared field by field."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import HISTORY

from kernel_magics.core.interop import ImportOptions, import_mlflow
from kernel_magics.core.names import FAILED, FINISHED, Tag
from kernel_magics.errors import UnsafeModelError, ValidationError

# MLflow's own warnings (deprecations, its use of SQLAlchemy 2.1's deprecated noload) are not ours.
pytestmark = pytest.mark.filterwarnings(
    "ignore::FutureWarning",
    "ignore::UserWarning",
    "ignore:The ``noload`` loader strategy is deprecated:DeprecationWarning",
)


def _ours(store) -> dict[str, object]:
    """Our imported runs by their MLflow run id."""
    page = store.search_runs(filter=f"tags.`{Tag.MLFLOW_RUN_ID}` != ''")
    runs = [store.runs.get(run_id) for run_id in page.run_ids]
    return {r.tags[Tag.MLFLOW_RUN_ID]: r for r in runs}


def test_runs_arrive_field_by_field(store, mlflow_source):
    from mlflow import MlflowClient

    # Given a real MLflow store with nested runs, a failed run and one still running
    client = MlflowClient(mlflow_source.uri)

    # When it is imported
    summary = import_mlflow(store, ImportOptions(mlflow_source.uri))

    # Then every ended run is here with the same fields, and the running one is not (yet)
    ours = _ours(store)
    assert summary.runs == 4 and summary.runs_unfinished == 1
    assert mlflow_source.run_ids["live"] not in ours
    for name in ("sweep", "trial-0", "trial-1", "broken"):
        theirs = client.get_run(mlflow_source.run_ids[name])
        run = ours[theirs.info.run_id]
        assert run.name == name
        assert run.status == {"FINISHED": FINISHED, "FAILED": FAILED}[theirs.info.status]
        assert run.start_time == theirs.info.start_time / 1000
        assert run.end_time == theirs.info.end_time / 1000
        assert run.user == theirs.info.user_id
        assert run.params == theirs.data.params
        kept = {k: v for k, v in theirs.data.tags.items()
                if k not in ("mlflow.runName", "mlflow.user", "mlflow.parentRunId")}  # fmt: skip
        assert {k: v for k, v in run.tags.items() if k != Tag.MLFLOW_RUN_ID} == kept
        assert run.metrics == theirs.data.metrics
        parent = theirs.data.tags.get("mlflow.parentRunId")
        assert (run.parent_run_id and store.runs.get(run.parent_run_id).name) == (
            parent and client.get_run(parent).info.run_name
        )
    assert run.experiment == "other" and ours[mlflow_source.run_ids["sweep"]].experiment == "churn"
    # The experiment's description (MLflow's note) and its other tags come along
    churn = next(e for e in store.experiments.list() if e.name == "churn")
    assert churn.description == "Churn models for the retention team"
    assert churn.tags == {"owner": "ana"}


def test_full_metric_history_and_artifacts(store, mlflow_source):
    from mlflow import MlflowClient

    client = MlflowClient(mlflow_source.uri)
    import_mlflow(store, ImportOptions(mlflow_source.uri))
    ours = _ours(store)

    trial = ours[mlflow_source.run_ids["trial-1"]]
    theirs = client.get_metric_history(mlflow_source.run_ids["trial-1"], "loss")
    history = store.runs.metric_history(trial.id, "loss")
    assert len(history) == len(theirs) == HISTORY
    assert [(p["step"], p["timestamp"], p["value"]) for p in history] == [
        (m.step, m.timestamp / 1000, m.value) for m in theirs
    ]
    sweep = ours[mlflow_source.run_ids["sweep"]]
    assert sorted(a["path"] for a in sweep.artifacts) == sorted(mlflow_source.artifact_bytes)
    for path, data in mlflow_source.artifact_bytes.items():
        assert store.artifacts.read(sweep.id, path)[0] == data
    dataset = ours[mlflow_source.run_ids["trial-0"]].datasets
    assert [(d["name"], d["rows"]) for d in dataset] == [("churn-train", 200)]
    assert [c["name"] for c in __import__("json").loads(dataset[0]["schema"])] == list(
        mlflow_source.frame.columns
    )


def test_models_versions_aliases_and_safe_formats(store, mlflow_source):
    from kernel_magics.core.registry import get_model_version, list_model_versions, load_model

    summary = import_mlflow(store, ImportOptions(mlflow_source.uri))
    ours = _ours(store)

    # The skops version and the cloudpickled tree (all scikit-learn types) both load as skops
    versions = {v.version: v for v in list_model_versions("churn", store=store)}
    assert {v: r.format for v, r in versions.items()} == {1: "skops", 2: "skops"}
    assert versions[1].run_id == ours[mlflow_source.run_ids["trial-0"]].id
    assert versions[2].run_id == ours[mlflow_source.run_ids["trial-1"]].id
    assert versions[1].tags["stage"] == "old" and versions[2].description == "the tree"
    assert get_model_version("churn@champion", store=store).version == 2
    assert get_model_version("churn@challenger", store=store).version == 1
    assert store.models.get_model("churn").description == "Churn classifier"
    assert store.models.get_model("churn").tags == {"team": "retention"}
    frame = mlflow_source.frame
    for ref in ("churn/1", "churn/2"):
        model = load_model(ref, store=store)
        assert (model.predict(frame) == mlflow_source.models[ref].predict(frame)).all()
    assert versions[1].signature["inputs"]["columns"][0]["name"] == "tenure"

    # The custom type was never unpickled: kept as cloudpickle, refused without allow_pickle
    custom = get_model_version("custom/1", store=store)
    assert custom.format == "cloudpickle" and summary.pickle_versions == 1
    with pytest.raises(UnsafeModelError, match="allow_pickle=True"):
        load_model("custom/1", store=store)
    model = load_model("custom/1", allow_pickle=True, store=store)
    assert (model.predict(frame) == mlflow_source.models["custom/1"].predict(frame)).all()


def test_import_twice_adds_nothing(store, mlflow_source):
    first = import_mlflow(store, ImportOptions(mlflow_source.uri))
    counts = (len(_ours(store)), len(store.models.list_versions("churn")))

    again = import_mlflow(store, ImportOptions(mlflow_source.uri))

    assert (len(_ours(store)), len(store.models.list_versions("churn"))) == counts
    assert again.runs == 0 and again.metric_points == 0 and again.model_versions == 0
    assert again.runs_already == first.runs and again.model_versions_already == 3
    assert again.aliases == 0  # already pointing at the right versions


def test_incremental_by_experiment_and_since(store, mlflow_source):
    # --experiment first: only that experiment's runs
    only = import_mlflow(store, ImportOptions(mlflow_source.uri, experiments=["other"]))
    assert only.runs == 1 and {r.name for r in _ours(store).values()} == {"broken"}

    # Then everything: only the new ones are added
    rest = import_mlflow(store, ImportOptions(mlflow_source.uri))
    assert rest.runs == 3 and rest.runs_already == 1

    # --since in the future finds nothing new and writes nothing
    later = datetime.now(timezone.utc) + timedelta(days=1)
    none = import_mlflow(store, ImportOptions(mlflow_source.uri, since=later))
    assert none.runs == 0 and none.runs_already == 0


def test_interrupted_import_is_redone(store, mlflow_source):
    # Given a run an interrupted import left behind (created, tagged, never ended)
    broken_id = mlflow_source.run_ids["broken"]
    half = store.runs.create(
        store.experiments.get_or_create("other"), name="broken", tags={Tag.MLFLOW_RUN_ID: broken_id}
    )

    summary = import_mlflow(store, ImportOptions(mlflow_source.uri, experiments=["other"]))

    assert summary.runs_redone == 1
    run = _ours(store)[broken_id]
    assert run.id != half and run.status == FAILED and run.params == {"lr": "0.5"}


def test_non_finite_points_are_left_out_with_a_warning(store, tmp_path):
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path / 'nan.db'}"
    client = MlflowClient(uri, uri)
    run = client.create_run(client.create_experiment("nan"), run_name="diverged")
    for step, value in enumerate([1.0, float("nan"), float("inf"), 0.5]):
        client.log_metric(run.info.run_id, "loss", value, step=step)
    client.set_terminated(run.info.run_id, "FINISHED")

    summary = import_mlflow(store, ImportOptions(uri))

    (ours,) = _ours(store).values()
    # MLflow's SQL store itself clamps infinity to the largest float; NaN stays NaN there
    values = [p["value"] for p in store.runs.metric_history(ours.id, "loss")]
    assert values == [1.0, sys.float_info.max, 0.5]
    assert summary.metric_points == 3
    assert any("1 NaN or infinite metric point(s)" in w for w in summary.warnings)


def test_unknown_experiment_is_refused_before_any_work(store, mlflow_source):
    with pytest.raises(ValidationError, match="no experiment named 'nope'.*churn.*--experiment"):
        import_mlflow(store, ImportOptions(mlflow_source.uri, experiments=["nope"]))
    assert _ours(store) == {}


def test_cli_import_shows_progress_and_summary(_isolated_store, mlflow_source):
    from click.testing import CliRunner

    from kernel_magics.cli import cli

    # A real `mlops` process, as a user runs it: the progress bar, then the summary table
    mlops = Path(sys.executable).parent / "mlops"
    args = ["import", "mlflow", "--tracking-uri", mlflow_source.uri]
    env = {**os.environ, "COLUMNS": "120"}
    result = subprocess.run(
        [str(mlops), *args], capture_output=True, text=True, env=env, check=True
    )
    assert "metric points" in result.stdout and "artifact bytes" in result.stdout
    assert "Runs imported" in result.stdout and "Model versions imported" in result.stdout
    assert "custom" in result.stdout  # the warning about the pickle-format version

    # Again (in-process: MLflow is already imported here), as JSON: nothing new
    again = CliRunner().invoke(cli, [*args, "--json", "--since", "2000-01-01"])
    assert again.exit_code == 0, again.output
    assert '"runs_already": 4' in again.output and '"runs": 0' in again.output
    bad = CliRunner().invoke(cli, [*args, "--experiment", "nope"])
    assert isinstance(bad.exception, ValidationError)
    assert "no experiment named 'nope'" in str(bad.exception)
