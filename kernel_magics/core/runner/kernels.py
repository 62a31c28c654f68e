"""Kernels started ahead of time, so a run never waits for a kernel to boot.

Starting an IPython kernel takes about a second, almost all of a trivial notebook's run time.
:class:`KernelPool` launches kernels before they are needed (up to ``size`` at a time), hands
each one to exactly one run (a notebook never sees another run's state), starts a replacement as
soon as one is taken, and shuts used kernels down on background threads.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import uuid
from collections import deque
from collections.abc import Mapping
from typing import Any

from ...errors import KernelNotFoundError
from ..names import RUN_ID_ENV

log = logging.getLogger("kernel_magics")

_NOT_INHERITED = (RUN_ID_ENV, "JPY_SESSION_NAME")
#: nbclient's own default: parallel kernels must not share one IPython history database.
HISTORY_ARG = "--HistoryManager.hist_file=:memory:"


_stopping: set[threading.Thread] = set()
_exit_hook = False


def _stop_in_background(km: Any, now: bool) -> threading.Thread:
    """Shut a kernel down on a thread that the process waits for at exit."""

    def work() -> None:
        try:
            shutdown_kernel(km, now)
        finally:
            _stopping.discard(thread)

    thread = threading.Thread(target=work, name="mlops-kernel-stop", daemon=True)
    global _exit_hook
    if not _exit_hook:
        # Registered after jupyter_client and zmq were imported, so it runs before their exit
        # hooks (atexit is last-in, first-out) while the sockets still work.
        atexit.register(_wait_for_shutdowns)
        _exit_hook = True
    _stopping.add(thread)
    thread.start()
    return thread


def _wait_for_shutdowns() -> None:
    # Kernels being stopped when the process exits would be left running otherwise.
    for thread in list(_stopping):
        thread.join(timeout=10)
    if _ipc_root is not None and not _stopping:
        import shutil

        shutil.rmtree(_ipc_root, ignore_errors=True)


_warm_thread: threading.Thread | None = None


def warm_imports() -> None:
    """Import papermill and nbformat on a thread while kernels boot (seconds on a cold disk)."""
    global _warm_thread
    if _warm_thread is not None:
        return

    def work() -> None:
        try:
            import nbformat  # noqa: F401

            from . import engine  # noqa: F401  (imports papermill and nbclient)
        except Exception:  # the run imports them again and reports the error
            log.debug("warm-up import failed", exc_info=True)

    _warm_thread = threading.Thread(target=work, name="mlops-warm-imports", daemon=True)
    _warm_thread.start()


def wait_for_warm_imports() -> None:
    """Let the warm-up imports finish before importing the same modules on this thread.

    Two threads importing papermill, nbclient and nbformat at once can take their module
    locks in opposite orders, which Python reports as ``_DeadlockError`` (seen when a kernel
    started faster than the imports on a loaded machine).
    """
    if _warm_thread is not None and _warm_thread is not threading.current_thread():
        _warm_thread.join()


_ipc_root: str | None = None
_ready_client: type | None = None


def ready_client_class() -> type:
    """An ``AsyncKernelClient`` whose ``wait_for_ready`` skips the trailing 0.2 s IOPub drain.

    jupyter_client waits, after the kernel answered ``kernel_info`` and IOPub proved connected,
    until IOPub has been silent for 0.2 s, to discard start-up messages. nbclient only reads
    IOPub messages whose parent is the cell it executes, so that drain is pure waiting: 0.2 s
    of every run. Everything else (kernel_info round trip, IOPub connected check, dead-kernel
    and timeout errors) is kept.
    """
    global _ready_client
    if _ready_client is not None:
        return _ready_client
    import time
    from queue import Empty

    from jupyter_client.asynchronous import AsyncKernelClient

    class ReadyClient(AsyncKernelClient):
        async def wait_for_ready(self, timeout: float | None = None) -> None:
            deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
            while True:
                self.kernel_info()
                try:
                    msg = await self.shell_channel.get_msg(timeout=1)
                except Empty:
                    pass
                else:
                    if msg["msg_type"] == "kernel_info_reply":
                        try:  # IOPub connected? (the kernel published its busy/idle status)
                            await self.iopub_channel.get_msg(timeout=0.2)
                        except Empty:
                            pass
                        else:
                            self._handle_kernel_info_reply(msg)
                            return
                if not await self._async_is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")

    _ready_client = ReadyClient
    return ReadyClient


def _ipc_dir() -> str:
    """Return a folder only this user can enter, for kernel sockets (short: paths < 108)."""
    global _ipc_root
    if _ipc_root is None or not os.path.isdir(_ipc_root):
        import tempfile

        _ipc_root = tempfile.mkdtemp(prefix="mlops-k-")  # mode 0700
    return _ipc_root


#: The kernel ``python`` stands for (jupyter_client's ``NATIVE_KERNEL_NAME``).
NATIVE_KERNEL = "python3"


def resolve_kernel(name: str) -> tuple[str, str]:
    """Return the installed kernel to start for ``name`` and its language.

    ``python`` (the kernelspec name of many older notebooks, e.g. papermill's
    ``test_autosave.ipynb``) means the native IPython kernel, ``python3``: jupyter_client's
    ``KernelManager`` starts it for that name, and so does papermill, so we do too.

    Returns
    -------
    tuple of str
        The kernel name to start and its language (``python`` for IPython kernels).

    Raises
    ------
    KernelNotFoundError
        When no kernelspec has that name; the message lists the installed ones.
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    resolved = NATIVE_KERNEL if name == "python" else name
    manager = KernelSpecManager()
    try:
        return resolved, (manager.get_kernel_spec(resolved).language or "python").lower()
    except NoSuchKernel:
        installed = ", ".join(sorted(manager.find_kernel_specs())) or "none"
        raise KernelNotFoundError(
            f"Kernel {name!r} is not installed (installed: {installed}). Pass --kernel with one "
            f"of those, or install it, e.g. `python -m ipykernel install --user --name {name}`."
        ) from None


