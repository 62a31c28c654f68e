"""Labels that arrive later, joined to kept predictions by id: accuracy inputs, unknown ids."""

from __future__ import annotations

import json

import numpy as np
import pytest
from churn_data import churn_frame
from click.testing import CliRunner
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score

import kernel_magics as mlops
from kernel_magics.cli import cli
from kernel_magics.errors import FileMissingError, ModelNotFoundError, ValidationError

T0 = 1_800_000_000.0


@pytest.fixture
def churn(store):
    frame, target = churn_frame(400)
    model = LogisticRegression(max_iter=500).fit(frame, target)
    mlops.log_model(model, "churn", input_example=frame, alias="production")
    return model


def batch(seed: int, rows: int = 200):
    frame, target = churn_frame(rows, seed=seed)
    frame.insert(0, "customer_id", [f"c{seed}-{i}" for i in range(rows)])
    return frame, target


def test_labels_joined_by_id_give_the_right_accuracy_inputs(store, churn):
    # Given a monitored batch with customer ids (in an order labels will not follow)
    frame, target = batch(seed=1)
    result = mlops.monitor(frame, model="churn@production", id_column="customer_id", at=T0)
    assert result.rows == 200 and result.ids[:2] == ["c1-0", "c1-1"]
    # When the true outcomes arrive shuffled, for 150 of the rows
    order = np.random.default_rng(0).permutation(200)[:150]
    report = mlops.log_labels(
        "churn@production", frame["customer_id"].iloc[order], target.iloc[order].to_numpy()
    )
    # Then every label matched and the joined rows give sklearn's figures for those rows
    assert (report.received, report.matched, report.unknown) == (150, 150, 0)
    joined = store.monitoring.labelled("churn@production", since=T0 - 1, until=T0 + 1)
    assert len(joined) == 150
    by_id = {j.request_id: j for j in joined}
    ids = frame["customer_id"].iloc[order]
    features = frame.drop(columns="customer_id").iloc[order]
    assert [by_id[i].label for i in ids] == target.iloc[order].tolist()
    assert [by_id[i].prediction for i in ids] == churn.predict(features).tolist()
    labels = [j.label for j in joined]
    assert accuracy_score(labels, [j.prediction for j in joined]) == accuracy_score(
        target.iloc[order], churn.predict(features)
    )
    assert roc_auc_score(labels, [j.score for j in joined]) == pytest.approx(
        roc_auc_score(target.iloc[order], churn.predict_proba(features)[:, 1])
    )
    # and the batch bucket holds the same counts a server would
    (bucket,) = store.monitoring.buckets("churn", source="batch")
    assert (bucket.rows, bucket.start, bucket.deployment_id) == (200, T0, None)
    assert sum(bucket.prediction["categories"].values()) == 200


def test_unknown_ids_are_counted_and_reported_and_join_once_predicted(store, churn):
    frame, target = batch(seed=2, rows=10)
    mlops.monitor(frame.iloc[:5], model="churn", id_column="customer_id", at=T0)
    # When labels come for all ten rows, five of which were never monitored yet
    report = mlops.log_labels("churn", frame["customer_id"], target)
    # Then the five are reported by id...
    assert (report.matched, report.unknown) == (5, 5)
    assert sorted(report.unknown_ids) == [f"c2-{i}" for i in range(5, 10)]
    assert len(store.monitoring.labelled("churn")) == 5
    # ...and their labels join once those rows are monitored
    mlops.monitor(frame.iloc[5:], model="churn", id_column="customer_id", at=T0 + 60)
    assert len(store.monitoring.labelled("churn")) == 10
    assert len(store.monitoring.labelled("churn", since=T0 + 30)) == 5


def test_a_later_label_for_the_same_row_replaces_the_earlier(store, churn):
    frame, _ = batch(seed=3, rows=3)
    result = mlops.monitor(frame, model="churn")  # no id column: a batch id per row
    assert result.ids == [result.batch_id, f"{result.batch_id}:1", f"{result.batch_id}:2"]
    mlops.log_labels("churn", result.ids, [0, 0, 0])
    mlops.log_labels("churn", [f"{result.batch_id}:2"], [1])
    joined = sorted(store.monitoring.labelled("churn"), key=lambda j: j.row)
    assert [(j.row, j.label) for j in joined] == [(0, 0), (1, 0), (2, 1)]


def test_bad_labels_are_refused_before_anything_is_stored(store, churn):
    with pytest.raises(ValidationError, match="3 ids but 2 labels"):
        mlops.log_labels("churn", ["a", "b", "c"], [1, 0])
    with pytest.raises(ValidationError, match="label at position 1 is missing"):
        mlops.log_labels("churn", ["a", "b"], [1, None])
    with pytest.raises(ValidationError, match="id at position 0 is a dict"):
        mlops.log_labels("churn", [{"id": 1}], [1])
    with pytest.raises(ValidationError, match="No labels given"):
        mlops.log_labels("churn", [], [])
    with pytest.raises(ModelNotFoundError, match="No model named 'nope'"):
        mlops.log_labels("nope", ["a"], [1])
    assert store.monitoring.labelled("churn") == []


