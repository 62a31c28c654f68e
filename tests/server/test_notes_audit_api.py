"""``/mlops/api/notes`` and ``/mlops/api/audit`` through a real Jupyter server and SQLite store.

The server's identity provider names the token's user ``ada`` (a Jupyter user that is not the
OS user), so the tests see which of the two a change was recorded as.
"""

from __future__ import annotations

import getpass
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest
from jupyter_server.auth import IdentityProvider, User
from server_helpers import fetch_json, server_config
from tornado.httpclient import HTTPClientError

API = ("mlops", "api")
MLOPS = str(Path(sys.executable).with_name("mlops"))
JUPYTER_USER = "ada"


class NamedUser(IdentityProvider):
    """Token authentication as usual; the authenticated user is ``ada``."""

    async def get_user(self, handler):
        user = super().get_user(handler)
        if inspect.isawaitable(user):
            user = await user
        return None if user is None else User(username=JUPYTER_USER, name="Ada Lovelace")


@pytest.fixture
def jp_server_config(store):
    return server_config(store, ServerApp={"identity_provider_class": NamedUser})


def register(store, name: str = "churn", versions: int = 2) -> None:
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from kernel_magics.core.registry.api import log_model

    frame = pd.DataFrame({"tenure": [1, 5, 9, 12, 30, 40], "plan": [0, 1, 0, 1, 1, 0]})
    model = LogisticRegression().fit(frame, [0, 0, 1, 1, 1, 0])
    for _ in range(versions):
        log_model(model, name, frame, store=store)


def post(body: dict) -> dict:
    return {"method": "POST", "body": json.dumps(body)}


async def expect_error(jp_fetch, *parts, code: int, **kwargs) -> str:
    """Assert the request fails with ``code``; return its message (checked for no traceback)."""
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch(*parts, **kwargs)
    assert info.value.code == code, info.value.response.body
    message = json.loads(info.value.response.body)["message"]
    assert "Traceback" not in message and "/tmp" not in message
    return message


async def test_server_changes_carry_the_jupyter_user_cli_changes_the_os_user(jp_fetch, store):
    # Given two versions of churn
    register(store)
    # When ada moves the alias through the panel's route, and the OS user through core
    await jp_fetch(*API, "models", "churn", "aliases", "production", method="PUT",
                   body=json.dumps({"version": 1}))  # fmt: skip
    store.models.set_alias("churn", "production", 2)
    # Then the audit route lists both, newest first, each with its own user
    data = await fetch_json(jp_fetch, *API, "audit", params={"kind": "alias"})
    assert [(e["actor"], e["action"], e["detail"]["to_version"]) for e in data["entries"]] == [
        (getpass.getuser(), "move", 2),
        (JUPYTER_USER, "set", 1),
    ]
    assert data["next_before"] is None
    # and so does the model's alias history, which the Models view shows
    history = await fetch_json(jp_fetch, *API, "models", "churn", "alias_history")
    assert [(m["actor"], m["to_version"]) for m in history["moves"]] == [
        (getpass.getuser(), 2),
        (JUPYTER_USER, 1),
    ]


async def test_schedule_changes_through_the_server_record_the_jupyter_user(jp_fetch, store):
    # Given a schedule created by the OS user
    from kernel_magics.core.store.schedules import ScheduleOptions

    record = store.schedules.create("nightly", "/nb/a.ipynb",
                                    ScheduleOptions(cron="@daily", timezone="UTC"))  # fmt: skip
    # When ada pauses it in the panel
    await jp_fetch(*API, "schedules", str(record.id), "pause", method="POST", body="{}")
    # Then
    data = await fetch_json(jp_fetch, *API, "audit", params={"target": "nightly"})
    assert [(e["actor"], e["action"]) for e in data["entries"]] == [
        (JUPYTER_USER, "pause"), (getpass.getuser(), "create")]  # fmt: skip


async def test_notes_round_trip_cli_route_and_run_edits(jp_fetch, store, seed):
    # Given a run noted from the real CLI (OS user)
    run_id = seed.run("churn")
    cli = subprocess.run([MLOPS, "note", run_id[:8], "baseline for Q3"], capture_output=True,
                         text=True, timeout=120)  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    # When ada adds one through the route and another through the run editor's PATCH
    created = await fetch_json(jp_fetch, *API, "notes", **post(
        {"kind": "run", "target": run_id[:8], "text": "  checked the features  "}))  # fmt: skip
    await jp_fetch(*API, "runs", run_id, method="PATCH", body=json.dumps({"note": "ship it"}))
    # Then the route lists all three, oldest first, with their authors (the panel's data)
    listed = await fetch_json(jp_fetch, *API, "notes", params={"kind": "run", "target": run_id})
    assert [(n["author"], n["text"]) for n in listed["notes"]] == [
        (getpass.getuser(), "baseline for Q3"),
        (JUPYTER_USER, "checked the features"),
        (JUPYTER_USER, "ship it"),
    ]
    assert created["target"] == run_id and created["kind"] == "run"
    # And the run's note tag is the newest note (one mechanism, not two)
    assert store.runs.get(run_id).tags["mlops.note"] == "ship it"
    # And the CLI lists the panel's notes back
    shown = subprocess.run([MLOPS, "note", run_id, "--json"], capture_output=True, text=True,
                           timeout=120)  # fmt: skip
    assert [n["text"] for n in json.loads(shown.stdout)] == [n["text"] for n in listed["notes"]]
    # And the run's history lists the three notes
    history = await fetch_json(jp_fetch, *API, "audit", params={"target": f"run {run_id}"})
    assert [e["actor"] for e in history["entries"]] == [JUPYTER_USER, JUPYTER_USER,
                                                         getpass.getuser()]  # fmt: skip


