"""``mlops apply`` and ``mlops export config``: the project's setup as a file in git."""

from __future__ import annotations

from pathlib import Path

import click

from .output import print_json, render


@click.command("apply")
@click.option(
    "-f", "--file", "path",
    type=click.Path(dir_okay=False),
    help="The file to apply (default: mlops.yaml next to the .mlops folder).",
)  # fmt: skip
@click.option("--dry-run", is_flag=True, help="Show the changes without making them.")
@click.option("--prune", is_flag=True, help="Pause what the store holds and the file does not.")
@click.option("--delete", is_flag=True, help="With --prune: delete those instead of pausing.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
def apply(path: str | None, dry_run: bool, prune: bool, delete: bool, as_json: bool) -> None:
    """Make the store's schedules, alerts and automations match mlops.yaml.

    Shows each change first (create; update with old -> new; pause or delete with --prune
    only). With --dry-run nothing changes; exit status 0 either way.
    """
    from ..core.gitops import apply_plan, config_path, load_config, plan_changes, store_config
    from ..core.store import open_store
    from ..core.views.gitops import plan_table

    if delete and not prune:
        raise click.UsageError("--delete only goes with --prune (what to do with the rest).")
    store = open_store()
    file = config_path(store, path)
    desired = load_config(file)
    plan = plan_changes(desired, store_config(store, desired.root), prune=prune, delete=delete)
    if as_json:
        print_json({**plan.to_dict(), "dry_run": dry_run})
    elif plan.empty:
        click.echo(f"The store matches {file.name}: nothing to change.")
        if plan.unmanaged:
            render(plan_table(plan, file.name))
    else:
        render(plan_table(plan, file.name))
    if plan.empty or dry_run:
        if dry_run and not plan.empty and not as_json:
            click.echo(f"Dry run: nothing changed. `mlops apply` makes these "
                       f"{len(plan.changes)} change(s).")  # fmt: skip
        return
    done = apply_plan(store, plan, desired.root)
    if not as_json:
        click.secho(f"Applied {len(done)} change(s) from {file.name}.", fg="green")


@click.command("config")
@click.option(
    "-o", "--output", "output",
    type=click.Path(dir_okay=False),
    help="Write to this file (default: print to stdout).",
)  # fmt: skip
def export_config(output: str | None) -> None:
    """Write today's schedules, alerts and automations as mlops.yaml."""
    from ..core.gitops import config_path, export_config
    from ..core.store import open_store

    store = open_store()
    root = (Path(output) if output else config_path(store)).resolve().parent
    text = export_config(store, root)
    if output is None:
        click.echo(text, nl=False)
        return
    Path(output).write_text(text, encoding="utf-8")
    click.echo(f"Wrote {output}: `mlops apply --dry-run -f {output}` shows no change.")
