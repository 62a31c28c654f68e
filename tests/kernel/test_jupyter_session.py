"""With a real Jupyter server: the kernel of a notebook session knows its notebook.

Jupyter server starts the kernel of a session with ``JPY_SESSION_NAME``; a tracked cell in that
kernel must record the notebook's path and a version of it, with nothing set by hand.
"""

from __future__ import annotations

import json
import time

import nbformat
import pytest

pytestmark = pytest.mark.slow


@pytest.fixture
def jp_server_config():
    """A plain server (the kernel side needs no server extension)."""
    return {"ServerApp": {"jpserver_extensions": {"kernel_magics": False}}}


@pytest.mark.parametrize("with_name", [True, False], ids=["absolute", "server-relative"])
async def test_session_kernel_records_its_notebook(jp_fetch, jp_root_dir, jp_serverapp, with_name):
    # Given: a notebook in a sub-folder of the server's root, opened as a session
    folder = jp_root_dir / "projects"
    folder.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("%%mlops track\nC = 0.5")]
    nbformat.write(nb, folder / "train.ipynb")
    body = {"path": "projects/train.ipynb", "type": "notebook", "kernel": {"name": "python3"}}
    if with_name:  # JupyterLab sends the name: the server then passes an absolute path
        body["name"] = "train.ipynb"
    response = await jp_fetch("api", "sessions", method="POST", body=json.dumps(body))
    kernel_id = json.loads(response.body)["kernel"]["id"]
    # When: the notebook's cell runs in that kernel
    km = jp_serverapp.kernel_manager.get_kernel(kernel_id)
    client = km.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=120)
        reply = await client.execute_interactive(
            "%load_ext kernel_magics\n", timeout=60
        )  # fmt: skip
        assert reply["content"]["status"] == "ok"
        reply = await client.execute_interactive(nb.cells[0].source, timeout=60)
        assert reply["content"]["status"] == "ok"
    finally:
        client.stop_channels()
        await jp_fetch("api", "kernels", kernel_id, method="DELETE")
    # Then: the run knows the notebook (path from the session) and its version
    from kernel_magics.core.store import open_store
    from kernel_magics.core.store.search import search_runs

    store = open_store()
    deadline = time.monotonic() + 30
    record = None
    while time.monotonic() < deadline:
        ids = search_runs(store).run_ids
        record = store.runs.get(ids[0]) if ids else None
        if record is not None and record.notebook_version_id is not None:
            break
        time.sleep(0.2)
    assert record is not None
    assert record.notebook_path == str((folder / "train.ipynb").resolve())
    assert record.experiment == "train"
    assert record.notebook_version_id is not None
    assert record.params == {"C": "0.5"}
