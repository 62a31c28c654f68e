"""``mlops lineage REF [--up|--down]``: where a dataset, run or model came from, what it fed."""

from __future__ import annotations

import click

from .output import console, print_json

#: Rich styles per node kind, so kinds stand apart in a long tree.
KIND_STYLES = {"dataset": "cyan", "notebook": "blue", "run": "white", "model": "green",
               "alias": "magenta", "deployment": "yellow", "section": "bold",
               "empty": "dim"}  # fmt: skip


@click.command("lineage")
@click.argument("ref")
@click.option("--up", "direction", flag_value="up", help="Only where REF came from.")
@click.option("--down", "direction", flag_value="down", help="Only what REF fed.")
@click.option("--json", "as_json", is_flag=True, help="Print the graph (nodes, edges) as JSON.")
def lineage(ref: str, direction: str | None, as_json: bool) -> None:
    """Show the lineage of REF as a tree, upstream and downstream.

    REF is a dataset version (train@2), a model version (churn/3), an alias (churn@production),
    a run id (or its first 4+ characters) or deployment:ID. Prefix dataset:, model: or run: when
    a name is both a dataset and a model.
    """
    from rich.text import Text
    from rich.tree import Tree

    from ..core.lineage import lineage as walk
    from ..core.store import open_store
    from ..core.views.lineage import TreeItem, lineage_view

    graph = walk(open_store(), ref, direction or "both")
    if as_json:
        print_json(graph.to_dict())
        return
    view = lineage_view(graph)

    def label(item: TreeItem) -> Text:
        text = Text(item.text, style=KIND_STYLES.get(item.kind, ""))
        if item.detail:
            text.append(f"  {item.detail}", style="dim")
        return text

    def grow(tree: Tree, item: TreeItem) -> None:
        for child in item.children:
            grow(tree.add(label(child)), child)

    tree = Tree(label(view.root))
    grow(tree, view.root)
    out = console()
    out.print(tree)
    if view.note:
        out.print(view.note, style="yellow", markup=False)
