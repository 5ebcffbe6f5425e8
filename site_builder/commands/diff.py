"""site-builder diff A B: what changed between two versions, in the terminal, readable without colour."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from typing import Any

from ..content.dates import long_date
from ..releases.diff import ADDED, DELETE, EQUAL, INSERT, AppChange, EditionDiff, Span, diff_editions
from ..errors import Problems
from ..releases.project import load_project
from ..content.model import Edition, Project, Version
from ..releases.history import DRAFT, numeric_key
from .common import add_project_option, report

WORKING_NAMES = (DRAFT, "working")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "diff",
        help="show what changed between two versions",
        description=(
            "Show what changed from version A to version B: document facts, policy sections word by word, and each "
            "app's scopes, destinations and Runs on Atlassian verdict. B may be 'draft' for the working copy. "
            "Added text is shown {+like this+} and removed text [-like this-]."
        ),
    )
    parser.add_argument("old", metavar="A", help="the earlier version, e.g. 1.0")
    parser.add_argument("new", metavar="B", help="the later version, e.g. 1.1, or 'draft'")
    add_project_option(parser)
    parser.add_argument("--format", choices=("text", "json"), default="text", help="text for people (default), json for tools")
    parser.set_defaults(run=run)


def resolve(project: Project, name: str) -> tuple[str, Edition] | str:
    """(label, edition) for a version or 'draft'; an error message otherwise."""
    if name in WORKING_NAMES:
        return "the draft", project.working
    for release in project.releases:
        if release.version.text == name:
            return f"version {release.version} (effective {long_date(release.date)})", release.edition
    try:
        wanted = numeric_key(Version.parse(name))
    except ValueError:
        wanted = None
    for release in project.releases:
        if wanted is not None and numeric_key(release.version) == wanted:
            return f"version {release.version} (effective {long_date(release.date)})", release.edition
    known = ", ".join(r.version.text for r in project.releases) or "none yet"
    return f"no version {name!r} (released versions: {known}; 'draft' is the working copy)"


def run(args: argparse.Namespace) -> int:
    problems = Problems()
    project = load_project(args.project, problems)
    if project is None or problems.has_errors():
        report(problems)
        return 1
    sides = [resolve(project, name) for name in (args.old, args.new)]
    errors = [side for side in sides if isinstance(side, str)]
    if errors:
        for error in errors:
            print(f"site-builder diff: {error}", file=sys.stderr)
        return 1
    (old_label, old), (new_label, new) = sides  # type: ignore[misc]
    changes = diff_editions(old, new)
    if args.format == "json":
        sys.stdout.write(json.dumps(to_json(args.old, args.new, changes), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(format_text(old_label, new_label, changes))
    return 0


# ---------------------------------------------------------------------------------------------
# Text


def spans_text(spans: tuple[Span, ...]) -> str:
    """wdiff's notation: [-removed-] and {+added+}, readable in any terminal and in a log."""
    out = []
    for span in spans:
        if span.op == INSERT:
            out.append(f"{{+{span.text}+}}")
        elif span.op == DELETE:
            out.append(f"[-{span.text}-]")
        else:
            out.append(span.text)
    return "".join(out)


def format_text(old_label: str, new_label: str, changes: EditionDiff) -> str:
    lines = [f"Changes from {old_label} to {new_label}", "Added text is shown {+like this+}, removed text [-like this-].", ""]
    if changes.empty:
        lines.append("Nothing changed: the policy text, the facts and every app's permissions are the same.")
        return "\n".join(lines) + "\n"
    review = changes.permission_changes
    lines.append("PERMISSIONS TO APPROVE AGAIN")
    if review:
        lines += [f"  {app.name} ({app.slug}): {app.status}" for app in review]
    else:
        lines.append("  none: no app gained or lost a scope or destination, and no verdict changed")
    lines.append("")
    if changes.facts:
        lines.append("DOCUMENT FACTS")
        for fact in changes.facts:
            lines.append(f"  {fact.label}: {spans_text(fact.spans)}")
        lines.append("")
    lines.append(f"POLICY SECTIONS ({changes.count('changed')} changed, {changes.count('added')} added, {changes.count('removed')} removed, {changes.unchanged_sections} unchanged)")
    for section in changes.sections:
        heading = f"  {section.status.upper()}: {section.title} (#{section.anchor})" + (" [moved]" if section.moved else "")
        lines.append(heading)
        if section.title_spans:
            lines.append(f"    title: {spans_text(section.title_spans)}")
        if section.status == "changed" and section.old_group != section.group:
            lines.append(f"    group: {section.old_group or '(none)'} -> {section.group or '(none)'}")
        if section.blocks and not section.changed_blocks:
            lines.append("    only the formatting changed; the words are the same")
        skipped = False
        for block in section.blocks:
            if block.op == EQUAL:
                skipped = True
                continue
            if skipped:
                lines.append("    ...")
                skipped = False
            bullet = "- " if block.kind == "li" else ""
            lines.append(f"    {bullet}{spans_text(block.spans)}")
    lines.append("")
    if changes.apps:
        lines.append(f"APPS ({len(changes.apps)} changed, {changes.unchanged_apps} unchanged)")
        for app in changes.apps:
            lines.extend(app_lines(app))
        lines.append("")
    return "\n".join(lines)


