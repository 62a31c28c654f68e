"""Describing datasets moved to :mod:`kernel_magics.core.data.describe`; kept for old imports."""

from __future__ import annotations

from .data.describe import (  # noqa: F401
    DatasetInfo,
    describe_dataset,
    describe_file,
    describe_folder,
    describe_frame,
)
