"""Bad content: one line per problem with file:line:column, all of them in one run, exit 1, no traceback.

Each ``tests/fixtures/sites/errors/<variant>/`` holds only the files that differ from ``minimal/``;
``broken()`` lays a variant over a copy of minimal. The expected lines below are exact: a change of
wording or position is a change of the user interface and should be made here on purpose.
(Hostile and odd inputs beyond issue 2's list are in tests/bad_inputs/.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURE_SITES

FAILED = "Build failed; the previous output was left as it was.\n"


def broken(variant: str, tmp_path: Path) -> Path:
    """A copy of minimal/ with errors/VARIANT/ laid over it."""
    project = tmp_path / "project"
    shutil.copytree(FIXTURE_SITES / "minimal", project)
    shutil.copytree(FIXTURE_SITES / "errors" / variant, project, dirs_exist_ok=True)
    return project


def assert_fails_with(result, out: Path, lines: list[str]) -> None:
    code, stdout, stderr = result
    assert stderr.splitlines() == lines
    assert code == 1
    assert stdout == FAILED
    assert "Traceback" not in stderr and "internal error" not in stderr
    assert not out.exists()


ITEM_7 = {
    "invalid-yaml": [
        "content/site.yaml:4:16: invalid YAML: mapping values are not allowed in this context (check indentation, colons and quotes around this place)",
        "1 error",
    ],
    "duplicate-key": [
        "content/site.yaml:10:3: organisation.name: duplicate key 'name' (first defined on line 4) (keep one of them)",
        "1 error",
    ],
    "unknown-key": [
        "content/site.yaml:4:3: organisation: missing required key 'website' (add 'website:' here)",
        "content/site.yaml:8:3: organisation: unknown key 'webiste' (did you mean 'website'?)",
        "2 errors",
    ],
    "wrong-type": [
        "content/site.yaml:16:18: contacts.response_time: 2 is read as a number, not text (put it in quotes: '2')",
        "1 error",
    ],
    "missing-field": [
        "content/site.yaml:14:3: contacts: missing required key 'critical_fix_time' (add 'critical_fix_time:' here)",
        "1 error",
    ],
    "impossible-date": [
        "content/site.yaml:12:18: policy.last_reviewed: '2025-13-01' is not a valid date (use YYYY-MM-DD)",
        "1 error",
    ],
    "front-matter": [
        "content/policy/01-introduction.md:3:7: invalid YAML: did not find expected ',' or ']' (check indentation, colons and quotes around this place)",
        "1 error",
    ],
}


@pytest.mark.parametrize("variant", sorted(ITEM_7))
def test_each_error_has_its_message_and_position(build_project, tmp_path: Path, variant: str) -> None:
    project = broken(variant, tmp_path)
    out = tmp_path / "out"
    assert_fails_with(build_project(project, out), out, ITEM_7[variant])


def test_missing_site_yaml(copy_fixture, build_project, tmp_path: Path) -> None:
    project = copy_fixture("minimal", tmp_path)
    (project / "content/site.yaml").unlink()
    out = tmp_path / "out"
    assert_fails_with(
        build_project(project, out),
        out,
        ["content/site.yaml: file not found (every project needs content/site.yaml; 'site-builder init DIR' writes one)", "1 error"],
    )


def test_missing_policy_folder(copy_fixture, build_project, tmp_path: Path) -> None:
    project = copy_fixture("minimal", tmp_path)
    shutil.rmtree(project / "content/policy")
    out = tmp_path / "out"
    assert_fails_with(build_project(project, out), out, ["content/policy/: folder not found (put the policy sections in content/policy/NN-slug.md)", "1 error"])


def test_missing_content_folder(build_project, tmp_path: Path) -> None:
    (tmp_path / "empty-project").mkdir()
    code, stdout, stderr = build_project(tmp_path / "empty-project", tmp_path / "out")
    assert code == 1 and stdout == FAILED
    assert stderr.splitlines()[0].startswith("content/: folder not found (run site-builder in a project folder, or create one with 'site-builder init DIR'")
    assert stderr.splitlines()[1:] == ["1 error"]


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("Just text, no front matter.\n", ["content/policy/01-introduction.md:1:1: has no front matter (start the file with '---', the keys title, anchor and order, and '---')"]),
        ("---\ntitle: Introduction\nanchor: introduction\nText.\n", ["content/policy/01-introduction.md:1:1: front matter is not closed (add a line '---' after the front matter)"]),
        ("---\ntitle: Introduction\n---\nText.\n", ["content/policy/01-introduction.md:2:1: missing required key 'anchor' (add 'anchor:' here)"]),
        ("---\ntitel: Introduction\nanchor: introduction\n---\nText.\n", ["content/policy/01-introduction.md:2:1: unknown key 'titel' (did you mean 'title'?)"]),
        ("---\ntitle: Introduction\nanchor: Introduction Section\n---\nText.\n", ["content/policy/01-introduction.md:3:9: anchor: 'Introduction Section' is not allowed here (lower-case words joined by '-', e.g. data-residency)"]),
        ("---\n- title\n- anchor\n---\nText.\n", ["content/policy/01-introduction.md:2:1: front matter must be a mapping of keys to values (write 'title: ...', 'anchor: ...' and 'order: ...' lines)"]),
        ("---\ntitle: Introduction\nanchor: introduction\nanchor: again\n---\nText.\n", ["content/policy/01-introduction.md:4:1: anchor: duplicate key 'anchor' (first defined on line 3) (keep one of them)"]),
    ],
    ids=["none", "not-closed", "missing-anchor", "unknown-key", "bad-anchor", "not-a-mapping", "duplicate-key"],
)
def test_front_matter_errors(copy_fixture, build_project, tmp_path: Path, text: str, lines: list[str]) -> None:
    project = copy_fixture("minimal", tmp_path)
    (project / "content/policy/01-introduction.md").write_text(text, "utf-8")
    out = tmp_path / "out"
    assert_fails_with(build_project(project, out), out, [*lines, "1 error"])


MANY = [
    "content/policy/01-introduction.md:4:8: order: expected a whole number, found text 'first' (write a whole number without quotes)",
    "content/site.yaml:4:3: organisation: missing required key 'website' (add 'website:' here)",
    "content/site.yaml:8:3: organisation: unknown key 'webiste' (did you mean 'website'?)",
    "content/site.yaml:12:18: policy.last_reviewed: '2025-13-01' is not a valid date (use YYYY-MM-DD)",
    "4 errors",
]


def test_all_problems_are_reported_in_one_run(build_project, tmp_path: Path) -> None:
    project = broken("many", tmp_path)
    out = tmp_path / "out"
    assert_fails_with(build_project(project, out), out, MANY)


def test_the_real_process_exits_1_without_traceback(tmp_path: Path, repo_root: Path) -> None:
    """Through ``python -m site_builder`` as a user runs it: the same lines, exit status 1."""
    project = broken("many", tmp_path)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(repo_root), os.environ.get("PYTHONPATH", "")]))}
    done = subprocess.run(
        [sys.executable, "-m", "site_builder", "build", "--project", str(project), "--out", str(tmp_path / "out")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.splitlines() == MANY
    assert done.stdout == FAILED


# --- warnings and --strict -----------------------------------------------------------------------

UNTITLED = "content/policy/01-introduction.md:2:1: warning: title: section has no title (add 'title:'; shown as 'Introduction' for now)"


def test_warning_is_printed_and_the_build_succeeds(build_project, tmp_path: Path) -> None:
    project = broken("untitled-section", tmp_path)
    out = tmp_path / "out"
    code, stdout, stderr = build_project(project, out, "--draft")
    assert code == 0
    assert stderr.splitlines() == [UNTITLED, "1 warning"]
    assert stdout.startswith("Wrote ") and " pages (" in stdout
    assert '<a href="#introduction">Introduction</a>' in (out / "index.html").read_text("utf-8")


def test_strict_makes_warnings_errors(build_project, tmp_path: Path) -> None:
    project = broken("untitled-section", tmp_path)
    out = tmp_path / "out"
    assert_fails_with(build_project(project, out, "--draft", "--strict"), out, [UNTITLED, "1 error (warnings count as errors with --strict)"])


def test_strict_with_errors_and_warnings(build_project, tmp_path: Path) -> None:
    project = broken("untitled-section", tmp_path)
    shutil.copytree(FIXTURE_SITES / "errors" / "impossible-date", project, dirs_exist_ok=True)
    out = tmp_path / "out"
    code, _, stderr = build_project(project, out, "--draft", "--strict")
    assert code == 1
    assert stderr.splitlines() == [
        UNTITLED,
        "content/site.yaml:12:18: policy.last_reviewed: '2025-13-01' is not a valid date (use YYYY-MM-DD)",
        "2 errors (warnings count as errors with --strict)",
    ]


def test_clean_project_prints_no_problems(copy_fixture, build_project, tmp_path: Path) -> None:
    project = copy_fixture("minimal", tmp_path)
    code, _, stderr = build_project(project, tmp_path / "out", "--draft", "--strict")
    assert (code, stderr) == (0, "")


# --- our own bugs: exit 2, a short message, a traceback only with --debug --------------------------


def test_internal_error_exits_2_without_traceback(copy_fixture, run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import site_builder.pipeline

    def explode(*_args, **_kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(site_builder.pipeline, "_render_project", explode)  # what build calls
    project = copy_fixture("minimal", tmp_path)
    code, _, stderr = run_cli("build", "--project", project, "--out", tmp_path / "out")
    assert code == 2
    assert "Traceback" not in stderr
    assert "site-builder: internal error: RuntimeError: simulated bug. This is a bug in site-builder" in stderr
    code, _, stderr = run_cli("--debug", "build", "--project", project, "--out", tmp_path / "out")
    assert code == 2
    assert "Traceback (most recent call last)" in stderr and "simulated bug" in stderr
