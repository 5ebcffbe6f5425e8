"""Reading content files: bytes to text to YAML values, keeping every value's source position.

PyYAML's constructor forgets positions, accepts duplicate keys, expands aliases without limit and
reads YAML 1.1 (``no`` is false, ``1.10`` is 1.1).  We compose the node graph with PyYAML and build
plain values ourselves, so each of those is either fixed or reported with file, line and column.
"""

from __future__ import annotations

import errno
import operator
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

import yaml

from ..errors import Position, Problems

try:  # the C composer is much faster on large manifests (see BENCHMARKS.md, 'Figures behind the code')
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

MAX_FILE_BYTES = 1_048_576
MAX_NODES = 100_000
MAX_DEPTH = 64
# Aliases may repeat a value, not multiply the document: a YAML file may expand to at most this much text.
MAX_EXPANDED_CHARS = 2 * MAX_FILE_BYTES

KeyPath = tuple[str | int, ...]
# C0 and C1 controls other than tab and line feed: HTML forbids them, terminals act on them
CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"^[-+]?[0-9]+$")
_OCT = re.compile(r"^0o[0-7]+$")
_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_SPECIAL_FLOAT = {".inf": float("inf"), "+.inf": float("inf"), "-.inf": float("-inf"), ".nan": float("nan")}
_STANDARD_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp", "binary", "omap", "pairs", "set", "value", "merge", "yaml")}
# The first characters of every plain scalar that _resolve_plain does not return as text.
_NOT_ALWAYS_TEXT = frozenset("~nNtTfF+-.0123456789")
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Composer(_Loader):  # type: ignore[misc, valid-type]
    """PyYAML's composer with a resolver that only names the tags _Builder looks at.

    _Builder resolves plain scalars itself (YAML 1.2) and only asks whether a tag is a standard
    one and whether a key is ``<<``; PyYAML's YAML 1.1 resolver runs up to seven regular
    expressions per scalar to answer questions nobody asks here.
    """

    # PyYAML calls these around every node for path resolvers, which a SafeLoader has none of:
    # built-in no-ops (not bound as methods) instead of two Python calls per node
    descend_resolver = operator.is_  # (parent, index)
    ascend_resolver = tuple  # ()

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode:
            # PyYAML's merge resolver is re.match(r"^(?:<<)$"), which also takes "<<\n" (a "! |" block scalar)
            return _MERGE_TAG if implicit[0] and value in ("<<", "<<\n") else "tag:yaml.org,2002:str"
        return "tag:yaml.org,2002:seq" if kind is yaml.SequenceNode else "tag:yaml.org,2002:map"


