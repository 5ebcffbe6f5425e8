"""Check stage: reads a built site and reports what a security reviewer's tools would flag.

Each rule names the file, line and element. The site is read once: every page is parsed a single
time (per-page rules run then), and links between pages are resolved afterwards against the set
of files and the ids each page defines. Nothing here writes; the caller prints the problems.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator
from urllib.parse import unquote, urlsplit

from bs4 import BeautifulSoup, Tag

from .errors import Position, Problem, Problems
from .model import Edition, Project, Site
from .source import load_yaml
from .write import MARKER

if TYPE_CHECKING:
    from .apps import App

SECURITY_TXT = ".well-known/security.txt"
EXPIRY_WARNING_DAYS = 30

# Attributes whose value is one URL, and the elements on which that URL is fetched as a resource.
URL_ATTRIBUTES = ("href", "src", "action", "formaction", "cite", "data", "poster", "xlink:href")
RESOURCE_SRC = frozenset({"img", "script", "iframe", "frame", "embed", "audio", "video", "source", "track", "input"})
RESOURCE_LINK_RELS = frozenset({"stylesheet", "icon", "shortcut", "apple-touch-icon", "mask-icon", "preload", "modulepreload", "prefetch", "prerender", "manifest", "preconnect", "dns-prefetch"})
SVG_RESOURCES = frozenset({"image", "use", "feimage"})
HEADING = re.compile(r"^h([1-6])$")
CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"\s]*))\s*\)|@import\s+(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
EXPIRES_LINE = re.compile(r"^expires:[ \t]*(.*?)\s*$", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Reference:
    """A URL found in a file: where it is, what it is on, and whether the browser fetches it."""

    position: Position
    element: str
    url: str
    resource: bool


@dataclass(frozen=True)
class PageFacts:
    """What later rules need from a parsed page, so the parse tree can be dropped."""

    path: str
    ids: frozenset[str]
    references: tuple[Reference, ...]


@dataclass(frozen=True)
class SiteAddress:
    """Where the site is published, to recognise its own absolute and root-relative links."""

    base_url: str = ""

    @property
    def base_path(self) -> str:
        return (urlsplit(self.base_url).path or "/") if self.base_url else "/"

    @property
    def origin(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}".lower() if parts.netloc else ""


def describe(tag: Tag, attribute: str = "") -> str:
    """``<a href="apps/x/">``: the element as a reader finds it in the file, shortened."""
    text = f"<{tag.name}"
    if attribute and tag.has_attr(attribute):
        value = tag_value(tag, attribute)
        if len(value) > 80:
            value = value[:77] + "..."
        text += f' {attribute}="{value}"'
    elif tag.get("id"):
        text += f' id="{tag_value(tag, "id")}"'
    return text + ">"


def tag_value(tag: Tag, attribute: str) -> str:
    value = tag.get(attribute, "")
    return " ".join(value) if isinstance(value, list) else str(value)


def position_of(display: str, tag: Tag) -> Position:
    line = tag.sourceline or 0
    column = (tag.sourcepos + 1) if line and tag.sourcepos is not None else 0
    return Position(display, line, column)


def line_column(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def srcset_urls(value: str) -> list[str]:
    """The URLs of a srcset: comma-separated candidates, each a URL and an optional descriptor."""
    return [candidate.split()[0] for candidate in value.split(",") if candidate.split()]


# --- per-page rules -------------------------------------------------------------------------------


def scan_page(path: str, html: str, display: str, problems: Problems) -> PageFacts:
    """Run every rule that needs only this page; return the ids and URLs for the site-wide rules."""
    soup = BeautifulSoup(html, "html.parser")
    tags = soup.find_all(True)
    check_ids(tags, display, problems)
    ids = frozenset(tag_value(tag, "id") for tag in tags if tag.has_attr("id"))
    check_headings(tags, display, problems)
    check_images(tags, display, problems)
    check_tables(tags, display, problems)
    check_inline_code(tags, display, problems)
    references = tuple(page_references(tags, display))
    return PageFacts(path, ids, references)


def check_ids(tags: list[Tag], display: str, problems: Problems) -> None:
    seen: dict[str, Position] = {}
    for tag in tags:
        if not tag.has_attr("id"):
            continue
        value = tag_value(tag, "id")
        position = position_of(display, tag)
        if value == "" or any(c.isspace() for c in value):
            problems.error(position, f"{describe(tag, 'id')}: an id must be non-empty and contain no spaces", key="id")
        elif value in seen:
            problems.error(position, f'{describe(tag, "id")}: duplicate id "{value}" (first at line {seen[value].line})', key="duplicate-id", hint="ids must be unique on a page; links to the later one go to the first")
        else:
            seen[value] = position


def check_headings(tags: list[Tag], display: str, problems: Problems) -> None:
    headings = [(int(m.group(1)), tag) for tag in tags if (m := HEADING.match(tag.name))]
    h1s = [tag for level, tag in headings if level == 1]
    if len(h1s) != 1:
        where = position_of(display, h1s[1]) if len(h1s) > 1 else Position(display)
        problems.error(where, f"the page has {len(h1s)} <h1> elements", key="h1", hint="each page has exactly one <h1>: its title")
    previous = 1
    for level, tag in headings:
        if level > previous + 1:
            problems.error(position_of(display, tag), f"<h{level}> follows <h{previous}>: heading level {previous + 1} is skipped", key="heading-order", hint="screen-reader users navigate by heading level; do not skip one")
        previous = level


def check_images(tags: list[Tag], display: str, problems: Problems) -> None:
    for tag in tags:
        if tag.name == "img" and not tag.has_attr("alt"):
            problems.error(position_of(display, tag), f"{describe(tag, 'src')}: image without alt", key="img-alt", hint='describe the image in alt="...", or use alt="" if it is decoration')
        elif tag.name == "input" and tag_value(tag, "type").lower() == "image" and not tag.get("alt"):
            problems.error(position_of(display, tag), f"{describe(tag, 'src')}: image button without alt", key="img-alt")


def check_tables(tags: list[Tag], display: str, problems: Problems) -> None:
    for tag in tags:
        if tag.name == "table" and tag_value(tag, "role") not in ("presentation", "none") and tag.find("th") is None:
            problems.error(position_of(display, tag), f"{describe(tag)}: table without header cells", key="table-header", hint="mark the header row or column with <th> (a Markdown table's first row is one)")


def check_inline_code(tags: list[Tag], display: str, problems: Problems) -> None:
    """The Content-Security-Policy forbids inline script and style; a page that needs them breaks."""
    hint = "move it into a file under static/; the Content-Security-Policy blocks inline code"
    for tag in tags:
        position = position_of(display, tag)
        if tag.name == "script" and not tag.has_attr("src"):
            problems.error(position, "<script>: inline script", key="inline-script", hint=hint)
        if tag.name == "style":
            problems.error(position, "<style>: inline style sheet", key="inline-style", hint=hint)
        if tag.has_attr("style"):
            problems.error(position, f"{describe(tag)}: inline style= attribute", key="inline-style", hint="use a class and a rule in static/css/")
        for attribute in tag.attrs:
            if attribute.lower().startswith("on"):
                problems.error(position, f"{describe(tag)}: event handler attribute {attribute}=", key="inline-script", hint=hint)


def page_references(tags: list[Tag], display: str) -> Iterator[Reference]:
    for tag in tags:
        position = position_of(display, tag)
        rels = {rel.lower() for rel in tag_value(tag, "rel").split()}
        for attribute in URL_ATTRIBUTES:
            if not tag.has_attr(attribute):
                continue
            url = tag_value(tag, attribute).strip()
            resource = (
                (attribute == "src" and tag.name in RESOURCE_SRC)
                or (attribute in ("poster", "data") and tag.name in ("video", "object"))
                or (tag.name == "link" and attribute == "href" and bool(rels & RESOURCE_LINK_RELS))
                or (tag.name in SVG_RESOURCES and attribute in ("href", "xlink:href"))
            )
            yield Reference(position, describe(tag, attribute), url, resource)
        if tag.has_attr("srcset"):
            for url in srcset_urls(tag_value(tag, "srcset")):
                yield Reference(position, describe(tag, "srcset"), url, True)


# --- CSS ------------------------------------------------------------------------------------------


def css_references(text: str, display: str) -> Iterator[Reference]:
    """``url(...)`` and ``@import`` in a style sheet, comments ignored (blanked, offsets kept)."""
    text = CSS_COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    for match in CSS_URL.finditer(text):
        url = next(group for group in match.groups() if group is not None).strip()
        line, column = line_column(text, match.start())
        yield Reference(Position(display, line, column), match.group(0)[:80], url, True)


# --- site-wide rules ------------------------------------------------------------------------------


def site_path(source: str, url: str, address: SiteAddress) -> tuple[str, str] | None:
    """The site path and fragment a URL points to, or None when it leaves the site.

    Returns ``("../x", "")`` style paths unchanged when a relative link climbs above the root, so
    the caller can say so.
    """
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        absolute = url if parts.scheme else "https:" + url
        if not address.base_url or not absolute.startswith(address.base_url):
            return None
        relative = absolute[len(address.base_url):]
        parts = urlsplit(relative)
        path = unquote(parts.path)
    elif parts.path.startswith("/"):
        base_path = address.base_path
        path = unquote(parts.path)
        if not path.startswith(base_path):
            return ("../" + path.lstrip("/"), parts.fragment)
        path = path[len(base_path):]
    else:
        path = posixpath.join(posixpath.dirname(source), unquote(parts.path)) if parts.path else source
    trailing = path.endswith("/") or path == ""
    path = posixpath.normpath(path) if path else ""
    if path == ".":
        path = ""
    if trailing and path:
        path += "/"
    return path, unquote(parts.fragment)


def resolve_file(path: str, files: frozenset[str]) -> str | None:
    """The output file a site path names: ``apps/`` and ``apps`` both mean ``apps/index.html``."""
    if path == "" or path.endswith("/"):
        candidate = path + "index.html"
        return candidate if candidate in files else None
    if path in files:
        return path
    candidate = path + "/index.html"
    return candidate if candidate in files else None


def check_references(source: str, references: Iterable[Reference], pages: dict[str, frozenset[str]], files: frozenset[str], address: SiteAddress, problems: Problems) -> None:
    for ref in references:
        url = ref.url
        scheme = urlsplit(url).scheme.lower() if ":" in url.split("/", 1)[0] else ""
        if url == "" and not ref.resource:
            continue
        if scheme == "http":
            problems.error(ref.position, f"{ref.element}: http: link", key="http", hint="use https:; an http: link can be read and changed on the way")
            continue
        if scheme == "javascript":
            problems.error(ref.position, f"{ref.element}: javascript: URL", key="inline-script", hint="the Content-Security-Policy blocks it; link to a page instead")
            continue
        if scheme == "data" and ref.resource:
            problems.error(ref.position, f"{ref.element}: resource in a data: URL", key="third-party", hint="the Content-Security-Policy allows only files from the site itself; put the file under static/")
            continue
        if scheme in ("mailto", "tel", "data"):
            continue
        target = site_path(source, url, address)
        if target is None:
            if ref.resource:
                problems.error(ref.position, f"{ref.element}: loaded from another origin", key="third-party", hint="a trust site makes no third-party requests; copy the file under static/")
            continue
        path, fragment = target
        if path.startswith("../") or path == "..":
            problems.error(ref.position, f"{ref.element}: points outside the site", key="link", hint="link within the output folder")
            continue
        resolved = resolve_file(path, files)
        if resolved is None:
            missing = path + "index.html" if path == "" or path.endswith("/") else path
            problems.error(ref.position, f"{ref.element}: {missing} does not exist in the site", key="link", hint="fix the link, or the page it points to")
            continue
        if fragment and not fragment.startswith(":~:") and resolved in pages and fragment not in pages[resolved]:
            where = "on this page" if resolved == source else f"on {resolved}"
            problems.error(ref.position, f'{ref.element}: no element with id "{fragment}" {where}', key="anchor", hint="anchors are part of the public interface: fix the link or restore the id")


def check_security_txt(out: Path, display: str, today: date, problems: Problems) -> None:
    """RFC 9116 requires Expires; a security.txt past it must be ignored by those who read it."""
    file = out / SECURITY_TXT
    position = Position(f"{display}/{SECURITY_TXT}")
    hint = "it is written from site.yaml's security_txt settings; rebuild to renew Expires, and publish"
    if not file.is_file():
        problems.error(position, "missing: researchers look here for how to report a vulnerability", key="security-txt", hint="rebuild with a site-builder that writes /.well-known/security.txt")
        return
    text = file.read_text("utf-8", errors="replace")
    matches = list(EXPIRES_LINE.finditer(text))
    if not matches:
        problems.error(position, "has no Expires: line (RFC 9116 requires one)", key="security-txt", hint=hint)
        return
    match = matches[0]
    line, _ = line_column(text, match.start())
    position = Position(position.path, line, 1)
    try:
        expires = datetime.fromisoformat(match.group(1))
    except ValueError:
        problems.error(position, f"Expires: {match.group(1)!r} is not an RFC 3339 date and time", key="security-txt", hint=hint)
        return
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=timezone.utc)
    days = (expires.astimezone(timezone.utc).date() - today).days
    if days < 0:
        problems.error(position, f"expired on {expires.date().isoformat()}; readers must ignore an expired security.txt", key="security-txt", hint=hint)
    elif days < EXPIRY_WARNING_DAYS:
        problems.warning(position, f"expires on {expires.date().isoformat()}, in {days} day{'s' if days != 1 else ''}", key="security-txt", hint=hint)


def check_review_date(site: Site, today: date, position: Position, problems: Problems, *, hint: str = "") -> None:
    """A policy nobody has reviewed for a year is a finding in a vendor assessment."""
    age = (today - site.policy.last_reviewed).days
    interval = site.policy.review_interval_days
    if age > interval:
        problems.warning(position, f"the policy was last reviewed on {site.policy.last_reviewed.isoformat()}, {age} days ago (more than {interval})", key="policy.last_reviewed", hint=hint or "review the policy and update policy.last_reviewed")


def marketplace_questions() -> tuple[Callable[[App], Iterable[str]], dict[str, str]] | None:
    """The publishing kit's ``unanswered_fields`` and the question behind each field, when installed."""
    try:
        from . import privacy
    except ImportError:
        return None
    unanswered = getattr(privacy, "unanswered_fields", None)
    return (unanswered, dict(getattr(privacy, "QUESTIONS", {}))) if unanswered else None


