"""``mlops init``: load the magics in every IPython kernel, without typing ``%load_ext``.

It adds ``kernel_magics`` to ``InteractiveShellApp.extra_extensions`` in an
``ipython_config.json`` that IPython (and every ipykernel) reads at start-up:

* by default the environment's ``<sys.prefix>/etc/ipython/`` (every kernel of this virtualenv or
  conda environment, whatever the user's profile);
* with ``--user``, the IPython profile (``$IPYTHONDIR/profile_<name>/``, ``~/.ipython`` by default).

``extra_extensions`` is used rather than ``extensions`` so the user's own extension list (often
set in ``ipython_config.py``) is extended, not replaced. Other keys of an existing JSON file are
kept; ``--undo`` removes exactly what init added.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from ..errors import ValidationError

EXTENSION = "kernel_magics"
CONFIG_NAME = "ipython_config.json"


def config_dir(user: bool, profile: str, prefix: str | None) -> Path:
    """Return the folder whose ``ipython_config.json`` init edits."""
    if user:
        from IPython.paths import get_ipython_dir

        return Path(get_ipython_dir()) / f"profile_{profile}"
    return Path(prefix or sys.prefix) / "etc" / "ipython"


def _read(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except ValueError as exc:
        raise ValidationError(
            f"{path} is not valid JSON ({exc}); fix or remove it, then run mlops init again."
        ) from None
    if not isinstance(data, dict):
        raise ValidationError(f"{path} must hold a JSON object; fix or remove it.")
    return data


def set_autoload(path: Path, enabled: bool) -> bool:
    """Add (or remove) ``kernel_magics`` in the config file; return True when it changed.

    Raises
    ------
    ValidationError
        When the existing file is not a JSON object.
    """
    data = _read(path)
    section = data.setdefault("InteractiveShellApp", {})
    extensions = list(section.get("extra_extensions", []))
    if enabled == (EXTENSION in extensions):
        return False
    if enabled:
        extensions.append(EXTENSION)
    else:
        extensions = [e for e in extensions if e != EXTENSION]
    section["extra_extensions"] = extensions
    if not extensions:
        del section["extra_extensions"]
    if not section:
        del data["InteractiveShellApp"]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return True


@click.command("init")
@click.option(
    "--user",
    is_flag=True,
    help="Configure your IPython profile instead of this Python environment.",
)
@click.option(
    "--profile",
    default="default",
    show_default=True,
    help="The IPython profile to configure (with --user).",
)
@click.option(
    "--prefix",
    type=click.Path(file_okay=False),
    help="Environment prefix to configure (default: this Python's sys.prefix).",
)
@click.option("--undo", is_flag=True, help="Stop loading the magics automatically.")
def init(user: bool, profile: str, prefix: str | None, undo: bool) -> None:
    """Load the %mlops magics in every kernel, without %load_ext."""  # noqa: D401
    if prefix and user:
        raise click.UsageError("Give either --user or --prefix, not both.")
    path = config_dir(user, profile, prefix) / CONFIG_NAME
    changed = set_autoload(path, not undo)
    if undo:
        click.echo(f"{'Removed' if changed else 'Was not configured in'} {path}.")
        return
    click.echo(f"{'Configured' if changed else 'Already configured in'} {path}.")
    click.echo("New kernels load the %mlops magics; restart running kernels. "
               "Undo with `mlops init --undo`" + (" --user." if user else "."))  # fmt: skip
