"""Tables for stored dataset content: chunk manifests of dataset versions (issue 14).

Defined on the store's one ``metadata`` (imported by ``schema``), so a new store gets them from
``metadata.create_all`` and an older one from migration 0007.
"""

from __future__ import annotations

from .schema import metadata  # noqa: F401
