"""Build ``openapi.yaml`` from the routes and the contracts their handlers declare.

The spec is generated, never edited: ``python -m kernel_magics.server.openapi`` rewrites
``kernel_magics/server/openapi.yaml`` and ``--check`` fails when the committed file differs from
what the code declares (``tests/server/test_openapi.py`` does the same).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .contract import Operation
from .models import ErrorResponse

#: Where the generated spec is committed.
SPEC_PATH = Path(__file__).with_name("openapi.yaml")

#: The version of the REST contract (bump it when a field or route changes incompatibly).
API_VERSION = "0.2.0"

_REF = "#/components/schemas/{model}"

_DESCRIPTION = """\
REST API of the Jupyter server extension `kernel_magics`, used by the JupyterLab side panel.
Generated from the pydantic models in kernel_magics/server/models/ by
`python -m kernel_magics.server.openapi`; do not edit by hand.
Every route needs an authenticated Jupyter user (token header, `?token=`, or cookie + XSRF) who
is authorized for the `mlops` resource (`read` for GET, `write` for POST, PUT, PATCH and DELETE;
routes that start a process say so). Errors are JSON
`{"message", "reason"}`: 400 invalid input, 403 not allowed, 404 not found, 409 conflict,
500 anything else (no traceback). Unknown query arguments are refused with 400, except
Jupyter's own (`token`, `_xsrf`) and JupyterLab's cache buster (a bare numeric argument such
as `&1700000000000`). Paths are relative to the Jupyter root, and answers never name a file
outside it. Reads never write: a run whose process died is shown as `crashed`.
"""

#: The named groups of the route patterns, as path parameters.
PATH_PARAMETERS: dict[str, dict[str, Any]] = {
    "run_id": {
        "description": "A full run id or a unique prefix of at least 4 hex characters.",
        "schema": {"type": "string"},
    },
    "key": {"description": "A metric name; may contain /.", "schema": {"type": "string"}},
    "path": {
        "description": "An artifact path inside the run; '..' and absolute paths are 400.",
        "schema": {"type": "string"},
    },
    "version_id": {"description": "A notebook version id.", "schema": {"type": "integer"}},
    "name": {"description": "A registered model's name.", "schema": {"type": "string"}},
    "version": {"description": "A model version number.", "schema": {"type": "integer"}},
    "alias": {"description": "A model alias, e.g. production.", "schema": {"type": "string"}},
    "deployment_id": {"description": "A deployment id.", "schema": {"type": "integer"}},
    "schedule_id": {"description": "A schedule id.", "schema": {"type": "integer"}},
}

_ERROR_TEXT = {
    400: "Invalid input; the message names the field and the fix.",
    403: "Not authenticated, or not authorized for the mlops resource.",
    404: "Not found.",
    409: "Conflicts with what exists.",
}


def operations() -> list[tuple[str, str, list[str], Operation]]:
    """Return ``(spec path, verb, path parameters, operation)`` for every route and verb."""
    import re

    from .app import routes

    found = []
    for pattern, handler in routes():
        names = re.findall(r"\(\?P<(\w+)>", pattern)
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern)
        path = path.split("/mlops/api", 1)[1].removesuffix("/?")
        for verb, operation in handler.operations.items():
            found.append((path, verb, names, operation))
    return found


def build_spec() -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of the REST API as plain data."""
    from .app import API_NAMESPACE

    ops = operations()
    models: set[type[BaseModel]] = {ErrorResponse}
    for _, _, _, op in ops:
        models.update(m for m in (op.response, op.body) if m is not None)
    ordered = sorted(models, key=lambda m: m.__name__)
    refs, top = models_json_schema([(m, "serialization") for m in ordered], ref_template=_REF)
    schemas = {name: _clean(schema) for name, schema in sorted(top.get("$defs", {}).items())}

    def ref(model) -> dict[str, str]:
        return refs[(model, "serialization")]

    paths: dict[str, dict[str, Any]] = {}
    for path, verb, names, op in ops:
        item = paths.setdefault(path, {})
        if names:
            item["parameters"] = [
                {"name": n, "in": "path", "required": True, **PATH_PARAMETERS[n]} for n in names
            ]
        item[verb] = _operation(op, ref)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "jupyter-mlops server extension",
            "version": API_VERSION,
            "description": _DESCRIPTION,
        },
        "servers": [{"url": f"/{API_NAMESPACE}"}],
        "security": [{"token": []}],
        "components": {
            "securitySchemes": {
                "token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`token <jupyter token>`",
                }
            },
            "responses": {
                "Error": {
                    "description": "An error with a message that names the problem and the fix.",
                    "content": {"application/json": {"schema": ref(ErrorResponse)}},
                }
            },
            "schemas": schemas,
        },
        "paths": paths,
    }


