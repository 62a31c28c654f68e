"""The model server's optional bearer token, required when it listens beyond loopback.

The token itself is never stored: the deployment keeps its SHA-256 (so a rollback's new server
checks the same token) and the server compares the digest of what a client presents with
:func:`hmac.compare_digest`, in constant time. ``GET /health`` stays open so load balancers and
the controller's hand-over check need no secret; every other route needs
``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os

from ...errors import ValidationError

TOKEN_ENV = "MLOPS_SERVE_TOKEN"
#: How the local backend hands the digest to the server process (not its command line: ``ps``).
TOKEN_DIGEST_ENV = "MLOPS_SERVE_TOKEN_SHA256"
MIN_TOKEN_CHARS = 16
OPEN_PATHS = frozenset({"/health"})


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def token_digest(token: str | None = None) -> str | None:
    """The hex SHA-256 of ``token`` (or of ``$MLOPS_SERVE_TOKEN``); None when neither is set.

    Raises
    ------
    ValidationError
        When the token is shorter than 16 characters (a short token is guessable).
    """
    token = token if token is not None else os.environ.get(TOKEN_ENV) or None
    if token is None:
        return None
    if len(token) < MIN_TOKEN_CHARS:
        raise ValidationError(
            f"The serving token has {len(token)} characters; use at least {MIN_TOKEN_CHARS}, e.g. "
            'python -c "import secrets; print(secrets.token_urlsafe(32))".'
        )
    return hashlib.sha256(token.encode()).hexdigest()


def require_token(host: str, digest: str | None) -> None:
    """Refuse to serve beyond loopback without a token.

    Raises
    ------
    ValidationError
        Naming ``--token`` / ``token=`` / ``MLOPS_SERVE_TOKEN`` and the loopback alternative.
    """
    if digest is None and not is_loopback(host):
        raise ValidationError(
            f"Serving on {host} exposes the model beyond this machine, so it needs a bearer "
            f"token: pass --token (token=... from Python, or set {TOKEN_ENV}), or keep "
            "--host 127.0.0.1."
        )


def authorized(header: str | None, digest: bytes) -> bool:
    """Whether an ``Authorization`` header carries the token whose SHA-256 is ``digest``."""
    if not header or not header[:7].lower() == "bearer ":
        return False
    presented = hashlib.sha256(header[7:].strip().encode()).digest()
    return hmac.compare_digest(presented, digest)
