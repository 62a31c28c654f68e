"""``%%mlops track`` in a real IPython InteractiveShell: what a tracked cell records."""

from __future__ import annotations

import json

import nbformat
import pytest
from magics_helpers import last_run, run

from kernel_magics.core.store import open_store


def test_cell_becomes_a_finished_run_with_params_metrics_and_source(shell):
    # When
    result = run(
        shell,
        "%%mlops track --metric acc --tag team=cv --experiment demo --name first\n"
        "C = 0.1\npenalty = 'l2'\nlayers = [64, 32]\nacc = 0.5 + 0.43\n"
        "import kernel_magics as mlops\n"
        "for i in range(5):\n    mlops.log_metric('loss', 1 / (i + 1), step=i)\n"
        "C * 10\n",
    )
    # Then: the cell behaves as without the magic
    assert result.success
    assert result.result == 1.0
    assert shell.user_ns["penalty"] == "l2"
    record = last_run()
    assert record.status == "finished"
    assert record.source == "cell"
    assert record.experiment == "demo" and record.name == "first"
    assert record.params == {"C": "0.1", "penalty": "l2", "layers": "[64, 32]"}
    assert record.metrics == {"acc": pytest.approx(0.93), "loss": pytest.approx(0.2)}
    assert record.tags["team"] == "cv"
    assert record.tags["mlops.cell.execution_count"] == "2"
    store = open_store()
    source, _ = store.artifacts.read(record.id, "cell/source.py")
    assert source.decode().startswith("C = 0.1\n")
    assert record.tags["mlops.cell.history"] == "1:? 2:?"  # no notebook: no cell numbers
    assert "cell/history.json" not in {a["path"] for a in record.artifacts}
    assert len(store.runs.metric_history(record.id, "loss")) == 5


def test_last_expression_with_semicolon_is_not_displayed(shell, capsys):
    run(shell, "%%mlops track\n41 + 1;")
    assert "42" not in capsys.readouterr().out
    run(shell, "%%mlops track\n41 + 1")
    assert "Out[3]: 42" in capsys.readouterr().out


def test_exception_is_reraised_unchanged_and_run_failed(shell):
    run(shell, "class Boom(Exception):\n    pass\nerr = Boom('bad data')")
    result = run(shell, "%%mlops track\nx = 1\nraise err")
    assert result.error_in_exec is shell.user_ns["err"]
    record = last_run()
    assert record.status == "failed"
    assert "Boom: bad data" in record.error
    assert record.params == {"x": "1"}  # what ran before the error is kept
    assert shell.user_ns["x"] == 1


def test_mlops_error_raised_by_user_code_is_not_turned_into_a_usage_error(shell):
    result = run(
        shell, "%%mlops track\nimport kernel_magics as mlops\nmlops.log_metric('x', float('nan'))"
    )
    from kernel_magics.errors import InvalidMetricError

    assert isinstance(result.error_in_exec, InvalidMetricError)
    assert last_run().status == "failed"


def test_keyboard_interrupt_ends_run_killed(shell):
    result = run(shell, "%%mlops track\nraise KeyboardInterrupt")
    assert isinstance(result.error_in_exec, KeyboardInterrupt)
    record = last_run()
    assert record.status == "killed"
    assert "KeyboardInterrupt" in record.error


def test_param_flag_logs_computed_values_and_warns_on_missing(shell, capsys):
    run(shell, "%%mlops track --param depth,ghost --metric score,missing\n"
               "depth = len('abcd')\nscore = depth / 8")  # fmt: skip
    record = last_run()
    assert record.params["depth"] == "4"
    assert record.metrics["score"] == 0.5
    err = capsys.readouterr().err
    assert "--param ghost: no such variable" in err
    assert "--metric missing: no such variable" in err
    assert "ghost" in record.tags["mlops.warnings"]


