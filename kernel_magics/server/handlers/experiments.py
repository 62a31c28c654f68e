"""``/mlops/api/experiments``: named groups of runs."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..base import MlopsHandler


class ExperimentsHandler(MlopsHandler):
    """Every experiment with its run count, most recently active first."""

    @web.authenticated
    @authorized
    def get(self) -> None:
        """Return ``{"experiments": [...]}``."""
        self.write_json({"experiments": [e.to_dict() for e in self.store.experiments.list()]})
