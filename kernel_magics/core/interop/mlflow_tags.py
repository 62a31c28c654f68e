"""How MLflow's ``mlflow.*`` system tags map onto jupyter-mlops run fields and tags.

MLflow keeps several run fields as tags. Those whose meaning we store as a column are moved
into it on import and written back as the same tags on export, so a round trip gives the same
``mlflow.search_runs`` frame:

=========================  =====================================
MLflow tag                 jupyter-mlops
=========================  =====================================
``mlflow.runName``         ``runs.name``
``mlflow.user``            ``runs.user``
``mlflow.parentRunId``     ``runs.parent_run_id`` (our id)
``mlflow.source.name``     ``runs.notebook_path`` when ``mlflow.source.type`` is NOTEBOOK
                           (the tag is kept too: its type tells MLflow's UI how to link it)
=========================  =====================================

An experiment's ``mlflow.note.content`` tag is its description (``experiments.description``);
its other tags are kept as experiment tags.

Every other tag, ``mlflow.*`` or not, is kept under its own key: MLflow's UI and API read them
back unchanged after an export, and nothing in jupyter-mlops means the same.
"""

from __future__ import annotations

from typing import Final

from ..names import FAILED, FINISHED, KILLED, RUNNING, Tag

RUN_NAME: Final = "mlflow.runName"
USER: Final = "mlflow.user"
PARENT_RUN_ID: Final = "mlflow.parentRunId"
SOURCE_NAME: Final = "mlflow.source.name"
SOURCE_TYPE: Final = "mlflow.source.type"
#: An experiment's (and a run's) description in MLflow: our experiments' description column.
NOTE: Final = "mlflow.note.content"
#: The tags moved into run columns on import (and rebuilt from them on export).
MOVED_TO_COLUMNS: Final = frozenset({RUN_NAME, USER, PARENT_RUN_ID})

#: MLflow run status -> ours. RUNNING and SCHEDULED runs are not imported until they end.
STATUS_FROM_MLFLOW: Final = {"FINISHED": FINISHED, "FAILED": FAILED, "KILLED": KILLED}
#: Our status -> MLflow's. A crashed run is FAILED there (MLflow has no "crashed").
STATUS_TO_MLFLOW: Final = {
    FINISHED: "FINISHED",
    FAILED: "FAILED",
    KILLED: "KILLED",
    "crashed": "FAILED",
    RUNNING: "RUNNING",
}
#: Our provenance tags, which say where a thing came from in one direction only: never exported.
NOT_EXPORTED: Final = frozenset({Tag.MLFLOW_RUN_ID, Tag.MLFLOW_MODEL_VERSION})


def split_run_tags(tags: dict[str, str]) -> tuple[dict[str, str | None], dict[str, str]]:
    """Split an MLflow run's tags into our column values and the tags we keep.

    Returns
    -------
    tuple
        ``({"name", "user", "parent", "notebook_path"}, kept_tags)``; the parent is MLflow's
        run id, resolved to ours by the importer.
    """
    columns: dict[str, str | None] = {
        "name": tags.get(RUN_NAME),
        "user": tags.get(USER),
        "parent": tags.get(PARENT_RUN_ID),
        "notebook_path": tags.get(SOURCE_NAME) if tags.get(SOURCE_TYPE) == "NOTEBOOK" else None,
    }
    kept = {k: v for k, v in tags.items() if k not in MOVED_TO_COLUMNS}
    return columns, kept


def run_tags_for_mlflow(
    tags: dict[str, str],
    *,
    name: str | None,
    user: str | None,
    notebook_path: str | None,
    run_id: str,
) -> dict[str, str]:
    """Build the tags of an exported MLflow run from our run's columns and tags.

    Our own runs (never imported) get ``mlflow.source.*`` from their notebook, as MLflow's
    fluent API would set them, so MLflow's UI shows where they came from.
    """
    out = {k: v for k, v in tags.items() if k not in NOT_EXPORTED}
    if name:
        out[RUN_NAME] = name
    if user:
        out[USER] = user
    if notebook_path and SOURCE_NAME not in out:
        out[SOURCE_NAME] = notebook_path
        out[SOURCE_TYPE] = "NOTEBOOK"
    out[Tag.EXPORTED_RUN_ID] = run_id
    return out
