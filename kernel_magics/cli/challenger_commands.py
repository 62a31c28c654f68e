"""``mlops challenger start/status/ls/promote/stop`` and ``mlops guards``; the ``--guard`` options.

``guard_options`` is shared with ``mlops deploy`` and ``mlops promote``, so every guard is
written the same way (the alert rules' ``METRIC OP NUMBER``).
"""

from __future__ import annotations

import click

from .output import print_json, render

_guard_options = [
    click.option(
        "--guard",
        "guards",
        multiple=True,
        metavar="COND",
        help="'METRIC OP NUMBER' that must keep holding, e.g. 'errors.rate < 0.01' "
        "(repeatable); when one breaks within --for, it rolls back automatically.",
    ),
    click.option(
        "--for",
        "guard_for",
        default="15m",
        show_default=True,
        help="How long the guards are judged: 15m, 1h...",
    ),
    click.option(
        "--notify",
        multiple=True,
        metavar="CHANNEL",
        help="Told when a guard breaks: command:PROGRAM (JSON on stdin) or webhook:URL.",
    ),
]


def guard_options(func):
    """Attach ``--guard``, ``--for`` and ``--notify``."""
    for option in reversed(_guard_options):
        func = option(func)
    return func


def check_guards(guards, guard_for, notify) -> None:
    """Refuse malformed guard options before any work starts (a clear error, exit 2)."""
    if not guards:
        return
    from ..core.serving.guards import check_guard_options

    check_guard_options(list(guards), guard_for, list(notify))


def echo_guard(guard) -> None:
    """Say what a recorded deployment guard watches."""
    if guard is None:
        return
    back = f"v{guard.previous_version}" if guard.previous_version is not None else "nothing"
    click.echo(f"Guard {guard.id}: {' and '.join(guard.conditions)} on {guard.model}@"
               f"{guard.alias} v{guard.version} until the period ends; rolls back to {back} "
               "when one breaks (judged by the running scheduler).")  # fmt: skip


@click.group()
def challenger() -> None:
    """Run a second model version next to a deployment's champion (shadow or canary).

    Shadow: every request also goes to the challenger, off the response path; clients get
    the champion's answer. Canary: a share of the request ids (sticky) is answered by the
    challenger, on the same port; the X-Model-Version header says which version answered.
    """


@challenger.command("start")
@click.argument("target")
@click.argument("version_ref")
@click.option("--shadow", "mode", flag_value="shadow", default=True, help="Shadow mode (default).")
@click.option("--canary", "mode", flag_value="canary", help="Canary mode: --share of the ids.")
@click.option(
    "--share",
    type=float,
    default=0.1,
    show_default=True,
    help="Canary: share of the request ids the challenger answers (0-1).",
)
@guard_options
@click.option("--allow-pickle", is_flag=True, help="Allow a challenger stored with pickle.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def challenger_start(
    target, version_ref, mode, share, guards, guard_for, notify, allow_pickle, as_json
) -> None:
    """Run VERSION_REF (churn/4) as TARGET's (churn@production) challenger."""
    from ..core.serving.challengers import deploy_challenger

    record = deploy_challenger(
        target, version_ref, mode=mode, share=share, guards=list(guards), guard_for=guard_for,
        notify=list(notify), allow_pickle=allow_pickle,
    )  # fmt: skip
    if as_json:
        print_json(record.to_dict())
        return
    how = f"canary on {record.share:.0%} of the request ids" if mode == "canary" else "shadow"
    click.echo(f"Challenger {record.id}: {record.challenger_ref} runs as {how} in "
               f"{record.target} (v{record.champion_version} answers"
               f"{' the rest' if mode == 'canary' else ''}).")  # fmt: skip
    if record.guards:
        click.echo(f"Guards for {guard_for}: {' and '.join(record.guards)}; the model server "
                   "stops routing to it when one breaks.")  # fmt: skip


@challenger.command("status")
@click.argument("target")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def challenger_status_cmd(target, as_json) -> None:
    """Champion vs challenger of TARGET: requests, errors, latency, agreement."""
    from ..core.serving.challengers import challenger_status
    from ..core.views.challengers import status_table

    status = challenger_status(target)
    if as_json:
        print_json(status.to_dict())
        return
    render(status_table(status))


@challenger.command("ls")
@click.argument("target", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def challenger_ls(target, as_json) -> None:
    """List challengers (of TARGET, e.g. churn@production), newest first."""
    from ..core.registry import parse_ref
    from ..core.store import open_store
    from ..core.views.challengers import challengers_table

    model = alias = None
    if target:
        parsed = parse_ref(target)
        model, alias = parsed.name, parsed.alias
    records = open_store().challengers.find(model, alias)
    if as_json:
        print_json([r.to_dict() for r in records])
        return
    render(challengers_table(records))


@challenger.command("promote")
@click.argument("target")
@guard_options
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def challenger_promote(target, guards, guard_for, notify, as_json) -> None:
    """Point TARGET's alias at its challenger and redeploy (zero downtime)."""
    from ..core.serving.challengers import promote_challenger

    check_guards(guards, guard_for, notify)
    done = promote_challenger(target, guards=list(guards), guard_for=guard_for, notify=list(notify))
    if as_json:
        print_json(done.to_dict())
        return
    c = done.challenger
    click.echo(f"Promoted: {c.target} -> v{done.move.to_version} (was "
               f"v{done.move.from_version}).")  # fmt: skip
    for dep in done.deployments:
        click.echo(f"Deployment {dep.id} serves v{dep.version} at {dep.url}.")
    echo_guard(done.guard)


@challenger.command("stop")
@click.argument("target")
@click.option("--reason", default="stopped by request", show_default=True, help="Recorded.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def challenger_stop(target, reason, as_json) -> None:
    """Stop routing to TARGET's challenger; the champion answers everything."""
    from ..core.serving.challengers import stop_challenger

    record = stop_challenger(target, reason)
    if as_json:
        print_json(record.to_dict())
        return
    click.echo(f"Challenger {record.id} ({record.challenger_ref}) stopped; "
               f"{record.target} answers with v{record.champion_version} only.")  # fmt: skip


@click.command()
@click.option("--watching", is_flag=True, help="Only the guards still in their period.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def guards(watching, as_json) -> None:
    """Guards on deploys and promotions: what they watch and how they ended."""
    from ..core.store import open_store
    from ..core.views.challengers import guards_table

    found = open_store().challengers.guards(watching_only=watching)
    if as_json:
        print_json([g.to_dict() for g in found])
        return
    render(guards_table(found))
