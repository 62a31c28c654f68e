"""The parameters cell: parsing, typed conversion, and the errors users see (no kernels)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kernel_magics.core.runner.parameters import (
    convert_text,
    load_notebook,
    load_parameters_file,
    parse_assignments,
    parse_parameters,
    split_sweep_values,
    validate_parameters,
)
from kernel_magics.errors import (
    FileMissingError,
    NotebookFormatError,
    ParametersCellError,
    ParameterTypeError,
    UnknownParameterError,
    ValidationError,
)

NOTEBOOKS = Path(__file__).parents[1] / "fixtures" / "notebooks"


@pytest.fixture(scope="module")
def typed_specs():
    _, nb = load_notebook(NOTEBOOKS / "typed.ipynb")
    return parse_parameters(nb, "typed.ipynb")


def test_types_come_from_defaults_and_annotations(typed_specs):
    kinds = {name: spec.type for name, spec in typed_specs.items()}
    assert kinds == {"i": "int", "f": "float", "b": "bool", "s": "str", "l": "list",
                     "d": "dict", "n": "any", "a": "float"}  # fmt: skip
    assert typed_specs["l"].default == [1, 2]
    assert typed_specs["a"].source == "1"


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("i", "42", 42),
        ("i", "-7", -7),
        ("f", "1e-3", 0.001),
        ("f", "3", 3.0),
        ("a", "2", 2.0),
        ("b", "true", True),
        ("b", "No", False),
        ("b", "1", True),
        ("s", "a=b=c", "a=b=c"),
        ("s", " spaced ", " spaced "),
        ("l", "[3, 'x', 4.5]", [3, "x", 4.5]),
        ("l", "(1, 2)", [1, 2]),
        ("d", "{'k': [1, 2]}", {"k": [1, 2]}),
        ("n", "12", 12),
        ("n", "[1]", [1]),
        ("n", "not a literal", "not a literal"),
    ],
)
def test_text_values_convert_to_the_default_type(typed_specs, name, text, expected):
    value = convert_text(typed_specs[name], text)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        ("i", "0.5", ["'i'", "int", "'0.5'"]),
        ("i", "ten", ["'i'", "int", "'ten'"]),
        ("f", "fast", ["'f'", "float"]),
        ("b", "maybe", ["'b'", "bool", "true or false"]),
        ("l", "{'a': 1}", ["'l'", "list"]),
        ("l", "[1, 2", ["'l'", "list"]),
        ("d", "[1]", ["'d'", "dict"]),
    ],
)
def test_bad_text_names_parameter_value_and_type(typed_specs, name, text, words):
    with pytest.raises(ParameterTypeError) as info:
        convert_text(typed_specs[name], text)
    for word in words:
        assert word in str(info.value)


def test_python_values_are_checked_not_coerced(typed_specs):
    out = validate_parameters(typed_specs, {"f": 2, "l": (1,), "s": "x", "i": "5", "n": None})
    assert out == {"f": 2.0, "l": [1], "s": "x", "i": 5, "n": None}
    assert type(out["f"]) is float
    with pytest.raises(ParameterTypeError, match="'i' expects int"):
        validate_parameters(typed_specs, {"i": True})
    with pytest.raises(ParameterTypeError, match="'b' expects bool"):
        validate_parameters(typed_specs, {"b": 1})
    with pytest.raises(ParameterTypeError, match="'s' expects str"):
        validate_parameters(typed_specs, {"s": 3})


def test_unknown_parameter_lists_the_known_ones(typed_specs):
    with pytest.raises(UnknownParameterError) as info:
        validate_parameters(typed_specs, {"ii": 1}, "typed.ipynb")
    message = str(info.value)
    assert "typed.ipynb has no parameter 'ii'" in message
    assert "Did you mean 'i'?" in message
    assert "i, f, b, s, l, d, n, a" in message


def test_notebook_without_parameters_cell():
    _, nb = load_notebook(NOTEBOOKS / "no_parameters.ipynb")
    specs = parse_parameters(nb)
    assert specs == {}
    assert validate_parameters(specs, {}) == {}
    with pytest.raises(ParametersCellError, match="no cell tagged 'parameters'.*add the cell tag"):
        validate_parameters(specs, {"x": "1"}, "no_parameters.ipynb", from_text=True)


def test_parameters_cell_with_syntax_error():
    nb = {
        "cells": [{"cell_type": "code", "source": "x = = 1", "metadata": {"tags": ["parameters"]}}]
    }
    with pytest.raises(ParametersCellError, match="not valid Python"):
        parse_parameters(nb, "bad.ipynb")


def test_broken_and_missing_notebooks(tmp_path):
    with pytest.raises(NotebookFormatError, match="broken.ipynb is not valid notebook JSON"):
        load_notebook(NOTEBOOKS / "broken.ipynb")
    with pytest.raises(FileMissingError, match="No notebook at"):
        load_notebook(tmp_path / "nope.ipynb")
    (tmp_path / "list.ipynb").write_text("[1, 2]")
    with pytest.raises(NotebookFormatError, match="not a notebook"):
        load_notebook(tmp_path / "list.ipynb")
    (tmp_path / "v3.ipynb").write_text('{"cells": [], "nbformat": 3}')
    with pytest.raises(NotebookFormatError, match="nbformat 3"):
        load_notebook(tmp_path / "v3.ipynb")


def test_assignments_split_at_the_first_equals():
    assert parse_assignments(["url=http://x/?a=b", "C=0.1"]) == {"url": "http://x/?a=b", "C": "0.1"}
    with pytest.raises(ValidationError, match="not name=value"):
        parse_assignments(["C"])
    with pytest.raises(ValidationError, match="not name=value"):
        parse_assignments(["1x=3"])


def test_sweep_values_split_at_top_level_commas():
    assert split_sweep_values("0.01,0.1,1") == ["0.01", "0.1", "1"]
    assert split_sweep_values("[1, 2],[3],'a,b'") == ["[1, 2]", "[3]", "'a,b'"]
    with pytest.raises(ValidationError, match="Cannot split"):
        split_sweep_values("1,,2")
    with pytest.raises(ValidationError, match="Cannot split"):
        split_sweep_values("[1,2")


def test_parameters_file(tmp_path):
    good = tmp_path / "p.yaml"
    good.write_text("C: 0.5\nlayers: [1, 2]\nname: x=y\n")
    assert load_parameters_file(good) == {"C": 0.5, "layers": [1, 2], "name": "x=y"}
    bad = tmp_path / "bad.yaml"
    bad.write_text("- 1\n- 2\n")
    with pytest.raises(ValidationError, match="mapping of parameter names"):
        load_parameters_file(bad)
    with pytest.raises(FileMissingError):
        load_parameters_file(tmp_path / "missing.yaml")
