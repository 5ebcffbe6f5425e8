"""What changed between two editions: the facts a reviewer approved, the policy text, each app's permissions.

Pure: two ``Edition`` values in, one ``EditionDiff`` out; the changes pages, the feed and
``site-builder diff`` only lay it out. Sections are matched by anchor (their public identifier)
and compared as blocks of rendered text (paragraphs, list items, table rows), each block word by
word, so a changed number shows as exactly that number. Apps are matched by slug and compared as
sets: scopes, egress destinations, content-security relaxations, data stored and processed, and
the Runs on Atlassian verdict. Every diff is deterministic: ``difflib.SequenceMatcher`` with
``autojunk=False`` on tokens, never on characters and never heuristically pruned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from operator import attrgetter
from datetime import date
from difflib import SequenceMatcher
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

from bs4 import BeautifulSoup, NavigableString, Tag

from ..content.dates import long_date
from ..cache.memo import IdentityMemo, call, each
from ..content.model import Edition, Section, Site

if TYPE_CHECKING:
    from ..forge.apps import App, Verdict

EQUAL, INSERT, DELETE, CHANGE = "equal", "insert", "delete", "change"
ADDED, REMOVED, CHANGED = "added", "removed", "changed"

_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")
# Blocks: elements whose text is read as one unit. Containers: elements whose children are blocks.
_BLOCKS = {"p": "p", "li": "li", "h3": "h", "h4": "h", "h5": "h", "h6": "h", "pre": "pre", "tr": "row", "dt": "dt", "dd": "dd", "caption": "p", "figcaption": "p"}
_CONTAINERS = {"ul", "ol", "dl", "table", "thead", "tbody", "tfoot", "blockquote", "div", "section", "figure", "details"}
_PAIRING_THRESHOLD = 0.5  # blocks less alike than this are shown as one removed and one added


# ---------------------------------------------------------------------------------------------
# Word-level text diff


@dataclass(frozen=True)
class Span:
    """A run of text that is in both versions (equal), only the new one (insert) or only the old one (delete)."""

    op: str
    text: str


def tokens(text: str) -> list[str]:
    """Words, single punctuation marks and whitespace runs: "72 hours." changes as "72", not the sentence."""
    return _TOKEN.findall(text)


def word_diff(old: str, new: str) -> tuple[Span, ...]:
    """``old`` is the equal and deleted spans joined, ``new`` the equal and inserted ones, always."""
    a, b = tokens(old), tokens(new)
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    spans: list[Span] = []
    pending_del: list[str] = []
    pending_ins: list[str] = []

    def flush() -> None:
        if pending_del:
            spans.append(Span(DELETE, "".join(pending_del)))
        if pending_ins:
            spans.append(Span(INSERT, "".join(pending_ins)))
        pending_del.clear()
        pending_ins.clear()

    opcodes = matcher.get_opcodes()
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            text = "".join(a[i1:i2])
            is_last = index == len(opcodes) - 1
            if text.isspace() and pending_del and pending_ins and not is_last:
                # "<del>72</del><ins>48</ins> <del>hours</del><ins>days</ins>" reads better as one change
                pending_del.append(text)
                pending_ins.append(text)
                continue
            flush()
            spans.append(Span(EQUAL, text))
        else:
            pending_del.extend(a[i1:i2])
            pending_ins.extend(b[j1:j2])
    flush()
    return tuple(_merge_adjacent(spans))


def _merge_adjacent(spans: Iterable[Span]) -> Iterator[Span]:
    previous: Span | None = None
    for span in spans:
        if previous and previous.op == span.op:
            previous = Span(span.op, previous.text + span.text)
            continue
        if previous:
            yield previous
        previous = span
    if previous:
        yield previous


def old_text(spans: Iterable[Span]) -> str:
    return "".join(s.text for s in spans if s.op != INSERT)


def new_text(spans: Iterable[Span]) -> str:
    return "".join(s.text for s in spans if s.op != DELETE)


# ---------------------------------------------------------------------------------------------
# Section bodies as blocks of text


@dataclass(frozen=True)
class Block:
    """One paragraph, list item, sub-heading, table row, term or definition, as plain text."""

    kind: str  # p, li, h, pre, row, dt, dd
    text: str


def html_blocks(html: str) -> tuple[Block, ...]:
    """The readable text of sanitized section HTML, block by block; external link targets are kept.

    A link's address is part of what a reviewer approves (a support portal that moved is a
    change), so ``<a href="https://x">portal</a>`` reads "portal (https://x)". Links within the
    page and links whose text is their address add nothing.
    """
    return tuple(_blocks(BeautifulSoup(html, "html.parser")))


def _blocks(node: Tag, kind: str = "p") -> Iterator[Block]:
    """Loose text inside ``node`` is a block of ``kind``; nested block elements are blocks of their own."""
    loose: list[str] = []
    for child in node.children:
        if isinstance(child, NavigableString):
            loose.append(str(child))
            continue
        if not isinstance(child, Tag):
            continue
        name = child.name
        if name not in _BLOCKS and name not in _CONTAINERS and name != "hr":
            loose.append(_inline_text(child))
            continue
        yield from _loose_block(loose, kind)
        loose = []
        if name == "tr":
            cells = [_squash(_inline_text(cell)) for cell in child.find_all(["th", "td"], recursive=False)]
            if any(cells):
                yield Block("row", " | ".join(cells))
        elif name in _BLOCKS:
            # a loose list item's paragraphs are still list items
            yield from _blocks(child, "li" if name == "p" and kind == "li" else _BLOCKS[name])
        elif name in _CONTAINERS:
            yield from _blocks(child, "p")
    yield from _loose_block(loose, kind)


def _loose_block(parts: list[str], kind: str) -> Iterator[Block]:
    text = _squash("".join(parts))
    if text:
        yield Block(kind, text)


def _inline_text(node: Tag) -> str:
    """The text of an inline element, itself included: a link adds its address, an image its alt text."""
    if node.name == "br":
        return " "
    if node.name == "img":
        return f"[image: {node.get('alt', '')}]"
    text = "".join(str(child) if isinstance(child, NavigableString) else _inline_text(child) for child in node.children if isinstance(child, (NavigableString, Tag)))
    if node.name == "a":
        href = str(node.get("href", ""))
        shown = href.removeprefix("mailto:")
        if href and not href.startswith("#") and _squash(text) != shown:
            text = f"{text} ({shown})"
    return text


def _squash(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class BlockChange:
    """A block as the changes page shows it: unchanged, added, removed, or changed word by word."""

    op: str  # equal, insert, delete, change
    kind: str
    spans: tuple[Span, ...]


def diff_blocks(old: tuple[Block, ...], new: tuple[Block, ...]) -> tuple[BlockChange, ...]:
    """Align blocks by their exact text, then pair the blocks in each replaced run by similarity."""
    matcher = SequenceMatcher(None, [b.text for b in old], [b.text for b in new], autojunk=False)
    result: list[BlockChange] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            result.extend(BlockChange(EQUAL, b.kind, (Span(EQUAL, b.text),)) for b in new[j1:j2])
        else:
            result.extend(_pair_blocks(old[i1:i2], new[j1:j2]))
    return tuple(result)


def _pair_blocks(old: tuple[Block, ...], new: tuple[Block, ...]) -> Iterator[BlockChange]:
    """In order, each old block pairs with the most similar later new block, if alike enough."""
    j = 0
    for block in old:
        best, best_ratio = -1, _PAIRING_THRESHOLD
        for k in range(j, len(new)):
            ratio = SequenceMatcher(None, tokens(block.text), tokens(new[k].text), autojunk=False).ratio()
            if ratio > best_ratio:
                best, best_ratio = k, ratio
        if best < 0:
            yield BlockChange(DELETE, block.kind, (Span(DELETE, block.text),))
            continue
        yield from (BlockChange(INSERT, b.kind, (Span(INSERT, b.text),)) for b in new[j:best])
        yield BlockChange(CHANGE, new[best].kind, word_diff(block.text, new[best].text))
        j = best + 1
    yield from (BlockChange(INSERT, b.kind, (Span(INSERT, b.text),)) for b in new[j:])


# ---------------------------------------------------------------------------------------------
# Sections


@dataclass(frozen=True)
class SectionChange:
    anchor: str
    status: str  # added, removed, changed
    title: str  # the new title; the old one for a removed section
    old_title: str
    title_spans: tuple[Span, ...]  # word diff of the title when it changed, else ()
    old_group: str
    group: str
    moved: bool  # now in a different place among the sections both versions have
    blocks: tuple[BlockChange, ...]

    @property
    def changed_blocks(self) -> int:
        return sum(1 for b in self.blocks if b.op != EQUAL)


def diff_sections(old: tuple[Section, ...], new: tuple[Section, ...], memo: IdentityMemo | None = None) -> tuple[tuple[SectionChange, ...], int]:
    """Changes in reading order (removed sections where they were), and how many sections are unchanged.

    ``memo`` reuses each section's blocks and each pair's changes while the sections are the same objects.
    """
    old_by = {s.anchor: s for s in old}
    new_by = {s.anchor: s for s in new}
    common_old = [s.anchor for s in old if s.anchor in new_by]
    common_new = [s.anchor for s in new if s.anchor in old_by]
    in_place = set()
    for tag, i1, i2, _, _ in SequenceMatcher(None, common_old, common_new, autojunk=False).get_opcodes():
        if tag == "equal":
            in_place.update(common_old[i1:i2])
    changes: list[SectionChange] = []
    unchanged = 0
    matcher = SequenceMatcher(None, [s.anchor for s in old], [s.anchor for s in new], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for section in old[i1:i2] if tag in ("delete", "replace") else ():
            if section.anchor not in new_by:
                changes.append(call(memo, _removed_section, section, memo))
        for section in new[j1:j2]:
            before = old_by.get(section.anchor)
            if before is None:
                changes.append(call(memo, _added_section, section, memo))
                continue
            moved = section.anchor not in in_place
            if before is section or (before.body_html == section.body_html and before.title == section.title and before.group == section.group):
                if not moved:
                    unchanged += 1
                    continue
            changes.append(call(memo, _changed_section, before, section, moved, memo))
    return tuple(changes), unchanged


def _blocks_of(section: Section, memo: IdentityMemo | None) -> tuple[Block, ...]:
    return call(memo, html_blocks, section.body_html)  # by text: a release's unchanged section is parsed once


def _removed_section(section: Section, memo: IdentityMemo | None) -> SectionChange:
    blocks = tuple(BlockChange(DELETE, b.kind, (Span(DELETE, b.text),)) for b in _blocks_of(section, memo))
    return SectionChange(section.anchor, REMOVED, section.title, section.title, (), section.group, "", False, blocks)


def _added_section(section: Section, memo: IdentityMemo | None) -> SectionChange:
    blocks = tuple(BlockChange(INSERT, b.kind, (Span(INSERT, b.text),)) for b in _blocks_of(section, memo))
    return SectionChange(section.anchor, ADDED, section.title, "", (), "", section.group, False, blocks)


def _changed_section(before: Section, section: Section, moved: bool, memo: IdentityMemo | None) -> SectionChange:
    same_body = before.body_html == section.body_html
    blocks = () if same_body else diff_blocks(_blocks_of(before, memo), _blocks_of(section, memo))
    title_spans = word_diff(before.title, section.title) if before.title != section.title else ()
    return SectionChange(section.anchor, CHANGED, section.title, before.title, title_spans, before.group, section.group, moved, blocks)


# ---------------------------------------------------------------------------------------------
# Document facts (site.yaml)


@dataclass(frozen=True)
class FactChange:
    label: str
    old: str
    new: str
    spans: tuple[Span, ...]
    old_date: date | None = None  # for a date fact: the dates themselves, so pages can mark them up
    new_date: date | None = None


DATE_FACTS: tuple[tuple[str, Callable[[Site], date]], ...] = (
    ("Last reviewed", lambda s: s.policy.last_reviewed),
)
FACTS: tuple[tuple[str, Callable[[Site], str]], ...] = (
    ("Policy title", lambda s: s.policy.title),
    ("Applies to", lambda s: s.policy.applies_to),
    ("Products covered", lambda s: s.policy.products_covered),
    ("Review interval", lambda s: f"{s.policy.review_interval_days} days"),
    ("Related documentation", lambda s: "; ".join(f"{link.title} ({link.url})" for link in s.policy.related)),
    ("Security contact", lambda s: s.contacts.security_email),
    ("Support portal", lambda s: s.contacts.support_portal),
    ("First response", lambda s: s.contacts.response_time),
    ("Critical fixes deployed", lambda s: s.contacts.critical_fix_time),
    ("Organisation", lambda s: s.organisation.name),
    ("Legal name", lambda s: s.organisation.legal_name),
    ("Address", lambda s: ", ".join(s.organisation.address)),
    ("Website", lambda s: s.organisation.website),
    ("Email", lambda s: s.organisation.email),
    ("Published at", lambda s: s.base_url),
)


def diff_facts(old: Site, new: Site) -> tuple[FactChange, ...]:
    changes = []
    for label, read_date in DATE_FACTS:
        before_date, after_date = read_date(old), read_date(new)
        if before_date != after_date:
            before, after = long_date(before_date), long_date(after_date)
            changes.append(FactChange(label, before, after, (Span(DELETE, before), Span(EQUAL, " "), Span(INSERT, after)), before_date, after_date))
    for label, read in FACTS:
        before, after = read(old), read(new)
        if before != after:
            changes.append(FactChange(label, before, after, word_diff(before, after)))
    return tuple(changes)


# ---------------------------------------------------------------------------------------------
# Apps


@dataclass(frozen=True)
class Destination:
    """Somewhere an app may send data: an egress entry or a remote back end's address."""

    kind: str  # "backend", "client", "images", ... or "remote back end"
    address: str
    end_user_data: bool  # may carry in-scope End-User Data
    category: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.address)

    def describe(self) -> str:
        detail = []
        if self.category:
            detail.append(f"category {self.category}")
        detail.append("may carry End-User Data" if self.end_user_data else "no End-User Data")
        return f"{self.kind}: {self.address} ({', '.join(detail)})"


