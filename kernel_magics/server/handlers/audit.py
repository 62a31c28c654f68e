"""``/mlops/api/audit``: who changed which alias, deployment, schedule, alert and when."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..base import MlopsHandler
from ..contract import Operation
from ..models.notes import ListAuditQuery, ListAuditResponse


class AuditHandler(MlopsHandler):
    """The audit trail, newest first, one page at a time."""

    operations = {
        "get": Operation(
            "Recorded changes (aliases, deployments, schedules, alerts, automations, models, "
            "notes), newest first.",
            ListAuditResponse,
            query=ListAuditQuery,
            errors=(400,),
            description=(
                "target also matches the targets inside it: churn lists churn@production and "
                "churn/7. Page with before=next_before."
            ),
        )
    }

    @web.authenticated
    @authorized
    def get(self) -> None:
        """Answer a :class:`ListAuditResponse`."""
        query = self.parse_query(ListAuditQuery)
        page = self.store.audit.list(
            since=query.since,
            kind=query.kind,
            target=query.target,
            limit=query.limit,
            before=query.before,
        )
        self.respond(
            ListAuditResponse,
            {"entries": [e.to_dict() for e in page.entries], "next_before": page.next_before},
        )
