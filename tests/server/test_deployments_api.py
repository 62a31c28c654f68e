"""``/mlops/api/deployments``: what the panel's Deployments view uses.

Most tests record deployments in the store through its repository (no server process), so
they check listing, health of dead or silent servers, traffic, log and bad input quickly. One
slow test deploys, replaces, rolls back and stops real uvicorn servers through the routes.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time

import httpx
import pytest
from jupyter_server.auth import Authorizer
from server_helpers import server_config
from tornado.httpclient import HTTPClientError

ROW = {"tenure": 2, "charges": 80.0, "support_calls": 7}


@pytest.fixture
def churn(store):
    """churn/1 (production) and churn/2, two small sklearn models."""
    from churn_data import churn_frame
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    import kernel_magics as mlops

    frame, target = churn_frame()
    mlops.log_model(
        LogisticRegression(max_iter=500).fit(frame, target),
        "churn",
        input_example=frame,
        alias="production",
    )
    mlops.log_model(
        DecisionTreeClassifier(max_depth=3).fit(frame, target), "churn", input_example=frame
    )
    return store


@pytest.fixture
def sleeper():
    """A live process that is not a model server (its pid stands for a silent server)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield proc.pid
    proc.kill()
    proc.wait()


def version_id(store, name: str, version: int) -> int:
    from kernel_magics.core.registry import parse_ref, registry

    return registry(store).get_version(parse_ref(f"{name}/{version}")).id


def record(store, version: int = 1, alias: str | None = "production", port: int = 6001, **kw):
    """A deployment row (no process) of churn/<version>; returns its id."""
    status = kw.pop("status", "stopped")
    dep_id = store.deployments.create(version_id(store, "churn", version), alias, "127.0.0.1",
                                      port, status=status, **kw)  # fmt: skip
    return dep_id


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def call(jp_fetch, method: str, *parts: str, body=None, **params):
    """One request; returns ``(status, json)`` whether it succeeded or not."""
    kwargs = {"method": method, "params": params or None}
    if body is not None or method in ("POST", "PUT", "PATCH"):
        kwargs["body"] = json.dumps(body if body is not None else {})
    try:
        response = await jp_fetch("mlops", "api", *parts, **kwargs)
    except HTTPClientError as exc:
        raw = exc.response.body if exc.response is not None else b""
        try:
            return exc.code, json.loads(raw)
        except ValueError:  # Jupyter's own HTML page (no route matched)
            return exc.code, {"message": raw.decode(errors="replace")}
    return response.code, json.loads(response.body)


# -- list and detail ----------------------------------------------------------------------------
async def test_list_pages_newest_first_with_edges(jp_fetch, churn):
    ids = [record(churn, port=6001 + i) for i in range(3)]
    status, data = await call(jp_fetch, "GET", "deployments", limit="2")
    assert status == 200, data
    assert [d["id"] for d in data["deployments"]] == ids[::-1][:2]
    assert data["total"] == 3 and data["limit"] == 2 and data["offset"] == 0
    _, data = await call(jp_fetch, "GET", "deployments", limit="2", offset="2")
    assert [d["id"] for d in data["deployments"]] == [ids[0]]
    _, data = await call(jp_fetch, "GET", "deployments", offset="3")
    assert data["deployments"] == [] and data["total"] == 3
    _, data = await call(jp_fetch, "GET", "deployments", model="other")
    assert data["total"] == 0
    for bad in ({"limit": "0"}, {"limit": "501"}, {"offset": "-1"}, {"live": "maybe"},
                {"sort": "id"}):  # fmt: skip
        status, data = await call(jp_fetch, "GET", "deployments", **bad)
        assert status == 400 and next(iter(bad)) in data["message"], bad


async def test_health_tells_dead_silent_and_stopped_servers_apart(jp_fetch, churn, sleeper):
    # Given a stopped deployment, a "running" one whose process is gone and one whose process
    # lives but does not answer /health
    stopped = record(churn, port=6001)
    dead_proc = subprocess.Popen([sys.executable, "-c", "pass"])
    dead_proc.wait()
    dead = record(churn, port=6002, status="running", pid=dead_proc.pid)
    silent = record(churn, port=free_port(), status="running", pid=sleeper)
    # When
    status, data = await call(jp_fetch, "GET", "deployments")
    # Then
    assert status == 200
    by_id = {d["id"]: d for d in data["deployments"]}
    assert by_id[stopped]["status"] == "stopped"
    assert by_id[stopped]["health"]["answered"] is False
    assert by_id[dead]["status"] == "crashed"  # shown, not written
    assert by_id[dead]["health"]["process_alive"] is False
    assert by_id[silent]["status"] == "running"
    assert by_id[silent]["health"]["process_alive"] is True
    assert by_id[silent]["health"]["answered"] is False
    assert by_id[silent]["health"]["serving_version"] is None
    assert by_id[silent]["ref"] == "churn@production (v1)"
    assert by_id[silent]["url"].startswith("http://127.0.0.1:")
    # And live=true keeps the recorded-live ones (the dead one shows crashed among them)
    _, data = await call(jp_fetch, "GET", "deployments", live="true")
    assert {d["id"] for d in data["deployments"]} == {dead, silent}


