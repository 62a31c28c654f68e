"""Lineage both ways: which models were trained on train@2, and where churn@production came from."""

from __future__ import annotations

import pytest
from lineage_fixtures import build_lineage_store

from kernel_magics.core.lineage import lineage
from kernel_magics.errors import NotFoundError, ValidationError


@pytest.fixture
def built(store, tmp_path):
    return build_lineage_store(store, tmp_path)


def refs(nodes):
    return sorted(n.ref for n in nodes)


def test_models_trained_on_a_dataset_version(store, built):
    # Given two versions of train and three models, two of them trained on train@2
    # When we ask what train@2 fed
    graph = lineage(store, "train@2", "down")

    # Then exactly churn/2 and fraud/1, their runs, the alias and its deployment
    assert refs(graph.reachable("down", "model")) == ["churn/2", "fraud/1"]
    assert refs(graph.reachable("down", "run")) == sorted([built.runs["r2"], built.runs["r3"]])
    assert refs(graph.reachable("down", "alias")) == ["churn@production"]
    assert refs(graph.reachable("down", "deployment")) == [f"deployment:{built.deployment_id}"]
    assert refs(graph.reachable("down", "dataset")) == ["scores@1"]  # written by r2
    assert graph.reachable("up") == []
    # and train@1 fed only churn/1
    assert refs(lineage(store, "train@1", "down").reachable("down", "model")) == ["churn/1"]


def test_upstream_of_an_alias_reaches_run_notebook_and_data(store, built):
    graph = lineage(store, "churn@production", "up")

    assert refs(graph.reachable("up", "model")) == ["churn/2"]
    assert refs(graph.reachable("up", "run")) == [built.runs["r2"]]
    assert refs(graph.reachable("up", "dataset")) == ["train@2"]
    [notebook] = graph.reachable("up", "notebook")
    assert notebook.label.endswith("train.ipynb")
    # the deployment is downstream, not upstream
    assert graph.reachable("up", "deployment") == []


def test_both_directions_from_a_model_version(store, built):
    graph = lineage(store, "churn/2")

    assert graph.root.startswith("model:")
    assert refs(graph.reachable("up", "dataset")) == ["train@2"]
    assert refs(graph.reachable("down", "alias")) == ["churn@production"]
    assert refs(graph.reachable("down", "deployment")) == [f"deployment:{built.deployment_id}"]
    # siblings are neither: fraud/1 also read train@2, but it did not make churn/2
    assert "fraud/1" not in refs(graph.nodes.values())
    roles = {(graph.nodes[e.source].kind, graph.nodes[e.target].kind, e.role) for e in graph.edges}
    assert roles == {
        ("dataset", "run", "read"), ("notebook", "run", "ran"), ("run", "model", "logged"),
        ("model", "alias", "alias"), ("alias", "deployment", "serves"),
    }  # fmt: skip


def test_run_id_prefix_and_deployment_starts(store, built):
    run = built.runs["r3"]
    graph = lineage(store, run[:8])
    assert graph.root == f"run:{run}"
    assert refs(graph.reachable("down", "model")) == ["fraud/1"]
    assert refs(graph.reachable("up", "dataset")) == ["train@2"]

    up = lineage(store, f"deployment:{built.deployment_id}", "up")
    assert refs(up.reachable("up", "model")) == ["churn/2"]
    assert refs(up.reachable("up", "dataset")) == ["train@2"]


def test_a_moved_alias_leaves_the_old_deployment_on_its_version(store, built):
    import kernel_magics as mlops

    mlops.set_alias("churn", "production", 1)
    graph = lineage(store, "churn/2", "down")
    # the server still runs v2: it hangs off the version now, not off an alias that moved on
    assert refs(graph.reachable("down", "alias")) == []
    assert refs(graph.reachable("down", "deployment")) == [f"deployment:{built.deployment_id}"]


def test_bad_references_say_what_to_give(store, built):
    with pytest.raises(NotFoundError, match="train@2, churn/3, churn@production"):
        lineage(store, "nothing-here")
    with pytest.raises(NotFoundError, match="has no version '9'; its versions are 1, 2"):
        lineage(store, "train@9")
    with pytest.raises(ValidationError, match="both, up, down"):
        lineage(store, "train@2", "sideways")
    with pytest.raises(NotFoundError, match="mlops deployments ls"):
        lineage(store, "deployment:999")


def test_mlops_lineage_prints_a_tree_and_json(store, built):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    mlops_cli = str(Path(sys.executable).parent / "mlops")
    env = {**os.environ, "COLUMNS": "160"}
    out = subprocess.run(
        [mlops_cli, "lineage", "train@2", "--down"], capture_output=True, text=True, env=env
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("dataset train@2")
    assert "fed" in lines[1] and "came from" not in out.stdout
    text = out.stdout
    assert "model churn/2  [logged]" in text and "model fraud/1  [logged]" in text
    assert "churn/1" not in text
    assert (
        text.index("model churn/2")
        < text.index("alias churn@production")
        < text.index(f"deployment {built.deployment_id}")
    )

    as_json = subprocess.run(
        [mlops_cli, "lineage", "churn@production", "--up", "--json"],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    graph = json.loads(as_json.stdout)
    assert graph["root"] == "alias:churn@production" and graph["direction"] == "up"
    kinds = [n["kind"] for n in graph["nodes"]]
    assert kinds == ["dataset", "notebook", "run", "model", "alias"]

    bad = subprocess.run([mlops_cli, "lineage", "nope@3"], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "No dataset is named 'nope'" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_lineage_magic_shows_the_tree_as_html(store, built, monkeypatch, tmp_path):
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance(config=config)
    try:
        assert shell.run_cell("%load_ext kernel_magics").success
        report = shell.run_line_magic("mlops", "lineage train@2 --down")
        page = report._repr_html_()
        assert "<li>" in page and "model churn/2  [logged]" in page and "churn/1" not in page
        assert sorted(n["ref"] for n in report.data["nodes"] if n["kind"] == "model") == [
            "churn/2", "fraud/1",
        ]  # fmt: skip
        assert repr(report).splitlines()[0].startswith("dataset train@2")
    finally:
        shell.history_manager.end_session()
        InteractiveShell.clear_instance()
