"""``/mlops/api/deployments``: model servers with health, traffic, log; deploy, stop, roll back.

Starting and replacing servers is slow (a new process must pass its health check), so deploy
and rollback run core's functions on a worker thread and answer 202 as soon as the change is
recorded (the deployment row exists, the alias has moved); the panel then polls the
deployment's health. Stopping waits for the server to exit, on a worker thread too, so the
Tornado event loop keeps serving while any of them runs.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from kernel_magics.errors import ConflictError, DeploymentError, KernelMagicsError

from ..base import MlopsHandler
from ..contract import Operation
from ..models import (
    CreateDeploymentRequest,
    CreateDeploymentResponse,
    DeploymentLogQuery,
    DeploymentTrafficQuery,
    DescribeDeploymentLogResponse,
    DescribeDeploymentResponse,
    DescribeDeploymentTrafficResponse,
    ListDeploymentsQuery,
    ListDeploymentsResponse,
    RollbackDeploymentRequest,
    RollbackDeploymentResponse,
    StopDeploymentResponse,
)

#: Worker threads for health checks and server starts/stops (each one mostly waits).
WORKERS = ThreadPoolExecutor(max_workers=16, thread_name_prefix="mlops-deployments")
#: How long a deploy/rollback request waits for its change to be recorded before answering.
RECORDED_WAIT_S = 10.0
POLL_S = 0.05


def _backend(handler: MlopsHandler):
    """The serving backend class the server is configured with (``serving_backend_class``)."""
    return handler.settings.get("km_serving_backend_class")


async def _in_worker(func, *args: Any, **kwargs: Any) -> Any:
    # In the request's context: the audit trail records the Jupyter user, not the OS user.
    call = partial(contextvars.copy_context().run, func, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(WORKERS, call)


async def with_health(handler: MlopsHandler, records: list) -> list[dict[str, Any]]:
    """Deployment dicts with their live health; live servers are asked concurrently."""
    from kernel_magics.core.serving.deployments import get_backend
    from kernel_magics.core.store.deployments import HOSTNAME, LIVE_STATUSES
    from kernel_magics.core.store.liveness import pid_alive

    backend = get_backend(handler.store, _backend(handler))

    async def one(dep) -> dict[str, Any]:
        live = dep.status in LIVE_STATUSES
        answer = await _in_worker(backend.health, dep) if live else None
        if answer is not None and answer.get("deployment_id") not in (None, dep.id):
            answer = None  # another server now listens on this port
        local = dep.hostname in (None, HOSTNAME)
        return {
            **dep.to_dict(),
            "ref": dep.ref,
            "health": {
                "process_alive": (pid_alive(dep.pid) if dep.pid else False) if local else None,
                "answered": answer is not None,
                "health_status": (answer or {}).get("status"),
                "serving_version": (answer or {}).get("version"),
                "uptime_s": (answer or {}).get("uptime_s"),
            },
        }

    return list(await asyncio.gather(*(one(d) for d in records)))


def _log_failure(handler: MlopsHandler, what: str):
    log = handler.log

    def done(future: Future) -> None:
        exc = future.exception()
        if exc is not None:  # recorded on the deployment too (status failed, its log's tail)
            log.warning("jupyter-mlops %s failed: %s", what, exc)

    return done


class DeploymentsHandler(MlopsHandler):
    """List deployments; deploy a model ref (202 while the server starts)."""

    operations = {
        "get": Operation(
            "One page of deployments, newest first, each with its live health.",
            ListDeploymentsResponse,
            query=ListDeploymentsQuery,
            errors=(400,),
        ),
        "post": Operation(
            "Start a model server for a model ref; answers 202 once it is recorded.",
            CreateDeploymentResponse,
            body=CreateDeploymentRequest,
            status=202,
            errors=(400, 404, 409),
            description=(
                "Needs the `execute` permission. Deploying an alias that already has a server "
                "replaces it without downtime (or answers the running one when it already "
                "serves the alias's version). Poll `GET deployments/{id}` until its health "
                "answers or its status is `failed`."
            ),
        ),
    }

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Answer a :class:`ListDeploymentsResponse`."""
        query = self.parse_query(ListDeploymentsQuery)
        records, total = self.store.deployments.page(
            query.model, live_only=query.live, limit=query.limit, offset=query.offset
        )
        rows = await with_health(self, records)
        self.respond(
            ListDeploymentsResponse,
            {"deployments": rows, "total": total, "limit": query.limit, "offset": query.offset},
        )

    @web.authenticated
    @authorized
    @authorized("execute")
    async def post(self) -> None:
        """Start :func:`~kernel_magics.core.serving.deployments.deploy` on a worker thread."""
        from kernel_magics.core.registry import parse_ref, registry
        from kernel_magics.core.serving.deployments import deploy

        body = self.parse_body(CreateDeploymentRequest)
        store = self.store
        parsed = parse_ref(body.ref)  # 400 for a malformed ref
        version = registry(store).get_version(parsed)  # 404 for an unknown model or version
        before = max((d.id for d in store.deployments.find(parsed.name)), default=0)
        future = asyncio.get_running_loop().run_in_executor(
            WORKERS,
            partial(  # in the request's context, for the audit trail's user
                contextvars.copy_context().run,
                deploy,
                body.ref,
                port=body.port,
                allow_pickle=body.allow_pickle,
                sample_rate=body.sample_rate,
                lenient=body.lenient,
                store=store,
                backend=_backend(self),
            ),
        )
        deadline = time.monotonic() + RECORDED_WAIT_S
        record = None
        while record is None and not future.done() and time.monotonic() < deadline:
            started = [
                d
                for d in store.deployments.find(parsed.name)
                if d.id > before and d.model_version_id == version.id
            ]
            record = min(started, key=lambda d: d.id) if started else None
            if record is None:
                await asyncio.sleep(POLL_S)
        if record is None:  # it ended (or failed) before we saw the row, or never wrote one
            try:
                record = await future
            except DeploymentError as exc:  # the port is taken: the client can pick another
                raise ConflictError(str(exc)) from None
        else:
            future.add_done_callback(_log_failure(self, f"deploy {body.ref}"))
        self.respond(
            CreateDeploymentResponse,
            {
                "deployment_id": record.id,
                "model": record.model,
                "version": record.version,
                "status": record.status,
            },
        )


