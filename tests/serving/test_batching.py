"""Micro-batching: concurrent requests share one predict call; one bad request fails alone."""

from __future__ import annotations

import asyncio

import numpy as np

import kernel_magics as mlops
from kernel_magics.core.registry import load_model_version
from kernel_magics.core.serving.batching import MicroBatcher
from kernel_magics.core.serving.scoring import Scorer


class PickyModel:
    """Doubles the first column; raises on a negative one (to make a batch fail)."""

    def __init__(self):
        self.calls = 0

    def predict(self, X):
        self.calls += 1
        X = np.asarray(X, dtype=float)
        if (X[:, 0] < 0).any():
            raise ValueError("negative input")
        return X[:, 0] * 2


def _scorer(store) -> Scorer:
    name = f"{PickyModel.__module__}.PickyModel"
    mlops.log_model(PickyModel(), "picky", input_example=np.ones((3, 2)), trusted=[name])
    return Scorer(load_model_version("picky"))


async def _gather(batcher: MicroBatcher, requests: list[list[list[float]]]):
    return await asyncio.gather(*(batcher.predict(r) for r in requests), return_exceptions=True)


def test_concurrent_requests_share_one_predict(store):
    scorer = _scorer(store)
    batcher = MicroBatcher(scorer)
    calls_before = scorer.model.calls
    requests = [[[float(i), 0.0]] for i in range(10)] + [[[1.0, 0.0], [2.0, 0.0]]]
    results = asyncio.run(_gather(batcher, requests))
    assert scorer.model.calls - calls_before == 1 and batcher.batches == 1
    assert [list(r) for r in results] == [[2.0 * i] for i in range(10)] + [[2.0, 4.0]]


def test_a_failing_request_does_not_fail_its_batch(store):
    scorer = _scorer(store)
    batcher = MicroBatcher(scorer)
    results = asyncio.run(_gather(batcher, [[[1.0, 0.0]], [[-1.0, 0.0]], [[3.0, 0.0]]]))
    assert list(results[0]) == [2.0] and list(results[2]) == [6.0]
    assert isinstance(results[1], ValueError)


def test_a_model_error_is_a_500_without_traceback(store):
    from starlette.testclient import TestClient

    from kernel_magics.core.serving.app import create_app
    from kernel_magics.core.serving.server import build_state

    _scorer(store)
    with TestClient(create_app(build_state(load_model_version("picky")))) as client:
        resp = client.post("/invocations", json={"inputs": [[-1.0, 0.0]]})
        assert resp.status_code == 500
        assert resp.json()["message"] == (
            "The model failed to predict (ValueError); see the server log."
        )
        assert "negative input" not in resp.text and "Traceback" not in resp.text
        resp = client.post(
            "/invocations", json={"dataframe_split": {"columns": ["0", "0"], "data": [[1, 2]]}}
        )
        assert resp.status_code == 400 and "Missing column '1'" in resp.json()["message"]
        dup = {"dataframe_split": {"columns": ["0", "1", "1"], "data": [[1, 2, 2]]}}
        assert "Duplicate column names" in client.post("/invocations", json=dup).json()["message"]
        assert client.post("/invocations", json={"inputs": [[2.0, 0.0]]}).json() == {
            "predictions": [4.0]
        }
