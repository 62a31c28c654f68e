"""Where README.md documents one command: the docs tests check each flag *there*.

A flag documented under another command does not count: ``--all`` in the ``%mlops deployments``
line says nothing about ``mlops gc``.
"""

from __future__ import annotations

import re
from pathlib import Path

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
_HEADING = re.compile(r"(#+) ")


def documentation_of(invocation: str, readme: str = README) -> str:
    """Return the README text that documents ``invocation`` (``%mlops runs``, ``mlops run``).

    That is: every section whose heading names it (down to the next heading of the same or a
    higher level), every paragraph that names it in backticks, every table row whose first cell
    starts with it, and every line of an example that starts with it (with its ``\\``
    continuation lines).
    """
    mentions = (f"`{invocation}`", f"`{invocation} ")
    lines = readme.splitlines()
    pieces: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        heading = _HEADING.match(line)
        if heading and any(m in line for m in mentions):
            level = len(heading.group(1))
            end = i + 1
            while end < len(lines):
                nxt = _HEADING.match(lines[end])
                if nxt and len(nxt.group(1)) <= level:
                    break
                end += 1
            pieces.append("\n".join(lines[i:end]))
            i = end
            continue
        first_cell = line.split("|")[1].strip() if line.startswith("|") else ""
        stripped = line.strip().strip("`")
        if first_cell.startswith(mentions):
            pieces.append(line)
        elif stripped == invocation or stripped.startswith(invocation + " "):
            while lines[i].rstrip().endswith("\\") and i + 1 < len(lines):
                pieces.append(lines[i])
                i += 1
            pieces.append(lines[i])
        i += 1
    for paragraph in re.split(r"\n\s*\n", readme):
        if not paragraph.lstrip().startswith(("|", "#", "```")) and any(
            m in paragraph for m in mentions
        ):
            pieces.append(paragraph)
    return "\n".join(pieces)


def documents_flag(documentation: str, *spellings: str) -> bool:
    """Whether ``documentation`` names one of the flag's spellings (``-e`` or ``--experiment``)."""
    return any(
        re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", documentation) for flag in spellings
    )
