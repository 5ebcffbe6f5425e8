"""Check stage: reads a built site and reports what a security reviewer's tools would flag.

Each rule names the file, line and element. The site is read once: every page is parsed a single
time (per-page rules run then), and links between pages are resolved afterwards against the set
of files and the ids each page defines. Nothing here writes; the caller prints the problems.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, NamedTuple
from urllib.parse import unquote, urlsplit

from lxml import etree

from ..errors import Position, Problems
from ..content.model import Edition, Site
from ..content.source import load_yaml
from ..emit.staging import MARKER

if TYPE_CHECKING:
    from ..forge.apps import App

SECURITY_TXT = ".well-known/security.txt"
EXPIRY_WARNING_DAYS = 30

# Attributes whose value is one URL, and the elements on which that URL is fetched as a resource.
URL_ATTRIBUTES = ("href", "src", "action", "formaction", "cite", "data", "poster", "xlink:href")
URL_ATTRIBUTE_SET = frozenset({*URL_ATTRIBUTES, "srcset"})
RESOURCE_SRC = frozenset({"img", "script", "iframe", "frame", "embed", "audio", "video", "source", "track", "input"})
RESOURCE_LINK_RELS = frozenset({"stylesheet", "icon", "shortcut", "apple-touch-icon", "mask-icon", "preload", "modulepreload", "prefetch", "prerender", "manifest", "preconnect", "dns-prefetch"})
SVG_RESOURCES = frozenset({"image", "use", "feimage"})
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"\s]*))\s*\)|@import\s+(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
EXPIRES_LINE = re.compile(r"^expires:[ \t]*(.*?)\s*$", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Reference:
    """A URL found in a file: where it is, on which element and attribute, and whether it is fetched."""

    position: Position  # in a page, the column is found only when the reference is reported
    tag: str  # "" in a style sheet
    attribute: str
    url: str
    resource: bool
    nth: int = -1  # which ``<tag`` of its line it is on; -1 when the position is already exact
    snippet: str = ""  # the text around the URL, where there is no element to name

    @property
    def element(self) -> str:
        return self.snippet or describe(self.tag, {self.attribute: self.url}, self.attribute)


@dataclass(frozen=True)
class PageFacts:
    """What later rules need from a parsed page, so the page itself can be dropped."""

    path: str
    ids: frozenset[str]
    references: tuple[Reference, ...]


class Element(NamedTuple):
    """A start tag: its name, attributes, line, and which ``<name`` of that line it is (for the column)."""

    name: str
    attrs: dict[str, str]
    line: int
    nth: int
    headed: bool = False  # a table that holds a <th>


class ParsedPage:
    """A page's elements in document order, and where each one is.

    libxml2 (through lxml) parses: faster than Python's html.parser, let alone a
    BeautifulSoup tree, which counts on a site of thousands of pages (see BENCHMARKS.md, 'Figures behind the code'). It knows each element's line; the column,
    needed only for the few elements a rule reports, is found as the n-th ``<name`` on that line.
    """

    def __init__(self, html: bytes, display: str) -> None:
        self.display = display
        self.html = html
        self.elements: list[Element] = []
        self._lines: list[str] | None = None
        try:
            root = etree.fromstring(html, etree.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True)) if html.strip() else None
        except etree.LxmlError:
            root = None
        if root is None:
            return
        headed = {next(th.iterancestors("table"), None) for th in root.iter("th")}
        seen_on_line: dict[tuple[int, str], int] = {}
        for node in root.iter(etree.Element):
            name = node.tag
            line = node.sourceline or 0
            key = (line, name)
            nth = seen_on_line.get(key, 0)
            seen_on_line[key] = nth + 1
            self.elements.append(Element(name, dict(node.attrib) if len(node.attrib) else {}, line, nth, name == "table" and node in headed))

    def position(self, element: Element) -> Position:
        if self._lines is None:
            self._lines = source_lines(self.html)
        return Position(self.display, element.line, column_in(self._lines, element.line, element.name, element.nth))


def source_lines(data: bytes) -> list[str]:
    return data.decode("utf-8", errors="replace").split("\n")


def column_in(lines: list[str], line: int, name: str, nth: int) -> int:
    """The column of the ``nth`` start tag ``<name`` on ``line``; 0 when it cannot be found."""
    if not 0 < line <= len(lines):
        return 0
    matches = re.finditer(rf"<{re.escape(name)}(?=[\s/>]|$)", lines[line - 1], re.IGNORECASE)
    return next((m.start() + 1 for index, m in enumerate(matches) if index == nth), 0)


@dataclass(frozen=True)
class SiteAddress:
    """Where the site is published, to recognise its own absolute and root-relative links."""

    base_url: str = ""

    @property
    def base_path(self) -> str:
        return (urlsplit(self.base_url).path or "/") if self.base_url else "/"


def describe(name: str, attrs: dict[str, str], attribute: str = "") -> str:
    """``<a href="apps/x/">``: the element as a reader finds it in the file, shortened."""
    text = f"<{name}"
    if attribute and attribute in attrs:
        value = attrs[attribute]
        if len(value) > 80:
            value = value[:77] + "..."
        text += f' {attribute}="{value}"'
    elif attrs.get("id"):
        text += f' id="{attrs["id"]}"'
    return text + ">"


def line_column(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def srcset_urls(value: str) -> list[str]:
    """The URLs of a srcset: comma-separated candidates, each a URL and an optional descriptor."""
    return [candidate.split()[0] for candidate in value.split(",") if candidate.split()]


# --- per-page rules -------------------------------------------------------------------------------


def scan_page(path: str, html: bytes, display: str, problems: Problems) -> PageFacts:
    """Run every rule that needs only this page; return the ids and URLs for the site-wide rules."""
    page = ParsedPage(html, display)
    check_ids(page, problems)
    check_headings(page, problems)
    check_images(page, problems)
    check_tables(page, problems)
    check_inline_code(page, problems)
    ids = frozenset(e.attrs["id"] for e in page.elements if "id" in e.attrs)
    return PageFacts(path, ids, tuple(page_references(page)))


def check_ids(page: ParsedPage, problems: Problems) -> None:
    seen: dict[str, int] = {}
    for e in page.elements:
        value = e.attrs.get("id")
        if value is None:
            continue
        if value == "" or any(c.isspace() for c in value):
            problems.error(page.position(e), f"{describe(e.name, e.attrs, 'id')}: an id must be non-empty and contain no spaces", key="id")
        elif value in seen:
            problems.error(page.position(e), f'{describe(e.name, e.attrs, "id")}: duplicate id "{value}" (first at line {seen[value]})', key="duplicate-id", hint="ids must be unique on a page; links to the later one go to the first")
        else:
            seen[value] = e.line


def check_headings(page: ParsedPage, problems: Problems) -> None:
    headings = [(int(e.name[1]), e) for e in page.elements if e.name in HEADINGS]
    h1s = [e for level, e in headings if level == 1]
    if len(h1s) != 1:
        where = page.position(h1s[1]) if len(h1s) > 1 else Position(page.display)
        problems.error(where, f"the page has {len(h1s)} <h1> elements", key="h1", hint="each page has exactly one <h1>: its title")
    previous = 1
    for level, e in headings:
        if level > previous + 1:
            problems.error(page.position(e), f"<h{level}> follows <h{previous}>: heading level {previous + 1} is skipped", key="heading-order", hint="screen-reader users navigate by heading level; do not skip one")
        previous = level


def check_images(page: ParsedPage, problems: Problems) -> None:
    for e in page.elements:
        if e.name == "img" and "alt" not in e.attrs:
            problems.error(page.position(e), f"{describe(e.name, e.attrs, 'src')}: image without alt", key="img-alt", hint='describe the image in alt="...", or use alt="" if it is decoration')
        elif e.name == "input" and e.attrs.get("type", "").lower() == "image" and not e.attrs.get("alt"):
            problems.error(page.position(e), f"{describe(e.name, e.attrs, 'src')}: image button without alt", key="img-alt")


def check_tables(page: ParsedPage, problems: Problems) -> None:
    for e in page.elements:
        if e.name == "table" and not e.headed and e.attrs.get("role") not in ("presentation", "none"):
            problems.error(page.position(e), f"{describe(e.name, e.attrs)}: table without header cells", key="table-header", hint="mark the header row or column with <th> (a Markdown table's first row is one)")


def check_inline_code(page: ParsedPage, problems: Problems) -> None:
    """The Content-Security-Policy forbids inline script and style; a page that needs them breaks."""
    hint = "move it into a file under static/; the Content-Security-Policy blocks inline code"
    for e in page.elements:
        if e.name == "script" and "src" not in e.attrs:
            problems.error(page.position(e), "<script>: inline script", key="inline-script", hint=hint)
        elif e.name == "style":
            problems.error(page.position(e), "<style>: inline style sheet", key="inline-style", hint=hint)
        if not e.attrs:
            continue
        if "style" in e.attrs:
            problems.error(page.position(e), f"{describe(e.name, e.attrs)}: inline style= attribute", key="inline-style", hint="use a class and a rule in static/css/")
        for attribute in e.attrs:
            if attribute.startswith("on"):
                problems.error(page.position(e), f"{describe(e.name, e.attrs)}: event handler attribute {attribute}=", key="inline-script", hint=hint)


def page_references(page: ParsedPage) -> Iterator[Reference]:
    for e in page.elements:
        attrs = e.attrs
        if not attrs or attrs.keys().isdisjoint(URL_ATTRIBUTE_SET):
            continue
        position = Position(page.display, e.line)
        rels = {rel.lower() for rel in attrs.get("rel", "").split()}
        for attribute in URL_ATTRIBUTES:
            if attribute not in attrs:
                continue
            resource = (
                (attribute == "src" and e.name in RESOURCE_SRC)
                or (attribute in ("poster", "data") and e.name in ("video", "object"))
                or (e.name == "link" and attribute == "href" and bool(rels & RESOURCE_LINK_RELS))
                or (e.name in SVG_RESOURCES and attribute in ("href", "xlink:href"))
            )
            yield Reference(position, e.name, attribute, attrs[attribute].strip(), resource, e.nth)
        if "srcset" in attrs:
            for url in srcset_urls(attrs["srcset"]):
                yield Reference(position, e.name, "srcset", url, True, e.nth)


# --- CSS ------------------------------------------------------------------------------------------


def css_references(text: str, display: str) -> Iterator[Reference]:
    """``url(...)`` and ``@import`` in a style sheet, comments ignored (blanked, offsets kept)."""
    text = CSS_COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    for match in CSS_URL.finditer(text):
        url = next(group for group in match.groups() if group is not None).strip()
        line, column = line_column(text, match.start())
        yield Reference(Position(display, line, column), "", "url", url, True, snippet=match.group(0)[:80])


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


@dataclass(frozen=True)
class Target:
    """Where a URL leads: a file of the site and a fragment, or what is wrong with the URL itself."""

    resolved: str = ""
    fragment: str = ""
    key: str = ""
    message: str = ""
    hint: str = ""


def follow(source: str, url: str, resource: bool, address: SiteAddress, files: frozenset[str]) -> Target | None:
    """Where ``url`` on page ``source`` leads; None when it leaves the site as it may (a link elsewhere)."""
    scheme = urlsplit(url).scheme.lower() if ":" in url.split("/", 1)[0] else ""
    if scheme == "http":
        return Target(key="http", message="http: link", hint="use https:; an http: link can be read and changed on the way")
    if scheme == "javascript":
        return Target(key="inline-script", message="javascript: URL", hint="the Content-Security-Policy blocks it; link to a page instead")
    if scheme == "data" and resource:
        return Target(key="third-party", message="resource in a data: URL", hint="the Content-Security-Policy allows only files from the site itself; put the file under static/")
    if scheme in ("mailto", "tel", "data"):
        return None
    target = site_path(source, url, address)
    if target is None:
        if resource:
            return Target(key="third-party", message="loaded from another origin", hint="a trust site makes no third-party requests; copy the file under static/")
        return None
    path, fragment = target
    if path.startswith("../") or path == "..":
        return Target(key="link", message="points outside the site", hint="link within the output folder")
    resolved = resolve_file(path, files)
    if resolved is None:
        missing = path + "index.html" if path == "" or path.endswith("/") else path
        return Target(key="link", message=f"{missing} does not exist in the site", hint="fix the link, or the page it points to")
    return Target(resolved, fragment)


def check_references(source: str, references: Iterable[Reference], pages: dict[str, frozenset[str]], files: frozenset[str], address: SiteAddress, problems: Problems, *, cache: dict | None = None, read: Callable[[], bytes] | None = None) -> None:
    """Every URL of one file; ``cache`` remembers where a URL leads from a folder, across files;
    ``read`` gives the file again, to find the column of a reference that is reported."""
    cache = {} if cache is None else cache
    folder = posixpath.dirname(source)
    lines: list[str] = []

    def where(ref: Reference) -> Position:
        if ref.nth < 0 or read is None:
            return ref.position
        if not lines:
            lines.extend(source_lines(read()))
        return Position(ref.position.path, ref.position.line, column_in(lines, ref.position.line, ref.tag, ref.nth))

    for ref in references:
        url = ref.url
        if url == "" or url.startswith("#"):
            if not url and not ref.resource:
                continue
            target: Target | None = Target(source, unquote(url[1:]))
        else:
            key = (folder, url, ref.resource)
            if key not in cache:
                cache[key] = follow(source, url, ref.resource, address, files)
            target = cache[key]
        if target is None:
            continue
        if target.key:
            problems.error(where(ref), f"{ref.element}: {target.message}", key=target.key, hint=target.hint)
            continue
        fragment = target.fragment
        if fragment and not fragment.startswith(":~:") and target.resolved in pages and fragment not in pages[target.resolved]:
            page = "this page" if target.resolved == source else target.resolved
            problems.error(where(ref), f'{ref.element}: no element with id "{fragment}" on {page}', key="anchor", hint="anchors are part of the public interface: fix the link or restore the id")


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


def check_review_date(site: Site, today: date, position: Position, problems: Problems, *, version: str = "") -> None:
    """A policy nobody has reviewed for a year is a finding in a vendor assessment."""
    age = (today - site.policy.last_reviewed).days
    interval = site.policy.review_interval_days
    if age <= interval:
        return
    subject = f"version {version} of the policy" if version else "the policy"
    hint = "review the policy, update policy.last_reviewed and release a new version" if version else "review the policy and update policy.last_reviewed"
    problems.warning(position, f"{subject} was last reviewed on {site.policy.last_reviewed.isoformat()}, {age} days ago (more than {interval})", key="policy.last_reviewed", hint=hint)


def marketplace_questions() -> tuple[Callable[[App], Iterable[str]], dict[str, str]] | None:
    """The publishing kit's ``unanswered_fields`` and the question behind each field, when installed."""
    try:
        from ..forge import privacy
    except ImportError:
        return None
    unanswered = getattr(privacy, "unanswered_fields", None)
    return (unanswered, dict(getattr(privacy, "QUESTIONS", {}))) if unanswered else None


