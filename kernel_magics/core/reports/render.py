"""Writing a report or a model card: Jinja2 templates to one HTML file, or Markdown plus images.

HTML is self-contained: the CSS is inline, charts are ``data:`` URIs, and any link or image
source pointing off the machine (a URL written in a notebook's markdown) is turned into plain
text, so the file opens the same with no network and leaks no request when it does. Markdown,
for a pull request or a wiki, writes its charts as SVG files in ``<name>_files/`` next to it and
links them relatively (GitHub and most wikis show committed relative images).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import ValidationError
from .charts import Chart

#: Output formats, and the file suffixes that imply them.
FORMATS = ("html", "md")
_SUFFIXES = {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md"}

#: ``src=``, ``href=``, ``action=``, ``poster=`` and ``srcset=`` attributes naming another host
#: (``https://``, ``http://`` or protocol-relative ``//``).
_EXTERNAL_ATTR = re.compile(
    r"""\s(src|href|action|poster|srcset)\s*=\s*(["'])\s*(?:https?:)?//[^"']*\2""", re.I
)
_EXTERNAL_CSS_URL = re.compile(r"""url\(\s*(["']?)\s*(?:https?:)?//[^)]*\)""", re.I)


@dataclass
class Document:
    """What a report or a card renders: its templates, their context and its charts.

    Attributes
    ----------
    kind : str
        The template pair's name: ``report`` renders ``report.html.j2`` / ``report.md.j2``.
    title : str
    context : dict
        Handed to the template (plus ``title`` and ``charts``).
    charts : dict of str to Chart
        By :attr:`Chart.name`; templates place them with ``chart(name)``.
    """

    kind: str
    title: str
    context: dict[str, Any]
    charts: dict[str, Chart] = field(default_factory=dict)

    def add_chart(self, chart: Chart) -> str:
        """Keep ``chart`` (its name made unique) and return the name templates refer to."""
        name, n = chart.name, 2
        while name in self.charts:
            name, n = f"{chart.name}-{n}", n + 1
        self.charts[name] = Chart(name, chart.title, chart.svg)
        return name


@functools.cache
def _environment(markdown: bool):
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("kernel_magics.core.reports", "templates"),
        autoescape=not markdown,
        undefined=jinja2.StrictUndefined,  # a misspelt field fails the test, not the reader
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md_cell"] = md_cell
    return env


def md_cell(text: Any) -> str:
    """A value safe inside a Markdown table cell (pipes escaped, one line)."""
    return " ".join(str("" if text is None else text).split()).replace("|", "\\|")


def format_for(output: str | Path, format: str | None) -> str:
    """The format to write: ``format`` when given, else the one ``output``'s suffix implies.

    Raises
    ------
    ValidationError
        For an unknown format, or a suffix that implies none when no format is given.
    """
    if format is not None:
        if format not in FORMATS:
            raise ValidationError(f"Unknown format {format!r}: use --format html or --format md.")
        return format
    found = _SUFFIXES.get(Path(output).suffix.lower())
    if found is None:
        raise ValidationError(
            f"Cannot tell the format from {Path(output).name!r}: name the file .html or .md, "
            "or pass --format html|md."
        )
    return found


def strip_external_urls(html: str) -> str:
    """Drop attributes and CSS ``url()`` values that point at another host.

    A link's text (or an image's ``alt``) stays, so the reader still sees what was written;
    only the request the browser would make is gone.
    """
    html = _EXTERNAL_ATTR.sub("", html)
    return _EXTERNAL_CSS_URL.sub("none", html)


def render_html(doc: Document) -> str:
    """The document as one self-contained HTML page."""
    from .notebook_html import highlight_css

    charts = {name: c.data_uri() for name, c in doc.charts.items()}
    template = _environment(False).get_template(f"{doc.kind}.html.j2")
    page = template.render(
        **doc.context,
        title=doc.title,
        chart_uri=charts.__getitem__,
        chart_title=lambda name: doc.charts[name].title,
        highlight_css=highlight_css(),
    )
    return strip_external_urls(page)


def render_markdown(doc: Document, image_dir: str | None) -> str:
    """The document as Markdown; charts link to ``image_dir/<name>.svg`` (omitted when None)."""
    template = _environment(True).get_template(f"{doc.kind}.md.j2")

    def chart_link(name: str) -> str:
        title = doc.charts[name].title
        if image_dir is None:
            return f"*(chart {title!r} left out: Markdown written to standard output)*"
        return f"![{title}]({image_dir}/{name}.svg)"

    return template.render(**doc.context, title=doc.title, chart_link=chart_link)


def write_document(doc: Document, output: str | Path, format: str | None = None) -> list[Path]:
    """Write ``doc`` to ``output`` as HTML or Markdown; return every file written.

    Parameters
    ----------
    doc : Document
    output : str or Path
        The file to write (its folder must exist).
    format : {"html", "md"}, optional
        From ``output``'s suffix when omitted.

    Raises
    ------
    ValidationError
        For an unknown format, or a folder that does not exist (before anything is drawn).
    """
    fmt = format_for(output, format)
    path = Path(output)
    if not path.parent.is_dir():
        raise ValidationError(
            f"The folder {str(path.parent)!r} does not exist: create it, or write elsewhere."
        )
    if fmt == "html":
        path.write_text(render_html(doc), encoding="utf-8")
        return [path]
    image_dir = f"{path.stem}_files"
    written = []
    if doc.charts:
        folder = path.parent / image_dir
        folder.mkdir(exist_ok=True)
        for name, chart in doc.charts.items():
            target = folder / f"{name}.svg"
            target.write_bytes(chart.svg)
            written.append(target)
    path.write_text(render_markdown(doc, image_dir), encoding="utf-8")
    return [path, *written]
