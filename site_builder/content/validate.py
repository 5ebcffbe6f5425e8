"""JSON Schema validation that speaks in file:line and says what to do."""

from __future__ import annotations

import difflib
import json
import numbers
import re
from datetime import date
from functools import cache
from importlib import resources
from typing import Any, Callable
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from jsonschema.validators import extend

from ..errors import Problems
from .source import Document, dotted

DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# RFC 5322's local part minus ? % # (they would add headers or escapes to a mailto: link)
EMAIL_PATTERN = re.compile(r"^[A-Za-z0-9.!$&'*+/=^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
_TYPE_HINTS = {
    "string": "write the text after the colon, in quotes if it contains ': ' or starts with a special character",
    "integer": "write a whole number without quotes",
    "number": "write a number without quotes",
    "boolean": "write true or false without quotes",
    "array": "write one '- item' line per item",
    "object": "write 'key: value' lines indented under the key",
}
_TYPE_NAMES = {"string": "text", "integer": "a whole number", "number": "a number", "boolean": "true or false", "array": "a list", "object": "a mapping of keys to values", "null": "nothing"}


def is_date(value: object) -> bool:
    if not isinstance(value, str) or not DATE_PATTERN.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


# str.isspace() or a C0 control: re's \s is str.isspace() (both are Py_UNICODE_ISSPACE)
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f]")


def is_https_url(value: object) -> bool:
    if not isinstance(value, str) or _SPACE_OR_CONTROL.search(value):
        return False
    parts = urlsplit(value)
    return parts.scheme == "https" and bool(parts.hostname) and "." in (parts.hostname or "") and not parts.username


def is_email(value: object) -> bool:
    return isinstance(value, str) and len(value) <= 254 and bool(EMAIL_PATTERN.fullmatch(value))


_FORMATS = FormatChecker(formats=())
_FORMATS.checks("date")(is_date)
_FORMATS.checks("https-url")(is_https_url)
_FORMATS.checks("email")(is_email)
_FORMAT_MESSAGES = {
    "date": ("is not a valid date", "use YYYY-MM-DD"),
    "https-url": ("is not an https: URL", "only https: links are accepted; write https://..."),
    "email": ("is not a valid email address", "use name@example.com"),
}


@cache
def load_schema(name: str) -> dict:
    """The schemas ship inside the package so editors and the tool read the same file."""
    text = resources.files("site_builder").joinpath(f"schemas/{name}.schema.json").read_text("utf-8")
    return json.loads(text)


def _ecma_pattern(validator, pattern: str, instance: object, schema: dict):
    """JSON Schema patterns are ECMA-262, where ``$`` is the end of the text; in Python it also matches
    before a final newline, which would let ``"intro\\n"`` through as an anchor or a version."""
    if isinstance(instance, str) and not re.search(_ecma_to_python(pattern), instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@cache
def _ecma_to_python(pattern: str) -> str:
    return pattern[:-1] + r"\Z" if pattern.endswith("$") and not pattern.endswith("\\$") else pattern


_Validator = extend(Draft202012Validator, {"pattern": _ecma_pattern})


@cache
def _validator(name: str) -> Draft202012Validator:
    return _Validator(load_schema(name), format_checker=_FORMATS)


def validate(document: Document, schema_name: str, problems: Problems) -> bool:
    """Check a document against a shipped schema; add every problem; True when it is valid."""
    is_valid = _fast_check(schema_name)
    if is_valid is not None and is_valid(document.data):
        return True  # jsonschema would find no error; it is asked only to describe the errors
    errors = sorted(_validator(schema_name).iter_errors(document.data), key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    before = len(problems.errors)
    for error in errors:
        path = tuple(error.absolute_path)
        if error.validator == "pattern" and any(e.validator == "format" and tuple(e.absolute_path) == path for e in errors):
            continue  # the format message says it better
        _report(document, error, problems)
    return len(problems.errors) == before


# --- a fast "is it valid?" for the keywords the shipped schemas use -------------------------------------
#
# jsonschema walks a schema afresh for every document, which adds up over many app.yaml files (see BENCHMARKS.md, 'Figures behind the code'); most documents
# are valid, and for them only the answer matters. _compile turns a schema into nested closures that
# give the same answer as Draft 2020-12 with _FORMATS and _ecma_pattern, keyword by keyword, or
# False (then jsonschema runs and reports). A schema with a keyword not handled here is not compiled.

Check = Callable[[Any], bool]
# Keywords that only describe: jsonschema ignores them when validating
_ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "default", "examples", "x-hint"})
# Draft 2020-12's type checker (jsonschema._types.draft202012_type_checker)
_TYPE_TESTS: dict[str, Check] = {
    "array": lambda value: isinstance(value, list),
    "boolean": lambda value: isinstance(value, bool),
    "integer": lambda value: not isinstance(value, bool) and (isinstance(value, int) or (isinstance(value, float) and value.is_integer())),
    "null": lambda value: value is None,
    "number": lambda value: not isinstance(value, bool) and isinstance(value, numbers.Number),
    "object": lambda value: isinstance(value, dict),
    "string": lambda value: isinstance(value, str),
}


