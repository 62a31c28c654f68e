"""``%mlops datasets ls / show NAME[@V] / diff A B``: stored dataset versions, as HTML.

The same views as ``mlops datasets`` (:mod:`kernel_magics.core.views.datasets` and
:func:`kernel_magics.core.views.datasets_diff.diff_page`); each report's ``.data`` is what the
CLI's ``--json`` prints.
"""

from __future__ import annotations

from typing import Any

from ...errors import ValidationError
from ..parsers import MagicArgumentParser, parsed_with
from ..widgets.report import Report, page_html, page_text, table_report

#: Each action and how it is used (its number of version arguments is the usage's word count).
USAGE = {"ls": "%mlops datasets ls", "show": "%mlops datasets show train@2",
         "diff": "%mlops datasets diff train@1 train@2"}  # fmt: skip


def datasets_parser() -> MagicArgumentParser:
    """Build the parser of ``%mlops datasets``."""
    p = MagicArgumentParser(
        prog="%mlops datasets",
        description="List stored datasets, show one's versions or one version, compare two.",
    )
    p.add_argument(
        "action",
        choices=list(USAGE),
        help="ls: every dataset; show NAME[@V]: its versions or one version; diff A B: what "
        "changed from A to B.",
    )
    p.add_argument("refs", nargs="*", help="Versions: train, train@2, train@latest, train@9f2c.")
    return p


@parsed_with(datasets_parser)
def handle_datasets(magics: Any, ns: Any) -> Report:
    """List datasets, show a dataset or a version, or diff two versions."""
    from ...core.store import open_store

    wanted = len(USAGE[ns.action].split()) - 3
    if len(ns.refs) != wanted:
        raise ValidationError(
            f"%mlops datasets {ns.action} takes {wanted} version name(s), not "
            f"{len(ns.refs)}: e.g. {USAGE[ns.action]}."
        )
    store = open_store()
    if ns.action == "ls":
        return _ls(store)
    if ns.action == "show":
        return _show(store, ns.refs[0])
    return _diff(store, *ns.refs)


def _ls(store: Any) -> Report:
    from ...core.views.datasets import datasets_table

    latest = store.dataset_versions.latest_per_dataset()
    data = [{**r.to_dict(), "versions": n, "stored_bytes_total": s} for r, n, s in latest]
    return table_report(data, datasets_table(latest))


def _show(store: Any, ref: str) -> Report:
    from ...core.data import parse_ref, read_manifest, resolve_version
    from ...core.views.datasets import version_page, versions_table

    if "@" not in ref:
        name, _ = parse_ref(ref)
        records = store.dataset_versions.versions(name)
        if not records:
            resolve_version(store, ref)  # raises: no such dataset, naming the ones there are
        return table_report([r.to_dict() for r in records], versions_table(records))
    record = resolve_version(store, ref)
    files = read_manifest(store, record).files if record.stored else []
    runs = store.dataset_versions.runs_of(record.id)
    checks = store.dataset_checks.results([record.id]).get(record.id)
    view = version_page(record, files, runs, checks)
    data = {**record.to_dict(), "runs": runs, "files": [f.__dict__ for f in files],
            "checks": checks.to_dict() if checks else None}  # fmt: skip
    return Report(data, page_html(view), page_text(view))


def _diff(store: Any, a: str, b: str) -> Report:
    from ...core.data.diff import diff_versions
    from ...core.views.datasets_diff import diff_page

    diff = diff_versions(store, a, b)
    view = diff_page(diff)
    return Report(diff.to_dict(), page_html(view), page_text(view))
