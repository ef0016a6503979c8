"""TOML files checked against a schema, every problem named by file, line and key.

Used for the mission data (data/mission/*.toml, schemas in experience/mission/schemas.py) and
meant for every other TOML file the program reads (the viewer's settings, the kiosk config).
``tomllib`` parses but gives no line numbers; this module maps every key path to the line where
it is written (tables, arrays of tables, dotted keys, inline tables and arrays, multi-line
strings) and raises one :class:`TomlError` line, ``FILE:LINE: ...``, that names the key, what
is accepted, and the fix:

    data/mission/timeline.toml:41: unknown key 'utcc' in event[4]; did you mean 'utc'? (accepted: id, name, utc, ...)
    settings.toml:7: window.width must be a whole number from 320 to 16384, not 0; fix the value
    data/mission/timeline.toml:97: event[9].id "docking_1" is used twice (first at line 88); give each its own id

API
---
``load(path, schema=None, *, shown=None) -> Document`` / ``loads(text, schema=None, *, shown) -> Document``
    Parse (a syntax error is ``FILE:LINE: not valid TOML: ...``), map the lines and, with a
    schema, validate. ``shown`` is the file name used in messages (default: the path).
``Document``
    ``.data`` (the validated value: dicts, lists, scalars; optional keys with a default filled
    in), ``.raw`` (as parsed), ``.shown``, ``.line_of(keypath)`` (the line of a key path such as
    ``("event", 3, "utc")``, list indices from 0; the nearest enclosing key's line when the key
    itself is absent), ``.error(keypath, message) -> TomlError`` (for checks of your own, e.g.
    across files), ``.validate(schema)``.
``keyname(keypath) -> str``
    ``("event", 3, "utc")`` -> ``"event[4].utc"``, for messages of your own.
``TomlError``
    A :class:`experience.errors.DataFileError` (one line, exit code 2) with ``.file``, ``.line``
    and ``.keypath``.

Schema: specs, combined freely. Every spec takes ``required=True`` (inside a Table; a missing
required key is an error at the table's line), ``default=`` (filled in when the key is absent;
implies ``required=False``), ``doc=`` (what the value is, used in messages: "the picture
width in pixels") and ``check=`` (a callable ``check(value, keypath, doc)`` that raises
``doc.error(...)`` for rules of your own).

- ``String(choices=None, pattern=None, nonempty=False)``: choices are an enumeration (the closest
  one is suggested), pattern a regular expression the whole string must match.
- ``Integer(min=None, max=None, choices=None)``, ``Number(min=None, max=None)`` (an integer or a
  float, finite; ``min``/``max`` inclusive), ``Boolean()``, ``DateTime(kinds=...)`` (TOML dates
  and times: any of "offset", "local", "date", "time").
- ``Array(item, length=None, min_len=None, max_len=None, unique=False, unique_by=None)``: every
  element checked against ``item``; ``unique_by="id"`` refuses two tables with the same ``id``
  (naming both lines); ``unique=True`` refuses equal elements.
- ``Table(fields, extra=None, key_pattern=None)``: ``fields`` maps key -> spec; a key not in it is
  refused with the closest valid key suggested (difflib), unless ``extra`` (a spec for every
  other key's value; e.g. ``Table({}, extra=Number())`` is a map of names to numbers) allows it.
- ``AnyOf(spec, spec, ...)``: the first spec that accepts the value; ``Choice(pick)``: the spec
  ``pick(value)`` returns (for recursive or value-dependent shapes); ``AnyValue()``.

Array indices in messages count from 1 (``event[4]`` is the fourth ``[[event]]``), as a person
reads the file.
"""

from __future__ import annotations

import copy
import datetime as _dt
import difflib
import json
import math
import re
import tomllib
from pathlib import Path
from typing import Any, Callable, Iterable

from experience.errors import DataFileError

__all__ = [
    "AnyOf", "AnyValue", "Array", "Boolean", "Choice", "DateTime", "Document", "Integer", "Number",
    "Spec", "String", "Table", "TomlError", "keyname", "load", "loads",
]

