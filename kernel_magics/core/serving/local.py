"""The default serving backend: model servers as background processes on this machine."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
import urllib.request
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from ...errors import DeploymentError, ValidationError
from ..extras import require
from ..names import FAILED, RUNNING
from ..registry import ModelVersionRecord
from ..store import Store
from ..store.deployments import HOSTNAME, LIVE_STATUSES, STOPPED, DeploymentRecord
from ..store.liveness import pid_alive
from .options import ServeOptions

START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 15.0
LOG_TAIL_LINES = 20
#: The deployment event holding its server's ``/health`` nonce.
NONCE_EVENT = "health nonce"
#: Attempts to reach a new server on its public address (see ``_public_problem``).
PUBLIC_CHECKS = 20


class BaseServingBackend(ABC):
    """The contract of a serving backend (where and how model servers run).

    Implementers override :meth:`start`, :meth:`stop`, :meth:`logs` and :meth:`health`; the
    functions in :mod:`kernel_magics.core.serving.deployments` (deploy, rollback, redeploy)
    call only these, and record every state change in the store through
    :class:`~kernel_magics.core.store.deployments.DeploymentRepository` (``store.deployments``,
    also ``self.repo``), which implementers use too. ``start`` must
    return only once the new server answers ``/health`` (or raise ``DeploymentError``); with
    ``replacing`` set, it must serve the same address without a gap, and the caller stops the
    replaced server afterwards.
    """

    name = "base"

    def __init__(self, store: Store):
        self.store = store
        self.repo = store.deployments

    @abstractmethod
    def start(
        self,
        version: ModelVersionRecord,
        *,
        alias: str | None,
        host: str,
        port: int,
        options: dict[str, Any],
        replacing: DeploymentRecord | None = None,
    ) -> DeploymentRecord:
        """Start a server for ``version`` and return its (running) record."""

    @abstractmethod
    def stop(
        self, deployment: DeploymentRecord, *, drain: bool = False, reason: str = "stopped"
    ) -> DeploymentRecord:
        """Stop a server (``drain``: let open connections finish first)."""

    @abstractmethod
    def logs(self, deployment: DeploymentRecord, tail: int | None = None) -> str:
        """Return the server's log output (the last ``tail`` lines when given)."""

    @abstractmethod
    def health(self, deployment: DeploymentRecord) -> dict[str, Any] | None:
        """Return the server's ``/health`` answer, or None when it does not answer."""


#: Environment variable naming the serving backend to use (``local`` when unset).
BACKEND_ENV = "MLOPS_SERVING_BACKEND"


def backend_class(name: str | None = None) -> type[BaseServingBackend]:
    """Return the serving backend class registered as ``name`` (``kernel_magics.serving_backends``).

    Parameters
    ----------
    name : str, optional
        An entry-point name; ``$MLOPS_SERVING_BACKEND``, else ``local``, when omitted.

    Raises
    ------
    PluginNotFoundError
        When no backend has that name (the message lists the installed ones).
    ValidationError
        When the entry point is not a :class:`BaseServingBackend` subclass.
    """
    from .. import plugins

    name = name or os.environ.get(BACKEND_ENV) or LocalServingBackend.name
    cls = plugins.load(plugins.SERVING_BACKENDS, name)
    if not (isinstance(cls, type) and issubclass(cls, BaseServingBackend)):
        raise ValidationError(
            f"The serving backend {name!r} ({cls!r}) is not a BaseServingBackend subclass."
        )
    return cls