def check_unanswered(edition: Edition, problems: Problems, questions: tuple[Callable[[App], Iterable[str]], dict[str, str]] | None = None) -> None:
    """Marketplace "Privacy & Security" fields the content cannot answer: reported, never invented."""
    questions = questions or marketplace_questions()
    if questions is None:
        return
    unanswered, wording = questions
    for app in edition.apps:
        for field in unanswered(app):
            question = f" ({wording[field]})" if field in wording else ""
            problems.warning(app.source, f"app {app.slug}: the Marketplace Privacy & Security field {field}{question} cannot be answered from the content", key="marketplace", hint="answer it in app.yaml if the schema has a key for it, otherwise answer it in the listing by hand")


# --- entry points ---------------------------------------------------------------------------------


def site_files(out: Path) -> list[str]:
    return sorted(
        file.relative_to(out).as_posix()
        for file in out.rglob("*")
        if file.is_file() and file.name != MARKER and not file.is_symlink()
    )


def check_site(out: Path, today: date, *, base_url: str = "", display: str | None = None) -> Problems:
    """Every rule that needs only the built files."""
    problems = Problems()
    display = display if display is not None else str(out)
    if not out.is_dir():
        problems.error(Position(display), "folder not found", key="out", hint="build the site first, or name the folder with --out")
        return problems
    address = SiteAddress(base_url)
    files = site_files(out)
    file_set = frozenset(files)
    facts: list[PageFacts] = []
    css: list[tuple[str, list[Reference]]] = []
    for path in files:
        shown = f"{display}/{path}"
        if path.endswith(".html"):
            html = (out / path).read_text("utf-8", errors="replace")
            facts.append(scan_page(path, html, shown, problems))
        elif path.endswith(".css"):
            css.append((path, list(css_references((out / path).read_text("utf-8", errors="replace"), shown))))
    if "index.html" not in file_set:
        problems.error(Position(f"{display}/index.html"), "missing: the site has no front page", key="link")
    pages = {page.path: page.ids for page in facts}
    for page in facts:
        check_references(page.path, page.references, pages, file_set, address, problems)
    for path, references in css:
        check_references(path, references, pages, file_set, address, problems)
    check_security_txt(out, display, today, problems)
    return problems


