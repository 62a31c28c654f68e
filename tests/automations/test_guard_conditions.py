"""Guards on deploys and promotions beyond ``errors.rate``, through the real ``mlops`` CLI.

Real model servers (uvicorn processes on free ports), the real ``mlops`` console script in a
subprocess, and the scheduler's tick on an injected clock as the judge:

* ``latency.p99_ms < 100``: a promoted version that sleeps on every prediction is rolled back
  and the channel told; a fast one keeps the alias after the guard period;
* ``accuracy >= 0.85`` with labels sent to the model server's ``/feedback``: wrong labels roll
  the promotion back, right ones keep it (``mlops promote`` and ``mlops challenger promote``);
* ``mlops deploy --guard``, ``mlops challenger start --guard`` and ``mlops challenger promote
  --guard`` parse, record and show their guards; a malformed one exits 2 with one line naming
  the problem and the fix;
* through every rollback hand-over, a client sending requests meanwhile sees no connection
  error and no 502: only 200s, and the broken version's own 500s while it served.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import cloudpickle
import httpx
import numpy as np
import pytest
from automation_helpers import make_scheduler
from churn_data import churn_frame
from prediction_client import (
    Answer,
    PredictClient,
    free_port,
    pickle_by_value,
    raise_on_bad_charges,
    wait_for,
)

import kernel_magics as mlops
from kernel_magics.core.registry import parse_ref
from kernel_magics.core.scheduler.clock import ManualClock

pytestmark = pytest.mark.slow

MLOPS = shutil.which("mlops", path=str(Path(sys.executable).parent)) or "mlops"
SLOW_S = 0.25  # the slow version sleeps this long on every prediction (> the 100 ms guard)
LATENCY = "latency.p99_ms < 100"
ACCURACY = "accuracy >= 0.85"
ERRORS = "errors.rate < 0.01"


def mlops_cli(*args: str, code: int = 0) -> subprocess.CompletedProcess:
    """Run ``mlops ARGS`` as a user would; check its exit status."""
    result = subprocess.run(
        [MLOPS, *args], capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"}
    )
    assert result.returncode == code, (
        f"mlops {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    )
    return result


def _sleep_then_pass(frame):
    """The slow version's first step: every prediction waits ``SLOW_S`` seconds."""
    time.sleep(SLOW_S)
    return np.asarray(frame, dtype=float)


def wait_rows(store, version: int, since: float, rows: int = 150) -> None:
    """Wait until the servers wrote ``rows`` rows of ``churn/version`` from ``since`` on."""
    wait_for(
        lambda: (
            sum(b.rows for b in store.monitoring.buckets("churn", version, since=since)) >= rows
        ),
        f"{rows} monitored rows of churn/{version}",
    )


def judge(store, at: float) -> None:
    """One tick of the scheduler (the guards' judge) with its clock at ``at``."""
    scheduler = make_scheduler(store, ManualClock(at), alerts=True)
    try:
        scheduler.tick()
    finally:
        scheduler.close()


def the_guard(store, version: int):
    (guard,) = [g for g in store.challengers.guards() if g.version == version]
    return guard


def serving(store) -> int:
    return store.models.get_version(parse_ref("churn@production")).version


def health_version(url: str) -> int:
    return httpx.get(f"{url}/health", timeout=10).json()["version"]


