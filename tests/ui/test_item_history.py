"""Who changed a schedule or an alert rule, and when, in the panel (real JupyterLab, Chromium).

A schedule made and paused from the terminal, then resumed from the panel and paused again
through the server's REST API: the schedule's Changes in its detail list all four, newest
first, each with who (the OS user for the CLI, the Jupyter user ``ada`` for the server) and a
time, and the change made behind the panel's back shows up with the panel's own refresh. An
alert rule made through the Python API and paused from the terminal: its "changes" in the
deployment's Monitoring section say the same, and a resume from the terminal shows up when
the section reloads. One lab start (it names its browser user ``ada``, as JupyterHub would);
screenshots go to tests/ui/artifacts/.
"""

from __future__ import annotations

import getpass
import json
import re
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

import nbformat
import pytest
from lab_server import LabServer
from test_lifecycle_journey import tab
from test_share_and_trace import IDENTITY, JUPYTER_USER, cli, jupyter_user, open_panel

pytestmark = [pytest.mark.ui, pytest.mark.slow, pytest.mark.timeout(900)]

TIMEOUT = 60_000
#: The Monitoring section reloads every minute on its own (then an open rule's changes too).
MONITORING_RELOAD = "01:01"
SCHEDULE = "nightly"
ALERT = "errors-watch"
#: Once a year: nothing fires while the test runs.
CRON = "0 3 1 1 *"

TRAIN = """\
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

import kernel_magics as mlops

rng = np.random.default_rng(0)
X = pd.DataFrame({"tenure": rng.normal(size=100), "charges": rng.normal(size=100)})
y = (X.tenure - X.charges > 0).astype(int)
with mlops.start_run("churn", name="train"):
    mlops.log_model(LogisticRegression().fit(X, y), "churn", input_example=X.head(3))
"""

#: The rule is made the way a notebook or a script would: the Python API, as the OS user.
ADD_ALERT = f"""\
from kernel_magics.core.monitoring.alerts_api import add_alert

add_alert({ALERT!r}, "churn/1", ["errors.rate > 0.05"], window="15m")
"""


