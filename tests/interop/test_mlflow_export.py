"""mlops export mlflow: our store written into a fresh MLflow store, checked with MLflow's API."""

from __future__ import annotations

import pytest

import kernel_magics as mlops
from kernel_magics.core.interop import ExportOptions, ImportOptions, export_mlflow, import_mlflow
from kernel_magics.errors import ValidationError

# MLflow's own warnings (deprecations, its use of SQLAlchemy 2.1's deprecated noload) are not ours.
pytestmark = pytest.mark.filterwarnings(
    "ignore::FutureWarning",
    "ignore::UserWarning",
    "ignore:The ``noload`` loader strategy is deprecated:DeprecationWarning",
)

#: Columns that are ids (different in every store by construction) or our provenance tag.
ID_COLUMNS = ["run_id", "experiment_id", "artifact_uri", "tags.mlflow.parentRunId",
              "tags.mlops.run_id"]  # fmt: skip


def _frame(uri: str):
    import mlflow

    mlflow.set_tracking_uri(uri)
    frame = mlflow.search_runs(search_all_experiments=True)
    frame = frame[frame["status"] != "RUNNING"]  # a running run is imported once it ends
    frame = frame.drop(columns=[c for c in ID_COLUMNS if c in frame.columns])
    frame = frame.sort_values("tags.mlflow.runName").reset_index(drop=True)
    return frame[sorted(frame.columns)]


def _parents(uri: str) -> dict[str, str | None]:
    """Run name -> parent run name, through MLflow's API."""
    from mlflow import MlflowClient

    client = MlflowClient(uri)
    exps = [e.experiment_id for e in client.search_experiments()]
    runs = client.search_runs(exps)
    names = {r.info.run_id: r.info.run_name for r in runs}
    return {r.info.run_name: names.get(r.data.tags.get("mlflow.parentRunId")) for r in runs}


@pytest.fixture
def round_trip(store, mlflow_source, tmp_path):
    import_mlflow(store, ImportOptions(mlflow_source.uri))
    target = f"sqlite:///{tmp_path / 'exported.db'}"
    summary = export_mlflow(store, ExportOptions(target))
    return target, summary


def test_round_trip_gives_the_same_search_runs_frame(round_trip, mlflow_source):
    import pandas as pd

    target, summary = round_trip

    assert summary.runs == 4
    pd.testing.assert_frame_equal(_frame(target), _frame(mlflow_source.uri))
    theirs = _parents(mlflow_source.uri)
    theirs.pop("live")
    assert _parents(target) == theirs
    # Experiments keep their description and tags both ways
    from mlflow import MlflowClient

    source, exported = MlflowClient(mlflow_source.uri), MlflowClient(target)
    for name in ("churn", "other"):
        want = source.get_experiment_by_name(name).tags
        assert exported.get_experiment_by_name(name).tags == want
    assert exported.get_experiment_by_name("churn").tags["owner"] == "ana"


