"""The application loop driven by scripted input, with no window (offscreen buffer): the same
Experience, controls, live snapshots and scene as the desktop viewer."""

from __future__ import annotations

import math

import numpy as np
import pytest

from experience.mission import data

SIZE = (320, 180)


@pytest.fixture(scope="module")
def renderer():
    from experience.scene.config import RenderConfig
    from experience.scene.renderer import SceneRenderer

    r = SceneRenderer(RenderConfig(size=SIZE))
    yield r
    r.close()


# -- the frame-rate snapshot is the snapshot ---------------------------------------------------
def test_live_snapshots_equal_the_full_snapshot(eph):
    from experience.simulation.live import LiveSimulation
    from experience.simulation.snapshot import snapshot

    live = LiveSimulation(eph)
    rng = np.random.default_rng(7)
    span = eph.traj.span("soyuz")
    times = list(rng.uniform(span[0], span[1], 25)) + [eph.clock.t_s(data.event("docking_1").utc)]
    for t in times:
        a, b = snapshot(eph, t), live.snapshot(t)
        assert sorted(a.vehicles) == sorted(b.vehicles)
        assert math.acos(min(1.0, float(a.sun_unit_eci @ b.sun_unit_eci))) < 1e-7
        assert abs(a.sun_dist_km - b.sun_dist_km) < 1.0
        assert abs((a.gast_rad - b.gast_rad + math.pi) % (2 * math.pi) - math.pi) < 1e-9
        assert np.linalg.norm(a.moon_pos_km - b.moon_pos_km) < 0.01  # 10 m at 380,000 km
        assert abs(a.moon_illuminated_fraction - b.moon_illuminated_fraction) < 1e-6
        assert np.abs(a.j2000_to_eci - b.j2000_to_eci).max() < 1e-10
        for k, va in a.vehicles.items():
            vb = b.vehicles[k]
            assert np.array_equal(va.pos_km, vb.pos_km) and np.array_equal(va.vel_km_s, vb.vel_km_s)
            assert np.allclose(va.body_to_eci, vb.body_to_eci, atol=1e-12)
            assert va.phase == vb.phase and va.region == vb.region
            assert abs(va.sunlit_fraction - vb.sunlit_fraction) < 1e-6
            assert abs(va.lat_deg - vb.lat_deg) < 1e-9 and abs(va.alt_km - vb.alt_km) < 1e-9
        assert (a.docking is None) == (b.docking is None)


# -- the clock --------------------------------------------------------------------------------
def test_playback_warp_steps_pause_and_clamping(eph):
    from experience.app.playback import WARP_STEPS, Playback

    pb = Playback.at_event("handshake", clock=eph.clock)
    t0 = pb.t_s
    pb.advance(2.0)
    assert pb.t_s == pytest.approx(t0 + 2.0)
    for _ in range(20):
        pb.faster()
    assert pb.rate == WARP_STEPS[-1] == 10000.0
    pb.reverse()
    assert pb.rate == -10000.0
    pb.toggle_pause()
    t1 = pb.t_s
    pb.advance(5.0)
    assert pb.t_s == t1
    pb.toggle_pause()
    pb.seek(pb.start_s + 10.0)
    pb.advance(1.0)   # runs into the start of the story: stops there, paused
    assert pb.t_s == pb.start_s and pb.paused


def test_jump_to_every_event_draws_what_exists_then(exp, renderer):
    from experience.app.experience import AppLoop

    loop = AppLoop(exp, renderer)
    for ev in data.timeline():
        exp.playback.jump(ev.id)
        snap, placement = loop.frame(0.0)
        assert abs(snap.t_s - exp.clock.t_s(ev.utc)) < 1e-6
        for name in ("soyuz", "apollo"):
            t0, t1 = exp.eph.traj.span(name)
            assert (name in snap.vehicles) == (t0 <= snap.t_s <= t1), (ev.id, name)
        from experience.app.hud import hud_text

        h = hud_text(snap, exp.playback, exp.ui, exp.camera.mode)
        if len(snap.vehicles) < 2:
            assert h.status, f"{ev.id}: a vehicle is missing and the HUD does not say why"
        assert h.lines[0].startswith(ev.utc.strftime("%Y-%m-%d"))


