"""The bad-input corpus (issue 9): every kind of broken or hostile content meets a clear error, never a crash.

Each case is a folder in ``tests/bad_inputs/``: the files it lays over a copy of ``_base/`` (a small
valid project with one app), ``expected.txt`` (one problem per line, each a substring that must
appear in one line the build prints, normally ``file:line:column: key: message``) and, optionally,
``case.toml`` for what files cannot say (see ``tests/bad_inputs/README.md``).

For every case the real CLI runs in a subprocess against a copy in tmp_path that already holds a
previous good ``build/``. A bad case must exit 1, name every expected problem with a fix hint, print
no traceback, leave ``build/`` byte-for-byte as it was and write nothing anywhere (the whole tmp
tree, home and temp folders included, is compared before and after). A merely odd case (a BOM,
CRLF line endings, YAML 1.1 spellings, HTML in text) must build with exit 0, and its output must
hold no executable markup.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from active_content import site_findings

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).resolve().parent / "bad_inputs"
BASE = CORPUS / "_base"
CANARY = "CANARY-7f3a9c-OUTSIDE-CONTENT"  # text that lives only outside the project: it must never show up
CASE_FILES = {"case.toml", "expected.txt", "README.md"}
SUMMARY = re.compile(r"^\d+ (errors?|warnings?)(, \d+ warnings?)?( \(warnings count as errors with --strict\))?$")
PROBLEM = re.compile(r"^(?P<path>content(?:/[^:]*?)?)(?::(?P<line>\d+)(?::(?P<column>\d+))?)?: (?P<warning>warning: )?(?P<text>.+)$")
# A successful build also keeps its warm-build cache (site_builder/diskcache.py): the project's
# .site-builder-cache/, the cache's HMAC key in the user's cache folder, and the replaced output
# beside the new one for reuse (.build.previous, site_builder/write.py). Nothing else may change.
WARM_BUILD_CACHE = ("project/.site-builder-cache", "project/.build.previous", "home/.cache")
CASE_KEYS = {"description", "exit", "args", "before", "remove", "rename", "pad", "symlinks", "fifos", "same_as_base", "page", "output_contains", "output_lacks", "whole_file"}


@dataclass(frozen=True)
class Case:
    name: str
    folder: Path
    description: str
    exit: int = 1
    args: tuple[str, ...] = ()
    before: tuple[tuple[str, ...], ...] = ()  # site-builder commands run on the copy before the overlay
    remove: tuple[str, ...] = ()
    rename: dict[str, str] = field(default_factory=dict)  # for names Git or Windows cannot store (a newline)
    pad: dict[str, int] = field(default_factory=dict)  # file -> size in bytes it is grown to
    symlinks: dict[str, str] = field(default_factory=dict)  # link -> target ("@outside/..." is in the outside folder)
    fifos: tuple[str, ...] = ()
    same_as_base: bool = False  # the output must be byte-identical to the base project's
    page: str = "index.html"  # the built page output_contains and output_lacks are about
    output_contains: tuple[str, ...] = ()  # text that must be in that page (escaped markup, kept words)
    output_lacks: tuple[str, ...] = ()
    whole_file: tuple[str, ...] = ()  # expected problems about a whole file, which have no line
    expected: tuple[str, ...] = ()


def load_case(name: str) -> Case:
    folder = CORPUS / name
    settings: dict = {}
    if (folder / "case.toml").is_file():
        settings = tomllib.loads((folder / "case.toml").read_text("utf-8"))
    unknown = set(settings) - CASE_KEYS
    assert not unknown, f"{name}/case.toml: unknown keys {sorted(unknown)}"
    expected_file = folder / "expected.txt"
    expected = tuple(line for line in expected_file.read_text("utf-8").splitlines() if line.strip() and not line.startswith("#")) if expected_file.is_file() else ()
    return Case(
        name=name,
        folder=folder,
        description=settings.get("description", ""),
        exit=settings.get("exit", 1),
        args=tuple(settings.get("args", ())),
        before=tuple(tuple(command) for command in settings.get("before", ())),
        remove=tuple(settings.get("remove", ())),
        rename=dict(settings.get("rename", {})),
        pad=dict(settings.get("pad", {})),
        symlinks=dict(settings.get("symlinks", {})),
        fifos=tuple(settings.get("fifos", ())),
        same_as_base=settings.get("same_as_base", False),
        page=settings.get("page", "index.html"),
        output_contains=tuple(settings.get("output_contains", ())),
        output_lacks=tuple(settings.get("output_lacks", ())),
        whole_file=tuple(settings.get("whole_file", ())),
        expected=expected,
    )


CASES = sorted(entry.name for entry in CORPUS.iterdir() if entry.is_dir() and not entry.name.startswith(("_", ".")))


# --- running the real CLI ----------------------------------------------------------------------------


def environment(tmp_path: Path) -> dict[str, str]:
    """The CLI's environment: home and temp folders inside tmp_path, so a stray write shows in the snapshot."""
    for name in ("home", "tmp", "cwd"):
        (tmp_path / name).mkdir(exist_ok=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("XDG_", "PYTHON"))}
    env.update(
        PYTHONPATH=str(REPO_ROOT),
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUTF8="1",
        HOME=str(tmp_path / "home"),
        TMPDIR=str(tmp_path / "tmp"),
        SOURCE_DATE_EPOCH="1751328000",  # 2025-07-01: security.txt's Expires is the same in every build
    )
    return env


