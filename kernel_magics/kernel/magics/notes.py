"""``%mlops note TARGET [TEXT]``: write a note on a run, a model version or a deployment.

The same API and table as ``mlops note`` (:mod:`kernel_magics.core.notes`,
:func:`kernel_magics.core.views.audit.notes_table`). Without TEXT it lists the notes; with
it, it writes one as the OS user and shows the item's notes with the new one last.
"""

from __future__ import annotations

from typing import Any

from ..parsers import MagicArgumentParser, parsed_with
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
        "text", nargs="*", help="The note (quote it, or write it unquoted to the line's end)."
    )
    return p


@parsed_with(note_parser)
def handle_note(magics: Any, ns: Any) -> Report:
    """Write the note (when text is given), then show the item's notes."""
    from ...core.notes import note, notes, parse_target
    from ...core.store import open_store
    from ...core.views.audit import notes_table

    store = open_store()
    resolved = parse_target(ns.target, store)
    if ns.text:
        note(ns.target, " ".join(ns.text), store=store)
    found = notes(ns.target, store=store)
    return table_report([n.to_dict() for n in found], notes_table(resolved.label, found))