def _always(value: Any) -> bool:
    return True


@cache
def _fast_check(name: str) -> Check | None:
    return _compile(load_schema(name))


def _compile(schema: Any) -> Check | None:
    """A predicate that is True only for instances the schema finds no error in; None if the schema is not understood."""
    if schema is True:
        return _always
    if not isinstance(schema, dict):
        return None
    checks: list[Check] = []
    for keyword, value in schema.items():
        if keyword in _ANNOTATIONS:
            continue
        make = _KEYWORDS.get(keyword)
        check = make(value, schema) if make is not None else None
        if check is None:
            return None
        if check is not _always:
            checks.append(check)
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]

    def all_hold(value: Any) -> bool:
        for check in checks:
            if not check(value):
                return False
        return True

    return all_hold


# The type names whose test is a plain isinstance (bool is not an int here: "boolean" is its own name)
_TYPE_CLASSES: dict[str, type] = {"array": list, "boolean": bool, "null": type(None), "object": dict, "string": str}


def _compile_type(types: Any, schema: dict) -> Check | None:
    names = [types] if isinstance(types, str) else types
    if not isinstance(names, list) or not names or not all(isinstance(name, str) and name in _TYPE_TESTS for name in names):
        return None
    if all(name in _TYPE_CLASSES for name in names):
        classes = tuple(_TYPE_CLASSES[name] for name in names)
        return lambda value: isinstance(value, classes)
    tests = [_TYPE_TESTS[name] for name in names]
    if len(tests) == 1:
        return tests[0]
    return lambda value: any(test(value) for test in tests)


def _compile_properties(properties: Any, schema: dict) -> Check | None:
    if not isinstance(properties, dict):
        return None
    compiled = {name: _compile(sub) for name, sub in properties.items()}
    if any(check is None for check in compiled.values()):
        return None
    checks = [(name, check) for name, check in compiled.items() if check is not _always]

    def check(value: Any) -> bool:
        if isinstance(value, dict):
            for name, holds in checks:
                if name in value and not holds(value[name]):
                    return False
        return True

    return check


def _compile_additional(additional: Any, schema: dict) -> Check | None:
    known = schema.get("properties", {})
    if "patternProperties" in schema or not isinstance(known, dict):
        return None
    if additional is True:
        return _always
    names = frozenset(known)
    if additional is False:
        return lambda value: not isinstance(value, dict) or value.keys() <= names
    each = _compile(additional)
    if each is None or not isinstance(additional, dict):
        return None

    def check(value: Any) -> bool:
        if isinstance(value, dict):
            for key, item in value.items():
                if key not in names and not each(item):
                    return False
        return True

    return check


def _compile_required(names: Any, schema: dict) -> Check | None:
    if not isinstance(names, list):
        return None
    required = frozenset(names)
    return lambda value: not isinstance(value, dict) or value.keys() >= required


def _compile_items(items: Any, schema: dict) -> Check | None:
    if "prefixItems" in schema:
        return None
    if items is False:
        return lambda value: not isinstance(value, list) or not value
    each = _compile(items)
    if each is None:
        return None

    def check(value: Any) -> bool:
        if isinstance(value, list):
            for item in value:
                if not each(item):
                    return False
        return True

    return check


def _compile_min_length(limit: Any, schema: dict) -> Check | None:
    if not isinstance(limit, int):
        return None
    return lambda value: not isinstance(value, str) or len(value) >= limit


def _compile_min_items(limit: Any, schema: dict) -> Check | None:
    if not isinstance(limit, int):
        return None
    return lambda value: not isinstance(value, list) or len(value) >= limit


def _compile_minimum(limit: Any, schema: dict) -> Check | None:
    if not isinstance(limit, (int, float)):
        return None
    number = _TYPE_TESTS["number"]
    return lambda value: not number(value) or not value < limit


def _compile_maximum(limit: Any, schema: dict) -> Check | None:
    if not isinstance(limit, (int, float)):
        return None
    number = _TYPE_TESTS["number"]
    return lambda value: not number(value) or not value > limit


