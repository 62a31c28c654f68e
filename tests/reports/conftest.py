"""Fixtures for reports and model cards: a store with two comparable runs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from report_fixtures import seed_runs  # noqa: E402


@pytest.fixture
def two_runs(store, tmp_path) -> list[str]:
    """The ids of two runs of ``churn`` that differ (baseline first)."""
    return seed_runs(store, tmp_path)
