"""A stored notebook version rendered as HTML for a report, with nbconvert's exporter.

nbconvert's ``basic`` template gives the cells alone (no page, no scripts): the ``lab`` and
``classic`` templates load require.js and MathJax from a CDN, which a report that must open
offline cannot carry. Code is highlighted with pygments classes whose CSS the report inlines.
"""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def _exporter():
    from nbconvert import HTMLExporter

    # embed_images: attachments and local images become data: URIs, nothing to fetch later.
    return HTMLExporter(template_name="basic", embed_images=True, exclude_input_prompt=False)


def notebook_html(notebook: dict[str, Any]) -> str:
    """The cells of ``notebook`` (an nbformat dict) as an HTML fragment.

    Widget state and JavaScript outputs are dropped first: they would need the notebook's
    front end (and often a CDN) to show anything.
    """
    import nbformat

    node = nbformat.from_dict(notebook)
    node.metadata.pop("widgets", None)
    for cell in node.cells:
        for output in cell.get("outputs", []):
            data = output.get("data")
            if data:
                for mime in [m for m in data if "javascript" in m or "widget" in m]:
                    del data[mime]
    body, _ = _exporter().from_notebook_node(node)
    return body


@functools.cache
def highlight_css() -> str:
    """Pygments' CSS for the ``.highlight`` blocks nbconvert writes (empty without pygments)."""
    try:
        from pygments.formatters import HtmlFormatter
    except ImportError:
        return ""
    return HtmlFormatter(style="default").get_style_defs(".highlight")
