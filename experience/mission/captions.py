"""Captions for the key moments (data/mission/captions.toml), looked up by mission time.

Each :class:`Caption` belongs to a timeline event and shows during a half-open span of mission
time. Its ``text`` is English and is also the gettext message id; :meth:`Caption.localized`
gives it in the current language (``experience.i18n.set_language``) or in any other
(``tr=experience.i18n.translation("ru")``).

Per frame a front end calls :func:`caption_at` ``(t_s, clock)``: one binary search over the
caption spans on that clock, computed once per clock (a few microseconds a call, no allocation
beyond the call itself). Validation (:func:`validate`) is one function, so that it can move to a
shared TOML validation module later; every problem is one line naming the file and the line.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as _dt
import functools
import re
import tomllib
from typing import Any

from experience.errors import DataFileError
from experience.mission import data

CAPTIONS_FILE = "mission/captions.toml"
_CAPTION_KEYS = {"id", "event", "from_s", "to_s", "from_utc", "to_utc", "source", "text", "note",
                 "allow_overlap", "versions"}
_VERSION_KEYS = {"shown", "source", "words", "why"}
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclasses.dataclass(frozen=True)
class CaptionVersion:
    """One account of something the sources tell differently (e.g. the words at the handshake)."""

    words: str
    source: tuple[str, ...]
    shown: bool
    why: str = ""


@dataclasses.dataclass(frozen=True)
class Caption:
    id: str
    event: str                      # timeline.toml event id
    text: str                       # English; the gettext msgid
    source: tuple[str, ...]         # sources.toml keys
    start_utc: _dt.datetime         # shows from here (inclusive) ...
    end_utc: _dt.datetime           # ... to here (exclusive)
    note: str = ""
    allow_overlap: bool = False
    versions: tuple[CaptionVersion, ...] = ()
    line: int = 0                   # line of its [[caption]] header in the file

    def localized(self, tr=None) -> str:
        """The text in the current language, or in the language of ``tr``
        (a translations object from :func:`experience.i18n.translation`)."""
        from experience.i18n import current_translation

        return (tr if tr is not None else current_translation()).gettext(self.text)

    def span_t_s(self, clock) -> tuple[float, float]:
        """(start, end) in mission elapsed seconds on ``clock`` (a MissionClock)."""
        return clock.t_s(self.start_utc), clock.t_s(self.end_utc)

    def source_titles(self) -> tuple[str, ...]:
        """The titles of its sources (sources.toml), for a "Source:" line."""
        sources = data.load_toml("mission/sources.toml")
        return tuple(sources[key]["title"] for key in self.source)


# --------------------------------------------------------------------------- validation
def _header_lines(text: str, header: str) -> list[int]:
    """1-based line numbers of every ``header`` line (e.g. ``[[caption]]``), in order."""
    return [i + 1 for i, ln in enumerate(text.splitlines()) if ln.strip() == header]


def _key_line(lines: list[str], start: int, stop: int, key: str) -> int:
    """Line (1-based) of ``key = ...`` between lines ``start`` and ``stop``; ``start`` if absent."""
    pat = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for i in range(start - 1, min(stop, len(lines))):
        if pat.match(lines[i]):
            return i + 1
    return start


def validate(raw: dict[str, Any], text: str, path: str) -> tuple[Caption, ...]:
    """Check a parsed captions file against the timeline and the sources and build the captions.

    Raises :class:`DataFileError` with one line, ``<path> line N: <problem>; <fix>``, for: an
    unknown key, a missing key, an id used twice or not snake_case, an unknown event id, an
    unknown source key, a span that is empty or has no start or end, an unreadable UTC time,
    versions without exactly one shown, and overlapping spans where neither entry allows it.
    """
    lines = text.splitlines()
    items = raw.get("caption", [])
    unknown_top = set(raw) - {"caption"}
    if unknown_top:
        key = sorted(unknown_top)[0]
        raise DataFileError(f"{path} line {_key_line(lines, 1, len(lines), key)}: unknown key "
                            f"{key!r}; captions are [[caption]] tables")
    heads = _header_lines(text, "[[caption]]")
    if len(heads) != len(items):  # e.g. inline tables: fall back to the file's first line
        heads = [1] * len(items)
    events = {ev.id: ev for ev in data.timeline()}
    sources = data.load_toml("mission/sources.toml")
    out: list[Caption] = []
    seen: dict[str, int] = {}
    for n, item in enumerate(items):
        start = heads[n]
        stop = heads[n + 1] - 1 if n + 1 < len(heads) else len(lines)

        def fail(key: str | None, problem: str) -> None:
            line = _key_line(lines, start, stop, key) if key else start
            raise DataFileError(f"{path} line {line}: {problem}")

        cid = item.get("id")
        label = f"caption {cid!r}" if cid else f"caption #{n + 1}"
        for key in item:
            if key not in _CAPTION_KEYS:
                fail(key, f"{label} has the unknown key {key!r}; known keys: "
                          f"{', '.join(sorted(_CAPTION_KEYS))}")
        for key in ("id", "event", "text", "source"):
            if key not in item:
                fail(None, f"{label} lacks the key {key!r}; add it")
        if not isinstance(cid, str) or not _ID.match(cid):
            fail("id", f"{label}: the id must be snake_case text (a-z, 0-9, _)")
        if cid in seen:
            fail("id", f"caption id {cid!r} is used twice (also line {seen[cid]}); make it unique")
        seen[cid] = start
        ev = events.get(item["event"])
        if ev is None:
            fail("event", f"{label} names the event {item['event']!r}, which is not in "
                          f"data/mission/timeline.toml; use one of its ids ({', '.join(events)})")
        src = item["source"]
        if not (isinstance(src, list) and src and all(isinstance(s, str) for s in src)):
            fail("source", f"{label}: source must be a non-empty list of sources.toml keys")
        for key in src:
            if key not in sources:
                fail("source", f"{label} cites the source {key!r}, which is not defined in "
                               f"data/mission/sources.toml; add it there or fix the key")
        body = item["text"]
        if not isinstance(body, str) or not body.strip():
            fail("text", f"{label}: text must be the English caption")
        if body != body.strip() or "  " in body or "\n" in body:
            fail("text", f"{label}: the text has a line break, doubled or edge spaces (it is a "
                         f"gettext message id); end each line inside the quotes with a backslash")

        def instant(end: str) -> _dt.datetime:
            rel, absolute = f"{end}_s", f"{end}_utc"
            if (rel in item) == (absolute in item):
                fail(None if rel not in item else rel,
                     f"{label} needs exactly one of {rel} (seconds from the event) or {absolute}")
            if rel in item:
                value = item[rel]
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    fail(rel, f"{label}: {rel} must be a number of seconds")
                return ev.utc + _dt.timedelta(seconds=float(value))
            try:
                return data.parse_iso_utc(str(item[absolute]), where=f"{label} {absolute}")
            except Exception as exc:
                fail(absolute, str(exc))
            raise AssertionError  # unreachable

        t0, t1 = instant("from"), instant("to")
        if not t1 > t0:
            fail("to_s" if "to_s" in item else "to_utc",
                 f"{label} ends before it starts (or at once); the span is [from, to)")
        versions = []
        for v in item.get("versions", []):
            for key in v:
                if key not in _VERSION_KEYS:
                    fail(key, f"{label}: a version has the unknown key {key!r}; known keys: "
                              f"{', '.join(sorted(_VERSION_KEYS))}")
            if "words" not in v or "source" not in v:
                fail("versions", f"{label}: every [[caption.versions]] needs words and source")
            for key in v["source"]:
                if key not in sources:
                    fail("source", f"{label}: a version cites the source {key!r}, which is not "
                                   f"defined in data/mission/sources.toml")
            versions.append(CaptionVersion(v["words"], tuple(v["source"]), bool(v.get("shown", False)),
                                           v.get("why", "")))
        if versions and sum(v.shown for v in versions) != 1:
            fail("versions", f"{label}: exactly one version must have shown = true (the one the "
                             f"text tells)")
        allow = item.get("allow_overlap", False)
        if not isinstance(allow, bool):
            fail("allow_overlap", f"{label}: allow_overlap must be true or false")
        out.append(Caption(id=cid, event=ev.id, text=body, source=tuple(src), start_utc=t0,
                           end_utc=t1, note=item.get("note", ""), allow_overlap=allow,
                           versions=tuple(versions), line=start))
    out.sort(key=lambda c: (c.start_utc, c.line))
    for i, a in enumerate(out):
        for b in out[i + 1:]:
            if b.start_utc >= a.end_utc:
                break
            if not (a.allow_overlap or b.allow_overlap):
                raise DataFileError(
                    f"{path} line {b.line}: caption {b.id!r} starts before caption {a.id!r} "
                    f"(line {a.line}) ends; move one span or set allow_overlap = true on one")
    return tuple(out)


# --------------------------------------------------------------------------- loading and lookup
@functools.cache
def captions() -> tuple[Caption, ...]:
    """Every caption, validated, in order of their start."""
    path = data.data_dir() / CAPTIONS_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataFileError(f"data file {path} is missing; restore it from the repository "
                            f"(git checkout -- data/)") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataFileError(f"data file {path} is not valid TOML: {exc}; fix that line") from None
    return validate(raw, text, f"data/{CAPTIONS_FILE}")


def caption(caption_id: str) -> Caption:
    for c in captions():
        if c.id == caption_id:
            return c
    raise KeyError(caption_id)


@dataclasses.dataclass(frozen=True)
class _Index:
    """Elementary segments of the time line: ``bounds[i] <= t < bounds[i+1]`` shows
    ``shown[i]`` (None in a gap). Built once per clock."""

    bounds: tuple[float, ...]
    shown: tuple[Caption | None, ...]


@functools.lru_cache(maxsize=8)
def _index(clock) -> _Index:
    spans = [(*c.span_t_s(clock), c) for c in captions()]
    bounds = sorted({t for t0, t1, _c in spans for t in (t0, t1)})
    shown = []
    for lo in bounds[:-1]:
        covering = [(t0, c.line, c) for t0, t1, c in spans if t0 <= lo < t1]
        shown.append(max(covering, key=lambda x: (x[0], x[1]))[2] if covering else None)
    return _Index(tuple(bounds), tuple(shown))


def caption_at(t_s: float, clock) -> Caption | None:
    """The caption that shows at mission elapsed time ``t_s`` on ``clock``, or None.

    Cheap enough for every frame: one ``bisect`` over a tuple of floats (the spans are converted
    to ``t_s`` once per clock). Where spans overlap (``allow_overlap``) the one that started
    last is shown."""
    idx = _index(clock)
    i = bisect.bisect_right(idx.bounds, t_s) - 1
    if i < 0 or i >= len(idx.shown):
        return None
    return idx.shown[i]


def spans(clock) -> list[tuple[float, float, Caption]]:
    """(start t_s, end t_s, caption) for every caption, in order: for a timeline bar."""
    return [(*c.span_t_s(clock), c) for c in captions()]
