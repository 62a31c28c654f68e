"""Lineage: dataset versions -> runs -> model versions -> aliases -> deployments, both ways.

A :class:`Lineage` is a small directed graph whose edges follow the data: a dataset version
flows into the runs that read it, a notebook version into the runs it executed as, a run into
the model versions it logged (and the dataset versions it wrote), a model version into its
aliases, and an alias (or the version itself, when deployed by number) into its deployments.

:func:`lineage` walks it from any start (``train@2``, ``churn/3``, ``churn@production``, a
run id, ``deployment:4``): ``down`` follows the edges (what did this feed?), ``up`` walks them
backwards (where did this come from?), ``both`` does both from the start. Each step is one
batched query per layer (:class:`~kernel_magics.core.store.lineage.LineageRepository`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import NotFoundError, ValidationError

if TYPE_CHECKING:
    from .store import Store

#: Node kinds in the order the data flows (the panel draws one column per kind, in this order).
KINDS = ("dataset", "notebook", "run", "model", "alias", "deployment")
DIRECTIONS = ("both", "up", "down")
#: Prefixes that say what a reference names when a name could be a dataset or a model.
PREFIXES = ("dataset:", "model:", "run:", "deployment:")
#: A walk stops after this many nodes (a dataset read by thousands of runs): the graph says so.
MAX_NODES = 500


@dataclass(frozen=True)
class LineageNode:
    """One thing in a lineage graph.

    Attributes
    ----------
    id : str
        ``kind:key``, unique in the graph (``dataset:12``, ``run:<id>``, ``alias:churn@prod``).
    kind : str
        One of :data:`KINDS`.
    ref : str
        How a user names it: ``train@2``, ``churn/3``, ``churn@production``, a run id.
    label : str
        One line for a tree or a graph box.
    detail : str
        A second, quieter line (status, rows, path), possibly empty.
    """

    id: str
    kind: str
    ref: str
    label: str
    detail: str = ""


@dataclass(frozen=True)
class LineageEdge:
    """``source`` flows into ``target`` (node ids); ``role`` says how (read, wrote, logged...)."""

    source: str
    target: str
    role: str


@dataclass
class Lineage:
    """A lineage graph walked from ``root``.

    Attributes
    ----------
    root : str
        The start node's id.
    direction : str
        ``both``, ``up`` or ``down``.
    nodes : dict of str to LineageNode
    edges : list of LineageEdge
    truncated : bool
        True when the walk stopped at :data:`MAX_NODES`.
    """

    root: str
    direction: str
    nodes: dict[str, LineageNode] = field(default_factory=dict)
    edges: list[LineageEdge] = field(default_factory=list)
    truncated: bool = False

    def children(self, node_id: str) -> list[str]:
        """Ids the node flows into."""
        return [e.target for e in self.edges if e.source == node_id]

    def parents(self, node_id: str) -> list[str]:
        """Ids that flow into the node."""
        return [e.source for e in self.edges if e.target == node_id]

    def reachable(self, direction: str, kind: str | None = None) -> list[LineageNode]:
        """Nodes ``down`` (downstream) or ``up`` (upstream) of the root, nearest first.

        Parameters
        ----------
        direction : str
            ``down`` or ``up``.
        kind : str, optional
            Only nodes of this kind (e.g. ``model``: which models were trained on train@2?).
        """
        step = self.children if direction == "down" else self.parents
        seen, order, frontier = {self.root}, [], [self.root]
        while frontier:
            nxt = [n for node in frontier for n in step(node) if n not in seen]
            for n in nxt:
                if n not in seen:
                    seen.add(n)
                    order.append(self.nodes[n])
            frontier = nxt
        return [n for n in order if kind is None or n.kind == kind]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: root, direction, nodes (in kind order), edges, truncated."""
        order = sorted(self.nodes.values(), key=lambda n: (KINDS.index(n.kind), n.ref))
        return {
            "root": self.root,
            "direction": self.direction,
            "nodes": [asdict(n) for n in order],
            "edges": [asdict(e) for e in self.edges],
            "truncated": self.truncated,
        }


