"""``%mlops models / deploy / deployments / rollback`` in a real IPython shell."""

from __future__ import annotations

import httpx
import pytest
from IPython.core.error import UsageError

import kernel_magics as mlops
from kernel_magics.core.actor import os_user

ROW = {"tenure": 2, "charges": 80.0, "support_calls": 7}


@pytest.fixture
def shell(monkeypatch, tmp_path):
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    monkeypatch.chdir(tmp_path)
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    InteractiveShell.clear_instance()
    sh = InteractiveShell.instance(config=config)
    assert sh.run_cell("%load_ext kernel_magics").success
    yield sh
    sh.history_manager.end_session()
    InteractiveShell.clear_instance()


def test_models_magic_lists_versions_history_and_details(shell, churn_versions):
    models = shell.run_line_magic("mlops", "models")
    assert models.data[0]["name"] == "churn" and "production=v1" in models._repr_html_()
    versions = shell.run_line_magic("mlops", "models churn")
    assert [v["version"] for v in versions.data] == [2, 1]
    history = shell.run_line_magic("mlops", "models churn --history")
    assert history.data[0]["to_version"] == 1 and history.data[0]["reason"] == "log_model"
    # (the notebook acts as the OS user, and the history says so in its Who column)
    assert history.data[0]["actor"] == os_user()
    assert ">Who<" in history._repr_html_() and f">{os_user()}<" in history._repr_html_()
    detail = shell.run_line_magic("mlops", "models churn@production")
    assert detail.data["version"] == 1 and "tenure" in repr(detail)
    with pytest.raises(UsageError, match="No model named 'nope'"):
        shell.run_line_magic("mlops", "models nope/1")


@pytest.mark.slow
def test_deploy_and_rollback_from_the_notebook(shell, churn_versions):
    deployed = shell.run_line_magic("mlops", "deploy churn@production --sample-rate 1")
    (dep,) = deployed.data
    assert dep["status"] == "running" and dep["url"] in deployed._repr_html_()
    assert httpx.post(f"{dep['url']}/predict", json=[ROW]).status_code == 200

    mlops.set_alias("churn", "production", 2)
    redeployed = shell.run_line_magic("mlops", "deploy churn@production")
    assert redeployed.data[0]["version"] == 2 and redeployed.data[0]["port"] == dep["port"]
    rolled = shell.run_line_magic("mlops", "rollback churn")
    assert rolled.data[0]["version"] == 1
    assert httpx.get(f"{dep['url']}/health").json()["version"] == 1
    listing = shell.run_line_magic("mlops", "deployments --all")
    assert [d["status"] for d in listing.data] == ["running", "stopped", "stopped"]

    stopped = shell.run_line_magic("mlops", "deploy churn@production --stop")
    assert stopped.data[0]["status"] == "stopped"
    assert shell.run_line_magic("mlops", "deployments").data == []
    with pytest.raises(UsageError, match="no alias 'staging'"):
        shell.run_line_magic("mlops", "deploy churn@staging")