def _operation(op: Operation, ref) -> dict[str, Any]:
    spec: dict[str, Any] = {"summary": op.summary}
    if op.description:
        spec["description"] = op.description
    if op.query is not None:
        spec["parameters"] = _query_parameters(op.query)
    if op.body is not None:
        spec["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": _clean(op.body.model_json_schema())}},
        }
    if op.response is None:
        content = {op.media_type: {"schema": {"type": "string", "format": "binary"}}}
        ok = {"description": "The bytes.", "content": content}
    else:
        doc = (op.response.__doc__ or op.response.__name__).strip().splitlines()[0]
        ok = {"description": doc, "content": {op.media_type: {"schema": ref(op.response)}}}
    responses: dict[str, Any] = {str(op.status): ok}
    for code in sorted({*op.errors, 403}):
        responses[str(code)] = {"$ref": "#/components/responses/Error"}
    spec["responses"] = responses
    return spec


def _query_parameters(model) -> list[dict[str, Any]]:
    schema = _clean(model.model_json_schema())
    required = set(schema.get("required", ()))
    found = []
    for name, prop in schema["properties"].items():
        prop = _without_null(dict(prop))
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
        if "description" in prop:
            param["description"] = prop.pop("description")
        param["schema"] = prop
        if prop.get("type") == "array":  # order_by=a,b (what api.ts sends)
            param.update(style="form", explode=False)
        found.append(param)
    return found


def _without_null(prop: dict[str, Any]) -> dict[str, Any]:
    """A query argument is absent rather than null: ``X or null`` (default null) becomes ``X``."""
    options = [o for o in prop.get("anyOf", ()) if o != {"type": "null"}]
    if "anyOf" not in prop or len(options) != 1 or prop.get("default") is not None:
        return prop
    return {**options[0], **{k: v for k, v in prop.items() if k not in ("anyOf", "default")}}


def _clean(schema: Any) -> Any:
    """Drop pydantic's generated ``title`` keys (the names say it already)."""
    if isinstance(schema, dict):
        return {k: _clean(v) for k, v in schema.items() if k != "title" or isinstance(v, dict)}
    if isinstance(schema, list):
        return [_clean(v) for v in schema]
    return schema


def render() -> str:
    """Return the spec as the YAML text committed in ``openapi.yaml``."""
    import yaml

    class Dumper(yaml.SafeDumper):
        """Multi-line strings as ``|`` blocks, so the description reads as written."""

    def text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    header = "# Generated by `python -m kernel_magics.server.openapi`; do not edit by hand.\n"
    body = yaml.dump(build_spec(), Dumper=Dumper, sort_keys=False, allow_unicode=True, width=100)
    return header + body


def main(argv: list[str] | None = None) -> int:
    """Write ``openapi.yaml``, or with ``--check`` report whether it is up to date."""
    args = sys.argv[1:] if argv is None else argv
    text = render()
    if "--check" in args:
        if SPEC_PATH.read_text() != text:
            print(f"{SPEC_PATH} is out of date; run python -m kernel_magics.server.openapi")
            return 1
        return 0
    SPEC_PATH.write_text(text)
    print(f"wrote {SPEC_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
