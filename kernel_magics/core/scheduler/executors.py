"""What a slot runs: a pair ``BaseSlotExecutor`` (the contract) / ``RunnerSlotExecutor``.

The scheduler hands a slot executor a :class:`SlotJob` and expects an :class:`Outcome` back.
The default, :class:`RunnerSlotExecutor` (the ``papermill`` entry point of
``kernel_magics.schedule_executors``), executes the schedule's notebook through the runner as a
tracked run (source ``schedule``) tagged with its schedule and slot. Tests inject their own
slot executors (a trivial one for thousands of slots, a failing one for retries). Not to be
confused with the runner's :class:`~kernel_magics.core.runner.executors.BaseRunExecutor`,
which decides where one notebook run executes.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ...errors import ValidationError
from ..names import FAILED, SOURCE_SCHEDULE, Tag

if TYPE_CHECKING:
    from ..store import Store
    from ..store.schedules import ScheduleRecord


@dataclass(frozen=True)
class SlotJob:
    """One attempt of one slot, as given to an executor.

    Attributes
    ----------
    schedule : ScheduleRecord
        The schedule (notebook, parameters, experiment, timeout...).
    slot_id, slot_time, attempt, trigger : int, float, int, str
        Which slot (UTC epoch fire time), which attempt (1 = first), ``cron`` or ``manual``.
    store : Store
        Where the run is recorded.
    """

    schedule: ScheduleRecord
    slot_id: int
    slot_time: float
    attempt: int
    trigger: str
    store: Store

    @property
    def slot_label(self) -> str:
        """The fire time in the schedule's timezone, ISO 8601."""
        return dt.datetime.fromtimestamp(
            self.slot_time, ZoneInfo(self.schedule.timezone)
        ).isoformat()

    @property
    def tags(self) -> dict[str, str]:
        """Tags that link the run to its schedule and slot."""
        return {
            Tag.SCHEDULE: self.schedule.name,
            Tag.SLOT: self.slot_label,
            Tag.SLOT_ATTEMPT: f"{self.slot_id}:{self.attempt}",
            Tag.TRIGGER: self.trigger,
        }


@dataclass(frozen=True)
class Outcome:
    """How an attempt ended.

    Attributes
    ----------
    status : str
        ``finished``, ``failed``, ``killed`` (timeout) or ``crashed``.
    run_id : str or None
        The tracked run, when one was created.
    error : str or None
        A readable reason.
    retry : bool
        False when retrying cannot help (the notebook no longer matches the schedule).
    details : dict
        Anything else worth logging (output path...).
    """

    status: str
    run_id: str | None = None
    error: str | None = None
    retry: bool = True
    details: dict[str, Any] = field(default_factory=dict)


class BaseSlotExecutor(ABC):
    """Runs one slot attempt. Override :meth:`execute`; keep it free of scheduling logic.

    ``execute`` may raise: a :class:`~kernel_magics.errors.ValidationError` ends the slot
    ``failed`` without retry, any other exception counts as a failed (retryable) attempt. It
    must enforce ``job.schedule.timeout`` itself and report ``killed`` when it passes.
    """

    @abstractmethod
    def execute(self, job: SlotJob) -> Outcome:
        """Run the attempt and say how it ended."""


class RunnerSlotExecutor(BaseSlotExecutor):
    """Execute the schedule's notebook with papermill as a tracked run (source ``schedule``)."""

    def __init__(self, run_executor: str | type = "local") -> None:
        # Import here, on the thread that builds the scheduler, not concurrently on first use.
        from ..runner.execute import run_one

        self._run_one = run_one
        #: Where the notebook runs: RunOptions.executor (KernelMagicsApp.run_executor_class).
        self.run_executor = run_executor

    def execute(self, job: SlotJob) -> Outcome:
        """Run the notebook; a notebook that no longer matches the schedule fails readably."""
        from ..runner.options import RunOptions

        schedule = job.schedule
        path = Path(schedule.notebook_path)
        if not path.is_file():
            return Outcome(FAILED, error=(
                f"The notebook {path} of schedule {schedule.name!r} no longer exists. Restore "
                f"it, or remove the schedule with `mlops schedule rm {schedule.name}`."
            ), retry=False)  # fmt: skip
        try:
            options = RunOptions(
                parameters=schedule.parameters, experiment=schedule.experiment,
                name=f"{schedule.name} {job.slot_label}", timeout=schedule.timeout,
                kernel=schedule.kernel, source=SOURCE_SCHEDULE, tags=job.tags,
                executor=self.run_executor,
            )  # fmt: skip
            result = self._run_one(path, options, store=job.store)
        except ValidationError as exc:
            return Outcome(FAILED, error=(
                f"The notebook no longer matches schedule {schedule.name!r}: {exc} Update the "
                "notebook, or recreate the schedule with parameters it accepts."
            ), retry=False)  # fmt: skip
        return Outcome(result.status, result.run_id, result.error,
                       details={"output_path": result.output_path})  # fmt: skip
