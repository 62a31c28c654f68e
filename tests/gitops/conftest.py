"""A project with a notebook, a registered model, and one schedule, alert and automation."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent.parent / "fixtures" / "notebooks"
START = 1_767_225_600.0  # 2026-01-01 00:00 UTC


@pytest.fixture
def project(store, tmp_path, monkeypatch):
    """The store's project folder (next to .mlops) holding train.ipynb; the setup made by hand."""
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    import kernel_magics as mlops
    from kernel_magics.core.automations.api import add_automation
    from kernel_magics.core.monitoring.alerts_api import add_alert, pause_alert
    from kernel_magics.core.scheduler import api

    monkeypatch.chdir(tmp_path)
    shutil.copy(FIXTURES / "simple.ipynb", tmp_path / "train.ipynb")
    x = pd.DataFrame({"a": np.arange(20.0), "b": np.arange(20.0) % 3})
    model = LogisticRegression().fit(x, (x.a > 9).astype(int))
    mlops.log_model(model, "churn", x.head(5), alias="production", store=store)
    api.schedule(tmp_path / "train.ipynb",
                 api.ScheduleOptions(cron="0 3 * * *", timezone="Europe/Paris",
                                     parameters={"x": 3}, retries=2),
                 name="nightly", store=store, now=START)  # fmt: skip
    api.schedule(tmp_path / "train.ipynb", api.ScheduleOptions(cron="@hourly", timezone="UTC"),
                 name="hourly", store=store, now=START)  # fmt: skip
    add_alert("churn-acc", "churn@production", ["accuracy < 0.85"], window="1h", store=store)
    add_alert("churn-errors", "churn@production", "errors.rate > 0.05", window="15m",
              notify=["webhook:https://hooks.example.com/mlops"], store=store)  # fmt: skip
    pause_alert("churn-errors", store=store)
    add_automation(
        {"name": "retrain", "trigger": {"alert": "churn-acc"},
         "steps": [{"run_notebook": {"notebook": "train.ipynb", "parameters": {"x": 5}}}],
         "retries": 1},
        base_dir=tmp_path, store=store, now=START,
    )  # fmt: skip
    return tmp_path
