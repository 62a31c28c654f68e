"""``mlops test REF``: model tests with a pass/fail table, JUnit XML and a Markdown summary."""

from __future__ import annotations

from pathlib import Path

import click

from .output import print_json, render


def _write(path: str, text: str, what: str) -> None:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.UsageError(f"Cannot write the {what} to {path!r}: {exc.strerror}.") from None


@click.command("test")
@click.argument("ref")
@click.option(
    "--holdout", help="Labelled data: a dataset version (holdout@2) or a CSV/Parquet file."
)
@click.option("--target", help="The holdout's label column (default: its one non-input column).")
@click.option(
    "--condition",
    "conditions",
    multiple=True,
    help='A metric on the holdout, like the gate\'s: "accuracy >= 0.85" (repeatable).',
)
@click.option(
    "--tests",
    "test_file",
    type=click.Path(dir_okay=False),
    help="The model's YAML test file (invariance, directional and case checks; see README).",
)
@click.option(
    "--latency-budget-ms",
    type=click.FloatRange(min=0, min_open=True),
    help="p95 of single-row predictions on the stored example must stay within this.",
)
@click.option(
    "--alias",
    help="The inputs must stay compatible with what this alias serves (default: production).",
)
@click.option(
    "--allow-pickle",
    is_flag=True,
    help="Allow a version stored with pickle/cloudpickle (runs code from it).",
)
@click.option("--junit", "junit_path", help="Write the report as JUnit XML to this file.")
@click.option("--markdown", "markdown_path", help="Write a Markdown summary (for a PR comment).")
@click.option("--last", is_flag=True, help="Show the last stored report instead of testing.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def test(
    ref, holdout, target, conditions, test_file, latency_budget_ms, alias, allow_pickle,
    junit_path, markdown_path, last, as_json,
) -> None:  # fmt: skip
    """Test a model version (churn/7, churn@staging) and record the result (exit 1 on failure).

    Checks: metric conditions on a holdout, signature compatibility with the alias, a latency
    budget, and the invariance / directional / case checks of the test file. `mlops promote
    --require-tests` refuses a version whose last test failed.
    """
    from ..core.model_tests import ModelTestReport, run_model_tests
    from ..core.registry import parse_ref
    from ..core.store import open_store

    store = open_store()
    if last:
        version = store.models.get_version(parse_ref(ref))
        stored = store.model_tests.last(version.id)
        if stored is None:
            raise click.UsageError(f"{version.ref} was never tested; run: mlops test {version.ref}")
        report = ModelTestReport.from_dict(stored.report)
    else:
        report = run_model_tests(
            store, ref, holdout=holdout, conditions=conditions, test_file=test_file,
            latency_budget_ms=latency_budget_ms, target=target, alias=alias,
            allow_pickle=allow_pickle, pickle_opt_in="--allow-pickle",
        )  # fmt: skip
    if junit_path:
        _write(junit_path, report.to_junit(), "JUnit report")
    if markdown_path:
        _write(markdown_path, report.to_markdown(), "Markdown summary")
    if as_json:
        print_json(report.to_dict())
    else:
        render(report.rows)
        if report.passed:
            click.secho(f"Model tests passed: {report.ref}.", fg="green")
        else:
            failed = len(report.failures)
            click.secho(
                f"Model tests failed: {failed} check(s) of {report.ref}.", fg="red", err=True
            )
    if not report.passed:
        raise SystemExit(1)
