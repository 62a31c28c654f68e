"""``mlops automation add/ls/show/run/history/pause/resume/rm``: trigger -> steps."""

from __future__ import annotations

from typing import Any

import click

from .output import print_json, render


@click.group()
def automation() -> None:
    """Automations: a trigger (cron, alert, new dataset or model version, manual) runs steps.

    Steps run in order, each as a child run of the execution's parent run: run_notebook,
    test, promote, deploy_challenger, promote_challenger, notify. The scheduler that already
    runs (`mlops scheduler`, or the one inside JupyterLab) watches the triggers and runs each
    trigger event exactly once.
    """


def _yaml(text: str, what: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise click.BadParameter(f"{what} is not valid YAML: {exc}") from None


def _trigger(cron, timezone, alert, dataset, model, manual) -> Any:
    given = [(k, v) for k, v in (("cron", cron), ("alert", alert), ("dataset", dataset),
                                 ("model", model)) if v]  # fmt: skip
    if manual:
        given.append(("manual", True))
    if len(given) != 1:
        raise click.UsageError(
            "Give exactly one trigger: --cron EXPR, --on-alert RULE, --on-dataset NAME, "
            "--on-model NAME or --manual (or --file with a trigger)."
        )
    kind, target = given[0]
    if kind == "manual":
        return "manual"
    return {kind: target, **({"timezone": timezone} if timezone and kind == "cron" else {})}


@automation.command("add")
@click.argument("name", required=False)
@click.option("--cron", help="Run on this cron schedule, e.g. '0 3 * * *'.")
@click.option("--timezone", "--tz", help="IANA timezone of --cron (the machine's by default).")
@click.option("--on-alert", "alert", metavar="RULE", help="Run when alert RULE opens an incident.")
@click.option("--on-dataset", "dataset", metavar="NAME", help="Run on each new version of NAME.")
@click.option("--on-model", "model", metavar="NAME", help="Run on each new version of model NAME.")
@click.option("--manual", is_flag=True, help="Run only on `mlops automation run NAME`.")
@click.option(
    "--step",
    "steps",
    multiple=True,
    metavar="YAML",
    help="A step in YAML, in order (repeatable): test, or "
    "'{run_notebook: {notebook: train.ipynb, parameters: {data: \"${dataset_ref}\"}}}'.",
)
@click.option("--retries", type=int, default=0, show_default=True, help="Extra attempts.")
@click.option("--retry-delay", type=float, default=60.0, show_default=True, help="Seconds.")
@click.option("--timeout", help="Time one execution may take: 30m, 2h (none by default).")
@click.option("--paused", is_flag=True, help="Add it paused (resume it later).")
@click.option(
    "--file",
    "file",
    type=click.Path(exists=True, dir_okay=False),
    help="Read the whole automation (name, trigger, steps...) from a YAML file.",
)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def automation_add(name, cron, timezone, alert, dataset, model, manual, steps, retries,
                   retry_delay, timeout, paused, file, as_json) -> None:  # fmt: skip
    """Add the automation NAME: from now on each event of its trigger runs its steps."""
    from pathlib import Path

    from ..core.automations.api import add_automation

    base = None
    if file:
        with open(file, encoding="utf-8") as handle:
            data = _yaml(handle.read(), file)
        if not isinstance(data, dict):
            raise click.BadParameter(f"{file} must hold one automation (a mapping).")
        if name:
            data["name"] = name
        base = Path(file).resolve().parent  # its notebook paths are relative to the file
    else:
        if not name:
            raise click.UsageError("Give the automation a NAME (or --file).")
        data = {
            "name": name, "trigger": _trigger(cron, timezone, alert, dataset, model, manual),
            "steps": [_yaml(s, f"--step {s!r}") for s in steps], "retries": retries,
            "retry_delay": retry_delay, "enabled": not paused,
        }  # fmt: skip
        if timeout:
            data["timeout"] = timeout
    record = add_automation(data, base_dir=base)
    if as_json:
        print_json(record.spec.to_dict())
        return
    spec = record.spec
    click.echo(f"Automation {spec.name!r}: on {spec.trigger.describe()} run "
               f"{' > '.join(s.kind for s in spec.steps)}"
               f"{' (paused)' if not spec.enabled else ''}.")  # fmt: skip
    if spec.trigger.kind != "manual":
        _warn_if_no_scheduler()


def _warn_if_no_scheduler() -> None:
    from ..core.scheduler.daemon import running_schedulers
    from ..core.store import open_store

    if not running_schedulers(open_store()):
        click.secho("No scheduler is running on this store, so nothing watches the trigger yet: "
                    "start one with `mlops scheduler --daemon` (JupyterLab runs one while it is "
                    "open).", fg="yellow", err=True)  # fmt: skip


@automation.command("ls")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def automation_ls(as_json) -> None:
    """List automations: state, trigger, steps and how their events went."""
    from ..core.store import open_store
    from ..core.views.automations import automations_table

    store = open_store()
    records = store.automations.list()
    counts = store.automations.event_counts()
    if as_json:
        print_json([{**r.spec.to_dict(), "events": counts.get(r.id, {})} for r in records])
        return
    render(automations_table(records, counts))


@automation.command("show")
@click.argument("name")
@click.option("--limit", "-n", type=int, default=5, show_default=True, help="Newest events.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def automation_show(name, limit, as_json) -> None:
    """Show automation NAME as YAML (what `--file` and mlops.yaml take) and its newest events."""
    import yaml

    from ..core.automations.api import automation_history, get_automation
    from ..core.views.automations import history_table

    record = get_automation(name)
    events = automation_history(name, limit=limit)
    if as_json:
        print_json({**record.spec.to_dict(), "events": events})
        return
    click.echo(yaml.safe_dump(record.spec.to_dict(), sort_keys=False).rstrip())
    click.echo()
    render(history_table(events))


@automation.command("run")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def automation_run(name, as_json) -> None:
    """Run automation NAME once, now, and wait for it (exit status 1 when a step fails)."""
    from ..core.automations.api import run_automation
    from ..core.views.automations import steps_table

    execution = run_automation(name)
    if execution is None:
        click.echo("A scheduler claimed the event first; it runs there "
                   f"(see `mlops automation history {name}`).")  # fmt: skip
        return
    if as_json:
        print_json(execution.to_dict())
    else:
        render(steps_table(execution))
    if not execution.ok:
        raise SystemExit(1)


@automation.command("history")
@click.argument("name")
@click.option("--limit", "-n", type=int, default=20, show_default=True, help="Newest events.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def automation_history_cmd(name, limit, as_json) -> None:
    """Trigger events of automation NAME, newest first, with their attempts and failures."""
    from ..core.automations.api import automation_history
    from ..core.views.automations import history_table

    events = automation_history(name, limit=limit)
    if as_json:
        print_json(events)
        return
    render(history_table(events))


@automation.command("pause")
@click.argument("name")
def automation_pause(name) -> None:
    """Ignore the trigger of NAME until resumed (a running execution finishes)."""
    from ..core.automations.api import pause_automation

    click.echo(f"Paused automation {pause_automation(name).name!r}.")


@automation.command("resume")
@click.argument("name")
def automation_resume(name) -> None:
    """Follow the trigger of NAME again; events while it was paused are skipped."""
    from ..core.automations.api import resume_automation

    click.echo(f"Resumed automation {resume_automation(name).name!r}.")


@automation.command("rm")
@click.argument("name")
def automation_rm(name) -> None:
    """Delete automation NAME and its event history (its runs stay)."""
    from ..core.automations.api import delete_automation

    click.echo(f"Removed automation {delete_automation(name).name!r}.")
