"""The notebook diff (core/notebook_diff.py): nbdime's patch as the cells a reader compares.

The notebooks are real nbformat v4 notebooks (built with ``nbformat.v4``, validated, written
to JSON and read back as the store keeps them), and the patch is nbdime's own.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import textwrap

import nbdime
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from kernel_magics.core.notebook_diff import diff_notebooks
from kernel_magics.errors import MissingExtraError


def png(colour: str) -> str:
    """A small real PNG of one colour, base64 as nbformat stores image outputs."""
    import io

    from matplotlib.figure import Figure

    fig = Figure(figsize=(0.2, 0.2), dpi=20, facecolor=colour)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode()


def saved(*cells) -> dict:
    """A notebook as a file holds it: validated by nbformat, written and read back as JSON."""
    notebook = new_notebook(cells=list(cells))
    nbformat.validate(notebook)
    return json.loads(nbformat.writes(notebook))


def figure(png: str) -> dict:
    """A matplotlib figure as a display_data output."""
    return new_output(
        "display_data", data={"image/png": png, "text/plain": "<Figure size 640x480 with 1 Axes>"}
    )


def statuses(diff: dict) -> list[tuple[str, int | None, int | None]]:
    return [(c["status"], c["a_index"], c["b_index"]) for c in diff["cells"]]


def test_a_moved_cell_is_one_moved_cell_not_a_removal_and_an_addition():
    # Given a notebook, then the same one with its last cell moved to the top
    old = saved(
        new_code_cell("import numpy", id="imports"),
        new_code_cell("x = fit()", id="fit"),
        new_code_cell("seed = 0", id="seed"),
    )
    new = saved(
        new_code_cell("seed = 0", id="seed"),
        new_code_cell("import numpy", id="imports"),
        new_code_cell("x = fit()", id="fit"),
    )
    # nbdime itself reports the move as an insertion at the top and a removal at the end...
    (cells_op,) = nbdime.diff_notebooks(nbformat.from_dict(old), nbformat.from_dict(new))
    assert [op["op"] for op in cells_op["diff"]] == ["addrange", "removerange"]
    # When
    diff = diff_notebooks(old, new)
    # Then ...which the reader sees as one moved cell that says where it was
    assert statuses(diff) == [("moved", 2, 0), ("unchanged", 0, 1), ("unchanged", 1, 2)]
    assert diff["summary"] == {"added": 0, "removed": 0, "changed": 0, "moved": 1, "unchanged": 2}
    moved = diff["cells"][0]
    assert moved["source_b"] == "seed = 0" and not moved["source_changed"]
    assert moved["source_diff"] == [{"op": " ", "text": "seed = 0"}]


def test_a_moved_cell_without_cell_ids_is_found_by_its_source():
    # Given nbformat 4.4 notebooks (written before cell ids), the last cell moved up
    old = saved(new_code_cell("a = 1"), new_code_cell("b = 2"), new_code_cell("c = 3"))
    new = saved(new_code_cell("c = 3"), new_code_cell("a = 1"), new_code_cell("b = 2"))
    for notebook in (old, new):
        notebook["nbformat_minor"] = 4
        for cell in notebook["cells"]:
            del cell["id"]
    # When
    diff = diff_notebooks(old, new)
    # Then
    assert statuses(diff) == [("moved", 2, 0), ("unchanged", 0, 1), ("unchanged", 1, 2)]


def test_a_moved_and_edited_cell_shows_the_edit():
    # Given the training cell moved from the top to the end and edited on the way
    old = saved(new_code_cell("lr = 0.1\nfit(lr)", id="train"), new_code_cell("plot()", id="p"),
                new_code_cell("save()", id="s"))  # fmt: skip
    new = saved(new_code_cell("plot()", id="p"), new_code_cell("save()", id="s"),
                new_code_cell("lr = 0.3\nfit(lr)", id="train"))  # fmt: skip
    # When
    diff = diff_notebooks(old, new)
    # Then it is one moved cell, at its new place, with its edit
    assert statuses(diff) == [("unchanged", 1, 0), ("unchanged", 2, 1), ("moved", 0, 2)]
    moved = diff["cells"][2]
    assert moved["source_changed"]
    assert moved["source_diff"] == [
        {"op": "-", "text": "lr = 0.1"},
        {"op": "+", "text": "lr = 0.3"},
        {"op": " ", "text": "fit(lr)"},
    ]


def test_a_changed_line_reads_as_removed_then_added_with_the_rest_kept():
    old = saved(new_code_cell("import numpy as np\nC = 0.1\nmodel = fit(C)\nprint(model)", id="t"))
    new = saved(new_code_cell("import numpy as np\nC = 1.0\nmodel = fit(C)\nprint(model)", id="t"))
    diff = diff_notebooks(old, new)
    (cell,) = diff["cells"]
    assert (cell["status"], cell["source_changed"], cell["outputs_changed"]) == (
        "changed", True, False
    )  # fmt: skip
    assert cell["source_diff"] == [
        {"op": " ", "text": "import numpy as np"},
        {"op": "-", "text": "C = 0.1"},
        {"op": "+", "text": "C = 1.0"},
        {"op": " ", "text": "model = fit(C)"},
        {"op": " ", "text": "print(model)"},
    ]


def test_an_added_and_a_removed_cell():
    # Given: the markdown cell is deleted, a new evaluation cell appended
    old = saved(
        new_code_cell("x = load()", id="load"),
        new_markdown_cell("## Notes\nold idea", id="notes"),
        new_code_cell("fit(x)", id="fit"),
    )
    new = saved(
        new_code_cell("x = load()", id="load"),
        new_code_cell("fit(x)", id="fit"),
        new_code_cell("evaluate(x)\nreport()", id="eval"),
    )
    # When
    diff = diff_notebooks(old, new)
    # Then
    assert statuses(diff) == [
        ("unchanged", 0, 0), ("removed", 1, None), ("unchanged", 2, 1), ("added", None, 2)
    ]  # fmt: skip
    removed, added = diff["cells"][1], diff["cells"][3]
    assert removed["cell_type"] == "markdown"
    assert removed["source_diff"] == [
        {"op": "-", "text": "## Notes"},
        {"op": "-", "text": "old idea"},
    ]
    assert added["source_diff"] == [
        {"op": "+", "text": "evaluate(x)"},
        {"op": "+", "text": "report()"},
    ]
    assert diff["summary"] == {"added": 1, "removed": 1, "changed": 0, "moved": 0, "unchanged": 2}


def test_a_changed_figure_is_reported_as_a_changed_image():
    # Given the same plotting cell re-run: the figure differs, the source does not
    old = saved(new_code_cell("plot(curve)", id="plot", execution_count=3,
                              outputs=[figure(png("red"))]))  # fmt: skip
    new = saved(new_code_cell("plot(curve)", id="plot", execution_count=7,
                              outputs=[figure(png("blue"))]))  # fmt: skip
    # When
    diff = diff_notebooks(old, new)
    # Then the cell changed in its outputs only, and the change names the image
    (cell,) = diff["cells"]
    assert (cell["status"], cell["source_changed"], cell["outputs_changed"]) == (
        "changed", False, True
    )  # fmt: skip
    (change,) = cell["output_changes"]
    assert {k: v for k, v in change.items() if not k.startswith("images_")} == {
        "op": "changed", "a_index": 0, "b_index": 0, "output_type": "display_data",
        "parts": ["image/png"]
    }  # fmt: skip
    # And each side shows the image (its media type), not the "<Figure ...>" repr
    (before,), (after,) = cell["outputs_a"], cell["outputs_b"]
    assert before["media"] == after["media"] == ["image/png"]
    assert "Figure size" not in before["text"]
    assert before["text"].startswith("[image/png ") and after["text"].startswith("[image/png ")
    assert before["text"] != after["text"]  # the two images are told apart


def test_changed_stream_and_error_outputs_say_what_changed():
    old = saved(new_code_cell("print(score())", id="s", outputs=[
        new_output("stream", name="stdout", text="0.81\n")]))  # fmt: skip
    new = saved(new_code_cell("print(score())", id="s", outputs=[
        new_output("error", ename="ValueError", evalue="no data", traceback=["..."])]))  # fmt: skip
    (cell,) = diff_notebooks(old, new)["cells"]
    assert [c["op"] for c in cell["output_changes"]] == ["removed", "added"]
    assert [o["text"] for o in cell["outputs_a"]] == ["0.81\n"]
    assert [o["text"] for o in cell["outputs_b"]] == ["ValueError: no data"]


def test_re_running_a_notebook_leaves_its_cells_unchanged():
    # Given the same notebook run again: new execution counts and cell metadata only
    def notebook(count: int) -> dict:
        return saved(
            new_markdown_cell("# Churn", id="title"),
            new_code_cell("x = 1", id="a", execution_count=count,
                          metadata={"execution": {"iopub.status.idle": f"2026-12-0{count}"}}),
            new_code_cell("print(x)", id="b", execution_count=count + 1,
                          outputs=[new_output("stream", name="stdout", text="1\n")]),
        )  # fmt: skip

    diff = diff_notebooks(notebook(1), notebook(5))
    # Then every cell is unchanged, with no change lines (what the panel folds into one line)
    assert [c["status"] for c in diff["cells"]] == ["unchanged"] * 3
    assert diff["summary"]["unchanged"] == 3
    for cell in diff["cells"]:
        assert not cell["source_changed"] and not cell["outputs_changed"]
        assert cell["output_changes"] == []
        assert {line["op"] for line in cell["source_diff"]} == {" "}


def test_a_missing_nbdime_is_named_with_the_fix(monkeypatch):
    # Given an install without the [lab] extra: importing nbdime fails
    monkeypatch.setitem(sys.modules, "nbdime", None)
    # When / Then
    with pytest.raises(MissingExtraError) as info:
        diff_notebooks(saved(new_code_cell("a")), saved(new_code_cell("b")))
    message = str(info.value)
    assert "The notebook diff needs the [lab] extra" in message
    assert "missing: nbdime" in message
    assert 'Fix: pip install "jupyter-mlops[lab]"' in message


#: Hides nbdime the way Python itself blocks a module: ``import nbdime`` raises
#: ModuleNotFoundError and ``importlib.util.find_spec("nbdime")`` answers None, as when the
#: package is not installed.
BLOCKED = """
import sys
sys.modules["nbdime"] = None
try:
    import nbdime
