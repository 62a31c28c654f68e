"""Models of a lineage graph (``lineage.graph`` of ``GET models/{name}/versions/{version}``).

The graph is :meth:`kernel_magics.core.lineage.Lineage.to_dict`: nodes in kind order (the
panel draws one column per kind) and edges in the direction the data flows.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Response

#: The node kinds, in the order data flows (``core.lineage.KINDS``).
LineageKind = Literal["dataset", "notebook", "run", "model", "alias", "deployment"]


class LineageNode(Response):
    """One dataset version, notebook version, run, model version, alias or deployment."""

    id: str = Field(description="kind:key, unique in the graph (model:12, alias:churn@prod)")
    kind: LineageKind = Field(description="What it is")
    ref: str = Field(description="How a user names it: train@2, churn/3, a run id")
    label: str = Field(description="One line for its box")
    detail: str = Field(description="A quieter second line (status, rows, hash), maybe empty")


class LineageEdge(Response):
    """``source`` flows into ``target``."""

    source: str = Field(description="Node id the data comes from")
    target: str = Field(description="Node id it flows into")
    role: str = Field(description="read, wrote, ran, logged, alias or serves")


class LineageGraph(Response):
    """Everything upstream and downstream of one node."""

    root: str = Field(description="The node the walk started from")
    direction: Literal["both", "up", "down"] = Field(description="Which way it was walked")
    nodes: list[LineageNode] = Field(description="In kind order, then by ref")
    edges: list[LineageEdge] = Field(description="In the direction the data flows")
    truncated: bool = Field(description="The walk stopped at its node limit")
