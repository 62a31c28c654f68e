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


PALETTE_ITEMS = ".jp-ModalCommandPalette .lm-CommandPalette-item"


def on_palette_item(page, query: str, label: str, act) -> None:
    """Type ``query`` into the command palette, then ``act(item, timeout)`` on its item ``label``.

    The modal palette closes when it loses the focus (JupyterLab activating a restored tab
    meanwhile), and under load the list is drawn a while after the typing: when the item is
    not there in time the palette is opened again, as a user would; the last try waits longest.
    """
    item = page.locator(PALETTE_ITEMS, has_text=label).first
    tries = (10_000, 10_000, 10_000, TIMEOUT)
    for i, timeout in enumerate(tries):
        open_palette(page).fill(query)
        try:
            act(item, timeout)
            return
        except Exception:  # Playwright's TimeoutError: the palette closed before it drew
            if i == len(tries) - 1:
                raise


def run_command(page, label: str) -> None:
    """Find the command by its label in the palette and run it."""
    on_palette_item(page, label, label, lambda item, timeout: item.click(timeout=timeout))


def search_palette(page, query: str, until: str) -> list[str]:
    """The palette's items for ``query``, read once the item ``until`` is drawn."""
    on_palette_item(page, query, until, lambda item, timeout: item.wait_for(timeout=timeout))
    return page.locator(PALETTE_ITEMS).all_inner_texts()


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
