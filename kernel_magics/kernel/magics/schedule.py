"""``%mlops schedule "0 3 * * *" [-p name=value ...]``: schedule the current notebook.

The saved notebook file runs on the cron schedule as tracked papermill runs (source
``schedule``); the kernel only validates and stores the schedule, the scheduler (inside the
Jupyter server, or ``mlops scheduler``) fires it.
"""

from __future__ import annotations

from typing import Any

from ...errors import ValidationError
from ..parsers import MagicArgumentParser, parsed_with


def schedule_parser() -> MagicArgumentParser:
    """Build the parser of ``%mlops schedule``."""
    p = MagicArgumentParser(
        prog="%mlops schedule", description="Run this notebook (as saved) on a cron schedule."
    )
    p.add_argument("cron", help='Five-field cron expression in quotes, e.g. "0 3 * * *".')
    p.add_argument(
        "-p",
        "--param",
        action="append",
        metavar="name=value",
        help="Notebook parameter (repeatable), converted to its default's type.",
    )
    p.add_argument("--timezone", "-z", help="IANA timezone of the cron (default: the machine's).")
    p.add_argument("--name", help="Schedule name (default: the notebook's file name).")
    p.add_argument("--experiment", "-e", help="Experiment of the runs.")
    p.add_argument("--timeout", type=float, help="Seconds a run may take before it is killed.")
    p.add_argument("--retries", type=int, default=0, help="Extra attempts after a failure.")
    p.add_argument("--retry-delay", type=float, default=60.0, help="Seconds between attempts.")
    p.add_argument(
        "--catchup",
        choices=["latest", "all", "none"],
        default="latest",
        help="Which fire times missed while no scheduler ran still run.",
    )
    p.add_argument("--notify-command", help="Command given a JSON message when a slot fails.")
    p.add_argument("--notify-webhook", help="URL POSTed a JSON message when a slot fails.")
    p.add_argument("--notebook", help="Schedule this notebook instead of the current one.")
    return p  # fmt: skip


@parsed_with(schedule_parser)
def handle_schedule(magics: Any, ns: Any) -> None:
    """Create the schedule and print its next three fire times."""
    from ...core import capture
    from ...core.runner.parameters import parse_assignments
    from ...core.scheduler import api
    from ...core.scheduler.daemon import running_schedulers
    from ...core.store import open_store
    from ...core.views.schedules import next_runs_lines

    path = ns.notebook
    if path is None:
        where = capture.locate_notebook(namespace=magics.shell.user_ns)
        if where.path is None:
            raise ValidationError(
                f"Cannot tell which notebook this is: {where.reason}. Pass it with "
                '%mlops schedule "0 3 * * *" --notebook path/to/notebook.ipynb.'
            )
        path = where.path
    options = api.ScheduleOptions(
        cron=ns.cron, timezone=ns.timezone, parameters=parse_assignments(ns.param or []),
        experiment=ns.experiment, timeout=ns.timeout, retries=ns.retries,
        retry_delay=ns.retry_delay, catchup=ns.catchup, notify_command=ns.notify_command,
        notify_webhook=ns.notify_webhook,
    )  # fmt: skip
    record = api.schedule(path, options, name=ns.name, parameters_from_text=True)
    lines = [f"Scheduled {record.name!r}: {record.notebook_path} at '{record.cron}' "
             f"({record.timezone}). The saved file runs, so save the notebook first."]  # fmt: skip
    lines += next_runs_lines(api.next_runs(record))
    if not running_schedulers(open_store()):
        lines.append("No scheduler is running on this store yet: JupyterLab starts one, or run "
                     "`mlops scheduler --daemon` in a terminal.")  # fmt: skip
    lines.append(f"Manage it with `mlops schedule show|pause|resume|rm|history {record.name}`.")
    print("\n".join(lines))
    return None
