"""Property tests (issue 9, item 3): no input makes the loader raise, no sanitized HTML can run, no output escapes.

Hypothesis writes the inputs: arbitrary text and bytes, YAML assembled from its awkward tokens
(anchors, tags, tabs, quotes, YAML 1.1 spellings), site.yaml / app.yaml / manifest.yml with random
values at every key, Markdown and raw HTML assembled from hostile fragments. The loaders must return
values or Problems, never raise; the sanitizer's output, parsed with lxml as a browser would, must
hold no <script>, no on* handler and no javascript: URL; an accepted output path must stay inside
the output folder. Example counts are moderate so that the file runs in well under 30 seconds.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from active_content import html_findings
from site_builder.forge.apps import load_app
from site_builder.errors import Problems
from site_builder.forge.manifest import parse_manifest
from site_builder.content.load import load_section, load_site
from site_builder.content.markup import render_markdown, sanitize
from site_builder.content.source import Document, decode_text, parse_yaml, split_front_matter
from site_builder.emit.staging import is_safe_output_path, write_site

BASE = Path(__file__).resolve().parent / "bad_inputs" / "_base" / "content"
# Hypothesis keeps caches in ./.hypothesis/; tests never write into the repository (read-only on CI).
set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "site-builder-hypothesis"))
# database=None: tests never write into the repository (no .hypothesis/ folder); a failure prints its example
FAST = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FEWER = settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def returns_document_or_problems(document: Document | None, problems: Problems) -> None:
    """The one contract of every loader: a value, or None together with at least one error."""
    assert document is not None or problems.errors
    for problem in problems.items:
        assert problem.position.path and str(problem)


# --- YAML ----------------------------------------------------------------------------------------------

YAML_TOKENS = [
    "a", "key", "title", ":", ": ", " ", "  ", "\n", "- ", "[", "]", "{", "}", ", ", "&x ", "*x", "&y ", "*y", "<<: ",
    "!!str ", "!!python/object/apply:os.system ", "!local ", "!!binary ", '"', "'", "\\", "# c", "---\n", "...\n", "? ",
    "|\n", ">-\n", "\t", "1.10", "no", "yes", "on", "~", "null", "0o17", "0x1F", "1_000", ".inf", "2025-07-01",
    "12:30", "%YAML 1.1\n", "@", "`", "\x85", "\u2028", "é", "\ufeff", "\x00", "\x1b", "\r\n", "\r", "𝔘",
]
yaml_like = st.lists(st.sampled_from(YAML_TOKENS), max_size=60).map("".join)


@FAST
@given(st.one_of(st.text(max_size=400), yaml_like))
def test_parse_yaml_never_raises(text: str) -> None:
    problems = Problems()
    returns_document_or_problems(parse_yaml(text, "x.yaml", problems), problems)


@FAST
@given(yaml_like)
def test_front_matter_never_raises(body: str) -> None:
    problems = Problems()
    source = split_front_matter(f"---\n{body}\n---\nText.\n", "01-x.md", problems)
    assert source is not None or problems.errors


@FAST
@given(st.binary(max_size=300))
def test_decoding_any_bytes_never_raises(raw: bytes) -> None:
    problems = Problems()
    text = decode_text(raw, "x.yaml", problems)
    assert (text is None) == bool(problems.errors)
    if text is not None:
        assert "\r" not in text and not text.startswith("\ufeff")


# --- the real loaders, fed files with random values at every key ---------------------------------------

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=30), st.sampled_from(["javascript:alert(1)", "https://x.example/", "1.10", "no", "a@b.example", "<script>alert(1)</script>", ""]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)


def paths_of(data: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path in a YAML value, so a test can replace any of them."""
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            found.extend(paths_of(value, prefix + (key,)))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found.extend(paths_of(value, prefix + (index,)))
    return found


