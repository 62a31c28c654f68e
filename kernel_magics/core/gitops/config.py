"""``mlops.yaml``: the schedules, alerts and automations a project declares, read and checked.

::

    version: 1
    schedules:
      nightly-train:
        notebook: notebooks/train.ipynb   # relative to this file's folder
        cron: "0 3 * * *"
        timezone: Europe/Paris
        parameters: {C: 0.1}
        retries: 1
    alerts:
      churn-accuracy:
        model: churn@production
        when: ["accuracy < 0.85"]
        window: 1h
        notify: ["webhook:https://hooks.example.com/mlops"]
    automations:
      retrain-churn:                      # an AutomationSpec without its name
        trigger: {alert: churn-accuracy}
        steps:
          - run_notebook: {notebook: notebooks/train.ipynb}
          - test: {}

Each entry is validated with the same checks as ``mlops schedule add``, ``mlops alerts add`` and
``mlops automation add``, and normalized (timezone resolved, notebook made absolute, conditions
spelled one way), so comparing the file with the store compares like with like. ``paused:
true`` (schedules, alerts) and ``enabled: false`` (automations) declare a paused entry.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ...errors import ValidationError

KINDS = ("schedule", "alert", "automation")
SECTIONS = {"schedules": "schedule", "alerts": "alert", "automations": "automation"}
TOP_KEYS = ("version", *SECTIONS)
FILE_NAME = "mlops.yaml"
SCHEDULE_KEYS = ("notebook", "cron", "timezone", "parameters", "experiment", "kernel", "timeout",
                 "retries", "retry_delay", "catchup", "notify_command", "notify_webhook",
                 "paused")  # fmt: skip
ALERT_KEYS = ("model", "when", "window", "notify", "paused")


@dataclass(frozen=True)
class Entry:
    """One declared (or stored) schedule, alert or automation, normalized for comparison.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
    name : str
        Unique within its kind.
    values : dict
        Every field with its default filled in (what is compared).
    paused : bool
        Whether it is declared (or stored) paused.
    source : Any
        What applying it needs: the validated ``ScheduleOptions``, the alert's parsed values,
        or the ``AutomationSpec``.
    """

    kind: str
    name: str
    values: dict[str, Any]
    paused: bool
    source: Any = field(default=None, compare=False)


@dataclass
class Config:
    """Every entry of a file (or of the store), by kind then name."""

    root: Path
    entries: dict[str, dict[str, Entry]] = field(
        default_factory=lambda: {kind: {} for kind in KINDS}
    )

    def add(self, entry: Entry) -> None:
        """Add an entry (the last of a name wins; the file parser refuses duplicates first)."""
        self.entries[entry.kind][entry.name] = entry

    def __iter__(self):
        for kind in KINDS:
            yield from self.entries[kind].values()


def window_text(seconds: float) -> str:
    """``3600`` -> ``1h``: the shortest unit that divides the window (as ``mlops alerts`` shows)."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def display_path(path: str, root: Path) -> str:
    """A notebook path as the file writes it: relative to the file's folder when under it."""
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def schedule_entry(name: str, data: Any, root: Path, where: str) -> Entry:
    """Validate a schedule mapping with the scheduler's own checks."""
    from ..scheduler.api import check_schedule
    from ..store.schedules import ScheduleOptions

    if not isinstance(data, dict):
        raise ValidationError(f"{where}: give a mapping with notebook and cron.")
    if len(name) > 255 or any(c.isspace() for c in name):
        raise ValidationError(f"{where}: a schedule name is 1-255 characters, no spaces.")
    unknown = [k for k in data if k not in SCHEDULE_KEYS]
    if unknown:
        raise ValidationError(
            f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; schedule keys are "
            f"{', '.join(SCHEDULE_KEYS)}."
        )
    for key in ("notebook", "cron"):
        if not data.get(key):
            raise ValidationError(f"{where}: {key!r} is missing (e.g. notebook: train.ipynb, "
                                  "cron: '0 3 * * *').")  # fmt: skip
    paused = data.get("paused", False)
    if not isinstance(paused, bool):
        raise ValidationError(f"{where}: 'paused' is true or false.")
    option_names = {f.name for f in fields(ScheduleOptions)}
    given = {k: v for k, v in data.items() if k in option_names}
    if given.get("parameters") is None:
        given.pop("parameters", None)
    try:
        options = ScheduleOptions(**given)
        notebook = Path(str(data["notebook"])).expanduser()
        path, checked = check_schedule(notebook if notebook.is_absolute() else root / notebook,
                                       options)  # fmt: skip
    except (ValidationError, TypeError) as exc:
        raise ValidationError(f"{where}: {exc}") from None
    return schedule_from_options(name, str(path), checked, paused)


def schedule_from_options(name: str, notebook: str, options: Any, paused: bool) -> Entry:
    """The comparable form of a schedule (from the file's validated options or the store)."""
    from ..store.schedules import ScheduleOptions

    values = {f.name: getattr(options, f.name) for f in fields(ScheduleOptions)}
    values["parameters"] = dict(values["parameters"] or {})
    values["notebook"] = str(Path(notebook).resolve())
    for key in ("timeout", "retry_delay"):
        if values[key] is not None:
            values[key] = float(values[key])
    values["retries"] = int(values["retries"])
    plain = ScheduleOptions(**{f.name: values[f.name] for f in fields(ScheduleOptions)})
    return Entry("schedule", name, values, paused, (str(Path(notebook).resolve()), plain))


