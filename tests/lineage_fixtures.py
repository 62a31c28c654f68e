"""A small store with real lineage, shared by the lineage tests (core, CLI, magic, server).

Two versions of dataset ``train``; three models: ``churn/1`` trained on train@1, ``churn/2``
and ``fraud/1`` on train@2; ``churn@production`` -> churn/2, deployed once by alias; the run of
churn/2 executed as a recorded notebook version and wrote dataset ``scores``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nbformat
from churn_data import churn_frame
from sklearn.linear_model import LogisticRegression

import kernel_magics as mlops
from kernel_magics.core.registry import parse_ref


@dataclass
class LineageStore:
    """Ids of what :func:`build_lineage_store` made."""

    runs: dict[str, str]
    notebook_version_id: int
    deployment_id: int


def build_lineage_store(store, tmp_path: Path) -> LineageStore:
    """Fill ``store`` with the runs, models, alias and deployment described above."""
    frame, target = churn_frame(rows=120)
    grown = churn_frame(rows=150, seed=1)
    model = LogisticRegression(max_iter=300).fit(frame, target)
    notebook = tmp_path / "train.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]), notebook)
    notebook_version = store.notebooks.record(str(notebook.resolve()))
    runs = {}
    plan = [("churn", frame, "r1"), ("churn", grown[0], "r2"), ("fraud", grown[0], "r3")]
    for name, data, label in plan:
        with mlops.start_run("lineage", name=label) as run:
            mlops.log_dataset(data, name="train")
            if label == "r2":
                store.runs.set_fields(run.id, notebook_version_id=notebook_version)
                mlops.log_dataset(data.head(10), name="scores", role="output")
            mlops.log_model(model, name, input_example=frame, store=store)
        runs[label] = run.id
    mlops.set_alias("churn", "production", 2)
    version_id = store.models.get_version(parse_ref("churn/2")).id
    deployment = store.deployments.create(version_id, "production", "127.0.0.1", 8123)
    return LineageStore(runs, notebook_version, deployment)