@dataclass(frozen=True)
class ScopeRow:
    """What the diff needs of a permission row; built from the app model's PermissionRow."""

    scope: str
    access: str
    product: str
    description: str
    allow_impersonation: bool

    def describe(self) -> str:
        extra = ", may act as any user (allowImpersonation)" if self.allow_impersonation else ""
        return f"{self.scope} ({self.access_label} in {self.product}{extra})"

    @property
    def access_label(self) -> str:
        return self.access.capitalize()


@dataclass(frozen=True)
class VerdictView:
    eligible: bool
    reasons: tuple[str, ...]

    @property
    def label(self) -> str:
        return "eligible" if self.eligible else "not eligible"


@dataclass(frozen=True)
class AppChange:
    """One app's changes; for an added app everything is added, for a removed one everything removed."""

    slug: str
    name: str
    old_name: str
    status: str  # added, removed, changed
    scopes_added: tuple[ScopeRow, ...]
    scopes_removed: tuple[ScopeRow, ...]
    scopes_changed: tuple[tuple[ScopeRow, ScopeRow], ...]
    egress_added: tuple[Destination, ...]
    egress_removed: tuple[Destination, ...]
    egress_changed: tuple[tuple[Destination, Destination], ...]
    content_added: tuple[str, ...]
    content_removed: tuple[str, ...]
    verdict_before: VerdictView | None
    verdict_after: VerdictView | None
    reasons_added: tuple[str, ...]
    reasons_removed: tuple[str, ...]
    data_stored_added: tuple[str, ...]
    data_stored_removed: tuple[str, ...]
    data_processed_added: tuple[str, ...]
    data_processed_removed: tuple[str, ...]
    retention_spans: tuple[Span, ...]
    summary_spans: tuple[Span, ...]

    @property
    def verdict_changed(self) -> bool:
        return self.verdict_before is not None and self.verdict_after is not None and self.verdict_before.eligible != self.verdict_after.eligible

    @property
    def permissions_changed(self) -> bool:
        """Anything a reviewer must approve again: scopes, destinations, content security, the verdict."""
        return bool(
            self.scopes_added or self.scopes_removed or self.scopes_changed or self.egress_added or self.egress_removed
            or self.egress_changed or self.content_added or self.content_removed or self.verdict_changed
            or self.reasons_added or self.reasons_removed
        )


