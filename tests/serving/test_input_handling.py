"""What a client sees when it sends hostile or MLflow-shaped input (issue 13, the model server).

In-process tests go through Starlette's TestClient (real routing, scorer and model); the tests
marked slow start real uvicorn servers with ``mlops.deploy``.
"""

from __future__ import annotations

import json
import threading
import time

import httpx
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import select
from starlette.testclient import TestClient

import kernel_magics as mlops
from kernel_magics.cli import cli
from kernel_magics.core.registry import load_model_version
from kernel_magics.core.serving.app import create_app
from kernel_magics.core.serving.auth import token_digest
from kernel_magics.core.serving.payloads import MAX_MESSAGE
from kernel_magics.core.serving.server import build_state
from kernel_magics.core.store.schema import prediction_log
from kernel_magics.errors import ValidationError

ROW = {"tenure": 2, "charges": 80.0, "support_calls": 7}
TOKEN = "tok-" + "x" * 28


@pytest.fixture
def serve(store, churn_versions):
    """Build an in-process server of churn@production with the given options."""
    states = []

    def make(**options):
        loaded = load_model_version("churn@production")
        dep_id = store.deployments.create(loaded.version.id, "production", "::1", 1)
        options = {"sample_rate": 1.0, "max_body": 10 * 1024 * 1024, **options}
        state = build_state(loaded, deployment_id=dep_id, store=store, **options)
        states.append(state)
        client = TestClient(create_app(state))
        client.mlops_state = state
        return client

    yield make
    for state in states:
        state.predlog.close()


def logged_errors(store, state) -> list[str]:
    state.predlog.flush()
    with store.db.read() as conn:
        return list(conn.execute(select(prediction_log.c.error)).scalars())


def model_errors(client) -> list[str]:
    """The ``mlops_request_errors_total`` series of failed predictions (5xx)."""
    text = client.get("/metrics").text
    return [line for line in text.splitlines() if 'status="5' in line]


def test_unknown_keys_and_columns_are_clipped_in_the_answer_and_the_log(serve, store):
    client = serve()
    huge = "k" * 1_000_000
    resp = client.post("/invocations", json={"dataframe_records": [ROW], huge: 1})
    assert resp.status_code == 400
    assert len(resp.content) < 1000, len(resp.content)
    assert "unexpected: 'kkkkkkkk" in resp.json()["message"] and huge not in resp.text

    hostile = '\x1b[31m"<script>' + "z" * 100
    resp = client.post("/predict", json=[{**ROW, hostile: 1}])
    assert resp.status_code == 422 and "Unknown column '\\x1b[31m" in resp.json()["message"]
    assert "\x1b" not in resp.json()["message"] and "z" * 50 not in resp.text

    many = {f"extra{i}": 1 for i in range(10_000)}
    resp = client.post("/invocations", json={"dataframe_records": [ROW], **many})
    assert resp.status_code == 400 and "and 9995 more" in resp.json()["message"]
    assert len(resp.content) < 1000

    errors = logged_errors(store, client.mlops_state)
    assert len(errors) == 3 and max(map(len, errors)) <= MAX_MESSAGE


def test_the_prediction_log_caps_any_error_it_is_handed(serve, store):
    state = serve().mlops_state
    state.predlog.record(1.0, 500, error="e" * 5_000_000)  # a caller that did not cap it
    assert [len(e) for e in logged_errors(store, state)] == [MAX_MESSAGE]


@pytest.mark.parametrize("depth", [1100, 5000, 100_000])
def test_deeply_nested_json_is_a_client_error_not_a_model_error(serve, depth):
    client = serve()
    for route in ("/invocations", "/predict"):
        body = b'{"inputs": ' + b"[" * depth + b"]" * depth + b"}"
        resp = client.post(route, content=body, headers={"content-type": "application/json"})
        assert resp.status_code == 400, resp.text
        assert "nests arrays or objects too deeply" in resp.json()["message"]
    assert model_errors(client) == []


