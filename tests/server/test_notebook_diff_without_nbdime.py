"""The panel's notebook diff when it cannot be made: nbdime missing, a version's content pruned."""

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


async def test_a_diff_with_a_pruned_version_answers_what_is_missing(jp_fetch, seed, store):
    # Given two versions, the older one's content since removed from the artifact store
    # (as `mlops gc` does to unreferenced blobs)
    a = seed.version("nb.ipynb", notebook_json("C = 0.1"))
    b = seed.version("nb.ipynb", notebook_json("C = 1.0"))
    from kernel_magics.core.notebooks import get_notebook_version

    store.blobs.delete(get_notebook_version(store, a).blob_hash)
    # When
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("mlops", "api", "notebook_diffs", params={"a": str(a), "b": str(b)})
    # Then a JSON message saying what is missing (the Compare view shows it in its diff
    # section), no traceback
    body = info.value.response.body.decode()
    assert "Traceback" not in body
    message = json.loads(body)["message"]
    assert "is missing from the artifact store $MLOPS_HOME/artifacts" in message
    # and no absolute path of the server: the store lives outside the Jupyter root
    assert str(store.location.home) not in body and store.location.artifacts_uri not in body
