"""The crossing on the one application loop (experience/app/crossing.py): desktop keys drive the
same Crossing, the cabin camera follows its eye, the scene draws the airlock's hatches, and the
rooms render offscreen (lit by their lamps, nothing but cabin in front of the eye)."""

from __future__ import annotations

import numpy as np
import pytest

SIZE = (320, 180)


def _crossing_at_its_story_time(exp):
    from experience.app.crossing import CrossingMode

    mode = CrossingMode(exp)
    exp.playback.seek(exp.clock.t_s(mode.crossing.airlock.utc))
    exp.playback.paused = True
    return mode


def test_keys_push_grab_use_and_guide(exp):
    mode = _crossing_at_its_story_time(exp)
    c = mode.crossing
    assert exp.camera.mode == "cabin" and exp.crossing is mode
    y0 = c.eye_m[1]
    exp.camera.cabin_yaw_deg, exp.camera.cabin_pitch_deg = 0.0, 0.0   # looking along +Y, up the stack
    exp.controls.press("w")
    for _ in range(15):
        exp.step(1 / 30)
    exp.controls.release("w")
    assert c.eye_m[1] > y0 + 0.05 and np.allclose(exp.camera.cabin_eye_m, c.eye_m)
    v = np.linalg.norm(c.vel_m_s)
    for _ in range(10):          # glide on: momentum
        exp.step(1 / 30)
    assert 0.5 * v < np.linalg.norm(c.vel_m_s) <= v
    exp.controls.press("b")      # brake
    for _ in range(30):
        exp.step(1 / 30)
    assert np.linalg.norm(c.vel_m_s) < 0.3 * v
    # in the DM (clear of Stafford and Slayton): grab a handrail, use the nearest action (close the Apollo hatch)
    c.pos_m = np.array([[-0.22, 0.85, 0.10]])
    assert c.in_crew() is None
    exp.controls.press("g")
    assert c.holding
    exp.controls.press("g")
    assert not c.holding
    exp.controls.press("f")
    assert c.airlock.hatches()["apollo_dm"] == "closed"
    assert any("Docking Module" in line for line in mode.hud_lines())
    exp.controls.press("t")      # guided mode takes over from here
    assert mode.guide is not None
    for _ in range(2700):
        exp.step(1 / 30)
        assert c.in_crew() is None     # the guide floats round the crews
        if mode.guide is None:
            break
    assert c.room == "soyuz_om" and c.airlock.hatches()["dm_soyuz"] == "open"


def test_each_room_renders_with_the_airlock_hatches(exp):
    from experience.app.experience import AppLoop
    from experience.scene.config import RenderConfig
    from experience.scene.renderer import SceneRenderer

    mode = _crossing_at_its_story_time(exp)
    r = SceneRenderer(RenderConfig(size=SIZE))
    try:
        loop = AppLoop(exp, r)
        means = {}
        for room, pos, yaw, pitch in (("cm", (0.0, -1.58, 0.45), 0.0, -35.0), ("dm", (0.0, 0.95, 0.0), 0.0, 0.0),
                                      ("soyuz_om", (0.0, 3.75, 0.0), 0.0, 0.0)):
            mode.crossing.pos_m = np.array([pos])
            exp.camera.cabin_yaw_deg, exp.camera.cabin_pitch_deg = yaw, pitch
            img = loop.render_offscreen(1 / 30)
            assert mode.crossing.room == room
            assert r.vehicles.crossing_hatches == mode.crossing.airlock.hatches()
            means[room] = float(img.mean())
            # lit but not washed out: the cabin fills the view with mid tones
            assert 25.0 < means[room] < 215.0, (room, means[room])
        kinds = [k for k in r.vehicles.nodes if k.startswith("crossing_")]
        assert kinds == ["crossing_open_closed"]
        # the DM's four gauges follow the airlock: raise the DM and the needles of its gauges turn
        lock = mode.crossing.airlock
        lock.close_hatch("apollo_dm")
        mode.crossing.pos_m = np.array([[0.0, 1.6, 0.0]])
        loop.frame(0.01)
        gauges = r.vehicles.gauges["crossing_closed_closed"]
        assert sorted(reads for _p, reads, _s in gauges) == ["cm", "dm", "dm", "soyuz_om"]
        before = {p.getName(): p.getQuat() for p, _r, _s in gauges}
        lock.set_valve("n2_fill", True)
        lock.set_speedup(600.0)
        for _ in range(3):
            loop.frame(0.1)
        turned = {p.getName(): not p.getQuat().almostEqual(before[p.getName()], 1e-4) for p, _r, _s in gauges}
        assert all(v for k, v in turned.items() if k.endswith("_dm_pivot")), turned
        assert not any(v for k, v in turned.items() if k.endswith(("_cm_pivot", "_soyuz_om_pivot"))), turned
        # the crossing ends (the kiosk's idle reset): the scene draws the story's stack again
        exp.reset()
        assert exp.crossing is None
        loop.frame(1 / 30)
        assert r.vehicles.crossing_hatches is None
    finally:
        mode.stop()
        r.close()


