"""``mlops report`` (runs and leaderboards) and ``mlops models card`` (model cards)."""

from __future__ import annotations

import click

from .output import print_json

_FORMAT = click.Choice(["html", "md"])


@click.command()
@click.argument("runs", nargs=-1)
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False),
    help="The file to write (report.html, or report.md with its charts in report_files/).",
)  # fmt: skip
@click.option("--format", "fmt", type=_FORMAT, help="html or md (default: from the file name).")
@click.option("--experiment", help="Report a leaderboard of this experiment instead of RUNS.")
@click.option(
    "--top", type=int, default=10, show_default=True, help="How many runs the leaderboard keeps."
)
@click.option(
    "--by", help="The leaderboard's metric: metrics.auc (highest first) or 'metrics.loss ASC'."
)
@click.option("--title", help="The report's title (default: the runs' ids, or the experiment).")
def report(runs, output, fmt, experiment, top, by, title) -> None:
    """Write one self-contained report of RUNS (the first is the baseline), or a leaderboard.

    Example: mlops report --experiment churn --top 10 --by metrics.auc -o leaderboard.html
    """
    from ..core.reports import leaderboard_report, run_report, write_document
    from ..core.reports.render import format_for
    from ..core.store import open_store

    format_for(output, fmt)  # a bad name or format fails before any work
    if experiment is not None:
        if runs:
            raise click.UsageError("Give RUNS or --experiment NAME (a leaderboard), not both.")
        if not by:
            raise click.UsageError("A leaderboard needs --by, e.g. --by metrics.auc.")
        doc = leaderboard_report(open_store(), experiment, by, top=top, title=title)
    else:
        if not runs:
            raise click.UsageError("Name the runs to report (or --experiment NAME --by METRIC).")
        doc = run_report(open_store(), list(runs), title=title)
    written = write_document(doc, output, fmt)
    extra = (
        f" (+{len(written) - 1} chart files in {written[1].parent.name}/)"
        if len(written) > 1
        else ""
    )
    click.echo(f"Wrote {written[0]}{extra}.")


def _settings(items: tuple[str, ...]) -> dict[str, str]:
    values = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise click.UsageError(
                f'--set takes FIELD="text", e.g. intended_use="..." (not {item!r}).'
            )
        values[key.strip()] = text
    return values


@click.command("card")
@click.argument("ref")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False),
    help="Write the card to this file (card.html, or card.md with its chart in card_files/).",
)  # fmt: skip
@click.option("--format", "fmt", type=_FORMAT, help="html or md (default: from the file name).")
@click.option(
    "--set", "settings", multiple=True, metavar='FIELD="TEXT"',
    help="Edit description, intended_use or limitations (repeatable; '' clears).",
)  # fmt: skip
@click.option(
    "--holdout",
    help="Compute the importance on this labelled dataset version (NAME@V) or CSV/Parquet file.",
)
@click.option("--target", help="The holdout's label column (default: its one non-input column).")
@click.option("--json", "as_json", is_flag=True, help="Print the card's fields as JSON.")
def models_card(ref, output, fmt, settings, holdout, target, as_json) -> None:
    """Write (or edit) the model card of a version: REF is churn/7 or churn@production.

    Example: mlops models card churn/7 --set intended_use="Retention calls" -o card.html
    """
    from ..core.reports.model_card import card_fields, check_fields, update_card
    from ..core.reports.render import format_for
    from ..core.store import open_store

    if output is None and not settings and not as_json:
        raise click.UsageError("Give -o FILE to write the card, --set to edit it, or --json.")
    if output is not None:
        format_for(output, fmt)
    values = check_fields(_settings(settings)) if settings else {}
    store = open_store()
    if values:
        update_card(store, ref, values)
        click.echo(f"Updated the card of {ref}: {', '.join(values)}.")
    if output is not None:
        from ..core.reports import card_document, card_facts, write_document

        facts = card_facts(store, ref, holdout=holdout, target=target)
        written = write_document(card_document(facts), output, fmt)
        click.echo(f"Wrote {written[0]}.")
    if as_json:
        print_json(card_fields(store, ref))
