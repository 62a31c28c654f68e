"""Every magic subcommand and flag is documented in README.md (and has help text)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kernel_magics.kernel.registry import SUBCOMMANDS

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = README.index(title)
    end = README.find("\n## ", start + len(title))
    return README[start : end if end != -1 else None]


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_subcommand_is_documented(name):
    sub = SUBCOMMANDS[name]
    assert sub.summary.strip(), f"{name} has no summary for %mlops help"
    invocation = f"%%mlops {name}" if sub.cell else f"%mlops {name}"
    assert invocation in README, f"README.md does not mention `{invocation}`"
    parser = sub.load_parser()
    for action in parser._actions:
        assert action.help, f"{invocation} {action.option_strings or action.dest} has no help"
        for flag in action.option_strings:
            if flag.startswith("--"):
                assert flag in README, f"README.md does not document `{invocation} {flag}`"


def test_mlops_init_is_documented():
    from kernel_magics.cli.init_commands import init

    assert "mlops init" in README
    for param in init.params:
        for flag in param.opts:
            assert flag in README, f"README.md does not document `mlops init {flag}`"
