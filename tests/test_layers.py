"""The layering rule, checked on the real import graph by import-linter.

``core`` never imports ``kernel``, ``server`` or ``cli`` (nor IPython, tornado, jupyter_server);
``kernel`` never imports ``server``; ``server`` and ``cli`` never import ``kernel``. The contracts
live in pyproject.toml (``[tool.importlinter]``) and ``make lint`` runs ``lint-imports``; these
tests run the same contracts, and prove they catch what the old substring test let through.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter not installed")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """Run ``lint-imports`` with the project's contracts on the package found under ``root``."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": str(LINT_IMPORTS.parent)},
        capture_output=True,
        text=True,
    )


def copy_package(tmp_path: Path) -> Path:
    shutil.copytree(
        ROOT / "kernel_magics",
        tmp_path / "kernel_magics",
        ignore=shutil.ignore_patterns("labextension", "__pycache__"),
    )
    return tmp_path / "kernel_magics"


def test_the_tree_keeps_every_layer_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        # the import the substring test let through: relative, three dots, inside a function
        (
            "core/datasets.py",
            "def _sneak():\n    from ..kernel.track import TrackedCell\n",
            "core imports neither kernel, server nor cli",
        ),
        (
            "core/store/__init__.py",
            "def _sneak():\n    from ...cli import output\n",
            "core imports neither kernel, server nor cli",
        ),
        (
            "core/config.py",
            "def _sneak():\n    import tornado.web\n",
            "core is plain Python: no IPython, tornado or jupyter_server",
        ),
        (
            "kernel/__init__.py",
            "from ..server import base\n",
            "kernel does not import server",
        ),
    ],
)
def test_a_forbidden_import_breaks_its_contract(tmp_path, module, line, contract):
    # Given a copy of the package with one forbidden import added
    package = copy_package(tmp_path)
    target = package / module
    target.write_text(target.read_text() + "\n\n" + line)
    # When the contracts run on it
    result = lint_imports(tmp_path)
    # Then lint-imports fails and names the broken contract and the importing module
    assert result.returncode != 0
    assert f"{contract} BROKEN" in result.stdout
    dotted = "kernel_magics." + module.removesuffix(".py").removesuffix("/__init__").replace(
        "/", "."
    )
    assert dotted in result.stdout
