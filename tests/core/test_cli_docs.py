"""Every `mlops` command is documented in README.md, with each of its flags, and has help text.

A flag counts as documented only where README documents that command (its section, table row,
example lines or a paragraph naming it), never because another command mentions the same flag.
"""

from __future__ import annotations

import click
from readme_docs import README, documentation_of, documents_flag


def _commands(group: click.Group, ctx: click.Context, prefix: str):
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        path = f"{prefix} {name}"
        yield path, command
        if isinstance(command, click.Group):
            yield from _commands(command, click.Context(command, parent=ctx), path)


def _all_commands():
    from kernel_magics.cli import cli

    return list(_commands(cli, click.Context(cli), "mlops"))


def test_every_cli_command_is_in_the_readme_with_help():
    missing, no_help = [], []
    for path, command in _all_commands():
        if not documentation_of(path):
            missing.append(path)
        if not (command.help or command.short_help):
            no_help.append(path)
    assert missing == [], f"document these in README.md: {missing}"
    assert no_help == []


def test_every_cli_flag_is_documented_with_its_own_command():
    undocumented = []
    for path, command in _all_commands():
        documentation = documentation_of(path)
        for param in command.params:
            if isinstance(param, click.Option) and param.name != "help":
                if not documents_flag(documentation, *param.opts, *param.secondary_opts):
                    undocumented.append(f"{path} {'/'.join(param.opts)}")
    assert undocumented == [], f"document these flags with their command: {undocumented}"


def test_a_flag_of_another_command_does_not_count():
    # `--all` is documented for `mlops deployments ls` only, `--stale-after` for `runs reap`
    assert documents_flag(documentation_of("mlops deployments ls"), "--all")
    assert not documents_flag(documentation_of("mlops gc"), "--all")
    assert documents_flag(documentation_of("mlops runs reap"), "--stale-after")
    assert not documents_flag(documentation_of("mlops runs ls"), "--stale-after")
    # and a prefix of a longer flag is not the flag
    assert not documents_flag("--allow-pickle", "--allow")


def test_readme_opens_with_the_two_commands():
    head = README[:1500]
    assert "make lab" in head and "make test" in head
