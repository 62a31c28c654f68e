"""A papermill engine that runs hidden setup and teardown code around the notebook's cells.

papermill's ``nbclient`` engine executes the cells, saves the output notebook after every cell
and writes stream output to log files; this subclass only adds two silent executions on the same
kernel client: before the first cell (attach tracking to the run through ``MLOPS_RUN_ID``; a
kernel started ahead of time could not get it in its environment) and after the last (flush the
metrics the notebook buffered, so the runner records the final status after them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nbclient.exceptions import DeadKernelError
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.utils import merge_kwargs, remove_args

ENGINE_NAME = "kernel_magics"

#: Flush the tracking buffers of the kernel, if the notebook used them (never imports them).
TEARDOWN_CODE = (
    "__import__('sys').modules.get('kernel_magics.core.store.writer') and "
    "__import__('sys').modules['kernel_magics.core.store.writer'].flush_all()"
)


def setup_code(env: dict[str, str], *, cell_runs: bool = False) -> str:
    """Code that puts ``env`` into the kernel's ``os.environ`` without leaving names behind.

    With ``cell_runs``, the run (``MLOPS_RUN_ID``) is also made the kernel's active run, so each
    ``%%mlops track`` cell starts a child run of it instead of logging into it.
    """
    code = f"__import__('os').environ.update({env!r})"
    if cell_runs:
        code += "; __import__('kernel_magics').active_run()"
    return code


class HiddenCodeError(RuntimeError):
    """Raised when the runner's own setup code fails inside the kernel."""


class TrackedNotebookClient(PapermillNotebookClient):
    """papermill's client plus silent ``setup_code`` / ``teardown_code`` executions.

    ``on_ready`` is called once the kernel is ready, before the setup code (the runner starts
    its timeout clock there).
    """

    def __init__(self, nb_man, setup_code: str | None = None, teardown_code: str | None = None,
                 on_ready: Callable[[], None] | None = None, **kw: Any):  # fmt: skip
        super().__init__(nb_man, **kw)
        self.mlops_setup = setup_code
        self.mlops_teardown = teardown_code
        self.mlops_on_ready = on_ready
        self.mlops_current: int | None = None

    def _run_hidden(self, code: str, timeout: float) -> dict[str, Any] | None:
        assert self.kc is not None
        msg_id = self.kc.execute(code, silent=True, store_history=False, allow_stdin=False)
        saved: Any = self.timeout  # type: ignore[has-type]
        self.timeout = int(timeout)
        try:
            return self.wait_for_reply(msg_id)
        finally:
            self.timeout = saved

    def execute_cell(self, cell, cell_index, *args: Any, **kwargs: Any):
        """Execute one cell, remembering which (to name it if the kernel dies)."""
        self.mlops_current = cell_index
        return super().execute_cell(cell, cell_index, *args, **kwargs)

    def _alive(self) -> bool:
        from jupyter_core.utils import ensure_async, run_sync

        async def check() -> bool:
            return bool(await ensure_async(self.km.is_alive()))

        return run_sync(check)()

    def papermill_execute_cells(self) -> None:
        """Run the setup code, every cell (papermill's loop), then the teardown code."""
        if self.mlops_on_ready is not None:
            self.mlops_on_ready()
        if self.mlops_setup:
            reply = self._run_hidden(self.mlops_setup, timeout=60)
            if reply is None or reply["content"].get("status") != "ok":
                content = (reply or {}).get("content", {})
                raise HiddenCodeError(
                    f"The run's setup code failed in the kernel: {content.get('ename')}: "
                    f"{content.get('evalue')}"
                )
        dead = False
        try:
            super().papermill_execute_cells()
        except DeadKernelError as exc:
            exc.cell_index = self.mlops_current  # type: ignore[attr-defined]
            dead = True
            raise
        except KeyboardInterrupt:
            # Ctrl-C or SIGTERM in the runner: stop the cell too, so the teardown can flush.
            from .kernels import interrupt_kernel

            try:
                interrupt_kernel(self.km)
            except Exception:  # noqa: S110 - the kernel is shut down right after anyway
                pass
            raise
        finally:
            if not dead and self.mlops_teardown and self.kc is not None and self.km is not None:
                try:
                    if self._alive():
                        self._run_hidden(self.mlops_teardown, timeout=10)
                except BaseException:  # a dying or stuck kernel: the runner reports what happened
                    self.log.debug("teardown code failed", exc_info=True)


class TrackedEngine(NBClientEngine):
    """papermill's nbclient engine, executing through :class:`TrackedNotebookClient`."""

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man,
        kernel_name,
        log_output=False,
        stdout_file=None,
        stderr_file=None,
        start_timeout=60,
        execution_timeout=None,
        input_label=None,
        **kwargs,
    ):
        """Execute ``nb_man``'s notebook (same arguments as papermill's engine).

        ``input_label`` replaces the recorded input path (the runner passes the notebook as an
        in-memory node, which papermill would otherwise copy into the metadata).
        """
        if input_label is not None:
            nb_man.nb.metadata.papermill["input_path"] = input_label
        kwargs = remove_args(["input_path"], **kwargs)
        safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
        final_kwargs = merge_kwargs(
            safe_kwargs,
            timeout=execution_timeout if execution_timeout else kwargs.get("timeout"),
            startup_timeout=start_timeout,
            kernel_name=kernel_name,
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
        )
        return TrackedNotebookClient(nb_man, **final_kwargs).execute()


papermill_engines.register(ENGINE_NAME, TrackedEngine)
