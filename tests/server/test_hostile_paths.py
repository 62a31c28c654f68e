"""Hostile and careless paths against the notebook routes (issue 13, "The server extension").

What users and a fuzzer saw: a restore with ``{"next_to": "."}`` wrote into the parent of the
Jupyter root and answered ``201 {"path": null}``; a restore into a missing folder, a file name
too long for the filesystem and a ``%2f`` in a JSON body (decoded a second time) gave bare 500s;
``?token=`` was refused on the GET routes with a query model; a 404 showed the server's
absolute root.
"""

from __future__ import annotations

import json
import os

import pytest
from server_helpers import fetch_json, notebook_json, write_notebook
from tornado.httpclient import HTTPClientError


async def answer(jp_fetch, *parts, **kwargs) -> tuple[int, str]:
    """Status and body of a request, error or not."""
    try:
        response = await jp_fetch(*parts, **kwargs)
    except HTTPClientError as exc:
        return exc.code, exc.response.body.decode() if exc.response else ""
    return response.code, response.body.decode()


def restore(version: int, body: dict) -> tuple[tuple, dict]:
    """The path parts and keyword arguments of a restore request."""
    parts = ("mlops", "api", "notebook_versions", str(version), "restore")
    return parts, {"method": "POST", "body": json.dumps(body)}


async def restore_answer(jp_fetch, version: int, body: dict) -> tuple[int, str]:
    """Status and body of a restore."""
    parts, kwargs = restore(version, body)
    return await answer(jp_fetch, *parts, **kwargs)


async def test_restore_next_to_the_root_itself_stays_inside_the_root(jp_fetch, seed, jp_root_dir):
    # Given a version of a notebook at the top of the root
    version = seed.version("nb.ipynb", notebook_json("old"))
    before = set(os.listdir(jp_root_dir.parent))
    # When restored "next to ." (the root folder)
    parts, kwargs = restore(version, {"next_to": "."})
    data = await fetch_json(jp_fetch, *parts, **kwargs)
    # Then the copy is inside the root, named after the notebook, and reported by its path
    assert data["path"] == f"nb.v{version}.ipynb"
    assert json.loads((jp_root_dir / data["path"]).read_text())["cells"][0]["source"] == "old"
    # And nothing appeared beside the root
    assert set(os.listdir(jp_root_dir.parent)) == before


async def test_restore_into_a_folder_or_next_to_a_notebook(jp_fetch, seed, jp_root_dir):
    version = seed.version("work/nb.ipynb", notebook_json("old"))
    (jp_root_dir / "copies").mkdir()
    write_notebook(jp_root_dir / "other" / "train.ipynb", notebook_json("x"))
    _, into = await restore_answer(jp_fetch, version, {"next_to": "copies"})
    _, beside = await restore_answer(jp_fetch, version, {"next_to": "other/train.ipynb"})
    into, beside = json.loads(into), json.loads(beside)
    assert into["path"] == f"copies/nb.v{version}.ipynb"
    assert beside["path"] == f"other/train.v{version}.ipynb"


@pytest.mark.parametrize("body", [{"path": "missing/deeper/x.ipynb"},
                                  {"next_to": "missing/deeper/x.ipynb"}])  # fmt: skip
async def test_restore_into_a_missing_folder_is_a_404_naming_it(jp_fetch, seed, body):
    version = seed.version("nb.ipynb", notebook_json("old"))
    code, text = await restore_answer(jp_fetch, version, body)
    assert code == 404, text
    assert "missing/deeper" in json.loads(text)["message"]
    assert "create it first" in json.loads(text)["message"]


async def test_a_percent_escape_in_a_json_body_is_not_decoded_again(jp_fetch, seed, jp_root_dir):
    # Given a folder "sub": "sub%2fx.ipynb" used to be decoded into "sub/x.ipynb"
    version = seed.version("nb.ipynb", notebook_json("old"))
    (jp_root_dir / "sub").mkdir()
    # When
    body = {"path": "sub%2fx.ipynb"}
    code, text = await restore_answer(jp_fetch, version, body)
    # Then it is refused, saying why, and nothing was written
    assert code == 400, text
    assert "percent-encoded" in json.loads(text)["message"]
    assert not (jp_root_dir / "sub" / "x.ipynb").exists()