def test_the_guided_crossing_draws_the_crews_of_its_story_time_and_the_handshake_in_view(exp, tmp_path):
    """The crossing on the loop, guided, rendered offscreen: the scene draws all four figures the
    visitor can meet (Stafford and Slayton in the DM, Leonov and Kubasov in the orbital module)
    posed as the story's pose table has them at the crossing's story time (the snapshot's
    CrewPose function), and at 19:19 the two right hands meet in the hatchway in front of the
    crossing camera. ASTP_CROSSING_SHOTS=folder keeps the stills (docs/crossing.md)."""
    import os

    from panda3d.core import LPoint3f

    from experience.app.experience import AppLoop
    from experience.scene.config import RenderConfig
    from experience.scene.modelgen import crew
    from experience.scene.renderer import SceneRenderer
    from experience.simulation import handshake

    keep = os.environ.get("ASTP_CROSSING_SHOTS")
    size = (960, 540) if keep else SIZE
    mode = _crossing_at_its_story_time(exp)
    mode.action("crossing_guide")
    r = SceneRenderer(RenderConfig(size=size))
    shots = {}
    try:
        loop = AppLoop(exp, r)
        v = r.vehicles
        event = handshake.event_utc()
        seen_handshake = False
        for i in range(30 * 120):
            pre = (mode.crossing.story_utc - event).total_seconds()
            draw = i % 15 == 0 or mode.guide is None or -1.0 < pre < 0.2
            img = loop.render_offscreen(1 / 30) if draw else (loop.frame(1 / 30), None)[1]
            c = mode.crossing
            dt_s = (c.story_utc - event).total_seconds()
            if img is not None:
                for name, ok in (("cm", c.room == "cm" and c.t_s > 1.0), ("dm", c.room == "dm" and dt_s < -1800),
                                 ("opening", -60 < dt_s < -50), ("handshake", 1.0 < dt_s < 3.0),
                                 ("soyuz_om", c.room == "soyuz_om")):
                    if ok and name not in shots:
                        shots[name] = img
            if v.crossing_hatches is None:
                continue
            cp = c.crew_pose()
            if not cp.moving and cp.arrangement in ("hatch_closed", "handshake", "in_om"):
                # a still arrangement: its flattened node (all four figures, Brand left out)
                assert v.crew_shown == cp.arrangement
                assert not v.crew[cp.arrangement].isHidden()
                continue
            assert v.crew_shown == "animated"
            want = crew.blend(cp.a, cp.b, cp.weight)
            conv, joints = v.animated_crew
            assert set(joints) == {"stafford", "slayton", "leonov", "kubasov"}
            holder = v.crew["animated"]
            for pid in joints:
                top, nodes = joints[pid]
                p = nodes["head"][0].getPos(holder.find("model_frame"))
                m = crew.forward_kinematics(crew.people()[pid].height, want[pid][1], want[pid][0])["head"]
                got = np.array(conv).T @ np.array([p[0], p[1], p[2]]) if np.shape(conv) == (3, 3) else None
                if got is not None:
                    assert np.allclose(got, m[:3, 3], atol=2e-3), (pid, got, m[:3, 3])
            if -0.5 < dt_s < 0.0 and not seen_handshake and img is not None:
                seen_handshake = True
                assert cp.b == "handshake" and cp.weight > 0.9 and c.room == "dm"
                # the clasped hands project inside the crossing camera's view, in front of it
                hand = joints["stafford"][1]["hand_r"][0]
                pt = hand.getPos(r.near_cam)
                proj = LPoint3f()
                assert r.near_lens.project(pt, proj), "the handshake is out of view"
                assert abs(proj[0]) < 0.8 and abs(proj[1]) < 0.8, proj
            if mode.guide is None:
                break
        assert seen_handshake, "the guided crossing never showed the handshake"
        assert mode.crossing.room == "soyuz_om"
    finally:
        mode.stop()
        r.close()
    if keep:
        from PIL import Image

        for name, img in shots.items():
            Image.fromarray(np.asarray(img)).save(os.path.join(keep, f"crossing_{name}.png"))


