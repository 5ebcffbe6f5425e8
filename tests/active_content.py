"""Finds executable markup in generated files the way a browser would read them (lxml, not regular expressions).

Shared by the bad-input corpus (tests/test_bad_inputs.py) and the property tests (tests/test_properties.py):
a page may hold no <script> (or other active) element, no on* event handler, no inline style, and no
javascript:, vbscript: or data: URL in any attribute that a browser follows.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import lxml.etree
import lxml.html

ACTIVE_ELEMENTS = frozenset({"script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "form", "input", "button", "textarea", "select", "style", "link", "meta", "svg", "math", "template", "portal", "foreignobject", "handler", "animate", "set"})
# elements the theme itself uses in <head>: allowed there, nowhere else
HEAD_ELEMENTS = frozenset({"link", "meta", "style"})
URL_ATTRIBUTES = frozenset({"href", "src", "srcset", "action", "formaction", "poster", "background", "cite", "data", "xlink:href", "{http://www.w3.org/1999/xlink}href", "longdesc", "ping", "manifest", "codebase", "archive", "usemap"})
EXECUTABLE_SCHEMES = ("javascript", "vbscript", "data")
_STRIPPED = re.compile(r"[\x00-\x20\x7f]")  # browsers drop these before reading a URL's scheme


def executable_url(value: str) -> bool:
    """True for a URL a browser would treat as javascript:, vbscript: or data:, however it is disguised."""
    cleaned = _STRIPPED.sub("", value).lower()
    return any(cleaned.startswith(f"{scheme}:") for scheme in EXECUTABLE_SCHEMES)


def _element_findings(element, where: str, *, in_head: bool) -> list[str]:
    found: list[str] = []
    tag = element.tag.split("}")[-1].lower() if isinstance(element.tag, str) else ""
    if not tag:
        return found
    if tag in ACTIVE_ELEMENTS and not (in_head and tag in HEAD_ELEMENTS):
        found.append(f"{where}: <{tag}> element")
    if tag == "meta" and (element.get("http-equiv") or "").lower() == "refresh":
        found.append(f"{where}: <meta http-equiv=refresh>")
    for name, value in element.attrib.items():
        short = name.split("}")[-1].lower()
        if short.startswith("on"):
            found.append(f"{where}: <{tag} {short}=...> event handler")
        if short == "style":
            found.append(f"{where}: <{tag} style=...> inline style")
        if (name.lower() in URL_ATTRIBUTES or short in URL_ATTRIBUTES) and executable_url(value):
            found.append(f"{where}: <{tag} {short}={value[:40]!r}> executable URL")
    return found


def html_findings(text: str, where: str = "fragment") -> list[str]:
    """Every piece of executable markup in an HTML document or fragment."""
    if not text.strip():
        return []
    document = lxml.html.document_fromstring(text) if text.lstrip()[:15].lower().startswith(("<!doctype", "<html")) else lxml.html.fragment_fromstring(text, create_parent="div")
    found: list[str] = []
    for element in document.iter():
        if not isinstance(element.tag, str):
            continue  # comments and processing instructions
        in_head = any(getattr(parent, "tag", "") == "head" for parent in element.iterancestors())
        found.extend(_element_findings(element, where, in_head=in_head))
    return found


def _parse_xml(data: bytes):
    """No entities, no DTD, no network: the files under test are treated as hostile."""
    return lxml.etree.fromstring(data, lxml.etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))


def svg_findings(data: bytes, where: str) -> list[str]:
    """An SVG opened on its own runs its scripts: badges must have none."""
    root = _parse_xml(data)
    found: list[str] = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        tag = element.tag.split("}")[-1].lower()
        if tag in ("script", "foreignobject", "iframe", "object", "embed", "handler"):
            found.append(f"{where}: <{tag}> element in SVG")
        for name, value in element.attrib.items():
            short = name.split("}")[-1].lower()
            if short.startswith("on"):
                found.append(f"{where}: <{tag} {short}=...> event handler in SVG")
            if short == "href" and executable_url(value):
                found.append(f"{where}: <{tag} href={value[:40]!r}> executable URL in SVG")
    return found


XHTML = "{http://www.w3.org/1999/xhtml}"


def xml_findings(data: bytes, where: str) -> list[str]:
    """A feed or sitemap: XHTML inside it holds nothing active, and text marked type="html" is safe HTML."""
    root = _parse_xml(data)
    found: list[str] = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag.startswith(XHTML):
            found.extend(_element_findings(element, where, in_head=False))
        if element.get("type") in ("html", "text/html") and element.text:
            found.extend(html_findings(element.text, f"{where} <{element.tag.split('}')[-1]} type=html>"))
    return found


def site_findings(out: Path) -> list[str]:
    """Executable markup anywhere in a built site: HTML pages, SVG images, XHTML in feeds; JSON must still parse."""
    found: list[str] = []
    for file in sorted(out.rglob("*")):
        if not file.is_file():
            continue
        where = file.relative_to(out).as_posix()
        if file.suffix == ".html":
            found.extend(html_findings(file.read_text("utf-8"), where))
        elif file.suffix == ".svg":
            found.extend(svg_findings(file.read_bytes(), where))
        elif file.suffix == ".xml":
            found.extend(xml_findings(file.read_bytes(), where))
        elif file.suffix == ".json":
            json.loads(file.read_text("utf-8"))
    return found
