"""Model tests of a version stored with cloudpickle: refused without the explicit opt-in (with a
message naming it, for the API, ``mlops test`` and an automation's test step), tested with it.

The model is the issue's "broken challenger": it raises on some inputs (a monthly charge above
what it was built for), which a skops file could not hold (a custom function).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cloudpickle
import numpy as np
import pytest
from conftest import INPUTS, churn_data, fit

from kernel_magics.core.automations.api import add_automation, automation_history, run_automation
from kernel_magics.core.model_tests import run_model_tests
from kernel_magics.core.model_tests.report import FAIL, PASS
from kernel_magics.core.registry import parse_ref
from kernel_magics.errors import UnsafeModelError

MLOPS = Path(sys.executable).parent / "mlops"
CASES = """
cases:
  - {name: an ordinary customer, input: {tenure: 60, monthly: 40.0, region: south}, expect: 0}
  - {name: a huge bill, input: {tenure: 60, monthly: 5000.0, region: south}, expect: 1}
"""


class RaisesOnHugeBills:
    """A fitted model that raises ValueError when a monthly charge is above 1,000."""

    def __init__(self, model):
        self.model = model

    def predict(self, frame):
        if (np.asarray(frame["monthly"], dtype=float) > 1000).any():
            raise ValueError("monthly charge out of range")
        return self.model.predict(frame)


@pytest.fixture
def pickled(store, churn_project):
    """churn/4: the broken model, logged with cloudpickle."""
    import kernel_magics as mlops

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # `mlops test` cannot import us
    train = churn_data(600, seed=1)
    broken = RaisesOnHugeBills(fit(train, train.churned))
    mlops.log_model(broken, "churn", train[INPUTS].head(20), format="cloudpickle",
                    allow_pickle=True, store=store)  # fmt: skip
    (churn_project / "cases.yaml").write_text(CASES, encoding="utf-8")
    return "churn/4"


def test_a_pickled_model_is_refused_without_the_opt_in_and_tested_with_it(store, pickled):
    # When it is tested without the opt-in, Then nothing runs and the message names the fix
    with pytest.raises(UnsafeModelError, match=r"allow_pickle=True") as refused:
        run_model_tests(store, pickled, test_file="cases.yaml")
    assert "cloudpickle" in str(refused.value) and "churn/4" in str(refused.value)
    assert store.model_tests.last(store.models.get_version(parse_ref(pickled)).id) is None

    # When it is tested with the opt-in, Then the case it raises on fails, the other passes
    report = run_model_tests(store, pickled, test_file="cases.yaml", allow_pickle=True)
    outcomes = {c.name: (c.outcome, c.detail) for c in report.checks if c.kind == "case"}
    assert outcomes["an ordinary customer"][0] == PASS
    assert outcomes["a huge bill"][0] == FAIL
    assert "ValueError" in outcomes["a huge bill"][1]
    assert not report.passed


def test_mlops_test_names_allow_pickle_and_runs_with_it(store, pickled):
    # The real console script, as a user runs it (its error handling is the entry point's)
    def mlops(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(MLOPS), *args], capture_output=True, text=True, timeout=120)

    refused = mlops("test", pickled, "--tests", "cases.yaml")
    assert refused.returncode == 2
    assert "--allow-pickle" in refused.stderr and "cloudpickle" in refused.stderr

    ran = mlops("test", pickled, "--tests", "cases.yaml", "--allow-pickle")
    assert ran.returncode == 1, ran.stderr  # the model tests ran, and one check failed
    assert "a huge bill" in ran.stdout
    assert "Model tests failed: 1 check(s) of churn/4" in ran.stderr


def test_an_automation_test_step_needs_allow_pickle_true(store, pickled, churn_project):
    cases = str(churn_project / "cases.yaml")
    add_automation({"name": "vet", "trigger": "manual", "steps": [
        {"test": {"model": pickled, "test_file": cases}}]}, store=store)  # fmt: skip
    add_automation({"name": "vet-pickled", "trigger": "manual", "steps": [
        {"test": {"model": pickled, "test_file": cases, "allow_pickle": True}}]}, store=store)  # fmt: skip

    # Without the opt-in: the step fails naming the option to add
    assert run_automation("vet", store=store).status == "failed"
    [event] = automation_history("vet", store=store)
    assert "allow_pickle: true in the test step" in event["error"]

    # With it: the tests ran, and the step fails on the check the broken model fails
    assert run_automation("vet-pickled", store=store).status == "failed"
    [event] = automation_history("vet-pickled", store=store)
    assert "Model tests of churn/4 failed (1 of" in event["error"]
    assert "a huge bill" in event["error"]
