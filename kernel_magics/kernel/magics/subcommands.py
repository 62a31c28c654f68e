"""The table of ``%mlops`` subcommands: name -> handler, parser and one-line summary.

Adding a subcommand (``%mlops deploy``, ``%mlops schedule`` ...) is one entry here plus a module
of its family in this package; the magic itself (``__init__.py``) does not change::

    "deploy": Subcommand(
        handler="kernel_magics.kernel.magics.deploy:handle_deploy",
        parser="kernel_magics.kernel.magics.deploy:deploy_parser",
        summary="Start a local model server for a registered model.",
    ),

* ``handler(magics, line)`` receives the :class:`~kernel_magics.kernel.magics.MlopsMagics`
  instance (``magics.shell`` is the IPython shell) and the text after the subcommand name (for a
  cell subcommand, ``handler(magics, line, cell)``). Its return value is the magic's value
  (displayed like any expression). Raise :class:`~kernel_magics.errors.KernelMagicsError`
  subclasses for user mistakes: the magic prints ``Error: ...`` without a traceback.
* ``parser`` returns an :class:`argparse.ArgumentParser` (use
  :class:`~kernel_magics.kernel.parsers.MagicArgumentParser`); ``%mlops help <name>`` prints its
  help, and ``tests/kernel/test_docs.py`` fails when one of its flags is missing from README.md.
* Modules are imported only when their subcommand is used, so ``%load_ext`` stays fast.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Subcommand:
    """One ``%mlops`` subcommand.

    Attributes
    ----------
    handler : str
        ``"module:function"`` called as ``function(magics, line)`` (line magic) or
        ``function(magics, line, cell)`` (cell magic).
    parser : str
        ``"module:function"`` returning the subcommand's argparse parser.
    summary : str
        One line for ``%mlops help``.
    cell : bool
        True for a ``%%mlops`` cell subcommand, False for a ``%mlops`` line subcommand.
    """

    handler: str
    parser: str
    summary: str
    cell: bool = False

    def load_handler(self) -> Callable[..., Any]:
        """Import and return the handler function."""
        return _load(self.handler)

    def load_parser(self):
        """Import the parser factory and return a fresh parser."""
        return _load(self.parser)()


def _load(target: str) -> Any:
    module_name, attr = target.split(":")
    return getattr(importlib.import_module(module_name), attr)


_P = "kernel_magics.kernel.parsers"
_M = "kernel_magics.kernel.magics"

SUBCOMMANDS: dict[str, Subcommand] = {
    "track": Subcommand(
        "kernel_magics.kernel.track:handle_track", f"{_P}:track_parser",
        "Run the cell as a tracked run (%%mlops track).", cell=True,
    ),
    "runs": Subcommand(
        f"{_M}.runs:handle_runs", f"{_P}:runs_parser",
        "A sortable, filterable table of runs (--df for a DataFrame).",
    ),
    "show": Subcommand(
        f"{_M}.runs:handle_show", f"{_P}:show_parser",
        "Params, metrics with plots, artifacts, environment, notebook version of a run.",
    ),
    "compare": Subcommand(
        f"{_M}.runs:handle_compare", f"{_P}:compare_parser",
        "Why runs differ: params, metrics, datasets, packages, code.",
    ),
    "log": Subcommand(
        f"{_M}.runs:handle_log", f"{_P}:log_parser",
        "Log key=value pairs to the active run.",
    ),
    "status": Subcommand(
        f"{_M}.status:handle_status", f"{_P}:status_parser",
        "Where the store is, the active run, this notebook.",
    ),
    "schedule": Subcommand(
        f"{_M}.schedule:handle_schedule", f"{_M}.schedule:schedule_parser",
        "Run this notebook on a cron schedule (retries, timeout, catch-up).",
    ),
    "models": Subcommand(
        f"{_M}.models:handle_models", f"{_M}.models:models_parser",
        "Registered models, a model's versions and alias history, or one version.",
    ),
    "deploy": Subcommand(
        f"{_M}.deploy:handle_deploy", f"{_M}.deploy:deploy_parser",
        "Start (or --stop) a local model server for churn@production.",
    ),
    "deployments": Subcommand(
        f"{_M}.deploy:handle_deployments", f"{_M}.deploy:deployments_parser",
        "Model servers: what they serve, where, status.",
    ),
    "rollback": Subcommand(
        f"{_M}.deploy:handle_rollback", f"{_M}.deploy:rollback_parser",
        "Move an alias back to its previous version and redeploy it.",
    ),
    "alerts": Subcommand(
        f"{_M}.alerts:handle_alerts", f"{_M}.alerts:alerts_parser",
        "Alert rules on a monitored model (add, ls, history, pause, resume, rm).",
    ),
    "monitor": Subcommand(
        f"{_M}.monitor:handle_monitor", f"{_M}.monitor:monitor_parser",
        "Requests, latency, drift and accuracy of a deployed model per window, with plots.",
    ),
    "datasets": Subcommand(
        f"{_M}.datasets:handle_datasets", f"{_M}.datasets:datasets_parser",
        "Stored datasets: ls, show train@2, diff train@2 train@3.",
    ),
    "lineage": Subcommand(
        f"{_M}.lineage:handle_lineage", f"{_M}.lineage:lineage_parser",
        "Where a dataset version, run or model came from and what it fed (--up, --down).",
    ),
    "note": Subcommand(
        f"{_M}.notes:handle_note", f"{_M}.notes:note_parser",
        "Write a note on a run, churn/7 or deployment:3, or list its notes.",
    ),
    "report": Subcommand(
        f"{_M}.reports:handle_report", f"{_M}.reports:report_parser",
        "Write a self-contained HTML/Markdown report of runs, or a leaderboard.",
    ),
    "help": Subcommand(
        f"{_M}:handle_help", f"{_P}:help_parser",
        "This help, or the full help of one subcommand.",
    ),
}  # fmt: skip
