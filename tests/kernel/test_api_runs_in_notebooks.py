"""Runs of ``mlops.start_run()`` in a notebook, and the tracebacks failed runs store (issue 11).

What users saw: the demo's three API runs were missing from the panel's "This notebook" (they
recorded no notebook), and a failed cell's stored traceback opened with ``kernel_magics`` frames
instead of the user's code.
"""

from __future__ import annotations

import nbformat
from magics_helpers import last_run, run

from kernel_magics.core.store import open_store

API_CELL = (
    "import kernel_magics as mlops\n"
    "with mlops.start_run(experiment='demo', name='api run') as r:\n"
    "    mlops.log_metric('acc', 0.9)\n"
)


def write_notebook(path, sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, path)


def first_frame(error: str) -> str:
    """The first ``File ...`` line of a formatted traceback."""
    return next(line for line in error.splitlines() if line.lstrip().startswith("File "))


def test_an_api_run_in_a_notebook_is_that_notebooks_run(shell, tmp_path, monkeypatch):
    # Given a saved notebook whose kernel knows its path (as Jupyter server tells it)
    path = tmp_path / "demo.ipynb"
    write_notebook(path, ["%load_ext kernel_magics", API_CELL])
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))
    # When the cell with mlops.start_run() runs
    assert run(shell, API_CELL).success
    record = last_run()
    # Then the run records the notebook and a version of it, like a tracked cell does
    assert record.source == "api"
    assert record.notebook_path == str(path)
    assert record.notebook_version_id is not None
    from kernel_magics.core.notebooks import get_notebook_content

    content = get_notebook_content(open_store(), record.notebook_version_id)
    assert "".join(content["cells"][1]["source"]) == API_CELL
    # And the notebook's run list (what "This notebook" asks for) holds it
    page = open_store().search_runs(notebook_paths=[str(path)])
    assert record.id in page.run_ids


def test_two_api_runs_of_an_unchanged_notebook_share_one_version(shell, tmp_path, monkeypatch):
    path = tmp_path / "demo.ipynb"
    write_notebook(path, [API_CELL])
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))
    run(shell, API_CELL)
    first = last_run()
    run(shell, API_CELL)
    second = last_run()
    assert first.id != second.id
    assert first.notebook_version_id == second.notebook_version_id


def test_an_api_run_outside_a_notebook_records_none(shell):
    # Given no notebook session (the fixture clears JPY_SESSION_NAME): a script or a console
    assert run(shell, API_CELL).success
    record = last_run()
    # Then nothing is recorded, and nothing complains
    assert record.notebook_path is None and record.notebook_version_id is None
    assert "mlops.notebook.error" not in record.tags


def test_an_explicit_notebook_path_is_kept(shell, tmp_path, monkeypatch):
    path = tmp_path / "demo.ipynb"
    write_notebook(path, [API_CELL])
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))
    cell = "import kernel_magics as mlops\nmlops.start_run(notebook_path='/data/other.ipynb').end()"
    assert run(shell, cell).success
    record = last_run()
    assert record.notebook_path == "/data/other.ipynb"
    assert record.notebook_version_id is None


def test_a_failed_tracked_cell_traceback_starts_at_the_cell(shell):
    # When a tracked cell fails inside a function it defined
    cell = "%%mlops track\ndef train():\n    raise ValueError('bad split')\ntrain()\n"
    assert not run(shell, cell).success
    record = last_run()
    # Then the stored traceback starts at the user's cell, with no kernel_magics frame before it
    assert record.status == "failed"
    assert "kernel_magics" not in first_frame(record.error)
    lines = record.error.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[2].strip() == "train()"
    assert "kernel_magics" not in record.error
    assert record.error.rstrip().endswith("ValueError: bad split")


def test_a_failed_api_run_traceback_starts_at_the_users_code(shell):
    cell = "import kernel_magics as mlops\nwith mlops.start_run():\n    1 / 0\n"
    assert not run(shell, cell).success
    record = last_run()
    assert record.status == "failed"
    assert "kernel_magics" not in first_frame(record.error)
    assert record.error.rstrip().endswith("ZeroDivisionError: division by zero")


def test_our_frames_after_the_users_stay(shell):
    # When the user's code calls into kernel_magics, which refuses
    cell = (
        "%%mlops track\n"
        "import kernel_magics as mlops\n"
        "mlops.log_param('C', 1)\n"
        "mlops.log_param('C', 2)\n"
    )
    assert not run(shell, cell).success
    record = last_run()
    # Then the story starts in the cell and goes on into our frames to the refusal
    assert "kernel_magics" not in first_frame(record.error)
    assert "kernel_magics" in record.error
    assert "InvalidParamError" in record.error


def test_user_traceback_keeps_everything_when_every_frame_is_ours():
    import sys

    from kernel_magics.core.tracking.tracebacks import user_traceback
    from kernel_magics.errors import ValidationError

    try:
        from kernel_magics.core.promotion import parse_condition

        parse_condition("nonsense")
    except ValidationError:
        exc_type, exc, tb = sys.exc_info()
    # this test's own frame is the first one: it is not ours, so it is kept
    text = user_traceback(exc_type, exc, tb)
    assert "test_api_runs_in_notebooks.py" in first_frame(text)
    # starting at our frame, every frame is ours: all are kept rather than none
    text = user_traceback(exc_type, exc, tb.tb_next)
    assert "promotion.py" in first_frame(text)
