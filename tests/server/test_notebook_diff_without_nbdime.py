"""The panel's notebook diff on a server without nbdime: a JSON answer naming the fix."""

from __future__ import annotations

import json
import sys

import pytest
from server_helpers import notebook_json
from tornado.httpclient import HTTPClientError


async def test_the_diff_route_answers_the_missing_extra_and_its_fix(jp_fetch, seed, monkeypatch):
    # Given two notebook versions, and a server whose Python cannot import nbdime (the [lab]
    # extra only partly installed)
    a = seed.version("nb.ipynb", notebook_json("C = 0.1"))
    b = seed.version("nb.ipynb", notebook_json("C = 1.0"))
    monkeypatch.setitem(sys.modules, "nbdime", None)
    # When the panel asks for their diff
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("mlops", "api", "notebook_diffs", params={"a": str(a), "b": str(b)})
    # Then the answer is JSON with one readable message naming the fix, and no traceback
    response = info.value.response
    assert info.value.code == 500
    assert response.headers["Content-Type"].startswith("application/json")
    body = json.loads(response.body)
    assert body["message"] == (
        "The notebook diff needs the [lab] extra, which is not installed (missing: nbdime). "
        'Fix: pip install "jupyter-mlops[lab]"'
    )
    assert "Traceback" not in response.body.decode() and 'File "' not in response.body.decode()


async def test_the_rest_of_the_panel_still_answers_without_nbdime(jp_fetch, seed, monkeypatch):
    # Given a server without nbdime: the versions list does not need it
    seed.version("nb.ipynb", notebook_json("a = 1"))
    monkeypatch.setitem(sys.modules, "nbdime", None)
    # When
    response = await jp_fetch("mlops", "api", "notebook_versions", params={"path": "nb.ipynb"})
    # Then
    assert response.code == 200
    assert len(json.loads(response.body)["versions"]) == 1
