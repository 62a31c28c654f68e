"""Challenger deployments on real model servers (uvicorn processes on free ports): shadow
answers with the champion and records both, canary splits by request id (sticky), a broken
challenger trips its guard and is rolled back while a client keeps sending requests, and the
readiness check tells two stores' servers on one port apart (the /health nonce). Guards on
full promotions: the scheduler's tick judges the served version's monitoring and rolls the
alias back.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from click.testing import CliRunner
from prediction_client import (
    BAD_CHARGES,
    PredictClient,
    churn_row,
    free_port,
    pickle_by_value,
    raise_on_bad_charges,
    wait_for,
)

import kernel_magics as mlops
from kernel_magics.cli import cli
from kernel_magics.core.registry import parse_ref
from kernel_magics.core.scheduler.daemon import Scheduler
from kernel_magics.core.serving.challengers import (
    challenger_status,
    deploy_challenger,
    promote_challenger,
)
from kernel_magics.errors import (
    ConflictError,
    DeploymentError,
    DeploymentNotFoundError,
    InvalidGuardError,
)

pytestmark = pytest.mark.slow


def rows_for(i: int) -> list[dict]:
    """The request rows of request ``i``, the same on every run (the canary split is sticky)."""
    return [churn_row(np.random.default_rng(i))]


def test_shadow_answers_with_the_champion_and_records_both(store, churn_versions):
    dep = mlops.deploy("churn@production", port=free_port())
    record = deploy_challenger("churn@production", "churn/2", mode="shadow")
    assert (record.status, record.mode, record.challenger_version) == ("running", "shadow", 2)
    health = httpx.get(f"{dep.url}/health").json()
    assert health["version"] == 1 and health["challenger"]["version"] == 2

    frame = churn_versions.sample(80, random_state=1)
    champion = mlops.load_model("churn/1").predict(frame).tolist()
    challenger = mlops.load_model("churn/2").predict(frame).tolist()
    with httpx.Client(timeout=10) as client:
        for i, record_row in enumerate(frame.to_dict("records")):
            resp = client.post(f"{dep.url}/predict", json=[record_row])
            assert resp.status_code == 200
            assert resp.json()["predictions"] == [champion[i]]  # the champion answers
            assert resp.headers["x-model-version"] == "1"

    status = wait_for(
        lambda: (s := challenger_status("churn@production")).stats.compared_rows == 80 and s,
        what="the shadow comparisons to reach the store",
    )
    expected = sum(a == b for a, b in zip(champion, challenger, strict=True)) / 80
    assert status.agreement == pytest.approx(expected)
    figures = status.figures()
    assert figures["champion"]["requests"] == 80 and figures["challenger"]["requests"] == 80
    assert figures["champion"]["errors.rate"] == 0 and figures["challenger"]["errors.rate"] == 0
    assert figures["challenger"]["latency.p50_ms"] > 0

    with pytest.raises(ConflictError, match="already runs challenger"):
        deploy_challenger("churn@production", "churn/2")
    out = CliRunner().invoke(cli, ["challenger", "status", "churn@production"])
    assert out.exit_code == 0, out.output
    assert "churn/2" in out.output and f"Agreement {expected:.1%} over 80 rows" in out.output
    out = CliRunner().invoke(cli, ["challenger", "stop", "churn@production"])
    assert out.exit_code == 0 and "stopped" in out.output, out.output
    assert challenger_status("churn@production").challenger.status == "stopped"
    assert httpx.get(f"{dep.url}/health").json()["challenger"] is None


def test_canary_share_is_sticky_per_request_id_and_promotes(store, churn_versions):
    dep = mlops.deploy("churn@production", port=free_port())
    deploy_challenger("churn@production", "churn/2", mode="canary", share=0.3)
    v1, v2 = mlops.load_model("churn/1"), mlops.load_model("churn/2")
    answered: dict[str, str] = {}
    with httpx.Client(timeout=10) as client:
        for i in range(400):
            rows = rows_for(i)
            resp = client.post(f"{dep.url}/predict", json=rows, headers={"X-Request-Id": f"r{i}"})
            assert resp.status_code == 200
            version = resp.headers["x-model-version"]
            model = v2 if version == "2" else v1
            frame = churn_versions.head(0).__class__(rows)[list(churn_versions.columns)]
            assert resp.json()["predictions"] == model.predict(frame).tolist()
            answered[f"r{i}"] = version
        share = sum(v == "2" for v in answered.values()) / len(answered)
        assert 0.22 < share < 0.38  # binomial sd is 0.023 at 400 requests
        for i in range(0, 400, 8):  # the same id goes to the same version again
            resp = client.post(f"{dep.url}/predict", json=rows_for(i),
                               headers={"X-Request-Id": f"r{i}"})  # fmt: skip
            assert resp.headers["x-model-version"] == answered[f"r{i}"]

    promoted = promote_challenger("churn@production")
    assert promoted.challenger.status == "promoted"
    assert (promoted.move.from_version, promoted.move.to_version) == (1, 2)
    health = httpx.get(f"{dep.url}/health").json()
    assert health["version"] == 2 and health["challenger"] is None


def test_broken_challenger_trips_its_guard_with_zero_failed_requests(
    store, churn_versions, tmp_path
):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    pickle_by_value()  # the server cannot import the broken challenger's first step
    frame, target = churn_versions, (churn_versions["support_calls"] > 4).astype(int)
    broken = make_pipeline(
        FunctionTransformer(raise_on_bad_charges), LogisticRegression(max_iter=500)
    ).fit(frame, target)
    mlops.log_model(broken, "churn", input_example=frame, format="cloudpickle", allow_pickle=True)
    dep = mlops.deploy("churn@production", port=free_port())
    notified = tmp_path / "notified.json"

    client = PredictClient(dep.url, bad_every=10, pause=0)
    client.start()
    time.sleep(0.5)
    deploy_challenger(
        "churn@production", "churn/3", mode="canary", share=0.5, allow_pickle=True,
        guards=["errors.rate < 0.01"], guard_for="10m", notify=[f"command:tee {notified}"],
    )  # fmt: skip
    status = wait_for(
        lambda: (
            (s := challenger_status("churn@production")).challenger.status == "rolled_back" and s
        ),
        what="the guard to roll the challenger back",
    )
    time.sleep(1.0)
    client.finish()

    assert client.failures == []  # through the hand-over, the canary and the rollback
    assert "2" not in client.versions and "3" in client.versions
    assert client.versions[-20:] == ["1"] * 20  # after the rollback the champion answers all
    record = status.challenger
    assert record.guard_state == "broken" and "errors.rate < 0.01" in (record.reason or "")
    assert status.stats.challenger_errors > 0
    assert httpx.get(f"{dep.url}/health").json()["challenger"] is None
    message = Path(notified).read_text()
    assert '"challenger_rolled_back"' in message and "churn/3" in message


def test_bad_challenger_options_fail_before_any_work(store, churn_versions):
    with pytest.raises(InvalidGuardError, match="between 0 and 1"):
        deploy_challenger("churn@production", "churn/2", mode="canary", share=1.5)
    with pytest.raises(InvalidGuardError, match="mlops promote"):
        deploy_challenger("churn@production", "churn/2", guards=["accuracy >= 0.85"])
    with pytest.raises(InvalidGuardError, match="Unknown metric"):
        deploy_challenger("churn@production", "churn/2", guards=["erors.rate < 0.1"])
    with pytest.raises(DeploymentNotFoundError, match="deploy the champion"):
        deploy_challenger("churn@production", "churn/2")


def test_readiness_check_tells_two_stores_servers_apart(store, churn_versions, monkeypatch,
                                                        tmp_path):  # fmt: skip
    from sklearn.tree import DecisionTreeClassifier

    from kernel_magics.core.serving.deployments import get_backend
    from kernel_magics.core.serving.options import ServeOptions
    from kernel_magics.core.store import open_store

    port = free_port()
    first = mlops.deploy("churn@production", port=port)
    assert httpx.get(f"{first.url}/health").json()["deployment_id"] == 1

    monkeypatch.setenv("MLOPS_HOME", str(tmp_path / "other"))
    other = open_store()
    assert other is not store
    frame = churn_versions
    mlops.log_model(DecisionTreeClassifier(max_depth=2).fit(frame, frame["tenure"] < 6),
                    "other", input_example=frame)  # fmt: skip
    version = other.models.get_version(parse_ref("other/1"))
    options = ServeOptions.create("a-token-of-twenty-chars").to_dict()
    backend = get_backend(other)
    # The other store's deployment 1 on 0.0.0.0, the same port: the bind succeeds on Linux,
    # but clients of 127.0.0.1 reach the first store's server, which also says deployment 1.
    with pytest.raises(DeploymentError, match="answered by another model server"):
        backend.start(version, alias=None, host="0.0.0.0", port=port, options=options)
    assert [d.status for d in other.deployments.find()] == ["failed"]
    health = httpx.get(f"{first.url}/health").json()
    assert (health["model"], health["pid"]) == ("churn", first.pid)


def test_broken_promotion_is_rolled_back_by_the_scheduler(
    store, churn_versions, monkeypatch, tmp_path
):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    monkeypatch.setenv("MLOPS_MONITORING_BUCKET_S", "1")  # the servers write a bucket a second
    pickle_by_value()
    frame = churn_versions
    broken = make_pipeline(
        FunctionTransformer(raise_on_bad_charges), LogisticRegression(max_iter=500)
    ).fit(frame, frame["support_calls"] > 4)
    mlops.log_model(broken, "churn", input_example=frame, format="cloudpickle", allow_pickle=True)
    dep = mlops.deploy("churn@production", port=free_port(), allow_pickle=True)
    notified = tmp_path / "guard.json"
    runner = CliRunner()

    out = runner.invoke(cli, ["promote", "churn", "--version", "3", "--to", "production",
                              "--deploy", "--guard", "errors.rate < 0.01", "--for", "10m",
                              "--notify", f"command:tee {notified}"])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "Guard 1: errors.rate < 0.01 on churn@production v3" in out.output
    assert httpx.get(f"{dep.url}/health").json()["version"] == 3

    statuses = []
    with httpx.Client(timeout=10) as client:
        for i in range(150):
            row = rows_for(i)[0]
            if i % 10 == 0:
                row["charges"] = BAD_CHARGES * 2
            statuses.append(client.post(f"{dep.url}/predict", json=[row]).status_code)
    assert statuses.count(500) == 15  # the promoted version fails on those rows
    wait_for(  # the server writes each bucket once it closed
        lambda: sum(b.requests for b in store.monitoring.buckets("churn", 3)) == 150,
        what="the monitoring buckets of v3",
    )

    scheduler = Scheduler(store, alerts=True)
    try:
        scheduler.tick()
    finally:
        scheduler.close()
    (guard,) = store.challengers.guards()
    assert guard.status == "rolled_back" and "errors.rate < 0.01 broke (0.1)" in guard.reason
    assert store.models.get_version(parse_ref("churn@production")).version == 1
    assert httpx.get(f"{dep.url}/health").json()["version"] == 1
    assert '"guard_broken"' in Path(notified).read_text()

    out = runner.invoke(cli, ["guards"])
    assert out.exit_code == 0 and "rolled_back" in out.output


def test_bad_guard_options_fail_before_the_alias_moves(store, churn_versions):
    runner = CliRunner()
    out = runner.invoke(cli, ["promote", "churn", "--version", "2", "--guard", "accuracy >> 1"])
    assert out.exit_code != 0 and "METRIC OP NUMBER" in str(out.exception)
    out = runner.invoke(cli, ["promote", "churn", "--version", "2", "--guard",
                              "errors.rate < 0.01", "--for", "soon"])  # fmt: skip
    assert out.exit_code != 0 and "is not a duration" in str(out.exception)
    assert store.models.get_version(parse_ref("churn@production")).version == 1
