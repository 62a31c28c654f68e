"""Share and trace a model in the side panel, in a real JupyterLab and headless Chromium.

A data scientist trains ``churn`` from a notebook (``mlops run``, which records the notebook
version and the ``train`` dataset it read), retrains it from a script, and points
``churn@production`` at v1 from the terminal. In the panel: v1's lineage graph shows
dataset → notebook → run → model version → alias; its model card is edited, saved, survives a
page reload and is carried by ``mlops models card``; notes go on the run and the version and show
their author and time; moving the alias from the panel shows in the version's History with the
Jupyter user next to the CLI's OS user; the new sections stay readable in the dark theme.
The lab names its browser user ``ada``, as JupyterHub would. One lab start for all of it;
screenshots go to tests/ui/artifacts/.
"""

from __future__ import annotations

import getpass
import json
import re
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import nbformat
import pytest
from lab_server import LabServer
from test_lifecycle_journey import accept, dialog, open_version, tab
from test_panel_journey import menu

pytestmark = [pytest.mark.ui, pytest.mark.slow, pytest.mark.timeout(600)]

PANEL_TAB = '.jp-SideBar .lm-TabBar-tab[data-id="jp-mlops-panel"]'
NOTEBOOK = "train_churn.ipynb"
TIMEOUT = 60_000
BIN = Path(sys.executable).parent
DESCRIPTION = "Logistic regression on tenure and charges."
INTENDED = "Rank customers for the retention team's weekly calls."
LIMITS = "Trained on 200 synthetic rows; not checked on customers under 18."
RUN_NOTE = "Reviewed by Ada: the dataset is the March extract."
VERSION_NOTE = "Chosen for production after the A/B call."

TRAIN = """\
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

import kernel_magics as mlops

rng = np.random.default_rng(0)
train = pd.DataFrame({"tenure": rng.normal(size=200), "charges": rng.normal(size=200)})
train["churned"] = (train.tenure - train.charges > 0).astype(int)
"""

FIT = """\
mlops.log_dataset(train, name="train")
X, y = train[["tenure", "charges"]], train["churned"]
model = LogisticRegression(C=C).fit(X, y)
mlops.log_metric("accuracy", model.score(X, y))
mlops.log_model(model, "churn", input_example=X.head(5))
"""

RETRAIN = (
    TRAIN
    + 'C = 0.1\nwith mlops.start_run("churn", name="retrain"):\n'
    + textwrap.indent(FIT, "    ")
)


