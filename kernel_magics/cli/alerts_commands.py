"""``mlops alerts add/ls/history/pause/resume/rm``: alert rules on monitored models."""

from __future__ import annotations

import click

from .output import print_json, render


@click.group()
def alerts() -> None:
    """Alert rules on a deployed model's monitoring figures.

    The scheduler that already runs (`mlops scheduler`, or the one inside JupyterLab)
    evaluates every rule once a minute and tells the rule's channels once per incident.
    """


@alerts.command("add")
@click.argument("name")
@click.option("--model", "-m", required=True, help="Monitored model: churn@production, churn/3.")
@click.option(
    "--when",
    "conditions",
    required=True,
    multiple=True,
    metavar="COND",
    help="'METRIC OP NUMBER', e.g. 'accuracy < 0.85' (repeatable: fires when any holds).",
)
@click.option(
    "--window",
    default="1h",
    show_default=True,
    help="Monitoring data each evaluation looks at: 15m, 1h, 1d...",
)
@click.option(
    "--notify",
    multiple=True,
    metavar="CHANNEL",
    help="command:PROGRAM (JSON on stdin) or webhook:URL (JSON POST); repeatable.",
)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def alerts_add(name, model, conditions, window, notify, as_json) -> None:
    """Create the alert NAME on a model's monitoring figures."""
    from ..core.monitoring.alerts_api import add_alert

    rule = add_alert(name, model, list(conditions), window=window, notify=list(notify))
    if as_json:
        print_json(rule.to_dict())
        return
    click.echo(f"Alert {rule.name!r} on {rule.model_ref}: {' or '.join(rule.conditions)} "
               f"over {window}, evaluated every minute.")  # fmt: skip
    if not rule.notify:
        click.echo("No --notify channel: incidents show in `mlops alerts history` only.")
    _warn_if_no_scheduler()


def _warn_if_no_scheduler() -> None:
    from ..core.scheduler.daemon import running_schedulers
    from ..core.store import open_store

    if not running_schedulers(open_store()):
        click.secho("No scheduler is running on this store, so nothing evaluates alerts yet: "
                    "start one with `mlops scheduler --daemon` (JupyterLab runs one while it is "
                    "open).", fg="yellow", err=True)  # fmt: skip


@alerts.command("ls")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def alerts_ls(as_json) -> None:
    """List alert rules: state (active, paused, firing), conditions, last evaluation."""
    from ..core.monitoring.alerts_api import list_alerts, open_incidents
    from ..core.views.alerts import alerts_table, rule_state

    rules = list_alerts()
    firing = open_incidents()
    if as_json:
        print_json([dict(r.to_dict(), state=rule_state(r, firing.get(r.id)),
                         open_incident=firing[r.id].to_dict() if r.id in firing else None)
                    for r in rules])  # fmt: skip
        return
    render(alerts_table(rules, firing))


@alerts.command("history")
@click.argument("name", required=False)
@click.option("--limit", "-n", type=int, default=20, show_default=True, help="Newest incidents.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def alerts_history(name, limit, as_json) -> None:
    """Incidents (of alert NAME only, when given), newest first."""
    from ..core.monitoring.alerts_api import alert_history
    from ..core.views.alerts import incidents_table

    incidents = alert_history(name, limit=limit)
    if as_json:
        print_json([i.to_dict() for i in incidents])
        return
    render(incidents_table(incidents))


@alerts.command("pause")
@click.argument("name")
def alerts_pause(name) -> None:
    """Stop evaluating alert NAME (an open incident stays open)."""
    from ..core.monitoring.alerts_api import pause_alert

    click.echo(f"Paused alert {pause_alert(name).name!r}.")


@alerts.command("resume")
@click.argument("name")
def alerts_resume(name) -> None:
    """Evaluate alert NAME again from the next minute on."""
    from ..core.monitoring.alerts_api import resume_alert

    click.echo(f"Resumed alert {resume_alert(name).name!r}.")


@alerts.command("rm")
@click.argument("name")
def alerts_rm(name) -> None:
    """Delete alert NAME and its incident history."""
    from ..core.monitoring.alerts_api import remove_alert

    click.echo(f"Removed alert {remove_alert(name).name!r}.")
