"""The ``mlops`` command: thin click commands over ``kernel_magics.core``.

Subcommands live in one module per feature and are imported only when invoked (click's
documented lazy-group pattern), so ``mlops info`` does not pay for papermill or FastAPI.
"""

from __future__ import annotations

import importlib

import click

from .. import __version__

# command name -> "module:attribute". Each feature module adds its commands here.
COMMANDS = {
    "info": "kernel_magics.cli.store_commands:info",
    "experiments": "kernel_magics.cli.store_commands:experiments",
    "runs": "kernel_magics.cli.runs_commands:runs",
    "gc": "kernel_magics.cli.store_commands:gc",
    "datasets": "kernel_magics.cli.datasets_commands:datasets",
    "db": "kernel_magics.cli.store_commands:db",
    "init": "kernel_magics.cli.init_commands:init",
    "models": "kernel_magics.cli.models_commands:models",
    "promote": "kernel_magics.cli.models_commands:promote",
    "test": "kernel_magics.cli.test_commands:test",
    "apply": "kernel_magics.cli.gitops_commands:apply",
    "serve": "kernel_magics.cli.deploy_commands:serve",
    "deploy": "kernel_magics.cli.deploy_commands:deploy",
    "deployments": "kernel_magics.cli.deploy_commands:deployments",
    "rollback": "kernel_magics.cli.deploy_commands:rollback",
    "challenger": "kernel_magics.cli.challenger_commands:challenger",
    "guards": "kernel_magics.cli.challenger_commands:guards",
    "schedule": "kernel_magics.cli.schedule_commands:schedule",
    "scheduler": "kernel_magics.cli.schedule_commands:scheduler",
    "run": "kernel_magics.cli.run_commands:run",
    "rerun": "kernel_magics.cli.run_commands:rerun",
    "templates": "kernel_magics.cli.run_commands:templates",
    "alerts": "kernel_magics.cli.alerts_commands:alerts",
    "automation": "kernel_magics.cli.automation_commands:automation",
    "monitor": "kernel_magics.cli.monitor_commands:monitor",
    "import": "kernel_magics.cli.interop_commands:import_",
    "export": "kernel_magics.cli.interop_commands:export",
    "report": "kernel_magics.cli.report_commands:report",
    "lineage": "kernel_magics.cli.lineage_commands:lineage",
    "note": "kernel_magics.cli.audit_commands:note",
    "audit": "kernel_magics.cli.audit_commands:audit",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command name, without importing any command module."""
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        """Import the module that defines ``name`` and return its command."""
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        return getattr(importlib.import_module(module_name), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mlops")
def cli() -> None:
    """jupyter-mlops: track experiments, run notebooks, register and deploy models.

    The store is found from MLOPS_STORE_URI / MLOPS_HOME, else the nearest .mlops/ folder
    above the working directory (see `mlops info`).
    """


def main() -> None:
    """Entry point of the ``mlops`` console script: user errors print one clear line."""
    from ..errors import KernelMagicsError

    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except click.ClickException as exc:
        exc.show()
        raise SystemExit(exc.exit_code) from None
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        raise SystemExit(1) from None
    except KernelMagicsError as exc:
        click.secho(f"Error: {exc}", fg="red", err=True)
        raise SystemExit(2) from None
