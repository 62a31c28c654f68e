"""Tables for notes and the audit trail (issue 17).

Defined on the store's one ``metadata`` (imported by ``schema``), so a new store gets them from
``metadata.create_all`` and an older one from migration 0009.
"""

from __future__ import annotations

from .schema import metadata  # noqa: F401
