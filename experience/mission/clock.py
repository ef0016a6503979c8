"""The one clock type: UTC at the edges, elapsed seconds inside.

A :class:`MissionClock` turns UTC instants (aware ``datetime``; ISO 8601 text at the command line)
into mission elapsed seconds ``t_s`` (SI seconds since the mission epoch, the Soyuz launch) and
back. Everything inside the simulation runs on ``t_s``; the kernels receive ``tt_s``/``ut1_s``
derived from it here. Two mission clocks of the time are also given: Soyuz mission elapsed time
(from the Soyuz launch) and Apollo ground elapsed time, GET (from the Apollo launch).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import functools
import math
import re

import numpy as np

from experience.errors import AstpError

UTC = _dt.timezone.utc
J2000_UTC = _dt.datetime(2000, 1, 1, 12, 0, 0, tzinfo=UTC)
EARLIEST_UTC = _dt.datetime(1972, 1, 1, tzinfo=UTC)  # start of the integer leap-second era
FIRST_UTC = _dt.datetime.min.replace(tzinfo=UTC)   # 0001-01-01T00:00:00Z
LAST_UTC = _dt.datetime.max.replace(tzinfo=UTC)    # 9999-12-31T23:59:59.999999Z
LEAP_TABLE = "data/reference/leap_seconds.csv"

_RANGE_FIX = "give a time such as 1975-07-17T19:19:00Z (this program models 1972 onwards)"
# hh:mm:60 in ISO 8601 extended form (the leap second), with the rest of the text kept
_SECOND_60 = re.compile(r"^(?P<head>\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}):60(?P<tail>([.,]\d+)?([Zz]|[+-]\d{2}(:?\d{2})?)?)$")


class LeapSecondUTC(_dt.datetime):
    """An instant inside an inserted leap second, ``23:59:60.f`` UTC.

    ``datetime`` cannot hold second 60. This subclass holds the fields of ``23:59:59.f`` of that
    day (as Skyfield's ``utc_datetime_and_leap_second`` does) and means the instant one SI second
    later: :class:`MissionClock` maps it to TT(23:59:59.f) + 1 s, i.e. between 23:59:59.f and
    00:00:00.f of the next day, which are 1 s and 2 s apart in SI seconds (``t_s``) around a
    leap second. It sorts between 23:59:59.999999 and 00:00:00 of the next day, prints as
    ``23:59:60.f`` (``isoformat``, ``str``, :func:`format_utc`) and comes back from
    :meth:`MissionClock.utc` for a ``t_s`` inside the leap second. Datetime arithmetic, which knows
    no leap seconds, treats it as 23:59:59.f and returns plain datetimes (so does ``replace``
    and ``astimezone`` to another zone); use ``t_s`` for SI intervals. Built by :func:`parse_utc`
    only for the leap seconds in data/reference/leap_seconds.csv.
    """

    @classmethod
    def of(cls, base: _dt.datetime) -> "LeapSecondUTC":
        """The leap-second instant whose datetime fields are ``base`` (23:59:59.f, aware UTC)."""
        b = base.astimezone(UTC)
        return cls(b.year, b.month, b.day, b.hour, b.minute, b.second, b.microsecond, tzinfo=UTC)

    def plain(self) -> _dt.datetime:
        """The plain datetime 23:59:59.f (the fields this object holds)."""
        return _dt.datetime(self.year, self.month, self.day, self.hour, self.minute, self.second,
                            self.microsecond, tzinfo=self.tzinfo)

    def _key(self):
        return (self.plain().replace(microsecond=0) + _dt.timedelta(seconds=1), -1, self.microsecond)

    @staticmethod
    def _key_of(other):
        if isinstance(other, LeapSecondUTC):
            return other._key()
        if isinstance(other, _dt.datetime):
            return (other, 0, 0)
        return None

    def _cmp(self, other, op):
        k = self._key_of(other)
        if k is None:
            return NotImplemented
        return op(self._key(), k)

    def __eq__(self, other):
        k = self._key_of(other)
        return NotImplemented if k is None else self._key() == k

    def __ne__(self, other):
        k = self._key_of(other)
        return NotImplemented if k is None else self._key() != k

    def __lt__(self, other):
        return self._cmp(other, lambda a, b: a < b)

    def __le__(self, other):
        return self._cmp(other, lambda a, b: a <= b)

    def __gt__(self, other):
        return self._cmp(other, lambda a, b: a > b)

    def __ge__(self, other):
        return self._cmp(other, lambda a, b: a >= b)

    def __hash__(self):
        return hash(("leap", self.plain()))

    def __add__(self, other):
        return self.plain() + other

    __radd__ = __add__

    def __sub__(self, other):
        if isinstance(other, LeapSecondUTC):
            other = other.plain()
        return self.plain() - other

    def __rsub__(self, other):
        return other - self.plain()

    def replace(self, *args, **kwargs):
        return self.plain().replace(*args, **kwargs)

    def astimezone(self, tz=None):
        if tz is UTC or (tz is not None and tz.utcoffset(None) == _dt.timedelta(0)):
            return self
        return self.plain().astimezone(tz)

    def isoformat(self, sep="T", timespec="auto"):
        text = self.plain().isoformat(sep, timespec)
        i = text.index(":", text.index(sep) + 1)
        return text[: i + 4] + "60" + text[i + 6:]  # hh:mm:59 -> hh:mm:60

    def __str__(self):
        return self.isoformat(" ")

    def __repr__(self):
        return f"LeapSecondUTC({self.isoformat()!r})"


def _out_of_range(what: str, raw: str) -> AstpError:
    return AstpError(f"{what} {raw!r} is outside the years 1 to 9999 once converted to UTC; {_RANGE_FIX}")


def parse_utc(text: str, *, what: str = "time") -> _dt.datetime:
    """ISO 8601 text -> aware UTC datetime, or AstpError naming the problem and the fix.

    Accepts ``1975-07-17T19:19:00Z``, ``1975-07-17 19:19``, offsets like ``-04:00`` (converted
    to UTC), fractional seconds (beyond microseconds truncated), and a date alone (midnight UTC).
    Text with no offset is UTC. A leap second (``1975-12-31T23:59:60Z``, or the same instant in
    another offset) gives a :class:`LeapSecondUTC` when it is in the leap-second table; a ``:60``
    anywhere else is refused saying so. Times that leave the years 1-9999 on conversion to UTC
    are one readable error, as are all others.
    """
    raw = str(text).strip()
    m = _SECOND_60.match(raw)
    candidate = f"{m['head']}:59{m['tail']}" if m else raw
    if candidate[-1:] in ("Z", "z"):
        candidate = candidate[:-1] + "+00:00"
    try:
        value = _dt.datetime.fromisoformat(candidate)
    except ValueError:
        raise AstpError(
            f"cannot read {what} {raw!r} as a UTC time: write ISO 8601, for example 1975-07-17T19:19:00Z"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        value = value.astimezone(UTC)
    except OverflowError:
        raise _out_of_range(what, raw) from None
    if m:
        return _leap_second(value, what, raw)
    return value


def leap_second_days() -> frozenset[_dt.date]:
    """The UTC days that ended with an inserted leap second (23:59:60), from the leap table."""
    return _leap_info()[0]


def _leap_second(value: _dt.datetime, what: str, raw: str) -> "LeapSecondUTC":
    """``value`` is the parsed time with :60 read as :59; accept it only at a real leap second."""
    if (value.hour, value.minute, value.second) == (23, 59, 59) and value.date() in leap_second_days():
        return LeapSecondUTC.of(value)
    days = sorted(leap_second_days())
    near = min(days, key=lambda d: abs((d - value.date()).days)) if days else None
    hint = f" (the nearest was at the end of {near.isoformat()}: {near.isoformat()}T23:59:60Z)" if near else ""
    raise AstpError(
        f"{what} {raw!r} has second 60, but no leap second was inserted then{hint}; leap seconds "
        f"come only at 23:59:60 UTC on the days listed in {LEAP_TABLE}: write seconds 00 to 59"
    )


def format_utc(value: _dt.datetime, *, decimals: int = 0) -> str:
    """Aware datetime -> ``1975-07-17T19:19:00Z`` (with fractional seconds if asked; rounded to
    the nearest second without them). A :class:`LeapSecondUTC` prints as ``23:59:60``. Never
    raises for an instant at the edges of the calendar (9999-12-31T23:59:59.6Z rounds to
    ``10000-01-01T00:00:00Z``)."""
    value = value.astimezone(UTC)
    leap = isinstance(value, LeapSecondUTC)
    if decimals <= 0:
        if leap:
            if value.microsecond < 500_000:
                return value.plain().strftime("%Y-%m-%dT%H:%M:60Z")
            return format_utc(value.plain().replace(microsecond=0) + _dt.timedelta(seconds=1))
        try:
            value = (value + _dt.timedelta(microseconds=500_000)).replace(microsecond=0)
        except OverflowError:
            return "10000-01-01T00:00:00Z"
        return _strftime(value, "%Y-%m-%dT%H:%M:%SZ")
    decimals = min(int(decimals), 6)
    text = _strftime(value.plain() if leap else value, "%Y-%m-%dT%H:%M:%S.%f")
    if leap:
        text = text[:17] + "60" + text[19:]
    return text[: len(text) - 6 + decimals] + "Z"


def _strftime(value: _dt.datetime, fmt: str) -> str:
    # strftime pads the year to 4 digits on glibc only for %Y >= 1000; do it here for years 1-999
    return value.strftime(fmt.replace("%Y", f"{value.year:04d}"))


def format_elapsed(seconds: float) -> str:
    """Elapsed seconds -> ``+51:49:09`` (hours:minutes:seconds, the GET style), or ``-00:10:00``."""
    sign = "-" if seconds < 0 else "+"
    total = int(round(abs(seconds)))
    return f"{sign}{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


def utc_s_of(value: _dt.datetime) -> float:
    """Aware datetime -> utc_s (seconds since 2000-01-01T12:00 UTC, 86,400 s per day). A
    :class:`LeapSecondUTC` has no utc_s of its own: this gives that of 23:59:59.f (see
    :func:`leap_s_of`)."""
    return (value.astimezone(UTC) - J2000_UTC).total_seconds()


def leap_s_of(value: _dt.datetime) -> float:
    """The SI seconds an instant lies beyond what :func:`utc_s_of` says: 1.0 inside a leap
    second (23:59:60.f is one second after 23:59:59.f), else 0.0."""
    return 1.0 if isinstance(value, LeapSecondUTC) else 0.0


_UTC_S_FIRST = utc_s_of(FIRST_UTC)
_UTC_S_LAST = utc_s_of(LAST_UTC)


def datetime_of_utc_s(utc_s: float) -> _dt.datetime:
    """utc_s -> aware UTC datetime; AstpError outside the years 1-9999 (float rounding within a
    millisecond of the edges is clamped)."""
    x = float(utc_s)
    if not math.isfinite(x):
        raise AstpError(f"the time {x} is not a number; this is a bug in the caller, please report it")
    try:
        return J2000_UTC + _dt.timedelta(seconds=x)
    except OverflowError:
        if abs(x - _UTC_S_LAST) <= 1e-3:  # float64 holds these instants to ~3e-5 s only
            return LAST_UTC
        if abs(x - _UTC_S_FIRST) <= 1e-3:
            return FIRST_UTC
        raise AstpError(f"an instant {x:.6g} s from 2000-01-01T12:00:00Z lies outside the years 1-9999; "
                        f"{_RANGE_FIX}") from None


@functools.cache
def _tables():
    from experience.mission import data

    return data.leap_second_table(), data.ut1_table()


@functools.cache
def _leap_info():
    """(days ending in a leap second, their TT start instants tt_s (ascending)) from the table.

    A leap second is where TAI-UTC steps up by exactly 1 s (the first row, 1972-01-01, starts
    the table and is none). It starts at TT = tt_s(00:00:00 of the next day) - 1 s."""
    from kernels.constants import TT_MINUS_TAI_S

    (leap_t, leap_v), _ = _tables()
    days, starts = set(), []
    for i in range(1, len(leap_t)):
        if abs(float(leap_v[i]) - float(leap_v[i - 1]) - 1.0) < 1e-9:
            days.add((datetime_of_utc_s(float(leap_t[i])) - _dt.timedelta(days=1)).date())
            starts.append(float(leap_t[i]) + float(leap_v[i]) + TT_MINUS_TAI_S - 1.0)
    return frozenset(days), np.asarray(sorted(starts), dtype=np.float64)


def tt_s_of_utc_s(utc_s: np.ndarray) -> np.ndarray:
    """utc_s -> tt_s for NumPy arrays (host side; the kernel does the work)."""
    from kernels import timescales

    (leap_t, leap_v), _ = _tables()
    return timescales.tt_s_from_utc_s(np.asarray(utc_s, dtype=np.float64), leap_t, leap_v)


def utc_s_of_tt_s(tt_s: np.ndarray) -> np.ndarray:
    from kernels import timescales

    (leap_t, leap_v), _ = _tables()
    return timescales.utc_s_from_tt_s(np.asarray(tt_s, dtype=np.float64), leap_t, leap_v)


def ut1_s_of_utc_s(utc_s: np.ndarray) -> np.ndarray:
    from kernels import timescales

    _, (ut1_t, ut1_v) = _tables()
    return timescales.ut1_s_from_utc_s(np.asarray(utc_s, dtype=np.float64), ut1_t, ut1_v)


@dataclasses.dataclass(frozen=True)
class MissionClock:
    """UTC <-> mission elapsed seconds ``t_s`` (SI seconds since ``epoch_utc``)."""

    epoch_utc: _dt.datetime
    apollo_launch_utc: _dt.datetime

    @classmethod
    def from_data(cls) -> "MissionClock":
        from experience.mission import data

        return cls(data.event("soyuz_launch").utc, data.event("apollo_launch").utc)

    @functools.cached_property
    def epoch_tt_s(self) -> float:
        return float(tt_s_of_utc_s(np.asarray([utc_s_of(self.epoch_utc)]))[0])

    # -- UTC at the edges -------------------------------------------------------------------
    @staticmethod
    def _check_era(utc: _dt.datetime) -> None:
        if utc < EARLIEST_UTC:
            raise AstpError(
                f"{format_utc(utc)} is before 1972-01-01, where UTC had no integer leap seconds; "
                f"this program models 1972 onwards"
            )

    def t_s(self, utc: _dt.datetime) -> float:
        """Aware UTC datetime -> mission elapsed seconds (a :class:`LeapSecondUTC` lies 1 s after
        23:59:59.f)."""
        self._check_era(utc)
        return float(tt_s_of_utc_s(np.asarray([utc_s_of(utc)]))[0]) + leap_s_of(utc) - self.epoch_tt_s

    def t_s_array(self, utcs) -> np.ndarray:
        utcs = list(utcs)
        for u in utcs:
            self._check_era(u)
        utc_s = np.asarray([utc_s_of(u) for u in utcs], dtype=np.float64)
        leap = np.asarray([leap_s_of(u) for u in utcs], dtype=np.float64)
        return tt_s_of_utc_s(utc_s) + leap - self.epoch_tt_s

    def utc(self, t_s: float) -> _dt.datetime:
        """Mission elapsed seconds -> aware UTC datetime (microsecond resolution); a :class:`LeapSecondUTC`
        inside a leap second. AstpError for a t_s that is not finite or leaves the years 1-9999."""
        t_s = float(t_s)
        if not math.isfinite(t_s):
            raise AstpError(f"the mission time {t_s} s is not a number; give a finite time")
        tt = t_s + self.epoch_tt_s
        utc_s = float(utc_s_of_tt_s(np.asarray([tt]))[0])
        starts = _leap_info()[1]
        i = int(np.searchsorted(starts, tt, side="right")) - 1
        if i >= 0 and tt - starts[i] < 1.0:  # inside 23:59:60: the kernel gives the next day's first second
            return LeapSecondUTC.of(datetime_of_utc_s(utc_s - 1.0))
        return datetime_of_utc_s(utc_s)

    # -- what the kernels need --------------------------------------------------------------
    def tt_s(self, t_s: np.ndarray) -> np.ndarray:
        """Mission elapsed seconds -> TT seconds since J2000 (NumPy arrays)."""
        return np.asarray(t_s, dtype=np.float64) + self.epoch_tt_s

    def ut1_s(self, t_s: np.ndarray) -> np.ndarray:
        """Mission elapsed seconds -> UT1 seconds since J2000 (UT1-UTC tabulated for July 1975)."""
        return ut1_s_of_utc_s(utc_s_of_tt_s(self.tt_s(t_s)))

    # -- the clocks of the time -------------------------------------------------------------
    @property
    def apollo_launch_t_s(self) -> float:
        return self.t_s(self.apollo_launch_utc)

    def soyuz_met_s(self, t_s: float) -> float:
        """Soyuz mission elapsed time (from the Soyuz launch)."""
        return t_s

    def apollo_get_s(self, t_s: float) -> float:
        """Apollo ground elapsed time, GET (from the Apollo launch)."""
        return t_s - self.apollo_launch_t_s

