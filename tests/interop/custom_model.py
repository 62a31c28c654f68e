"""A scikit-learn-style model of a type outside scikit-learn: skops cannot trust it by default."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin


class ThresholdModel(ClassifierMixin, BaseEstimator):
    """Predicts 1 when a column is above a threshold learned as its mean."""

    def __init__(self, column: str = "support_calls"):
        self.column = column

    def fit(self, X, y=None):
        self.threshold_ = float(np.mean(X[self.column]))
        self.classes_ = np.array([0, 1])
        return self

    def predict(self, X):
        return (np.asarray(X[self.column]) > self.threshold_).astype(int)
