"""Steps the browser tests share: the panel opened on the runs that match a filter."""

from __future__ import annotations

import re

PANEL_TAB = '.jp-SideBar .lm-TabBar-tab[data-id="jp-mlops-panel"]'
#: A Compare tab once its comparison has loaded (while loading it says so, without run ids).
COMPARE_VIEW = ".jp-mlops-compare-widget .jp-mlops-compare[data-run-ids]"
TIMEOUT = 60_000


def show_runs(page, lab, expression: str, count: int):
    """Open the lab afresh, show the panel, filter its runs and wait for ``count`` of them.

    Returns the panel's locator. The lab's workspace is restored first (the Launcher shows),
    so nothing JupyterLab activates afterwards takes the focus from what the test does next.
    """
    page.goto(f"{lab.url}/lab?token={lab.token}&reset")
    page.locator(".jp-Launcher").wait_for(timeout=TIMEOUT)
    page.locator(PANEL_TAB).click()
    panel = page.locator(".jp-mlops-panel")
    box = panel.get_by_role("searchbox", name="Filter runs")
    box.fill(expression)
    box.press("Enter")
    total = re.compile(rf"of {count}$")
    panel.locator(".jp-mlops-count", has_text=total).wait_for(timeout=TIMEOUT)
    return panel
