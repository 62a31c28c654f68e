"""Automations: a trigger (cron, alert, dataset or model version, manual) runs steps in order.

- :mod:`.spec`: :class:`~.spec.AutomationSpec`, the typed, validated declaration (also what
  ``mlops.yaml`` holds);
- :mod:`.triggers`: which trigger events happened (one event key per event);
- :mod:`.steps`: what each step does, and how its output feeds the next;
- :mod:`.engine`: an execution: the parent run, one child run per step, retries;
- :mod:`.api`: the public functions (``add_automation``, ``run_automation``...).

Executions are claimed through ``store.automations`` exactly once per trigger event, so two
schedulers never run the same event twice. Nothing heavy is imported here.
"""

from __future__ import annotations

from ..lazy import lazy_getattr

_LAZY = {
    "AutomationSpec": ".spec", "Trigger": ".spec", "Step": ".spec",
}  # fmt: skip

__all__ = list(_LAZY)

__getattr__ = lazy_getattr(__name__, _LAZY)
