"""The model lifecycle in the side panel, in a real JupyterLab and headless Chromium.

A notebook registers two versions of a model; the Models view shows them; v1 is deployed
through the panel and turns healthy; predictions sent to the real model server move the
request count; promoting v2 through a failing gate shows the reasons, a passing gate moves the
alias and the deployment follows; Rollback serves v1 again. Then the notebook is scheduled from
the panel (a form from its parameters cell), run now, and its run opens from the schedule's
history; the deployment is stopped; and the journey ends comparing its three runs (the two
training runs and the scheduled one) in the Compare view.

The same journey runs twice, in the light and in the dark theme (chosen in the lab's settings
before it starts), each on its own lab and store. In both, the gate's reasons and the
deployment's status text must be readable (WCAG contrast >= 4.5). Screenshots go to
tests/ui/artifacts/, named after the test and its theme.
"""

from __future__ import annotations

import json
import re
import urllib.request

import pytest
from contrast import unreadable
from lab_server import LabServer
from panel_helpers import COMPARE_VIEW
from test_panel_journey import menu, wait_idle

pytestmark = [pytest.mark.ui, pytest.mark.slow, pytest.mark.timeout(1500)]

NOTEBOOK = "lifecycle_demo.ipynb"
PANEL_TAB = '.jp-SideBar .lm-TabBar-tab[data-id="jp-mlops-panel"]'
TIMEOUT = 60_000
SLOW = 180_000  # a model server start or a scheduled run on a busy 2-core machine
ENDED = ("finished", "failed", "crashed", "killed", "missed")
ROWS = [{"tenure": 0.5, "charges": -0.2}, {"tenure": -1.0, "charges": 0.3}]
THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}


@pytest.fixture
def lab(tmp_path_factory, theme):
    """A lab on a fresh store for one journey, its theme set as Settings → Theme would save it.

    (Function scope: the light and the dark journey each get their own models, deployments,
    schedules and runs. More time to start: this machine is shared and busy.)
    """
    server = LabServer(tmp_path_factory.mktemp(f"lab-{theme}"))
    themes = server.base / "user-settings" / "@jupyterlab" / "apputils-extension"
    themes.mkdir(parents=True)
    (themes / "themes.jupyterlab-settings").write_text(json.dumps({"theme": THEMES[theme]}))
    server.start(timeout=240)
    yield server
    server.stop()


@pytest.fixture
def lab_cleanup(lab):
    """Stop every model server the journey started, even when it fails half-way."""
    yield lab
    for dep in lab.api("deployments?live=true")["deployments"]:
        try:
            lab.send("POST", f"deployments/{dep['id']}/stop")
        except OSError:
            pass


def open_notebook(page, lab) -> None:
    page.goto(f"{lab.url}/lab/tree/{NOTEBOOK}?token={lab.token}&reset")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=TIMEOUT)
    try:  # JupyterLab may ask which kernel to start for a fresh session: take the default
        page.wait_for_selector(".jp-Dialog", timeout=20_000)
        page.locator(".jp-Dialog .jp-mod-accept").click()
    except Exception:
        pass
    page.wait_for_selector(".jp-Dialog", state="detached", timeout=TIMEOUT)
    page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=TIMEOUT)


def dialog(page):
    box = page.locator(".jp-Dialog")
    box.wait_for(timeout=TIMEOUT)
    return box


def accept(page, label: str) -> None:
    """Click the dialog's button named ``label`` and wait for the dialog to close."""
    box = dialog(page)
    handle = box.element_handle()
    box.get_by_role("button", name=label, exact=True).click()
    # (a dialog may open the next one at once: wait for this one to go, not for none)
    handle.wait_for_element_state("hidden", timeout=TIMEOUT)


def tab(page, name: str) -> None:
    page.locator(".jp-mlops-panel .jp-mlops-tab", has_text=re.compile(rf"^{name}")).click()


