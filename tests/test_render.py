"""The rendered pictures show what the geometry says, with numbers read from the images.

Small pictures (320x180) on this headless machine (EGL + llvmpipe). Where the Earth, its limb and
space are is computed here independently of the renderer, by casting each pixel's ray against the
WGS-84 ellipsoid with the camera placement; the spacecraft's silhouette is the difference between
the picture and the same picture without the spacecraft.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("panda3d")
pytest.importorskip("glm")

SIZE = (320, 180)
HANDSHAKE = "1975-07-17T19:19:00Z"
ECLIPSE = "1975-07-17T19:40:00Z"   # the stack is in the Earth's shadow 19:23-19:59 (ephemeris scan)
DAYLIGHT = "1975-07-17T19:00:00Z"  # over the Gulf of Mexico, Sun 71 deg up


@pytest.fixture(scope="module")
def renderer():
    from experience.scene.config import RenderConfig
    from experience.scene.renderer import SceneRenderer

    try:
        r = SceneRenderer(RenderConfig(size=SIZE))
    except Exception as exc:  # pragma: no cover - no OpenGL at all
        pytest.skip(f"no offscreen OpenGL: {exc}")
    yield r
    r.close()


def snap_at(eph, iso):
    from experience.mission.clock import parse_utc
    from experience.simulation.snapshot import snapshot

    return snapshot(eph, eph.clock.t_s(parse_utc(iso)))


def ray_hits_earth(placement, snap, size, extra_km=0.0) -> np.ndarray:
    """(h, w) bool: the pixel's ray meets the ellipsoid grown by extra_km (in front of the camera;
    extra_km must stay below the camera's altitude)."""
    w, h = size
    tx = np.tan(np.radians(placement.fov_deg) / 2.0)
    ty = tx * h / w
    x = ((np.arange(w) + 0.5) / w * 2.0 - 1.0) * tx
    y = (1.0 - (np.arange(h) + 0.5) / h * 2.0) * ty
    xg, yg = np.meshgrid(x, y)
    b = placement.basis
    d = b[:, 0] * xg[..., None] + b[:, 1] + b[:, 2] * yg[..., None]
    eci_to_ecef = np.asarray(snap.ecef_to_eci).T
    a_km, b_km = 6378.137 + extra_km, 6356.752 + extra_km
    s = np.array([1.0, 1.0, a_km / b_km])
    o = (eci_to_ecef @ placement.camera_km) * s
    dd = (d @ eci_to_ecef.T) * s
    qa = (dd * dd).sum(-1)
    qb = 2.0 * (dd @ o)
    qc = o @ o - a_km * a_km
    disc = qb * qb - 4.0 * qa * qc
    t_near = (-qb - np.sqrt(np.maximum(disc, 0.0))) / (2.0 * qa)
    return (disc > 0.0) & (t_near > 0.0)


def render_with_and_without_stack(renderer, snap, view="exterior"):
    img = renderer.render(snap, view)
    placement = renderer.placement
    renderer.vehicles.root.hide()
    try:
        bare = renderer.render(snap, view)
    finally:
        renderer.vehicles.root.show()
    stack = np.abs(img.astype(int) - bare.astype(int)).sum(-1) > 6
    return img, placement, stack


def lum(img):
    return img.astype(float).mean(-1)


def check_not_degenerate(img):
    assert img.shape == (SIZE[1], SIZE[0], 3) and img.dtype == np.uint8
    assert np.isfinite(img.astype(float)).all()
    assert img.max() > 40, "an (almost) black frame"
    assert img.astype(float).std() > 3.0, "an all-one-colour frame"
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 50