# -- resolving the start ------------------------------------------------------------------------
def resolve_start(store: Store, ref: str) -> str:
    """The node id a user's reference names.

    ``name@x`` is a model alias when ``name`` is a registered model with alias ``x``, else
    version ``x`` of dataset ``name``; ``name/N`` is a model version; anything else a run id
    (or unique prefix). ``dataset:``, ``model:``, ``run:`` and ``deployment:`` prefixes settle
    a name that is both a model and a dataset.

    Raises
    ------
    ValidationError
        When the reference is empty or malformed.
    NotFoundError
        When it names nothing in the store (the message lists the accepted forms).
    """
    text = (ref or "").strip()
    if not text:
        raise ValidationError(_FORMS.format(ref=ref))
    prefix, sep, rest = text.partition(":")
    if sep and f"{prefix}:" in PREFIXES:
        return _resolve_as(store, prefix, rest.strip(), text)
    if "@" in text:
        name, _, tail = text.partition("@")
        alias = _alias_node(store, name, tail)
        if alias is not None:
            return alias
        return _resolve_as(store, "dataset", text, text)
    if "/" in text:
        return _resolve_as(store, "model", text, text)
    return _resolve_as(store, "run", text, text)


_FORMS = (
    "{ref!r} names no dataset version, run, model version, alias or deployment: give "
    "train@2, churn/3, churn@production, a run id, or dataset:/model:/run:/deployment: before it."
)


def _alias_node(store: Store, name: str, alias: str) -> str | None:
    found = store.lineage.aliases(names=[(name, alias)])
    return f"alias:{name}@{alias}" if found else None


def _resolve_as(store: Store, kind: str, text: str, ref: str) -> str:
    if kind == "run":
        from ..errors import RunNotFoundError

        try:
            return f"run:{store.runs.resolve_id(text)}"
        except RunNotFoundError:
            raise NotFoundError(_FORMS.format(ref=ref)) from None
    if kind == "deployment":
        if not text.isdigit():
            raise ValidationError(f"In {ref!r}, give the deployment's number (deployment:4).")
        if not store.lineage.deployments([int(text)]):
            raise NotFoundError(f"No deployment {text}: `mlops deployments ls` lists them.")
        return f"deployment:{text}"
    if kind == "model":
        from .registry import parse_ref

        model_ref = parse_ref(text)
        if model_ref.alias is not None:
            node = _alias_node(store, model_ref.name, model_ref.alias)
            if node is None:
                raise NotFoundError(f"Model {model_ref.name!r} has no alias {model_ref.alias!r}.")
            return node
        if model_ref.version is None:
            raise ValidationError(f"In {ref!r}, name one version (churn/3) or alias (churn@prod).")
        return f"model:{store.models.get_version(model_ref).id}"
    return f"dataset:{_dataset_version_id(store, text, ref)}"


def _dataset_version_id(store: Store, text: str, ref: str) -> int:
    from .data.loading import resolve_version

    if "@" not in text:
        raise NotFoundError(_FORMS.format(ref=ref))
    return resolve_version(store, text).id


def _alias_key(key: str) -> tuple[str, str]:
    name, _, alias = key.partition("@")
    return name, alias


# -- the walk -----------------------------------------------------------------------------------
def lineage(store: Store, ref: str, direction: str = "both") -> Lineage:
    """Walk the lineage of ``ref`` upstream, downstream or both.

    Parameters
    ----------
    store : Store
    ref : str
        ``train@2``, ``churn/3``, ``churn@production``, a run id (or prefix), ``deployment:4``.
    direction : str
        ``both`` (default), ``up`` (where it came from) or ``down`` (what it fed).

    Raises
    ------
    ValidationError
        When the direction or the reference is malformed.
    NotFoundError
        When the reference names nothing.
    """
    if direction not in DIRECTIONS:
        raise ValidationError(f"Lineage direction {direction!r}: use one of both, up, down.")
    graph = Lineage(root=resolve_start(store, ref), direction=direction)
    walker = _Walker(store, graph)
    if direction in ("both", "down"):
        walker.walk({graph.root}, down=True)
    if direction in ("both", "up"):
        walker.walk({graph.root}, down=False)
    walker.describe()
    return graph


