"""A guarded ``promote_challenger`` step ends when its guard does, on real model servers with
injected time: ``finished`` when the guard held for its period, ``failed`` (the alias rolled
back) when it broke, so the execution's run and ``mlops automation history`` say whether the
promotion held.
"""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest
from churn_data import churn_frame
from click.testing import CliRunner
from prediction_client import (
    PredictClient,
    free_port,
    pickle_by_value,
    raise_on_bad_charges,
    wait_for,
)

import kernel_magics as mlops
from kernel_magics.cli import cli
from kernel_magics.core.automations.api import add_automation, automation_history, run_automation
from kernel_magics.core.registry import parse_ref
from kernel_magics.core.scheduler.clock import ManualClock

pytestmark = pytest.mark.slow

GUARD = "errors.rate < 0.01"


class Execution(threading.Thread):
    """``run_automation`` on another thread, so the test can move the clock meanwhile."""

    def __init__(self, name: str, store, clock):
        super().__init__(daemon=True)
        self.args_ = (name, store, clock)
        self.result = None

    def run(self) -> None:
        name, store, clock = self.args_
        self.result = run_automation(name, store=store, clock=clock)


def _steps(version: int) -> list[dict]:
    return [
        {"deploy_challenger": {"model": f"churn/{version}", "mode": "canary", "share": 0.5,
                               "allow_pickle": True}},
        {"promote_challenger": {"guards": [GUARD], "for": "10m"}},
    ]  # fmt: skip


def _children(store, parent_id):
    page = store.search_runs(parent_run_ids=[parent_id])
    return sorted((store.runs.get(i) for i in page.run_ids), key=lambda r: r.name)


@pytest.fixture
def served(store, monkeypatch):
    """churn/1 in production on a real port; churn/2 good; churn/3 raises on some inputs."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    monkeypatch.setenv("MLOPS_MONITORING_BUCKET_S", "1")  # the server writes a bucket a second
    pickle_by_value()  # the server cannot import the broken version's first step
    frame, target = churn_frame(400, 0)
    for seed in (0, 1):
        model = LogisticRegression(max_iter=500).fit(frame.iloc[seed:], target.iloc[seed:])
        mlops.log_model(model, "churn", input_example=frame.head(20),
                        alias="production" if seed == 0 else None)  # fmt: skip
    broken = make_pipeline(FunctionTransformer(raise_on_bad_charges),
                           LogisticRegression(max_iter=500)).fit(frame, target)  # fmt: skip
    mlops.log_model(broken, "churn", input_example=frame.head(20), format="cloudpickle",
                    allow_pickle=True)  # fmt: skip
    # The champion needs no pickle: promoting the pickled churn/3 carries its own opt-in over.
    dep = mlops.deploy("churn@production", port=free_port())
    client = PredictClient(dep.url, bad_every=10, seed=3)
    client.start()
    yield dep, client
    client.finish()
    from kernel_magics.core.serving.deployments import get_backend, list_deployments

    backend = get_backend()
    for live in list_deployments(store=store):
        backend.stop(live, reason="end of test")


def test_a_guarded_promotion_step_ends_with_its_guard(store, served):
    dep, client = served
    # The guards judge the servers' monitoring, stamped with the time of day: the injected
    # clock follows it until the last jump past a guard period.
    clock = ManualClock(time.time())
    add_automation({"name": "ship-3", "trigger": "manual", "steps": _steps(3)}, store=store)
    add_automation({"name": "ship-2", "trigger": "manual", "steps": _steps(2)}, store=store)

    # When: churn/3, which raises on some inputs, is promoted with a guard
    run = Execution("ship-3", store, clock)
    run.start()
    deadline = time.monotonic() + 120
    while run.is_alive() and time.monotonic() < deadline:
        clock.set(time.time())
        run.join(timeout=0.2)
    run.join(timeout=60)

    # Then: the guard broke, the alias rolled back, and the step and the execution failed
    assert run.result is not None and run.result.status == "failed", run.result
    [event] = automation_history("ship-3", store=store)
    assert event["status"] == "failed"
    assert event["error"].startswith(
        f"Step 2 (promote_challenger) failed: rolled back to churn/1, guard {GUARD} broke ("
    ), event["error"]
    assert event["error"].endswith("(churn@production -> churn/3)")
    parent = store.runs.get(event["run_id"])
    assert parent.status == "failed"
    promoted = _children(store, parent.id)[1]
    assert (promoted.name, promoted.status) == ("2. promote_challenger", "failed")
    assert store.challengers.guards()[0].status == "rolled_back"
    assert store.models.get_version(parse_ref("churn@production")).version == 1
    wait_for(lambda: httpx.get(f"{dep.url}/health").json()["version"] == 1, "the rollback")
    # the client saw the broken version fail on its bad rows, and only while it served
    assert client.failures and set(client.failures) == {500}
    failed_before = len(client.failures)

    # When: churn/2 is promoted with a guard, and the guard's 10 minutes pass
    clock.set(time.time())
    run = Execution("ship-2", store, clock)
    run.start()
    wait_for(lambda: store.challengers.guards(watching_only=True), "the promotion's guard")
    time.sleep(1.0)
    assert run.is_alive()  # the step waits for the verdict: the execution is not over yet
    [event] = automation_history("ship-2", store=store)
    assert event["status"] == "running"
    clock.advance(601)
    run.join(timeout=60)

    # Then: the step, the execution and the history say the promotion held
    assert run.result is not None and run.result.status == "finished", run.result
    [event] = automation_history("ship-2", store=store)
    assert event["status"] == "finished"
    parent = store.runs.get(event["run_id"])
    assert parent.status == "finished"
    promoted = _children(store, parent.id)[1]
    assert (promoted.name, promoted.status) == ("2. promote_challenger", "finished")
    assert promoted.tags["mlops.automation.result"] == (
        f"churn@production -> churn/2; guard {GUARD} held for 600 s"
    )
    assert store.challengers.guards()[0].status == "passed"
    assert store.models.get_version(parse_ref("churn@production")).version == 2
    assert len(client.failures) == failed_before  # nothing failed through that promotion

    # And: `mlops automation history` shows both endings
    wide = {"COLUMNS": "200"}
    out = CliRunner().invoke(cli, ["automation", "history", "ship-3"], env=wide)
    assert out.exit_code == 0, out.output
    assert "failed" in out.output and "promote_challenger" in out.output
    assert "rolled back to churn/1" in out.output
    out = CliRunner().invoke(cli, ["automation", "history", "ship-2"], env=wide)
    assert out.exit_code == 0 and "finished" in out.output
    # and `mlops runs` lists each execution's parent with how it ended
    out = CliRunner().invoke(cli, ["runs", "ls", "--json"])
    assert out.exit_code == 0, out.output
    ended = {r["name"]: r["status"] for r in json.loads(out.output)}
    assert ended["automation ship-3"] == "failed" and ended["automation ship-2"] == "finished"