def test_round_trip_keeps_histories_artifacts_models_and_aliases(
    round_trip, mlflow_source, monkeypatch
):
    import mlflow.sklearn
    from mlflow import MlflowClient

    target, _ = round_trip
    source, client = MlflowClient(mlflow_source.uri), MlflowClient(target, target)
    by_name = {r.info.run_name: r for r in client.search_runs(
        [e.experiment_id for e in client.search_experiments()])}  # fmt: skip

    # The full history, point by point
    theirs = source.get_metric_history(mlflow_source.run_ids["trial-1"], "loss")
    ours = client.get_metric_history(by_name["trial-1"].info.run_id, "loss")
    assert [(m.step, m.timestamp, m.value) for m in ours] == [
        (m.step, m.timestamp, m.value) for m in theirs
    ]
    # Artifacts, byte for byte
    sweep = by_name["sweep"].info.run_id
    listed = {f.path for f in client.list_artifacts(sweep)} | {
        f.path for f in client.list_artifacts(sweep, "plots")
    }
    assert listed >= set(mlflow_source.artifact_bytes)
    for path, data in mlflow_source.artifact_bytes.items():
        local = client.download_artifacts(sweep, path)
        assert open(local, "rb").read() == data

    # Models, versions with their run links, aliases, descriptions
    churn = client.get_registered_model("churn")
    assert churn.description == "Churn classifier"
    assert churn.tags == {"team": "retention"}
    assert churn.aliases == {"champion": "2", "challenger": "1"} or churn.aliases == {
        "champion": 2, "challenger": 1}  # fmt: skip
    versions = {int(v.version): v for v in client.search_model_versions("name = 'churn'")}
    assert versions[1].run_id == by_name["trial-0"].info.run_id
    assert versions[2].description == "the tree" and versions[1].tags["stage"] == "old"

    # ... that MLflow's own loader reads back (it asks for this flag for every format)
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")
    frame = mlflow_source.frame
    for ref, uri in (("churn/2", "models:/churn@champion"), ("custom/1", "models:/custom/1")):
        model = mlflow.sklearn.load_model(uri)
        assert (model.predict(frame) == mlflow_source.models[ref].predict(frame)).all()


def test_our_own_runs_export_once(store, tmp_path, churn_model_and_frame):
    from mlflow import MlflowClient

    # Given runs tracked with jupyter-mlops, a nested one, an artifact and a model
    model, frame = churn_model_and_frame
    with mlops.start_run(experiment="native", name="outer", params={"C": 1}, store=store) as outer:
        for step in range(50):
            mlops.log_metric("loss", 1 / (step + 1), step=step)
        (tmp_path / "notes.md").write_text("# notes")
        mlops.log_artifact(tmp_path / "notes.md")
        mlops.log_model(model, "native-model", frame, alias="prod")
        with mlops.start_run(experiment="native", name="inner", nested=True, store=store):
            mlops.log_metric("acc", 0.75)
    store.writer.flush()
    target = f"sqlite:///{tmp_path / 'out.db'}"

    # When exported twice
    first = export_mlflow(store, ExportOptions(target, experiments=["native"]))
    again = export_mlflow(store, ExportOptions(target, experiments=["native"]))

    # Then MLflow has them once, with history, artifact, parent link and the aliased model
    assert (first.runs, again.runs, again.runs_already) == (2, 0, 2)
    assert (first.model_versions, again.model_versions) == (1, 0)
    client = MlflowClient(target, target)
    exp = client.get_experiment_by_name("native")
    runs = {r.info.run_name: r for r in client.search_runs([exp.experiment_id])}
    assert set(runs) == {"outer", "inner"}
    assert runs["outer"].data.params == {"C": "1"}
    assert runs["outer"].data.tags["mlops.run_id"] == outer.id
    assert runs["inner"].data.tags["mlflow.parentRunId"] == runs["outer"].info.run_id
    assert len(client.get_metric_history(runs["outer"].info.run_id, "loss")) == 50
    assert [f.path for f in client.list_artifacts(runs["outer"].info.run_id)] == ["notes.md"]
    version = client.get_model_version_by_alias("native-model", "prod")
    assert version.run_id == runs["outer"].info.run_id


def test_export_needs_a_uri_and_known_experiments(store, tmp_path):
    with pytest.raises(ValidationError, match="--tracking-uri"):
        export_mlflow(store, ExportOptions(""))
    with pytest.raises(ValidationError, match="No experiment named 'nope'"):
        export_mlflow(store, ExportOptions(f"sqlite:///{tmp_path / 'x.db'}", experiments=["nope"]))


@pytest.fixture
def churn_model_and_frame():
    from churn_data import churn_frame
    from sklearn.linear_model import LogisticRegression

    frame, target = churn_frame()
    return LogisticRegression(max_iter=500).fit(frame, target), frame
