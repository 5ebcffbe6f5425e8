"""Rebuilds never drift from a clean build: a stateful property test over random sequences of edits.

Hypothesis drives a copy of the default project (content/ of this repository) through random
sequences of the edits an author makes: a policy section's text, an app's manifest.yml (a scope
added or removed, with or without its justification), an app's app.yaml, a template override
written, changed or removed, a release cut with the CLI, a policy section added or removed. After
every step the site is built three ways and compared byte for byte:

* serve's rebuild: one long-lived PreviewBuilder (draft), told the paths that changed, as its
  file watcher would report them (every changed, added or removed file and folder, and the folder
  holding each added or removed one), against a clean draft build;
* warm builds: ``build(..., use_cache=True)`` into one persistent output folder per mode (draft and
  released), sharing the project's ``.site-builder-cache/``, against a clean build of the same mode;
* the clean builds: ``build(..., use_cache=False)`` into a fresh folder.

Edits follow each other with no pause, so several may share a file timestamp and a same-size edit
may leave size and mtime as they were: the caches must notice by content. Every state is valid by
construction (the clean build must succeed); warnings are allowed.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import shutil
import tempfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import pytest
import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule, run_state_machine_as_test

from site_builder.pipeline import BuildOptions, build
from site_builder.serve.server import PreviewBuilder

# Hypothesis keeps caches in ./.hypothesis/; tests never write into the repository (read-only on CI).
set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "site-builder-hypothesis"))

BUILD_DAY = date(2026, 12, 4)  # every build, the preview's (SOURCE_DATE_EPOCH) and the release command's "today"
EPOCH = str(int(datetime(BUILD_DAY.year, BUILD_DAY.month, BUILD_DAY.day, 12, tzinfo=timezone.utc).timestamp()))
WATCHED = ("content", "templates", "static")  # what serve watches in a project
OVERRIDABLE = ("404.html", "_apps_list_item.html")  # default templates that an override replaces
# Granular scopes that exist in site_builder/data/forge-scope-names.txt, by the product of the app's modules.
EXTRA_SCOPES = {
    "jira": ("read:project:jira", "read:user:jira", "read:comment:jira", "write:comment:jira", "read:issue-type:jira"),
    "confluence": ("read:space:confluence", "read:user:confluence", "read:comment:confluence", "write:comment:confluence", "read:label:confluence"),
}
OUTPUT_MARKER = ".site-builder-output"  # 'build' marks its output folder with it; the preview folder is serve's own
INITIAL_BUILDS: dict[tuple[bool, str], dict[str, bytes]] = {}  # (draft, SHA-256 of the project's files) -> a clean build's files
REVISION = re.compile(r"Revision (\d{4})")  # fixed width: changing the number keeps the file's size

SETTINGS = settings(
    max_examples=8,
    stateful_step_count=6,
    deadline=None,
    database=None,  # no .hypothesis/ folder in the repository; a failure prints its steps
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)


# ------------------------------------------------------------------------------------ helpers


def tree(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` by its relative path, hidden ones too."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def differences(name: str, got: dict[str, bytes], want: dict[str, bytes]) -> str:
    """A readable account of how ``got`` differs from the clean build ``want``."""
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    changed = sorted(path for path in set(got) & set(want) if got[path] != want[path])
    lines = [f"{name} differs from a clean build:"]
    if missing:
        lines.append(f"  missing ({len(missing)}): {', '.join(missing[:20])}")
    if extra:
        lines.append(f"  not in the clean build ({len(extra)}): {', '.join(extra[:20])}")
    if changed:
        lines.append(f"  different bytes ({len(changed)}): {', '.join(changed[:20])}")
        first = changed[0]
        diff = difflib.unified_diff(
            want[first].decode("utf-8", "replace").splitlines(),
            got[first].decode("utf-8", "replace").splitlines(),
            f"clean/{first}",
            f"{name}/{first}",
            lineterm="",
            n=1,
        )
        lines += ["  " + line for line in list(diff)[:40]]
    return "\n".join(lines)


def snapshot(project: Path) -> tuple[dict[str, bytes], set[str]]:
    """(files by absolute path with their bytes, folders by absolute path) under the watched folders."""
    files: dict[str, bytes] = {}
    folders: set[str] = set()
    for name in WATCHED:
        root = project / name
        if not root.is_dir():
            continue
        folders.add(str(root))
        for path in root.rglob("*"):
            if path.is_dir():
                folders.add(str(path))
            elif path.is_file():
                files[str(path)] = path.read_bytes()
    return files, folders


def watcher_report(project: Path, before: tuple[dict[str, bytes], set[str]], after: tuple[dict[str, bytes], set[str]]) -> set[str]:
    """The paths a file watcher reports between two snapshots: each file or folder that changed,
    appeared or disappeared, and the folder holding each one that appeared or disappeared (its
    listing changed); only paths in the watched folders, as serve's watcher filters them."""
    (files_before, folders_before), (files_after, folders_after) = before, after
    modified = {path for path in files_before.keys() & files_after.keys() if files_before[path] != files_after[path]}
    appeared = (files_after.keys() - files_before.keys()) | (folders_after - folders_before)
    vanished = (files_before.keys() - files_after.keys()) | (folders_before - folders_after)
    reported = modified | appeared | vanished | {os.path.dirname(path) for path in appeared | vanished}
    roots = [str(project / name) for name in WATCHED]
    return {path for path in reported if any(path == root or path.startswith(root + os.sep) for root in roots)}


