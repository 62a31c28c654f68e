"""``/mlops/api/notebook_diffs`` answers what the panel shows of changed outputs: a re-drawn
figure's two images, and each side's MIME bundle for JupyterLab's renderers.

Real Jupyter server, real store, real matplotlib PNGs; the response model declares the image
fields, or the server would drop them on the way out.
"""

from __future__ import annotations

import base64
import io

from server_helpers import fetch_json, notebook_json


def plot(colour: str) -> bytes:
    """The PNG of a small real matplotlib line plot."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 2), dpi=20)
    fig.add_axes((0, 0, 1, 1)).plot([0, 1, 2], [0, 2, 1], color=colour)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def figure_output(png: bytes) -> dict:
    return {"output_type": "display_data", "metadata": {},
            "data": {"image/png": base64.b64encode(png).decode(),
                     "text/plain": "<Figure size 40x40 with 1 Axes>"}}  # fmt: skip


async def test_the_diff_route_carries_the_old_and_the_new_image(jp_fetch, seed):
    # Given two versions of a notebook whose plotting cell drew another figure
    red, blue = plot("red"), plot("blue")
    a = seed.version("nb.ipynb", notebook_json("plot()", outputs={0: [figure_output(red)]}))
    b = seed.version("nb.ipynb", notebook_json("plot()", outputs={0: [figure_output(blue)]}))
    # When the panel asks for the diff
    diff = await fetch_json(
        jp_fetch, "mlops", "api", "notebook_diffs", params={"a": str(a), "b": str(b)}
    )
    # Then the changed output carries both images, each the bytes its notebook holds
    (cell,) = diff["cells"]
    (change,) = cell["output_changes"]
    assert (change["op"], change["parts"]) == ("changed", ["image/png"])
    (old,), (new,) = change["images_a"], change["images_b"]
    assert (old["mime"], old["encoding"], old["note"]) == ("image/png", "base64", None)
    assert base64.b64decode(old["data"]) == red and base64.b64decode(new["data"]) == blue
    assert new["size"] == len(blue)


def table_output(value: float, extra: str = "") -> dict:
    """A pandas-like ``execute_result``: an HTML table (with whatever ``extra`` adds) and text."""
    html = f"<table><tr><th>acc</th></tr><tr><td>{value}</td></tr></table>{extra}"
    return {"output_type": "execute_result", "execution_count": 1, "metadata": {},
            "data": {"text/html": html, "text/plain": f"   acc\n0  {value}"}}  # fmt: skip


async def test_changed_outputs_carry_their_bundles_for_the_panel_to_render(jp_fetch, seed):
    # Given a table, a coloured stream and an error that changed, and a cell that did not
    script = "<script>window.__pwned = 1</script>"
    error = {"output_type": "error", "ename": "ValueError", "evalue": "bad",
             "traceback": ["\x1b[31mValueError\x1b[0m: bad"]}  # fmt: skip
    sources = ("df", "print(acc)", "fail()", "same()")
    same = [{"output_type": "stream", "name": "stdout", "text": "kept\n"}]
    a = seed.version("nb.ipynb", notebook_json(*sources, outputs={
        0: [table_output(0.8)],
        1: [{"output_type": "stream", "name": "stdout", "text": "\x1b[32m0.8\x1b[0m\n"}],
        3: same}))  # fmt: skip
    b = seed.version("nb.ipynb", notebook_json(*sources, outputs={
        0: [table_output(0.9, script)],
        1: [{"output_type": "stream", "name": "stderr", "text": "\x1b[31m0.9\x1b[0m\n"}],
        2: [error], 3: same}))  # fmt: skip
    # When the panel asks for the diff
    diff = await fetch_json(
        jp_fetch, "mlops", "api", "notebook_diffs", params={"a": str(a), "b": str(b)}
    )
    table, stream, failed, unchanged = diff["cells"]
    # Then each side of a changed output comes as the MIME bundle JupyterLab renders
    assert table["outputs_a"][0]["data"] == table_output(0.8)["data"]
    # the HTML travels as the notebook holds it: the panel's renderer sanitizes it
    assert table["outputs_b"][0]["data"]["text/html"].endswith(script)
    assert stream["outputs_a"][0]["data"] == {
        "application/vnd.jupyter.stdout": "\x1b[32m0.8\x1b[0m\n"
    }
    assert stream["outputs_b"][0]["data"] == {
        "application/vnd.jupyter.stderr": "\x1b[31m0.9\x1b[0m\n"
    }
    assert failed["outputs_b"][0]["data"] == {
        "application/vnd.jupyter.stderr": "\x1b[31mValueError\x1b[0m: bad"
    }
    assert {o["data_note"] for c in diff["cells"] for o in c["outputs_a"] + c["outputs_b"]} == {
        None
    }
    # And a cell whose outputs did not change carries none (the panel does not show them)
    assert unchanged["status"] == "unchanged"
    assert unchanged["outputs_b"][0]["data"] == {} and unchanged["outputs_b"][0]["text"] == "kept\n"


async def test_an_output_too_long_to_render_keeps_its_text_and_says_why(jp_fetch, seed):
    from kernel_magics.core.notebook_diff import MAX_OUTPUT_DATA

    # Given a table whose HTML is longer than a diff renders
    rows = "".join(f"<tr><td>{i}</td></tr>" for i in range(MAX_OUTPUT_DATA // 15))
    big = table_output(0.9, f"<table>{rows}</table>")
    assert len(big["data"]["text/html"]) > MAX_OUTPUT_DATA
    a = seed.version("nb.ipynb", notebook_json("df", outputs={0: [table_output(0.8)]}))
    b = seed.version("nb.ipynb", notebook_json("df", outputs={0: [big]}))
    # When
    diff = await fetch_json(
        jp_fetch, "mlops", "api", "notebook_diffs", params={"a": str(a), "b": str(b)}
    )
    # Then the newer side keeps its plain text to render and names what it left out
    (cell,) = diff["cells"]
    after = cell["outputs_b"][0]
    assert after["data"] == {"text/plain": "   acc\n0  0.9"}
    assert after["data_note"] == (
        "text/html too long to render (the diff renders up to 200 k characters); its text is cut"
    )


def test_the_bundles_of_one_diff_stay_under_its_budget():
    from kernel_magics.core.notebook_diff import MAX_DIFF_DATA, MAX_OUTPUT_DATA, diff_notebooks
    from kernel_magics.server.models.notebooks import DiffNotebooksResponse

    # Given a notebook of many cells each re-printing a long text, more than a diff carries
    count = MAX_DIFF_DATA // MAX_OUTPUT_DATA + 2
    long = "x" * (MAX_OUTPUT_DATA - 10)

    def printed(tag: str) -> list:
        return [{"output_type": "stream", "name": "stdout", "text": tag + long}]

    sources = [f"print({i})" for i in range(count)]
    a = notebook_json(*sources, outputs={i: printed("a") for i in range(count)})
    b = notebook_json(*sources, outputs={i: printed("b") for i in range(count)})
    # When the server shapes the diff
    diff = DiffNotebooksResponse.model_validate({"a": "1", "b": "2", **diff_notebooks(a, b)})
    # Then the bundles in reading order stop at the budget, and the rest say why
    sides = [o for cell in diff.cells for o in cell.outputs_a + cell.outputs_b]
    carried = [o for o in sides if o.data]
    assert sum(len(t) for o in carried for t in o.data.values()) <= MAX_DIFF_DATA
    assert sides[: len(carried)] == carried and 0 < len(carried) < len(sides)
    assert {o.data_note for o in sides[len(carried) :]} == {
        "not rendered: this diff's outputs passed 4,000 k characters; its text is cut"
    }
