"""``mlops runs ls / show / rm / reap``."""

from __future__ import annotations

import click

from ..core.store.liveness import STALE_AFTER_S
from .output import page, print_json, render


@click.group()
def runs() -> None:
    """List, inspect, delete and reap runs."""


@runs.command("ls")
@click.option(
    "-e", "--experiment", multiple=True, help="Only runs of this experiment (repeatable)."
)
@click.option("-f", "--filter", "filter_", help="e.g. \"metrics.acc > 0.9 and params.C = '0.1'\".")
@click.option("-o", "--order-by", multiple=True, help='e.g. "metrics.acc DESC" (repeatable).')
@click.option("-n", "--limit", type=int, default=20, show_default=True, help="At most this many.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def runs_ls(experiment, filter_, order_by, limit, as_json) -> None:
    """List runs, newest first (or as --order-by says)."""
    from ..core.views.runs import list_runs, runs_json, runs_table

    notes: list[str] = []
    quick = None if (experiment or filter_ or order_by) else _quick_reads()
    if quick is not None:  # the plain listing people type all day: no SQLAlchemy import
        rows = quick.summaries(quick.newest_ids(limit))
    else:
        from ..core.store import open_store

        rows = list_runs(
            open_store(), list(experiment) or None, filter_, list(order_by) or None, limit, notes
        )
    for note in notes:  # on stderr, so --json output stays parseable
        click.secho(f"Warning: {note}", fg="yellow", err=True)
    if as_json:
        print_json(runs_json(rows))
        return
    render(runs_table(rows))


@runs.command("show")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def runs_show(run_id: str, as_json: bool) -> None:
    """Show one run: status, params, metrics, tags, artifacts, datasets, child runs, error.

    RUN_ID is an id, its first 4+ characters, or `last`. A sweep's child runs are listed with
    their status and the sweep's objective metric.
    """
    from ..core.views.runs import run_view

    reads = _quick_reads()
    if reads is None:
        from ..core.store import open_store

        reads = open_store().run_reads()
    record = reads.run(reads.resolve_ref(run_id))
    if as_json:
        print_json(record.to_dict())
        return
    page(run_view(reads, record))


def _quick_reads():
    """Run reads through sqlite3 without SQLAlchemy when the store allows (else None).

    ``MLOPS_QUICK_READS=0`` turns them off (to compare both paths).
    """
    import os

    if os.environ.get("MLOPS_QUICK_READS", "1") == "0":
        return None
    from ..core.store.quick_reads import quick_reads

    return quick_reads()


@runs.command("rm")
@click.argument("run_ids", nargs=-1, required=True)
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--force", is_flag=True,
    help="Also delete a run that is still running (its process then stops logging, warned once).",
)  # fmt: skip
def runs_rm(run_ids: tuple[str, ...], yes: bool, force: bool) -> None:
    """Delete runs (and their child runs) with everything they logged.

    A run whose process is still alive is refused unless --force.
    """
    from ..core.store import open_store

    store = open_store()
    for run_id in run_ids:
        full = store.runs.resolve_id(run_id)
        if not yes:
            click.confirm(f"Delete run {full[:8]} and its child runs?", abort=True)
        removed = store.runs.delete(full, force=force)
        click.echo(f"Deleted {len(removed)} run(s): {', '.join(r[:8] for r in removed)}")
    click.echo("Run `mlops gc` to reclaim the space of artifacts nothing references any more.")


@runs.command("reap")
@click.option(
    "--stale-after", type=float, default=STALE_AFTER_S, show_default=True,
    help="Seconds of heartbeat silence after which a run on another host is crashed.",
)  # fmt: skip
def runs_reap(stale_after: float) -> None:
    """Mark runs whose process died as crashed (they never stay running forever).

    Every view already shows such runs as crashed; this stores it. A process that logs into
    the store does the same every 30 seconds.
    """
    from ..core.store import open_store

    crashed = open_store().runs.reap(stale_after=stale_after)
    click.echo(
        f"Marked {len(crashed)} run(s) crashed"
        + (f": {', '.join(c[:8] for c in crashed)}" if crashed else ".")
    )
