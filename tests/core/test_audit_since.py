"""``mlops audit --since``: old changes are left out, recent ones listed, bad periods refused.

The old entries are real changes (a schedule created, an alias set) made through the store's
repositories while the audit trail's clock reads an earlier time: the same insert, with a
backdated ``at``. The listing is the installed ``mlops`` console script in a subprocess.
"""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kernel_magics.core.store import audit as audit_module

MLOPS = str(Path(sys.executable).with_name("mlops"))
HOUR = 3600.0


class _Clock:
    """Stands in for the ``time`` module inside the audit trail: reads ``now - ago``."""

    def __init__(self, ago: float):
        self.ago = ago

    def time(self) -> float:
        return time.time() - self.ago


def mlops(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}  # MLOPS_HOME: this test's store
    return subprocess.run([MLOPS, *args], capture_output=True, text=True, env=env, timeout=120)


def listed(*args: str) -> list[tuple[str, str, str]]:
    """``(kind, target, action)`` of ``mlops audit ARGS --json``, newest first."""
    done = mlops("audit", *args, "--json")
    assert done.returncode == 0, done.stderr
    return [(e["kind"], e["target"], e["action"]) for e in json.loads(done.stdout)]


@pytest.fixture
def old_and_new(store, monkeypatch):
    """A schedule made 2 days ago, an alert 90 minutes ago, and an alias set just now."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from kernel_magics.core.registry.api import log_model
    from kernel_magics.core.store.schedules import ScheduleOptions

    frame = pd.DataFrame({"tenure": [1, 5, 9, 12, 30, 40]})
    log_model(LogisticRegression().fit(frame, [0, 0, 1, 1, 1, 0]), "churn", frame, store=store)
    with monkeypatch.context() as patched:
        patched.setattr(audit_module, "time", _Clock(48 * HOUR))
        store.schedules.create("nightly", "/nb/train.ipynb",
                               ScheduleOptions(cron="@daily", timezone="UTC"))  # fmt: skip
        patched.setattr(audit_module, "time", _Clock(1.5 * HOUR))
        store.alerts.create("churn-quality", "churn", ["accuracy < 0.8"], 3600, [])
    store.models.set_alias("churn", "production", 1)
    ages = {e.target: time.time() - e.at for e in store.audit.list().entries}
    assert ages["nightly"] > 47 * HOUR and 1.4 * HOUR < ages["churn-quality"] < 1.6 * HOUR
    assert ages["churn@production"] < 0.5 * HOUR


def test_since_leaves_out_changes_older_than_the_period(old_and_new):
    alias = ("alias", "churn@production", "set")
    alert = ("alert", "churn-quality", "create")
    schedule = ("schedule", "nightly", "create")
    # Without --since every change is listed, newest first
    assert listed() == [alias, alert, schedule]
    # --since 1h: only the alias set just now
    assert listed("--since", "1h") == [alias]
    # --since 2h takes in the alert of 90 minutes ago, 3d the schedule of two days ago
    assert listed("--since", "2h") == [alias, alert]
    assert listed("--since", "1d") == [alias, alert]
    assert listed("--since", "3d") == [alias, alert, schedule]
    # and with --kind the period still applies
    assert listed("--since", "1h", "--kind", "schedule") == []
    # The table a person reads shows the same thing
    table = mlops("audit", "--since", "1h")
    assert table.returncode == 0, table.stderr
    assert "churn@production" in table.stdout and getpass.getuser() in table.stdout
    assert "nightly" not in table.stdout and "churn-quality" not in table.stdout


def test_a_period_with_no_changes_says_how_to_widen_it(old_and_new):
    # When only changes older than the period exist for a kind
    done = mlops("audit", "--since", "30m", "--kind", "alert")
    # Then the user is told nothing matched and what to change
    assert done.returncode == 0, done.stderr
    assert "No recorded changes match" in done.stdout and "widen --since" in done.stdout


@pytest.mark.parametrize(
    ("since", "message"),
    [
        ("yesterday", "'yesterday' is not a duration"),
        ("1x", "'1x' is not a duration"),
        ("-1h", "'-1h' is not a duration"),
        ("0h", "'0h' is not a positive duration"),
    ],
)
def test_a_bad_since_is_a_clear_usage_error(store, since, message):
    # When
    done = mlops("audit", "--since", since)
    # Then exit status 2 (a usage error), one line saying what is wrong and what works
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert message in done.stderr and "e.g." in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stdout == ""
