"""Checks on Markdown before and after rendering: what would exhaust the renderer, and what the sanitizer drops.

Python-Markdown is not built for hostile input: it recurses once per level of nesting and rereads
the rest of a paragraph for every '[', '](' or '<' that does not close, so a small file can keep it
busy for a very long time (see BENCHMARKS.md, 'Figures behind the code').
``complexity_issue`` measures both in one linear pass and refuses text over the limits.
``removed_markup`` lists each element, attribute and URL that ``sanitize`` will drop, placed on its
Markdown line, so the author hears about it instead of losing it silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Literal

from .source import CONTROL_CHARACTER

# Limits that keep hostile Markdown from exhausting time: Python-Markdown recurses once per level of
# nesting and rescans the rest of a paragraph for every '[', '](' or '<' that does not close.
MAX_NESTING = 16  # list, quote and indentation levels
MAX_INLINE_WORK = 400_000  # characters rescanned in total: rendering this much stays quick (see BENCHMARKS.md, 'Figures behind the code')
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


def is_remote(url: str) -> bool:
    """An absolute or protocol-relative address: a request to another origin if a page loaded it."""
    url = url.strip()
    return url.startswith("//") or bool(_SCHEME.match(url))


class _Finder(HTMLParser):
    """Lists what ``sanitize`` will remove from Python-Markdown's output, so the author can be told."""

    def __init__(self, allowed_tags: frozenset[str], url_schemes: frozenset[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.allowed_tags = allowed_tags
        self.url_schemes = url_schemes
        self.found: list[tuple[str, str, str]] = []  # (kind, name, value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.allowed_tags:
            self.found.append(("element", tag, ""))
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(("handler", name, ""))
            elif name == "style":
                self.found.append(("style", name, ""))
            elif name in _URL_ATTRIBUTES and value is not None and tag in self.allowed_tags:
                url = _CONTROL.sub("", value)
                scheme = _SCHEME.match(url)
                if scheme and scheme.group(1).lower() not in self.url_schemes:
                    self.found.append(("url", tag, value.strip()))
                elif tag == "img" and name == "src" and is_remote(url):
                    self.found.append(("remote-image", tag, value.strip()))

    handle_startendtag = handle_starttag


def removed_markup(html: str, text: str, allowed_tags: frozenset[str], url_schemes: frozenset[str]) -> tuple[MarkupIssue, ...]:
    """Warnings for each element, attribute and URL the sanitizer drops, placed on its Markdown line."""
    finder = _Finder(allowed_tags, url_schemes)
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
        elif kind == "remote-image":
            line, column = lines.find(f"url:{value}", re.compile(re.escape(value), re.IGNORECASE))
            shown = value if len(value) <= 60 else value[:57] + "..."
            issues.append(MarkupIssue(line, f"image {shown!r} from another site is removed: the trust site loads nothing from other origins", "copy the image into static/ and link it with a relative path", column=column))
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
