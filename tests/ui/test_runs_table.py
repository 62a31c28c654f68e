"""The runs table with 10,000 runs: pages, filter, sort and a bad filter, in a real browser."""

from __future__ import annotations

import random
import time

import pytest
from panel_helpers import PANEL_TAB, show_runs

pytestmark = [pytest.mark.ui, pytest.mark.slow]

N_RUNS = 10_000
TIMEOUT = 60_000


@pytest.fixture(scope="module")
def seeded(lab):
    """10,000 finished runs in one experiment, written through core into the lab's store."""
    from kernel_magics.core.config import resolve_location
    from kernel_magics.core.store import open_store

    store = open_store(resolve_location(environ={"MLOPS_HOME": str(lab.home)}))
    rng = random.Random(1)
    exp = store.experiments.get_or_create("big")
    points, base = [], time.time() - N_RUNS
    for i in range(N_RUNS):
        params = {"C": rng.choice([0.1, 1, 10])}
        run_id = store.runs.create(
            exp, name=f"run-{i:05d}", source="sweep", params=params, start_time=base + i
        )
        points.append((run_id, "acc", 0, base + i, round(rng.random(), 4)))
        store.runs.finish(run_id, "finished")
    with store.db.write() as conn:
        store.runs.write_metrics(conn, points)
    return max(p[4] for p in points)


def rows(panel):
    return panel.locator(".jp-mlops-run-row")


def first_name(panel) -> str:
    return rows(panel).first.locator(".jp-mlops-run-name").inner_text()


def wait_until(page, condition: str, what: str) -> None:
    """Wait for a JavaScript condition; on a timeout, fail with what the panel showed instead."""
    try:
        page.wait_for_function(condition, timeout=TIMEOUT)
    except Exception as error:  # Playwright's TimeoutError
        shown = page.evaluate(
            """() => ({
                count: document.querySelector('.jp-mlops-count')?.textContent,
                first: document.querySelector('.jp-mlops-run-row .jp-mlops-run-name')?.textContent,
                number: document.querySelector('.jp-mlops-run-row td.jp-mlops-number')?.textContent,
                sorted: document.querySelector('th.jp-mlops-sorted')?.textContent,
                error: document.querySelector('.jp-mlops-error')?.textContent,
            })"""
        )
        raise AssertionError(
            f"waited {TIMEOUT / 1000:.0f} s for {what}; the panel showed {shown}"
        ) from error


def test_ten_thousand_runs_page_filter_and_sort(page, lab, seeded, shot):
    # Given the lab with no notebook open and the panel shown
    page.goto(f"{lab.url}/lab?token={lab.token}&reset")
    page.locator(PANEL_TAB).click()
    panel = page.locator(".jp-mlops-panel")
    rows(panel).first.wait_for(timeout=TIMEOUT)
    # Then it lists all runs, newest first, one page of 50 in the DOM
    assert panel.locator(".jp-mlops-count").inner_text() == f"1–50 of {N_RUNS:,}".replace(",", "")
    assert rows(panel).count() == 50
    assert first_name(panel) == f"run-{N_RUNS - 1:05d}"
    shot("first-page")

    # When the next page is asked for
    panel.get_by_role("button", name="Next page").click()
    wait_until(
        page,
        "() => document.querySelector('.jp-mlops-run-row .jp-mlops-run-name')?.textContent"
        f" === 'run-{N_RUNS - 51:05d}'",
        "the second page",
    )
    # Then it shows runs 51 to 100 (how fast is benchmarks/bench_panel_api.py's business)
    assert panel.locator(".jp-mlops-count").inner_text().startswith("51–100")

    # When a filter is typed
    box = panel.get_by_role("searchbox", name="Filter runs")
    box.fill("metrics.acc > 0.99 and params.C = '10'")
    box.press("Enter")
    wait_until(
        page,
        f"() => !document.querySelector('.jp-mlops-count')?.textContent?.endsWith('of {N_RUNS}')",
        "the filtered count",
    )
    # Then only matching runs remain, from the first page
    count = panel.locator(".jp-mlops-count").inner_text()
    total = int(count.split(" of ")[1])
    assert 0 < total < 100
    for value in panel.locator(".jp-mlops-run-row td.jp-mlops-number").all_inner_texts():
        assert float(value) > 0.99
    shot("filtered")

    # When the filter is cleared and the table sorted by acc (descending)
    box.fill("")
    box.press("Enter")
    wait_until(
        page,
        f"() => document.querySelector('.jp-mlops-count')?.textContent?.endsWith('of {N_RUNS}')",
        "every run again",
    )
    panel.locator("button.jp-mlops-sort[title='Sort by acc']").click()
    panel.locator("th.jp-mlops-sorted", has_text="acc").wait_for(timeout=TIMEOUT)
    wait_until(
        page,
        f"() => document.querySelector('.jp-mlops-run-row td.jp-mlops-number')?.textContent"
        f" === '{seeded}'",
        f"the best acc ({seeded}) first",
    )
    shot("sorted")

    # When a filter has a mistake
    box.fill("metrics.acc >> 1")
    box.press("Enter")
    # Then the server's message, with the position, shows in the panel
    error = panel.locator(".jp-mlops-error")
    error.wait_for(timeout=TIMEOUT)
    assert "position" in error.inner_text()
    shot("bad-filter")


