"""``mlops datasets diff A B`` and ``mlops datasets check NAME``: compare versions, check data.

Registered on the ``mlops datasets`` group (:mod:`.datasets_commands` imports this module).
"""

from __future__ import annotations

import click

from .datasets_commands import datasets
from .output import page, print_json, render


@datasets.command("diff")
@click.argument("a", metavar="A")
@click.argument("b", metavar="B")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def datasets_diff(a: str, b: str, as_json: bool) -> None:
    """What changed from version A to version B (train@2 train@3).

    Schema changes, row counts, rows added and removed (by row hash), changed files of a
    folder, each shared column's summary with a drift test, and the versions' quality checks.
    """
    from ..core.data.diff import diff_versions
    from ..core.store import open_store
    from ..core.views.datasets_diff import diff_page

    diff = diff_versions(open_store(), a, b)
    if as_json:
        print_json(diff.to_dict())
        return
    page(diff_page(diff))


@datasets.command("check")
@click.argument("ref", metavar="NAME[@VERSION]")
@click.option("--infer", is_flag=True, help="Infer expectations from the first stored version.")
@click.option("--pandera", metavar="FILE.py:OBJECT", help="Check with this pandera schema.")
@click.option(
    "--on-fail",
    type=click.Choice(["warn", "fail"]),
    help="What a failing version does when logged: warn, or fail the run (default: warn).",
)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def datasets_check(
    ref: str, infer: bool, pandera: str | None, on_fail: str | None, as_json: bool
) -> None:
    """Set a dataset's quality checks (--infer or --pandera), then check a version.

    Without --infer or --pandera, runs the checks the dataset has on NAME@VERSION (the latest
    by default). Exits with 1 when the version fails.
    """
    from ..core.data import parse_ref, resolve_version
    from ..core.data.quality import check_version, set_checks
    from ..core.store import open_store
    from ..core.views.datasets_diff import checks_table
    from ..errors import ValidationError

    if infer and pandera:
        raise ValidationError("Give --infer or --pandera, not both.")
    store = open_store()
    name, selector = parse_ref(ref)
    version = resolve_version(store, f"{name}@{selector}").ref  # a clear error first
    checks = store.dataset_checks.get_checks(name)
    if infer or pandera:
        keep = checks.on_fail if checks is not None else "warn"
        set_checks(store, name, pandera=pandera, on_fail=on_fail or keep)
    elif on_fail is not None:
        if checks is None:
            raise ValidationError(
                f"Dataset {name!r} has no checks to change: add --infer or "
                "--pandera FILE.py:OBJECT."
            )
        store.dataset_checks.set_checks(name, checks.kind, checks.spec, on_fail,
                                        checks.inferred_from)  # fmt: skip
    result = check_version(store, version)
    if as_json:
        print_json({"version": version, **result.to_dict()})
    else:
        checks = store.dataset_checks.get_checks(name)
        assert checks is not None  # check_version refuses a dataset without checks
        label = f"{checks.kind} checks, on_fail={checks.on_fail}"
        render(checks_table(result, f"Quality checks of {version} ({label})"))
    if not result.passed:
        raise SystemExit(1)
