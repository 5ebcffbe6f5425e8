"""The typed content model: what the loader produces and the renderer reads. Immutable."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from ..errors import Position

if TYPE_CHECKING:  # the app model lives beside the Forge manifest parser
    from ..forge.apps import App


@dataclass(frozen=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True)
class Organisation:
    name: str
    legal_name: str
    address: tuple[str, ...]
    website: str
    email: str


@dataclass(frozen=True)
class Contacts:
    security_email: str
    support_portal: str
    response_time: str
    critical_fix_time: str


@dataclass(frozen=True)
class PolicyInfo:
    title: str
    short_title: str
    applies_to: str
    products_covered: str
    last_reviewed: date
    review_interval_days: int
    related: tuple[Link, ...]


@dataclass(frozen=True)
class SecurityTxtSettings:
    expires_after_days: int = 180
    preferred_languages: tuple[str, ...] = ("en",)
    encryption: str = ""
    acknowledgments: str = ""


@dataclass(frozen=True)
class Site:
    base_url: str
    language: str
    organisation: Organisation
    policy: PolicyInfo
    contacts: Contacts
    copyright: str
    security_txt: SecurityTxtSettings


@dataclass(frozen=True)
class Heading:
    """A heading inside a section body, for the table of contents."""

    level: int
    title: str
    anchor: str


@dataclass(frozen=True)
class Section:
    """One policy section: its front matter and its sanitized HTML body."""

    anchor: str
    title: str
    order: int
    group: str
    body_html: str
    body_markdown: str
    headings: tuple[Heading, ...]
    source: Position


@dataclass(frozen=True)
class Edition:
    """One complete state of the trust content: the working copy, or a frozen release."""

    site: Site
    sections: tuple[Section, ...]
    apps: tuple["App", ...] = ()


@dataclass(frozen=True, order=True)
class Version:
    """A dotted version number compared numerically, so 1.10 sorts after 1.9."""

    parts: tuple[int, ...]
    text: str = field(compare=False)

    @classmethod
    def parse(cls, text: str) -> "Version":
        return cls(tuple(int(part) for part in text.split(".")), text)

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Release:
    version: Version
    date: date
    summary: str
    edition: Edition


@dataclass(frozen=True)
class Project:
    """Everything the renderer needs: the releases, oldest first, and the working copy."""

    releases: tuple[Release, ...]
    working: Edition

    @property
    def latest(self) -> Release | None:
        return self.releases[-1] if self.releases else None
