"""Every `mlops` command is documented in README.md and has help text."""

from __future__ import annotations

from pathlib import Path

import click

README = (Path(__file__).parents[2] / "README.md").read_text()


def _commands(group: click.Group, ctx: click.Context, prefix: str):
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        path = f"{prefix} {name}"
        yield path, command
        if isinstance(command, click.Group):
            yield from _commands(command, click.Context(command, parent=ctx), path)


def test_every_cli_command_is_in_the_readme_with_help():
    from kernel_magics.cli import cli

    missing, no_help = [], []
    for path, command in _commands(cli, click.Context(cli), "mlops"):
        if path not in README:
            missing.append(path)
        if not (command.help or command.short_help):
            no_help.append(path)
    assert missing == [], f"document these in README.md: {missing}"
    assert no_help == []


def test_readme_opens_with_the_two_commands():
    head = README[:1500]
    assert "make lab" in head and "make test" in head
