"""SVG badges for Marketplace listings: self-contained, readable, and safe to embed anywhere.

A badge is two boxes of text ("Security policy | v1.0 · 1 July 2025"). It is written exactly as
ElementTree would write it, so every text is escaped; it uses presentation attributes only (no ``<style>``, no
``style=``, no script, no link, no external font), so it renders the same inside an ``<img>`` on
any site and under the trust site's own Content Security Policy. Text widths are estimated from
Verdana's advance widths and pinned with ``textLength``, so the text fits its box in any font.
"""

from __future__ import annotations

from dataclasses import dataclass

SVG_NS = "http://www.w3.org/2000/svg"
HEIGHT = 20
FONT_SIZE = 11
PADDING = 6
FONT_FAMILY = "Verdana,DejaVu Sans,Geneva,sans-serif"
TEXT_COLOUR = "#ffffff"
LABEL_COLOUR = "#3d4451"
# Message colours, each at least 4.5:1 against white text (WCAG 2.1 AA for small text); tests check it.
COLOURS = {"ok": "#1a6b3c", "info": "#1f5aa6", "warn": "#8a4600"}

# Verdana advance widths in thousandths of an em, for printable ASCII (space to tilde).
_ASCII_WIDTHS = (
    352, 394, 459, 818, 636, 1076, 727, 269, 454, 454, 636, 818, 364, 454, 364, 454,
    636, 636, 636, 636, 636, 636, 636, 636, 636, 636, 454, 454, 818, 818, 818, 545,
    1000, 684, 686, 698, 771, 632, 575, 775, 751, 421, 455, 693, 557, 843, 748, 787,
    603, 787, 695, 684, 616, 732, 684, 989, 685, 615, 685, 454, 454, 454, 818, 636,
    636, 601, 623, 521, 623, 596, 352, 623, 633, 274, 344, 592, 274, 973, 633, 607,
    623, 623, 427, 521, 394, 633, 592, 818, 592, 592, 525, 635, 454, 635, 818,
)


def text_width(text: str, size: int = FONT_SIZE) -> int:
    """Estimated rendered width in pixels; wide (CJK) characters count as one em."""
    total = 0
    for char in text:
        code = ord(char)
        if 32 <= code <= 126:
            total += _ASCII_WIDTHS[code - 32]
        elif char == "\u00b7":
            total += 364
        elif code >= 0x1100 and (0x1100 <= code <= 0x115F or 0x2E80 <= code <= 0xA4CF or 0xAC00 <= code <= 0xD7A3 or 0xF900 <= code <= 0xFAFF or 0xFF00 <= code <= 0xFF60):
            total += 1000
        else:
            total += 636
    return round(total * size / 1000)


@dataclass(frozen=True)
class Badge:
    label: str
    message: str
    tone: str = "info"  # a key of COLOURS

    @property
    def title(self) -> str:
        """The accessible name, also the alt text of the snippets: "Security policy: v1.0 · 1 July 2025"."""
        return f"{self.label}: {self.message}"

    @property
    def label_width(self) -> int:
        return text_width(self.label) + 2 * PADDING

    @property
    def message_width(self) -> int:
        return text_width(self.message) + 2 * PADDING

    @property
    def width(self) -> int:
        return self.label_width + self.message_width


def badge_svg(badge: Badge) -> bytes:
    """The badge as a standalone SVG document (UTF-8, with an XML declaration).

    Written as ElementTree writes it (``ET.tostring(svg, encoding="utf-8", xml_declaration=True)``),
    byte for byte and with its escaping, without its per-call overhead: the Marketplace kit has a
    badge per app. tests/test_generators_memo.py checks the two agree on hostile text.
    """
    lw, mw = badge.label_width, badge.message_width
    width, title = lw + mw, badge.title
    svg = (
        f'<svg xmlns="{SVG_NS}" width="{width}" height="{HEIGHT}" viewBox="0 0 {width} {HEIGHT}" role="img" aria-label="{_escape_attribute(title)}">'
        f"<title>{_escape_text(title)}</title>"
        f'<rect width="{width}" height="{HEIGHT}" rx="3" fill="{COLOURS[badge.tone]}" />'
        f'<rect width="{lw}" height="{HEIGHT}" rx="3" fill="{LABEL_COLOUR}" />'
        f'<rect x="{lw - 3}" width="3" height="{HEIGHT}" fill="{LABEL_COLOUR}" />'
        f'<g fill="{TEXT_COLOUR}" font-family="{FONT_FAMILY}" font-size="{FONT_SIZE}" text-anchor="middle">'
        f"{_text(lw / 2, badge.label, lw)}{_text(lw + mw / 2, badge.message, mw)}</g></svg>"
    )
    return ("<?xml version='1.0' encoding='utf-8'?>\n" + svg + "\n").encode("utf-8", "xmlcharrefreplace")


def _text(x: float, text: str, box: int) -> str:
    start = f'<text x="{_number(x)}" y="14" textLength="{box - 2 * PADDING}" lengthAdjust="spacingAndGlyphs"'
    return f"{start}>{_escape_text(text)}</text>" if text else start + " />"  # ElementTree closes an empty element in itself


def _escape_text(text: str) -> str:
    """ElementTree's escaping of character data."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _escape_attribute(text: str) -> str:
    """ElementTree's escaping of attribute values: character data's, quotes, and CR, LF and tab as references."""
    text = _escape_text(text)
    for char, reference in (('"', "&quot;"), ("\r", "&#13;"), ("\n", "&#10;"), ("\t", "&#09;")):
        if char in text:
            text = text.replace(char, reference)
    return text


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:.1f}"


def relative_luminance(colour: str) -> float:
    """WCAG 2.1 relative luminance of a #rrggbb colour."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2.1 contrast ratio, from 1 to 21."""
    a, b = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (a + 0.05) / (b + 0.05)