def start_kernel(name: str, env: Mapping[str, str], cwd: str):
    """Launch one kernel process (returns as soon as it is spawned, before it is ready).

    The manager is an ``AsyncKernelManager``, what nbclient itself creates: its client's
    channels are asynchronous, so nbclient's dead-kernel watch keeps running while it waits.
    """
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    # IPC (unix sockets in a private folder) instead of TCP: no port is open to other users.
    km = AsyncKernelManager(kernel_name=name, transport="ipc")
    km.ip = os.path.join(_ipc_dir(), f"k-{uuid.uuid4().hex[:12]}")
    km.client_factory = ready_client_class()
    extra = [HISTORY_ARG] if km.ipykernel else []
    # Not inherited: the run id comes with the setup code, and this kernel belongs to no
    # JupyterLab session (the magics would take the caller's notebook for this one's).
    inherited = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    run_sync(km.start_kernel)(env={**inherited, **env}, cwd=cwd, extra_arguments=extra)
    return km


def interrupt_kernel(km: Any) -> None:
    """Send the kernel an interrupt (KeyboardInterrupt in the running cell)."""
    from jupyter_core.utils import run_sync

    run_sync(km.interrupt_kernel)()


def shutdown_kernel(km: Any, now: bool = False) -> None:
    """Stop a kernel and remove its connection file, ignoring a kernel that already died."""
    from jupyter_core.utils import run_sync

    try:
        if km.has_kernel:
            run_sync(km.shutdown_kernel)(now=now)
    except Exception:  # a dead kernel, a closed context: nothing left to stop
        log.debug("kernel shutdown failed", exc_info=True)
    finally:
        try:
            run_sync(_cleanup)(km)
        except Exception:  # noqa: S110 - best effort, the files are in a temp folder
            pass


async def _cleanup(km: Any) -> None:
    from jupyter_core.utils import ensure_async

    await ensure_async(km.cleanup_resources())


class KernelPool:
    """Kernels of one kind (name, environment, working directory), started ahead of use.

    Parameters
    ----------
    kernel_name : str
        The kernelspec to start.
    env : mapping
        Extra environment variables of every kernel (the store location).
    cwd : str
        Working directory of the kernels (the notebook's folder).
    size : int
        Kernels kept started and idle.
    total : int, optional
        Kernels that will ever be needed; no spare is started past it.
    """

    def __init__(
        self,
        kernel_name: str,
        env: Mapping[str, str],
        cwd: str,
        size: int = 1,
        total: int | None = None,
    ):
        self.kernel_name = kernel_name
        self.env = dict(env)
        self.cwd = cwd
        self.size = max(1, size)
        self.remaining = total if total is not None else None
        self._idle: deque[Any] = deque()
        self._cond = threading.Condition()
        self._starting = 0
        self._errors: list[BaseException] = []
        self._threads: list[threading.Thread] = []
        self._closed = False

    def start(self) -> KernelPool:
        """Launch the first ``size`` kernels (in the background); return self."""
        for _ in range(self.size):
            self._spawn()
        warm_imports()
        return self

    def _spawn(self) -> None:
        with self._cond:
            if self._closed or (self.remaining is not None and self.remaining <= 0):
                return
            if self.remaining is not None:
                self.remaining -= 1
            self._starting += 1
        thread = threading.Thread(target=self._start_one, name="mlops-kernel-start", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _start_one(self) -> None:
        try:
            km = start_kernel(self.kernel_name, self.env, self.cwd)
        except BaseException as exc:  # reported to the run that waits for it
            with self._cond:
                self._starting -= 1
                self._errors.append(exc)
                self._cond.notify_all()
            return
        with self._cond:
            self._starting -= 1
            if self._closed:
                _stop_in_background(km, True)
            else:
                self._idle.append(km)
            self._cond.notify_all()

    def acquire(self):
        """Take a started kernel (starting one if none is on its way) and start a spare.

        Raises
        ------
        RuntimeError
            When the kernel could not be launched (the launcher's error).
        """
        with self._cond:
            if not self._idle and not self._starting:
                if self.remaining is not None:
                    self.remaining += 1  # an extra kernel the estimate did not count
                need_spawn = True
            else:
                need_spawn = False
        if need_spawn:
            self._spawn()
        with self._cond:
            while not self._idle:
                if self._errors:
                    raise RuntimeError(f"Could not start kernel: {self._errors.pop()}")
                if not self._starting:
                    raise RuntimeError("Could not start a kernel (the pool is closed).")
                self._cond.wait(0.5)
            km = self._idle.popleft()
        self._spawn()  # replace it while this one runs
        return km

    def release(self, km: Any, now: bool = False) -> None:
        """Shut a used kernel down in the background (kernels are never reused)."""
        self._threads.append(_stop_in_background(km, now))

    def close(self, wait: bool = True) -> None:
        """Shut down idle kernels; with ``wait``, also wait for pending starts and stops."""
        with self._cond:
            self._closed = True
            idle, self._idle = list(self._idle), deque()
        for km in idle:
            self.release(km, now=True)  # never used: nothing to let finish
        if wait:
            for thread in list(self._threads):
                thread.join(timeout=15)

    def __enter__(self) -> KernelPool:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()
