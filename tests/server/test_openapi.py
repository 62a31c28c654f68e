"""``server/openapi.yaml`` documents exactly the routes and verbs the handlers serve."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from test_auth import routes, verbs_of

import kernel_magics.server

SPEC = Path(kernel_magics.server.__file__).parent / "openapi.yaml"


def spec_paths() -> dict[str, set[str]]:
    spec = yaml.safe_load(SPEC.read_text())
    return {path: {v for v in item if v in ("get", "post", "put", "patch", "delete")}
            for path, item in spec["paths"].items()}  # fmt: skip


def route_paths() -> dict[str, set[str]]:
    found = {}
    for pattern, handler in routes():
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern)
        path = path.removeprefix("/mlops/api").removesuffix("/?")
        found[path] = set(verbs_of(handler))
    return found


def test_openapi_lists_every_route_and_verb():
    assert spec_paths() == route_paths()


def test_openapi_server_is_the_namespace():
    from kernel_magics.server.app import API_NAMESPACE

    spec = yaml.safe_load(SPEC.read_text())
    assert spec["servers"][0]["url"] == f"/{API_NAMESPACE}"
    assert spec["info"]["version"]


def test_every_operation_documents_its_errors_or_is_trivial():
    spec = yaml.safe_load(SPEC.read_text())
    for path, item in spec["paths"].items():
        for verb, op in item.items():
            if verb == "parameters":
                continue
            assert op.get("summary"), f"{verb} {path} has no summary"
            if "{" in path:
                assert "404" in op["responses"], f"{verb} {path} does not document 404"


def test_the_committed_spec_is_the_one_the_models_generate():
    # Given the spec built from the routes, their Operation contracts and the pydantic models
    from kernel_magics.server.openapi import render

    # Then openapi.yaml is exactly that (regenerate: python -m kernel_magics.server.openapi)
    assert SPEC.read_text() == render(), (
        "openapi.yaml is stale: python -m kernel_magics.server.openapi"
    )


@pytest.mark.parametrize(("pattern", "handler"), routes())
def test_every_verb_declares_its_contract_and_every_contract_is_served(pattern, handler):
    assert set(handler.operations) == set(verbs_of(handler)), handler.__name__


def test_every_json_answer_names_its_response_schema_and_its_errors():
    # Given the spec
    spec = yaml.safe_load(SPEC.read_text())
    schemas = spec["components"]["schemas"]
    for path, item in spec["paths"].items():
        for verb, op in item.items():
            if verb == "parameters":
                continue
            ok = next(code for code in op["responses"] if code.startswith("2"))
            content = op["responses"][ok]["content"]
            # Then a JSON answer refers to a model's schema, which exists with its fields
            if "application/json" in content:
                ref = content["application/json"]["schema"]["$ref"]
                name = ref.rsplit("/", 1)[1]
                assert schemas[name]["properties"], f"{verb} {path}: {name} has no fields"
            # And every route documents 403 (authorization)
            assert "403" in op["responses"], f"{verb} {path} does not document 403"


def test_the_spec_shows_a_model_change():
    # Given a response model with one more field
    from kernel_magics.server import openapi
    from kernel_magics.server.handlers.status import StatusHandler
    from kernel_magics.server.models import DescribeStatusResponse

    class Wider(DescribeStatusResponse):
        extra_field: int

    original = StatusHandler.operations["get"]
    import dataclasses

    StatusHandler.operations["get"] = dataclasses.replace(original, response=Wider)
    try:
        # When the spec is built
        text = openapi.render()
    finally:
        StatusHandler.operations["get"] = original
    # Then it differs from the committed one, so the staleness test would fail
    assert "extra_field" in text and text != SPEC.read_text()


def test_the_spec_is_valid_openapi_3_1():
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(yaml.safe_load(SPEC.read_text()))


async def test_real_answers_match_the_schemas_the_spec_names(jp_fetch, seed):
    # Given a store with a run (params, metrics, an artifact, a notebook version)
    import json

    from jsonschema import Draft202012Validator
    from server_helpers import notebook_json

    version = seed.version("nb.ipynb", notebook_json("x = 1"))
    run_id = seed.run("e", params={"C": 1}, metrics={"acc": 0.5}, version_id=version)
    seed.artifact(run_id, "a.txt", b"x")
    spec = yaml.safe_load(SPEC.read_text())
    urls = {
        "/status": ("status",),
        "/experiments": ("experiments",),
        "/runs": ("runs",),
        "/runs/{run_id}": ("runs", run_id),
        "/runs/{run_id}/metrics": ("runs", run_id, "metrics"),
        "/runs/{run_id}/metrics/{key}": ("runs", run_id, "metrics", "acc"),
        "/runs/{run_id}/artifacts": ("runs", run_id, "artifacts"),
        "/notebook_versions": ("notebook_versions",),
        "/notebook_versions/{version_id}": ("notebook_versions", str(version)),
        "/notebook_diffs": ("notebook_diffs",),
    }
    params = {"/notebook_versions": {"path": "nb.ipynb"},
              "/notebook_diffs": {"a": str(version), "b": str(version)}}  # fmt: skip
    for path, parts in urls.items():
        # When the route answers
        response = await jp_fetch("mlops", "api", *parts, params=params.get(path, {}))
        body = json.loads(response.body)
        # Then the answer is valid against the schema the spec documents for it
        ref = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        schema = {**ref["schema"], "components": spec["components"]}
        errors = list(Draft202012Validator(schema).iter_errors(body))
        assert not errors, f"{path}: {errors[0].message}"
