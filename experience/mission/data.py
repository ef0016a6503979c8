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
import tomllib
from pathlib import Path
from typing import Any

import numpy as np

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
def load_toml(relpath: str) -> dict[str, Any]:
    """Parse a TOML data file; a syntax error names the file and line."""
    path, text = _read_text(relpath)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataFileError(f"data file {path} is not valid TOML: {exc}; fix that line") from None


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
    """All timeline events, sorted by time."""
    raw = load_toml("mission/timeline.toml")
    sources = load_toml("mission/sources.toml")
    events = []
    for i, item in enumerate(raw.get("event", [])):
        where = f"data/mission/timeline.toml event #{i + 1} ({item.get('id', '?')})"
        try:
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
        except KeyError as exc:
            raise DataFileError(f"{where} lacks the key {exc.args[0]!r}; add it") from None
        if ev.vehicle not in (*VEHICLES, "both"):
            raise DataFileError(f"{where}: vehicle {ev.vehicle!r} is not soyuz, apollo or both")
        for key in ev.source + tuple(s for c in ev.conflicts for s in c.source):
            if key not in sources:
                raise DataFileError(f"{where}: source {key!r} is not defined in data/mission/sources.toml")
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
    """(effective instants as utc_s, TAI-UTC in s) from data/reference/leap_seconds.csv."""
    return _dated_table("reference/leap_seconds.csv", "effective_utc", "tai_minus_utc_s")


@functools.cache
def ut1_table() -> tuple[np.ndarray, np.ndarray]:
    """(instants as utc_s, UT1-UTC in s) from data/reference/eop_1975_july.csv."""
    return _dated_table("reference/eop_1975_july.csv", "date", "ut1_minus_utc_s")