def dotted(path: KeyPath) -> str:
    """``("policy", "related", 0, "url")`` reads as ``policy.related[0].url`` in messages."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class _MarkPositions(Mapping[KeyPath, Position]):
    """Positions kept as the parser's marks, made into a Position only when one is asked for.

    A document has a position for every value and key, and a message needs a few of them at most.
    """

    __slots__ = ("_marks", "_display", "_line_offset")

    def __init__(self, marks: dict[KeyPath, Any], display: str, line_offset: int) -> None:
        self._marks = marks
        self._display = display
        self._line_offset = line_offset

    def __getitem__(self, path: KeyPath) -> Position:
        mark = self._marks[path]
        return Position(self._display, mark.line + 1 + self._line_offset, mark.column + 1)

    def __contains__(self, path: object) -> bool:
        return path in self._marks

    def __iter__(self) -> Iterator[KeyPath]:
        return iter(self._marks)

    def __len__(self) -> int:
        return len(self._marks)

    def __repr__(self) -> str:
        return repr(dict(self))


@dataclass(frozen=True)
class Document:
    """Plain YAML values plus where each one came from."""

    path: str
    data: Any
    positions: Mapping[KeyPath, Position] = field(default_factory=dict)
    key_positions: Mapping[KeyPath, Position] = field(default_factory=dict)
    raw_scalars: Mapping[KeyPath, str] = field(default_factory=dict)

    def position(self, path: KeyPath = (), *, of_key: bool = False) -> Position:
        """The position of a value (or of its key), or of its nearest ancestor that has one."""
        path = tuple(path)
        if of_key and path in self.key_positions:
            return self.key_positions[path]
        while path:
            if path in self.positions:
                return self.positions[path]
            path = path[:-1]
        return self.positions.get((), Position(self.path, 1, 1))


SYMLINK_MESSAGE = "is a symbolic link, which site-builder does not follow"
SYMLINK_HINT = "replace the link with a copy of the file or folder it points to"


def symbolic_links(folder: Path) -> list[str]:
    """Every symbolic link under ``folder``, as a path relative to it; linked folders are not entered.

    From the kinds os.scandir already knows: no stat call per entry, and a content folder has thousands.
    """
    links: list[str] = []
    pending: list[tuple[str, str]] = [(os.fspath(folder), "")]
    while pending:
        here, relative = pending.pop()
        try:
            scan = os.scandir(here)
        except OSError:  # as os.walk: a folder that cannot be listed is passed over
            continue
        with scan:
            for entry in scan:
                name = f"{relative}{entry.name}"
                if entry.is_symlink():
                    links.append(name)
                elif entry.is_dir(follow_symlinks=False):
                    pending.append((entry.path, name + "/"))
    return links


def read_text(file: Path, display: str, problems: Problems, *, limit: int = MAX_FILE_BYTES) -> str | None:
    """Bytes to text: size-limited, UTF-8 only, BOM and CRLF tolerated, binary refused."""
    try:
        info = file_status(file)
        if info is None or not stat.S_ISREG(info.st_mode):  # load_project reports links under content/ itself
            problems.error(Position(display), "is not a regular file", hint="replace it with the file itself")
            return None
        size = info.st_size
        if size > limit:
            problems.error(Position(display), f"is {size:,} bytes, over the limit of {limit:,}", hint="split it or trim it")
            return None
        raw = read_whole(file, size)
    except OSError as exc:
        problems.error(Position(display), f"cannot be read: {exc.strerror}", hint="check that it exists and is readable")
        return None
    return decode_text(raw, display, problems)


# What pathlib's is_symlink() and is_file() take as "no such file" rather than an error.
_NO_FILE_ERRNOS = frozenset({errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP})


def file_status(file: Path) -> os.stat_result | None:
    """``file``'s own lstat, or None where pathlib's is_symlink() and exists() would both say False.

    One system call answers "is it there", "is it a link", "is it a regular file" and "how big".
    Other errors (a folder that cannot be searched) raise, as they do in pathlib.
    """
    try:
        return os.lstat(file)
    except OSError as exc:
        if exc.errno in _NO_FILE_ERRNOS:
            return None
        raise
    except ValueError:  # a NUL in the name
        return None


def read_whole(file: Path | str, size: int) -> bytes:
    """The whole file, read to its end: on a bare descriptor, in one read when ``size`` is still right.

    A buffered file object costs more syscalls to set up than reading a small content file does.
    """
    descriptor = os.open(file, os.O_RDONLY)
    try:
        chunks = []
        wanted = size + 1  # the second read finds the end
        while chunk := os.read(descriptor, wanted):
            chunks.append(chunk)
            wanted = 1 << 16  # the file grew since its size was taken
        return b"".join(chunks)
    finally:
        os.close(descriptor)


def decode_text(raw: bytes, display: str, problems: Problems) -> str | None:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        problems.error(Position(display, 1, 1), "is saved as UTF-16", hint="save the file as UTF-8")
        return None
    if b"\x00" in raw:
        at = raw.index(b"\x00")
        column = len(raw[raw.rfind(b"\n", 0, at) + 1 : at].decode("utf-8", "replace")) + 1
        problems.error(Position(display, raw[:at].count(b"\n") + 1, column), "is a binary file (contains a NUL byte)", hint="content files must be UTF-8 text")
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = len(raw[raw.rfind(b"\n", 0, exc.start) + 1 : exc.start].decode("utf-8", "replace")) + 1
        problems.error(Position(display, line, column), f"is not valid UTF-8 (byte 0x{raw[exc.start]:02x})", hint="save the file as UTF-8")
        return None
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


class _LimitExceeded(Exception):
    def __init__(self, message: str, hint: str = "write the values out without anchors and aliases"):
        super().__init__(message)
        self.hint = hint


@dataclass
class _Builder:
    display: str
    problems: Problems
    line_offset: int
    nodes: int = 0
    positions: dict = field(default_factory=dict)  # KeyPath -> the parser's start mark
    key_positions: dict = field(default_factory=dict)
    raw_scalars: dict = field(default_factory=dict)
    unsupported_tags: int = 0

    def mark(self, mark: yaml.Mark) -> Position:
        return Position(self.display, mark.line + 1 + self.line_offset, mark.column + 1)

    def build(self, node: yaml.Node, path: KeyPath, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _LimitExceeded(f"expands to more than {MAX_NODES:,} values (an alias bomb?)")
        if depth > MAX_DEPTH:
            raise _LimitExceeded(f"is nested more than {MAX_DEPTH} levels deep", _DEPTH_HINT)
        self.positions[path] = node.start_mark
        if node.tag not in _STANDARD_TAGS:
            shown = node.tag.replace("tag:yaml.org,2002:", "!!", 1)
            self.problems.error(self.mark(node.start_mark), f"unsupported YAML tag {shown!r}", key=dotted(path), hint="remove the tag")
            self.unsupported_tags += 1
        if isinstance(node, yaml.ScalarNode):
            text = node.value
            control = CONTROL_CHARACTER.search(text)
            if control:  # written as an escape ("\e", "\x1f"): invisible, and not allowed in a web page
                self.problems.error(self.mark(node.start_mark), f"contains the control character U+{ord(control.group()):04X}", key=dotted(path), hint="remove the escape sequence")
            if node.style or (text and text[0] not in _NOT_ALWAYS_TEXT):  # quoted or block scalars are always strings
                return text
            value = _resolve_plain(text)
            if not isinstance(value, str):
                self.raw_scalars[path] = text
            return value
        if isinstance(node, yaml.SequenceNode):
            build = self.build
            depth += 1
            return [build(child, path + (index,), depth) for index, child in enumerate(node.value)]
        return self.mapping(node, path, depth)

    def mapping(self, node: yaml.MappingNode, path: KeyPath, depth: int) -> dict:
        result: dict = {}
        build = self.build
        key_positions = self.key_positions
        depth += 1
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.error(self.mark(key_node.start_mark), "a key must be a plain word, not a list or mapping", key=dotted(path))
                continue
            if key_node.tag == _MERGE_TAG:
                self.problems.error(self.mark(key_node.start_mark), "merge keys (<<) are not supported", key=dotted(path), hint="write the keys out")
                continue
            key = key_node.value
            child = path + (key,)
            if key in result:
                first = self.mark(key_positions[child])
                self.problems.error(self.mark(key_node.start_mark), f"duplicate key {key!r} (first defined on line {first.line})", key=dotted(child), hint="keep one of them")
                continue
            key_positions[child] = key_node.start_mark
            result[key] = build(value_node, child, depth)
        return result


def _resolve_plain(text: str) -> Any:
    """YAML 1.2 core schema: only these spellings are not strings."""
    if text and text[0] not in _NOT_ALWAYS_TEXT:  # most text: no pattern below can match
        return text
    if _NULL.match(text):
        return None
    if text in _BOOL:
        return _BOOL[text]
    if _INT.match(text):
        return int(text)
    if _OCT.match(text):
        return int(text[2:], 8)
    if _HEX.match(text):
        return int(text[2:], 16)
    if _FLOAT.match(text):
        return float(text)
    if text.lower() in _SPECIAL_FLOAT:
        return _SPECIAL_FLOAT[text.lower()]
    return text


def parse_yaml(text: str, display: str, problems: Problems, *, line_offset: int = 0) -> Document | None:
    """Text to a Document, or None with the reasons added to ``problems``."""
    tab = _leading_tab(text)
    if tab:
        problems.error(Position(display, tab + line_offset, 1), "a tab is used for indentation", hint="YAML indents with spaces only")
        return None
    try:
        nodes = _compose_within_limits(text, display, problems, line_offset)
        if nodes is None:
            return None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Position(display, mark.line + 1 + line_offset, mark.column + 1) if mark else Position(display)
        reason = (exc.problem or exc.context or "is not valid YAML").strip()
        context_at = Position(display, exc.context_mark.line + 1 + line_offset, exc.context_mark.column + 1) if exc.context_mark else where
        if exc.problem == "second occurrence" and exc.context:  # a repeated &anchor
            reason = f"{exc.context.removesuffix('; first occurrence')} (first on line {context_at.line})"
            hint = "give each anchor its own name"
        elif exc.context == "while scanning a simple key":  # the scanner notices on the next line; the key is the mistake
            where, reason, hint = context_at, "this line has no ':' after its key", "write 'key: value', or put the whole text in quotes"
        elif (exc.context or "").startswith("while scanning a quoted scalar") and "end of stream" in (exc.problem or ""):
            where, reason, hint = context_at, "the quoted text that starts here is never closed", "add the closing quote"
        else:
            hint = "check indentation, colons and quotes around this place"
        problems.error(where, f"invalid YAML: {reason}", hint=hint)
        return None
    except yaml.reader.ReaderError as exc:  # a control character, which YAML does not allow in a file
        start = exc.position - (text.rfind("\n", 0, exc.position) + 1)
        code = exc.character if isinstance(exc.character, int) else ord(exc.character or "\0")
        where = Position(display, text.count("\n", 0, exc.position) + 1 + line_offset, start + 1)
        problems.error(where, f"invalid YAML: contains the control character U+{code:04X}", hint="remove it; YAML files hold printable text only")
        return None
    except yaml.YAMLError as exc:
        problems.error(Position(display), f"invalid YAML: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", hint="check the file's syntax")
        return None
    except UnicodeEncodeError:  # a lone surrogate: only text not read from a UTF-8 file can hold one
        problems.error(Position(display), "invalid YAML: contains a character that is not valid Unicode", hint="save the file as UTF-8")
        return None
    if len(nodes) > 1:
        second = nodes[1]
        problems.error(Position(display, second.start_mark.line + line_offset, 1), "holds more than one YAML document", hint="remove the extra '---'")
        return None
    builder = _Builder(display, problems, line_offset)
    if not nodes:
        return Document(display, None, {(): Position(display, 1 + line_offset, 1)})
    try:
        data = builder.build(nodes[0], (), 0)
    except _LimitExceeded as exc:
        problems.error(Position(display, 1 + line_offset, 1), str(exc), hint=exc.hint)
        return None
    if builder.unsupported_tags:  # what a tag meant is unknown, so nothing read from the file can be trusted
        return None
    positions = _MarkPositions(builder.positions, display, line_offset)
    return Document(display, data, positions, _MarkPositions(builder.key_positions, display, line_offset), builder.raw_scalars)


_DEPTH_HINT = "use fewer levels of nesting"
_ALIAS_HINT = "write the values out; an alias may repeat a small value, not multiply the document"
_OPEN_EVENTS = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE_EVENTS = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
_NOT_COMPOSED: Any = object()
# Without aliases a document has at most 1.5 values per character ("[:,:,...]"): text this short
# holds fewer values than MAX_NODES, and fewer characters than MAX_EXPANDED_CHARS.
_SHORT_TEXT = MAX_NODES // 3
# Where a line's block collections can start: after its indentation and after each '-', '?' or ':'
# indicator that follows it (a key on the same line after "key: " is an error, not a collection).
_BLOCK_PREFIX = re.compile(r"^[ \t]*(?:[-?:][ \t]+)*", re.MULTILINE)
# Line breaks other than "\n" (libyaml also breaks lines at these) and a byte order mark, which may start a line
_OTHER_BREAKS = re.compile("[\r\x85\u2028\u2029\ufeff]")
# A cheap first test: with at most _FEW_FLOW brackets and no line starting with a run as long as
# _LONG_RUN of the characters prefixes are made of, every prefix is shorter than that run, and
# 2 * ((MAX_DEPTH - _FEW_FLOW) // 2) + _FEW_FLOW <= MAX_DEPTH.
_FEW_FLOW = 16
_LONG_RUN = "[ \t?:-]{%d}" % ((MAX_DEPTH - _FEW_FLOW) // 2)
_LONG_FIRST_RUN = re.compile(_LONG_RUN)  # match() at the start of the text
_LONG_LATER_RUN = re.compile("\n" + _LONG_RUN)  # a literal first character: re scans for it quickly


def _compose_within_limits(text: str, display: str, problems: Problems, line_offset: int) -> list[yaml.Node] | None:
    """The composed documents, or None once a limit is reported; syntax errors propagate.

    The limits are checked on the parser's event stream before anything is composed
    (_check_limits). That walk is pure Python and costs as much as composing, so it is skipped
    when the text alone proves that no limit can be reached (_is_short_and_shallow) and the
    text holds one document or none, composed without error and without aliases. In every
    other case the walk runs first, as it always did, so the same limit or error is reported.
    """
    if _is_short_and_shallow(text):
        try:
            document = _single_document(text)
        except (yaml.YAMLError, UnicodeEncodeError):
            document = _NOT_COMPOSED
        if document is not _NOT_COMPOSED:
            nodes = [document] if document is not None else []
            if "*" not in text or not _has_alias(nodes):
                return nodes
    if not _within_limits(text, display, problems, line_offset):
        return None
    return list(yaml.compose_all(text, Loader=_Composer))


def _single_document(text: str) -> yaml.Node | None:
    """The one document in ``text`` (None when there is none); a second document is a ComposerError."""
    loader = _Composer(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def _is_short_and_shallow(text: str) -> bool:
    """True when ``text`` is short and no document in it can nest deeper than MAX_DEPTH, by an upper
    bound read off the text.

    Flow collections each start at a '[' or '{'. Block collections start only where a line's
    _BLOCK_PREFIX ends or at an indicator inside it, and the parser opens a block collection only
    at a column greater than the enclosing one (its indentation stack), except that a mapping's
    value may be a sequence at the mapping's own column. So with every prefix at most ``widest``
    columns, block collections nest at most 2 * (widest + 1) deep.
    """
    if len(text) > _SHORT_TEXT:
        return False
    flow = text.count("[") + text.count("{")
    if flow > MAX_DEPTH or "\r" in text or (not text.isascii() and _OTHER_BREAKS.search(text)):
        return False
    if flow <= _FEW_FLOW and not _LONG_FIRST_RUN.match(text) and not _LONG_LATER_RUN.search(text):
        return True
    widest = max(map(len, _BLOCK_PREFIX.findall(text)))
    return 2 * (widest + 1) + flow <= MAX_DEPTH


def _has_alias(documents: list[yaml.Node]) -> bool:
    """True when a node is reached twice: the composer shares the anchored node with every alias of it."""
    seen: set[int] = set()
    stack: list[yaml.Node] = list(documents)
    while stack:
        node = stack.pop()
        if id(node) in seen:
            return True
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.append(key)
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return False


def _within_limits(text: str, display: str, problems: Problems, line_offset: int) -> bool:
    try:
        return _check_limits(text, display, problems, line_offset, _Loader)
    except yaml.MarkedYAMLError as exc:
        # newer libyaml refuses 1,000 levels before yielding them; the pure-Python parser streams
        # lazily, so the depth check below can name the exact place
        if "maximum nesting depth" not in (exc.problem or ""):
            raise
        return _check_limits(text, display, problems, line_offset, yaml.SafeLoader)


def _check_limits(text: str, display: str, problems: Problems, line_offset: int, loader: type) -> bool:
    """Check nesting depth and alias expansion on the parser's event stream, before anything is composed.

    The event parser keeps its own stack, so this walk cannot overflow; the composer recurses (in C,
    where 100,000 nested brackets crash the interpreter) and PyYAML would expand aliases without
    limit. Each anchor's expanded size is counted once, so a billion-laughs bomb is refused at the
    alias that crosses the limit, after reading a few hundred bytes. Syntax errors propagate.
    """
    depth = 0
    nodes = chars = 0
    open_anchors: list[tuple[str | None, int, int]] = []  # (anchor, nodes, chars) when the collection opened
    sizes: dict[str, tuple[int, int]] = {}

    def refuse(event: yaml.Event, message: str, hint: str) -> bool:
        mark = event.start_mark
        problems.error(Position(display, mark.line + 1 + line_offset, mark.column + 1), message, hint=hint)
        return False

    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, _OPEN_EVENTS):
            depth += 1
            if depth > MAX_DEPTH:
                return refuse(event, f"is nested more than {MAX_DEPTH} levels deep", _DEPTH_HINT)
            open_anchors.append((event.anchor, nodes, chars))
            nodes += 1
        elif isinstance(event, _CLOSE_EVENTS):
            depth -= 1
            anchor, nodes_before, chars_before = open_anchors.pop()
            if anchor is not None:
                sizes[anchor] = (nodes - nodes_before, chars - chars_before)
        elif isinstance(event, yaml.ScalarEvent):
            nodes += 1
            chars += len(event.value)
            if event.anchor is not None:
                sizes[event.anchor] = (1, len(event.value))
        elif isinstance(event, yaml.AliasEvent):
            alias_nodes, alias_chars = sizes.get(event.anchor or "", (1, 0))
            nodes += alias_nodes
            chars += alias_chars
            if nodes > MAX_NODES:
                return refuse(event, f"alias *{event.anchor} expands the document to more than {MAX_NODES:,} values (an alias bomb?)", _ALIAS_HINT)
            if chars > MAX_EXPANDED_CHARS:
                return refuse(event, f"alias *{event.anchor} expands the document to more than {MAX_EXPANDED_CHARS:,} characters (an alias bomb?)", _ALIAS_HINT)
        if nodes > MAX_NODES:
            return refuse(event, f"has more than {MAX_NODES:,} values", "split the file or trim it")
    return True


def _leading_tab(text: str) -> int:
    if "\t" not in text:
        return 0
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.lstrip(" ")
        if stripped.startswith("\t") and stripped.strip():
            return number
    return 0


def load_yaml(file: Path, display: str, problems: Problems, *, limit: int = MAX_FILE_BYTES) -> Document | None:
    text = read_text(file, display, problems, limit=limit)
    if text is None:
        return None
    return parse_yaml(text, display, problems)


@dataclass(frozen=True)
class MarkdownSource:
    """A Markdown file split into its front matter and its body."""

    front_matter: Document
    body: str
    body_line: int


def split_front_matter(text: str, display: str, problems: Problems) -> MarkdownSource | None:
    if not text.startswith("---\n"):
        problems.error(Position(display, 1, 1), "has no front matter", hint="start the file with '---', the keys title, anchor and order, and '---'")
        return None
    end = text.find("\n---\n", 3)
    if end == -1:
        if text.endswith("\n---"):
            end = len(text) - 4
        else:
            problems.error(Position(display, 1, 1), "front matter is not closed", hint="add a line '---' after the front matter")
            return None
    header = text[4 : end + 1]
    document = parse_yaml(header, display, problems, line_offset=1)
    if document is None:
        return None
    body_start = end + 5
    body_line = text.count("\n", 0, body_start) + 1
    return MarkdownSource(document, text[body_start:], body_line)
