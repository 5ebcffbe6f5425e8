"""Resource limits (issue 9, item 4): hostile input cannot exhaust memory or time.

Files are size-limited before they are read; YAML is limited in nesting depth, in values and in the
text its aliases expand to, on the parser's event stream before anything is composed; Markdown is
limited in nesting and in the rescanning that unclosed brackets cause. Each limit is tested on both
sides. The one timing bound is the one the issue asks for: a billion-laughs bomb is refused within a
second.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from site_builder.errors import Problems
from site_builder.content.markdown_checks import MAX_CHAINED_DEFINITIONS, MAX_INLINE_WORK, MAX_NESTING, complexity_issue
from site_builder.content.markup import render_markdown
from site_builder.content.source import MAX_DEPTH, MAX_EXPANDED_CHARS, MAX_FILE_BYTES, MAX_NODES, load_yaml, parse_yaml, read_text

REPO_ROOT = Path(__file__).resolve().parents[1]

BILLION_LAUGHS = textwrap.dedent(
    """\
    a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
    b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
    d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
    e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
    f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
    g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
    h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
    i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
    """
)


def parse(text: str) -> tuple[object, list[str]]:
    problems = Problems()
    document = parse_yaml(text, "x.yaml", problems)
    return (document.data if document else None), [str(p) for p in problems.items]


# --- file size ---------------------------------------------------------------------------------------------


def test_a_file_at_the_limit_is_read_and_one_byte_more_is_refused_unread(tmp_path: Path) -> None:
    at_limit = tmp_path / "at-limit.yaml"
    at_limit.write_bytes(b"a: b\n" + b"#" * (MAX_FILE_BYTES - 6) + b"\n")
    assert at_limit.stat().st_size == MAX_FILE_BYTES
    problems = Problems()
    assert load_yaml(at_limit, "at-limit.yaml", problems).data == {"a": "b"}
    assert not problems.items

    over = tmp_path / "over.yaml"
    over.write_bytes(b"a: b\n" + b"#" * (MAX_FILE_BYTES - 5) + b"\n")
    problems = Problems()
    assert load_yaml(over, "over.yaml", problems) is None
    assert [str(p) for p in problems.items] == [f"over.yaml: is {MAX_FILE_BYTES + 1:,} bytes, over the limit of {MAX_FILE_BYTES:,} (split it or trim it)"]


def test_the_size_is_checked_before_reading(tmp_path: Path) -> None:
    """A sparse 10 GB file costs nothing: it is refused by its size, never read into memory."""
    huge = tmp_path / "huge.md"
    with open(huge, "wb") as stream:
        stream.truncate(10 * 1024**3)
    problems = Problems()
    assert read_text(huge, "huge.md", problems) is None
    assert "over the limit" in str(problems.items[0])


# --- YAML nesting --------------------------------------------------------------------------------------------


def test_nesting_up_to_the_limit_is_read_and_one_level_more_is_refused() -> None:
    data, problems = parse("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    assert problems == [] and data is not None
    data, problems = parse("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    assert data is None
    assert problems == [f"x.yaml:1:{MAX_DEPTH + 1}: is nested more than {MAX_DEPTH} levels deep (use fewer levels of nesting)"]


def test_block_nesting_is_limited_too() -> None:
    text = "".join("  " * level + f"k{level}:\n" for level in range(MAX_DEPTH + 5)) + "  " * (MAX_DEPTH + 5) + "end: 1\n"
    data, problems = parse(text)
    assert data is None and "is nested more than 64 levels deep" in problems[0]


def test_a_hundred_thousand_brackets_do_not_crash_the_interpreter() -> None:
    """PyYAML's C composer recurses once per level: 100,000 levels overflowed the C stack (a segfault).

    Run in a child process, so that a regression fails this test instead of killing the test run.
    """
    code = "from site_builder.errors import Problems\nfrom site_builder.content.source import parse_yaml\np = Problems()\nassert parse_yaml('[' * 100000 + ']' * 100000, 'x.yaml', p) is None\nprint(p.items[0])\n"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert "is nested more than 64 levels deep" in done.stdout


# --- YAML values and alias expansion ---------------------------------------------------------------------------


def test_a_billion_laughs_is_refused_within_a_second() -> None:
    start = time.perf_counter()
    data, problems = parse(BILLION_LAUGHS)
    elapsed = time.perf_counter() - start
    assert data is None
    assert problems == ["x.yaml:6:8: alias *e expands the document to more than 100,000 values (an alias bomb?) (write the values out; an alias may repeat a small value, not multiply the document)"]
    assert elapsed < 1.0, f"took {elapsed:.2f} s"


def test_few_values_with_huge_text_are_refused() -> None:
    """The quadratic blow-up: 300 aliases of a 10,000-character string are only 301 values but 3 MB of text."""
    text = f'big: &big "{"x" * 10_000}"\nmany: [{", ".join(["*big"] * 300)}]\n'
    assert len(text) < 20_000 < MAX_EXPANDED_CHARS
    data, problems = parse(text)
    assert data is None
    assert problems[0].startswith("x.yaml:2:") and f"expands the document to more than {MAX_EXPANDED_CHARS:,} characters" in problems[0]


def test_aliases_that_repeat_small_values_are_fine() -> None:
    text = "contact: &contact {email: security@example.com, hours: office hours}\n" + "".join(f"team{n}: *contact\n" for n in range(1000))
    data, problems = parse(text)
    assert problems == []
    assert data["team999"] == {"email": "security@example.com", "hours": "office hours"}


def test_the_number_of_values_is_limited_without_aliases_too() -> None:
    data, problems = parse("[" + "1," * MAX_NODES + "1]")
    assert data is None and problems == [f"x.yaml:1:{2 * (MAX_NODES - 1) + 2}: has more than {MAX_NODES:,} values (split the file or trim it)"]
    data, problems = parse("[" + "1," * (MAX_NODES - 2) + "1]")
    assert problems == [] and len(data) == MAX_NODES - 1


def test_a_recursive_alias_is_refused() -> None:
    data, problems = parse("a: &a [*a]\n")
    assert data is None and problems


# --- Markdown ----------------------------------------------------------------------------------------------------


def test_markdown_nesting_up_to_the_limit_renders_and_one_more_is_refused() -> None:
    deep = "".join("    " * level + "- item\n" for level in range(MAX_NESTING + 1))
    assert complexity_issue(deep) is None
    assert render_markdown(deep, id_prefix="s").html.count("<ul>") == MAX_NESTING + 1
    deeper = "".join("    " * level + "- item\n" for level in range(MAX_NESTING + 2))
    issue = complexity_issue(deeper)
    assert issue is not None and issue.line == MAX_NESTING + 2 and issue.severity == "error"
    quotes = "\n".join(">" * level + " text" for level in range(1, MAX_NESTING + 3))
    assert complexity_issue(quotes).line == MAX_NESTING + 1


def test_unclosed_brackets_are_limited_by_the_rescanning_they_cause() -> None:
    """Every '[' or '](' that does not close makes Python-Markdown reread the rest of the paragraph."""
    assert complexity_issue("[a](" * 3000) is not None
    assert complexity_issue("[" * 3000) is not None
    assert complexity_issue("<a " * 3000) is not None
    rendered = render_markdown("Intro.\n\n" + "[a](" * 3000, id_prefix="s")
    assert rendered.html == "" and rendered.issues[0].line == 3 and "unclosed" in rendered.issues[0].message


def test_ordinary_policy_text_is_far_below_the_limits(repo_root: Path) -> None:
    """Hundreds of links, long paragraphs and tables: nowhere near the budget."""
    sections = sorted((repo_root / "content" / "policy").glob("*.md"))
    text = "\n\n".join(file.read_text("utf-8") for file in sections) * 50
    links = "\n\n".join(f"See [the guide number {n}](https://example.com/guide/{n}) (and [its notes](https://example.com/notes/{n}))." for n in range(500))
    table = "| a | b |\n|---|---|\n" + "".join(f"| [row {n}](https://example.com/{n}) | <abbr title=\"x\">X</abbr> |\n" for n in range(500))
    for sample in (text, links, table):
        assert complexity_issue(sample) is None
    assert MAX_INLINE_WORK >= 100_000


def test_chained_definitions_are_limited() -> None:
    ok = "Term\n: Definition\n" * MAX_CHAINED_DEFINITIONS
    assert complexity_issue(ok) is None
    issue = complexity_issue(ok + "Term\n: Definition\n")
    assert issue is not None and "definitions without a blank line" in issue.message


def test_recursion_in_the_renderer_is_an_error_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever nesting the line-based limits miss, a RecursionError becomes a problem with a hint."""
    import markdown

    def recurse(self, source):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(markdown.Markdown, "convert", recurse)
    rendered = render_markdown("Anything.", id_prefix="s")
    assert rendered.html == "" and rendered.issues[0].severity == "error" and rendered.issues[0].hint
