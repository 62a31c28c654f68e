"""Data quality checks: inferred expectations and pandera schemas, run when a version is logged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import kernel_magics as mlops
from kernel_magics.core.data import resolve_version, store_dataset
from kernel_magics.core.data.quality import (
    check_expectations,
    check_version,
    infer_expectations,
    set_checks,
)
from kernel_magics.errors import DataQualityError, DatasetNotFoundError, ValidationError


def churn(rows: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "tenure": rng.integers(0, 72, rows),
            "charges": rng.normal(70.0, 20.0, rows).round(2),
            "plan": rng.choice(["basic", "plus", "pro"], rows),
        }
    )


def test_inferred_expectations_catch_each_kind_of_bad_data():
    first = churn()
    spec = infer_expectations(first)
    by_name = {c["name"]: c for c in spec["columns"]}
    assert by_name["plan"]["categories"] == ["basic", "plus", "pro"]
    assert by_name["tenure"]["min"] < 0 < 71 < by_name["tenure"]["max"]  # widened by 10 %
    assert check_expectations(spec, churn(seed=1)) == []  # the same process, new rows

    bad = churn(seed=2)
    bad.loc[:39, "charges"] = np.nan  # 20 % missing
    bad.loc[0, "tenure"] = 500
    bad.loc[1:2, "plan"] = "gold"
    bad = bad.drop(columns=[]).assign(extra=1)
    failures = {(f["check"], f["column"]): f["message"] for f in check_expectations(spec, bad)}
    assert set(failures) == {("nulls", "charges"), ("range", "tenure"), ("categories", "plan")}
    assert failures[("nulls", "charges")] == "20.0% missing, at most 5.0% allowed"
    assert (
        "1 value(s) outside" in failures[("range", "tenure")]
        and "500" in failures[("range", "tenure")]
    )
    assert (
        "2 row(s)" in failures[("categories", "plan")]
        and "'gold'" in failures[("categories", "plan")]
    )

    retyped = churn().drop(columns=["plan"]).assign(tenure=lambda f: f["tenure"].astype(float))
    failures = {(f["check"], f["column"]) for f in check_expectations(spec, retyped)}
    assert failures == {("dtype", "tenure"), ("column", "plan")}


def test_fail_stops_the_run_before_training_and_the_run_records_it(store):
    # Given train@1 logged with on_fail="fail": expectations are inferred from it
    with mlops.start_run("quality") as run:
        mlops.log_dataset(churn(), name="train", on_fail="fail")
    first = resolve_version(store, "train@1")
    assert store.dataset_checks.results([first.id])[first.id].status == "passed"
    assert store.dataset_checks.get_checks("train").inferred_from == first.id

    # When a later run logs a version with an unseen plan
    bad = churn(seed=3)
    bad.loc[5, "plan"] = "gold"
    trained = False
    with pytest.raises(DataQualityError, match=r"train@2 failed 1 quality check\(s\): plan: "):
        with mlops.start_run("quality") as failing:
            mlops.log_dataset(bad, name="train")  # the dataset's own policy: fail
            trained = True

    # Then training never started, the run failed and says why, the result is with the version
    assert not trained
    record = store.runs.get(failing.id)
    assert record.status == "failed" and "quality check" in (record.error or "")
    assert record.tags["mlops.data_quality"] == "failed: train@2"
    second = resolve_version(store, "train@2")
    result = store.dataset_checks.results([second.id])[second.id]
    assert (result.status, result.run_id) == ("failed", failing.id)
    assert result.failures[0]["check"] == "categories"
    assert run.id not in (result.run_id,)


def test_warn_logs_and_goes_on(store):
    with mlops.start_run("quality"):
        mlops.log_dataset(churn(), name="train", on_fail="warn")
    bad = churn(seed=4)
    bad["charges"] = np.nan
    with mlops.start_run("quality") as run:
        with pytest.warns(UserWarning, match="charges: 100.0% missing"):
            mlops.log_dataset(bad, name="train")
        run.log_metric("accuracy", 0.8)  # training went on
    assert store.runs.get(run.id).status == "finished"
    result = store.dataset_checks.results([resolve_version(store, "train@2").id])
    assert next(iter(result.values())).status == "warned"
    # the same content logged again keeps its verdict without re-reading the data
    with mlops.start_run("quality"):
        with pytest.warns(UserWarning, match="train@2 failed"):
            mlops.log_dataset(bad, name="train")


def test_a_csv_file_is_checked_too(store, tmp_path):
    path = tmp_path / "train.csv"
    churn().to_csv(path, index=False)
    store_dataset(store, path, on_fail="fail")
    bad = churn(seed=5)
    bad.loc[0, "charges"] = 10_000.0
    bad.to_csv(path, index=False)
    with pytest.raises(DataQualityError, match="charges: 1 value"):
        store_dataset(store, path)


def test_pandera_schema_from_a_file(store, tmp_path):
    store_dataset(store, churn(), name="train")
    schema_file = tmp_path / "checks.py"
    schema_file.write_text(
        "import pandera.pandas as pa\n"
        "schema = pa.DataFrameSchema({\n"
        "    'tenure': pa.Column(int, pa.Check.in_range(0, 71)),\n"
        "    'plan': pa.Column(str, pa.Check.isin(['basic', 'plus'])),\n"
        "})\n"
    )
    checks = set_checks(store, "train", pandera=f"{schema_file}:schema", on_fail="warn")
    assert checks.kind == "pandera" and "tenure" in str(checks.spec)

    result = check_version(store, "train@latest")
    assert not result.passed and result.status == "warned"
    [failure] = result.failures
    assert failure["column"] == "plan" and "'pro'" in failure["message"]

    with pytest.raises(ValidationError, match="FILE.py:OBJECT"):
        set_checks(store, "train", pandera="checks.py")
    with pytest.raises(ValidationError, match="defines no 'nothing'"):
        set_checks(store, "train", pandera=f"{schema_file}:nothing")
    schema_file.write_text(
        "import pandera.pandas as pa\n"
        "schema = pa.DataFrameSchema({'tenure': pa.Column(int, pa.Check(lambda s: s > 0))})\n"
    )
    with pytest.raises(ValidationError, match="built-in checks"):
        set_checks(store, "train", pandera=f"{schema_file}:schema")


def test_bad_input_is_refused_before_work(store, tmp_path):
    with pytest.raises(ValidationError, match="'warn' .* or 'fail'"):
        store_dataset(store, churn(), name="train", on_fail="stop")
    assert store.dataset_versions.versions("train") == []  # nothing was stored
    with pytest.raises(DatasetNotFoundError):
        set_checks(store, "nothing")
    store_dataset(store, churn(), name="train")
    with pytest.raises(ValidationError, match="has no checks: add them with"):
        check_version(store, "train@1")
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "a.bin").write_bytes(b"x")
    store_dataset(store, folder)
    with pytest.raises(ValidationError, match="No version of 'images' is a stored table"):
        set_checks(store, "images")
