"""/feed.xml: an Atom feed (RFC 4287) of releases, read by a real feed parser and checked element by element."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import feedparser
import pytest
from bs4 import BeautifulSoup
from lxml import etree

from versions_tools import build, new_project, release, set_working

ATOM = "{http://www.w3.org/2005/Atom}"
BASE = "https://versions.example/trust/"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("feed")
    project = new_project(root)
    assert release(project, "1.0", "2025-07-01", "First published version.").code == 0
    set_working(project, "v2")
    assert release(project, "1.1", "2025-09-01", "TLS 1.3 & <incident> response.").code == 0
    out = root / "out"
    assert build(project, out).code == 0
    return project, out


def test_a_real_parser_reads_the_feed_without_complaint(site) -> None:
    _, out = site
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.title == "Versions Example Security Policy: versions"
    assert feed.feed.id == BASE + "feed.xml"
    assert feed.feed.updated == "2025-09-01T00:00:00Z"
    assert feed.feed.author_detail.name == "Versions Example" and feed.feed.author_detail.email == "hello@versions.example"
    assert [(link.rel, link.href) for link in feed.feed.links] == [("self", BASE + "feed.xml"), ("alternate", BASE + "versions/")]
    assert feed.feed.language == "en"


def test_one_entry_per_release_newest_first(site) -> None:
    _, out = site
    entries = feedparser.parse((out / "feed.xml").read_bytes()).entries
    assert [e.id for e in entries] == [BASE + "versions/1.1/", BASE + "versions/1.0/"]
    assert [e.title for e in entries] == ["Version 1.1, effective 1 September 2025", "Version 1.0, effective 1 July 2025"]
    assert [e.updated for e in entries] == ["2025-09-01T00:00:00Z", "2025-07-01T00:00:00Z"]
    assert [e.published for e in entries] == ["2025-09-01T00:00:00Z", "2025-07-01T00:00:00Z"]
    # the link a subscriber follows is what changed; the first release has only its own page
    assert entries[0].link == BASE + "changes/1.0...1.1/"
    assert entries[1].link == BASE + "versions/1.0/"
    assert entries[0].summary == "TLS 1.3 & <incident> response."  # escaped in the XML, intact when read
    content = entries[0].content[0]
    assert content.type == "application/xhtml+xml"
    for fragment in (
        "<li>App Alpha: 1 scope added, 1 scope changed, 1 destination added, Runs on Atlassian eligible to not eligible</li>",
        "<li>App Beta: removed</li>",
        "<li>App Gamma: new app</li>",
        "<li>Section Incident response: added</li>",
        "<li>Facts changed: Last reviewed, Critical fixes deployed</li>",
    ):
        assert fragment in content.value, content.value


def test_every_element_rfc_4287_requires(site) -> None:
    _, out = site
    root = etree.fromstring((out / "feed.xml").read_bytes())
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):  # 4.1.1: exactly one each
        assert len(root.findall(f"{ATOM}{name}")) == 1, name
    assert len(root.findall(f"{ATOM}author")) == 1 and root.find(f"{ATOM}author/{ATOM}name").text  # 4.1.1: author, as entries have none
    assert len(root.findall(f"{ATOM}link[@rel='self']")) == 1
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 2
    for entry in entries:
        for name in ("id", "title", "updated"):  # 4.1.2: exactly one each
            assert len(entry.findall(f"{ATOM}{name}")) == 1, name
        alternates = entry.findall(f"{ATOM}link[@rel='alternate']")
        assert len(alternates) == 1 and alternates[0].get("type") == "text/html"  # no content src, so an alternate link
        assert entry.find(f"{ATOM}summary").text
        div = entry.find(f"{ATOM}content/{{http://www.w3.org/1999/xhtml}}div")
        assert div is not None and entry.find(f"{ATOM}content").get("type") == "xhtml"  # 4.1.3.3: one XHTML div
    for element in root.iter(f"{ATOM}id"):
        assert element.text.startswith("https://")  # IRIs, absolute
    for element in root.iter(f"{ATOM}link"):
        assert element.get("href").startswith(BASE)
    ids = [e.text for e in root.iter(f"{ATOM}id")]
    assert len(ids) == len(set(ids))


def test_the_feed_is_the_same_bytes_whenever_it_is_built(site, tmp_path: Path) -> None:
    project, out = site
    later = tmp_path / "later"
    assert build(project, later, on=date(2026, 3, 1)).code == 0
    assert (later / "feed.xml").read_bytes() == (out / "feed.xml").read_bytes()


def test_pages_announce_the_feed(site) -> None:
    _, out = site
    for page in ("index.html", "versions/index.html", "versions/1.0/index.html", "changes/1.0...1.1/index.html"):
        link = BeautifulSoup((out / page).read_text("utf-8"), "html.parser").find("link", rel="alternate", type="application/atom+xml")
        assert link is not None and link["href"] == BASE + "feed.xml", page


def test_no_feed_before_the_first_release(tmp_path: Path) -> None:
    project = new_project(tmp_path)
    out = tmp_path / "out"
    assert build(project, out).code == 0
    assert not (out / "feed.xml").exists()
    assert "application/atom+xml" not in (out / "index.html").read_text("utf-8")
