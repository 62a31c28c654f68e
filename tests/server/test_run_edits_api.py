"""``PATCH``/``DELETE runs/{run_id}`` and ``GET run_comparisons`` through a real Jupyter server."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from server_helpers import fetch_json, notebook_json
from tornado.httpclient import HTTPClientError

from kernel_magics.core.names import Tag

API = ("mlops", "api")


async def expect_error(jp_fetch, *parts, code: int, **kwargs) -> dict:
    """Assert the request fails with ``code`` and a JSON message without a traceback."""
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch(*parts, **kwargs)
    assert info.value.code == code, info.value.response.body
    body = json.loads(info.value.response.body)
    assert "Traceback" not in body["message"]
    return body


def patch(body: dict) -> dict:
    return {"method": "PATCH", "body": json.dumps(body)}


# -- PATCH runs/{id} ------------------------------------------------------------------------------
async def test_set_and_remove_tags_and_write_a_note(jp_fetch, seed, store):
    # Given a run with a tag
    run_id = seed.run(tags={"stage": "draft", "owner": "ana"})
    # When a tag is set, one removed and a note written (by a unique prefix)
    data = await fetch_json(
        jp_fetch, *API, "runs", run_id[:8],
        **patch({"set_tags": {"stage": "final"}, "remove_tags": ["owner"],
                 "note": "best so far; try C=0.3 next"}),
    )  # fmt: skip
    # Then the answer is the run's row, and the store has the same
    assert data["id"] == run_id
    assert data["tags"]["stage"] == "final"
    assert "owner" not in data["tags"]
    assert data["tags"][Tag.NOTE] == "best so far; try C=0.3 next"
    assert store.runs.get(run_id).tags == {"stage": "final", Tag.NOTE: data["tags"][Tag.NOTE]}


async def test_an_empty_note_removes_it(jp_fetch, seed, store):
    run_id = seed.run(tags={Tag.NOTE: "old"})
    data = await fetch_json(jp_fetch, *API, "runs", run_id, **patch({"note": ""}))
    assert Tag.NOTE not in data["tags"]
    assert Tag.NOTE not in store.runs.get(run_id).tags


async def test_the_longest_note_is_stored_whole(jp_fetch, seed, store):
    run_id = seed.run()
    await fetch_json(jp_fetch, *API, "runs", run_id, **patch({"note": "n" * 6000}))
    assert store.runs.get(run_id).tags[Tag.NOTE] == "n" * 6000


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({}, "set_tags, remove_tags or note"),
        ({"set_tags": {"mlops.best": "1"}}, "mlops."),
        ({"remove_tags": ["mlops.cell.id"]}, "mlops."),
        ({"set_tags": {"a": "1"}, "remove_tags": ["a"]}, "both set and removed"),
        ({"set_tags": {"": "x"}}, "set_tags"),
        ({"note": "x" * 6001}, "note"),
        ({"tags": {"a": "1"}}, "tags"),
        ({"set_tags": {"a": 1}}, "set_tags"),
    ],
)
async def test_bad_edits_are_400_and_change_nothing(jp_fetch, seed, store, body, words):
    # Given
    run_id = seed.run(tags={"mlops.cell.id": "c1"})
    # When
    answer = await expect_error(jp_fetch, *API, "runs", run_id, **patch(body), code=400)
    # Then
    assert words in answer["message"]
    assert store.runs.get(run_id).tags == {"mlops.cell.id": "c1"}


async def test_editing_an_unknown_run_is_404_without_the_id(jp_fetch):
    answer = await expect_error(
        jp_fetch, *API, "runs", "feedbeef", **patch({"note": "x"}), code=404
    )
    assert "feedbeef" not in answer["message"]
    assert "GET /mlops/api/runs" in answer["message"]


async def test_body_that_is_not_json(jp_fetch, seed):
    run_id = seed.run()
    await expect_error(jp_fetch, *API, "runs", run_id, method="PATCH", body="note=x", code=400)


# -- DELETE runs/{id} -----------------------------------------------------------------------------
async def test_delete_a_run_with_its_children(jp_fetch, seed, store):
    # Given a sweep parent with two children and an unrelated run
    parent = seed.run("sweep")
    children = [seed.run("sweep") for _ in range(2)]
    for child in children:
        store.runs.set_fields(child, parent_run_id=parent)
    other = seed.run("sweep")
    # When the parent is deleted
    data = await fetch_json(jp_fetch, *API, "runs", parent, method="DELETE")
    # Then it and its children are gone, the other run stays
    assert data["deleted"][0] == parent
    assert sorted(data["deleted"][1:]) == sorted(children)
    listing = await fetch_json(jp_fetch, *API, "runs", params={"experiment": "sweep"})
    assert [r["id"] for r in listing["runs"]] == [other]
    await expect_error(jp_fetch, *API, "runs", parent, code=404)


async def test_delete_is_refused_while_the_run_is_running(jp_fetch, seed, store):
    # Given a running run whose process (a real child process) is alive
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        exp_id = store.experiments.get_or_create("Default")
        run_id = store.runs.create(exp_id, source="api", pid=sleeper.pid)
        # When
        answer = await expect_error(jp_fetch, *API, "runs", run_id, method="DELETE", code=409)
        # Then it names the problem and the way out, and the run is still there
        assert "still running" in answer["message"]
        assert str(sleeper.pid) not in answer["message"]
        assert store.runs.get(run_id).status == "running"
    finally:
        sleeper.kill()
        sleeper.wait()


async def test_delete_an_unknown_run_is_404(jp_fetch):
    await expect_error(jp_fetch, *API, "runs", "0" * 32, method="DELETE", code=404)


# -- GET run_comparisons --------------------------------------------------------------------------
async def test_compare_lines_up_params_with_differing_first(jp_fetch, seed, store):
    # Given three runs: C differs, seed is the same, lr only in two; metrics partly shared
    a = seed.run(params={"C": 0.1, "seed": 1, "lr": 0.01}, metrics={"acc": 0.8, "loss": 0.5})
    b = seed.run(params={"C": 1.0, "seed": 1, "lr": 0.01}, metrics={"acc": 0.9, "loss": 0.4})
    c = seed.run(params={"C": 10.0, "seed": 1}, metrics={"acc": 0.9})
    seed.artifact(a, "cell/source.py", b"fit(C=0.1)\n")
    # When
    data = await fetch_json(jp_fetch, *API, "run_comparisons", params={"ids": f"{a},{b[:6]},{c}"})
    # Then the runs come in the order asked
    assert [r["id"] for r in data["runs"]] == [a, b, c]
    assert data["runs"][0]["cell_source"] == "fit(C=0.1)\n"
    assert data["runs"][1]["cell_source"] is None
    # And differing params come first (absent counts as differing), then the same ones
    assert [(p["key"], p["differs"]) for p in data["params"]] == [
        ("C", True),
        ("lr", True),
        ("seed", False),
    ]
    assert data["params"][0]["values"] == {a: "0.1", b: "1.0", c: "10.0"}
    assert data["params"][1]["values"] == {a: "0.01", b: "0.01"}
    assert [(m["key"], m["differs"]) for m in data["metrics"]] == [("acc", True), ("loss", True)]
    assert data["metric_keys"] == ["acc", "loss"]
    assert data["common_metric_keys"] == ["acc"]


async def test_compare_with_curves_gives_every_runs_series_in_one_answer(jp_fetch, seed):
    # Given two runs with a loss series of 10 points and one run without it
    a, b = seed.run(), seed.run()
    seed.series(a, {"loss": [1 / (i + 1) for i in range(10)], "acc": [0.5]})
    seed.series(b, {"loss": [2 / (i + 1) for i in range(10)]})
    c = seed.run(metrics={"acc": 0.7})
    # When the comparison asks for the loss curves, thinned to 4 points
    data = await fetch_json(
        jp_fetch, *API, "run_comparisons",
        params={"ids": f"{a},{b},{c}", "curves": "loss", "max_points": 4},
    )  # fmt: skip
    # Then one curve per run that logged it, thinned, keeping the last point
    assert [(k["key"], k["run_id"]) for k in data["curves"]] == [("loss", a), ("loss", b)]
    curve = data["curves"][1]
    assert len(curve["steps"]) == len(curve["values"]) <= 4
    assert curve["steps"][0] == 0 and curve["steps"][-1] == 9
    assert curve["values"][-1] == pytest.approx(0.2)
    # And each curve, sent as columns, is the series the per-run route answers, thinned the same way
    for curve in data["curves"]:
        one = await fetch_json(
            jp_fetch, *API, "runs", curve["run_id"], "metrics", "loss", params={"max_points": 4}
        )
        assert curve["steps"] == [p["step"] for p in one["points"]]
        assert curve["values"] == [p["value"] for p in one["points"]]
    # And without curves= there are none
    plain = await fetch_json(jp_fetch, *API, "run_comparisons", params={"ids": f"{a},{b}"})
    assert plain["curves"] == []
    # And a thinning below two points is refused
    body = await expect_error(
        jp_fetch, *API, "run_comparisons", params={"ids": f"{a},{b}", "max_points": 1}, code=400
    )
    assert "max_points" in body["message"]


async def test_compare_gives_the_notebook_versions_for_the_diff(jp_fetch, seed):
    v1 = seed.version("nb.ipynb", notebook_json("x = 1"))
    v2 = seed.version("nb.ipynb", notebook_json("x = 2"))
    a = seed.run(version_id=v1, notebook=seed.root / "nb.ipynb")
    b = seed.run(version_id=v2, notebook=seed.root / "nb.ipynb")
    data = await fetch_json(jp_fetch, *API, "run_comparisons", params={"ids": f"{a},{b}"})
    assert [r["notebook_version_id"] for r in data["runs"]] == [v1, v2]
    assert [r["jupyter_path"] for r in data["runs"]] == ["nb.ipynb", "nb.ipynb"]


@pytest.mark.parametrize(
    ("ids", "code", "words"),
    [
        ("", 400, "ids"),
        ("onlyone", 400, "ids"),
        ("{a},{a}", 400, "two different runs"),
        ("{a},deadbeefdead", 404, "ids[1]"),
        (",".join(["abcd"] * 101), 400, "ids"),
    ],
)
async def test_compare_bad_ids(jp_fetch, seed, ids, code, words):
    a = seed.run()
    answer = await expect_error(
        jp_fetch, *API, "run_comparisons", params={"ids": ids.format(a=a)}, code=code
    )
    assert words in answer["message"]
    assert "deadbeefdead" not in answer["message"]


async def test_compare_without_ids_and_wrong_methods(jp_fetch):
    await expect_error(jp_fetch, *API, "run_comparisons", code=400)
    for parts, method in ((("run_comparisons",), "POST"), (("runs", "0" * 32), "POST")):
        with pytest.raises(HTTPClientError) as info:
            await jp_fetch(*API, *parts, method=method, body="{}")
        assert info.value.code == 405
