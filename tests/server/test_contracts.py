"""``extension/src/api.ts`` mirrors the server's pydantic models one for one.

The test parses the ``MlopsAPI`` namespace of api.ts (interfaces, their fields, ``?`` and
``| null``, and the string unions) and compares it with ``kernel_magics.server.models``: a model
without its ``I<Name>`` interface (or the other way round), a field on one side only, a field
optional or nullable on one side only, a field of another type, or a status/source union that
differs from ``core.names`` fails with the difference named.
"""

from __future__ import annotations

import re
import types
import typing
from pathlib import Path
from typing import Any, Literal, Union

import pydantic
import pytest

from kernel_magics.core.names import RUN_SOURCES, RUN_STATUSES
from kernel_magics.server import models

API_TS = Path(__file__).parents[2] / "extension" / "src" / "api.ts"


# -- api.ts, parsed ------------------------------------------------------------------------------
def _namespace(text: str) -> str:
    start = text.index("export namespace MlopsAPI {")
    depth, i = 0, text.index("{", start)
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[i + 1 : j]
    raise AssertionError("unbalanced MlopsAPI namespace")


def _strip_comments(text: str) -> str:
    return re.sub(r"//[^\n]*", "", re.sub(r"/\*.*?\*/", "", text, flags=re.S))


def parse_api_ts(text: str) -> tuple[dict[str, dict], dict[str, tuple[str, ...]]]:
    """Return ``(interfaces, unions)``: ``{IName: {"extends": [...], "fields": {name: (optional,
    type)}}}`` and ``{TypeName: (literal, ...)}``."""
    body = _strip_comments(_namespace(text))
    unions = {
        name: tuple(re.findall(r"'([^']*)'", value))
        for name, value in re.findall(r"export type (\w+)\s*=\s*([^;]+);", body)
    }
    interfaces = {}
    pattern = r"export interface (\w+)(?:\s+extends\s+([\w\s,]+?))?\s*\{([^{}]*)\}"
    for name, extends, fields_text in re.findall(pattern, body):
        fields = {}
        for field, optional, type_ in re.findall(r"(\w+)(\??)\s*:\s*([^;]+);", fields_text):
            fields[field] = (bool(optional), " ".join(type_.split()))
        bases = [b.strip() for b in extends.split(",") if b.strip()]
        interfaces[name] = {"extends": bases, "fields": fields}
    return interfaces, unions


INTERFACES, UNIONS = parse_api_ts(API_TS.read_text())


def ts_fields(name: str) -> dict[str, tuple[bool, str]]:
    """An interface's fields, inherited ones included."""
    found: dict[str, tuple[bool, str]] = {}
    for base in INTERFACES[name]["extends"]:
        found.update(ts_fields(base))
    found.update(INTERFACES[name]["fields"])
    return found


# -- the Python side ------------------------------------------------------------------------------
API_MODELS = {
    name: getattr(models, name)
    for name in models.__all__
    if name not in ("Request", "Response")
    and isinstance(getattr(models, name), type)
    and issubclass(getattr(models, name), pydantic.BaseModel)
}


def _split_none(annotation: Any) -> tuple[Any, bool]:
    if typing.get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        nullable = len(args) < len(typing.get_args(annotation))
        return (args[0] if len(args) == 1 else annotation), nullable
    return annotation, False


def ts_type_of(annotation: Any) -> str:
    """The TypeScript type api.ts must use for a Python annotation (without ``| null``)."""
    inner, _ = _split_none(annotation)
    if typing.get_origin(inner) is typing.Annotated:  # constraints (lengths) are not types
        inner = typing.get_args(inner)[0]
    origin, args = typing.get_origin(inner), typing.get_args(inner)
    if inner is str:
        return "string"
    if inner in (int, float):
        return "number"
    if inner is bool:
        return "boolean"
    if inner is Any:
        return "unknown"
    if isinstance(inner, type) and issubclass(inner, pydantic.BaseModel):
        return f"I{inner.__name__}"
    if origin is Literal:
        named = [n for n, values in UNIONS.items() if set(values) == set(args)]
        return named[0] if named else " | ".join(f"'{a}'" for a in args)
    if origin is list:
        return f"{ts_type_of(args[0])}[]"
    if origin is dict:
        return f"Record<{ts_type_of(args[0])}, {ts_type_of(args[1])}>"
    raise AssertionError(f"no TypeScript mapping for {annotation!r}")


def py_fields(model: type[pydantic.BaseModel]) -> dict[str, tuple[bool, bool, Any]]:
    """``{json name: (optional, nullable, annotation)}`` of a model."""
    found = {}
    for name, info in model.model_fields.items():
        _, nullable = _split_none(info.annotation)
        found[info.serialization_alias or info.alias or name] = (
            not info.is_required(),
            nullable,
            info.annotation,
        )
    return found


# -- the contract -----------------------------------------------------------------------------------
def test_every_model_has_its_interface_and_every_interface_its_model():
    expected = {f"I{name}" for name in API_MODELS}
    assert set(INTERFACES) - expected == set(), "interfaces in api.ts without a Python model"
    assert expected - set(INTERFACES) == set(), "Python models without an interface in api.ts"


@pytest.mark.parametrize("name", sorted(API_MODELS))
def test_fields_match_one_for_one(name):
    # Given
    model = API_MODELS[name]
    python = py_fields(model)
    typescript = ts_fields(f"I{name}")
    # Then the same fields
    assert sorted(set(python) - set(typescript)) == [], f"fields missing in I{name}"
    assert sorted(set(typescript) - set(python)) == [], f"fields of I{name} not in {name}"
    is_request = issubclass(model, models.Request)
    for field, (optional, nullable, annotation) in python.items():
        ts_optional, ts_type = typescript[field]
        # optional (`?`) exactly when the field has a default
        assert ts_optional == optional, f"{name}.{field}: optional is {optional} in Python"
        parts = [p.strip() for p in ts_type.split("|")]
        ts_nullable = "null" in parts
        # A request's optional field is left out rather than sent as null.
        assert ts_nullable == (nullable and not is_request), f"{name}.{field}: nullable differs"
        bare = " | ".join(p for p in parts if p != "null")
        expected = ts_type_of(annotation)
        assert set(bare.split(" | ")) == set(expected.split(" | ")), (
            f"{name}.{field}: api.ts says {bare}, the model means {expected}"
        )


def test_status_and_source_unions_are_the_names_of_core():
    assert UNIONS["RunStatus"] == RUN_STATUSES
    assert UNIONS["RunSource"] == RUN_SOURCES
    assert typing.get_args(models.RunSummary.model_fields["status"].annotation) == RUN_STATUSES
    assert typing.get_args(models.RunSummary.model_fields["source"].annotation) == RUN_SOURCES


def test_the_parser_sees_a_difference():
    # Given an api.ts where one field is missing and one is extra
    text = API_TS.read_text().replace("    run_count: number;", "    runs_count: number;")
    # When
    interfaces, _ = parse_api_ts(text)
    # Then the comparison would fail on both names
    fields = interfaces["IExperiment"]["fields"]
    assert "runs_count" in fields and "run_count" not in fields
    assert set(py_fields(models.Experiment)) != set(fields)


def test_the_namespace_constant_is_the_same_on_both_sides():
    from kernel_magics.server.app import API_NAMESPACE

    assert f"export const API_NAMESPACE = '{API_NAMESPACE}';" in API_TS.read_text()
