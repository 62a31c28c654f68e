"""``/mlops/api/experiments``: named groups of runs."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..base import MlopsHandler
from ..contract import Operation
from ..models import ListExperimentsResponse


class ExperimentsHandler(MlopsHandler):
    """Every experiment with its run count, most recently active first."""

    operations = {
        "get": Operation(
            "Every experiment with its run count, most recently active first.",
            ListExperimentsResponse,
        )
    }

    @web.authenticated
    @authorized
    def get(self) -> None:
        """Answer a :class:`ListExperimentsResponse`."""
        experiments = [e.to_dict() for e in self.store.experiments.list()]
        self.respond(ListExperimentsResponse, {"experiments": experiments})