def http_json(url: str, timeout: float = 5.0) -> dict[str, Any] | None:
    """GET ``url`` and decode its JSON body (None on any failure)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - our own server
            return json.loads(resp.read())
    except Exception:
        return None


def _our_server(pid: int) -> bool:
    """Whether ``pid`` still runs one of our servers (guards against a recycled pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return pid_alive(pid)
    return b"kernel_magics" in cmdline or b"serve" in cmdline


class LocalServingBackend(BaseServingBackend):
    """Each deployment is a detached ``python -m kernel_magics.core.serving`` process.

    Its output goes to ``<store home>/deployments/<id>.log``; it survives the notebook kernel or
    shell that started it, and reports readiness through an inherited pipe.
    """

    name = "local"

    def _log_dir(self) -> Path:
        home = self.store.location.home or Path.home() / ".mlops"
        path = Path(home) / "deployments"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "MLOPS_RUN_ID"}
        env["MLOPS_STORE_URI"] = self.store.location.store_uri
        env["MLOPS_ARTIFACTS_URI"] = self.store.location.artifacts_uri
        if self.store.location.home is not None:
            env["MLOPS_HOME"] = str(self.store.location.home)
        env.setdefault("PYTHONUNBUFFERED", "1")
        return env

    def start(self, version, *, alias, host, port, options, replacing=None):
        """Spawn the server, wait for readiness and a healthy ``/health``; see the base class."""
        # before the deployment row exists: the spawned server would die on its first import
        require("serve", feature="Deploying a model")
        dep_id = self.repo.create(version.id, alias, host, port)
        log_path = self._log_dir() / f"{dep_id}.log"
        self.repo.update(dep_id, "options", json.dumps(options), log_path=str(log_path))
        serve_options = ServeOptions.from_dict(options)
        read_fd, write_fd = os.pipe()
        cmd = [
            sys.executable,
            "-m",
            "kernel_magics.core.serving",
            "--deployment-id",
            str(dep_id),
            "--ready-fd",
            str(write_fd),
            *serve_options.argv(),
        ]
        with open(log_path, "ab") as log_file:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                pass_fds=(write_fd,),
                start_new_session=True,
                env={**self._env(), **serve_options.env()},
            )
        os.close(write_fd)
        self.repo.update(dep_id, None, pid=proc.pid)
        try:
            info = self._wait_ready(read_fd, proc)
        finally:
            os.close(read_fd)
        health = http_json(f"http://127.0.0.1:{info['health_port']}/health") if info else None
        nonce = info.get("nonce") if info else None
        ours = health is not None and nonce is not None and health.get("nonce") == nonce
        problem = None
        if ours:
            problem = self._public_problem(host, port, str(nonce))
        if not ours or problem:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
            tail = self._tail(log_path)
            self.repo.update(dep_id, "failed", problem or tail, status=FAILED)
            if problem:
                raise DeploymentError(problem)
            raise DeploymentError(
                f"The server for {version.ref} did not become healthy"
                f"{f' (exit code {proc.returncode})' if proc.returncode is not None else ''}. "
                f"Its log ({log_path}) ends with:\n{tail}"
            )
        self.repo.update(dep_id, NONCE_EVENT, str(nonce))
        self.repo.update(
            dep_id, "started", f"pid {proc.pid}", only_if=LIVE_STATUSES, status=RUNNING
        )
        return self.repo.get(dep_id)

    @staticmethod
    def _public_problem(host: str, port: int, nonce: str) -> str | None:
        """Why clients of ``host:port`` would not reach the new server (None: they do).

        Deployment ids are unique only within one store, so the check is the process's
        nonce: on Linux a server can bind 0.0.0.0 on a port another one holds on 127.0.0.1,
        and clients of 127.0.0.1 then reach the other one. While a replaced server still
        listens, new connections may reach it for a moment: ask a few times.
        """
        client_host = "127.0.0.1" if host in ("0.0.0.0", "") else ("::1" if host == "::" else host)
        url_host = f"[{client_host}]" if ":" in client_host else client_host
        answer = None
        for _ in range(PUBLIC_CHECKS):
            answer = http_json(f"http://{url_host}:{port}/health", timeout=2.0)
            if answer is not None and answer.get("nonce") == nonce:
                return None
            time.sleep(0.1)
        if answer is None:
            return f"The new server does not answer on {host}:{port}; pick another --port."
        return (
            f"Port {port} on {client_host} is answered by another model server (pid "
            f"{answer.get('pid')}, serving {answer.get('model')} v{answer.get('version')}), "
            "maybe of another store; pick another --port."
        )

    @staticmethod
    def _wait_ready(read_fd: int, proc: subprocess.Popen) -> dict[str, Any] | None:
        deadline = time.monotonic() + START_TIMEOUT_S
        buffer = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([read_fd], [], [], 0.5)
            if ready:
                chunk = os.read(read_fd, 4096)
                if not chunk:  # the child closed the pipe without a word: it died
                    proc.wait(timeout=10)
                    return None
                buffer += chunk
                if b"\n" in buffer:
                    return json.loads(buffer.split(b"\n", 1)[0])
            elif proc.poll() is not None:
                return None
        return None

    def _tail(self, log_path: Path | str | None, lines: int = LOG_TAIL_LINES) -> str:
        if not log_path or not Path(log_path).exists():
            return "(no log)"
        text = Path(log_path).read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.rstrip().splitlines()[-lines:]) or "(empty log)"

    def stop(self, deployment, *, drain=False, reason="stopped"):
        """Signal the server (SIGTERM to drain, SIGINT to stop) and wait for it to exit."""
        if deployment.hostname not in (None, HOSTNAME):
            # We cannot signal a process on another machine: mark it stopped, and its watchdog
            # (which reads its own status every 5 s) shuts it down.
            self.repo.update(
                deployment.id,
                "stopped",
                f"{reason} (from {HOSTNAME})",
                only_if=LIVE_STATUSES,
                status=STOPPED,
            )
            return self.repo.get(deployment.id)
        pid = deployment.pid
        if pid and pid_alive(pid) and _our_server(pid):
            self.repo.update(
                deployment.id, "stopping", reason, only_if=LIVE_STATUSES, status="stopping"
            )
            os.kill(pid, signal.SIGTERM if drain else signal.SIGINT)
            deadline = time.monotonic() + STOP_TIMEOUT_S
            while pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
                reason += " (killed after it ignored the stop signal)"
        self.repo.update(
            deployment.id, "stopped", reason, only_if=(*LIVE_STATUSES, STOPPED), status=STOPPED
        )
        return self.repo.get(deployment.id)

    def logs(self, deployment, tail=None):
        """Return the deployment's log file (all of it, or the last ``tail`` lines)."""
        if tail is not None:
            return self._tail(deployment.log_path, tail)
        if not deployment.log_path or not Path(deployment.log_path).exists():
            return ""
        return Path(deployment.log_path).read_text(encoding="utf-8", errors="replace")

    def health(self, deployment):
        """GET ``/health`` on the deployment's public address (None: not *its* server)."""
        answer = http_json(f"{deployment.url}/health", timeout=2.0)
        expected = next(
            (e["detail"] for e in reversed(self.repo.events(deployment.id))
             if e["event"] == NONCE_EVENT), None,
        )  # fmt: skip
        if answer is not None and expected is not None and answer.get("nonce") != expected:
            return None  # another process answers on that address
        return answer
