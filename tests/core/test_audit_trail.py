"""The audit trail: every kind of change records who and when, in the change's transaction.

Changes go through the real repositories on a real SQLite file (and PostgreSQL where marked);
the CLI is the installed ``mlops`` console script in a subprocess, as a user runs it.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kernel_magics.core.actor import acting_as, current_actor
from kernel_magics.core.store.audit import record_change
from kernel_magics.errors import ConflictError, ModelNotFoundError, RunNotFoundError

MLOPS = str(Path(sys.executable).with_name("mlops"))


def register(store, name: str = "churn", versions: int = 2) -> None:
    """Register ``versions`` versions of a small real scikit-learn model."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from kernel_magics.core.registry.api import log_model

    frame = pd.DataFrame({"tenure": [1, 5, 9, 12, 30, 40], "plan": [0, 1, 0, 1, 1, 0]})
    model = LogisticRegression().fit(frame, [0, 0, 1, 1, 1, 0])
    for _ in range(versions):
        log_model(model, name, frame, store=store)


def changes(store, **filters) -> list[tuple[str, str, str, str]]:
    """``(actor, kind, target, action)`` of every entry, oldest first."""
    entries = store.audit.list(limit=1000, **filters).entries
    return [(e.actor, e.kind, e.target, e.action) for e in reversed(entries)]