MISSING = object()
KeyPath = tuple  # of str (keys) and int (array indices, from 0)


class TomlError(DataFileError):
    """``FILE:LINE: message``: one line naming the file, the line and the key."""

    def __init__(self, file: str, line: int | None, message: str, keypath: KeyPath = ()):
        where = f"{file}:{line}" if line else f"{file}"
        super().__init__(f"{where}: {message}")
        self.file, self.line, self.keypath = file, line, tuple(keypath)


# ------------------------------------------------------------------------------------------------
# Where each key is written
# ------------------------------------------------------------------------------------------------
_BARE = re.compile(r"[A-Za-z0-9_-]+")


class _LineMap:
    """Key path -> line number, from a scan of TOML text that ``tomllib`` has already accepted."""

    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.line = 1
        self.lines: dict[KeyPath, int] = {}
        self.aot: dict[KeyPath, int] = {}  # array-of-tables path -> index of its last table
        try:
            self._document()
        except (IndexError, ValueError):  # never fatal: lines are a courtesy on top of tomllib
            pass

    # -- low level --------------------------------------------------------------------------
    def _peek(self, n: int = 1) -> str:
        return self.text[self.pos:self.pos + n]

    def _advance(self, n: int = 1) -> None:
        chunk = self.text[self.pos:self.pos + n]
        self.line += chunk.count("\n")
        self.pos += n

    def _skip_ws(self) -> None:
        while self._peek() in (" ", "\t") and self._peek():
            self._advance()

    def _skip_ws_nl(self) -> None:
        while True:
            c = self._peek()
            if c in (" ", "\t", "\r", "\n") and c:
                self._advance()
            elif c == "#":
                self._skip_comment()
            else:
                return

    def _skip_comment(self) -> None:
        end = self.text.find("\n", self.pos)
        self._advance((end if end >= 0 else len(self.text)) - self.pos)

    def _record(self, path: KeyPath, line: int | None = None) -> None:
        self.lines.setdefault(path, self.line if line is None else line)

    # -- keys ---------------------------------------------------------------------------------
    def _key(self) -> list[str]:
        parts = []
        while True:
            self._skip_ws()
            c = self._peek()
            if c == '"':
                parts.append(self._basic_string())
            elif c == "'":
                parts.append(self._literal_string())
            else:
                m = _BARE.match(self.text, self.pos)
                if not m:
                    raise ValueError("no key")
                parts.append(m.group(0))
                self._advance(m.end() - self.pos)
            self._skip_ws()
            if self._peek() == ".":
                self._advance()
                continue
            return parts

    def _basic_string(self) -> str:
        start = self.pos
        self._advance()
        while self._peek() != '"':
            if self._peek() == "\\":
                self._advance()
            if not self._peek():
                raise ValueError("unterminated string")
            self._advance()
        self._advance()
        raw = self.text[start:self.pos]
        try:
            return json.loads(raw.replace("\\e", "\\u001b"))
        except ValueError:  # \UXXXXXXXX and friends: good enough for finding lines
            return raw[1:-1]

    def _literal_string(self) -> str:
        end = self.text.index("'", self.pos + 1)
        value = self.text[self.pos + 1:end]
        self._advance(end + 1 - self.pos)
        return value

    def _multiline(self, quote: str) -> None:
        self._advance(3)
        while True:
            c = self._peek()
            if not c:
                raise ValueError("unterminated string")
            if quote == '"' and c == "\\":
                self._advance(2)
                continue
            if self._peek(3) == quote * 3:
                self._advance(3)
                while self._peek() == quote:  # up to two quotes may end the content
                    self._advance()
                return
            self._advance()

    # -- values -------------------------------------------------------------------------------
    def _value(self, path: KeyPath) -> None:
        self._skip_ws()
        c = self._peek()
        if self._peek(3) in ('"""', "'''"):
            self._multiline(c)
        elif c == '"':
            self._basic_string()
        elif c == "'":
            self._literal_string()
        elif c == "[":
            self._advance()
            i = 0
            while True:
                self._skip_ws_nl()
                if self._peek() == "]":
                    self._advance()
                    return
                self._record(path + (i,))
                self._value(path + (i,))
                self._skip_ws_nl()
                if self._peek() == ",":
                    self._advance()
                i += 1
        elif c == "{":
            self._advance()
            while True:
                self._skip_ws_nl()
                if self._peek() == "}":
                    self._advance()
                    return
                line = self.line
                keys = self._key()
                for k in range(1, len(keys) + 1):
                    self._record(path + tuple(keys[:k]), line)
                self._skip_ws()
                self._advance()  # "="
                self._value(path + tuple(keys))
                self._skip_ws_nl()
                if self._peek() == ",":
                    self._advance()
        else:
            m = re.compile(r"[^,\]}\s#]+(?:[ T][0-9][^,\]}\s#]*)?").match(self.text, self.pos)
            if not m:
                raise ValueError("no value")
            self._advance(m.end() - self.pos)

    # -- the document -------------------------------------------------------------------------
    def _resolve(self, keys: Iterable[str]) -> KeyPath:
        out: list = []
        for k in keys:
            out.append(k)
            if tuple(out) in self.aot:
                out.append(self.aot[tuple(out)])
        return tuple(out)

    def _document(self) -> None:
        table: KeyPath = ()
        while True:
            self._skip_ws_nl()
            if not self._peek():
                return
            line = self.line
            if self._peek(2) == "[[":
                self._advance(2)
                keys = self._key()
                self._advance(2)  # "]]"
                parent = self._resolve(keys[:-1])
                array = parent + (keys[-1],)
                index = self.aot.get(array, -1) + 1
                self.aot[array] = index
                table = array + (index,)
                self._record(array, line)
                self._record(table, line)
            elif self._peek() == "[":
                self._advance()
                keys = self._key()
                self._advance()  # "]"
                table = self._resolve(keys)
                for k in range(1, len(table) + 1):
                    self._record(table[:k], line)
            else:
                keys = self._key()
                for k in range(1, len(keys) + 1):
                    self._record(table + tuple(keys[:k]), line)
                self._skip_ws()
                self._advance()  # "="
                self._value(table + tuple(keys))


