"""Find every URL an HTML page would make the browser fetch or follow."""

from __future__ import annotations

import re
from html.parser import HTMLParser

URL_ATTRIBUTES = ("src", "href", "srcset", "action", "poster", "data")
_CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)")


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.scripts: list[dict] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "script":
            self.scripts.append(values)
        self._in_style = tag == "style"
        for name, value in attrs:
            if name in URL_ATTRIBUTES and value:
                self.urls.append(value.strip())
            if name == "style" and value:
                self.urls += _CSS_URL.findall(value)

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.urls += _CSS_URL.findall(data)


def page_urls(html: str) -> tuple[list[str], list[dict]]:
    """``(urls, script tags)``: every src/href/url() value, and each ``<script>``'s attributes."""
    collector = _Collector()
    collector.feed(html)
    return collector.urls, collector.scripts


def external(urls: list[str]) -> list[str]:
    """The URLs that leave the file: http(s) and protocol-relative ones."""
    return [u for u in urls if re.match(r"(?i)^(https?:)?//", u)]
