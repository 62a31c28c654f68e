"""The run filter language: parsed by a lark grammar into SQLAlchemy clauses.

Filters read like MLflow's::

    metrics.acc > 0.9 and params.C = '0.1'
    (tags.team = "vision" or status = 'failed') and metrics.`val loss` < 0.3
    params.penalty in ('l1', 'l2') and name like 'sweep-%'

Expressions are parsed by a lark grammar into SQLAlchemy clauses, so user text never reaches the
SQL string. Each metric/param/tag condition becomes ``runs.id IN (SELECT run_id ... WHERE key =
:k AND value <op> :v)``, which the ``(key, value)`` indexes answer without scanning every run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Float, and_, not_, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from ...errors import FilterSyntaxError
from .schema import experiments, latest_metrics, params, runs, tags

GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr (_OR and_expr)*
?and_expr: atom (_AND atom)*
?atom: comparison | "(" or_expr ")"
comparison: field OP value         -> compare
          | field _IN "(" value ("," value)* ")" -> in_list
          | field _NOT_IN "(" value ("," value)* ")" -> not_in_list
field: NAME ("." (NAME | QUOTED_NAME))?
?value: SIGNED_NUMBER -> number
      | STRING -> string
order_list: order_item ("," order_item)*
order_item: field DIRECTION?
DIRECTION.2: /(?i:asc|desc)\b/
OP: "<=" | ">=" | "!=" | "<>" | "==" | "=" | "<" | ">" | /(?i:not\s+ilike|not\s+like|ilike|like)\b/
_AND.2: /(?i:and)\b/
_OR.2: /(?i:or)\b/
_NOT_IN.3: /(?i:not\s+in)\b/
_IN.2: /(?i:in)\b/
NAME: /[A-Za-z_][A-Za-z0-9_\-:\/]*/
QUOTED_NAME: /`[^`]+`/
STRING: /'(?:[^'\\]|\\.)*'/ | /"(?:[^"\\]|\\.)*"/
%import common.SIGNED_NUMBER
%import common.WS
%ignore WS
"""

#: Run attributes holding numbers (epoch seconds).
NUMERIC_ATTRIBUTES = frozenset({"start_time", "end_time"})
#: Run columns a filter or an order-by may name directly (also as ``attributes.<name>``).
ATTRIBUTES = {
    "id": runs.c.id,
    "run_id": runs.c.id,
    "name": runs.c.name,
    "status": runs.c.status,
    "source": runs.c.source,
    "start_time": runs.c.start_time,
    "end_time": runs.c.end_time,
    "parent_run_id": runs.c.parent_run_id,
    "notebook_path": runs.c.notebook_path,
    "user": runs.c.user,
    "experiment": experiments.c.name,
}
ENTITIES = {"metrics": latest_metrics, "metric": latest_metrics, "params": params,
            "param": params, "tags": tags, "tag": tags}  # fmt: skip


@lru_cache(maxsize=2)
def _parser(start: str):
    from lark import Lark

    return Lark(GRAMMAR, start=start, parser="lalr", maybe_placeholders=False)


@dataclass(frozen=True)
class Field:
    """A parsed field reference: ``entity`` is metrics/params/tags/attributes."""

    entity: str
    key: str


def _parse(text: str, start: str):
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput

    try:
        return _parser(start).parse(text)
    except UnexpectedEOF:
        raise FilterSyntaxError("The expression ends too early", text, len(text.rstrip())) from None
    except UnexpectedCharacters as exc:
        pos = exc.pos_in_stream or 0
        raise FilterSyntaxError(
            f"Unexpected character {text[pos]!r} at position {pos}",
            text, pos,
        ) from None  # fmt: skip
    except UnexpectedInput as exc:
        pos = getattr(exc, "pos_in_stream", None) or 0
        token = getattr(exc, "token", None)
        if token is not None and token.type == "$END":
            raise FilterSyntaxError(
                "The expression ends too early", text, len(text.rstrip())
            ) from None
        what = f"Unexpected {str(token)!r}" if token is not None else "Unexpected input"
        raise FilterSyntaxError(f"{what} at position {pos}", text, pos) from None


def _field(tree, text: str) -> Field:
    tokens = [str(t) for t in tree.children]
    if len(tokens) == 1:
        entity, key = "attributes", tokens[0]
    else:
        entity, key = tokens[0].lower(), tokens[1].strip("`")
    if entity == "attributes" or entity == "attribute":
        if key not in ATTRIBUTES:
            raise FilterSyntaxError(
                f"Unknown field {key!r}: use metrics.<name>, params.<name>, tags.<name> or one of "
                f"{', '.join(sorted(ATTRIBUTES))}",
                text, text.find(key),
            )  # fmt: skip
        return Field("attributes", key)
    if entity not in ENTITIES:
        raise FilterSyntaxError(
            f"Unknown entity {entity!r}: use metrics., params., tags. or attributes.",
            text, text.find(entity),
        )  # fmt: skip
    return Field(entity.rstrip("s") + "s", key)


_ESCAPE = re.compile(r"\\(.)")


def _value(tree, text: str) -> Any:
    token = tree.children[0]
    raw = str(token)
    if tree.data == "number":
        number = float(raw)
        integral = number.is_integer() and "." not in raw and "e" not in raw.lower()
        return int(number) if integral else number
    body = raw[1:-1]

    def unescape(match: re.Match) -> str:
        char = match.group(1)
        if char not in "\\'\"":
            position = token.start_pos + 1 + match.start()
            raise FilterSyntaxError(
                f"Unknown escape \\{char} at position {position}: "
                "only \\\\, \\' and \\\" are allowed",
                text, position,
            )  # fmt: skip
        return char

    return _ESCAPE.sub(unescape, body)


