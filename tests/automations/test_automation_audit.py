"""Automations' changes in the audit trail, made the way a user makes them.

Each change goes through the installed ``mlops`` console script in a subprocess (as a user
types it): ``mlops automation add|pause|resume|rm`` and ``mlops apply`` with an mlops.yaml. Then
``mlops audit`` must list each change with the OS user and the automation's name.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import subprocess
import sys
from pathlib import Path

MLOPS = str(Path(sys.executable).with_name("mlops"))
NOTIFY = "{notify: {command: 'true'}}"


def mlops(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``mlops ARGS`` on this test's store (MLOPS_HOME), wide enough for every column."""
    env = {**os.environ, "COLUMNS": "200"}
    done = subprocess.run([MLOPS, *args], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, f"mlops {' '.join(args)}: {done.stdout}{done.stderr}"
    return done


def audit_entries() -> list[tuple[str, str, str, str, dict | None]]:
    """``(actor, kind, target, action, detail)`` from ``mlops audit --json``, oldest first."""
    listed = json.loads(mlops("audit", "--kind", "automation", "--json").stdout)
    return [(e["actor"], e["kind"], e["target"], e["action"], e["detail"])
            for e in reversed(listed)]  # fmt: skip


def table_rows(text: str) -> list[list[str]]:
    """The body rows of a rich table printed by the CLI, as cells."""
    rows = [[c.strip() for c in re.split("│", line)[1:-1]] for line in text.splitlines()]
    return [r for r in rows if r]


def test_cli_changes_to_an_automation_are_listed_with_the_os_user_and_its_name(store):
    # Given nothing recorded yet
    me = getpass.getuser()
    # When a user adds, pauses, resumes and removes an automation from the terminal
    mlops("automation", "add", "nightly-retrain", "--cron", "0 3 * * *", "--tz", "UTC",
          "--step", NOTIFY)  # fmt: skip
    mlops("automation", "pause", "nightly-retrain")
    mlops("automation", "resume", "nightly-retrain")
    mlops("automation", "rm", "nightly-retrain")
    # Then mlops audit lists the four changes, in order, each by the OS user on that name
    assert audit_entries() == [
        (me, "automation", "nightly-retrain", "create", {"trigger": "cron 0 3 * * * (UTC)"}),
        (me, "automation", "nightly-retrain", "pause", None),
        (me, "automation", "nightly-retrain", "resume", None),
        (me, "automation", "nightly-retrain", "delete", None),
    ]
    # and the table a person reads has the same rows, newest first
    rows = table_rows(mlops("audit").stdout)
    assert [r[1:5] for r in rows] == [
        [me, "automation", "nightly-retrain", action]
        for action in ("delete", "resume", "pause", "create")
    ], rows
    assert rows[-1][5] == "trigger=cron 0 3 * * * (UTC)"


def test_a_failed_automation_change_records_nothing(store):
    # Given one automation
    mlops("automation", "add", "ping", "--manual", "--step", NOTIFY)
    # When a second one of that name, and a pause of an unknown one, are refused
    env = {**os.environ}
    again = subprocess.run([MLOPS, "automation", "add", "ping", "--manual", "--step", NOTIFY],
                           capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    unknown = subprocess.run([MLOPS, "automation", "pause", "pong"], capture_output=True,
                             text=True, env=env, timeout=120)  # fmt: skip
    # Then both fail, saying why, and the trail holds only the first creation
    assert again.returncode != 0 and "already exists" in again.stderr
    assert unknown.returncode != 0 and "No automation named 'pong'" in unknown.stderr
    assert [e[2:4] for e in audit_entries()] == [("ping", "create")]


SPEC = """\
version: 1
automations:
  retrain:
    trigger: {{cron: '0 3 * * *', timezone: UTC}}
    retries: {retries}
{enabled}    steps:
    - notify: {{command: 'true'}}
"""


def write_config(folder: Path, retries: int = 0, paused: bool = False) -> Path:
    path = folder / "mlops.yaml"
    enabled = "    enabled: false\n" if paused else ""
    path.write_text(SPEC.format(retries=retries, enabled=enabled), encoding="utf-8")
    return path


def test_mlops_apply_records_each_automation_change_with_what_it_did(store, tmp_path):
    # Given a project whose mlops.yaml adds the automation paused
    me = getpass.getuser()
    config = write_config(tmp_path, paused=True)
    mlops("apply", "-f", str(config), cwd=tmp_path)
    # When the file is edited and applied: more retries, then resumed, then paused again,
    # then the automation taken out of the file and pruned with --delete
    mlops("apply", "-f", str(write_config(tmp_path, retries=2, paused=True)), cwd=tmp_path)
    mlops("apply", "-f", str(write_config(tmp_path, retries=2)), cwd=tmp_path)
    mlops("apply", "-f", str(write_config(tmp_path, retries=2, paused=True)), cwd=tmp_path)
    config.write_text("version: 1\n", encoding="utf-8")
    pruned = mlops("apply", "-f", str(config), "--prune", "--delete", cwd=tmp_path)
    assert "delete" in pruned.stdout and "retrain" in pruned.stdout
    # Then each applied change is one entry by the OS user on `retrain`, saying what it did:
    # a pause or resume through the file is listed as one, not as an opaque update
    trigger = "cron 0 3 * * * (UTC)"
    assert audit_entries() == [
        (me, "automation", "retrain", "create", {"trigger": trigger, "paused": True}),
        (me, "automation", "retrain", "update", {"trigger": trigger, "changed": ["retries"]}),
        (me, "automation", "retrain", "resume", None),
        (me, "automation", "retrain", "pause", None),
        (me, "automation", "retrain", "delete", None),
    ]
    assert store.automations.list() == []
    # and applying a file that matches the store records nothing more
    mlops("apply", "-f", str(config), cwd=tmp_path)
    assert len(audit_entries()) == 5
