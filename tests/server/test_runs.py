"""``/mlops/api/runs``, ``/experiments`` and ``/status`` through a real Jupyter server."""

from __future__ import annotations

import json

import pytest
from server_helpers import fetch_json, notebook_json, write_notebook
from tornado.httpclient import HTTPClientError


async def expect_error(jp_fetch, *parts, code: int, **kwargs) -> dict:
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch(*parts, **kwargs)
    assert info.value.code == code, info.value.response.body
    body = json.loads(info.value.response.body)
    assert "Traceback" not in body["message"]
    return body


async def test_status_reports_version_and_store(jp_fetch, store):
    # When
    data = await fetch_json(jp_fetch, "mlops", "api", "status")
    # Then
    assert data["store_uri"] == store.location.store_uri
    assert data["version"]


async def test_status_hides_a_database_password():
    from kernel_magics.server.handlers.status import redact

    assert "secret" not in redact("postgresql+psycopg://me:secret@db/mlops")
    assert redact("postgresql+psycopg://me:secret@db/mlops").startswith("postgresql+psycopg://me:")


async def test_experiments_lists_run_counts(jp_fetch, seed):
    # Given
    seed.run("churn")
    seed.run("churn")
    seed.run("fraud")
    # When
    data = await fetch_json(jp_fetch, "mlops", "api", "experiments")
    # Then
    counts = {e["name"]: e["run_count"] for e in data["experiments"]}
    assert counts == {"churn": 2, "fraud": 1}


async def test_runs_lists_newest_first_with_params_and_metrics(jp_fetch, seed):
    # Given
    old = seed.run("churn", params={"C": 0.1}, metrics={"acc": 0.8}, start_time=1000.0)
    new = seed.run("churn", params={"C": 1.0}, metrics={"acc": 0.9}, start_time=2000.0)
    # When
    data = await fetch_json(jp_fetch, "mlops", "api", "runs", params={"experiment": "churn"})
    # Then
    assert [r["id"] for r in data["runs"]] == [new, old]
    assert data["total"] == 2
    assert data["runs"][0]["params"] == {"C": "1.0"}
    assert data["runs"][0]["metrics"] == {"acc": 0.9}
    assert data["runs"][0]["experiment"] == "churn"
    assert data["runs"][0]["status"] == "finished"
    assert data["runs"][0]["duration"] is not None
    assert data["metric_keys"] == ["acc"] and data["param_keys"] == ["C"]


async def test_runs_filter_and_order_by(jp_fetch, seed):
    # Given
    ids = [
        seed.run("e", params={"C": c}, metrics={"acc": a})
        for c, a in [(1, 0.5), (2, 0.9), (3, 0.7)]
    ]
    # When
    data = await fetch_json(
        jp_fetch, "mlops", "api", "runs",
        params={"filter": "metrics.acc > 0.6", "order_by": "metrics.acc ASC"},
    )  # fmt: skip
    # Then
    assert [r["id"] for r in data["runs"]] == [ids[2], ids[1]]
    assert data["total"] == 2


async def test_runs_pagination_edges(jp_fetch, seed):
    # Given 5 runs
    ids = [seed.run("e", start_time=1000.0 + i) for i in range(5)]
    newest_first = ids[::-1]
    # When
    first = await fetch_json(jp_fetch, "mlops", "api", "runs", params={"limit": 2})
    last = await fetch_json(jp_fetch, "mlops", "api", "runs", params={"limit": 2, "offset": 4})
    beyond = await fetch_json(jp_fetch, "mlops", "api", "runs", params={"limit": 2, "offset": 50})
    # Then
    assert [r["id"] for r in first["runs"]] == newest_first[:2]
    assert [r["id"] for r in last["runs"]] == newest_first[4:]
    assert beyond["runs"] == [] and beyond["total"] == 5
    assert first["total"] == last["total"] == 5


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": -1}, {"limit": "ten"}, {"offset": -1}, {"limit": 501}, {"bogus": 1}],
)
async def test_runs_rejects_bad_paging_with_400(jp_fetch, seed, params):
    seed.run("e")
    body = await expect_error(jp_fetch, "mlops", "api", "runs", params=params, code=400)
    assert body["message"]


async def test_a_bad_filter_is_a_400_that_points_at_the_mistake(jp_fetch, seed):
    # Given
    seed.run("e")
    # When
    body = await expect_error(
        jp_fetch, "mlops", "api", "runs", params={"filter": "metrics.acc >> 1"}, code=400
    )
    # Then
    assert "position" in body["message"]
    assert "metrics.acc >> 1" in body["message"]


