"""Model tests on real registered models: what passes, what fails, and what a user reads."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from kernel_magics.core.model_tests import run_model_tests
from kernel_magics.core.model_tests.checks import signature_problems
from kernel_magics.core.model_tests.report import CHECK_KINDS, FAIL, PASS, SKIP
from kernel_magics.core.promotion import promote
from kernel_magics.core.registry import parse_ref
from kernel_magics.core.registry.signature import infer_signature
from kernel_magics.errors import ValidationError

BUDGET_MS = 60_000  # generous: the passing model is judged on behaviour, not on machine speed


def _by_kind(report):
    out: dict[str, list] = {}
    for check in report.checks:
        out.setdefault(check.kind, []).append(check)
    return out


def test_a_good_model_passes_every_check_and_is_recorded(store, churn_project):
    # Given a retrained version of the production model
    # When it is tested on the holdout with the test file and a latency budget
    report = run_model_tests(
        store, "churn/2", holdout="holdout.csv", test_file="tests.yaml",
        conditions=["f1 >= 0.5"], latency_budget_ms=BUDGET_MS,
    )  # fmt: skip

    # Then every kind of check ran and passed
    kinds = _by_kind(report)
    assert sorted(kinds) == sorted(CHECK_KINDS)
    assert [c.outcome for c in report.checks] == [PASS] * len(report.checks), report.to_markdown()
    assert report.passed
    performance = {c.name: c for c in kinds["performance"]}
    assert set(performance) == {"accuracy >= 0.8", "f1 >= 0.5"}
    assert float(performance["accuracy >= 0.8"].measured) >= 0.8
    assert kinds["signature"][0].measured == "compatible"
    assert kinds["latency"][0].measured.startswith("p95 ")
    # ...and the report is stored with the version, where promote and model cards read it
    last = store.model_tests.last(store.models.get_version(parse_ref("churn/2")).id)
    assert last is not None and last.passed and last.id == report.id
    assert [c["name"] for c in last.report["checks"]] == [c.name for c in report.checks]


def test_a_bad_model_fails_each_check_kind_with_a_message_a_user_understands(store, churn_project):
    # Given a version trained on the wrong labels and logged with a retyped column
    # When it is tested like the good one, with a budget no model can meet
    report = run_model_tests(
        store, "churn/3", holdout="holdout.csv", test_file="tests.yaml", latency_budget_ms=1e-6
    )

    # Then every kind fails, each saying what went wrong
    assert not report.passed
    kinds = _by_kind(report)
    assert {c.kind for c in report.failures} == set(CHECK_KINDS)
    accuracy = kinds["performance"][0]
    assert accuracy.outcome == FAIL
    assert "accuracy is 0." in accuracy.detail and "the condition asks >= 0.8" in accuracy.detail
    signature = kinds["signature"][0].detail
    assert "clients of churn@production (v1) would break" in signature
    assert "column 'monthly' retyped double -> long" in signature
    assert "over the 1e-06 ms budget" in kinds["latency"][0].detail
    assert "changing region changed the prediction: row " in kinds["invariance"][0].detail
    assert "raising tenure by 24 should make the score decrease" in kinds["directional"][0].detail
    cases = {c.name: c for c in kinds["case"]}
    assert cases["a new customer churns"].outcome == FAIL
    assert cases["a new customer churns"].detail == (
        "predicted 0 for tenure=1, monthly=50.0, region='north'; expected 1"
    )
    assert store.model_tests.last(store.models.get_version(parse_ref("churn/3")).id).passed is False


def test_a_model_that_raises_fails_the_check_instead_of_stopping_the_report(store, churn_project):
    # Given a test file that sends a region the encoder never saw (it raises on unknown values)
    (churn_project / "unseen.yaml").write_text(
        "invariance:\n  - {name: any region, column: region, values: [north, east]}\n"
        "cases:\n  - {name: ok, input: {tenure: 1, monthly: 50.0, region: north}, expect: 1}\n"
    )

    report = run_model_tests(store, "churn/2", test_file="unseen.yaml")

    # Then the invariance check fails with the model's error, and the other checks still ran
    kinds = _by_kind(report)
    assert kinds["invariance"][0].outcome == FAIL
    assert kinds["invariance"][0].detail.startswith("the model raised ValueError: ")
    assert kinds["case"][0].outcome == PASS
    assert not report.passed


def test_signature_compatibility_names_removed_added_and_retyped_columns():
    import pandas as pd

    old = infer_signature(pd.DataFrame({"a": [1], "b": [1.0], "c": ["x"], "d": [1]}))
    new = infer_signature(pd.DataFrame({"a": [1.5], "b": ["1.0"], "d": [2], "e": [True]}))

    # a widens long -> double (today's clients' numbers still parse): not a problem
    assert signature_problems(old, new) == [
        "removed column 'c'",
        "new required column 'e'",
        "column 'b' retyped double -> string",
    ]
    assert signature_problems(old, old) == []


def test_junit_parses_and_counts_right(store, churn_project, tmp_path):
    # Given a failing report and a report with a skipped check (v1 is production itself)
    bad = run_model_tests(store, "churn/3", holdout="holdout.csv", test_file="tests.yaml")
    good = run_model_tests(store, "churn/1", holdout="holdout.csv", test_file="tests.yaml")

    for report in (bad, good):
        # When its JUnit XML is parsed as a CI server parses it
        path = tmp_path / f"{report.version}.xml"
        path.write_text(report.to_junit(), encoding="utf-8")
        root = ET.parse(path).getroot()

        # Then the counts match the checks, and each failure carries its detail
        suite = root.find("testsuite")
        assert root.tag == "testsuites" and suite is not None
        assert suite.get("name") == report.ref
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases) == len(report.checks)
        failed = [c for c in cases if c.find("failure") is not None]
        skipped = [c for c in cases if c.find("skipped") is not None]
        assert int(suite.get("failures")) == len(failed) == len(report.failures)
        assert int(suite.get("skipped")) == len(skipped) == report.counts()[SKIP]
        assert int(root.get("failures")) == len(failed)
        for case, check in zip(cases, report.checks, strict=True):
            assert case.get("name") == check.name
            assert case.get("classname") == f"mlops.churn.{check.kind}"
            if check.outcome == FAIL:
                assert case.find("failure").get("message") == check.detail
    assert len(bad.failures) == 6 and good.counts() == {PASS: 5, FAIL: 0, SKIP: 1}


def test_markdown_summary_reads_as_a_pull_request_comment(store, churn_project):
    report = run_model_tests(store, "churn/3", holdout="holdout.csv", test_file="tests.yaml")

    text = report.to_markdown()

    lines = text.splitlines()
    assert lines[0] == "### Model tests ❌ failed: `churn/3`"
    assert lines[2].startswith(f"{report.counts()[PASS]} passed, 6 failed, 0 skipped in ")
    rows = [line for line in lines if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) == len(report.checks)
    assert all(line.count(" | ") == 5 for line in rows)  # no pipe in a detail splits a cell
    assert "| loyal customers churn less | directional | ❌ FAIL |" in text


@pytest.mark.parametrize(
    ("kwargs", "test_file", "message"),
    [
        ({"conditions": ["acc >= 0.9"]}, None,
         "--condition: 'acc' is not a holdout metric; use one of accuracy,"),
        ({"conditions": ["accuracy >= 0.9"]}, None,
         "Metric conditions need labelled data to measure them on: pass --holdout"),
        ({}, "invariance:\n  - {column: plan, values: [a, b]}\n",
         "names 'plan', which the model does not take; its input columns are: tenure, monthly"),
        ({}, "directional:\n  - {column: region, change: 1, expect: increase}\n",
         "changes 'region', a string column; 'change' adds a number"),
        ({}, "directional:\n  - {column: tenure, change: 1, expect: up}\n",
         "'expect' is 'increase' or 'decrease'"),
        ({}, "cases:\n  - {input: {tenure: 1}, expect: 1}\n",
         "lacks 'monthly', 'region'; give every input column"),
        ({}, "cases: [oops\n", "t.yaml is not valid YAML at line 2"),
        ({}, "holdouts: x.csv\n", "unknown key(s) 'holdouts'; the keys are: holdout,"),
        ({"holdout": "holdout.csv", "target": "label"}, None,
         "has no label column 'label'; it has: tenure, monthly, region, churned"),
        ({"holdout": "missing.csv"}, None, "Holdout file 'missing.csv' not found"),
        ({"holdout": "holdout"}, None, "is neither a dataset version (NAME@VERSION"),
        ({"latency_budget_ms": -1}, None, "must be a positive number of milliseconds"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_before_any_prediction(
    store, churn_project, kwargs, test_file, message
):
    if test_file is not None:
        (churn_project / "t.yaml").write_text(test_file, encoding="utf-8")
        kwargs = {**kwargs, "test_file": "t.yaml"}

    with pytest.raises(ValidationError) as err:
        run_model_tests(store, "churn/2", **kwargs)

    assert message in str(err.value)
    assert store.model_tests.last(store.models.get_version(parse_ref("churn/2")).id) is None


def test_holdout_with_two_extra_columns_asks_for_the_target(store, churn_project):
    import pandas as pd

    frame = pd.read_csv("holdout.csv").assign(customer_id=1)
    with pytest.raises(ValidationError, match="name it with --target COLUMN"):
        run_model_tests(store, "churn/2", holdout=frame, conditions=["accuracy >= 0.5"])
    report = run_model_tests(
        store, "churn/2", holdout=frame, target="churned", conditions=["accuracy >= 0.5"]
    )
    assert report.checks[0].outcome == PASS and "rows of DataFrame" in report.checks[0].detail


def test_promote_require_tests_refuses_untested_and_failed_versions(store, churn_project):
    # Never tested: refused, saying what to run
    result = promote("churn", 2, require_tests=True, store=store)
    assert not result.passed and result.move is None
    assert result.checks[-1].detail == "churn/2 was never tested; run: mlops test churn/2"

    # Last test failed: refused, naming the failed checks
    run_model_tests(store, "churn/3", holdout="holdout.csv", test_file="tests.yaml")
    result = promote("churn", 3, require_tests=True, store=store)
    assert not result.passed
    assert result.checks[-1].detail.startswith("last test: failed accuracy >= 0.8; inputs")

    # Last test passed: the alias moves
    run_model_tests(store, "churn/2", holdout="holdout.csv", test_file="tests.yaml")
    result = promote("churn", 2, require_tests=True, store=store)
    assert result.passed and result.move is not None and result.move.to_version == 2
    assert store.models.get_version(parse_ref("churn@production")).version == 2


def test_a_dataset_version_is_a_holdout(store, churn_project):
    import pandas as pd

    from kernel_magics.core.data import store_dataset

    # Given the holdout stored as a dataset version, then a newer version with other rows
    frame = pd.read_csv("holdout.csv")
    store_dataset(store, frame, "churn-holdout")
    store_dataset(store, frame.head(40), "churn-holdout")

    # When a version is tested on the first one, and on the latest
    first = run_model_tests(store, "churn/2", holdout="churn-holdout@1",
                            conditions=["accuracy >= 0.8"])  # fmt: skip
    latest = run_model_tests(store, "churn/2", holdout="churn-holdout@latest",
                             conditions=["accuracy >= 0.0"])  # fmt: skip

    # Then each reads its own rows, and the report names the version
    assert first.checks[0].detail == "on 300 rows of churn-holdout@1"
    assert latest.checks[0].detail == "on 40 rows of churn-holdout@latest"
    assert first.options["holdout"] == "churn-holdout@1"
