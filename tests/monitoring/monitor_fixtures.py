"""A registered churn model and the buckets its model server would write, for monitoring tests."""

from __future__ import annotations

import numpy as np
from churn_data import churn_frame
from sklearn.linear_model import LogisticRegression

import kernel_magics as mlops
from kernel_magics.core.monitoring.counts import ProfileBinning, latency_counts, prediction_bins


def register(store, tags=None):
    frame, target = churn_frame(2000, seed=0)
    model = LogisticRegression(max_iter=500).fit(frame, target)
    version = mlops.log_model(
        model, "churn", input_example=frame, alias="production", tags=tags, store=store
    )
    return model, version


def write_bucket(store, model, version, frame, start, *, errors=0, latency_ms=5.0, seconds=60):
    """What the model server writes when a bucket closes: counts of every row it scored."""
    binning = ProfileBinning.build(
        version.profile, list(frame.columns), prediction_bins(model.classes_, None)
    )
    counts = binning.new_counts()
    predictions = model.predict(frame)
    counts.add_columns(frame, predictions)
    store.monitoring.add_bucket(
        version.id,
        source="serving",
        start=start,
        seconds=seconds,
        requests=len(frame) + errors,
        errors=errors,
        rows=len(frame),
        latency=latency_counts(np.full(len(frame) + errors, latency_ms)),
        features=counts.features(),
        prediction=counts.prediction(),
        deployment_id=None,
    )
    return predictions
