"""``mlops schedule add/ls/show/pause/resume/rm/run-now/history`` and ``mlops scheduler``."""

from __future__ import annotations

import click

from ..core.names import FINISHED
from .output import print_json, render


@click.group()
def schedule() -> None:
    """Run notebooks on a cron schedule, exactly once per fire time.

    Schedules are stored in the store; a scheduler (`mlops scheduler`, or the one JupyterLab
    runs while open) fires them.
    """


@schedule.command("add")
@click.argument("notebook", type=click.Path(dir_okay=False))
@click.option(
    "--cron", required=True, help='Five-field cron expression, e.g. "0 3 * * *", or @daily.'
)
@click.option("--timezone", "-z", help="IANA timezone the cron reads (default: this machine's).")
@click.option(
    "-p",
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="Notebook parameter (repeatable), converted to the type of its default.",
)
@click.option("--name", help="Schedule name (default: the notebook's file name).")
@click.option("--experiment", "-e", help="Experiment of the runs.")
@click.option("--kernel", help="Kernel name (default: the notebook's).")
@click.option("--timeout", type=float, help="Seconds a run may take before it is killed.")
@click.option(
    "--retries",
    type=int,
    default=0,
    show_default=True,
    help="Extra attempts after a failed, killed or crashed attempt.",
)
@click.option(
    "--retry-delay", type=float, default=60.0, show_default=True, help="Seconds between attempts."
)
@click.option(
    "--catchup",
    type=click.Choice(["latest", "all", "none"]),
    default="latest",
    show_default=True,
    help="Which fire times missed while no scheduler ran still run.",
)
@click.option(
    "--notify-command", help="Command run with a JSON message on stdin when a slot fails for good."
)
@click.option(
    "--notify-webhook", help="URL that receives the JSON message (POST) when a slot fails for good."
)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def schedule_add(
    notebook,
    cron,
    timezone,
    params,
    name,
    experiment,
    kernel,
    timeout,
    retries,
    retry_delay,
    catchup,
    notify_command,
    notify_webhook,
    as_json,
) -> None:
    """Schedule NOTEBOOK; prints the next three fire times."""
    from ..core.runner.parameters import parse_assignments
    from ..core.scheduler import api
    from ..core.views.schedules import next_runs_lines

    options = api.ScheduleOptions(
        cron=cron, timezone=timezone, parameters=parse_assignments(params),
        experiment=experiment, kernel=kernel, timeout=timeout, retries=retries,
        retry_delay=retry_delay, catchup=catchup, notify_command=notify_command,
        notify_webhook=notify_webhook,
    )  # fmt: skip
    record = api.schedule(notebook, options, name=name, parameters_from_text=True)
    upcoming = api.next_runs(record)
    if as_json:
        print_json(dict(record.to_dict(), next_runs=[t.isoformat() for t in upcoming]))
        return
    click.echo(f"Scheduled {record.name!r}: {record.notebook_path} at '{record.cron}' "
               f"({record.timezone}).")  # fmt: skip
    click.echo("\n".join(next_runs_lines(upcoming)))
    _warn_if_no_scheduler()


def _warn_if_no_scheduler() -> None:
    from ..core.scheduler.daemon import running_schedulers
    from ..core.store import open_store

    if not running_schedulers(open_store()):
        click.secho("No scheduler is running on this store: start one with "
                    "`mlops scheduler --daemon` (JupyterLab runs one while it is open).",
                    fg="yellow", err=True)  # fmt: skip


@schedule.command("ls")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def schedule_ls(as_json) -> None:
    """List schedules with their next and last fire times."""
    from ..core.scheduler import api
    from ..core.scheduler.daemon import running_schedulers
    from ..core.store import open_store
    from ..core.views.schedules import schedules_table

    store = open_store()
    records = api.schedules(store=store)
    last = store.schedules.slot_counts()
    nexts = {r.id: (None if r.paused else api.next_runs(r, 1)[0]) for r in records}
    if as_json:
        print_json([dict(r.to_dict(), next_run=nxt.isoformat() if (nxt := nexts[r.id]) else None,
                         last_slot=last.get(r.id)) for r in records])  # fmt: skip
        return
    render(schedules_table(records, nexts, last))
    alive = running_schedulers(store)
    if alive:
        click.echo("Schedulers: " + ", ".join(f"{s['owner']} ({s['role']})" for s in alive))
    elif records:
        _warn_if_no_scheduler()