class DeploymentItemHandler(MlopsHandler):
    """One deployment with its events and live health."""

    operations = {
        "get": Operation(
            "One deployment with its events and live health.",
            DescribeDeploymentResponse,
            errors=(404,),
        )
    }

    @web.authenticated
    @authorized
    async def get(self, deployment_id: str) -> None:
        """Answer a :class:`DescribeDeploymentResponse`."""
        record = self.store.deployments.get(int(deployment_id))
        (data,) = await with_health(self, [record])
        data["events"] = self.store.deployments.events(record.id)
        self.respond(DescribeDeploymentResponse, data)


class DeploymentTrafficHandler(MlopsHandler):
    """Per-minute requests, errors and latency of one deployment."""

    operations = {
        "get": Operation(
            "Requests, errors and p50/p99 latency per minute over the last minutes.",
            DescribeDeploymentTrafficResponse,
            query=DeploymentTrafficQuery,
            errors=(400, 404),
            description=(
                "From the monitoring buckets the model server writes (every request, final "
                "once a bucket closes) and, after the newest bucket, from the prediction log "
                "(every failed request and a `sample_rate` share of the successful ones, "
                "scaled back up by it). Each minute names its source."
            ),
        )
    }

    @web.authenticated
    @authorized
    def get(self, deployment_id: str) -> None:
        """Answer a :class:`DescribeDeploymentTrafficResponse`."""
        from kernel_magics.core.serving.traffic import deployment_traffic  # numpy: on first use

        query = self.parse_query(DeploymentTrafficQuery)
        record = self.store.deployments.get(int(deployment_id))  # 404 first
        traffic = deployment_traffic(self.store, record, query.minutes)
        self.respond(DescribeDeploymentTrafficResponse, traffic)


