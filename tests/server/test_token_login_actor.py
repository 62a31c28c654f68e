"""Who signs a panel change when JupyterLab is logged in with its token (the default).

Jupyter's stock identity provider knows a shared token, not a person: it calls each browser a
random "Anonymous" id. A user of `make lab` saw their notes and alias moves signed
``774de947c4...``; they must be signed by the OS user who started the server, as the CLI's are.
"""

from __future__ import annotations

import json

from server_helpers import fetch_json

from kernel_magics.core.actor import os_user


async def test_a_token_login_signs_notes_and_audit_entries_as_the_os_user(jp_fetch, store):
    # Given a run
    exp = store.experiments.get_or_create("churn")
    run_id = store.runs.create(exp, name="lr", source="api")
    store.runs.finish(run_id, "finished")
    # When a note is added through the panel's route with the server's token
    body = {"kind": "run", "target": run_id, "text": "good baseline"}
    created = await fetch_json(jp_fetch, "mlops", "api", "notes", method="POST",
                               body=json.dumps(body))  # fmt: skip
    # Then the note and its audit entry name the person running the server, not a random id
    assert created["author"] == os_user()
    entries = await fetch_json(jp_fetch, "mlops", "api", "audit", params={"kind": "note"})
    assert [e["actor"] for e in entries["entries"]] == [os_user()]
