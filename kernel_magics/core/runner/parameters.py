"""The notebook's ``parameters`` cell: what it defines, and converting values to those types.

The cell tagged ``parameters`` (papermill's convention) is parsed with :mod:`ast`, never
executed: each ``name = <literal>`` (or ``name: type = <literal>``) line defines a parameter
whose type is the annotation's, else the default's. Values given as text (``-p C=0.1`` on the
command line, or a string from the Python API for a non-string parameter) are converted to that
type; values that already are Python objects must have it. Every mistake is reported before a
kernel starts, naming the parameter, the value and the expected type.
"""

from __future__ import annotations

import ast
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import (
    FileMissingError,
    NotebookFormatError,
    ParametersCellError,
    ParameterTypeError,
    UnknownParameterError,
    ValidationError,
)

PARAMETERS_TAG = "parameters"
#: Types a parameter can have; ``any`` when the default is None or not a literal.
TYPES = ("int", "float", "bool", "str", "list", "dict", "any")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
_ANNOTATIONS = {"int": "int", "float": "float", "bool": "bool", "str": "str", "list": "list",
                "dict": "dict", "List": "list", "Dict": "dict", "tuple": "list"}  # fmt: skip


@dataclass(frozen=True)
class ParameterSpec:
    """One parameter defined by the notebook's ``parameters`` cell.

    Attributes
    ----------
    name : str
        The variable name.
    type : str
        One of ``int, float, bool, str, list, dict, any``.
    default : Any
        The default value (None when it is not a literal).
    source : str
        The right-hand side as written in the cell.
    literal : bool
        Whether the default is a Python literal (recorded with the run) or an expression.
    """

    name: str
    type: str
    default: Any
    source: str
    literal: bool = True


def load_notebook(path: str | os.PathLike[str]) -> tuple[bytes, dict[str, Any]]:
    """Read and check a notebook file; return its bytes and its content as a dict.

    Raises
    ------
    FileMissingError
        When there is no such file.
    NotebookFormatError
        When the file is not valid notebook JSON.
    """
    file = Path(path)
    if not file.is_file():
        hint = " (it is a folder)" if file.is_dir() else ""
        raise FileMissingError(f"No notebook at {os.fspath(path)!r}{hint}; check the path.")
    data = file.read_bytes()
    return data, parse_notebook_bytes(data, file.name)


def parse_notebook_bytes(data: bytes, origin: str) -> dict[str, Any]:
    """Parse notebook bytes and check the nbformat 4 structure the runner relies on.

    A structural check, not a full schema validation: importing nbformat's validator costs
    seconds, and papermill validates again when it loads the notebook.

    Raises
    ------
    NotebookFormatError
        When the content is not a notebook.
    """
    try:
        content = json.loads(data)
    except ValueError as exc:
        raise NotebookFormatError(
            f"{origin} is not valid notebook JSON ({exc}). Was it saved completely? Open it in "
            "JupyterLab to repair it, or restore a stored version from the MLOps side panel's "
            "notebook history."
        ) from None
    if not isinstance(content, dict) or not isinstance(content.get("cells"), list):
        raise NotebookFormatError(f"{origin} is JSON but not a notebook (no 'cells' list).")
    if content.get("nbformat") != 4:
        raise NotebookFormatError(
            f"{origin} is nbformat {content.get('nbformat')!r}; open and save it in JupyterLab "
            "to upgrade it to nbformat 4."
        )
    if not isinstance(content.get("metadata", {}), dict):
        raise NotebookFormatError(f"{origin}: the notebook metadata is not an object.")
    for index, cell in enumerate(content["cells"]):
        ok = isinstance(cell, dict) and cell.get("cell_type") in ("code", "markdown", "raw")
        ok = ok and isinstance(cell.get("source", ""), (str, list))
        ok = ok and isinstance(cell.get("metadata", {}), dict)
        if not ok:
            raise NotebookFormatError(
                f"{origin}: cell {index} is malformed (it needs a cell_type of code, markdown or "
                "raw, and a source). Open the notebook in JupyterLab to repair it."
            )
    return content


def find_parameters_cell(nb: Mapping[str, Any]) -> int | None:
    """Index of the first code cell tagged ``parameters`` (None when there is none)."""
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") == "code" and PARAMETERS_TAG in (
            cell.get("metadata", {}).get("tags") or []
        ):
            return index
    return None


def parse_parameters(nb: Mapping[str, Any], origin: str = "notebook") -> dict[str, ParameterSpec]:
    """Return the parameters the notebook's ``parameters`` cell defines (empty without one).

    Raises
    ------
    ParametersCellError
        When the parameters cell is not valid Python.
    """
    index = find_parameters_cell(nb)
    if index is None:
        return {}
    source = nb["cells"][index].get("source", "")
    source = "".join(source) if isinstance(source, list) else source
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ParametersCellError(
            f"The parameters cell (cell {index}) of {origin} is not valid Python: {exc.msg} on "
            f"line {exc.lineno}. Fix the cell so it only assigns default values."
        ) from None
    specs: dict[str, ParameterSpec] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value, annotation = node.targets[0], node.value, None
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value, annotation = node.target, node.value, node.annotation
        else:
            continue
        if not isinstance(target, ast.Name):
            continue
        text = ast.get_source_segment(source, value) or ""
        try:
            default = ast.literal_eval(value)
            literal = True
        except (ValueError, SyntaxError, TypeError):
            default, literal = None, False
        kind = _annotation_type(annotation)
        if kind is None:
            kind = _type_of(default) if literal else "any"
        if isinstance(default, tuple):
            default = list(default)
        specs[target.id] = ParameterSpec(target.id, kind, default, text, literal)
    return specs


