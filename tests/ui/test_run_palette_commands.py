"""A run's actions from the command palette: note, tags and delete, in a real browser.

Every action of the panel has a palette command (issue 11): with a run open in the panel, the
user runs "Add a note to a run", "Edit a run's tags" and "Delete a run" from the palette; each
asks in a JupyterLab dialog, and the panel shows the result without a reload.
"""

from __future__ import annotations

import time

import pytest
from panel_helpers import PANEL_TAB, show_runs

pytestmark = [pytest.mark.ui, pytest.mark.slow]

TIMEOUT = 60_000
NOTE = "Baseline for the Q3 review"


@pytest.fixture(scope="module")
def two_runs(lab):
    """Two finished runs in their own experiment, written through core into the lab's store."""
    from kernel_magics.core.config import resolve_location
    from kernel_magics.core.store import open_store

    store = open_store(resolve_location(environ={"MLOPS_HOME": str(lab.home)}))
    exp = store.experiments.get_or_create("palette")
    ids = []
    for i, name in enumerate(["keep-me", "drop-me"]):
        run_id = store.runs.create(exp, name=name, params={"C": i}, start_time=time.time() + i)
        store.runs.finish(run_id, "finished")
        ids.append(run_id)
    store.close()
    return dict(zip(["keep", "drop"], ids, strict=True))


def open_palette(page):
    """Open the command palette with its shortcut, as a user would; return its search box.

    The shortcut toggles the palette, so it is pressed again only when the palette is still
    closed well after the last press (on a loaded machine a press can take seconds to show).
    """
    search = page.locator(".jp-ModalCommandPalette .lm-CommandPalette-input")
    for _ in range(5):
        page.keyboard.press("Control+Shift+C")
        try:
            search.wait_for(timeout=10_000)
            return search
        except Exception:  # Playwright's TimeoutError: the press was not taken yet
            if search.is_visible():
                return search
    search.wait_for(timeout=TIMEOUT)
    return search


def run_command(page, label: str) -> None:
    """Open the command palette, find the command by its label and run it.

    The modal palette closes when it loses the focus (JupyterLab activating a restored tab
    meanwhile): then it is opened again, as a user would.
    """
    item = page.locator(".jp-ModalCommandPalette .lm-CommandPalette-item", has_text=label).first
    for _ in range(3):
        search = open_palette(page)
        search.fill(label)
        try:
            item.click(timeout=10_000)
            return
        except Exception:  # Playwright's TimeoutError: the palette closed before the click
            continue
    open_palette(page).fill(label)
    item.click(timeout=TIMEOUT)


def search_palette(page, query: str, until: str) -> list[str]:
    """Type ``query`` into the palette and return the listed items once ``until`` shows.

    The palette filters as it is typed into and JupyterLab's restore can close it meanwhile
    (reading the list straight after typing once found it empty under load), so the list is
    read only after the awaited item is drawn, reopening the palette when it closed.
    """
    items = page.locator(".jp-ModalCommandPalette .lm-CommandPalette-item")
    for _ in range(3):
        open_palette(page).fill(query)
        try:
            items.filter(has_text=until).first.wait_for(timeout=10_000)
            return items.all_inner_texts()
        except Exception:  # Playwright's TimeoutError: the palette closed before it drew
            continue
    open_palette(page).fill(query)
    items.filter(has_text=until).first.wait_for(timeout=TIMEOUT)
    return items.all_inner_texts()


def dialog(page):
    box = page.locator(".jp-Dialog")
    box.wait_for(timeout=TIMEOUT)
    return box


def open_run(page, lab, name: str):
    panel = show_runs(page, lab, f"name = '{name}'", 1)
    panel.locator(".jp-mlops-run-row").first.click()
    panel.locator(".jp-mlops-detail").wait_for(timeout=TIMEOUT)
    return panel


def test_palette_lists_every_run_action(page, lab):
    # Given the lab
    page.goto(f"{lab.url}/lab?token={lab.token}&reset")
    page.locator(PANEL_TAB).click()
    page.locator(".jp-mlops-panel").wait_for(timeout=TIMEOUT)
    # When the palette is searched for the runs' actions
    listed = search_palette(page, "run", until="Delete a run")
    # Then each is there, in the MLOps category
    for label in ["Edit a run’s tags", "Add a note to a run", "Delete a run"]:
        assert any(label in text for text in listed), (label, listed)
    header = page.locator(".jp-ModalCommandPalette .lm-CommandPalette-header", has_text="MLOps")
    assert header.count() >= 1


def test_note_and_tags_on_the_open_run_from_the_palette(page, lab, two_runs, shot):
    # Given the run keep-me open in the panel
    panel = open_run(page, lab, "keep-me")
    detail = panel.locator(f'.jp-mlops-detail[data-run-id="{two_runs["keep"]}"]')
    detail.wait_for(timeout=TIMEOUT)

    # When "Add a note to a run" is run from the palette and a note typed
    run_command(page, "Add a note to a run")
    box = dialog(page)
    assert "keep-me" in box.locator(".jp-Dialog-header").inner_text()
    box.locator("input").fill(NOTE)
    box.get_by_role("button", name="OK").click()
    # Then the open run's Notes show it, and the API lists it
    detail.locator(".jp-mlops-note-item", has_text=NOTE).wait_for(timeout=TIMEOUT)
    notes = lab.api(f"notes?kind=run&target={two_runs['keep']}")["notes"]
    assert [n["text"] for n in notes] == [NOTE]

    # When "Edit a run's tags" is run and a tag added
    run_command(page, "Edit a run’s tags")
    box = dialog(page)
    box.locator("textarea").fill("team=vision")
    box.get_by_role("button", name="Save").click()
    # Then the run's tags show it without a reload
    detail.locator("text=team").first.wait_for(timeout=TIMEOUT)
    assert lab.api(f"runs/{two_runs['keep']}")["tags"]["team"] == "vision"
    shot("note-and-tags")


def test_delete_the_open_run_from_the_palette_asks_first(page, lab, two_runs, shot):
    # Given the run drop-me open in the panel
    panel = open_run(page, lab, "drop-me")

    # When "Delete a run" is run and the dialog cancelled
    run_command(page, "Delete a run")
    box = dialog(page)
    assert "drop-me" in box.locator(".jp-Dialog-header").inner_text()
    box.get_by_role("button", name="Cancel").click()
    box.wait_for(state="detached", timeout=TIMEOUT)
    # Then nothing is deleted
    assert lab.api(f"runs/{two_runs['drop']}")["name"] == "drop-me"

    # When it is run again and confirmed
    run_command(page, "Delete a run")
    dialog(page).get_by_role("button", name="Delete").click()
    # Then the detail closes, the table no longer lists the run, and the API has forgotten it
    panel.locator(".jp-mlops-detail").wait_for(state="detached", timeout=TIMEOUT)
    panel.locator(".jp-mlops-count", has_text="of 0").or_(
        panel.locator(".jp-mlops-empty")
    ).first.wait_for(timeout=TIMEOUT)
    listed = lab.api("runs?experiment=palette")["runs"]
    assert [r["name"] for r in listed] == ["keep-me"]
    shot("deleted")