def open_version(page, version: int) -> None:
    panel = page.locator(".jp-mlops-panel")
    tab(page, "Models")
    back = panel.get_by_role("button", name="← churn")
    if back.count():
        back.click()
    if panel.get_by_role("button", name="← Models").count() == 0:
        panel.locator('.jp-mlops-model[data-model="churn"]').click()
    panel.locator(f'.jp-mlops-model-version[data-version="{version}"]').click()
    panel.locator(
        ".jp-mlops-version-detail .jp-mlops-detail-title", has_text=f"v{version}"
    ).wait_for(timeout=TIMEOUT)


def promote(page, conditions: str) -> None:
    page.locator(".jp-mlops-version-detail").get_by_role("button", name="Promote").click()
    box = dialog(page)
    box.get_by_label("To alias").fill("production")
    box.get_by_label("Conditions").fill(conditions)
    accept(page, "Promote")


def wait_progress_done(page) -> str:
    progress = page.locator(".jp-mlops-panel .jp-mlops-progress")
    progress.wait_for(timeout=TIMEOUT)
    page.wait_for_selector(
        '.jp-mlops-panel .jp-mlops-progress:not([data-phase="waiting"])', timeout=SLOW
    )
    text = progress.inner_text()
    assert progress.get_attribute("data-phase") == "done", text
    return text


def dismiss_progress(page) -> None:
    progress = page.locator(".jp-mlops-panel .jp-mlops-progress")
    if progress.count():
        progress.get_by_role("button", name="dismiss").click()