async def test_notes_on_versions_by_alias_and_on_deployments(jp_fetch, store):
    # Given churn@production -> 2 and a deployment row
    from kernel_magics.core.registry import parse_ref, registry

    register(store)
    store.models.set_alias("churn", "production", 2)
    dep = store.deployments.create(registry(store).get_version(parse_ref("churn/1")).id, None,
                                   "127.0.0.1", 8124)  # fmt: skip
    # When ada notes the alias's version and the deployment
    await jp_fetch(*API, "notes", **post(
        {"kind": "model_version", "target": "churn@production", "text": "approved"}))  # fmt: skip
    await jp_fetch(*API, "notes", **post({"kind": "deployment", "target": str(dep),
                                          "text": "canary for EU"}))  # fmt: skip
    # Then the note is on the version the alias pointed at
    on_v2 = await fetch_json(jp_fetch, *API, "notes",
                             params={"kind": "model_version", "target": "churn/2"})  # fmt: skip
    assert [n["text"] for n in on_v2["notes"]] == ["approved"]
    on_dep = await fetch_json(jp_fetch, *API, "notes",
                              params={"kind": "deployment", "target": str(dep)})  # fmt: skip
    assert [(n["author"], n["text"]) for n in on_dep["notes"]] == [(JUPYTER_USER, "canary for EU")]
    # And the model's history holds its alias move and its version's note
    model = await fetch_json(jp_fetch, *API, "audit", params={"target": "churn"})
    assert [(e["kind"], e["target"]) for e in model["entries"]] == [
        ("note", "churn/2"), ("alias", "churn@production")]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"kind": "experiment", "target": "abcd", "text": "x"}, 400),
        ({"kind": "run", "target": "abcd efgh", "text": "x"}, 400),
        ({"kind": "run", "target": "abcd", "text": ""}, 400),
        ({"kind": "run", "target": "abcd", "text": "   "}, 400),
        ({"kind": "run", "target": "abcd", "text": "x" * 6001}, 400),
        ({"kind": "run", "target": "abcd", "text": "x", "author": "mallory"}, 400),
        ({"kind": "run", "target": "churn/1", "text": "x"}, 400),
        ({"kind": "deployment", "target": "three", "text": "x"}, 400),
        ({"kind": "run", "target": "beef0000", "text": "x"}, 404),
        ({"kind": "model_version", "target": "secretmodel/3", "text": "x"}, 404),
        ({"kind": "deployment", "target": "424242", "text": "x"}, 404),
    ],
)
async def test_bad_notes_are_4xx_without_echo_and_write_nothing(jp_fetch, store, body, code):
    # When
    message = await expect_error(jp_fetch, *API, "notes", code=code, **post(body))
    # Then the message names the problem, not the input
    for echoed in ("efgh", "three", "beef0000", "secretmodel", "424242", "mallory"):
        assert echoed not in message
    assert store.audit.list().entries == []


@pytest.mark.parametrize(
    "params",
    [{"kind": "nothing"}, {"since": "yesterday"}, {"limit": "0"}, {"limit": "5000"},
     {"before": "-1"}, {"colour": "red"}, {"target": "x" * 256}],
)  # fmt: skip
async def test_bad_audit_queries_are_400(jp_fetch, params):
    message = await expect_error(jp_fetch, *API, "audit", code=400, params=params)
    assert "yesterday" not in message and "red" not in message


async def test_notes_and_audit_refuse_a_request_without_a_token(jp_fetch):
    for parts, kwargs in [(("notes",), {"params": {"kind": "run", "target": "abcd"}}),
                          (("notes",), post({"kind": "run", "target": "abcd", "text": "x"})),
                          (("audit",), {})]:  # fmt: skip
        with pytest.raises(HTTPClientError) as info:
            await jp_fetch(*API, *parts, headers={"Authorization": ""}, **kwargs)
        assert info.value.code == 403
