"""The tracking API against SQLite and a real PostgreSQL server."""

from __future__ import annotations

import json

import pytest

import kernel_magics as mlops
from kernel_magics.core.store.blobs import hash_bytes
from kernel_magics.errors import (
    ConflictError,
    FileMissingError,
    FilterSyntaxError,
    InvalidMetricError,
    InvalidParamError,
    NoActiveRunError,
    RunNotFoundError,
)


def test_run_records_params_metrics_tags_and_ends_finished(any_store):
    # Given / When
    with mlops.start_run(
        experiment="churn", name="base", params={"C": 0.1}, store=any_store
    ) as run:
        for step in range(5):
            mlops.log_metric("loss", 1.0 / (step + 1))
        mlops.log_metrics({"acc": 0.91, "f1": 0.8}, step=3)
        mlops.log_param("penalty", "l2")
        mlops.set_tags({"team": "growth"})
    # Then
    record = mlops.get_run(run.id, store=any_store)
    assert record.status == "finished"
    assert record.experiment == "churn" and record.name == "base"
    assert record.params == {"C": "0.1", "penalty": "l2"}
    assert record.metrics == {"loss": pytest.approx(0.2), "acc": 0.91, "f1": 0.8}
    assert record.tags == {"team": "growth"}
    history = any_store.runs.metric_history(run.id, "loss")
    assert [p["step"] for p in history] == [0, 1, 2, 3, 4]
    assert record.end_time >= record.start_time


def test_exception_ends_failed_with_traceback(any_store):
    with pytest.raises(ZeroDivisionError):
        with mlops.start_run(store=any_store) as run:
            mlops.log_metric("x", 1)
            1 / 0  # noqa: B018
    record = any_store.runs.get(run.id)
    assert record.status == "failed"
    assert "ZeroDivisionError" in record.error and "Traceback" in record.error
    assert record.metrics == {"x": 1.0}


def test_keyboard_interrupt_ends_killed(store):
    with pytest.raises(KeyboardInterrupt):
        with mlops.start_run(store=store) as run:
            raise KeyboardInterrupt
    assert store.runs.get(run.id).status == "killed"


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "abc", None, [1, 2]])
def test_bad_metric_values_are_refused(store, value):
    with mlops.start_run(store=store):
        with pytest.raises(InvalidMetricError, match="Metric 'm'"):
            mlops.log_metric("m", value)


@pytest.mark.parametrize(
    "value, hint",
    [("1.5", "float"), (b"2", "float"), (True, "boolean"), (False, "boolean")],
)
def test_strings_and_booleans_are_not_metric_numbers(store, value, hint):
    # Issue 13: "1.5" and True used to be stored as 1.5 and 1.0 although the README says
    # non-numbers are refused.
    with mlops.start_run(store=store) as run:
        with pytest.raises(InvalidMetricError, match=f"must be a number.*{hint}"):
            mlops.log_metric("m", value)
    assert store.runs.get(run.id).metrics == {}


def test_numpy_metric_values_are_accepted_and_numpy_bools_refused(store):
    import numpy as np

    with mlops.start_run(store=store) as run:
        mlops.log_metric("a", np.float32(0.5))
        mlops.log_metric("b", np.int64(3))
        mlops.log_metric("c", 7)
        with pytest.raises(InvalidMetricError, match="boolean"):
            mlops.log_metric("d", np.bool_(True))
    assert store.runs.get(run.id).metrics == {"a": 0.5, "b": 3.0, "c": 7.0}


def test_none_param_is_stored_as_the_text_none_like_mlflow(store):
    # The decision (README, design decisions): None is a real hyperparameter value
    # (max_depth=None), stored as its text like True is, so filters written for MLflow work.
    with mlops.start_run(store=store) as run:
        mlops.log_param("max_depth", None)
    assert store.runs.get(run.id).params == {"max_depth": "None"}
    assert store.search_runs(filter="params.max_depth = 'None'").run_ids == [run.id]


def test_params_are_immutable(any_store):
    with mlops.start_run(params={"C": 1}, store=any_store):
        mlops.log_param("C", 1)  # same value: fine
        with pytest.raises(InvalidParamError, match="already '1'"):
            mlops.log_param("C", 2)


def test_logging_without_a_run_says_how_to_start_one(store):
    with pytest.raises(NoActiveRunError, match="start_run"):
        mlops.log_metric("x", 1)


