"""``mlops init``: the extension loads in new kernels without %load_ext."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from kernel_magics.cli.init_commands import init


def test_init_prefix_merges_and_undoes(tmp_path):
    config = tmp_path / "etc" / "ipython" / "ipython_config.json"
    config.parent.mkdir(parents=True)
    config.write_text(json.dumps({"InteractiveShell": {"colors": "nocolor"},
                                  "InteractiveShellApp": {"extra_extensions": ["other"]}}))  # fmt: skip  # noqa: E501
    runner = CliRunner()
    result = runner.invoke(init, ["--prefix", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"Configured {config}" in result.output
    data = json.loads(config.read_text())
    assert data["InteractiveShellApp"]["extra_extensions"] == ["other", "kernel_magics"]
    assert data["InteractiveShell"] == {"colors": "nocolor"}
    again = runner.invoke(init, ["--prefix", str(tmp_path)])
    assert "Already configured" in again.output
    assert json.loads(config.read_text()) == data
    undo = runner.invoke(init, ["--prefix", str(tmp_path), "--undo"])
    assert undo.exit_code == 0 and "Removed" in undo.output
    assert json.loads(config.read_text())["InteractiveShellApp"]["extra_extensions"] == ["other"]


def test_init_refuses_a_broken_config(tmp_path):
    config = tmp_path / "etc" / "ipython" / "ipython_config.json"
    config.parent.mkdir(parents=True)
    config.write_text("{broken")
    result = CliRunner().invoke(init, ["--prefix", str(tmp_path)])
    assert result.exit_code != 0
    assert "is not valid JSON" in str(result.exception)
    assert config.read_text() == "{broken"


def test_user_and_prefix_conflict(tmp_path):
    result = CliRunner().invoke(init, ["--user", "--prefix", str(tmp_path)])
    assert result.exit_code == 2 and "either --user or --prefix" in result.output


@pytest.mark.slow
def test_a_new_kernel_has_the_magics_after_init(tmp_path, monkeypatch):
    from jupyter_client.manager import start_new_kernel

    ipython_dir = tmp_path / "ipython"
    monkeypatch.setenv("IPYTHONDIR", str(ipython_dir))
    result = CliRunner().invoke(init, ["--user"])
    assert result.exit_code == 0, result.output
    assert (ipython_dir / "profile_default" / "ipython_config.json").exists()
    km, kc = start_new_kernel(kernel_name="python3", startup_timeout=180)
    try:
        outputs = []
        reply = kc.execute_interactive(
            "%mlops status", timeout=60,
            output_hook=lambda msg: outputs.append(msg["content"].get("text", "")),
        )  # fmt: skip
        assert reply["content"]["status"] == "ok"
        assert "jupyter-mlops" in "".join(outputs)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
