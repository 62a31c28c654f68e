"""``server/openapi.yaml`` documents exactly the routes and verbs the handlers serve."""

from __future__ import annotations

import re
from pathlib import Path

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