def test_second_active_run_is_a_conflict_unless_nested(store):
    with mlops.start_run(store=store) as outer:
        with pytest.raises(ConflictError, match="still active"):
            mlops.start_run(store=store)
        with mlops.start_run(nested=True, store=store) as inner:
            pass
    assert store.runs.get(inner.id).parent_run_id == outer.id


def test_unknown_run_id(store):
    with pytest.raises(RunNotFoundError):
        mlops.get_run("0123456789abcdef0123456789abcdef", store=store)
    with pytest.raises(RunNotFoundError, match="4\\+ hex"):
        mlops.get_run("zz", store=store)


def test_run_id_prefix_resolves(store):
    with mlops.start_run(store=store) as run:
        pass
    assert mlops.get_run(run.id[:8], store=store).id == run.id


def test_attach_through_environment(any_store, monkeypatch):
    owner = mlops.start_run(experiment="e", store=any_store)
    mlops.end_run  # noqa: B018
    from kernel_magics.core import tracking

    tracking._active.remove(owner)  # as if the run belonged to another process
    monkeypatch.setenv("MLOPS_RUN_ID", owner.id)
    mlops.log_metric("acc", 0.5)  # attaches, no start_run needed
    attached = mlops.active_run()
    assert attached.id == owner.id and not attached.owned
    mlops.end_run()
    record = any_store.runs.get(owner.id)
    assert record.status == "running"  # the creator decides the status
    assert record.metrics == {"acc": 0.5}
    assert len(mlops.runs(store=any_store)) == 1  # no second run was created
    any_store.runs.finish(owner.id, "finished")


