"""``/mlops/api/notebook_versions`` and ``/mlops/api/notebook_diffs``."""

from __future__ import annotations

import json
import os

import pytest
from server_helpers import fetch_json, notebook_json, write_notebook
from tornado.httpclient import HTTPClientError


async def expect_error(jp_fetch, *parts, code: int, **kwargs) -> dict:
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch(*parts, **kwargs)
    assert info.value.code == code, info.value.response.body
    return json.loads(info.value.response.body)


async def test_versions_newest_first_with_their_runs(jp_fetch, seed):
    # Given two saved states of one notebook, each used by a run, and another notebook
    v1 = seed.version("work/train.ipynb", notebook_json("x = 1"))
    run1 = seed.run("e", version_id=v1)
    v2 = seed.version("work/train.ipynb", notebook_json("x = 2"))
    run2 = seed.run("e", version_id=v2)
    seed.version("other.ipynb", notebook_json("y"))
    # When
    data = await fetch_json(
        jp_fetch, "mlops", "api", "notebook_versions", params={"path": "work/train.ipynb"}
    )
    # Then
    versions = data["versions"]
    assert [v["id"] for v in versions] == [v2, v1]
    assert versions[0]["run_ids"] == [run2] and versions[1]["run_ids"] == [run1]
    assert versions[0]["jupyter_path"] == "work/train.ipynb"
    assert len(versions[0]["short_hash"]) == 10


async def test_recording_the_same_content_twice_is_one_version(seed):
    first = seed.version("nb.ipynb", notebook_json("a"))
    again = seed.version("nb.ipynb", notebook_json("a"))
    assert first == again


async def test_version_content(jp_fetch, seed):
    version = seed.version("nb.ipynb", notebook_json("print('hi')"))
    data = await fetch_json(jp_fetch, "mlops", "api", "notebook_versions", str(version))
    assert data["content"]["cells"][0]["source"] == "print('hi')"
    assert data["id"] == version


async def test_unknown_version_is_404(jp_fetch, seed):
    seed.version("nb.ipynb", notebook_json("a"))
    await expect_error(jp_fetch, "mlops", "api", "notebook_versions", "999", code=404)
    await expect_error(
        jp_fetch, "mlops", "api", "notebook_diffs", params={"a": "999", "b": "1"}, code=404
    )


async def test_a_version_of_a_notebook_outside_the_root_is_hidden(jp_fetch, store, tmp_path):
    # Given a version recorded from a notebook that is not under this server's root
    from kernel_magics.core.notebooks import record_notebook_version

    outside = write_notebook(tmp_path / "elsewhere" / "secret.ipynb", notebook_json("pw = 1"))
    version = record_notebook_version(store, outside)
    # When / Then
    await expect_error(jp_fetch, "mlops", "api", "notebook_versions", str(version), code=404)


async def test_diff_of_two_versions_cell_by_cell(jp_fetch, seed):
    # Given: cell 0 unchanged, cell 1 edited with new output, cell 2 removed, a new cell added
    def out(text):
        return {1: [{"output_type": "stream", "name": "stdout", "text": text}]}

    old = notebook_json("import numpy", "C = 0.1\nfit(C)", "print('bye')", outputs=out("0.8\n"))
    new = notebook_json("import numpy", "C = 1.0\nfit(C)", outputs=out("0.9\n"))
    new["cells"].append(
        {"cell_type": "markdown", "id": "fresh", "metadata": {}, "source": "# Notes"}
    )
    a = seed.version("nb.ipynb", old)
    b = seed.version("nb.ipynb", new)
    # When
    diff = await fetch_json(
        jp_fetch, "mlops", "api", "notebook_diffs", params={"a": str(a), "b": str(b)}
    )
    # Then
    statuses = [c["status"] for c in diff["cells"]]
    assert statuses == ["unchanged", "changed", "removed", "added"]
    assert diff["summary"] == {"added": 1, "removed": 1, "changed": 1, "moved": 0, "unchanged": 1}
    changed = diff["cells"][1]
    assert changed["source_changed"] and changed["outputs_changed"]
    assert {"op": "-", "text": "C = 0.1"} in changed["source_diff"]
    assert {"op": "+", "text": "C = 1.0"} in changed["source_diff"]
    assert {"op": " ", "text": "fit(C)"} in changed["source_diff"]
    assert changed["outputs_a"][0]["text"] == "0.8\n"
    assert changed["outputs_b"][0]["text"] == "0.9\n"
    assert diff["cells"][3]["cell_type"] == "markdown"


async def test_diff_of_a_version_and_the_file_on_disk(jp_fetch, seed, jp_root_dir):
    # Given a recorded version, then the notebook saved with one more cell
    version = seed.version("nb.ipynb", notebook_json("a = 1"))
    write_notebook(jp_root_dir / "nb.ipynb", notebook_json("a = 1", "b = 2"))
    # When
    diff = await fetch_json(
        jp_fetch, "mlops", "api", "notebook_diffs",
        params={"a": str(version), "b": "current", "path": "nb.ipynb"},
    )  # fmt: skip
    # Then
    assert [c["status"] for c in diff["cells"]] == ["unchanged", "added"]


