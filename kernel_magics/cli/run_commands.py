"""``mlops run``, ``mlops rerun`` and ``mlops templates ls / copy``.

Exit codes: 0 when every run finished, 1 when a run (or a sweep child) did not, 2 for bad input
(reported before any kernel starts).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from ..core.names import FINISHED, KILLED
from ..errors import ConflictError, NotFoundError
from .output import console, duration, print_json, table


def _terminate_as_interrupt() -> None:
    """Make SIGTERM behave like Ctrl-C, so a terminated run ends ``killed``, kernels stopped."""
    import signal

    def on_sigterm(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        raise KeyboardInterrupt("SIGTERM")

    signal.signal(signal.SIGTERM, on_sigterm)


def _pairs(items: tuple[str, ...], flag: str) -> dict[str, str]:
    from ..core.runner.parameters import parse_assignments

    return parse_assignments(items, flag)


@click.command("run")
@click.argument("notebook", type=click.Path(dir_okay=False))
@click.option(
    "-p",
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="Set a parameter (converted to the type of its default; repeatable).",
)
@click.option(
    "-f",
    "--params-file",
    type=click.Path(dir_okay=False),
    help="YAML or JSON file of parameters; -p values override it.",
)
@click.option(
    "--sweep",
    "sweeps",
    multiple=True,
    metavar="NAME=V1,V2,...",
    help="Run once per value; several --sweep flags make a grid (repeatable).",
)
@click.option(
    "--workers",
    type=int,
    default=1,
    show_default=True,
    help="Runs executing at the same time (kernels are started ahead).",
)
@click.option(
    "--executor",
    default="local",
    show_default=True,
    help="'local', or 'dask://HOST:PORT' to run on a Dask cluster.",
)
@click.option("--timeout", type=float, help="Seconds a run may take; then it ends killed.")
@click.option("--kernel", help="Jupyter kernel to use instead of the notebook's own.")
@click.option(
    "--cwd",
    type=click.Path(file_okay=False, exists=True),
    help="Working directory of the kernel (default: the notebook's folder).",
)
@click.option("-e", "--experiment", help="Experiment of the run(s) (default: Default).")
@click.option("--name", help="Name of the run (or of the sweep's parent run).")
@click.option(
    "-o",
    "--output",
    "output_dir",
    type=click.Path(file_okay=False),
    help="Folder for executed notebooks and logs (default: <MLOPS_HOME>/outputs).",
)
@click.option(
    "--objective",
    metavar="metrics.NAME",
    help="For a sweep: record the child with the best value of this metric.",
)
@click.option(
    "--maximize/--minimize",
    default=False,
    show_default=True,
    help="Whether the best objective value is the largest or the smallest.",
)
@click.option(
    "-t", "--tag", "tags", multiple=True, metavar="KEY=VALUE", help="Tag the run(s) (repeatable)."
)
@click.option("--no-progress", is_flag=True, help="Hide the progress bars.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def run(notebook, params, params_file, sweeps, workers, executor, timeout, kernel, cwd,
        experiment, name, output_dir, objective, maximize, tags, no_progress,
        as_json) -> None:  # fmt: skip
    """Execute NOTEBOOK with papermill as a tracked run (or a sweep of runs).

    \b
    mlops run train.ipynb -p C=0.1 -p estimator=random_forest
    mlops run train.ipynb --sweep C=0.01,0.1,1 --workers 2 --objective metrics.accuracy --maximize
    mlops run train.ipynb --executor dask://127.0.0.1:8786
    """  # noqa: D301 - "\b" is click's marker for a paragraph kept as written
    from ..core.runner.options import RunOptions
    from ..core.runner.parameters import load_parameters_file, split_sweep_values

    _terminate_as_interrupt()
    if not sweeps and (workers != 1 or objective):
        flag = "--workers" if workers != 1 else "--objective"
        raise click.UsageError(f"{flag} only applies to a sweep (add --sweep NAME=V1,V2).")
    options = RunOptions(
        parameters=load_parameters_file(params_file) if params_file else {},
        text_parameters=_pairs(params, "-p"), experiment=experiment, name=name,
        kernel=kernel, timeout=timeout, cwd=cwd, output_dir=output_dir,
        tags=_pairs(tags, "--tag"), executor=executor, workers=workers,
        progress=not no_progress and not as_json,
    )  # fmt: skip
    with _interrupts_reported(as_json, sweep=bool(sweeps)):
        if sweeps:
            from ..core.runner.sweep import run_sweep

            grid = {k: split_sweep_values(v) for k, v in _pairs(sweeps, "--sweep").items()}
            result = run_sweep(notebook, grid, options, text_grid=True, objective=objective,
                               maximize=maximize)  # fmt: skip
            _print_sweep(result, objective, as_json)
            raise SystemExit(0 if result.status == FINISHED else 1)
        from ..core.runner.execute import run_one

        outcome = run_one(notebook, options)
    if as_json:
        print_json(outcome.to_dict())
    else:
        _print_run(outcome)
    raise SystemExit(0 if outcome.ok else 1)


@contextmanager
def _interrupts_reported(as_json: bool, sweep: bool = False) -> Iterator[None]:
    """End on Ctrl-C or SIGTERM with one line saying the run was killed (exit code 130).

    The runner has already ended the run(s) ``killed`` and stopped the kernels when the
    interrupt reaches here; what is left is to say so instead of click's bare "Aborted!".
    """
    try:
        yield
    except KeyboardInterrupt as exc:
        import logging

        # The interrupted kernel client leaves asyncio tasks whose errors would be logged at
        # exit as "Task exception was never retrieved": the run is already recorded as killed.
        logging.getLogger("asyncio").setLevel(logging.CRITICAL)
        what = "SIGTERM" if str(exc) == "SIGTERM" else "Ctrl-C"
        ended = (
            "the sweep's runs were ended killed and their kernels stopped"
            if sweep
            else "the run was ended killed and its kernel stopped"
        )
        message = f"Interrupted ({what}): {ended}."
        if as_json:
            print_json({"status": KILLED, "error": message})
        else:
            console().print(f"[red]{message}[/red]")
        raise SystemExit(130) from None


def _print_run(result) -> None:
    out = console()
    style = "green" if result.ok else "red"
    out.print(f"Run [bold]{result.run_id[:8]}[/bold] [{style}]{result.status}[/{style}] "
              f"in {duration(result.duration)} on kernel {result.kernel}")  # fmt: skip
    if result.error:
        out.print(f"  {result.error}", markup=False)
    if result.output_path:
        out.print(f"  output notebook: {result.output_path}", markup=False)


def _print_sweep(result, objective, as_json: bool) -> None:
    if as_json:
        print_json(result.to_dict())
        return
    rows = []
    for child in result.children:
        params = ", ".join(f"{k}={v}" for k, v in child.parameters.items())
        best = "*" if child.run_id == result.best_run_id else ""
        rows.append([child.run_id[:8], child.status, params, duration(child.duration), best])
    table(f"Sweep {result.parent_run_id[:8]}: {result.status}",
          ["Run", "Status", "Parameters", "Duration", "Best"], rows)  # fmt: skip
    if result.best_run_id:
        console().print(f"Best {objective}: {result.best_value:g} (run {result.best_run_id[:8]})")


@click.command("rerun")
@click.argument("run_id", metavar="RUN")
@click.option(
    "--tolerance",
    type=float,
    default=1e-9,
    show_default=True,
    help="Relative tolerance under which metric values count as equal.",
)
@click.option("--timeout", type=float, help="Seconds the rerun may take.")
@click.option("--kernel", help="Jupyter kernel to use instead of the original's.")
@click.option(
    "--cwd",
    type=click.Path(file_okay=False, exists=True),
    help="Working directory of the kernel (default: the notebook's folder).",
)
@click.option(
    "-o",
    "--output",
    "output_dir",
    type=click.Path(file_okay=False),
    help="Folder for the executed notebook.",
)
@click.option(
    "--with-current-data",
    is_flag=True,
    help="Use today's data files instead of restoring the versions RUN read; report changes.",
)
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def rerun(run_id, tolerance, timeout, kernel, cwd, output_dir, with_current_data, no_progress,
          as_json) -> None:  # fmt: skip
    """Re-execute RUN from its stored notebook version and parameters; report differences.

    Data files and folders RUN read that changed since are restored to the exact versions it
    read (the notebook reads them at the same paths; your files are not touched).

    Exit code 0 when the rerun finished (differences or not), 1 when it did not.
    """
    from ..core.runner.options import RunOptions
    from ..core.runner.rerun import rerun_run

    _terminate_as_interrupt()
    options = RunOptions(timeout=timeout, kernel=kernel, cwd=cwd, output_dir=output_dir,
                         progress=not (no_progress or as_json))  # fmt: skip
    with _interrupts_reported(as_json):
        report = rerun_run(run_id, options, tolerance=tolerance,
                           with_current_data=with_current_data)  # fmt: skip
    if as_json:
        print_json(report.to_dict())
    else:
        _print_run(report.result)
        for item in report.data:
            if item.action != "unchanged":
                console().print(f"Data {item.version} ({item.action}): {item.note}",
                                markup=False)  # fmt: skip
        if report.cell is not None:
            console().print(f"Compared with run {report.cell.run_id[:8]}, made by the same "
                            f"tracked cell (matched by {report.cell.by} "
                            f"{report.cell.value[:12]}).", markup=False)  # fmt: skip
        if report.not_compared:
            console().print("Not compared (wall-clock timings): "
                            + ", ".join(report.not_compared), markup=False)  # fmt: skip
        if report.identical:
            console().print(f"[green]Identical[/green] to {report.original_run_id[:8]} "
                            f"(metrics within {tolerance:g}).")  # fmt: skip
        else:
            table(f"{len(report.differences)} difference(s) from {report.original_run_id[:8]}",
                  ["Kind", "Name", "Original", "Rerun", "Note"],
                  [[d.kind, d.name, _short(d.original), _short(d.rerun), d.note]
                   for d in report.differences])  # fmt: skip
    raise SystemExit(0 if report.result.ok else 1)


def _short(value) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= 24 else text[:21] + "..."


def templates_dir() -> Path:
    """Return the folder of the bundled template notebooks (source tree or installed share/).

    Raises
    ------
    NotFoundError
        When the templates are not installed.
    """
    import sys

    import kernel_magics

    candidates = [Path(kernel_magics.__file__).resolve().parent.parent / "templates",
                  Path(sys.prefix) / "share" / "jupyter-mlops" / "templates"]  # fmt: skip
    for folder in candidates:
        if folder.is_dir() and any(folder.glob("*.ipynb")):
            return folder
    raise NotFoundError("The template notebooks are not installed (reinstall jupyter-mlops).")


@click.group()
def templates() -> None:
    """List and copy the bundled parameterized notebooks."""


@templates.command("ls")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def templates_ls(as_json) -> None:
    """List the templates with their parameters."""
    from ..core.runner.parameters import load_notebook, parse_parameters

    rows: list[dict[str, Any]] = []
    for path in sorted(templates_dir().glob("*.ipynb")):
        _, nb = load_notebook(path)
        specs = parse_parameters(nb, path.name)
        first = next((c for c in nb["cells"] if c.get("cell_type") == "markdown"), None)
        title = "".join(first["source"]).splitlines()[0].lstrip("# ") if first else ""
        rows.append({"name": path.stem, "title": title,
                     "parameters": {k: s.source for k, s in specs.items()}})  # fmt: skip
    if as_json:
        print_json(rows)
        return
    table("Templates", ["Name", "Description", "Parameters"],
          [[r["name"], r["title"], ", ".join(f"{k}={v}" for k, v in r["parameters"].items())]
           for r in rows])  # fmt: skip


@templates.command("copy")
@click.argument("name")
@click.argument("dest", type=click.Path(), default=".")
@click.option("--force", is_flag=True, help="Overwrite DEST if it exists.")
def templates_copy(name, dest, force) -> None:
    """Copy template NAME (e.g. train) to DEST (a file or an existing folder)."""
    folder = templates_dir()
    stem = name[: -len(".ipynb")] if name.endswith(".ipynb") else name
    source = folder / f"{stem}.ipynb"
    if not source.is_file():
        known = ", ".join(sorted(p.stem for p in folder.glob("*.ipynb")))
        raise NotFoundError(f"No template {name!r}; the templates are: {known}.")
    target = Path(dest)
    if target.is_dir():
        target = target / source.name
    if target.exists() and not force:
        raise ConflictError(f"{target} already exists; pass --force to overwrite it.")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    click.echo(f"Copied {source.name} to {target}. Run it with: mlops run {target}")
