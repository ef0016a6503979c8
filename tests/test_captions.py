"""Captions for the key moments: tied to the timeline and the sources, validated with the file
and line, looked up per frame, in English and Russian."""

from __future__ import annotations

import datetime as _dt
import random
import re
import tomllib
from pathlib import Path

import pytest

from experience import i18n
from experience.errors import DataFileError
from experience.mission import captions as cap
from experience.mission import data
from experience.mission.clock import MissionClock, parse_utc

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def clock():
    return MissionClock.from_data()


def t_of(clock, iso):
    return clock.t_s(parse_utc(iso))


# The key moments of the issue and the timeline events they belong to.
KEY_MOMENTS = {
    "soyuz_launch": "soyuz_launch", "soyuz_insertion": "soyuz_insertion",
    "apollo_launch": "apollo_launch", "apollo_insertion": "apollo_insertion",
    "apollo_nc2": "apollo_nc2", "apollo_nsr": "apollo_nsr", "terminal_phase": "apollo_tpi",
    "station_keeping": "docking_1", "docking_contact": "docking_1", "hard_dock": "docking_1",
    "hatch_opening": "handshake", "handshake": "handshake", "joint_exchange": "handshake",
    "joint_meal": "handshake", "undocking": "undocking_1", "redocking": "docking_2",
    "final_undocking": "undocking_2", "final_separation": "apollo_departs",
    "soyuz_landing": "soyuz_landing", "dm_jettison": "dm_jettison", "splashdown": "apollo_splashdown",
}


def test_every_key_moment_has_its_caption_on_its_event():
    by_id = {c.id: c for c in cap.captions()}
    for cid, event in KEY_MOMENTS.items():
        assert cid in by_id, cid
        assert by_id[cid].event == event
    events = {ev.id for ev in data.timeline()}
    sources = data.load_toml("mission/sources.toml")
    for c in cap.captions():
        assert c.event in events and c.source and all(s in sources for s in c.source)
        assert c.end_utc > c.start_utc
        n_sentences = len(re.findall(r"[.!?](?:\"|”)?(?:\s|$)", c.text))
        assert 1 <= n_sentences <= 4, (c.id, n_sentences)
        assert c.source_titles()


def test_captions_do_not_overlap_and_are_in_order():
    caps = cap.captions()
    for a, b in zip(caps, caps[1:]):
        assert a.start_utc <= b.start_utc
        assert b.start_utc >= a.end_utc or a.allow_overlap or b.allow_overlap, (a.id, b.id)


def test_the_times_a_caption_names_are_its_events_or_their_recorded_versions():
    """'16:09:09 UTC', '19:19 UTC' in a text must be the event's time or a conflicting version
    kept in timeline.toml (e.g. the wire report's 16:12 for the hard dock)."""
    events = {ev.id: ev for ev in data.timeline()}
    for c in cap.captions():
        ev = events[c.event]
        allowed = [ev.utc] + [k.utc for k in ev.conflicts if k.utc]
        for hh, mm, ss in re.findall(r"\b(\d\d):(\d\d)(?::(\d\d))? UTC", c.text):
            ok = [t for t in allowed if (t.hour, t.minute) == (int(hh), int(mm))
                  and (not ss or t.second == int(ss))]
            assert ok, f"caption {c.id}: {hh}:{mm} UTC is not a time of {ev.id}"


def test_the_handshake_keeps_every_version_and_says_whose_words_it_shows():
    hs = cap.caption("handshake")
    assert sum(v.shown for v in hs.versions) == 1
    shown = next(v for v in hs.versions if v.shown)
    assert "TIME75" in shown.source and "Very, very happy to see you" in shown.words
    assert "Time magazine" in hs.text and "Very, very happy to see you" in hs.text
    assert hs.start_utc == data.event("handshake").utc


def test_caption_at_the_key_instants(clock):
    at = lambda iso: (cap.caption_at(t_of(clock, iso), clock) or type("N", (), {"id": None})).id  # noqa: E731
    assert at("1975-07-15T12:20:00Z") == "soyuz_launch"
    assert at("1975-07-15T12:19:59Z") is None  # before the first caption
    assert at("1975-07-15T12:28:50Z") == "soyuz_insertion"  # half-open spans
    assert at("1975-07-17T16:09:09Z") == "docking_contact"
    assert at("1975-07-17T16:12:00Z") == "hard_dock"
    assert at("1975-07-17T19:18:59Z") == "hatch_opening"
    assert at("1975-07-17T19:19:00Z") == "handshake"
    assert at("1975-07-18T06:00:00Z") is None  # a quiet night docked
    assert at("1975-07-19T12:33:39Z") == "redocking"
    assert at("1975-07-24T21:18:24Z") == "splashdown"
    assert at("1975-07-30T00:00:00Z") is None
    assert cap.caption_at(-1e9, clock) is None and cap.caption_at(1e9, clock) is None


def test_caption_at_agrees_with_a_scan_of_every_span(clock):
    spans = cap.spans(clock)
    lo, hi = spans[0][0] - 600, spans[-1][1] + 600
    rng = random.Random(1975)
    times = [rng.uniform(lo, hi) for _ in range(3000)] + [t for t0, t1, _c in spans for t in (t0, t1, t1 - 1e-3)]
    for t in times:
        covering = [c for t0, t1, c in spans if t0 <= t < t1]
        want = max(covering, key=lambda c: (c.start_utc, c.line)) if covering else None
        assert cap.caption_at(t, clock) is want


