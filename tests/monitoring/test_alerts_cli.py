"""``mlops alerts``, ``%mlops alerts`` and the Python API: what a user types and sees."""

from __future__ import annotations

import json
import sys

import pytest
from click.testing import CliRunner
from test_alerts import START, FakeMonitoring, model  # noqa: F401 - model is a fixture

from kernel_magics.core.monitoring.alerts import evaluate_due
from kernel_magics.core.monitoring.windows import METRICS

pytestmark = pytest.mark.usefixtures("model")  # rules refuse models that are not registered


def mlops(*args, ok=True):
    from kernel_magics.cli import cli

    # a wide terminal, so every column is shown (at 80 columns the least important go)
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False, env={"COLUMNS": "200"})
    if ok:
        assert result.exit_code == 0, result.output
    return result


def main_exit(monkeypatch, capsys, *args):
    """Run the real entry point (``mlops ...``); return (exit status, stderr)."""
    from kernel_magics.cli import main

    monkeypatch.setattr(sys, "argv", ["mlops", *args])
    with pytest.raises(SystemExit) as info:
        main()
    return info.value.code, capsys.readouterr().err


def test_cli_typo_exits_2_with_the_valid_names(monkeypatch, capsys):
    code, err = main_exit(monkeypatch, capsys, "alerts", "add", "q", "--model", "churn",
                          "--when", "latency.p99 > 100")  # fmt: skip
    assert code == 2 and err.startswith("Error: Unknown metric 'latency.p99'")
    assert "Did you mean 'latency.p99_ms'?" in err and "Traceback" not in err
    assert all(name in err for name in METRICS)
    assert json.loads(mlops("alerts", "ls", "--json").output) == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["--window", "1 hour"], "Cannot read the window: '1 hour' is not a duration"),
        (["--notify", "slack:#ops"], "give command:PROGRAM"),
        (["--model", "nomodel"], "nomodel"),
    ],
)
def test_cli_bad_input_is_one_clear_line(monkeypatch, capsys, args, message):
    base = {"--model": "churn", "--when": "accuracy < 0.85"}
    flags = dict(zip(args[::2], args[1::2], strict=True))
    argv = [x for k, v in {**base, **flags}.items() for x in (k, v)]
    code, err = main_exit(monkeypatch, capsys, "alerts", "add", "q", *argv)
    assert code == 2 and err.startswith("Error: ") and message in err, err
    assert len(err.strip().splitlines()) == 1


def test_cli_lifecycle_add_ls_history_pause_resume_rm(store):
    # Given a rule added from the command line
    out = mlops("alerts", "add", "churn-quality", "--model", "churn@production",
                "--when", "accuracy < 0.85", "--when", "drift.share>0.3", "--window", "30m",
                "--notify", "command:true").output  # fmt: skip
    assert "Alert 'churn-quality' on churn@production: accuracy < 0.85 or drift.share > 0.3" in out
    (listed,) = json.loads(mlops("alerts", "ls", "--json").output)
    assert listed["state"] == "active" and listed["window_s"] == 1800
    assert listed["notify"] == ["command:true"] and listed["open_incident"] is None
    # When the scheduler finds accuracy low
    fake = FakeMonitoring(accuracy=0.7, **{"drift.share": 0.0})
    evaluate_due(store, START, fake)
    # Then ls shows it firing, and history shows the incident and what broke
    table = mlops("alerts", "ls").output
    assert "churn-quality" in table and "firing" in table
    history = mlops("alerts", "history", "churn-quality").output
    assert "open" in history and "accuracy < 0.85 (was 0.7)" in history and "sent" in history
    (incident,) = json.loads(mlops("alerts", "history", "--json").output)
    assert incident["open"] and incident["broken"] == {"accuracy < 0.85": 0.7}
    # and it resolves when accuracy recovers
    fake.values["accuracy"] = 0.9
    evaluate_due(store, START + 60, fake)
    assert "resolved" in mlops("alerts", "history").output
    # Pause, resume and remove
    assert "Paused alert 'churn-quality'" in mlops("alerts", "pause", "churn-quality").output
    assert "paused" in mlops("alerts", "ls").output
    assert evaluate_due(store, START + 120, fake) == []
    assert "Resumed" in mlops("alerts", "resume", "churn-quality").output
    assert "Removed alert 'churn-quality'" in mlops("alerts", "rm", "churn-quality").output
    assert "No alerts yet" in mlops("alerts", "ls").output


def test_cli_unknown_alert_names_the_known_ones(monkeypatch, capsys):
    mlops("alerts", "add", "a1", "--model", "churn", "--when", "requests < 1")
    code, err = main_exit(monkeypatch, capsys, "alerts", "rm", "nope")
    assert code == 2 and "No alert named 'nope'. Known alerts: a1." in err


@pytest.fixture
def shell():
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    InteractiveShell.clear_instance()
    sh = InteractiveShell.instance(config=config)
    assert sh.run_cell("%load_ext kernel_magics").success
    yield sh
    sh.history_manager.end_session()
    InteractiveShell.clear_instance()


def test_magic_adds_lists_and_refuses_typos(shell):
    from IPython.core.error import UsageError

    report = shell.run_line_magic(
        "mlops", "alerts add q --model churn@production --when 'errors.rate > 0.01' --window 1h"
    )
    assert [r["name"] for r in report.data] == ["q"]
    assert repr(report).startswith("Added alert 'q'") and "<table" in report._repr_html_()
    assert report.data[0]["conditions"] == ["errors.rate > 0.01"]
    with pytest.raises(UsageError, match="Unknown metric 'eror.rate'"):
        shell.run_line_magic("mlops", "alerts add r --model churn --when 'eror.rate > 0.01'")
    with pytest.raises(UsageError, match="needs --model and --when"):
        shell.run_line_magic("mlops", "alerts add r --model churn")
    listed = shell.run_line_magic("mlops", "alerts ls")
    assert [r["name"] for r in listed.data] == ["q"] and "q" in repr(listed)
    assert shell.run_line_magic("mlops", "alerts history").data == []
    assert shell.run_line_magic("mlops", "alerts rm q").data == []


def test_python_api():
    import kernel_magics as mlops_api

    rule = mlops_api.add_alert("p", "churn", ["accuracy < 0.85"], window="2h")
    assert rule.window_s == 7200 and mlops_api.get_alert("p") == rule
    assert [r.name for r in mlops_api.list_alerts()] == ["p"]
    assert mlops_api.alert_history("p") == []
    assert mlops_api.pause_alert("p").paused and not mlops_api.resume_alert("p").paused
    mlops_api.remove_alert("p")
    assert mlops_api.list_alerts() == []