def scope_rows(app: "App") -> tuple[ScopeRow, ...]:
    return tuple(ScopeRow(r.scope, r.access, r.product, r.description, r.allow_impersonation) for r in _rows(app, "permissions"))


def destinations(app: "App") -> tuple[Destination, ...]:
    """Egress entries and remote back ends, each address once per kind, in the app model's order."""
    found: dict[tuple[str, str], Destination] = {}
    for kind, address, end_user_data, category in _destination_items(app):
        found.setdefault((kind, address), Destination(kind, address, end_user_data, category))
    return tuple(found.values())


def _destination_items(app: "App") -> Iterator[tuple[str, str, bool, str]]:
    for row in _rows(app, "egress"):
        kind = getattr(row, "kind_label", "") or getattr(row, "kind", "egress")
        yield kind, row.destination, bool(getattr(row, "end_user_data", True)), getattr(row, "category", "")
    for row in _rows(app, "remotes"):
        remote = row.remote
        for region, url in getattr(remote, "base_urls", ()):
            kind = f"remote back end {remote.key}" + (f" ({region})" if region and region != "default" else "")
            yield kind, url, bool(getattr(remote, "may_store_eud", True)), ""


def content_relaxations(app: "App") -> tuple[str, ...]:
    manifest = getattr(app, "manifest", None)
    return tuple(f"{c.directive}: {c.value}" for c in getattr(manifest, "content", ()) or ())


