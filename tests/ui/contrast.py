"""Readability checks for the browser tests: WCAG contrast of an element, and theme switching."""

from __future__ import annotations

import re

#: The text colour and the colour actually behind it: the first ancestor with a background,
#: composited with alpha (color-mix() computes to ``color(srgb r g b)``, in 0-1).
_CONTRAST_JS = """el => {
  const parse = c => {
    const v = (c.match(/[\\d.]+/g) || []).map(Number);
    const srgb = c.startsWith('color(');
    const rgb = v.slice(0, 3).map(x => (srgb ? x * 255 : x));
    const alpha = c.includes('/') || c.startsWith('rgba') ? (v[3] ?? 1) : 1;
    return [...rgb, alpha];
  };
  const over = ([r, g, b, a], [R, G, B]) =>
    [r * a + R * (1 - a), g * a + G * (1 - a), b * a + B * (1 - a)];
  const layers = [];
  for (let node = el; node; node = node.parentElement) {
    const bg = parse(getComputedStyle(node).backgroundColor);
    if (bg[3] > 0) {
      layers.push(bg);
      if (bg[3] >= 1) break;
    }
  }
  let bg = [255, 255, 255];
  for (const layer of layers.reverse()) bg = over(layer, bg);
  const fg = over(parse(getComputedStyle(el).color), bg);
  const lum = ([r, g, b]) => {
    const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const [a, b] = [lum(fg), lum(bg)];
  return {
    ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05),
    text: fg.map(Math.round), background: bg.map(Math.round),
  };
}"""

#: WCAG 2 AA for normal-size text.
AA = 4.5


def contrast(locator) -> float:
    """WCAG contrast ratio of an element's text colour on the background it is painted on.

    Parameters
    ----------
    locator : playwright.sync_api.Locator
        The element (its first match).

    Returns
    -------
    float
        From 1 (invisible) to 21 (black on white); text needs 4.5 (WCAG AA).
    """
    return measure(locator)["ratio"]


def measure(locator) -> dict:
    """The contrast of ``locator``'s (first element's) text on what is behind it.

    Returns ``{"ratio": float, "text": [r, g, b], "background": [r, g, b]}``.
    """
    return locator.first.evaluate(_CONTRAST_JS)


def unreadable(locators: dict) -> dict:
    """The named locators whose text contrast is under :data:`AA`, with what was measured."""
    measured = {name: measure(loc) for name, loc in locators.items()}
    return {name: m for name, m in measured.items() if m["ratio"] < AA}


def switch_theme(page, name: str, timeout: float = 60_000) -> None:
    """Pick a theme in *Settings → Theme* (``"JupyterLab Dark"``) and wait until it is applied.

    The theme is a user setting: it outlives the page, so a test that switches to the dark
    theme switches back.
    """
    if page.evaluate("() => document.body.dataset.jpThemeName") == name:
        return
    before = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Settings$")).click()
    for label in ("Theme", name):
        item = page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{label}$")).first
        item.hover()
        item.click()
    page.wait_for_function(
        "([name, before]) => document.body.dataset.jpThemeName === name"
        " && getComputedStyle(document.body).backgroundColor !== before",
        arg=[name, before],
        timeout=timeout,
    )
