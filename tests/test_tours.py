"""Scripted camera tours (experience/app/tours.py, data/tours/*.toml): every shipped tour
validates and stays inside the story; the player is a pure function of the tour and the frame
index; the camera moves smoothly between keys (no jumps, no overshoot, yaw the short way); bad
tour files get one line naming the file and the line."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pytest

from experience.app import tours as tours_mod
from experience.app.tours import Tour, TourPlayer, tours
from experience.errors import AstpError


def _write(tmp_path, body: str, name: str = "t.toml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(body).lstrip(), encoding="utf-8")
    return p


HEAD = """
[tour]
title = "Test"
"""

ORBIT3 = HEAD + """
[[key]]
at = "1975-07-17T19:00:00Z"
camera = "orbit"
yaw_deg = 170.0
pitch_deg = 10.0
distance_m = 40.0
rate = 60.0

[[key]]
at = "handshake - 9m"
camera = "orbit"
yaw_deg = -170.0
pitch_deg = 30.0
distance_m = 10.0
rate = 10.0

[[key]]
at = "1975-07-17T19:12:00Z"
camera = "orbit"
yaw_deg = -120.0
pitch_deg = 20.0
distance_m = 20.0
"""


def _values(cam):
    return np.array([cam.orbit_yaw_deg, cam.orbit_pitch_deg, math.log(cam.orbit_distance_m), cam.fov_deg])


# ------------------------------------------------------------------------------- shipped tours
def test_the_shipped_tours_include_docking_and_handshake_and_all_validate():
    names = tours()
    assert {"launch", "rendezvous", "docking", "handshake"} <= set(names)
    from experience.app.playback import story_span
    from experience.mission.clock import MissionClock

    lo, hi = story_span(MissionClock.from_data())
    for name in names:
        t = Tour.load(name)
        assert t.title and t.duration_s > 5.0
        for k in t.keys:
            assert lo <= k.t_s <= hi, (name, k.at)
        for c in t.captions:
            assert t.start_s <= c.from_s < c.to_s <= t.end_s
            assert c.source.strip(), f"{name}: caption {c.text!r} needs its source"


def test_docking_runs_from_16_00_to_hard_dock_and_handshake_from_19_00_to_19_25_ending_at_the_hatch():
    from experience.mission.clock import format_utc

    from experience.mission.clock import MissionClock

    d = Tour.load("docking")

    clock = MissionClock.from_data()
    assert format_utc(clock.utc(d.start_s)) == "1975-07-17T16:00:00Z"
    assert format_utc(clock.utc(d.end_s)) == "1975-07-17T16:11:49Z"
    assert all(k.camera not in ("cabin", "cm_window", "soyuz_porthole") for k in d.keys)  # from outside
    h = Tour.load("handshake")
    assert format_utc(clock.utc(h.start_s)) == "1975-07-17T19:00:00Z"
    assert format_utc(clock.utc(h.end_s)) == "1975-07-17T19:25:00Z"
    assert h.keys[0].camera == "orbit" and h.keys[-1].camera == "cabin"
    eye = np.array(h.keys[-1].values[:3])
    assert 1.87 <= eye[1] <= 2.75 and eye[0] < 0, "ends at the opened hatch (DM, -X side)"
    assert any("hands" in c.text for c in h.captions)


def test_the_attract_loop_plays_the_shipped_tours_in_story_order():
    loop = tours_mod.attract_loop()
    names = [t.name for t in loop]
    assert names.index("docking") < names.index("handshake")
    starts = [t.start_s for t in loop]
    assert starts == sorted(starts)


def test_captions_are_listed_for_the_catalog_extractor():
    msgs = tours_mod.catalog_messages()
    texts = {m for m, _, _ in msgs}
    for name in tours():
        t = Tour.load(name)
        assert t.title in texts
        assert {c.text for c in t.captions} <= texts
    for msg, path, line in msgs:
        assert path.endswith(".toml") and line > 0
        assert msg in open(path, encoding="utf-8").read().splitlines()[line - 1]


# ------------------------------------------------------------------------------- the player
def test_frames_are_a_pure_function_of_the_tour_and_the_index():
    t = Tour.load("docking")
    a, b = TourPlayer(t, 30), TourPlayer(Tour.load("docking"), 30)
    assert a.frames == b.frames == t.frame_count(30)
    ks = [a.frames - 1, 0, 1234, 17, 1234, 0]
    assert [a.frame(k) for k in ks] == [b.frame(k) for k in reversed(ks)][::-1]
    assert a.frame(600) == t.at(600 / 30, index=600)
    assert a.frame(0).t_s == t.start_s and a.frame(a.frames - 1).t_s == t.end_s
    with pytest.raises(IndexError):
        a.frame(a.frames)


def test_story_time_follows_the_rates_and_lands_on_every_key():
    t = Tour.load("docking")
    starts, rates = t._times
    for i, k in enumerate(t.keys):
        assert t.story_time(starts[i])[0] == pytest.approx(k.t_s, abs=1e-6)
    for i, (a, b) in enumerate(zip(t.keys, t.keys[1:])):
        if b.t_s > a.t_s and a.rate is not None:
            assert starts[i + 1] - starts[i] == pytest.approx((b.t_s - a.t_s) / a.rate)
            mid = (starts[i] + starts[i + 1]) / 2
            assert t.story_time(mid)[1] == pytest.approx(a.rate)
    ts = [t.story_time(x)[0] for x in np.linspace(0, t.duration_s, 2001)]
    assert np.all(np.diff(ts) >= 0), "the story never runs backwards"


def test_the_camera_is_smooth_hits_its_keys_and_does_not_overshoot(tmp_path):
    t = Tour.load(_write(tmp_path, ORBIT3))
    starts = t._times[0]
    for i, k in enumerate(t.keys):
        cam = t.camera_at(starts[i])
        assert cam.orbit_pitch_deg == pytest.approx(k.values[1])
        assert math.log(cam.orbit_distance_m) == pytest.approx(k.values[2])
    dt = 1e-3
    xs = np.arange(0.0, t.duration_s, dt)
    v = np.array([_values(t.camera_at(x)) for x in xs])
    v[:, 0] = np.degrees(np.unwrap(np.radians(v[:, 0])))
    step = np.abs(np.diff(v, axis=0))
    assert step.max() < 0.2, "no jumps"
    accel = np.abs(np.diff(v, 2, axis=0)) / dt ** 2
    assert accel.max() < 50.0, "C1: the speed changes gradually (no kinks at the keys)"
    # eases in and out of the run, and each segment stays between its two keys (monotone)
    assert step[0].max() < 1e-4 and step[-1].max() < 1e-4
    for i in range(len(t.keys) - 1):
        sel = (xs >= starts[i]) & (xs <= starts[i + 1])
        for c in (1, 2):
            lo, hi = sorted((t.keys[i].values[c], t.keys[i + 1].values[c]))
            assert lo - 1e-9 <= v[sel, c].min() and v[sel, c].max() <= hi + 1e-9


def test_yaw_goes_the_short_way_round(tmp_path):
    t = Tour.load(_write(tmp_path, ORBIT3))
    starts = t._times[0]
    yaws = [t.camera_at(x).orbit_yaw_deg for x in np.linspace(starts[0], starts[1], 200)]
    # from 170 to -170 through 180, never through 0
    assert all(abs(y) >= 169.9 for y in yaws)


def test_cuts_fades_and_holds(tmp_path):
    p = _write(tmp_path, HEAD + """
        [[key]]
        at = "1975-07-17T19:10:00Z"
        camera = "orbit"
        yaw_deg = 90.0
        pitch_deg = 10.0
        distance_m = 30.0
        rate = 60.0

        [[key]]
        at = "1975-07-17T19:15:00Z"
        camera = "orbit"
        yaw_deg = 100.0
        pitch_deg = 10.0
        distance_m = 20.0

        [[key]]
        at = "1975-07-17T19:15:00Z"
        camera = "cabin"
        eye_m = [-0.42, 1.75, 0.25]
        look_at_m = [0.08, 3.0, 0.0]
        duration_s = 2.0

        [[key]]
        at = "1975-07-17T19:15:00Z"
        camera = "cabin"
        eye_m = [-0.3, 2.0, 0.2]
        look_yaw_deg = -20.0
        look_pitch_deg = -5.0
        """)
    t = Tour.load(p)
    assert t.duration_s == pytest.approx(5.0 + 2.0)
    cut = 5.0
    assert t.camera_at(cut - 1e-6).mode == "orbit" and t.camera_at(cut).mode == "cabin"
    assert t.fade_at(cut) == 0.0 and t.fade_at(cut - 1.0) == 1.0 and t.fade_at(0.0) == 0.0
    assert t.fade_at(t.duration_s) == 0.0
    # the hold: the story stands still while the camera moves
    a, b = t.at(5.5), t.at(6.5)
    assert a.t_s == b.t_s and a.rate == 0.0 and a.camera.position_m != b.camera.position_m
    # look_at_m is turned into the same angles the rig uses (cabin: yaw about +Z from +Y)
    cam = t.camera_at(cut)
    d = np.array([0.08, 3.0, 0.0]) - np.array([-0.42, 1.75, 0.25])
    d /= np.linalg.norm(d)
    yw, pt = math.radians(cam.look_yaw_deg), math.radians(cam.look_pitch_deg)
    fwd = np.array([-math.sin(yw) * math.cos(pt), math.cos(yw) * math.cos(pt), math.sin(pt)])
    assert np.allclose(fwd, d)


def test_captions_follow_their_story_spans_and_fade(tmp_path):
    p = _write(tmp_path, ORBIT3 + """
        [[caption]]
        from = "1975-07-17T19:04:00Z"
        to = "handshake - 9m"
        text = "First."
        source = "test"

        [[caption]]
        from = "handshake - 9m"
        to = "1975-07-17T19:12:00Z"
        text = "Second."
        source = "test"
        """)
    t = Tour.load(p)
    assert t.caption_at(0.0) == ("", 0.0)
    assert t.caption_at(4.0 + 0.01)[0] == "First." and t.caption_at(4.0 + 0.01)[1] < 0.1
    assert t.caption_at(6.0) == ("First.", 1.0)
    assert t.caption_at(10.0 + 0.01)[0] == "Second."
    assert t.caption_at(t.duration_s)[0] == "Second."


def test_the_player_sets_the_experience():
    from experience.app.cameras import CameraRig

    t = Tour.load("handshake")
    player = TourPlayer(t, 10)

    class Exp:  # the parts of an Experience the player touches
        def __init__(self):
            from experience.app.playback import Playback

            self.playback = Playback.at_event("docking_1")
            self.camera = CameraRig()

    exp = Exp()
    f = player.apply(exp, 50)
    assert exp.playback.t_s == f.t_s and exp.camera.mode == "orbit"
    assert exp.camera.orbit_distance_m == pytest.approx(f.camera.orbit_distance_m)
    assert not exp.playback.paused and exp.playback.rate == f.rate
    f = player.apply(exp, player.frames - 1)
    assert exp.camera.mode == "cabin" and exp.playback.paused
    assert np.allclose(exp.camera.cabin_eye_m, f.camera.position_m)


# ------------------------------------------------------------------------------- bad tour files
GOOD_KEYS = """
[[key]]
at = "1975-07-17T19:10:00Z"
camera = "orbit"
yaw_deg = 90.0
pitch_deg = 10.0
distance_m = 30.0
rate = 60.0

