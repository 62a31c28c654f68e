"""The GitHub Actions example runs: its mlops commands, in order, on a fresh project.

The commands are read from ``templates/ci/model-ci.yml`` itself (and the README must show the
same file), so the documented workflow cannot drift from what is tested.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "templates" / "ci" / "model-ci.yml"
BIN = Path(sys.executable).parent


def workflow_commands() -> list[str]:
    """The ``run:`` lines of the job's steps that call mlops, in order."""
    job = yaml.safe_load(WORKFLOW.read_text())["jobs"]["model"]
    return [s["run"].strip() for s in job["steps"] if s.get("run", "").startswith("mlops ")]


@pytest.fixture
def pr_checkout(tmp_path):
    """What the pull request's checkout holds: the notebook, the test file, the holdout."""
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    (tmp_path / "notebooks").mkdir()
    (tmp_path / "data").mkdir()
    shutil.copy(ROOT / "templates" / "train.ipynb", tmp_path / "notebooks" / "train.ipynb")
    shutil.copy(ROOT / "templates" / "ci" / "model-tests.yaml", tmp_path / "model-tests.yaml")
    bunch = datasets.load_breast_cancer(as_frame=True)
    # the rows the notebook holds out (its default test_size and seed): never trained on
    _, x_holdout, _, y_holdout = train_test_split(
        bunch.data, bunch.target, test_size=0.25, random_state=0, stratify=bunch.target
    )
    x_holdout.assign(target=y_holdout).to_csv(tmp_path / "data" / "holdout.csv", index=False)
    return tmp_path


def run_step(command: str, workspace: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
           "MLOPS_HOME": str(workspace / ".mlops"), "COLUMNS": "200"}  # fmt: skip
    return subprocess.run(["bash", "-c", command], cwd=workspace, env=env, capture_output=True,
                          text=True, timeout=600)  # fmt: skip


def test_the_readme_shows_the_template_workflow():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### A GitHub Actions workflow", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block is not None and block.group(1) == WORKFLOW.read_text()


def test_the_workflow_trains_tests_and_promotes_on_a_fresh_project(pr_checkout):
    commands = workflow_commands()
    assert [c.split()[1] for c in commands] == ["run", "test", "promote"]

    # When each command runs in order, as the job's steps do
    for command in commands:
        result = run_step(command, pr_checkout)
        # Then each step succeeds
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"

    # ...the summary to post and the JUnit report are there and say the tests passed
    summary = (pr_checkout / "model-tests.md").read_text()
    assert summary.startswith("### Model tests ✅ passed: `classifier/1`")
    assert "| a larger tumour is less likely benign | directional | ✅ pass |" in summary
    suite = ET.parse(pr_checkout / "model-tests.xml").getroot().find("testsuite")
    assert suite.get("failures") == "0" and int(suite.get("tests")) == 5
    # ...and the gate moved staging to the tested version
    shown = run_step("mlops models show classifier@staging --json", pr_checkout)
    assert '"version": 1' in shown.stdout


def test_a_failing_model_stops_the_job_before_the_promotion(pr_checkout):
    # Given a pull request that raises the bar above what the model reaches
    tests = pr_checkout / "model-tests.yaml"
    tests.write_text(tests.read_text().replace("accuracy >= 0.9", "accuracy >= 0.999"))
    run, test, promote = workflow_commands()
    assert run_step(run, pr_checkout).returncode == 0

    # When the test step runs: it fails the job, and still writes the summary to post
    result = run_step(test, pr_checkout)
    assert result.returncode == 1
    assert "Model tests failed: 1 check(s) of classifier/1." in result.stderr
    summary = (pr_checkout / "model-tests.md").read_text()
    assert summary.startswith("### Model tests ❌ failed: `classifier/1`")
    assert "accuracy is 0.9" in summary and "the condition asks >= 0.999" in summary

    # And the gate, were it run anyway, refuses the version
    result = run_step(promote, pr_checkout)
    assert result.returncode == 1 and "last test: failed accuracy >= 0.999" in result.stdout