async def test_diff_without_cell_ids_aligns_by_source(jp_fetch, seed):
    a = seed.version("nb.ipynb", notebook_json("one", "two", "three", ids=False))
    b = seed.version("nb.ipynb", notebook_json("one", "three", ids=False))
    diff = await fetch_json(
        jp_fetch, "mlops", "api", "notebook_diffs", params={"a": str(a), "b": str(b)}
    )
    assert [c["status"] for c in diff["cells"]] == ["unchanged", "removed", "unchanged"]


async def test_diff_shows_a_moved_cell_an_edited_line_and_what_output_changed(jp_fetch, seed):
    # Given a notebook as JupyterLab saves it (sources as lists of lines), then the same
    # notebook with the seed cell moved to the top, one line edited, a figure added to the
    # training cell's outputs and every cell re-run (new execution counts)
    def cell(cid, lines, outputs=(), count=None):
        return {"cell_type": "code", "id": cid, "metadata": {}, "execution_count": count,
                "source": lines, "outputs": list(outputs)}  # fmt: skip

    def stream(text):
        return {"output_type": "stream", "name": "stdout", "text": [text]}

    figure = {"output_type": "display_data", "metadata": {},
              "data": {"image/png": "iVBORw0KGgo=", "text/plain": ["<Figure size 640x480>"]}}  # fmt: skip
    old = notebook_json()
    old["cells"] = [
        cell("imports", ["import numpy\n", "import pandas"], count=1),
        cell("train", ["C = 0.1\n", "model = fit(C)\n", "print(score(model))"],
             [stream("0.81\n")], count=2),
        cell("seed", ["seed = 0"], count=3),
    ]  # fmt: skip
    new = notebook_json()
    new["cells"] = [
        cell("seed", ["seed = 0"], count=1),
        cell("imports", ["import numpy\n", "import pandas"], count=2),
        cell("train", ["C = 1.0\n", "model = fit(C)\n", "print(score(model))"],
             [stream("0.86\n"), figure], count=3),
    ]  # fmt: skip
    a, b = seed.version("nb.ipynb", old), seed.version("nb.ipynb", new)
    # When
    diff = await fetch_json(
        jp_fetch, "mlops", "api", "notebook_diffs", params={"a": str(a), "b": str(b)}
    )
    # Then the seed cell is one moved cell (not a removal and an addition), the imports are
    # unchanged although re-run, and the training cell changed
    cells = diff["cells"]
    assert [(c["status"], c["a_index"], c["b_index"]) for c in cells] == [
        ("moved", 2, 0), ("unchanged", 0, 1), ("changed", 1, 2)
    ]  # fmt: skip
    assert diff["summary"] == {"added": 0, "removed": 0, "changed": 1, "moved": 1, "unchanged": 1}
    assert not cells[0]["source_changed"] and cells[0]["source_b"] == "seed = 0"
    # And the edited line reads as removed then added, the rest kept
    train = cells[2]
    assert train["source_diff"] == [
        {"op": "-", "text": "C = 0.1"},
        {"op": "+", "text": "C = 1.0"},
        {"op": " ", "text": "model = fit(C)"},
        {"op": " ", "text": "print(score(model))"},
    ]
    # And the output changes say which output changed in what, and that a figure was added
    assert train["outputs_changed"]
    assert train["output_changes"] == [
        {"op": "changed", "a_index": 0, "b_index": 0, "output_type": "stream", "parts": ["text"],
         "images_a": [], "images_b": []},
        {"op": "added", "a_index": None, "b_index": 1, "output_type": "display_data",
         "parts": ["image/png"], "images_a": [],
         "images_b": [{"mime": "image/png", "encoding": "base64", "data": "iVBORw0KGgo=",
                       "size": 8, "note": None}]},
    ]  # fmt: skip
    assert [o["text"] for o in train["outputs_a"]] == ["0.81\n"]
    assert train["outputs_b"][1]["text"].startswith("[image/png ")
    assert cells[1]["source_diff"] == [
        {"op": " ", "text": "import numpy"}, {"op": " ", "text": "import pandas"}
    ]  # fmt: skip


def test_the_diff_names_the_missing_nbdime_and_the_fix(monkeypatch):
    # Given an install without nbdime
    import importlib.util

    from kernel_magics.core.notebooks import diff_notebooks
    from kernel_magics.errors import MissingExtraError

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "nbdime" else real(name, *a)
    )
    # When / Then: the diff stops before any work with the extra to install
    with pytest.raises(MissingExtraError) as info:
        diff_notebooks(notebook_json("a"), notebook_json("b"))
    message = str(info.value)
    assert "The notebook diff needs the [lab] extra" in message
    assert "missing: nbdime" in message and 'pip install "jupyter-mlops[lab]"' in message


@pytest.mark.parametrize(
    "params",
    [{"a": "1"}, {"a": "x", "b": "1"}, {"a": "1", "b": "current"}, {"a": "1; drop", "b": "1"}],
)
async def test_bad_diff_requests_are_400(jp_fetch, seed, params):
    seed.version("nb.ipynb", notebook_json("a"))
    await expect_error(jp_fetch, "mlops", "api", "notebook_diffs", params=params, code=400)


