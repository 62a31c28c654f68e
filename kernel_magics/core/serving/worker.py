"""The server process: load a version, check it, listen, record its life in the store.

``python -m kernel_magics.core.serving --deployment-id N`` is what the local backend spawns;
:func:`serve` is ``mlops serve`` (the same server in the foreground).
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Callable

from ...errors import DeploymentError, KernelMagicsError
from ..names import FAILED, RUNNING
from ..store import Store, open_store
from ..store.deployments import LIVE_STATUSES, STARTING, STOPPED, DeploymentRepository
from .auth import require_token
from .options import ServeOptions
from .server import build_state, make_socket, notify_ready, run_server


def _load_state(
    store: Store,
    ref: str,
    *,
    deployment_id: int | None,
    alias: str | None,
    options: ServeOptions,
):
    """Load ``ref`` and build the server state, turning every failure into one clear error."""
    from ..registry import load_model_version

    loaded = load_model_version(ref, allow_pickle=options.allow_pickle, store=store)
    try:
        return build_state(
            loaded,
            deployment_id=deployment_id,
            alias=alias,
            store=store,
            sample_rate=options.sample_rate,
            max_body=options.max_body,
            feature_name_warnings_filtered=True,  # see _server_warnings
            lenient=options.lenient,
            token_digest=options.token_digest,
            expose_example=options.expose_example,
        )
    except ValueError as exc:  # no signature
        raise DeploymentError(f"Cannot serve {loaded.version.ref}: {exc}") from exc
    except Exception as exc:  # the smoke prediction on the stored example failed
        raise DeploymentError(
            f"Cannot serve {loaded.version.ref}: it fails to predict on its own input example "
            f"({type(exc).__name__}: {exc})."
        ) from exc


def still_wanted_check(store: Store, repo: DeploymentRepository, dep_id: int) -> Callable[[], bool]:
    """Return the server's watchdog: False once its deployment is no longer live in the store.

    That happens when it was stopped from another machine (which cannot signal it), or when its
    SQLite store was deleted (an orphan: nobody can list or stop it any more).
    """
    db_path = store.db.engine.url.database if store.db.is_sqlite else None

    def check() -> bool:
        if db_path and db_path != ":memory:" and not os.path.exists(db_path):
            return False
        return repo.status(dep_id) in LIVE_STATUSES

    return check


def _server_warnings() -> None:
    # The server validates column names and order itself before calling a model fitted on a
    # DataFrame with a numpy array; sklearn's reminder about feature names is noise here.
    warnings.filterwarnings("ignore", message="X does not have valid feature names")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")


def run_deployment(deployment_id: int, ready_fd: int | None, options: ServeOptions) -> int:
    """Serve a recorded deployment until signalled; return the process exit code."""
    _server_warnings()
    store = open_store()
    repo = store.deployments
    dep = repo.get(deployment_id)
    repo.update(deployment_id, None, pid=os.getpid())
    try:
        require_token(dep.host, options.token_digest)  # the controller checks too; never serve open
        state = _load_state(
            store,
            f"{dep.model}/{dep.version}",
            deployment_id=deployment_id,
            alias=dep.alias,
            options=options,
        )
        if options.challenger_id is not None:
            from .challenger_router import load_router

            state.challenger = load_router(
                store, options.challenger_id, state.scorer, deployment_id
            )
        public = make_socket(dep.host, dep.port)
        private = make_socket("127.0.0.1", 0, reuse_port=False)
    except (KernelMagicsError, OSError) as exc:
        message = f"Error: cannot serve {dep.model}/{dep.version}: {exc}"
        print(message, file=sys.stderr, flush=True)
        repo.update(deployment_id, "failed", message, status=FAILED)
        return 3
    health_port = private.getsockname()[1]
    print(
        f"Serving {dep.model}/{dep.version} on http://{dep.host}:{dep.port} "
        f"(pid {os.getpid()}, deployment {deployment_id})",
        flush=True,
    )

    def started() -> None:
        # Recorded here too, so a deployment whose controller died mid-start still shows up as
        # running; the controller adds its "started" event after its own health check.
        repo.update(
            deployment_id,
            "listening",
            f"health port {health_port}",
            only_if=(STARTING,),
            status=RUNNING,
        )
        notify_ready(ready_fd, pid=os.getpid(), health_port=health_port, nonce=state.nonce)

    try:
        run_server(
            state,
            [public, private],
            on_started=started,
            still_wanted=still_wanted_check(store, repo, deployment_id),
        )
    finally:
        repo.update(
            deployment_id,
            "exited",
            "the server process ended",
            only_if=LIVE_STATUSES,
            status=STOPPED,
        )
    return 0


def serve(
    ref: str,
    *,
    host: str = "127.0.0.1",
    port: int = 5005,
    options: ServeOptions | None = None,
    store: Store | None = None,
    on_started: Callable[[str], None] | None = None,
) -> None:
    """Serve ``ref`` in the foreground until Ctrl+C (recorded as a deployment meanwhile).

    ``options`` (defaults when omitted) must carry a token when ``host`` is not a loopback
    address (see :meth:`ServeOptions.create`).

    Raises
    ------
    ValidationError
        For a bad option, or a non-loopback ``host`` without a token.
    DeploymentError
        When the port is taken, or the model cannot be loaded or fails on its example.
    ModelNotFoundError, UnsafeModelError, BlobIntegrityError, UntrustedTypesError
        From loading the model, before anything listens.
    """
    from ..registry import parse_ref, registry
    from .deployments import choose_port

    options = options or ServeOptions()
    require_token(host, options.token_digest)
    _server_warnings()
    store = store or open_store()
    repo = store.deployments
    parsed = parse_ref(ref)
    version = registry(store).get_version(parsed)
    choose_port(host, port, repo)
    dep_id = repo.create(version.id, parsed.alias, host, port, pid=os.getpid())
    try:
        state = _load_state(
            store,
            version.ref,
            deployment_id=dep_id,
            alias=parsed.alias,
            options=options,
        )
        public = make_socket(host, port)
    except (KernelMagicsError, OSError) as exc:
        repo.update(dep_id, "failed", str(exc), status=FAILED)
        if isinstance(exc, OSError):
            raise DeploymentError(f"Cannot listen on {host}:{port}: {exc.strerror}.") from exc
        raise
    url = f"http://{host}:{port}"

    def started() -> None:
        repo.update(dep_id, "started", f"pid {os.getpid()}", status=RUNNING)
        if on_started is not None:
            on_started(url)

    try:
        run_server(
            state,
            [public],
            on_started=started,
            still_wanted=still_wanted_check(store, repo, dep_id),
        )
    finally:
        repo.update(
            dep_id, "exited", "stopped in the foreground", only_if=LIVE_STATUSES, status=STOPPED
        )