except ModuleNotFoundError:
    pass
else:
    raise SystemExit("nbdime is still importable")
"""


def test_without_nbdime_the_user_sees_one_line_naming_the_fix_not_a_traceback():
    # Given a Python where nbdime cannot be imported at all (blocked in sys.modules, as
    # when the package is not installed), the notebook module still imports and the diff says what to do
    script = BLOCKED + textwrap.dedent(
        """
        import kernel_magics.core.notebooks as nb
        from kernel_magics.errors import MissingExtraError
        cell = {"cell_type": "code", "source": "a", "metadata": {}, "outputs": [],
                "execution_count": None}
        notebook = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 4}
        try:
            nb.diff_notebooks(notebook, notebook)
        except MissingExtraError as exc:
            print(exc)
        """
    )
    # When
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    # Then
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert done.stdout.strip() == (
        "The notebook diff needs the [lab] extra, which is not installed (missing: nbdime). "
        'Fix: pip install "jupyter-mlops[lab]"'
    )


def test_an_output_dropped_in_one_place_and_one_added_elsewhere_stay_two_changes():
    # Given: the first print is gone, the second kept, and a figure appended
    old = saved(new_code_cell("run()", id="r", outputs=[
        new_output("stream", name="stdout", text="epoch 1\n"),
        new_output("stream", name="stderr", text="warning: slow\n"),
    ]))  # fmt: skip
    new = saved(new_code_cell("run()", id="r", outputs=[
        new_output("stream", name="stderr", text="warning: slow\n"), figure(png("green")),
    ]))  # fmt: skip
    (cell,) = diff_notebooks(old, new)["cells"]
    assert [(c["op"], c["a_index"], c["b_index"]) for c in cell["output_changes"]] == [
        ("removed", 0, None), ("added", None, 1)
    ]  # fmt: skip


def test_compare_without_nbdime_still_compares_and_names_the_fix(store, tmp_path, monkeypatch):
    # Given two runs made from two versions of one notebook, with different params
    from kernel_magics.core.compare import compare_runs
    from kernel_magics.core.notebooks import record_notebook_version
    from kernel_magics.kernel.widgets.run_reports import compare_report

    path = tmp_path / "train.ipynb"
    exp = store.experiments.get_or_create("e")
    ids = []
    for c in ("0.1", "1.0"):
        path.write_text(nbformat.writes(new_notebook(cells=[new_code_cell(f"C = {c}", id="c")])))
        version = record_notebook_version(store, path)
        run_id = store.runs.create(exp, source="cell", params={"C": float(c)})
        store.runs.set_fields(run_id, notebook_version_id=version)
        store.runs.finish(run_id, "finished")
        ids.append(run_id)
    # And a kernel whose Python has no nbdime
    monkeypatch.setitem(sys.modules, "nbdime", None)
    # When %mlops compare computes and renders the comparison
    result = compare_runs(store, ids)
    html = compare_report(result)._repr_html_()
    # Then the params are still compared, and the summary says what is missing and the fix
    assert [row["key"] for row in result["params"] if row["differs"]] == ["C"]
    assert result["notebook"] == {ids[1][:8]: None}
    assert result["summary"][-1] == (
        "The runs used different notebook versions, not diffed here. The notebook diff needs "
        "the [lab] extra, "
        'which is not installed (missing: nbdime). Fix: pip install "jupyter-mlops[lab]"'
    )
    assert "pip install &quot;jupyter-mlops[lab]&quot;" in html


def plot_png(colour: str, pixels: int = 40, noise: bool = False) -> bytes:
    """The PNG bytes of a real matplotlib plot (random noise makes one that does not compress)."""
    import io

    import numpy as np
    from matplotlib.figure import Figure

    fig = Figure(figsize=(pixels / 20, pixels / 20), dpi=20)
    ax = fig.add_axes((0, 0, 1, 1))
    if noise:
        ax.imshow(np.random.default_rng(0).random((pixels, pixels, 3)))
    else:
        ax.plot([0, 1, 2], [0, 2, 1], color=colour)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def api_diff(old: dict, new: dict) -> dict:
    """The diff as the server answers it: through the response model, which drops what it
    does not declare."""
    from kernel_magics.server.models.notebooks import DiffNotebooksResponse

    diff = diff_notebooks(old, new)
    return DiffNotebooksResponse.model_validate({"a": "1", "b": "2", **diff}).model_dump()


def test_a_changed_figure_carries_both_images_as_the_notebooks_hold_them():
    # Given a plotting cell re-run with another colour: two real matplotlib PNGs
    red, blue = plot_png("red"), plot_png("blue")
    old = saved(new_code_cell("plot()", id="p", outputs=[figure(base64.b64encode(red).decode())]))
    new = saved(new_code_cell("plot()", id="p", outputs=[figure(base64.b64encode(blue).decode())]))
    # When the server answers the diff
    (cell,) = api_diff(old, new)["cells"]
    # Then the changed output carries the old and the new image, each decoding to its bytes
    (change,) = cell["output_changes"]
    (before,), (after,) = change["images_a"], change["images_b"]
    assert (before["mime"], before["encoding"], before["note"]) == ("image/png", "base64", None)
    assert base64.b64decode(before["data"], validate=True) == red
    assert base64.b64decode(after["data"], validate=True) == blue
    assert (before["size"], after["size"]) == (len(red), len(blue))


def test_an_added_and_a_removed_cell_carry_their_outputs_to_draw():
    # Given a plotting cell deleted and a new one appended that prints and draws a figure
    red, blue = plot_png("red"), plot_png("blue")
    old = saved(
        new_code_cell("x = load()", id="load"),
        new_code_cell("plot_raw(x)", id="old", outputs=[figure(base64.b64encode(red).decode())]),
        new_code_cell("model = fit(x)", id="fit"),
    )
    printed = new_output("stream", name="stdout", text="accuracy 0.9\n")
    new = saved(
        new_code_cell("x = load()", id="load"),
        new_code_cell("model = fit(x)", id="fit"),
        new_code_cell("evaluate(model)\nreport()", id="new",
                      outputs=[printed, figure(base64.b64encode(blue).decode())]),
    )  # fmt: skip
    # When the server answers the diff
    diff = api_diff(old, new)
    assert statuses(diff) == [
        ("unchanged", 0, 0), ("removed", 1, None), ("unchanged", 2, 1), ("added", None, 2)
    ]  # fmt: skip
    removed, added = diff["cells"][1], diff["cells"][3]
    # Then each of the added cell's outputs is an added output, with its bundle and its image
    assert (added["status"], added["outputs_changed"]) == ("added", False)
    assert [(c["op"], c["a_index"], c["b_index"], c["output_type"])
            for c in added["output_changes"]] == [
        ("added", None, 0, "stream"), ("added", None, 1, "display_data")]  # fmt: skip
    assert added["outputs_b"][0]["data"] == {"application/vnd.jupyter.stdout": "accuracy 0.9\n"}
    (image,) = added["output_changes"][1]["images_b"]
    assert base64.b64decode(image["data"], validate=True) == blue
    # And the removed cell's figure is a removed output, its image on the older side
    assert (removed["status"], removed["outputs_changed"]) == ("removed", False)
    (change,) = removed["output_changes"]
    assert (change["op"], change["a_index"], change["b_index"]) == ("removed", 0, None)
    (image,) = change["images_a"]
    assert base64.b64decode(image["data"], validate=True) == red
    assert removed["outputs_a"][0]["data"] == {"text/plain": "<Figure size 640x480 with 1 Axes>"}


def test_an_image_over_the_cap_keeps_its_placeholder_with_its_size():
    from kernel_magics.core.notebook_diff import MAX_IMAGE_BYTES

    # Given a figure of random noise (PNG cannot shrink it) bigger than the cap
    big = plot_png("black", pixels=700, noise=True)
    assert len(big) > MAX_IMAGE_BYTES
    old = saved(new_code_cell("show()", id="s", outputs=[]))
    new = saved(new_code_cell("show()", id="s", outputs=[figure(base64.b64encode(big).decode())]))
    # When
    (cell,) = api_diff(old, new)["cells"]
    # Then the added output names the image and why it is not shown, without its bytes
    (change,) = cell["output_changes"]
    assert (change["op"], change["images_a"]) == ("added", [])
    (image,) = change["images_b"]
    assert image["data"] is None and image["size"] == len(big)
    assert image["note"] == (
        f"image too large to show ({round(len(big) / 1024):,} kB; the diff shows up to 1,000 kB)"
    )
    assert cell["outputs_b"][0]["text"].startswith("[image/png ")  # the text placeholder stays


def test_an_svg_comes_as_its_text_and_bad_base64_as_a_note():
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4"/></svg>'
    drawing = new_output("display_data", data={"image/svg+xml": svg, "text/plain": "<Drawing>"})
    broken = new_output("display_data", data={"image/jpeg": "not*base64", "text/plain": "<J>"})
    # Given an SVG drawing replaced by a JPEG whose base64 is corrupt
    old = saved(new_code_cell("draw()", id="d", outputs=[drawing]))
    new = saved(new_code_cell("draw()", id="d", outputs=[broken]))
    # When
    (cell,) = api_diff(old, new)["cells"]
    # Then the SVG comes as its source, and the JPEG as a note instead of bytes
    (change,) = cell["output_changes"]
    assert change["images_a"] == [{"mime": "image/svg+xml", "encoding": "text", "data": svg,
                                   "size": len(svg), "note": None}]  # fmt: skip
    assert change["images_b"] == [{"mime": "image/jpeg", "encoding": "base64", "data": None,
                                   "size": 0, "note": "not valid base64, not shown"}]  # fmt: skip
    # And a removed output carries its image on the older side
    (cell,) = api_diff(old, saved(new_code_cell("draw()", id="d")))["cells"]
    (change,) = cell["output_changes"]
    assert (change["op"], change["images_b"]) == ("removed", [])
    assert [image["data"] for image in change["images_a"]] == [svg]


def test_images_past_the_diff_budget_keep_their_placeholder(monkeypatch):
    from kernel_magics.core import notebook_diff

    # Given two plotting cells re-drawn, and a budget that holds the first cell's two images
    red, blue = plot_png("red"), plot_png("blue")
    monkeypatch.setattr(notebook_diff, "MAX_DIFF_IMAGE_BYTES", len(red) + len(blue))

    def notebook(first: bytes, second: bytes) -> dict:
        return saved(*(new_code_cell("plot()", id=f"p{i}", outputs=[figure(base64.b64encode(png).decode())])
                       for i, png in enumerate((first, second))))  # fmt: skip

    # When
    first, second = api_diff(notebook(red, red), notebook(blue, blue))["cells"]
    # Then the first cell's images are shown, the second's name the budget instead
    assert [i["data"] is not None for c in first["output_changes"]
            for i in c["images_a"] + c["images_b"]] == [True, True]  # fmt: skip
    (change,) = second["output_changes"]
    for image in change["images_a"] + change["images_b"]:
        assert image["data"] is None
        assert image["note"] == (
            f"not shown: this diff's images passed {(len(red) + len(blue)) // 1000:,} kB; "
            "open the two notebooks to see it"
        )
