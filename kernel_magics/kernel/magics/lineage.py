"""``%mlops lineage REF``: the lineage tree of :mod:`kernel_magics.core.views.lineage` as HTML.

The report's ``.data`` is the graph as a dict (nodes, edges), for code that wants to ask it.
"""

from __future__ import annotations

import html
from typing import Any

from ..parsers import MagicArgumentParser, parsed_with
from ..widgets.report import STYLE, Report

#: Colours per node kind (hues that read on light and dark themes).
KIND_COLOURS = {"dataset": "#17becf", "notebook": "#1f77b4", "model": "#2ca02c",
                "alias": "#9467bd", "deployment": "#ff7f0e"}  # fmt: skip


def lineage_parser() -> MagicArgumentParser:
    """Build the parser of ``%mlops lineage``."""
    p = MagicArgumentParser(
        prog="%mlops lineage",
        description="Where a dataset version, run or model came from and what it fed.",
    )
    p.add_argument("ref", help="train@2, churn/3, churn@production, a run id or deployment:ID.")
    way = p.add_mutually_exclusive_group()
    way.add_argument("--up", action="store_true", help="Only where REF came from.")
    way.add_argument("--down", action="store_true", help="Only what REF fed.")
    return p


def _item_html(item: Any) -> str:
    colour = KIND_COLOURS.get(item.kind)
    text = html.escape(item.text)
    if item.kind == "section":
        text = f"<strong>{text}</strong>"
    elif colour:
        text = f"<span style='color:{colour}'>{text}</span>"
    if item.detail:
        text += f" <small style='opacity:0.7'>{html.escape(item.detail)}</small>"
    kids = "".join(_item_html(c) for c in item.children)
    return f"<li>{text}{f'<ul>{kids}</ul>' if kids else ''}</li>"


@parsed_with(lineage_parser)
def handle_lineage(magics: Any, ns: Any) -> Report:
    """Walk the lineage of ``ns.ref`` and show it as a tree."""
    from ...core.lineage import lineage
    from ...core.store import open_store
    from ...core.views.lineage import lineage_view, tree_text

    direction = "up" if ns.up else "down" if ns.down else "both"
    graph = lineage(open_store(), ns.ref, direction)
    view = lineage_view(graph)
    note = f"<p><em>{html.escape(view.note)}</em></p>" if view.note else ""
    body = f"{STYLE}<div class='mlops-report'><ul>{_item_html(view.root)}</ul>{note}</div>"
    text = "\n".join(tree_text(view.root) + ([view.note] if view.note else []))
    return Report(graph.to_dict(), body, text)
