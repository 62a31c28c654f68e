"""The store's setup in ``mlops.yaml`` form: what ``mlops apply`` compares with, and exports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..store import Store
from .config import (
    Config,
    Entry,
    alert_values,
    automation_from_spec,
    display_path,
    schedule_from_options,
)

#: Schedule fields written on export only when they differ from the default.
SCHEDULE_DEFAULTS: dict[str, Any] = {"parameters": {}, "experiment": None, "kernel": None,
                                     "timeout": None, "retries": 0, "retry_delay": 60.0,
                                     "catchup": "latest", "notify_command": None,
                                     "notify_webhook": None}  # fmt: skip
#: Automation fields written on export only when they differ from the default.
AUTOMATION_DEFAULTS: dict[str, Any] = {"retries": 0, "retry_delay": 60.0, "timeout": None}


def store_config(store: Store, root: Path) -> Config:
    """Every schedule, alert rule and automation of the store, as comparable entries."""
    config = Config(root)
    for record in store.schedules.list():
        config.add(schedule_from_options(record.name, record.notebook_path, record, record.paused))
    for rule in store.alerts.list():
        config.add(alert_values(rule.name, rule.model_ref, list(rule.conditions), rule.window_s,
                                list(rule.notify), rule.paused))  # fmt: skip
    for automation in store.automations.list():
        config.add(automation_from_spec(automation.spec))
    return config


def _relative_steps(steps: list[dict[str, Any]], root: Path) -> list[dict[str, Any]]:
    out = []
    for step in steps:
        ((kind, options),) = step.items()
        options = dict(options or {})
        for key in ("notebook", "test_file"):
            if isinstance(options.get(key), str):
                options[key] = display_path(options[key], root)
        out.append({kind: options})
    return out


def entry_to_file(entry: Entry, root: Path) -> dict[str, Any]:
    """An entry as ``mlops.yaml`` writes it: defaults left out, paths relative to the file."""
    values = dict(entry.values)
    if entry.kind == "schedule":
        out: dict[str, Any] = {
            "notebook": display_path(values.pop("notebook"), root),
            "cron": values.pop("cron"),
            "timezone": values.pop("timezone"),
        }
        out.update({k: v for k, v in values.items() if SCHEDULE_DEFAULTS.get(k, object()) != v})
        if entry.paused:
            out["paused"] = True
        return out
    if entry.kind == "alert":
        out = {k: v for k, v in values.items() if not (k == "notify" and not v)}
        if entry.paused:
            out["paused"] = True
        return out
    out = {"trigger": values["trigger"], "steps": _relative_steps(values["steps"], root)}
    out.update({k: values[k] for k, d in AUTOMATION_DEFAULTS.items() if values.get(k) != d})
    if entry.paused:
        out["enabled"] = False
    return out


def export_config(store: Store, root: Path) -> str:
    """Today's setup as the text of ``mlops.yaml`` (applying it back changes nothing).

    Parameters
    ----------
    store : Store
        Where the schedules, alerts and automations are read from.
    root : Path
        The folder the file will live in: notebook paths under it are written relative to it.
    """
    import yaml

    config = store_config(store, root)
    data: dict[str, Any] = {"version": 1}
    for section, kind in (("schedules", "schedule"), ("alerts", "alert"),
                          ("automations", "automation")):  # fmt: skip
        items = {name: entry_to_file(e, root) for name, e in sorted(config.entries[kind].items())}
        if items:
            data[section] = items
    header = ("# The schedules, alerts and automations of this project (mlops export config).\n"
              "# Change it and run `mlops apply --dry-run`, then `mlops apply`.\n")  # fmt: skip
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
