"""Markdown to safe HTML: Python-Markdown for structure, nh3 for safety, ids kept stable."""

from __future__ import annotations

import html as html_module
import re
from dataclasses import dataclass

import markdown
import nh3
from markdown.extensions.toc import slugify_unicode

from .markdown_checks import MarkupIssue, complexity_issue, control_character_issue, is_remote, removed_markup
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
    "th": {"colspan", "rowspan", "scope", "class"},
    "td": {"colspan", "rowspan", "class"},
    "ol": {"start"},
    "div": {"class"},
    "code": {"class"},
    "sup": {"class"},
}
URL_SCHEMES = {"https", "mailto"}
_DEMOTE = re.compile(r"<(/?)h([12])\b")
# a table column's alignment (|---:|): the obsolete align attribute becomes a class the theme styles
_ALIGN = re.compile(r'(<t[hd]\b[^>]*?) align="(left|right|center)"')
# nh3 writes every attribute value in double quotes (a quote inside is &quot;), so these match whole tags
_A_TAG = re.compile(r'<a(?:\s+[\w:-]+="[^"]*")*>')
_IMG_TAG = re.compile(r'<img(?:\s+[\w:-]+="[^"]*")*>')
_ALT = re.compile(r'\salt="([^"]*)"')


@dataclass(frozen=True)
class RenderedMarkdown:
    html: str
    headings: tuple[Heading, ...]
    demoted_levels: tuple[int, ...]
    issues: tuple[MarkupIssue, ...] = ()


def sanitize(html: str) -> str:
    """The one gate every piece of author HTML passes: no script, no on*, no javascript:/data: URLs."""
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
        attribute_filter=_local_images_only,
    )
    return _IMG_TAG.sub(_img_without_src, _A_TAG.sub(_a_without_href, cleaned))


def _local_images_only(element: str, attribute: str, value: str) -> str | None:
    """Images load from the site itself: a remote src would be a third-party request (and CSP blocks it)."""
    if element == "img" and attribute == "src" and is_remote(value):
        return None
    return value


def _a_without_href(match: re.Match[str]) -> str:
    """A link whose URL was removed keeps its text but not rel, which HTML allows only with href."""
    tag = match.group(0)
    return tag if ' href="' in tag else tag.replace(' rel="noopener noreferrer"', "")


def _img_without_src(match: re.Match[str]) -> str:
    """An image whose URL was removed is invalid HTML; its alt text says what it was."""
    tag = match.group(0)
    if ' src="' in tag:
        return tag
    alt = _ALT.search(tag)
    return html_module.escape(html_module.unescape(alt.group(1)), quote=False) if alt else ""


def render_markdown(text: str, *, id_prefix: str) -> RenderedMarkdown:
    """Render a section body; heading and footnote ids are prefixed so sections never collide.

    Text the renderer cannot take safely (control characters, nesting or unclosed brackets over the
    limits) renders as nothing, with an error in ``issues``; what the sanitizer removes is a warning there.
    """
    refused = control_character_issue(text) or complexity_issue(text)
    if refused is not None:
        return RenderedMarkdown("", (), (), (refused,))

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
    try:
        html = converter.convert(text)
    except RecursionError:  # nesting the line-based limits do not see, e.g. a long chain of definitions
        return RenderedMarkdown("", (), (), (MarkupIssue(0, "is nested too deeply to render", "split long lists and definition lists with blank lines or headings", "error"),))
    html = html.replace('id="fn:', f'id="{id_prefix}-fn-').replace('href="#fn:', f'href="#{id_prefix}-fn-')
    html = html.replace('id="fnref:', f'id="{id_prefix}-fnref-').replace('href="#fnref:', f'href="#{id_prefix}-fnref-')
    html = html.replace('id="fnref2:', f'id="{id_prefix}-fnref2-').replace('href="#fnref2:', f'href="#{id_prefix}-fnref2-')
    demoted = tuple(sorted({int(level) for _, level in _DEMOTE.findall(html)}))
    html = _DEMOTE.sub(r"<\1h3", html)
    html = _ALIGN.sub(r'\1 class="align-\2"', html)
    headings = tuple(_flatten(converter.toc_tokens))  # type: ignore[attr-defined]
    return RenderedMarkdown(sanitize(html), headings, demoted, removed_markup(html, text, frozenset(ALLOWED_TAGS), frozenset(URL_SCHEMES)))


def _flatten(tokens: list[dict]) -> list[Heading]:
    result: list[Heading] = []
    for token in tokens:
        result.append(Heading(max(3, int(token["level"])), nh3.clean(token["name"], tags=set()), token["id"]))
        result.extend(_flatten(token.get("children", [])))
    return result


def inline_text(text: str) -> str:
    """Text from YAML shown as a paragraph: escaped by Jinja, so here only whitespace is tidied."""
    return " ".join(text.split())
