"""The mission data files: every event sourced, conflicts kept, and the clock."""

import datetime as dt

import pytest

from experience.errors import AstpError
from experience.mission import data
from experience.mission.clock import MissionClock, format_elapsed, format_utc, parse_utc


def test_timeline_is_sourced_and_ordered():
    events = data.timeline()
    assert len(events) >= 15
    assert [e.utc for e in events] == sorted(e.utc for e in events)
    sources = data.load_toml("mission/sources.toml")
    for ev in events:
        assert ev.source, ev.id
        assert all(s in sources for s in ev.source)
        assert ev.vehicle in ("soyuz", "apollo", "both")


def test_key_events_and_conflicts_kept():
    docking = data.event("docking_1")
    assert format_utc(docking.utc) == "1975-07-17T16:09:09Z"
    alternatives = {format_utc(c.utc) for c in docking.conflicts}
    assert {"1975-07-17T16:19:09Z", "1975-07-17T16:12:00Z", "1975-07-17T15:09:00Z"} <= alternatives
    assert all(c.why_not for c in docking.conflicts)
    assert format_utc(data.event("handshake").utc) == "1975-07-17T19:19:00Z"
    assert format_utc(data.event("apollo_launch").utc) == "1975-07-15T19:50:01Z"


def test_vehicle_data_keeps_conflicting_values():
    v = data.vehicles()
    assert v["apollo_csm"]["mass_kg"] == 14768.0
    assert any(c["mass_kg"] == 12904.0 for c in v["apollo_csm"]["conflicts"])
    assert v["docking_module"]["length_m"] == 3.15
    assert v["apas75"]["transfer_tunnel_diameter_m"] == 0.8
    assert len(data.crew()) == 5


def test_leap_seconds_and_ut1_tables():
    when, offset = data.leap_second_table()
    assert offset[0] == 10 and offset[-1] == 37
    assert (when[1:] > when[:-1]).all()
    _, dut1 = data.ut1_table()
    assert abs(dut1).max() < 0.9


def test_clock_round_trip_and_mission_clocks():
    clock = MissionClock.from_data()
    hs = parse_utc("1975-07-17T19:19:00Z")
    t = clock.t_s(hs)
    assert t == pytest.approx(2 * 86400 + 6 * 3600 + 59 * 60, abs=1e-6)
    assert abs((clock.utc(t) - hs).total_seconds()) < 1e-5
    assert clock.apollo_get_s(t) == pytest.approx(t - (7 * 3600 + 30 * 60 + 1), abs=1e-6)
    assert format_elapsed(clock.apollo_get_s(t)) == "+47:28:59"
    # TT - UTC in 1975 = 14 + 32.184 s
    tt = clock.tt_s([0.0])[0]
    utc_s = (dt.datetime(1975, 7, 15, 12, 20, tzinfo=dt.timezone.utc) - dt.datetime(2000, 1, 1, 12, tzinfo=dt.timezone.utc)).total_seconds()
    assert tt - utc_s == pytest.approx(46.184, abs=1e-6)
    # UT1 - UTC from the IERS table (about +0.17 s in mid-July 1975)
    ut1 = clock.ut1_s([0.0])[0]
    assert 0.15 < ut1 - utc_s < 0.19


@pytest.mark.parametrize("text", ["yesterday", "1975-07-32T00:00:00Z", "1975-13-01", "", "17/07/1975"])
def test_bad_times_are_one_readable_error(text):
    with pytest.raises(AstpError) as err:
        parse_utc(text, what="--at time")
    msg = str(err.value)
    assert "ISO 8601" in msg and "\n" not in msg


def test_offsets_convert_to_utc():
    assert format_utc(parse_utc("1975-07-17T15:19:00-04:00")) == "1975-07-17T19:19:00Z"
    assert format_utc(parse_utc("1975-07-17 19:19")) == "1975-07-17T19:19:00Z"


def test_corrupt_data_file_names_file_and_line(tmp_path, monkeypatch):
    (tmp_path / "mission").mkdir()
    (tmp_path / "mission" / "timeline.toml").write_text('[[event]]\nid = "x"\nutc = 1975-07-17T\n')
    monkeypatch.setenv("ASTP_DATA_DIR", str(tmp_path))
    data.load_toml.cache_clear()
    try:
        with pytest.raises(AstpError) as err:
            data.load_toml("mission/timeline.toml")
        assert "timeline.toml" in str(err.value) and "line 3" in str(err.value)
    finally:
        data.load_toml.cache_clear()
