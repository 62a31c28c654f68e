"""The data, lineage, note and report magics as a user runs them: a notebook in a real ipykernel.

The notebook does what README.md tells a user to do (``%load_ext kernel_magics``, a tracked cell
that logs a dataset, changes it and logs it again, then ``%mlops datasets``, ``%mlops lineage``,
``%mlops note`` and ``%mlops report``, spelled as the README spells them), is executed once with
nbclient, and each test reads what the user reads in one cell's output.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

pytestmark = pytest.mark.slow

SETUP = """\
import pandas as pd
import kernel_magics as mlops

df = pd.DataFrame({"id": range(100), "x": [i * 0.5 for i in range(100)], "plan": ["a", "b"] * 50})
"""

# Version 2 drops the first 10 rows, appends 15 on a new plan "c" and adds a column.
FIRST_RUN = """\
%%mlops track --experiment churn --metric auc
C = 0.5
mlops.log_dataset(df, name="train")
new = pd.DataFrame({"id": range(100, 115), "x": [1.0] * 15, "plan": ["c"] * 15})
df = pd.concat([df.iloc[10:], new], ignore_index=True)
df["score"] = 1.0
mlops.log_dataset(df, name="train")
auc = 0.81
baseline = mlops.active_run().id
"""

SECOND_RUN = """\
%%mlops track --experiment churn --metric auc
from sklearn.linear_model import LogisticRegression

C = 1.0
mlops.log_dataset(df, name="train")
model = LogisticRegression(C=C).fit(df[["x"]], df["plan"] == "c")
version = mlops.log_model(model, "churn", input_example=df[["x"]].head(5))
auc = 0.84
challenger = mlops.active_run().id
"""

#: name -> cell source; the outputs are looked up by name.
CELLS = {
    "load": "%load_ext kernel_magics",
    "setup": SETUP,
    "first": FIRST_RUN,
    "second": SECOND_RUN,
    "ls": "%mlops datasets ls",
    "versions": "%mlops datasets show train",
    "show": "%mlops datasets show train@2",
    "diff": "%mlops datasets diff train@1 train@2",
    "diff_usage": "%mlops datasets diff train@1",
    "lineage": "%mlops lineage train@2",
    "lineage_up": "%mlops lineage train@2 --up",
    "lineage_down": "%mlops lineage train@2 --down",
    "lineage_model": "%mlops lineage churn/1 --up",
    "lineage_data": 'graph = %mlops lineage train@2\nsorted({n["kind"] for n in graph.data["nodes"]})',
    "diff_data": 'diff = %mlops datasets diff train@1 train@2\ndiff.data["row_changes"]["added"]',
    "show_unknown": "%mlops datasets show train@9",
    # the README: "%mlops note TARGET text to the end of the line" (no quoting needed)
    "note": "%mlops note {baseline} It's the baseline for the Q3 campaign, see #112",
    "note_quoted": '%mlops note {baseline[:8]} "Features frozen on 2026-11-30"',
    "notes": "%mlops note {baseline}",
    "note_model": "%mlops note churn/1 Approved by risk review (ticket RISK-112)",
    "report": "%mlops report {baseline} {challenger} -o report.html",
    "report_md": "%mlops report last -o report.md",
    "leaderboard": "%mlops report --experiment churn --top 10 --by metrics.auc -o leaderboard.html",
}


@pytest.fixture(scope="module")
def notebook(tmp_path_factory):
    """The notebook, executed in a fresh ipykernel with its own store; (folder, outputs)."""
    folder = tmp_path_factory.mktemp("magics_nb")
    path = folder / "magics.ipynb"
    nb = new_notebook(cells=[new_code_cell(source) for source in CELLS.values()])
    nbformat.write(nb, path)
    with pytest.MonkeyPatch.context() as mp:  # the kernel inherits this environment
        mp.setenv("MLOPS_HOME", str(folder / ".mlops"))
        mp.setenv("JPY_SESSION_NAME", str(path))
        mp.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
        NotebookClient(nb, timeout=180, startup_timeout=180, kernel_name="python3",
                       allow_errors=True,
                       resources={"metadata": {"path": str(folder)}}).execute()  # fmt: skip
    outputs = dict(zip(CELLS, (cell.outputs for cell in nb.cells), strict=True))
    return folder, outputs


def text_of(outputs) -> str:
    """What the cell shows as text: streams, results' text/plain and error messages."""
    parts = []
    for o in outputs:
        if o.output_type == "stream":
            parts.append(o.text)
        elif o.output_type == "error":
            parts.append(f"{o.ename}: {o.evalue}")
        else:
            parts.append(o.data.get("text/plain", ""))
    return "\n".join(parts)


