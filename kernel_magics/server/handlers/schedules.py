"""``/mlops/api/schedules`` and ``/mlops/api/notebook_parameters``: scheduled notebooks.

Every change goes through :mod:`kernel_magics.core.scheduler.api`, which validates the cron
expression, the timezone and the parameters (against the notebook's ``parameters`` cell) before
anything is stored. "Run now" executes the notebook on a worker thread, like the scheduler would,
and answers 202 at once: the manual slot shows in the schedule's history while it runs.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from kernel_magics.errors import NotFoundError

from ..base import MlopsHandler
from ..contract import Operation
from ..models import (
    CreateScheduleRequest,
    DeleteScheduleResponse,
    DescribeNotebookParametersResponse,
    DescribeScheduleHistoryResponse,
    ListSchedulesQuery,
    ListSchedulesResponse,
    NotebookParametersQuery,
    RunScheduleNowResponse,
    Schedule,
    ScheduleHistoryQuery,
)

#: Notebooks started with "run now" (each one is a kernel; more wait for a free worker).
RUN_NOW_WORKERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="mlops-run-now")


def schedule_dict(
    handler: MlopsHandler,
    record,
    latest: dict[str, Any] | None,
    fires: dict[tuple, list[float]] | None = None,
    now: float | None = None,
) -> dict:
    """A schedule as :class:`Schedule` fields: its options, next fire times, latest slot.

    ``fires`` memoizes fire times by (cron, timezone, first instant) within one listing:
    schedules often share a cron, and enumerating fire times is the costly part of a row.
    """
    from kernel_magics.core.scheduler.api import next_runs

    latest = latest or {}
    now = time.time() if now is None else now
    fires = {} if fires is None else fires
    key = (record.cron, record.timezone, max(record.start_at, now))
    if not record.paused and key not in fires:
        fires[key] = [t.timestamp() for t in next_runs(record, 3, after=now)]
    return {
        **record.to_dict(),
        "jupyter_path": handler.jupyter_path(record.notebook_path),
        "next_runs": [] if record.paused else fires[key],
        "last_slot_time": latest.get("slot_time"),
        "last_status": latest.get("status"),
        "last_run_id": latest.get("run_id"),
    }


def one_schedule(handler: MlopsHandler, record) -> dict:
    """:func:`schedule_dict` for one record (its latest slot looked up)."""
    return schedule_dict(handler, record, handler.store.schedules.slot_counts().get(record.id))


class SchedulesHandler(MlopsHandler):
    """List schedules; schedule a notebook."""

    operations = {
        "get": Operation(
            "One page of schedules by name, with their next three fire times and last status.",
            ListSchedulesResponse,
            query=ListSchedulesQuery,
            errors=(400,),
        ),
        "post": Operation(
            "Schedule a notebook (cron, timezone, parameters checked against its parameters "
            "cell, timeout, retries, catch-up).",
            Schedule,
            body=CreateScheduleRequest,
            status=201,
            errors=(400, 404, 409),
        ),
    }

    @web.authenticated
    @authorized
    def get(self) -> None:
        """Answer a :class:`ListSchedulesResponse`."""
        query = self.parse_query(ListSchedulesQuery)
        records, total = self.store.schedules.page(query.limit, query.offset)
        latest = self.store.schedules.slot_counts() if records else {}
        fires: dict[tuple, list[float]] = {}
        now = time.time()
        rows = [schedule_dict(self, r, latest.get(r.id), fires, now) for r in records]
        self.respond(
            ListSchedulesResponse,
            {"schedules": rows, "total": total, "limit": query.limit, "offset": query.offset},
        )

    @web.authenticated
    @authorized
    def post(self) -> None:
        """Create the schedule through :func:`~kernel_magics.core.scheduler.api.schedule`."""
        from kernel_magics.core.scheduler.api import ScheduleOptions, schedule

        body = self.parse_body(CreateScheduleRequest)
        notebook = self.notebook_file(body.notebook)  # 400 outside the root
        if not Path(notebook).is_file():
            raise NotFoundError(f"No notebook {body.notebook!r}; check the path.")
        options = ScheduleOptions(
            cron=body.cron,
            timezone=body.timezone,
            parameters=body.parameters,
            experiment=body.experiment,
            timeout=body.timeout,
            retries=body.retries,
            retry_delay=body.retry_delay,
            catchup=body.catchup,
        )
        record = schedule(notebook, options, name=body.name, store=self.store)
        self.respond(Schedule, schedule_dict(self, record, None))


class NotebookParametersHandler(MlopsHandler):
    """The parameters cell of a notebook, for the schedule form."""

    operations = {
        "get": Operation(
            "Name, type and default of each assignment in a notebook's parameters cell.",
            DescribeNotebookParametersResponse,
            query=NotebookParametersQuery,
            errors=(400, 404),
        )
    }

    @web.authenticated
    @authorized
    def get(self) -> None:
        """Answer a :class:`DescribeNotebookParametersResponse`."""
        from kernel_magics.core.runner.parameters import (
            find_parameters_cell,
            load_notebook,
            parse_parameters,
        )

        query = self.parse_query(NotebookParametersQuery)
        notebook = Path(self.notebook_file(query.path))
        if not notebook.is_file():
            raise NotFoundError(f"No notebook {query.path!r}; check the path.")
        _, nb = load_notebook(notebook)  # 400 for a file that is not notebook JSON
        specs = parse_parameters(nb, notebook.name)
        self.respond(
            DescribeNotebookParametersResponse,
            {
                "path": query.path,
                "has_parameters_cell": find_parameters_cell(nb) is not None,
                "parameters": [vars(spec) for spec in specs.values()],
            },
        )


class ScheduleItemHandler(MlopsHandler):
    """Delete a schedule (its runs stay)."""

    operations = {
        "delete": Operation(
            "Delete a schedule and its slot history; its runs stay in the store.",
            DeleteScheduleResponse,
            errors=(404,),
        )
    }

    @web.authenticated
    @authorized
    def delete(self, schedule_id: str) -> None:
        """Answer a :class:`DeleteScheduleResponse`."""
        from kernel_magics.core.scheduler.api import delete_schedule

        record = self.store.schedules.by_id(int(schedule_id))
        delete_schedule(record.name, store=self.store)
        self.respond(DeleteScheduleResponse, {"schedule_id": record.id, "name": record.name})


class SchedulePauseHandler(MlopsHandler):
    """Pause a schedule: it creates no slots until resumed."""

    operations = {
        "post": Operation(
            "Pause: no new slots (running ones finish).", Schedule, errors=(404,)
        )  # fmt: skip
    }

    @web.authenticated
    @authorized
    def post(self, schedule_id: str) -> None:
        """Answer the paused :class:`Schedule`."""
        from kernel_magics.core.scheduler.api import pause_schedule

        record = self.store.schedules.by_id(int(schedule_id))
        self.respond(Schedule, one_schedule(self, pause_schedule(record.name, store=self.store)))


class ScheduleResumeHandler(MlopsHandler):
    """Resume a paused schedule from now on."""

    operations = {
        "post": Operation(
            "Resume from now on (fire times while paused are skipped).", Schedule, errors=(404,)
        )
    }

    @web.authenticated
    @authorized
    def post(self, schedule_id: str) -> None:
        """Answer the resumed :class:`Schedule`."""
        from kernel_magics.core.scheduler.api import resume_schedule

        record = self.store.schedules.by_id(int(schedule_id))
        self.respond(Schedule, one_schedule(self, resume_schedule(record.name, store=self.store)))


class ScheduleRunHandler(MlopsHandler):
    """Fire a schedule once, now (202 while its notebook runs)."""

    operations = {
        "post": Operation(
            "Run the schedule's notebook now as a manual slot; answers 202 at once.",
            RunScheduleNowResponse,
            status=202,
            errors=(404,),
            description=(
                "Needs the `execute` permission. The run goes through the server's "
                "slot_executor_class / run_executor_class; watch `GET schedules/{id}/history`."
            ),
        )
    }

    @web.authenticated
    @authorized
    @authorized("execute")
    def post(self, schedule_id: str) -> None:
        """Start :func:`~kernel_magics.core.scheduler.api.run_schedule_now` on a worker."""
        from kernel_magics.core.scheduler.api import run_schedule_now

        record = self.store.schedules.by_id(int(schedule_id))
        requested = time.time()
        future = asyncio.get_running_loop().run_in_executor(
            RUN_NOW_WORKERS,
            partial(
                run_schedule_now,
                record.name,
                store=self.store,
                executor=self.extensionapp.slot_executor(),  # type: ignore[attr-defined]
            ),
        )
        log = self.log

        def done(finished) -> None:
            if finished.exception() is not None:
                log.warning("jupyter-mlops run-now of %s failed: %s", record.name,
                            finished.exception())  # fmt: skip

        future.add_done_callback(done)
        self.respond(
            RunScheduleNowResponse,
            {"schedule_id": record.id, "name": record.name, "requested_at": requested},
        )


class ScheduleHistoryHandler(MlopsHandler):
    """A schedule's newest slots with their attempts, runs and output notebooks."""

    operations = {
        "get": Operation(
            "The newest slots first, each with its attempts, run and executed notebook.",
            DescribeScheduleHistoryResponse,
            query=ScheduleHistoryQuery,
            errors=(400, 404),
        )
    }

    @web.authenticated
    @authorized
    def get(self, schedule_id: str) -> None:
        """Answer a :class:`DescribeScheduleHistoryResponse`."""
        from kernel_magics.core.runner.execute import OUTPUT_ARTIFACT

        query = self.parse_query(ScheduleHistoryQuery)
        record = self.store.schedules.by_id(int(schedule_id))
        slots = self.store.schedules.history(record.name, query.limit)
        for slot in slots:
            run_id = slot.get("run_id")
            paths = {a["path"] for a in self.store.artifacts.list(run_id)} if run_id else set()
            slot["output_artifact"] = OUTPUT_ARTIFACT if OUTPUT_ARTIFACT in paths else None
        self.respond(
            DescribeScheduleHistoryResponse,
            {"schedule_id": record.id, "name": record.name, "slots": slots},
        )
