"""A notebook session's ``mlops.start_run()`` runs, seen by the panel (issue 11).

With a real Jupyter server and a real kernel started for a notebook session (so the server sets
``JPY_SESSION_NAME`` itself): the API runs appear under the notebook's runs ("This notebook"),
with its version, and a failed run's error starts at the user's line.
"""

from __future__ import annotations

import json

import nbformat
import pytest
from server_helpers import fetch_json

pytestmark = pytest.mark.slow

CELLS = [
    "%load_ext kernel_magics",
    "import kernel_magics as mlops\n"
    "for C in (0.1, 1.0):\n"
    "    with mlops.start_run(experiment='demo', params={'C': C}):\n"
    "        mlops.log_metric('acc', 0.8 + C / 10)\n",
    "try:\n"
    "    with mlops.start_run(experiment='demo', name='broken'):\n"
    "        {}['missing']\n"
    "except KeyError:\n"
    "    pass\n",
]


async def run_in_session(jp_fetch, jp_serverapp, path: str) -> None:
    """Open ``path`` as a notebook session and execute its cells in the session's kernel."""
    body = {"path": path, "type": "notebook", "name": path, "kernel": {"name": "python3"}}
    response = await jp_fetch("api", "sessions", method="POST", body=json.dumps(body))
    kernel_id = json.loads(response.body)["kernel"]["id"]
    client = jp_serverapp.kernel_manager.get_kernel(kernel_id).client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=120)
        for source in CELLS:
            reply = await client.execute_interactive(source, timeout=120)
            assert reply["content"]["status"] == "ok", reply["content"]
    finally:
        client.stop_channels()
        await jp_fetch("api", "kernels", kernel_id, method="DELETE")


async def test_api_runs_of_a_notebook_are_in_this_notebooks_runs(
    jp_fetch, jp_serverapp, jp_root_dir
):
    # Given a notebook in the root, run in its own session's kernel
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in CELLS]
    nbformat.write(nb, jp_root_dir / "demo.ipynb")
    await run_in_session(jp_fetch, jp_serverapp, "demo.ipynb")
    # When the panel asks for this notebook's runs
    data = await fetch_json(jp_fetch, "mlops", "api", "runs", params={"notebook": "demo.ipynb"})
    # Then the three API runs are there, with one notebook version
    assert data["total"] == 3
    assert {r["source"] for r in data["runs"]} == {"api"}
    versions = {r["notebook_version_id"] for r in data["runs"]}
    assert len(versions) == 1 and None not in versions
    history = await fetch_json(
        jp_fetch, "mlops", "api", "notebook_versions", params={"path": "demo.ipynb"}
    )
    assert [v["id"] for v in history["versions"]] == list(versions)
    # And the failed one's error starts at the user's cell, not at kernel_magics
    (broken,) = [r for r in data["runs"] if r["name"] == "broken"]
    detail = await fetch_json(jp_fetch, "mlops", "api", "runs", broken["id"])
    assert detail["status"] == "failed"
    first = next(line for line in detail["error"].splitlines() if line.lstrip().startswith("File"))
    assert "kernel_magics" not in first
    assert "{}['missing']" in detail["error"]
    assert detail["error"].rstrip().endswith("KeyError: 'missing'")
