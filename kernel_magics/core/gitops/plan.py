"""The difference between ``mlops.yaml`` and the store, as a list of changes to make.

``mlops apply --dry-run`` prints a :class:`Plan`; ``mlops apply`` makes exactly its changes
(:func:`~.apply.apply_plan`). What the store holds and the file does not is left alone unless
``prune`` is asked for: then it is paused (keeping its history), or deleted with ``delete``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .config import KINDS, Config, Entry

CREATE, UPDATE, PAUSE, DELETE = "create", "update", "pause", "delete"
ACTIONS = (CREATE, UPDATE, PAUSE, DELETE)


@dataclass(frozen=True)
class FieldChange:
    """One field that changes: its name, the store's value and the file's."""

    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class Change:
    """One thing ``mlops apply`` does.

    Attributes
    ----------
    kind, name : str
        ``schedule``, ``alert`` or ``automation``, and its name.
    action : str
        One of :data:`ACTIONS`.
    fields : tuple of FieldChange
        For ``update``: each changed field, old -> new (``paused`` among them).
    entry : Entry or None
        The file's entry (create, update); None for pause and delete.
    """

    kind: str
    name: str
    action: str
    fields: tuple[FieldChange, ...] = ()
    entry: Entry | None = field(default=None, compare=False)

    def describe(self) -> str:
        """One line: ``update schedule nightly: cron '0 3 * * *' -> '0 4 * * *'``."""
        text = f"{self.action} {self.kind} {self.name}"
        if self.fields:
            text += ": " + "; ".join(f"{f.field} {f.old!r} -> {f.new!r}" for f in self.fields)
        return text


@dataclass
class Plan:
    """The changes that make the store match the file, and what the file does not manage.

    Attributes
    ----------
    changes : list of Change
        In the order they are applied (schedules, alerts, automations; removals last).
    unmanaged : list of (str, str)
        ``(kind, name)`` in the store but not in the file, left alone (no ``prune``).
    """

    changes: list[Change] = field(default_factory=list)
    unmanaged: list[tuple[str, str]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """True when the store already matches the file."""
        return not self.changes

    def counts(self) -> dict[str, int]:
        """How many changes of each action."""
        out = dict.fromkeys(ACTIONS, 0)
        for change in self.changes:
            out[change.action] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (``mlops apply --json``)."""
        return {
            "changes": [
                {"kind": c.kind, "name": c.name, "action": c.action,
                 "fields": [{"field": f.field, "old": f.old, "new": f.new} for f in c.fields]}
                for c in self.changes
            ],
            "unmanaged": [{"kind": k, "name": n} for k, n in self.unmanaged],
            "counts": self.counts(),
        }  # fmt: skip


def _field_changes(old: Entry, new: Entry) -> tuple[FieldChange, ...]:
    keys = list(dict.fromkeys([*old.values, *new.values]))
    changes = [FieldChange(k, old.values.get(k), new.values.get(k)) for k in keys
               if old.values.get(k) != new.values.get(k)]  # fmt: skip
    if old.paused != new.paused:
        changes.append(FieldChange("paused", old.paused, new.paused))
    return tuple(changes)


def plan_changes(
    desired: Config, current: Config, *, prune: bool = False, delete: bool = False
) -> Plan:
    """Compare the file (``desired``) with the store (``current``).

    Parameters
    ----------
    desired, current : Config
        From :func:`~.config.load_config` and :func:`~.current.store_config`.
    prune : bool
        Also pause what the store holds and the file does not.
    delete : bool
        With ``prune``: delete those instead of pausing them.
    """
    plan = Plan()
    removals: list[Change] = []
    for kind in KINDS:
        want, have = desired.entries[kind], current.entries[kind]
        for name in sorted(want):
            if name not in have:
                plan.changes.append(Change(kind, name, CREATE, entry=want[name]))
                continue
            fields = _field_changes(have[name], want[name])
            if fields:
                plan.changes.append(Change(kind, name, UPDATE, fields, want[name]))
        for name in sorted(set(have) - set(want)):
            if not prune:
                plan.unmanaged.append((kind, name))
            elif delete:
                removals.append(Change(kind, name, DELETE))
            elif not have[name].paused:
                removals.append(Change(kind, name, PAUSE, (FieldChange("paused", False, True),)))
    # automations may name alert rules: remove them before the rules they watch
    plan.changes += sorted(removals, key=lambda c: -KINDS.index(c.kind))
    return plan
