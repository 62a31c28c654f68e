"""Names shared by every layer: run statuses, run sources and the ``mlops.*`` tag keys.

Each name is spelled once, here. The kernel, the server extension, the CLI and the store import
them from this module; ``extension/src/api.ts`` mirrors the status and source unions, and a test
(``tests/server/test_contracts.py``) fails when the two sides disagree.
"""

from __future__ import annotations

from typing import Final

# -- run statuses ------------------------------------------------------------------------------
RUNNING: Final = "running"
FINISHED: Final = "finished"
FAILED: Final = "failed"
CRASHED: Final = "crashed"
KILLED: Final = "killed"
#: Every status a run can have; ``running`` is the only non-terminal one.
RUN_STATUSES: Final = (RUNNING, FINISHED, FAILED, CRASHED, KILLED)
#: The statuses a run ends with.
TERMINAL_STATUSES: Final = (FINISHED, FAILED, CRASHED, KILLED)

# -- run sources -------------------------------------------------------------------------------
SOURCE_API: Final = "api"
SOURCE_CELL: Final = "cell"
SOURCE_PAPERMILL: Final = "papermill"
SOURCE_SCHEDULE: Final = "schedule"
SOURCE_SWEEP: Final = "sweep"
SOURCE_AUTOMATION: Final = "automation"
#: Where a run came from.
RUN_SOURCES: Final = (
    SOURCE_API, SOURCE_CELL, SOURCE_PAPERMILL, SOURCE_SCHEDULE, SOURCE_SWEEP, SOURCE_AUTOMATION,
)  # fmt: skip

# -- monitoring bucket sources ------------------------------------------------------------------
MONITORING_SERVING: Final = "serving"
MONITORING_BATCH: Final = "batch"
#: Where a monitoring bucket's counts came from: a model server, or ``mlops.monitor(frame)``.
MONITORING_SOURCES: Final = (MONITORING_SERVING, MONITORING_BATCH)

# -- audit trail and notes ----------------------------------------------------------------------
#: What an audit entry is about (``core/store/audit.py`` refuses any other kind).
AUDIT_KINDS: Final = ("alias", "deployment", "schedule", "alert", "automation", "model", "note")
#: What a note can be written on: a run (by id), a model version (``churn/7``), a deployment (id).
NOTE_RUN: Final = "run"
NOTE_MODEL_VERSION: Final = "model_version"
NOTE_DEPLOYMENT: Final = "deployment"
NOTE_KINDS: Final = (NOTE_RUN, NOTE_MODEL_VERSION, NOTE_DEPLOYMENT)

# -- challengers and guards (issue 15) ------------------------------------------------------------
CHALLENGER_SHADOW: Final = "shadow"
CHALLENGER_CANARY: Final = "canary"
#: How a challenger runs: on every request off the response path, or answering a share of them.
CHALLENGER_MODES: Final = (CHALLENGER_SHADOW, CHALLENGER_CANARY)
CHALLENGER_STARTING: Final = "starting"
CHALLENGER_RUNNING: Final = "running"
CHALLENGER_STOPPED: Final = "stopped"
CHALLENGER_PROMOTED: Final = "promoted"
CHALLENGER_ROLLED_BACK: Final = "rolled_back"
CHALLENGER_FAILED: Final = "failed"
#: A challenger's statuses; servers route to it only while it is starting or running.
CHALLENGER_STATUSES: Final = (
    CHALLENGER_STARTING,
    CHALLENGER_RUNNING,
    CHALLENGER_STOPPED,
    CHALLENGER_PROMOTED,
    CHALLENGER_ROLLED_BACK,
    CHALLENGER_FAILED,
)
CHALLENGER_ACTIVE: Final = (CHALLENGER_STARTING, CHALLENGER_RUNNING)
GUARD_WATCHING: Final = "watching"
GUARD_PASSED: Final = "passed"
GUARD_BROKEN: Final = "broken"
GUARD_ROLLED_BACK: Final = "rolled_back"
GUARD_FAILED: Final = "failed"
#: A guard's states: watching during its period, then passed, or broken (and rolled back).
GUARD_STATES: Final = (GUARD_WATCHING, GUARD_PASSED, GUARD_BROKEN, GUARD_ROLLED_BACK, GUARD_FAILED)

# -- dataset versions (core/data) ----------------------------------------------------------------
DATASET_FRAME: Final = "frame"
DATASET_FILE: Final = "file"
DATASET_FOLDER: Final = "folder"
DATASET_REF: Final = "ref"
#: What a dataset version holds: a DataFrame (as parquet), a file, a folder, or a reference only.
DATASET_KINDS: Final = (DATASET_FRAME, DATASET_FILE, DATASET_FOLDER, DATASET_REF)

# -- environment variables ---------------------------------------------------------------------
#: Names the run a process's tracking attaches to (set by the runner in the kernels it starts).
RUN_ID_ENV: Final = "MLOPS_RUN_ID"


