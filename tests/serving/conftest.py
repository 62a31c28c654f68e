"""Registered models for the serving tests."""

from __future__ import annotations

import pytest
from churn_data import churn_frame


@pytest.fixture
def churn_versions(store):
    """churn/1 (logistic regression, production) and churn/2 (a tree) with their runs."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    import kernel_magics as mlops

    frame, target = churn_frame()
    mlops.log_model(
        LogisticRegression(max_iter=500).fit(frame, target),
        "churn",
        input_example=frame,
        alias="production",
    )
    mlops.log_model(
        DecisionTreeClassifier(max_depth=3).fit(frame, target), "churn", input_example=frame
    )
    return frame


@pytest.fixture(autouse=True)
def _stop_leftover_servers(_isolated_store):
    """Stop any model server a test started and left running (a failed assertion midway)."""
    yield
    from kernel_magics.core.serving.deployments import get_backend, list_deployments

    backend = get_backend()
    for dep in list_deployments():
        backend.stop(dep, reason="left running by a test")