def test_switching_language_mid_caption(clock):
    t = t_of(clock, "1975-07-17T19:20:00Z")
    c = cap.caption_at(t, clock)
    assert c.id == "handshake"
    try:
        assert i18n.set_language("ru") == "ru"
        ru = cap.caption_at(t + 1, clock).localized()
        assert cap.caption_at(t + 1, clock) is c
        assert ru.replace("\u00a0", " ").startswith("Стаффорд и Леонов пожимают друг другу руки")
        i18n.set_language("en")
        assert cap.caption_at(t + 2, clock).localized() == c.text
    finally:
        i18n.set_language("en")
    both = (c.localized(i18n.translation("en")), c.localized(i18n.translation("ru")))
    assert both[0] == c.text and both[1] != c.text


def test_every_caption_has_russian():
    ru = i18n.translation("ru")
    for c in cap.captions():
        text = c.localized(ru)
        letters = [ch for ch in text if ch.isalpha()]
        cyrillic = [ch for ch in letters if "\u0400" <= ch <= "\u04ff"]
        assert text != c.text and len(cyrillic) > 0.8 * len(letters), c.id


# ------------------------------------------------------------------------- validation
GOOD = '''\
[[caption]]
id = "a"
event = "handshake"
from_s = 0
to_s = 60
source = ["UPI90"]
text = "One."

[[caption]]
id = "b"
event = "handshake"
from_utc = "1975-07-17T19:20:00Z"
to_utc = "1975-07-17T19:30:00Z"
source = ["UPI90"]
text = "Two."
'''


def _validate(text):
    return cap.validate(tomllib.loads(text), text, "data/mission/captions.toml")


def test_a_good_file_validates():
    a, b = _validate(GOOD)
    assert (a.id, b.id) == ("a", "b")
    assert b.start_utc == _dt.datetime(1975, 7, 17, 19, 20, tzinfo=_dt.timezone.utc)
    assert a.line == 1 and b.line == 9


@pytest.mark.parametrize("change, line, needle", [
    (('event = "handshake"\nfrom_utc', 'event = "handshak"\nfrom_utc'), 11, "names the event 'handshak', which is not in data/mission/timeline.toml"),
    (('source = ["UPI90"]\ntext = "Two."', 'source = ["UPI90", "NOPE"]\ntext = "Two."'), 14, "cites the source 'NOPE'"),
    (('to_utc = "1975-07-17T19:30:00Z"', 'to_utc = "1975-07-17T19:30:00Z"\ncolour = "red"'), 14, "unknown key 'colour'"),
    (('from_utc = "1975-07-17T19:20:00Z"', 'from_utc = "1975-07-17T19:19:30Z"'), 9, "starts before caption 'a' (line 1) ends"),
    (('to_s = 60', 'to_s = -5'), 5, "ends before it starts"),
    (('id = "b"', 'id = "a"'), 10, "used twice"),
    (('text = "One."', 'text = "One.\\nTwo."'), 7, "line break"),
    (('from_s = 0\n', ''), 1, "needs exactly one of from_s"),
    (('from_utc = "1975-07-17T19:20:00Z"', 'from_utc = "the morning"'), 12, "cannot read"),
    (('text = "Two."\n', ''), 9, "lacks the key 'text'"),
])
def test_bad_files_get_one_line_with_the_file_and_line(change, line, needle):
    old, new = change
    text = GOOD.replace(old, new)
    assert text != GOOD
    with pytest.raises(DataFileError) as err:
        _validate(text)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith(f"data/mission/captions.toml line {line}: "), msg
    assert needle in msg


def test_allowed_overlap_shows_the_later_caption(clock, monkeypatch):
    text = GOOD.replace('from_utc = "1975-07-17T19:20:00Z"', 'from_utc = "1975-07-17T19:19:30Z"') \
               .replace('text = "Two."', 'text = "Two."\nallow_overlap = true')
    parsed = _validate(text)
    monkeypatch.setattr(cap, "captions", lambda: parsed)
    cap._index.cache_clear()
    try:
        assert cap.caption_at(t_of(clock, "1975-07-17T19:19:10Z"), clock).id == "a"
        assert cap.caption_at(t_of(clock, "1975-07-17T19:19:40Z"), clock).id == "b"
        assert cap.caption_at(t_of(clock, "1975-07-17T19:25:00Z"), clock).id == "b"
    finally:
        cap._index.cache_clear()


def test_the_shipped_file_loads_through_the_data_folder(tmp_path, monkeypatch):
    import shutil

    shutil.copytree(ROOT / "data", tmp_path / "data")
    path = tmp_path / "data" / "mission" / "captions.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('event = "apollo_tpi"', 'event = "tpi"'), encoding="utf-8")
    monkeypatch.setenv("ASTP_DATA_DIR", str(tmp_path / "data"))
    cap.captions.cache_clear()
    try:
        with pytest.raises(DataFileError, match=r"captions.toml line \d+: caption 'terminal_phase' names the event 'tpi'"):
            cap.captions()
        path.write_text("[[caption]\n", encoding="utf-8")
        cap.captions.cache_clear()
        with pytest.raises(DataFileError, match="not valid TOML"):
            cap.captions()
    finally:
        cap.captions.cache_clear()
