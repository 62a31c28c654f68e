"""Fixtures for automation tests: a notification inbox, a manual clock, a failing notebook."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from automation_helpers import Inbox, write_notebook  # noqa: E402

from kernel_magics.core.scheduler.clock import ManualClock  # noqa: E402


@pytest.fixture
def inbox(tmp_path):
    return Inbox(tmp_path / "inbox.jsonl")


@pytest.fixture
def clock():
    """A manual clock at 2026-01-05 02:00 UTC."""
    return ManualClock(1767578400.0)


@pytest.fixture
def failing_notebook(tmp_path):
    """A notebook whose second cell raises."""
    return write_notebook(tmp_path / "broken.ipynb", "label = 'x'\n",
                          "raise ValueError(f'bad input {label}')\n")  # fmt: skip