def send_labels(url: str, answers: list[Answer], right: bool) -> dict:
    """POST the labels of ``answers`` to ``/feedback``: the predictions, or their opposites."""
    ids = [a.request_id for a in answers]
    labels = [int(a.predictions[0]) if right else 1 - int(a.predictions[0]) for a in answers]
    resp = httpx.post(f"{url}/feedback", json={"ids": ids, "labels": labels}, timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.json()


def assert_no_failed_hand_over(client: PredictClient, broken: int | None = None) -> None:
    """Every request got an HTTP answer: 200s, and 500s only from the ``broken`` version."""
    assert client.errors == []  # no refused or reset connection through any switch
    statuses = {a.status for a in client.answers}
    assert 502 not in statuses and 503 not in statuses
    failed = [a for a in client.answers if a.status != 200]
    assert all(a.status == 500 and a.version == str(broken) for a in failed), failed[:5]


@pytest.fixture
def versions(store, monkeypatch):
    """churn/1 in production (fast), churn/2 slow, churn/3 fast, churn/4 broken on some rows."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    monkeypatch.setenv("MLOPS_MONITORING_BUCKET_S", "1")  # the servers write a bucket a second
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the servers cannot import us
    pickle_by_value()
    frame, target = churn_frame(400, 0)
    mlops.log_model(LogisticRegression(max_iter=500).fit(frame, target), "churn",
                    input_example=frame.head(20), alias="production")  # fmt: skip
    slow = make_pipeline(FunctionTransformer(_sleep_then_pass),
                         LogisticRegression(max_iter=500)).fit(frame, target)  # fmt: skip
    mlops.log_model(slow, "churn", input_example=frame.head(20), format="cloudpickle",
                    allow_pickle=True)  # fmt: skip
    mlops.log_model(LogisticRegression(max_iter=500, C=0.5).fit(frame, target), "churn",
                    input_example=frame.head(20))  # fmt: skip
    broken = make_pipeline(FunctionTransformer(raise_on_bad_charges),
                           LogisticRegression(max_iter=500)).fit(frame, target)  # fmt: skip
    mlops.log_model(broken, "churn", input_example=frame.head(20), format="cloudpickle",
                    allow_pickle=True)  # fmt: skip
    yield store
    from kernel_magics.core.serving.deployments import get_backend, list_deployments

    backend = get_backend()
    for live in list_deployments(store=store):
        backend.stop(live, reason="end of test")


@pytest.fixture
def served(versions):
    """churn@production deployed with every prediction kept (labels join all of them)."""
    return mlops.deploy("churn@production", port=free_port(), allow_pickle=True, sample_rate=1.0)


def test_a_latency_guard_rolls_a_slow_promotion_back_and_keeps_a_fast_one(versions, served, inbox):
    store, dep = versions, served
    # ten rows a request: the slow version gets 100 soon
    client = PredictClient(dep.url, rows=10, pause=0.002)
    client.start()

    # When: churn/2, which sleeps 250 ms on every prediction, is promoted with a latency guard
    out = mlops_cli("promote", "churn", "--version", "2", "--deploy", "--guard", LATENCY,
                    "--for", "10m", "--notify", f"command:{inbox.command}")  # fmt: skip
    assert f"Guard 1: {LATENCY} on churn@production v2" in out.stdout
    assert "rolls back to v1 when one breaks" in out.stdout
    assert health_version(dep.url) == 2
    guard = the_guard(store, 2)
    wait_rows(store, 2, guard.started_at - 1)
    judge(store, time.time())

    # Then: the guard broke on the p99 latency, the alias went back to churn/1, the channel
    # was told, and the server answers with churn/1 again
    guard = the_guard(store, 2)
    assert guard.status == "rolled_back", guard
    assert f"{LATENCY} broke (" in guard.reason
    assert serving(store) == 1
    wait_for(lambda: health_version(dep.url) == 1, "the rollback hand-over")
    [message] = inbox.messages
    assert message["event"] == "guard_broken" and message["target"] == "churn@production"
    assert (message["version"], message["rolled_back_to"]) == (2, 1)
    assert message["broken"][LATENCY] >= 100
    out = mlops_cli("guards")
    assert "rolled_back" in out.stdout and LATENCY in out.stdout

    # When: churn/3, a fast version, is promoted with the same guard
    out = mlops_cli("promote", "churn", "--version", "3", "--deploy", "--guard", LATENCY,
                    "--for", "10m", "--notify", f"command:{inbox.command}")  # fmt: skip
    assert f"{LATENCY} on churn@production v3" in out.stdout
    guard = the_guard(store, 3)
    wait_rows(store, 3, guard.started_at - 1)
    judge(store, time.time())
    assert the_guard(store, 3).status == "watching"  # it holds, and the period is not over
    judge(store, guard.until + 1)

    # Then: the guard passed at the end of its period and churn/3 still serves
    client.finish()
    guard = the_guard(store, 3)
    assert (guard.status, guard.reason) == ("passed", "held for its period")
    assert serving(store) == 3 and health_version(dep.url) == 3
    assert len(inbox.messages) == 1  # nobody was told about the guard that held
    out = mlops_cli("guards")
    assert "passed" in out.stdout
    # and the client got an answer to every request through both promotions and the rollback
    assert client.answered_by(2) and client.answered_by(3)
    assert_no_failed_hand_over(client)


def test_an_accuracy_guard_judges_the_labels_sent_to_feedback(versions, served, inbox):
    store, dep = versions, served
    client = PredictClient(dep.url, pause=0.002)
    client.start()

    # When: churn/3 is promoted with an accuracy guard, and the labels that come back to the
    # server's /feedback contradict its predictions
    out = mlops_cli("promote", "churn", "--version", "3", "--deploy", "--guard", ACCURACY,
                    "--for", "15m", "--notify", f"command:{inbox.command}")  # fmt: skip
    assert f"Guard 1: {ACCURACY} on churn@production v3" in out.stdout
    guard = the_guard(store, 3)
    wait_rows(store, 3, guard.started_at - 1)
    judge(store, time.time())
    assert the_guard(store, 3).status == "watching"  # no labels yet: nothing breaks
    answered = client.answered_by(3)
    report = send_labels(dep.url, answered, right=False)
    assert report["matched"] == len(answered)  # every prediction was kept and joins
    judge(store, time.time())

    # Then: the accuracy of the labelled predictions broke the guard and churn/1 serves again
    guard = the_guard(store, 3)
    assert guard.status == "rolled_back", guard
    assert f"{ACCURACY} broke (0)" in guard.reason
    assert serving(store) == 1
    wait_for(lambda: health_version(dep.url) == 1, "the rollback hand-over")
    [message] = inbox.messages
    assert (message["version"], message["rolled_back_to"]) == (3, 1)
    assert message["broken"] == {ACCURACY: 0.0}

    # When: churn/3 is promoted again, and this time the labels agree with it
    mlops_cli("promote", "churn", "--version", "3", "--deploy", "--guard", ACCURACY,
              "--for", "15m", "--notify", f"command:{inbox.command}")  # fmt: skip
    guard = max(store.challengers.guards(), key=lambda g: g.id)
    assert (guard.version, guard.status) == (3, "watching")
    wait_rows(store, 3, guard.started_at - 1)
    fresh = [
        a for a in client.answered_by(3) if a.request_id not in {x.request_id for x in answered}
    ]
    assert send_labels(dep.url, fresh, right=True)["matched"] == len(fresh)
    judge(store, time.time())
    assert store.challengers.guard(guard.id).status == "watching"
    judge(store, guard.until + 1)

    # Then: the guard held for its period and churn/3 keeps the alias
    client.finish()
    assert store.challengers.guard(guard.id).status == "passed"
    assert serving(store) == 3 and health_version(dep.url) == 3
    assert len(inbox.messages) == 1
    assert_no_failed_hand_over(client)


def test_guard_options_of_deploy_and_challenger_through_the_cli(versions, inbox):
    store = versions
    port = str(free_port())

    # A malformed guard, period or channel: exit 2, one line naming the problem and the fix,
    # no traceback, and nothing deployed
    bad = mlops_cli("deploy", "churn@production", "--port", port, "--guard", "latency.p99 < 100",
                    code=2)  # fmt: skip
    assert bad.stderr.startswith("Error: Bad --guard: ")
    assert "latency.p99" in bad.stderr and "latency.p99_ms" in bad.stderr  # the valid names
    bad_for = mlops_cli("deploy", "churn@production", "--port", port, "--guard", ERRORS,
                        "--for", "45d", code=2)  # fmt: skip
    assert "--for '45d' is over 30 days; guard for e.g. 15m or 1h." in bad_for.stderr
    bad_notify = mlops_cli("deploy", "churn@production", "--port", port, "--guard", ERRORS,
                           "--notify", "sms:555", code=2)  # fmt: skip
    assert bad_notify.stderr.startswith("Error: ") and "webhook:" in bad_notify.stderr
    for result in (bad, bad_for, bad_notify):
        assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    assert store.deployments.find("churn", "production", live_only=True) == []

    # `mlops deploy --guard` on churn@production, which moved from churn/1 to churn/3
    mlops_cli("models", "alias", "churn", "production", "3")
    out = mlops_cli("deploy", "churn@production", "--port", port, "--allow-pickle",
                    "--sample-rate", "1", "--guard", ERRORS, "--guard", LATENCY, "--for", "20m",
                    "--notify", f"command:{inbox.command}")  # fmt: skip
    assert f"Guard 1: {ERRORS} and {LATENCY} on churn@production v3" in out.stdout
    assert "rolls back to v1 when one breaks" in out.stdout
    url = f"http://127.0.0.1:{port}"
    assert health_version(url) == 3
    guard = the_guard(store, 3)
    assert guard.conditions == [ERRORS, LATENCY] and guard.until - guard.started_at == 1200
    listed = mlops_cli("guards", "--watching").stdout
    assert "churn@production" in listed and f"{ERRORS} and {LATENCY}" in listed
    assert "watching" in listed
    assert "churn@production" in mlops_cli("deployments", "ls").stdout

    # `mlops challenger start --guard`: an accuracy guard is refused (a server cannot judge it
    # alone) with the command that takes it; a latency guard runs
    refused = mlops_cli("challenger", "start", "churn@production", "churn/4", "--canary",
                        "--share", "0.5", "--guard", ACCURACY, code=2)  # fmt: skip
    assert "'accuracy' needs the monitoring windows" in refused.stderr
    assert "`mlops promote`" in refused.stderr and "Traceback" not in refused.stderr
    out = mlops_cli("challenger", "start", "churn@production", "churn/4", "--canary",
                    "--share", "0.5", "--allow-pickle", "--guard", LATENCY,
                    "--for", "10m")  # fmt: skip
    assert "churn/4 runs as canary on 50% of the request ids" in out.stdout
    assert f"Guards for 10m: {LATENCY}" in out.stdout
    (record,) = store.challengers.find("churn", "production", active_only=True)
    assert record.guards == [LATENCY] and record.guard_for_s == 600
    assert "churn/4" in mlops_cli("challenger", "ls", "churn@production").stdout

    # `mlops challenger promote --guard`: a malformed guard changes nothing; an accuracy guard
    # is taken (the promoted version is judged on its monitoring windows)
    bad = mlops_cli("challenger", "promote", "churn@production", "--guard", "accuracy >> 1",
                    code=2)  # fmt: skip
    assert bad.stderr.startswith("Error: Bad --guard: ") and "METRIC OP NUMBER" in bad.stderr
    assert serving(store) == 3 and store.challengers.find("churn", "production", active_only=True)
    client = PredictClient(url, bad_every=10, pause=0.002)
    client.start()
    out = mlops_cli("challenger", "promote", "churn@production", "--guard", ACCURACY,
                    "--for", "10m", "--notify", f"command:{inbox.command}")  # fmt: skip
    assert "Promoted: churn@production -> v4 (was v3)." in out.stdout
    # (it says what the guard watches and what it rolls back to, as mlops promote does)
    assert f"{ACCURACY} on churn@production v4" in out.stdout
    assert "rolls back to v3" in out.stdout
    promoted_at = len(client.answers)  # churn/4 answered some before, as the canary
    assert health_version(url) == 4
    guard = the_guard(store, 4)
    assert (guard.conditions, guard.previous_version) == ([ACCURACY], 3)
    listed = mlops_cli("guards").stdout
    assert ACCURACY in listed and "watching" in listed

    # When: the labels sent to /feedback contradict churn/4's predictions
    wait_rows(store, 4, guard.started_at - 1)
    # (a canary's answers are not the champion's predictions: the server keeps none of them)
    answered = client.answered_by(4, since=promoted_at)
    assert send_labels(url, answered, right=False)["matched"] == len(answered)
    judge(store, time.time())

    # Then: the promotion rolled back to churn/3 (the deploy's own guard on churn/3 was
    # judged too: it holds), and the client saw only churn/4's own failures
    client.finish()
    guard = the_guard(store, 4)
    assert guard.status == "rolled_back" and f"{ACCURACY} broke (0)" in guard.reason
    assert serving(store) == 3 and health_version(url) == 3
    assert [m["version"] for m in inbox.messages] == [4]
    assert client.answered_by(4, status=500)  # churn/4 failed its out-of-range rows
    assert_no_failed_hand_over(client, broken=4)


def test_a_broken_promotion_hands_back_without_a_failed_connection(versions, served, inbox):
    store, dep = versions, served
    client = PredictClient(dep.url, bad_every=10, pause=0.002)
    client.start()
    wait_for(lambda: len(client.answered_by(1)) >= 20, "answers from churn/1")

    # When: churn/4, which raises on out-of-range rows, is promoted with an error-rate guard
    mlops_cli("promote", "churn", "--version", "4", "--deploy", "--guard", ERRORS,
              "--for", "10m", "--notify", f"command:{inbox.command}")  # fmt: skip
    guard = the_guard(store, 4)
    wait_rows(store, 4, guard.started_at - 1)
    judge(store, time.time())
    assert the_guard(store, 4).status == "rolled_back"
    wait_for(lambda: health_version(dep.url) == 1, "the rollback hand-over")
    after = len(client.answers)
    wait_for(lambda: len(client.answers) >= after + 50, "answers after the rollback")
    client.finish()

    # Then: through both hand-overs every request got an HTTP answer; the only failures are
    # churn/4's own 500s on its bad rows, and after the rollback churn/1 answers everything
    assert client.answered_by(4, status=500)
    assert_no_failed_hand_over(client, broken=4)
    tail = client.answers[after + 10 :]
    assert {a.version for a in tail} == {"1"} and {a.status for a in tail} == {200}
    assert [m["rolled_back_to"] for m in inbox.messages] == [1]