def published_edition(project: Project) -> tuple[Edition, str]:
    """The edition at the site root and the display path of its site.yaml."""
    if project.latest is not None:
        return project.latest.edition, f"content/releases/{project.latest.version}/site.yaml"
    return project.working, "content/site.yaml"


def check_project(project_root: Path, out: Path, today: date, *, display: str | None = None) -> Problems:
    """The built site plus the rules that need the content: review age, Marketplace answers."""
    from .load import load_project  # the loader pulls in the whole content model; check_site needs none of it

    loading = Problems()
    project = load_project(project_root, loading)
    if project is None:
        problems = check_site(out, today, display=display)
        problems.warning(Position("content/"), "the project does not load, so the review date and Marketplace answers were not checked", key="project", hint="run 'site-builder build' to see why")
        return problems
    edition, site_yaml = published_edition(project)
    problems = check_site(out, today, base_url=edition.site.base_url, display=display)
    document = load_yaml(project_root / site_yaml, site_yaml, Problems())
    position = document.position(("policy", "last_reviewed")) if document else Position(site_yaml)
    hint = "" if site_yaml == "content/site.yaml" else "review the policy, update policy.last_reviewed in content/site.yaml and release a new version"
    check_review_date(edition.site, today, position, problems, hint=hint)
    check_unanswered(edition, problems)
    return problems