def test_an_automation_run_lists_its_steps_and_each_step_its_parent(page, lab, shot):
    """An automation's execution is a parent run with a child per step (issue 15)."""
    from kernel_magics.core.config import resolve_location
    from kernel_magics.core.store import open_store

    # Given an execution whose train step finished and whose test step failed (the chain
    # stopped there), as `mlops automation run nightly` records it
    store = open_store(resolve_location(environ={"MLOPS_HOME": str(lab.home)}))
    exp = store.experiments.get_or_create("automations")
    started = time.time() - 60
    parent = store.runs.create(
        exp, name="automation nightly", source="automation", start_time=started
    )
    train = store.runs.create(exp, name="1. run_notebook", source="automation",
                              parent_run_id=parent, start_time=started + 1)  # fmt: skip
    store.runs.finish(train, "finished")
    test = store.runs.create(exp, name="2. test", source="automation",
                             parent_run_id=parent, start_time=started + 30)  # fmt: skip
    reason = "ModelTestsFailed: accuracy 0.61 < 0.85 on holdout@3"
    store.runs.finish(test, "failed", error=f"Traceback (most recent call last):\n{reason}")
    store.runs.finish(parent, "failed", error=f"Step 2 (test) failed: {reason}")
    store.close()

    # When the panel lists the automation's runs and the execution is opened
    panel = show_runs(page, lab, "name = 'automation nightly'", 1)
    rows(panel).first.click()
    steps = panel.locator(".jp-mlops-child-run")
    steps.nth(1).wait_for(timeout=TIMEOUT)

    # Then its steps show in the order they ran, the failed one with its reason
    assert "Child runs (2)" in panel.locator(".jp-mlops-child-runs h4").inner_text()
    shown = [(s.locator(".jp-mlops-status").inner_text(), s.locator("button").inner_text())
             for s in steps.all()]  # fmt: skip
    assert shown == [("finished", "1. run_notebook"), ("failed", "2. test")]
    assert steps.nth(1).locator(".jp-mlops-row-error").inner_text() == reason
    shot("automation-steps")

    # When the failed step is opened
    steps.nth(1).get_by_role("button", name="2. test").click()
    panel.locator(f'.jp-mlops-detail[data-run-id="{test}"]').wait_for(timeout=TIMEOUT)
    # Then it says which execution it is part of, and leads back to it
    part_of = panel.locator(".jp-mlops-run-parent")
    part_of.wait_for(timeout=TIMEOUT)
    assert " ".join(part_of.inner_text().split()) == "Part of failed automation nightly"
    assert panel.locator(".jp-mlops-child-runs").count() == 0  # a step has no children
    shot("step-part-of")
    part_of.get_by_role("button", name="automation nightly").click()
    panel.locator(f'.jp-mlops-detail[data-run-id="{parent}"]').wait_for(timeout=TIMEOUT)
