"""The runs table's features and the review's fixes, as a user sees them in Chromium.

Runs are written through ``kernel_magics.core`` into the lab's store; each test makes its own
experiment (unique names) and shows only it, so the tests share the module's lab but not data.
Checked: the column chooser, the Status and Run columns that stay put while the table scrolls
sideways, long names cut with an ellipsis (whole in the title), a failed run's error line and
the *Failed only* toggle, the page jump, and the review's fixes (scroll and sort reset with the
scope, an experiment menu that follows new experiments, tag keys wrapping between words, and
warning and traceback boxes readable in the light and the dark theme).
"""

from __future__ import annotations

import re
import time

import pytest
from contrast import contrast, switch_theme

pytestmark = [pytest.mark.ui, pytest.mark.slow]

PANEL_TAB = '.jp-SideBar .lm-TabBar-tab[data-id="jp-mlops-panel"]'
TIMEOUT = 60_000
#: The Run column's cell (name, and the error line of a failed run).
NAME = ".jp-mlops-run-row td.jp-mlops-col-name"


@pytest.fixture(scope="module")
def store(lab):
    """The lab's store, opened by the test process."""
    from kernel_magics.core.config import resolve_location
    from kernel_magics.core.store import open_store

    store = open_store(resolve_location(environ={"MLOPS_HOME": str(lab.home)}))
    yield store
    store.close()


def seed(store, experiment: str, runs: list[dict]) -> list[str]:
    """Write finished (or failed...) runs, oldest first; return their ids.

    Each item: ``name``, and optionally ``params``, ``metrics`` ({key: value}), ``tags``,
    ``status`` (default finished) and ``error``.
    """
    exp = store.experiments.get_or_create(experiment)
    base = time.time() - 10 * len(runs)
    ids, points = [], []
    for i, run in enumerate(runs):
        run_id = store.runs.create(exp, name=run["name"], source="api", start_time=base + 10 * i,
                                   params=run.get("params"), tags=run.get("tags"))  # fmt: skip
        points += [(run_id, k, 0, base + 10 * i + 1, v) for k, v in run.get("metrics", {}).items()]
        store.runs.finish(run_id, run.get("status", "finished"), error=run.get("error"))
        ids.append(run_id)
    if points:
        with store.db.write() as conn:
            store.runs.write_metrics(conn, points)
    return ids


def show_experiment(page, lab, experiment: str, count: int):
    """Open the lab and the panel, choose the experiment in the scope menu; return the panel."""
    page.goto(f"{lab.url}/lab?token={lab.token}&reset")
    page.locator(PANEL_TAB).click()
    panel = page.locator(".jp-mlops-panel")
    choose_scope(panel, f"experiment:{experiment}", count)
    return panel


def choose_scope(panel, value: str, count: int) -> None:
    """Pick an entry of the *Runs to show* menu and wait for its runs."""
    menu = panel.get_by_label("Runs to show")
    menu.locator(f'option[value="{value}"]').wait_for(state="attached", timeout=TIMEOUT)
    menu.select_option(value)
    wait_count(panel, count)


def wait_count(panel, total: int) -> None:
    """Wait until the pager says the table holds ``total`` runs."""
    panel.locator(".jp-mlops-count", has_text=re.compile(f" of {total}$")).wait_for(timeout=TIMEOUT)


def headers(panel) -> list[str]:
    """The column headers as shown (without the sort arrow)."""
    texts = panel.locator(".jp-mlops-table thead th").all_inner_texts()
    return [t.replace("▾", "").replace("▴", "").strip() for t in texts]


def column(panel, header: str) -> list[str]:
    """The cells of one column, top to bottom."""
    index = headers(panel).index(header)
    return [
        row.locator("td").nth(index).inner_text().strip()
        for row in panel.locator(".jp-mlops-run-row").all()
    ]


def scroller(panel):
    return panel.locator(".jp-mlops-table-scroll")


