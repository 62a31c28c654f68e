"""``mlops runs ls / show / rm / reap``."""

from __future__ import annotations

import json

import click

from .output import console, duration, print_json, table, when


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
    from ..core.tracking import runs as search

    frame = search(
        list(experiment) or None, filter=filter_, order_by=list(order_by) or None, limit=limit
    )
    if as_json:
        print_json(json.loads(frame.to_json(orient="records", date_format="iso")))
        return
    metric_cols = [c for c in frame.columns if c.startswith("metrics.")][:4]
    param_cols = [c for c in frame.columns if c.startswith("params.")][:4]
    rows = []
    for r in frame.itertuples(index=False):
        rec = r._asdict() if hasattr(r, "_asdict") else dict(zip(frame.columns, r, strict=True))
        rec = dict(zip(frame.columns, r, strict=True))
        start = rec["start_time"].timestamp() if rec["start_time"] is not None else None
        end = (
            rec["end_time"].timestamp()
            if rec["end_time"] == rec["end_time"] and rec["end_time"] is not None
            else None
        )
        rows.append(
            [rec["run_id"][:8], rec["experiment"], rec["name"] or "", rec["status"], when(start),
             duration(end - start if end and start else None)]
            + [_fmt(rec[c]) for c in metric_cols + param_cols]
        )  # fmt: skip
    columns = ["Run", "Experiment", "Name", "Status", "Started", "Duration"]
    table(None, columns + metric_cols + param_cols, rows)


def _fmt(value) -> str:
    if value is None or value != value:  # None or NaN
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


@runs.command("show")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def runs_show(run_id: str, as_json: bool) -> None:
    """Show one run: status, params, metrics, tags, artifacts, datasets, error."""
    from ..core.tracking import get_run

    record = get_run(run_id)
    if as_json:
        print_json(record.to_dict())
        return
    out = console()
    out.print(f"[bold]Run {record.id}[/bold]  {record.name or ''}")
    out.print(
        f"Experiment: {record.experiment}   Source: {record.source}   Status: {record.status}"
    )
    out.print(f"Started: {when(record.start_time)}   Duration: {duration(record.duration)}")
    if record.notebook_path:
        out.print(f"Notebook: {record.notebook_path}")
    for title, values in (
        ("Params", record.params),
        ("Metrics", record.metrics),
        ("Tags", record.tags),
    ):
        if values:
            table(title, ["Name", "Value"], [(k, _fmt(v)) for k, v in sorted(values.items())])
    if record.artifacts:
        table(
            "Artifacts",
            ["Path", "Size", "Type"],
            [(a["path"], a["size"], a["media_type"]) for a in record.artifacts],
        )
    if record.datasets:
        table(
            "Datasets",
            ["Name", "Role", "Rows", "Hash"],
            [(d["name"], d["role"], d["rows"], d["hash"][:12]) for d in record.datasets],
        )
    if record.error:
        out.print("[bold red]Error[/bold red]")
        out.print(record.error, markup=False)


@runs.command("rm")
@click.argument("run_ids", nargs=-1, required=True)
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
def runs_rm(run_ids: tuple[str, ...], yes: bool) -> None:
    """Delete runs (and their child runs) with everything they logged."""
    from ..core.store import open_store

    store = open_store()
    for run_id in run_ids:
        full = store.runs.resolve_id(run_id)
        if not yes:
            click.confirm(f"Delete run {full[:8]} and its child runs?", abort=True)
        removed = store.runs.delete(full)
        click.echo(f"Deleted {len(removed)} run(s): {', '.join(r[:8] for r in removed)}")
    click.echo("Run `mlops gc` to reclaim the space of artifacts nothing references any more.")


@runs.command("reap")
@click.option(
    "--stale-after", type=float, default=120.0, show_default=True,
    help="Seconds of heartbeat silence after which a run on another host is crashed.",
)  # fmt: skip
def runs_reap(stale_after: float) -> None:
    """Mark runs whose process died as crashed (they never stay running forever)."""
    from ..core.store import open_store

    crashed = open_store().runs.reap(stale_after=stale_after)
    click.echo(
        f"Marked {len(crashed)} run(s) crashed"
        + (f": {', '.join(c[:8] for c in crashed)}" if crashed else ".")
    )
