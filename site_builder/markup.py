"""Markdown to safe HTML: Python-Markdown for structure, nh3 for safety, ids kept stable."""

from __future__ import annotations

import html as html_module
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Literal

import markdown
import nh3
from markdown.extensions.toc import slugify_unicode

from .model import Heading
from .source import CONTROL_CHARACTER

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


# Limits that keep hostile Markdown from exhausting time: Python-Markdown recurses once per level of
# nesting and rescans the rest of a paragraph for every '[', '](' or '<' that does not close.
MAX_NESTING = 16  # list, quote and indentation levels
MAX_INLINE_WORK = 400_000  # characters rescanned in total: well under a second of rendering
MAX_CHAINED_DEFINITIONS = 200  # ': definition' lines in one block: def_list recurses once per definition
_PREFIX = re.compile(r"^[ \t>]*")
_INLINE_TOKENS = re.compile(r"\\.|[\[\]()<>]")
# attributes whose value is a URL, in any element an author might paste
_URL_ATTRIBUTES = frozenset({"href", "src", "srcset", "action", "formaction", "poster", "background", "cite", "data", "xlink:href", "longdesc", "manifest", "ping"})
_CODE_SCHEMES = {"javascript": "can run code in the reader's browser", "vbscript": "can run code in the reader's browser", "data": "can carry a whole hidden page or script"}
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")
# where a URL is written in Markdown: [text](URL, <URL>, [ref]: URL, or an attribute="URL"
_URL_CONTEXT = r"(?:\]\(\s*<?|<|^[ ]{0,3}\[[^\]]+\]:[ \t]*<?|\b[\w:-]+\s*=\s*[\"']?)"


@dataclass(frozen=True)
class MarkupIssue:
    """Something in a Markdown body the author should hear about: what was removed, or why it cannot render."""

    line: int  # 1-based within the Markdown text; 0 when it cannot be placed
    message: str
    hint: str
    severity: Literal["error", "warning"] = "warning"
    column: int = 0


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
    )
    return _IMG_TAG.sub(_img_without_src, _A_TAG.sub(_a_without_href, cleaned))


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
    too_complex = control_character_issue(text) or complexity_issue(text)
    if too_complex is not None:
        return RenderedMarkdown("", (), (), (too_complex,))
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
    return RenderedMarkdown(sanitize(html), headings, demoted, removed_markup(html, text))


def control_character_issue(text: str) -> MarkupIssue | None:
    """An invisible control character (from a copy and paste, a bad conversion) is not allowed in a web page."""
    found = CONTROL_CHARACTER.search(text)
    if found is None:
        return None
    start = found.start()
    line_start = text.rfind("\n", 0, start) + 1
    return MarkupIssue(text.count("\n", 0, start) + 1, f"contains the control character U+{ord(found.group()):04X}", "remove it; it is invisible and not allowed in a web page", "error", column=start - line_start + 1)


def complexity_issue(text: str) -> MarkupIssue | None:
    """An error when the text would nest or rescan beyond the limits; checked in one linear pass.

    Fenced code is checked like any text (an unclosed fence is no fence to Python-Markdown), which
    can only overestimate: code rarely nests 16 levels or leaves brackets open.
    """
    block_start, block_lines, work, worst, definitions = 1, [], 0, (0, 1), 0
    for number, line in enumerate(text.split("\n") + [""], start=1):
        prefix = _PREFIX.match(line).group(0)  # type: ignore[union-attr]
        if prefix.count(">") > MAX_NESTING or len(prefix.replace(">", "").expandtabs(4)) > 4 * MAX_NESTING:
            return MarkupIssue(number, f"is nested more than {MAX_NESTING} levels deep (lists, quotes or indentation)", "use fewer levels of nesting", "error", column=1)
        if line.strip():
            block_lines.append(line)
            definitions += line.startswith(":")
            if definitions > MAX_CHAINED_DEFINITIONS:
                return MarkupIssue(block_start, f"has more than {MAX_CHAINED_DEFINITIONS} definitions without a blank line between them", "put a blank line between definitions", "error", column=1)
            continue
        if block_lines:
            cost = _inline_work("\n".join(block_lines))
            work += cost
            worst = max(worst, (cost, block_start))
        block_start, block_lines, definitions = number + 1, [], 0
        if work > MAX_INLINE_WORK:
            return MarkupIssue(worst[1], "has too many nested or unclosed '[', '(' or '<' to render in reasonable time", "close each bracket, or write \\[ \\( \\< for a literal one", "error", column=1)
    return None


def _inline_work(block: str) -> int:
    """How many characters Python-Markdown rescans: every '[', '](' and '<' reads on to its closing partner."""
    end = len(block)
    work = 0
    brackets: list[int] = []
    parens: list[tuple[int, bool]] = []
    angles: list[int] = []
    for match in _INLINE_TOKENS.finditer(block):
        char, at = match.group(0), match.start()
        if char == "[":
            brackets.append(at)
        elif char == "]":
            work += at - brackets.pop() if brackets else 0
        elif char == "(":
            parens.append((at, at > 0 and block[at - 1] == "]"))
        elif char == ")":
            start, link = parens.pop() if parens else (at, False)
            work += at - start if link else 0
        elif char == "<":
            if at + 1 < end and (block[at + 1].isalpha() or block[at + 1] in "/!?"):
                angles.append(at)
        elif char == ">":
            work += sum(at - start for start in angles)
            angles.clear()
    work += sum(end - at for at in brackets) + sum(end - at for at, link in parens if link) + sum(end - at for at in angles)
    return work


