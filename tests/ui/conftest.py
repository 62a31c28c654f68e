"""Browser fixtures: a real JupyterLab and headless Chromium driven by Python Playwright."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from lab_server import CHROMIUM, CHROMIUM_ARGS, LabServer  # noqa: E402

ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A running ``jupyter lab`` with the panel, on a fresh store."""
    server = LabServer(tmp_path_factory.mktemp("lab")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium from the system (Playwright cannot download browsers here)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, lab):
    """A fresh browser page on the lab."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def shot(page, request):
    """Save a named screenshot of the current step to tests/ui/artifacts/ (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    counter = iter(range(1, 100))

    def take(name: str, *, mask: list | None = None) -> Path:
        path = ARTIFACTS / f"{request.node.name}-{next(counter):02d}-{name}.png"
        page.screenshot(path=str(path), mask=mask or [])
        return path

    return take


@pytest.fixture(autouse=True)
def jp_asyncio_loop():
    """Replace pytest-jupyter's autouse loop fixture here.

    Playwright's sync API runs its own event loop in this thread; pytest-jupyter's fixture would
    pick that loop up as "the current loop" and close it after each test.
    """
    yield None


@pytest.fixture(autouse=True)
def jp_server_cleanup():
    """No Jupyter server runs in-process here (the lab is a subprocess); nothing to clean."""
    yield None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep a screenshot of the page when a browser test fails."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed and "page" in item.fixturenames:
        page = item.funcargs.get("page")
        if page is not None:
            ARTIFACTS.mkdir(exist_ok=True)
            try:
                page.screenshot(path=str(ARTIFACTS / f"{item.name}-FAILED.png"))
            except Exception:  # the page may be gone; the report matters more
                pass
