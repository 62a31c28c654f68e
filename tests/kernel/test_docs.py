"""Every magic subcommand and flag is documented in README.md (and has help text).

A flag counts as documented only where README documents that subcommand (its section, its
example lines or a paragraph naming it), never because another command mentions the same flag.
"""

from __future__ import annotations

import pytest
from readme_docs import README, documentation_of, documents_flag

from kernel_magics.kernel.magics.subcommands import SUBCOMMANDS

MAGICS_INTRO = documentation_of("%mlops help")


def _invocation(name: str) -> str:
    return f"%%mlops {name}" if SUBCOMMANDS[name].cell else f"%mlops {name}"


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_subcommand_is_documented(name):
    sub = SUBCOMMANDS[name]
    assert sub.summary.strip(), f"{name} has no summary for %mlops help"
    invocation = _invocation(name)
    documentation = documentation_of(invocation)
    assert documentation, f"README.md does not document `{invocation}`"
    for action in sub.load_parser()._actions:
        assert action.help, f"{invocation} {action.option_strings or action.dest} has no help"
        if "--help" in action.option_strings:
            # one sentence documents --help for every subcommand
            assert "`<subcommand> --help`" in MAGICS_INTRO
            continue
        long_flags = [f for f in action.option_strings if f.startswith("--")]
        if long_flags:
            assert documents_flag(documentation, *action.option_strings), (
                f"README.md does not document `{invocation} {long_flags[0]}` with `{invocation}`"
            )


def test_a_flag_of_another_subcommand_does_not_count():
    # `--history` belongs to `%mlops models`; `--df` to `%mlops runs`
    assert documents_flag(documentation_of("%mlops models"), "--history")
    assert not documents_flag(documentation_of("%mlops deployments"), "--history")
    assert documents_flag(documentation_of("%mlops runs"), "--df")
    assert not documents_flag(documentation_of("%mlops show"), "--df")


def test_mlops_init_is_documented():
    from kernel_magics.cli.init_commands import init

    documentation = documentation_of("mlops init")
    assert "### `mlops init`" in documentation
    for param in init.params:
        for flag in param.opts:
            assert documents_flag(documentation, flag), (
                f"README.md does not document `mlops init {flag}`"
            )
    assert "mlops init" in README
