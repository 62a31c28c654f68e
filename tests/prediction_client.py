"""A client that keeps calling a real model server's ``/predict``, for the hand-over tests.

Deploys, rollbacks, canaries and guards all promise that clients see no failed request through
the switch; the serving and automation tests check it the same way: this thread sends churn
rows until told to stop and keeps every HTTP answer (status, the version that answered, the
request id, the predictions) and every request that got no HTTP answer at all.

``raise_on_bad_charges`` is the first step of the "broken" model versions those tests register:
it raises on rows with charges above :data:`BAD_CHARGES`, which the client sends every
``bad_every``-th request. The model servers cannot import this module, so the pipelines are
pickled by value (:func:`pickle_by_value`).
"""

from __future__ import annotations

import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass

import httpx
import numpy as np

BAD_CHARGES = 500.0  # the broken versions raise on rows with charges above this


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check, what: str = "condition", timeout: float = 90.0):
    """Poll ``check`` until it returns something true and return that (servers write on their
    own threads and processes); fail naming ``what`` after ``timeout`` seconds, which are
    generous because a loaded machine starts servers slowly and only a failing test waits."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"Waited {timeout:g} s for {what}")
        time.sleep(0.1)
    return value


def raise_on_bad_charges(frame):
    """A broken version's first step: it fails on rows it never saw in training."""
    values = np.asarray(frame, dtype=float)
    if (values[:, 1] > BAD_CHARGES).any():
        raise ValueError("charges out of range")
    return values


def pickle_by_value() -> None:
    """Make cloudpickle carry this module's functions inside the models that use them."""
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])


def churn_row(rng: np.random.Generator, shift: float = 0.0) -> dict:
    """One request row of the churn model's inputs; ``shift`` moves it away from training."""
    return {"tenure": int(rng.integers(0, 72)) + int(shift),
            "charges": float(rng.normal(70, 20)) + shift * 3,
            "support_calls": int(rng.integers(0, 10))}  # fmt: skip


@dataclass(frozen=True)
class Answer:
    """One HTTP answer to a /predict request."""

    row: dict  # the first row sent
    status: int
    version: str  # X-Model-Version, "" when the answer had none
    request_id: str
    predictions: list | None  # None unless the status is 200


class PredictClient(threading.Thread):
    """Sends /predict requests until :meth:`finish`; keeps every answer and failure.

    ``rows`` rows a request (the same row repeated), every ``bad_every``-th request with
    out-of-range charges, ``shift`` added to the features (for drift), a fresh connection per
    request unless ``keep_alive``, ``pause`` seconds between requests. Each request carries an
    ``X-Request-Id`` of its own, unique across clients (a canary splits by it, and labels sent to
    ``/feedback`` join the predictions by it).
    """

    def __init__(self, url: str, *, bad_every: int = 0, rows: int = 1, shift: float = 0.0,
                 keep_alive: bool = True, pause: float = 0.005, seed: int = 7):  # fmt: skip
        super().__init__(daemon=True)
        self.url, self.bad_every, self.rows, self.shift = url, bad_every, rows, shift
        self.keep_alive, self.pause, self.seed = keep_alive, pause, seed
        self._ids = f"client-{uuid.uuid4().hex[:8]}"
        self.answers: list[Answer] = []
        self.errors: list[str] = []  # requests with no HTTP answer: refused or reset
        self._stop_sending = threading.Event()

    def __enter__(self) -> PredictClient:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.finish()

    def run(self) -> None:
        rng = np.random.default_rng(self.seed)
        client = httpx.Client(timeout=30) if self.keep_alive else None
        try:
            i = 0
            while not self._stop_sending.is_set():
                i += 1
                row = churn_row(rng, self.shift)
                if self.bad_every and i % self.bad_every == 0:
                    row["charges"] = BAD_CHARGES * 2
                self._send(client, row, f"{self._ids}-{i}")
                time.sleep(self.pause)
        finally:
            if client is not None:
                client.close()

    def _send(self, client: httpx.Client | None, row: dict, request_id: str) -> None:
        body, headers = [row] * self.rows, {"X-Request-Id": request_id}
        try:
            if client is None:
                resp = httpx.post(f"{self.url}/predict", json=body, headers=headers, timeout=30)
            else:
                resp = client.post(f"{self.url}/predict", json=body, headers=headers)
        except httpx.HTTPError as exc:
            self.errors.append(repr(exc))
            return
        predictions = resp.json()["predictions"] if resp.status_code == 200 else None
        version = resp.headers.get("x-model-version", "")
        self.answers.append(Answer(row, resp.status_code, version, request_id, predictions))

    def finish(self) -> None:
        """Stop sending and wait for the request in flight."""
        self._stop_sending.set()
        self.join(timeout=60)

    @property
    def failures(self) -> list:
        """Requests with no answer (their error) and answers other than 200 (their status)."""
        return self.errors + [a.status for a in list(self.answers) if a.status != 200]

    @property
    def ok(self) -> int:
        """How many requests were answered with 200."""
        return sum(a.status == 200 for a in list(self.answers))

    @property
    def versions(self) -> list[str]:
        """The version that gave each answer, in order."""
        return [a.version for a in list(self.answers)]

    def answered_by(self, version: int, status: int = 200, since: int = 0) -> list[Answer]:
        """The answers from answer ``since`` on that ``version`` gave with ``status``."""
        return [a for a in list(self.answers)[since:]
                if a.version == str(version) and a.status == status]  # fmt: skip

    def raising_rows(self, since: int = 0) -> list[Answer]:
        """The answers to rows with out-of-range charges (from answer ``since`` on)."""
        return [a for a in list(self.answers)[since:] if a.row["charges"] > BAD_CHARGES]
