"""Compact rows for run tables: one page of runs with their params and latest metrics.

The side panel and the REST API list runs a page at a time. :func:`run_summaries` turns the ids
a search returned into table rows with four queries whatever the page size (runs, params,
latest metrics, tags), instead of one :meth:`RunRepository.get` per run. The queries and the
assembly are :class:`~.run_reads.RunReads`', shared with the SQLAlchemy-free quick reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import Store


def run_summaries(store: Store, run_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Return table rows for ``run_ids``, in that order.

    Parameters
    ----------
    store : Store
        The store to read.
    run_ids : sequence of str
        Full run ids, usually one page of :func:`~.search.search_runs`.

    Returns
    -------
    list of dict
        ``id, name, experiment, status, source, start_time, end_time, duration,
        notebook_path, notebook_version_id, parent_run_id, params, metrics, tags`` per run;
        ids that no longer exist are skipped. A running run whose process is gone is shown
        ``crashed`` (as every read shows it; nothing is written).
    """
    with store.db.read() as conn:  # one snapshot for every query of the page
        return store.run_reads(conn).summaries(run_ids)
