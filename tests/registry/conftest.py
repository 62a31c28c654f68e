"""Small real models and training frames shared by the registry and serving tests."""

from __future__ import annotations

import pytest
from churn_data import churn_frame


@pytest.fixture
def churn_data():
    return churn_frame()


@pytest.fixture
def churn_model(churn_data):
    from sklearn.linear_model import LogisticRegression

    frame, target = churn_data
    return LogisticRegression(max_iter=500).fit(frame, target)