# ----------------------------------------------------------------------------------------- tests
def test_handshake_exterior_shows_earth_limb_stack_and_space(eph, renderer):
    from experience.scene import views
    from experience.scene.boundary import RenderFrame, project

    snap = snap_at(eph, HANDSHAKE)
    img, pl, stack = render_with_and_without_stack(renderer, snap)
    check_not_degenerate(img)
    earth = ray_hits_earth(pl, snap, SIZE) & ~stack
    limb = ray_hits_earth(pl, snap, SIZE, 60.0) & ~ray_hits_earth(pl, snap, SIZE, 3.0) & ~stack
    space = ~ray_hits_earth(pl, snap, SIZE, 110.0) & ~stack  # above the top of the atmosphere
    assert earth.mean() > 0.3 and space.mean() > 0.1 and limb.sum() > 100, "the camera should see Earth, limb and space"
    f = img.astype(float)
    # the Earth: lit, and blue and white where the geometry puts it (twilight below the stack)
    e_rgb = f[earth].mean(0)
    assert lum(img)[earth].mean() > 25.0
    assert e_rgb[2] > e_rgb[0], f"the Earth should look blue, mean RGB {e_rgb}"
    assert (f[earth][:, 2] > f[earth][:, 0]).mean() > 0.6
    whiteish = (lum(img) > 100) & (f.max(-1) - f.min(-1) < 60) & earth
    assert whiteish.sum() > 50, "no white (sunlit cloud) pixels on the Earth"
    # the limb: brighter and bluer than space
    l_rgb, s_rgb = f[limb].mean(0), f[space].mean(0)
    assert l_rgb.mean() > s_rgb.mean() + 20.0, (l_rgb, s_rgb)
    assert l_rgb[2] > l_rgb[0] and l_rgb[2] > s_rgb[2] + 25.0
    assert s_rgb.mean() < 12.0, "space should be black but for stars"
    # the spacecraft: a silhouette around where its ends and middle project
    assert 0.01 < stack.mean() < 0.35
    ys, xs = np.nonzero(stack)
    state = snap.vehicles["apollo"]
    frame = RenderFrame(pl.camera_km)
    for p_model in ((0.0, -8.0, 0.0), (0.0, 0.4, 0.0), (0.0, 9.0, 0.0)):  # SM, DM, Soyuz
        px = project(pl.basis, pl.fov_deg, SIZE, frame.to_m(views.model_point_km(state, p_model)))
        assert px is not None
        x, y = int(px[0]), int(px[1])
        window = stack[max(0, y - 3):y + 4, max(0, x - 3):x + 4]
        assert window.any(), f"no spacecraft pixels near the projection of {p_model} at ({x}, {y})"
    assert xs.max() - xs.min() > 0.3 * SIZE[0], "the whole docked stack should span the frame"
    assert lum(img)[stack].mean() > 60.0, "the stack is in sunlight"


def test_eclipse_renders_a_dark_earth_and_a_dim_stack(eph, renderer):
    snap = snap_at(eph, ECLIPSE)
    assert snap.vehicles["apollo"].sunlit_fraction == 0.0
    img, pl, stack = render_with_and_without_stack(renderer, snap)
    earth = ray_hits_earth(pl, snap, SIZE) & ~stack
    assert earth.mean() > 0.3
    e = lum(img)[earth]
    assert 3.0 < e.mean() < 35.0, f"night Earth mean {e.mean():.1f}: dark, but not black"
    assert stack.sum() > 200, "the stack's silhouette is still there"
    assert lum(img)[stack].mean() < 30.0, "the stack is in the Earth's shadow"
    day = snap_at(eph, HANDSHAKE)
    lit_img, _, lit_stack = render_with_and_without_stack(renderer, day)
    assert lum(lit_img)[lit_stack].mean() > 3.0 * lum(img)[stack].mean()
    assert np.isfinite(img.astype(float)).all() and img.astype(float).std() > 1.0


def test_daylight_earth_is_bright_blue_and_white(eph, renderer):
    snap = snap_at(eph, DAYLIGHT)
    img, pl, stack = render_with_and_without_stack(renderer, snap)
    check_not_degenerate(img)
    earth = ray_hits_earth(pl, snap, SIZE) & ~stack
    f = img.astype(float)[earth]
    assert f.mean() > 70.0
    assert (f[:, 2] > f[:, 0] + 10).mean() > 0.2, "ocean blue"
    assert ((f.min(-1) > 150) & (f.max(-1) - f.min(-1) < 50)).mean() > 0.05, "white clouds"


