"""The publishing kit: security.txt, _headers, sitemap and robots, the JSON export, the Marketplace kit and badges.

Each file is checked with a real parser or validator where one exists: sectxt for security.txt,
lxml with the sitemaps.org XSD, jsonschema for the export, an XML parser for the badges.
"""

from __future__ import annotations

import fnmatch
import json
import posixpath
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from jsonschema import Draft202012Validator, FormatChecker
from lxml import etree
from sectxt import Parser

from publishing_support import FIXTURE_BASE_URL, RELEASE_DATE, build_fixture, make_project, parse_headers_file, render_fixture
from site_builder.forge.apps import App
from site_builder.render.badges import Badge, badge_svg
from site_builder.cli import main
from site_builder.render.security_headers import content_security_policy
from site_builder.render.pages.marketplace import BadgeKit
from site_builder.render.pages.security_txt import security_txt_problems
from site_builder.forge.privacy import QUESTIONS, unanswered_fields
from site_builder.errors import Problems
from site_builder.releases.project import load_edition

XSD = Path(__file__).resolve().parent / "fixtures" / "sitemaps" / "sitemap.xsd"
SCHEMAS = Path(__file__).resolve().parents[1] / "site_builder" / "schemas"
SVG = "{http://www.w3.org/2000/svg}"
BASE_URLS = ["https://example.com/", "https://example.com/trust/"]


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> tuple:
    """The fixture released as 1.0 at https://example.com/trust/: (ctx, out). Tests only read it."""
    return build_fixture(tmp_path_factory.mktemp("released"))


@pytest.fixture(scope="module")
def draft(tmp_path_factory) -> tuple:
    return build_fixture(tmp_path_factory.mktemp("draft"), released=False)


@pytest.fixture(scope="module")
def at_root(tmp_path_factory) -> tuple:
    return build_fixture(tmp_path_factory.mktemp("root"), "https://example.com/")


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_bytes(), "lxml")


def html_pages(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


def matching_headers(rules: dict[str, list[tuple[str, str]]], url_path: str) -> list[tuple[str, str]]:
    return [header for pattern, headers in rules.items() if fnmatch.fnmatchcase(url_path, pattern) for header in headers]


def ids_of(path: Path) -> set[str]:
    return {tag["id"] for tag in soup(path).find_all(id=True)}


# --- security.txt -------------------------------------------------------------------------------------------


def test_security_txt_is_valid_rfc_9116_for_sectxt(tmp_path):
    today = datetime.now(timezone.utc).date()
    _, out = build_fixture(tmp_path, build_date=today)
    content = (out / ".well-known" / "security.txt").read_bytes()
    canonical = FIXTURE_BASE_URL + ".well-known/security.txt"
    parser = Parser(content, urls=canonical)
    assert parser.is_valid(), parser.errors
    assert parser.errors == []
    # unsigned is the only recommendation left: Encryption is configured, Expires is under a year away
    assert [r["code"] for r in parser.recommendations] == ["not_signed"]
    assert [n["code"] for n in parser.notifications] == []
    assert parser.contact_emails == ["security@example.com"]
    assert parser.contact_urls == ["https://support.example.com/portal"]
    assert parser.preferred_languages == ["en", "vi"]
    fields = {line["field_name"]: line["value"] for line in parser.lines if line["type"] == "field"}
    assert fields["expires"] == f"{(today + timedelta(days=180)).isoformat()}T00:00:00Z"
    assert fields["policy"] == "https://example.com/trust/#vulnerability-reporting"
    assert fields["encryption"] == "https://example.com/pgp-key.txt"
    assert fields["acknowledgments"] == "https://example.com/thanks"
    canonicals = [line["value"] for line in parser.lines if line.get("field_name") == "canonical"]
    assert canonicals == ["https://example.com/.well-known/security.txt", canonical]
    # the Policy URL is a real section of the published page
    assert "vulnerability-reporting" in ids_of(out / "index.html")
    # order: preferred contact first
    assert content.decode().index("Contact: mailto:") < content.decode().index("Contact: https://")


def test_security_txt_at_a_domain_root_has_one_canonical_and_is_valid_there(tmp_path):
    today = datetime.now(timezone.utc).date()
    _, out = build_fixture(tmp_path, "https://trust.example.org/", build_date=today)
    parser = Parser((out / ".well-known/security.txt").read_bytes(), urls="https://trust.example.org/.well-known/security.txt")
    assert parser.is_valid(), parser.errors
    assert [line["value"] for line in parser.lines if line.get("field_name") == "canonical"] == ["https://trust.example.org/.well-known/security.txt"]


def test_expires_is_source_date_epoch_plus_the_configured_days_and_under_a_year(tmp_path, monkeypatch):
    root = make_project(tmp_path)
    site = root / "content" / "site.yaml"
    site.write_text(site.read_text("utf-8").replace("expires_after_days: 180", "expires_after_days: 365"), "utf-8")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(datetime(2025, 7, 1, 15, 30, tzinfo=timezone.utc).timestamp())))
    assert main(["build", "--project", str(root), "--out", str(tmp_path / "out")]) == 0
    text = (tmp_path / "out" / ".well-known" / "security.txt").read_text("utf-8")
    expires = re.search(r"^Expires: (.+)$", text, re.M).group(1)
    assert expires == "2026-07-01T00:00:00Z"
    moment = datetime.fromisoformat(expires.replace("Z", "+00:00"))
    assert moment - datetime(2025, 7, 1, tzinfo=timezone.utc) <= timedelta(days=365)


