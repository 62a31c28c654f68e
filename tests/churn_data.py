"""A small synthetic churn dataset shared by the registry and serving tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def churn_frame(rows: int = 200, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Three numeric features and a target that depends on two of them."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "tenure": rng.integers(0, 72, rows),
            "charges": rng.normal(70.0, 20.0, rows),
            "support_calls": rng.integers(0, 10, rows),
        }
    )
    target = ((frame["support_calls"] > 4) | (frame["tenure"] < 6)).astype(int)
    return frame, target