def scroll_far_right(page, panel) -> float:
    """Scroll the table sideways with the mouse wheel to its right edge; return scrollLeft."""
    box = scroller(panel).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(5000, 0)
    handle = scroller(panel).element_handle()
    page.wait_for_function(
        "el => el.scrollLeft > 0 && el.scrollLeft >= el.scrollWidth - el.clientWidth - 1",
        arg=handle,
        timeout=TIMEOUT,
    )
    return scroller(panel).evaluate("el => el.scrollLeft")


def scroll_into_sight(page, panel, target) -> None:
    """Scroll the table sideways with the wheel until ``target`` starts right of the fixed
    columns, and click it there (where the user sees it)."""
    fixed = panel.locator("thead th.jp-mlops-col-name").bounding_box()
    dx = target.bounding_box()["x"] - (fixed["x"] + fixed["width"]) - 2
    box = scroller(panel).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(dx, 0)
    page.wait_for_function(
        "([el, x]) => Math.abs(el.getBoundingClientRect().x - x) < 3",
        arg=[target.element_handle(), fixed["x"] + fixed["width"] + 2],
        timeout=TIMEOUT,
    )
    where = target.bounding_box()
    page.mouse.click(where["x"] + 8, where["y"] + where["height"] / 2)


WIDE = {  # four metrics and four params with long values: wider than the side panel
    "metrics": {"accuracy": 0.91, "f1_score": 0.88, "precision": 0.9, "recall": 0.87},
    "params": {
        "optimizer": "adam-with-decoupled-weight-decay",
        "scheduler": "cosine-warmup",
        "augmentation": "random-resized-crop",
        "batch_size": "128",
    },  # fmt: skip
}


def test_column_chooser_adds_and_removes_a_param_and_a_metric_column(page, lab, store, shot):
    # Given runs with five metrics and five params: the table shows four of each by default
    metrics = {"a_loss": 0.5, "b_acc": 0.8, "c_f1": 0.7, "d_auc": 0.9}
    params = {"alpha": "1", "beta": "2", "delta": "3", "gamma": "4"}
    seed(store, "cols-exp", [
        {"name": f"cols-{i}", "metrics": {**metrics, "zz_recall": 0.1 * (i + 1)},
         "params": {**params, "zz_optimizer": f"sgd-{i}"}}
        for i in range(3)
    ])  # fmt: skip
    panel = show_experiment(page, lab, "cols-exp", 3)
    assert "a_loss" in headers(panel) and "gamma" in headers(panel)
    assert "zz_recall" not in headers(panel) and "zz_optimizer" not in headers(panel)

    # When the user opens Columns and ticks the fifth metric and the fifth param
    panel.get_by_title("Choose columns").click()
    menu = panel.locator(".jp-mlops-columns-menu")
    metric_box = menu.locator("fieldset", has_text="Metrics").get_by_label("zz_recall")
    param_box = menu.locator("fieldset", has_text="Params").get_by_label("zz_optimizer")
    metric_box.check()
    param_box.check()
    shot("columns-chosen")
    # Then both are columns with each run's value (newest run first), next to the others
    assert column(panel, "zz_recall") == ["0.3", "0.2", "0.1"]
    assert column(panel, "zz_optimizer") == ["sgd-2", "sgd-1", "sgd-0"]
    assert "a_loss" in headers(panel) and "gamma" in headers(panel)

    # When both are unticked
    metric_box.uncheck()
    param_box.uncheck()
    # Then their columns are gone and the others stay
    assert "zz_recall" not in headers(panel) and "zz_optimizer" not in headers(panel)
    assert column(panel, "a_loss") == ["0.5"] * 3
    panel.get_by_title("Choose columns").click()  # close the menu
    shot("columns-removed")


