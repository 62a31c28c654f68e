"""Fixtures for scheduler tests: a tiny notebook and a manual clock."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from sched_helpers import at, write_notebook  # noqa: E402

from kernel_magics.core.scheduler.clock import ManualClock  # noqa: E402


@pytest.fixture
def notebook(tmp_path):
    """A notebook with parameters ``alpha`` (float) and ``label`` (str)."""
    return write_notebook(tmp_path / "train.ipynb")


@pytest.fixture
def clock():
    """A manual clock at 2026-01-05 00:00 UTC (a Monday)."""
    return ManualClock(at("2026-01-05T00:00:00"))
