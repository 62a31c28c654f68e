"""``KernelMagicsApp``: the Jupyter server extension that serves the side panel's REST API."""

from __future__ import annotations

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Float, Int, Type, Unicode

from .base import MlopsHandler
from .handlers import (
    audit,
    deployments,
    experiments,
    model_aliases,
    model_cards,
    models,
    monitoring,
    notebooks,
    notes,
    runs,
    schedules,
    status,
)

#: The one place the server spells its REST namespace (``extension/src/api.ts`` mirrors it).
API_NAMESPACE = "mlops/api"

ID = r"(?P<{}>[^/]+)"


def _route(pattern: str) -> str:
    return rf"/{API_NAMESPACE}/{pattern}/?"


def routes() -> list[tuple[str, type[MlopsHandler]]]:
    """Return every route of the REST API with its handler (``openapi.yaml`` is built from it)."""
    run = f"runs/{ID.format('run_id')}"
    version = r"notebook_versions/(?P<version_id>\d+)"
    model = f"models/{ID.format('name')}"
    card = f"{model}/versions/{ID.format('version')}/card"
    deployment = r"deployments/(?P<deployment_id>\d{1,18})"
    schedule = r"schedules/(?P<schedule_id>\d{1,18})"
    return [
        (_route("status"), status.StatusHandler),
        (_route("experiments"), experiments.ExperimentsHandler),
        (_route("runs"), runs.RunsHandler),
        (_route(run), runs.RunItemHandler),
        (_route(f"{run}/metrics"), runs.RunMetricsHandler),
        (_route(f"{run}/metrics/(?P<key>.+?)"), runs.RunMetricItemHandler),
        (_route(f"{run}/artifacts"), runs.RunArtifactsHandler),
        (_route(f"{run}/artifacts/(?P<path>.+?)"), runs.RunArtifactItemHandler),
        (_route("notebook_versions"), notebooks.NotebookVersionsHandler),
        (_route(version), notebooks.NotebookVersionItemHandler),
        (_route(f"{version}/restore"), notebooks.NotebookRestoreHandler),
        (_route("notebook_diffs"), notebooks.NotebookDiffHandler),
        # the model registry and run edits/comparisons (issue 11, A1)
        (_route("run_comparisons"), runs.RunComparisonsHandler),
        (_route("models"), models.ModelsHandler),
        (_route(model), models.ModelItemHandler),
        (_route(f"{model}/versions"), models.ModelVersionsHandler),
        (_route(f"{model}/versions/{ID.format('version')}"), models.ModelVersionItemHandler),
        (_route(card), model_cards.ModelCardHandler),
        (_route(f"{card}/html"), model_cards.ModelCardHTMLHandler),
        (_route(f"{model}/alias_history"), model_aliases.AliasHistoryHandler),
        (_route(f"{model}/aliases/{ID.format('alias')}"), model_aliases.ModelAliasItemHandler),
        (_route(f"{model}/promote"), model_aliases.ModelPromoteHandler),
        # deployments and schedules (issue 11, A2)
        (_route("deployments"), deployments.DeploymentsHandler),
        (_route(deployment), deployments.DeploymentItemHandler),
        (_route(f"{deployment}/traffic"), deployments.DeploymentTrafficHandler),
        (_route(f"{deployment}/monitoring"), monitoring.DeploymentMonitoringHandler),
        (_route(f"{deployment}/log"), deployments.DeploymentLogHandler),
        (_route(f"{deployment}/stop"), deployments.DeploymentStopHandler),
        (_route(f"{deployment}/rollback"), deployments.DeploymentRollbackHandler),
        (_route("schedules"), schedules.SchedulesHandler),
        (_route(schedule), schedules.ScheduleItemHandler),
        (_route(f"{schedule}/pause"), schedules.SchedulePauseHandler),
        (_route(f"{schedule}/resume"), schedules.ScheduleResumeHandler),
        (_route(f"{schedule}/run"), schedules.ScheduleRunHandler),
        (_route(f"{schedule}/history"), schedules.ScheduleHistoryHandler),
        (_route("notebook_parameters"), schedules.NotebookParametersHandler),
        (_route("notes"), notes.NotesHandler),
        (_route("audit"), audit.AuditHandler),
    ]