def test_every_preset_is_in_the_story_and_jumps(exp):
    from experience.app.playback import presets

    ps = presets(exp.clock)
    ids = [p.id for p in ps]
    for want in ("launch", "insertion", "rendezvous", "docking", "hatch_opening", "handshake", "undocking",
                 "redocking", "final_separation", "soyuz_landing", "dm_jettison", "splashdown"):
        assert want in ids
    for p in ps:
        assert exp.playback.start_s <= p.t_s <= exp.playback.end_s
        exp.controls.press(p.key)
        assert exp.playback.t_s == pytest.approx(p.t_s)


def test_play_at_1000x_across_the_docking_snapshot_and_scene_agree(exp, renderer):
    from experience.app.experience import AppLoop
    from experience.scene import boundary
    from experience.scene.vehicles import model_to_eci

    loop = AppLoop(exp, renderer)
    exp.playback.jump("docking")           # 16:07:09, inside the replayed contact dynamics
    exp.playback.set_warp(1000.0)
    seen_phases = set()
    end = exp.clock.t_s(data.event("docking_1").utc) + 200.0
    while exp.playback.t_s < end:
        snap, placement = loop.frame(0.05)  # 50 s of story per frame
        if snap.docking is None:
            continue
        seen_phases.add(snap.docking.phase)
        assert snap.vehicles["apollo"].phase == snap.vehicles["soyuz"].phase == "docking"
        # the scene put Soyuz where the snapshot says, relative to the camera, in float32 metres
        frame = boundary.RenderFrame(placement.camera_km)
        node = renderer.vehicles.nodes["soyuz"]
        assert not node.isHidden()
        want = frame.model_matrix(snap.vehicles["soyuz"].pos_km, model_to_eci(snap.vehicles["soyuz"]))
        got = node.getMat()
        assert all(abs(got.getCell(3, k) - want.getCell(3, k)) < 1e-3 for k in range(3))
    assert len(seen_phases) >= 2, seen_phases
    snap, _ = loop.frame(0.05)
    assert snap.docking is None or snap.docking.phase in seen_phases


def test_reverse_through_midnight_utc(exp):
    from experience.app.hud import hud_text
    from experience.mission.clock import parse_utc

    exp.playback.seek(exp.clock.t_s(parse_utc("1975-07-17T00:00:30Z")))
    exp.playback.set_warp(100.0)
    exp.playback.reverse()
    dates = []
    for _ in range(10):
        snap, _ = exp.step(0.1)   # 10 s of story backwards per frame
        dates.append(hud_text(snap, exp.playback, exp.ui, exp.camera.mode).lines[0][:10])
    assert dates[0] == "1975-07-17" and dates[-1] == "1975-07-16"
    assert exp.playback.rate < 0 and not exp.playback.paused
    assert snap.utc.strftime("%H:%M:%S") == "23:58:50"


def test_language_switch_mid_caption(exp):
    from experience.app.hud import caption_text, hud_text, translator

    exp.playback.jump("handshake")
    exp.step(0.0)
    en = caption_text(exp, translator("en").gettext)
    assert en
    exp.controls.press("l")
    assert exp.ui.language == "ru"
    exp.step(0.5)
    ru = caption_text(exp, translator("ru").gettext)
    h = hud_text(exp.snapshot, exp.playback, exp.ui, exp.camera.mode)
    try:
        import experience.i18n  # noqa: F401
    except ImportError:
        pytest.skip("the translation catalogs (experience/i18n.py) are not installed yet")
    assert ru and ru != en and any("а" <= ch <= "я" for ch in ru.lower())
    assert any("а" <= ch <= "я" for ch in "".join(h.lines).lower())


def test_gamepad_events_and_axes_injected_into_the_input_layer(exp):
    pb, cam = exp.playback, exp.camera
    paused = pb.paused
    assert exp.controls.press("gamepad-face_a") == "play_pause"
    assert pb.paused != paused
    t = pb.t_s
    exp.controls.press("gamepad-rshoulder")     # next event
    assert pb.t_s > t
    exp.controls.press("gamepad-face_b")        # next camera
    assert cam.mode == "chase"
    exp.controls.press("gamepad-face_b")
    exp.controls.press("gamepad-face_b")
    exp.controls.press("gamepad-face_b")
    assert cam.mode == "free"
    p0 = cam.free_pos_m.copy()
    yaw0 = cam.free_yaw_deg
    exp.controls.axes({"left_y": 1.0, "right_x": 0.5})   # stick forward, look right
    exp.controls.update(0.5)
    assert np.linalg.norm(cam.free_pos_m - p0) > 1.0
    assert cam.free_yaw_deg != yaw0
    exp.controls.axes({"left_y": 0.05, "right_x": 0.0})  # inside the dead zone: nothing moves
    p1 = cam.free_pos_m.copy()
    exp.controls.update(0.5)
    assert np.array_equal(cam.free_pos_m, p1)