def html_of(outputs) -> str:
    """The cell's HTML output (what JupyterLab renders), one string."""
    return "".join(o.data.get("text/html", "") for o in outputs if "data" in o)


def lines_of(text: str) -> list[list[str]]:
    """Each line as its cells (two or more spaces separate a table's columns)."""
    return [re.split(r"\s{2,}", line.strip()) for line in text.splitlines()]


def test_every_cell_ran_and_only_the_usage_mistake_says_so(notebook):
    _, outputs = notebook
    for name, cell in outputs.items():
        errors = [o for o in cell if o.output_type == "error"]
        assert not errors, f"cell {name!r} raised {errors[0].ename}: {errors[0].evalue}"
        shown = text_of(cell)
        if name not in ("diff_usage", "show_unknown"):
            assert "UsageError" not in shown and "Error:" not in shown, (name, shown)
    assert text_of(outputs["diff_usage"]).strip() == (
        "UsageError: %mlops datasets diff takes 2 version name(s), not 1: e.g. "
        "%mlops datasets diff train@1 train@2."
    )
    assert text_of(outputs["show_unknown"]).strip() == (
        "UsageError: Dataset 'train' has no version '9'; its versions are 1, 2 (or use "
        "train@latest, or a hash prefix)."
    )


def test_datasets_ls_lists_the_dataset_with_its_latest_version(notebook):
    _, outputs = notebook
    rows = lines_of(text_of(outputs["ls"]))
    assert rows[0] == ["Datasets"]
    listed = dict(zip(rows[1], rows[2], strict=True))
    assert {k: listed[k] for k in ("Name", "Latest", "Kind", "Rows", "Versions")} == {
        "Name": "train", "Latest": "train@2", "Kind": "frame", "Rows": "105", "Versions": "2",
    }  # fmt: skip
    assert listed["Size"].endswith("kB") and listed["Stored"].endswith("kB")
    assert "<td><code>train@2</code></td>" in html_of(outputs["ls"])


def test_datasets_show_lists_versions_then_one_version_in_full(notebook):
    _, outputs = notebook
    versions = [row[:4] for row in lines_of(text_of(outputs["versions"]))[2:]]
    assert [v[0] for v in versions] == ["train@2", "train@1"]  # newest first
    assert [v[3] for v in versions] == ["105", "100"]
    shown = text_of(outputs["show"])
    assert "Dataset train@2" in shown and "Rows: 105" in shown
    assert ["score", "float64"] in lines_of(shown)  # the schema has the new column
    html = html_of(outputs["show"])
    assert "<h5>Schema</h5>" in html and "<h5>Runs</h5>" in html


def test_datasets_diff_shows_rows_columns_and_drift(notebook):
    _, outputs = notebook
    shown = text_of(outputs["diff"])
    for line in ("Dataset diff train@1 -> train@2", "Rows: 100 -> 105", "Rows added: 15",
                 "Rows removed: 10", "Rows compared on: id, x, plan", "Drifted columns: plan"):  # fmt: skip
        assert line in shown
    rows = lines_of(shown)
    assert ["score", "added", "float64"] in rows  # Schema changes: column added, its type
    plan = next(r for r in rows if r[0] == "plan")
    assert plan[-1] == "drift" and plan[2:4] == ["2 values, top 'a'", "3 values, top 'a'"]
    html = html_of(outputs["diff"])
    assert "<h5>Schema changes</h5>" in html and "<h5>Rows added</h5>" in html
    assert text_of(outputs["diff_data"]) == "15"  # the value's .data, for code


