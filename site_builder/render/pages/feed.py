"""``/feed.xml``: an Atom feed (RFC 4287) with one entry per release, newest first.

Customers subscribe to hear of a new version the day it is published. Everything in it comes from
the releases themselves (no build time), so the feed is byte-identical for the same releases:
ids are the releases' permanent URLs, ``updated`` is the release date at 00:00 UTC (the feed's is
the latest release's), and each entry links to its changes page (the first release to its page).
There is no feed before the first release, as there is nothing to announce.
"""

from __future__ import annotations

from datetime import date
from typing import Iterator
from xml.sax.saxutils import escape

from ...content.dates import long_date
from ...releases.diff import EditionDiff, diff_editions
from ...cache.memo import IdentityMemo, call
from ...content.model import Release
from ..engine import Asset, RenderContext, absolute_url
from .links import version_path
from .versions import changes_path

FEED_PATH = "feed.xml"
ATOM = "http://www.w3.org/2005/Atom"
XHTML = "http://www.w3.org/1999/xhtml"


def timestamp(value: date) -> str:
    """An RFC 3339 date-time, as Atom requires: the effective date at midnight UTC."""
    return f"{value.isoformat()}T00:00:00Z"


def feed_pages(ctx: RenderContext) -> Iterator[Asset]:
    releases = ctx.project.releases
    if releases:
        yield call(ctx.memo, feed_asset, ctx.memo, *releases)


def feed_asset(memo: IdentityMemo | None, *releases: Release) -> Asset:
    """The feed of ``releases``, oldest first; each release's changes are the ones its changes page shows (one diff per build)."""
    changes = tuple(call(memo, diff_editions, previous.edition, release.edition, memo) for previous, release in zip(releases, releases[1:]))
    return Asset(FEED_PATH, atom_feed(releases, changes))


def atom_feed(releases: tuple[Release, ...], changes: tuple[EditionDiff, ...]) -> bytes:
    """``changes[i]`` is what ``releases[i + 1]`` changed from ``releases[i]``."""
    latest = releases[-1]
    site = latest.edition.site  # the published site's identity, even in a draft preview
    base = site.base_url
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<feed xmlns="{ATOM}" xml:lang="{_attr(site.language)}">',
        f"  <id>{_esc(absolute_url(base, FEED_PATH))}</id>",
        f"  <title>{_esc(site.organisation.name)} {_esc(site.policy.short_title)}: versions</title>",
        f"  <subtitle>{_esc(f'Each new version of {site.policy.title}, with what changed in the policy text and in each app’s permissions.')}</subtitle>",
        f"  <updated>{timestamp(latest.date)}</updated>",
        _link(absolute_url(base, FEED_PATH), "self", "application/atom+xml"),
        _link(absolute_url(base, "versions/"), "alternate", "text/html"),
        "  <author>",
        f"    <name>{_esc(site.organisation.name)}</name>",
        f"    <uri>{_esc(site.organisation.website)}</uri>",
        f"    <email>{_esc(site.organisation.email)}</email>",
        "  </author>",
    ]
    if site.copyright:
        lines.append(f"  <rights>{_esc(site.copyright)}</rights>")
    for index in reversed(range(len(releases))):
        lines.extend(entry(base, releases[index], releases[index - 1] if index else None, changes[index - 1] if index else None))
    lines.append("</feed>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def entry(base: str, release: Release, previous: Release | None, changes: EditionDiff | None) -> list[str]:
    """One release: its permanent URL as id, its changes page as the link a reader follows."""
    page = absolute_url(base, version_path(release))
    lines = [
        "  <entry>",
        f"    <id>{_esc(page)}</id>",
        f"    <title>Version {_esc(str(release.version))}, effective {long_date(release.date)}</title>",
        f"    <published>{timestamp(release.date)}</published>",
        f"    <updated>{timestamp(release.date)}</updated>",
    ]
    if previous is not None:
        lines.append(_link(absolute_url(base, changes_path(previous, release)), "alternate", "text/html", f"Changes from version {previous.version}", indent=4))
        lines.append(_link(page, "related", "text/html", f"Version {release.version}", indent=4))
    else:
        lines.append(_link(page, "alternate", "text/html", f"Version {release.version}", indent=4))
    lines.append(f"    <summary>{_esc(release.summary)}</summary>")
    lines.append('    <content type="xhtml">')
    lines.append(f'      <div xmlns="{XHTML}">')
    lines.append(f"        <p>{_esc(release.summary)}</p>")
    if previous is not None and changes is not None:
        lines.append(f"        <p>Changes from version {_esc(str(previous.version))}:</p>")
        lines.append("        <ul>")
        lines.extend(f"          <li>{_esc(line)}</li>" for line in change_lines(changes))
        lines.append("        </ul>")
    else:
        lines.append("        <p>The first published version.</p>")
    lines += ["      </div>", "    </content>", "  </entry>"]
    return lines


def change_lines(changes: EditionDiff) -> list[str]:
    """The changes page in a few lines: what a subscriber needs to decide whether to read it."""
    lines = []
    for app in changes.permission_changes:
        lines.append(f"App {app.name}: " + ("new app" if app.status == "added" else "removed" if app.status == "removed" else _app_summary(app)))
    for section in changes.sections:
        lines.append(f"Section {section.title}: {section.status}" + (", moved" if section.moved else ""))
    if changes.facts:
        lines.append("Facts changed: " + ", ".join(f.label for f in changes.facts))
    return lines or ["Nothing a reader can see changed."]


def _app_summary(app) -> str:
    parts = []
    for label, items in (("scopes added", app.scopes_added), ("scopes removed", app.scopes_removed), ("scopes changed", app.scopes_changed),
                         ("destinations added", app.egress_added), ("destinations removed", app.egress_removed), ("destinations changed", app.egress_changed)):
        if items:
            noun, verb = label.split(" ")
            parts.append(f"{len(items)} {noun if len(items) != 1 else noun[:-1]} {verb}")
    if app.verdict_changed:
        parts.append(f"Runs on Atlassian {app.verdict_before.label} to {app.verdict_after.label}")
    elif app.reasons_added or app.reasons_removed:
        parts.append("Runs on Atlassian reasons changed")
    if app.content_added or app.content_removed:
        parts.append("content security changed")
    return ", ".join(parts)


def _esc(text: str) -> str:
    return escape(text)


def _attr(text: str) -> str:
    return escape(text, {'"': "&quot;"})


def _link(href: str, rel: str, kind: str, title: str = "", indent: int = 2) -> str:
    title_attribute = f' title="{_attr(title)}"' if title else ""
    return f'{" " * indent}<link rel="{rel}" type="{kind}" href="{_attr(href)}"{title_attribute}/>'