def test_a_year_and_more_is_refused_by_the_schema(tmp_path, capsys):
    root = make_project(tmp_path)
    site = root / "content" / "site.yaml"
    site.write_text(site.read_text("utf-8").replace("expires_after_days: 180", "expires_after_days: 400"), "utf-8")
    assert main(["build", "--project", str(root), "--out", str(tmp_path / "out")]) == 1
    assert "expires_after_days" in capsys.readouterr().err


def test_without_a_vulnerability_reporting_section_policy_is_omitted_with_a_warning(tmp_path):
    root = make_project(tmp_path, drop=("policy/03-vulnerability-reporting.md",))
    ctx, site = render_fixture(root, build_date=datetime.now(timezone.utc).date())
    text = site.files[".well-known/security.txt"].decode()
    assert "Policy:" not in text
    assert Parser(text.encode(), urls=FIXTURE_BASE_URL + ".well-known/security.txt").is_valid()
    problems = security_txt_problems(ctx.edition)
    assert [(p.severity, p.key) for p in problems] == [("warning", "security_txt")]
    assert "vulnerability-reporting" in problems[0].message
    assert security_txt_problems(render_fixture(make_project(tmp_path / "with"))[0].edition) == []


# --- headers ------------------------------------------------------------------------------------------------


def test_headers_file_sends_a_strict_policy_for_every_path(released):
    _, out = released
    rules = parse_headers_file((out / "_headers").read_text("utf-8"))
    every = dict(rules["/trust/*"])
    assert every["Content-Security-Policy"] == "default-src 'none'; img-src 'self'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    assert every["Strict-Transport-Security"].startswith("max-age=31536000")
    assert every["X-Content-Type-Options"] == "nosniff"
    assert every["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in every["Permissions-Policy"] and "geolocation=()" in every["Permissions-Policy"]
    assert "X-Robots-Tag" not in every  # a released build is indexable
    assert dict(rules["/trust/marketplace/*"]) == {"X-Robots-Tag": "noindex"}
    assert dict(rules["/trust/.well-known/security.txt"])["Content-Type"] == "text/plain; charset=utf-8"
    assert dict(rules["/trust/trust.json"]) == {"Access-Control-Allow-Origin": "*"}
    # both hosts join the values of a header set by two matching rules: no file may match a header twice
    for file in out.rglob("*"):
        if file.is_file():
            names = [name for name, _ in matching_headers(rules, "/trust/" + file.relative_to(out).as_posix())]
            assert len(names) == len(set(names)), (file, names)


def test_headers_at_a_domain_root_start_at_slash(at_root):
    _, out = at_root
    rules = parse_headers_file((out / "_headers").read_text("utf-8"))
    assert "/*" in rules and "/.well-known/security.txt" in rules and "/marketplace/*" in rules


def test_meta_fallback_matches_the_header_policy_on_every_page(released):
    _, out = released
    rules = parse_headers_file((out / "_headers").read_text("utf-8"))
    header = dict(rules["/trust/*"])
    expected_meta = "; ".join(d for d in header["Content-Security-Policy"].split("; ") if not d.startswith("frame-ancestors"))
    assert expected_meta == content_security_policy(meta=True)
    pages = html_pages(out)
    assert len(pages) >= 6
    for page in pages:
        document = soup(page)
        metas = document.find_all("meta", attrs={"http-equiv": "Content-Security-Policy"})
        assert [m["content"] for m in metas] == [expected_meta], page
        assert document.find("meta", attrs={"name": "referrer"})["content"] == header["Referrer-Policy"]


def test_pages_need_nothing_the_policy_forbids(released):
    """No script, inline style, form, frame or plug-in; every image and style sheet from the site itself."""
    _, out = released
    for page in html_pages(out):
        document = soup(page)
        assert not document.find_all(["script", "style", "form", "iframe", "frame", "object", "embed", "base"]), page
        for tag in document.find_all(True):
            assert "style" not in tag.attrs, (page, tag.name)
            assert not any(name.startswith("on") for name in tag.attrs), (page, tag.name)
        resources = [img["src"] for img in document.find_all("img")]
        resources += [link["href"] for link in document.find_all("link") if {"stylesheet", "icon"} & set(link.get("rel", []))]
        for url in resources:
            assert not urlsplit(url).scheme and not url.startswith("//"), (page, url)


# --- sitemap and robots -------------------------------------------------------------------------------------


@pytest.mark.parametrize("site, base_url", [("at_root", BASE_URLS[0]), ("released", BASE_URLS[1])])
def test_sitemap_is_valid_against_the_sitemaps_org_schema(request, site, base_url):
    _, out = request.getfixturevalue(site)
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    document = etree.parse(str(out / "sitemap.xml"))
    schema.assertValid(document)
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = document.xpath("//s:url/s:loc/text()", namespaces=ns)
    assert len(locs) == len(set(locs))
    assert all(loc.startswith(base_url) for loc in locs)
    assert not any("marketplace" in loc or "404" in loc or loc.endswith("index.html") for loc in locs)
    assert base_url + "apps/notes-keeper/" in locs
    # every listed URL is a page of the output, and every listed page is indexable and canonical to itself
    for loc in locs:
        page = out / (loc[len(base_url):] + "index.html")
        assert page.is_file(), loc
        document_html = soup(page)
        assert document_html.find("meta", attrs={"name": "robots"}) is None
        assert document_html.find("link", rel="canonical")["href"] == loc


def test_robots_points_to_the_sitemap(released, at_root):
    _, out = released
    robots = (out / "robots.txt").read_text("utf-8")
    assert "Sitemap: https://example.com/trust/sitemap.xml" in robots.splitlines()
    assert "User-agent: *" in robots and "Disallow:" in robots.splitlines()
    assert "https://example.com/robots.txt" in robots  # says where crawlers look when the site is at a subpath
    assert "Sitemap: https://example.com/sitemap.xml" in (at_root[1] / "robots.txt").read_text("utf-8").splitlines()


def test_the_marketplace_kit_and_404_are_noindex_and_not_in_the_sitemap(released):
    _, out = released
    sitemap = (out / "sitemap.xml").read_text("utf-8")
    for path in ("marketplace/index.html", "404.html"):
        assert soup(out / path).find("meta", attrs={"name": "robots"})["content"] == "noindex"
    assert "marketplace" not in sitemap


def test_a_draft_has_no_sitemap_and_asks_not_to_be_indexed(draft):
    _, out = draft
    assert not (out / "sitemap.xml").exists()
    robots = (out / "robots.txt").read_text("utf-8")
    assert "Sitemap:" not in robots and "Disallow:" in robots.splitlines()
    assert dict(parse_headers_file((out / "_headers").read_text("utf-8"))["/trust/*"])["X-Robots-Tag"] == "noindex"
    for page in html_pages(out):
        assert soup(page).find("meta", attrs={"name": "robots"})["content"] == "noindex", page


# --- machine-readable export --------------------------------------------------------------------------------


def validator(out: Path, name: str) -> Draft202012Validator:
    schema = json.loads((out / name).read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def test_trust_json_is_valid_against_its_published_schema(released):
    _, out = released
    trust = json.loads((out / "trust.json").read_text("utf-8"))
    errors = [f"{e.json_path}: {e.message}" for e in validator(out, "trust.schema.json").iter_errors(trust)]
    assert errors == []
    assert trust["$schema"] == "https://example.com/trust/trust.schema.json"
    assert trust["organisation"]["legalName"] == "Example Apps Ltd"
    assert trust["contacts"]["securityEmail"] == "security@example.com"
    policy = trust["policy"]
    assert (policy["status"], policy["version"], policy["effectiveDate"], policy["lastReviewed"]) == ("released", "1.0", "2025-07-01", "2025-06-15")
    assert policy["permanentUrl"] == "https://example.com/trust/versions/1.0/"
    assert [s["anchor"] for s in trust["sections"]] == ["introduction", "data-residency", "vulnerability-reporting"]
    residency = trust["sections"][1]
    assert residency["url"] == "https://example.com/trust/#data-residency"
    assert residency["permanentUrl"] == "https://example.com/trust/versions/1.0/#data-residency"
    assert trust["releases"] == [{"version": "1.0", "date": "2025-07-01", "summary": "First release.", "url": "https://example.com/trust/versions/1.0/"}]
    apps = {app["slug"]: app for app in trust["apps"]}
    assert [s["scope"] for s in apps["notes-keeper"]["scopes"]] == ["read:jira-work", "storage:app"]
    assert apps["notes-keeper"]["verdict"]["runsOnAtlassian"] is True
    assert apps["notes-keeper"]["residency"]["isDataResidencySupported"] == "supported"
    bridge = apps["sync-bridge"]
    assert bridge["verdict"]["runsOnAtlassian"] is False
    assert {r["code"] for r in bridge["verdict"]["reasons"]} == {"remote"}
    assert [r["key"] for r in bridge["remotes"]] == ["remote-backend", "logging"]
    assert bridge["remotes"][0]["baseUrls"][1] == {"region": "EU", "url": "https://eu.backend.example.net"}
    assert bridge["residency"]["remoteRegions"][0] == {"remote": "remote-backend", "regions": ["EU", "US"]}
    assert {row["address"] for row in bridge["egress"]} == {"https://backend.example.net", "https://logs.example.net"}


def test_trust_json_of_a_draft_has_no_version(draft):
    _, out = draft
    trust = json.loads((out / "trust.json").read_text("utf-8"))
    assert not list(validator(out, "trust.schema.json").iter_errors(trust))
    assert (trust["policy"]["status"], trust["policy"]["version"], trust["policy"]["permanentUrl"]) == ("draft", None, None)
    assert all(section["permanentUrl"] is None for section in trust["sections"])


def test_privacy_and_security_json_per_app_is_valid_and_says_only_what_content_answers(released):
    ctx, out = released
    check = validator(out, "privacy-and-security.schema.json")
    apps: dict[str, App] = {app.slug: app for app in ctx.edition.apps}
    documents = {}
    for slug, app in apps.items():
        document = json.loads((out / "apps" / slug / "privacy-and-security.json").read_text("utf-8"))
        assert [f"{e.json_path}: {e.message}" for e in check.iter_errors(document)] == []
        assert document["unanswered"] == unanswered_fields(app)
        for field in document["unanswered"]:  # every open question is null, never a guess
            section, key = field.split(".")
            assert document[section][key] is None, field
            assert field in QUESTIONS
        documents[slug] = document
    keeper = documents["notes-keeper"]
    assert keeper["dataAccessAndStorage"]["appStoresEndUserDataOutsideAtlassian"] is False
    assert keeper["dataAccessAndStorage"]["typesOfDataStored"] == ["The text of each note and the ID of its issue"]
    assert keeper["thirdPartyInformation"]["isEndUserDataShared"] is False
    assert keeper["dataResidency"]["isDataResidencySupported"] == "supported"
    assert keeper["dataRetention"]["retention"].startswith("Notes are kept")
    assert keeper["security"] == {
        "securityContact": "security@example.com",
        "supportPortal": "https://support.example.com/portal",
        "publicSecurityPoliciesLink": "https://example.com/trust/",
        "vulnerabilityReportingUrl": "https://example.com/trust/#vulnerability-reporting",
        "securityTxt": "https://example.com/trust/.well-known/security.txt",
        "permissionsJustification": "read:jira-work: Reads the issue the panel is shown on.\nstorage:app: Keeps the notes.",
    }
    assert keeper["unanswered"] == ["logDetails.isEndUserDataInLogs"]
    assert keeper["app"]["listingUrl"] == "https://marketplace.atlassian.com/apps/1/notes-keeper"
    assert keeper["policy"] == {"version": "1.0", "url": "https://example.com/trust/", "permanentUrl": "https://example.com/trust/versions/1.0/"}
    bridge = documents["sync-bridge"]
    assert bridge["dataAccessAndStorage"]["appStoresEndUserDataOutsideAtlassian"] is True  # remote with storage
    assert bridge["dataAccessAndStorage"]["appProcessesEndUserDataOutsideAtlassian"] is True
    assert bridge["unanswered"] == [
        "thirdPartyInformation.isEndUserDataShared",
        "logDetails.logsLeaveAtlassian",
        "logDetails.isEndUserDataInLogs",
        "dataResidency.isDataResidencySupported",
        "dataRetention.retention",
        "security.permissionsJustification",  # write:jira-work has no reason in app.yaml
    ]
    assert [d["purpose"] for d in bridge["thirdPartyInformation"]["remoteBackEnds"]] == ["The vendor's service that stores and syncs issues.", "Collects error reports."]


def test_the_two_schemas_share_identical_definitions_and_are_published_unchanged(released):
    _, out = released
    trust = json.loads((SCHEMAS / "trust.schema.json").read_text("utf-8"))
    privacy = json.loads((SCHEMAS / "privacy-and-security.schema.json").read_text("utf-8"))
    assert trust["$defs"] == privacy["$defs"]
    for name in ("trust.schema.json", "privacy-and-security.schema.json"):
        assert (out / name).read_bytes() == (SCHEMAS / name).read_bytes()


def test_unanswered_fields_of_the_default_sample_apps():
    problems = Problems()
    edition = load_edition(Path(__file__).resolve().parents[1] / "content", "content", problems)
    assert edition is not None
    for app in edition.apps:  # the samples answer everything the content can answer
        assert unanswered_fields(app) == ["logDetails.isEndUserDataInLogs"], app.slug


# --- Marketplace kit and badges -----------------------------------------------------------------------------


def test_marketplace_kit_lists_the_exact_urls_for_each_listing(released):
    ctx, out = released
    document = soup(out / "marketplace" / "index.html")
    assert document.find("meta", attrs={"name": "robots"})["content"] == "noindex"
    assert len(document.find_all("h1")) == 1
    section = document.find(id="app-notes-keeper")
    values = [code.get_text() for code in section.select(".kit-links code")]
    assert values == [
        "https://example.com/trust/",
        "https://example.com/trust/apps/notes-keeper/",
        "https://example.com/trust/apps/notes-keeper/#permissions",
        "https://example.com/trust/apps/notes-keeper/#data-residency",
        "https://example.com/trust/versions/1.0/",
        "https://example.com/trust/#vulnerability-reporting",
        "security@example.com",
        "https://example.com/trust/apps/notes-keeper/privacy-and-security.json",
    ]
    assert section.select(".kit-links a")[6]["href"] == "mailto:security@example.com"
    # the anchors the kit hands out exist on the app page
    assert {"permissions", "data-residency"} <= ids_of(out / "apps" / "notes-keeper" / "index.html")
    unanswered = [li.find("code").get_text() for li in document.find(id="app-sync-bridge").select(".kit-unanswered li")]
    assert unanswered == unanswered_fields(next(a for a in ctx.edition.apps if a.slug == "sync-bridge"))


def test_kit_snippets_embed_the_published_badges(released):
    _, out = released
    document = soup(out / "marketplace" / "index.html")
    policy = document.find(id="policy-badge")
    markdown, html_snippet = [pre.get_text() for pre in policy.find_all("pre")]
    title = "Security policy: v1.0 \u00b7 1 July 2025"
    assert markdown == f"[![{title}](https://example.com/trust/badges/policy.svg)](https://example.com/trust/)"
    snippet = BeautifulSoup(html_snippet, "html.parser")
    assert snippet.a["href"] == "https://example.com/trust/"
    assert (snippet.img["src"], snippet.img["alt"], snippet.img["height"]) == ("https://example.com/trust/badges/policy.svg", title, "20")
    preview = policy.find("img")
    assert (out / "marketplace" / preview["src"]).resolve() == (out / "badges" / "policy.svg").resolve()
    assert preview["alt"] == title
    bridge = document.find(id="app-sync-bridge")
    markdown = bridge.find_all("pre")[0].get_text()
    assert markdown.startswith(r"[![Security & permissions: Sync \[Bridge\] <Pro>](https://example.com/trust/badges/apps/sync-bridge.svg)")


def test_markdown_snippet_escapes_brackets_and_html_snippet_escapes_markup():
    kit = BadgeKit(Badge("Label", 'A [b] "c" <d>'), "badges/x.svg", "https://e.example/badges/x.svg", "https://e.example/")
    assert kit.markdown == r'[![Label: A \[b\] "c" <d>](https://e.example/badges/x.svg)](https://e.example/)'
    assert BeautifulSoup(kit.html, "html.parser").img["alt"] == 'Label: A [b] "c" <d>'


def badge_files(out: Path) -> list[Path]:
    files = sorted((out / "badges").rglob("*.svg"))
    assert [f.relative_to(out).as_posix() for f in files] == ["badges/apps/notes-keeper.svg", "badges/apps/sync-bridge.svg", "badges/policy.svg"]
    return files


def test_badges_are_valid_self_contained_svg(released):
    _, out = released
    for file in badge_files(out):
        root = etree.fromstring(file.read_bytes(), etree.XMLParser(resolve_entities=False, no_network=True))
        assert root.tag == f"{SVG}svg"
        assert root.get("role") == "img" and root.get("aria-label")
        assert root.find(f"{SVG}title").text == root.get("aria-label")
        for element in root.iter():
            assert etree.QName(element).localname not in ("script", "style", "foreignObject", "image", "use", "a", "link"), file
            for name, value in element.attrib.items():
                local = etree.QName(name).localname
                assert local != "href" and local != "style" and not local.startswith("on"), (file, name)
                assert "url(" not in value and "http:" not in value and "https:" not in value, (file, name, value)
        assert int(root.get("width")) > 0 and root.get("height") == "20"
    policy = etree.parse(str(out / "badges" / "policy.svg")).getroot()
    assert [t.text for t in policy.iter(f"{SVG}text")] == ["Security policy", "v1.0 \u00b7 1 July 2025"]


def luminance(colour: str) -> float:
    """WCAG 2.1 relative luminance, computed here independently of site_builder.render.badges."""
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def test_badge_text_has_at_least_4_5_to_1_contrast_with_every_background(released, draft):
    for file in badge_files(released[1]) + badge_files(draft[1]):  # the draft badge has its own colour
        root = etree.parse(str(file)).getroot()
        texts = [t.get("fill") or t.getparent().get("fill") for t in root.iter(f"{SVG}text")]
        backgrounds = {rect.get("fill") for rect in root.iter(f"{SVG}rect")}
        assert texts and backgrounds
        for text in texts:
            for background in backgrounds:
                lighter, darker = sorted((luminance(text), luminance(background)), reverse=True)
                assert (lighter + 0.05) / (darker + 0.05) >= 4.5, (file.name, text, background)


def test_badge_text_is_escaped_xml():
    hostile = Badge('<script>alert(1)</script> & "x"', "]]> <!-- -->")
    root = etree.fromstring(badge_svg(hostile))
    assert [t.text for t in root.iter(f"{SVG}text")] == ['<script>alert(1)</script> & "x"', "]]> <!-- -->"]
    assert root.find(f"{SVG}script") is None


# --- any host, any path, and from disk ----------------------------------------------------------------------


def link_problems(out: Path, base_url: str) -> list[str]:
    """Every href and src of every page: relative ones resolve to a file (and #anchor) in the output."""
    base_path = urlsplit(base_url).path
    documents = {page.relative_to(out).as_posix(): soup(page) for page in html_pages(out)}
    ids = {path: {tag["id"] for tag in document.find_all(id=True)} for path, document in documents.items()}
    problems = []
    for here, document in documents.items():
        for tag in document.find_all(True):
            for attribute in ("href", "src"):
                value = tag.get(attribute)
                if value is None:
                    continue
                if urlsplit(value).scheme:
                    if urlsplit(value).scheme not in ("https", "mailto"):
                        problems.append(f"{here}: {value}: not https: or mailto:")
                    continue
                path, _, fragment = value.partition("#")
                if value.startswith("/"):
                    if here != "404.html" or not path.startswith(base_path):
                        problems.append(f"{here}: {value}: root-relative link")
                        continue
                    target = path[len(base_path):]
                elif path == "":
                    target = here
                else:
                    if path.endswith("/"):
                        problems.append(f"{here}: {value}: a folder link does not open from disk")
                    target = posixpath.normpath(posixpath.join(posixpath.dirname(here), path))
                if target in ("", ".") or target.endswith("/"):
                    target += "index.html"
                if target.startswith("../") or not (out / target).is_file():
                    problems.append(f"{here}: {value}: no such file {target}")
                elif fragment and target.endswith(".html") and fragment not in ids[target]:
                    problems.append(f"{here}: {value}: no id {fragment!r} in {target}")
    return problems


@pytest.mark.parametrize("site, base_url", [("at_root", BASE_URLS[0]), ("released", BASE_URLS[1])])
def test_every_link_works_at_any_host_and_path_and_from_disk(request, site, base_url):
    _, out = request.getfixturevalue(site)
    assert link_problems(out, base_url) == []
    for page in html_pages(out):
        canonical = soup(page).find("link", rel="canonical")["href"]
        assert canonical.startswith(base_url) and not canonical.endswith("index.html"), (page, canonical)
    index = soup(out / "index.html")
    assert index.find("link", rel="canonical")["href"] == base_url + "versions/1.0/"
    footer = [a["href"] for a in index.select(".site-footer a")]
    assert ".well-known/security.txt" in footer and "trust.json" in footer
    # the machine-readable files say the same address
    assert json.loads((out / "trust.json").read_text("utf-8"))["url"] == base_url
    assert f"Canonical: {base_url}.well-known/security.txt" in (out / ".well-known/security.txt").read_text("utf-8")


@pytest.mark.parametrize("site, base_url", [("at_root", BASE_URLS[0]), ("released", BASE_URLS[1])])
def test_feed_links_are_absolute_from_the_base_url(request, site, base_url):
    _, out = request.getfixturevalue(site)
    feeds = [(page, link["href"]) for page in html_pages(out) for link in soup(page).find_all("link", rel="alternate")]
    assert all(href.startswith(base_url + "feed.xml") for _, href in feeds), [(p.relative_to(out).as_posix(), h) for p, h in feeds if not h.startswith(base_url)][:3]


def test_output_is_identical_for_identical_input(tmp_path):
    first = render_fixture(make_project(tmp_path / "a"))[1].files
    second = render_fixture(make_project(tmp_path / "b"))[1].files
    assert first == second


def test_the_default_project_builds_with_the_publishing_kit(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(datetime(2025, 7, 1, tzinfo=timezone.utc).timestamp())))
    root = Path(__file__).resolve().parents[1]
    out = tmp_path / "site"
    assert main(["build", "--project", str(root), "--out", str(out)]) == 0
    for path in (".well-known/security.txt", "_headers", "robots.txt", "trust.json", "trust.schema.json", "marketplace/index.html", "badges/policy.svg"):
        assert (out / path).is_file(), path
    assert link_problems(out, "https://techlead.vn/trust/") == []
    trust = json.loads((out / "trust.json").read_text("utf-8"))
    assert not list(validator(out, "trust.schema.json").iter_errors(trust))
    assert trust["contacts"]["securityEmail"] == "atlassian@techlead.vn"
    assert date.fromisoformat(trust["policy"]["lastReviewed"]) == RELEASE_DATE
