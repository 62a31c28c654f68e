"""``mlops import mlflow`` and ``mlops export mlflow``: move history in from MLflow, and out."""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime, timezone
from typing import Any

import click

from .gitops_commands import export_config
from .output import print_json, render

TRACKING_URI_HELP = (
    "MLflow tracking URI: sqlite:///mlflow.db, a file-store folder or http://server:5000 "
    "(default: MLFLOW_TRACKING_URI, else MLflow's own default)."
)


class RichProgress:
    """One rich bar per task (runs, metric points, artifact bytes), totals growing as found."""

    def __init__(self, progress: Any):
        from ..core.interop.progress import ARTIFACT_BYTES, TASKS

        self.bar = progress
        self.tasks = {t: progress.add_task(t, total=0, start=True) for t in TASKS}
        self.totals = dict.fromkeys(TASKS, 0)
        self.bytes_task = ARTIFACT_BYTES

    def add_total(self, task: str, amount: int) -> None:
        """Grow ``task``'s total."""
        self.totals[task] += amount
        self.bar.update(self.tasks[task], total=self.totals[task])

    def advance(self, task: str, amount: int) -> None:
        """Advance ``task``."""
        self.bar.advance(self.tasks[task], amount)


@contextmanager
def _progress(quiet: bool):
    # MLflow draws a tqdm bar per artifact download; ours already counts the bytes.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    if quiet:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    columns = (TextColumn("{task.description:>15}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, transient=False) as bar:
        yield RichProgress(bar)


def _since(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:  # a date on the command line means UTC
        value = value.replace(tzinfo=timezone.utc)
    return value


@click.group("import")
def import_() -> None:
    """Import runs and models from another tracker."""


@import_.command("mlflow")
@click.option("--tracking-uri", help=TRACKING_URI_HELP)
@click.option("--registry-uri", help="MLflow model registry URI (default: the tracking URI).")
@click.option("--experiment", "experiments", multiple=True,
              help="Import only this MLflow experiment (repeatable; default: all).")  # fmt: skip
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    help="Only runs started (and model versions created) on or after this UTC date.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def import_mlflow(tracking_uri, registry_uri, experiments, since, quiet, as_json) -> None:
    """Import an MLflow store: experiments, runs, metric history, artifacts, models, aliases.

    Importing again adds only what is new (each run keeps its MLflow id in the tag
    mlops.mlflow.run_id).
    """
    from ..core.interop import ImportOptions, import_mlflow
    from ..core.store import open_store

    options = ImportOptions(tracking_uri, registry_uri, list(experiments), _since(since))
    store = open_store()
    with _progress(quiet or as_json) as progress:
        summary = import_mlflow(store, options, progress)
    if as_json:
        print_json(asdict(summary))
    else:
        render(summary.table())


@click.group()
def export() -> None:
    """Export runs and models to another tracker (no lock-in), or the setup as mlops.yaml."""


export.add_command(export_config)  # `mlops export config` (GitOps: cli/gitops_commands.py)


@export.command("mlflow")
@click.option("--tracking-uri", required=True, help="MLflow tracking URI to write into.")
@click.option("--registry-uri", help="MLflow model registry URI (default: the tracking URI).")
@click.option("--experiment", "experiments", multiple=True,
              help="Export only this experiment (repeatable; default: all).")  # fmt: skip
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def export_mlflow(tracking_uri, registry_uri, experiments, quiet, as_json) -> None:
    """Export our experiments, runs, metrics, artifacts, models, versions and aliases to MLflow.

    Exporting again adds only what is new (each exported run carries the tag mlops.run_id).
    """
    from ..core.interop import ExportOptions, export_mlflow
    from ..core.store import open_store

    options = ExportOptions(tracking_uri, registry_uri, list(experiments))
    with _progress(quiet or as_json) as progress:
        summary = export_mlflow(open_store(), options, progress)
    if as_json:
        print_json(asdict(summary))
    else:
        render(summary.table())
