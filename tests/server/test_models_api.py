"""``/mlops/api/models``: the registry through a real Jupyter server and a real SQLite store.

Versions are registered with ``mlops.log_model`` (scikit-learn models stored with skops), so
the signature, the run link and the lineage are the ones a notebook produces.
"""

from __future__ import annotations

import json

import pytest
from jupyter_server.auth import Authorizer
from server_helpers import fetch_json, notebook_json, server_config
from tornado.httpclient import HTTPClientError

API = ("mlops", "api")


async def expect_error(jp_fetch, *parts, code: int, **kwargs) -> dict:
    """Assert the request fails with ``code`` and a JSON message without a traceback."""
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch(*parts, **kwargs)
    assert info.value.code == code, info.value.response.body
    body = json.loads(info.value.response.body)
    assert "Traceback" not in body["message"]
    return body


def train(seed, store, accuracy: float, name: str = "churn", notebook_version: int | None = None):
    """A run with an accuracy metric and a logistic regression registered from it."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from kernel_magics.core.registry.api import log_model

    frame = pd.DataFrame({"tenure": [1, 5, 9, 12, 30, 40], "plan": [0, 1, 0, 1, 1, 0]})
    model = LogisticRegression().fit(frame, [0, 0, 1, 1, 1, 0])
    run_id = seed.run(
        "churn", params={"C": 1.0}, metrics={"accuracy": accuracy}, version_id=notebook_version
    )
    return run_id, log_model(model, name, frame, run=run_id, store=store)


def json_body(method: str, body: dict) -> dict:
    return {"method": method, "body": json.dumps(body)}


# -- models ---------------------------------------------------------------------------------------
async def test_models_list_versions_latest_and_aliases(jp_fetch, seed, store):
    # Given two versions of churn, one of fraud, and churn@production -> 1
    train(seed, store, 0.8)
    train(seed, store, 0.9)
    train(seed, store, 0.7, name="fraud")
    store.models.set_alias("churn", "production", 1)
    # When
    data = await fetch_json(jp_fetch, *API, "models")
    # Then
    assert [m["name"] for m in data["models"]] == ["churn", "fraud"]
    churn = data["models"][0]
    assert churn["version_count"] == 2
    assert churn["latest_version"] == 2
    assert churn["aliases"] == {"production": 1}
    assert data["total"] == 2


async def test_models_are_paged_by_name(jp_fetch, seed, store):
    # Given three models
    for name in ("c", "a", "b"):
        train(seed, store, 0.8, name=name)
    # When the second page of size 2 is asked for, and a page past the end
    page = await fetch_json(jp_fetch, *API, "models", params={"limit": 2, "offset": 2})
    past = await fetch_json(jp_fetch, *API, "models", params={"limit": 2, "offset": 10})
    # Then
    assert [m["name"] for m in page["models"]] == ["c"]
    assert page["total"] == 3
    assert past["models"] == [] and past["total"] == 3


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 501}, {"offset": -1}, {"limit": "many"}, {"sort": "x"}]
)
async def test_models_refuses_bad_pages(jp_fetch, params):
    body = await expect_error(jp_fetch, *API, "models", params=params, code=400)
    assert "limit" in body["message"] or "offset" in body["message"] or "sort" in body["message"]


async def test_one_model_and_its_description(jp_fetch, seed, store):
    # Given
    train(seed, store, 0.8)
    # When the description is changed
    patched = await fetch_json(
        jp_fetch, *API, "models", "churn", **json_body("PATCH", {"description": "churn v2"})
    )
    shown = await fetch_json(jp_fetch, *API, "models", "churn")
    # Then both answers carry it, and the store has it
    assert patched["description"] == shown["description"] == "churn v2"
    assert store.models.get_model("churn").description == "churn v2"


async def test_model_tags_are_set_listed_and_removed(jp_fetch, seed, store):
    # Given
    train(seed, store, 0.8)
    # When tags are set on the model as a whole
    patched = await fetch_json(
        jp_fetch, *API, "models", "churn",
        **json_body("PATCH", {"set_tags": {"team": "retention", "owner": "ana"}}),
    )  # fmt: skip
    listed = await fetch_json(jp_fetch, *API, "models")
    # Then the answer, the list and the store carry them; the description is untouched
    assert patched["tags"] == {"owner": "ana", "team": "retention"}
    assert listed["models"][0]["tags"] == patched["tags"]
    assert store.models.get_model("churn").tags == patched["tags"]
    # When one is removed, and a system tag is tried
    removed = await fetch_json(
        jp_fetch, *API, "models", "churn", **json_body("PATCH", {"remove_tags": ["owner"]})
    )
    refused = await expect_error(
        jp_fetch, *API, "models", "churn",
        **json_body("PATCH", {"set_tags": {"mlops.flavor": "x"}}), code=400,
    )  # fmt: skip
    # Then
    assert removed["tags"] == {"team": "retention"}
    assert "mlops." in refused["message"]
    assert store.models.get_model("churn").tags == {"team": "retention"}


async def test_unknown_and_malformed_model_names(jp_fetch, seed, store):
    # Given
    train(seed, store, 0.8)
    # When / Then: unknown is 404, malformed 400, and neither repeats the name
    missing = await expect_error(jp_fetch, *API, "models", "nosuchmodel", code=404)
    assert "nosuchmodel" not in missing["message"]
    assert "GET /mlops/api/models" in missing["message"]
    bad = await expect_error(jp_fetch, *API, "models", "%3Cscript%3E", code=400)
    assert "<script>" not in bad["message"] and "not valid" in bad["message"]
    for parts in (("versions",), ("alias_history",), ("versions", "1")):
        await expect_error(jp_fetch, *API, "models", "nosuchmodel", *parts, code=404)


async def test_patch_model_refuses_unknown_fields_and_bad_json(jp_fetch, seed, store):
    train(seed, store, 0.8)
    unknown = await expect_error(
        jp_fetch, *API, "models", "churn", **json_body("PATCH", {"owner": "me"}), code=400
    )
    assert "owner" in unknown["message"]
    await expect_error(
        jp_fetch, *API, "models", "churn", method="PATCH", body="{not json", code=400
    )
    await expect_error(jp_fetch, *API, "models", "churn", **json_body("PATCH", {}), code=400)


async def test_wrong_methods_are_405(jp_fetch, seed, store):
    train(seed, store, 0.8)
    for parts, method in (
        (("models",), "POST"),
        (("models", "churn"), "DELETE"),
        (("models", "churn", "promote"), "GET"),
        (("models", "churn", "aliases", "production"), "GET"),
        (("models", "churn", "versions"), "POST"),
    ):
        body = "{}" if method in ("POST", "PUT", "PATCH") else None
        with pytest.raises(HTTPClientError) as info:
            await jp_fetch(*API, *parts, method=method, body=body)
        assert info.value.code == 405, (parts, method)


# -- versions -------------------------------------------------------------------------------------
async def test_versions_newest_first_with_signature_aliases_and_run_metrics(jp_fetch, seed, store):
    # Given
    run1, _ = train(seed, store, 0.8)
    run2, _ = train(seed, store, 0.9)
    store.models.set_alias("churn", "staging", 2)
    # When
    data = await fetch_json(jp_fetch, *API, "models", "churn", "versions")
    # Then
    assert [v["version"] for v in data["versions"]] == [2, 1]
    newest = data["versions"][0]
    assert newest["run_id"] == run2
    assert newest["metrics"] == {"accuracy": 0.9}
    assert newest["aliases"] == ["staging"]
    assert newest["format"] == "skops"
    assert newest["signature"]["input_type"] == "columns"
    assert newest["signature"]["inputs"] == [
        {"name": "tenure", "type": "long"},
        {"name": "plan", "type": "long"},
    ]
    assert newest["signature"]["outputs"][0]["name"] == "prediction"
    assert data["metric_keys"] == ["accuracy"]
    assert data["total"] == 2
    # And a page of one holds the older version
    page = await fetch_json(
        jp_fetch, *API, "models", "churn", "versions", params={"limit": 1, "offset": 1}
    )
    assert [v["version"] for v in page["versions"]] == [1] and page["total"] == 2


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 501}, {"offset": -1}, {"limit": "many"}, {"offset": "x"}]
)
async def test_versions_refuses_bad_pages(jp_fetch, seed, store, params):
    train(seed, store, 0.8)
    body = await expect_error(jp_fetch, *API, "models", "churn", "versions", params=params,
                              code=400)  # fmt: skip
    assert "limit" in body["message"] or "offset" in body["message"], body["message"]


async def test_versions_page_past_the_end_is_empty_with_the_total(jp_fetch, seed, store):
    train(seed, store, 0.8)
    train(seed, store, 0.9)
    page = await fetch_json(
        jp_fetch, *API, "models", "churn", "versions", params={"limit": 50, "offset": 2}
    )
    assert page["versions"] == [] and page["total"] == 2


async def test_version_lineage_run_notebook_version_and_datasets(jp_fetch, seed, store):
    # Given a version trained in a run that used a notebook version and read a dataset
    nb_version = seed.version("train.ipynb", notebook_json("fit()"))
    run_id, _ = train(seed, store, 0.85, notebook_version=nb_version)
    store.datasets.record(
        run_id, "customers", "ab" * 32, size=120, rows=3, schema=None, source="customers.csv"
    )
    # When
    data = await fetch_json(jp_fetch, *API, "models", "churn", "versions", "1")
    # Then
    lineage = data["lineage"]
    assert lineage["run"]["id"] == run_id
    assert lineage["run"]["params"] == {"C": "1.0"}
    assert lineage["notebook_version"]["id"] == nb_version
    assert lineage["notebook_version"]["jupyter_path"] == "train.ipynb"
    assert [d["name"] for d in lineage["datasets"]] == ["customers"]
    assert data["blob_hash"]


async def test_version_without_a_run_has_empty_lineage(jp_fetch, seed, store):
    # Given a version whose run was deleted
    run_id, _ = train(seed, store, 0.8)
    store.runs.delete(run_id)
    # When
    data = await fetch_json(jp_fetch, *API, "models", "churn", "versions", "1")
    # Then
    assert data["run_id"] is None
    graph = data["lineage"].pop("graph")
    assert data["lineage"] == {"run": None, "notebook_version": None, "datasets": []}
    assert [n["ref"] for n in graph["nodes"]] == ["churn/1"]  # nothing upstream any more


async def test_unknown_and_malformed_versions(jp_fetch, seed, store):
    train(seed, store, 0.8)
    missing = await expect_error(jp_fetch, *API, "models", "churn", "versions", "7", code=404)
    assert "no such version" in missing["message"]
    for bad in ("0", "x", "99999999999999999999"):
        await expect_error(jp_fetch, *API, "models", "churn", "versions", bad, code=400)


async def test_patch_version_description_and_tags(jp_fetch, seed, store):
    # Given a version with a tag
    train(seed, store, 0.8)
    store.models.set_version_tags(_ref("churn", 1), {"owner": "ana"})
    # When the description changes, one tag is added and the old one removed
    data = await fetch_json(
        jp_fetch, *API, "models", "churn", "versions", "1",
        **json_body("PATCH", {"description": "baseline", "set_tags": {"team": "growth"},
                              "remove_tags": ["owner"]}),
    )  # fmt: skip
    # Then
    assert data["description"] == "baseline"
    assert data["tags"]["team"] == "growth"
    assert "owner" not in data["tags"]
    stored = store.models.get_version(_ref("churn", 1))
    assert stored.tags["team"] == "growth" and "owner" not in stored.tags
    # And the system's tags are refused
    body = await expect_error(
        jp_fetch, *API, "models", "churn", "versions", "1",
        **json_body("PATCH", {"remove_tags": ["mlops.python_version"]}), code=400,
    )  # fmt: skip
    assert "mlops." in body["message"]
    assert "mlops.python_version" in store.models.get_version(_ref("churn", 1)).tags


def _ref(name: str, version: int):
    from kernel_magics.core.registry import ModelRef

    return ModelRef(name, version=version)


# -- aliases --------------------------------------------------------------------------------------
async def test_set_move_and_delete_an_alias_with_history(jp_fetch, seed, store):
    # Given two versions
    train(seed, store, 0.8)
    train(seed, store, 0.9)
    alias = (*API, "models", "churn", "aliases", "production")
    # When set to 1, moved to 2, moved to 2 again, then deleted
    first = await fetch_json(jp_fetch, *alias, **json_body("PUT", {"version": 1}))
    moved = await fetch_json(
        jp_fetch, *alias, **json_body("PUT", {"version": 2, "reason": "better"})
    )
    again = await fetch_json(jp_fetch, *alias, **json_body("PUT", {"version": 2}))
    assert store.models.get_model("churn").aliases == {"production": 2}
    gone = await fetch_json(jp_fetch, *alias, method="DELETE")
    # Then each answer is the move made
    assert (first["from_version"], first["to_version"]) == (None, 1)
    assert (moved["from_version"], moved["to_version"], moved["reason"]) == (1, 2, "better")
    assert (again["from_version"], again["to_version"]) == (2, 2)
    assert (gone["from_version"], gone["to_version"]) == (2, None)
    assert store.models.get_model("churn").aliases == {}
    # And the history lists the recorded moves newest first (the no-op move is not recorded)
    history = await fetch_json(jp_fetch, *API, "models", "churn", "alias_history")
    assert [(m["from_version"], m["to_version"]) for m in history["moves"]] == [
        (2, None),
        (1, 2),
        (None, 1),
    ]
    assert {m["name"] for m in history["moves"]} == {"churn"}


async def test_alias_history_of_one_alias(jp_fetch, seed, store):
    train(seed, store, 0.8)
    store.models.set_alias("churn", "production", 1)
    store.models.set_alias("churn", "staging", 1)
    data = await fetch_json(
        jp_fetch, *API, "models", "churn", "alias_history", params={"alias": "staging"}
    )
    assert [m["alias"] for m in data["moves"]] == ["staging"]
    await expect_error(
        jp_fetch, *API, "models", "churn", "alias_history", params={"alias": "9x"}, code=400
    )


async def test_alias_mistakes(jp_fetch, seed, store):
    train(seed, store, 0.8)
    alias = (*API, "models", "churn", "aliases")
    # a version that does not exist
    body = await expect_error(
        jp_fetch, *alias, "production", **json_body("PUT", {"version": 5}), code=404
    )
    assert "no such version" in body["message"]
    # a malformed alias, a bad version, no version
    await expect_error(jp_fetch, *alias, "1bad", **json_body("PUT", {"version": 1}), code=400)
    await expect_error(jp_fetch, *alias, "prod", **json_body("PUT", {"version": 0}), code=400)
    await expect_error(jp_fetch, *alias, "prod", **json_body("PUT", {}), code=400)
    # deleting an alias that is not set
    missing = await expect_error(jp_fetch, *alias, "nothere", method="DELETE", code=404)
    assert "nothere" not in missing["message"]
    assert store.models.alias_history("churn") == []


# -- promotion ------------------------------------------------------------------------------------
async def test_promote_passing_gate_moves_the_alias(jp_fetch, seed, store):
    # Given v1 (0.8) in production and a better v2 (0.9)
    train(seed, store, 0.8)
    train(seed, store, 0.9)
    store.models.set_alias("churn", "production", 1)
    # When v2 is promoted with a threshold and better-than-production
    data = await fetch_json(
        jp_fetch, *API, "models", "churn", "promote",
        **json_body("POST", {"version": 2, "alias": "production",
                             "require": ["metrics.accuracy >= 0.85"],
                             "better_than": "production", "metric": "accuracy"}),
    )  # fmt: skip
    # Then the table passed and the alias moved
    assert data["passed"] is True
    assert [c["passed"] for c in data["checks"]] == [True, True]
    assert data["checks"][0]["candidate"] == 0.9
    assert data["checks"][1]["reference"] == 0.8
    assert (data["move"]["from_version"], data["move"]["to_version"]) == (1, 2)
    assert store.models.get_model("churn").aliases == {"production": 2}


async def test_promote_failing_gate_is_409_with_the_table(jp_fetch, seed, store):
    # Given v1 (0.9) in production and a worse v2 (0.7)
    train(seed, store, 0.9)
    train(seed, store, 0.7)
    store.models.set_alias("churn", "production", 1)
    # When v2 is promoted
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch(
            *API, "models", "churn", "promote",
            **json_body("POST", {"version": 2, "require": ["metrics.accuracy >= 0.85"],
                                 "better_than": "production", "metric": "accuracy"}),
        )  # fmt: skip
    # Then 409 whose body is the same pass/fail table, and production did not move
    assert info.value.code == 409
    data = json.loads(info.value.response.body)
    assert data["passed"] is False
    assert [c["passed"] for c in data["checks"]] == [False, False]
    assert data["checks"][0]["candidate"] == 0.7
    assert "v1" in data["checks"][1]["detail"]
    assert data["move"] is None
    assert store.models.get_model("churn").aliases == {"production": 1}


async def test_promote_dry_run_and_latest_version(jp_fetch, seed, store):
    train(seed, store, 0.8)
    train(seed, store, 0.9)
    data = await fetch_json(
        jp_fetch, *API, "models", "churn", "promote",
        **json_body("POST", {"alias": "staging", "dry_run": True}),
    )  # fmt: skip
    assert data["candidate_version"] == 2 and data["passed"] and data["dry_run"]
    assert data["move"] is None
    assert store.models.get_model("churn").aliases == {}


async def test_promote_bad_input_is_400_before_any_work(jp_fetch, seed, store):
    train(seed, store, 0.8)
    promote = (*API, "models", "churn", "promote")
    bad = await expect_error(
        jp_fetch, *promote, **json_body("POST", {"require": ["accuracy is great"]}), code=400
    )
    assert "require[0]" in bad["message"] and "accuracy is great" not in bad["message"]
    no_metric = await expect_error(
        jp_fetch, *promote, **json_body("POST", {"better_than": "production"}), code=400
    )
    assert "metric" in no_metric["message"]
    await expect_error(jp_fetch, *promote, **json_body("POST", {"alias": "-x"}), code=400)
    await expect_error(jp_fetch, *promote, **json_body("POST", {"min_delta": -1}), code=400)
    await expect_error(jp_fetch, *promote, **json_body("POST", {"version": 9}), code=404)
    assert store.models.get_model("churn").aliases == {}


# -- authorization --------------------------------------------------------------------------------
class ReadOnly(Authorizer):
    """Let users read the mlops resource but not change it."""

    def is_authorized(self, handler, user, action, resource):
        return resource != "mlops" or action == "read"


class TestReadOnlyUser:
    @pytest.fixture
    def jp_server_config(self, store):
        return server_config(store, ServerApp={"authorizer_class": ReadOnly})

    async def test_reads_work_and_changes_are_refused(self, jp_fetch, seed, store):
        # Given a version and a user who may only read
        train(seed, store, 0.9)
        # When / Then reading works
        assert (await fetch_json(jp_fetch, *API, "models"))["total"] == 1
        # And every change is 403, with nothing changed
        for parts, method, body in (
            (("models", "churn"), "PATCH", {"description": "x"}),
            (("models", "churn", "versions", "1"), "PATCH", {"description": "x"}),
            (("models", "churn", "aliases", "production"), "PUT", {"version": 1}),
            (("models", "churn", "aliases", "production"), "DELETE", None),
            (("models", "churn", "promote"), "POST", {}),
        ):
            with pytest.raises(HTTPClientError) as info:
                await jp_fetch(
                    *API, *parts, method=method, body=None if body is None else json.dumps(body)
                )
            assert info.value.code == 403, (parts, method)
        assert store.models.get_model("churn").aliases == {}
        assert store.models.get_model("churn").description is None