async def test_a_missing_current_notebook_is_a_404_relative_to_the_root(
    jp_fetch, seed, jp_root_dir
):
    version = seed.version("nb.ipynb", notebook_json("old"))
    params = {"a": str(version), "b": "current", "path": "gone/nb.ipynb"}
    code, text = await answer(jp_fetch, "mlops", "api", "notebook_diffs", params=params)
    assert code == 404
    assert "'gone/nb.ipynb'" in json.loads(text)["message"]
    assert str(jp_root_dir) not in text and os.path.realpath(jp_root_dir) not in text


async def test_get_routes_accept_jupyters_token_argument(
    seed, http_server_client, jp_base_url, jp_serverapp
):
    # Given a run with a metric and an artifact, and a notebook version
    run_id = seed.run("e", metrics={"acc": 0.5})
    seed.artifact(run_id, "a.txt", b"x")
    version = seed.version("nb.ipynb", notebook_json("a"))
    token = jp_serverapp.identity_provider.token
    urls = [
        "runs?limit=5",
        f"runs/{run_id}/metrics/acc?max_points=10",
        f"runs/{run_id}/artifacts/a.txt?download=1",
        "notebook_versions?path=nb.ipynb",
        f"notebook_diffs?a={version}&b={version}",
    ]
    for url in urls:
        # When authenticated by ?token= only, as Jupyter's own routes allow
        response = await http_server_client.fetch(f"{jp_base_url}mlops/api/{url}&token={token}")
        # Then
        assert response.code == 200, url


LONG = "n" * 300 + ".ipynb"
HOSTILE = ["..", "../x.ipynb", "/etc/passwd", "%2e%2e/x.ipynb", "a%2Fb.ipynb", "x\x00y.ipynb",
           LONG, f"sub/{LONG}", "missing/deeper/x.ipynb", "link/x.ipynb", "link", "C:\\x.ipynb",
           ".", "nb.ipynb/inner.ipynb"]  # fmt: skip


@pytest.mark.parametrize("hostile", HOSTILE, ids=lambda p: repr(p)[:30])
async def test_hostile_paths_get_a_4xx_that_names_no_server_path(
    jp_fetch, seed, jp_root_dir, tmp_path, hostile
):
    # Given a version, a folder and a symlink that leads out of the root
    version = seed.version("nb.ipynb", notebook_json("old"))
    (jp_root_dir / "sub").mkdir(exist_ok=True)
    outside = tmp_path / "outside-the-root"
    outside.mkdir(exist_ok=True)
    if not (jp_root_dir / "link").exists():
        os.symlink(outside, jp_root_dir / "link")
    api = ("mlops", "api")
    requests = [
        (*api, "notebook_versions", {"params": {"path": hostile}}),
        (*api, "notebook_diffs", {"params": {"a": str(version), "b": "current", "path": hostile}}),
        (*api, "runs", {"params": {"notebook": hostile}}),
    ]
    requests += [(*parts, kwargs) for parts, kwargs in
                 (restore(version, {"path": hostile}), restore(version, {"next_to": hostile}))]  # fmt: skip
    for *parts, kwargs in requests:
        # When
        code, text = await answer(jp_fetch, *parts, **kwargs)
        # Then never a 500, never a file outside the root, never a server path or the input echoed
        where = f"{parts[-1]} {kwargs}"[:120]
        assert code < 500, f"{where}: {code} {text}"
        for secret in {str(jp_root_dir), os.path.realpath(jp_root_dir), str(tmp_path)}:
            assert secret not in text, where
        if len(hostile) > 40 or "%" in hostile or "\x00" in hostile:
            assert hostile[:40] not in text and json.dumps(hostile)[1:-1][:40] not in text, where
        if code == 201:
            written = json.loads(text)["path"]
            assert written and (jp_root_dir / written).is_file(), where
    assert os.listdir(outside) == []


async def test_numbers_beyond_any_database_column_are_client_errors(jp_fetch, seed):
    # Given ids and offsets a fuzzer sends: larger than a 64-bit integer column holds
    version = seed.version("nb.ipynb", notebook_json("a"))
    huge = "9" * 30
    requests = [
        (("notebook_versions", huge), {}, 404),
        (("notebook_versions", huge, "restore"), {"method": "POST", "body": "{}"}, 404),
        (("notebook_diffs",), {"params": {"a": huge, "b": str(version)}}, 400),
        (("runs",), {"params": {"offset": huge}}, 400),
    ]
    for parts, kwargs, expected in requests:
        # When / Then a 4xx that says so, not an overflow in the database driver (500)
        code, text = await answer(jp_fetch, "mlops", "api", *parts, **kwargs)
        assert code == expected, f"{parts}: {code} {text}"
