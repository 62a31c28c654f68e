"""An automation's execution in the panel's runs API: the parent run with one child per step.

Through a real Jupyter server: the execution's parent is listed with how it ended, every step's
run names it as ``parent_run_id``, and ``?parent=`` lists exactly the steps, in order, with
the failed one's reason.
"""

from __future__ import annotations

import json
import shlex
import sys

import pytest
from server_helpers import fetch_json
from tornado.httpclient import HTTPClientError

from kernel_magics.core.automations.api import add_automation, run_automation


def _notify(ok: bool) -> dict:
    code = "import sys; sys.stdin.read()" + ("" if ok else "; sys.exit('no inbox here')")
    return {"notify": {"command": f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}"}}


async def test_an_execution_lists_as_a_parent_with_its_steps_under_it(jp_fetch, store):
    # Given an automation whose second step fails, executed once
    add_automation({"name": "announce", "trigger": "manual",
                    "steps": [_notify(True), _notify(False), _notify(True)]}, store=store)  # fmt: skip
    execution = run_automation("announce", store=store)
    assert execution is not None and execution.status == "failed"

    # When the panel lists the runs
    listed = await fetch_json(jp_fetch, "mlops", "api", "runs")
    by_id = {r["id"]: r for r in listed["runs"]}

    # Then the parent is there, failed, and each step's run points at it
    parent = by_id[execution.run_id]
    assert (parent["name"], parent["status"], parent["parent_run_id"]) == (
        "automation announce", "failed", None)  # fmt: skip
    children = [r for r in listed["runs"] if r["parent_run_id"] == execution.run_id]
    assert sorted(r["name"] for r in children) == ["1. notify", "2. notify"]  # the chain stopped

    # And ?parent= lists exactly the steps, in order, with the failed one's status
    steps = await fetch_json(jp_fetch, "mlops", "api", "runs",
                             params={"parent": execution.run_id, "order_by": "name"})  # fmt: skip
    assert steps["total"] == 2
    assert [(r["name"], r["status"]) for r in steps["runs"]] == [
        ("1. notify", "finished"), ("2. notify", "failed")]  # fmt: skip
    detail = await fetch_json(jp_fetch, "mlops", "api", "runs", steps["runs"][1]["id"])
    assert "no inbox here" in detail["error"]


async def test_an_unknown_parent_is_a_404_that_names_the_parameter(jp_fetch, store):
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("mlops", "api", "runs", params={"parent": "ffffffffffff"})
    assert info.value.code == 404
    assert "parent names no run" in json.loads(info.value.response.body)["message"]