def test_out_of_range_integers_are_refused_the_same_on_the_numpy_and_pandas_paths(serve):
    client = serve()
    for value in (2**63, -(2**63) - 1, 2**64, 10**400, 1e19, 2.0**53):
        messages = set()
        for rows in (1, 256, 257, 1000):  # 256 rows: numpy array; more: a DataFrame
            resp = client.post("/predict", json=[{**ROW, "tenure": value}] * rows)
            assert resp.status_code == 422, (value, rows, resp.text)
            messages.add(resp.json()["message"])
        (message,) = messages  # the same answer whichever path the batch takes
        assert message.startswith("Column 'tenure'") and "row 0" in message
        assert "-9223372036854775808 and 9223372036854775807" in message
    resp = client.post("/predict", json=[{**ROW, "charges": 10**400}] * 300)
    assert resp.status_code == 422 and "'charges' is out of range for double" in resp.text
    for rows in (1, 257):  # the largest int64 is a valid long on both paths
        resp = client.post("/predict", json=[{**ROW, "tenure": 2**63 - 1}] * rows)
        assert resp.status_code == 200 and len(resp.json()["predictions"]) == rows
    assert model_errors(client) == []


def test_narrow_column_and_tensor_types_are_range_checked(store):
    frame = pd.DataFrame({"a": np.arange(40, dtype="int32"), "b": np.ones(40, dtype="float32")})

    from sklearn.linear_model import LinearRegression

    mlops.log_model(LinearRegression().fit(frame, frame["a"]), "narrow", input_example=frame)
    state = build_state(load_model_version("narrow"))
    with TestClient(create_app(state)) as client:
        assert client.post("/predict", json=[{"a": 2**31 - 1, "b": 1.0}]).status_code == 200
        resp = client.post("/predict", json=[{"a": 2**31, "b": 1.0}])
        assert resp.status_code == 422 and "out of range for integer (int32)" in resp.text
        resp = client.post("/predict", json=[{"a": 1, "b": 1e39}])
        assert resp.status_code == 422 and "out of range for float (float32)" in resp.text

    X = np.arange(12, dtype="uint8").reshape(6, 2)
    mlops.log_model(LinearRegression().fit(X, X[:, 0]), "bytes", input_example=X)
    with TestClient(create_app(build_state(load_model_version("bytes")))) as client:
        assert client.post("/invocations", json={"inputs": [[255, 0]]}).status_code == 200
        resp = client.post("/invocations", json={"inputs": [[256, 0]]})
        assert resp.status_code == 400 and "out of range for integer (uint8)" in resp.text
        resp = client.post("/invocations", json={"inputs": [[-1, 0]]})
        assert resp.status_code == 400 and "between 0 and 255" in resp.text


def test_metadata_serves_the_schema_and_the_example_only_when_the_deployment_opts_in(serve):
    meta = serve().get("/metadata").json()
    assert meta["signature"]["inputs"]["columns"][0] == {"name": "tenure", "type": "long"}
    assert "example" not in meta["signature"] and "61" not in json.dumps(meta["signature"])
    exposed = serve(expose_example=True).get("/metadata").json()
    assert len(exposed["signature"]["example"]) == 5


def test_csv_bodies_as_mlflow_accepts_them(serve):
    client = serve()
    model = client.mlops_state.scorer.model
    rows = pd.DataFrame([ROW, {**ROW, "tenure": 40, "support_calls": 0}])
    want = model.predict(rows).tolist()
    csv_body = rows.to_csv(index=False).encode()
    for route in ("/invocations", "/predict"):
        resp = client.post(route, content=csv_body, headers={"content-type": "text/csv"})
        assert resp.status_code == 200 and resp.json() == {"predictions": want}
    shuffled = rows[["support_calls", "charges", "tenure"]].to_csv(index=False).encode()
    resp = client.post(
        "/invocations", content=shuffled, headers={"content-type": "text/csv; charset=utf-8"}
    )
    assert resp.json() == {"predictions": want}

    bad = b"tenure,charges,support_calls\nabc,1.0,2\n"
    resp = client.post("/invocations", content=bad, headers={"content-type": "text/csv"})
    assert resp.status_code == 400
    assert resp.json() == {
        "error_code": "INVALID_PARAMETER_VALUE",
        "message": "Column 'tenure' expects an integer (long) but got a string that is not one "
        "at row 0.",
    }
    for body, fragment in [
        (b"tenure,charges,support_calls\n", "at least one data row"),
        (b"tenure,charges,support_calls,x\n1,2,3,4\n", "Unknown column 'x'"),
        (b"tenure,charges\n1,2\n", "Missing column 'support_calls'"),
        (b"tenure,charges,support_calls\n1,,3\n", "'charges' expects a number"),
    ]:
        resp = client.post("/invocations", content=body, headers={"content-type": "text/csv"})
        assert resp.status_code == 400 and fragment in resp.json()["message"], resp.text