def site_builder(tmp_path: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "site_builder", *map(str, args)],
        cwd=tmp_path / "cwd",
        env=environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )


def build(tmp_path: Path, project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return site_builder(tmp_path, "build", "--project", project, "--out", project / "build", *args)


# --- snapshots -----------------------------------------------------------------------------------------


def snapshot(root: Path, *, skip: Path | None = None) -> dict[str, tuple]:
    """Every entry under ``root`` by kind and content, without following links or opening FIFOs."""
    entries: dict[str, tuple] = {}
    for folder, folders, files in os.walk(root):
        folders[:] = [name for name in folders if Path(folder, name) != skip]
        for name in sorted(folders + files):
            path = Path(folder, name)
            info = path.lstat()
            relative = path.relative_to(root).as_posix()
            if stat.S_ISLNK(info.st_mode):
                entries[relative] = ("link", os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                entries[relative] = ("dir",)
            elif stat.S_ISREG(info.st_mode):
                entries[relative] = ("file", hashlib.sha256(path.read_bytes()).hexdigest())
            else:
                entries[relative] = ("special", stat.S_IFMT(info.st_mode))
    return entries


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {file.relative_to(root).as_posix(): file.read_bytes() for file in sorted(root.rglob("*")) if file.is_file()}


# --- preparing a case ----------------------------------------------------------------------------------


def make_outside(tmp_path: Path) -> Path:
    """Files beside the project that a symbolic link in content/ might point to; each holds the canary."""
    outside = tmp_path / "outside"
    (outside / "policy").mkdir(parents=True)
    (outside / "app").mkdir()
    section = f"---\ntitle: Secret\nanchor: secret\n---\n{CANARY}\n"
    (outside / "secret.md").write_text(section, "utf-8")
    (outside / "secret.yaml").write_text(f"copyright: {CANARY}\n", "utf-8")
    (outside / "policy" / "01-secret.md").write_text(section, "utf-8")
    shutil.copy(BASE / "content/apps/sample-app/manifest.yml", outside / "app" / "manifest.yml")
    (outside / "app" / "app.yaml").write_text(f"name: {CANARY}\nsummary: {CANARY}\nscopes:\n  read:jira-work: x\negress:\n  api.corpus.example: x\n", "utf-8")
    return outside


@pytest.fixture(scope="session")
def base_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The base project built once: the previous good build/ that every case starts from."""
    tmp = tmp_path_factory.mktemp("base")
    project = tmp / "project"
    shutil.copytree(BASE, project)
    done = build(tmp, project)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert site_findings(project / "build") == []
    return project / "build"


def prepare(case: Case, tmp_path: Path, base_build: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(BASE, project)
    make_outside(tmp_path)
    environment(tmp_path)  # creates home/, tmp/ and cwd/ before the snapshot
    for command in case.before:
        done = site_builder(tmp_path, *command, "--project", project)
        assert done.returncode == 0, f"setup command {command} failed:\n{done.stderr}"
    for entry in sorted(case.folder.iterdir()):
        if entry.name in CASE_FILES:
            continue
        if entry.is_dir():
            shutil.copytree(entry, project / entry.name, dirs_exist_ok=True)
        else:
            shutil.copy(entry, project / entry.name)
    for relative in case.remove:
        target = project / relative
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    for relative, new_name in case.rename.items():
        (project / relative).rename(project / new_name)
    for relative, size in case.pad.items():
        target = project / relative
        with open(target, "ab") as stream:
            line = b"# " + b"padding " * 12 + b"\n"
            while stream.tell() < size:
                stream.write(line)
    for relative, target in case.symlinks.items():
        link = project / relative
        if link.is_dir() and not link.is_symlink():
            shutil.rmtree(link)
        elif link.exists() or link.is_symlink():
            link.unlink()
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(tmp_path / "outside" / target.removeprefix("@outside/") if target.startswith("@outside/") else target)
    for relative in case.fifos:
        os.mkfifo(project / relative)
    shutil.copytree(base_build, project / "build")
    return project


# --- the corpus ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CASES)
def test_corpus_case(name: str, tmp_path: Path, base_build: Path) -> None:
    case = load_case(name)
    project = prepare(case, tmp_path, base_build)
    before = snapshot(tmp_path)
    previous_build = snapshot(project / "build")

    done = build(tmp_path, project, *case.args)
    stderr, stdout = done.stderr, done.stdout
    report = f"\n--- stderr ---\n{stderr}--- stdout ---\n{stdout}"

    assert done.returncode == case.exit, f"{name}: exit status {done.returncode}, expected {case.exit}{report}"
    assert "Traceback" not in stderr and "internal error" not in stderr, report
    assert CANARY not in stderr + stdout, f"text from outside content/ was printed{report}"
    lines = stderr.splitlines()
    for expected in case.expected:
        assert any(expected in line for line in lines), f"{name}: no line contains {expected!r}{report}"
    for line in lines:
        if SUMMARY.match(line):
            continue
        problem = PROBLEM.match(line)
        assert problem, f"{name}: not a 'content/...: message (hint)' line: {line!r}{report}"
        assert line.endswith(")") and " (" in problem.group("text"), f"{name}: problem without a fix hint: {line!r}"

    if case.exit != 0:
        assert "Build failed" in stdout, report
        assert snapshot(tmp_path) == before, f"{name}: a failed build changed files (build/ must stay as it was; nothing may be written){report}"
        return

    # an odd but harmless input: it builds, writes only build/ (and the warm-build cache), and the site is safe
    after = {path: entry for path, entry in snapshot(tmp_path, skip=project / "build").items() if not path.startswith(WARM_BUILD_CACHE)}
    outside_build = {path: entry for path, entry in before.items() if path != "project/build" and not path.startswith("project/build/")}
    assert after == outside_build, f"{name}: files outside build/ changed"
    assert snapshot(project / "build") != previous_build or case.same_as_base
    assert (project / "build" / ".site-builder-output").is_file()
    assert site_findings(project / "build") == []
    for file in (project / "build").rglob("*"):
        assert not file.is_file() or CANARY.encode() not in file.read_bytes(), f"{file} holds text from outside content/"
    page = (project / "build" / case.page).read_text("utf-8")
    for text in case.output_contains:
        assert text in page, f"{name}: {text!r} not in {case.page}"
    for text in case.output_lacks:
        assert text not in page, f"{name}: {text!r} is in {case.page}"
    if case.same_as_base:
        assert tree_bytes(project / "build") == tree_bytes(base_build), f"{name}: the output differs from the base project's"


def test_every_expected_problem_names_a_line() -> None:
    """Keeps the corpus honest: an expected problem gives file:line unless it is about a whole or missing file."""
    for name in CASES:
        case = load_case(name)
        assert case.exit == 0 or case.expected, f"{name}: a failing case needs expected.txt"
        for expected in case.expected:
            match = re.match(r"^(content/[^:]*)(:\d+)?", expected)
            assert match, f"{name}: expected line should start with content/...: {expected!r}"
            if not match.group(2):
                path = match.group(1)
                in_case = (case.folder / path).is_file() or (BASE / path).is_file()  # folders have no lines
                assert path in case.whole_file or not in_case or path in case.remove, f"{name}: {expected!r} has no line number"


def test_corpus_covers_issue_9() -> None:
    """The list in issue 9, item 1: each kind of bad input has at least one case."""
    required = [
        "yaml-malformed", "yaml-tab-indentation", "yaml-duplicate-key-top-level", "yaml-duplicate-key-nested",
        "yaml11-no-stays-text", "yaml11-version-1.10", "yaml11-unquoted-dates", "yaml-anchors-harmless",
        "yaml-billion-laughs", "file-over-size-limit", "file-binary", "file-not-utf8", "harmless-utf8-bom",
        "harmless-crlf", "files-empty", "missing-site-yaml", "missing-policy-folder", "missing-app-files",
        "unknown-keys", "wrong-types", "invalid-urls-and-emails", "code-urls-in-yaml", "code-urls-in-markdown",
        "html-in-text-fields", "html-in-markdown", "slugs-app-folders", "slugs-anchors-and-versions",
        "slugs-case-fold-collision", "symlink-out-of-content", "manifest-not-forge", "manifest-scopes-wrong-type",
        "release-missing-file",
    ]
    missing = [name for name in required if name not in CASES]
    assert not missing, f"no corpus case for {missing}"


# --- our own bugs: one short line, exit 2, the previous build kept ------------------------------------


def _run_main(*argv: str | Path) -> tuple[int, str, str]:
    """``site_builder.cli.main`` in this process (so a renderer can be broken on purpose), streams captured."""
    import contextlib
    import io

    from site_builder.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(arg) for arg in argv])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def broken_renderer(monkeypatch: pytest.MonkeyPatch):
    """A page generator that fails after the real ones have streamed pages into the staging folder."""
    import site_builder.pipeline

    def explode(ctx):
        yield from ()
        raise RuntimeError("simulated bug in a renderer\nwith a second line that must not be printed")

    monkeypatch.setattr(site_builder.pipeline, "GENERATORS", (*site_builder.pipeline.GENERATORS, explode))


def test_internal_error_is_one_line_exit_2_and_keeps_the_previous_build(broken_renderer, tmp_path: Path, base_build: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(BASE, project)
    shutil.copytree(base_build, project / "build")
    before = snapshot(tmp_path)
    code, stdout, stderr = _run_main("build", "--project", project, "--out", project / "build", "--no-cache")
    assert code == 2
    assert len(stderr.splitlines()) == 1, stderr
    line = stderr.strip()
    assert line.startswith("site-builder: internal error: RuntimeError: simulated bug in a renderer. ")
    assert "simulated bug in a renderer" in line and "second line" not in line
    assert "This is a bug in site-builder; please report it" in line and "https://" in line and "--debug" in line
    assert "Traceback" not in stderr
    assert snapshot(tmp_path) == before  # build/ as it was, no staging folder left beside it


def test_debug_shows_the_traceback(broken_renderer, tmp_path: Path, base_build: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(BASE, project)
    shutil.copytree(base_build, project / "build")
    previous = snapshot(project / "build")
    code, _, stderr = _run_main("--debug", "build", "--project", project, "--out", project / "build", "--no-cache")
    assert code == 2
    assert "Traceback (most recent call last)" in stderr and "simulated bug in a renderer" in stderr
    assert snapshot(project / "build") == previous


# --- the output folder itself -----------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["project", "content", "content/policy", "precious", "a-file"])
def test_refuses_an_output_folder_it_did_not_write(where: str, tmp_path: Path) -> None:
    """--out pointing at the project, its content, a folder of someone's files or a file: refused, nothing lost."""
    project = tmp_path / "project"
    shutil.copytree(BASE, project)
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "notes.txt").write_text("mine", "utf-8")
    (tmp_path / "a-file").write_text("mine", "utf-8")
    out = {"project": project, "content": project / "content", "content/policy": project / "content/policy"}.get(where, tmp_path / where)
    environment(tmp_path)
    before = snapshot(tmp_path)
    done = build_to(tmp_path, project, out)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert snapshot(tmp_path) == before


def build_to(tmp_path: Path, project: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return site_builder(tmp_path, "build", "--project", project, "--out", out)
