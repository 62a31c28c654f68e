"""The CLI (`mlops schedule ...`, `mlops scheduler --daemon`) and the `%mlops schedule` magic."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from kernel_magics.cli import cli
from kernel_magics.core.scheduler import api
from kernel_magics.core.store import open_store


def mlops(*args, ok=True):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    return result


def test_cli_add_prints_next_runs_and_lifecycle(notebook):
    out = mlops(
        "schedule",
        "add",
        str(notebook),
        "--cron",
        "0 3 * * *",
        "-z",
        "Europe/Berlin",
        "-p",
        "alpha=0.2",
        "--retries",
        "2",
        "--retry-delay",
        "30",
        "--name",
        "nightly",
        "--catchup",
        "none",
        "--timeout",
        "600",
    ).output
    assert "Scheduled 'nightly'" in out and "(Europe/Berlin)" in out
    runs = [line for line in out.splitlines() if line.startswith("  20")]
    assert len(runs) == 3 and all(" 03:00 CE" in line for line in runs)
    record = api.get_schedule("nightly")
    assert (
        record.parameters,
        record.retries,
        record.retry_delay,
        record.catchup,
        record.timeout,
    ) == ({"alpha": 0.2}, 2, 30.0, "none", 600.0)
    listed = json.loads(mlops("schedule", "ls", "--json").output)
    assert [s["name"] for s in listed] == ["nightly"] and listed[0]["next_run"]
    shown = json.loads(mlops("schedule", "show", "nightly", "--json").output)
    assert len(shown["next_runs"]) == 3
    assert "Paused 'nightly'" in mlops("schedule", "pause", "nightly").output
    assert api.get_schedule("nightly").paused
    assert "Resumed 'nightly'" in mlops("schedule", "resume", "nightly").output
    assert "has not fired yet" in mlops("schedule", "history", "nightly").output
    assert "Deleted" in mlops("schedule", "rm", "nightly", "--yes").output
    assert api.schedules() == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["--cron", "0 3 * *"], "expected 5 fields"),
        (["--cron", "0 3 * * *", "-z", "Mars/Olympus"], "Unknown timezone 'Mars/Olympus'"),
        (["--cron", "0 3 * * *", "-p", "alpha=abc"], "alpha"),
        (["--cron", "0 3 * * *", "-p", "gamma=1"], "has no parameter 'gamma'"),
        (["--cron", "0 3 * * *", "--notify-webhook", "file:///etc/passwd"], "not an http(s) URL"),
    ],
)
def test_cli_bad_input_is_one_clear_error(notebook, args, message, monkeypatch, capsys):
    from kernel_magics.cli import main

    monkeypatch.setattr(sys, "argv", ["mlops", "schedule", "add", str(notebook), *args])
    with pytest.raises(SystemExit) as info:
        main()
    err = capsys.readouterr().err
    assert info.value.code == 2, err
    assert err.startswith("Error: ") and message in err and "Traceback" not in err
    assert api.schedules() == []


def test_cli_unknown_schedule_names_known_ones(notebook):
    mlops("schedule", "add", str(notebook), "--cron", "@daily")
    with pytest.raises(Exception, match="No schedule named 'nope'. Known schedules: train"):
        mlops("schedule", "show", "nope")


@pytest.mark.slow
def test_scheduler_daemon_starts_registers_and_stops(tmp_path, notebook):
    env = dict(os.environ)
    pid_file, log_file = tmp_path / "s.pid", tmp_path / "s.log"
    cmd = [
        sys.executable,
        "-c",
        "from kernel_magics.cli import main; main()",
        "scheduler",
        "--daemon",
        "--pid-file",
        str(pid_file),
        "--log-file",
        str(log_file),
        "--poll-interval",
        "0.2",
        "--lease",
        "2",
    ]
    started = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    assert started.returncode == 0, started.stderr
    pid = int(pid_file.read_text())
    assert f"pid {pid}" in started.stdout
    try:
        from kernel_magics.core.scheduler.daemon import running_schedulers

        deadline = time.time() + 20
        while time.time() < deadline and not running_schedulers(open_store()):
            time.sleep(0.1)
        [alive] = running_schedulers(open_store())
        assert alive["owner"].split(":")[1] == str(pid) and alive["role"] == "leader"
        again = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
        assert again.returncode == 2 and "already running" in again.stderr
    finally:
        stopped = subprocess.run(
            cmd[:3] + ["scheduler", "--stop", "--pid-file", str(pid_file)],
            capture_output=True,
            text=True,
            env=env,
            timeout=90,
        )
    assert stopped.returncode == 0 and "Stopped" in stopped.stdout, stopped.stderr
    assert not pid_file.exists()
    assert running_schedulers(open_store()) == []  # it removed its heartbeat on the way out
    assert "is now leader" in log_file.read_text()


def test_magic_schedules_the_current_notebook(notebook, monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    monkeypatch.setenv("JPY_SESSION_NAME", str(notebook))
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance(config=config)
    try:
        assert shell.run_cell("%load_ext kernel_magics").success
        from IPython.utils.capture import capture_output

        with capture_output() as out:
            shell.run_line_magic("mlops", 'schedule "30 2 * * *" -p alpha=0.7 -z UTC --retries 1')
        assert "Scheduled 'train'" in out.stdout and "02:30 UTC" in out.stdout
        record = api.get_schedule("train")
        assert record.notebook_path == str(Path(notebook).resolve())
        assert record.parameters == {"alpha": 0.7} and record.retries == 1
        from IPython.core.error import UsageError

        with pytest.raises(UsageError, match="expected 5 fields"):  # no traceback in a cell
            shell.run_line_magic("mlops", 'schedule "30 2 * *" --name other')
        assert [s.name for s in api.schedules()] == ["train"]
    finally:
        shell.history_manager.end_session()
        InteractiveShell.clear_instance()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--max-workers", "0"], "max workers >= 1"),
        (["--lease", "3", "--poll-interval", "5"], "must be longer than the poll interval"),
    ],
)
def test_scheduler_options_are_checked_before_starting(args, message, monkeypatch, capsys):
    from kernel_magics.cli import main

    monkeypatch.setattr(sys, "argv", ["mlops", "scheduler", *args])
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 2 and message in capsys.readouterr().err