def test_touch_drag_and_pinch(exp):
    cam = exp.camera
    cam.set_mode("orbit")
    exp.step(0.0)
    yaw, dist = cam.orbit_yaw_deg, cam.orbit_distance_m
    c = exp.controls
    c.pointer(100, 100, True)
    c.pointer(180, 100, True)   # a touch drag arrives as a mouse drag
    c.pointer(180, 100, False)
    assert cam.orbit_yaw_deg != yaw
    c.touches([(100, 100), (200, 100)])
    c.touches([(50, 100), (250, 100)])   # fingers apart: closer
    c.touches([])
    assert cam.orbit_distance_m < dist


def test_cabin_camera_stays_inside_and_needs_the_docked_stack(exp):
    from experience.app import cameras

    exp.playback.jump("handshake")
    exp.camera.set_mode("cabin")
    snap, placement = exp.step(0.0)
    assert placement.view == "cabin" and placement.interior
    for _ in range(50):
        exp.camera.move(1.0, 0.7, 0.3)
    p = exp.camera.cabin_eye_m
    assert math.hypot(p[0], p[2]) <= cameras.CABIN_RADIUS_M + 1e-9
    assert cameras.CABIN_Y_RANGE_M[0] <= p[1] <= cameras.CABIN_Y_RANGE_M[1]
    exp.playback.jump("soyuz_insertion")  # Apollo not in orbit: the cabin view falls back to orbiting Soyuz
    snap, placement = exp.step(0.0)
    assert placement.view == "orbit"


def test_every_camera_renders_the_scene_offscreen(exp, renderer):
    from experience.app.cameras import MODES
    from experience.app.experience import AppLoop

    loop = AppLoop(exp, renderer)
    exp.playback.jump("handshake")
    for mode in MODES:
        exp.camera.set_mode(mode)
        img = loop.render_offscreen(0.0)
        assert img.shape == (SIZE[1], SIZE[0], 3)
        assert img.mean() > 3 and img.std() > 3, mode
        assert loop.timings.frames > 0


def test_no_vehicle_in_orbit_shows_the_earth(exp, renderer):
    from experience.app.experience import AppLoop

    loop = AppLoop(exp, renderer)
    exp.playback.jump("launch")
    img = loop.render_offscreen(0.0)
    assert exp.snapshot.vehicles == {}
    assert exp.placement.view == "empty"
    assert img.mean() > 5, "before the launches the view shows the Earth"


def test_reset_returns_every_visitor_state(exp):
    exp.controls.press("l")
    exp.controls.press("f6")
    exp.controls.press("]")
    exp.controls.press("page_down")
    exp.reset()
    assert exp.ui.language == "en" and exp.camera.mode == "orbit" and exp.playback.rate == 1.0
    assert exp.playback.t_s == pytest.approx(exp.clock.t_s(data.event("handshake").utc))


def test_the_offscreen_loop_does_not_accumulate_render_states(exp, renderer):
    """Every frame sets new uniforms and matrices; without ShowBase's per-frame state collection
    Panda3D kept every one of them (about 80 states a frame: the RSS leak of long offscreen runs
    such as the kiosk soak and recorded tours). The count stays bounded frame after frame."""
    from panda3d.core import RenderState, TransformState

    from experience.app.experience import AppLoop

    loop = AppLoop(exp, renderer)
    exp.playback.set_warp(100.0)
    counts = []
    for k in range(120):
        exp.camera.look(0.2, 0.0)
        loop.frame(1 / 60)
        renderer.render_frame()
        if k in (39, 119):
            counts.append((RenderState.getNumStates(), TransformState.getNumStates()))
    (states_a, transforms_a), (states_b, transforms_b) = counts
    assert states_b <= states_a + 20 and transforms_b <= transforms_a + 20, counts