@pytest.mark.parametrize("view", ["window", "handshake"])
def test_other_views_are_real_pictures(eph, renderer, view):
    snap = snap_at(eph, HANDSHAKE)
    img = renderer.render(snap, view)
    check_not_degenerate(img)
    if view == "window":
        corners = np.concatenate([img[:4, :4], img[:4, -4:], img[-4:, :4], img[-4:, -4:]]).astype(float)
        assert corners.mean() < 20.0, "the window frame darkens the corners"
        pl = renderer.placement
        earth = ray_hits_earth(pl, snap, SIZE)
        assert earth.mean() > 0.3, "the window looks toward the Earth"
        centre = img[60:120, 100:220].astype(float)
        assert centre.mean() > 40.0 and centre[..., 2].mean() > centre[..., 0].mean()
    else:
        assert lum(img).mean() > 30.0, "the cabin is lit"


def test_handshake_view_shows_the_crews(eph, renderer):
    """The handshake view: the figures are drawn where the pose table puts them (the two right
    hands in the hatchway, Leonov's head beyond them), in their coverall colours."""
    from experience.scene import views
    from experience.scene.boundary import RenderFrame, project
    from experience.scene.modelgen import crew

    snap = snap_at(eph, HANDSHAKE)
    img = renderer.render(snap, "handshake")
    pl = renderer.placement
    assert renderer.vehicles.crew_shown == "handshake"
    figures, renderer.vehicles.crew = renderer.vehicles.crew, {}
    for node in figures.values():
        node.hide()
    try:
        bare = renderer.render(snap, "handshake")
    finally:
        renderer.vehicles.crew = figures
    f = img.astype(float)
    people = np.abs(f - bare.astype(float)).sum(-1) > 12
    assert 0.1 < people.mean() < 0.8, f"crew pixels: {people.mean():.2f} of the frame"
    state = snap.vehicles["apollo"]
    frame = RenderFrame(pl.camera_km)
    joints = crew.world_joints("handshake")
    hands = 0.5 * (joints["stafford"]["hand_r"][:3, 3] + joints["leonov"]["hand_r"][:3, 3])
    for what, p_model in (("the handshake", hands), ("Leonov's head", joints["leonov"]["head"][:3, 3]),
                          ("Stafford's head", joints["stafford"]["head"][:3, 3])):
        px = project(pl.basis, pl.fov_deg, SIZE, frame.to_m(views.model_point_km(state, p_model)))
        assert px is not None, what
        x, y = int(px[0]), int(px[1])
        assert people[max(0, y - 3):y + 4, max(0, x - 3):x + 4].mean() > 0.5, f"no figure at {what} ({x}, {y})"
    # coveralls (blue against the grey cabin) and skin (faces, hands) where the figures are
    blue = people & (f[..., 2] > f[..., 0] + 30)
    skin = people & (f[..., 0] > f[..., 2] + 25)
    assert blue.sum() > 0.05 * people.size, "no coverall-blue pixels"
    assert skin.sum() > 50, "no skin-coloured pixels (faces and hands)"
    light, dark = blue & (f.mean(-1) > 110), blue & (f.mean(-1) < 70)
    assert light.sum() > 300 and dark.sum() > 100, "both crews' coveralls (light blue Apollo, dark blue Soyuz)"


def test_same_arguments_same_picture(eph, renderer):
    from experience.scene.config import RenderConfig
    from experience.scene.renderer import SceneRenderer

    snap = snap_at(eph, HANDSHAKE)
    a = renderer.render(snap, "exterior")
    b = renderer.render(snap, "exterior")
    assert np.array_equal(a, b)
    with SceneRenderer(RenderConfig(size=SIZE)) as other:
        c = other.render(snap, "exterior")
    assert np.array_equal(a, c), "a fresh renderer gives the same bytes"


