"""Models of ``/mlops/api/schedules`` and ``/mlops/api/notebook_parameters``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .base import MAX_INT, Request, Response
from .notebooks import JupyterPath

#: What happens to fire times missed while no scheduler ran (``core/scheduler/catchup.py``).
CatchupPolicy = Literal["latest", "all", "none"]


class ListSchedulesQuery(Request):
    """``GET /mlops/api/schedules``: which page (schedules are listed by name)."""

    limit: int = Field(50, ge=1, le=500, description="Page size (at most 500)")
    offset: int = Field(0, ge=0, le=MAX_INT, description="First row of the page")


class Schedule(Response):
    """A schedule with its next fire times and its latest slot."""

    id: int = Field(description="Schedule id")
    name: str = Field(description="Unique name")
    notebook_path: str = Field(description="Absolute path of the notebook")
    jupyter_path: str | None = Field(description="The notebook relative to the Jupyter root")
    cron: str = Field(description="Cron expression")
    timezone: str = Field(description="IANA timezone the cron reads")
    parameters: dict[str, Any] = Field(description="Parameters injected into every run")
    experiment: str | None = Field(description="Experiment its runs go to")
    timeout: float | None = Field(description="Seconds a run may take")
    retries: int = Field(description="Extra attempts after a failure")
    retry_delay: float = Field(description="Seconds between attempts")
    catchup: CatchupPolicy = Field(description="What happens to missed fire times")
    paused: bool = Field(description="Paused schedules do not fire")
    created_at: float = Field(description="UTC epoch seconds")
    next_runs: list[float] = Field(description="Next three fire times (UTC epoch; none if paused)")
    last_slot_time: float | None = Field(description="Fire time of the latest slot")
    last_status: str | None = Field(description="Status of the latest slot")
    last_run_id: str | None = Field(description="Run of the latest slot")


class ListSchedulesResponse(Response):
    """``GET /mlops/api/schedules``: one page of schedules, by name."""

    schedules: list[Schedule] = Field(description="The page, by name")
    total: int = Field(description="Schedules in all")
    limit: int = Field(description="Page size used")
    offset: int = Field(description="First row")


class CreateScheduleRequest(Request):
    """``POST /mlops/api/schedules``: a notebook to run on a cron."""

    notebook: JupyterPath = Field(description="Jupyter path of the .ipynb")
    cron: str = Field(min_length=1, max_length=255, description="e.g. 0 3 * * * or @daily")
    timezone: str | None = Field(None, max_length=64, description="IANA name; the server's if null")
    name: str | None = Field(None, max_length=255, description="Unique; the notebook stem if null")
    parameters: dict[str, Any] = Field(
        default_factory=dict, description="Checked against the notebook's parameters cell"
    )
    experiment: str | None = Field(None, max_length=255, description="Where its runs go")
    timeout: float | None = Field(None, gt=0, description="Seconds a run may take")
    retries: int = Field(0, ge=0, le=100, description="Extra attempts after a failure")
    retry_delay: float = Field(60.0, ge=0, description="Seconds between attempts")
    catchup: CatchupPolicy = Field("latest", description="What happens to missed fire times")


class NotebookParametersQuery(Request):
    """``GET /mlops/api/notebook_parameters``: the notebook to read."""

    path: JupyterPath = Field(description="Jupyter path of the .ipynb")


class NotebookParameter(Response):
    """One assignment of a notebook's ``parameters`` cell."""

    name: str = Field(description="Variable name")
    type: Literal["int", "float", "bool", "str", "list", "dict", "any"] = Field(
        description="Type of the default (annotation, else the literal's type)"
    )
    default: Any = Field(description="Default value (null when not a literal)")
    source: str = Field(description="The right-hand side as written")
    literal: bool = Field(description="Whether the default is a Python literal")


class DescribeNotebookParametersResponse(Response):
    """``GET /mlops/api/notebook_parameters``: the form a schedule's parameters follow."""

    path: str = Field(description="The Jupyter path asked for")
    has_parameters_cell: bool = Field(description="Whether a cell is tagged parameters")
    parameters: list[NotebookParameter] = Field(description="In the cell's order")


class ScheduleAttempt(Response):
    """One attempt of a slot."""

    attempt: int = Field(description="1 for the first")
    status: str = Field(description="running, finished, failed, crashed, killed")
    run_id: str | None = Field(description="The attempt's run")
    error: str | None = Field(description="Why it failed")
    started_at: float = Field(description="UTC epoch seconds")
    ended_at: float | None = Field(description="UTC epoch seconds, null while running")


class ScheduleSlot(Response):
    """One fire time of a schedule and what became of it."""

    id: int = Field(description="Slot id")
    slot_time: float = Field(description="Fire time (UTC epoch)")
    trigger: str = Field(description="cron, or manual (run now)")
    status: str = Field(description="pending, running, retrying, finished, failed, missed...")
    attempt: int = Field(description="Attempts made so far")
    run_id: str | None = Field(description="Run of the latest attempt")
    error: str | None = Field(description="Why the slot failed")
    output_artifact: str | None = Field(
        description="The executed notebook, an artifact of run_id (GET runs/{id}/artifacts/...)"
    )
    attempts: list[ScheduleAttempt] = Field(description="Oldest first")


class ScheduleHistoryQuery(Request):
    """``GET /mlops/api/schedules/{id}/history``: how many slots."""

    limit: int = Field(50, ge=1, le=500, description="Newest slots to return (1-500)")


class DescribeScheduleHistoryResponse(Response):
    """``GET /mlops/api/schedules/{id}/history``: the newest slots first."""

    schedule_id: int = Field(description="Schedule id")
    name: str = Field(description="Schedule name")
    slots: list[ScheduleSlot] = Field(description="Newest first")


class RunScheduleNowResponse(Response):
    """``POST /mlops/api/schedules/{id}/run`` (202): a manual slot is starting."""

    schedule_id: int = Field(description="Schedule id")
    name: str = Field(description="Schedule name")
    requested_at: float = Field(description="UTC epoch seconds; the slot shows in its history")


class DeleteScheduleResponse(Response):
    """``DELETE /mlops/api/schedules/{id}``: what was deleted (its runs stay)."""

    schedule_id: int = Field(description="Schedule id")
    name: str = Field(description="Schedule name")