class _Walker:
    """Breadth-first over the store's links, one batched query per kind per layer."""

    def __init__(self, store: Store, graph: Lineage):
        self.repo = store.lineage
        self.graph = graph
        self.seen: set[str] = set()
        self.edges: set[LineageEdge] = set()

    def _link(self, source: str, target: str, role: str) -> None:
        edge = LineageEdge(source, target, role)
        if edge not in self.edges:
            self.edges.add(edge)
            self.graph.edges.append(edge)

    def walk(self, start: set[str], *, down: bool) -> None:
        frontier = set(start)
        visited = set(start)
        while frontier:
            if len(self.seen | visited) >= MAX_NODES:
                self.graph.truncated = True
                break
            found = self._step(frontier, down)
            frontier = found - visited
            visited |= found
        self.seen |= visited

    def _step(self, frontier: set[str], down: bool) -> set[str]:
        ids: dict[str, list[str]] = {kind: [] for kind in KINDS}
        for node in frontier:
            kind, _, key = node.partition(":")
            ids[kind].append(key)
        before = len(self.graph.edges)
        if down:
            self._down(ids)
        else:
            self._up(ids)
        new = self.graph.edges[before:]
        return {e.target if down else e.source for e in new}

    def _down(self, ids: dict[str, list[str]]) -> None:
        datasets, runs = [int(i) for i in ids["dataset"]], ids["run"]
        if datasets or runs:
            for use in self.repo.dataset_uses(version_ids=datasets, run_ids=runs):
                data, run = f"dataset:{use['dataset_version_id']}", f"run:{use['run_id']}"
                if use["role"] == "output" and use["run_id"] in runs:
                    self._link(run, data, "wrote")
                elif use["role"] != "output" and use["dataset_version_id"] in datasets:
                    self._link(data, run, "read")
        if runs:
            for mv in self.repo.models_of_runs(runs):
                self._link(f"run:{mv['run_id']}", f"model:{mv['id']}", "logged")
        models = [int(i) for i in ids["model"]]
        aliases = [_alias_key(a) for a in ids["alias"]]
        if models:
            for alias in self.repo.aliases(version_ids=models):
                target = f"alias:{alias['name']}@{alias['alias']}"
                self._link(f"model:{alias['model_version_id']}", target, "alias")
        if models or aliases:
            alias_versions = (
                [a["model_version_id"] for a in self.repo.aliases(names=aliases)] if aliases else []
            )
            deps = self.repo.deployments_of_versions([*models, *alias_versions])
            frontier = {f"model:{m}" for m in models} | {f"alias:{n}@{a}" for n, a in aliases}
            for dep, source in self._deployment_sources(deps):
                if source in frontier:
                    self._link(source, f"deployment:{dep['id']}", "serves")

    def _deployment_sources(self, deps: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str]]:
        """Pair each deployment with the node it hangs off.

        That is its alias while the alias still points at the version it runs, else the
        version itself (deployed by number, or the alias has moved on since).
        """
        named = list({(d["name"], d["alias"]) for d in deps if d["alias"]})
        current = {
            (a["name"], a["alias"]): a["model_version_id"]
            for a in (self.repo.aliases(names=named) if named else [])
        }
        out = []
        for dep in deps:
            key = (dep["name"], dep["alias"])
            if dep["alias"] and current.get(key) == dep["model_version_id"]:
                out.append((dep, f"alias:{dep['name']}@{dep['alias']}"))
            else:
                out.append((dep, f"model:{dep['model_version_id']}"))
        return out

    def _up(self, ids: dict[str, list[str]]) -> None:
        deployments = [int(i) for i in ids["deployment"]]
        if deployments:
            for dep, source in self._deployment_sources(self.repo.deployments(deployments)):
                self._link(source, f"deployment:{dep['id']}", "serves")
        aliases = [_alias_key(a) for a in ids["alias"]]
        if aliases:
            for alias in self.repo.aliases(names=aliases):
                target = f"alias:{alias['name']}@{alias['alias']}"
                self._link(f"model:{alias['model_version_id']}", target, "alias")
        models = [int(i) for i in ids["model"]]
        if models:
            for mv in self.repo.model_versions(models):
                if mv["run_id"]:
                    self._link(f"run:{mv['run_id']}", f"model:{mv['id']}", "logged")
        datasets, runs = [int(i) for i in ids["dataset"]], ids["run"]
        if datasets or runs:
            for use in self.repo.dataset_uses(version_ids=datasets, run_ids=runs):
                data, run = f"dataset:{use['dataset_version_id']}", f"run:{use['run_id']}"
                if use["role"] == "output" and use["dataset_version_id"] in datasets:
                    self._link(run, data, "wrote")
                elif use["role"] != "output" and use["run_id"] in runs:
                    self._link(data, run, "read")
        if runs:
            for row in self.repo.runs(runs):
                if row["notebook_version_id"] is not None:
                    self._link(f"notebook:{row['notebook_version_id']}", f"run:{row['id']}", "ran")

    def describe(self) -> None:
        """Fill in every node's label; links to rows since deleted are dropped."""
        ids: dict[str, set[str]] = {kind: set() for kind in KINDS}
        for node in {self.graph.root, *self.seen}:
            kind, _, key = node.partition(":")
            ids[kind].add(key)
        nodes = self.graph.nodes
        for n in _dataset_nodes(self.repo.dataset_versions(int(i) for i in ids["dataset"])):
            nodes[n.id] = n
        for n in _run_nodes(self.repo.runs(ids["run"])):
            nodes[n.id] = n
        for n in _notebook_nodes(self.repo.notebook_versions(int(i) for i in ids["notebook"])):
            nodes[n.id] = n
        for n in _model_nodes(self.repo.model_versions(int(i) for i in ids["model"])):
            nodes[n.id] = n
        for key in ids["alias"]:
            nodes[f"alias:{key}"] = LineageNode(f"alias:{key}", "alias", key, key)
        for n in _deployment_nodes(self.repo.deployments(int(i) for i in ids["deployment"])):
            nodes[n.id] = n
        self.graph.edges[:] = [
            e for e in self.graph.edges if e.source in nodes and e.target in nodes
        ]


