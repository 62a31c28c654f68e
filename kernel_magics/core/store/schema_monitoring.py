"""Tables for monitoring: request statistics per bucket, predictions by id, labels.

Defined on the store's one ``metadata`` (imported by ``schema``), so a new store gets them from
``metadata.create_all`` and an older one from migration 0004.
"""

from __future__ import annotations

from .schema import metadata  # noqa: F401  (tables below are defined on it)
