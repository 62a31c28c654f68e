"""A rerun reads the exact data the original run read, even after the files changed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kernel_magics.core.runner import rerun, run_notebook

NOTEBOOKS = Path(__file__).parents[1] / "fixtures" / "notebooks"
MLOPS = [sys.executable, "-c", "from kernel_magics.cli import main; main()"]


@pytest.fixture
def project(tmp_path):
    """The dataset notebook next to its data file, in a folder with another file it ignores."""
    shutil.copy(NOTEBOOKS / "dataset.ipynb", tmp_path / "dataset.ipynb")
    (tmp_path / "data.csv").write_text("value\n1\n2\n3\n")
    (tmp_path / "notes.txt").write_text("untouched")
    return tmp_path


@pytest.mark.slow
def test_a_rerun_after_the_csv_changed_reproduces_the_original_metrics(store, project):
    # Given a run that read data.csv (mean 2.0 over 3 rows), then the CSV changed
    original = run_notebook(project / "dataset.ipynb")
    assert original.status == "finished", original.error
    (project / "data.csv").write_text("value\n1\n2\n3\n10\n")
    # When it is rerun
    report = rerun(original.run_id)
    # Then the original version was restored for it, and the metrics are reproduced exactly
    assert report.result.status == "finished", report.result.error
    assert report.identical, report.differences
    assert [(d.name, d.version, d.action) for d in report.data] == [
        ("measurements", "measurements@1", "restored")
    ]
    assert store.runs.get(report.result.run_id).metrics == {"mean": 2.0, "rows": 3.0}
    # and the user's files were never touched, the overlay is gone
    assert (project / "data.csv").read_text() == "value\n1\n2\n3\n10\n"
    assert not list((store.location.home / "cache" / "reruns").iterdir())


@pytest.mark.slow
def test_with_current_data_uses_todays_file_and_reports_the_difference(store, project):
    original = run_notebook(project / "dataset.ipynb")
    (project / "data.csv").write_text("value\n1\n2\n3\n10\n")
    out = subprocess.run([*MLOPS, "rerun", original.run_id, "--with-current-data",
                          "--no-progress"], capture_output=True, text=True,
                         env={**os.environ, "COLUMNS": "250"})  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "Data measurements@1 (current): Changed since the original run" in out.stdout
    assert "Dataset 'measurements' changed content" in out.stdout
    assert "(3 -> 4 rows)" in out.stdout
    # the rerun read today's file: a new version of the dataset, with the new mean
    versions = store.dataset_versions.versions("measurements")
    assert [v.rows for v in versions] == [3, 4]
