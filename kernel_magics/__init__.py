"""jupyter-mlops: MLOps inside JupyterLab.

``import kernel_magics as mlops`` gives the tracking API (``mlops.start_run``, ``mlops.log_metric``,
``mlops.runs`` ...). Everything is imported lazily on first use, so ``import kernel_magics`` and
``%load_ext kernel_magics`` stay fast and pull in neither SQLAlchemy, pandas nor IPython.
"""

from __future__ import annotations

from typing import Any

try:
    from ._version import __version__
except ImportError:  # running from a source tree that was never built
    __version__ = "0.0.0.dev0"

# public name -> module that defines it (imported on first access)
_LAZY = {
    "Run": "kernel_magics.core.tracking.run",
    **dict.fromkeys(
        [
            "start_run", "end_run", "active_run", "log_metric", "log_metrics", "log_param",
            "log_params", "set_tag", "set_tags", "log_artifact", "log_artifacts", "log_figure",
            "log_dict", "log_text", "log_dataset", "load_dataset", "get_run", "runs",
        ],
        "kernel_magics.core.tracking.api",
    ),
    **dict.fromkeys(
        [
            "log_model", "load_model", "get_model_version", "list_models", "list_model_versions",
            "set_alias", "delete_alias", "alias_history", "delete_model", "model_lineage",
            "set_model_version_tags", "set_model_description",
        ],
        "kernel_magics.core.registry",
    ),
    "promote": "kernel_magics.core.promotion",
    **dict.fromkeys(
        ["run_notebook", "sweep_notebook", "rerun", "RunResult", "SweepResult"],
        "kernel_magics.core.runner",
    ),
    **dict.fromkeys(
        ["deploy", "rollback", "stop_deployment", "list_deployments", "deployment_logs"],
        "kernel_magics.core.serving.deployments",
    ),
    **dict.fromkeys(
        [
            "schedule", "schedules", "get_schedule", "pause_schedule", "resume_schedule",
            "delete_schedule", "run_schedule_now", "schedule_history", "ScheduleOptions",
        ],
        "kernel_magics.core.scheduler.api",
    ),
    **dict.fromkeys(
        [
            "add_alert", "list_alerts", "get_alert", "remove_alert", "pause_alert",
            "resume_alert", "alert_history",
        ],
        "kernel_magics.core.monitoring.alerts_api",
    ),
    **dict.fromkeys(["note", "notes"], "kernel_magics.core.notes"),
    **dict.fromkeys(
        [
            "add_automation", "update_automation", "automations", "get_automation",
            "run_automation", "pause_automation", "resume_automation", "delete_automation",
            "automation_history",
        ],
        "kernel_magics.core.automations.api",
    ),
    "log_labels": "kernel_magics.core.monitoring.labels",
    "monitor": "kernel_magics.core.monitoring.batch",
    "open_store": "kernel_magics.core.store",
    "resolve_location": "kernel_magics.core.config",
}  # fmt: skip

__all__ = ["__version__", "load_ipython_extension", *_LAZY]


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'kernel_magics' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


def load_ipython_extension(ipython: Any) -> None:
    """Register the ``%mlops`` and ``%%mlops`` magics (``%load_ext kernel_magics``)."""
    from .kernel.magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """Undo :func:`load_ipython_extension`."""
    from .kernel.magics import unload_ipython_extension as unload

    unload(ipython)


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    # Without the [lab] extra this raises a one-line MissingExtraError, which jupyter_server logs
    # as a warning while it goes on starting without us (a kernel-side install has no panel).
    from .core.extras import require

    require("lab", "jupyter_server", "pydantic", feature="The jupyter-mlops server extension")
    from .server.app import KernelMagicsApp

    return [{"module": "kernel_magics", "app": KernelMagicsApp}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyter-mlops"}]
