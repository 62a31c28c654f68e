"""Tables for alerts: rules on a deployed model's monitoring figures, and their incidents.

Defined on the store's one ``metadata`` (imported by ``schema``), so a new store gets them from
``metadata.create_all`` and an older one from migration 0005.
"""

from __future__ import annotations

from .schema import metadata  # noqa: F401  (tables below are defined on it)
