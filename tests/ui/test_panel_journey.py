"""The side panel journey in a real JupyterLab and headless Chromium.

Open the demo notebook, run a ``%%mlops track`` cell, see the run appear in the panel without a
manual refresh, open its detail, save a changed notebook and run again, diff the two notebook
versions, restore one, and switch to the dark theme. Every step saves a screenshot to
tests/ui/artifacts/.
"""

from __future__ import annotations

import re

import pytest

pytestmark = [pytest.mark.ui, pytest.mark.slow]

NOTEBOOK = "panel_demo.ipynb"
PANEL_TAB = '.jp-SideBar .lm-TabBar-tab[data-id="jp-mlops-panel"]'
TIMEOUT = 60_000


def open_notebook(page, lab) -> None:
    page.goto(f"{lab.url}/lab/tree/{NOTEBOOK}?token={lab.token}&reset")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=TIMEOUT)
    # JupyterLab sometimes asks which kernel to start for a fresh session: take the default.
    try:
        page.wait_for_selector(".jp-Dialog", timeout=5_000)
        page.locator(".jp-Dialog .jp-mod-accept").click()
    except Exception:  # no dialog this time
        pass
    page.wait_for_selector(".jp-Dialog", state="detached", timeout=TIMEOUT)
    page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=TIMEOUT)
    page.wait_for_selector(".jp-Toolbar-kernelName", timeout=TIMEOUT)