class _Finder(HTMLParser):
    """Lists what ``sanitize`` will remove from Python-Markdown's output, so the author can be told."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str, str]] = []  # (kind, name, value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.found.append(("element", tag, ""))
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(("handler", name, ""))
            elif name == "style":
                self.found.append(("style", name, ""))
            elif name in _URL_ATTRIBUTES and value is not None and tag in ALLOWED_TAGS:
                url = _CONTROL.sub("", value)
                scheme = _SCHEME.match(url)
                if scheme and scheme.group(1).lower() not in URL_SCHEMES:
                    self.found.append(("url", tag, value.strip()))

    handle_startendtag = handle_starttag


def removed_markup(html: str, text: str) -> tuple[MarkupIssue, ...]:
    """Warnings for each element, attribute and URL the sanitizer drops, placed on its Markdown line."""
    finder = _Finder()
    finder.feed(html)
    finder.close()
    lines = _Lines(text)
    issues: list[MarkupIssue] = []
    for kind, name, value in finder.found:
        if kind == "element":
            line, column = lines.find(f"element:{name}", re.compile(rf"<{re.escape(name)}(?![\w:-])", re.IGNORECASE))
            content = " with its content" if name in ("script", "style") else ""
            issues.append(MarkupIssue(line, f"HTML element <{name}> is removed{content}", "only simple formatting HTML is allowed in Markdown; the site runs no scripts and embeds nothing", column=column))
        elif kind == "handler":
            line, column = lines.find(f"attribute:{name}", re.compile(rf"\b{re.escape(name)}\s*=", re.IGNORECASE))
            issues.append(MarkupIssue(line, f"event handler attribute {name}= is removed", "the site runs no scripts; remove the attribute", column=column))
        elif kind == "style":
            line, column = lines.find("attribute:style", re.compile(r"\bstyle\s*=", re.IGNORECASE))
            issues.append(MarkupIssue(line, "style= attribute is removed", "the site's Content-Security-Policy forbids inline styles; remove the attribute", column=column))
        else:
            scheme = _SCHEME.match(_CONTROL.sub("", value)).group(1).lower()  # type: ignore[union-attr]
            tail = value.partition(":")[2]
            line, column = lines.find(f"url:{value}", re.compile(_URL_CONTEXT + "(" + re.escape(value) + ")", re.IGNORECASE | re.MULTILINE))
            if not line:
                line, column = lines.find(f"url-anywhere:{value}", re.compile(re.escape(value), re.IGNORECASE))
            if not line and len(tail) >= 4:  # written with entities or escapes: find what follows the scheme
                line, column = lines.find(f"url-tail:{tail}", re.compile(re.escape(tail)))
                column = 0
            what = "image" if name == "img" else "link to"
            shown = value if len(value) <= 60 else value[:57] + "..."
            if scheme in _CODE_SCHEMES:
                issues.append(MarkupIssue(line, f"{what} {shown!r} is removed: {scheme}: URLs {_CODE_SCHEMES[scheme]}", "use an https:// or relative address instead", column=column))
            else:
                issues.append(MarkupIssue(line, f"{what} {shown!r} is removed: only https: and mailto: URLs are allowed", "write the address as https://...", column=column))
    return tuple(issues)


class _Lines:
    """Finds the Markdown line of the n-th occurrence of something in the rendered HTML."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.cursors: dict[str, int] = {}
        self.floor = 0  # findings come in document order: look from the line of the previous one first

    def find(self, key: str, pattern: re.Pattern[str]) -> tuple[int, int]:
        """(line, column) of the next match after the previous one for ``key``; (0, 0) when there is none."""
        cursor = self.cursors.get(key, 0)
        match = pattern.search(self.text, max(cursor, self.floor)) or pattern.search(self.text, cursor)
        if match is None:
            return 0, 0
        self.cursors[key] = match.end()
        start = match.start(match.lastindex or 0)  # the group that holds the thing itself, when there is one
        line_start = self.text.rfind("\n", 0, start) + 1
        self.floor = line_start
        return self.text.count("\n", 0, start) + 1, start - line_start + 1


def _flatten(tokens: list[dict]) -> list[Heading]:
    result: list[Heading] = []
    for token in tokens:
        result.append(Heading(max(3, int(token["level"])), nh3.clean(token["name"], tags=set()), token["id"]))
        result.extend(_flatten(token.get("children", [])))
    return result


def inline_text(text: str) -> str:
    """Text from YAML shown as a paragraph: escaped by Jinja, so here only whitespace is tidied."""
    return " ".join(text.split())
