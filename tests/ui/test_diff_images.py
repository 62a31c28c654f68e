"""A notebook diff in a real JupyterLab and headless Chromium draws outputs as the notebook does.

Two versions of a notebook whose plotting cell drew a red, then a blue matplotlib line (and
whose newer version has a new cell with a green figure) are recorded into the lab's store. In
the browser: open the notebook, Versions, tick both, Compare; the changed output shows two
decoded images, before and after, captioned by type, the added cell its figure once, and in
the dark theme they sit in a neutral frame, not a light box of the panel's own.

Two versions of another notebook change a pandas-like HTML table (the newer one with a
``<script>`` and an ``onerror`` handler in it), a coloured stream and a traceback: the diff shows
the tables as tables, the colours as colours, the traceback as an error, through JupyterLab's
own renderers untrusted, and neither script runs nor stays in the page.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from panel_helpers import PANEL_TAB, show_runs

pytestmark = [pytest.mark.ui, pytest.mark.slow]

TIMEOUT = 60_000
NOTEBOOK = "figures.ipynb"

#: Writes the notebook twice (a red, then a blue figure) and records each as a version.
SEED = textwrap.dedent(
    """
    import base64, io, sys
    import nbformat
    from matplotlib.figure import Figure
    from kernel_magics.core.notebooks import record_notebook_version
    from kernel_magics.core.store import open_store

    path = sys.argv[1]
    store = open_store()
    def figure(colour):
        fig = Figure(figsize=(3, 2), dpi=40)
        fig.add_subplot().plot([0, 1, 2], [0, 2, 1], color=colour)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        return nbformat.v4.new_output("display_data", data={
            "image/png": base64.b64encode(buffer.getvalue()).decode(),
            "text/plain": "<Figure size 120x80 with 1 Axes>"})

    for colour in ("red", "blue"):
        cells = [nbformat.v4.new_code_cell("plot()", outputs=[figure(colour)])]
        if colour == "blue":  # the newer version also has a new cell with a green figure
            cells.append(nbformat.v4.new_code_cell("plot_residuals()",
                                                   outputs=[figure("green")]))
        nb = nbformat.v4.new_notebook(cells=cells)
        nbformat.write(nb, path)
        record_notebook_version(store, path)
    store.writer.flush()
    """
)


@pytest.fixture(scope="module")
def versions(lab):
    env = {**os.environ, "MLOPS_HOME": str(lab.home)}
    for var in ("MLOPS_STORE_URI", "MLOPS_ARTIFACTS_URI", "MLOPS_RUN_ID"):
        env.pop(var, None)
    subprocess.run([sys.executable, "-c", SEED, str(lab.root / NOTEBOOK)], env=env,
                   cwd=lab.root, capture_output=True, text=True, timeout=120, check=True)  # fmt: skip


def open_diff(page, lab, notebook: str) -> None:
    """Open ``notebook``, its Versions, tick the two recorded versions and Compare them."""
    page.goto(f"{lab.url}/lab/tree/{notebook}?token={lab.token}&reset")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=TIMEOUT)
    # JupyterLab sometimes asks which kernel to start for a fresh session: take the default.
    try:
        page.wait_for_selector(".jp-Dialog", timeout=5_000)
        page.locator(".jp-Dialog .jp-mod-accept").click()
    except Exception:  # no dialog this time
        pass
    page.wait_for_selector(".jp-Dialog", state="detached", timeout=TIMEOUT)
    page.wait_for_selector(".jp-Toolbar-kernelName", timeout=TIMEOUT)
    page.locator(PANEL_TAB).click()
    panel = page.locator(".jp-mlops-panel")
    panel.locator(".jp-mlops-tab", has_text="Versions").click()
    rows = panel.locator(".jp-mlops-version:not([data-version='current'])")
    rows.nth(1).wait_for(timeout=TIMEOUT)
    rows.nth(0).locator("input[type=checkbox]").check()
    rows.nth(1).locator("input[type=checkbox]").check()
    panel.get_by_role("button", name="Compare").click()


def test_a_re_drawn_figure_shows_as_two_images_in_both_themes(page, lab, versions, shot):
    # Given the notebook open with two recorded versions
    # When both are ticked and compared
    open_diff(page, lab, NOTEBOOK)
    # Then the changed output shows the old and the new figure, decoded by the browser
    pair = page.locator(".jp-mlops-diff-widget .jp-mlops-diff-image-pair")
    pair.wait_for(timeout=TIMEOUT)
    images = pair.locator("img")
    assert images.count() == 2
    for i in range(2):
        images.nth(i).wait_for(state="visible", timeout=TIMEOUT)
        assert images.nth(i).evaluate("img => img.complete && img.naturalWidth") == 120
    assert pair.locator("figcaption").all_inner_texts() == ["before · image/png",
                                                            "after · image/png"]  # fmt: skip
    before, after = (images.nth(i).get_attribute("src") for i in range(2))
    assert before.startswith("data:image/png;base64,") and before != after
    # And the added cell's figure shows once, as the added side
    added = page.locator(".jp-mlops-diff-widget .jp-mlops-diff-added")
    assert "plot_residuals()" in added.locator(".jp-mlops-line-added").inner_text()
    image = added.locator(".jp-mlops-diff-output-single img")
    image.wait_for(state="visible", timeout=TIMEOUT)
    assert image.evaluate("img => img.complete && img.naturalWidth") == 120
    assert image.get_attribute("src") not in (before, after)
    assert added.locator("figcaption").all_inner_texts() == ["added · image/png"]
    shot("diff-images")
    # When the theme is dark
    page.locator(".lm-MenuBar-itemLabel", has_text="Settings").click()
    page.locator(".lm-Menu-itemLabel", has_text="Theme").first.hover()
    page.locator(".lm-Menu-itemLabel", has_text="JupyterLab Dark").first.click()
    page.wait_for_selector('body[data-jp-theme-light="false"]', state="attached", timeout=TIMEOUT)
    page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=TIMEOUT)
    # Then the images keep a neutral frame and add no background of their own
    style = images.first.evaluate(
        "img => { const s = getComputedStyle(img);"
        " return [s.backgroundColor, s.borderTopStyle, s.borderTopColor]; }"
    )
    assert style[0] == "rgba(0, 0, 0, 0)" and style[1] == "solid", style
    assert style[2] not in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)"), style
    shot("diff-images-dark")


RENDERED = "rendered.ipynb"

#: Writes a notebook twice (a table, a coloured stream and a traceback that change) and records
#: each as a version; the newer table carries a script and an onerror handler.
SEED_RENDERED = textwrap.dedent(
    """
    import sys
    import nbformat
    from kernel_magics.core.notebooks import record_notebook_version
    from kernel_magics.core.store import open_store

    path = sys.argv[1]
    store = open_store()
    hostile = ('<script>window.__pwned = "script"</script>'
               '<img src="x" onerror="window.__pwned = \\'onerror\\'">')
    for acc, colour, extra in ((0.8, 32, ""), (0.9, 31, hostile)):
        table = nbformat.v4.new_output("execute_result", execution_count=1, data={
            "text/html": f"<table class='dataframe'><thead><tr><th>acc</th></tr></thead>"
                         f"<tbody><tr><td>{acc}</td></tr></tbody></table>{extra}",
            "text/plain": f"   acc\\n0  {acc}"})
        stream = nbformat.v4.new_output("stream", name="stdout",
                                        text=f"\\x1b[{colour}maccuracy {acc}\\x1b[0m\\n")
        error = nbformat.v4.new_output("error", ename="ValueError", evalue=f"acc {acc}",
                                       traceback=[f"\\x1b[31mValueError\\x1b[0m: acc {acc}"])
        nb = nbformat.v4.new_notebook(cells=[
            nbformat.v4.new_code_cell("df", outputs=[table]),
            nbformat.v4.new_code_cell("print(acc)", outputs=[stream]),
            nbformat.v4.new_code_cell("check(acc)", outputs=[error])])
        nbformat.write(nb, path)
        version = record_notebook_version(store, path)
        # a run per version, as a tracked cell of each would have made
        exp = store.experiments.get_or_create("rendered")
        run = store.runs.create(exp, name=f"acc-{acc}", params={"acc": acc})
        store.runs.set_fields(run, notebook_version_id=version, notebook_path=path)
        store.runs.finish(run, "finished")
        print(run)
    store.writer.flush()
    """
)


@pytest.fixture(scope="module")
def rendered_versions(lab):
    env = {**os.environ, "MLOPS_HOME": str(lab.home)}
    for var in ("MLOPS_STORE_URI", "MLOPS_ARTIFACTS_URI", "MLOPS_RUN_ID"):
        env.pop(var, None)
    done = subprocess.run([sys.executable, "-c", SEED_RENDERED, str(lab.root / RENDERED)],
                          env=env, cwd=lab.root, capture_output=True, text=True, timeout=120,
                          check=True)  # fmt: skip
    return done.stdout.split()  # the two runs, older first


def test_changed_outputs_render_as_in_an_untrusted_notebook(page, lab, rendered_versions, shot):
    # Given a notebook whose table, coloured stream and traceback changed between two versions
    # When the two versions are compared
    open_diff(page, lab, RENDERED)
    diff = page.locator(".jp-mlops-diff-widget .jp-mlops-diff")
    changes = diff.locator(".jp-mlops-diff-output-changes > li")
    changes.nth(2).wait_for(timeout=TIMEOUT)
    table, stream, error = (changes.nth(i) for i in range(3))
    # Then the table shows as a table on both sides, rendered by JupyterLab's HTML renderer
    cells = table.locator(".jp-RenderedHTMLCommon table td")
    cells.nth(1).wait_for(timeout=TIMEOUT)
    assert cells.all_inner_texts() == ["0.8", "0.9"]
    assert table.locator("table th").all_inner_texts() == ["acc", "acc"]
    # And the stream keeps its colours: green before, red after
    stream.locator(".ansi-red-fg").wait_for(timeout=TIMEOUT)
    assert stream.locator(".ansi-green-fg").inner_text() == "accuracy 0.8"
    assert stream.locator(".ansi-red-fg").inner_text() == "accuracy 0.9"
    # And the traceback shows as an error output, its colours kept
    rendered = error.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.stderr']")
    rendered.nth(1).wait_for(timeout=TIMEOUT)
    assert rendered.nth(1).locator(".ansi-red-fg").inner_text() == "ValueError"
    assert "acc 0.9" in rendered.nth(1).inner_text()
    # And the newer table's script and onerror handler neither ran nor stayed in the page
    assert page.evaluate("() => window.__pwned === undefined")
    assert diff.locator("script").count() == 0
    assert diff.locator("[onerror]").count() == 0
    assert "inline scripts" not in diff.inner_text()  # no offer to run them either
    shot("diff-rendered-outputs")


def test_the_compare_view_renders_the_runs_changed_outputs_too(page, lab, rendered_versions, shot):
    # Given two runs, each made from one of the two versions of the rendered notebook
    older, newer = rendered_versions
    panel = show_runs(page, lab, "name LIKE 'acc-%'", 2)
    # When both are ticked and compared
    for run_id in (older, newer):
        panel.locator(f'.jp-mlops-run-row[data-run-id="{run_id}"] input[type=checkbox]').check()
    panel.locator(".jp-mlops-compare-button").click()
    diff = page.locator(".jp-mlops-compare-widget .jp-mlops-run-diff")
    diff.wait_for(timeout=TIMEOUT)
    # Then the code diff's notebook part renders the table as a table, before and after
    cells = diff.locator(".jp-RenderedHTMLCommon table td")
    cells.nth(1).wait_for(timeout=TIMEOUT)
    assert cells.all_inner_texts() == ["0.8", "0.9"]
    # and keeps the stream's colours, and runs none of the newer table's scripts
    assert diff.locator(".ansi-red-fg", has_text="accuracy 0.9").count() == 1
    assert page.evaluate("() => window.__pwned === undefined")
    assert diff.locator("script").count() == 0
    diff.scroll_into_view_if_needed()
    shot("compare-rendered-outputs")
