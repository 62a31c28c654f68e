"""Tables for dataset content: chunks and the manifests that rebuild a version.

Defined on the store's one ``metadata`` (imported by ``schema``), so a new store gets them from
``metadata.create_all`` and an older one from migration 0006.
"""

from __future__ import annotations

from .schema import metadata  # noqa: F401  (tables below are defined on it)
