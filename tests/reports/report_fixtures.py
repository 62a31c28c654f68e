"""Runs, notebook versions and a registered model put into a real store for the report tests.

Everything goes through core's repositories (the same writes tracking and the runner make):
two runs of experiment ``churn`` that differ in a param, their loss curves, a dataset, an
environment each (pandas differs), a tracked cell's source, a notebook version each, and the
second run marked ``unordered``.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

from kernel_magics.core.environment import environment_json
from kernel_magics.core.names import Tag

#: A 1x1 PNG a notebook output shows (nbconvert embeds it as a data: URI).
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c63f8cfc0f01f0005000201a5b1e3f40000000049454e44ae426082"
    )
).decode()


def notebook(code: str) -> dict:
    """A notebook with a markdown cell linking out, a code cell and an image output."""
    return {
        "cells": [
            {"cell_type": "markdown", "id": "intro", "metadata": {},
             "source": "# Churn model\nData from [the wiki](https://example.com/wiki) "
                       "![logo](https://example.com/logo.png)"},
            {"cell_type": "code", "id": "train", "metadata": {}, "execution_count": 1,
             "source": code,
             "outputs": [{"output_type": "display_data", "metadata": {},
                          "data": {"image/png": PNG, "text/plain": "<Figure>"}}]},
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }  # fmt: skip


def _environment(store, run_id: str, pandas: str) -> None:
    env = {"python": "3.11.7", "platform": "Linux-x86_64", "packages": {"pandas": pandas,
           "numpy": "2.1.0"}, "git": {"commit": "a" * 40, "branch": "main", "dirty": False}}  # fmt: skip
    ref = store.blobs.put_bytes(environment_json(env))
    with store.db.write() as conn:
        store.runs.link_environment(conn, [run_id], ref)


def seed_runs(store, folder: Path) -> list[str]:
    """Two finished runs of ``churn`` (C=0.1 and C=1.0) with everything a report shows."""
    from kernel_magics.core.notebooks import record_notebook_version

    exp = store.experiments.get_or_create("churn")
    ids = []
    for i, c in enumerate((0.1, 1.0)):
        tags = {"team": "growth"}
        if i == 1:
            tags |= {Tag.EXECUTION_ORDER: "unordered",
                     Tag.EXECUTION_ORDER_REASON: "cell 2 ran before cell 1"}  # fmt: skip
        run_id = store.runs.create(exp, name=f"C={c}", source="cell",
                                   params={"C": str(c), "seed": "1"}, tags=tags)  # fmt: skip
        now = time.time()
        points = [(run_id, "loss", s, now + s, 1.0 / (s + 1) / (1 + c)) for s in range(6)]
        points += [(run_id, "auc", 0, now, 0.8 + c / 10)]
        with store.db.write() as conn:
            store.runs.write_metrics(conn, points)
        store.datasets.record(run_id, "train", "d" * 64, size=100, rows=500, schema=None,
                              source="train.csv")  # fmt: skip
        _environment(store, run_id, pandas="2.2.0" if i == 0 else "3.1.0")
        source = f"model = LogisticRegression(C={c}).fit(X, y)\n"
        ref = store.blobs.put_bytes(source.encode())
        store.artifacts.add(run_id, "cell/source.py", ref, "text/x-python")
        path = folder / "train.ipynb"
        path.write_text(json.dumps(notebook(source)))
        version = record_notebook_version(store, path)
        store.runs.set_fields(run_id, notebook_version_id=version)
        store.runs.finish(run_id, "finished")
        ids.append(run_id)
    return ids


def register_model(store, name: str = "churn"):
    """A scikit-learn model trained on a frame where only ``tenure`` matters; returns its
    version record and the frame with its labels (``churned``)."""
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from kernel_magics.core.registry.api import log_model

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"tenure": rng.normal(size=300), "noise": rng.normal(size=300)})
    labels = (frame["tenure"] > 0).astype(int)
    model = LogisticRegression().fit(frame, labels)
    exp = store.experiments.get_or_create("churn")
    run_id = store.runs.create(exp, name="lr", source="api", params={"C": "1.0"})
    with store.db.write() as conn:
        store.runs.write_metrics(conn, [(run_id, "accuracy", 0, time.time(), 0.97)])
    store.runs.finish(run_id, "finished")
    version = log_model(model, name, frame.head(40), training_data=frame, run=run_id, store=store)
    return version, frame.assign(churned=labels)
