"""Run the model server with uvicorn: sockets, readiness, graceful drain on SIGTERM.

Zero-downtime replacement works at the socket level. Every server binds its public port with
``SO_REUSEPORT``, so a new server can listen on the same port while the old one still serves.
The controller health-checks the new server on a private loopback port, then sends the old one
SIGTERM. The old server then *drains*: it closes its listening sockets at once (new connections
reach only the new server), answers the requests still arriving on open keep-alive connections
with ``Connection: close`` so clients reconnect to the new server, and exits when its last
connection closes or after ``drain_seconds``. SIGINT (Ctrl+C, ``mlops deployments stop``) shuts
down without the drain.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import json
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from types import FrameType

import uvicorn

from .app import DEFAULT_MAX_BODY, ServerMetrics, ServerState, create_app
from .scoring import Scorer

log = logging.getLogger("kernel_magics.serving")
DRAIN_SECONDS = 3.0
SWITCH_INTERVAL_S = 0.0005
WATCHDOG_TICKS = 50  # uvicorn ticks every 0.1 s: ask the store every 5 s


def make_socket(host: str, port: int, reuse_port: bool = True) -> socket.socket:
    """Return a listening TCP socket on ``host:port`` (``SO_REUSEPORT`` for hand-overs).

    Raises
    ------
    OSError
        When the address is in use by a process that did not set ``SO_REUSEPORT``.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


SO_ATTACH_REUSEPORT_CBPF = getattr(socket, "SO_ATTACH_REUSEPORT_CBPF", 51)  # Linux >= 4.5


class _SockFilter(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_uint16),
        ("jt", ctypes.c_uint8),
        ("jf", ctypes.c_uint8),
        ("k", ctypes.c_uint32),
    ]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_SockFilter))]


def steer_new_connections(sock: socket.socket) -> bool:
    """Send every new connection on this port to the newest listener of its reuseport group.

    Without this, the kernel spreads connections over the old and the new server while both
    listen, and a connection still queued on the old one when it closes is reset. The classic
    BPF program returns index 1: the second socket of the group, i.e. this server while its
    predecessor lives; once the predecessor closes, the index is out of range and the kernel
    falls back to its usual choice among the (now single) listener. Returns False where the
    option is unsupported (the hand-over still works, with that small window).
    """
    program = (_SockFilter * 1)(_SockFilter(0x06, 0, 0, 1))  # BPF_RET | BPF_K, 1
    fprog = _SockFprog(1, program)
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, bytes(fprog))
    except OSError:
        return False
    return True


class DrainingServer(uvicorn.Server):
    """uvicorn's server with a drain phase on SIGTERM (see the module docstring)."""

    def __init__(
        self,
        config: uvicorn.Config,
        state: ServerState,
        drain_seconds: float,
        on_started: Callable[[], None] | None = None,
        still_wanted: Callable[[], bool] | None = None,
    ):
        super().__init__(config)
        self.still_wanted = still_wanted
        self.mlops_state = state
        self.drain_seconds = drain_seconds
        self.on_started = on_started
        self._drain_requested = False
        self._drain_deadline: float | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """Drain on the first SIGTERM, stop on SIGINT, force on a second signal."""
        # Unlike uvicorn's handler, do not re-raise the signal after shutdown: the caller still
        # has to record the deployment as stopped.
        if sig == signal.SIGTERM and not self._drain_requested and not self.should_exit:
            self._drain_requested = True
        elif self.should_exit:
            self.force_exit = True
        else:
            self.should_exit = True

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Start listening, then call ``on_started``."""
        await super().startup(sockets=sockets)
        if self.started and sockets:
            steer_new_connections(sockets[0])  # the public socket; see steer_new_connections
        if self.started and self.on_started is not None:
            self.on_started()

    async def on_tick(self, counter: int) -> bool:
        """Run uvicorn's tick; while draining, end once no connection is left (or time is up)."""
        if self._drain_requested and self._drain_deadline is None:
            self.mlops_state.draining = True
            for server in self.servers:
                server.close()  # stop accepting; open connections keep being served
            self._drain_deadline = time.monotonic() + self.drain_seconds
            log.info("Draining: listeners closed, waiting for open connections")
        if self._drain_deadline is not None:
            if not self.server_state.connections or time.monotonic() >= self._drain_deadline:
                return True
        elif self.still_wanted is not None and counter % WATCHDOG_TICKS == 0 and counter:
            if not await self._ask_still_wanted():
                log.warning("The deployment was stopped or its store is gone: shutting down")
                return True
        return await super().on_tick(counter)

    async def _ask_still_wanted(self) -> bool:
        assert self.still_wanted is not None
        try:
            return await asyncio.wait_for(asyncio.to_thread(self.still_wanted), timeout=10)
        except Exception:  # a store that is slow or briefly unreachable is no reason to stop
            return True