class KernelMagicsApp(ExtensionApp):
    """Serve runs, metrics, artifacts and notebook versions of the store to JupyterLab.

    :meth:`initialize_settings` resolves the store's location into ``web_app.settings``
    (``km_location``); the handlers open the store from it on first use. Configure with
    ``c.KernelMagicsApp.<trait>``.
    """

    name = "kernel_magics"
    load_other_extensions = True

    db_url = Unicode(
        "",
        config=True,
        help=(
            "SQLAlchemy URL of the store's database, for example "
            "sqlite:////home/me/.mlops/mlops.db or postgresql+psycopg://user@host/db. Empty (the "
            "default) resolves the store the way the magics and the CLI do: MLOPS_STORE_URI / "
            "MLOPS_HOME, then the nearest .mlops/ folder above the Jupyter root directory."
        ),
    )
    artifacts_url = Unicode(
        "",
        config=True,
        help=(
            "Where blobs (artifacts, notebook versions) live: a local folder or an fsspec URL "
            "such as s3://bucket/prefix. Empty (the default) uses MLOPS_ARTIFACTS_URI, else "
            "<store home>/artifacts."
        ),
    )
    max_page_size = Int(
        500,
        config=True,
        help="The largest number of runs one request may list (limit=...). Default: 500 runs.",
    )
    max_metric_points = Int(
        2000,
        config=True,
        help=(
            "The most points one metric series returns; longer series are evenly thinned in "
            "SQL, always keeping the last point. Default: 2000 points."
        ),
    )

    run_scheduler = Bool(
        True,
        config=True,
        help=(
            "Run a schedule scheduler inside the Jupyter server while it is up, so schedules "
            "fire with nothing else running. It shares the store safely with `mlops scheduler` "
            "daemons (each slot runs once). Set to False to rely on the daemon alone. "
            "Default: True."
        ),
    )
    scheduler_poll_interval = Float(
        5.0,
        config=True,
        help="Seconds between two looks of the in-server scheduler at the schedules. Default: 5.",
    )

    # -- the swappable parts (Base* contract, default implementation), like jupyter-scheduler's
    # scheduler_class; the values are classes, given as import strings in config.
    run_executor_class = Type(
        default_value="kernel_magics.core.runner.executors.LocalRunExecutor",
        klass="kernel_magics.core.runner.executors.BaseRunExecutor",
        config=True,
        help=(
            "Where the in-server scheduler executes notebooks: a BaseRunExecutor subclass, e.g. "
            "kernel_magics.core.runner.dask.DaskRunExecutor. Default: LocalRunExecutor (this "
            "machine)."
        ),
    )
    slot_executor_class = Type(
        default_value="kernel_magics.core.scheduler.executors.RunnerSlotExecutor",
        klass="kernel_magics.core.scheduler.executors.BaseSlotExecutor",
        config=True,
        help=(
            "What the in-server scheduler does with a slot it claimed: a BaseSlotExecutor "
            "subclass. Default: RunnerSlotExecutor (a tracked papermill run of the notebook)."
        ),
    )
    serving_backend_class = Type(
        default_value="kernel_magics.core.serving.local.LocalServingBackend",
        klass="kernel_magics.core.serving.local.BaseServingBackend",
        config=True,
        help=(
            "What starts model servers for deployments made from this server: a "
            "BaseServingBackend subclass. Default: LocalServingBackend (processes on this "
            "machine)."
        ),
    )

    def slot_executor(self):
        """Return the scheduler's slot executor the traits ask for (None: the scheduler's own).

        The default pair is left to the scheduler, which builds it on its own thread (and imports
        the runner there, not during server start-up).
        """
        from kernel_magics.core.runner.executors import LocalRunExecutor
        from kernel_magics.core.scheduler.executors import RunnerSlotExecutor

        slot_class, run_class = self.slot_executor_class, self.run_executor_class
        if slot_class is RunnerSlotExecutor and run_class is LocalRunExecutor:
            return None
        if issubclass(slot_class, RunnerSlotExecutor):
            # "local" keeps the runner's direct path for the default executor
            return slot_class(run_executor="local" if run_class is LocalRunExecutor else run_class)
        return slot_class()

    def initialize_settings(self) -> None:
        """Resolve the store's location and publish it (and the limits) to the handlers.

        The store itself opens on the first request (see ``MlopsHandler.store``): server
        start-up stays fast, and a store that cannot be opened (a PostgreSQL server that is
        down, a folder that cannot be created) is reported to the panel with its reason
        instead of failing the extension's load.
        """
        from kernel_magics.core.config import resolve_location

        root_dir = self.serverapp.root_dir if self.serverapp else None
        location = resolve_location(cwd=root_dir)
        if self.db_url or self.artifacts_url:
            from dataclasses import replace

            location = replace(
                location,
                store_uri=self.db_url or location.store_uri,
                artifacts_uri=self.artifacts_url or location.artifacts_uri,
                reason="KernelMagicsApp.db_url / artifacts_url are configured",
            )
        self.log.info("jupyter-mlops store: %s (%s)", location.store_uri, location.reason)
        self._scheduler_stop = None
        if self.run_scheduler:
            from kernel_magics.core.scheduler.daemon import start_background_scheduler

            lease = max(60.0, 4 * self.scheduler_poll_interval)
            _, self._scheduler_stop = start_background_scheduler(
                location,
                poll_interval=self.scheduler_poll_interval,
                lease=lease,
                executor=self.slot_executor(),
            )
            self.log.info("jupyter-mlops scheduler running in the server (run_scheduler=True)")
        from .warmup import warm_panel_imports

        warm_panel_imports(self.log)  # the panel's first requests should not pay for imports
        self.settings.update(
            km_location=location,
            km_max_page_size=self.max_page_size,
            km_max_metric_points=self.max_metric_points,
            # for handlers that deploy or run notebooks (core takes the classes as arguments)
            km_serving_backend_class=self.serving_backend_class,
            km_run_executor_class=self.run_executor_class,
        )

    def initialize_handlers(self) -> None:
        """Register every route of the REST API (all of them under :data:`API_NAMESPACE`)."""
        self.handlers.extend(routes())

    async def stop_extension(self) -> None:
        """Stop the in-server scheduler (its running notebooks finish under their lease)."""
        if self._scheduler_stop is not None:
            self._scheduler_stop.set()
