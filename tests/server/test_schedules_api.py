"""``/mlops/api/schedules`` and ``notebook_parameters``: what the panel's Schedules view uses.

Schedules are created through the route (so through ``core.scheduler.api``'s validation) on
notebooks inside the Jupyter root; one test runs a real notebook in a real kernel with "run now".
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from pathlib import Path

import pytest
from jupyter_server.auth import Authorizer
from server_helpers import server_config
from tornado.httpclient import HTTPClientError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "notebooks"


@pytest.fixture
def notebooks(jp_root_dir) -> Path:
    """``typed.ipynb`` (a parameter of every type) and ``trivial.ipynb`` in the Jupyter root."""
    folder = jp_root_dir / "jobs"
    folder.mkdir()
    for name in ("typed.ipynb", "trivial.ipynb"):
        shutil.copy(FIXTURES / name, folder / name)
    return folder


async def call(jp_fetch, method: str, *parts: str, body=None, **params):
    """One request; returns ``(status, json)`` whether it succeeded or not."""
    kwargs = {"method": method, "params": params or None}
    if body is not None or method in ("POST", "PUT", "PATCH"):
        kwargs["body"] = json.dumps(body if body is not None else {})
    try:
        response = await jp_fetch("mlops", "api", *parts, **kwargs)
    except HTTPClientError as exc:
        body = exc.response.body if exc.response is not None else b""
        try:
            return exc.code, json.loads(body)
        except ValueError:  # Jupyter's own HTML page (no route matched)
            return exc.code, {"message": body.decode(errors="replace")}
    return response.code, json.loads(response.body)


async def create(jp_fetch, **body):
    return await call(jp_fetch, "POST", "schedules", body={"notebook": "jobs/typed.ipynb", **body})


# -- notebook parameters ---------------------------------------------------------------------
async def test_notebook_parameters_give_name_type_and_default_for_the_form(jp_fetch, notebooks):
    # When
    status, data = await call(jp_fetch, "GET", "notebook_parameters", path="jobs/typed.ipynb")
    # Then every assignment of the parameters cell, in order, typed
    assert status == 200 and data["has_parameters_cell"] is True
    found = {p["name"]: (p["type"], p["default"]) for p in data["parameters"]}
    assert list(found) == ["i", "f", "b", "s", "l", "d", "n", "a"]
    assert found["i"] == ("int", 1) and found["f"] == ("float", 0.5)
    assert found["b"] == ("bool", False) and found["s"] == ("str", "text")
    assert found["l"] == ("list", [1, 2]) and found["d"] == ("dict", {"a": 1})
    assert found["a"] == ("float", 1)  # the annotation wins over the literal


async def test_notebook_parameters_of_bad_paths(jp_fetch, notebooks, jp_root_dir):
    (jp_root_dir / "jobs" / "plain.ipynb").write_text(
        json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    )
    (jp_root_dir / "jobs" / "junk.ipynb").write_text("not json")
    # A notebook without a parameters cell: an empty form, said so
    status, data = await call(jp_fetch, "GET", "notebook_parameters", path="jobs/plain.ipynb")
    assert status == 200 and data == {
        "path": "jobs/plain.ipynb", "has_parameters_cell": False, "parameters": []
    }  # fmt: skip
    # Missing: 404; outside the root: 400; not notebook JSON: 400; no path: 400
    status, data = await call(jp_fetch, "GET", "notebook_parameters", path="jobs/none.ipynb")
    assert status == 404 and "jobs/none.ipynb" in data["message"]
    status, data = await call(jp_fetch, "GET", "notebook_parameters", path="../etc/passwd")
    assert status == 400 and str(jp_root_dir) not in data["message"]
    status, data = await call(jp_fetch, "GET", "notebook_parameters", path="jobs/junk.ipynb")
    assert status == 400 and str(jp_root_dir) not in data["message"]
    status, data = await call(jp_fetch, "GET", "notebook_parameters")
    assert status == 400 and "path" in data["message"]


# -- create: validated before anything is stored ---------------------------------------------
async def test_create_returns_the_schedule_with_its_next_three_fire_times(jp_fetch, notebooks):
    # When
    status, data = await create(
        jp_fetch,
        cron="30 4 * * *",
        timezone="Europe/Paris",
        name="nightly",
        parameters={"i": 7, "s": "x"},
        timeout=600,
        retries=2,
        catchup="none",
    )
    # Then
    assert status == 201, data
    assert data["name"] == "nightly" and data["jupyter_path"] == "jobs/typed.ipynb"
    assert data["timezone"] == "Europe/Paris" and data["parameters"] == {"i": 7, "s": "x"}
    assert data["timeout"] == 600 and data["retries"] == 2 and data["catchup"] == "none"
    fires = data["next_runs"]
    assert len(fires) == 3 and fires == sorted(fires) and fires[0] > time.time()
    assert fires[1] - fires[0] in (23 * 3600, 24 * 3600, 25 * 3600)  # daily, DST aside
    assert data["last_status"] is None and data["paused"] is False


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"cron": "0 3 * * mon-fry"}, "cron"),
        ({"cron": "61 * * * *"}, "cron"),
        ({"cron": "@daily", "timezone": "Europe/Pariss"}, "Europe/Pariss"),
        ({"cron": "@daily", "parameters": {"learning_rate": 0.1}}, "learning_rate"),
        ({"cron": "@daily", "parameters": {"i": "seven"}}, "i"),
        ({"cron": "@daily", "catchup": "sometimes"}, "catchup"),
        ({"cron": "@daily", "retries": -1}, "retries"),
        ({"cron": "@daily", "schedule": "daily"}, "schedule"),
        ({"cron": "@daily", "name": "two words"}, "two words"),
    ],
)
async def test_bad_input_is_400_naming_it(jp_fetch, notebooks, body, named):
    # When
    status, data = await create(jp_fetch, **body)
    # Then nothing is stored, and the message names what is wrong
    assert status == 400, data
    assert named in data["message"]
    assert "Traceback" not in data["message"]
    status, listing = await call(jp_fetch, "GET", "schedules")
    assert listing["total"] == 0


async def test_unknown_parameter_suggests_the_close_one(jp_fetch, notebooks):
    status, data = await create(jp_fetch, cron="@daily", parameters={"ii": 1})
    assert status == 400 and "'ii'" in data["message"] and "'i'" in data["message"]


async def test_create_refuses_missing_outside_and_duplicate(jp_fetch, notebooks, jp_root_dir):
    status, data = await create(jp_fetch, cron="@daily", notebook="jobs/gone.ipynb")
    assert status == 404 and "jobs/gone.ipynb" in data["message"]
    status, data = await create(jp_fetch, cron="@daily", notebook="../../outside.ipynb")
    assert status == 400 and str(jp_root_dir) not in data["message"]
    assert (await create(jp_fetch, cron="@daily"))[0] == 201
    status, data = await create(jp_fetch, cron="@hourly")
    assert status == 409 and "'typed'" in data["message"]


# -- list, pause, resume, delete -------------------------------------------------------------
async def test_list_pages_by_name_with_edges(jp_fetch, notebooks):
    for name in ("c", "a", "b"):
        assert (await create(jp_fetch, cron="@daily", name=name))[0] == 201
    status, data = await call(jp_fetch, "GET", "schedules", limit="2")
    assert status == 200 and [s["name"] for s in data["schedules"]] == ["a", "b"]
    assert data["total"] == 3 and data["limit"] == 2 and data["offset"] == 0
    _, data = await call(jp_fetch, "GET", "schedules", limit="2", offset="2")
    assert [s["name"] for s in data["schedules"]] == ["c"]
    _, data = await call(jp_fetch, "GET", "schedules", offset="3")
    assert data["schedules"] == [] and data["total"] == 3
    for bad in ({"limit": "0"}, {"limit": "501"}, {"offset": "-1"}, {"limit": "x"}, {"page": "1"}):
        status, data = await call(jp_fetch, "GET", "schedules", **bad)
        assert status == 400 and next(iter(bad)) in data["message"]


async def test_pause_resume_delete(jp_fetch, notebooks):
    _, made = await create(jp_fetch, cron="*/5 * * * *")
    sid = str(made["id"])
    status, data = await call(jp_fetch, "POST", "schedules", sid, "pause")
    assert status == 200 and data["paused"] is True and data["next_runs"] == []
    status, data = await call(jp_fetch, "POST", "schedules", sid, "resume")
    assert status == 200 and data["paused"] is False and len(data["next_runs"]) == 3
    assert data["next_runs"][1] - data["next_runs"][0] == 300
    status, data = await call(jp_fetch, "DELETE", "schedules", sid)
    assert status == 200 and data == {"schedule_id": made["id"], "name": "typed"}
    for method, parts in (("DELETE", ()), ("POST", ("pause",)), ("GET", ("history",))):
        status, data = await call(jp_fetch, method, "schedules", sid, *parts)
        assert status == 404 and sid in data["message"]


async def test_wrong_methods_and_ids(jp_fetch, notebooks):
    for method, parts in (
        ("GET", ("schedules", "1", "pause")),
        ("DELETE", ("schedules",)),
        ("PUT", ("schedules", "1")),
        ("POST", ("notebook_parameters",)),
    ):
        status, _ = await call(jp_fetch, method, *parts)
        assert status == 405, (method, parts)
    status, _ = await call(jp_fetch, "POST", "schedules", "abc", "pause")
    assert status == 404  # ids are numbers: no route


# -- run now (a real kernel) and history ---------------------------------------------------------
@pytest.mark.slow
async def test_run_now_produces_a_run_and_a_history_row(jp_fetch, notebooks, store):
    _, made = await create(jp_fetch, cron="0 3 * * *", notebook="jobs/trivial.ipynb")
    sid = str(made["id"])
    # When
    started = time.monotonic()
    status, data = await call(jp_fetch, "POST", "schedules", sid, "run")
    # Then it answers at once, before the notebook has run
    assert status == 202 and data["name"] == "trivial"
    assert time.monotonic() - started < 5
    slots: list = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        _, history = await call(jp_fetch, "GET", "schedules", sid, "history")
        slots = history["slots"]
        if slots and slots[0]["status"] not in ("pending", "running"):
            break
        await asyncio.sleep(0.5)
    assert slots and slots[0]["status"] == "finished", slots
    slot = slots[0]
    assert slot["trigger"] == "manual" and slot["attempts"][0]["status"] == "finished"
    assert slot["output_artifact"] == "output.ipynb"
    # And the run is a tracked schedule run, listed with its schedule's last status
    run = store.runs.get(slot["run_id"])
    assert run.source == "schedule" and run.status == "finished"
    _, listing = await call(jp_fetch, "GET", "schedules")
    assert listing["schedules"][0]["last_status"] == "finished"
    assert listing["schedules"][0]["last_run_id"] == slot["run_id"]
    status, _ = await call(jp_fetch, "GET", "schedules", sid, "history", limit="0")
    assert status == 400


# -- authorization: run now needs execute ----------------------------------------------------
class RefuseExecute(Authorizer):
    """Allow reading and writing, refuse ``execute`` (starting processes)."""

    def is_authorized(self, handler, user, action, resource):
        return action != "execute"


class TestExecuteRefused:
    @pytest.fixture
    def jp_server_config(self, store):
        return server_config(store, ServerApp={"authorizer_class": RefuseExecute})

    async def test_run_now_is_403_but_create_and_pause_work(self, jp_fetch, notebooks):
        status, made = await create(jp_fetch, cron="@daily")
        assert status == 201
        sid = str(made["id"])
        status, data = await call(jp_fetch, "POST", "schedules", sid, "run")
        assert status == 403 and "execute" in data["message"]
        _, history = await call(jp_fetch, "GET", "schedules", sid, "history")
        assert history["slots"] == []  # nothing started
        status, _ = await call(jp_fetch, "POST", "schedules", sid, "pause")
        assert status == 200
