"""mlops.yaml against a real store: export, dry run, apply, prune, through the real CLI."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from kernel_magics.cli import cli


def mlops(*args: str, code: int = 0):
    """Run ``mlops ARGS`` in process (the store is the test's, from MLOPS_HOME)."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def setup_of(store) -> dict:
    """Everything apply may change, as a user would list it."""
    return {
        **{("schedule", s.name): {"cron": s.cron, "timezone": s.timezone, "paused": s.paused,
                                  "parameters": s.parameters, "retries": s.retries,
                                  "notebook": s.notebook_path} for s in store.schedules.list()},
        **{("alert", a.name): {"model": a.model_ref, "when": list(a.conditions),
                               "window": a.window_s, "notify": list(a.notify),
                               "paused": a.paused} for a in store.alerts.list()},
        **{("automation", a.name): {**a.spec.to_dict(), "paused": not a.enabled}
           for a in store.automations.list()},
    }  # fmt: skip


def test_export_then_apply_is_a_no_op(store, project):
    # Given today's setup exported as the project's mlops.yaml
    out = mlops("export", "config", "-o", "mlops.yaml")
    assert "Wrote mlops.yaml" in out
    data = yaml.safe_load((project / "mlops.yaml").read_text())
    assert data["schedules"]["nightly"] == {
        "notebook": "train.ipynb", "cron": "0 3 * * *", "timezone": "Europe/Paris",
        "parameters": {"x": 3}, "retries": 2,
    }  # fmt: skip
    assert data["alerts"]["churn-errors"]["paused"] is True
    assert data["automations"]["retrain"]["steps"] == [
        {"run_notebook": {"notebook": "train.ipynb", "parameters": {"x": 5}}}
    ]
    before = setup_of(store)

    # When it is applied back, even with --prune
    out = mlops("apply", "--prune")

    # Then nothing changes
    assert out.strip() == "The store matches mlops.yaml: nothing to change."
    assert setup_of(store) == before
    assert json.loads(mlops("apply", "--dry-run", "--json"))["changes"] == []


def test_apply_changes_exactly_what_the_dry_run_showed(store, project):
    # Given the exported file, edited as a pull request would
    mlops("export", "config", "-o", "mlops.yaml")
    data = yaml.safe_load((project / "mlops.yaml").read_text())
    data["schedules"]["nightly"]["cron"] = "30 4 * * 1-5"
    data["schedules"]["nightly"]["parameters"] = {"x": 4, "name": "nightly"}
    del data["schedules"]["hourly"]  # no --prune: kept
    data["alerts"]["churn-errors"].pop("paused")  # resume it
    data["alerts"]["churn-latency"] = {"model": "churn", "when": ["latency.p99_ms > 250"],
                                       "window": "30m"}  # fmt: skip
    data["automations"]["retrain"]["retries"] = 3
    (project / "mlops.yaml").write_text(yaml.safe_dump(data))
    before = setup_of(store)

    # When the dry run is read, then the file applied
    plan = json.loads(mlops("apply", "--dry-run", "--json"))
    assert setup_of(store) == before  # a dry run changes nothing
    table = mlops("apply", "--dry-run")
    assert "cron: '0 3 * * *' -> '30 4 * * 1-5'" in table and "Dry run: nothing changed." in table
    mlops("apply")
    after = setup_of(store)

    # Then exactly the planned changes happened, field by field
    planned = {(c["kind"], c["name"]): c for c in plan["changes"]}
    assert {k: c["action"] for k, c in planned.items()} == {
        ("schedule", "nightly"): "update",
        ("alert", "churn-errors"): "update",
        ("alert", "churn-latency"): "create",
        ("automation", "retrain"): "update",
    }
    assert plan["unmanaged"] == [{"kind": "schedule", "name": "hourly"}]
    changed = {key for key in after if after[key] != before.get(key)}
    assert changed == set(planned)
    for key, change in planned.items():
        if change["action"] != "update":
            continue
        diff = {f: (before[key][f], after[key][f]) for f in after[key]
                if before[key][f] != after[key][f]}  # fmt: skip
        assert diff == {f["field"]: (f["old"], f["new"]) for f in change["fields"]}, key
    assert after[("alert", "churn-latency")]["window"] == 1800.0
    assert after[("schedule", "hourly")] == before[("schedule", "hourly")]
    assert json.loads(mlops("apply", "--dry-run", "--json"))["changes"] == []


def test_prune_only_removes_with_the_flag(store, project):
    mlops("export", "config", "-o", "mlops.yaml")
    data = yaml.safe_load((project / "mlops.yaml").read_text())
    del data["schedules"]["hourly"], data["automations"]["retrain"]
    (project / "mlops.yaml").write_text(yaml.safe_dump(data))

    # Without --prune: listed as not in the file, left as they are
    out = mlops("apply")
    assert "nothing to change" in out and "schedule hourly" in out and "automation retrain" in out
    assert not store.schedules.get("hourly").paused and store.automations.get("retrain").enabled

    # --prune pauses them (history kept); applying again is a no-op
    plan = json.loads(mlops("apply", "--prune", "--dry-run", "--json"))
    assert [(c["action"], c["name"]) for c in plan["changes"]] == [
        ("pause", "retrain"), ("pause", "hourly")]  # fmt: skip
    mlops("apply", "--prune")
    assert store.schedules.get("hourly").paused and not store.automations.get("retrain").enabled
    assert "nothing to change" in mlops("apply", "--prune")

    # --prune --delete deletes them
    mlops("apply", "--prune", "--delete")
    assert [s.name for s in store.schedules.list()] == ["nightly"]
    assert store.automations.list() == []
    assert "--delete only goes with --prune" in mlops("apply", "--delete", code=2)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["schedules"]["nightly"].update(cron="61 * * * *"),
         "mlops.yaml: schedules.nightly: "),
        (lambda d: d["schedules"]["nightly"].update(notebook="gone.ipynb"),
         "schedules.nightly: Cannot schedule"),
        (lambda d: d["schedules"]["nightly"].update(parameters={"nope": 1}),
         "schedules.nightly: "),
        (lambda d: d["alerts"]["churn-acc"].update(when=["acuracy < 0.8"]),
         "alerts.churn-acc: "),
        (lambda d: d["automations"]["retrain"].update(trigger={"weekly": 1}),
         "automations.retrain: "),
        (lambda d: d.update(schedule={}), "unknown key(s) 'schedule'"),
        (lambda d: d["schedules"]["nightly"].update(cronn="0 3 * * *"),
         "unknown key(s) 'cronn'; schedule keys are notebook, cron,"),
    ],
)  # fmt: skip
def test_a_bad_file_is_refused_before_any_change(store, project, edit, message):
    mlops("export", "config", "-o", "mlops.yaml")
    data = yaml.safe_load((project / "mlops.yaml").read_text())
    data["schedules"]["nightly"]["retries"] = 5  # a valid change that must not be applied
    edit(data)
    (project / "mlops.yaml").write_text(yaml.safe_dump(data))
    before = setup_of(store)

    from kernel_magics.core.gitops import load_config
    from kernel_magics.errors import ValidationError

    with pytest.raises(ValidationError) as err:
        load_config(project / "mlops.yaml")
    assert message in str(err.value)
    result = CliRunner().invoke(cli, ["apply"])
    assert result.exit_code != 0
    assert setup_of(store) == before


def test_a_missing_file_says_how_to_start_one(store, project):
    from kernel_magics.core.gitops import load_config
    from kernel_magics.errors import ValidationError

    with pytest.raises(ValidationError, match="mlops export config -o mlops.yaml"):
        load_config(project / "mlops.yaml")