class DeploymentLogHandler(MlopsHandler):
    """The end of a deployment's server log."""

    operations = {
        "get": Operation(
            "The last lines of the model server's log.",
            DescribeDeploymentLogResponse,
            query=DeploymentLogQuery,
            errors=(400, 404),
        )
    }

    @web.authenticated
    @authorized
    async def get(self, deployment_id: str) -> None:
        """Answer a :class:`DescribeDeploymentLogResponse`."""
        from kernel_magics.core.serving.deployments import get_backend

        query = self.parse_query(DeploymentLogQuery)
        record = self.store.deployments.get(int(deployment_id))
        backend = get_backend(self.store, _backend(self))
        text = await _in_worker(backend.logs, record, query.lines)
        lines = text.splitlines()[-query.lines :]
        self.respond(DescribeDeploymentLogResponse, {"deployment_id": record.id, "lines": lines})


class DeploymentStopHandler(MlopsHandler):
    """Stop a deployment's server."""

    operations = {
        "post": Operation(
            "Stop the server (it finishes open requests first); answers once it has exited.",
            StopDeploymentResponse,
            errors=(404,),
            description="A deployment that is not live is answered as it is.",
        )
    }

    @web.authenticated
    @authorized
    async def post(self, deployment_id: str) -> None:
        """Run :func:`~kernel_magics.core.serving.deployments.stop_deployment` off the loop."""
        from kernel_magics.core.serving.deployments import stop_deployment

        record = self.store.deployments.get(int(deployment_id))  # 404 before any work
        (stopped,) = await _in_worker(stop_deployment, str(record.id), self.store, _backend(self))
        (data,) = await with_health(self, [stopped])
        self.respond(StopDeploymentResponse, {"deployment": data})


class DeploymentRollbackHandler(MlopsHandler):
    """Move a deployment's alias back a version; its servers are replaced (202)."""

    operations = {
        "post": Operation(
            "Move the deployment's alias back (or to to_version) and replace its servers.",
            RollbackDeploymentResponse,
            body=RollbackDeploymentRequest,
            status=202,
            errors=(400, 404, 409),
            description=(
                "Needs the `execute` permission. Answers 202 once the alias has moved; the "
                "alias's running servers are replaced without downtime after that (watch "
                "`GET deployments`). 409 when the deployment serves a pinned version or the "
                "alias has no earlier version."
            ),
        )
    }

    @web.authenticated
    @authorized
    @authorized("execute")
    async def post(self, deployment_id: str) -> None:
        """Run :func:`~kernel_magics.core.serving.deployments.rollback` on a worker thread."""
        from kernel_magics.core.registry import parse_ref, registry
        from kernel_magics.core.serving.deployments import rollback

        body = self.parse_body(RollbackDeploymentRequest)
        store = self.store
        record = store.deployments.get(int(deployment_id))
        if record.alias is None:
            raise ConflictError(
                f"Deployment {record.id} serves the pinned version {record.ref}, not an alias, "
                "so there is nothing to roll back; deploy the version you want instead."
            )
        models = registry(store)
        ref = f"{record.model}@{record.alias}"
        current = models.get_version(parse_ref(ref)).version
        if body.to_version is not None:
            models.get_version(parse_ref(f"{record.model}/{body.to_version}"))  # 404 if none
            target = body.to_version
        else:
            target = models.rollback_target(record.model, record.alias)  # 409 if none
        if target == current:
            raise ConflictError(f"{ref} already points at v{current}; pick another to_version.")
        future = asyncio.get_running_loop().run_in_executor(
            WORKERS,
            partial(  # in the request's context, for the audit trail's user
                contextvars.copy_context().run,
                rollback, record.model, record.alias, to_version=target, store=store,
                backend=_backend(self),
            ),
        )  # fmt: skip
        deadline = time.monotonic() + RECORDED_WAIT_S
        while not future.done() and time.monotonic() < deadline:
            if models.get_version(parse_ref(ref)).version == target:
                break
            await asyncio.sleep(POLL_S)
        if future.done():
            try:
                future.result()
            except KernelMagicsError:
                if models.get_version(parse_ref(ref)).version != target:
                    raise  # the alias did not move: the client hears why
                # it moved but a server failed to start: recorded on that deployment
        else:
            future.add_done_callback(_log_failure(self, f"rollback of {ref}"))
        self.respond(
            RollbackDeploymentResponse,
            {
                "deployment_id": record.id,
                "model": record.model,
                "alias": record.alias,
                "from_version": current,
                "to_version": target,
            },
        )