def app_lines(app: AppChange) -> list[str]:
    lines = [f"  {app.status.upper()}: {app.name} ({app.slug})"]
    if app.old_name and app.old_name != app.name:
        lines.append(f"    name: [-{app.old_name}-] {{+{app.name}+}}")
    if app.verdict_changed:
        lines.append(f"    Runs on Atlassian: {app.verdict_before.label} -> {app.verdict_after.label}")  # type: ignore[union-attr]
    elif app.status == ADDED and app.verdict_after:
        lines.append(f"    Runs on Atlassian: {app.verdict_after.label}")
    reasons_added = app.verdict_after.reasons if app.status == ADDED and app.verdict_after else app.reasons_added
    lines += [f"    + not eligible because: {reason}" for reason in reasons_added]
    lines += [f"    - no longer: {reason}" for reason in app.reasons_removed]
    lines += [f"    + scope {row.describe()}" for row in app.scopes_added]
    lines += [f"    - scope {row.describe()}" for row in app.scopes_removed]
    lines += [f"    ~ scope {after.scope}: allowImpersonation {'on' if after.allow_impersonation else 'off'}" for _, after in app.scopes_changed]
    lines += [f"    + destination {d.describe()}" for d in app.egress_added]
    lines += [f"    - destination {d.describe()}" for d in app.egress_removed]
    lines += [f"    ~ destination {after.address}: [-{before.describe()}-] {{+{after.describe()}+}}" for before, after in app.egress_changed]
    lines += [f"    + content security {c}" for c in app.content_added]
    lines += [f"    - content security {c}" for c in app.content_removed]
    lines += [f"    + data stored: {d}" for d in app.data_stored_added]
    lines += [f"    - data stored: {d}" for d in app.data_stored_removed]
    lines += [f"    + data processed: {d}" for d in app.data_processed_added]
    lines += [f"    - data processed: {d}" for d in app.data_processed_removed]
    if app.retention_spans:
        lines.append(f"    retention: {spans_text(app.retention_spans)}")
    if app.summary_spans:
        lines.append(f"    summary: {spans_text(app.summary_spans)}")
    return lines


# ---------------------------------------------------------------------------------------------
# JSON


def to_json(old: str, new: str, changes: EditionDiff) -> dict[str, Any]:
    """The same facts for tools; spans as [op, text] pairs. Keys are stable; add, never rename."""

    def spans(items: tuple[Span, ...]) -> list[list[str]]:
        return [[s.op, s.text] for s in items]

    return {
        "from": old,
        "to": new,
        "facts": [{"label": f.label, "old": f.old, "new": f.new, "spans": spans(f.spans)} for f in changes.facts],
        "sections": [
            {
                "anchor": s.anchor,
                "status": s.status,
                "title": s.title,
                "oldTitle": s.old_title,
                "moved": s.moved,
                "blocks": [{"op": b.op, "kind": b.kind, "spans": spans(b.spans)} for b in s.blocks if b.op != EQUAL],
            }
            for s in changes.sections
        ],
        "unchangedSections": changes.unchanged_sections,
        "apps": [
            {
                "slug": a.slug,
                "name": a.name,
                "status": a.status,
                "permissionsChanged": a.status != "changed" or a.permissions_changed,
                "scopesAdded": [asdict(r) for r in a.scopes_added],
                "scopesRemoved": [asdict(r) for r in a.scopes_removed],
                "scopesChanged": [{"before": asdict(b), "after": asdict(c)} for b, c in a.scopes_changed],
                "egressAdded": [asdict(d) for d in a.egress_added],
                "egressRemoved": [asdict(d) for d in a.egress_removed],
                "egressChanged": [{"before": asdict(b), "after": asdict(c)} for b, c in a.egress_changed],
                "contentAdded": list(a.content_added),
                "contentRemoved": list(a.content_removed),
                "runsOnAtlassianBefore": asdict(a.verdict_before) if a.verdict_before else None,
                "runsOnAtlassianAfter": asdict(a.verdict_after) if a.verdict_after else None,
                "dataStoredAdded": list(a.data_stored_added),
                "dataStoredRemoved": list(a.data_stored_removed),
                "dataProcessedAdded": list(a.data_processed_added),
                "dataProcessedRemoved": list(a.data_processed_removed),
                "retention": spans(a.retention_spans),
            }
            for a in changes.apps
        ],
        "unchangedApps": changes.unchanged_apps,
    }
