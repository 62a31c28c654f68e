"""Every template notebook runs with its default parameters (copied out with the CLI first)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from kernel_magics.cli import cli
from kernel_magics.core.runner import run_notebook
from kernel_magics.errors import ConflictError, NotFoundError

TEMPLATES = ("train", "evaluate", "batch_predict", "monitor")


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=True)


def test_templates_ls_lists_every_template_with_parameters():
    result = invoke("templates", "ls", "--json")
    assert result.exit_code == 0, result.output
    listed = {t["name"]: t for t in json.loads(result.output)}
    assert set(listed) == set(TEMPLATES)
    assert listed["train"]["parameters"]["C"] == "1.0"
    assert listed["evaluate"]["title"].startswith("Evaluate")


def test_templates_copy_never_overwrites(tmp_path):
    assert invoke("templates", "copy", "train", str(tmp_path)).exit_code == 0
    assert (tmp_path / "train.ipynb").is_file()
    again = invoke("templates", "copy", "train.ipynb", str(tmp_path))
    assert isinstance(again.exception, ConflictError)
    assert invoke("templates", "copy", "train", str(tmp_path), "--force").exit_code == 0
    missing = invoke("templates", "copy", "nope", str(tmp_path))
    assert isinstance(missing.exception, NotFoundError)
    assert "train" in str(missing.exception)


@pytest.mark.slow
def test_every_template_runs_with_its_defaults(store, tmp_path, monkeypatch):
    for name in TEMPLATES:
        assert invoke("templates", "copy", name, str(tmp_path)).exit_code == 0
    results = {name: run_notebook(tmp_path / f"{name}.ipynb") for name in TEMPLATES}
    for name, result in results.items():
        assert result.status == "finished", f"{name}: {result.error}"

    train = store.runs.get(results["train"].run_id)
    assert train.params["estimator"] == "logistic_regression" and train.params["C"] == "1.0"
    assert train.metrics["accuracy"] > 0.9
    assert [d["name"] for d in train.datasets] == ["breast_cancer-train"]
    from kernel_magics.core.registry.api import list_model_versions

    [version] = list_model_versions("classifier")
    assert version.run_id == train.id

    evaluate = store.runs.get(results["evaluate"].run_id)
    assert evaluate.metrics["holdout_accuracy"] == pytest.approx(train.metrics["accuracy"])
    batch = store.runs.get(results["batch_predict"].run_id)
    assert batch.metrics["rows_scored"] == 143
    assert "predictions.csv" in {a["path"] for a in batch.artifacts}
    assert (tmp_path / "predictions.csv").read_text().splitlines()[0].endswith(",prediction")


@pytest.mark.slow
def test_every_template_runs_cell_by_cell_in_a_kernel_without_mlops_run(store, tmp_path,
                                                                        monkeypatch):  # fmt: skip
    # A make lab user opened the demo's templates and ran their cells: every logging call
    # failed with "No active run". Each template now starts its own run when none is given.
    import nbclient
    import nbformat

    monkeypatch.delenv("MLOPS_RUN_ID", raising=False)
    for name in TEMPLATES:
        assert invoke("templates", "copy", name, str(tmp_path)).exit_code == 0
    for name in TEMPLATES:  # in order: train registers the model the others use
        path = tmp_path / f"{name}.ipynb"
        nb = nbformat.read(path, as_version=4)
        nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                resources={"metadata": {"path": str(tmp_path)}}).execute()  # fmt: skip
    runs = [store.runs.get(i) for i in store.run_reads().newest_ids(20)]
    by_name = {r.name: r for r in runs}
    assert sorted(by_name) == sorted(TEMPLATES)
    for name, run in by_name.items():
        assert run.status == "finished", f"{name}: {run.error}"
    assert by_name["train"].metrics["accuracy"] > 0.9
    assert by_name["batch_predict"].metrics["rows_scored"] == 143
