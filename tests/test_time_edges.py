"""Times at the edges of the calendar and the leap second: one readable error or the right
instant, never an OverflowError (experience/mission/clock.py)."""

from __future__ import annotations

import copy
import datetime as dt
import pickle

import numpy as np
import pytest

from experience.errors import AstpError
from experience.mission import data
from experience.mission.clock import (LeapSecondUTC, MissionClock, datetime_of_utc_s, format_utc, leap_second_days,
                                      parse_utc)

UTC = dt.timezone.utc


@pytest.fixture(scope="module")
def clock():
    return MissionClock.from_data()


@pytest.mark.parametrize("text", [
    "0001-01-01T00:00:00+01:00",            # year 0 in UTC
    "0001-01-01T00:59:59.999999+01:00",
    "9999-12-31T23:59:59.9999999-01:00",    # year 10000 in UTC
    "9999-12-31T23:00:00-23:59",
])
def test_times_that_leave_the_calendar_are_one_line(text):
    with pytest.raises(AstpError) as err:
        parse_utc(text, what="--at time")
    msg = str(err.value)
    assert "years 1 to 9999" in msg and text in msg and "\n" not in msg


def test_the_last_and_first_instants_format_and_convert_without_overflow(clock):
    last = parse_utc("9999-12-31T23:59:59.9999999Z")      # 7 digits: truncated to microseconds
    assert last == dt.datetime.max.replace(tzinfo=UTC)
    assert format_utc(last) == "10000-01-01T00:00:00Z"     # rounded to the second, no OverflowError
    assert format_utc(last, decimals=3) == "9999-12-31T23:59:59.999Z"
    assert format_utc(parse_utc("9999-12-31T23:59:59.4Z")) == "9999-12-31T23:59:59Z"
    t = clock.t_s(last)
    assert np.isfinite(t) and format_utc(clock.utc(t)) == "10000-01-01T00:00:00Z"
    first = parse_utc("0001-01-01T00:00:00Z")
    assert format_utc(first) == "0001-01-01T00:00:00Z"
    with pytest.raises(AstpError, match="before 1972"):
        clock.t_s(first)
    with pytest.raises(AstpError, match="before 1972"):
        clock.t_s_array([first])


@pytest.mark.parametrize("t_s", [1e20, -1e20, float("nan"), float("inf")])
def test_mission_time_beyond_the_calendar_is_one_line(clock, t_s):
    with pytest.raises(AstpError) as err:
        clock.utc(t_s)
    assert "\n" not in str(err.value)
    with pytest.raises(AstpError):
        datetime_of_utc_s(t_s)


# ------------------------------------------------------------------------------------ leap seconds
def test_the_leap_second_of_1975_is_read_and_timed(clock):
    assert dt.date(1975, 12, 31) in leap_second_days()
    before = parse_utc("1975-12-31T23:59:59Z")
    leap = parse_utc("1975-12-31T23:59:60Z")
    half = parse_utc("1975-12-31T23:59:60.5Z")
    after = parse_utc("1976-01-01T00:00:00Z")
    assert isinstance(leap, LeapSecondUTC) and not isinstance(after, LeapSecondUTC)
    # TT: one SI second after 23:59:59, and the new day starts two seconds after 23:59:59
    assert clock.t_s(leap) - clock.t_s(before) == pytest.approx(1.0, abs=1e-6)
    assert clock.t_s(half) - clock.t_s(before) == pytest.approx(1.5, abs=1e-6)
    assert clock.t_s(after) - clock.t_s(before) == pytest.approx(2.0, abs=1e-6)
    t = clock.t_s_array([before, leap, half, after]) - clock.t_s(before)
    assert np.allclose(t, [0.0, 1.0, 1.5, 2.0], atol=1e-6)
    # TAI-UTC steps from 14 to 15 s there: TT-UTC 46.184 s before, 47.184 s after
    j2000 = dt.datetime(2000, 1, 1, 12, tzinfo=UTC)
    tt_after = clock.tt_s(np.asarray([clock.t_s(after)]))[0]
    assert tt_after - (after - j2000).total_seconds() == pytest.approx(47.184, abs=1e-6)
    # and back: a t_s inside the leap second is 23:59:60.x again
    back = clock.utc(clock.t_s(half))
    assert isinstance(back, LeapSecondUTC) and back == half
    assert format_utc(back, decimals=1) == "1975-12-31T23:59:60.5Z"
    assert clock.utc(clock.t_s(after)) == after and clock.utc(clock.t_s(before)) == before


def test_a_leap_second_prints_orders_and_copies_as_one(clock):
    before, leap, half, after = (parse_utc(t) for t in ("1975-12-31T23:59:59.9Z", "1975-12-31T23:59:60Z",
                                                         "1975-12-31T23:59:60.5Z", "1976-01-01T00:00:00Z"))
    assert format_utc(leap) == "1975-12-31T23:59:60Z"
    assert format_utc(half) == "1976-01-01T00:00:00Z"   # rounded to the nearest second
    assert leap.isoformat() == "1975-12-31T23:59:60+00:00"
    assert before < leap < half < after and after > half > leap > before
    assert sorted([after, half, before, leap]) == [before, leap, half, after]
    assert leap != parse_utc("1975-12-31T23:59:59Z") and len({leap, parse_utc("1975-12-31T23:59:59Z")}) == 2
    assert copy.deepcopy(half) == half and pickle.loads(pickle.dumps(half)) == half
    # the same instant written with an offset
    assert parse_utc("1975-12-31T22:59:60.5-01:00") == half


@pytest.mark.parametrize("text", ["1975-07-17T19:18:60Z", "1975-06-30T23:59:60Z", "1975-12-31T23:58:60Z",
                                  "2030-12-31T23:59:60Z", "1975-12-31T23:59:60+01:00"])
def test_second_60_where_there_was_no_leap_second_is_refused(text):
    with pytest.raises(AstpError) as err:
        parse_utc(text, what="--at time")
    msg = str(err.value)
    assert "no leap second" in msg and "leap_seconds.csv" in msg and "\n" not in msg


def test_leap_table_rows_are_checked_by_line(tmp_path, monkeypatch):
    import shutil

    shutil.copytree(data.data_dir(), tmp_path / "data")
    table = tmp_path / "data" / "reference" / "leap_seconds.csv"
    good = table.read_text()
    monkeypatch.setenv("ASTP_DATA_DIR", str(tmp_path / "data"))
    try:
        for old, new, words in [("1976-01-01,15", "1976-01-01,16", "exactly 1 s"),
                                ("1976-01-01,15", "1976-01-02,15", "first day of a month"),
                                ("1976-01-01,15", "1974-07-01,15", "date order"),
                                ("1976-01-01,15", "1976-01-01,x", "DATE,WHOLE_SECONDS")]:
            table.write_text(good.replace(old, new))
            data.clear_caches()
            with pytest.raises(AstpError) as err:
                data.leap_second_table()
            line = next(n for n, ln in enumerate(table.read_text().splitlines(), 1) if ln.startswith(new.split(",")[0]))
            assert f"leap_seconds.csv:{line}:" in str(err.value) and words in str(err.value), str(err.value)
    finally:
        data.clear_caches()
