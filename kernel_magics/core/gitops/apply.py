"""Make the store match ``mlops.yaml``: exactly the changes of a :class:`~.plan.Plan`."""

from __future__ import annotations

from pathlib import Path

from ..store import Store
from .plan import CREATE, DELETE, PAUSE, UPDATE, Change, Plan


def _schedule(store: Store, change: Change) -> None:
    from ..scheduler import api

    if change.action == DELETE:
        api.delete_schedule(change.name, store=store)
    elif change.action == PAUSE:
        api.pause_schedule(change.name, store=store)
    else:
        assert change.entry is not None
        notebook, options = change.entry.source
        if change.action == CREATE:
            store.schedules.create(change.name, notebook, options)
        else:
            store.schedules.update(change.name, notebook, options)
        if change.action == CREATE and change.entry.paused:
            api.pause_schedule(change.name, store=store)
        elif change.action == UPDATE and any(f.field == "paused" for f in change.fields):
            store.schedules.set_paused(change.name, change.entry.paused)


def _alert(store: Store, change: Change) -> None:
    from ..monitoring import alerts_api

    if change.action == DELETE:
        alerts_api.remove_alert(change.name, store=store)
    elif change.action == PAUSE:
        alerts_api.pause_alert(change.name, store=store)
    else:
        assert change.entry is not None
        model, conditions, window_s, notify = change.entry.source
        if change.action == CREATE:
            alerts_api.add_alert(change.name, model, conditions, window=window_s, notify=notify,
                                 store=store)  # fmt: skip
        else:
            from ..registry.records import parse_ref

            store.models.get_model(parse_ref(model).name)  # unknown: the error names the models
            store.alerts.update(change.name, model, conditions, window_s, notify)
        if change.entry.paused and (change.action == CREATE or any(
                f.field == "paused" for f in change.fields)):  # fmt: skip
            store.alerts.set_paused(change.name, True)
        elif change.action == UPDATE and any(f.field == "paused" for f in change.fields):
            store.alerts.set_paused(change.name, False)


def _automation(store: Store, change: Change, root: Path) -> None:
    from ..automations import api

    if change.action == DELETE:
        api.delete_automation(change.name, store=store)
    elif change.action == PAUSE:
        api.pause_automation(change.name, store=store)
    else:
        assert change.entry is not None
        spec = change.entry.source  # its paths are absolute already; enabled is in the spec
        if change.action == CREATE:
            api.add_automation(spec, base_dir=root, store=store)
        else:
            api.update_automation(spec, base_dir=root, store=store)


def apply_plan(store: Store, plan: Plan, root: Path) -> list[Change]:
    """Make each change of ``plan``, in order; return the changes made.

    A change that fails (a model deleted since the plan, a name taken meanwhile) raises with
    the changes before it already made: running ``mlops apply`` again finishes the rest.
    """
    done = []
    for change in plan.changes:
        if change.kind == "schedule":
            _schedule(store, change)
        elif change.kind == "alert":
            _alert(store, change)
        else:
            _automation(store, change, root)
        done.append(change)
    return done