def write_notebook(path: Path) -> None:
    """The user's training notebook: a parameters cell, then load, log and fit."""
    cells = [
        nbformat.v4.new_markdown_cell("# Churn model"),
        nbformat.v4.new_code_cell("C = 1.0", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(TRAIN + FIT),
    ]
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": kernel}), path)


#: The lab names its users the way JupyterHub or a team's identity provider does (the stock
#: token login only knows an anonymous browser, whose changes are signed by the OS user).
IDENTITY = """\
from jupyter_server.auth.identity import IdentityProvider, User


class TeamIdentityProvider(IdentityProvider):
    def generate_anonymous_user(self, handler):
        return User("ada", "Ada Lovelace", "Ada Lovelace", "AL", None, None)


c.ServerApp.identity_provider_class = TeamIdentityProvider
"""
JUPYTER_USER = "ada"


def cli(lab: LabServer, *args: str) -> str:
    """Run the ``mlops`` CLI on the lab's store, as the OS user at a terminal would."""
    done = subprocess.run(
        [str(BIN / "mlops"), *args], env=lab.env, cwd=lab.root,
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A lab whose store holds churn v1 (from the notebook), v2 (from a script), and churn@production -> v1.

    The notebook runs while the lab starts (the machine is shared: keep the wall time down).
    """
    server = LabServer(tmp_path_factory.mktemp("lab"))
    (server.base / "config").mkdir()
    (server.base / "config" / "jupyter_server_config.py").write_text(IDENTITY)
    failure: list[BaseException] = []

    def start() -> None:
        try:
            server.start(timeout=240)
        except BaseException as error:  # re-raised in the test's thread
            failure.append(error)

    starting = threading.Thread(target=start)
    starting.start()
    try:
        while not server.root.exists() or not hasattr(server, "env"):
            starting.join(0.1)  # the root and env exist once start() has prepared them
            if failure:
                raise failure[0]
        write_notebook(server.root / NOTEBOOK)
        cli(server, "run", NOTEBOOK, "-e", "churn", "--no-progress")
        (server.root / "retrain.py").write_text(RETRAIN)
        done = subprocess.run(
            [sys.executable, "retrain.py"], env=server.env, cwd=server.root,
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        cli(server, "models", "alias", "churn", "production", "1")
        starting.join()
        if failure:
            raise failure[0]
        yield server
    finally:
        starting.join()
        server.stop()  # (also when the seeding failed: never leave a lab behind)


def show_panel(page) -> None:
    """Show the MLOps panel (a reloaded lab may have restored it open: a click would hide it)."""
    page.locator(PANEL_TAB).wait_for(timeout=TIMEOUT)
    if not page.locator(".jp-mlops-panel").is_visible():
        page.locator(PANEL_TAB).click()
    page.locator(".jp-mlops-panel").wait_for(state="visible", timeout=TIMEOUT)


def open_panel(page, lab) -> None:
    page.goto(f"{lab.url}/lab?token={lab.token}&reset")
    show_panel(page)


def jupyter_user(page) -> str:
    """The name the lab signed this browser in as (what the server records as the actor)."""
    identity = page.evaluate(
        """async () => {
          const xsrf = document.cookie.match(/_xsrf=([^;]+)/)?.[1] ?? '';
          const r = await fetch('/api/me', {headers: {'X-XSRFToken': xsrf}});
          return (await r.json()).identity;
        }"""
    )
    return identity["username"]


# The WCAG 2 contrast ratio of an element's text against the first opaque background behind it.
CONTRAST = """e => {
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  let node = e, bg = null;
  while (node && node.nodeType === 1) {
    const c = rgb(getComputedStyle(node).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] > 0.9)) { bg = c; break; }
    node = node.parentElement;
  }
  const fg = rgb(getComputedStyle(e).color);
  const [a, b] = [lum(fg), lum(bg || [255, 255, 255])].sort((x, y) => y - x);
  return {ratio: (a + 0.05) / (b + 0.05), background: lum(bg || [255, 255, 255])};
}"""


def test_lineage_card_notes_history_in_the_panel(page, lab, shot):
    # Given the store the fixture made, and the panel open on the Models view
    open_panel(page, lab)
    panel = page.locator(".jp-mlops-panel")
    tab(page, "Models")
    panel.locator('.jp-mlops-model[data-model="churn"]').wait_for(timeout=TIMEOUT)

    # When v1 (trained by the notebook) is opened
    open_version(page, 1)
    detail = panel.locator(".jp-mlops-version-detail")
    graph = detail.locator(".jp-mlops-lineage-graph")
    graph.wait_for(timeout=TIMEOUT)
    graph.scroll_into_view_if_needed()
    # Then its lineage graph shows what it came from and what points at it, one column per kind
    headings = graph.locator(".jp-mlops-lineage-heading").all_inner_texts()
    assert [h.lower() for h in headings] == [
        "datasets", "notebooks", "runs", "model versions", "aliases",
    ]  # fmt: skip
    labels = {
        kind: graph.locator(f".jp-mlops-lineage-{kind} .jp-mlops-lineage-label").all_inner_texts()
        for kind in ("dataset", "notebook", "run", "model", "alias")
    }
    (run,) = [r for r in lab.api("runs?experiment=churn")["runs"] if r["name"] != "retrain"]
    assert labels["dataset"] == ["train@1"]
    assert labels["notebook"] == [NOTEBOOK]
    assert labels["run"] == [f"{run['id'][:8]} {run['name']}"]
    assert "churn/1" in labels["model"]
    assert labels["alias"] == ["churn@production"]
    assert "200 rows" in graph.locator(".jp-mlops-lineage-dataset").inner_text()
    # (and each label fits its box: none ends in …)
    clipped = graph.locator(".jp-mlops-lineage-label").evaluate_all(
        "labels => labels.filter(l => l.scrollWidth > l.clientWidth).map(l => l.textContent)"
    )
    assert clipped == [], clipped
    root = graph.locator(".jp-mlops-lineage-root")
    assert root.locator(".jp-mlops-lineage-label").inner_text() == "churn/1"
    # (each link is drawn, and every box is in sight: the narrow side panel stacks the layers)
    assert graph.locator("path.jp-mlops-lineage-link").count() >= 4
    assert graph.get_attribute("data-direction") == "down"
    frame = graph.bounding_box()
    for box in graph.locator(".jp-mlops-lineage-node").all():
        assert box.bounding_box()["x"] + box.bounding_box()["width"] <= frame["x"] + frame["width"]
    shot("lineage-graph")

    # When the model card's intended use and limitations are edited and saved
    card = detail.locator(".jp-mlops-card")
    card.scroll_into_view_if_needed()
    intended = card.get_by_label("Intended use")
    page.wait_for_function(
        "() => !document.querySelector('.jp-mlops-card textarea[disabled]')", timeout=TIMEOUT
    )
    card.get_by_label("Description").fill(DESCRIPTION)
    intended.fill(INTENDED)
    card.get_by_label("Known limitations").fill(LIMITS)
    card.get_by_role("button", name="Save card").click()
    page.wait_for_function(
        "() => document.querySelector('.jp-mlops-save-card')?.disabled === true", timeout=TIMEOUT
    )
    assert not card.locator(".jp-mlops-error").count()
    # (the card's description is the version's own: the detail above shows it at once)
    described = detail.locator("tr", has=page.locator("th", has_text="Description"))
    described.filter(has_text=DESCRIPTION).wait_for(timeout=TIMEOUT)
    # (the importance is not made yet: the section says when it will be)
    assert "computed the first time the whole card is made" in card.inner_text()
    shot("card-saved")
    # Then the card the CLI writes carries the edits (and makes the whole card, importance too)
    cli(lab, "models", "card", "churn/1", "-o", "card.md")
    markdown = (lab.root / "card.md").read_text()
    assert INTENDED in markdown and LIMITS in markdown and DESCRIPTION in markdown
    # and after a page reload the panel's card still says so, and what drives the predictions
    page.reload()
    show_panel(page)
    open_version(page, 1)
    card = panel.locator(".jp-mlops-version-detail .jp-mlops-card")
    page.wait_for_function(
        "() => document.querySelector('.jp-mlops-card textarea[aria-label=\"Intended use\"]')"
        f"?.value === {json.dumps(INTENDED)}",
        timeout=TIMEOUT,
    )
    assert card.get_by_label("Known limitations").input_value() == LIMITS
    importance = card.locator(".jp-mlops-card-importance")
    importance.wait_for(timeout=TIMEOUT)
    assert sorted(importance.locator("th").all_inner_texts()) == ["charges", "tenure"]
    # and the panel links the rendered card, which opens, edits included, in a tab of its own
    href = card.locator(".jp-mlops-open-card").get_attribute("href")
    assert href and "/mlops/api/models/churn/versions/1/card/html" in href
    with page.context.expect_page() as opened:
        card.locator(".jp-mlops-open-card").click()
    rendered = opened.value
    rendered.wait_for_load_state()
    assert "churn" in rendered.title()
    assert INTENDED in rendered.inner_text("body") and LIMITS in rendered.inner_text("body")
    rendered.close()

    # When a note is added on the version
    user = jupyter_user(page)
    assert user == JUPYTER_USER
    notes = panel.locator(".jp-mlops-version-detail .jp-mlops-notes")
    notes.scroll_into_view_if_needed()
    notes.get_by_label("new note").fill(VERSION_NOTE)
    notes.get_by_role("button", name="Add note").click()
    item = notes.locator(".jp-mlops-note-item", has_text=VERSION_NOTE)
    item.wait_for(timeout=TIMEOUT)
    # Then it shows with its author and when
    assert re.search(rf"{re.escape(user)} · (just now|\d+ s ago|now)", item.inner_text()), (
        item.inner_text()
    )
    # and the CLI lists it
    listed = json.loads(cli(lab, "note", "churn/1", "--json"))
    assert [(n["text"], n["author"]) for n in listed] == [(VERSION_NOTE, user)]

    # When the run is opened from its lineage box and a note added there
    graph = panel.locator(".jp-mlops-version-detail .jp-mlops-lineage-graph")
    graph.locator("button.jp-mlops-lineage-run").click()
    run_notes = panel.locator(".jp-mlops-detail .jp-mlops-notes")
    run_notes.wait_for(timeout=TIMEOUT)
    run_notes.scroll_into_view_if_needed()
    run_notes.get_by_label("new note").fill(RUN_NOTE)
    run_notes.get_by_role("button", name="Add note").click()
    run_item = run_notes.locator(".jp-mlops-note-item", has_text=RUN_NOTE)
    run_item.wait_for(timeout=TIMEOUT)
    assert user in run_item.inner_text()
    shot("run-note")
    # Then the API lists it under the run, signed by the Jupyter user
    listed = lab.api(f"notes?kind=run&target={run['id']}")["notes"]
    assert [(n["text"], n["author"]) for n in listed] == [(RUN_NOTE, user)]

    # When churn@production moves to v2 from the panel
    open_version(page, 2)
    detail = panel.locator(".jp-mlops-version-detail")
    detail.get_by_role("button", name="Set alias").click()
    dialog(page).get_by_label("Alias").fill("production")
    dialog(page).get_by_label("Reason").fill("won the A/B test")
    accept(page, "Next")
    assert "churn@production points at v1 now" in dialog(page).inner_text()
    accept(page, "Set alias")
    detail.locator('.jp-mlops-chip-alias[data-alias="production"]').wait_for(timeout=TIMEOUT)
    # Then v1's History shows both changes: who (the OS user at the CLI, the Jupyter user in the
    # panel) and when
    open_version(page, 1)
    history = panel.locator(".jp-mlops-version-detail .jp-mlops-history")
    history.locator("li", has_text="moved").wait_for(timeout=TIMEOUT)
    lines = history.locator("li").all_inner_texts()
    moved = [t for t in lines if "moved churn@production" in t]
    expected = f"{user} moved churn@production v1 → v2 (won the A/B test)"
    assert len(moved) == 1 and moved[0].startswith(expected), lines
    assert re.search(r"(just now|\d+ s ago|now)$", moved[0]), moved[0]
    cli_user = getpass.getuser()
    assert any(t.startswith(f"{cli_user} set churn@production to v1") for t in lines), lines
    history.scroll_into_view_if_needed()
    shot("history")
    # and `mlops audit` agrees
    audit = json.loads(cli(lab, "audit", "--target", "churn", "--json"))
    actors = {(e["action"], e["actor"]) for e in audit if e["kind"] == "alias"}
    assert actors >= {("set", cli_user), ("move", user)}, audit

    # When a colleague moves it back at a terminal while v1's detail is open
    cli(lab, "models", "alias", "churn", "production", "1")
    # Then v1's History shows it by itself (no reload, no click), signed by the OS user
    back = history.locator("li", has_text=f"{cli_user} moved churn@production v2 → v1")
    back.wait_for(timeout=TIMEOUT)
    detail = panel.locator(".jp-mlops-version-detail")
    detail.locator('.jp-mlops-chip-alias[data-alias="production"]').wait_for(timeout=TIMEOUT)
    # and the model's alias history names the same people, move by move
    panel.get_by_role("button", name="← churn").click()
    moves = panel.locator(".jp-mlops-alias-history li")
    moves.filter(has_text="v2 → v1").wait_for(timeout=TIMEOUT)
    said = [" ".join(t.split()) for t in moves.all_inner_texts()]
    production = [t.split(" · ")[0] for t in said if t.startswith("production:")]
    assert production == [  # newest first
        f"production: v2 → v1 (set by hand) by {cli_user}",
        f"production: v1 → v2 (won the A/B test) by {user}",
        f"production: unset → v1 (set by hand) by {cli_user}",
    ], said
    shot("alias-history")
    open_version(page, 1)

    # When the theme switches to dark
    menu(page, "Settings", "Theme", "JupyterLab Dark")
    page.wait_for_selector('body[data-jp-theme-light="false"]', state="attached", timeout=TIMEOUT)
    page.wait_for_timeout(500)
    detail = panel.locator(".jp-mlops-version-detail")
    # Then every new section's text is readable on a dark background
    for selector in (
        ".jp-mlops-lineage-node .jp-mlops-lineage-label",
        ".jp-mlops-lineage-detail",
        ".jp-mlops-lineage-heading",
        ".jp-mlops-card-input",
        ".jp-mlops-card .jp-mlops-muted",
        ".jp-mlops-note",
        ".jp-mlops-note-item .jp-mlops-muted",
        ".jp-mlops-note-input",
        ".jp-mlops-history li",
    ):
        element = detail.locator(selector).first
        seen = element.evaluate(CONTRAST)
        assert seen["background"] < 0.2, (selector, seen)
        assert seen["ratio"] >= 4.5, (selector, seen)
    detail.locator(".jp-mlops-lineage-graph").scroll_into_view_if_needed()
    shot("dark-lineage")
    detail.locator(".jp-mlops-notes").scroll_into_view_if_needed()
    shot("dark-notes-history")
