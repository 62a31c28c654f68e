"""``mlops note`` and ``mlops audit``: notes on runs, versions, deployments; the audit trail."""

from __future__ import annotations

import click

from .output import print_json, render

TARGET_HELP = "A run id (or 4+ character prefix), churn/7, churn@production or deployment:3."


@click.command("note")
@click.argument("target")
@click.argument("text", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def note(target, text, as_json) -> None:
    """Write a note on TARGET, or list its notes when TEXT is left out.

    TARGET is a run id (or a unique prefix of 4+ characters), a model version (churn/7), an
    alias (churn@production: the version it points at now) or a deployment (deployment:3).
    The note is recorded as the OS user, with the time, in the audit trail.
    """
    from ..core.notes import note as add_note
    from ..core.notes import notes, parse_target
    from ..core.store import open_store
    from ..core.views.audit import notes_table

    store = open_store()
    resolved = parse_target(target, store)
    if text is not None:
        written = add_note(target, text, store=store)
        if as_json:
            print_json(written.to_dict())
            return
        click.echo(f"Noted on {resolved.label} as {written.author}.")
        return
    found = notes(target, store=store)
    if as_json:
        print_json([n.to_dict() for n in found])
        return
    render(notes_table(resolved.label, found))


@click.command("audit")
@click.option("--since", help="Only changes in this past period: 30m, 1d, 7d, 2w.")
@click.option(
    "--kind",
    type=click.Choice(["alias", "deployment", "schedule", "alert", "automation", "model", "note"]),
    help="Only changes of this kind.",
)
@click.option("--target", help="Only this target and those inside it (churn: churn@production).")
@click.option("--limit", "-n", type=click.IntRange(1, 1000), default=50, show_default=True,
              help="Newest entries shown.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def audit(since, kind, target, limit, as_json) -> None:
    """Who changed which alias, deployment, schedule, alert or automation, and when.

    Newest first. Changes made through JupyterLab carry the Jupyter user; the CLI, notebooks
    and the scheduler record the OS user.
    """
    import time

    from ..core.monitoring.windows import parse_duration
    from ..core.store import open_store
    from ..core.views.audit import audit_table

    cutoff = None if since is None else time.time() - parse_duration(since)
    page = open_store().audit.list(since=cutoff, kind=kind, target=target, limit=limit)
    if as_json:
        print_json([e.to_dict() for e in page.entries])
        return
    render(audit_table(page.entries, more=page.next_before is not None))
