"""``/mlops/api/status``: is the extension up, which version, which store."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..base import MlopsHandler


def redact(url: str) -> str:
    """Hide the password of a database URL."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL we can parse: show nothing rather than a secret
        return "<unparsable>"


class StatusHandler(MlopsHandler):
    """The extension's version and where its store lives."""

    @web.authenticated
    @authorized
    def get(self) -> None:
        """Return ``{"version", "store_uri", "artifacts_uri", "reason"}``."""
        from kernel_magics import __version__

        location = self.store.location
        self.write_json(
            {
                "version": __version__,
                "store_uri": redact(location.store_uri),
                "artifacts_uri": redact(location.artifacts_uri)
                if "://" in location.artifacts_uri
                else location.artifacts_uri,
                "reason": location.reason,
            }
        )
