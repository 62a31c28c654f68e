"""Deploy, stop, redeploy and roll back model servers (``mlops deploy``, ``mlops rollback``).

Every state change is recorded in the store (``deployments`` and ``deployment_events``), so the
CLI, the magics and the panel show the same thing. Replacing a deployment is zero-downtime: the
new server listens on the same port and passes its health check before the old one drains and
stops (see :mod:`.server`).
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass, field
from typing import Any

from ...errors import DeploymentError, DeploymentNotFoundError, ValidationError
from ..registry import AliasMove, ModelVersionRecord, parse_ref, registry
from ..store import Store, open_store
from ..store.deployments import LIVE_STATUSES, DeploymentRecord, DeploymentRepository
from ..store.model_aliases import ROLLBACK_REASON
from .auth import require_token
from .local import BaseServingBackend, backend_class
from .options import ServeOptions

DEFAULT_PORT = 5005
PORT_SEARCH = 100
DEFAULT_HOST = "127.0.0.1"


def get_backend(
    store: Store | None = None, backend: type[BaseServingBackend] | None = None
) -> BaseServingBackend:
    """Return the serving backend: ``backend``, else the one :func:`~.local.backend_class` names.

    The default is ``local`` (processes on this machine); ``$MLOPS_SERVING_BACKEND`` names
    another ``kernel_magics.serving_backends`` entry point.
    """
    return (backend or backend_class())(store or open_store())


def port_free(host: str, port: int) -> bool:
    """Whether ``host:port`` can be bound right now (by anyone, with or without SO_REUSEPORT)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def choose_port(host: str, port: int | None, repo: DeploymentRepository) -> int:
    """``port`` if it is free, else (when None) the first free port from 5005 up.

    Raises
    ------
    DeploymentError
        When the requested port is taken (naming the deployment that holds it, if any).
    """
    live = {d.port: d for d in repo.find(live_only=True)}
    if port is not None:
        if not 0 < port < 65536:
            raise ValidationError(f"Port {port} is not a TCP port (1-65535).")
        if port in live:
            raise DeploymentError(
                f"Port {port} is used by deployment {live[port].id} ({live[port].ref}); pick "
                "another --port, or deploy the same alias to replace it without downtime."
            )
        if not port_free(host, port):
            raise DeploymentError(
                f"Port {port} on {host} is in use by another process; pick another --port."
            )
        return port
    for candidate in range(DEFAULT_PORT, DEFAULT_PORT + PORT_SEARCH):
        if candidate not in live and port_free(host, candidate):
            return candidate
    raise DeploymentError(
        f"No free port in {DEFAULT_PORT}-{DEFAULT_PORT + PORT_SEARCH - 1}; pass --port."
    )


def _options(repo: DeploymentRepository, dep: DeploymentRecord) -> dict[str, Any]:
    for event in repo.events(dep.id):
        if event["event"] == "options" and event["detail"]:
            return json.loads(event["detail"])
    return {}


def deploy(
    ref: str,
    *,
    host: str = DEFAULT_HOST,
    port: int | None = None,
    allow_pickle: bool = False,
    sample_rate: float = 0.1,
    max_body: int = 10 * 1024 * 1024,
    lenient: bool = False,
    expose_example: bool = False,
    token: str | None = None,
    store: Store | None = None,
    backend: type[BaseServingBackend] | None = None,
) -> DeploymentRecord:
    """Start a background model server for ``churn@production``, ``churn/3`` or ``churn``.

    Deploying an alias that already has a running server (on the same port, or with no port
    given) replaces that server without downtime when the alias now points elsewhere, and
    returns the running one unchanged when it already serves the alias's version.

    Parameters
    ----------
    ref : str
        What to serve.
    host : str
        Interface to bind (127.0.0.1 unless you mean to expose the model).
    port : int, optional
        The first free port from 5005 up when omitted.
    allow_pickle : bool
        Needed to serve a version stored with pickle/cloudpickle.
    sample_rate : float
        Fraction of successful requests recorded in the prediction log (errors always are).
    max_body : int
        Largest accepted request body, in bytes (bigger ones get 413).
    lenient : bool
        Accept what MLflow's scoring server accepts: drop unknown columns and convert numbers
        sent as strings (requests are validated strictly otherwise).
    expose_example : bool
        Let ``GET /metadata`` show the rows of the input example (often real training rows;
        only the schema otherwise).
    token : str, optional
        Bearer token every route but ``/health`` requires (``$MLOPS_SERVE_TOKEN`` when
        omitted); required when ``host`` is not a loopback address. Replacing a deployment
        without a token keeps the replaced one's.
    store : Store, optional
        The default store when omitted.
    backend : BaseServingBackend subclass, optional
        What starts the server (the Jupyter server passes its ``serving_backend_class``);
        :func:`~.local.backend_class` when omitted.

    Returns
    -------
    DeploymentRecord
        The running deployment (``.url``, ``.id``, ``.pid``...).

    Raises
    ------
    ValidationError
        For a bad option, or a non-loopback ``host`` without a token.
    DeploymentError
        When the port is taken or the server does not become healthy (with its log's tail).
    """
    serve_options = ServeOptions.create(
        token,
        allow_pickle=bool(allow_pickle),
        sample_rate=float(sample_rate),
        max_body=int(max_body),
        lenient=bool(lenient),
        expose_example=bool(expose_example),
    )
    options = serve_options.to_dict()
    if options["token_digest"] is None:  # a replacement keeps the replaced server's token
        del options["token_digest"]
    store = store or open_store()
    parsed = parse_ref(ref)
    version = registry(store).get_version(parsed)
    chosen = get_backend(store, backend)
    store.deployments.reap()  # a writer: record dead servers before reusing their ports
    if parsed.alias is not None:
        live = [
            d
            for d in chosen.repo.find(parsed.name, parsed.alias, live_only=True)
            if port is None or d.port == port
        ]
        if live:
            current = live[0]
            if current.model_version_id == version.id:
                return current
            return _replace(chosen, current, version, options)
    require_token(host, serve_options.token_digest)
    port = choose_port(host, port, chosen.repo)
    return chosen.start(version, alias=parsed.alias, host=host, port=port, options=options)