def test_artifacts_text_dict_figure_and_dedup(any_store, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.txt").write_text("same")
    (tmp_path / "out" / "sub").mkdir()
    (tmp_path / "out" / "sub" / "b.txt").write_text("same")
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    with mlops.start_run(store=any_store) as run:
        mlops.log_artifacts(tmp_path / "out", "files")
        mlops.log_text("hello", "notes.md")
        mlops.log_dict({"a": 1}, "config.json")
        mlops.log_dict({"a": 1}, "config.yaml")
        mlops.log_figure(fig, "curve")
        with pytest.raises(FileMissingError, match="no such file"):
            mlops.log_artifact(tmp_path / "missing.bin")
        with pytest.raises(FileMissingError, match=r"is a folder\. Use log_artifacts\("):
            mlops.log_artifact(tmp_path / "out")  # issue 13: it said "no such file"
    plt.close(fig)
    paths = {a["path"]: a for a in any_store.artifacts.list(run.id)}
    assert set(paths) == {
        "files/a.txt",
        "files/sub/b.txt",
        "notes.md",
        "config.json",
        "config.yaml",
        "curve.png",
    }
    assert paths["files/a.txt"]["blob_hash"] == paths["files/sub/b.txt"]["blob_hash"]
    assert paths["curve.png"]["media_type"] == "image/png"
    data, media = any_store.artifacts.read(run.id, "config.json")
    assert json.loads(data) == {"a": 1} and media == "application/json"
    assert any_store.artifacts.read(run.id, "curve.png")[0].startswith(b"\x89PNG")


def test_datasets_are_versioned_by_content(any_store, tmp_path):
    import pandas as pd

    csv = tmp_path / "train.csv"
    csv.write_text("a,b\n1,x\n2,y\n")
    with mlops.start_run(store=any_store) as first:
        info = mlops.log_dataset(csv)
        mlops.log_dataset(pd.DataFrame({"a": [1, 2]}), name="frame")
    assert info["name"] == "train" and info["rows"] == 2
    assert info["schema"] == [{"name": "a", "dtype": "int64"}, {"name": "b", "dtype": "str"}]
    csv.write_text("a,b\n1,x\n2,y\n3,z\n")
    with mlops.start_run(store=any_store) as second:
        changed = mlops.log_dataset(csv)
    assert changed["new"] and changed["hash"] != info["hash"] and changed["rows"] == 3
    versions = any_store.datasets.versions("train")
    assert len(versions) == 2
    assert [d["name"] for d in any_store.runs.get(first.id).datasets] == ["frame", "train"]
    assert any_store.runs.get(second.id).datasets[0]["hash"] == changed["hash"]


def test_environment_is_recorded(store):
    from kernel_magics.core.store.writer import flush_all

    with mlops.start_run(store=store) as run:
        pass
    flush_all(wait_environment=30)
    record = store.runs.get(run.id)
    env = json.loads(store.blobs.get_bytes(record.environment_hash))
    assert env["python"].count(".") == 2
    assert "sqlalchemy" in env["packages"]


def test_runs_frame_filter_and_order(any_store):
    for c, acc in [(0.1, 0.95), (1.0, 0.85), (0.1, 0.99), (10.0, 0.5)]:
        with mlops.start_run(experiment="grid", params={"C": c}, store=any_store):
            mlops.log_metric("acc", acc)
    with mlops.start_run(experiment="other", params={"C": 0.1}, store=any_store):
        mlops.log_metric("acc", 1.0)

    frame = mlops.runs(
        experiment="grid",
        filter="metrics.acc > 0.9 and params.C = '0.1'",
        order_by=["metrics.acc DESC"],
        store=any_store,
    )
    assert list(frame["metrics.acc"]) == [0.99, 0.95]
    assert list(frame["params.C"]) == ["0.1", "0.1"]
    assert set(frame["experiment"]) == {"grid"}

    numeric = mlops.runs(filter="params.C >= 1 or status = 'failed'", store=any_store)
    assert sorted(numeric["params.C"]) == ["1.0", "10.0"]
    top = mlops.runs(order_by="metrics.acc DESC", limit=2, store=any_store)
    assert list(top["metrics.acc"]) == [1.0, 0.99]
    listed = mlops.runs(
        filter="params.C in ('10.0', '1.0') and experiment like 'gr%'", store=any_store
    )
    assert len(listed) == 2
    with pytest.warns(UserWarning, match="No run has a metric named 'missing'") as caught:
        missing = mlops.runs(filter="metrics.missing > 0", store=any_store)
    assert len(missing) == 0 and len(caught) == 1
    assert missing.attrs["warnings"] == [
        "No run has a metric named 'missing', so nothing matches it; known metric names: acc"
    ]


@pytest.mark.parametrize(
    "expression, position",
    [("metrics.acc >> 3", 13), ("metrics.acc > ", 13), ("bogus.acc = 1", 0), ("color = 'red'", 0),
     ("metrics.acc = 'high'", None), ("params.C = 1 and", 16)],
)  # fmt: skip
def test_bad_filters_say_where(store, expression, position):
    with pytest.raises(FilterSyntaxError) as info:
        mlops.runs(filter=expression, store=store)
    assert info.value.position == position


def test_delete_run_and_garbage_collect(any_store, tmp_path):
    with mlops.start_run(store=any_store) as parent:
        mlops.log_text("parent only", "p.txt")
        with mlops.start_run(nested=True, store=any_store) as child:
            mlops.log_metric("x", 1)
    removed = any_store.runs.delete(parent.id[:6])
    assert set(removed) == {parent.id, child.id}
    assert mlops.runs(store=any_store).empty
    orphans = any_store.artifacts.collect_garbage(dry_run=True)
    assert orphans == []  # younger than an hour: kept
    import os

    from sqlalchemy import update

    from kernel_magics.core.store.schema import blobs

    with any_store.db.write() as conn:
        conn.execute(update(blobs).values(created_at=0))
    text_hash = hash_bytes(b"parent only")
    assert text_hash not in any_store.artifacts.collect_garbage(dry_run=True)  # its file is young
    os.utime(any_store.blobs.local_path(text_hash), (0, 0))
    removed_blobs = any_store.artifacts.collect_garbage()
    assert text_hash in removed_blobs
    assert text_hash not in any_store.blobs.list_hashes()


def test_filter_negations_and_text_params_compared_with_numbers(any_store):
    for c in ["2", "auto", "0.5", "1e-3"]:
        with mlops.start_run(params={"C": c}, name=f"n{c}", store=any_store):
            pass
    values = lambda flt: sorted(mlops.runs(filter=flt, store=any_store)["params.C"])  # noqa: E731
    assert values("params.C < 1") == [
        "0.5",
        "1e-3",
    ]  # 'auto' is not a number: neither 0 nor an error
    assert values("params.C not in ('2', 'auto')") == ["0.5", "1e-3"]
    assert values("name not like 'n2%' and name NOT ILIKE 'NAUTO'") == ["0.5", "1e-3"]
    assert values("start_time > '2020-01-01' and params.C in ('2')") == ["2"]
    with pytest.raises(FilterSyntaxError, match="is a time"):
        mlops.runs(filter="start_time > 'yesterday'", store=any_store)


def test_quotes_and_unicode_in_filter_strings(store):
    for c in ["a'b", 'café "x"']:
        with mlops.start_run(params={"C": c}, store=store):
            pass
    found = mlops.runs(filter='params.C = \'a\\\'b\' or params.C = "café \\"x\\""', store=store)
    assert sorted(found["params.C"]) == ["a'b", 'café "x"']
    with pytest.raises(FilterSyntaxError, match="Unknown escape"):
        mlops.runs(filter="params.C = 'a\\x'", store=store)


def test_numpy_params_are_stored_as_plain_numbers(any_store):
    import numpy as np

    with mlops.start_run(
        params={"C": np.float64(0.1), "n": np.int64(3), "b": np.bool_(True)}, store=any_store
    ) as run:
        pass
    assert any_store.runs.get(run.id).params == {"C": "0.1", "n": "3", "b": "True"}


def test_attaching_to_an_unknown_run_is_an_error(store, monkeypatch):
    monkeypatch.setenv("MLOPS_RUN_ID", "0" * 32)
    with pytest.raises(RunNotFoundError):
        mlops.log_metric("x", 1)


def test_bad_end_status_changes_nothing(store):
    from kernel_magics.errors import ValidationError

    run = mlops.start_run(store=store)
    with pytest.raises(ValidationError, match="Unknown end status"):
        mlops.end_run("done")
    mlops.end_run("finished")
    assert store.runs.get(run.id).status == "finished"


def test_metric_keys_and_steps_that_cannot_be_stored_are_refused_up_front(store):
    with mlops.start_run(store=store):
        with pytest.raises(InvalidMetricError, match="255"):
            mlops.log_metric("k" * 300, 1)
        with pytest.raises(InvalidMetricError, match="64 bits"):
            mlops.log_metric("k", 1, step=2**70)


def test_points_of_a_deleted_run_do_not_take_other_runs_points_down(any_store, caplog):
    with mlops.start_run(store=any_store) as outer:
        mlops.log_metric("keep", 1)
        child = mlops.start_run(nested=True, store=any_store)
        mlops.log_metric("doomed", 1)
        # deleted while its points are still buffered
        any_store.runs.delete(child.id, force=True)
        any_store.writer.flush()
        assert [r.message for r in caplog.records if "was deleted" in r.message] == [
            f"jupyter-mlops: run {child.id[:8]} was deleted from the store while this process "
            "was logging into it; nothing more is recorded for it (its metrics, params, tags "
            "and final status are dropped). Start a new run to keep tracking."
        ]
        from kernel_magics.core import tracking

        tracking._active.remove(child)
    assert any_store.runs.get(outer.id).metrics == {"keep": 1.0}


def test_sqlite_store_uri_keeps_artifacts_next_to_the_database(tmp_path):
    from kernel_magics.core.config import resolve_location

    db = tmp_path / "shared" / "mlops.db"
    a = resolve_location(tmp_path / "a", {"MLOPS_STORE_URI": f"sqlite:///{db}"})
    b = resolve_location(tmp_path / "b", {"MLOPS_STORE_URI": f"sqlite:///{db}"})
    assert a.artifacts_uri == b.artifacts_uri == str(db.parent / "artifacts")


@pytest.mark.postgres
def test_many_threads_record_the_same_dataset_on_postgres(pg_url, monkeypatch, tmp_path):
    import threading

    import pandas as pd

    monkeypatch.setenv("MLOPS_STORE_URI", pg_url)
    from kernel_magics.core.store import open_store

    store = open_store()
    frame = pd.DataFrame({"a": [1, 2, 3]})
    run_ids = [store.runs.create(store.experiments.get_or_create("ds")) for _ in range(8)]
    errors = []
    barrier = threading.Barrier(8)

    def record(run_id):
        barrier.wait()
        try:
            from kernel_magics.core.datasets import describe_frame

            info = describe_frame(frame)
            store.datasets.record(
                run_id, "shared", info.hash, size=info.size, rows=3, schema=info.schema, source="df"
            )
        except Exception as exc:  # collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=record, args=(r,)) for r in run_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(store.datasets.versions("shared")) == 1
    assert all(store.runs.get(r).datasets[0]["name"] == "shared" for r in run_ids)


def test_unknown_experiment_names_the_known_ones(store):
    from kernel_magics.errors import ExperimentNotFoundError

    with mlops.start_run(experiment="churn", store=store):
        pass
    with pytest.raises(ExperimentNotFoundError, match="Known: churn"):
        mlops.runs(experiment="chrun", store=store)


def test_search_by_notebook_paths_with_any_characters(store):
    odd = 'dir/it\'s a "quoted" \\ name.ipynb'
    with mlops.start_run(notebook_path=odd, store=store) as run:
        pass
    with mlops.start_run(notebook_path="other.ipynb", store=store):
        pass
    assert store.search_runs(notebook_paths=[odd]).run_ids == [run.id]