async def test_an_unknown_experiment_is_a_404(jp_fetch, seed):
    seed.run("known")
    body = await expect_error(
        jp_fetch, "mlops", "api", "runs", params={"experiment": "nope"}, code=404
    )
    assert "nope" in body["message"]


async def test_runs_of_one_notebook(jp_fetch, seed, jp_root_dir):
    # Given two notebooks, one with a quote in its name
    a = write_notebook(jp_root_dir / "work" / "train.ipynb", notebook_json("1"))
    b = write_notebook(jp_root_dir / "it's here.ipynb", notebook_json("2"))
    run_a = seed.run("e", notebook=a)
    run_b = seed.run("e", notebook=b)
    seed.run("e")
    # When
    only_a = await fetch_json(
        jp_fetch, "mlops", "api", "runs", params={"notebook": "work/train.ipynb"}
    )
    only_b = await fetch_json(
        jp_fetch, "mlops", "api", "runs", params={"notebook": "it's here.ipynb"}
    )
    # Then
    assert [r["id"] for r in only_a["runs"]] == [run_a]
    assert [r["id"] for r in only_b["runs"]] == [run_b]


@pytest.mark.parametrize(
    "bad", ["../outside.ipynb", "/etc/passwd", "a/../../x.ipynb", "%2e%2e/x.ipynb"]
)
async def test_runs_notebook_path_cannot_leave_the_root(jp_fetch, seed, bad):
    seed.run("e")
    await expect_error(jp_fetch, "mlops", "api", "runs", params={"notebook": bad}, code=400)


async def test_run_detail_with_prefix_warnings_and_notebook_version(jp_fetch, seed):
    # Given
    version = seed.version("nb.ipynb", notebook_json("x = 1"))
    run_id = seed.run(
        "e", params={"C": 1}, metrics={"acc": 0.5}, version_id=version,
        tags={"mlops.execution_order": "unordered",
              "mlops.execution_order.reason": "cell 3 ran before cell 2"},
    )  # fmt: skip
    # When
    data = await fetch_json(jp_fetch, "mlops", "api", "runs", run_id[:8])
    # Then
    assert data["id"] == run_id
    assert data["params"] == {"C": "1"}
    assert data["metric_keys"] == ["acc"]
    assert len(data["warnings"]) == 1
    assert data["warnings"][0].startswith("Unordered: cell 3 ran before cell 2.")
    assert data["notebook_version"]["id"] == version
    assert data["notebook_version"]["jupyter_path"] == "nb.ipynb"
    assert len(data["notebook_version"]["short_hash"]) == 10
    assert data["notebook_version"]["run_ids"] == [run_id]


async def test_run_detail_of_an_unknown_run_is_404(jp_fetch, seed):
    seed.run("e")
    await expect_error(jp_fetch, "mlops", "api", "runs", "f" * 32, code=404)
    await expect_error(jp_fetch, "mlops", "api", "runs", "zz", code=404)


async def test_metric_series_and_downsampling(jp_fetch, seed):
    # Given a 1000-point loss curve
    run_id = seed.run("e")
    seed.series(run_id, {"train/loss": [1.0 / (i + 1) for i in range(1000)]})
    # When
    keys = await fetch_json(jp_fetch, "mlops", "api", "runs", run_id, "metrics")
    full = await fetch_json(jp_fetch, "mlops", "api", "runs", run_id, "metrics", "train/loss")
    thin = await fetch_json(
        jp_fetch, "mlops", "api", "runs", run_id, "metrics", "train/loss", params={"max_points": 50}
    )
    # Then
    assert keys["keys"] == ["train/loss"]
    assert len(full["points"]) == 1000
    assert 2 <= len(thin["points"]) <= 50
    assert thin["points"][0]["step"] == 0 and thin["points"][-1]["step"] == 999


async def test_metric_errors(jp_fetch, seed):
    run_id = seed.run("e", metrics={"acc": 1})
    await expect_error(jp_fetch, "mlops", "api", "runs", run_id, "metrics", "nope", code=404)
    await expect_error(
        jp_fetch,
        "mlops",
        "api",
        "runs",
        run_id,
        "metrics",
        "acc",
        params={"max_points": 1},
        code=400,
    )


