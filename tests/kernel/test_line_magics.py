"""``%mlops runs/show/compare/log/status/help`` in a real InteractiveShell."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError
from magics_helpers import last_run, run


def _two_runs(shell):
    run(shell, "%%mlops track --experiment exp\nC = 0.1\nimport kernel_magics as mlops\n"
               "for i in range(3): mlops.log_metric('loss', 1.0 - i / 10, step=i)")  # fmt: skip
    first = last_run()
    run(shell, "%%mlops track --experiment exp\nC = 1.0\nimport kernel_magics as mlops\n"
               "for i in range(3): mlops.log_metric('loss', 1.0 - i / 5, step=i)")  # fmt: skip
    return first, last_run()


def test_runs_df_filters_and_limits(shell):
    first, second = _two_runs(shell)
    run(shell, "%%mlops track --experiment other\nC = 5")
    frame = shell.run_line_magic("mlops", "runs --df --experiment exp")
    assert list(frame["run_id"]) == [second.id, first.id]
    frame = shell.run_line_magic("mlops", "runs --df --filter \"params.C = '0.1'\"")
    assert list(frame["run_id"]) == [first.id]
    assert len(shell.run_line_magic("mlops", "runs --df --limit 1")) == 1


def test_runs_widget_sorts_and_filters_in_the_store(shell):
    first, second = _two_runs(shell)
    table = shell.run_line_magic("mlops", "runs -e exp")
    assert [r["id"] for r in table.rows] == [second.id, first.id]
    assert "metrics.loss" in table.sort.options and "params.C" in table.sort.options
    # sort by a metric, ascending
    table.sort.value = "metrics.loss"
    table.descending.value = False
    assert [r["id"] for r in table.rows] == [second.id, first.id]  # 0.6 < 0.8
    table.descending.value = True
    assert [r["id"] for r in table.rows] == [first.id, second.id]
    # filter
    table.filter_box.value = "metrics.loss < 0.7"
    assert [r["id"] for r in table.rows] == [second.id]
    # a bad filter is reported in the widget, not raised from a callback
    table.filter_box.value = "metrics.loss <<< 1"
    assert "loss" in table.message.value and [r["id"] for r in table.rows] == [second.id]
    bundle = table._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert second.id[:8] in bundle["text/html"] and second.id[:8] in bundle["text/plain"]


def test_runs_bad_filter_is_a_usage_error(shell):
    with pytest.raises(UsageError, match="metrics.acc"):
        shell.run_line_magic("mlops", "runs --filter 'metrics.acc >'")
    with pytest.raises(UsageError, match="--limit"):
        shell.run_line_magic("mlops", "runs --limit 0")


def test_show_reports_everything_about_a_run(shell):
    run(shell, "import matplotlib.pyplot as plt")
    run(shell, "%%mlops track --metric acc\nacc = 0.75\nC = 3\nplt.plot([1, 2])\n"
               "import kernel_magics as mlops\nfor i in range(4): mlops.log_metric('loss', 4 - i)")  # fmt: skip  # noqa: E501
    record = last_run()
    report = shell.run_line_magic("mlops", f"show {record.id[:6]}")
    page = report._repr_html_()
    for text in (record.id, "finished", "acc", "0.75", "figures/figure-1.png", "cell/source.py",
                 "data:image/png;base64", "C = 3", "mlops.execution_order"):  # fmt: skip
        assert text in page
    assert page.count("data:image/png") == 2  # the loss curve and the figure
    assert report.data["run"]["params"] == {"C": "3"}
    assert "acc" in repr(report)
    assert shell.run_line_magic("mlops", "show last").data["run"]["id"] == record.id


def test_show_failed_run_has_the_error(shell):
    run(shell, "%%mlops track\n1/0")
    page = shell.run_line_magic("mlops", "show last")._repr_html_()
    assert "failed" in page and "ZeroDivisionError" in page


def test_show_unknown_run_is_a_usage_error(shell):
    with pytest.raises(UsageError, match="No run id starts with 'abcdef'"):
        shell.run_line_magic("mlops", "show abcdef")


def test_compare_says_why_runs_differ(shell):
    first, second = _two_runs(shell)
    report = shell.run_line_magic("mlops", f"compare {first.id} {second.id}")
    summary = report.data["summary"]
    assert "Params differ: C." in summary
    assert "Metrics differ: loss." in summary
    assert "The tracked cell's code differs." in summary
    diff = report.data["code"][second.id[:8]]
    assert "-C = 0.1" in diff and "+C = 1.0" in diff
    assert set(report.data["curves"]["loss"]) == {first.id, second.id}
    page = report._repr_html_()
    assert "data:image/png" in page and "Why these runs differ" in page


def test_compare_identical_runs(shell):
    run(shell, "%%mlops track\nC = 1")
    a = last_run()
    run(shell, "%%mlops track\nC = 1")
    b = last_run()
    report = shell.run_line_magic("mlops", f"compare {a.id} {b.id}")
    assert report.data["summary"] == [
        "No recorded difference: same params, data, environment and code."
    ]


def test_compare_notebook_versions(shell, tmp_path, monkeypatch):
    import nbformat

    path = tmp_path / "nb.ipynb"
    cell = "%%mlops track\nC = 1"
    for extra in ("x = 1", "x = 2"):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(s) for s in ("%load_ext kernel_magics", cell, extra)]
        nbformat.write(nb, path)
        monkeypatch.setenv("JPY_SESSION_NAME", str(path))
        run(shell, cell)
        if extra == "x = 1":
            a = last_run()
    b = last_run()
    report = shell.run_line_magic("mlops", f"compare {a.id} {b.id}")
    assert any(s.startswith("The notebook differs (1 cells") for s in report.data["summary"])
    assert "Notebook version" in report._repr_html_()


def test_compare_needs_two_runs(shell):
    with pytest.raises(UsageError, match="at least two runs"):
        shell.run_line_magic("mlops", "compare abcd")


def test_log_inside_a_tracked_cell(shell):
    run(shell, "%%mlops track\n%mlops log acc=0.5 note=hello\n%mlops log --tag owner=me\n"
               "%mlops log --param lr=0.01")  # fmt: skip
    record = last_run()
    assert record.metrics == {"acc": 0.5}
    assert record.params == {"note": "hello", "lr": "0.01"}
    assert record.tags["owner"] == "me"


def test_log_without_a_run_is_a_usage_error(shell):
    with pytest.raises(UsageError, match="No active run"):
        shell.run_line_magic("mlops", "log acc=1")
    with pytest.raises(UsageError, match="key=value"):
        shell.run_line_magic("mlops", "log acc")


def test_status_names_store_and_notebook(shell, capsys, _isolated_store):
    shell.run_line_magic("mlops", "status")
    out = capsys.readouterr().out
    assert str(_isolated_store) in out
    assert "active run: none" in out
    assert "notebook:  unknown (the kernel was not started by Jupyter server" in out


def test_help_lists_every_subcommand(shell, capsys):
    from kernel_magics.kernel.magics.subcommands import SUBCOMMANDS

    shell.run_line_magic("mlops", "help")
    out = capsys.readouterr().out
    for name, sub in SUBCOMMANDS.items():
        assert name in out
        for action in sub.load_parser()._actions:
            if action.option_strings:
                shown = [f for f in action.option_strings if f in out]
                assert shown, f"%mlops help does not show {name} {action.option_strings}"
    shell.run_line_magic("mlops", "help compare")
    assert "usage: %mlops compare" in capsys.readouterr().out
    shell.run_line_magic("mlops", "runs --help")
    assert "--filter" in capsys.readouterr().out
    with pytest.raises(UsageError, match="No subcommand 'nope'"):
        shell.run_line_magic("mlops", "help nope")
    # %mlops? shows the full help: every subcommand and every flag
    from IPython.core.oinspect import getdoc

    doc = getdoc(shell.find_line_magic("mlops"))
    assert getdoc(shell.find_cell_magic("mlops")) == doc
    for name, sub in SUBCOMMANDS.items():
        assert name in doc
        for action in sub.load_parser()._actions:
            assert all(flag in doc for flag in action.option_strings)
    shell.run_line_magic("pinfo", "%mlops")
    assert "--autolog" in capsys.readouterr().out


def test_wrong_magic_kind_and_unknown_subcommand(shell):
    with pytest.raises(UsageError, match="cell magic"):
        shell.run_line_magic("mlops", "track")
    with pytest.raises(UsageError, match="line magic"):
        shell.run_cell_magic("mlops", "runs", "x = 1")
    with pytest.raises(UsageError, match="Unknown subcommand 'deploi'"):
        shell.run_line_magic("mlops", "deploi x")
    with pytest.raises(UsageError, match="Balance the quotes"):
        shell.run_line_magic("mlops", "runs --filter 'oops")


def test_show_of_a_parent_lists_its_children(shell):
    import kernel_magics as mlops
    from kernel_magics.core.names import Tag

    parent = mlops.start_run(experiment="grid", source="sweep",
                             tags={Tag.SWEEP_OBJECTIVE: "min metrics.loss"})  # fmt: skip
    children = []
    for c in (0.1, 1.0):
        with mlops.start_run(params={"C": c}, parent_run_id=parent.id, nested=True) as child:
            mlops.log_metric("loss", c / 2)
        children.append(child.id)
    mlops.end_run(run=parent)
    report = shell.run_line_magic("mlops", f"show {parent.id[:8]}")
    page = report._repr_html_()
    assert "Child runs (2)" in page and "objective: min metrics.loss" in page
    for child_id, loss in zip(children, ("0.05", "0.5"), strict=True):
        assert f"<code>{child_id[:8]}</code>" in page and f"<td>{loss}</td>" in page
    assert "Child runs (2)" in repr(report) and children[0][:8] in repr(report)
