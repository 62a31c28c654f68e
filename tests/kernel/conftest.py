"""Fixtures for the magics: a fresh IPython shell with the extension loaded."""

from __future__ import annotations

import pytest


@pytest.fixture
def shell(monkeypatch, tmp_path):
    """A fresh InteractiveShell (in-memory history) with ``%load_ext kernel_magics`` run."""
    import matplotlib
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    matplotlib.use("Agg")
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.chdir(tmp_path)
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    InteractiveShell.clear_instance()
    sh = InteractiveShell.instance(config=config)
    result = sh.run_cell("%load_ext kernel_magics", store_history=True)
    assert result.success
    yield sh
    import matplotlib.pyplot as plt

    plt.close("all")
    sh.history_manager.end_session()
    InteractiveShell.clear_instance()


@pytest.fixture(autouse=True)
def _drain_cell_writes():
    """Finish a test's background cell writes before its store is closed."""
    yield
    from kernel_magics.kernel import cell_writer

    cell_writer.drain()