def test_status_and_run_columns_stay_put_while_the_table_scrolls(page, lab, store, shot):
    # Given a table wider than the panel, one run with a long name
    long_name = "a-run-whose-name-alone-is-wider-than-the-side-panel-in-its-default-width"
    seed(store, "sticky-exp", [{"name": n, **WIDE} for n in (long_name, "sticky-1", "sticky-2")])
    panel = show_experiment(page, lab, "sticky-exp", 3)
    row = panel.locator(".jp-mlops-run-row").first
    status, name = row.locator("td.jp-mlops-col-status"), row.locator("td.jp-mlops-col-name")
    start = row.locator("td").nth(headers(panel).index("Start"))
    status_head = panel.locator("thead th.jp-mlops-col-status")
    before = [c.bounding_box()["x"] for c in (status, name, start, status_head)]
    assert scroller(panel).evaluate("el => el.scrollWidth > el.clientWidth + 100")

    # When the user scrolls it all the way to the right
    moved = scroll_far_right(page, panel)
    shot("scrolled-right")

    # Then Status and Run (cells and header) stay where they were, the other columns moved
    after = [c.bounding_box()["x"] for c in (status, name, start, status_head)]
    assert after[0] == pytest.approx(before[0], abs=0.5)
    assert after[1] == pytest.approx(before[1], abs=0.5)
    assert after[3] == pytest.approx(before[3], abs=0.5)
    assert after[2] == pytest.approx(before[2] - moved, abs=1)
    # and they leave room to read the columns that scroll (the last one shows at the right)
    fixed = panel.locator("thead th.jp-mlops-col-name").bounding_box()
    box = scroller(panel).bounding_box()
    room = box["x"] + box["width"] - (fixed["x"] + fixed["width"])
    assert room >= 0.2 * box["width"], (room, box["width"])
    last = row.locator("td").last
    seen = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y).closest('td')?.textContent",
        [box["x"] + box["width"] - 8, last.bounding_box()["y"] + 4],
    )
    assert seen == last.inner_text() == WIDE["params"]["scheduler"]
    # and they are drawn over the scrolled columns, not under them
    for cell, text in ((status, "finished"), (name, "sticky-2")):
        box = cell.bounding_box()
        seen = page.evaluate(
            "([x, y]) => document.elementFromPoint(x, y).closest('td')?.textContent",
            [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
        )
        assert seen == text


def test_a_long_run_name_ends_in_an_ellipsis_and_shows_whole_on_hover(page, lab, store, shot):
    # Given a run with a long name
    long_name = "resnet50-imagenet-finetune-lr0.001-batch256-cosine-warmup-5-epochs-mixup-0.2"
    [run_id] = seed(store, "long-name-exp", [{"name": long_name, **WIDE}])
    panel = show_experiment(page, lab, "long-name-exp", 1)
    cell = panel.locator(NAME).first
    text = cell.locator(".jp-mlops-ellipsis").first

    # Then its cell is cut with an ellipsis, not wrapped or widened to the whole name
    shown = text.evaluate(
        "el => ({overflow: getComputedStyle(el).textOverflow, wrap: getComputedStyle(el).whiteSpace,"
        " scroll: el.scrollWidth, client: el.clientWidth, text: el.textContent})"
    )
    assert shown["text"] == long_name
    assert (shown["overflow"], shown["wrap"]) == ("ellipsis", "nowrap")
    assert shown["scroll"] > shown["client"]  # the name is wider than what is shown
    # and hovering it shows the whole name (and the id)
    cell.hover()
    assert cell.get_attribute("title") == f"{long_name} ({run_id})"
    shot("long-name")


def test_a_failed_run_shows_its_error_line_and_failed_only_keeps_failures(page, lab, store, shot):
    # Given finished runs, a failed run with a traceback and a crashed run
    error = 'Traceback (most recent call last):\n  File "train.py", line 3\nValueError: bad input x'
    ids = seed(store, "failed-exp", [
        {"name": "ok-1"}, {"name": "ok-2"},
        {"name": "broken", "status": "failed", "error": error},
        {"name": "ok-3"},
        {"name": "died", "status": "crashed"},
    ])  # fmt: skip
    panel = show_experiment(page, lab, "failed-exp", 5)

    # Then the failed run's row shows its error's last line under its name
    failed_row = panel.locator(f'.jp-mlops-run-row[data-run-id="{ids[2]}"]')
    line = failed_row.locator(".jp-mlops-row-error")
    line.wait_for(timeout=TIMEOUT)
    assert line.inner_text() == "ValueError: bad input x"
    assert line.get_attribute("title") == "ValueError: bad input x"
    assert panel.locator(".jp-mlops-row-error").count() == 1  # finished runs show none
    shot("error-line")

    # When the user ticks Failed only
    toggle = panel.get_by_label("Failed only")
    toggle.check()
    wait_count(panel, 2)
    # Then only the failed and the crashed run are listed
    assert column(panel, "Status") == ["crashed", "failed"]
    shot("failed-only")

    # When it is clicked again, every run is back
    toggle.uncheck()
    wait_count(panel, 5)
    assert sorted(column(panel, "Status")) == ["crashed", "failed"] + ["finished"] * 3


def test_a_page_number_typed_in_the_pager_jumps_to_that_page(page, lab, store, shot):
    # Given 130 runs: three pages of 50, newest first
    seed(store, "pages-exp", [{"name": f"page-{i:03d}"} for i in range(130)])
    panel = show_experiment(page, lab, "pages-exp", 130)
    box = panel.get_by_label("Page number")
    first = panel.locator(".jp-mlops-run-row .jp-mlops-run-name .jp-mlops-ellipsis").first
    count = panel.locator(".jp-mlops-count")

    def jump(typed: str, expected_first: str) -> None:
        box.fill(typed)
        box.press("Enter")
        first.filter(has_text=expected_first).wait_for(timeout=TIMEOUT)

    # When the user types 3 and presses Enter: the third page, from its first row
    jump("3", "page-029")
    assert count.inner_text() == "101–130 of 130"
    assert box.input_value() == "3"
    shot("page-3")
    # A page below the first goes to the first, one past the last to the last
    jump("0", "page-129")
    assert count.inner_text() == "1–50 of 130"
    assert box.input_value() == "1"
    jump("99", "page-029")
    assert count.inner_text() == "101–130 of 130"
    assert box.input_value() == "3"
    # Text that is no number leaves the page as it is
    box.fill("abc")
    box.press("Enter")
    assert box.input_value() == "3"
    assert count.inner_text() == "101–130 of 130"


def test_another_scope_starts_at_the_left_edge_newest_first(page, lab, store, shot):
    # Given two wide experiments, the first scrolled right and sorted by a metric
    seed(store, "scope-a-exp", [{"name": f"a-{i}", **WIDE} for i in range(2)])
    seed(store, "scope-b-exp", [{"name": f"b-{i}", **WIDE} for i in range(3)])
    panel = show_experiment(page, lab, "scope-a-exp", 2)
    scroll_into_sight(page, panel, panel.get_by_title("Sort by accuracy"))
    panel.locator("th.jp-mlops-sorted", has_text="accuracy").wait_for(timeout=TIMEOUT)
    assert scroll_far_right(page, panel) > 0
    shot("scrolled")

    # When the user switches the scope to the other experiment
    choose_scope(panel, "experiment:scope-b-exp", 3)

    # Then the table shows it from the left edge, newest first
    assert scroller(panel).evaluate("el => el.scrollLeft") == 0
    assert panel.locator("th.jp-mlops-sorted").inner_text().startswith("Start")
    assert column(panel, "Run") == ["b-2", "b-1", "b-0"]
    shot("other-scope")


def test_the_experiment_menu_lists_a_new_experiment_while_the_panel_is_shown(
    page, lab, store, shot
):
    # Given the panel showing one experiment (the lab refreshes the panel every second)
    seed(store, "menu-old-exp", [{"name": "old"}])
    panel = show_experiment(page, lab, "menu-old-exp", 1)
    menu = panel.get_by_label("Runs to show")
    assert menu.locator('option[value="experiment:menu-new-exp"]').count() == 0

    # When a run of a new experiment is made elsewhere (a script, a scheduled notebook)
    seed(store, "menu-new-exp", [{"name": "new"}])

    # Then the menu lists the new experiment, with its run, without re-opening the panel
    option = menu.locator('option[value="experiment:menu-new-exp"]')
    option.wait_for(state="attached", timeout=TIMEOUT)
    assert option.inner_text() == "Experiment: menu-new-exp (1)"
    # and the experiment shown is still the one chosen
    assert menu.input_value() == "experiment:menu-old-exp"
    choose_scope(panel, "experiment:menu-new-exp", 1)
    assert column(panel, "Run") == ["new"]
    shot("new-experiment")


def rendered_line_starts(locator) -> dict:
    """The element's text and the index of the first character of each rendered line."""
    return locator.evaluate(
        """el => {
          const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
          const range = document.createRange();
          const starts = [];
          let index = 0, top = null;
          for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (let i = 0; i < node.length; i++, index++) {
              range.setStart(node, i);
              range.setEnd(node, i + 1);
              const rect = range.getClientRects()[0];
              if (rect && (top === null || rect.top > top + 2)) {
                starts.push(index);
                top = rect.top;
              }
            }
          }
          return {text: el.textContent, starts};
        }"""
    )


def test_run_detail_tag_keys_wrap_between_words_and_boxes_are_readable(page, lab, store, shot):
    # Given a failed run with a warning and a long tag key
    key = "mlops.sweep.trial_parameters.learning_rate.schedule.warmup_steps"
    error = "Traceback (most recent call last):\n  File \"train.py\", line 9\nKeyError: 'label'"
    [run_id] = seed(store, "detail-exp", [{
        "name": "detail-run", "status": "failed", "error": error,
        "tags": {key: "500", "mlops.warnings": "Metric 'f1' was never defined in the cell"},
    }])  # fmt: skip
    panel = show_experiment(page, lab, "detail-exp", 1)

    # When the run is opened
    panel.locator(".jp-mlops-run-row").first.click()
    detail = panel.locator(f'.jp-mlops-detail[data-run-id="{run_id}"]')
    detail.wait_for(timeout=TIMEOUT)

    # Then the long tag key wraps onto several lines, each starting at a word of the key
    cell = detail.locator(f'.jp-mlops-kv th[title="{key}"]')
    lines = rendered_line_starts(cell)
    assert lines["text"] == key
    words = {0} | {i for i in range(1, len(key)) if key[i - 1] in "._/"}
    assert len(lines["starts"]) >= 2, "the key should need more than one line here"
    assert set(lines["starts"]) <= words, [key[i:] for i in lines["starts"]]
    cell.scroll_into_view_if_needed()
    shot("tag-key")

    # and the warning, the error line and the traceback read well in both themes (WCAG AA)
    detail.locator(".jp-mlops-traceback-details summary").click()
    boxes = {
        "warning": detail.locator(".jp-mlops-warning"),
        "error line": detail.locator(".jp-mlops-error-summary"),
        "traceback": detail.locator(".jp-mlops-traceback"),
    }
    assert "Metric 'f1' was never defined" in boxes["warning"].inner_text()
    assert "KeyError: 'label'" in boxes["traceback"].inner_text()
    detail.scroll_into_view_if_needed()
    ratios = {"light": {name: contrast(box) for name, box in boxes.items()}}
    shot("boxes-light")
    try:
        switch_theme(page, "JupyterLab Dark")
        ratios["dark"] = {name: contrast(box) for name, box in boxes.items()}
        shot("boxes-dark")
    finally:
        switch_theme(page, "JupyterLab Light")
    low = {(theme, name): round(r, 2) for theme, found in ratios.items()
           for name, r in found.items() if r < 4.5}  # fmt: skip
    assert not low, f"contrast below 4.5: {low} (all: {ratios})"
