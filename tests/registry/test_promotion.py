"""The promotion gate from Python and from the CLI (exit codes usable in CI)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

import kernel_magics as mlops
from kernel_magics.cli import cli
from kernel_magics.errors import ValidationError


@pytest.fixture
def two_versions(store, churn_model, churn_data):
    """churn/1 (accuracy 0.90, production) and churn/2 (accuracy 0.94, loss 0.3)."""
    frame, _ = churn_data
    for accuracy, loss in ((0.90, 0.2), (0.94, 0.3)):
        with mlops.start_run("gate", params={"C": 0.1}) as run:
            run.log_metrics({"accuracy": accuracy, "loss": loss})
            mlops.log_model(churn_model, "churn", input_example=frame)
    mlops.set_alias("churn", "production", 1)
    return store


def test_gate_passes_and_moves_the_alias(two_versions):
    result = mlops.promote(
        "churn",
        2,
        to="production",
        require=["metrics.accuracy >= 0.9", "params.C == 0.1"],
        better_than="production",
        metric="accuracy",
    )
    assert result.passed
    assert [c.passed for c in result.checks] == [True, True, True]
    assert result.checks[2].reference == 0.90 and result.checks[2].candidate == 0.94
    assert result.move.from_version == 1 and result.move.to_version == 2
    assert mlops.get_model_version("churn@production").version == 2
    assert mlops.alias_history("churn", "production")[-1].reason.startswith("promote:")


def test_gate_fails_and_leaves_the_alias(two_versions):
    result = mlops.promote("churn", 2, require=["metrics.accuracy >= 0.95"])
    assert not result.passed and result.move is None
    assert mlops.get_model_version("churn@production").version == 1

    worse = mlops.promote("churn", 2, better_than="production", metric="loss", maximize=False)
    assert not worse.passed and "+0.1" in worse.checks[0].detail

    missing = mlops.promote("churn", 2, require=["metrics.f1 > 0.5"])
    assert not missing.passed and "no metric 'f1'" in missing.checks[0].detail

    margin = mlops.promote("churn", 2, better_than="production", metric="accuracy", min_delta=0.1)
    assert not margin.passed


def test_first_promotion_has_nothing_to_beat(store, churn_model, churn_data):
    with mlops.start_run("gate") as run:
        run.log_metric("accuracy", 0.8)
        mlops.log_model(churn_model, "churn", input_example=churn_data[0])
    result = mlops.promote("churn", better_than="production", metric="accuracy")
    assert result.passed and "nothing to beat" in result.checks[0].detail
    assert mlops.get_model_version("churn@production").version == 1


def test_bad_conditions_are_rejected_before_anything_moves(two_versions):
    for bad in ("accuracy >= 0.9", "metrics.accuracy >= high", "metrics.accuracy ~ 1"):
        with pytest.raises(ValidationError):
            mlops.promote("churn", 2, require=[bad])
    with pytest.raises(ValidationError, match="--metric"):
        mlops.promote("churn", 2, better_than="production")
    assert mlops.get_model_version("churn@production").version == 1


def test_cli_gate_exit_codes_and_dry_run(two_versions):
    runner = CliRunner()
    failed = runner.invoke(
        cli,
        [
            "promote",
            "churn",
            "--version",
            "2",
            "--to",
            "production",
            "--require",
            "metrics.accuracy >= 0.99",
        ],
    )
    assert failed.exit_code == 1, failed.output
    assert "FAIL" in failed.output and "was not moved" in failed.output

    dry = runner.invoke(
        cli,
        [
            "promote",
            "churn",
            "--version",
            "2",
            "--better-than",
            "production",
            "--metric",
            "accuracy",
            "--maximize",
            "--dry-run",
        ],
    )
    assert dry.exit_code == 0, dry.output
    assert mlops.get_model_version("churn@production").version == 1

    passed = runner.invoke(
        cli,
        [
            "promote",
            "churn",
            "--version",
            "2",
            "--to",
            "production",
            "--require",
            "metrics.accuracy >= 0.9",
            "--better-than",
            "production",
            "--metric",
            "accuracy",
            "--json",
        ],
    )
    assert passed.exit_code == 0, passed.output
    assert '"passed": true' in passed.output
    assert mlops.get_model_version("churn@production").version == 2


def test_cli_reports_bad_input_with_exit_code_2(two_versions):
    mlops_bin = os.path.join(os.path.dirname(sys.executable), "mlops")
    proc = subprocess.run(
        [mlops_bin, "promote", "churn", "--require", "accuracy > 1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Cannot parse the condition" in proc.stderr and "Traceback" not in proc.stderr


def test_models_cli_ls_show_alias_rm(two_versions):
    runner = CliRunner()
    out = runner.invoke(cli, ["models", "ls"])
    assert out.exit_code == 0 and "churn" in out.output and "production=v1" in out.output
    out = runner.invoke(cli, ["models", "show", "churn@production", "--profile"])
    assert out.exit_code == 0, out.output
    assert "tenure" in out.output and "accuracy" in out.output and "Training profile" in out.output
    out = runner.invoke(cli, ["models", "alias", "churn", "staging", "2"])
    assert out.exit_code == 0 and "churn@staging -> v2" in out.output
    out = runner.invoke(cli, ["models", "show", "churn"])
    assert out.exit_code == 0 and "Alias history" in out.output and "set by hand" in out.output
    out = runner.invoke(cli, ["models", "alias", "churn", "staging", "--delete"])
    assert out.exit_code == 0 and "Removed churn@staging" in out.output
    out = runner.invoke(cli, ["models", "describe", "churn/1", "first baseline"])
    assert out.exit_code == 0, out.output
    out = runner.invoke(cli, ["models", "tag", "churn/1", "team=growth", "reviewed=yes"])
    assert out.exit_code == 0, out.output
    v1 = mlops.get_model_version("churn/1")
    assert v1.description == "first baseline" and v1.tags["reviewed"] == "yes"
    out = runner.invoke(cli, ["models", "tag", "churn/1", "oops"])
    assert out.exit_code == 2 and "key=value" in out.output
    mlops.set_model_description("churn", "the churn classifier")
    assert mlops.list_models()[0].description == "the churn classifier"
    out = runner.invoke(cli, ["models", "rm", "churn/2", "--yes"])
    assert out.exit_code == 0 and "version(s) 2" in out.output
    out = runner.invoke(cli, ["models", "show", "churn", "--json"])
    assert out.exit_code == 0 and '"version": 1' in out.output