def test_the_keepsake_key_takes_lets_go_and_hands_over(exp):
    """K in the desktop crossing (the keepsake model VR drives with both hands, here one hand in
    front of the eye): takes the nearest keepsake within reach, lets it go (it floats before the
    handshake), and from 19:19, with Leonov's hand within reach, hands it over; the help overlay
    lists the key, and its lines are in Russian too."""
    import datetime as dt

    from experience import i18n
    from experience.app.controls import ACTION_HELP, default_bindings
    from experience.app.crossing import CrossingMode
    from experience.simulation import airlock as sa
    from experience.simulation import crossing as cs
    from experience.simulation import handshake

    assert default_bindings()["crossing_keepsake"] == ("k",) and "crossing_keepsake" in ACTION_HELP
    mode = _crossing_at_its_story_time(exp)
    k = mode.keepsakes
    exp.controls.press("k")
    held = k.held("right")
    assert held is not None and k.items[held].state == "held"
    assert "In your hand" in mode.message
    for _ in range(20):           # the keepsake goes with the hand, in front of the eye
        exp.step(1 / 30)
    assert np.linalg.norm(k.items[held].pos_m - mode.hand_m()) < 0.15
    # drawn: the scene places the held keepsake ahead of the crossing's camera, in view
    from panda3d.core import LPoint3f

    from experience.app.experience import AppLoop
    from experience.scene.config import RenderConfig
    from experience.scene.renderer import SceneRenderer

    r = SceneRenderer(RenderConfig(size=SIZE))
    try:
        AppLoop(exp, r).render_offscreen(1 / 30)
        node = mode._handheld.items[held]
        pt = node.getPos(r.near_cam)
        proj = LPoint3f()
        assert 0.1 < pt.length() < 0.7 and r.near_lens.project(pt, proj), (pt, held)
        assert not mode._handheld.hands["right"]["closed"].isHidden()
    finally:
        mode.stop()
        r.close()
    mode = _crossing_at_its_story_time(exp)
    k = mode.keepsakes
    exp.controls.press("k")
    held = k.held("right")
    exp.controls.press("k")       # let go before the handshake: it floats where it was let go
    assert k.held("right") is None and k.items[held].state == "loose"
    mode.stop()
    # at the handshake, by the hatchway (clear of the crews), Leonov's hand within reach
    lock = sa.Airlock.at(handshake.event_utc() + dt.timedelta(seconds=2.0))
    c = cs.Crossing(airlock=lock, start_m=(0.2, 2.95, 0.1))
    assert c.in_crew() is None
    mode = CrossingMode(exp, c)
    exp.playback.seek(exp.clock.t_s(lock.utc))
    exp.playback.paused = True
    k = mode.keepsakes
    assert mode.receiving() and np.linalg.norm(mode.leonov_hand_m() - c.eye_m) < cs.REACH_M
    exp.controls.press("k")
    held = k.held("right")
    assert held is not None
    exp.controls.press("k")       # handed over: the half joins Leonov's, or the flag is his
    assert k.items[held].state in ("joined", "given"), k.items[held].state
    assert mode.message in (i18n._("The two halves of the plaque are joined"), i18n._("Leonov takes the flag"))
    mode.stop()
    i18n.set_language("ru")
    try:
        for msg in (ACTION_HELP["crossing_keepsake"], "No keepsake within reach"):
            assert i18n._(msg) != msg, msg
    finally:
        i18n.set_language("en")


