"""``mlops monitor labels``: ground truth from a file, joined to kept predictions by id."""

from __future__ import annotations

import click

from .output import console, print_json


@click.command("labels")
@click.argument("model_ref")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option(
    "--id-column",
    default="request_id",
    show_default=True,
    help="The column holding each prediction's id (the X-Request-Id the server answered with).",
)
@click.option(
    "--label-column", required=True, help="The column holding the true value (e.g. churned)."
)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def labels(model_ref: str, path: str, id_column: str, label_column: str, as_json: bool) -> None:
    """Join the labels in PATH (CSV, Parquet or JSON lines) to MODEL_REF's predictions.

    Rows without a label are skipped; ids that match no kept prediction are counted and listed
    (their labels are kept and join if the prediction is written later).

    Example: mlops monitor labels churn@production labels.csv --id-column request_id
    --label-column churned
    """
    from ..core.monitoring.labels import log_labels, read_label_file

    ids, values = read_label_file(path, id_column, label_column)
    report = log_labels(model_ref, ids, values)
    if as_json:
        print_json(report.to_dict())
        return
    out = console()
    out.print(
        f"{report.received} labels for {model_ref}: {report.matched} matched a kept "
        f"prediction, {report.unknown} unknown."
    )
    if report.unknown:
        more = report.unknown - len(report.unknown_ids)
        shown = ", ".join(report.unknown_ids) + (f" (and {more} more)" if more > 0 else "")
        out.print(f"Unknown ids: {shown}", markup=False, style="yellow")
