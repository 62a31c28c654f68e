"""Plain records the store hands out (no SQLAlchemy objects leak past the store)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class RunRecord:
    """Everything the store knows about one run.

    ``metrics`` holds the latest value of each metric; the full series comes from
    :meth:`kernel_magics.core.store.runs.RunRepository.metric_history`.
    """

    id: str
    experiment_id: int
    experiment: str
    name: str | None
    status: str
    source: str
    start_time: float
    end_time: float | None
    heartbeat_at: float | None
    parent_run_id: str | None = None
    notebook_path: str | None = None
    notebook_version_id: int | None = None
    pid: int | None = None
    hostname: str | None = None
    user: str | None = None
    environment_hash: str | None = None
    error: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    datasets: list[dict[str, Any]] = field(default_factory=list)

    @property
    def duration(self) -> float | None:
        """Seconds from start to end (None while running)."""
        return None if self.end_time is None else self.end_time - self.start_time

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (used by the CLI, the server and the magics)."""
        data = asdict(self)
        data["duration"] = self.duration
        return data


@dataclass
class ExperimentRecord:
    """An experiment with its run count."""

    id: int
    name: str
    description: str | None
    created_at: float
    run_count: int = 0
    last_run_at: float | None = None
    tags: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return asdict(self)
