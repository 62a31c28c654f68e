"""Helpers shared by the magics tests."""

from __future__ import annotations


def run(sh, source: str):
    """Run one cell as the notebook would (stored in history)."""
    return sh.run_cell(source, store_history=True)


def last_run(store=None):
    """The newest run's record."""
    from kernel_magics.core.compare import resolve_run
    from kernel_magics.core.store import open_store
    from kernel_magics.kernel import cell_writer

    assert cell_writer.drain() == []
    store = store or open_store()
    store.writer.flush()
    return store.runs.get(resolve_run(store, "last"))