def _dataset_nodes(rows: Iterable[dict[str, Any]]) -> Iterable[LineageNode]:
    for r in rows:
        ref = f"{r['name']}@{r['version']}"
        rows_text = f"{r['rows']:,} rows · " if r["rows"] is not None else ""
        yield LineageNode(f"dataset:{r['id']}", "dataset", ref, ref, f"{rows_text}{r['hash'][:10]}")


def _run_nodes(rows: Iterable[dict[str, Any]]) -> Iterable[LineageNode]:
    for r in rows:
        label = f"run {r['id'][:8]}" + (f" {r['name']}" if r["name"] else "")
        yield LineageNode(
            f"run:{r['id']}", "run", r["id"], label, f"{r['experiment']} · {r['status']}"
        )


def _notebook_nodes(rows: Iterable[dict[str, Any]]) -> Iterable[LineageNode]:
    for r in rows:
        ref = f"{r['path']}@{r['blob_hash'][:10]}"
        yield LineageNode(f"notebook:{r['id']}", "notebook", ref, r["path"], r["blob_hash"][:10])


def _model_nodes(rows: Iterable[dict[str, Any]]) -> Iterable[LineageNode]:
    for r in rows:
        ref = f"{r['name']}/{r['version']}"
        yield LineageNode(f"model:{r['id']}", "model", ref, ref)


def _deployment_nodes(rows: Iterable[dict[str, Any]]) -> Iterable[LineageNode]:
    for r in rows:
        yield LineageNode(
            f"deployment:{r['id']}",
            "deployment",
            f"deployment:{r['id']}",
            f"deployment {r['id']} · {r['host']}:{r['port']}",
            r["status"],
        )