def test_batch_monitoring_refuses_bad_input(store, churn):
    frame, _ = batch(seed=4, rows=4)
    with pytest.raises(ValidationError, match="lacks the column"):
        mlops.monitor(frame.drop(columns="tenure"), model="churn")
    with pytest.raises(ValidationError, match="duplicate ids"):
        mlops.monitor(frame.assign(customer_id="same"), model="churn", id_column="customer_id")
    with pytest.raises(ValidationError, match="2 predictions for 4 rows"):
        mlops.monitor(frame, model="churn", predictions=[0, 1])
    with pytest.raises(ValidationError, match="pandas DataFrame"):
        mlops.monitor(frame.to_numpy(), model="churn")
    assert store.monitoring.buckets("churn") == []


def test_cli_joins_a_labels_file_and_lists_unknown_ids(store, churn, tmp_path):
    # Given a monitored batch and a CSV of outcomes with one id nobody predicted
    frame, target = batch(seed=5, rows=20)
    mlops.monitor(frame, model="churn@production", id_column="customer_id")
    path = tmp_path / "labels.csv"
    ids = [*frame["customer_id"], "ghost-1"]
    rows = ["request_id,churned", *(f"{i},{y}" for i, y in zip(ids, [*target, 1], strict=True))]
    path.write_text("\n".join(rows) + "\n")
    runner = CliRunner()
    # When
    result = runner.invoke(cli, ["monitor", "labels", "churn@production", str(path),
                                 "--id-column", "request_id", "--label-column", "churned"])  # fmt: skip
    # Then
    assert result.exit_code == 0, result.output
    assert "21 labels for churn@production: 20 matched a kept prediction, 1 unknown." in (
        result.output
    )
    assert "Unknown ids: ghost-1" in result.output
    again = runner.invoke(cli, ["monitor", "labels", "churn", str(path),
                                "--label-column", "churned", "--json"])  # fmt: skip
    assert json.loads(again.output) == {"received": 21, "matched": 20, "unknown": 1,
                                        "unknown_ids": ["ghost-1"]}  # fmt: skip
    # and a wrong column name is named, with the file's columns
    wrong = runner.invoke(cli, ["monitor", "labels", "churn", str(path), "--label-column", "y"])
    assert isinstance(wrong.exception, ValidationError)  # `mlops` prints it without a traceback
    assert "labels.csv has no column 'y'" in str(wrong.exception)
    assert "'churned'" in str(wrong.exception)


def test_a_missing_labels_file_is_named():
    from kernel_magics.core.monitoring.labels import read_label_file

    with pytest.raises(FileMissingError, match="No labels file at 'nowhere.csv'"):
        read_label_file("nowhere.csv", "request_id", "churned")


def test_the_repository_on_sqlite_and_postgresql(any_store):
    # Given a registered model and a bucket, predictions and labels written through the store
    frame, target = churn_frame(50)
    model = LogisticRegression(max_iter=500).fit(frame, target)
    version = mlops.log_model(model, "churn", input_example=frame, alias="production",
                              store=any_store)  # fmt: skip
    repo = any_store.monitoring
    bucket_id = repo.add_bucket(
        version.id, source="serving", start=T0, seconds=60, requests=3, errors=1, rows=2,
        latency=[0, 3], features={"plan": {"categories": {"a": 2}, "unseen": 0, "missing": 0}},
        prediction={"categories": {"0": 1, "1": 1}, "unseen": 0, "missing": 0},
    )  # fmt: skip
    kept = [{"model_version_id": version.id, "deployment_id": None, "request_id": "r1", "row": r,
             "at": T0 + r, "prediction": r, "score": 0.25 * r} for r in range(2)]  # fmt: skip
    assert repo.add_predictions(kept) == 2
    assert repo.add_labels("churn", [("r1", 0, 0), ("r1", 1, 1), ("r9", 0, 1)]) == (2, 1)
    # Then they read back, by model name, alias or version
    (bucket,) = repo.buckets("churn@production", since=T0, until=T0 + 60)
    assert bucket.model == "churn" and bucket.version == 1 and bucket.end == T0 + 60
    assert (bucket.requests, bucket.errors, bucket.rows, bucket.latency) == (3, 1, 2, [0, 3])
    assert bucket.features["plan"]["categories"] == {"a": 2} and bucket_id > 0
    assert repo.buckets("churn", since=T0 + 60) == []
    joined = repo.labelled("churn/1")
    assert [(j.row, j.prediction, j.score, j.label) for j in joined] == [(0, 0, 0.0, 0),
                                                                         (1, 1, 0.25, 1)]  # fmt: skip
    assert repo.unknown_keys("churn", [("r1", 0), ("r9", 0), ("r1", 5)]) == [("r9", 0), ("r1", 5)]
    assert [p.row for p in repo.predictions("churn", ["r1"])] == [0, 1]
    with pytest.raises(ValueError, match="source must be one of"):
        repo.add_bucket(version.id, source="cron", start=T0, seconds=60, requests=0, errors=0,
                        rows=0, latency=[], features={}, prediction=None)  # fmt: skip