def test_artifacts_use_safe_formats(shell, capsys):
    run(shell, "%%mlops track --artifact model,frame,arr,meta,obj\n"
               "import numpy as np, pandas as pd\n"
               "from sklearn.linear_model import LogisticRegression\n"
               "X = np.array([[0.], [1.], [2.], [3.]]); y = np.array([0, 0, 1, 1])\n"
               "model = LogisticRegression(C=0.5).fit(X, y)\n"
               "frame = pd.DataFrame({'a': [1, 2]}); arr = np.arange(3)\n"
               "meta = {'k': [1, 2]}; obj = object()")  # fmt: skip
    record = last_run()
    paths = {a["path"] for a in record.artifacts}
    assert {"artifacts/model.skops", "artifacts/frame.parquet", "artifacts/arr.npy",
            "artifacts/meta.json"} <= paths  # fmt: skip
    assert not any(p.startswith("artifacts/obj") for p in paths)
    assert "--pickle" in capsys.readouterr().err
    import skops.io as sio

    data, _ = open_store().artifacts.read(record.id, "artifacts/model.skops")
    model = sio.loads(data, trusted=sio.get_untrusted_types(data=data))
    assert model.C == 0.5


def test_pickle_only_when_asked(shell):
    run(
        shell,
        "%%mlops track --artifact obj --pickle\nfrom fractions import Fraction\nobj = Fraction(1, 3)",  # noqa: E501
    )
    assert "artifacts/obj.pkl" in {a["path"] for a in last_run().artifacts}


def test_figures_the_cell_draws_are_stored(shell):
    run(shell, "import matplotlib.pyplot as plt")
    run(shell, "%%mlops track\nplt.plot([1, 2, 3])\nfig2 = plt.figure(); plt.plot([3, 1])")
    record = last_run()
    figures = [a for a in record.artifacts if a["path"].startswith("figures/")]
    assert len(figures) == 2 and all(a["media_type"] == "image/png" for a in figures)
    data, _ = open_store().artifacts.read(record.id, figures[0]["path"])
    assert data.startswith(b"\x89PNG")
    plt_close = "plt.close('all')"
    run(shell, plt_close)
    run(shell, "%%mlops track --no-figures\nplt.plot([1, 2])")
    assert not [a for a in last_run().artifacts if a["path"].startswith("figures/")]


def test_no_figures_means_no_matplotlib_import(shell):
    import sys

    run(shell, "%%mlops track\nx = 1")
    if "matplotlib.pyplot" not in sys.modules:  # the module-level conftest may import it
        assert not [a for a in last_run().artifacts if a["path"].startswith("figures/")]


def _write_notebook(path, sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, path)


def test_notebook_version_recorded_once_when_file_unchanged(shell, tmp_path, monkeypatch):
    # Given: a saved notebook, and the kernel knows its path as Jupyter server tells it
    cell = "%%mlops track\nalpha = 3"
    path = tmp_path / "train model.ipynb"
    _write_notebook(path, ["%load_ext kernel_magics", cell])
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))
    # When: the tracked cell runs twice
    run(shell, cell)
    first = last_run()
    run(shell, cell)
    second = last_run()
    # Then: two runs, one notebook version; the experiment is the notebook's name
    assert first.id != second.id
    assert first.notebook_version_id == second.notebook_version_id is not None
    assert first.experiment == "train model"
    assert first.notebook_path == str(path)
    from kernel_magics.core.notebooks import list_notebook_versions

    assert len(list_notebook_versions(open_store(), path)) == 1
    # A changed file makes a new version
    _write_notebook(path, ["%load_ext kernel_magics", cell, "beta = 1"])
    run(shell, cell)
    assert last_run().notebook_version_id != first.notebook_version_id


def test_unknown_notebook_is_recorded_not_guessed(shell, monkeypatch):
    monkeypatch.setenv("JPY_SESSION_NAME", "/nowhere/missing.ipynb")
    run(shell, "%%mlops track\nx = 2")
    record = last_run()
    assert record.notebook_path is None and record.notebook_version_id is None
    assert record.tags["mlops.notebook"].startswith("unknown: '/nowhere/missing.ipynb'")
    assert record.experiment == "Default"


def test_in_order_execution_is_certified(shell, tmp_path, monkeypatch):
    path = tmp_path / "nb.ipynb"
    cells = ["%load_ext kernel_magics", "a = 1", "%%mlops track\nb = a + 1"]
    _write_notebook(path, cells)
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))
    run(shell, cells[1])
    run(shell, cells[2])
    record = last_run()
    assert record.tags["mlops.execution_order"] == "in_order"
    assert record.tags["mlops.cell.history"] == "1:1 2:2 3:3"