def check_unanswered(edition: Edition, problems: Problems, questions: tuple[Callable[[App], Iterable[str]], dict[str, str]] | None = None, *, where: Callable[[App], Position] | None = None, released: bool = False) -> None:
    """Marketplace "Privacy & Security" fields the content cannot answer: reported, never invented."""
    questions = questions or marketplace_questions()
    if questions is None:
        return
    unanswered, wording = questions
    hint = "answer it in app.yaml if the schema has a key for it, otherwise in the listing by hand"
    if released:
        hint += "; an answer in app.yaml takes effect with the next release"
    for app in edition.apps:
        for field in unanswered(app):
            question = f" ({wording[field]})" if field in wording else ""
            problems.warning(where(app) if where else app.source, f"app {app.slug}: the Marketplace Privacy & Security field {field}{question} cannot be answered from the content", key="marketplace", hint=hint)


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
            facts.append(scan_page(path, (out / path).read_bytes(), shown, problems))
        elif path.endswith(".css"):
            css.append((path, list(css_references((out / path).read_text("utf-8", errors="replace"), shown))))
    if "index.html" not in file_set:
        problems.error(Position(f"{display}/index.html"), "missing: the site has no front page", key="link")
    pages = {page.path: page.ids for page in facts}
    cache: dict = {}
    for page in facts:
        check_references(page.path, page.references, pages, file_set, address, problems, cache=cache, read=(out / page.path).read_bytes)
    for path, references in css:
        check_references(path, references, pages, file_set, address, problems, cache=cache)
    check_security_txt(out, display, today, problems)
    return problems


