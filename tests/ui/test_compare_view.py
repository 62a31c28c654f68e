"""The Compare view in a real JupyterLab and headless Chromium.

Three tracked runs (different ``C``, a loss curve each, two notebook versions) are made by a
real IPython shell into the lab's store. In the browser: tick them in the runs table, Compare,
and check what a user reads: differing params first, one overlaid curve chart per metric with a
colour per run and values under the cursor, the log-scale toggle, the runs as points, and the
code diff between two runs; the diff stays readable in the dark theme (contrast measured); and
``%mlops compare`` in a notebook opens the same view.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import nbformat
import pytest
from contrast import contrast
from panel_helpers import COMPARE_VIEW

pytestmark = [pytest.mark.ui, pytest.mark.slow]

PANEL_TAB = '.jp-SideBar .lm-TabBar-tab[data-id="jp-mlops-panel"]'
TIMEOUT = 60_000
NOTEBOOK = "compare_me.ipynb"

#: Runs three %%mlops track cells in a real InteractiveShell, as the notebook's kernel would.
SEED = textwrap.dedent(
    """
    import json, sys
    import nbformat
    from IPython.core.interactiveshell import InteractiveShell

    def last_run_id():
        from kernel_magics.core.compare import resolve_run
        from kernel_magics.core.store import open_store
        from kernel_magics.kernel import cell_writer

        cell_writer.drain()
        store = open_store()
        store.writer.flush()
        return resolve_run(store, "last")

    path = sys.argv[1]
    shell = InteractiveShell.instance()
    assert shell.run_cell("%load_ext kernel_magics").success
    ids = []
    for i, c in enumerate(["0.1", "1.0", "10"]):
        cell = (
            "%%mlops track --experiment cmp --name c-" + c + "\\n"
            "C = " + c + "\\nseed = 1\\nimport kernel_magics as mlops\\n"
            "for step in range(30):\\n"
            "    mlops.log_metric('loss', (1 + step) ** -0.5 / float(C) + 0.01, step=step)\\n"
            "mlops.log_metric('acc', 0.8 + 0.05 * " + str(i) + ")"
        )
        nb = nbformat.v4.new_notebook()
        # the notebook changes between the first and the second run: two versions
        extra = "x = 1" if i == 0 else "x = 2"
        nb.cells = [nbformat.v4.new_code_cell(s) for s in ("%load_ext kernel_magics", cell, extra)]
        nbformat.write(nb, path)
        assert shell.run_cell(cell).success
        ids.append(last_run_id())
    print(json.dumps(ids))
    """
)


@pytest.fixture(scope="module")
def runs(lab):
    """Full ids of the three runs, oldest first."""
    env = {**os.environ, "MLOPS_HOME": str(lab.home), "JPY_SESSION_NAME": str(lab.root / NOTEBOOK)}
    for var in ("MLOPS_STORE_URI", "MLOPS_ARTIFACTS_URI", "MLOPS_RUN_ID"):
        env.pop(var, None)
    out = subprocess.run(
        [sys.executable, "-c", SEED, str(lab.root / NOTEBOOK)],
        env=env, cwd=lab.root, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def menu(page, *labels: str) -> None:
    """Click through the main menu, e.g. ``menu(page, "Run", "Run All Cells")``."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{labels[0]}$")).click()
    for label in labels[1:]:
        item = page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{label}$")).first
        item.hover()
        item.click()


