"""Tables for automations: definitions, trigger events, executions (issue 15).

Defined on the store's one ``metadata`` (imported by ``schema``), so a new store gets them from
``metadata.create_all`` and an older one from migration 0011.
"""

from __future__ import annotations

from .schema import metadata  # noqa: F401
