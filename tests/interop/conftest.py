"""One real MLflow store per test module: nested runs, long histories, artifacts, models."""

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

pytest.importorskip("mlflow", reason="the mlflow extra (make test installs it)")

#: Points per metric history in the source store (long enough to need batching).
HISTORY = 1500


@dataclass
class MlflowSource:
    """The MLflow store a module's tests import from, and what was put in it."""

    uri: str
    run_ids: dict[str, str] = field(default_factory=dict)  # run name -> MLflow run id
    models: dict[str, Any] = field(default_factory=dict)  # "churn/1" -> the fitted model
    frame: Any = None
    artifact_bytes: dict[str, bytes] = field(default_factory=dict)


def _build(root: Path) -> MlflowSource:
    import mlflow
    import numpy as np
    from churn_data import churn_frame
    from custom_model import ThresholdModel
    from mlflow import MlflowClient
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    uri = f"sqlite:///{root / 'mlflow.db'}"
    source = MlflowSource(uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = MlflowClient(uri, uri)
    frame, target = churn_frame()
    source.frame = frame
    source.artifact_bytes = {
        "report.txt": b"AUC went up\n",
        "plots/curve.bin": np.random.default_rng(1).bytes(20_000),
    }
    # Artifacts next to the database, never in MLflow's default ./mlruns of the working folder
    client.create_experiment(
        "churn",
        artifact_location=str(root / "artifacts" / "churn"),
        tags={"mlflow.note.content": "Churn models for the retention team", "owner": "ana"},
    )
    mlflow.set_experiment("churn")
    with mlflow.start_run(run_name="sweep", tags={"team": "vision"}) as parent:
        source.run_ids["sweep"] = parent.info.run_id
        mlflow.log_params({"grid": "C", "folds": 5})
        mlflow.set_tag("mlflow.note.content", "The C sweep")
        for name, path in (("report.txt", ""), ("curve.bin", "plots")):
            (root / name).write_bytes(source.artifact_bytes[f"{path}/{name}".lstrip("/")])
            mlflow.log_artifact(str(root / name), artifact_path=path or None)
        for i, (model, fmt) in enumerate(
            [(LogisticRegression(max_iter=500), "skops"),
             (DecisionTreeClassifier(max_depth=3, random_state=0), "cloudpickle")]
        ):  # fmt: skip
            with mlflow.start_run(run_name=f"trial-{i}", nested=True) as child:
                source.run_ids[f"trial-{i}"] = child.info.run_id
                mlflow.log_param("C", 0.1 * (i + 1))
                t0 = child.info.start_time
                client.log_batch(
                    child.info.run_id,
                    metrics=[
                        mlflow.entities.Metric("loss", 1.0 / (s + 1) + i, t0 + s, s)
                        for s in range(HISTORY)
                    ],
                )
                mlflow.log_metric("acc", 0.8 + i / 10)
                if i == 0:
                    mlflow.log_input(
                        mlflow.data.from_pandas(frame, source="churn.csv", name="churn-train"),
                        context="training",
                    )
                model.fit(frame, target)
                source.models[f"churn/{i + 1}"] = model
                mlflow.sklearn.log_model(
                    model,
                    name="model",
                    registered_model_name="churn",
                    serialization_format=fmt,
                    input_example=frame[:3],
                    pip_requirements=["scikit-learn"],  # skips MLflow's inference subprocess
                )
        custom = ThresholdModel().fit(frame, target)
        source.models["custom/1"] = custom
        mlflow.sklearn.log_model(
            custom, name="custom", registered_model_name="custom",
            serialization_format="cloudpickle", pip_requirements=["scikit-learn"],
        )  # fmt: skip
    client.update_registered_model("churn", description="Churn classifier")
    client.set_registered_model_tag("churn", "team", "retention")
    client.update_model_version("churn", "2", description="the tree")
    client.set_model_version_tag("churn", "1", "stage", "old")
    client.set_registered_model_alias("churn", "champion", "2")
    client.set_registered_model_alias("churn", "challenger", "1")
    other = client.create_experiment("other", artifact_location=str(root / "artifacts" / "other"))
    broken = client.create_run(other, run_name="broken", tags={"mlflow.user": "ana"})
    client.log_param(broken.info.run_id, "lr", "0.5")
    client.set_terminated(broken.info.run_id, "FAILED")
    source.run_ids["broken"] = broken.info.run_id
    live = client.create_run(other, run_name="live")  # never ended: not imported yet
    source.run_ids["live"] = live.info.run_id
    return source


@pytest.fixture(autouse=True)
def _mlflow_defaults_in_tmp(tmp_path, monkeypatch):
    """MLflow puts new experiments' artifacts in ./mlruns: keep the working folder clean."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="module")
def mlflow_source(tmp_path_factory) -> MlflowSource:
    """A real MLflow SQLite store, built once per test module."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MLflow's own deprecation and environment warnings
        return _build(tmp_path_factory.mktemp("mlflow-source"))