def alert_entry(name: str, data: Any, where: str) -> Entry:
    """Validate an alert mapping with the alerts' own parsers."""
    from ..monitoring.alerts import parse_channel, parse_condition, parse_window
    from ..registry.records import parse_ref

    if not isinstance(data, dict):
        raise ValidationError(f"{where}: give a mapping with model and when.")
    unknown = [k for k in data if k not in ALERT_KEYS]
    if unknown:
        raise ValidationError(
            f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; alert keys are "
            f"{', '.join(ALERT_KEYS)}."
        )
    if not data.get("model") or not data.get("when"):
        raise ValidationError(
            f"{where}: 'model' and 'when' are required "
            "(e.g. model: churn@production, when: ['accuracy < 0.85'])."
        )
    paused = data.get("paused", False)
    if not isinstance(paused, bool):
        raise ValidationError(f"{where}: 'paused' is true or false.")
    when = data["when"]
    notify = data.get("notify") or []
    try:
        parse_ref(str(data["model"]))
        conditions = [str(parse_condition(c)) for c in ([when] if isinstance(when, str) else when)]
        window = float(parse_window(data.get("window", "1h")))
        channels = [parse_channel(c) for c in ([notify] if isinstance(notify, str) else notify)]
    except ValidationError as exc:
        raise ValidationError(f"{where}: {exc}") from None
    return alert_values(name, str(data["model"]).strip(), conditions, window, channels, paused)


def alert_values(name: str, model: str, conditions: list[str], window_s: float,
                 notify: list[str], paused: bool) -> Entry:  # fmt: skip
    """The comparable form of an alert rule."""
    values = {"model": model, "when": list(conditions), "window": window_text(window_s),
              "notify": list(notify)}  # fmt: skip
    return Entry("alert", name, values, paused, (model, list(conditions), window_s, list(notify)))


def automation_entry(name: str, data: Any, root: Path, where: str) -> Entry:
    """Validate an automation mapping as ``mlops automation add`` does (its name is the key).

    Notebook and test-file paths resolve against the file's folder, as the store keeps them.
    """
    from ..automations.api import resolve_spec

    if not isinstance(data, dict):
        raise ValidationError(f"{where}: give a mapping with trigger and steps.")
    if "name" in data and data["name"] != name:
        raise ValidationError(f"{where}: the key is the name; drop 'name: {data['name']}'.")
    try:
        spec = resolve_spec({**data, "name": name}, root)
    except ValidationError as exc:
        raise ValidationError(f"{where}: {exc}") from None
    return automation_from_spec(spec)


def automation_from_spec(spec: Any) -> Entry:
    """The comparable form of an automation (its spec's mapping, without name and enabled)."""
    values = spec.to_dict()
    values.pop("name")
    values.pop("enabled")
    return Entry("automation", spec.name, values, not spec.enabled, spec)


def parse_config(data: Any, root: Path, name: str = FILE_NAME) -> Config:
    """Validate the mapping of ``mlops.yaml`` (see the module docstring).

    Raises
    ------
    ValidationError
        Naming the file, the section, the entry and the fix.
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValidationError(f"{name} must hold a mapping with schedules, alerts, automations.")
    unknown = [k for k in data if k not in TOP_KEYS]
    if unknown:
        raise ValidationError(
            f"{name}: unknown key(s) {', '.join(map(repr, unknown))}; the keys are "
            f"{', '.join(TOP_KEYS)}."
        )
    if data.get("version", 1) != 1:
        raise ValidationError(f"{name}: version {data['version']!r} is not known; write 1.")
    config = Config(root)
    for section, kind in SECTIONS.items():
        items = data.get(section) or {}
        if not isinstance(items, dict):
            raise ValidationError(
                f"{name}: {section!r} maps each name to its settings (e.g. {section}: "
                "{nightly: {...}})."
            )
        for key, value in items.items():
            where = f"{name}: {section}.{key}"
            if kind == "schedule":
                config.add(schedule_entry(str(key), value, root, where))
            elif kind == "alert":
                config.add(alert_entry(str(key), value, where))
            else:
                config.add(automation_entry(str(key), value, root, where))
    return config


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and validate ``mlops.yaml``; relative notebooks resolve against its folder.

    Raises
    ------
    ValidationError
        When the file is missing, is not YAML, or an entry is malformed.
    """
    from ..yaml_files import read_yaml_file

    file = Path(path)
    missing = ValidationError(
        f"{file.name} not found; write one (see README, 'GitOps'), or start from today's "
        "setup with `mlops export config -o mlops.yaml`."
    )
    data = read_yaml_file(file, missing)
    return parse_config(data, file.resolve().parent, file.name)


def with_paused(entry: Entry, paused: bool) -> Entry:
    """A copy of ``entry`` with another paused state."""
    return replace(entry, paused=paused)
