"""`mlops run` against papermill's own behaviour, on papermill's own fixture notebooks (issue 13)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import papermill
import pytest

from kernel_magics.core.runner import RunOptions, rerun, run_notebook, sweep_notebook
from kernel_magics.errors import NotebookFormatError, ValidationError

PAPERMILL_NOTEBOOKS = Path(papermill.__file__).parent / "tests" / "notebooks"
NOTEBOOKS = Path(__file__).parents[1] / "fixtures" / "notebooks"
MLOPS = [sys.executable, "-c", "from kernel_magics.cli import main; main()"]


def mlops(*args: str, home: Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "MLOPS_HOME": str(home)}
    return subprocess.run([*MLOPS, *args], capture_output=True, text=True, env=env,
                          timeout=180, cwd=cwd)  # fmt: skip


def test_kernelspec_python_runs_on_python3_and_says_so(store, tmp_path, _isolated_store):
    notebook = tmp_path / "test_autosave.ipynb"
    shutil.copy(PAPERMILL_NOTEBOOKS / "test_autosave.ipynb", notebook)
    assert json.loads(notebook.read_text())["metadata"]["kernelspec"]["name"] == "python"

    done = mlops("run", str(notebook), "--no-progress", home=_isolated_store)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "on kernel python3" in done.stdout.splitlines()[0]
    [run_id] = store.search_runs().run_ids
    assert store.runs.get(run_id).tags["mlops.kernel"] == "python3"


def test_usage_error_of_a_line_magic_is_reported_with_its_message(store):
    result = run_notebook(PAPERMILL_NOTEBOOKS / "line_magic_error.ipynb")

    assert result.status == "failed"
    assert result.failed_cell == 0
    assert result.error == (
        "cell 0 (In [1]) raised UsageError: Line magic function `%undefined-line-magic` not found."
    )


def test_failing_cell_index_counts_the_users_cells(store):
    # broken1.ipynb holds two error-marker cells of an earlier papermill run (which papermill
    # drops before executing) and fails in its seventh cell, `assert False`.
    cells = json.loads((PAPERMILL_NOTEBOOKS / "broken1.ipynb").read_text())["cells"]
    assert "".join(cells[6]["source"]) == "assert False"

    result = run_notebook(PAPERMILL_NOTEBOOKS / "broken1.ipynb")

    assert result.status == "failed"
    assert result.failed_cell == 6
    assert result.error.startswith("cell 6 (In [2]) raised AssertionError")


def test_failing_cell_index_after_injected_parameters(store):
    # raises.ipynb fails in cell 2; papermill injects a cell after the parameters cell 0.
    cells = json.loads((NOTEBOOKS / "raises.ipynb").read_text())["cells"]
    assert "".join(cells[2]["source"]).startswith("raise ValueError")

    result = run_notebook(NOTEBOOKS / "raises.ipynb", {"x": 2})

    assert result.status == "failed" and result.failed_cell == 2, result.error
    assert result.error.startswith("cell 2 (In [")


def test_broken_json_points_to_something_that_exists():
    with pytest.raises(NotebookFormatError) as caught:
        run_notebook(NOTEBOOKS / "broken.ipynb")
    message = str(caught.value)
    assert "mlops notebooks" not in message
    assert "side panel's notebook history" in message


def test_rerun_of_a_sweep_parent_says_what_to_rerun(store):
    sweep = sweep_notebook(NOTEBOOKS / "metric.ipynb", {"C": [0.1, 0.2]})
    assert sweep.status == "finished"

    with pytest.raises(ValidationError) as caught:
        rerun(sweep.parent_run_id)
    message = str(caught.value)
    assert "sweep's parent (2 child runs)" in message
    assert "Rerun the children" in message and "--sweep" in message


def test_the_cli_reports_the_duration_the_store_records(store):
    result = run_notebook(NOTEBOOKS / "simple.ipynb", {"x": 1})

    record = store.runs.get(result.run_id)
    assert result.duration == pytest.approx(record.duration)
    assert result.duration > 0


def _cwd_notebook(folder: Path) -> Path:
    nb = json.loads((NOTEBOOKS / "trivial.ipynb").read_text())
    nb["cells"] = [{"cell_type": "code", "execution_count": None, "id": "c1", "metadata": {},
                    "outputs": [], "source": "import os\nopen('where.txt', 'w').write(os.getcwd())"}]  # fmt: skip
    path = folder / "where.ipynb"
    path.write_text(json.dumps(nb))
    return path


def test_kernel_runs_in_the_notebooks_folder_unless_cwd_is_given(store, tmp_path, _isolated_store):
    notebooks, elsewhere, started_in = (tmp_path / n for n in ("notebooks", "elsewhere", "here"))
    for folder in (notebooks, elsewhere, started_in):
        folder.mkdir()
    notebook = _cwd_notebook(notebooks)

    default = mlops("run", str(notebook), "--no-progress", home=_isolated_store, cwd=started_in)
    assert default.returncode == 0, default.stdout + default.stderr
    assert (notebooks / "where.txt").read_text() == str(notebooks)

    given = mlops("run", str(notebook), "--no-progress", "--cwd", str(elsewhere),
                  home=_isolated_store, cwd=started_in)  # fmt: skip
    assert given.returncode == 0, given.stdout + given.stderr
    assert (elsewhere / "where.txt").read_text() == str(elsewhere)
    assert not (started_in / "where.txt").exists()


def test_a_cwd_that_is_not_a_folder_is_refused(store, tmp_path):
    with pytest.raises(ValidationError, match="--cwd .* is not a folder"):
        RunOptions(cwd=str(tmp_path / "absent"))
    assert store.search_runs().run_ids == []


def _sleeping_cli_run(store, home: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "MLOPS_HOME": str(home)}
    # Ctrl-C reaches a foreground program with SIGINT handled: do not inherit an ignored SIGINT
    proc = subprocess.Popen([*MLOPS, "run", str(NOTEBOOKS / "sleeps.ipynb"), *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        ids = store.search_runs().run_ids
        out = home / "outputs" / f"sleeps-{ids[0][:8]}.ipynb" if ids else None
        if out is not None and out.is_file() and "sleeping 60" in out.read_text():
            return proc
        time.sleep(0.2)
    proc.kill()
    raise AssertionError(proc.communicate(timeout=10))


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "said"), [(signal.SIGINT, "Ctrl-C"),
                                              (signal.SIGTERM, "SIGTERM")])  # fmt: skip
def test_an_interrupted_cli_run_ends_with_one_clean_line(store, _isolated_store, signum, said):
    proc = _sleeping_cli_run(store, _isolated_store, "--no-progress")
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)

    assert proc.returncode == 130
    assert out.strip().splitlines()[-1] == (
        f"Interrupted ({said}): the run was ended killed and its kernel stopped."
    )
    assert "Traceback" not in err and "Task exception" not in err and "Aborted" not in err
    [run_id] = store.search_runs().run_ids
    assert store.runs.get(run_id).status == "killed"
