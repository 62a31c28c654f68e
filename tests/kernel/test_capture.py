"""Cell analysis without IPython: literal params, execution order, notebook location."""

from __future__ import annotations

import nbformat
import pytest

from kernel_magics.core.capture import (
    IN_ORDER,
    UNKNOWN,
    UNORDERED,
    ExecutedCell,
    analyze_execution_order,
    calls_names,
    literal_assignments,
    locate_notebook,
    notebook_code_cells,
)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("C = 0.1\npenalty = 'l2'", {"C": 0.1, "penalty": "l2"}),
        (
            "lr = -1e-3\nn: int = 5\nflag = True\nnothing = None",
            {"lr": -1e-3, "n": 5, "flag": True, "nothing": None},
        ),
        ("a, b = 1, 'x'", {"a": 1, "b": "x"}),
        ("layers = [64, 32]\ncfg = {'k': (1, 2)}", {"layers": [64, 32], "cfg": {"k": (1, 2)}}),
        ("x = 1\nx = 2", {"x": 2}),
        ("x = 1\nx = compute()", {}),
        ("x = 1\nx += 1", {}),
        ("a, b = f()", {}),
        ("_private = 3\ns = {1, 2}\nraw = b'x'", {}),
        ("def f():\n    inner = 1\nfor i in range(3):\n    loop = 2", {}),
        (
            "with ctx():\n    depth = 4\nif True:\n    width = 8\nelse:\n    width2 = 9",
            {"depth": 4, "width": 8, "width2": 9},
        ),
        ("this is not python", {}),
        ("obj.attr = 1\nitems[0] = 2", {}),
    ],
)
def test_literal_assignments(source, expected):
    assert literal_assignments(source) == expected


def test_calls_names():
    assert calls_names("mlops.log_metric('a', 1)", ["log_metric"])
    assert calls_names("from kernel_magics import log_metrics\nlog_metrics({})", ["log_metrics"])
    assert not calls_names("log_metric = 1", ["log_metric"])
    assert not calls_names("(((", ["log_metric"])


def _cells(*sources, ids=None):
    return [ExecutedCell(i + 1, s, ids[i] if ids else None) for i, s in enumerate(sources)]


NOTEBOOK = [("c1", "a = 1"), ("c2", "b = a"), ("c3", "c = b")]


def test_in_order_by_source_and_by_id():
    assert analyze_execution_order(_cells("a = 1", "b = a", "c = b"), NOTEBOOK).status == IN_ORDER
    by_id = _cells("edited", "also", "x", ids=["c1", "c2", "c3"])
    assert analyze_execution_order(by_id, NOTEBOOK).status == IN_ORDER


def test_skipping_a_cell_is_still_in_order():
    assert analyze_execution_order(_cells("a = 1", "c = b"), NOTEBOOK).status == IN_ORDER


def test_running_a_cell_above_is_unordered():
    report = analyze_execution_order(_cells("a = 1", "c = b", "b = a"), NOTEBOOK)
    assert report.status == UNORDERED
    assert report.reason == "In[3] (cell 2) ran after In[2] (cell 3), which is below it"
    assert [c.position for c in report.cells] == [0, 2, 1]


def test_re_execution_is_unordered_even_without_the_notebook():
    report = analyze_execution_order(_cells("a = 1", "b = a", "a = 1"), None)
    assert report.status == UNORDERED
    assert report.reason == "In[3] re-executed the cell first run as In[1]"
    by_id = _cells("x", "y", ids=["c1", "c1"])
    assert analyze_execution_order(by_id, None).status == UNORDERED


def test_identical_cells_may_each_run_once():
    notebook = [(None, "df.head()"), (None, "x = 1"), (None, "df.head()")]
    cells = _cells("df.head()", "x = 1", "df.head()")
    assert analyze_execution_order(cells, notebook).status == IN_ORDER


def test_unknown_cases():
    assert analyze_execution_order(_cells("a = 1"), None).status == UNKNOWN
    # an earlier execution no longer in the saved file
    report = analyze_execution_order(_cells("gone = 1", "b = a"), NOTEBOOK)
    assert report.status == UNKNOWN and "In[1] is not in the saved notebook" in report.reason
    # the running cell may be unsaved: it counts as the last one
    assert analyze_execution_order(_cells("a = 1", "new = 5"), NOTEBOOK).status == IN_ORDER


def test_locate_notebook(tmp_path):
    path = tmp_path / "my nb.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), path)
    found = locate_notebook({"JPY_SESSION_NAME": str(path)})
    assert found.path == str(path) and found.stem == "my nb" and "JPY_SESSION_NAME" in found.reason
    assert locate_notebook({}).path is None
    assert "JPY_SESSION_NAME is not set" in locate_notebook({}).reason
    missing = locate_notebook({"JPY_SESSION_NAME": str(tmp_path / "x.ipynb")})
    assert missing.path is None and "is not an existing .ipynb file" in missing.reason
    vscode = locate_notebook({}, {"__vsc_ipynb_file__": str(path)})
    assert vscode.path == str(path)


def test_notebook_code_cells(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# t"), nbformat.v4.new_code_cell("x = 1")]
    path = tmp_path / "a.ipynb"
    nbformat.write(nb, path)
    assert notebook_code_cells(str(path)) == [(nb.cells[1].id, "x = 1")]
    (tmp_path / "bad.ipynb").write_text("{not json")
    assert notebook_code_cells(str(tmp_path / "bad.ipynb")) == []


def test_locate_notebook_from_a_server_relative_path(tmp_path, monkeypatch):
    # Jupyter server without a file name passes the path relative to its root, and starts the
    # kernel in the notebook's folder.
    folder = tmp_path / "root" / "projects" / "churn"
    folder.mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(), folder / "train.ipynb")
    monkeypatch.chdir(folder)
    found = locate_notebook({"JPY_SESSION_NAME": "projects/churn/train.ipynb"})
    assert found.path == str(folder / "train.ipynb")
    assert locate_notebook({"JPY_SESSION_NAME": "train.ipynb"}).path == str(folder / "train.ipynb")
    # a folder that does not match the working directory is not guessed
    assert locate_notebook({"JPY_SESSION_NAME": "elsewhere/train.ipynb"}).path is None


def test_has_top_level_await():
    from kernel_magics.core.capture import has_top_level_await

    assert has_top_level_await("await x")
    assert has_top_level_await("async for a in b:\n    pass")
    assert has_top_level_await("if True:\n    async with c:\n        pass")
    assert not has_top_level_await("async def f():\n    await x")
    assert not has_top_level_await("lambda: 1\nclass A:\n    pass")
    assert not has_top_level_await("not python (")