def test_the_sun_comes_in_through_the_window_that_faces_it():
    """Issue #10: the windows the scene lets sunlight in through are the ones the model draws, and
    one facing away from the Sun lets in no beam."""
    from experience.scene.modelgen import apollo, params, soyuz
    from experience.scene.vehicles import room_windows, sunlit_window

    d = params.load()
    cm = room_windows("cm")
    assert len(cm) == 5 and [tuple(w[0]) for w in cm] == [tuple(w[0]) for w in apollo.cm_window_frames(d)]
    om = room_windows("soyuz_om")
    assert len(om) == 2 and all(abs(o[0][1] - (p[1] + d.fact("docking_module", "length_m"))) < 1e-9
                                for o, (p, _n) in zip(om, soyuz.porthole_frames(d)))
    assert room_windows("dm") == ()
    eye = np.eye(3)
    for windows in (cm, om):
        for p, n, area in windows:
            best = sunlit_window(windows, eye, n)            # the Sun straight onto this window:
            assert best is not None and best[2] * best[3] >= area - 1e-12   # at least its light comes in
            if area == max(w[2] for w in windows):           # and through the largest, itself
                assert best[3] > 0.999 and np.allclose(best[0], p)
    # the Sun behind the CM's windows (all face forward and up): none lets it in
    assert sunlit_window(cm, eye, -np.array([0.0, 0.54, 0.84])) is None
    # on the porthole facing +X: the one facing -X is in its own shade
    plus_x = max(om, key=lambda w: w[1][0])
    assert np.allclose(sunlit_window(om, eye, plus_x[1])[0], plus_x[0])
    assert float(min(om, key=lambda w: w[1][0])[1] @ plus_x[1]) < 0.0


def test_a_cabin_wall_in_the_sunbeam_is_brighter_in_sunlight_than_in_earths_shadow(exp):
    """Issue #10: in the CM at a sunlit time (the handshake's day, 40 min before it) the wall
    the beam from the most sunlit window reaches is bright; 30 min earlier, in Earth's shadow,
    the same view has no beam (and nothing else in the cabin changes with the Sun)."""
    import datetime as dt
    import math

    from experience.app.crossing import CrossingMode
    from experience.app.experience import AppLoop
    from experience.scene.config import RenderConfig
    from experience.scene.renderer import SceneRenderer
    from experience.scene.vehicles import model_to_eci
    from experience.simulation import airlock as sa, handshake
    from experience.simulation import crossing as cs

    r = SceneRenderer(RenderConfig(size=SIZE))
    imgs, lit = {}, {}
    aim = None
    try:
        for tag, off in (("sun", -2400.0), ("shadow", -4200.0)):
            lock = sa.Airlock.at(handshake.event_utc() + dt.timedelta(seconds=off))
            mode = CrossingMode(exp, cs.Crossing(airlock=lock, start_m=(0.668, -1.563, 0.505)))
            mode.scene_prepared = lambda _r: None
            exp.playback.seek(exp.clock.t_s(lock.utc))
            exp.playback.paused = True
            loop = AppLoop(exp, r)
            snap, _ = loop.frame(1 / 30)
            state = snap.vehicles["apollo"]
            if aim is None:   # along the beam (the Sun's travel, stack frame)
                b = -(model_to_eci(state).T @ np.asarray(snap.sun_unit_eci))
                aim = math.degrees(math.atan2(-b[0], b[1])), math.degrees(math.asin(max(-1.0, min(1.0, b[2]))))
            exp.camera.cabin_yaw_deg, exp.camera.cabin_pitch_deg = aim
            for _ in range(2):
                img = loop.render_offscreen(1 / 30)
            assert mode.crossing.room == "cm"
            imgs[tag], lit[tag] = img.astype(float), float(state.sunlit_fraction)
            win = r.vehicles.inputs._views["u_win_sun"][1]
            assert (float(win[0]) > 3.0) if tag == "sun" else float(win[0]) == 0.0, (tag, win)
            mode.stop()
    finally:
        r.close()
    assert lit["sun"] > 0.99 and lit["shadow"] < 0.01
    diff = imgs["sun"].mean(axis=2) - imgs["shadow"].mean(axis=2)
    patch = diff > 40.0
    assert patch.sum() > 100, patch.sum()                    # a bright patch of sunlight ...
    assert patch.sum() < 0.25 * patch.size, patch.sum()      # ... not the whole view
    assert diff.min() > -3.0, diff.min()                     # the Sun only adds light