def test_tick_runs_and_compare_params_curves_points_and_code(page, lab, runs, shot):
    # Given the lab with the three runs and the panel on all runs
    page.goto(f"{lab.url}/lab?token={lab.token}&reset")
    page.locator(PANEL_TAB).click()
    panel = page.locator(".jp-mlops-panel")
    rows = panel.locator(".jp-mlops-run-row")
    page.wait_for_function(
        "() => document.querySelectorAll('.jp-mlops-panel .jp-mlops-run-row').length === 3",
        timeout=TIMEOUT,
    )
    compare = panel.locator(".jp-mlops-compare-button")
    assert compare.is_disabled()  # nothing ticked yet
    # When the three runs are ticked, oldest (the baseline) first, and compared
    for run_id in runs:
        panel.locator(f'.jp-mlops-run-row[data-run-id="{run_id}"] input[type=checkbox]').check()
    assert compare.inner_text() == "Compare (3)"
    assert rows.locator(".jp-mlops-detail").count() == 0  # ticking does not open the run
    shot("ticked")
    compare.click()
    view = page.locator(COMPARE_VIEW)
    view.wait_for(timeout=TIMEOUT)
    # Then a main-area tab compares them, the baseline first
    assert page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text="Compare 3 runs").count()
    assert view.get_attribute("data-run-ids") == ",".join(runs)
    # params side by side: C differs and comes first, seed is the same and comes after
    params = view.locator('table[aria-label="param"] tbody tr')
    assert params.first.get_attribute("data-key") == "C"
    assert "jp-mlops-differs" in params.first.get_attribute("class")
    assert params.first.locator("td").all_inner_texts() == ["0.1", "1.0", "10"]
    seed = view.locator('table[aria-label="param"] tr[data-key="seed"]')
    assert seed.get_attribute("class") is None
    view.get_by_text("only differing").click()
    seed.wait_for(state="detached", timeout=TIMEOUT)
    # one chart per metric logged by every run, a legend entry (colour) per run
    chart = view.locator('.jp-mlops-compare-chart[data-metric="loss"]')
    chart.locator("canvas").wait_for(timeout=TIMEOUT)
    labels = chart.locator(".u-legend .u-series .u-label").all_inner_texts()
    assert labels[1:] == ["c-0.1", "c-1.0", "c-10"]
    colours = chart.locator(".u-legend .u-series .u-marker").evaluate_all(
        "els => els.slice(1).map(e => getComputedStyle(e).borderColor)"
    )
    assert len(set(colours)) == 3
    # hovering the plot shows each run's value at that step
    plot = chart.locator(".u-over")
    box = plot.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.1, box["y"] + box["height"] / 2)
    values = chart.locator(".u-legend .u-series .u-value").all_inner_texts()
    assert all(v not in ("", "–", "--") for v in values[1:]), values
    shown = [float(v) for v in values[1:]]
    assert shown[0] > shown[1] > shown[2]  # loss ~ 1/C at every step
    shot("compare")
    # the log toggle redraws the chart on a log axis
    chart.get_by_role("button", name="log scale").click()
    assert chart.get_by_role("button", name="log scale ✓").get_attribute("aria-pressed") == "true"
    chart.locator("canvas").wait_for(timeout=TIMEOUT)
    # the runs as points: x a numeric param (C), y a metric
    scatter = view.locator(".jp-mlops-scatter")
    scatter.locator("canvas").wait_for(timeout=TIMEOUT)
    assert view.get_by_label("Scatter x").input_value() == "params.C"
    assert "3 runs" in scatter.inner_text()
    # the code diff of the first two runs: the tracked cell and the notebook versions
    diff = view.locator(".jp-mlops-run-diff")
    removed = diff.locator(".jp-mlops-line-removed").all_inner_texts()
    added = diff.locator(".jp-mlops-line-added").all_inner_texts()
    assert any("C = 0.1" in t for t in removed) and any("C = 1.0" in t for t in added)
    diff.locator(".jp-mlops-diff-summary").wait_for(timeout=TIMEOUT)
    assert "changed" in diff.locator(".jp-mlops-diff-summary").inner_text()
    # the unchanged cell (%load_ext) is folded into one line
    assert diff.locator("details.jp-mlops-diff-folded summary").all_inner_texts() == [
        "1 unchanged cell"
    ]
    diff.scroll_into_view_if_needed()
    shot("diff")
    light = contrast(page.locator(".jp-mlops-run-diff .jp-mlops-line-removed"))

    # When the theme is dark
    menu(page, "Settings", "Theme", "JupyterLab Dark")
    page.wait_for_selector('body[data-jp-theme-light="false"]', state="attached", timeout=TIMEOUT)
    page.wait_for_timeout(500)
    # Then the diff lines stay readable (WCAG AA for text: 4.5)
    dark = contrast(page.locator(".jp-mlops-run-diff .jp-mlops-line-removed"))
    assert light >= 4.5 and dark >= 4.5, (light, dark)
    assert contrast(page.locator(".jp-mlops-run-diff .jp-mlops-line-added")) >= 4.5
    shot("diff-dark")
    menu(page, "Settings", "Theme", "JupyterLab Light")


def test_mlops_compare_in_a_notebook_opens_the_compare_view(page, lab, runs, shot):
    # Given a notebook whose cell compares two runs
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            f"%load_ext kernel_magics\n%mlops compare {runs[0][:8]} {runs[2][:8]}"
        )
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, lab.root / "magic_compare.ipynb")
    page.goto(f"{lab.url}/lab/tree/magic_compare.ipynb?token={lab.token}&reset")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=TIMEOUT)
    try:  # a fresh session may ask which kernel to start: take the default
        page.wait_for_selector(".jp-Dialog", timeout=5_000)
        page.locator(".jp-Dialog .jp-mod-accept").click()
    except Exception:
        pass
    page.wait_for_selector(".jp-Dialog", state="detached", timeout=TIMEOUT)
    page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=TIMEOUT)
    # When the cell runs in the notebook's kernel
    menu(page, "Run", "Run All Cells")
    # Then the Compare view of those two runs opens in the main area
    view = page.locator(COMPARE_VIEW)
    view.wait_for(timeout=TIMEOUT)
    assert view.get_attribute("data-run-ids") == f"{runs[0]},{runs[2]}"
    # and the notebook's output keeps the report and a button to open the view again
    page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text="magic_compare.ipynb").click()
    page.locator(".jp-mlops-compare-request button").wait_for(timeout=TIMEOUT)
    button = page.locator(".jp-mlops-compare-request button")
    assert button.inner_text() == "Open the comparison of 2 runs"
    report = page.locator(".jp-OutputArea-output", has_text="Why these runs differ")
    report.wait_for(timeout=TIMEOUT)  # the report follows (its plots take a moment)
    shot("magic")