async def test_artifacts_list_and_download_with_content_type(jp_fetch, seed):
    # Given
    run_id = seed.run("e")
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 20
    seed.artifact(run_id, "plots/roc.png", png)
    seed.artifact(run_id, "report.html", b"<script>alert(1)</script>")
    # When
    listing = await fetch_json(jp_fetch, "mlops", "api", "runs", run_id, "artifacts")
    image = await jp_fetch("mlops", "api", "runs", run_id, "artifacts", "plots", "roc.png")
    html = await jp_fetch("mlops", "api", "runs", run_id, "artifacts", "report.html")
    # Then
    assert [a["path"] for a in listing["artifacts"]] == ["plots/roc.png", "report.html"]
    assert image.body == png
    assert image.headers["Content-Type"] == "image/png"
    assert image.headers["Content-Disposition"].startswith("inline")
    assert html.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in html.headers["Content-Security-Policy"]
    assert html.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "raw_path",
    ["..%2F..%2Fetc%2Fpasswd", "%2e%2e/%2e%2e/etc/passwd", "..", "%2Fetc%2Fpasswd", "a/../../b"],
)
async def test_artifact_traversal_is_rejected(
    jp_fetch, seed, http_server_client, jp_auth_header, jp_base_url, raw_path
):
    # Given
    run_id = seed.run("e")
    seed.artifact(run_id, "ok.txt", b"fine")
    url = f"{jp_base_url}mlops/api/runs/{run_id}/artifacts/{raw_path}"
    # When
    with pytest.raises(HTTPClientError) as info:
        await http_server_client.fetch(url, headers=jp_auth_header)
    # Then
    assert info.value.code in (400, 404)
    assert b"root:" not in (info.value.response.body or b"")


async def test_missing_artifact_is_404(jp_fetch, seed):
    run_id = seed.run("e")
    await expect_error(jp_fetch, "mlops", "api", "runs", run_id, "artifacts", "none.txt", code=404)


async def test_an_unexpected_error_is_a_500_without_traceback(jp_fetch, seed, store, monkeypatch):
    # Given the store's experiment listing breaks at the lowest level
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire /secret/path")

    monkeypatch.setattr(store.experiments, "list", broken)
    # When
    body = await expect_error(jp_fetch, "mlops", "api", "experiments", code=500)
    # Then
    assert "secret" not in json.dumps(body)
    assert "server log" in body["message"]


async def test_an_in_order_run_shows_only_the_warnings_the_kernel_wrote(jp_fetch, seed):
    # Given the tags a tracked cell writes: in order, and two warnings, one per line
    from kernel_magics.core.names import Tag

    run_id = seed.run(
        "e",
        tags={Tag.EXECUTION_ORDER: "in_order", Tag.WARNINGS: "GPU is slow\nfigure 2 not stored"},
    )
    # When
    data = await fetch_json(jp_fetch, "mlops", "api", "runs", run_id)
    # Then no "unordered" warning, and each line of mlops.warnings is one warning
    assert data["warnings"] == ["GPU is slow", "figure 2 not stored"]


async def test_jupyterlab_cache_buster_is_accepted(
    jp_fetch, seed, http_server_client, jp_auth_header, jp_base_url
):
    # Given a GET as ServerConnection.makeRequest sends it (a bare timestamp argument)
    run_id = seed.run("e")
    url = f"{jp_base_url}mlops/api/runs?limit=5&1795412019837"
    # When
    response = await http_server_client.fetch(url, headers=jp_auth_header)
    # Then
    assert [r["id"] for r in json.loads(response.body)["runs"]] == [run_id]


async def test_a_run_whose_process_died_shows_as_crashed(jp_fetch, store):
    # Given a run left "running" by a process that no longer exists
    import subprocess
    import sys

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    exp = store.experiments.get_or_create("e")
    run_id = store.runs.create(exp, source="cell", pid=dead.pid)
    # When the panel lists runs
    data = await fetch_json(jp_fetch, "mlops", "api", "runs")
    # Then the run is crashed, with an explanation
    assert [r["status"] for r in data["runs"]] == ["crashed"]
    detail = await fetch_json(jp_fetch, "mlops", "api", "runs", run_id)
    assert "stopped without ending it" in detail["error"]


class TestAStoreThatCannotOpen:
    @pytest.fixture
    def jp_server_config(self, store, tmp_path):
        from server_helpers import server_config

        blocker = tmp_path / "not-a-folder"
        blocker.write_text("a file where the store folder should be")
        return server_config(store, KernelMagicsApp={"db_url": f"sqlite:///{blocker}/db/mlops.db"})

    async def test_is_reported_with_its_reason_and_the_server_still_serves(self, jp_fetch):
        # When the panel asks for runs
        body = await expect_error(jp_fetch, "mlops", "api", "runs", code=500)
        # Then it learns why, without a traceback
        assert "Cannot create the store folder" in body["message"]
        # And the rest of Jupyter is unaffected
        assert (await jp_fetch("api", "status")).code == 200
