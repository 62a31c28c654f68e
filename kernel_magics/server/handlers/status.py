"""``/mlops/api/status``: is the extension up, which version, which store."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..base import MlopsHandler
from ..contract import Operation
from ..models import DescribeStatusResponse


def redact(url: str) -> str:
    """Hide the password of a database URL (the store's own parser; imported on first use)."""
    from kernel_magics.core.store.db import redacted_url

    return redacted_url(url)


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
