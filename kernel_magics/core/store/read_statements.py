"""The read statements behind ``mlops runs ls`` and ``mlops runs show``, written once.

The repositories execute these SQLAlchemy statements. The same statements, compiled for SQLite
into :mod:`._compiled_reads` by ``python -m kernel_magics.core.store.read_statements``, let
:mod:`.quick_reads` answer those two commands through :mod:`sqlite3` without importing
SQLAlchemy, whose import alone takes longer than the commands' whole budget. A test checks the
compiled file matches these statements, as ``openapi.yaml`` matches the routes.

Every parameter is a named ``bindparam``; lists are ``expanding`` ones.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import bindparam, select

from ..names import RUNNING
from .schema import (
    artifacts,
    dataset_versions,
    datasets,
    experiments,
    latest_metrics,
    params,
    run_datasets,
    runs,
    tags,
)

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from .db import Database
    from .run_reads import Fetch

Rows = Sequence[Mapping[str, Any]]
#: Statement name -> builder; the compiled file holds one SQL text per name.
STATEMENTS: dict[str, Callable[[], Any]] = {}

#: The columns every run table shows (``run_summaries`` rows).
SUMMARY_COLUMNS = (
    runs.c.id, runs.c.name, experiments.c.name.label("experiment"), runs.c.status,
    runs.c.source, runs.c.start_time, runs.c.end_time, runs.c.notebook_path,
    runs.c.notebook_version_id, runs.c.parent_run_id, runs.c.user,
)  # fmt: skip
#: Newest first, ties broken by id: the order of every run list without --order-by.
NEWEST_FIRST = (runs.c.start_time.desc(), runs.c.id)


def _statement(builder: Callable[[], Any]) -> Callable[[], Any]:
    STATEMENTS[builder.__name__] = builder
    return builder


def run_search_base() -> Any:
    """``SELECT runs.id`` over runs and their experiment: what every run search starts from."""
    return select(runs.c.id).join(experiments, experiments.c.id == runs.c.experiment_id)


@_statement
def newest_run_ids() -> Any:
    """The ``limit`` newest run ids."""
    return run_search_base().order_by(*NEWEST_FIRST).limit(bindparam("limit"))


@_statement
def child_run_ids() -> Any:
    """The child runs of the runs ``parents``, newest first."""
    parents: Any = bindparam("parents", expanding=True)
    return run_search_base().where(runs.c.parent_run_id.in_(parents)).order_by(*NEWEST_FIRST)


@_statement
def running_runs() -> Any:
    """Which of ``ids`` are ``running``, with what the liveness rule needs."""
    ids: Any = bindparam("ids", expanding=True)
    columns = (runs.c.id, runs.c.pid, runs.c.hostname, runs.c.heartbeat_at, runs.c.start_time)
    return select(*columns).where(runs.c.status == RUNNING, runs.c.id.in_(ids))


@_statement
def run_summary_rows() -> Any:
    """The :data:`SUMMARY_COLUMNS` of runs ``ids``."""
    return (
        select(*SUMMARY_COLUMNS)
        .join(experiments, experiments.c.id == runs.c.experiment_id)
        .where(runs.c.id.in_(bindparam("ids", expanding=True)))
    )


def _values_of(table: Any) -> Any:
    return select(table.c.run_id, table.c.key, table.c.value).where(
        table.c.run_id.in_(bindparam("ids", expanding=True))
    )


@_statement
def params_of_runs() -> Any:
    """``run_id, key, value`` of the params of runs ``ids``."""
    return _values_of(params)


@_statement
def latest_metrics_of_runs() -> Any:
    """``run_id, key, value`` of the latest metric values of runs ``ids``."""
    return _values_of(latest_metrics)


@_statement
def tags_of_runs() -> Any:
    """``run_id, key, value`` of the tags of runs ``ids``."""
    return _values_of(tags)


@_statement
def run_row() -> Any:
    """Every column of run ``run_id`` plus its experiment's name."""
    return (
        select(runs, experiments.c.name.label("experiment"))
        .join(experiments, experiments.c.id == runs.c.experiment_id)
        .where(runs.c.id == bindparam("run_id"))
    )