def test_placeholder_spacecraft_when_models_are_missing(eph, tmp_path, monkeypatch, capsys):
    from experience.scene import vehicles
    from experience.scene.config import RenderConfig
    from experience.scene.renderer import SceneRenderer

    monkeypatch.setattr(vehicles, "models_dir", lambda: tmp_path)
    monkeypatch.setattr(vehicles, "_LOADED", {})
    monkeypatch.setattr(vehicles, "_PLACEHOLDER_NOTICE", [False])
    snap = snap_at(eph, HANDSHAKE)
    with SceneRenderer(RenderConfig(size=SIZE)) as r:
        assert r.vehicles.placeholder_used >= {"stack", "soyuz"}
        img, pl, stack = render_with_and_without_stack(r, snap)
    assert "PLACEHOLDER" in capsys.readouterr().err
    ys, xs = np.nonzero(stack)
    assert stack.mean() > 0.01 and xs.max() - xs.min() > 0.3 * SIZE[0], "placeholders at true size"


def test_boundary_keeps_millimetres_at_orbital_radius():
    from experience.scene import boundary

    cam = np.array([-2586.3322123456, -3595.5359876543, 4891.8669012345])
    frame = boundary.RenderFrame(cam)
    p = cam + np.array([0.000001, -0.0000025, 0.0120004])  # 1 mm, -2.5 mm, 12.0004 m
    m = frame.to_m(p)
    assert m.dtype == np.float32
    assert np.allclose(m, [0.001, -0.0025, 12.0004], atol=2e-6)
    mat = frame.model_matrix(p, np.eye(3))
    assert abs(mat.getRow3(3)[2] - 12.0004) < 2e-6  # Panda3D row vectors: translation in row 3
    # a naive float32 subtraction at 6,600 km would lose it
    naive = (p.astype(np.float32) - cam.astype(np.float32)) * 1000.0
    assert np.abs(naive - [0.001, -0.0025, 12.0004]).max() > 1e-3


def test_render_still_validates_and_writes(eph, tmp_path):
    from experience.errors import AstpError
    from experience.scene.renderer import render_still

    snap = snap_at(eph, HANDSHAKE)
    with pytest.raises(AstpError, match="unknown view"):
        render_still(snap, "cockpit", SIZE)
    for bad in ((0, 0), (9000, 100), (-5, 10)):
        with pytest.raises(AstpError, match="size"):
            render_still(snap, "exterior", bad)
    with pytest.raises(AstpError, match="does not exist"):
        render_still(snap, "exterior", SIZE, tmp_path / "nope" / "x.png")
    out = tmp_path / "x.png"
    img = render_still(snap, "exterior", SIZE, out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    assert np.array_equal(np.asarray(Image.open(out).convert("RGB")), img)


def test_config_errors_name_the_fix():
    from experience.errors import AstpError
    from experience.scene.config import RenderConfig, parse_size

    assert parse_size("1280x720") == (1280, 720)
    for text in ("abcx12", "0x0", "70000x100", "12", "1280*720"):
        with pytest.raises(AstpError) as err:
            parse_size(text)
        assert "WIDTHxHEIGHT" in str(err.value) or "pixels" in str(err.value)
    with pytest.raises(AstpError, match="exposure"):
        RenderConfig(exposure=-1.0)
    with pytest.raises(AstpError, match="unknown view"):
        RenderConfig(view="inside")


# ----------------------------------------------------------------------------------- command line
def astp(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "experience.frontends.cli", *args], capture_output=True,
                          text=True, env=dict(os.environ), cwd=cwd, timeout=300)


@pytest.mark.parametrize("args, needle", [
    (["--view", "cockpit"], "unknown view"),
    (["--size", "abcx12"], "bad size"),
    (["--size", "0x0"], "bad size"),
    (["--size", "10000x10000"], "largest is 8192x8192"),
    (["--size", "20000x20000"], "largest is 8192x8192"),
    (["-o", "/no/such/folder/x.png"], "does not exist"),
    (["-o", "picture.jpg"], ".png"),
])
def test_cli_errors_are_one_line_exit_2(args, needle, tmp_path):
    argv = ["render", "--at", HANDSHAKE, *args]
    if "-o" not in args:
        argv += ["-o", str(tmp_path / "x.png")]
    proc = astp(*argv)
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("astp: error:") and needle in lines[0], proc.stderr
    assert not (tmp_path / "x.png").exists()


