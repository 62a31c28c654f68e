"""The FastAPI app: payload formats, validation errors (400/413/415/422), metadata, metrics.

``/predict`` answers a body that does not match the signature with 422; ``/invocations`` (the
MLflow route) with 400, as MLflow's scoring server does.

The app runs in-process through Starlette's TestClient (real routing, real scorer, real model);
the uvicorn process around it is covered by test_deployments.py.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from kernel_magics.core.registry import load_model_version
from kernel_magics.core.serving.app import create_app
from kernel_magics.core.serving.server import build_state
from kernel_magics.core.store.schema import prediction_log

SECRET = "s3cr3t-value-never-echoed"


@pytest.fixture
def app_client(store, churn_versions):
    loaded = load_model_version("churn@production")
    dep_id = store.deployments.create(loaded.version.id, "production", "127.0.0.1", 1)
    state = build_state(
        loaded,
        deployment_id=dep_id,
        alias="production",
        store=store,
        sample_rate=1.0,
        max_body=4096,
    )
    with TestClient(create_app(state)) as client:
        client.mlops_state = state
        client.frame = churn_versions
        yield client
    state.predlog.close()


def records(frame, n=2):
    return json.loads(frame.head(n).to_json(orient="records"))


def expected(client, n=2):
    return client.mlops_state.scorer.model.predict(client.frame.head(n)).tolist()


def test_every_mlflow_payload_format_gives_the_same_predictions(app_client):
    frame, want = app_client.frame, expected(app_client)
    split = json.loads(frame.head(2).to_json(orient="split"))
    payloads = [
        {"dataframe_split": {"columns": split["columns"], "data": split["data"]}},
        {
            "dataframe_split": {
                "columns": split["columns"][::-1],
                "data": [row[::-1] for row in split["data"]],
            }
        },
        {"dataframe_records": records(frame)},
        {"instances": records(frame)},
        {"instances": split["data"]},
        {"inputs": {c: frame[c].head(2).tolist() for c in frame.columns}},
    ]
    for payload in payloads:
        resp = app_client.post("/invocations", json=payload)
        assert resp.status_code == 200, (payload, resp.text)
        assert resp.json() == {"predictions": want}
    resp = app_client.post("/predict", json=records(frame))
    assert resp.status_code == 200 and resp.json() == {"predictions": want}


def test_large_batches_go_through_a_dataframe(app_client):
    frame = app_client.frame
    resp = app_client.post("/predict", json=records(frame, 200))
    # 200 rows is over the 4096-byte limit of this fixture
    assert resp.status_code == 413
    app_client.mlops_state.max_body = 10 * 1024 * 1024
    rows = records(frame, 200) * 2  # 400 rows: more than the inline limit
    resp = app_client.post("/predict", json=rows)
    assert resp.status_code == 200
    want = app_client.mlops_state.scorer.model.predict(frame.head(200)).tolist() * 2
    assert resp.json()["predictions"] == want


@pytest.mark.parametrize(
    ("payload", "status", "fragment"),
    [
        ([{"tenure": 3, "charges": 50.0}], 422, "Missing column 'support_calls'"),
        (
            [{"tenure": 3, "charges": 50.0, "support_calls": 1, "extra": SECRET}],
            422,
            "Unknown column 'extra'",
        ),
        (
            [{"tenure": SECRET, "charges": 50.0, "support_calls": 1}],
            422,
            "Column 'tenure' expects an integer (long) but got string at row 0",
        ),
        (
            [{"tenure": 3, "charges": 50.0, "support_calls": 1.5}],
            422,
            "Column 'support_calls' expects an integer",
        ),
        (
            [{"tenure": 3, "charges": True, "support_calls": 1}],
            422,
            "Column 'charges' expects a number (double) but got boolean",
        ),
        ([{"tenure": 3, "charges": None, "support_calls": 1}], 422, "Column 'charges' is null"),
        ([{"tenure": 3, "charges": 1.0, "support_calls": 1}, [1, 2]], 422, "Record 1"),
        ({"rows": []}, 400, "non-empty list"),
        ([], 400, "non-empty list"),
    ],
)
def test_predict_validation_errors_name_the_problem(app_client, payload, status, fragment):
    resp = app_client.post("/predict", json=payload)
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert fragment in body["message"]
    assert SECRET not in resp.text and "Traceback" not in resp.text


@pytest.mark.parametrize(
    ("payload", "status", "fragment"),
    [
        (
            {"dataframe_split": {"columns": ["tenure"], "data": [[1]]}},
            400,
            "Missing columns 'charges', 'support_calls'",
        ),
        ({"dataframe_split": {"data": [[1, 2.0]]}}, 400, "Row 0 must be an array of 3 values"),
        ({"dataframe_records": [{}], "extra": {}}, 400, "unexpected: 'extra'"),
        ({"dataframe_records": [{}], "params": {"a": 1}}, 400, "takes no inference 'params'"),
        ({"dataframe_records": [{}], "params": [1]}, 400, "'params' must be an object"),
        ({"something": []}, 400, "exactly one of the keys"),
        (
            {"inputs": {"tenure": [1, 2], "charges": [1.0], "support_calls": [1, 2]}},
            400,
            "same length",
        ),
        ([1, 2, 3], 400, "JSON object"),
    ],
)
def test_invocations_validation_errors(app_client, payload, status, fragment):
    resp = app_client.post("/invocations", json=payload)
    assert resp.status_code == status, resp.text
    assert fragment in resp.json()["message"]


def test_nan_and_infinity_are_named(app_client):
    for literal in ("NaN", "Infinity", "-Infinity"):
        body = f'[{{"tenure": 3, "charges": {literal}, "support_calls": 1}}]'
        resp = app_client.post(
            "/predict", content=body, headers={"content-type": "application/json"}
        )
        assert resp.status_code == 422
        assert "Column 'charges' is NaN or infinite at row 0" in resp.json()["message"]


def test_malformed_json_wrong_content_type_and_oversized_bodies(app_client):
    resp = app_client.post(
        "/predict",
        content=b'[{"tenure": ' + SECRET.encode(),
        headers={"content-type": "application/json"},
    )
    assert resp.status_code == 400
    assert "not valid JSON" in resp.json()["message"] and SECRET not in resp.text

    resp = app_client.post(
        "/predict", content=b"\xff\xfe", headers={"content-type": "application/json"}
    )
    assert resp.status_code == 400

    resp = app_client.post(
        "/predict", content=b"tenure,charges\n1,2", headers={"content-type": "text/plain"}
    )
    assert resp.status_code == 415 and "application/json or text/csv" in resp.json()["message"]
    resp = app_client.post("/predict", content=b"[]")  # no content type at all
    assert resp.status_code == 415

    big = json.dumps([{"tenure": 1, "charges": 1.0, "support_calls": 1}] * 200)
    resp = app_client.post("/predict", content=big, headers={"content-type": "application/json"})
    assert resp.status_code == 413 and "limit is 4096 bytes" in resp.json()["message"]

    def chunks():  # no Content-Length: the limit is enforced while streaming
        for _ in range(10):
            yield b" " * 1000

    resp = app_client.post(
        "/predict", content=chunks(), headers={"content-type": "application/json"}
    )
    assert resp.status_code == 413


def test_health_metadata_metrics_and_prediction_log(app_client, store):
    assert app_client.get("/health").json()["status"] == "ok"
    meta = app_client.get("/metadata").json()
    assert (meta["model"], meta["version"], meta["alias"]) == ("churn", 1, "production")
    assert meta["signature"]["inputs"]["columns"][0] == {"name": "tenure", "type": "long"}
    assert meta["input_mode"] == "array"

    assert app_client.post("/predict", json=records(app_client.frame, 3)).status_code == 200
    assert app_client.post("/predict", json=[{"tenure": 1}]).status_code == 422
    metrics = app_client.get("/metrics").text
    assert 'mlops_requests_total{route="predict",status="200"} 1.0' in metrics
    assert 'mlops_requests_total{route="predict",status="422"} 1.0' in metrics
    assert "mlops_request_latency_seconds_bucket" in metrics
    assert "mlops_predicted_rows_total 3.0" in metrics

    app_client.mlops_state.predlog.flush()
    with store.db.read() as conn:
        rows = conn.execute(select(prediction_log).order_by(prediction_log.c.id)).mappings().all()
    ok, bad = rows
    assert ok["status_code"] == 200 and ok["model_version_id"] is not None
    assert json.loads(ok["inputs"])[0].keys() == {"tenure", "charges", "support_calls"}
    assert len(json.loads(ok["outputs"])) == 3 and ok["latency_ms"] > 0
    assert bad["status_code"] == 422 and "Missing column" in bad["error"] and bad["inputs"] is None


def test_string_columns_and_tensor_models(store):
    import pandas as pd
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    import kernel_magics as mlops

    frame = pd.DataFrame({"plan": ["basic", "pro", "team", "basic"] * 10, "tenure": range(40)})
    target = (frame["plan"] == "pro").astype(int)
    pipe = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["plan"]), remainder="passthrough"),
        LogisticRegression(),
    ).fit(frame, target)
    mlops.log_model(pipe, "plans", input_example=frame)
    X = np.random.default_rng(0).normal(size=(50, 4))
    mlops.log_model(LogisticRegression().fit(X, X[:, 0] > 0), "tensor", input_example=X)

    state = build_state(load_model_version("plans"))
    assert not state.scorer.array_mode
    with TestClient(create_app(state)) as client:
        resp = client.post("/predict", json=[{"plan": "pro", "tenure": 3}])
        assert resp.json() == {"predictions": [1]}
        resp = client.post("/predict", json=[{"plan": 3, "tenure": 3}])
        assert resp.status_code == 422 and "expects a string" in resp.json()["message"]

    state = build_state(load_model_version("tensor"))
    with TestClient(create_app(state)) as client:
        resp = client.post("/invocations", json={"inputs": [[1.0, 0, 0, 0], [-1.0, 0, 0, 0]]})
        assert resp.json() == {"predictions": [True, False]}
        resp = client.post("/invocations", json={"inputs": [[1.0, 0, 0]]})
        assert resp.status_code == 400 and "array of 4 values" in resp.json()["message"]