def verdict_view(app: "App") -> VerdictView:
    verdict: "Verdict" = app.verdict
    return VerdictView(bool(verdict.eligible), tuple(r.text for r in verdict.reasons))


def _rows(app: "App", name: str) -> tuple:
    return tuple(getattr(app, name, ()) or ())


def _added_removed(old: Iterable, new: Iterable, key: Callable = lambda x: x) -> tuple[tuple, tuple]:
    old_keys = {key(x) for x in old}
    new_keys = {key(x) for x in new}
    return tuple(x for x in new if key(x) not in old_keys), tuple(x for x in old if key(x) not in new_keys)


def visible(app: "App") -> tuple:
    """Everything of an app that ``diff_app`` compares, as plain values (the model's own fields).

    Two apps with equal ``visible`` have no change to show, so most pairs are settled by one tuple
    comparison instead of a diff (a release's 1,000 apps against the next release's).
    """
    verdict = app.verdict
    return (
        app.name,
        app.summary,
        app.retention,
        app.data_stored,
        app.data_processed,
        tuple(map(_SCOPE_FIELDS, app.permissions)),
        tuple(map(_EGRESS_FIELDS, app.egress)),
        tuple((row.remote.key, row.remote.base_urls, row.remote.may_store_eud) for row in app.remotes) if app.remotes else (),
        tuple(map(_CONTENT_FIELDS, app.manifest.content)),
        verdict.eligible,
        tuple(reason.text for reason in verdict.reasons),
    )