def mlops(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([MLOPS, *args], capture_output=True, text=True, env=env, timeout=120)


def test_alias_moves_record_set_move_rollback_and_delete(store):
    # Given two versions of churn
    register(store)
    me = getpass.getuser()
    # When the alias is set, moved, rolled back and deleted
    store.models.set_alias("churn", "production", 1)
    store.models.set_alias("churn", "production", 2)
    store.models.set_alias("churn", "production", 2)  # no move: nothing to record
    store.models.set_alias("churn", "production", 1, reason="rollback from v2")
    store.models.delete_alias("churn", "production")
    # Then each real move is one entry, by the OS user, with its versions
    assert changes(store, kind="alias") == [
        (me, "alias", "churn@production", "set"),
        (me, "alias", "churn@production", "move"),
        (me, "alias", "churn@production", "rollback"),
        (me, "alias", "churn@production", "delete"),
    ]
    newest = store.audit.list(kind="alias").entries
    assert newest[1].detail == {"from_version": 2, "to_version": 1, "reason": "rollback from v2"}
    assert newest[0].detail["to_version"] is None


def test_the_alias_history_names_who_moved_the_alias(store):
    # Given churn@production set at the OS user's terminal, then moved by a Jupyter user
    register(store)
    me = getpass.getuser()
    store.models.set_alias("churn", "production", 1)
    with acting_as("ada"):
        moved = store.models.set_alias("churn", "production", 2, reason="won the A/B test")
        gone = store.models.delete_alias("churn", "production")
    # Then each move says who made it, as returned and as stored
    assert (moved.actor, gone.actor) == ("ada", "ada")
    history = store.models.alias_history("churn", "production")
    assert [(m.from_version, m.to_version, m.actor) for m in history] == [
        (None, 1, me), (1, 2, "ada"), (2, None, "ada")
    ]  # fmt: skip
    # and `mlops models show churn` has a Who column with them
    env = {**os.environ, "COLUMNS": "200"}  # MLOPS_HOME: this test's store
    shown = mlops("models", "show", "churn", env=env)
    assert shown.returncode == 0, shown.stderr
    cells = [
        [c.strip() for c in re.split("[┃│]", line)[1:-1]] for line in shown.stdout.splitlines()
    ]
    header = next(c for c in cells if "Alias" in c and "Who" in c)
    assert header == ["When", "Alias", "From", "To", "Who", "Reason"], shown.stdout
    moves = [c[1:] for c in cells if len(c) == len(header) and c[1] == "production"]
    assert moves == [
        ["production", "", "1", me, ""],
        ["production", "1", "2", "ada", "won the A/B test"],
        ["production", "2", "(deleted)", "ada", ""],
    ], shown.stdout


def test_deployments_schedules_alerts_and_notes_record(store):
    # Given a registered version
    from kernel_magics.core.registry import parse_ref, registry
    from kernel_magics.core.store.schedules import ScheduleOptions

    register(store, versions=1)
    version_id = registry(store).get_version(parse_ref("churn/1")).id
    # When a person deploys and stops, schedules, alerts and notes
    dep = store.deployments.create(version_id, None, "127.0.0.1", 8123)
    store.deployments.update(dep, "exited", "the server process ended", status="stopped")
    store.deployments.update(dep, "stopped", "stopped by request", status="stopped")
    store.schedules.create("nightly", "/nb/train.ipynb", ScheduleOptions(cron="@daily",
                           timezone="UTC"))  # fmt: skip
    store.schedules.set_paused("nightly", True)
    store.schedules.set_paused("nightly", False)
    store.schedules.delete("nightly")
    store.alerts.create("churn-quality", "churn@production", ["accuracy < 0.8"], 3600, [])
    store.alerts.set_paused("churn-quality", True)
    store.alerts.set_paused("churn-quality", False)
    store.alerts.delete("churn-quality")
    store.notes.add("model_version", "churn/1", "approved by risk")
    store.notes.add("deployment", str(dep), "serving the Q3 campaign")
    # Then every change is listed, the server's own exit not being a person's stop
    me = getpass.getuser()
    assert [c for c in changes(store) if c[1] != "alias"] == [
        (me, "deployment", f"deployment {dep}", "create"),
        (me, "deployment", f"deployment {dep}", "stop"),
        (me, "schedule", "nightly", "create"),
        (me, "schedule", "nightly", "pause"),
        (me, "schedule", "nightly", "resume"),
        (me, "schedule", "nightly", "delete"),
        (me, "alert", "churn-quality", "create"),
        (me, "alert", "churn-quality", "pause"),
        (me, "alert", "churn-quality", "resume"),
        (me, "alert", "churn-quality", "delete"),
        (me, "note", "churn/1", "create"),
        (me, "note", f"deployment {dep}", "create"),
    ]
    created = store.audit.list(kind="deployment", target=f"deployment {dep}").entries[-1]
    assert created.detail == {"model": "churn", "version": 1, "alias": None,
                              "address": "127.0.0.1:8123"}  # fmt: skip


def test_a_failed_change_records_nothing(store):
    # Given a schedule and a model
    from kernel_magics.core.store.schedules import ScheduleOptions

    register(store, versions=1)
    store.schedules.create("nightly", "/nb/a.ipynb", ScheduleOptions(cron="@daily", timezone="UTC"))
    before = changes(store)
    # When changes fail: a duplicate name, a missing version, a note on no run
    with pytest.raises(ConflictError):
        store.schedules.create(
            "nightly", "/nb/b.ipynb", ScheduleOptions(cron="@daily", timezone="UTC")
        )
    with pytest.raises(ModelNotFoundError):
        store.models.set_alias("churn", "production", 9)
    with pytest.raises(RunNotFoundError):
        store.notes.add("run", "0" * 32, "on nothing")
    # And a change that fails after recording, inside its transaction
    with pytest.raises(RuntimeError), store.db.write() as conn:
        record_change(conn, "schedule", "nightly", "delete")
        raise RuntimeError("the change failed halfway")
    # Then nothing new is in the trail
    assert changes(store) == before
    assert store.notes.list("run", "0" * 32) == []


def test_acting_as_names_the_actor_and_restores_it():
    # Given the OS user
    me = current_actor()
    # When / Then
    with acting_as("ada"):
        assert current_actor() == "ada"
        with acting_as("grace"):
            assert current_actor() == "grace"
        assert current_actor() == "ada"
    assert current_actor() == me == getpass.getuser()


def test_listing_filters_by_since_kind_target_and_pages(store):
    # Given changes to two models' aliases and a schedule
    from kernel_magics.core.store.schedules import ScheduleOptions

    register(store, "churn", 2)
    register(store, "churn_v2", 1)
    store.models.set_alias("churn", "production", 1)
    store.models.set_alias("churn", "staging", 2)
    store.models.set_alias("churn_v2", "production", 1)
    store.schedules.create("churn", "/nb/a.ipynb", ScheduleOptions(cron="@daily", timezone="UTC"))
    # When / Then a target matches itself and the targets inside it, not a longer name
    assert [c[2] for c in changes(store, target="churn")] == [
        "churn@production", "churn@staging", "churn"]  # fmt: skip
    assert [c[2] for c in changes(store, kind="alias", target="churn_v2")] == [
        "churn_v2@production"
    ]
    # A LIKE wildcard in a target is matched literally
    assert changes(store, target="churn%") == []
    # since
    newest = store.audit.list().entries[0]
    assert [e.id for e in store.audit.list(since=newest.at).entries] == [newest.id]
    # pages, newest first, until next_before is None
    first = store.audit.list(limit=3)
    second = store.audit.list(limit=3, before=first.next_before)
    assert [e.id for e in first.entries + second.entries] == [4, 3, 2, 1]
    assert second.next_before is None


def test_cli_changes_carry_the_os_user_and_mlops_audit_lists_them(store):
    # Given a model, changed from the real CLI in another process
    register(store)
    env = dict(os.environ)
    assert mlops("models", "alias", "churn", "production", "1", env=env).returncode == 0
    noted = mlops("note", "churn@production", "first production version", env=env)
    assert noted.returncode == 0, noted.stderr
    # When
    listed = mlops("audit", "--since", "1h", "--json", env=env)
    table = mlops("audit", "--kind", "alias", env={**env, "COLUMNS": "160"})
    # Then both changes carry the OS user, newest first
    entries = json.loads(listed.stdout)
    assert [(e["actor"], e["kind"], e["target"], e["action"]) for e in entries] == [
        (getpass.getuser(), "note", "churn/1", "create"),
        (getpass.getuser(), "alias", "churn@production", "set"),
    ]
    assert "churn@production" in table.stdout and "churn/1" not in table.stdout
    # And the note lists back with its author
    shown = mlops("note", "churn/1", "--json", env=env)
    assert [(n["author"], n["text"]) for n in json.loads(shown.stdout)] == [
        (getpass.getuser(), "first production version")
    ]


def test_cli_refuses_bad_input_before_writing(store):
    # When / Then
    bad_since = mlops("audit", "--since", "yesterday")
    assert bad_since.returncode != 0 and "not a duration" in bad_since.stderr
    bad_kind = mlops("audit", "--kind", "nothing")
    assert bad_kind.returncode != 0 and "alias" in bad_kind.stderr
    no_run = mlops("note", "abcd1234", "text")
    assert no_run.returncode != 0 and "No run id starts with" in no_run.stderr
    empty = mlops("note", "deployment:3", "  ")
    assert empty.returncode != 0
    assert changes(store) == []


@pytest.mark.postgres
def test_a_change_through_one_store_is_listed_by_another_on_postgres(pg_url, tmp_path):
    # Given two store objects on one PostgreSQL database (two people's processes)
    from kernel_magics.core.config import StoreLocation
    from kernel_magics.core.store import Store

    location = StoreLocation(store_uri=pg_url, artifacts_uri=str(tmp_path / "artifacts"),
                             home=None, reason="test")  # fmt: skip
    first, second = Store(location), Store(location)
    try:
        register(first, versions=1)
        # When one of them moves an alias as ada
        with acting_as("ada"):
            first.models.set_alias("churn", "production", 1)
        # Then the other lists it
        assert changes(second) == [("ada", "alias", "churn@production", "set")]
    finally:
        first.close()
        second.close()


def test_model_edits_and_deletions_record(store):
    # Given two versions of churn
    from kernel_magics.core.registry import parse_ref

    register(store)
    # When a person describes, tags and deletes
    store.models.set_description(parse_ref("churn"), "Churn in 30 days")
    store.models.set_description(parse_ref("churn/2"), "More data")
    store.models.set_model_tags("churn", {"team": "growth"})
    store.models.set_version_tags(parse_ref("churn/2"), {"reviewed": "yes"})
    store.models.delete_version_tags(parse_ref("churn/2"), ["reviewed"])
    store.models.delete_model_tags("churn", ["team"])
    store.models.delete(parse_ref("churn/1"))
    # Then
    me = getpass.getuser()
    assert changes(store, kind="model") == [
        (me, "model", "churn", "describe"),
        (me, "model", "churn/2", "describe"),
        (me, "model", "churn", "tag"),
        (me, "model", "churn/2", "tag"),
        (me, "model", "churn/2", "untag"),
        (me, "model", "churn", "untag"),
        (me, "model", "churn/1", "delete"),
    ]
    assert store.audit.list(kind="model").entries[0].detail == {"versions": [1]}


def test_notes_go_with_what_they_are_on(store):
    # Given notes on churn/2 (typed as churn/02), on a run, and on its child run
    from kernel_magics.core.registry import parse_ref

    register(store)
    store.notes.add("model_version", "churn/02", "Leaks the label: do not ship")
    exp = store.experiments.get_or_create("churn")
    parent = store.runs.create(exp, name="sweep", source="api")
    child = store.runs.create(exp, name="trial", source="api", parent_run_id=parent)
    for run_id in (parent, child):
        store.runs.finish(run_id, "finished")
        store.notes.add("run", run_id, f"note on {run_id}")
    assert [n.target for n in store.notes.list("model_version", "churn/2")] == ["churn/2"]
    # When churn/2 is deleted and a new version takes its number, and the sweep is deleted
    store.models.delete(parse_ref("churn/2"))
    register(store, versions=1)
    store.runs.delete(parent)
    # Then the new churn/2 has no notes of the deleted one, and no note outlives its run
    assert store.models.get_version(parse_ref("churn/2")).version == 2
    assert store.notes.list("model_version", "churn/2") == []
    assert store.notes.list("run", parent) == store.notes.list("run", child) == []


def test_a_note_on_last_goes_on_the_newest_run(store):
    # Given two runs, the second the newest
    from kernel_magics.core.notes import note, notes

    exp = store.experiments.get_or_create("churn")
    older = store.runs.create(exp, name="a", source="api")
    store.runs.finish(older, "finished")
    newest = store.runs.create(exp, name="b", source="api")
    store.runs.finish(newest, "finished")
    # When a note is put on `last`, as `mlops show last` and `mlops report last` name it
    note("last", "the one to ship", store=store)
    # Then it is on the newest run
    assert [n.text for n in notes(newest, store=store)] == ["the one to ship"]
    assert notes(older, store=store) == []