# ------------------------------------------------------------------------------------------------
# Documents
# ------------------------------------------------------------------------------------------------
def keyname(path: KeyPath) -> str:
    """("event", 3, "utc") -> "event[4].utc" (indices from 1, as a person reads the file)."""
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p + 1}]"
        else:
            key = p if _BARE.fullmatch(p) else json.dumps(p, ensure_ascii=False)
            out += f".{key}" if out else key
    return out or "the top level"


class Document:
    """A parsed TOML file with the line of every key (see the module docstring)."""

    def __init__(self, raw: dict, text: str, shown: str):
        self.raw = raw
        self.data = raw
        self.shown = shown
        self._lines = _LineMap(text).lines

    def line_of(self, keypath: KeyPath) -> int | None:
        """The line where ``keypath`` is written, or that of its nearest written parent."""
        path = tuple(keypath)
        while path:
            if path in self._lines:
                return self._lines[path]
            path = path[:-1]
        return 1 if self._lines or self.raw else None

    def error(self, keypath: KeyPath, message: str) -> TomlError:
        """A TomlError at the line of ``keypath``: ``raise doc.error(path, "...; fix ...")``."""
        return TomlError(self.shown, self.line_of(keypath), message, keypath)

    def validate(self, schema: "Spec") -> Any:
        """Check ``.raw`` against ``schema``; sets and returns ``.data`` (defaults filled in)."""
        self.data = schema.validate(self.raw, (), self)
        return self.data