class ThresholdModel:
    """Accepts MLflow inference params: predicts 1 where the first column exceeds a threshold."""

    def predict(self, X, params=None):
        threshold = (params or {}).get("threshold", 0.0)
        return (np.asarray(X, dtype=float)[:, 0] > threshold).astype(int)


def test_inference_params_reach_a_model_that_takes_them(store):
    name = f"{ThresholdModel.__module__}.ThresholdModel"
    mlops.log_model(ThresholdModel(), "thresh", input_example=np.ones((3, 2)), trusted=[name])
    with TestClient(create_app(build_state(load_model_version("thresh")))) as client:
        rows = [[1.0, 0.0], [5.0, 0.0]]
        resp = client.post("/invocations", json={"inputs": rows})
        assert resp.json() == {"predictions": [1, 1]}
        resp = client.post("/invocations", json={"inputs": rows, "params": {"threshold": 2}})
        assert resp.json() == {"predictions": [0, 1]}
        assert client.get("/metadata").json()["accepts_params"] is True


def test_lenient_deployments_drop_unknown_columns_and_convert_numeric_strings(serve):
    strict, lenient = serve(), serve(lenient=True)
    want = strict.mlops_state.scorer.model.predict(pd.DataFrame([ROW])).tolist()
    sloppy = {"tenure": "2", "charges": "80.0", "support_calls": 7, "customer_id": "c-1"}
    split = {"columns": [*ROW, "customer_id"], "data": [["2", 80, "7", "c-1"]]}
    for payload in (
        {"dataframe_records": [sloppy]},
        {"dataframe_split": split},
        {"inputs": {k: [v] for k, v in sloppy.items()}},
    ):
        assert strict.post("/invocations", json=payload).status_code == 400
        resp = lenient.post("/invocations", json=payload)
        assert resp.status_code == 200 and resp.json() == {"predictions": want}, resp.text
    resp = strict.post("/predict", json=[sloppy])
    assert "deploy with --lenient to drop unknown columns" in resp.json()["message"]
    resp = lenient.post("/predict", json=[{**ROW, "tenure": "two"}])
    assert resp.status_code == 422 and "got a string that is not one" in resp.text
    resp = lenient.post("/predict", json=[{**ROW, "tenure": str(2**64)}])
    assert resp.status_code == 422 and "out of range" in resp.text
    assert lenient.get("/metadata").json()["lenient"] is True


def test_a_token_guards_every_route_but_health(serve, store):
    client = serve(token_digest=token_digest(TOKEN))
    good = {"authorization": f"Bearer {TOKEN}"}
    assert client.get("/health").status_code == 200
    for method, path in [
        ("POST", "/predict"),
        ("POST", "/invocations"),
        ("GET", "/metadata"),
        ("GET", "/metrics"),
        ("GET", "/docs"),
        ("GET", "/openapi.json"),
    ]:
        for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": TOKEN}):
            resp = client.request(method, path, json=[ROW], headers=headers)
            assert resp.status_code == 401, (path, headers)
            assert resp.json()["error_code"] == "UNAUTHENTICATED"
            assert resp.headers["www-authenticate"] == "Bearer"
    assert client.post("/predict", json=[ROW], headers=good).status_code == 200
    assert client.get("/metadata", headers=good).status_code == 200
    metrics = client.get("/metrics", headers=good).text
    assert 'mlops_requests_total{route="predict",status="401"} 3.0' in metrics
    errors = logged_errors(store, client.mlops_state)
    assert errors == [None]  # the successful request only: a caller without a token writes nothing


