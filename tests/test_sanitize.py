"""No active content reaches a page: Markdown's raw HTML is sanitized, YAML URLs must be https:, YAML text is escaped.

The rich-markdown fixture holds the Markdown features authors use (tables, definition lists,
footnotes, attribute lists, fenced code) and raw HTML an author might paste. The hostile-input
corpus of issue 9 lives in tests/bad_inputs/; this file covers issue 2's list.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from site_builder.content.markup import render_markdown, sanitize

ACTIVE_TAGS = ["script", "style", "iframe", "frame", "object", "embed", "svg", "math", "form", "input", "button", "link", "meta", "base"]
BAD_URL = re.compile(r"^\s*(javascript|data|vbscript|file|http):", re.IGNORECASE)


@pytest.fixture(scope="module")
def rich(copy_fixture, build_project, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, BeautifulSoup]:
    tmp = tmp_path_factory.mktemp("rich")
    project = copy_fixture("rich-markdown", tmp)
    code, _, stderr = build_project(project, tmp / "out", "--draft")
    assert code == 0, stderr
    html = (tmp / "out" / "index.html").read_text("utf-8")
    return html, BeautifulSoup(html, "html.parser")


def urls(soup: BeautifulSoup) -> list[str]:
    return [value for tag in soup.find_all(True) for name, value in tag.attrs.items() if name in ("href", "src", "action", "formaction", "srcset", "poster", "xlink:href")]


# --- raw HTML in Markdown ------------------------------------------------------------------------


def test_script_and_other_active_tags_are_removed_with_their_content(rich) -> None:
    html, soup = rich
    section = soup.select_one("section#raw-html")
    assert not section.find_all(ACTIVE_TAGS)
    assert not soup.find_all(["script", "style", "iframe", "svg", "form"])
    assert "alert(" not in html  # script bodies and handler code are gone, not escaped into text
    assert "display: none" not in html


def test_event_handlers_and_style_attributes_are_removed(rich) -> None:
    _, soup = rich
    for tag in soup.find_all(True):
        assert not [name for name in tag.attrs if name.lower().startswith("on")], str(tag)[:80]
        assert "style" not in tag.attrs, str(tag)[:80]


def test_javascript_and_data_urls_are_removed(rich) -> None:
    _, soup = rich
    section = soup.select_one("section#raw-html")
    for link_text in (
        "raw javascript link",
        "mixed-case javascript link",
        "entity javascript link",
        "raw data link",
        "markdown javascript link",
        "markdown data link",
    ):
        link = section.find("a", string=link_text)
        assert link is not None, link_text  # the text stays, the link target goes
        assert "href" not in link.attrs, f"{link_text}: {link.attrs}"
    image = section.find("img")
    assert image is None or "src" not in image.attrs
    for url in urls(soup):
        assert not BAD_URL.match(url), url


def test_harmless_text_around_hostile_html_survives(rich) -> None:
    _, soup = rich
    text = soup.select_one("section#raw-html").get_text(" ")
    for words in ("Raw HTML that an author pasted", "Click-me text stays.", "Styled text stays, its style does not.", "Safe text after the hostile parts."):
        assert words in text


# --- Markdown features survive sanitizing ----------------------------------------------------------


def test_table(rich) -> None:
    _, soup = rich
    table = soup.select_one("section#features table")
    assert [th.get_text() for th in table.select("thead th")] == ["Data state", "Protection"]
    assert [[td.get_text() for td in tr.find_all("td")] for tr in table.select("tbody tr")] == [["In transit", "TLS 1.2+"], ["At rest", "AES-256"]]
    # |---:| right-aligns the column with a class the theme styles (align= is obsolete, style= is forbidden)
    assert [th.get("class") for th in table.select("thead th")] == [None, ["align-right"]]
    assert {td.get("class", [""])[0] for td in table.select("tbody td:nth-of-type(2)")} == {"align-right"}


def test_theme_styles_aligned_columns(repo_root: Path) -> None:
    css = (repo_root / "static/css/site.css").read_text("utf-8")
    assert re.search(r"td\.align-right[^{]*\{[^}]*text-align:\s*right", css)
    assert re.search(r"td\.align-center[^{]*\{[^}]*text-align:\s*center", css)


def test_definition_list(rich) -> None:
    _, soup = rich
    dl = soup.select_one("section#features dl")
    assert [dt.get_text() for dt in dl.find_all("dt")] == ["Retention", "Backups"]
    assert [dd.get_text() for dd in dl.find_all("dd")] == ["Thirty days, then deleted.", "Encrypted and kept for seven days."]


def test_footnotes_have_section_prefixed_ids_that_resolve(rich) -> None:
    _, soup = rich
    section = soup.select_one("section#features")
    ref = section.select_one("sup a.footnote-ref")
    assert ref["href"] == "#features-fn-annual"
    note = soup.find(id="features-fn-annual")
    assert note is not None and "Done by an independent reviewer." in note.get_text()
    back = note.find("a", class_="footnote-backref")
    assert back["href"] == "#features-fnref-annual" and soup.find(id="features-fnref-annual")


def test_attribute_list_sets_heading_id(rich) -> None:
    _, soup = rich
    heading = soup.select_one("section#features h3#rotation")
    assert heading is not None and heading.get_text() == "Key rotation"
    assert soup.select_one("section#features h3#features-second-heading").get_text() == "Second heading"
    assert not soup.select("section#features h1, section#features h2:not([id$='--title'])")


def test_fenced_code_is_escaped_and_labelled(rich) -> None:
    html, soup = rich
    code = soup.select_one("section#features pre > code")
    assert code["class"] == ["language-python"]
    assert 'return "<new & improved>"' in code.get_text()
    assert "&lt;new &amp; improved&gt;" in html


def test_safe_links_are_kept(rich) -> None:
    _, soup = rich
    section = soup.select_one("section#features")
    assert section.find("a", string="plain https link")["href"] == "https://rich.example/docs"
    assert section.find("a", string="email link")["href"] == "mailto:security@rich.example"


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert(1)</script>",
        "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
        '<a href="javascript:alert(1)">x</a>',
        '<a href=" javascript:alert(1)">x</a>',
        '<a href="java&#x09;script:alert(1)">x</a>',
        "[x](javascript:alert(1))",
        "[x](JAVASCRIPT:alert(1))",
        "[x][ref]\n\n[ref]: javascript:alert(1)",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        '<img src="x" onerror="alert(1)">',
        '<p onmouseover="alert(1)">x</p>',
        '<a href="https://ok.example" onclick="alert(1)">x</a>',
        '<div style="background:url(javascript:alert(1))">x</div>',
        '<iframe src="https://evil.example"></iframe>',
        '<object data="https://evil.example/x.swf"></object>',
        "<svg><script>alert(1)</script></svg>",
        '<math><mtext><a href="javascript:alert(1)">x</a></mtext></math>',
    ],
)
def test_render_markdown_removes_active_content(markdown: str) -> None:
    html = render_markdown(markdown, id_prefix="s").html
    soup = BeautifulSoup(html, "html.parser")
    assert not soup.find_all(ACTIVE_TAGS), html
    for tag in soup.find_all(True):
        assert not [a for a in tag.attrs if a.lower().startswith("on") or a == "style"], html
    for url in urls(soup):
        assert not BAD_URL.match(url), html
    assert "<script" not in html.lower()


def test_sanitize_is_idempotent_on_its_own_output(rich) -> None:
    html, soup = rich
    body = "".join(str(child) for child in soup.select_one("section#features").children if getattr(child, "name", None) not in (None, "h2"))
    assert sanitize(sanitize(body)) == sanitize(body)


# --- YAML: URLs must be https:, text is escaped ----------------------------------------------------


def test_javascript_url_in_yaml_is_rejected_with_its_position(copy_fixture, build_project, tmp_path: Path) -> None:
    project = copy_fixture("minimal", tmp_path)
    variant = copy_fixture("errors/javascript-url", tmp_path / "variant")
    (project / "content/site.yaml").write_bytes((variant / "content/site.yaml").read_bytes())
    out = tmp_path / "out"
    code, stdout, stderr = build_project(project, out)
    assert code == 1
    assert stderr.splitlines() == [
        "content/site.yaml:15:19: contacts.support_portal: 'javascript:alert(document.cookie)' is not an https: URL (only https: links are accepted; write https://...)",
        "1 error",
    ]
    assert not out.exists()


@pytest.mark.parametrize(
    ("find", "replace", "expected"),
    [
        (
            "  website: https://minimal.example\n",
            "  website: JavaScript:alert(1)\n",
            "content/site.yaml:8:12: organisation.website: 'JavaScript:alert(1)' is not an https: URL",
        ),
        (
            "  website: https://minimal.example\n",
            "  website: 'data:text/html,<script>alert(1)</script>'\n",
            "content/site.yaml:8:12: organisation.website: 'data:text/html,<script>alert(1)</script>' is not an https: URL",
        ),
        (
            "  website: https://minimal.example\n",
            "  website: http://minimal.example\n",
            "content/site.yaml:8:12: organisation.website: 'http://minimal.example' is not an https: URL",
        ),
        (
            "  last_reviewed: 2024-02-29\n",
            "  last_reviewed: 2024-02-29\n  related:\n    - title: Docs\n      url: javascript:alert(1)\n",
            "content/site.yaml:15:12: policy.related[0].url: 'javascript:alert(1)' is not an https: URL",
        ),
        (
            "base_url: https://minimal.example/trust/\n",
            "base_url: javascript://minimal.example/trust/\n",
            "content/site.yaml:2:11: base_url: 'javascript://minimal.example/trust/' is not an https: URL",
        ),
        (
            "  security_email: security@minimal.example\n",
            "  security_email: javascript:alert(1)\n",
            "content/site.yaml:14:19: contacts.security_email: 'javascript:alert(1)' is not a valid email address",
        ),
    ],
    ids=["javascript-website", "data-website", "http-website", "javascript-related", "javascript-base-url", "javascript-email"],
)
def test_non_https_urls_in_yaml_are_rejected(copy_fixture, build_project, tmp_path: Path, find: str, replace: str, expected: str) -> None:
    project = copy_fixture("minimal", tmp_path)
    site_yaml = project / "content/site.yaml"
    text = site_yaml.read_text("utf-8")
    assert find in text
    site_yaml.write_text(text.replace(find, replace), "utf-8")
    code, _, stderr = build_project(project, tmp_path / "out")
    assert code == 1
    assert any(line.startswith(expected) for line in stderr.splitlines()), stderr
    assert "Traceback" not in stderr


def test_yaml_and_front_matter_text_is_escaped(copy_fixture, build_project, tmp_path: Path) -> None:
    project = copy_fixture("minimal", tmp_path)
    site_yaml = project / "content/site.yaml"
    text = site_yaml.read_text("utf-8")
    text = text.replace("  name: Minimal Example\n", "  name: \"<script>alert('name')</script>\"\n")
    text = text.replace("  response_time: within 2 business days\n", "  response_time: '<img src=x onerror=alert(1)> fast'\n")
    site_yaml.write_text(text, "utf-8")
    intro = project / "content/policy/01-introduction.md"
    intro.write_text(intro.read_text("utf-8").replace("title: Introduction", "title: \"<b onclick='alert(2)'>Intro</b>\""), "utf-8")
    out = tmp_path / "out"
    code, _, stderr = build_project(project, out)
    assert code == 0, stderr
    for name in ("index.html", "404.html"):
        html = (out / name).read_text("utf-8")
        soup = BeautifulSoup(html, "html.parser")
        assert not soup.find_all(["script", "img"]), name
        assert not [a for tag in soup.find_all(True) for a in tag.attrs if a.startswith("on")], name
    html = (out / "index.html").read_text("utf-8")
    assert "&lt;script&gt;alert(" in html
    assert "&lt;img src=x onerror=alert(1)&gt; fast" in html
    soup = BeautifulSoup(html, "html.parser")
    assert soup.select_one("section#introduction h2").get_text() == "<b onclick='alert(2)'>Intro</b>"


@pytest.mark.parametrize("image", ["![logo](https://cdn.example.com/logo.png)", '<img src="//cdn.example.com/logo.png" alt="logo">', '<img src="HTTPS://cdn.example.com/logo.png" alt="logo">'])
def test_images_from_other_sites_are_removed_and_reported(image):
    rendered = render_markdown(f"Our {image} here.\n", id_prefix="s")
    assert "cdn.example.com" not in rendered.html
    assert "<img" not in rendered.html and "logo" in rendered.html  # the alt text stays readable
    assert [issue.line for issue in rendered.issues] == [1]
    assert "from another site is removed" in rendered.issues[0].message


def test_local_images_are_kept():
    rendered = render_markdown("![diagram](static/diagram.svg)\n", id_prefix="s")
    assert '<img alt="diagram" src="static/diagram.svg">' in rendered.html
    assert rendered.issues == ()