def _compile_pattern(pattern: Any, schema: dict) -> Check | None:
    if not isinstance(pattern, str):
        return None
    search = re.compile(_ecma_to_python(pattern)).search
    return lambda value: not isinstance(value, str) or search(value) is not None


def _compile_format(name: Any, schema: dict) -> Check | None:
    if not isinstance(name, str):
        return None
    if name not in _FORMATS.checkers:
        return _always  # FormatChecker.check passes formats it does not know
    test = _FORMATS.checkers[name][0]

    def check(value: Any) -> bool:
        try:
            return bool(test(value))
        except Exception:  # noqa: BLE001 - jsonschema will run the check again and decide
            return False

    return check


_KEYWORDS: dict[str, Callable[[Any, dict], Check | None]] = {
    "type": _compile_type,
    "properties": _compile_properties,
    "additionalProperties": _compile_additional,
    "required": _compile_required,
    "items": _compile_items,
    "minLength": _compile_min_length,
    "minItems": _compile_min_items,
    "minimum": _compile_minimum,
    "maximum": _compile_maximum,
    "pattern": _compile_pattern,
    "format": _compile_format,
}


def _leaves(error: ValidationError) -> list[ValidationError]:
    if error.validator in ("anyOf", "oneOf") and error.context:
        best = min(error.context, key=lambda e: (-len(e.absolute_path), len(e.context or [])))
        return _leaves(best) if best.absolute_path != error.absolute_path or best.validator not in ("type",) else [error]
    return [error]


def _report(document: Document, error: ValidationError, problems: Problems) -> None:
    path = tuple(error.absolute_path)
    key = dotted(path)
    where = document.position(path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    hint = schema.get("x-hint", "")
    if error.validator == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        for extra in sorted(set(error.instance) - set(allowed)):
            if any(re.match(p, extra) for p in schema.get("patternProperties", {})):
                continue
            close = difflib.get_close_matches(extra, allowed, n=1, cutoff=0.6)
            suggestion = f"did you mean {close[0]!r}?" if close else f"allowed keys: {', '.join(allowed)}"
            problems.error(document.position(path + (extra,), of_key=True), f"unknown key {extra!r}", key=key, hint=suggestion)
        return
    if error.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        name = missing[0] if missing else str(error.message)
        problems.error(where, f"missing required key {name!r}", key=key, hint=hint or f"add '{name}:' here")
        return
    if error.validator == "type":
        raw = document.raw_scalars.get(path)
        expected = error.validator_value
        if error.instance is None:  # 'key:' with nothing after it
            problems.error(where, "has no value", key=key, hint=hint or "write the value after the colon, or remove the key")
            return
        if raw is not None and (expected == "string" or "string" in expected):
            problems.error(where, f"{raw} is read as {_describe(error.instance)}, not text", key=key, hint=f"put it in quotes: '{raw}'")
            return
        types = [expected] if isinstance(expected, str) else list(expected)
        wanted = " or ".join(_TYPE_NAMES.get(t, t) for t in types)
        problems.error(where, f"expected {wanted}, found {_describe(error.instance)}", key=key, hint=hint or _TYPE_HINTS.get(types[0], ""))
        return
    if error.validator == "format":
        message, format_hint = _FORMAT_MESSAGES.get(error.validator_value, ("is not valid", hint))
        problems.error(where, f"{_short(error.instance)} {message}", key=key, hint=format_hint)
        return
    if error.validator == "enum":
        options = [str(o) for o in error.validator_value]
        close = difflib.get_close_matches(str(error.instance), options, n=1)
        problems.error(where, f"{_short(error.instance)} is not one of {', '.join(options)}", key=key, hint=f"did you mean {close[0]!r}?" if close else hint)
        return
    if error.validator == "minLength" and error.validator_value == 1:
        problems.error(where, "must not be empty", key=key, hint=hint)
        return
    if error.validator == "minItems":
        problems.error(where, f"needs at least {error.validator_value} item(s)", key=key, hint=hint)
        return
    if error.validator in ("anyOf", "oneOf"):
        leaves = _leaves(error)
        if leaves != [error]:
            for leaf in leaves:
                _report(document, leaf, problems)
            return
    if error.validator == "pattern":
        problems.error(where, f"{_short(error.instance)} is not allowed here", key=key, hint=hint or f"it must match {error.validator_value}")
        return
    problems.error(where, error.message, key=key, hint=hint or "see the schema in site_builder/schemas/ for what this key takes")


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (empty)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a yes/no value)"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"text {_short(value)}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "...'"