def health(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/health", timeout=10) as response:
        return json.loads(response.read())


def predict(url: str, rows: list[dict]) -> int:
    request = urllib.request.Request(
        f"{url}/invocations", method="POST",
        data=json.dumps({"dataframe_records": rows}).encode(),
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.parametrize("theme", list(THEMES))
def test_register_deploy_promote_rollback_schedule_compare(theme, page, lab_cleanup, shot):
    lab = lab_cleanup
    # Given a notebook that registers two versions of "churn", run in the lab, in the theme
    open_notebook(page, lab)
    body = page.locator("body")
    assert body.get_attribute("data-jp-theme-name") == THEMES[theme]
    assert body.get_attribute("data-jp-theme-light") == str(theme == "light").lower()
    menu(page, "Run", "Run All Cells")
    wait_idle(page)
    page.locator(PANEL_TAB).click()
    panel = page.locator(".jp-mlops-panel")
    panel.wait_for(state="visible", timeout=TIMEOUT)

    # When the Models view opens
    tab(page, "Models")
    item = panel.locator('.jp-mlops-model[data-model="churn"]')
    item.wait_for(timeout=TIMEOUT)
    # Then it lists the model with both versions, and the versions table shows them
    assert "2 versions" in item.inner_text()
    assert "latest v2" in item.inner_text()
    item.click()
    rows = panel.locator(".jp-mlops-model-version")
    rows.nth(1).wait_for(timeout=TIMEOUT)
    assert [r.get_attribute("data-version") for r in rows.all()] == ["2", "1"]
    assert "accuracy" in panel.locator(".jp-mlops-versions-table thead").inner_text()
    shot("models-versions")

    # When v1 gets the alias production (Set alias, confirmed)
    open_version(page, 1)
    detail = panel.locator(".jp-mlops-version-detail")
    assert "Lineage" in detail.inner_text() and "churn-train" in detail.inner_text()
    detail.get_by_role("button", name="Set alias").click()
    dialog(page).get_by_label("Alias").fill("production")
    accept(page, "Next")
    assert "churn@production is new" in dialog(page).inner_text()
    accept(page, "Set alias")
    detail.locator('.jp-mlops-chip-alias[data-alias="production"]').wait_for(timeout=TIMEOUT)
    shot("version-detail")

    # When v1 is deployed as churn@production (confirmed)
    detail.get_by_role("button", name="Deploy").click()
    box = dialog(page)
    assert box.get_by_label("Serve").input_value() == "churn@production"
    accept(page, "Next")
    assert "starts a model server for churn@production" in dialog(page).inner_text()
    accept(page, "Deploy")
    # Then the Deployments view shows the progress until the health check passes: a green dot
    assert "Starting churn@production" in panel.locator(".jp-mlops-progress").inner_text()
    done = wait_progress_done(page)
    assert "v1 is healthy" in done
    dot = panel.locator('.jp-mlops-deployment .jp-mlops-dot[data-health="healthy"]')
    dot.wait_for(timeout=TIMEOUT)
    # and the status line is readable in the theme
    assert not unreadable({"progress": panel.locator(".jp-mlops-progress")})
    shot("deployed-healthy")
    (dep,) = lab.api("deployments?live=true")["deployments"]
    url = dep["url"]
    assert health(url)["version"] == 1
    assert url in panel.locator(".jp-mlops-deployment").inner_text()
    # and its URL copies in one click, with a notification that says what was copied
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=lab.url)
    panel.locator(".jp-mlops-deployment").get_by_role("button", name="Copy URL").click()
    page.locator(".Toastify__toast", has_text=f"Copied {url}").wait_for(timeout=TIMEOUT)
    assert page.evaluate("() => navigator.clipboard.readText()") == url

    # When the test sends predictions (and two bad requests) to the real model server
    panel.locator(".jp-mlops-deployment").click()
    panel.locator(".jp-mlops-deployment-detail").wait_for(timeout=TIMEOUT)
    requests = panel.locator('[data-figure="requests"]')
    requests.wait_for(timeout=TIMEOUT)
    before = int(requests.inner_text())
    statuses = [predict(url, ROWS) for _ in range(40)] + [predict(url, [{"tenure": 1}])] * 2
    assert statuses.count(200) == 40 and statuses.count(400) == 2, statuses
    # Then the request count moves by itself, and the traffic charts draw
    page.wait_for_function(
        f"() => Number(document.querySelector('[data-figure=\"requests\"]').textContent) > {before}",
        timeout=TIMEOUT,
    )
    for chart in ("requests", "errors", "latency"):
        panel.locator(f'.jp-mlops-traffic[aria-label="{chart}"] canvas').wait_for(timeout=TIMEOUT)
    # (a refresh may land between the good and the bad requests: wait for the errors too)
    page.wait_for_function(
        "() => Number(document.querySelector('[data-figure=\"errors\"]').textContent) >= 1",
        timeout=TIMEOUT,
    )
    assert "v1" in panel.locator(".jp-mlops-serving").inner_text()
    status = panel.locator(".jp-mlops-deployment-detail .jp-mlops-kv tr", has_text="Status")
    assert "running" in status.inner_text()
    assert not unreadable({
        "title": panel.locator(".jp-mlops-deployment-detail .jp-mlops-detail-title"),
        "serving": panel.locator(".jp-mlops-serving"),
        "status": status.locator("td"),
    })  # fmt: skip
    assert "The log is empty." not in panel.locator(".jp-mlops-log").inner_text()
    shot("traffic")

    # When v2 is promoted through a gate it fails
    dismiss_progress(page)
    open_version(page, 2)
    promote(page, "metrics.accuracy >= 0.99")
    # Then the gate's table says which check failed and why; the alias did not move
    box = dialog(page)
    assert "Not promoted" in box.inner_text()
    failed = box.locator('.jp-mlops-gate tr[data-passed="false"]')
    assert failed.count() == 1
    assert "metrics.accuracy >= 0.99" in failed.inner_text()
    assert "FAIL" in failed.inner_text()
    # and the reasons are readable in the theme (the summary and every cell of the failed check)
    cells = failed.locator("td")
    names = ["check", "candidate", "reference", "result", "why"]
    assert cells.count() == len(names)
    boxes = {name: cells.nth(i) for i, name in enumerate(names)}
    boxes["summary"] = box.locator(".jp-mlops-gate-result p")
    assert not unreadable(boxes)
    shot("gate-failed")
    accept(page, "Close")
    assert lab.api("models/churn")["aliases"] == {"production": 1}

    # When it is promoted through a gate it passes, and the deployment is redeployed
    promote(page, "metrics.accuracy >= 0.5")
    box = dialog(page)
    assert "Promoted churn v2 to production" in box.inner_text()
    passed = box.locator('.jp-mlops-gate tr[data-passed="true"]')
    assert passed.count() == 1
    # and its PASS reads in the theme too
    assert not unreadable({"result": passed.locator("td.jp-mlops-gate-pass")})
    shot("gate-passed")
    accept(page, "Close")
    assert "Redeploy churn@production?" in dialog(page).inner_text()
    accept(page, "Redeploy")
    # Then the same URL serves v2
    assert "v2 is healthy" in wait_progress_done(page)
    assert health(url)["version"] == 2

    # When the deployment is rolled back (confirmed)
    dismiss_progress(page)
    tab(page, "Deployments")
    back = panel.get_by_role("button", name="← Deployments")
    if back.count():
        back.click()
    panel.locator(".jp-mlops-deployment").first.click()
    panel.locator(".jp-mlops-deployment-detail").get_by_role("button", name="Rollback").click()
    assert "Roll back churn@production?" in dialog(page).inner_text()
    accept(page, "Rollback")
    # Then the deployment serves v1 again, on the same URL
    assert "v1 is healthy" in wait_progress_done(page)
    assert health(url)["version"] == 1
    assert lab.api("models/churn")["aliases"] == {"production": 1}
    shot("rolled-back")

    # When the notebook is scheduled from the panel
    dismiss_progress(page)
    tab(page, "Schedules")
    panel.get_by_role("button", name="Schedule this notebook").click()
    box = dialog(page)
    # Then the form has one typed field per parameter, defaults filled in
    assert box.get_by_label("parameter C").input_value() == "1"
    assert box.get_by_label("parameter rows").input_value() == "300"
    assert box.get_by_label("parameter register").is_checked()
    box.get_by_label("Name").fill("nightly-churn")
    box.get_by_label("Cron").fill("0 3 * * *")
    box.get_by_label("parameter register").uncheck()  # the scheduled run registers nothing
    shot("schedule-form")
    accept(page, "Create schedule")
    title = panel.locator(".jp-mlops-schedule-detail .jp-mlops-detail-title")
    title.wait_for(timeout=TIMEOUT)
    assert title.inner_text() == "nightly-churn"
    assert "register=false" in panel.locator(".jp-mlops-schedule-detail").inner_text()

    # When it runs now (confirmed)
    panel.get_by_role("button", name="Run now").click()
    accept(page, "Run now")
    # Then its slot shows in the history and ends finished, with its run
    ended = ", ".join(f'.jp-mlops-slot[data-status="{s}"]' for s in ENDED)
    page.wait_for_selector(ended, timeout=SLOW)
    slot = panel.locator(".jp-mlops-slot").first
    assert slot.get_attribute("data-status") == "finished", slot.inner_text()
    run_link = slot.locator(".jp-mlops-link").first
    run_prefix = run_link.inner_text()
    shot("schedule-history")
    # and the history row opens the executed notebook: papermill's injected parameters, run
    slot.get_by_role("button", name="notebook").click()
    current = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current")
    current.filter(has_text=f"output-{run_prefix}").wait_for(timeout=TIMEOUT)
    executed = page.locator(".jp-NotebookPanel:visible")
    injected = executed.locator(".jp-CodeCell", has_text="# Parameters")
    injected.wait_for(timeout=TIMEOUT)
    assert "register = False" in injected.inner_text()
    prompts = executed.locator(".jp-InputPrompt").all_inner_texts()
    assert "[1]:" in [p.strip() for p in prompts], prompts
    shot("schedule-output-notebook")
    # and the history row opens the run in the Runs view
    run_link.click()
    run_detail = panel.locator(".jp-mlops-detail", has_text="Parameters")
    run_detail.wait_for(timeout=TIMEOUT)
    assert "register" in run_detail.inner_text()
    panel.get_by_role("button", name="← Runs").click()
    panel.get_by_label("Runs to show").select_option("all")
    # (a scheduled run is named after its schedule and slot)
    panel.locator(".jp-mlops-run-row", has_text="nightly-churn").wait_for(timeout=TIMEOUT)
    shot("schedule-run-in-table")
    runs = lab.api("runs")["runs"]
    scheduled = [r for r in runs if r["source"] == "schedule"]
    assert len(scheduled) == 1 and scheduled[0]["id"].startswith(run_prefix)
    assert scheduled[0]["params"]["register"] == "False"
    assert lab.api("models/churn")["version_count"] == 2  # register=False did register nothing

    # When the deployment is stopped from the panel (confirmed)
    tab(page, "Deployments")
    back = panel.get_by_role("button", name="← Deployments")
    if back.count():
        back.click()
    panel.locator(".jp-mlops-deployment").first.click()
    panel.locator(".jp-mlops-deployment-detail").get_by_role("button", name="Stop").click()
    accept(page, "Stop")
    # Then nothing serves any more
    page.wait_for_function(
        "() => !document.querySelector('.jp-mlops-deployment-detail .jp-mlops-actions button:not([disabled])')",
        timeout=TIMEOUT,
    )
    assert lab.api("deployments?live=true")["total"] == 0
    shot("stopped")

    # When the journey's three runs (two trainings, one scheduled) are ticked and compared
    ids = [r["id"] for r in sorted(lab.api("runs")["runs"], key=lambda r: r["start_time"])]
    assert len(ids) == 3, ids
    tab(page, "Runs")
    panel.get_by_label("Runs to show").select_option("all")
    compare = panel.locator(".jp-mlops-compare-button")
    for run_id in ids:
        row = panel.locator(f'.jp-mlops-run-row[data-run-id="{run_id}"]')
        row.locator("input[type=checkbox]").check()
    assert compare.inner_text() == "Compare (3)"
    shot("runs-ticked")
    compare.click()
    view = page.locator(COMPARE_VIEW)
    view.wait_for(timeout=TIMEOUT)
    # Then a main-area tab compares them, the oldest first
    assert page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text="Compare 3 runs").count()
    assert view.get_attribute("data-run-ids") == ",".join(ids)
    # params side by side, one column per run, the differing ones first
    params = view.locator('table[aria-label="param"] tbody tr')
    params.first.wait_for(timeout=TIMEOUT)
    # (the scheduled run also has the notebook's parameters cell; C is the same in all three)
    assert [r.get_attribute("data-key") for r in params.all()] == ["register", "rows", "C"]
    differs = ["jp-mlops-differs" in (r.get_attribute("class") or "") for r in params.all()]
    assert differs == [True, True, False]
    assert params.first.locator("td").all_inner_texts() == ["–", "–", "False"]
    assert params.last.locator("td").all_inner_texts() == ["1.0", "1.0", "1.0"]
    assert not unreadable({
        "differing param": params.first.locator("th"),
        "differing value": params.first.locator("td").last,
    })  # fmt: skip
    # one chart per metric every run logged, a series (legend entry, colour) per run
    charts = view.locator(".jp-mlops-compare-chart")
    charts.first.locator("canvas").wait_for(timeout=TIMEOUT)
    metrics = [c.get_attribute("data-metric") for c in charts.all()]
    assert "accuracy" in metrics, metrics
    for chart in charts.all():
        chart.locator("canvas").wait_for(timeout=TIMEOUT)
        assert chart.locator(".u-legend .u-series").count() == 4  # the x axis and 3 runs
        colours = chart.locator(".u-legend .u-series .u-marker").evaluate_all(
            "els => els.slice(1).map(e => getComputedStyle(e).borderColor)"
        )
        assert len(set(colours)) == 3, colours
    shot("compare")