def test_cli_render_at_and_events(tmp_path):
    out = tmp_path / "hs.png"
    proc = astp("render", "--at", HANDSHAKE, "--view", "exterior", "--size", "320x180", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    proc = astp("render", "--events", str(tmp_path / "events"), "--size", "64x36")
    assert proc.returncode == 0, proc.stderr
    names = {p.stem for p in (tmp_path / "events").glob("*.png")}
    assert {"docking_1", "handshake", "undocking_2"} <= names
    assert "soyuz_launch" not in names and "apollo_splashdown" not in names  # on the ground


def test_the_docking_is_replayed_with_the_guide_ring_extended(eph, renderer):
    """Just before capture (16:09:08) Apollo with its Docking Module and Soyuz are drawn apart,
    Soyuz where the docking simulation puts it, and the DM's guide ring stands extended ~0.3 m
    along the docking axis (model +Y); once hard docked the stack is one model again."""
    snap = snap_at(eph, "1975-07-17T16:09:08Z")
    assert snap.docking is not None
    img = renderer.render(snap, "exterior")
    check_not_degenerate(img)
    v = renderer.vehicles
    assert [k for k, _ in v.configuration(snap)] == ["apollo_dm", "soyuz"]
    assert v.ring is not None
    moved = v.ring_matrix(snap.docking)[:3, 3] - v.ring_rest[:3, 3]
    assert moved[1] == pytest.approx(0.3, abs=0.02)
    assert np.hypot(moved[0], moved[2]) < 0.03
    later = snap_at(eph, "1975-07-17T16:12:00Z")
    assert later.docking is None and [k for k, _ in v.configuration(later)] == ["stack"]


def test_earthshine_lookup_matches_the_quadrature():
    """The per-frame earthshine factor is interpolated on a grid (scene/vehicles.py): within 2e-4
    of the quadrature it stands for, from noon to past the terminator, at orbital distances."""
    import math

    from experience.scene.vehicles import _mean_cos_memo, visible_earth_mean_cos

    rng = np.random.default_rng(3)
    for c, d in zip(rng.uniform(-1.0, 1.0, 200), rng.uniform(6500.0, 6800.0, 200)):
        s = math.sqrt(1.0 - c * c)
        ref = visible_earth_mean_cos(np.array([0.0, 0.0, 1.0]), np.array([s, 0.0, c]), d)
        assert abs(_mean_cos_memo(float(c), float(d)) - ref) < 2e-4


def test_per_frame_shader_inputs_are_written_in_place(renderer):
    """boundary.Uniforms binds each input once and writes its memory: what the shader reads is
    what was set last, a 3x3 in to_panda3's meaning, and later frames add no render state."""
    from panda3d.core import NodePath

    from experience.scene.boundary import Uniforms, to_panda3

    a, b = NodePath("a"), NodePath("b")
    u = Uniforms(a)
    u.set("u_v", (1.0, 2.0, 3.0))
    m = np.arange(9.0).reshape(3, 3)
    u.set("u_m", m)
    u.attach(b)
    state = a.get_state()
    u.set("u_v", np.array([4.0, 5.0, 6.0]))
    u.set("u_m", m * 2)
    assert a.get_state() == state  # nothing rebound
    assert np.array_equal(u.value("u_v"), [4.0, 5.0, 6.0])
    assert b.get_shader_input("u_m").get_value_type() == a.get_shader_input("u_m").get_value_type()
    assert np.array_equal(u.value("u_m"), m * 2)
    # the memory the GSG uploads: to_panda3's LMatrix4f (ShaderAttrib.get_shader_input_matrix
    # misreads a PTA's first rows in Panda3D 1.10.16, so the array itself is read)
    held = np.asarray(memoryview(u._views["u_m"][0])).reshape(4, 4)
    assert np.array_equal(held, np.array(to_panda3(m * 2), dtype=np.float32))