class Tag:
    """The ``mlops.*`` tag keys the system writes on runs and model versions.

    User tags never start with ``mlops.``; these are the system's own.
    """

    # Tracked cells (kernel/track.py)
    EXECUTION_ORDER: Final = "mlops.execution_order"
    EXECUTION_ORDER_REASON: Final = "mlops.execution_order.reason"
    NOTEBOOK: Final = "mlops.notebook"
    NOTEBOOK_ERROR: Final = "mlops.notebook.error"
    #: Warnings the run collected, one per line (figures not stored, autolog problems...).
    WARNINGS: Final = "mlops.warnings"
    CELL_ID: Final = "mlops.cell.id"
    CELL_HASH: Final = "mlops.cell.hash"
    CELL_EXECUTION_COUNT: Final = "mlops.cell.execution_count"
    CELL_HISTORY: Final = "mlops.cell.history"
    #: A free-text note a person wrote on the run (the panel's run editor).
    NOTE: Final = "mlops.note"
    # Notebook runs (core/runner)
    KERNEL: Final = "mlops.kernel"
    DASK_WORKER: Final = "mlops.dask_worker"
    HOST: Final = "mlops.host"
    RERUN_OF: Final = "mlops.rerun_of"
    REPRODUCED_BY: Final = "mlops.reproduced_by"
    RERUN_DIFFERENCES: Final = "mlops.rerun.differences"
    RERUN_IDENTICAL: Final = "mlops.rerun.identical"
    SWEEP_SIZE: Final = "mlops.sweep.size"
    SWEEP_WORKERS: Final = "mlops.sweep.workers"
    SWEEP_OBJECTIVE: Final = "mlops.sweep.objective"
    BEST: Final = "mlops.best"
    BEST_RUN_ID: Final = "mlops.best_run_id"
    BEST_VALUE: Final = "mlops.best_value"
    BEST_NOTE: Final = "mlops.best_note"
    #: A dataset version the run logged failed its quality checks (``failed: train@3``).
    DATA_QUALITY: Final = "mlops.data_quality"
    # Scheduled runs (core/scheduler)
    SCHEDULE: Final = "mlops.schedule"
    SLOT: Final = "mlops.slot"
    SLOT_ATTEMPT: Final = "mlops.slot_attempt"
    TRIGGER: Final = "mlops.trigger"
    # Automation runs (core/automations): the automation, its trigger event, the attempt
    # (``event_id:attempt``, on the parent and every step's run) and the step of a child run
    AUTOMATION: Final = "mlops.automation"
    AUTOMATION_EVENT: Final = "mlops.automation.event"
    AUTOMATION_ATTEMPT: Final = "mlops.automation.attempt"
    AUTOMATION_STEP: Final = "mlops.automation.step"
    #: What a step did, in a line (``tests passed: 5 of 5``, ``production -> churn/4``)
    AUTOMATION_RESULT: Final = "mlops.automation.result"
    # Imported from MLflow (core/interop): the MLflow id each imported thing came from
    MLFLOW_RUN_ID: Final = "mlops.mlflow.run_id"
    MLFLOW_MODEL_VERSION: Final = "mlops.mlflow.model_version"
    #: Set on MLflow runs we export: the jupyter-mlops run id (export is idempotent by it).
    EXPORTED_RUN_ID: Final = "mlops.run_id"
    #: Set on MLflow model versions we export: the jupyter-mlops version (``name/N``).
    EXPORTED_MODEL_VERSION: Final = "mlops.model_version"
    # Model versions (core/registry)
    PYTHON_VERSION: Final = "mlops.python_version"
    SKOPS_TRUSTED: Final = "mlops.skops_trusted"

    @staticmethod
    def library_version(library: str) -> str:
        """The tag holding the version of ``library`` a model was trained with."""
        return f"mlops.{library}_version"


#: Param and metric keys ending like this measure wall-clock time: a rerun compares them with a
#: relative tolerance instead of exactly (a deterministic notebook is not slower by design).
TIMING_SUFFIXES: Final = ("_time_s", "_duration_s", "_seconds")


def is_timing(key: str) -> bool:
    """True when ``key`` names a wall-clock measurement (``fit_time_s``, ``epoch_duration_s``)."""
    return key.endswith(TIMING_SUFFIXES)


def run_warnings(tags: dict[str, str]) -> list[str]:
    """Return the warnings a run carries in its tags, as sentences for a person.

    ``mlops.execution_order = unordered`` (with its reason) means the cells ran out of order, so
    the stored notebook version may not reproduce the run; ``mlops.warnings`` holds every other
    warning, one per line.
    """
    found = []
    if tags.get(Tag.EXECUTION_ORDER) == "unordered":
        reason = tags.get(Tag.EXECUTION_ORDER_REASON) or "cells ran out of order"
        found.append(
            f"Unordered: {reason}. The notebook version may not reproduce this run; "
            "restart the kernel and run all cells to get a reproducible run."
        )
    found += [line for line in (tags.get(Tag.WARNINGS) or "").splitlines() if line.strip()]
    return found
