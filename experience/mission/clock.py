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

import numpy as np

from experience.errors import AstpError

UTC = _dt.timezone.utc
J2000_UTC = _dt.datetime(2000, 1, 1, 12, 0, 0, tzinfo=UTC)
EARLIEST_UTC = _dt.datetime(1972, 1, 1, tzinfo=UTC)  # start of the integer leap-second era


def parse_utc(text: str, *, what: str = "time") -> _dt.datetime:
    """ISO 8601 text -> aware UTC datetime, or AstpError naming the problem and the fix.

    Accepts ``1975-07-17T19:19:00Z``, ``1975-07-17 19:19``, offsets like ``-04:00`` (converted
    to UTC), fractional seconds, and a date alone (midnight UTC). Text with no offset is UTC.
    """
    raw = str(text).strip()
    candidate = raw[:-1] + "+00:00" if raw[-1:] in ("Z", "z") else raw
    try:
        value = _dt.datetime.fromisoformat(candidate)
    except ValueError:
        raise AstpError(
            f"cannot read {what} {raw!r} as a UTC time: write ISO 8601, for example 1975-07-17T19:19:00Z"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def format_utc(value: _dt.datetime, *, decimals: int = 0) -> str:
    """Aware datetime -> ``1975-07-17T19:19:00Z`` (with fractional seconds if asked)."""
    value = value.astimezone(UTC)
    if decimals <= 0:
        value = (value + _dt.timedelta(microseconds=500_000)).replace(microsecond=0)
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    text = value.strftime("%Y-%m-%dT%H:%M:%S.%f")
    return text[: len(text) - 6 + decimals] + "Z"


def format_elapsed(seconds: float) -> str:
    """Elapsed seconds -> ``+51:49:09`` (hours:minutes:seconds, the GET style), or ``-00:10:00``."""
    sign = "-" if seconds < 0 else "+"
    total = int(round(abs(seconds)))
    return f"{sign}{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


def utc_s_of(value: _dt.datetime) -> float:
    """Aware datetime -> utc_s (seconds since 2000-01-01T12:00 UTC, 86,400 s per day)."""
    return (value.astimezone(UTC) - J2000_UTC).total_seconds()


def datetime_of_utc_s(utc_s: float) -> _dt.datetime:
    return J2000_UTC + _dt.timedelta(seconds=float(utc_s))


@functools.cache
def _tables():
    from experience.mission import data

    return data.leap_second_table(), data.ut1_table()


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
    def t_s(self, utc: _dt.datetime) -> float:
        """Aware UTC datetime -> mission elapsed seconds."""
        if utc < EARLIEST_UTC:
            raise AstpError(
                f"{format_utc(utc)} is before 1972-01-01, where UTC had no integer leap seconds; "
                f"this program models 1972 onwards"
            )
        return float(tt_s_of_utc_s(np.asarray([utc_s_of(utc)]))[0]) - self.epoch_tt_s

    def t_s_array(self, utcs) -> np.ndarray:
        utc_s = np.asarray([utc_s_of(u) for u in utcs], dtype=np.float64)
        return tt_s_of_utc_s(utc_s) - self.epoch_tt_s

    def utc(self, t_s: float) -> _dt.datetime:
        """Mission elapsed seconds -> aware UTC datetime (microsecond resolution)."""
        utc_s = float(utc_s_of_tt_s(np.asarray([t_s + self.epoch_tt_s]))[0])
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

