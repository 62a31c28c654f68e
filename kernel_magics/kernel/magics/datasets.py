"""``%mlops datasets diff A B``: what changed between two dataset versions, as HTML.

The page is :func:`kernel_magics.core.views.datasets_diff.diff_page` (the one
``mlops datasets diff`` prints); the report's ``.data`` is the diff as a dict.
"""

from __future__ import annotations

from typing import Any

from ..parsers import MagicArgumentParser, parsed_with
from ..widgets.report import Report, page_html, page_text

ACTIONS = ("diff",)


def datasets_parser() -> MagicArgumentParser:
    """Build the parser of ``%mlops datasets``."""
    p = MagicArgumentParser(
        prog="%mlops datasets", description="Compare two versions of a dataset."
    )
    p.add_argument("action", choices=ACTIONS, help="diff: what changed from A to B.")
    p.add_argument("a", help="The first version, e.g. train@2.")
    p.add_argument("b", help="The second version, e.g. train@3 or train@latest.")
    return p


@parsed_with(datasets_parser)
def handle_datasets(magics: Any, ns: Any) -> Report:
    """Diff two dataset versions: schema, rows, files, column drift, quality checks."""
    from ...core.data.diff import diff_versions
    from ...core.store import open_store
    from ...core.views.datasets_diff import diff_page

    diff = diff_versions(open_store(), ns.a, ns.b)
    view = diff_page(diff)
    return Report(diff.to_dict(), page_html(view), page_text(view))