def _replace(
    backend: BaseServingBackend,
    old: DeploymentRecord,
    version: ModelVersionRecord,
    options: dict[str, Any] | None = None,
) -> DeploymentRecord:
    options = {**_options(backend.repo, old), **(options or {})}
    require_token(old.host, options.get("token_digest"))
    new = backend.start(
        version, alias=old.alias, host=old.host, port=old.port, options=options, replacing=old
    )
    backend.stop(old, drain=True, reason=f"replaced by deployment {new.id} (v{version.version})")
    return new


def redeploy_alias(
    name: str,
    alias: str,
    *,
    store: Store | None = None,
    start_if_none: bool = False,
    backend: type[BaseServingBackend] | None = None,
    options: dict[str, Any] | None = None,
) -> list[DeploymentRecord]:
    """Point every running server of ``name@alias`` at the alias's current version.

    ``options`` override the replaced servers' own (``{"allow_pickle": True}`` for a promoted
    challenger stored with pickle, which the champion's servers did not need).

    Returns
    -------
    list of DeploymentRecord
        The deployments now serving the alias (empty when none ran and ``start_if_none`` is
        False).
    """
    store = store or open_store()
    chosen = get_backend(store, backend)
    store.deployments.reap()  # a writer: a dead server is not redeployed, it stays crashed
    version = registry(store).get_version(parse_ref(f"{name}@{alias}"))
    out = []
    for dep in chosen.repo.find(name, alias, live_only=True):
        out.append(
            dep if dep.model_version_id == version.id else _replace(chosen, dep, version, options)
        )
    if not out and start_if_none:
        out.append(deploy(f"{name}@{alias}", store=store, backend=backend))
    return out


@dataclass
class RollbackResult:
    """The alias move a rollback made and the deployments it replaced."""

    move: AliasMove
    deployments: list[DeploymentRecord] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary."""
        return {"move": self.move.to_dict(), "deployments": [d.to_dict() for d in self.deployments]}


def rollback(
    name: str,
    alias: str = "production",
    *,
    to_version: int | None = None,
    store: Store | None = None,
    backend: type[BaseServingBackend] | None = None,
) -> RollbackResult:
    """Move ``name@alias`` back to its previous version and redeploy its running servers.

    Parameters
    ----------
    name : str
        The model.
    alias : str
        The alias to roll back (``production`` by default).
    to_version : int, optional
        Go to this version instead of the previous one in the alias history.
    store : Store, optional
        The default store when omitted.

    Raises
    ------
    ConflictError
        When the alias has no earlier version.
    """
    store = store or open_store()
    repo = registry(store)
    current = repo.get_version(parse_ref(f"{name}@{alias}"))
    target = to_version if to_version is not None else repo.rollback_target(name, alias)
    move = repo.set_alias(
        name, alias, int(target), reason=f"{ROLLBACK_REASON} from v{current.version}"
    )
    return RollbackResult(move, redeploy_alias(name, alias, store=store, backend=backend))


def resolve_deployments(target: str, store: Store | None = None) -> list[DeploymentRecord]:
    """Deployments named by an id (``3``) or by what they serve (``churn``, ``churn@prod``).

    Raises
    ------
    DeploymentNotFoundError
        When nothing matches (a name matches live deployments only).
    """
    repo = (store or open_store()).deployments
    if target.isdigit():
        return [repo.get(int(target))]
    parsed = parse_ref(target)
    found = [
        d
        for d in repo.find(parsed.name, parsed.alias, live_only=True)
        if parsed.version is None or d.version == parsed.version
    ]
    if not found:
        raise DeploymentNotFoundError(
            f"No running deployment of {target}; see `mlops deployments ls`."
        )
    return found


def stop_deployment(
    target: str | int,
    store: Store | None = None,
    backend: type[BaseServingBackend] | None = None,
) -> list[DeploymentRecord]:
    """Stop the deployment(s) named by ``target`` (an id or ``churn``/``churn@production``)."""
    store = store or open_store()
    chosen = get_backend(store, backend)
    store.deployments.reap()  # a writer: a dead server is recorded crashed, not stopped
    out = []
    for dep in resolve_deployments(str(target), store):
        if dep.status in LIVE_STATUSES:
            dep = chosen.stop(dep, reason="stopped by request")
        out.append(dep)
    return out


def list_deployments(
    model: str | None = None, all: bool = False, store: Store | None = None
) -> list[DeploymentRecord]:
    """List running deployments (``all``: every recorded one), newest first."""
    return (store or open_store()).deployments.find(model, live_only=not all)


def deployment_logs(target: str | int, tail: int | None = None, store: Store | None = None) -> str:
    """Return the log of a deployment (by id, or the newest running one of a model)."""
    store = store or open_store()
    dep = resolve_deployments(str(target), store)[0]
    return get_backend(store).logs(dep, tail)