def python(lab: LabServer, source: str) -> None:
    """Run ``source`` in a fresh Python on the lab's store, as a script at a terminal would."""
    done = subprocess.run(
        [sys.executable, "-c", source], env=lab.env, cwd=lab.root,
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A lab whose browser user is ada, with churn v1 served from the terminal (mlops deploy)."""
    server = LabServer(tmp_path_factory.mktemp("lab"))
    (server.base / "config").mkdir()
    (server.base / "config" / "jupyter_server_config.py").write_text(IDENTITY)
    failure: list[BaseException] = []

    def start() -> None:
        try:
            server.start(timeout=240)
        except BaseException as error:  # re-raised in the test's thread
            failure.append(error)

    starting = threading.Thread(target=start)
    starting.start()
    deployed = False
    try:
        while not server.root.exists() or not hasattr(server, "env"):
            starting.join(0.1)  # the root and env exist once start() has prepared them
            if failure:
                raise failure[0]
        kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
        cells = [nbformat.v4.new_code_cell("print('nightly')")]
        nbformat.write(
            nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": kernel}),
            server.root / f"{SCHEDULE}.ipynb",
        )
        python(server, TRAIN)
        cli(server, "deploy", "churn/1")
        deployed = True
        starting.join()
        if failure:
            raise failure[0]
        yield server
    finally:
        starting.join()
        if deployed:
            stop_deployments(server)
        server.stop()  # (also when the seeding failed: never leave a lab behind)


def stop_deployments(lab: LabServer) -> None:
    """Stop the model servers of churn the fixture started (from the terminal: the lab may be down)."""
    subprocess.run(
        [str(Path(sys.executable).parent / "mlops"), "deployments", "stop", "churn"],
        env=lab.env, cwd=lab.root, capture_output=True, timeout=120,
    )  # fmt: skip


def change_lines(changes) -> list[tuple[str, str]]:
    """Each line of a Changes list as (who, sentence without the time), newest first."""
    lines = []
    for item in changes.locator("li").all():
        time = item.locator(".jp-mlops-history-time").inner_text()
        lines.append((item.get_attribute("data-actor"), item.inner_text().removesuffix(time)))
    return [(who, text.strip()) for who, text in lines]


def assert_times(changes, count: int) -> None:
    """Every line says when, relative to now, with the date and time in its tooltip."""
    times = changes.locator(".jp-mlops-history-time")
    assert times.count() == count
    for i in range(count):
        assert re.fullmatch(r"just now|\d+ min ago", times.nth(i).inner_text())
        stamp = times.nth(i).get_attribute("title")
        assert stamp and str(datetime.now().year) in stamp, stamp


def test_schedule_changes_show_who_and_when(page, lab, shot):
    os_user = getpass.getuser()
    # Given a schedule made and paused from the terminal (as the OS user)
    cli(lab, "schedule", "add", f"{SCHEDULE}.ipynb", "--cron", CRON, "--name", SCHEDULE,
        "-z", "UTC")  # fmt: skip
    cli(lab, "schedule", "pause", SCHEDULE)
    (schedule,) = lab.api("schedules")["schedules"]
    # When it is opened in the panel's Schedules view
    open_panel(page, lab)
    assert jupyter_user(page) == JUPYTER_USER
    panel = page.locator(".jp-mlops-panel")
    tab(page, "Schedules")
    panel.locator(f'.jp-mlops-schedule[data-schedule="{schedule["id"]}"]').click()
    detail = panel.locator(".jp-mlops-schedule-detail")
    changes = detail.locator('.jp-mlops-item-history[data-history-kind="schedule"]')
    changes.get_by_role("heading", name="Changes").wait_for(timeout=TIMEOUT)
    # Then its Changes say who made and paused it: the OS user, both times
    changes.locator("li", has_text="paused").wait_for(timeout=TIMEOUT)
    assert change_lines(changes) == [
        (os_user, f"{os_user} paused schedule {SCHEDULE}"),
        (os_user, f"{os_user} created schedule {SCHEDULE}: {CRON} (UTC)"),
    ]
    assert_times(changes, 2)
    shot("schedule-changes-cli")

    # When it is resumed from the panel (the server's route, as the Jupyter user)
    detail.get_by_role("button", name="Resume").click()
    # Then the resume is on top, signed by ada
    changes.locator("li", has_text="resumed").wait_for(timeout=TIMEOUT)
    assert change_lines(changes)[0] == (
        JUPYTER_USER, f"{JUPYTER_USER} resumed schedule {SCHEDULE}"
    )  # fmt: skip

    # When a colleague pauses it through the REST API while the detail stays open
    lab.send("POST", f"schedules/{schedule['id']}/pause")
    # Then it shows up with the panel's refresh (no reload, no click), with who and when
    changes.locator("li", has_text=f"{JUPYTER_USER} paused").wait_for(timeout=TIMEOUT)
    assert change_lines(changes) == [
        (JUPYTER_USER, f"{JUPYTER_USER} paused schedule {SCHEDULE}"),
        (JUPYTER_USER, f"{JUPYTER_USER} resumed schedule {SCHEDULE}"),
        (os_user, f"{os_user} paused schedule {SCHEDULE}"),
        (os_user, f"{os_user} created schedule {SCHEDULE}: {CRON} (UTC)"),
    ]
    assert_times(changes, 4)
    # and the slot history is still its own section, untouched
    assert "No slot has fired yet." in detail.inner_text()
    changes.scroll_into_view_if_needed()
    shot("schedule-changes-server")
    # and `mlops audit` names the same people for the same changes
    audit = json.loads(cli(lab, "audit", "--kind", "schedule", "--target", SCHEDULE, "--json"))
    assert [(e["action"], e["actor"]) for e in audit] == [
        ("pause", JUPYTER_USER), ("resume", JUPYTER_USER), ("pause", os_user), ("create", os_user),
    ]  # fmt: skip


def test_alert_changes_show_who_and_when(page, lab, shot):
    os_user = getpass.getuser()
    # Given an alert rule on churn made with the Python API and paused from the terminal
    python(lab, ADD_ALERT)
    cli(lab, "alerts", "pause", ALERT)
    # When the deployment of churn is opened in the panel and the rule's changes are shown
    page.clock.install()  # the page's timers run on their own, and the test can skip a minute
    open_panel(page, lab)
    panel = page.locator(".jp-mlops-panel")
    tab(page, "Deployments")
    panel.locator(".jp-mlops-deployment").first.click()
    rule = panel.locator(f'.jp-mlops-monitoring li[data-alert="{ALERT}"]')
    rule.wait_for(timeout=TIMEOUT)
    assert "(paused)" in rule.inner_text()
    toggle = rule.get_by_role("button", name="changes")
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    changes = rule.locator('.jp-mlops-item-history[data-history-kind="alert"]')
    changes.locator("li", has_text="paused").wait_for(timeout=TIMEOUT)
    # Then they say who made and paused it (the OS user) and when
    assert change_lines(changes) == [
        (os_user, f"{os_user} paused alert {ALERT}"),
        (os_user, f"{os_user} created alert {ALERT} on churn/1: errors.rate > 0.05"),
    ]
    assert_times(changes, 2)
    changes.scroll_into_view_if_needed()
    shot("alert-changes")

    # When it is resumed from the terminal while the changes stay open
    cli(lab, "alerts", "resume", ALERT)
    # Then the resume shows up when the Monitoring section reloads, a minute later
    page.clock.fast_forward(MONITORING_RELOAD)
    changes.locator("li", has_text="resumed").wait_for(timeout=TIMEOUT)
    assert change_lines(changes)[0] == (os_user, f"{os_user} resumed alert {ALERT}")
    assert "(paused)" not in rule.inner_text()
    # and hiding them folds the list away
    rule.get_by_role("button", name="hide changes").click()
    changes.wait_for(state="detached", timeout=TIMEOUT)