# what diff_app compares of each row: scopes by name and impersonation (not their wording), destinations
# by kind and address and then every field, content relaxations as text
_SCOPE_FIELDS = attrgetter("scope", "allow_impersonation")
_EGRESS_FIELDS = attrgetter("kind_label", "kind", "destination", "end_user_data", "category")
_CONTENT_FIELDS = attrgetter("directive", "value")


def diff_app(old: "App | None", new: "App | None") -> AppChange | None:
    """None when nothing a reader can see changed."""
    if old is None and new is None or old is new:
        return None
    status = ADDED if old is None else REMOVED if new is None else CHANGED
    old_scopes = scope_rows(old) if old else ()
    new_scopes = scope_rows(new) if new else ()
    scopes_added, scopes_removed = _added_removed(old_scopes, new_scopes, lambda r: r.scope)
    old_scope_by = {r.scope: r for r in old_scopes}
    scopes_changed = tuple((old_scope_by[r.scope], r) for r in new_scopes if r.scope in old_scope_by and old_scope_by[r.scope].allow_impersonation != r.allow_impersonation)
    old_dest = destinations(old) if old else ()
    new_dest = destinations(new) if new else ()
    egress_added, egress_removed = _added_removed(old_dest, new_dest, lambda d: d.key)
    old_dest_by = {d.key: d for d in old_dest}
    egress_changed = tuple((old_dest_by[d.key], d) for d in new_dest if d.key in old_dest_by and old_dest_by[d.key] != d)
    content_added, content_removed = _added_removed(content_relaxations(old) if old else (), content_relaxations(new) if new else ())
    before = verdict_view(old) if old else None
    after = verdict_view(new) if new else None
    reasons_added, reasons_removed = ((), ())
    if before and after:
        reasons_added, reasons_removed = _added_removed(before.reasons, after.reasons)
    stored_added, stored_removed = _added_removed(_texts(old, "data_stored"), _texts(new, "data_stored"))
    processed_added, processed_removed = _added_removed(_texts(old, "data_processed"), _texts(new, "data_processed"))
    retention_old, retention_new = (getattr(old, "retention", "") if old else ""), (getattr(new, "retention", "") if new else "")
    retention_spans = word_diff(retention_old, retention_new) if old and new and retention_old != retention_new else ()
    summary_old, summary_new = (old.summary if old else ""), (new.summary if new else "")
    summary_spans = word_diff(summary_old, summary_new) if old and new and summary_old != summary_new else ()
    change = AppChange(
        slug=(new or old).slug,  # type: ignore[union-attr]
        name=(new or old).name,  # type: ignore[union-attr]
        old_name=old.name if old else "",
        status=status,
        scopes_added=scopes_added,
        scopes_removed=scopes_removed,
        scopes_changed=scopes_changed,
        egress_added=egress_added,
        egress_removed=egress_removed,
        egress_changed=egress_changed,
        content_added=content_added,
        content_removed=content_removed,
        verdict_before=before,
        verdict_after=after,
        reasons_added=reasons_added,
        reasons_removed=reasons_removed,
        data_stored_added=stored_added,
        data_stored_removed=stored_removed,
        data_processed_added=processed_added,
        data_processed_removed=processed_removed,
        retention_spans=retention_spans,
        summary_spans=summary_spans,
    )
    if status == CHANGED and not (
        change.permissions_changed or stored_added or stored_removed or processed_added or processed_removed
        or retention_spans or summary_spans or old.name != new.name  # type: ignore[union-attr]
    ):
        return None
    return change


