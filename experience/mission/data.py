"""Loading the mission data files (data/): timeline, vehicles, crew, orbits, reference tables.

Every value in those files carries its source; this module only parses and validates them and
raises :class:`DataFileError` naming the file (and the line, where the parser knows it).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as _dt
import functools
import io
import os
from pathlib import Path
from typing import Any

import numpy as np

from experience import tomlcheck
from experience.errors import DataFileError

VEHICLES = ("soyuz", "apollo")


def data_dir() -> Path:
    """The project's data folder ($ASTP_DATA_DIR overrides, for tests)."""
    override = os.environ.get("ASTP_DATA_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "data"


def _read_text(relpath: str) -> tuple[Path, str]:
    path = data_dir() / relpath
    try:
        return path, path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataFileError(
            f"data file {path} is missing; restore it from the repository (git checkout -- data/)"
        ) from None


@functools.cache
def load_document(relpath: str) -> "tomlcheck.Document":
    """Parse a TOML data file and check it against its schema (experience/mission/schemas.py):
    a syntax error, an unknown key, a wrong type, a value out of range, a missing key or a
    duplicate id is one DataFileError line ``FILE:LINE: ...``. The document knows the line of
    every key (``doc.error(keypath, message)`` for the loaders' own checks)."""
    from experience.mission.schemas import SCHEMAS

    path, text = _read_text(relpath)
    return tomlcheck.loads(text, SCHEMAS.get(relpath), shown=_shown(path))


def load_toml(relpath: str) -> dict[str, Any]:
    """A TOML data file as dicts, checked (see :func:`load_document`)."""
    return load_document(relpath).data


def clear_caches() -> None:
    """Forget every file read so far (tests point $ASTP_DATA_DIR at a copy and read again)."""
    from experience.mission import clock

    for fn in (load_document, timeline, leap_second_table, ut1_table, clock._tables, clock._leap_info):
        fn.cache_clear()


load_toml.cache_clear = clear_caches  # the old cached load_toml's API, still used by callers


def _shown(path: Path) -> str:
    """A data file's name for messages: relative to the project (data/...) where it lies inside."""
    try:
        return str(Path(path).resolve().relative_to(Path(__file__).resolve().parents[2]))
    except ValueError:
        return str(path)


def _read_csv(relpath: str) -> tuple[Path, list[dict[str, str]]]:
    path, text = _read_text(relpath)
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    return path, list(csv.DictReader(io.StringIO("\n".join(lines))))


def parse_iso_utc(text: str, *, where: str = "") -> _dt.datetime:
    """ISO 8601 -> aware UTC datetime. ``where`` names the origin for error messages."""
    from experience.mission.clock import parse_utc

    return parse_utc(text, what=where or "time")


@dataclasses.dataclass(frozen=True)
class Conflict:
    utc: _dt.datetime | None
    source: tuple[str, ...]
    why_not: str
    values: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Event:
    """One timeline event: the chosen time, its sources and the versions not chosen."""

    id: str
    name: str
    name_ru: str
    utc: _dt.datetime
    vehicle: str  # soyuz | apollo | both
    kind: str
    source: tuple[str, ...]
    note: str = ""
    approximate: bool = False
    conflicts: tuple[Conflict, ...] = ()


@functools.cache
def timeline() -> tuple[Event, ...]:
    """All timeline events, sorted by time (the file's shape is checked by its schema; here the
    source keys against sources.toml)."""
    doc = load_document("mission/timeline.toml")
    sources = load_toml("mission/sources.toml")
    events = []
    for i, item in enumerate(doc.data["event"]):
        where = f"data/mission/timeline.toml event #{i + 1} ({item['id']})"
        conflicts = tuple(
            Conflict(
                utc=parse_iso_utc(c["utc"], where=where) if "utc" in c else None,
                source=tuple(c.get("source", ())),
                why_not=c.get("why_not", ""),
                values={k: v for k, v in c.items() if k not in ("utc", "source", "why_not")},
            )
            for c in item.get("conflicts", [])
        )
        ev = Event(
            id=item["id"],
            name=item["name"],
            name_ru=item.get("name_ru", item["name"]),
            utc=parse_iso_utc(item["utc"], where=where),
            vehicle=item["vehicle"],
            kind=item["kind"],
            source=tuple(item["source"]),
            note=item.get("note", ""),
            approximate=bool(item.get("approximate", False)),
            conflicts=conflicts,
        )
        keys = [(("event", i, "source", j), s) for j, s in enumerate(ev.source)]
        keys += [(("event", i, "conflicts", k, "source", j), s) for k, c in enumerate(ev.conflicts)
                 for j, s in enumerate(c.source)]
        for keypath, key in keys:
            if key not in sources:
                raise doc.error(keypath, f"{tomlcheck.keyname(keypath)}: source {key!r} is not defined in "
                                         "data/mission/sources.toml; add it there or fix the key")
        events.append(ev)
    events.sort(key=lambda e: e.utc)
    return tuple(events)


def event(event_id: str) -> Event:
    for ev in timeline():
        if ev.id == event_id:
            return ev
    raise KeyError(event_id)


def vehicles() -> dict[str, Any]:
    return load_toml("mission/vehicles.toml")


def crew() -> list[dict[str, Any]]:
    return load_toml("mission/crew.toml")["member"]


def orbits() -> dict[str, Any]:
    return load_toml("mission/orbits.toml")


def _dated_table(relpath: str, date_column: str, value_column: str) -> tuple[np.ndarray, np.ndarray]:
    """(instants at 0h UTC as utc_s, values) from a CSV reference table with a date column."""
    from experience.mission.clock import utc_s_of

    path, rows = _read_csv(relpath)
    try:
        when = [utc_s_of(parse_iso_utc(r[date_column] + "T00:00:00Z")) for r in rows]
        values = [float(r[value_column]) for r in rows]
    except (KeyError, ValueError) as exc:
        raise DataFileError(f"data file {path} is malformed ({exc}); restore it from the repository") from None
    return np.asarray(when, dtype=np.float64), np.asarray(values, dtype=np.float64)


@functools.cache
def leap_second_table() -> tuple[np.ndarray, np.ndarray]:
    """(effective instants as utc_s, TAI-UTC in s) from data/reference/leap_seconds.csv.

    Checked row by row (a bad row is named by file and line): dates ascending, each the first
    day of a month (a leap second is inserted or removed at the end of a month), TAI-UTC whole
    seconds changing by exactly +1 or -1 from one row to the next."""
    from experience.mission.clock import utc_s_of

    relpath = "reference/leap_seconds.csv"
    path, text = _read_text(relpath)
    shown = _shown(path)
    rows = [(n, ln) for n, ln in enumerate(text.splitlines(), 1) if ln.strip() and not ln.lstrip().startswith("#")]
    if not rows or [c.strip() for c in rows[0][1].split(",")] != ["effective_utc", "tai_minus_utc_s"]:
        raise DataFileError(f"{shown}:{rows[0][0] if rows else 1}: the header must be effective_utc,tai_minus_utc_s; "
                            "restore the file from the repository")
    when, values, prev = [], [], None
    for n, line in rows[1:]:
        cells = [c.strip() for c in line.split(",")]
        try:
            day = _dt.date.fromisoformat(cells[0])
            value = float(cells[1])
            if len(cells) != 2 or not value.is_integer():
                raise ValueError
        except (ValueError, IndexError):
            raise DataFileError(f"{shown}:{n}: {line.strip()!r} is not DATE,WHOLE_SECONDS (e.g. 1976-01-01,15); "
                                "fix that line") from None
        if day.day != 1:
            raise DataFileError(f"{shown}:{n}: {day} is not the first day of a month (leap seconds take effect "
                                "at 00:00 UTC on the 1st); fix that line")
        if prev is not None:
            if day <= prev[0]:
                raise DataFileError(f"{shown}:{n}: {day} does not come after {prev[0]}; keep the rows in date order")
            if abs(value - prev[1]) != 1.0:
                raise DataFileError(f"{shown}:{n}: TAI-UTC goes from {prev[1]:g} to {value:g} s; a leap second "
                                    "changes it by exactly 1 s; fix that line")
        prev = (day, value)
        when.append(utc_s_of(_dt.datetime(day.year, day.month, day.day, tzinfo=_dt.timezone.utc)))
        values.append(value)
    return np.asarray(when, dtype=np.float64), np.asarray(values, dtype=np.float64)


@functools.cache
def ut1_table() -> tuple[np.ndarray, np.ndarray]:
    """(instants as utc_s, UT1-UTC in s) from data/reference/eop_1975_july.csv."""
    return _dated_table("reference/eop_1975_july.csv", "date", "ut1_minus_utc_s")