def loads(text: str, schema: "Spec | None" = None, *, shown: str = "<text>") -> Document:
    """Parse TOML text (syntax errors as ``SHOWN:LINE: not valid TOML: ...``) and validate it."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"at line (\d+)", str(exc))
        hint = " (a key or a table given twice?)" if "overwrite" in str(exc) or "twice" in str(exc) else ""
        raise TomlError(shown, int(m.group(1)) if m else None,
                        f"not valid TOML: {exc}{hint}; fix that line") from None
    doc = Document(raw, text, shown)
    if schema is not None:
        doc.validate(schema)
    return doc


def load(path, schema: "Spec | None" = None, *, shown: str | None = None) -> Document:
    """Read and parse a TOML file (see :func:`loads`); a missing or unreadable file is one line."""
    path = Path(path)
    shown = shown or str(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise TomlError(shown, None, "no such file; create it or give the right path") from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[:exc.start].count(b"\n") + 1
        raise TomlError(shown, line, "not UTF-8 text; save the file as UTF-8") from None
    except OSError as exc:
        raise TomlError(shown, None, f"cannot read it ({exc.strerror or exc}); check its permissions") from None
    return loads(text, schema, shown=shown)


# ------------------------------------------------------------------------------------------------
# Specs
# ------------------------------------------------------------------------------------------------
def _show(value: Any) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, dict):
        return "a table"
    elif isinstance(value, list):
        text = "[" + ", ".join(_show(v) for v in value[:6]) + (", ...]" if len(value) > 6 else "]")
    elif isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        text = value.isoformat()
    else:
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, _dt.datetime):
        return "a date-time"
    if isinstance(value, _dt.date):
        return "a date"
    if isinstance(value, _dt.time):
        return "a time"
    return type(value).__name__


def _range_text(lo, hi) -> str:
    if lo is not None and hi is not None:
        return f"from {lo:g} to {hi:g}"
    if lo is not None:
        return f"of at least {lo:g}"
    if hi is not None:
        return f"of at most {hi:g}"
    return ""


def _with_doc(text: str, doc: str) -> str:
    if not doc:
        return text
    if text.endswith(")"):
        return f"{text[:-1]}; {doc})"
    return f"{text} ({doc})"


def _choices_text(choices) -> str:
    return ", ".join(_show(c) for c in choices)


class Spec:
    """Base of every spec: see the module docstring for the shared arguments."""

    noun = "a value"

    def __init__(self, *, required: bool = True, default: Any = MISSING, doc: str = "",
                 check: Callable[[Any, KeyPath, Document], None] | None = None):
        self.default = default
        self.required = bool(required) and default is MISSING
        self.doc = doc
        self.custom = check

    def describe(self) -> str:
        return _with_doc(self.noun, self.doc)

    def validate(self, value: Any, path: KeyPath, doc: Document) -> Any:
        out = self._validate(value, path, doc)
        if self.custom is not None:
            self.custom(out, path, doc)
        return out

    def _validate(self, value, path, doc):  # pragma: no cover - overridden
        return value

    def _wrong(self, value, path, doc) -> TomlError:
        return doc.error(path, f"{keyname(path)} must be {self.describe()}, not {_show(value)} ({_kind(value)}); "
                               "fix the value")


class AnyValue(Spec):
    noun = "any value"


class String(Spec):
    def __init__(self, *, choices: Iterable[str] | None = None, pattern: str | None = None,
                 nonempty: bool = False, **kw):
        super().__init__(**kw)
        self.choices = tuple(choices) if choices is not None else None
        self.pattern = re.compile(pattern) if pattern else None
        self.nonempty = nonempty

    def describe(self) -> str:
        if self.choices is not None:
            return _with_doc(f"one of {_choices_text(self.choices)}", self.doc)
        text = "a non-empty string" if self.nonempty else "a string"
        if self.pattern is not None:
            text += f" matching {self.pattern.pattern}"
        return _with_doc(text, self.doc)

    def _validate(self, value, path, doc):
        if not isinstance(value, str):
            raise self._wrong(value, path, doc)
        if self.choices is not None and value not in self.choices:
            close = difflib.get_close_matches(value, self.choices, n=1, cutoff=0.6)
            hint = f"; did you mean {_show(close[0])}?" if close else "; use one of them"
            raise doc.error(path, f"{keyname(path)} is {_show(value)}, but it must be one of "
                                  f"{_choices_text(self.choices)}{hint}")
        if self.nonempty and not value.strip():
            raise doc.error(path, f"{keyname(path)} is empty; write {self.describe()}")
        if self.pattern is not None and not self.pattern.fullmatch(value):
            raise self._wrong(value, path, doc)
        return value


class _Numeric(Spec):
    def __init__(self, *, min: float | None = None, max: float | None = None, choices=None, **kw):
        super().__init__(**kw)
        self.min, self.max = min, max
        self.choices = tuple(choices) if choices is not None else None

    def describe(self) -> str:
        if self.choices is not None:
            text = f"one of {_choices_text(self.choices)}"
        else:
            text = " ".join(t for t in (self.noun, _range_text(self.min, self.max)) if t)
        return _with_doc(text, self.doc)

    def _accepts(self, value) -> bool:  # the type
        raise NotImplementedError

    def _validate(self, value, path, doc):
        if not self._accepts(value):
            raise self._wrong(value, path, doc)
        if isinstance(value, float) and not math.isfinite(value):
            raise doc.error(path, f"{keyname(path)} is {_show(value)}; it must be a finite number")
        if self.choices is not None and value not in self.choices:
            raise doc.error(path, f"{keyname(path)} is {_show(value)}, but it must be one of {_choices_text(self.choices)}")
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            raise doc.error(path, f"{keyname(path)} = {_show(value)} is out of range: it must be {self.describe()}; "
                                  "fix the value")
        return value


class Integer(_Numeric):
    noun = "a whole number"

    def _accepts(self, value) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)


class Number(_Numeric):
    noun = "a number"

    def _accepts(self, value) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool)


class Boolean(Spec):
    noun = "true or false"

    def _validate(self, value, path, doc):
        if not isinstance(value, bool):
            raise self._wrong(value, path, doc)
        return value


class DateTime(Spec):
    """A TOML date or time: ``kinds`` any of "offset" (1975-07-17T19:19:00Z), "local"
    (1975-07-17T19:19:00), "date" (1975-07-17), "time" (19:19:00)."""

    def __init__(self, *, kinds: Iterable[str] = ("offset",), **kw):
        super().__init__(**kw)
        self.kinds = tuple(kinds)

    def describe(self) -> str:
        names = {"offset": "a date-time with an offset (1975-07-17T19:19:00Z)", "local": "a local date-time",
                 "date": "a date (1975-07-17)", "time": "a time of day (19:19:00)"}
        return _with_doc(" or ".join(names.get(k, k) for k in self.kinds), self.doc)

    def _validate(self, value, path, doc):
        if isinstance(value, _dt.datetime):
            kind = "offset" if value.tzinfo is not None else "local"
        elif isinstance(value, _dt.date):
            kind = "date"
        elif isinstance(value, _dt.time):
            kind = "time"
        else:
            kind = None
        if kind not in self.kinds:
            raise self._wrong(value, path, doc)
        return value


class Array(Spec):
    def __init__(self, item: Spec | None = None, *, length: int | None = None, min_len: int | None = None,
                 max_len: int | None = None, unique: bool = False, unique_by: str | None = None, **kw):
        super().__init__(**kw)
        self.item = item or AnyValue()
        self.length, self.min_len, self.max_len = length, min_len, max_len
        self.unique, self.unique_by = unique, unique_by

    def describe(self) -> str:
        if self.length is not None:
            size = f"{self.length} elements"
        elif self.min_len is not None and self.max_len is not None:
            size = f"{self.min_len} to {self.max_len} elements"
        elif self.min_len:
            size = f"at least {self.min_len} element{'s' if self.min_len > 1 else ''}"
        elif self.max_len is not None:
            size = f"at most {self.max_len} elements"
        else:
            size = ""
        each = "" if isinstance(self.item, AnyValue) else f"each {self.item.describe()}"
        inner = ", ".join(t for t in (size, each) if t)
        return _with_doc("an array" + (f" ({inner})" if inner else ""), self.doc)

    def _validate(self, value, path, doc):
        if not isinstance(value, list):
            raise self._wrong(value, path, doc)
        n = len(value)
        if ((self.length is not None and n != self.length) or (self.min_len is not None and n < self.min_len)
                or (self.max_len is not None and n > self.max_len)):
            raise doc.error(path, f"{keyname(path)} has {n} element{'s' if n != 1 else ''}; it must be "
                                  f"{self.describe()}; fix the value")
        out = [self.item.validate(v, path + (i,), doc) for i, v in enumerate(value)]
        if self.unique_by is not None:
            seen: dict = {}
            for i, v in enumerate(value):
                if isinstance(v, dict) and self.unique_by in v:
                    key = json.dumps(v[self.unique_by], sort_keys=True, default=str)
                    if key in seen:
                        first = doc.line_of(path + (seen[key], self.unique_by))
                        raise doc.error(path + (i, self.unique_by),
                                        f"{keyname(path + (i, self.unique_by))} {_show(v[self.unique_by])} is used twice "
                                        f"(first at line {first}); give each its own {self.unique_by}")
                    seen[key] = i
        if self.unique:
            seen = {}
            for i, v in enumerate(value):
                key = json.dumps(v, sort_keys=True, default=str)
                if key in seen:
                    raise doc.error(path + (i,), f"{keyname(path + (i,))} {_show(v)} repeats {keyname(path + (seen[key],))}; "
                                                 "remove one")
                seen[key] = i
        return out


class Table(Spec):
    noun = "a table"

    def __init__(self, fields: dict[str, Spec] | None = None, *, extra: Spec | None = None,
                 key_pattern: str | None = None, **kw):
        super().__init__(**kw)
        self.fields = dict(fields or {})
        self.extra = extra
        self.key_pattern = re.compile(key_pattern) if key_pattern else None

    def _validate(self, value, path, doc):
        if not isinstance(value, dict):
            raise self._wrong(value, path, doc)
        out = {}
        for key, v in value.items():
            spec = self.fields.get(key)
            if spec is None:
                if self.extra is None:
                    raise self._unknown(key, path, doc)
                if self.key_pattern is not None and not self.key_pattern.fullmatch(key):
                    raise doc.error(path + (key,), f"key {_show(key)} in {keyname(path)} does not match "
                                                   f"{self.key_pattern.pattern}; rename it")
                spec = self.extra
            out[key] = spec.validate(v, path + (key,), doc)
        for key, spec in self.fields.items():
            if key in value:
                continue
            if spec.required:
                raise doc.error(path, f"{keyname(path)} lacks the key {key!r} ({spec.describe()}); add it")
            if spec.default is not MISSING:
                out[key] = copy.deepcopy(spec.default)
        return out

    def _unknown(self, key, path, doc) -> TomlError:
        names = list(self.fields)
        close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
        where = f"in {keyname(path)}" if path else "at the top level"
        accepted = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
        if close:
            fix = f"did you mean {close[0]!r}? (accepted: {accepted})"
        elif names:
            fix = f"remove it or use one of: {accepted}"
        else:
            fix = "remove it (this table takes no keys)"
        return doc.error(path + (key,), f"unknown key {key!r} {where}; {fix}")


class AnyOf(Spec):
    def __init__(self, *specs: Spec, **kw):
        super().__init__(**kw)
        self.specs = specs

    def describe(self) -> str:
        return _with_doc(" or ".join(s.describe() for s in self.specs), self.doc)

    def _validate(self, value, path, doc):
        errors = []
        for spec in self.specs:
            try:
                return spec.validate(value, path, doc)
            except TomlError as exc:
                errors.append(exc)
        deepest = max(errors, key=lambda e: len(e.keypath))
        if len(deepest.keypath) > len(path):  # the value had the right shape but a part was wrong
            raise deepest
        raise self._wrong(value, path, doc)


class Choice(Spec):
    """The spec ``pick(value)`` returns decides (recursive and value-dependent shapes)."""

    def __init__(self, pick: Callable[[Any], Spec], *, noun: str = "a value", **kw):
        super().__init__(**kw)
        self.pick = pick
        self.noun = noun

    def _validate(self, value, path, doc):
        return self.pick(value).validate(value, path, doc)
