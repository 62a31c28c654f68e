"""``mlops automation add|ls|show|run|history|pause|resume|rm`` through the real CLI."""

from __future__ import annotations

import json

from click.testing import CliRunner

from kernel_magics.cli import cli


def _mlops(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_the_automation_commands_end_to_end(store, inbox, tmp_path):
    step = json.dumps(inbox.step("hello"))
    added = _mlops("automation", "add", "ping", "--manual", "--step", step, "--retries", "1")
    assert added.exit_code == 0, added.output
    assert "Automation 'ping': on manual run notify." in added.output

    listed = _mlops("automation", "ls", "--json")
    [row] = json.loads(listed.output)
    assert (row["name"], row["trigger"], row["retries"], row["events"]) == ("ping", "manual", 1, {})

    ran = _mlops("automation", "run", "ping")
    assert ran.exit_code == 0, ran.output
    assert "1. notify" in ran.output and "finished" in ran.output
    assert [m["message"] for m in inbox.messages] == ["hello"]

    history = json.loads(_mlops("automation", "history", "ping", "--json").output)
    assert [(e["status"], e["attempt"]) for e in history] == [("finished", 1)]
    shown = _mlops("automation", "show", "ping")
    assert "name: ping" in shown.output and "trigger: manual" in shown.output

    assert "Paused" in _mlops("automation", "pause", "ping").output
    [row] = json.loads(_mlops("automation", "ls", "--json").output)
    assert row["enabled"] is False and row["events"] == {"finished": 1}
    assert "Resumed" in _mlops("automation", "resume", "ping").output
    assert "Removed" in _mlops("automation", "rm", "ping").output
    assert json.loads(_mlops("automation", "ls", "--json").output) == []


def test_a_failed_run_exits_non_zero_and_says_why(store):
    _mlops("automation", "add", "bad", "--manual", "--step", '{notify: {command: "false"}}')
    ran = _mlops("automation", "run", "bad")
    assert ran.exit_code == 1
    assert "Step 1 (notify) failed: notify command exited 1" in ran.output


def test_add_from_a_file_resolves_paths_next_to_it(store, tmp_path):
    from automation_helpers import write_notebook

    write_notebook(tmp_path / "train.ipynb", "data = ''\n", "print(data)\n")
    spec = tmp_path / "automation.yaml"
    spec.write_text("name: nightly\ntrigger: {cron: '0 3 * * *', timezone: UTC}\n"
                    "steps:\n  - run_notebook: {notebook: train.ipynb,"
                    " parameters: {data: '${slot}'}}\n")  # fmt: skip
    added = _mlops("automation", "add", "--file", str(spec), "--json")
    assert added.exit_code == 0, added.output
    step = json.loads(added.output)["steps"][0]["run_notebook"]
    assert step["notebook"] == str(tmp_path / "train.ipynb")


def test_bad_input_is_refused_with_the_field_and_the_fix(store):
    from kernel_magics.cli import main  # noqa: F401 - main maps errors to one line

    runner = CliRunner()
    result = runner.invoke(cli, ["automation", "add", "x", "--manual", "--step",
                                 "{promote: {better_than: production}}"])  # fmt: skip
    assert result.exit_code != 0
    assert "steps[1].promote" in str(result.exception)
    none = runner.invoke(cli, ["automation", "add", "x", "--step", "test"])
    assert none.exit_code == 2 and "Give exactly one trigger" in none.output
    assert store.automations.list() == []