async def test_detail_has_events_and_unknown_ids_are_404(jp_fetch, churn):
    dep = record(churn, version=2, alias=None)
    churn.deployments.update(dep, "stopped", "stopped by request")
    status, data = await call(jp_fetch, "GET", "deployments", str(dep))
    assert status == 200 and data["ref"] == "churn/2" and data["alias"] is None
    assert [e["event"] for e in data["events"]] == ["created", "stopped"]
    assert data["events"][1]["detail"] == "stopped by request"
    for parts in (("999",), ("999", "traffic"), ("999", "log")):
        status, data = await call(jp_fetch, "GET", "deployments", *parts)
        assert status == 404 and "999" in data["message"]
    status, _ = await call(jp_fetch, "GET", "deployments", "abc")
    assert status == 404  # ids are numbers: no route


# -- traffic and log ----------------------------------------------------------------------------
async def test_traffic_is_per_minute_and_scaled_by_the_sample_rate(jp_fetch, churn):
    # Given a deployment that logs half its successful requests and every error
    dep = record(churn)
    churn.deployments.update(dep, "options", json.dumps({"sample_rate": 0.5}))
    minute = (time.time() // 60) * 60
    vid = version_id(churn, "churn", 1)
    rows = [(minute - 120 + 1, 10.0, 200), (minute - 120 + 2, 30.0, 200),
            (minute - 120 + 3, 50.0, 500), (minute + 1, 5.0, 200),
            (minute - 3600, 1.0, 200)]  # fmt: skip
    churn.predictions.write(
        [
            {
                "deployment_id": dep,
                "model_version_id": vid,
                "at": at,
                "latency_ms": ms,
                "status_code": code,
            }
            for at, ms, code in rows
        ]  # fmt: skip
    )
    # When
    status, data = await call(jp_fetch, "GET", "deployments", str(dep), "traffic", minutes="3")
    # Then three minutes, oldest first; two logged successes count as four requests
    assert status == 200, data
    assert data["source"] == "prediction_log" and data["sample_rate"] == 0.5
    minutes = data["minutes"]
    assert [m["start"] for m in minutes] == [minute - 120, minute - 60, minute]
    assert minutes[0]["requests"] == 5 and minutes[0]["errors"] == 1
    assert minutes[0]["p50_ms"] == 30.0 and 49 < minutes[0]["p99_ms"] <= 50
    assert minutes[1] == {"start": minute - 60, "requests": 0, "errors": 0,
                          "p50_ms": None, "p99_ms": None, "source": "prediction_log"}  # fmt: skip
    assert minutes[2]["requests"] == 2 and minutes[2]["errors"] == 0
    # The default is 15 minutes; the bounds are 1-1440
    _, data = await call(jp_fetch, "GET", "deployments", str(dep), "traffic")
    assert len(data["minutes"]) == 15
    for bad in ("0", "1441", "x"):
        status, data = await call(jp_fetch, "GET", "deployments", str(dep), "traffic",
                                  minutes=bad)  # fmt: skip
        assert status == 400 and "minutes" in data["message"]


async def test_traffic_prefers_monitoring_buckets_and_fills_the_open_minute_from_the_log(
    jp_fetch, churn
):
    from kernel_magics.core.monitoring.counts import latency_counts

    # Given a server that closed two one-minute buckets (every request counted), and logged a
    # request (sample rate 1) in the minute that is still open
    dep = record(churn)
    churn.deployments.update(dep, "options", json.dumps({"sample_rate": 1.0}))
    vid = version_id(churn, "churn", 1)
    minute = (time.time() // 60) * 60
    for start, requests, errors, latencies in ((minute - 120, 40, 2, [5.0] * 40),
                                               (minute - 60, 10, 0, [50.0] * 10)):  # fmt: skip
        churn.monitoring.add_bucket(
            vid, source="serving", start=start, seconds=60, requests=requests, errors=errors,
            rows=requests, latency=latency_counts(latencies), features={}, prediction=None,
            deployment_id=dep,
        )  # fmt: skip
    churn.predictions.write(
        [
            {
                "deployment_id": dep,
                "model_version_id": vid,
                "at": at,
                "latency_ms": 7.0,
                "status_code": 200,
            }
            for at in (minute - 90, minute + 1)
        ]  # fmt: skip
    )
    # When
    status, data = await call(jp_fetch, "GET", "deployments", str(dep), "traffic", minutes="3")
    # Then the closed minutes are the buckets' exact counts (the log's copy is not added)
    assert status == 200 and data["source"] == "monitoring"
    old, last, now = data["minutes"]
    assert (old["requests"], old["errors"], old["source"]) == (40, 2, "monitoring")
    assert (last["requests"], last["source"]) == (10, "monitoring")
    assert 4 < old["p50_ms"] < 6 and 45 < last["p99_ms"] < 55
    # And the open minute comes from the log
    assert (now["requests"], now["source"], now["p50_ms"]) == (1, "prediction_log", 7.0)


async def test_log_gives_the_last_lines(jp_fetch, churn, tmp_path):
    log = tmp_path / "server.log"
    log.write_text("".join(f"line {i}\n" for i in range(300)))
    dep = record(churn, log_path=str(log))
    status, data = await call(jp_fetch, "GET", "deployments", str(dep), "log")
    assert status == 200 and len(data["lines"]) == 200 and data["lines"][-1] == "line 299"
    _, data = await call(jp_fetch, "GET", "deployments", str(dep), "log", lines="3")
    assert data["lines"] == ["line 297", "line 298", "line 299"]
    for bad in ("0", "10001"):
        status, data = await call(jp_fetch, "GET", "deployments", str(dep), "log", lines=bad)
        assert status == 400 and "lines" in data["message"]


# -- bad input to deploy, stop and rollback ------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "status", "named"),
    [
        ({"ref": "nosuchmodel@production"}, 404, "nosuchmodel"),
        ({"ref": "churn/9"}, 404, "9"),
        ({"ref": "churn@staging"}, 404, "staging"),
        ({"ref": "churn/x/y"}, 400, "churn/x/y"),
        ({"ref": ""}, 400, "ref"),
        ({"ref": "churn", "port": 70000}, 400, "port"),
        ({"ref": "churn", "sample_rate": 2}, 400, "sample_rate"),
        ({"ref": "churn", "host": "0.0.0.0"}, 400, "host"),
        ({}, 400, "ref"),
    ],
)
async def test_deploy_bad_input_starts_nothing(jp_fetch, churn, body, status, named):
    code, data = await call(jp_fetch, "POST", "deployments", body=body)
    assert code == status, data
    assert named in data["message"] and "Traceback" not in data["message"]
    assert churn.deployments.find() == []


async def test_deploy_on_a_taken_port_is_409(jp_fetch, churn):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status, data = await call(jp_fetch, "POST", "deployments",
                                  body={"ref": "churn/1", "port": port})  # fmt: skip
    assert status == 409 and str(port) in data["message"]
    assert churn.deployments.find() == []


async def test_rollback_refusals(jp_fetch, churn):
    pinned = record(churn, alias=None)
    status, data = await call(jp_fetch, "POST", "deployments", str(pinned), "rollback")
    assert status == 409 and "pinned" in data["message"]
    aliased = record(churn, port=6002)
    # production has pointed at v1 only: nothing to go back to
    status, data = await call(jp_fetch, "POST", "deployments", str(aliased), "rollback")
    assert status == 409 and "production" in data["message"]
    status, data = await call(jp_fetch, "POST", "deployments", str(aliased), "rollback",
                              body={"to_version": 7})  # fmt: skip
    assert status == 404 and "7" in data["message"]
    status, data = await call(jp_fetch, "POST", "deployments", str(aliased), "rollback",
                              body={"to_version": 1})  # fmt: skip
    assert status == 409 and "v1" in data["message"]
    status, data = await call(jp_fetch, "POST", "deployments", "999", "rollback")
    assert status == 404


async def test_stopping_a_stopped_deployment_answers_it_as_it_is(jp_fetch, churn):
    dep = record(churn)
    status, data = await call(jp_fetch, "POST", "deployments", str(dep), "stop")
    assert status == 200 and data["deployment"]["status"] == "stopped"
    status, _ = await call(jp_fetch, "POST", "deployments", "999", "stop")
    assert status == 404


async def test_wrong_methods(jp_fetch, churn):
    for method, parts in (("GET", ("1", "stop")), ("GET", ("1", "rollback")),
                          ("DELETE", ()), ("POST", ("1",)), ("POST", ("1", "log"))):  # fmt: skip
        status, _ = await call(jp_fetch, method, "deployments", *parts)
        assert status == 405, (method, parts)


# -- authorization: deploy and rollback need execute ---------------------------------------------
class RefuseExecute(Authorizer):
    """Allow reading and writing, refuse ``execute`` (starting processes)."""

    def is_authorized(self, handler, user, action, resource):
        return action != "execute"


class TestExecuteRefused:
    @pytest.fixture
    def jp_server_config(self, store):
        return server_config(store, ServerApp={"authorizer_class": RefuseExecute})

    async def test_deploy_and_rollback_are_403_stop_and_reads_work(self, jp_fetch, churn):
        import kernel_magics as mlops

        mlops.set_alias("churn", "production", 2)
        dep = record(churn, version=2)
        status, data = await call(jp_fetch, "POST", "deployments", body={"ref": "churn/1"})
        assert status == 403 and "execute" in data["message"]
        status, data = await call(jp_fetch, "POST", "deployments", str(dep), "rollback")
        assert status == 403 and "execute" in data["message"]
        assert mlops.get_model_version("churn@production").version == 2  # nothing moved
        assert [d.id for d in churn.deployments.find()] == [dep]  # nothing started
        assert (await call(jp_fetch, "POST", "deployments", str(dep), "stop"))[0] == 200
        assert (await call(jp_fetch, "GET", "deployments", str(dep)))[0] == 200


# -- real servers -------------------------------------------------------------------------------
async def wait_for(jp_fetch, check, what: str, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        _, last = await call(jp_fetch, "GET", "deployments", live="true")
        # healthy: /health answers and the backend has recorded it running
        found = [d for d in last["deployments"] if d["status"] == "running" and check(d)]
        if found:
            return found[0]
        await asyncio.sleep(0.25)
    raise AssertionError(f"{what} did not happen: {last}")


@pytest.mark.slow
async def test_deploy_replace_rollback_and_stop_real_servers(jp_fetch, churn):
    import kernel_magics as mlops

    port = free_port()
    try:
        # When churn@production (v1) is deployed through the route
        status, data = await call(jp_fetch, "POST", "deployments",
                                  body={"ref": "churn@production", "port": port,
                                        "sample_rate": 1.0})  # fmt: skip
        # Then it answers at once (the server is still starting), then turns healthy
        assert status == 202, data
        assert data["version"] == 1 and data["status"] in ("starting", "running")
        first = data["deployment_id"]
        live = await wait_for(jp_fetch, lambda d: d["id"] == first and d["health"]["answered"],
                              "v1 healthy")  # fmt: skip
        assert live["health"]["serving_version"] == 1 and live["health"]["process_alive"]
        assert live["port"] == port and live["status"] == "running"
        for _ in range(5):
            assert httpx.post(f"{live['url']}/predict", json=[ROW]).status_code == 200
        # and its uptime, from the server's /health, counts up
        uptime = live["health"]["uptime_s"]
        assert isinstance(uptime, float) and uptime >= 0
        later = await wait_for(
            jp_fetch, lambda d: d["id"] == first and (d["health"]["uptime_s"] or 0) > uptime,
            "v1 uptime counting",
        )  # fmt: skip
        assert later["health"]["serving_version"] == 1

        # When the alias moves to v2 and is deployed again: the server is replaced
        mlops.set_alias("churn", "production", 2)
        status, data = await call(jp_fetch, "POST", "deployments",
                                  body={"ref": "churn@production"})  # fmt: skip
        assert status == 202 and data["version"] == 2 and data["deployment_id"] != first
        second = data["deployment_id"]
        live = await wait_for(jp_fetch, lambda d: d["id"] == second and d["health"]["answered"],
                              "v2 healthy")  # fmt: skip
        assert live["health"]["serving_version"] == 2 and live["port"] == port

        # When the panel rolls it back: the alias moves at once, a v1 server replaces it
        status, data = await call(jp_fetch, "POST", "deployments", str(second), "rollback")
        assert status == 202, data
        assert (data["from_version"], data["to_version"]) == (2, 1)
        assert mlops.get_model_version("churn@production").version == 1
        live = await wait_for(
            jp_fetch,
            lambda d: d["id"] not in (first, second) and d["health"]["serving_version"] == 1,
            "rolled back to v1",
        )
        assert live["port"] == port
        assert httpx.post(f"http://127.0.0.1:{port}/predict", json=[ROW]).status_code == 200

        # And the first server's requests are in its traffic, its log is readable
        _, traffic = await call(jp_fetch, "GET", "deployments", str(first), "traffic")
        assert sum(m["requests"] for m in traffic["minutes"]) == 5
        assert traffic["sample_rate"] == 1.0
        _, log = await call(jp_fetch, "GET", "deployments", str(first), "log")
        assert any("uvicorn" in line.lower() or "churn" in line for line in log["lines"])

        # When it is stopped through the route: the process is gone
        status, data = await call(jp_fetch, "POST", "deployments", str(live["id"]), "stop")
        assert status == 200 and data["deployment"]["status"] == "stopped"
        assert data["deployment"]["health"]["answered"] is False
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
    finally:
        from kernel_magics.core.serving.deployments import get_backend

        backend = get_backend(churn)
        for dep in churn.deployments.find(live_only=True):
            backend.stop(dep, reason="left running by a test")