def _annotation_type(annotation: ast.expr | None) -> str | None:
    if isinstance(annotation, ast.Name):
        return _ANNOTATIONS.get(annotation.id)
    if isinstance(annotation, ast.Subscript) and isinstance(annotation.value, ast.Name):
        return _ANNOTATIONS.get(annotation.value.id)
    return None


def _type_of(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    for kind, cls in (("int", int), ("float", float), ("str", str), ("dict", dict)):
        if isinstance(value, cls):
            return kind
    if isinstance(value, (list, tuple)):
        return "list"
    return "any"


def convert_text(spec: ParameterSpec, text: str) -> Any:
    """Convert a value written as text (``-p name=value``) to the parameter's type.

    Raises
    ------
    ParameterTypeError
        When the text is not a value of that type.
    """
    kind = spec.type
    raw = text.strip()
    try:
        if kind == "str":
            return text
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "bool":
            if raw.lower() in _TRUE:
                return True
            if raw.lower() in _FALSE:
                return False
            raise ValueError(raw)
        if kind in ("list", "dict"):
            value = ast.literal_eval(raw)
            if isinstance(value, tuple) and kind == "list":
                value = list(value)
            if _type_of(value) != kind:
                raise ValueError(raw)
            return value
        try:  # "any": a Python literal when it parses, else the text itself
            return ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            return text
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise ParameterTypeError(_type_message(spec, text)) from None


def _type_message(spec: ParameterSpec, value: Any) -> str:
    examples = {"int": "an integer such as 3", "float": "a number such as 0.1",
                "bool": "true or false", "list": "a list literal such as [1, 2]",
                "dict": "a dict literal such as {'a': 1}", "str": "text"}  # fmt: skip
    return (
        f"Parameter {spec.name!r} expects {spec.type} (its default is {spec.source}), but got "
        f"{value!r}; give {examples.get(spec.type, 'a value')}."
    )


def convert_value(spec: ParameterSpec, value: Any) -> Any:
    """Check a Python value (API, YAML file) against the parameter's type, converting text.

    Raises
    ------
    ParameterTypeError
        When the value has another type and does not convert.
    """
    kind = spec.type
    if kind == "any":
        return value
    if isinstance(value, str) and kind != "str":
        return convert_text(spec, value)
    ok = {
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "str": isinstance(value, str),
        "list": isinstance(value, (list, tuple)),
        "dict": isinstance(value, dict),
    }[kind]
    if not ok:
        raise ParameterTypeError(_type_message(spec, value))
    if kind == "float":
        return float(value)
    if kind == "list":
        return list(value)
    return value


def validate_parameters(
    specs: Mapping[str, ParameterSpec],
    values: Mapping[str, Any],
    origin: str = "the notebook",
    *,
    from_text: bool = False,
) -> dict[str, Any]:
    """Check every name against the parameters cell and convert every value.

    Parameters
    ----------
    specs : mapping
        From :func:`parse_parameters`.
    values : mapping
        The values to pass.
    origin : str
        The notebook's name, for messages.
    from_text : bool
        The values are command-line text (every one converted, even for ``str`` parameters).

    Returns
    -------
    dict
        The converted values.

    Raises
    ------
    ParametersCellError
        When values are given but the notebook has no parameters cell.
    UnknownParameterError
        When a name is not defined in the parameters cell (the message lists the known ones).
    ParameterTypeError
        When a value cannot be converted.
    """
    if not values:
        return {}
    if not specs:
        raise ParametersCellError(
            f"{origin} has no cell tagged 'parameters', so {', '.join(values)} cannot be set. "
            "In JupyterLab select the cell that assigns the defaults, open the property "
            "inspector (gear icon, right sidebar) and add the cell tag 'parameters'."
        )
    out = {}
    for name, value in values.items():
        spec = specs.get(name)
        if spec is None:
            import difflib

            close = difflib.get_close_matches(name, list(specs), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise UnknownParameterError(
                f"{origin} has no parameter {name!r}.{hint} Its parameters cell defines: "
                f"{', '.join(specs)}."
            )
        out[name] = convert_text(spec, value) if from_text else convert_value(spec, value)
    return out


def parse_assignments(items: Sequence[str], flag: str = "-p") -> dict[str, str]:
    """Split ``name=value`` strings at the first ``=`` (so values may contain ``=``).

    Raises
    ------
    ValidationError
        When an item has no ``=`` or an empty name.
    """
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise ValidationError(
                f"{flag} {item!r} is not name=value; write e.g. {flag} C=0.1 (the name must be a "
                "Python identifier)."
            )
        out[name] = value
    return out


def split_sweep_values(text: str) -> list[str]:
    """Split ``0.01,0.1,1`` at top-level commas (commas inside [], {}, () or quotes stay).

    Raises
    ------
    ValidationError
        When a value is empty or brackets do not balance.
    """
    parts: list[str] = []
    current: list[str] = []
    depth, quote = 0, ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "[{(":
            depth += 1
        elif char in "]})":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    if depth != 0 or quote or any(not p.strip() for p in parts):
        raise ValidationError(
            f"Cannot split sweep values {text!r}: give comma-separated values such as "
            "C=0.01,0.1,1 (quote or bracket values that contain commas)."
        )
    return parts


def load_parameters_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read parameters from a YAML (or JSON) file holding one mapping.

    Raises
    ------
    FileMissingError
        When the file does not exist.
    ValidationError
        When it is not a mapping of names to values.
    """
    from ..yaml_files import read_yaml_file

    file = Path(path)
    data = read_yaml_file(file, FileMissingError(f"No parameters file at {os.fspath(path)!r}."))
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise ValidationError(
            f"{file.name} must hold a mapping of parameter names to values, e.g. 'C: 0.1'."
        )
    return data
