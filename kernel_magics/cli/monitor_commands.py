"""``mlops monitor``: a deployed model's traffic, latency, drift and accuracy per window.

``mlops monitor churn@production`` is short for ``mlops monitor show churn@production``;
``mlops monitor labels`` (labels that arrive later) is defined in :mod:`.monitor_labels`.
"""

from __future__ import annotations

import importlib
import importlib.util
import time

import click

from .output import print_json, render

#: Subcommands defined in other modules, imported on first use.
LAZY = {"labels": "kernel_magics.cli.monitor_labels:labels"}


def _has_module(target: str) -> bool:
    # a subcommand another part of the project is still adding must not break the group
    return importlib.util.find_spec(target.split(":")[0]) is not None


class MonitorGroup(click.Group):
    """A group whose first argument may be a model reference (then it means ``show``)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """``show`` and the lazily imported subcommands (those whose module is installed)."""
        present = [name for name, target in LAZY.items() if _has_module(target)]
        return sorted({*self.commands, *present})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        """A subcommand of this module, or one imported from :data:`LAZY`."""
        if name in self.commands:
            return self.commands[name]
        target = LAZY.get(name)
        if target is None or not _has_module(target):
            return None
        module_name, attr = target.split(":")
        return getattr(importlib.import_module(module_name), attr)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Route ``mlops monitor REF ...`` to ``show``."""
        if args and args[0] not in self.list_commands(ctx) and args[0] not in ("-h", "--help"):
            args = ["show", *args]
        return super().parse_args(ctx, args)


@click.group(cls=MonitorGroup)
def monitor() -> None:
    """A deployed model's requests, errors, latency, drift and accuracy per window.

    `mlops monitor churn@production` is short for `mlops monitor show churn@production`.
    """


@monitor.command("show")
@click.argument("model_ref")
@click.option("--since", default="7d", show_default=True, help="How far back: 30m, 12h, 7d, 2w.")
@click.option(
    "--window", default="1h", show_default=True, help="Length of one window: 1m, 15m, 1h, 1d."
)
@click.option("--features", is_flag=True, help="Also print the latest window's drift per feature.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def show(model_ref: str, since: str, window: str, features: bool, as_json: bool) -> None:
    """Requests, errors, p50/p99 latency, drifted features and accuracy of MODEL_REF per window.

    MODEL_REF is churn@production, churn/3 or churn (its latest version).
    """
    from ..core.monitoring.windows import parse_duration, report
    from ..core.store import open_store
    from ..core.views.monitoring import drift_table, monitor_table

    period, window_s = parse_duration(since), parse_duration(window)
    until = time.time()
    result = report(open_store(), model_ref, since=until - period, until=until, window_s=window_s)
    if as_json:
        print_json(result.to_dict())
        return
    title = f"{model_ref} (version {result.version}), windows of {window}"
    view = monitor_table(result.windows, title)
    if result.profile is None:
        view.note = (view.note + " " if view.note else "") + (
            "This version has no training profile, so no drift: register it with "
            "input_example= or training_data=."
        )
    render(view)
    latest = result.latest
    if features and latest is not None:
        render(drift_table(latest))