def build_state(
    loaded,
    *,
    deployment_id: int | None = None,
    alias: str | None = None,
    store=None,
    sample_rate: float = 0.1,
    max_body: int = DEFAULT_MAX_BODY,
    feature_name_warnings_filtered: bool = False,
    lenient: bool = False,
    token_digest: str | None = None,
    expose_example: bool = False,
) -> ServerState:
    """Check the model can serve (signature + smoke prediction) and assemble the server state.

    A deployment's server (``deployment_id`` and ``store`` given) also counts every request
    for monitoring (:mod:`kernel_magics.core.monitoring.collector`), unless
    ``$MLOPS_MONITORING`` is ``off``; ``$MLOPS_MONITORING_BUCKET_S`` sets the bucket length.
    ``lenient`` drops unknown columns and converts numbers sent as strings (MLflow's way);
    ``token_digest`` (hex SHA-256, see :mod:`.auth`) makes every route but ``/health`` require
    that bearer token; ``expose_example`` lets ``/metadata`` show the input example's rows.
    """
    from .predlog import PredictionLogger

    scorer = Scorer(
        loaded, feature_name_warnings_filtered=feature_name_warnings_filtered, lenient=lenient
    )
    predlog = monitor = None
    if deployment_id is not None and store is not None:
        from ..monitoring.collector import build_collector, settings_from_env

        monitoring, bucket_seconds = settings_from_env()
        predlog = PredictionLogger(store, deployment_id, loaded.version.id, sample_rate)
        if monitoring:
            monitor = build_collector(
                store, scorer, deployment_id=deployment_id, bucket_seconds=bucket_seconds
            )
    return ServerState(
        scorer=scorer,
        metrics=ServerMetrics(loaded.version.name, loaded.version.version),
        predlog=predlog,
        monitor=monitor,
        deployment_id=deployment_id,
        alias=alias,
        max_body=max_body,
        token_digest=bytes.fromhex(token_digest) if token_digest else None,
        expose_example=expose_example,
    )


def run_server(
    state: ServerState,
    sockets: list[socket.socket],
    *,
    drain_seconds: float = DRAIN_SECONDS,
    on_started: Callable[[], None] | None = None,
    still_wanted: Callable[[], bool] | None = None,
) -> None:
    """Serve ``state`` on ``sockets`` until SIGINT/SIGTERM (blocking).

    Parameters
    ----------
    state : ServerState
        What to serve.
    sockets : list of socket.socket
        Listening sockets (see :func:`make_socket`).
    drain_seconds : float
        The longest a SIGTERM drain waits for open connections.
    on_started : callable, optional
        Called once the sockets accept connections.
    still_wanted : callable, optional
        Asked every 5 s (on a worker thread); the server shuts down when it returns False
        (its deployment was marked stopped elsewhere, or its store was deleted).
    """
    app = create_app(state)
    config = uvicorn.Config(
        app,
        loop="uvloop",
        http="httptools",
        lifespan="off",
        access_log=False,
        log_level="warning",
        timeout_keep_alive=30,
        timeout_graceful_shutdown=10,
    )
    server = DrainingServer(config, state, drain_seconds, on_started, still_wanted)
    # Everything imported so far (sklearn, pandas, FastAPI...) lives as long as the process:
    # moving it out of the collector's reach keeps full collections, and so tail latency, short.
    gc.collect()
    gc.freeze()
    # A large request is parsed and validated on a worker thread; a short switch interval lets
    # the event loop take the GIL back sooner, so /health and small requests keep answering.
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    try:
        server.run(sockets=sockets)
    finally:
        if state.challenger is not None:  # its last counts reach the store too
            state.challenger.close()
        if state.predlog is not None:
            state.predlog.close()
        if state.monitor is not None:  # writes the open bucket: a clean stop loses nothing
            state.monitor.close()


def notify_ready(ready_fd: int | None, **info) -> None:
    """Tell the controller (through an inherited pipe) that the server accepts connections."""
    if ready_fd is None:
        return
    try:
        os.write(ready_fd, (json.dumps(info) + "\n").encode())
    finally:
        os.close(ready_fd)
