"""How a failed execution is described: which cell of the user's notebook, and what it raised.

papermill executes a copy of the notebook: it drops the error-marker cells an earlier failed
run left (``papermill-error-cell-tag``), adds the ``injected-parameters`` cell, and after a
failure inserts new error markers into the saved output. The cell index papermill reports
counts cells of that copy, so it is mapped back here to the index the user sees in the notebook
they ran.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

#: papermill's tag on the "An Exception was encountered" cells it inserts after a failure.
ERROR_MARKER_TAG = "papermill-error-cell-tag"
#: papermill's tag on the cell holding the parameters it injected.
INJECTED_TAG = "injected-parameters"

_RAISED = re.compile(r"^(?P<ename>[A-Za-z_][\w.]*(?:Error|Exception)): (?P<evalue>.*)$")


def _tags(cell: Any) -> list[str]:
    return (cell.get("metadata") or {}).get("tags") or []


def saved_cells(output_path: Path) -> list[dict[str, Any]]:
    """Cells of a saved output notebook without the error markers papermill inserted."""
    try:
        cells = json.loads(output_path.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError):
        return []
    return [cell for cell in cells if ERROR_MARKER_TAG not in _tags(cell)]


def running_cell(cells: list[dict[str, Any]]) -> int | None:
    """Index of the cell papermill marked ``running`` (the one a dying kernel was in)."""
    for index, cell in enumerate(cells):
        if cell.get("metadata", {}).get("papermill", {}).get("status") == "running":
            return index
    return None


def input_index(
    input_cells: list[dict[str, Any]], executed: list[dict[str, Any]], index: int | None
) -> int | None:
    """Map an index of papermill's executed copy to the index in the user's notebook.

    Cells papermill added (the injected parameters) and removed (old error markers) are the
    only difference between the two lists, so the n-th other cell of one is the n-th of the
    other. A failure inside the injected cell maps to the cell before it (``parameters``).
    """
    if index is None or not 0 <= index < len(executed):
        return index
    own = [
        i
        for i, cell in enumerate(input_cells)
        if ERROR_MARKER_TAG not in _tags(cell) and INJECTED_TAG not in _tags(cell)
    ]
    before = sum(1 for cell in executed[:index] if INJECTED_TAG not in _tags(cell))
    if INJECTED_TAG in _tags(executed[index]):
        before -= 1
    if not own or before < 0:
        return 0
    return own[min(before, len(own) - 1)]


def describe_error(ename: str, evalue: str, cell: dict[str, Any] | None) -> str:
    """``ValueError: boom``, or what the cell printed when papermill got no error output.

    A line magic that fails (``UsageError``) prints its message to stderr instead of raising
    into the cell's outputs, so papermill only knows ``CellExecutionError`` with an empty
    message; the message is in the cell's stderr stream.
    """
    if evalue or ename != "CellExecutionError":
        return f"{ename}: {evalue}"
    printed = [
        "".join(out.get("text", ""))
        for out in (cell or {}).get("outputs", [])
        if out.get("output_type") == "stream" and out.get("name") == "stderr"
    ]
    lines = [line.strip() for line in "".join(printed).splitlines() if line.strip()]
    for line in reversed(lines):
        match = _RAISED.match(line)
        if match:
            return f"{match['ename']}: {match['evalue']}"
    if lines:
        return f"an error; the cell printed: {lines[-1][:300]}"
    return "an error without a message (see the output notebook)"
