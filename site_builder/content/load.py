"""Loaders of site.yaml and the policy sections (policy/NN-slug.md): files in, model values and problems out."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from ..errors import Position, Problems
from ..cache.incremental import LoadMemo, memoised
from .markup import render_markdown
from .model import Contacts, Link, Organisation, PolicyInfo, Section, SecurityTxtSettings, Site
from .source import Document, load_yaml, read_text, split_front_matter
from .validate import validate

SECTION_FILE = re.compile(r"^(\d+)-([a-z0-9]+(?:-[a-z0-9]+)*)\.md$")
# ids the page template uses itself; a section anchor must not take them
RESERVED_ANCHORS = frozenset({"main", "contents", "apps", "versions", "contact-block", "top", "page-title", "document-facts"})


def load_site(file: Path, display: str, problems: Problems) -> Site | None:
    if not file.exists():
        problems.error(Position(display), "file not found", hint="every project needs content/site.yaml; 'site-builder init DIR' writes one")
        return None
    document = load_yaml(file, display, problems)
    if document is None:
        return None
    if document.data is None:
        problems.error(document.position(), "is empty", hint="write the site's facts here; 'site-builder init DIR' writes a complete example")
        return None
    if not isinstance(document.data, dict):
        problems.error(document.position(), "must be a mapping of keys to values", hint="see site_builder/schemas/site.schema.json")
        return None
    if not validate(document, "site", problems):
        return None
    return _site_from(document.data)


def _site_from(data: dict) -> Site:
    organisation = data["organisation"]
    policy = data["policy"]
    contacts = data["contacts"]
    security_txt = data.get("security_txt", {})
    return Site(
        base_url=data["base_url"],
        language=data.get("language", "en"),
        organisation=Organisation(
            name=organisation["name"],
            legal_name=organisation.get("legal_name", organisation["name"]),
            address=tuple(organisation["address"]),
            website=organisation["website"],
            email=organisation["email"],
        ),
        policy=PolicyInfo(
            title=policy["title"],
            short_title=policy.get("short_title", policy["title"]),
            applies_to=policy.get("applies_to", ""),
            products_covered=policy.get("products_covered", ""),
            last_reviewed=date.fromisoformat(policy["last_reviewed"]),
            review_interval_days=policy.get("review_interval_days", 365),
            related=tuple(Link(item["title"], item["url"]) for item in policy.get("related", [])),
        ),
        contacts=Contacts(**contacts),
        copyright=data.get("copyright", ""),
        security_txt=SecurityTxtSettings(
            expires_after_days=security_txt.get("expires_after_days", 180),
            preferred_languages=tuple(security_txt.get("preferred_languages", [data.get("language", "en")])),
            encryption=security_txt.get("encryption", ""),
            acknowledgments=security_txt.get("acknowledgments", ""),
        ),
    )


def load_sections(folder: Path, display: str, problems: Problems, memo: LoadMemo | None = None) -> tuple[Section, ...] | None:
    if not folder.is_dir():
        problems.error(Position(f"{display}/"), "folder not found", hint="put the policy sections in content/policy/NN-slug.md")
        return None
    sections: list[Section] = []
    for file in sorted(folder.iterdir()):
        name = f"{display}/{file.name}"
        if file.name.startswith("."):
            continue
        match = SECTION_FILE.fullmatch(file.name)
        if not match:
            hint = "name policy files NN-slug.md, e.g. 04-encryption.md" if file.suffix == ".md" else "only NN-slug.md files belong in policy/"
            problems.error(Position(name), "is not a policy section file name", hint=hint)
            continue
        section = memoised(memo, load_section, file, name, int(match.group(1)), match.group(2), problems=problems)
        if section is not None:
            sections.append(section)
    if not sections and not problems.errors:
        problems.error(Position(f"{display}/"), "holds no policy sections", hint="add at least one NN-slug.md file")
    _check_anchors(sections, problems)
    ordered = tuple(sorted(sections, key=lambda s: (s.order, s.source.path)))
    return memo.same_as_before(f"sections:{folder}", ordered) if memo is not None else ordered


def load_section(file: Path, display: str, prefix: int, slug: str, problems: Problems) -> Section | None:
    text = read_text(file, display, problems)
    if text is None:
        return None
    source = split_front_matter(text, display, problems)
    if source is None:
        return None
    front: Document = source.front_matter
    if not isinstance(front.data, dict):
        problems.error(front.position(), "front matter must be a mapping of keys to values", hint="write 'title: ...', 'anchor: ...' and 'order: ...' lines")
        return None
    if not validate(front, "section", problems):
        return None
    data = front.data
    title = data.get("title", "")
    if not title:
        title = slug.replace("-", " ").capitalize()
        problems.warning(front.position(), "section has no title", key="title", hint=f"add 'title:'; shown as {title!r} for now")
    anchor = data["anchor"]
    rendered = render_markdown(source.body, id_prefix=anchor)
    for issue in rendered.issues:  # removed markup is a warning (the page is safe without it); unrenderable text an error
        report = problems.error if issue.severity == "error" else problems.warning
        report(Position(display, source.body_line + max(issue.line, 1) - 1, issue.column if issue.line else 0), issue.message, hint=issue.hint)
    if rendered.demoted_levels:
        problems.warning(Position(display, source.body_line), f"heading level {rendered.demoted_levels[0]} in a section body is shown as level 3", hint="start sub-headings at ### (the section title is the level-2 heading)")
    if not source.body.strip():
        problems.warning(Position(display, source.body_line), "section body is empty", hint="write the section text below the front matter")
    return Section(
        anchor=anchor,
        title=title,
        order=data.get("order", prefix),
        group=data.get("group", ""),
        body_html=rendered.html,
        body_markdown=source.body,
        headings=rendered.headings,
        source=front.position(("anchor",)),
    )


def _check_anchors(sections: list[Section], problems: Problems) -> None:
    seen: dict[str, Section] = {}
    for section in sections:
        if section.anchor in RESERVED_ANCHORS:
            problems.error(section.source, f"anchor {section.anchor!r} is used by the page itself", key="anchor", hint="choose another anchor")
        elif section.anchor in seen:
            problems.error(section.source, f"anchor {section.anchor!r} is already used by {seen[section.anchor].source.path}", key="anchor", hint="anchors must be unique")
        else:
            seen[section.anchor] = section
