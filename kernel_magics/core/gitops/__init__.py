"""GitOps: the project's schedules, alerts and automations declared in ``mlops.yaml``.

- :mod:`.config`: reading and validating the file (:func:`~.config.load_config`);
- :mod:`.current`: the store's setup in the same form, and :func:`~.current.export_config`;
- :mod:`.plan`: the difference, as changes (``mlops apply --dry-run``);
- :mod:`.apply`: making exactly those changes (``mlops apply``);
- :mod:`.drift`: the scheduler's periodic warning when the store drifted from the file.
"""

from __future__ import annotations

from ..lazy import lazy_getattr

_LAZY = {
    "load_config": ".config", "Config": ".config",
    "store_config": ".current", "export_config": ".current",
    "plan_changes": ".plan", "Plan": ".plan", "Change": ".plan",
    "apply_plan": ".apply",
    "DriftWatch": ".drift", "config_path": ".drift",
}  # fmt: skip

__all__ = sorted(_LAZY)

__getattr__ = lazy_getattr(__name__, _LAZY)
