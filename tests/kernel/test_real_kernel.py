"""The magics in a real ipykernel: a notebook executed with nbclient, then the store checked."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from kernel_magics.core.store import open_store

FIXTURE = Path(__file__).parents[1] / "fixtures" / "notebooks" / "magics_track.ipynb"

pytestmark = pytest.mark.slow


@pytest.fixture
def executed(tmp_path, monkeypatch):
    """The fixture notebook, executed as Jupyter server would start its kernel."""
    path = tmp_path / "magics_track.ipynb"
    shutil.copy(FIXTURE, path)
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))  # what the server puts in the kernel env
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=180, startup_timeout=180, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()  # fmt: skip
    nbformat.write(nb, path)
    return path, nb


def test_notebook_with_magics_fills_the_store(executed):
    path, nb = executed
    store = open_store()
    from kernel_magics.core.store.search import search_runs

    ids = search_runs(store, order_by=["start_time ASC"]).run_ids
    assert len(ids) == 2
    good, bad = (store.runs.get(i) for i in ids)
    # the tracked cell
    assert good.status == "finished" and good.source == "cell"
    assert good.experiment == "magics_track"  # the notebook's name
    assert good.notebook_path == str(path)
    assert good.params == {"C": "0.5", "penalty": "l2"}  # not `weights`: it is an --artifact
    assert good.metrics == {"acc": 0.875, "loss": pytest.approx(1 / 200)}
    assert len(store.runs.metric_history(good.id, "loss")) == 200
    paths = {a["path"] for a in good.artifacts}
    assert {"figures/figure-1.png", "artifacts/weights.json", "cell/source.py"} <= paths
    assert good.tags["mlops.execution_order"] == "in_order"
    assert good.notebook_version_id is not None
    assert good.environment_hash is not None
    # the failing cell
    assert bad.status == "failed" and "ValueError: boom" in bad.error
    assert bad.notebook_version_id == good.notebook_version_id  # the file did not change
    # the notebook's outputs: Out value, the inline figure, and the static metric plot left in
    # place of the live widget (so the saved file renders without widgets)
    outputs = nb.cells[2].outputs
    results = [o for o in outputs if o.output_type == "execute_result"]
    assert results and results[0].data["text/plain"] == "1.0"
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 2
    assert not [
        o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    assert nb.cells[3].outputs[-1].ename == "ValueError"
    status = "".join(o.get("text", "") for o in nb.cells[4].outputs)
    assert f"notebook:  {path}" in status


def test_live_plot_updates_while_the_cell_runs_then_interrupt(tmp_path, monkeypatch):
    from jupyter_client.manager import start_new_kernel

    from kernel_magics.core.store.search import search_runs

    monkeypatch.chdir(tmp_path)
    km, kc = start_new_kernel(kernel_name="python3", startup_timeout=180)
    try:
        kc.execute_interactive("%load_ext kernel_magics", timeout=60)
        # A cell that trains for ~3 s: the widget gets PNG frames while it runs, then the
        # output is replaced by the static figure (same display id) and the widget closed.
        messages = []
        kc.execute_interactive(
            "%%mlops track --name live\nimport time, kernel_magics as mlops\n"
            "for i in range(60):\n    mlops.log_metric('loss', 1 / (i + 1), step=i)\n"
            "    time.sleep(0.05)",
            timeout=120,
            output_hook=messages.append,
        )
        kinds = [m["msg_type"] for m in messages]
        shown = next(m for m in messages if m["msg_type"] == "display_data")
        assert "application/vnd.jupyter.widget-view+json" in shown["content"]["data"]
        frames = [m for m in messages if m["msg_type"] == "comm_msg" and m["buffers"]]
        assert frames and bytes(frames[0]["buffers"][0]).startswith(b"\x89PNG")
        final = next(m for m in messages if m["msg_type"] == "update_display_data")
        assert final["content"]["transient"] == shown["content"]["transient"]
        assert "image/png" in final["content"]["data"]
        assert kinds.index("update_display_data") > kinds.index("comm_msg")
        assert "comm_close" in kinds
        # Interrupting a tracked cell ends its run "killed"
        msg_id = kc.execute("%%mlops track --name sleepy\nimport time\ntime.sleep(60)")
        store = open_store()
        deadline = time.monotonic() + 60
        while len(search_runs(store).run_ids) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        km.interrupt_kernel()
        reply = kc.get_shell_msg(timeout=30)
        assert reply["parent_header"]["msg_id"] == msg_id
        assert reply["content"]["status"] == "error"
        assert reply["content"]["ename"] == "KeyboardInterrupt"
        record = store.runs.get(search_runs(store).run_ids[0])
        assert record.status == "killed" and record.name == "sleepy"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_mlops_run_of_a_gallery_style_cell_keeps_its_figure_and_notebook(tmp_path):
    # Given: a notebook like a scikit-learn gallery example: pyplot imported inside the tracked
    # cell, which ends with plt.show() (the inline backend displays the figure, then closes it)
    import subprocess
    import sys

    path = tmp_path / "gallery.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_code_cell("%load_ext kernel_magics"),
        nbformat.v4.new_code_cell(
            "%%mlops track\nimport matplotlib.pyplot as plt\nfig, ax = plt.subplots()\n"
            "ax.plot([1, 3, 2])\nplt.show()"
        ),
    ]
    nbformat.write(nb, path)
    # When: it runs as a reproducible run
    mlops = Path(sys.executable).with_name("mlops")
    done = subprocess.run(
        [str(mlops), "run", str(path)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    # Then: the figure is stored and the notebook tag names the notebook, as the run does
    from kernel_magics.core.store.search import search_runs

    store = open_store()
    (run_id,) = search_runs(store).run_ids
    record = store.runs.get(run_id)
    assert "figures/figure-1.png" in {a["path"] for a in record.artifacts}
    png, _ = store.artifacts.read(run_id, "figures/figure-1.png")
    assert png.startswith(b"\x89PNG")
    assert record.notebook_path == str(path) and record.notebook_version_id is not None
    assert record.tags["mlops.notebook"] == str(path)
    assert "mlops.warnings" not in record.tags
