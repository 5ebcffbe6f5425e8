"""Markdown to safe HTML: Python-Markdown for structure, nh3 for safety, ids kept stable."""

from __future__ import annotations

import re
from dataclasses import dataclass

import markdown
import nh3
from markdown.extensions.toc import slugify_unicode

from .model import Heading

EXTENSIONS = ["tables", "toc", "attr_list", "def_list", "footnotes", "fenced_code"]

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h3", "h4", "h5", "h6",
    "hr", "i", "img", "ins", "kbd", "li", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strong", "sub",
    "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {
    "*": {"id", "title", "lang"},
    "a": {"href", "class"},
    "img": {"src", "alt", "width", "height"},
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
    "ol": {"start"},
    "div": {"class"},
    "code": {"class"},
    "sup": {"class"},
}
URL_SCHEMES = {"https", "mailto"}
_DEMOTE = re.compile(r"<(/?)h([12])\b")


@dataclass(frozen=True)
class RenderedMarkdown:
    html: str
    headings: tuple[Heading, ...]
    demoted_levels: tuple[int, ...]


def sanitize(html: str) -> str:
    """The one gate every piece of author HTML passes: no script, no on*, no javascript:/data: URLs."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def render_markdown(text: str, *, id_prefix: str) -> RenderedMarkdown:
    """Render a section body; heading and footnote ids are prefixed so sections never collide."""

    def slugify(value: str, separator: str) -> str:
        return f"{id_prefix}{separator}{slugify_unicode(value, separator)}"

    converter = markdown.Markdown(
        extensions=EXTENSIONS,
        extension_configs={
            "toc": {"slugify": slugify, "toc_depth": "1-6"},
            "tables": {"use_align_attribute": True},
            "footnotes": {"BACKLINK_TITLE": "Back to reference %d"},
        },
        output_format="html",
    )
    html = converter.convert(text)
    html = html.replace('id="fn:', f'id="{id_prefix}-fn-').replace('href="#fn:', f'href="#{id_prefix}-fn-')
    html = html.replace('id="fnref:', f'id="{id_prefix}-fnref-').replace('href="#fnref:', f'href="#{id_prefix}-fnref-')
    html = html.replace('id="fnref2:', f'id="{id_prefix}-fnref2-').replace('href="#fnref2:', f'href="#{id_prefix}-fnref2-')
    demoted = tuple(sorted({int(level) for _, level in _DEMOTE.findall(html)}))
    html = _DEMOTE.sub(r"<\1h3", html)
    headings = tuple(_flatten(converter.toc_tokens))  # type: ignore[attr-defined]
    return RenderedMarkdown(sanitize(html), headings, demoted)


def _flatten(tokens: list[dict]) -> list[Heading]:
    result: list[Heading] = []
    for token in tokens:
        result.append(Heading(max(3, int(token["level"])), nh3.clean(token["name"], tags=set()), token["id"]))
        result.extend(_flatten(token.get("children", [])))
    return result


def inline_text(text: str) -> str:
    """Text from YAML shown as a paragraph: escaped by Jinja, so here only whitespace is tidied."""
    return " ".join(text.split())
