"""Register / alias / load round trips, safe formats, tampering, lineage, deletion."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

import kernel_magics as mlops
from kernel_magics.core.registry import registry
from kernel_magics.errors import (
    BlobIntegrityError,
    ConflictError,
    ModelNotFoundError,
    UnsafeModelError,
    UntrustedTypesError,
    ValidationError,
)


class ThresholdModel:
    """A hand-written model skops does not know (it must be trusted explicitly)."""

    def __init__(self, column: int = 0, threshold: float = 0.5):
        self.column = column
        self.threshold = threshold

    def predict(self, X):
        return (np.asarray(X, dtype=float)[:, self.column] > self.threshold).astype(int)


def test_log_and_load_round_trip_on_both_stores(any_store, churn_model, churn_data):
    frame, _ = churn_data
    with mlops.start_run("churn-exp") as run:
        run.log_metric("accuracy", 0.93)
        version = mlops.log_model(churn_model, "churn", input_example=frame, store=any_store)

    assert (version.name, version.version, version.run_id) == ("churn", 1, run.id)
    assert (version.flavor, version.format) == ("sklearn", "skops")
    assert version.signature["inputs"] == {
        "type": "columns",
        "columns": [
            {"name": "tenure", "type": "long"},
            {"name": "charges", "type": "double"},
            {"name": "support_calls", "type": "long"},
        ],
    }
    assert version.signature["outputs"]["dtype"] == "int64"
    assert len(version.signature["example"]) == 5
    tenure = version.profile["features"]["tenure"]
    assert version.profile["rows"] == len(frame)
    assert tenure["kind"] == "numeric" and sum(tenure["histogram"]["counts"]) == len(frame)
    assert tenure["quantiles"]["0.5"] == pytest.approx(float(frame["tenure"].median()))

    loaded = mlops.load_model("churn/1", store=any_store)
    assert type(loaded) is LogisticRegression
    np.testing.assert_array_equal(loaded.predict(frame), churn_model.predict(frame))


def test_versions_aliases_and_history(store, churn_model, churn_data):
    frame, target = churn_data
    v1 = mlops.log_model(churn_model, "churn", input_example=frame, alias="staging")
    tree = DecisionTreeClassifier(max_depth=2).fit(frame, target)
    v2 = mlops.log_model(tree, "churn", input_example=frame, description="a shallow tree")
    assert (v1.version, v2.version) == (1, 2)
    assert v1.aliases == ["staging"]

    mlops.set_alias("churn", "production", 1)
    mlops.set_alias("churn", "production", 2, reason="better recall")
    assert type(mlops.load_model("churn@production")) is DecisionTreeClassifier
    assert type(mlops.load_model("churn@staging")) is LogisticRegression
    assert type(mlops.load_model("churn")) is DecisionTreeClassifier  # latest
    assert mlops.get_model_version("churn/2").description == "a shallow tree"

    moves = [
        (m.alias, m.from_version, m.to_version, m.reason) for m in mlops.alias_history("churn")
    ]
    assert moves == [
        ("staging", None, 1, "log_model"),
        ("production", None, 1, None),
        ("production", 1, 2, "better recall"),
    ]
    (model,) = mlops.list_models()
    assert (model.name, model.latest_version, model.version_count) == ("churn", 2, 2)
    assert model.aliases == {"production": 2, "staging": 1}

    mlops.delete_alias("churn", "staging")
    with pytest.raises(ModelNotFoundError, match="no alias 'staging'"):
        mlops.load_model("churn@staging")
    assert mlops.alias_history("churn", "staging")[-1].to_version is None


def test_rollback_target_walks_back_through_promotions(store, churn_model, churn_data):
    frame, _ = churn_data
    for _ in range(3):
        mlops.log_model(churn_model, "churn", input_example=frame)
    repo = registry(store)
    repo.set_alias("churn", "production", 1)
    with pytest.raises(ConflictError, match="no earlier version"):
        repo.rollback_target("churn", "production")
    repo.set_alias("churn", "production", 2)
    repo.set_alias("churn", "production", 3)
    assert repo.rollback_target("churn", "production") == 2
    repo.set_alias("churn", "production", 2, reason="rollback from v3")
    # a second rollback goes further back instead of returning to v3
    assert repo.rollback_target("churn", "production") == 1


def test_unknown_names_versions_and_bad_references(store, churn_model, churn_data):
    with pytest.raises(ModelNotFoundError, match="No model named 'nope'"):
        mlops.load_model("nope")
    mlops.log_model(churn_model, "churn", input_example=churn_data[0])
    with pytest.raises(ModelNotFoundError, match="no version 7"):
        mlops.load_model("churn/7")
    for bad in ("churn/0", "churn/x", "", "bad name", "churn@1abc"):
        with pytest.raises(ValidationError):
            mlops.load_model(bad)
    with pytest.raises(ValidationError, match="input_example"):
        mlops.log_model(churn_model, "churn", input_example=None)
    with pytest.raises(ValidationError, match="training_data lacks the input column"):
        mlops.log_model(
            churn_model,
            "churn",
            input_example=churn_data[0],
            training_data=churn_data[0][["tenure"]],
        )
    with pytest.raises(ValidationError, match="cannot predict on input_example"):
        mlops.log_model(churn_model, "churn", input_example=churn_data[0][["tenure"]])


def test_pickle_is_refused_unless_allowed(store, churn_data):
    frame, _ = churn_data
    model = ThresholdModel()
    with pytest.raises(UnsafeModelError, match="allow_pickle=True"):
        mlops.log_model(model, "rule", input_example=frame.to_numpy(), format="cloudpickle")
    version = mlops.log_model(
        model, "rule", input_example=frame.to_numpy(), format="cloudpickle", allow_pickle=True
    )
    assert (version.format, version.flavor) == ("cloudpickle", "python")
    with pytest.raises(UnsafeModelError, match="arbitrary code"):
        mlops.load_model("rule/1")
    loaded = mlops.load_model("rule/1", allow_pickle=True)
    assert loaded.predict(np.array([[0.7, 0, 0]])).tolist() == [1]


def test_skops_refuses_untrusted_types_unless_listed(store, churn_data):
    frame, _ = churn_data
    data = frame.to_numpy(dtype=float)
    name = f"{ThresholdModel.__module__}.ThresholdModel"
    with pytest.raises(UntrustedTypesError, match="ThresholdModel"):
        mlops.log_model(ThresholdModel(), "rule", input_example=data)
    version = mlops.log_model(
        ThresholdModel(threshold=3.0), "rule", input_example=data, trusted=[name]
    )
    assert version.format == "skops"
    assert json.loads(version.tags["mlops.skops_trusted"]) == [name]
    assert mlops.load_model("rule/1").threshold == 3.0

    # A version whose file holds a type nobody vouched for (no trusted tag) is refused.
    import skops.io as sio

    ref = store.blobs.put_bytes(sio.dumps(ThresholdModel()))
    registry(store).create_version(
        "rule", ref, flavor="python", format="skops", signature=None, profile=None, run_id=None
    )
    with pytest.raises(UntrustedTypesError, match="ThresholdModel"):
        mlops.load_model("rule/2")


def test_tampered_blob_is_refused(store, churn_model, churn_data):
    version = mlops.log_model(churn_model, "churn", input_example=churn_data[0])
    path = store.blobs.local_path(version.blob_hash)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.chmod(0o644)
    path.write_bytes(bytes(data))
    with pytest.raises(BlobIntegrityError, match="does not match its hash"):
        mlops.load_model("churn/1")


def test_lineage_links_run_dataset_and_version(store, churn_model, churn_data, tmp_path):
    frame, _ = churn_data
    csv = tmp_path / "train.csv"
    frame.to_csv(csv, index=False)
    with mlops.start_run("lineage", params={"C": 1.0}) as run:
        run.log_dataset(str(csv), name="train")
        run.log_metric("accuracy", 0.91)
        mlops.log_model(churn_model, "churn", input_example=frame, tags={"team": "growth"})
    lineage = mlops.model_lineage("churn/1")
    assert lineage["run"]["id"] == run.id
    assert lineage["run"]["params"] == {"C": "1.0"}
    assert lineage["run"]["metrics"] == {"accuracy": 0.91}
    assert [d["name"] for d in lineage["datasets"]] == ["train"]
    assert mlops.get_model_version("churn/1").tags["team"] == "growth"


def test_numpy_example_gives_a_tensor_signature(store, churn_data):
    frame, target = churn_data
    X = frame.to_numpy(dtype=float)
    model = LogisticRegression(max_iter=500).fit(X, target)
    version = mlops.log_model(model, "arr", input_example=X)
    assert version.signature["inputs"] == {"type": "tensor", "dtype": "float64", "width": 3}
    assert set(version.profile["features"]) == {"0", "1", "2"}


def test_categorical_profile_and_string_columns(store):
    import pandas as pd
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    frame = pd.DataFrame(
        {"plan": ["basic", "pro", "basic", "team"] * 10, "tenure": list(range(40))}
    )
    target = (frame["plan"] == "pro").astype(int)
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["plan"]), remainder="passthrough"),
        LogisticRegression(),
    ).fit(frame, target)
    version = mlops.log_model(model, "plans", input_example=frame)
    assert version.signature["inputs"]["columns"][0] == {"name": "plan", "type": "string"}
    plan = version.profile["features"]["plan"]
    assert plan["kind"] == "categorical" and plan["frequencies"]["basic"] == pytest.approx(0.5)
    assert mlops.load_model("plans").predict(frame.head(2)).tolist() == [0, 1]


def test_delete_versions_and_models(store, churn_model, churn_data):
    frame, _ = churn_data
    for _ in range(2):
        mlops.log_model(churn_model, "churn", input_example=frame)
    mlops.set_alias("churn", "production", 2)
    with pytest.raises(ConflictError, match="aliased as production"):
        mlops.delete_model("churn/2")
    assert mlops.delete_model("churn/1") == [1]
    assert [v.version for v in mlops.list_model_versions("churn")] == [2]
    assert mlops.delete_model("churn") == [2]
    assert mlops.list_models() == []
    with pytest.raises(ModelNotFoundError):
        mlops.load_model("churn")