def test_out_of_order_execution_is_flagged_with_one_line(shell, tmp_path, monkeypatch, capsys):
    path = tmp_path / "nb.ipynb"
    cells = ["%load_ext kernel_magics", "a = 1", "%%mlops track\nb = a + 1", "a = 10"]
    _write_notebook(path, cells)
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))
    run(shell, cells[1])
    run(shell, cells[3])  # a cell below the tracked one changes hidden state
    run(shell, cells[2])
    record = last_run()
    assert record.tags["mlops.execution_order"] == "unordered"
    out = capsys.readouterr().out.strip().splitlines()
    warning = [line for line in out if "unordered" in line]
    reason = record.tags["mlops.execution_order.reason"]
    short = record.id[:8]
    assert warning == [
        f"mlops: run {short} is marked unordered ({reason}); "
        f"certify it with a clean rerun: mlops rerun {short}"
    ]


def test_rerunning_the_tracked_cell_is_unordered(shell, tmp_path, monkeypatch):
    path = tmp_path / "nb.ipynb"
    cells = ["%load_ext kernel_magics", "%%mlops track\nb = 1"]
    _write_notebook(path, cells)
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))
    run(shell, cells[1])
    assert last_run().tags["mlops.execution_order"] == "in_order"
    run(shell, cells[1])
    assert last_run().tags["mlops.execution_order"] == "unordered"


def test_autolog_records_sklearn_fit(shell):
    run(shell, "%%mlops track --autolog\n"
               "import numpy as np\nfrom sklearn.linear_model import LogisticRegression\n"
               "from sklearn.pipeline import make_pipeline\nfrom sklearn.preprocessing import StandardScaler\n"  # noqa: E501
               "X = np.array([[0.], [1.], [2.], [3.]]); y = np.array([0, 0, 1, 1])\n"
               "clf = LogisticRegression(C=2.0).fit(X, y)\n"
               "pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)")  # fmt: skip  # noqa: E501
    record = last_run()
    assert record.params["LogisticRegression.C"] == "2.0"
    assert record.metrics["LogisticRegression.training_score"] == 1.0
    assert record.metrics["LogisticRegression.fit_time_s"] > 0
    assert "Pipeline.steps" in record.params  # the pipeline is one fit, its steps are not
    assert "StandardScaler.copy" not in record.params
    paths = {a["path"] for a in record.artifacts}
    assert {"models/LogisticRegression.skops", "models/Pipeline.skops"} <= paths
    # fit is restored after the cell
    from sklearn.linear_model import LogisticRegression

    assert "SklearnAutolog" not in LogisticRegression.fit.__qualname__


def test_nested_in_an_active_run_becomes_a_child(shell):
    run(shell, "import kernel_magics as mlops\nparent = mlops.start_run(experiment='outer')")
    run(shell, "%%mlops track\nz = 1")
    child = last_run()
    assert child.parent_run_id == shell.user_ns["parent"].id
    run(shell, "mlops.end_run()")


def test_bad_arguments_fail_before_the_cell_runs(shell):
    result = run(shell, "%%mlops track --tag nonsense\nran = True")
    from IPython.core.error import UsageError

    assert isinstance(result.error_in_exec, UsageError)
    assert "--tag 'nonsense' must look like key=value" in str(result.error_in_exec)
    assert "ran" not in shell.user_ns
    with pytest.raises(Exception, match="no run"):
        last_run()


def test_in_a_notebook_run_by_the_runner_the_cell_logs_into_its_run(shell, monkeypatch, store):
    # Given: the runner created a run and passes its id to the kernel (MLOPS_RUN_ID)
    experiment = store.experiments.get_or_create("runner")
    run_id = store.runs.create(experiment, name="train.ipynb", source="papermill")
    monkeypatch.setenv("MLOPS_RUN_ID", run_id)
    # When
    run(shell, "%%mlops track --metric acc\nC = 0.3\nacc = C * 2")
    # Then: same run, its name kept, its status left to the runner
    record = last_run()
    assert record.id == run_id
    assert record.name == "train.ipynb" and record.status == "running"
    assert record.params == {"C": "0.3"} and record.metrics == {"acc": 0.6}
    store.runs.finish(run_id, "finished")


