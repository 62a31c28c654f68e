"""``mlops info``, ``mlops experiments``, ``mlops gc``, ``mlops db``."""

from __future__ import annotations

import click

from .output import print_json, table, when


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def info(as_json: bool) -> None:
    """Show where the store is, why it is there, and what it holds."""
    from ..core.config import resolve_location
    from ..core.store import open_store

    location = resolve_location()
    store = open_store(location)
    experiments = store.experiments.list()
    data = {
        "store_uri": location.store_uri,
        "artifacts_uri": location.artifacts_uri,
        "home": str(location.home) if location.home else None,
        "reason": location.reason,
        "schema": store.schema_status,
        "experiments": len(experiments),
        "runs": sum(e.run_count for e in experiments),
    }
    if as_json:
        print_json(data)
        return
    click.echo(f"Store:      {location.store_uri}")
    click.echo(f"Artifacts:  {location.artifacts_uri}")
    click.echo(f"Why:        {location.reason}")
    click.echo(f"Holds:      {data['experiments']} experiments, {data['runs']} runs")


@click.group()
def experiments() -> None:
    """List experiments."""


@experiments.command("ls")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def experiments_ls(as_json: bool) -> None:
    """List experiments with their run counts, most recently active first."""
    from ..core.store import open_store

    records = open_store().experiments.list()
    if as_json:
        print_json([r.to_dict() for r in records])
        return
    table(
        "Experiments",
        ["Name", "Runs", "Last run", "Created", "Description"],
        [
            (r.name, r.run_count, when(r.last_run_at), when(r.created_at), r.description or "")
            for r in records
        ],
    )


@click.command()
@click.option("--dry-run", is_flag=True, help="Only list what would be deleted.")
@click.option(
    "--keep-last",
    type=click.IntRange(min=1),
    metavar="N",
    help="Also drop each dataset's versions older than its N newest that no run read or wrote.",
)
def gc(dry_run: bool, keep_last: int | None) -> None:
    """Delete blobs that no run, notebook version, model or dataset version needs any more.

    Blobs written in the last hour are kept, in case a process is about to reference them.
    With --keep-last N, dataset versions beyond each dataset's N newest are dropped first,
    unless a run read or wrote them (and so a model trained by that run may need them).
    Restored dataset versions of versions no longer stored leave the restore cache, and the
    cache is brought under its limit (MLOPS_DATASET_CACHE_LIMIT, 10 GiB by default).
    """
    from ..core.store import open_store

    store = open_store()
    verb = "Would delete" if dry_run else "Deleted"
    dropped: list[str] = []
    if keep_last is not None:
        dropped = store.dataset_versions.prune(keep_last, dry_run=dry_run)
        listed = f": {', '.join(dropped)}" if dropped else ""
        click.echo(f"{verb} {len(dropped)} old dataset version(s){listed}.")
    removed = store.artifacts.collect_garbage(dry_run=dry_run)
    click.echo(f"{verb} {len(removed)} unreferenced blob(s).")
    from ..core.data.restore_cache import collect_cache

    # a dry run has not dropped the old versions: their restored copies would go too
    doomed = (
        {store.dataset_versions.resolve(*ref.rsplit("@", 1)).hash for ref in dropped}
        if dry_run
        else set()
    )
    cache = collect_cache(store, dry_run=dry_run, without=doomed)
    click.echo(
        f"{verb} {len(cache.gone) + len(cache.evicted)} restore-cache entr(ies): "
        f"{len(cache.gone)} of versions no longer stored, {len(cache.evicted)} over the cache "
        f"limit ({cache.freed_bytes:,} bytes; {cache.kept_bytes:,} bytes kept)."
    )


@click.group()
def db() -> None:
    """Manage the store's database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create the schema or apply pending migrations (safe to run any time)."""
    from ..core.config import resolve_location
    from ..core.store import Store
    from ..core.store.migrate import HEAD_REVISION

    store = Store(resolve_location())
    click.echo(f"Schema {store.schema_status}; at revision {HEAD_REVISION}.")
