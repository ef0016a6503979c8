"""VR against a REAL OpenXR runtime: headless Monado (tools/setup_monado.sh) with its simulated
HMD and controllers, the OpenGL context through Xvfb/GLX, `astp vr` as a visitor would run it.

Marker ``vr``. Where the runtime cannot be set up the tests skip with the reason, except under
CI=true, where that fails (tests/xdisplay.skip_or_fail). The OpenXR client runs in a child started
through the Monado prefix's loader (its client library needs glibc 2.38: ../shared/RECIPES.md).

What comes from the runtime and what is injected: head and eye poses, fields of view, the
controllers' grip poses, session states and frame pacing are the runtime's own; Monado's
simulated controllers are fixed in the room and cannot press buttons headless, so the grab test
injects the grip value and a 0.3 m hand motion on top of the runtime's pose (``--inject``).

The pure math (no runtime) is tested here too, without the marker.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
FRAMES = 300


# ------------------------------------------------------------------------------------------------
# math at the boundary (no runtime)
def test_quaternion_to_rotation_matches_axis_angle():
    from experience.xr.xrmath import quat_to_rot, rot_to_quat

    a = math.radians(90.0)
    r = quat_to_rot(0.0, math.sin(a / 2), 0.0, math.cos(a / 2))   # 90 deg about +Y
    assert np.allclose(r @ [0.0, 0.0, -1.0], [-1.0, 0.0, 0.0], atol=1e-12)   # forward turns left
    assert np.allclose(r.T @ r, np.eye(3), atol=1e-12)
    q = rot_to_quat(r)
    assert np.allclose(quat_to_rot(*q), r, atol=1e-12)


def test_asymmetric_frustum_is_a_crop_of_the_symmetric_render():
    from experience.xr.xrmath import EyeFrustum

    f = EyeFrustum(math.tan(-0.9), math.tan(0.7), math.tan(-0.8), math.tan(0.75))
    w, h = f.render_size(320, 240)
    x0, y0 = f.crop((w, h), 320, 240)
    # the crop's edges in the symmetric render are the eye's own frustum edges (tangents)
    tan_at = lambda px, size, t: (px / size * 2.0 - 1.0) * t  # noqa: E731
    assert tan_at(x0, w, f.tan_x) == pytest.approx(f.tan_left, abs=2 * f.tan_x / w)
    assert tan_at(x0 + 320, w, f.tan_x) == pytest.approx(f.tan_right, abs=2 * f.tan_x / w)
    assert tan_at(y0, h, f.tan_y) == pytest.approx(f.tan_down, abs=2 * f.tan_y / h)
    assert tan_at(y0 + 240, h, f.tan_y) == pytest.approx(f.tan_up, abs=2 * f.tan_y / h)
    # pyglm's projection of the frustum's corner direction lands on the clip corner
    p = f.projection(0.05, 100.0)
    import glm

    c = p * glm.dvec4(f.tan_right, f.tan_up, -1.0, 1.0)
    assert c.x / c.w == pytest.approx(1.0) and c.y / c.w == pytest.approx(1.0)


def test_recentred_head_lands_at_the_cm_start_facing_the_tunnel():
    from experience.xr.tracking import CM_START_MODEL_M, TrackingOrigin
    from experience.xr.xrmath import Pose, quat_to_rot

    a = math.radians(40.0)
    head = Pose(np.array([0.3, 1.7, -0.2]), quat_to_rot(0.0, math.sin(a / 2), 0.0, math.cos(a / 2)))
    o = TrackingOrigin()
    o.recentre(head)
    m = o.to_model(head)
    assert np.allclose(m.position_m, CM_START_MODEL_M, atol=1e-12)
    assert np.allclose(m.rotation @ [0.0, 0.0, -1.0], [0.0, 1.0, 0.0], atol=1e-12)  # looking into the tunnel
    assert np.allclose(m.rotation @ [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], atol=1e-12)   # room up = model +Z
    # 30 cm forward in the room is 30 cm toward the tunnel
    fwd = Pose(head.position_m + head.rotation @ [0.0, 0.0, -0.3], head.rotation)
    assert np.allclose(o.to_model(fwd).position_m - m.position_m, [0.0, 0.3, 0.0], atol=1e-12)


def test_eye_placement_keeps_float64_between_earth_and_handrail(mission):
    """A handrail 30 cm from the eye and the Earth 6,600 km away in the same frame: the render
    boundary differences in float64 before rounding (no jitter at cabin scale)."""
    from experience.app.experience import Experience
    from experience.frontends.vr import eye_placement
    from experience.mission.clock import parse_utc
    from experience.scene import boundary, views
    from experience.xr.tracking import CM_START_MODEL_M
    from experience.xr.xrmath import EyeFrustum, Pose

    exp = Experience()
    exp.playback.seek(exp.eph.clock.t_s(parse_utc("1975-07-17T19:10:00Z")))
    snap, _ = exp.step(0.0)
    eye = Pose(np.array(CM_START_MODEL_M), np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]]))
    pl = eye_placement(snap, eye, EyeFrustum(-1.0, 1.0, -1.0, 1.0))
    assert np.linalg.norm(pl.camera_km) > 6500.0
    frame = boundary.RenderFrame(pl.camera_km)
    rail = views.model_point_km(snap.vehicles["apollo"], np.array(CM_START_MODEL_M) + [0.3, 0.0, 0.0])
    d = frame.to_m(rail)
    assert d.dtype == np.float32 and float(np.linalg.norm(d)) == pytest.approx(0.3, abs=1e-6)
    assert float(np.linalg.norm(frame.to_m(np.zeros(3)))) == pytest.approx(np.linalg.norm(pl.camera_km) * 1e3, rel=1e-6)
    assert np.allclose(pl.basis.T @ pl.basis, np.eye(3), atol=1e-12)


def test_stereo_renderer_culls_once_for_both_eyes_and_draws_each_eye_as_its_own_render(mission):
    """The shared cull (SceneRenderer(stereo=True)): both eyes side by side in one renderFrame,
    each pass's camera culled ONCE per frame (a cull callback under each pass's root counts the
    traversals: 1 per stereo frame, 2 for two per-eye renders); with the eyes at the camera it is
    the per-eye picture exactly; with the eyes 64 mm apart each half is that eye's own render, to
    the tone map's dither (the geometry from each eye's matrix, the view-dependent shading from
    each eye's position: shaders/vehicle.frag's u_eye_*)."""
    from panda3d.core import CallbackNode, PythonCallbackObject

    from experience.app.experience import Experience
    from experience.frontends.vr import eye_placement
    from experience.mission.clock import parse_utc
    from experience.scene.config import RenderConfig
    from experience.scene.renderer import SceneRenderer
    from experience.xr.tracking import CM_START_MODEL_M
    from experience.xr.xrmath import EyeFrustum, Pose

    exp = Experience()
    exp.playback.seek(exp.eph.clock.t_s(parse_utc("1975-07-17T19:10:00Z")))
    snap, _ = exp.step(0.0)
    f = EyeFrustum(math.tan(-0.9), math.tan(0.8), math.tan(-0.8), math.tan(0.8))
    size = f.render_size(96, 72)
    w = size[0]
    rot = np.column_stack([[1.0, 0, 0], [0, 0, 1.0], [0, -1.0, 0]])   # looking up the tunnel (+Y), +Z up
    c = np.array(CM_START_MODEL_M, dtype=np.float64)
    cfg = RenderConfig(size=size, supersample=1, earth_segments=128, atmosphere_steps=6)
    try:
        st, mo = SceneRenderer(cfg, stereo=True), SceneRenderer(cfg)
    except Exception as exc:  # pragma: no cover - no OpenGL at all
        pytest.skip(f"no offscreen OpenGL: {exc}")
    counts = {}
    for r in (st, mo):
        for name, root in (("near", r.near_root), ("far", r.far_root)):
            key = (r.stereo, name)
            counts[key] = 0
            node = CallbackNode(f"count-{name}")

            def visit(data, key=key):
                counts[key] += 1
                data.upcall()

            node.setCullCallback(PythonCallbackObject(visit))
            root.attachNewNode(node)

    def stereo(eyes):
        st.prepare(snap, placement=eye_placement(snap, Pose(c, rot), f), eyes=eyes)
        st.render_frame()
        img = st.read().astype(np.float64)
        return img[:, :w], img[:, w:]

    def mono(dx):
        mo.prepare(snap, placement=eye_placement(snap, Pose(c + rot[:, 0] * dx, rot), f))
        mo.render_frame()
        return mo.read().astype(np.float64)

    try:   # each renderer's pictures together (see docs/vr.md on two renderers drawing in turn)
        with pytest.raises(ValueError, match="eyes"):
            st.prepare(snap, placement=eye_placement(snap, Pose(c, rot), f))
        e = 0.032
        stereo([(0, 0, 0), (0, 0, 0)])
        for k in counts:
            counts[k] = 0
        left0, right0 = stereo([(0, 0, 0), (0, 0, 0)])
        left, right = stereo([(-e, 0, 0), (e, 0, 0)])
        mono(0.0)
        stereo_counts = dict(counts)
        centre, mono_l, mono_r = mono(0.0), mono(-e), mono(e)
        assert stereo_counts == {(True, "near"): 2, (True, "far"): 2, (False, "near"): 1, (False, "far"): 1}
        assert counts[(False, "near")] == counts[(False, "far")] == 4     # per eye: a traversal each
        assert np.array_equal(left0, centre) and np.abs(right0 - centre).mean() < 0.5   # the right: its dither phase
        for half, own, other in ((left, mono_l, mono_r), (right, mono_r, mono_l)):
            d = np.abs(half - own)            # the right half: its dither phase (gl_FragCoord) differs
            assert d.max() <= 1.0 and d.mean() < 0.5, (d.max(), d.mean())
            assert np.abs(half - other).mean() > 8.0                      # the other eye's view is another
        assert np.abs(left - right).mean() > 8.0                          # two eyes, two views
    finally:
        st.close()
        mo.close()


def test_the_eyes_share_the_cull_only_when_they_look_the_same_way():
    """Parallel eyes with the same render share one render; canted eyes (some wide-angle
    headsets), eyes of different fields of view or picture sizes, or --cull per-eye draw one eye
    at a time."""
    from types import SimpleNamespace

    from experience.frontends.vr import VrFrontEnd
    from experience.xr.xrmath import EyeFrustum, Pose

    def eyes(cant_deg=0.0, right_fov=None, size=(320, 240)):
        a = math.radians(cant_deg)
        turn = np.array([[math.cos(a), 0.0, math.sin(a)], [0.0, 1.0, 0.0], [-math.sin(a), 0.0, math.cos(a)]])
        fl = EyeFrustum(-1.0, 0.9, -0.9, 0.9)
        fr = right_fov or EyeFrustum(-0.9, 1.0, -0.9, 0.9)   # the mirror image: the same symmetric render
        return SimpleNamespace(eyes=[SimpleNamespace(pose=Pose(np.array([-0.032, 1.6, 0.0]), np.eye(3)), frustum=fl, size=size),
                                     SimpleNamespace(pose=Pose(np.array([0.032, 1.6, 0.0]), turn), frustum=fr, size=(320, 240))])

    front = VrFrontEnd.__new__(VrFrontEnd)
    front.cull = "shared"
    assert front._shared_cull(eyes())
    assert front._shared_cull(eyes(cant_deg=0.01))
    assert not front._shared_cull(eyes(cant_deg=5.0))
    assert not front._shared_cull(eyes(right_fov=EyeFrustum(-0.9, 1.2, -0.9, 0.9)))
    assert not front._shared_cull(eyes(size=(300, 240)))
    front.cull = "per-eye"
    assert not front._shared_cull(eyes())


def test_a_long_session_keeps_its_logs_short():
    """An hour in the headset at 90 Hz: the per-frame logs and frame times are cut back to their
    last LOG_KEEP_FRAMES (once they hold twice as many), the newest kept."""
    import types

    from experience.frontends import vr
    from experience.xr.session import FrameStats

    f = object.__new__(vr.VrFrontEnd)
    f.vs = types.SimpleNamespace(stats=FrameStats(), states_seen=["FOCUSED"] * 150)
    n = 2 * 50 + 1
    for name in ("head_log", "hand_log", "hand_draw_log", "snap_ms", "keepsake_lines"):
        setattr(f, name, list(range(n)))
    for name in ("cpu_ms", "wait_ms", "eye_ms", "upload_ms", "setup_ms"):
        setattr(f.vs.stats, name, list(range(n)))
    f.trim(50)
    for xs in (f.head_log, f.hand_log, f.hand_draw_log, f.snap_ms, f.keepsake_lines, f.vs.stats.cpu_ms, f.vs.stats.setup_ms):
        assert xs == list(range(n - 50, n))
    assert len(f.vs.states_seen) == 50
    f.head_log = list(range(60))
    f.trim(50)
    assert len(f.head_log) == 60            # under twice the keep: left alone (no copying every frame)


def test_suggested_bindings_cover_the_five_controller_families():
    from experience.xr.actions import ACTIONS, PROFILES, binding_paths

    assert set(PROFILES) == {"khr/simple_controller", "oculus/touch_controller", "valve/index_controller",
                             "htc/vive_controller", "microsoft/motion_controller"}
    for profile in PROFILES:
        bound = {a for a, _p in binding_paths(profile)}
        need = set(ACTIONS) - ({"thumbstick"} if profile == "khr/simple_controller" else set())
        assert need <= bound, f"{profile} lacks {need - bound}"
        assert all(p.startswith("/user/hand/") for _a, p in binding_paths(profile))


def test_free_float_snap_turn_glide_and_the_cabin_wall():
    from experience.xr.tracking import FreeFloat, HandInput, TrackedPoses, TrackingOrigin
    from experience.xr.xrmath import Pose

    o = TrackingOrigin()
    head_ref = Pose(np.array([0.0, 1.6, 0.0]), np.eye(3))
    o.recentre(head_ref)
    ff = FreeFloat(o, turn="snap", snap_deg=30.0)
    poses = lambda: TrackedPoses(o.to_model(head_ref), None, None)  # noqa: E731
    right = HandInput(thumbstick=(1.0, 0.0))
    turns = [ff.update(poses(), {"right": right}, 0.05).turn_deg for _ in range(5)]
    assert turns == [-30.0, 0.0, 0.0, 0.0, 0.0]          # one snap per push of the stick
    ff.update(poses(), {"right": HandInput()}, 0.05)     # stick back to the middle: armed again
    assert ff.update(poses(), {"right": right}, 0.05).turn_deg == -30.0
    assert o.yaw_deg == -60.0
    # glide along the view for 1 s at full stick
    o.yaw_deg = 0.0
    y0 = o.to_model(head_ref).position_m[1]
    for _ in range(20):
        ff.update(poses(), {"left": HandInput(thumbstick=(0.0, 1.0))}, 0.05)
    assert o.to_model(head_ref).position_m[1] - y0 == pytest.approx(FreeFloat.GLIDE_M_S, rel=0.05)
    # sideways into the cabin wall: the head stops at the desktop camera's cabin radius
    for _ in range(100):
        ff.update(poses(), {"left": HandInput(thumbstick=(1.0, 0.0))}, 0.05)
    from experience.app.cameras import CABIN_RADIUS_M

    p = o.to_model(head_ref).position_m
    assert math.hypot(p[0], p[2]) == pytest.approx(CABIN_RADIUS_M, abs=1e-9)


def test_wrist_panel_faces_the_head_and_lands_where_the_eye_sees_it():
    from experience.frontends import vr_wrist
    from experience.xr.xrmath import EyeFrustum, Pose

    head = Pose(np.array([0.0, 0.0, 0.0]), np.eye(3))                  # eye axes: -Z forward, +Y up
    hand = Pose(np.array([0.0, -vr_wrist.LIFT_M, -0.5]), np.eye(3))    # 50 cm ahead, card lifted to eye level
    c = vr_wrist.panel_corners(hand, head)
    assert np.allclose(c.mean(axis=0), [0.0, 0.0, -0.5], atol=1e-12)
    assert np.linalg.norm(c[1] - c[0]) == pytest.approx(vr_wrist.PANEL_W_M)
    f = EyeFrustum(-1.0, 1.0, -0.75, 0.75)
    px = vr_wrist.project(c, head, f, (320, 240))
    assert np.allclose(px.mean(axis=0), [160.0, 120.0], atol=1e-9)
    assert px[0, 0] < px[1, 0] and px[0, 1] < px[3, 1]                  # top-left is left of and above the rest
    img = np.zeros((240, 320, 3), np.uint8)
    out = vr_wrist.composite(img, vr_wrist.panel_image(["19:19:00 UTC", "a", "b", "c", "d"]), px)
    assert out[120, 160].sum() > 0 and out[5, 5].sum() == 0            # drawn in the middle only
    assert vr_wrist.project(c + [0.0, 0.0, 1.0], head, f, (320, 240)) is None   # behind the eye


def test_vignette_is_centred_on_the_eyes_own_axis():
    from experience.frontends.vr import vignette_mask
    from experience.xr.xrmath import EyeFrustum

    m = vignette_mask(EyeFrustum(-1.0, 1.0, -1.0, 1.0), (101, 101))
    assert m[50, 50] == pytest.approx(1.0) and m[0, 0] == pytest.approx(0.15, abs=1e-6)
    a = vignette_mask(EyeFrustum(-1.2, 0.8, -1.0, 1.0), (101, 101))   # a left eye: its axis right of the middle
    assert a[50, 60] == pytest.approx(1.0)                            # tan 0 lies at column 60 of 0..100
    assert a[50, 0] < a[50, 100] < 1.0                                # the far (outer) edge darker than the near one


def test_wrist_menu_jumps_events_and_switches_turning(mission):
    from experience.app.experience import Experience
    from experience.frontends.vr_wrist import WristPanel
    from experience.mission.clock import parse_utc
    from experience.xr.tracking import FreeFloat, HandInput, TrackingOrigin

    exp = Experience()
    exp.playback.seek(exp.eph.clock.t_s(parse_utc("1975-07-17T19:10:00Z")))
    ff = FreeFloat(TrackingOrigin(), turn="snap")
    panel = WristPanel()
    hands = lambda lx=0.0, ly=0.0, trig=0.0: {"left": HandInput(thumbstick=(lx, ly)),  # noqa: E731
                                               "right": HandInput(trigger=trig)}
    h = hands(lx=1.0)
    assert panel.interact(h, exp, ff) == [] and h["left"].thumbstick == (1.0, 0.0)   # hidden: no menu, stick glides
    panel.update(True)
    assert panel.visible
    t0 = exp.playback.t_s
    h = hands(lx=1.0)
    assert panel.interact(h, exp, ff) == ["next_event"] and exp.playback.t_s > t0
    assert h["left"].thumbstick == (0.0, 0.0)                                         # taken by the menu
    assert panel.interact(hands(lx=1.0), exp, ff) == []                              # once per push
    panel.interact(hands(), exp, ff)
    assert panel.interact(hands(lx=-1.0), exp, ff) == ["prev_event"]
    assert panel.interact(hands(ly=1.0), exp, ff) == ["turn:smooth"] and ff.turn == "smooth"
    assert panel.interact(hands(trig=1.0), exp, ff) == ["language"] and exp.ui.language == "ru"


def test_vr_comfort_settings_round_trip(tmp_path, monkeypatch):
    from experience.app import settings as st

    monkeypatch.setenv("ASTP_CONFIG_DIR", str(tmp_path))
    s = st.Settings(vr_turn="smooth", vr_snap_deg=45.0, vr_vignette=0.25)
    st.save(s)
    assert st.load() == s
    (tmp_path / "settings.toml").write_text('[vr]\nturn = "sideways"\n', encoding="utf-8")
    said = []
    assert st.load(notice=said.append) == st.Settings() and "turn" in said[0]


def test_no_runtime_is_one_line_with_the_fix(tmp_path):
    env = dict(os.environ, XR_RUNTIME_JSON=str(tmp_path / "missing.json"), XDG_CONFIG_HOME=str(tmp_path),
               ASTP_CONFIG_DIR=str(tmp_path))
    for args in (["vr", "--check"], ["vr", "--frames", "3"]):
        r = subprocess.run([sys.executable, "-m", "experience.frontends.cli", *args], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 2, r.stderr
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
        assert lines[0].startswith("astp: error: XR_RUNTIME_JSON names") and "--fallback desktop" in lines[0]
        assert "setup_monado" in lines[0]


@pytest.mark.window
def test_fallback_desktop_opens_the_viewer_where_vr_cannot_start(xdisplay, tmp_path):
    """No runtime, --fallback desktop: a notice, then the real desktop viewer (its window on Xvfb)
    in the cabin at 19:10, and a normal exit."""
    env = xdisplay.env(XR_RUNTIME_JSON=str(tmp_path / "missing.json"), XDG_CONFIG_HOME=str(tmp_path),
                       ASTP_CONFIG_DIR=str(tmp_path))
    r = subprocess.run([sys.executable, "-m", "experience.frontends.cli", "vr", "--fallback", "desktop", "--frames", "3"],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "VR cannot start" in r.stderr and "opening the desktop viewer instead" in r.stderr
    assert "Traceback" not in r.stderr


# ------------------------------------------------------------------------------------------------
# the real runtime
@pytest.fixture(scope="module")
def monado(xdisplay, tmp_path_factory):
    from tests.xdisplay import skip_or_fail

    if sys.platform != "linux" or os.uname().machine != "x86_64":
        skip_or_fail("headless Monado from Debian's packages needs Linux on x86_64")
    try:
        import xr  # noqa: F401
    except ImportError:
        skip_or_fail("pyopenxr is not installed (pip install 'handshake-in-orbit[vr]')")
    from experience.errors import AstpError
    from experience.xr import monado as mon

    try:
        prefix = mon.ensure_prefix()
    except AstpError as exc:
        skip_or_fail(str(exc))
    svc = mon.MonadoService(prefix, log_path=tmp_path_factory.mktemp("monado") / "service.log")
    svc.start()
    svc.display = xdisplay.display
    svc.config_dir = tmp_path_factory.mktemp("astp-config")
    yield svc
    svc.cleanup()


def _astp(svc, *args, timeout=300, **popen):
    env = svc.client_env(DISPLAY=svc.display, ASTP_CONFIG_DIR=svc.config_dir)
    env.pop("WAYLAND_DISPLAY", None)
    cmd = svc.client_command(["-m", "experience.frontends.cli", *args])
    if popen:
        return subprocess.Popen(cmd, cwd=ROOT, env=env, text=True, **popen)
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.vr
def test_setup_script_is_cached_and_leaves_the_system_apt_alone(monado):
    """A second run of tools/setup_monado.sh is the cache (no download) and the system's apt
    sources and dpkg status are untouched (the recipe's private sources, status and folders)."""
    watched = [Path(p) for p in ("/var/lib/dpkg/status", "/etc/apt/sources.list.d", "/etc/apt/sources.list")
               if Path(p).exists()]
    before = {p: p.stat().st_mtime_ns for p in watched}
    r = subprocess.run(["bash", str(ROOT / "tools" / "setup_monado.sh"), "--prefix", str(monado.prefix)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == str(monado.prefix), r.stderr
    assert "downloading" not in r.stderr and not Path(f"{monado.prefix}.part").exists()   # the cache, as it was
    assert {p: p.stat().st_mtime_ns for p in watched} == before
    for src in Path("/etc/apt").rglob("*"):
        if src.is_file() and src.suffix in (".list", ".sources"):
            assert "trixie" not in src.read_text(errors="replace"), f"{src} names trixie"
    stamp = (monado.prefix / ".complete").read_text().splitlines()
    assert stamp[1].startswith("monado-service 25.") and (monado.prefix / "openxr_monado.json").is_file()


@pytest.mark.vr
def test_check_reports_the_real_runtime(monado):
    r = _astp(monado, "vr", "--check", "--json")
    assert r.returncode == 0, r.stderr[-2000:]
    rep = json.loads(r.stdout)
    assert rep["runtime"]["name"].startswith("Monado") and rep["runtime"]["manifest"].endswith("openxr_monado.json")
    assert rep["system"]["name"] == "Monado: Simulated HMD"
    (vc,) = [v for v in rep["view_configurations"] if v["type"] == "PRIMARY_STEREO"]
    assert len(vc["views"]) == 2 and "OPAQUE" in vc["blend_modes"]
    assert "SRGB8_ALPHA8" in rep["swapchain"]["formats"] and "STAGE" in rep["swapchain"]["reference_spaces"]
    assert "XR_KHR_opengl_enable" in rep["extensions"]
    # hand tracking: Monado lists XR_EXT_hand_tracking, its simulated system tracks no hands
    ht = rep["hand_tracking"]
    assert ht["extension"] and ht["enabled"] and not ht["system_supports"] and not ht["offered"]
    assert "tracks no hands" in ht["why"] and "XR_EXT_hand_tracking" in rep["extensions"]
    text = _astp(monado, "vr", "--check")
    assert text.returncode == 0 and "Monado: Simulated HMD" in text.stdout and "SRGB8_ALPHA8" in text.stdout
    assert "hand tracking    not offered: the runtime lists the extension but its system tracks no hands" in text.stdout
    headless = monado.display
    try:   # no X display: the runtime is still reported, the swapchain formats say why they are unknown
        monado.display = ""
        r = _astp(monado, "vr", "--check", "--json")
    finally:
        monado.display = headless
    assert r.returncode == 0, r.stderr[-2000:]
    rep = json.loads(r.stdout)
    assert rep["system"]["name"] == "Monado: Simulated HMD" and rep["swapchain"]["formats"] == []
    assert "X display" in rep["swapchain"]["why"]


@pytest.mark.vr
def test_session_focused_frames_head_tracking_and_clean_exit(monado, tmp_path):
    png = tmp_path / "left_eye.png"
    r = _astp(monado, "vr", "--frames", str(FRAMES), "--json", "--quality", "low", "--save-eye", str(png), timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    rep = json.loads(r.stdout)
    # lifecycle: every state of a normal session, in order, ending cleanly
    s = rep["states"]
    for a, b in zip(("IDLE", "READY", "SYNCHRONIZED", "VISIBLE", "FOCUSED"), s):
        assert a == b, s
    assert s[-3:] == ["STOPPING", "IDLE", "EXITING"] and rep["lost"] is None and rep["clean_exit"]
    assert rep["reference_space"] == "STAGE" and rep["swapchain_format"] == "SRGB8_ALPHA8"
    assert rep["frames"]["submitted"] == FRAMES
    # Monado's eyes look the same way: every frame drew both eyes in one render (one cull per pass)
    assert rep["cull"]["stereo_frames"] == FRAMES and rep["cull"]["per_eye_frames"] == 0
    assert rep["story_utc"].startswith("1975-07-17T19:1") and rep["camera_mode"] == "cabin"
    assert set(rep["profiles"]["accepted"]) >= {"khr/simple_controller", "oculus/touch_controller"}
    assert rep["actions_synced"] > 0
    # the eye cameras follow the simulated head: its own motion, unchanged in size and angle
    log = rep["head_log"]
    assert len(log) >= 100 and rep["body_offset_m"] == [0.0, 0.0, 0.0]   # nothing pushed or pulled the body
    a, b = log[0], log[-1]
    moved_ref = np.subtract(b["eye_ref"], a["eye_ref"])
    moved_model = np.subtract(b["eye_model"], a["eye_model"])
    assert np.linalg.norm(moved_ref) > 1e-3, "the simulated head did not move"
    assert np.linalg.norm(moved_model) == pytest.approx(np.linalg.norm(moved_ref), abs=1e-6)
    turns = []
    for p, q in zip(log, log[1:]):
        ref = math.acos(min(1.0, float(np.dot(p["head_fwd_ref"], q["head_fwd_ref"]))))
        mod = math.acos(min(1.0, float(np.dot(p["eye_fwd_model"], q["eye_fwd_model"]))))
        assert mod == pytest.approx(ref, abs=2e-3)
        turns.append(ref)
    assert max(turns) > 1e-3, "the simulated head did not turn"
    for entry in log:  # the scene's camera faces where the eye faces (model -> ECI is a rotation)
        basis = np.asarray(entry["eye_basis_eci"])
        assert np.allclose(basis.T @ basis, np.eye(3), atol=1e-9)
    # the picture the runtime got: the lit cabin, not a flat frame
    from PIL import Image

    img = np.asarray(Image.open(png).convert("RGB"), dtype=np.float32)
    assert img.shape == (240, 320, 3)
    assert img.std() > 8.0 and 10.0 < img.mean() < 250.0


@pytest.mark.vr
def test_grab_and_pull_moves_the_visitor(monado):
    """The runtime's own right-controller pose (fixed in the room: Monado's simulated controller),
    plus an injected grip and a 0.3 m motion toward the body: the visitor floats 0.3 m forward
    and the hand stays where it took hold; a haptic pulse marks the grab, and another both hands
    as the story passes the handshake (started 0.2 s before it)."""
    r = _astp(monado, "vr", "--frames", "40", "--json", "--quality", "low", "--at", "1975-07-17T19:18:59.8Z",
              "--posture", "seated", "--movement", "free",
              "--inject", "right:grip=1", "--inject", "right:move=0,0,0.3", "--inject", "left:menu=1",
              "--inject", "right:trigger=1")
    assert r.returncode == 0, r.stderr[-3000:]
    rep = json.loads(r.stdout)
    assert rep["posture"] == "seated" and rep["reference_space"] == "LOCAL"   # seated: LOCAL even where STAGE is offered
    assert rep["input_source"]["right"]["grip"] == "injected"
    # no tracked hands here (Monado's simulated system tracks none): the controllers' poses and actions
    assert rep["hand_tracking"]["runtime"]["enabled"] and not rep["hand_tracking"]["runtime"]["offered"]
    assert rep["hand_tracking"]["joints"] == {"left": "none", "right": "none"}
    assert rep["input_source"]["right"]["pose_ref"] == "runtime + injected motion"
    hands = [h for h in rep["hand_log"] if h["right_model"] is not None]
    assert hands and all("right" in h["grabs"] for h in hands)
    held = np.asarray(hands[0]["right_model"])
    assert max(np.linalg.norm(np.asarray(h["right_model"]) - held) for h in hands) < 1e-6
    assert np.linalg.norm(rep["body_offset_m"]) == pytest.approx(0.3, abs=0.01)
    assert rep["body_offset_m"][1] > 0.25     # forward, into the tunnel
    assert rep["haptics_sent"] >= 1
    # the story passed 19:19:00 during the run: the handshake pulse went to both hands
    assert rep["handshake_pulses"] == 1 and rep["haptics_sent"] >= 3
    # the left menu button (injected) shows the wrist panel, drawn in the eyes at the simulated left hand
    assert rep["wrist_panel"]["visible"] and rep["wrist_panel"]["eyes_drawn"] > 0
    # ... and while it shows, the right trigger (held, injected) switched the language once
    assert rep["wrist_panel"]["actions"] == ["language"] and rep["language"] == "ru"


HAND_PROBE = """
import json
from experience.xr import handtracking as ht
from experience.xr.session import GL_EXTENSION, VrSession
vs = VrSession().open()
xr = vs.xr
out = {"report": vs.hands.report, "trackers": sorted(vs.hands.trackers)}
try:   # the real call, tried: the runtime's answer
    xr.destroy_hand_tracker_ext(ht.create_tracker(xr, vs.session, xr.HandEXT.RIGHT))
    out["create"] = "created"
except xr.exception.XrException as exc:
    out["create"] = type(exc).__name__
# the extension absent (not enabled): no runtime call, no trackers, the reason said
absent = ht.HandTrackers().open(xr, vs.inst, vs.sid, vs.session, [GL_EXTENSION], [GL_EXTENSION])
out["absent"] = {"report": absent.report, "trackers": sorted(absent.trackers)}
n = 0
while vs.stats.submitted < 10 and n < 2000:
    vs.run_frame(lambda i, e: None)
    n += 1
out.update(state=vs.state, submitted=vs.stats.submitted, joints=vs.hand_joints, located=vs.hands.located)
vs.shutdown()
vs.close()
print(json.dumps(out))
"""


@pytest.mark.vr
def test_hand_tracking_through_the_real_runtime_falls_back_to_the_controllers(monado):
    """XR_EXT_hand_tracking against the real Monado: the session enables the extension (Monado
    lists it) and asks the system, which tracks no hands (its simulated devices are controllers),
    so no tracker is made; xrCreateHandTrackerEXT, called anyway, is refused by the runtime with
    XR_ERROR_FEATURE_UNSUPPORTED; with the extension not enabled nothing is called. Frames run
    FOCUSED with no joints, and a visitor's run reports the controllers' grip as the runtime's."""
    env = monado.client_env(DISPLAY=monado.display, ASTP_CONFIG_DIR=monado.config_dir)
    r = subprocess.run(monado.client_command(["-c", HAND_PROBE]), cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["report"]["enabled"] and not out["report"]["system_supports"] and out["trackers"] == []
    assert out["create"] == "FeatureUnsupportedError"
    assert out["absent"] == {"report": {"extension": False, "enabled": False, "system_supports": False,
                                        "offered": False, "why": out["absent"]["report"]["why"]}, "trackers": []}
    assert "does not list" in out["absent"]["report"]["why"]
    assert out["state"] == "FOCUSED" and out["submitted"] == 10
    assert out["joints"] == {"left": None, "right": None} and out["located"] == {"left": 0, "right": 0}


@pytest.mark.vr
def test_runtime_lost_mid_session_is_reported_without_hang(monado):
    from experience.xr import monado as mon

    svc = mon.MonadoService(monado.prefix)
    svc.start()
    try:
        svc.display, svc.config_dir = monado.display, monado.config_dir
        proc = _astp(svc, "vr", "--frames", "100000", "--quality", "low", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 240
        seen = []
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            seen.append(line)
            if "session FOCUSED" in line:
                break
        assert any("session FOCUSED" in ln for ln in seen), "".join(seen)[-2000:]
        time.sleep(1.0)
        svc.stop()
        try:
            _out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            pytest.fail("astp vr hung after the runtime went away")
        assert proc.returncode == 2, err[-2000:]
        assert "Traceback" not in err
        rest = [ln for ln in err.splitlines() if ln.strip()]   # after FOCUSED: one line, the runtime's noise kept off
        assert len(rest) == 1 and rest[0].startswith("astp: error:"), err[-2000:]
        assert "lost" in rest[0] or "shutting down" in rest[0], rest[0]
    finally:
        svc.cleanup()
