"""``%mlops note TARGET [TEXT]``: write a note on a run, a model version or a deployment.

The same API and table as ``mlops note`` (:mod:`kernel_magics.core.notes`,
:func:`kernel_magics.core.views.audit.notes_table`). Without TEXT it lists the notes; with
it, it writes one as the OS user and shows the item's notes with the new one last.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from ..parsers import MagicArgumentParser, parsed_with, split_line
from ..widgets.report import Report, table_report


def note_parser() -> MagicArgumentParser:
    """Build the parser of ``%mlops note``."""
    p = MagicArgumentParser(
        prog="%mlops note",
        description="Write a note on a run, a model version or a deployment, or list its notes.",
    )
    p.add_argument(
        "target",
        help="A run id (or 4+ character prefix), churn/7, churn@production or deployment:3.",
    )
    p.add_argument(
        "text",
        nargs="*",
        help="The note: the rest of the line as written (quotes around it are removed).",
    )
    return p


def parse_note(line: str) -> SimpleNamespace:
    """Split ``TARGET text to the end of the line`` into ``target`` and ``text``.

    The text is taken as written, not split like a shell line, so an apostrophe
    (``it's``) or a ``#`` needs no quoting; quotes around the whole text are removed.
    """
    target, _, rest = (line or "").strip().partition(" ")
    target = " ".join(split_line(target)) if target else ""
    if not target:
        note_parser().error("the following arguments are required: target")
    text = rest.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"" and text.count(text[0]) == 2:
        text = text[1:-1]
    return SimpleNamespace(target=target, text=text)


@parsed_with(note_parser, parse_note)
def handle_note(magics: Any, ns: Any) -> Report:
    """Write the note (when text is given), then show the item's notes."""
    from ...core.notes import note, notes, parse_target
    from ...core.store import open_store
    from ...core.views.audit import notes_table

    store = open_store()
    resolved = parse_target(ns.target, store)
    if ns.text:
        note(ns.target, ns.text, store=store)
    found = notes(ns.target, store=store)
    return table_report([n.to_dict() for n in found], notes_table(resolved.label, found))