def write(file: Path, text: str) -> None:
    """Write ``text``, which must differ from what the file holds: an edit that claims to change bytes does."""
    if file.exists():
        assert file.read_text(encoding="utf-8") != text, f"the edit of {file} changes nothing"
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text, encoding="utf-8")


def revise(text: str, number: int, insert: Callable[[str, str], str]) -> str:
    """Renumber the text's revision note in place (same size), or add one with ``insert(text, note)``."""
    note = f"Revision {number:04d}"
    if REVISION.search(text):
        return REVISION.sub(note, text, count=1)
    return insert(text, note)


def scopes_block(text: str, header: str, indent: str) -> re.Match[str]:
    """The lines under ``header`` (e.g. ``"  scopes:"``) indented by ``indent``."""
    match = re.search(rf"^{re.escape(header)}\n((?:{re.escape(indent)}.*\n)*)", text, re.MULTILINE)
    assert match is not None, f"no {header.strip()!r} block"
    return match


# ------------------------------------------------------------------------------------ the machine


class RebuildsMatchCleanBuild(RuleBasedStateMachine):
    """One project, one preview builder and two warm output folders for a whole sequence of edits."""

    def __init__(self, root: Path, content: Path, run_cli: Callable[..., tuple[int, str, str]]) -> None:
        super().__init__()
        self.run_cli = run_cli
        self.workdir = Path(tempfile.mkdtemp(prefix="rebuilds-", dir=root)).resolve()
        self.project = self.workdir / "project"
        shutil.copytree(content, self.project / "content")
        self.counter = 0  # each edit writes a new number, so that it always changes bytes
        self.steps: list[str] = []
        preview_out = self.workdir / "preview"
        preview_out.mkdir()
        self.preview_out = preview_out
        self.preview = PreviewBuilder(self.project, preview_out, draft=True)
        self.warm_out = {True: self.workdir / "warm-draft", False: self.workdir / "warm-released"}
        self.before = snapshot(self.project)
        report = self.preview.build(first=True)
        assert report.ok, [str(p) for p in report.problems]
        self.compare("the initial build", first=True)

    def teardown(self) -> None:
        self.preview.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    # -- what every step checks

    def next_number(self) -> int:
        self.counter += 1
        return self.counter

    def clean(self, draft: bool, initial: bool = False) -> dict[str, bytes]:
        """A clean build's files. The initial state, byte for byte the same in every example, is built once."""
        if not initial:
            return self.build_clean(draft)
        inputs = hashlib.sha256()
        for path in sorted(p for p in self.project.rglob("*") if p.is_file()):
            inputs.update(f"{path.relative_to(self.project).as_posix()}\0{path.stat().st_size}\0".encode() + path.read_bytes())
        key = (draft, inputs.hexdigest())
        if key not in INITIAL_BUILDS:
            INITIAL_BUILDS[key] = self.build_clean(draft)
        return INITIAL_BUILDS[key]

    def build_clean(self, draft: bool) -> dict[str, bytes]:
        out = Path(tempfile.mkdtemp(prefix="clean-", dir=self.workdir)) / "site"
        result = build(self.project, out, BuildOptions(build_date=BUILD_DAY, draft=draft), use_cache=False)
        assert result.site is not None and not result.problems.has_errors(), (
            f"the test made an invalid project ({'draft' if draft else 'released'} build) after {self.steps}: {[str(p) for p in result.problems.items]}"
        )
        files = tree(out)
        shutil.rmtree(out.parent)
        return files

    def compare(self, step: str, first: bool = False) -> None:
        """After an edit: rebuild the preview (told what changed) and both warm folders; compare each with a clean build."""
        self.steps.append(step)
        after = snapshot(self.project)
        changed = watcher_report(self.project, self.before, after)
        self.before = after
        if not first:
            assert changed, f"{step} changed no watched file"
            report = self.preview.build(sorted(changed))
            assert report.ok, f"the preview rebuild after {self.steps} failed: {[str(p) for p in report.problems]}"
        clean = {draft: self.clean(draft, initial=first) for draft in (True, False)}
        preview = tree(self.preview_out)
        clean_site = {path: data for path, data in clean[True].items() if path != OUTPUT_MARKER}
        context = f"\n  steps: {self.steps}\n  paths reported changed: {sorted(changed)}"
        assert preview == clean_site, differences("the preview (serve's rebuild)", preview, clean_site) + context
        for draft in (True, False):
            result = build(self.project, self.warm_out[draft], BuildOptions(build_date=BUILD_DAY, draft=draft), use_cache=True)
            mode = "draft" if draft else "released"
            assert result.site is not None and not result.problems.has_errors(), f"the warm {mode} build failed: {[str(p) for p in result.problems.items]}" + context
            warm = tree(self.warm_out[draft])
            assert warm == clean[draft], differences(f"the warm {mode} build", warm, clean[draft]) + context

    # -- the project as it is now

    @property
    def content(self) -> Path:
        return self.project / "content"

    def sections(self) -> list[Path]:
        return sorted((self.content / "policy").glob("*.md"))

    def apps(self) -> list[Path]:
        return sorted(path for path in (self.content / "apps").iterdir() if path.is_dir())

    def overrides(self) -> list[Path]:
        folder = self.project / "templates"
        return sorted(folder.iterdir()) if folder.is_dir() else []

    def latest_release(self) -> tuple[str, date]:
        entries = yaml.safe_load((self.content / "releases.yaml").read_text(encoding="utf-8"))["releases"]
        last = entries[-1]
        day = last["date"] if isinstance(last["date"], date) else date.fromisoformat(str(last["date"]))
        return str(last["version"]), day

    def working_is_released(self, version: str) -> bool:
        """Whether site.yaml, policy/ and apps/ are byte for byte the frozen copy of ``version``."""

        def files(root: Path) -> dict[str, str]:
            found = {}
            for name in ("site.yaml", "policy", "apps"):
                path = root / name
                paths = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
                found |= {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}
            return found

        return files(self.content) == files(self.content / "releases" / version)

    def append_to_section(self, section: Path) -> None:
        number = self.next_number()
        text = section.read_text(encoding="utf-8")
        write(section, text.rstrip("\n") + f"\n\nThis section was reviewed again (note {number}).\n")

    # -- the rules

    @rule(index=st.integers(0, 30), renumber=st.booleans())
    def edit_policy_text(self, index: int, renumber: bool) -> None:
        """Add a sentence to a section's body, or change the number in one added before (same size)."""
        sections = self.sections()
        section = sections[index % len(sections)]
        text = section.read_text(encoding="utf-8")
        number = self.next_number()
        if renumber:
            new = revise(text, number, lambda t, note: t.rstrip("\n") + f"\n\n{note} of this section.\n")
        else:
            new = text.rstrip("\n") + f"\n\nOne more sentence, number {number}.\n"
        write(section, new)
        self.compare(f"edit_policy_text({section.name}, renumber={renumber})")

    @rule(order=st.integers(14, 99))
    def add_policy_section(self, order: int) -> None:
        number = self.next_number()
        section = self.content / "policy" / f"{order:02d}-added-{number}.md"
        write(section, f"---\ntitle: Added section {number}\nanchor: added-{number}\n---\nA section added while the site was served ({number}).\n")
        self.compare(f"add_policy_section({section.name})")

    @precondition(lambda self: len(self.sections()) > 1)
    @rule(index=st.integers(0, 30))
    def remove_policy_section(self, index: int) -> None:
        sections = self.sections()
        section = sections[index % len(sections)]
        section.unlink()
        self.compare(f"remove_policy_section({section.name})")

    @rule(app_index=st.integers(0, 10), scope_index=st.integers(0, 20), justify=st.booleans())
    def toggle_scope(self, app_index: int, scope_index: int, justify: bool) -> None:
        """Add a scope to an app's manifest (justified in app.yaml or not: a warning), or remove one
        it declares together with its justification (a stale one is an error). Never the last scope."""
        apps = self.apps()
        app = apps[app_index % len(apps)]
        manifest, app_yaml = app / "manifest.yml", app / "app.yaml"
        manifest_text, app_text = manifest.read_text(encoding="utf-8"), app_yaml.read_text(encoding="utf-8")
        block = scopes_block(manifest_text, "  scopes:", "    - ")
        declared = re.findall(r"^    - (\S+)$", block.group(1), re.MULTILINE)
        product = "confluence" if any(name.endswith(":confluence") for name in declared) else "jira"
        pool = list(dict.fromkeys([*declared, *EXTRA_SCOPES[product]]))
        scope = pool[scope_index % len(pool)]
        justifications = scopes_block(app_text, "scopes:", "  ")
        if scope in declared and len(declared) > 1:
            action = "remove"
            lines = [line for line in block.group(1).splitlines(keepends=True) if line != f"    - {scope}\n"]
            manifest_text = manifest_text[: block.start(1)] + "".join(lines) + manifest_text[block.end(1):]
            kept = [line for line in justifications.group(1).splitlines(keepends=True) if not line.startswith(f"  {scope}:")]
            app_text = app_text[: justifications.start(1)] + "".join(kept) + app_text[justifications.end(1):]
        else:
            if scope in declared:  # the only one: add another instead of leaving none
                scope = next(name for name in EXTRA_SCOPES[product] if name not in declared)
            action = "add" + (" justified" if justify else "")
            manifest_text = manifest_text[: block.end(1)] + f"    - {scope}\n" + manifest_text[block.end(1):]
            if justify:
                number = self.next_number()
                app_text = app_text[: justifications.end(1)] + f"  {scope}: Needed for feature {number}.\n" + app_text[justifications.end(1):]
        write(manifest, manifest_text)
        if app_text != app_yaml.read_text(encoding="utf-8"):
            write(app_yaml, app_text)
        self.compare(f"toggle_scope({app.name}, {scope}, {action})")

    @rule(app_index=st.integers(0, 10), what=st.sampled_from(["summary", "renumber", "sample"]))
    def edit_app_yaml(self, app_index: int, what: str) -> None:
        """Change an app's summary (a new sentence, or a renumbered one: same size) or its sample flag."""
        apps = self.apps()
        app_yaml = apps[app_index % len(apps)] / "app.yaml"
        text = app_yaml.read_text(encoding="utf-8")
        number = self.next_number()
        summary = scopes_block(text, "summary: >-", "  ")

        def add_line(line: str) -> str:
            return text[: summary.end(1)] + f"  {line}\n" + text[summary.end(1):]

        if what == "sample":
            new = re.sub(r"^sample: (true|false)$", lambda m: "sample: " + ("false" if m.group(1) == "true" else "true"), text, count=1, flags=re.MULTILINE)
        elif what == "renumber":
            new = revise(text, number, lambda t, note: add_line(f"{note} of this summary."))
        else:
            new = add_line(f"It gained feature number {number}.")
        write(app_yaml, new)
        self.compare(f"edit_app_yaml({app_yaml.parent.name}, {what})")

    @rule(name=st.sampled_from(OVERRIDABLE))
    def write_template_override(self, name: str) -> None:
        """Create or change ``templates/NAME`` in the project: the default template with a visible change."""
        number = self.next_number()
        default = (Path(__file__).resolve().parents[1] / "templates" / name).read_text(encoding="utf-8")
        if name == "404.html":
            text = default.replace("Page not found</h1>", f"Page not found (override {number})</h1>", 1)
        else:
            text = default.replace("<p>{{ app.summary }}</p>", f"<p>{{{{ app.summary }}}}</p>\n<p class=\"note\">Reviewed in round {number}.</p>", 1)
        assert text != default, f"no place for a visible change in templates/{name}"
        write(self.project / "templates" / name, text)
        self.compare(f"write_template_override({name})")

    @precondition(lambda self: bool(self.overrides()))
    @rule(index=st.integers(0, 5), remove_folder=st.booleans())
    def remove_template_override(self, index: int, remove_folder: bool) -> None:
        overrides = self.overrides()
        override = overrides[index % len(overrides)]
        override.unlink()
        folder = override.parent
        removed_folder = remove_folder and not any(folder.iterdir())
        if removed_folder:
            folder.rmdir()
        self.compare(f"remove_template_override({override.name}, folder removed={removed_folder})")

    @rule(days=st.integers(0, 60), section_index=st.integers(0, 30))
    def cut_release(self, days: int, section_index: int) -> None:
        """``site-builder release`` with the next version, on or after the latest one's date; the
        working copy is edited first when it is still the latest release (nothing to release)."""
        version, last_day = self.latest_release()
        if self.working_is_released(version):
            sections = self.sections()
            self.append_to_section(sections[section_index % len(sections)])
        major, minor = (int(part) for part in version.split(".")[:2])
        new_version = f"{major}.{minor + 1}"
        day = min(last_day + timedelta(days=days), BUILD_DAY)
        code, out, err = self.run_cli("release", new_version, "--date", day.isoformat(), "--summary", f"Release {new_version} of the policy.", "--project", self.project)
        assert code == 0, f"release {new_version} on {day} failed after {self.steps}:\n{out}\n{err}"
        self.compare(f"cut_release({new_version}, {day.isoformat()})")


# ------------------------------------------------------------------------------------ the test


@pytest.mark.slow
def test_preview_and_warm_rebuilds_match_a_clean_build_after_every_edit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, repo_root: Path, run_cli) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)  # the preview's and the release command's date: BUILD_DAY
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))  # the warm cache's key, not in the user's home
    run_state_machine_as_test(lambda: RebuildsMatchCleanBuild(tmp_path, repo_root / "content", run_cli), settings=SETTINGS)
