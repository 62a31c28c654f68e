"""A report opened in headless Chromium with networking disabled renders every section.

The page is loaded from ``file://`` in an offline browser context; every request the page makes
is recorded, so a request for anything but the file itself (or its data: URIs) fails the test.
"""

from __future__ import annotations

import sys
from pathlib import Path

from click.testing import CliRunner

from kernel_magics.cli import cli

sys.path.insert(0, str(Path(__file__).parents[1] / "ui"))
from lab_server import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

SECTIONS = ("summary", "params", "metrics", "datasets", "environment", "code", "notebooks", "notes")


def test_report_renders_offline_in_chromium(two_runs, tmp_path):
    from playwright.sync_api import sync_playwright

    out = tmp_path / "report.html"
    result = CliRunner().invoke(cli, ["report", *two_runs, "-o", str(out)])
    assert result.exit_code == 0, result.output
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(offline=True, viewport={"width": 1200, "height": 900})
            page = context.new_page()
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(out.as_uri())
            page.wait_for_load_state("load")
            for section in SECTIONS:
                heading = page.locator(f"section#{section} h2")
                assert heading.is_visible(), section
            # the chart and the notebook's images decoded (an image that failed is 0 wide); the
            # markdown's external logo has no src left, so it loads nothing
            widths = page.eval_on_selector_all("img[src]", "els => els.map(e => e.naturalWidth)")
            assert len(widths) >= 3 and all(w > 0 for w in widths), widths
            assert page.locator("img:not([src])").count() == 2  # one per notebook version
            assert page.locator("section#summary .mlops-warning").first.is_visible()
            notebook = page.locator("details.mlops-notebook[open]")
            assert notebook.get_by_role("heading", name="Churn model").is_visible()
            assert notebook.get_by_text("LogisticRegression(C=0.1)").first.is_visible()
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert (tmp_path / "report.png").stat().st_size > 10_000
    assert [u for u in requests if not u.startswith(("file://", "data:"))] == []
