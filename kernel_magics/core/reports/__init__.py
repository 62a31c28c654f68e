"""Reports and model cards: what a reviewer, a manager or an auditor gets in one file.

:func:`run_report` and :func:`leaderboard_report` build a run report (``mlops report``,
``%mlops report``); :func:`card_facts` a model version's card (``mlops models card``);
:func:`write_document` writes either as self-contained HTML or as Markdown with images next to it.
The facts come from :mod:`kernel_magics.core.compare`, the registry and monitoring; the tables
from :mod:`kernel_magics.core.views`; the layout from the Jinja2 templates in ``templates/``.
"""

from __future__ import annotations

from ..lazy import lazy_getattr

_LAZY = {
    **dict.fromkeys(["leaderboard_report", "run_report"], ".runs"),
    **dict.fromkeys(["card_document", "card_facts", "update_card"], ".model_card"),
    **dict.fromkeys(["Document", "format_for", "write_document"], ".render"),
}

__all__ = sorted(_LAZY)

# Lazy: matplotlib, Jinja2 and nbconvert load only when a report is made.
__getattr__ = lazy_getattr(__name__, _LAZY)
