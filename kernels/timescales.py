"""Time scales: UTC, TAI, TT and UT1 as batched float64 seconds.

Conventions (docs/architecture.md):

- ``utc_s``: (JD_UTC - 2451545.0) * 86400, i.e. UTC seconds since 2000-01-01T12:00 UTC counting
  86,400 s in every day (a Julian date in seconds).
- ``tt_s``: Terrestrial Time, SI seconds since J2000.0 (JD 2451545.0 TT).
- ``ut1_s``: (JD_UT1 - 2451545.0) * 86400.

Relations (IERS Conventions 2010, ch. 1 and 5; Explanatory Supplement to the Astronomical
Almanac, 3rd ed., ch. 3): TT = TAI + 32.184 s, TAI = UTC + (TAI-UTC) where TAI-UTC is the integer
step of the leap-second table (IERS Bulletin C), and UT1 = UTC + (UT1-UTC) from the IERS EOP
series. The tables are passed in as arrays; nothing here reads files.

Accuracy: the TT/UTC conversions are exact up to float64 rounding (about 1e-7 s for dates within
a century of J2000). UT1 is linear interpolation of a daily UT1-UTC series (error of order 1 ms
for daily IERS values); outside the table's span UT1-UTC is taken as 0, an error under 0.9 s
(the leap-second rule keeps |UT1-UTC| < 0.9 s).
"""

from __future__ import annotations

from kernels._xp import namespace
from kernels.constants import DAYS_PER_JULIAN_CENTURY, SECONDS_PER_DAY, TT_MINUS_TAI_S

__all__ = [
    "tai_minus_utc_s",
    "tt_s_from_utc_s",
    "utc_s_from_tt_s",
    "ut1_s_from_utc_s",
    "julian_centuries",
    "SECONDS_PER_JULIAN_CENTURY",
]

SECONDS_PER_JULIAN_CENTURY = SECONDS_PER_DAY * DAYS_PER_JULIAN_CENTURY


def _step_index(xp, table_s, t_s):
    """Index i with table_s[i] <= t_s < table_s[i+1], clipped to the table (0 before its start)."""
    n = table_s.shape[0]
    idx = xp.searchsorted(table_s, t_s, side="right") - 1
    return xp.clip(idx, 0, n - 1)


def tai_minus_utc_s(utc_s, table_utc_s, table_tai_minus_utc_s):
    """TAI-UTC in seconds at ``utc_s``, looked up as a step function in a leap-second table.

    ``table_utc_s`` (m,) are the instants (``utc_s`` convention, ascending) from which each
    ``table_tai_minus_utc_s`` (m,) value holds (IERS Bulletin C). At a table instant the new value
    applies. Before the first instant the first value is returned (callers reject dates before
    1972, where UTC had rate offsets and this model does not hold).
    """
    xp = namespace(utc_s, table_utc_s, table_tai_minus_utc_s)
    idx = _step_index(xp, table_utc_s, utc_s)
    return xp.take(table_tai_minus_utc_s, idx)


def tt_s_from_utc_s(utc_s, table_utc_s, table_tai_minus_utc_s):
    """TT seconds since J2000.0 from ``utc_s``: TT = UTC + (TAI-UTC) + 32.184 s.

    Exact (float64 rounding only). In July 1975 TAI-UTC = 14 s, so TT-UTC = 46.184 s.
    """
    return utc_s + tai_minus_utc_s(utc_s, table_utc_s, table_tai_minus_utc_s) + TT_MINUS_TAI_S


def utc_s_from_tt_s(tt_s, table_utc_s, table_tai_minus_utc_s):
    """Inverse of :func:`tt_s_from_utc_s`.

    The leap-second instants are moved onto the TT axis (instant + new TAI-UTC + 32.184 s) and the
    step is looked up there, so the round trip utc -> tt -> utc is exact (float64 rounding)
    everywhere except inside an inserted leap second itself (23:59:60 has no ``utc_s`` of its own:
    TT inside that second maps to the first second of the new day).
    """
    xp = namespace(tt_s, table_utc_s, table_tai_minus_utc_s)
    table_tt_s = table_utc_s + table_tai_minus_utc_s + TT_MINUS_TAI_S
    idx = _step_index(xp, table_tt_s, tt_s)
    return tt_s - xp.take(table_tai_minus_utc_s, idx) - TT_MINUS_TAI_S


def ut1_s_from_utc_s(utc_s, table_utc_s, table_dut1_s):
    """UT1 (``ut1_s`` convention) from ``utc_s`` and a table of UT1-UTC.

    ``table_utc_s`` (m,) ascending instants (m >= 2), ``table_dut1_s`` (m,) UT1-UTC there
    (IERS EOP C04 series). UT1-UTC is linearly interpolated inside the table's span
    [first, last]; outside it UT1-UTC = 0 (UT1 = UTC), an error under 0.9 s of time (0.004 deg of
    Earth rotation, about 400 m on the equator). The table must not span a leap second (UT1-UTC
    jumps by 1 s there); the 1975 mission window does not.
    """
    xp = namespace(utc_s, table_utc_s, table_dut1_s)
    n = table_utc_s.shape[0]
    idx = xp.clip(xp.searchsorted(table_utc_s, utc_s, side="right") - 1, 0, n - 2)
    t0 = xp.take(table_utc_s, idx)
    t1 = xp.take(table_utc_s, idx + 1)
    d0 = xp.take(table_dut1_s, idx)
    d1 = xp.take(table_dut1_s, idx + 1)
    dut1 = d0 + (utc_s - t0) / (t1 - t0) * (d1 - d0)
    inside = (utc_s >= table_utc_s[0]) & (utc_s <= table_utc_s[n - 1])
    return utc_s + xp.where(inside, dut1, xp.zeros_like(dut1))


def julian_centuries(tt_s):
    """Julian centuries of TT since J2000.0: T = tt_s / (36525 * 86400)."""
    return tt_s / SECONDS_PER_JULIAN_CENTURY
