"""Which trigger events happened: one :class:`~..store.automations.NewEvent` per event.

Each event has a key that is the same whichever scheduler notices it, so the store keeps one
row per event (unique per automation and key) and runs it once:

- ``cron:<epoch>``: a fire time of the cron expression in its timezone (the latest one due;
  fire times missed while no scheduler ran are skipped, the ``latest`` catch-up policy);
- ``alert:<incident id>``: an incident of the rule opened;
- ``dataset:<name>@<number>``: a new version of the dataset was recorded;
- ``model:<name>/<version>``: a new version of the model was registered (not one the
  automation's own runs registered: retraining on a new model version must not loop);
- ``manual:<uuid>``: ``mlops automation run NAME``.

Alert, dataset and model events are found by id above the automation's ``start_mark`` (the
newest id when it was created or resumed), so what happened before does not count, whatever
clock the scheduler runs on.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ...errors import NotFoundError
from ..names import Tag
from ..store.automation_events import NewEvent
from .spec import ALERT, CRON, DATASET, MANUAL, MODEL, Trigger

if TYPE_CHECKING:
    from ..store import Store
    from ..store.automations import AutomationRecord

#: How far back a new store item is looked for on each pass (newest first).
SCAN_LIMIT = 200


def watermark(store: Store, trigger: Trigger) -> int | None:
    """The newest id of what ``trigger`` watches (0 when nothing yet; None for cron/manual)."""
    if trigger.kind not in (ALERT, DATASET, MODEL):
        return None
    ids = [item_id for item_id, _ in _candidates(store, trigger, None)]
    return max(ids, default=0)


def _candidates(store: Store, trigger: Trigger, after: int | None) -> list[tuple[int, Any]]:
    """``(id, item)`` of what the trigger watches, with an id above ``after`` when given."""
    name = str(trigger.target)
    items: list[tuple[int, Any]]
    try:
        if trigger.kind == DATASET:
            items = [(v.id, v) for v in store.dataset_versions.versions(name)]
        elif trigger.kind == MODEL:
            items = [(v.id, v) for v in store.models.list_versions(name, limit=SCAN_LIMIT)]
        else:
            items = [(i.id, i) for i in store.alerts.history(name, limit=SCAN_LIMIT)]
    except NotFoundError:  # nothing recorded under that name yet (or the rule was removed)
        return []
    return [(i, item) for i, item in items if after is None or i > after]


def new_events(store: Store, record: AutomationRecord, now: float) -> list[NewEvent]:
    """The events of ``record``'s trigger not stored yet (some may be; the store dedupes).

    Parameters
    ----------
    store : Store
        Where to look for new incidents and versions.
    record : AutomationRecord
        The automation (enabled).
    now : float
        The scheduler's time: cron fire times up to it are due.
    """
    trigger = record.spec.trigger
    base = {"automation": record.name}
    if trigger.kind == MANUAL:
        return []
    if trigger.kind == CRON:
        return _cron_event(store, record, now, base)
    after = record.start_mark or 0
    events = []
    for item_id, item in _candidates(store, trigger, after):
        if trigger.kind == DATASET:
            key, payload = f"dataset:{item.ref}", {
                "dataset": item.dataset, "dataset_version": item.number, "dataset_ref": item.ref,
            }  # fmt: skip
            at = item.created_at
        elif trigger.kind == MODEL:
            if _made_by(store, item.run_id, record.name):
                continue
            key, payload = f"model:{item.name}/{item.version}", {
                "model": item.name, "model_version": item.version,
                "model_ref": f"{item.name}/{item.version}",
            }  # fmt: skip
            at = item.created_at
        else:
            key, payload = f"alert:{item_id}", {
                "alert": item.rule, "incident": item_id, "model_ref": _rule_model(store, item.rule),
            }  # fmt: skip
            at = item.opened_at
        events.append(NewEvent(key, at, {**base, "event": key, **payload}))
    return events


def _cron_event(
    store: Store, record: AutomationRecord, now: float, base: dict[str, Any]
) -> list[NewEvent]:
    from ..scheduler.cron import fire_times, local_timezone_name

    trigger = record.spec.trigger
    zone = trigger.timezone or local_timezone_name()
    due = fire_times(str(trigger.target), zone, store.automations.cursor(record), now)
    if not due:
        return []
    slot = due[-1]  # the latest fire time: older missed ones are skipped, not run in a burst
    key = f"cron:{int(slot)}"
    iso = dt.datetime.fromtimestamp(slot, ZoneInfo(zone)).isoformat()
    return [NewEvent(key, slot, {**base, "event": key, "slot": iso, "slot_time": slot})]


def manual_event(record: AutomationRecord, now: float) -> NewEvent:
    """A new manual event (``mlops automation run``): its own key, due now."""
    key = f"{MANUAL}:{uuid.uuid4().hex[:12]}"
    return NewEvent(key, now, {"automation": record.name, "event": key})


def _made_by(store: Store, run_id: str | None, automation: str) -> bool:
    """Whether a run belongs to an execution of ``automation`` (its own retrained model)."""
    if not run_id:
        return False
    try:
        return store.runs.get(run_id).tags.get(Tag.AUTOMATION) == automation
    except NotFoundError:
        return False


def _rule_model(store: Store, rule: str) -> str | None:
    try:
        return store.alerts.get(rule).model_ref
    except NotFoundError:
        return None