def _typed(field: Field, value: Any, text: str) -> Any:
    """Check a literal against the field's type; ISO dates become epoch seconds for times."""
    if field.entity != "attributes" or field.key not in NUMERIC_ATTRIBUTES:
        return value
    if isinstance(value, str):
        import datetime as dt

        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise FilterSyntaxError(
                f"{field.key} is a time: compare it to a number (epoch seconds) or an ISO date "
                f"such as '2026-01-31' or '2026-01-31T12:00', not {value!r}",
                text, text.find(value),
            ) from None  # fmt: skip
        if parsed.tzinfo is None:
            parsed = parsed.astimezone()  # a naive date is local time, as the CLI prints it
        return parsed.timestamp()
    return value


def _apply(column, op: str, value: Any) -> ColumnElement:
    op = " ".join(op.lower().split())
    if op in ("=", "=="):
        return column == value
    if op in ("!=", "<>"):
        return column != value
    if op == "<":
        return column < value
    if op == "<=":
        return column <= value
    if op == ">":
        return column > value
    if op == ">=":
        return column >= value
    if op == "like":
        return column.like(str(value))
    if op == "ilike":
        return column.ilike(str(value))
    if op == "not like":
        return not_(column.like(str(value)))
    if op == "not ilike":
        return not_(column.ilike(str(value)))
    raise AssertionError(op)


def _condition(field: Field, build, attributes: Mapping[str, Any]) -> ColumnElement:
    if field.entity == "attributes":
        return build(attributes[field.key])
    table = ENTITIES[field.entity]
    value_col = table.c.value
    return runs.c.id.in_(select(table.c.run_id).where(table.c.key == field.key, build(value_col)))


def _numeric_for_params(field: Field, column, value):
    # Params and tags are stored as text; compare numerically when the literal is a number.
    if field.entity in ("params", "tags") and isinstance(value, (int, float)):
        return NumericText(column)
    if field.entity == "metrics" and isinstance(value, str):
        raise FilterSyntaxError(
            f"metrics.{field.key} is a number; compare it to a number, not {value!r}"
        )
    return column


class NumericText(FunctionElement):
    """The number a text column holds, or NULL when it holds something else ('auto', 'l2').

    Params and tags are text. Comparing them with a number must neither fail (PostgreSQL
    refuses to cast 'auto') nor pretend 'auto' is 0 (SQLite's CAST), so each dialect checks
    the text first.
    """

    type = Float()
    name = "numeric_text"
    inherit_cache = True


_NUMBER_RE = r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$"


@compiles(NumericText, "postgresql")
def _numeric_text_pg(element, compiler, **kw):
    arg = compiler.process(element.clauses, **kw)
    return f"(CASE WHEN {arg} ~ '{_NUMBER_RE}' THEN CAST({arg} AS DOUBLE PRECISION) END)"


@compiles(NumericText)
def _numeric_text_sqlite(element, compiler, **kw):
    arg = compiler.process(element.clauses, **kw)
    # SQLite has no regex: digits present, and nothing but digits, sign, dot and exponent.
    return (
        f"(CASE WHEN {arg} GLOB '*[0-9]*' AND {arg} NOT GLOB '*[^0-9.eE+-]*' "
        f"THEN CAST({arg} AS REAL) END)"
    )


def _to_clause(
    tree, text: str, attributes: Mapping[str, Any], fields: list[Field]
) -> ColumnElement:
    kind = tree.data
    if kind in ("or_expr", "and_expr"):
        parts = [_to_clause(c, text, attributes, fields) for c in tree.children]
        return or_(*parts) if kind == "or_expr" else and_(*parts)
    fld = _field(tree.children[0], text)
    fields.append(fld)
    if kind == "compare":
        op, value = str(tree.children[1]), _value(tree.children[2], text)
        value = _typed(fld, value, text)
        return _condition(
            fld, lambda col: _apply(_numeric_for_params(fld, col, value), op, value), attributes
        )
    if kind in ("in_list", "not_in_list"):
        values = [_value(c, text) for c in tree.children[1:]]
        clause = _condition(
            fld, lambda col: col.in_([_typed(fld, v, text) for v in values]), attributes
        )
        return not_(clause) if kind == "not_in_list" else clause
    raise AssertionError(kind)


def parse_filter(
    text: str | None,
    *,
    attributes: Mapping[str, Any] | None = None,
    fields: list[Field] | None = None,
) -> ColumnElement | None:
    """Turn a filter expression into a SQLAlchemy clause over ``runs`` (None for no filter).

    Parameters
    ----------
    text : str, optional
        The expression.
    attributes : mapping, optional
        Columns for the run attributes (``status`` shown as derived by the search, for one).
    fields : list, optional
        Receives every field the expression names.

    Raises
    ------
    FilterSyntaxError
        With the position of the first mistake.
    """
    if text is None or not text.strip():
        return None
    named = [] if fields is None else fields
    return _to_clause(_parse(text, "start"), text, attributes or ATTRIBUTES, named)


def parse_order_by(items: list[str] | str | None) -> list[tuple[Field, bool]]:
    """Parse ``["metrics.acc DESC", "start_time"]`` into (field, descending) pairs."""
    if not items:
        return []
    text = items if isinstance(items, str) else ", ".join(items)
    tree = _parse(text, "order_list")
    result = []
    for item in tree.children:
        fld = _field(item.children[0], text)
        descending = len(item.children) > 1 and str(item.children[1]).lower() == "desc"
        result.append((fld, descending))
    return result
