"""Tables for challenger deployments and guards (issue 15).

Defined on the store's one ``metadata`` (imported by ``schema``), so a new store gets them from
``metadata.create_all`` and an older one from migration 0013.
"""

from __future__ import annotations

from .schema import metadata  # noqa: F401
