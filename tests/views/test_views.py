"""The shared presentation layer: view tables on a real store, and both renderers of them."""

from __future__ import annotations

import io

import pytest

import kernel_magics as mlops
from kernel_magics.cli.output import fit, render
from kernel_magics.core.names import Tag
from kernel_magics.core.views import formatting
from kernel_magics.core.views.runs import child_runs, list_runs, run_view, runs_table
from kernel_magics.core.views.table import Column, Table
from kernel_magics.kernel.widgets.report import table_html, table_text


def _console(width: int):
    from rich.console import Console

    return Console(file=io.StringIO(), width=width, highlight=False, soft_wrap=True)


def test_formatting_reads_the_same_everywhere():
    assert [formatting.duration(s) for s in (None, 1.25, 184, 7500)] == ["", "1.2s", "3m04s",
                                                                        "2h05m"]  # fmt: skip
    assert formatting.value(float("nan")) == "" and formatting.value(0.123456) == "0.1235"
    assert formatting.when(0, "UTC") == "1970-01-01 00:00 UTC"
    assert formatting.short("a  b\nc" + "x" * 80, 10) == "a b cxxxx…"


def test_fit_drops_the_least_important_columns_and_compacts_dotted_headers():
    view = Table(
        [Column("Run", "id", 100), Column("Note", priority=10), Column("metrics.accuracy",
         "number", 70), Column("params.penalty", priority=40), Column("params.solver",
         priority=40)],
        [["abcdef12", "some long free text", "0.91", "l2", "lbfgs"]],
    )  # fmt: skip
    shown, dropped, compact = fit(view, 200)
    assert (shown.headers, dropped, compact) == (view.headers, [], False)
    shown, dropped, compact = fit(view, 40)
    assert compact and dropped == ["Note", "params.solver"]  # equal priority: rightmost first
    assert shown.headers == ["Run", "metrics.accuracy", "params.penalty"]
    shown, dropped, _ = fit(view, 5)
    assert shown.headers == ["Run"]  # the most important column always stays


def test_renderers_show_values_as_typed():
    view = Table([Column("Name"), Column("Status", "status")], [["[red]x[/red] <b>", "failed"]])
    out = _console(80)
    render(view, out)
    assert "[red]x[/red] <b>" in out.file.getvalue()  # not read as rich markup
    page = table_html(view)
    assert "[red]x[/red] &lt;b&gt;" in page and "<span style='color:#d62728'>failed" in page
    assert table_text(view).splitlines()[1].startswith("[red]x[/red] <b>  failed")


def test_empty_table_says_so():
    out = _console(80)
    render(runs_table([]), out)
    assert out.file.getvalue().strip() == "No runs match."
    assert "No runs match." in table_html(runs_table([]))


@pytest.fixture
def sweep(store):
    parent = mlops.start_run(experiment="grid", name="sweep metric", source="sweep",
                             tags={Tag.SWEEP_OBJECTIVE: "max metrics.score"}, store=store)  # fmt: skip
    children = []
    for c, score in [(0.1, 0.5), (0.3, 0.8), (0.5, 0.7)]:
        with mlops.start_run(experiment="grid", params={"C": c, "seed": 1}, source="papermill",
                             parent_run_id=parent.id, nested=True, store=store) as child:  # fmt: skip
            child.log_metrics({"score": score, "loss": 1 - score})
        children.append(child.id)
    store.runs.set_tags(parent.id, {Tag.BEST_RUN_ID: children[1]})
    mlops.end_run(run=parent)
    return store.runs.get(parent.id), children


def test_child_runs_show_status_swept_params_and_the_objective(sweep, store):
    parent, children = sweep
    view = child_runs(store.run_reads(), parent)
    assert view.title == "Child runs (3)" and view.note == "objective: max metrics.score"
    assert view.headers == ["Run", "Status", "params.C", "metrics.score", "Duration", "Best"]
    assert [row[:4] for row in view.rows] == [
        [children[0][:8], "finished", "0.1", "0.5"],
        [children[1][:8], "finished", "0.3", "0.8"],
        [children[2][:8], "finished", "0.5", "0.7"],
    ]
    assert [row[-1] for row in view.rows] == ["", "best", ""]
    page = run_view(store.run_reads(), parent)
    assert [t.title for t in page.tables] == ["Tags", "Child runs (3)"]
    # A child has no children, and shows its parent.
    child = run_view(store.run_reads(), store.runs.get(children[0]))
    assert ("Parent run", parent.id[:8]) in child.fields
    assert all(not t.title.startswith("Child runs") for t in child.tables)


def test_listing_rows_and_an_unknown_experiment(sweep, store):
    rows = list_runs(store, ["grid"], filter="metrics.score > 0.6", order_by="metrics.score DESC")
    assert [r["metrics"]["score"] for r in rows] == [0.8, 0.7]
    view = runs_table(rows)
    assert view.headers[:6] == ["Run", "Experiment", "Name", "Status", "Started", "Duration"]
    assert view.headers[6:] == ["metrics.loss", "metrics.score", "params.C", "params.seed"]
    with pytest.raises(mlops.errors.ExperimentNotFoundError, match="Known: grid"):
        list_runs(store, ["gird"])