def menu(page, *labels: str) -> None:
    """Click through the main menu, e.g. ``menu(page, "Run", "Run All Cells")``."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{labels[0]}$")).click()
    for label in labels[1:]:
        item = page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{label}$")).first
        item.hover()
        item.click()


def run_rows(page):
    return page.locator(".jp-mlops-panel .jp-mlops-run-row")


def wait_idle(page) -> None:
    page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="busy"]',
                           state="detached", timeout=TIMEOUT)  # fmt: skip
    page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=TIMEOUT)


def test_runs_detail_versions_diff_restore_and_dark_theme(page, lab, shot):
    # Given the demo notebook open and the MLOps panel shown
    open_notebook(page, lab)
    page.locator(PANEL_TAB).click()
    panel = page.locator(".jp-mlops-panel")
    panel.wait_for(state="visible", timeout=TIMEOUT)
    # Then the panel follows the notebook and teaches the first step
    assert panel.locator(".jp-mlops-notebook").inner_text() == NOTEBOOK
    empty = panel.locator(".jp-mlops-empty")
    empty.wait_for(timeout=TIMEOUT)
    assert "No runs from this notebook yet" in empty.inner_text()
    assert "%%mlops track" in empty.inner_text()
    shot("empty-state")

    # When the notebook runs (a %%mlops track cell)
    menu(page, "Run", "Run All Cells")
    wait_idle(page)
    # Then the run appears in the panel by itself
    run_rows(page).first.wait_for(timeout=TIMEOUT)
    assert run_rows(page).count() == 1
    row = run_rows(page).first
    assert "finished" in row.inner_text()
    header = panel.locator(".jp-mlops-table thead").inner_text()
    assert "acc" in header and "loss" in header and "C" in header
    shot("run-appears", mask=[panel.locator(".jp-mlops-run-row td:nth-child(4)")])

    # When the run is opened
    row.click()
    detail = panel.locator(".jp-mlops-detail")
    detail.wait_for(timeout=TIMEOUT)
    panel.locator('.jp-mlops-chart[aria-label="metric loss"] canvas').wait_for(timeout=TIMEOUT)
    # Then its params, metric charts, artifacts and notebook version show
    text = detail.inner_text()
    assert "Parameters" in text and "0.1" in text
    assert panel.locator('.jp-mlops-chart[aria-label="metric acc"]').count() == 1
    assert "20 points" in panel.locator('.jp-mlops-chart[aria-label="metric loss"]').inner_text()
    assert "cell/source.py" in text
    assert re.search(r"v\d+ · [0-9a-f]{10}", text), text
    shot("run-detail")
    detail.get_by_role("button", name="← Runs").click()

    # When the notebook is changed (C = 0.1 -> C = 1.0), saved, and the cell runs again
    train = page.locator(".jp-NotebookPanel .jp-Cell").nth(2)
    train.locator(".cm-content").click()
    page.keyboard.press("Control+Home")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Home")
    page.keyboard.press("Shift+End")
    page.keyboard.type("C = 1.0")
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    page.wait_for_selector(".jp-NotebookPanel-toolbar", timeout=TIMEOUT)
    page.wait_for_function(
        "() => !document.querySelector('.jp-mod-current.jp-mod-dirty')", timeout=TIMEOUT
    )
    train.click()
    page.keyboard.press("Shift+Enter")
    wait_idle(page)
    # Then a second run appears, newest first
    page.wait_for_function(
        "() => document.querySelectorAll('.jp-mlops-panel .jp-mlops-run-row').length === 2",
        timeout=TIMEOUT,
    )
    assert "1.0" in run_rows(page).first.inner_text()
    # (re-running the cell without a restart is out of order: the table flags it)
    assert run_rows(page).first.locator(".jp-mlops-unordered").count() == 1
    assert run_rows(page).nth(1).locator(".jp-mlops-unordered").count() == 0
    shot("second-run", mask=[panel.locator(".jp-mlops-run-row td:nth-child(4)")])
    # and its detail says why
    run_rows(page).first.click()
    warning = panel.locator(".jp-mlops-detail .jp-mlops-warning")
    warning.wait_for(timeout=TIMEOUT)
    assert warning.inner_text().startswith("⚠ Unordered:")
    shot("unordered-warning")
    panel.locator(".jp-mlops-detail").get_by_role("button", name="← Runs").click()

    # When the two notebook versions are compared
    panel.locator(".jp-mlops-tab", has_text="Versions").click()
    versions = panel.locator(".jp-mlops-version:not([data-version='current'])")
    versions.nth(1).wait_for(timeout=TIMEOUT)
    assert versions.count() == 2
    shot("versions")
    versions.nth(0).locator("input[type=checkbox]").check()
    versions.nth(1).locator("input[type=checkbox]").check()
    panel.get_by_role("button", name="Compare").click()
    # Then the diff opens in the main area, where there is room to read it
    diff = page.locator(".jp-mlops-diff-widget .jp-mlops-diff")
    diff.wait_for(timeout=TIMEOUT)
    assert "v1 → v2" in diff.locator(".jp-mlops-detail-title").inner_text()
    # Then the changed cell shows the old and the new line
    changed = diff.locator(".jp-mlops-diff-changed")
    assert changed.count() >= 1
    assert "C = 0.1" in diff.locator(".jp-mlops-line-removed").all_inner_texts()[0] or any(
        "C = 0.1" in t for t in diff.locator(".jp-mlops-line-removed").all_inner_texts()
    )
    assert any("C = 1.0" in t for t in diff.locator(".jp-mlops-line-added").all_inner_texts())
    assert "changed" in diff.locator(".jp-mlops-diff-summary").inner_text()
    shot("diff")

    # When the older version is restored
    versions.nth(1).get_by_role("button", name="Restore as copy").click()
    # Then a new notebook opens next to the original, which is untouched
    page.wait_for_selector(".lm-DockPanel-tabBar .lm-TabBar-tab:has-text('.v')", timeout=TIMEOUT)
    restored = sorted(p.name for p in lab.root.glob("panel_demo.v*.ipynb"))
    assert len(restored) == 1
    assert "C = 0.1" in (lab.root / restored[0]).read_text()
    assert "C = 1.0" in (lab.root / NOTEBOOK).read_text()
    shot("restored")

    # When the theme switches to dark
    light_background = panel.evaluate("e => getComputedStyle(e).backgroundColor")
    menu(page, "Settings", "Theme", "JupyterLab Dark")
    page.wait_for_selector('body[data-jp-theme-light="false"]', state="attached", timeout=TIMEOUT)
    page.wait_for_timeout(500)
    # Then the panel follows the theme's variables
    dark_background = panel.evaluate("e => getComputedStyle(e).backgroundColor")
    assert dark_background != light_background
    # (the panel follows the restored copy, which has no runs; go back to the original)
    assert panel.locator(".jp-mlops-notebook").inner_text().startswith("panel_demo.v")
    page.locator(
        ".lm-DockPanel-tabBar .lm-TabBar-tab", has_text=re.compile(rf"^{NOTEBOOK}$")
    ).click()
    page.wait_for_function(
        f"() => document.querySelector('.jp-mlops-notebook')?.textContent === '{NOTEBOOK}'",
        timeout=TIMEOUT,
    )
    panel.locator(".jp-mlops-tab", has_text="Runs").click()
    run_rows(page).nth(1).wait_for(timeout=TIMEOUT)
    shot("dark-theme", mask=[panel.locator(".jp-mlops-run-row td:nth-child(4)")])
    # And the REST API, asked directly, agrees with what the panel showed
    assert_the_api_agrees_with_what_the_panel_showed(lab)


def assert_the_api_agrees_with_what_the_panel_showed(lab) -> None:
    """The REST API, asked directly, holds the runs and versions the journey saw in the panel.

    Part of the journey test rather than a test of its own: it reads what the journey made in
    the module's lab, and pytest-xdist may run a separate test on another worker's fresh lab.
    """
    runs = lab.api(f"runs?notebook={NOTEBOOK}")
    versions = lab.api(f"notebook_versions?path={NOTEBOOK}")
    # Then there are two runs of this notebook and two versions, each used by one run
    assert runs["total"] == 2
    assert sorted(r["params"]["C"] for r in runs["runs"]) == ["0.1", "1.0"]
    assert len(versions["versions"]) == 2
    assert all(len(v["run_ids"]) == 1 for v in versions["versions"])
