"""``%mlops alerts ACTION ...``: alert rules on a monitored model from a notebook.

The same API and tables as ``mlops alerts`` (:mod:`kernel_magics.core.monitoring.alerts_api`,
:mod:`kernel_magics.core.views.alerts`): ``add`` returns the new rule's table, ``ls`` and
``history`` return tables with the records in ``.data``.
"""

from __future__ import annotations

from typing import Any

from ...errors import ValidationError
from ..parsers import MagicArgumentParser, parsed_with
from ..widgets.report import Report, table_report

ACTIONS = ("add", "ls", "history", "pause", "resume", "rm")


def alerts_parser() -> MagicArgumentParser:
    """Build the parser of ``%mlops alerts``."""
    p = MagicArgumentParser(
        prog="%mlops alerts",
        description="Alert rules on a monitored model, evaluated once a minute by the scheduler.",
    )
    p.add_argument("action", choices=ACTIONS, help="What to do: " + ", ".join(ACTIONS) + ".")
    p.add_argument("name", nargs="?", help="The alert (required by add, pause, resume, rm).")
    p.add_argument("--model", "-m", help="add: the monitored model, e.g. churn@production.")
    p.add_argument(
        "--when",
        action="append",
        metavar="COND",
        help="add: 'METRIC OP NUMBER' such as 'accuracy < 0.85' (repeatable; any fires).",
    )
    p.add_argument("--window", default="1h", help="add: data each evaluation reads (default 1h).")
    p.add_argument(
        "--notify",
        action="append",
        metavar="CHANNEL",
        help="add: command:PROGRAM or webhook:URL, told once per incident (repeatable).",
    )
    p.add_argument("--limit", "-n", type=int, default=20, help="history: newest incidents shown.")
    return p


def _rules_report(title: str | None = None) -> Report:
    from ...core.monitoring.alerts_api import list_alerts, open_incidents
    from ...core.views.alerts import alerts_table

    rules, firing = list_alerts(), open_incidents()
    view = alerts_table(rules, firing)
    view.title = title
    return table_report([r.to_dict() for r in rules], view)


@parsed_with(alerts_parser)
def handle_alerts(magics: Any, ns: Any) -> Report:
    """Run one ``%mlops alerts`` action and show the rules (or the incidents)."""
    from ...core.monitoring import alerts_api as api
    from ...core.views.alerts import incidents_table

    if ns.action == "ls":
        return _rules_report()
    if ns.action == "history":
        incidents = api.alert_history(ns.name, limit=ns.limit)
        return table_report([i.to_dict() for i in incidents], incidents_table(incidents))
    if not ns.name:
        raise ValidationError(
            f"%mlops alerts {ns.action} needs the alert's name, e.g. %mlops alerts {ns.action} "
            "churn-quality."
        )
    if ns.action == "add":
        if not ns.model or not ns.when:
            raise ValidationError(
                "%mlops alerts add needs --model and --when, e.g. %mlops alerts add "
                "churn-quality --model churn@production --when 'accuracy < 0.85'."
            )
        rule = api.add_alert(ns.name, ns.model, ns.when, window=ns.window,
                             notify=ns.notify or [])  # fmt: skip
        return _rules_report(f"Added alert {rule.name!r}")
    action = {"pause": api.pause_alert, "resume": api.resume_alert, "rm": api.remove_alert}
    rule = action[ns.action](ns.name)
    done = {"pause": "Paused", "resume": "Resumed", "rm": "Removed"}[ns.action]
    return _rules_report(f"{done} alert {rule.name!r}")