@_statement
def run_ids_like() -> Any:
    """At most two run ids matching the LIKE ``pattern`` (an id prefix plus ``%``)."""
    return select(runs.c.id).where(runs.c.id.like(bindparam("pattern"))).limit(2)


@_statement
def run_artifacts() -> Any:
    """The artifacts of run ``run_id``, by path."""
    columns = (artifacts.c.path, artifacts.c.size, artifacts.c.media_type, artifacts.c.blob_hash)
    return (
        select(*columns).where(artifacts.c.run_id == bindparam("run_id")).order_by(artifacts.c.path)
    )


@_statement
def run_dataset_rows() -> Any:
    """The dataset versions run ``run_id`` read or wrote, by dataset name."""
    return (
        select(
            datasets.c.name,
            dataset_versions.c.id.label("version_id"),
            dataset_versions.c.hash,
            dataset_versions.c.rows,
            dataset_versions.c.size,
            dataset_versions.c.schema,
            dataset_versions.c.source,
            run_datasets.c.role,
        )
        .select_from(run_datasets.join(dataset_versions).join(datasets))
        .where(run_datasets.c.run_id == bindparam("run_id"))
        .order_by(datasets.c.name)
    )


@_statement
def schema_revision() -> Any:
    """The schema revision alembic recorded."""
    from sqlalchemy import column, table

    return select(column("version_num")).select_from(table("alembic_version"))


@cache
def built(name: str) -> Any:
    """Statement ``name``, built once (statements are immutable)."""
    return STATEMENTS[name]()


def sqlalchemy_fetch(db: Database, conn: Connection | None = None) -> Fetch:
    """A :data:`~.run_reads.Fetch` over SQLAlchemy: on ``conn``, else a read per statement."""

    def fetch(name: str, params: dict[str, Any]) -> Sequence[Mapping[str, Any]]:
        if conn is not None:
            return cast(Rows, conn.execute(built(name), params).mappings().all())
        with db.read() as own:
            return cast(Rows, own.execute(built(name), params).mappings().all())

    return fetch


# -- the compiled file -----------------------------------------------------------------------
COMPILED_PATH = Path(__file__).with_name("_compiled_reads.py")


def compiled_source() -> str:
    """The text of :mod:`._compiled_reads`: each statement compiled for SQLite, named style."""
    from sqlalchemy.dialects import sqlite

    dialect = sqlite.dialect(paramstyle="named")
    lines = [
        '"""Generated by ``python -m kernel_magics.core.store.read_statements``: do not edit.',
        "",
        "The statements of :mod:`.read_statements` compiled for SQLite: name -> (SQL text with",
        "named parameters, the values of the literals it binds). An expanding list parameter",
        "``x`` appears as ``(__[POSTCOMPILE_x])``.",
        '"""',
        "",
        "SQL: dict[str, tuple[str, dict[str, object]]] = {",
    ]
    for name in sorted(STATEMENTS):
        compiled = STATEMENTS[name]().compile(dialect=dialect)
        sql = str(compiled).replace("\n", " ")
        literals = {k: v for k, v in compiled.params.items() if v is not None}
        lines.append(f"    {name!r}: (")
        lines.append(f"        {sql!r},")
        lines.append(f"        {literals!r},")
        lines.append("    ),")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    """Write the compiled file, or with ``--check`` say whether it is up to date."""
    text = compiled_source()
    if "--check" in argv:
        current = COMPILED_PATH.read_text() if COMPILED_PATH.exists() else ""
        if current != text:
            print(f"{COMPILED_PATH.name} is stale: run python -m {__spec__.name}")  # type: ignore[name-defined]
            return 1
        return 0
    COMPILED_PATH.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
