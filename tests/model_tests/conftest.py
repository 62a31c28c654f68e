"""Churn models to test: a good one (twice, so one can be production) and a bad one.

The label depends on tenure and the monthly charge, never on the region. The good model learns
that; the bad one is trained on labels that depend on the region and rise with tenure, and is
logged with ``monthly`` as whole numbers (a retyped input column), so each check kind has
something to catch.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

INPUTS = ["tenure", "monthly", "region"]

TEST_FILE = """
target: churned
conditions: ["accuracy >= 0.8"]
invariance:
  - {name: region does not matter, column: region, values: [north, south]}
directional:
  - {name: loyal customers churn less, column: tenure, change: 24, expect: decrease}
cases:
  - {name: a new customer churns, input: {tenure: 1, monthly: 50.0, region: north}, expect: 1}
  - {name: a loyal customer stays, input: {tenure: 60, monthly: 40.0, region: south}, expect: 0}
"""


def churn_data(rows: int, seed: int) -> pd.DataFrame:
    """Tenure (months), monthly charge, region, and whether the customer churned."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "tenure": rng.integers(0, 72, rows),
            "monthly": rng.uniform(20, 100, rows).round(2),
            "region": rng.choice(["north", "south"], rows),
        }
    )
    frame["churned"] = ((frame.tenure < 12) | (frame.monthly > 90)).astype(int)
    return frame


def fit(frame: pd.DataFrame, labels: pd.Series):
    """A one-hot + logistic regression pipeline (skops-safe)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    pre = ColumnTransformer(
        [("region", OneHotEncoder(), ["region"]), ("num", StandardScaler(), ["tenure", "monthly"])]
    )
    return make_pipeline(pre, LogisticRegression(max_iter=2000)).fit(frame[INPUTS], labels)


@pytest.fixture
def churn_project(store, tmp_path, monkeypatch):
    """v1 (good, production), v2 (good, retrained), v3 (bad); holdout.csv and tests.yaml."""
    import kernel_magics as mlops

    monkeypatch.chdir(tmp_path)
    train = churn_data(600, seed=1)
    good = fit(train, train.churned)
    mlops.log_model(good, "churn", train[INPUTS].head(20), alias="production", store=store)
    good2 = fit(train.iloc[::-1], train.churned.iloc[::-1])
    mlops.log_model(good2, "churn", train[INPUTS].head(20), store=store)
    wrong = ((train.region == "south") | (train.tenure > 48)).astype(int)
    bad_frame = train.assign(monthly=train.monthly.round().astype("int64"))
    bad = fit(bad_frame, wrong)
    mlops.log_model(bad, "churn", bad_frame[INPUTS].head(20), store=store)
    churn_data(300, seed=2).to_csv(tmp_path / "holdout.csv", index=False)
    (tmp_path / "tests.yaml").write_text(TEST_FILE, encoding="utf-8")
    return tmp_path
