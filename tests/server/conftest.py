"""Fixtures for the server extension: a Jupyter server with kernel_magics on a fresh store."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from server_helpers import Seeder, server_config  # noqa: E402


@pytest.fixture
def jp_server_config(store):
    """Enable kernel_magics, refuse unauthenticated access, point it at the test's store."""
    return server_config(store)


@pytest.fixture
def seed(store, jp_root_dir) -> Seeder:
    """A :class:`Seeder` bound to the test's store and Jupyter root."""
    return Seeder(store, jp_root_dir)
