"""From a tracked cell in a real kernel to the server's JSON for the same run.

Issue 10 found the contract broken: the kernel wrote ``mlops.warnings`` while the server read
``mlops.warning.*``, so no warning ever reached the panel, and the server test seeded the
spelling nobody writes. This test lets the kernel write the tags itself.
"""

from __future__ import annotations

import pytest
from server_helpers import fetch_json

pytestmark = pytest.mark.slow


def run_tracked_cell(cwd, code: str) -> None:
    """Run ``code`` in a fresh ipykernel (it inherits this test's MLOPS_HOME), then stop it."""
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3", startup_timeout=180, cwd=str(cwd))
    try:
        for source in ("%load_ext kernel_magics", code):
            reply = kc.execute_interactive(source, timeout=120)
            assert reply["content"]["status"] == "ok", reply["content"]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


async def test_a_warning_of_a_tracked_cell_reaches_the_panel(jp_fetch, store, tmp_path):
    # Given a tracked cell that asks for a metric the cell never defines (a warning, not an error)
    run_tracked_cell(tmp_path, "%%mlops track --metric nope --name warned\nacc = 0.5")
    from kernel_magics.core.store.search import search_runs

    (run_id,) = search_runs(store).run_ids
    # When the panel opens the run
    data = await fetch_json(jp_fetch, "mlops", "api", "runs", run_id)
    # Then the kernel's warning is in the server's JSON, as the kernel worded it
    assert data["name"] == "warned" and data["status"] == "finished"
    assert data["warnings"] == ["--metric nope: no such variable after the cell"]
    # And the list of runs shows the same run with the tag the kernel wrote
    listing = await fetch_json(jp_fetch, "mlops", "api", "runs")
    assert "nope" in listing["runs"][0]["tags"]["mlops.warnings"]