def test_binding_beyond_loopback_needs_a_token(store, churn_versions, monkeypatch):
    from kernel_magics.core.serving.worker import serve as serve_foreground

    with pytest.raises(ValidationError, match="pass --token") as info:
        mlops.deploy("churn@production", host="0.0.0.0")
    assert "MLOPS_SERVE_TOKEN" in str(info.value) and "token=" in str(info.value)
    with pytest.raises(ValidationError, match="pass --token"):
        serve_foreground("churn@production", host="0.0.0.0", port=1)
    for command in ("serve", "deploy"):  # `mlops` prints the error's message (cli.main)
        out = CliRunner().invoke(cli, [command, "churn@production", "--host", "0.0.0.0"])
        assert isinstance(out.exception, ValidationError) and "pass --token" in str(out.exception)
        out = CliRunner().invoke(cli, [command, "churn@production", "--token", "short"])
        assert "at least 16" in str(out.exception)
    with pytest.raises(ValidationError, match="at least 16"):
        mlops.deploy("churn@production", host="0.0.0.0", token="short")
    monkeypatch.setenv("MLOPS_SERVE_TOKEN", "short")
    with pytest.raises(ValidationError, match="at least 16"):
        mlops.deploy("churn@production", host="0.0.0.0")
    assert mlops.list_deployments(all=True) == []  # refused before anything was recorded


@pytest.mark.slow
def test_a_real_server_stays_responsive_and_guarded(store, churn_versions, monkeypatch):
    import socket

    monkeypatch.setenv("MLOPS_SERVE_TOKEN", TOKEN)  # the env var is the token
    # An explicit free port: under xdist another test's loopback server can hold the default
    # port; a 0.0.0.0 bind beside it still succeeds and 127.0.0.1 then reaches the other server
    # (a known weakness of the default port choice, in the closing note)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dep = mlops.deploy("churn@production", host="0.0.0.0", port=port)
    url = f"http://127.0.0.1:{dep.port}"
    auth = {"authorization": f"Bearer {TOKEN}"}
    assert httpx.get(f"{url}/health").status_code == 200
    assert httpx.post(f"{url}/predict", json=[ROW]).status_code == 401
    assert httpx.post(f"{url}/predict", json=[ROW], headers=auth).status_code == 200

    resp = httpx.post(
        f"{url}/invocations", json={"dataframe_records": [ROW], "k" * 5_000_000: 1}, headers=auth
    )
    assert resp.status_code == 400 and len(resp.content) < 1000

    big = json.dumps([ROW] * 160_000).encode()  # about 8 MB
    assert len(big) > 7_500_000
    done: dict[str, float] = {}

    def post_big() -> None:
        start = time.perf_counter()
        answer = httpx.post(
            f"{url}/predict",
            content=big,
            headers={**auth, "content-type": "application/json"},
            timeout=60,
        )
        done["status"], done["seconds"] = answer.status_code, time.perf_counter() - start

    thread = threading.Thread(target=post_big)
    thread.start()
    waits = []
    while thread.is_alive():
        start = time.perf_counter()
        httpx.get(f"{url}/health", timeout=10)
        waits.append(time.perf_counter() - start)
        time.sleep(0.01)
    thread.join()
    assert done["status"] == 200
    # Parsed and validated on the event loop, the body held /health for most of the request;
    # off the loop, /health keeps answering throughout (the bound scales with machine load).
    assert len(waits) >= 5 and max(waits) < 0.3 * done["seconds"], (waits, done)

    # a rollback's replacement server keeps the token the deployment was made with
    monkeypatch.delenv("MLOPS_SERVE_TOKEN")
    mlops.promote("churn", 2, to="production", deploy=True)
    (current,) = mlops.list_deployments()
    assert current.version == 2 and current.id != dep.id
    assert httpx.post(f"{url}/predict", json=[ROW]).status_code == 401
    assert httpx.post(f"{url}/predict", json=[ROW], headers=auth).status_code == 200