def test_lineage_shows_the_runs_the_version_fed(notebook):
    _, outputs = notebook
    both, up, down = (text_of(outputs[k]) for k in ("lineage", "lineage_up", "lineage_down"))
    runs = re.findall(r"run ([0-9a-f]{8}) In\[\d+\]\s+\[read\]", both)
    assert len(runs) == 2  # the first run logged train@2, the second read it again
    assert both.splitlines()[0].startswith("dataset train@2") and "105 rows" in both
    assert "came from" in both and "fed" in both
    assert "fed" not in up and "came from" in up
    assert "came from" not in down and all(run in down for run in runs)
    html = html_of(outputs["lineage"])
    assert html.count("<li>") >= 5 and "dataset train@2" in html
    assert "model churn/1  [logged]" in both  # the second run registered it
    # downstream of the data: runs and the model (the notebook is upstream of the runs)
    assert text_of(outputs["lineage_data"]) == "['dataset', 'model', 'run']"


def test_lineage_of_a_model_version_goes_back_to_its_data(notebook):
    _, outputs = notebook
    up = text_of(outputs["lineage_model"])
    assert up.splitlines()[0].startswith("model churn/1")
    assert "dataset train@2" in up and "[read]" in up
    assert "dataset train@1" not in up  # the second run read only train@2
    assert re.search(r"notebook \S*/magics\.ipynb\s+\[ran\]", up)  # where the cell ran


def test_notes_are_written_to_the_end_of_the_line_and_listed(notebook):
    _, outputs = notebook
    listed = text_of(outputs["notes"])
    assert listed.startswith("Notes on run ")
    notes = [row[-1] for row in lines_of(listed)[2:]]
    assert notes == ["It's the baseline for the Q3 campaign, see #112",
                     "Features frozen on 2026-11-30"]  # fmt: skip
    # writing one shows the item's notes with the new one last
    assert lines_of(text_of(outputs["note_quoted"]))[-1][-1] == "Features frozen on 2026-11-30"
    assert "It&#x27;s the baseline" in html_of(outputs["notes"])
    on_model = lines_of(text_of(outputs["note_model"]))
    assert on_model[0] == ["Notes on churn/1"]
    assert on_model[-1][-1] == "Approved by risk review (ticket RISK-112)"


def test_report_is_written_with_the_runs_params_and_notes(notebook):
    folder, outputs = notebook
    assert text_of(outputs["report"]).strip() == "Wrote report.html."
    assert "<a href='report.html'" in html_of(outputs["report"])
    page = (folder / "report.html").read_text(encoding="utf-8")
    params = page[page.index('<section id="params">') : page.index('<section id="metrics">')]
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", params)
    assert cells == ["C", "0.5", "1.0"]  # baseline first, then the challenger
    assert "It&#39;s the baseline" in page or "It&#x27;s the baseline" in page
    assert not re.search(r"(src|href)=[\"']https?://", page)  # it opens offline


def test_report_as_markdown_and_a_leaderboard(notebook):
    folder, outputs = notebook
    assert text_of(outputs["report_md"]).startswith("Wrote report.md")
    md = (folder / "report.md").read_text(encoding="utf-8")
    assert "| C |" in md.replace("  ", " ") and "1.0" in md  # `last` is the challenger
    board = (folder / "leaderboard.html").read_text(encoding="utf-8")
    assert board.index("0.84") < board.index("0.81")  # best auc first
    assert text_of(outputs["leaderboard"]).strip() == "Wrote leaderboard.html."


def test_the_store_holds_what_the_cells_showed(notebook, monkeypatch):
    folder, _ = notebook
    monkeypatch.setenv("MLOPS_HOME", str(folder / ".mlops"))
    from kernel_magics.core.store import open_store

    store = open_store()
    assert [v.rows for v in store.dataset_versions.versions("train")] == [100, 105]
    assert Path(folder / "report.html").stat().st_size > 0