[[key]]
at = "1975-07-17T19:15:00Z"
camera = "orbit"
yaw_deg = 100.0
pitch_deg = 10.0
distance_m = 20.0
"""


@pytest.mark.parametrize("body, needle, line", [
    (HEAD + GOOD_KEYS.replace("yaw_deg = 90.0", "yaw_degs = 90.0"), "unknown key 'yaw_degs'", 7),
    (HEAD + GOOD_KEYS.replace("pitch_deg = 10.0\ndistance_m = 30.0", "pitch_deg = 'ten'\ndistance_m = 30.0"),
     "pitch_deg must be a number", 8),
    (HEAD + GOOD_KEYS.replace('"1975-07-17T19:10:00Z"', '"1975-07-01T00:00:00Z"'), "outside the story", 5),
    (HEAD + GOOD_KEYS.replace('camera = "orbit"', 'camera = "drone"', 1), "camera 'drone' does not exist", 6),
    (HEAD + GOOD_KEYS.replace('"1975-07-17T19:15:00Z"', '"1975-07-17T19:05:00Z"'), "keys go forward", 13),
    (HEAD + GOOD_KEYS.replace("rate = 60.0\n", ""), "give rate", 5),
    (HEAD + GOOD_KEYS.replace('"1975-07-17T19:10:00Z"', '"dockign_1 + 5s"'), "did you mean 'docking_1'", 5),
    (HEAD + GOOD_KEYS.replace('"1975-07-17T19:10:00Z"', '"handshake + 5 fortnights"'), "cannot read the offset", 5),
    (HEAD + GOOD_KEYS.replace("distance_m = 30.0", "distance_m = 1.0"), "outside 5..5000", 9),
    (HEAD + GOOD_KEYS.replace("distance_m = 30.0", "distance_m = 30.0\nposition_m = [1, 2, 3]"),
     "position_m is for the free camera", 10),
    (HEAD + GOOD_KEYS + "rate = 5.0\n", "the last key ends the tour", 13),
    (HEAD + GOOD_KEYS + '\n[[caption]]\nfrom = "1975-07-17T19:11:00Z"\nto = "1975-07-17T19:12:00Z"\ntext = "A"\n'
     'source = "x"\n\n[[caption]]\nfrom = "1975-07-17T19:11:30Z"\nto = "1975-07-17T19:13:00Z"\ntext = "B"\nsource = "x"\n',
     "must not overlap", 28),
    (HEAD + GOOD_KEYS + '\n[[caption]]\nfrom = "1975-07-17T19:11:00Z"\nto = "1975-07-17T19:12:00Z"\ntext = "A"\n',
     "lacks source", 19),
    (HEAD + GOOD_KEYS + '\n[[caption]]\nfrom = "1975-07-17T19:11:00Z"\nto = "1975-07-17T19:20:00Z"\ntext = "A"\nsource = "x"\n',
     "outside the tour", 20),
    (HEAD + GOOD_KEYS.replace('camera = "orbit"\nyaw_deg = 90.0\npitch_deg = 10.0\ndistance_m = 30.0',
                              'camera = "cabin"\neye_m = [2.0, 1.0, 0.0]\nlook_yaw_deg = 0.0\nlook_pitch_deg = 0.0'),
     "outside the cabins", 7),
    (HEAD + "[tuor]\nx = 1\n" + GOOD_KEYS, "did you mean 'tour'", 3),
    (HEAD + GOOD_KEYS.replace("rate = 60.0", "rate = 60.0 60"), "not valid TOML", 10),
    ("[[key]]\nat = 'handshake'\n", "needs a [tour] table", None),
])
def test_a_bad_tour_is_one_line_with_file_and_line(tmp_path, body, needle, line):
    p = _write(tmp_path, body)
    with pytest.raises(AstpError) as err:
        Tour.load(p)
    msg = str(err.value)
    assert "\n" not in msg and needle in msg, msg
    assert msg.startswith(f"{p}:{line if line is not None else '?'}:"), msg


def test_unknown_tour_names_the_shipped_ones(tmp_path):
    with pytest.raises(AstpError, match="did you mean 'docking'.*handshake"):
        Tour.load("dockin")
    with pytest.raises(AstpError, match="is a folder"):
        Tour.load(str(tmp_path) + "/")
    with pytest.raises(AstpError, match="no tour file"):
        Tour.load(tmp_path / "missing.toml")


def test_offsets_and_event_times(tmp_path):
    assert tours_mod._parse_offset("2m30s") == 150.0
    assert tours_mod._parse_offset("1h") == 3600.0
    assert tours_mod._parse_offset("9m09.5s") == 549.5
    assert tours_mod._parse_offset("90") == 90.0
    assert tours_mod._parse_offset("2 m 30 s") == 150.0
    for bad in ("", "m", "5x", "30ms"):
        assert tours_mod._parse_offset(bad) is None
    t = Tour.load(_write(tmp_path, ORBIT3))
    assert t.keys[1].t_s == pytest.approx(t.keys[0].t_s + 10 * 60)   # handshake 19:19 - 9 min = 19:10


# ------------------------------------------------------------------------------- the story
@pytest.fixture(scope="module")
def exp(mission):
    from experience.app.experience import Experience
    from experience.simulation.ephemeris import Ephemeris

    return Experience(Ephemeris(trajectory=mission))


@pytest.mark.slow
def test_every_shipped_tour_key_has_its_camera_in_the_simulation(exp):
    """At every key the rig gives the key's camera (it would fall back to the orbit camera if,
    say, the cabins were asked for while the ships are apart), and something is in frame."""
    for name in tours():
        t = Tour.load(name)
        t.check_story(exp.live)
        player = TourPlayer(t, 10)
        starts = t._times[0]
        for i, k in enumerate(t.keys):
            cut_after = i + 1 < len(t.keys) and starts[i + 1] == starts[i]
            frame = player.apply_frame(exp, t.at(starts[i] - (1e-3 if cut_after else 0.0)))
            snap, placement = exp.step(0.0)
            assert placement.view == k.camera, (name, k.at)
            assert snap.t_s == pytest.approx(k.t_s, abs=0.1)
            if k.camera in ("orbit", "free"):  # the spacecraft near the camera are in front of it
                fwd = placement.basis[:, 1]
                near = [v for v in snap.vehicles.values()
                        if np.linalg.norm(np.asarray(v.pos_km) - placement.camera_km) < 10.0]
                assert near, (name, k.at)  # (the other one may be thousands of km away: the launch tour)
                for v in near:
                    to = np.asarray(v.pos_km) - placement.camera_km
                    assert to @ fwd > 0, (name, k.at, v.name)
            assert frame.fade >= 0.0


def test_check_story_refuses_a_cabin_while_the_ships_are_apart(tmp_path, exp):
    p = _write(tmp_path, HEAD + """
        [[key]]
        at = "1975-07-17T15:40:00Z"
        camera = "cabin"
        eye_m = [0.0, 1.0, 0.1]
        look_yaw_deg = 0.0
        look_pitch_deg = 0.0
        rate = 60.0

        [[key]]
        at = "1975-07-17T15:45:00Z"
        camera = "orbit"
        yaw_deg = 90.0
        pitch_deg = 10.0
        distance_m = 30.0
        """)
    with pytest.raises(AstpError, match=r"t\.toml:5: the cabin camera .* not docked"):
        Tour.load(p).check_story(exp.live)