def test_long_histories_go_to_an_artifact(shell, monkeypatch):
    from kernel_magics.kernel import track

    monkeypatch.setattr(track, "MAX_HISTORY_TAG", 10)
    for i in range(5):
        run(shell, f"x{i} = {i}")
    run(shell, "%%mlops track\ny = 1")
    record = last_run()
    assert record.tags["mlops.cell.history"] == "7 executions: see cell/history.json"
    history = json.loads(open_store().artifacts.read(record.id, "cell/history.json")[0])
    assert history["execution_count"] == 7
    assert [c["n"] for c in history["executed_cells"]] == list(range(1, 8))


def test_top_level_await_is_refused_before_the_run(shell):
    from IPython.core.error import UsageError

    result = run(shell, "%%mlops track\nimport asyncio\nawait asyncio.sleep(0)")
    assert isinstance(result.error_in_exec, UsageError)
    assert "top-level `await`" in str(result.error_in_exec)
    with pytest.raises(Exception, match="no run"):
        last_run()
    # await inside a function is fine
    run(shell, "%%mlops track\nasync def f():\n    await g()")
    assert last_run().status == "finished"


def test_ipython_syntax_in_a_tracked_cell(shell, capsys):
    result = run(shell, "%%mlops track\n%time y = 2\nfiles = !echo hello\nfiles")
    assert result.success
    assert list(result.result) == ["hello"]
    assert shell.user_ns["y"] == 2


def _runner_run(store, tmp_path, **fields):
    """A run as `mlops run` makes it: its notebook's path and recorded version."""
    from kernel_magics.kernel.track import notebook_version_id

    path = tmp_path / "train.ipynb"
    _write_notebook(path, ["C = 0.1", "%%mlops track\nacc = C * 2"])
    experiment = store.experiments.get_or_create("train")
    run_id = store.runs.create(
        experiment, name="train.ipynb", source="papermill", notebook_path=str(path), **fields
    )
    version = notebook_version_id(store, str(path))
    store.runs.set_fields(run_id, notebook_version_id=version)
    return run_id, str(path), version


def test_a_cell_inside_mlops_run_tags_the_runners_notebook(shell, monkeypatch, store, tmp_path):
    # Given: the kernel papermill starts has MLOPS_RUN_ID and no JPY_SESSION_NAME
    run_id, path, version = _runner_run(store, tmp_path)
    monkeypatch.setenv("MLOPS_RUN_ID", run_id)
    # When
    run(shell, "%%mlops track --metric acc\nacc = 0.5")
    # Then: the notebook is the run's own, not "unknown: JPY_SESSION_NAME is not set"
    record = last_run()
    assert record.id == run_id
    assert record.tags["mlops.notebook"] == path
    assert record.notebook_path == path and record.notebook_version_id == version
    assert record.tags["mlops.execution_order"] == "in_order"
    assert "executed the notebook top to bottom" in record.tags["mlops.execution_order.reason"]
    from kernel_magics.core.notebooks import list_notebook_versions

    assert len(list_notebook_versions(store, path)) == 1  # not recorded a second time
    store.runs.finish(run_id, "finished")


def test_a_cell_run_under_the_runners_run_inherits_its_notebook(
    shell, monkeypatch, store, tmp_path
):
    # Given: a rerun of a cell run makes the runner's run active, so each tracked cell is a child
    run_id, path, version = _runner_run(store, tmp_path)
    monkeypatch.setenv("MLOPS_RUN_ID", run_id)
    run(shell, "import kernel_magics as mlops\nparent = mlops.active_run()")
    # When
    run(shell, "%%mlops track\nacc = 0.5")
    # Then: the child has the parent's notebook path, version and experiment
    child = last_run()
    assert child.parent_run_id == run_id and child.id != run_id
    assert child.tags["mlops.notebook"] == path
    assert child.notebook_path == path and child.notebook_version_id == version
    assert child.experiment == "train"
    run(shell, "mlops.end_run()")
    store.runs.finish(run_id, "finished")