def _texts(app: "App | None", name: str) -> tuple[str, ...]:
    return tuple(getattr(app, name, ()) or ()) if app else ()


def diff_apps(old: tuple["App", ...], new: tuple["App", ...], memo: IdentityMemo | None = None) -> tuple[tuple[AppChange, ...], int]:
    """Changes by slug in alphabetical order, and how many apps are unchanged.

    With ``memo``, each new app's change is reused while it and the old edition's apps are the same
    objects: after one edit to the working copy, its diff with the latest release costs one look-up per app.
    """
    old_by = call(memo, apps_by_slug, old)
    new_slugs = {app.slug for app in new}
    if len(old_by) != len(old) or len(new_slugs) != len(new):  # not from the loader: slugs there are folder names
        return _diff_apps_by_slug(old_by, {a.slug: a for a in new})
    changes = [change for change in each(memo, change_from, new, old_by, call(memo, visible_by_slug, old)) if change is not None]
    changes += [change for slug, app in old_by.items() if slug not in new_slugs and (change := diff_app(app, None)) is not None]
    changes.sort(key=lambda change: change.slug)
    return tuple(changes), len(old_by.keys() | new_slugs) - len(changes)


def apps_by_slug(apps: tuple["App", ...]) -> dict[str, "App"]:
    return {app.slug: app for app in apps}


def visible_by_slug(apps: tuple["App", ...]) -> dict[str, tuple]:
    return {app.slug: visible(app) for app in apps}


def change_from(app: "App", old_by: dict[str, "App"], old_visible: dict[str, tuple]) -> AppChange | None:
    """What changed in ``app`` since the app of the same slug in ``old_by``; None when nothing a reader can see."""
    before = old_by.get(app.slug)
    if before is app or (before is not None and old_visible[app.slug] == visible(app)):
        return None
    return diff_app(before, app)


def _diff_apps_by_slug(old_by: dict[str, "App"], new_by: dict[str, "App"]) -> tuple[tuple[AppChange, ...], int]:
    changes: list[AppChange] = []
    unchanged = 0
    for slug in sorted(old_by.keys() | new_by.keys()):
        change = diff_app(old_by.get(slug), new_by.get(slug))
        if change is None:
            unchanged += 1
        else:
            changes.append(change)
    return tuple(changes), unchanged


# ---------------------------------------------------------------------------------------------
# Whole editions


@dataclass(frozen=True)
class EditionDiff:
    facts: tuple[FactChange, ...]
    sections: tuple[SectionChange, ...]
    unchanged_sections: int
    apps: tuple[AppChange, ...]
    unchanged_apps: int

    @property
    def empty(self) -> bool:
        return not (self.facts or self.sections or self.apps)

    @property
    def permission_changes(self) -> tuple[AppChange, ...]:
        """The apps a reviewer must approve again: new, removed, or with changed access or verdict."""
        return tuple(a for a in self.apps if a.status != CHANGED or a.permissions_changed)

    def count(self, status: str) -> int:
        return sum(1 for s in self.sections if s.status == status)


def diff_editions(old: Edition, new: Edition, memo: IdentityMemo | None = None) -> EditionDiff:
    """``memo`` (build and serve) reuses the parts of the diff whose sections, apps or site are the same objects.

    Generators call it as ``call(memo, diff_editions, old, new, memo)``: one diff per pair of
    editions per build, shared by the changes page and the feed.
    """
    sections, unchanged_sections = diff_sections(old.sections, new.sections, memo)
    apps, unchanged_apps = diff_apps(old.apps, new.apps, memo)
    return EditionDiff(call(memo, diff_facts, old.site, new.site), sections, unchanged_sections, apps, unchanged_apps)