def replaced(data: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(data, dict):
        return {**data, head: replaced(data.get(head), rest, value)} if head in data else {**data}
    if isinstance(data, list) and isinstance(head, int) and head < len(data):
        return [replaced(item, rest, value) if index == head else item for index, item in enumerate(data)]
    return data


def mutations(file: str) -> st.SearchStrategy[str]:
    """The base project's file with random values at random keys (or extra random keys), as YAML text."""
    data = yaml.safe_load((BASE / file).read_text("utf-8"))
    paths = paths_of(data)
    edits = st.lists(st.tuples(st.sampled_from(paths), values), min_size=1, max_size=3)
    extra = st.dictionaries(st.text(max_size=10), values, max_size=2)

    def apply(args: tuple[list, dict]) -> str:
        changes, more = args
        result = data
        for path, value in changes:
            result = replaced(result, path, value)
        if isinstance(result, dict):
            result = {**result, **more}
        return yaml.safe_dump(result, allow_unicode=True, sort_keys=False)

    return st.tuples(edits, extra).map(apply)


@FEWER
@given(mutations("site.yaml"))
def test_load_site_never_raises(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / "site.yaml"
        file.write_text(text, "utf-8")
        problems = Problems()
        site = load_site(file, "content/site.yaml", problems)
    assert site is not None or problems.errors


@FEWER
@given(mutations("apps/sample-app/manifest.yml"), mutations("apps/sample-app/app.yaml"))
def test_load_app_never_raises(manifest: str, app: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "sample-app"
        root.mkdir()
        (root / "manifest.yml").write_text(manifest, "utf-8")
        (root / "app.yaml").write_text(app, "utf-8")
        problems = Problems()
        loaded = load_app(root, "content/apps/sample-app", problems)
    assert loaded is not None or problems.errors


@FAST
@given(yaml_like)
def test_parse_manifest_never_raises_on_any_yaml(text: str) -> None:
    problems = Problems()
    document = parse_yaml(text, "manifest.yml", problems)
    if document is not None:
        manifest = parse_manifest(document, problems)
        assert manifest is not None or problems.errors


# --- Markdown and raw HTML --------------------------------------------------------------------------------

HOSTILE = [
    "<script>alert(1)</script>", "<SCRIPT SRC=//x.example/x.js></SCRIPT>", "<scr<script>ipt>", "</script>", "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>", "<math><mtext><a href=javascript:alert(1)>", "<a href=\"javascript:alert(1)\">x</a>",
    "<a href=' java&#x09;script:alert(1)'>", "<a href=\"&#106;avascript:alert(1)\">", "<a href=vbscript:msgbox(1)>",
    "<iframe src=//x.example>", "<object data=x>", "<embed src=x>", "<form action=x><input>", "<base href=//x.example/>",
    "<meta http-equiv=refresh content=0;url=javascript:alert(1)>", "<style>*{}</style>", "<div style=\"x:expression(1)\">",
    "<p onclick=alert(1) onmouseover=alert(2)>", "<!-- <script> -->", "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<template><script>", "<details open ontoggle=alert(1)>", "<a href=\"data:text/html,<script>alert(1)</script>\">", "<x onfocus=alert(1) autofocus>",
]
MARKDOWN = [
    "[x](javascript:alert(1))", "![i](data:image/svg+xml;base64,PHN2Zz4=)", "[r][ref]\n\n[ref]: JAVASCRIPT:alert(1)\n", "<javascript:alert(1)>",
    "[x](  vbscript:x  )", "{: onclick=\"alert(1)\" }", "{: style=\"color:red\" #main }", "# Heading\n", "### <script>x</script> heading\n",
    "| a | b |\n|---|--:|\n| <script> | x |\n", "Term\n: <img src=x onerror=alert(1)>\n", "```\n<script>\n```\n", "[^1]\n\n[^1]: <svg onload=x>\n",
    "> <a href=javascript:x>q</a>\n", "- <iframe>\n  - nested\n", "*emphasis* and **strong**", "\\[escaped\\]", "text", "\n\n", "    indented code <script>\n",
]
markdown_like = st.lists(st.sampled_from(HOSTILE + MARKDOWN) | st.text(max_size=20), max_size=12).map(" ".join)
html_like = st.lists(st.sampled_from(HOSTILE) | st.text(alphabet="<>\"'=/ &#;:abcdefghijklmnopqrstuvwxyzSCRIPT", max_size=25), max_size=10).map("".join)


@FAST
@given(st.one_of(markdown_like, st.text(max_size=300)))
def test_rendered_markdown_holds_no_executable_markup(text: str) -> None:
    rendered = render_markdown(text, id_prefix="s")
    assert html_findings(rendered.html) == [], rendered.html
    assert all(issue.message and issue.hint for issue in rendered.issues)


@FAST
@given(html_like)
def test_sanitized_html_holds_no_executable_markup(html: str) -> None:
    cleaned = sanitize(html)
    assert html_findings(cleaned) == [], cleaned
    assert html_findings(sanitize(cleaned)) == []  # and sanitizing again changes nothing that matters


@FEWER
@given(markdown_like, st.sampled_from(["introduction", "a", "x-y"]))
def test_load_section_never_raises(body: str, anchor: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / "01-introduction.md"
        file.write_text(f"---\ntitle: Introduction\nanchor: {anchor}\n---\n{body}\n", "utf-8")
        problems = Problems()
        section = load_section(file, "content/policy/01-introduction.md", 1, "introduction", problems)
    assert section is not None or problems.errors
    if section is not None:
        assert html_findings(section.body_html) == []


# --- output paths ------------------------------------------------------------------------------------------

path_parts = st.sampled_from(["..", ".", "", "a", "index.html", "apps", "/", "\\", "C:", "~", "%2e%2e", "a\x00b", "\n", " ", "é", "..."])
path_like = st.one_of(st.text(max_size=40), st.lists(path_parts, max_size=8).map("/".join), st.lists(path_parts, max_size=8).map("".join))


@FAST
@given(path_like)
def test_accepted_output_paths_stay_inside_the_output_root(path: str) -> None:
    if not is_safe_output_path(path):
        return
    root = "/srv/out"
    resolved = os.path.normpath(os.path.join(root, path))
    assert resolved.startswith(root + "/"), (path, resolved)
    assert "\x00" not in path and not any(ord(c) < 32 for c in path)


@FEWER
@given(path_like)
def test_writing_an_accepted_path_writes_only_inside_the_output(path: str) -> None:
    if not is_safe_output_path(path):
        return
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "site" / "build"
        try:
            write_site({path: b"x"}, out)
        except OSError:
            pass  # a name the file system refuses (too long, ...) fails the build; it never lands elsewhere
        for entry in Path(folder).rglob("*"):
            assert entry == out.parent or entry == out or out in entry.parents, entry