async def test_restore_writes_a_new_file_next_to_the_notebook(jp_fetch, seed, jp_root_dir):
    # Given a version and a notebook that has changed since
    version = seed.version("work/nb.ipynb", notebook_json("old"))
    write_notebook(jp_root_dir / "work" / "nb.ipynb", notebook_json("new"))
    # When restored twice
    first = await fetch_json(
        jp_fetch, "mlops", "api", "notebook_versions", str(version), "restore",
        method="POST", body="{}",
    )  # fmt: skip
    second = await fetch_json(
        jp_fetch, "mlops", "api", "notebook_versions", str(version), "restore",
        method="POST", body="{}",
    )  # fmt: skip
    # Then two new files, and the notebook itself is untouched
    assert first["path"] == f"work/nb.v{version}.ipynb"
    assert second["path"] == f"work/nb.v{version}-2.ipynb"
    restored = json.loads((jp_root_dir / first["path"]).read_text())
    assert restored["cells"][0]["source"] == "old"
    current = json.loads((jp_root_dir / "work" / "nb.ipynb").read_text())
    assert current["cells"][0]["source"] == "new"


async def test_restore_to_an_existing_file_is_a_409(jp_fetch, seed, jp_root_dir):
    version = seed.version("nb.ipynb", notebook_json("old"))
    write_notebook(jp_root_dir / "taken.ipynb", notebook_json("mine"))
    body = await expect_error(
        jp_fetch, "mlops", "api", "notebook_versions", str(version), "restore",
        method="POST", body=json.dumps({"path": "taken.ipynb"}), code=409,
    )  # fmt: skip
    assert "taken.ipynb" in body["message"]
    assert json.loads((jp_root_dir / "taken.ipynb").read_text())["cells"][0]["source"] == "mine"


async def test_restore_to_a_chosen_name(jp_fetch, seed, jp_root_dir):
    # Given
    version = seed.version("nb.ipynb", notebook_json("old"))
    (jp_root_dir / "copies").mkdir()
    # When
    data = await fetch_json(
        jp_fetch, "mlops", "api", "notebook_versions", str(version), "restore",
        method="POST", body=json.dumps({"path": "copies/back.ipynb"}),
    )  # fmt: skip
    # Then
    assert data["path"] == "copies/back.ipynb"
    assert (jp_root_dir / "copies" / "back.ipynb").exists()


@pytest.mark.parametrize("body", ['{"path": 3}', "not json", '{"path": "x.txt"}', '{"unknown": 1}'])
async def test_restore_rejects_bad_bodies(jp_fetch, seed, body):
    version = seed.version("nb.ipynb", notebook_json("old"))
    await expect_error(
        jp_fetch, "mlops", "api", "notebook_versions", str(version), "restore",
        method="POST", body=body, code=400,
    )  # fmt: skip


TRAVERSALS = ["../escape.ipynb", "/etc/passwd", "a/../../escape.ipynb", "%2e%2e/escape.ipynb",
              "..%2Fescape.ipynb", "C:\\x.ipynb", "..\\escape.ipynb"]  # fmt: skip


@pytest.mark.parametrize("bad", TRAVERSALS)
async def test_paths_cannot_leave_the_root(jp_fetch, seed, bad, jp_root_dir):
    version = seed.version("nb.ipynb", notebook_json("old"))
    await expect_error(
        jp_fetch, "mlops", "api", "notebook_versions", params={"path": bad}, code=400
    )
    await expect_error(
        jp_fetch, "mlops", "api", "notebook_diffs",
        params={"a": str(version), "b": "current", "path": bad}, code=400,
    )  # fmt: skip
    await expect_error(
        jp_fetch, "mlops", "api", "notebook_versions", str(version), "restore",
        method="POST", body=json.dumps({"path": bad}), code=400,
    )  # fmt: skip
    assert not (jp_root_dir.parent / "escape.ipynb").exists()


async def test_a_symlink_out_of_the_root_is_rejected(jp_fetch, seed, jp_root_dir, tmp_path):
    # Given a folder inside the root that links to a folder outside it
    outside = tmp_path / "outside"
    outside.mkdir()
    write_notebook(outside / "private.ipynb", notebook_json("secret = 42"))
    os.symlink(outside, jp_root_dir / "link")
    version = seed.version("nb.ipynb", notebook_json("old"))
    # When / Then: reading through the link and restoring into it are refused
    body = await expect_error(
        jp_fetch, "mlops", "api", "notebook_diffs",
        params={"a": str(version), "b": "current", "path": "link/private.ipynb"}, code=400,
    )  # fmt: skip
    assert "outside" in body["message"]
    await expect_error(
        jp_fetch, "mlops", "api", "notebook_versions", str(version), "restore",
        method="POST", body=json.dumps({"path": "link/new.ipynb"}), code=400,
    )  # fmt: skip
    assert not (outside / "new.ipynb").exists()