@schedule.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def schedule_show(name, as_json) -> None:
    """Show a schedule's settings, next fire times and latest slots."""
    from ..core.scheduler import api
    from ..core.views.schedules import schedule_fields

    record = api.get_schedule(name)
    upcoming = [] if record.paused else api.next_runs(record)
    recent = api.schedule_history(name, limit=5)
    if as_json:
        print_json(dict(record.to_dict(), next_runs=[t.isoformat() for t in upcoming],
                        recent_slots=recent))  # fmt: skip
        return
    for key, value in schedule_fields(record, upcoming):
        click.echo(f"{key + ':':<12} {value}")
    if recent:
        _history_table(record, recent)


def _history_table(record, slots) -> None:
    from ..core.views.schedules import slots_table

    render(slots_table(record, slots))


@schedule.command("pause")
@click.argument("name")
def schedule_pause(name) -> None:
    """Stop firing (running slots finish; fire times while paused are skipped)."""
    from ..core.scheduler import api

    api.pause_schedule(name)
    click.echo(f"Paused {name!r}. Resume with `mlops schedule resume {name}`.")


@schedule.command("resume")
@click.argument("name")
def schedule_resume(name) -> None:
    """Fire again from now on."""
    from ..core.scheduler import api
    from ..core.views.formatting import fire_time

    record = api.resume_schedule(name)
    click.echo(f"Resumed {name!r}; next run {fire_time(api.next_runs(record, 1)[0])}.")


@schedule.command("rm")
@click.argument("name")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
def schedule_rm(name, yes) -> None:
    """Delete a schedule and its slot history (its runs stay in the store)."""
    from ..core.scheduler import api

    api.get_schedule(name)
    if not yes:
        click.confirm(f"Delete schedule {name!r} and its slot history?", abort=True)
    api.delete_schedule(name)
    click.echo(f"Deleted schedule {name!r}.")


@schedule.command("run-now")
@click.argument("name")
def schedule_run_now(name) -> None:
    """Fire NAME once now, in this process, and wait for the run."""
    from ..core.scheduler import api

    end = api.run_schedule_now(name)
    if end is None:
        click.echo("A scheduler picked the slot up first; see `mlops schedule history`.")
        return
    run = f" run {end.run_id[:8]}" if end.run_id else ""
    click.echo(f"{name}:{run} {end.attempt_status}"
               + (f" -> slot {end.slot_status}" if end.slot_status != end.attempt_status else "")
               + (f"\n{end.error}" if end.error else ""))  # fmt: skip
    if end.attempt_status != FINISHED:
        raise SystemExit(1)


@schedule.command("history")
@click.argument("name")
@click.option(
    "-n", "--limit", type=int, default=20, show_default=True, help="At most this many slots."
)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def schedule_history(name, limit, as_json) -> None:
    """Slots of NAME, newest first: status, attempts, run, error (missed slots included)."""
    from ..core.scheduler import api

    record = api.get_schedule(name)
    slots = api.schedule_history(name, limit=limit)
    if as_json:
        print_json(slots)
        return
    if not slots:
        click.echo(f"{name!r} has not fired yet.")
        return
    _history_table(record, slots)


@click.command("scheduler")
@click.option("--daemon", is_flag=True, help="Detach and run in the background.")
@click.option(
    "--pid-file",
    type=click.Path(dir_okay=False),
    help="Where the daemon writes its pid (default: <store home>/scheduler.pid).",
)
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False),
    help="Where the daemon logs (default: <store home>/scheduler.log).",
)
@click.option("--stop", is_flag=True, help="Stop the daemon named by --pid-file, then exit.")
@click.option(
    "--poll-interval",
    type=float,
    default=5.0,
    show_default=True,
    help="Seconds between passes over the schedules.",
)
@click.option(
    "--lease",
    type=float,
    default=60.0,
    show_default=True,
    help="Seconds without renewal after which a dead scheduler's slots are taken over.",
)
@click.option(
    "--grace",
    type=float,
    default=300.0,
    show_default=True,
    help="Seconds after a fire time during which its slot still counts as on time.",
)
@click.option(
    "--max-workers",
    type=int,
    default=4,
    show_default=True,
    help="Runs this scheduler executes at the same time.",
)
@click.option("-v", "--verbose", is_flag=True, help="Log every slot, not just problems.")
def scheduler(
    daemon, pid_file, log_file, stop, poll_interval, lease, grace, max_workers, verbose
) -> None:
    """Fire the store's schedules until stopped (Ctrl-C or SIGTERM).

    Any number of schedulers may run against one store: each slot still runs once.
    """
    from ._daemonize import run_scheduler_process

    run_scheduler_process(
        daemon=daemon, pid_file=pid_file, log_file=log_file, stop=stop,
        options={"poll_interval": poll_interval, "lease": lease, "grace": grace,
                 "max_workers": max_workers}, verbose=verbose,
    )  # fmt: skip
