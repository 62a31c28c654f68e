"""Real model servers (uvicorn processes): deploy, predict over HTTP, promote and roll back
while clients keep sending requests, stop, refuse unloadable models, foreground ``mlops serve``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from click.testing import CliRunner
from prediction_client import PredictClient, free_port
from sqlalchemy import func, select

import kernel_magics as mlops
from kernel_magics.cli import cli
from kernel_magics.core.store.liveness import pid_alive
from kernel_magics.core.store.schema import prediction_log
from kernel_magics.errors import DeploymentError

pytestmark = pytest.mark.slow

ROW = {"tenure": 2, "charges": 80.0, "support_calls": 7}


def test_deploy_promote_rollback_without_failed_requests(store, churn_versions):
    dep = mlops.deploy("churn@production", sample_rate=1.0)
    assert dep.status == "running" and dep.version == 1 and pid_alive(dep.pid)
    assert mlops.deploy("churn@production").id == dep.id  # already serving that version

    resp = httpx.post(f"{dep.url}/predict", json=[ROW])
    assert resp.status_code == 200
    v1 = mlops.load_model("churn/1").predict(churn_versions.head(5)).tolist()
    resp = httpx.post(
        f"{dep.url}/invocations",
        json={"dataframe_records": churn_versions.head(5).to_dict("records")},
    )
    assert resp.json() == {"predictions": v1}

    clients = [PredictClient(dep.url, pause=0), PredictClient(dep.url, keep_alive=False, pause=0)]
    for client in clients:
        client.start()
    time.sleep(0.5)
    promoted = mlops.promote("churn", 2, to="production", deploy=True)
    assert promoted.passed and promoted.deployments[0]["version"] == 2
    assert httpx.get(f"{dep.url}/health").json()["version"] == 2
    time.sleep(0.5)
    rolled = mlops.rollback("churn")
    time.sleep(0.5)
    for client in clients:
        client.finish()
    assert (rolled.move.from_version, rolled.move.to_version) == (2, 1)
    for client in clients:
        assert client.failures == [] and client.ok > 10, (client.keep_alive, client.failures)

    health = httpx.get(f"{dep.url}/health").json()
    (current,) = rolled.deployments
    assert (health["version"], health["deployment_id"]) == (1, current.id)
    history = {d.id: d for d in mlops.list_deployments(all=True)}
    assert [history[i].status for i in sorted(history)] == ["stopped", "stopped", "running"]
    assert not pid_alive(dep.pid)

    with store.db.read() as conn:
        logged = dict(
            conn.execute(
                select(prediction_log.c.deployment_id, func.count()).group_by(
                    prediction_log.c.deployment_id
                )
            ).all()
        )
    assert logged.get(dep.id, 0) > 0 and logged.get(promoted.deployments[0]["id"], 0) > 0

    runner = CliRunner()
    out = runner.invoke(cli, ["deployments", "ls", "--json", "--health"])
    assert out.exit_code == 0 and '"status": "ok"' in out.output
    out = runner.invoke(cli, ["deployments", "ls", "--json"])
    assert out.exit_code == 0 and '"version": 1' in out.output and str(current.port) in out.output
    out = runner.invoke(cli, ["deployments", "show", str(dep.id)])
    assert out.exit_code == 0 and "replaced by deployment" in out.output
    out = runner.invoke(cli, ["deployments", "logs", str(current.id), "--tail", "5"])
    assert out.exit_code == 0 and "Serving churn/1" in out.output

    out = runner.invoke(cli, ["deployments", "stop", "churn@production"])
    assert out.exit_code == 0 and "is stopped" in out.output
    assert not pid_alive(current.pid)
    assert mlops.list_deployments() == []
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{dep.url}/health", timeout=2)


def test_server_refuses_models_that_cannot_load(store, churn_versions):
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit(churn_versions, churn_versions["tenure"] > 30)
    mlops.log_model(
        model, "pickled", input_example=churn_versions, format="pickle", allow_pickle=True
    )
    with pytest.raises(DeploymentError, match="arbitrary code") as info:
        mlops.deploy("pickled/1")
    assert "Traceback" not in str(info.value)
    (failed,) = mlops.list_deployments(all=True)
    assert failed.status == "failed"

    version = mlops.get_model_version("churn/2")
    path = store.blobs.local_path(version.blob_hash)
    path.chmod(0o644)
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    mlops_bin = os.path.join(os.path.dirname(sys.executable), "mlops")
    proc = subprocess.run(
        [mlops_bin, "serve", "churn/2", "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "does not match its hash" in proc.stderr and "Traceback" not in proc.stderr


def test_port_conflicts_are_reported(store, churn_versions):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(DeploymentError, match=f"Port {port} on 127.0.0.1 is in use"):
            mlops.deploy("churn@production", port=port)
    assert mlops.list_deployments(all=True) == []


def test_foreground_serve_until_interrupted(store, churn_versions):
    port = free_port()
    mlops_bin = os.path.join(os.path.dirname(sys.executable), "mlops")
    proc = subprocess.Popen(
        [mlops_bin, "serve", "churn@production", "--port", str(port), "--sample-rate", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        resp = httpx.post(f"http://127.0.0.1:{port}/predict", json=[ROW])
        assert resp.status_code == 200
        (running,) = mlops.list_deployments()
        assert running.pid == proc.pid and running.status == "running"
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert f"Serving churn@production at http://127.0.0.1:{port}" in out
    (stopped,) = mlops.list_deployments(all=True)
    assert stopped.status == "stopped"


class BrokenModel:
    """Predicts at log time, then fails once its ``broken`` flag is stored as True."""

    def __init__(self, broken: bool = False):
        self.broken = broken

    def predict(self, X):
        if self.broken:
            raise RuntimeError("weights missing")
        return [0] * len(X)


def test_a_model_failing_on_its_own_example_is_not_served(store, churn_versions):
    import json

    import skops.io as sio

    from kernel_magics.core.registry import registry
    from kernel_magics.core.registry.formats import TRUSTED_TAG
    from kernel_magics.core.serving.worker import serve

    name = f"{BrokenModel.__module__}.BrokenModel"
    good = mlops.log_model(BrokenModel(), "broken", input_example=churn_versions, trusted=[name])
    ref = store.blobs.put_bytes(sio.dumps(BrokenModel(broken=True)))
    registry(store).create_version(
        "broken",
        ref,
        flavor="python",
        format="skops",
        signature=good.signature,
        profile=None,
        run_id=None,
        tags={TRUSTED_TAG: json.dumps([name])},
    )
    with pytest.raises(DeploymentError, match="fails to predict on its own input example"):
        serve("broken/2", port=free_port())
    (failed,) = mlops.list_deployments(all=True)
    assert failed.status == "failed" and failed.version == 2


def test_cli_deploy_rollback_and_stop(store, churn_versions):
    import json

    runner = CliRunner()
    mlops.set_alias("churn", "production", 2)
    out = runner.invoke(cli, ["rollback", "churn", "--json"])  # nothing deployed: alias only
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["move"]["to_version"] == 1

    port = free_port()
    out = runner.invoke(
        cli,
        [
            "deploy",
            "churn@production",
            "--port",
            str(port),
            "--sample-rate",
            "0",
            "--max-body-mb",
            "1",
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    record = json.loads(out.output)
    assert record["port"] == port and record["status"] == "running"
    big = [ROW] * 30_000  # ~1.4 MB: over the 1 MiB limit given above
    assert httpx.post(f"{record['url']}/predict", json=big).status_code == 413
    out = runner.invoke(cli, ["rollback", "churn", "--to-version", "2"])
    assert out.exit_code == 0 and "serves v2" in out.output
    assert httpx.get(f"{record['url']}/health").json()["version"] == 2
    out = runner.invoke(cli, ["deployments", "stop", "churn"])
    assert out.exit_code == 0 and "is stopped" in out.output


def test_a_server_stops_itself_once_its_deployment_is_stopped_elsewhere(store, churn_versions):
    dep = mlops.deploy("churn/1", port=free_port())
    # what `mlops deployments stop` on another machine records (it cannot signal the process)
    store.deployments.update(dep.id, "stopped", "from another host", status="stopped")
    deadline = time.monotonic() + 30
    while pid_alive(dep.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not pid_alive(dep.pid)
    events = [e["event"] for e in store.deployments.events(dep.id)]
    assert events[-1] == "stopped" and "exited" not in events  # no resurrection of the row
