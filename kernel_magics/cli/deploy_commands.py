"""`mlops serve`, `mlops deploy`, `mlops deployments ls/show/stop/logs`, `mlops rollback`."""

from __future__ import annotations

import json

import click

from .challenger_commands import check_guards, echo_guard, guard_options
from .output import print_json, render

# -- serving ----------------------------------------------------------------------------------
_serve_options = [
    click.option(
        "--host",
        default="127.0.0.1",
        show_default=True,
        help="Interface to bind; 0.0.0.0 exposes the model to the network.",
    ),
    click.option(
        "--allow-pickle",
        is_flag=True,
        help="Allow a version stored with pickle/cloudpickle (runs code from it).",
    ),
    click.option(
        "--sample-rate",
        type=click.FloatRange(0, 1),
        default=0.1,
        show_default=True,
        help="Fraction of successful requests recorded in the prediction log.",
    ),
    click.option(
        "--max-body-mb",
        type=click.FloatRange(0.001),
        default=10.0,
        show_default=True,
        help="Largest request body in MiB (bigger ones get 413).",
    ),
    click.option(
        "--token",
        help="Bearer token every request but /health needs; required when --host is not a "
        "loopback address. Default: $MLOPS_SERVE_TOKEN.",
    ),
    click.option(
        "--lenient",
        is_flag=True,
        help="Accept what MLflow's server accepts: drop unknown columns, convert numbers sent "
        "as strings (strict validation otherwise).",
    ),
    click.option(
        "--expose-example",
        is_flag=True,
        help="Let GET /metadata show the input example's rows (only the schema otherwise).",
    ),
]


def serve_options(func):
    """Attach the options shared by ``serve`` and ``deploy``."""
    for option in reversed(_serve_options):
        func = option(func)
    return func


@click.command()
@click.argument("ref")
@click.option("--port", type=int, default=5005, show_default=True, help="Port to listen on.")
@serve_options
def serve(
    ref, port, host, allow_pickle, sample_rate, max_body_mb, token, lenient, expose_example
) -> None:
    """Serve REF (churn@production, churn/3) in the foreground until Ctrl+C."""
    from ..core.extras import require

    require("serve", feature="mlops serve")
    from ..core.serving.options import ServeOptions
    from ..core.serving.worker import serve as run

    options = ServeOptions.create(
        token,
        allow_pickle=allow_pickle,
        sample_rate=sample_rate,
        max_body=int(max_body_mb * 1024 * 1024),
        lenient=lenient,
        expose_example=expose_example,
    )
    run(
        ref,
        host=host,
        port=port,
        options=options,
        on_started=lambda url: click.echo(f"Serving {ref} at {url} (Ctrl+C to stop)."),
    )


@click.command()
@click.argument("ref")
@click.option("--port", type=int, help="Port (the first free one from 5005 when omitted).")
@serve_options
@guard_options
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def deploy(
    ref, port, host, allow_pickle, sample_rate, max_body_mb, token, lenient, expose_example,
    guards, guard_for, notify, as_json,
) -> None:  # fmt: skip
    """Start a background server for REF; deploying a served alias again swaps it in place.

    With --guard, the scheduler watches the deployed alias for --for and rolls it back when
    a guard breaks.
    """
    from ..core.serving.deployments import deploy as run

    check_guards(guards, guard_for, notify)
    dep = run(
        ref,
        host=host,
        port=port,
        allow_pickle=allow_pickle,
        sample_rate=sample_rate,
        max_body=int(max_body_mb * 1024 * 1024),
        token=token,
        lenient=lenient,
        expose_example=expose_example,
    )
    guard = None
    if guards:
        from ..core.serving.guards import guard_alias

        guard = guard_alias(dep.model, dep.alias, list(guards), guard_for, list(notify))
    if as_json:
        print_json({**dep.to_dict(), "guard": guard.to_dict()} if guard else dep.to_dict())
        return
    click.echo(f"Deployment {dep.id}: {dep.ref} at {dep.url} (pid {dep.pid}).")
    echo_guard(guard)


@click.command()
@click.argument("name")
@click.option("--alias", default="production", show_default=True, help="Alias to roll back.")
@click.option("--to-version", type=int, help="Go to this version instead of the previous one.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def rollback(name, alias, to_version, as_json) -> None:
    """Move NAME@ALIAS back to its previous version and redeploy it without downtime."""
    from ..core.serving.deployments import rollback as run

    result = run(name, alias, to_version=to_version)
    if as_json:
        print_json(result.to_dict())
        return
    click.echo(f"{name}@{alias}: v{result.move.from_version} -> v{result.move.to_version}.")
    for dep in result.deployments:
        click.echo(f"Deployment {dep.id} serves v{dep.version} at {dep.url}.")


@click.group()
def deployments() -> None:
    """List, stop and read the logs of model servers."""


@deployments.command("ls")
@click.option("-a", "--all", "all_", is_flag=True, help="Include stopped and failed ones.")
@click.option("-m", "--model", help="Only deployments of this model.")
@click.option("--health", is_flag=True, help="Ask each running server's /health (1 s timeout).")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def deployments_ls(all_: bool, model: str | None, health: bool, as_json: bool) -> None:
    """List deployments (running ones unless --all)."""
    from ..core.serving.deployments import get_backend, list_deployments
    from ..core.views.deployments import deployments_table

    records = list_deployments(model, all=all_)
    answers: dict[int, dict | None] = {}
    if health:
        backend = get_backend()
        answers = {d.id: backend.health(d) for d in records if d.status == "running"}
    if as_json:
        print_json(
            [{**d.to_dict(), **({"health": answers.get(d.id)} if health else {})} for d in records]
        )
        return
    render(deployments_table(records, None, health=answers if health else None))


@deployments.command("stop")
@click.argument("target")
def deployments_stop(target: str) -> None:
    """Stop deployment TARGET (an id, or every running server of churn / churn@production)."""
    from ..core.serving.deployments import stop_deployment

    for dep in stop_deployment(target):
        click.echo(f"Deployment {dep.id} ({dep.ref}) is {dep.status}.")


@deployments.command("logs")
@click.argument("target")
@click.option("-n", "--tail", type=int, help="Only the last N lines.")
def deployments_logs(target: str, tail: int | None) -> None:
    """Print the log of deployment TARGET (an id, or the running server of a model)."""
    from ..core.serving.deployments import deployment_logs

    click.echo(deployment_logs(target, tail), nl=False)


@deployments.command("show")
@click.argument("deployment_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def deployments_show(deployment_id: int, as_json: bool) -> None:
    """Show one deployment with its events and live health."""
    from ..core.serving.deployments import get_backend
    from ..core.views.deployments import events_table

    backend = get_backend()
    dep = backend.repo.get(deployment_id)
    events = backend.repo.events(deployment_id)
    health = backend.health(dep) if dep.status == "running" else None
    if as_json:
        print_json({**dep.to_dict(), "events": events, "health": health})
        return
    click.echo(f"Deployment {dep.id}: {dep.ref} at {dep.url}, {dep.status} (pid {dep.pid}).")
    click.echo(f"health: {json.dumps(health) if health else 'no answer'}")
    render(events_table(events))
