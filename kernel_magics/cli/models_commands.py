"""``mlops models ls/show/alias/rm`` and the promotion gate ``mlops promote``."""

from __future__ import annotations

import click

from .challenger_commands import guard_options
from .output import page, print_json, render


# -- models -----------------------------------------------------------------------------------
@click.group()
def models() -> None:
    """List, inspect, alias and delete registered models."""


@models.command("ls")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def models_ls(as_json: bool) -> None:
    """List registered models with their latest version and aliases."""
    from ..core.registry import list_models
    from ..core.views.models import models_table

    records = list_models()
    if as_json:
        print_json([r.to_dict() for r in records])
        return
    render(models_table(records))


@models.command("show")
@click.argument("ref")
@click.option("--profile", is_flag=True, help="Also print the training-data profile.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def models_show(ref: str, profile: bool, as_json: bool) -> None:
    """Show a model (all versions) or one version: REF is churn, churn/3 or churn@production."""
    from ..core.registry import (
        alias_history,
        get_model_version,
        list_model_versions,
        model_lineage,
        parse_ref,
    )
    from ..core.views.models import alias_history_table, version_view, versions_table

    parsed = parse_ref(ref)
    if parsed.version is None and parsed.alias is None:
        versions = list_model_versions(parsed.name)
        history = alias_history(parsed.name)
        if as_json:
            print_json(
                {
                    "versions": [v.to_dict() for v in versions],
                    "alias_history": [h.to_dict() for h in history],
                }
            )
            return
        render(versions_table(parsed.name, versions))
        render(alias_history_table(parsed.name, history))
        return
    version = get_model_version(ref)
    lineage = model_lineage(version.ref)
    if as_json:
        print_json({**version.to_dict(with_profile=profile), "lineage": lineage})
        return
    page(version_view(version, lineage, profile=profile))


@models.command("alias")
@click.argument("name")
@click.argument("alias")
@click.argument("version", type=int, required=False)
@click.option("--delete", is_flag=True, help="Remove the alias instead of moving it.")
@click.option("--reason", help="Why (kept in the alias history).")
def models_alias(name: str, alias: str, version: int | None, delete: bool, reason: str | None):
    """Point NAME@ALIAS at VERSION (or --delete it). Every move is kept in the history."""
    from ..core.registry import delete_alias, set_alias

    if delete:
        move = delete_alias(name, alias)
        click.echo(f"Removed {name}@{alias} (was v{move.from_version}).")
        return
    if version is None:
        raise click.UsageError("Give the VERSION to point the alias at, or --delete.")
    move = set_alias(name, alias, version, reason=reason or "set by hand")
    was = f" (was v{move.from_version})" if move.from_version else ""
    click.echo(f"{name}@{alias} -> v{move.to_version}{was}.")


@models.command("describe")
@click.argument("ref")
@click.argument("description")
def models_describe(ref: str, description: str) -> None:
    """Set the description of a version (churn/3) or of the model (churn)."""
    from ..core.registry import set_model_description

    set_model_description(ref, description)
    click.echo(f"Described {ref}.")


@models.command("tag")
@click.argument("ref")
@click.argument("tags", nargs=-1, required=True)
def models_tag(ref: str, tags: tuple[str, ...]) -> None:
    """Set tags on a version: mlops models tag churn/3 team=growth reviewed=yes."""
    from ..core.registry import set_model_version_tags

    pairs = {}
    for item in tags:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.UsageError(f"Tags are key=value pairs, not {item!r}.")
        pairs[key] = value
    set_model_version_tags(ref, pairs)
    click.echo(f"Tagged {ref}: {', '.join(f'{k}={v}' for k, v in pairs.items())}.")


@models.command("rm")
@click.argument("ref")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
def models_rm(ref: str, yes: bool) -> None:
    """Delete a version (churn/3) or a whole model (churn). Blobs stay until `mlops gc`."""
    from ..core.registry import delete_model, parse_ref

    parsed = parse_ref(ref)
    if parsed.alias is not None:
        raise click.UsageError("Delete by version (churn/3) or name (churn), not by alias.")
    if not yes:
        click.confirm(f"Delete {ref}?", abort=True)
    versions = delete_model(ref)
    click.echo(f"Deleted {parsed.name} version(s) {', '.join(map(str, versions)) or '-'}.")


# `mlops models card` lives with the reports (it imports nothing until it runs).
from .report_commands import models_card  # noqa: E402

models.add_command(models_card)


# -- promotion gate ---------------------------------------------------------------------------
@click.command()
@click.argument("name")
@click.option("--version", "version", type=int, help="The candidate (latest when omitted).")
@click.option("--to", "to", default="production", show_default=True, help="Alias to move.")
@click.option(
    "--require",
    multiple=True,
    help='Condition on the candidate\'s run, e.g. "metrics.accuracy >= 0.9" (repeatable).',
)
@click.option("--better-than", help="Alias the candidate must beat on --metric.")
@click.option("--metric", help="Metric compared with --better-than.")
@click.option(
    "--maximize/--minimize",
    default=True,
    show_default=True,
    help="Whether a higher --metric is better.",
)
@click.option(
    "--min-delta",
    type=float,
    default=0.0,
    show_default=True,
    help="The candidate must win by at least this much.",
)
@click.option(
    "--require-tests",
    is_flag=True,
    help="Refuse a version whose last `mlops test` failed or that was never tested.",
)
@click.option("--deploy", is_flag=True, help="Redeploy what the alias serves (zero downtime).")
@click.option("--dry-run", is_flag=True, help="Evaluate the gate without moving the alias.")
@guard_options
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def promote(
    name,
    version,
    to,
    require,
    better_than,
    metric,
    maximize,
    min_delta,
    require_tests,
    deploy,
    dry_run,
    guards,
    guard_for,
    notify,
    as_json,
) -> None:
    """Move NAME@ALIAS to a version only if every condition holds (exit 1 otherwise).

    With --guard, the scheduler watches NAME@ALIAS for --for after the move and rolls it back
    when a guard breaks.
    """
    from ..core.promotion import promote as run_gate
    from ..core.views.models import gate_table
    from .challenger_commands import check_guards, echo_guard

    check_guards(guards, guard_for, notify)
    result = run_gate(
        name,
        version,
        to=to,
        require=list(require),
        better_than=better_than,
        metric=metric,
        maximize=maximize,
        min_delta=min_delta,
        require_tests=require_tests,
        deploy=deploy,
        dry_run=dry_run,
    )
    guard = None
    if guards and result.passed and not dry_run and result.move is not None:
        from ..core.serving.guards import guard_alias

        guard = guard_alias(name, to, list(guards), guard_for, list(notify),
                            previous_version=result.move.from_version)  # fmt: skip
    if as_json:
        print_json({**result.to_dict(), "guard": guard.to_dict()} if guard else result.to_dict())
    else:
        render(gate_table(result))
        echo_guard(guard)
        if not result.passed:
            click.secho(f"Gate failed: {name}@{to} was not moved.", fg="red", err=True)
        elif dry_run:
            click.echo(f"Gate passed (dry run): {name}@{to} was not moved.")
        elif result.move is not None:
            was = f" (was v{result.move.from_version})" if result.move.from_version else ""
            click.secho(f"Gate passed: {name}@{to} -> v{result.move.to_version}{was}.", fg="green")
        for dep in result.deployments:
            click.echo(f"Deployment {dep['id']} serves v{dep['version']} at {dep['url']}.")
    if not result.passed:
        raise SystemExit(1)
