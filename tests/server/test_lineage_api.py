"""``GET models/{name}/versions/{version}`` carries the lineage graph, both ways, typed."""

from __future__ import annotations

import pytest
from lineage_fixtures import build_lineage_store
from server_helpers import fetch_json
from tornado.httpclient import HTTPClientError

from kernel_magics.server.models import DescribeModelVersionResponse, LineageGraph

API = ("mlops", "api")


async def test_version_detail_has_the_graph_up_and_down(jp_fetch, store, tmp_path):
    # Given two train versions, churn/1 on train@1, churn/2 and fraud/1 on train@2,
    # churn@production -> churn/2 and deployed
    built = build_lineage_store(store, tmp_path)

    # When the panel opens churn/2
    data = await fetch_json(jp_fetch, *API, "models", "churn", "versions", "2")

    # Then the answer validates as the typed model and holds both sides of the graph
    DescribeModelVersionResponse.model_validate(data)
    graph = LineageGraph.model_validate(data["lineage"]["graph"])
    by_id = {n.id: n for n in graph.nodes}
    assert by_id[graph.root].ref == "churn/2" and graph.direction == "both"
    assert [n.kind for n in graph.nodes] == [
        "dataset", "notebook", "run", "model", "alias", "deployment",
    ]  # fmt: skip
    refs = {n.kind: n.ref for n in graph.nodes}
    assert refs["dataset"] == "train@2" and refs["run"] == built.runs["r2"]
    assert refs["alias"] == "churn@production"
    assert refs["deployment"] == f"deployment:{built.deployment_id}"
    links = {(by_id[e.source].kind, by_id[e.target].kind) for e in graph.edges}
    assert links == {("dataset", "run"), ("notebook", "run"), ("run", "model"),
                     ("model", "alias"), ("alias", "deployment")}  # fmt: skip
    # siblings trained on the same data are not this version's lineage
    assert "fraud/1" not in {n.ref for n in graph.nodes}
    # and no node leaks a server path: notebooks are labelled, not located
    notebook = next(n for n in graph.nodes if n.kind == "notebook")
    assert str(tmp_path) not in notebook.label + notebook.detail + notebook.ref


async def test_the_graph_of_a_version_on_older_data(jp_fetch, store, tmp_path):
    build_lineage_store(store, tmp_path)
    data = await fetch_json(jp_fetch, *API, "models", "churn", "versions", "1")
    nodes = data["lineage"]["graph"]["nodes"]
    assert sorted(n["ref"] for n in nodes if n["kind"] == "dataset") == ["train@1"]
    assert [n["kind"] for n in nodes if n["kind"] in ("alias", "deployment")] == []


async def test_unknown_version_is_404_without_echo(jp_fetch, store, tmp_path):
    build_lineage_store(store, tmp_path)
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch(*API, "models", "churn", "versions", "9")
    assert err.value.code == 404
