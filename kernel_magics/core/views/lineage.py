"""The lineage tree ``mlops lineage`` prints and ``%mlops lineage`` shows, built once.

A graph (:class:`~kernel_magics.core.lineage.Lineage`) becomes two trees hanging off the start:
what it came from (upstream, parents as children) and what it fed (downstream). A node reached
twice (a run that read two datasets, seen from both) is shown in full once and as ``(see
above)`` after, so a tree never grows with the number of paths through the graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..lineage import Lineage, LineageNode

#: How each kind reads at the start of a tree line.
KIND_LABELS = {"dataset": "dataset", "notebook": "notebook", "run": "run", "model": "model",
               "alias": "alias", "deployment": "deployment"}  # fmt: skip


@dataclass
class TreeItem:
    """One line of a tree and the lines under it.

    Attributes
    ----------
    kind : str
        The node kind (``dataset``, ``run`` ...), or ``section`` for a heading.
    text : str
        The line, display-ready.
    detail : str
        A quieter second part of the line (status, rows, hash), possibly empty.
    children : list of TreeItem
    """

    kind: str
    text: str
    detail: str = ""
    children: list[TreeItem] = field(default_factory=list)


@dataclass
class LineageView:
    """The start node, its upstream and downstream trees, and a note for the reader."""

    root: TreeItem
    note: str = ""


def _item(node: LineageNode, role: str, repeat: bool) -> TreeItem:
    text = node.label if node.kind in ("run", "deployment") else f"{node.kind} {node.label}"
    if role:
        text = f"{text}  [{role}]"
    return TreeItem(node.kind, text + ("  (see above)" if repeat else ""), node.detail)


def _branch(graph: Lineage, node_id: str, down: bool, seen: set[str]) -> list[TreeItem]:
    edges = [e for e in graph.edges if (e.source if down else e.target) == node_id]
    items = []
    for edge in sorted(edges, key=lambda e: graph.nodes[e.target if down else e.source].ref):
        other = edge.target if down else edge.source
        repeat = other in seen
        seen.add(other)
        item = _item(graph.nodes[other], edge.role, repeat)
        if not repeat:
            item.children = _branch(graph, other, down, seen)
        items.append(item)
    return items


def lineage_view(graph: Lineage) -> LineageView:
    """The start node with ``came from`` and ``fed`` sections (only those walked)."""
    root_node = graph.nodes[graph.root]
    root = _item(root_node, "", False)
    if graph.direction in ("both", "up"):
        up = _branch(graph, graph.root, False, {graph.root})
        root.children.append(
            TreeItem("section", "came from", children=up or [TreeItem("empty", "nothing recorded")])
        )
    if graph.direction in ("both", "down"):
        down = _branch(graph, graph.root, True, {graph.root})
        root.children.append(
            TreeItem("section", "fed", children=down or [TreeItem("empty", "nothing yet")])
        )
    note = (
        f"The walk stopped at {len(graph.nodes)} nodes; start from a narrower point (a run, "
        "a model version) or use --up / --down."
        if graph.truncated
        else ""
    )
    return LineageView(root, note)


def tree_text(item: TreeItem, indent: str = "") -> list[str]:
    """Plain-text lines of a tree (for terminals without rich and for ``repr``)."""
    line = item.text + (f"  ({item.detail})" if item.detail else "")
    lines = [indent + line]
    for child in item.children:
        lines += tree_text(child, indent + "  ")
    return lines
