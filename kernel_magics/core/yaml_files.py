"""Read a YAML file a user wrote, with errors that say where it is wrong."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import ValidationError


def read_yaml_file(path: str | os.PathLike[str], missing: Exception) -> Any:
    """Parse ``path`` with ``yaml.safe_load`` (None for an empty file).

    Parameters
    ----------
    path : path-like
        The file.
    missing : Exception
        Raised when the file does not exist (its message says which file the user should give).

    Raises
    ------
    ValidationError
        When the file is not YAML: the message names the file and the line.
    """
    import yaml

    file = Path(path)
    if not file.is_file():
        raise missing
    try:
        return yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ValidationError(f"{file.name} is not valid YAML{where}; fix the syntax.") from None
