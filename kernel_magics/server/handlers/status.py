"""``/mlops/api/status``: is the extension up, which version, which store."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..base import MlopsHandler
from ..contract import Operation
from ..models import DescribeStatusResponse


def redact(url: str) -> str:
    """Hide the password of a database URL."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL we can parse: show nothing rather than a secret
        return "<unparsable>"


class StatusHandler(MlopsHandler):
    """The extension's version and where its store lives."""

    operations = {
        "get": Operation(
            "Extension version and where the store lives (passwords hidden).",
            DescribeStatusResponse,
        )
    }

    @web.authenticated
    @authorized
    def get(self) -> None:
        """Answer a :class:`DescribeStatusResponse`."""
        from kernel_magics import __version__

        location = self.store.location
        artifacts = location.artifacts_uri
        self.respond(
            DescribeStatusResponse,
            {
                "version": __version__,
                "store_uri": redact(location.store_uri),
                "artifacts_uri": redact(artifacts) if "://" in artifacts else artifacts,
                "reason": location.reason,
            },
        )
