"""The run object: a handle on one run this process logs into."""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ...errors import (
    FileMissingError,
    InvalidMetricError,
    RunNotFoundError,
    ValidationError,
)
from ..names import FAILED, FINISHED, KILLED, TERMINAL_STATUSES
from ..store import Store
from . import stack
from .hooks import Terminated
from .tracebacks import user_traceback

_TEXT_TYPES = {".md": "text/markdown", ".py": "text/x-python", ".json": "application/json",
               ".html": "text/html", ".csv": "text/csv"}  # fmt: skip


class Run:
    """A handle on a run this process logs into.

    Use it as a context manager: leaving the block ends the run ``finished``, or ``failed`` (with
    the traceback) on an exception, or ``killed`` on KeyboardInterrupt.

    If the run is deleted from the store while this process logs into it (``mlops runs rm
    --force``), the process warns once and every later logging call does nothing.

    Attributes
    ----------
    id : str
        The run id (32 hex characters).
    owned : bool
        False when attached through ``MLOPS_RUN_ID``: the process that created the run decides
        its final status, so ending an attached run only flushes.
    """

    def __init__(self, store: Store, run_id: str, owned: bool = True):
        self.store = store
        self.id = run_id
        self.owned = owned
        self._writer = store.writer
        self._append = self._writer.points.append
        self._steps: dict[str, int] = {}
        self._ended = False

    def __repr__(self) -> str:
        return f"<Run {self.id[:8]} {'owned' if self.owned else 'attached'}>"

    # -- context manager ---------------------------------------------------------------------
    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.end(FINISHED)
        elif issubclass(exc_type, KeyboardInterrupt):
            self.end(KILLED, "Interrupted (KeyboardInterrupt).")
        elif issubclass(exc_type, Terminated):
            self.end(KILLED, "Terminated by SIGTERM.")
        else:
            self.end(FAILED, user_traceback(exc_type, exc, tb))

    def end(self, status: str = FINISHED, error: str | None = None) -> None:
        """End the run with ``status`` after writing its buffered metrics (once; idempotent).

        An attached run (``MLOPS_RUN_ID``) is only flushed: its creator sets the status.

        Raises
        ------
        ValidationError
            When ``status`` is not a terminal status (checked before anything changes).
        """
        check_end_status(status)
        if self._ended:
            return
        self._ended = True
        stack.discard(self)
        self._writer.remove_run(self.id)
        try:
            self._writer.flush()
        finally:  # the status is written even if the last points could not be
            if self.owned:
                self._guard(self.store.runs.finish, self.id, status, error)

    def _guard(self, write: Callable[..., Any], *args: Any) -> Any:
        """Call a store write for this run, or do nothing once the run was deleted.

        The first write that fails because the run is gone warns once (through the writer,
        which also stops its points and heartbeats) and returns None.
        """
        if self._writer.was_deleted(self.id):
            return None
        try:
            return write(*args)
        except Exception as exc:
            from ..store.db import violates_constraint

            if not (isinstance(exc, RunNotFoundError) or violates_constraint(exc)):
                raise
            if self.store.runs.existing([self.id]):
                raise
            self._writer.forget_run(self.id)
            return None

    # -- logging -----------------------------------------------------------------------------
    def log_metric(self, key: str, value: Any, step: int | None = None) -> None:
        """Buffer one metric point; written by the background writer (no I/O here).

        Raises
        ------
        InvalidMetricError
            When the value is not a finite number (strings and booleans are not numbers
            here; numpy numbers are) or the key is not a non-empty string.
        """
        cls = value.__class__
        if cls is not float and cls is not int and _not_a_number(value):
            raise InvalidMetricError(
                f"Metric {key!r} must be a number, got {cls.__name__} {value!r:.40}. "
                + (
                    "Convert it explicitly (float(...)) if it holds a number."
                    if isinstance(value, (str, bytes))
                    else "Log a boolean as 0 or 1, or as a tag."
                )
            )
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InvalidMetricError(
                f"Metric {key!r} must be a number, got {cls.__name__} {value!r:.40}."
            ) from None
        if number - number != 0.0:  # NaN or infinity, without a function call
            raise InvalidMetricError(
                f"Metric {key!r} is {number}; only finite numbers are stored. Check for a "
                "division by zero or a diverging loss, or skip the point."
            )
        if key.__class__ is not str or not key or len(key) > 255:
            raise InvalidMetricError(
                "A metric name must be a non-empty string of at most 255 characters, "
                f"got {key!r:.60}."
            )
        if step is None:
            step = self._steps.get(key, -1) + 1
        elif step.__class__ is not int:
            try:
                step = int(step)
            except (TypeError, ValueError):
                raise InvalidMetricError(
                    f"The step of metric {key!r} must be an integer."
                ) from None
        if not -(2**63) <= step < 2**63:
            raise InvalidMetricError(f"The step of metric {key!r} does not fit in 64 bits.")
        self._steps[key] = step
        self._append((self.id, key, step, time.time(), number))

    def log_metrics(self, values: Mapping[str, Any], step: int | None = None) -> None:
        """Buffer several metrics at the same step."""
        for key, value in values.items():
            self.log_metric(key, value, step)

    def log_param(self, key: str, value: Any) -> None:
        """Record one parameter (immutable once logged; ``None`` is stored as ``"None"``)."""
        self._guard(self.store.runs.log_params, self.id, {key: value})

    def log_params(self, values: Mapping[str, Any]) -> None:
        """Record several parameters."""
        self._guard(self.store.runs.log_params, self.id, dict(values))

    def set_tag(self, key: str, value: Any) -> None:
        """Set one tag (tags may change)."""
        self._guard(self.store.runs.set_tags, self.id, {key: value})

    def set_tags(self, values: Mapping[str, Any]) -> None:
        """Set several tags."""
        self._guard(self.store.runs.set_tags, self.id, dict(values))

    def log_artifact(self, path: str | os.PathLike[str], artifact_path: str | None = None) -> str:
        """Store a file as an artifact (named after the file unless ``artifact_path``).

        Raises
        ------
        FileMissingError
            When ``path`` is not a file (a folder goes through :meth:`log_artifacts`).
        """
        src = Path(path)
        if src.is_dir():
            raise FileMissingError(
                f"Cannot log artifact {str(src)!r}: it is a folder. Use "
                f"log_artifacts({str(src)!r}) to store every file in it."
            )
        if not src.is_file():
            raise FileMissingError(f"Cannot log artifact {str(src)!r}: no such file.")
        ref = self.store.blobs.put_file(src)
        return self._guard(self.store.artifacts.add, self.id, artifact_path or src.name, ref)

    def log_artifacts(
        self, directory: str | os.PathLike[str], artifact_path: str = ""
    ) -> list[str]:
        """Store every file under ``directory``, keeping their relative paths."""
        root = Path(directory)
        if not root.is_dir():
            raise FileMissingError(f"Cannot log artifacts from {str(root)!r}: no such directory.")
        prefix = artifact_path.strip("/")
        stored = []
        for file in sorted(p for p in root.rglob("*") if p.is_file()):
            rel = file.relative_to(root).as_posix()
            stored.append(self.log_artifact(file, f"{prefix}/{rel}" if prefix else rel))
        return stored

    def log_bytes(self, data: bytes, artifact_path: str, media_type: str | None = None) -> str:
        """Store raw bytes as an artifact."""
        ref = self.store.blobs.put_bytes(data)
        return self._guard(self.store.artifacts.add, self.id, artifact_path, ref, media_type)

    def log_text(self, text: str, artifact_path: str) -> str:
        """Store a string as a UTF-8 text artifact."""
        return self.log_bytes(text.encode("utf-8"), artifact_path, _text_type(artifact_path))

    def log_dict(self, data: Mapping[str, Any] | list, artifact_path: str) -> str:
        """Store a dict as JSON (or YAML when the path ends in .yaml/.yml)."""
        if artifact_path.endswith((".yaml", ".yml")):
            import yaml

            return self.log_bytes(
                yaml.safe_dump(data, sort_keys=False).encode(), artifact_path, "application/yaml"
            )
        if not artifact_path.endswith(".json"):
            raise ValidationError(
                f"log_dict writes .json, .yaml or .yml files, not {artifact_path!r}."
            )
        body = json.dumps(data, indent=2, default=str).encode()
        return self.log_bytes(body, artifact_path, "application/json")

    def log_figure(self, figure: Any, artifact_path: str, dpi: int = 100) -> str:
        """Store a matplotlib (or any ``savefig``-capable) figure as PNG or SVG."""
        if not hasattr(figure, "savefig"):
            raise ValidationError(
                "log_figure expects a matplotlib Figure (something with savefig)."
            )
        fmt = "svg" if artifact_path.endswith(".svg") else "png"
        if not artifact_path.endswith((".png", ".svg")):
            artifact_path += ".png"
        buffer = io.BytesIO()
        figure.savefig(buffer, format=fmt, dpi=dpi, bbox_inches="tight")
        return self.log_bytes(
            buffer.getvalue(), artifact_path, f"image/{'svg+xml' if fmt == 'svg' else 'png'}"
        )

    def log_dataset(
        self,
        data: Any,
        name: str | None = None,
        role: str = "input",
        store: bool | None = None,
        on_fail: str | None = None,
    ) -> dict[str, Any]:
        """Record a dataset version read (or written) by this run, and store its content.

        See :func:`kernel_magics.core.data.store_dataset`: ``store=False`` records a reference
        only; by default content is stored up to the store limit. ``on_fail`` (``warn`` or
        ``fail``) decides what a failed quality check does (:mod:`kernel_magics.core.data.quality`).
        """
        from ..data.storing import log_version

        def write() -> dict[str, Any]:
            record, new = log_version(self.store, data, name, store_content=store,
                                      run_id=self.id, role=role, on_fail=on_fail)  # fmt: skip
            return {**record.to_dict(), "name": record.dataset, "version_id": record.id,
                    "version": record.number, "new": new}  # fmt: skip

        return self._guard(write)

    def flush(self) -> None:
        """Write buffered metric points now."""
        self._writer.flush()

    @property
    def info(self):
        """The stored record of this run (status, params, metrics...)."""
        self._writer.flush()
        return self.store.runs.get(self.id)


def check_end_status(status: str) -> None:
    """Refuse a status a run cannot end with.

    Raises
    ------
    ValidationError
        When ``status`` is not one of the terminal statuses.
    """
    if status not in TERMINAL_STATUSES:
        raise ValidationError(
            f"Unknown end status {status!r}; one of {', '.join(TERMINAL_STATUSES)}."
        )


def _not_a_number(value: Any) -> bool:
    # bool is an int to Python but not a metric here (True logged as 1.0 hides a mistake);
    # numpy's bool_ likewise. Strings are refused even when float() could parse them.
    kind = type(value)
    return isinstance(value, (str, bytes, bool)) or (
        kind.__module__ == "numpy" and kind.__name__ in ("bool", "bool_")
    )


def _text_type(path: str) -> str:
    return _TEXT_TYPES.get(Path(path).suffix, "text/plain")
