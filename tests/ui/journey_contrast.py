"""WCAG contrast of text as the user sees it, for the browser journeys.

Like ``contrast`` in test_compare_view.py, but the background is the one behind the element:
the first ancestor (or the element itself) with a background colour, with semi-transparent
backgrounds and a semi-transparent text colour blended over what lies under them. A box with
no background of its own (a dialog's table cell, a status line) is then measured on the
dialog's or panel's colour instead of on "transparent".
"""

from __future__ import annotations

#: WCAG 2 AA for normal-size text.
AA = 4.5

_SCRIPT = """el => {
  // rgb()/rgba() in 0-255, or color(srgb r g b / a) in 0-1 (what color-mix() computes to)
  const parse = c => {
    const v = c.match(/[\\d.]+/g).map(Number);
    const rgb = c.startsWith('color(') ? v.slice(0, 3).map(x => x * 255) : v.slice(0, 3);
    const alpha = c.startsWith('color(') ? (c.includes('/') ? v[3] : 1) : (v.length > 3 ? v[3] : 1);
    return [...rgb, alpha];
  };
  const over = ([r, g, b, a], [R, G, B]) =>
    [r * a + R * (1 - a), g * a + G * (1 - a), b * a + B * (1 - a)];
  const layers = [];
  for (let node = el; node; node = node.parentElement) {
    const c = parse(getComputedStyle(node).backgroundColor);
    if (c[3] > 0) {
      layers.push(c);
      if (c[3] >= 1) break;
    }
  }
  let background = [255, 255, 255];  // the canvas under everything
  for (const layer of layers.reverse()) background = over(layer, background);
  const text = over(parse(getComputedStyle(el).color), background);
  const lum = ([r, g, b]) => {
    const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const [a, b] = [lum(text), lum(background)];
  return {
    ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05),
    text: text.map(Math.round), background: background.map(Math.round),
  };
}"""


def contrast(locator) -> dict:
    """The contrast of ``locator``'s (first element's) text on what is behind it.

    Returns ``{"ratio": float, "text": [r, g, b], "background": [r, g, b]}``.
    """
    return locator.first.evaluate(_SCRIPT)


def unreadable(locators: dict) -> dict:
    """The named locators whose text contrast is under :data:`AA`, with what was measured."""
    measured = {name: contrast(loc) for name, loc in locators.items()}
    return {name: m for name, m in measured.items() if m["ratio"] < AA}
