"""What the kernel knows about its session: the cells it executed, in order.

The ``pre_run_cell`` event gives each execution's raw source and, when the front end sends it
(JupyterLab does; nbclient does not), the notebook cell id. Cells executed before
``%load_ext kernel_magics`` are taken from IPython's input history (without ids).
"""

from __future__ import annotations

from typing import Any

from ..core.capture import ExecutedCell


class CellHistory:
    """Every cell execution since the kernel started, oldest first."""

    def __init__(self, shell: Any):
        self.shell = shell
        self._cells: list[ExecutedCell] = []
        raw = list(getattr(shell.history_manager, "input_hist_raw", []) or [])
        # input_hist_raw[n] is In[n]; index 0 is a placeholder. The cell loading the extension
        # is already there, its pre_run_cell event has passed.
        for number, source in enumerate(raw[1:], start=1):
            self._cells.append(ExecutedCell(number, source))

    def pre_run_cell(self, info: Any) -> None:
        """IPython event hook: remember the cell about to run (history cells only)."""
        if getattr(info, "silent", False) or not getattr(info, "store_history", True):
            return
        self._cells.append(
            ExecutedCell(
                self.shell.displayhook.prompt_count,
                info.raw_cell or "",
                getattr(info, "cell_id", None),
            )
        )

    def cells(self) -> list[ExecutedCell]:
        """Return a copy of the executions so far (the running cell is the last one)."""
        return list(self._cells)

    def current(self) -> ExecutedCell | None:
        """Return the cell running now, if it was recorded."""
        return self._cells[-1] if self._cells else None