def trust_document(out: Path) -> dict:
    """The built site's trust.json, or {} when there is none to read."""
    try:
        data = json.loads((out / "trust.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def built_as_draft(out: Path) -> bool:
    """Whether the built site shows the working copy: trust.json says so (``policy.status``)."""
    policy = trust_document(out).get("policy")
    return isinstance(policy, dict) and policy.get("status") == "draft"


def published_edition(project_root: Path, out: Path) -> tuple[Edition | None, str]:
    """The edition the built site shows at its root, and where it lives, e.g. ``content/releases/1.1``.

    Only that edition is loaded: a project's every release is not needed to check one site.
    """
    from ..releases.project import load_edition  # the content model; check_site needs none of it
    from ..releases.history import latest_version

    content = project_root / "content"
    version = latest_version(content)
    folder = "content" if version is None or built_as_draft(out) else f"content/releases/{version}"
    return load_edition(project_root / folder, folder, Problems()), folder


def check_project(project_root: Path, out: Path, today: date, *, display: str | None = None) -> Problems:
    """The built site plus the rules that need the content: review age, Marketplace answers.

    Findings about content point at the working copy (``content/``), the files an author edits,
    even when the site shows a release: frozen files never change.
    """
    if not out.is_dir():
        return check_site(out, today, display=display)
    edition, folder = published_edition(project_root, out)
    if edition is None:
        problems = check_site(out, today, display=display)
        problems.warning(Position(f"{folder}/"), "the project does not load, so the review date and Marketplace answers were not checked", key="project", hint="run 'site-builder build' to see why")
        return problems
    built_url = trust_document(out).get("url")
    problems = check_site(out, today, base_url=built_url if isinstance(built_url, str) and built_url else edition.site.base_url, display=display)
    version = folder.rsplit("/", 1)[-1] if folder != "content" else ""
    site_yaml = "content/site.yaml" if (project_root / "content/site.yaml").is_file() else f"{folder}/site.yaml"
    document = load_yaml(project_root / site_yaml, site_yaml, Problems())
    position = document.position(("policy", "last_reviewed")) if document else Position(site_yaml)
    check_review_date(edition.site, today, position, problems, version=version)

    def editable(app: App) -> Position:
        working = f"content/apps/{app.slug}/app.yaml"
        return Position(working, 1, 1) if version and (project_root / working).is_file() else app.source

    check_unanswered(edition, problems, where=editable, released=bool(version))
    return problems
