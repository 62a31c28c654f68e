"""``%mlops models``: registered models, one model's versions or alias history, one version.

The tables are :mod:`kernel_magics.core.views.models` (the ones ``mlops models`` prints); each
handler returns a :class:`~kernel_magics.kernel.widgets.report.Report` whose ``.data`` holds the
records as dicts.
"""

from __future__ import annotations

from typing import Any

from ..parsers import MagicArgumentParser, parsed_with
from ..widgets.report import Report, page_html, page_text, table_report


def models_parser() -> MagicArgumentParser:
    """Build the parser of ``%mlops models``."""
    p = MagicArgumentParser(
        prog="%mlops models", description="Registered models, one model's versions, or a version."
    )
    p.add_argument("ref", nargs="?", help="churn (its versions), churn/3 or churn@production.")
    p.add_argument("--history", action="store_true", help="Show the model's alias history.")
    return p


@parsed_with(models_parser)
def handle_models(magics: Any, ns: Any) -> Report:
    """List models, a model's versions (with ``--history``) or one version's details."""
    from ...core import registry
    from ...core.views import models as views

    if ns.ref is None:
        models = registry.list_models()
        return table_report([m.to_dict() for m in models], views.models_table(models))
    ref = registry.parse_ref(ns.ref)
    if ns.history:
        moves = registry.alias_history(ref.name, ref.alias)
        return table_report(
            [m.to_dict() for m in moves], views.alias_history_table(ref.name, moves)
        )
    if ref.version is None and ref.alias is None:
        versions = registry.list_model_versions(ref.name)
        return table_report(
            [v.to_dict() for v in versions], views.versions_table(ref.name, versions)
        )
    version = registry.get_model_version(str(ref))
    lineage = registry.model_lineage(version.ref)
    view = views.version_view(version, lineage)
    return Report({**version.to_dict(), "lineage": lineage}, page_html(view), page_text(view))
