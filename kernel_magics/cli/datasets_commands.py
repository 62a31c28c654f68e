"""``mlops datasets ls / show NAME[@V] / get NAME@V DEST``: stored dataset versions."""

from __future__ import annotations

import click

from .output import page, print_json, render


@click.group()
def datasets() -> None:
    """List, inspect and get back stored dataset versions (NAME@3, NAME@latest, NAME@<hash>)."""


@datasets.command("ls")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def datasets_ls(as_json: bool) -> None:
    """List datasets: latest version, rows, size, version count and bytes stored for them."""
    from ..core.store import open_store
    from ..core.views.datasets import datasets_table

    latest = open_store().dataset_versions.latest_per_dataset()
    if as_json:
        print_json([{**r.to_dict(), "versions": n, "stored_bytes_total": s} for r, n, s in latest])
        return
    render(datasets_table(latest))


@datasets.command("show")
@click.argument("ref", metavar="NAME[@VERSION]")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def datasets_show(ref: str, as_json: bool) -> None:
    """Show a dataset's versions (NAME), or one version in full (NAME@3, NAME@latest)."""
    from ..core.data import parse_ref, read_manifest, resolve_version
    from ..core.store import open_store
    from ..core.views.datasets import version_page, versions_table

    store = open_store()
    if "@" not in ref:
        name, _ = parse_ref(ref)
        records = store.dataset_versions.versions(name)
        if not records:
            resolve_version(store, ref)  # raises: no such dataset, with what to do
        if as_json:
            print_json([r.to_dict() for r in records])
            return
        render(versions_table(records))
        return
    record = resolve_version(store, ref)
    files = read_manifest(store, record).files if record.stored else []
    runs = store.dataset_versions.runs_of(record.id)
    checks = store.dataset_checks.results([record.id]).get(record.id)
    if as_json:
        print_json({**record.to_dict(), "runs": runs,
                    "files": [f.__dict__ for f in files],
                    "checks": checks.to_dict() if checks else None})  # fmt: skip
        return
    page(version_page(record, files, runs, checks))


@datasets.command("get")
@click.argument("ref", metavar="NAME@VERSION")
@click.argument("dest", type=click.Path())
@click.option("--overwrite", is_flag=True, help="Replace files that already exist at DEST.")
def datasets_get(ref: str, dest: str, overwrite: bool) -> None:
    """Write a stored version to DEST: a file (or into DEST if it is a folder), or a folder.

    Every chunk is hash-checked, and every file checked against its stored BLAKE3.
    """
    from ..core.data import materialize
    from ..core.store import open_store

    written = materialize(open_store(), ref, dest, overwrite=overwrite)
    click.echo(f"Wrote {ref} to {written}")


from . import datasets_diff  # noqa: E402, F401  (registers diff and check on the group)
