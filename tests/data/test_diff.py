"""Diffs of hand-made dataset versions: schema, rows by hash, folder files, column drift, checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kernel_magics.core.data import store_dataset
from kernel_magics.core.data.diff import diff_versions, row_changes
from kernel_magics.errors import DatasetNotFoundError


def frame(rows: int, start: int = 0, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "id": np.arange(start, start + rows),
            "x": rng.normal(0.0, 1.0, rows),
            "plan": rng.choice(["basic", "plus", "pro"], rows),
            "score": rng.integers(0, 10, rows),
            "old": rng.integers(0, 2, rows),
        }
    )


def test_schema_rows_and_columns_of_two_frames(store):
    # Given train@1 and a train@2 that drops 10 rows, adds 15, adds a column, drops one,
    # and stores "score" as float
    a = frame(100)
    b = pd.concat([a.iloc[10:], frame(15, start=1000, seed=1)], ignore_index=True)
    b = b.drop(columns=["old"]).assign(region="eu", score=lambda f: f["score"].astype(float))
    store_dataset(store, a, name="train")
    store_dataset(store, b, name="train")

    diff = diff_versions(store, "train@1", "train@2")

    assert (diff.a, diff.b, diff.identical, diff.rows) == ("train@1", "train@2", False, (100, 105))
    assert [(s.column, s.change, s.a_dtype, s.b_dtype) for s in diff.schema] == [
        ("score", "retyped", "int64", "float64"),
        ("region", "added", None, str(b["region"].dtype)),
        ("old", "removed", "int64", None),
    ]
    rows = diff.row_changes
    assert (rows.added, rows.removed, rows.unchanged) == (15, 10, 90)
    assert rows.key_columns == ["id", "x", "plan"]  # score changed type: not part of the key
    assert [r["id"] for r in rows.added_sample] == [1000, 1001, 1002, 1003, 1004]
    assert [r["id"] for r in rows.removed_sample] == [0, 1, 2, 3, 4]
    columns = {c.column: c for c in diff.columns}
    assert set(columns) == {"id", "x", "plan", "score"}
    assert columns["plan"].kind == "categorical" and columns["plan"].a["distinct"] == 3
    assert columns["x"].a["mean"] == pytest.approx(a["x"].mean())
    assert columns["x"].drift.method == "ks" and columns["x"].drift.drifted is False
    assert diff.files == [] and diff.notes == []


def test_a_shifted_column_drifts_and_the_others_do_not(store):
    rng = np.random.default_rng(7)
    a = pd.DataFrame({"x": rng.normal(0, 1, 600), "plan": rng.choice(["a", "b"], 600)})
    b = pd.DataFrame({"x": rng.normal(1.0, 1, 600), "plan": rng.choice(["a", "b"], 600)})
    store_dataset(store, a, name="t")
    store_dataset(store, b, name="t")

    diff = diff_versions(store, "t@1", "t@2")

    assert diff.drifted_columns == ["x"]
    plan = next(c for c in diff.columns if c.column == "plan")
    assert plan.drift.method == "chisquare" and plan.drift.drifted is False
    assert diff.row_changes.added == 600 and diff.row_changes.removed == 600


def test_duplicates_count_as_a_multiset():
    a = pd.DataFrame({"k": [1, 1, 2]})
    b = pd.DataFrame({"k": [1, 2, 2, 3]})
    changes = row_changes(a, b)
    assert (changes.added, changes.removed, changes.unchanged) == (2, 1, 2)


def test_folder_versions_list_added_removed_and_changed_files(store, tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):
        (folder / name).write_text(name * 10)
    store_dataset(store, folder)
    (folder / "b.txt").write_text("changed")
    (folder / "c.txt").unlink()
    (folder / "sub").mkdir()
    (folder / "sub" / "d.txt").write_text("new")
    store_dataset(store, folder)

    diff = diff_versions(store, "images@1", "images@latest")

    assert [(f.path, f.change, f.a_size, f.b_size) for f in diff.files] == [
        ("b.txt", "changed", 50, 7),
        ("c.txt", "removed", 50, None),
        ("sub/d.txt", "added", None, 3),
    ]
    assert diff.row_changes is None and diff.columns == []


def test_csv_files_are_compared_as_tables(store, tmp_path):
    path = tmp_path / "train.csv"
    grown = frame(60)
    grown.head(50).to_csv(path, index=False)
    store_dataset(store, path)
    grown.to_csv(path, index=False)  # 10 rows appended
    store_dataset(store, path)

    diff = diff_versions(store, "train@1", "train@2")

    assert diff.row_changes.added == 10 and diff.row_changes.removed == 0
    assert [(f.path, f.change) for f in diff.files] == [("train.csv", "changed")]


def test_identical_references_and_missing_versions(store, tmp_path):
    store_dataset(store, frame(20), name="train")
    same = diff_versions(store, "train@1", "train@latest")
    assert same.identical and same.schema == [] and same.row_changes is None

    store_dataset(store, frame(30), name="train", store_content=False)
    by_ref = diff_versions(store, "train@1", "train@2")
    assert by_ref.rows == (20, 30) and by_ref.row_changes is None
    assert by_ref.notes == [
        "train@2 recorded by reference only: compared by schema and row count, not by content."
    ]
    with pytest.raises(DatasetNotFoundError, match="has no version '9'"):
        diff_versions(store, "train@1", "train@9")


def test_quality_results_come_with_the_diff(store):
    store_dataset(store, frame(40), name="train", on_fail="warn")
    bad = frame(40, seed=2)
    bad.loc[0, "plan"] = "gold"
    with pytest.warns(UserWarning):
        store_dataset(store, bad, name="train")

    diff = diff_versions(store, "train@1", "train@2")

    assert diff.checks["a"].status == "passed" and diff.checks["b"].status == "warned"
    failures = diff.to_dict()["checks"]["b"]["failures"]
    assert "plan" in {f["column"] for f in failures}


def mlops_cli(*args: str):
    import os
    import subprocess
    import sys
    from pathlib import Path

    exe = str(Path(sys.executable).parent / "mlops")
    env = {**os.environ, "COLUMNS": "160"}
    return subprocess.run([exe, *args], capture_output=True, text=True, env=env)


def test_cli_diff_check_and_show(store):
    a = frame(100)
    b = pd.concat([a.iloc[10:], frame(15, start=1000, seed=1)], ignore_index=True)
    b.loc[95:, "plan"] = "gold"
    store_dataset(store, a, name="train")
    store_dataset(store, b, name="train")

    out = mlops_cli("datasets", "diff", "train@1", "train@2")
    assert out.returncode == 0, out.stderr
    assert "Dataset diff train@1 -> train@2" in out.stdout
    assert "Rows added:       15" in out.stdout and "Rows removed:     10" in out.stdout
    as_json = json_of(mlops_cli("datasets", "diff", "train@1", "train@2", "--json"))
    assert as_json["row_changes"]["added"] == 15 and as_json["rows"] == {"a": 100, "b": 105}

    # no checks yet: say how to add them
    none = mlops_cli("datasets", "check", "train")
    assert none.returncode == 2 and "--infer" in none.stderr
    inferred = mlops_cli("datasets", "check", "train", "--infer", "--on-fail", "fail", "--json")
    assert inferred.returncode == 1  # train@2 has unseen plans
    result = json_of(inferred)
    assert result["version"] == "train@2" and result["status"] == "failed"
    assert {f["column"] for f in result["failures"]} >= {"plan"}
    assert store.dataset_checks.get_checks("train").on_fail == "fail"
    assert mlops_cli("datasets", "check", "train@1").returncode == 0

    show = mlops_cli("datasets", "show", "train@2")
    assert "Quality checks" in show.stdout and "gold" in show.stdout
    assert json_of(mlops_cli("datasets", "show", "train@2", "--json"))["checks"]["passed"] is False
    diffed = mlops_cli("datasets", "diff", "train@1", "train@2")
    assert "Quality:          train@1 passed, train@2 failed" in diffed.stdout

    bad = mlops_cli("datasets", "diff", "train@1", "nope@1")
    assert bad.returncode == 2 and "No dataset is named 'nope'" in bad.stderr


def json_of(result):
    import json

    return json.loads(result.stdout)


def test_diff_magic_renders_html(store):
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    store_dataset(store, frame(30), name="train")
    store_dataset(store, frame(30).assign(extra=1.5), name="train")
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance(config=config)
    try:
        assert shell.run_cell("%load_ext kernel_magics").success
        report = shell.run_line_magic("mlops", "datasets diff train@1 train@2")
        page = report._repr_html_()
        assert "<h4>Dataset diff train@1 -&gt; train@2</h4>" in page
        assert "<h5>Schema changes</h5>" in page and "<td>extra</td>" in page
        assert report.data["row_changes"] == {
            **report.data["row_changes"], "added": 0, "removed": 0, "unchanged": 30,
        }  # fmt: skip
    finally:
        shell.history_manager.end_session()
        InteractiveShell.clear_instance()
