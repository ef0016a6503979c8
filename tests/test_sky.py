"""The sky (experience/scene/sky.py): star file, shaders, and offscreen renders through EGL.

Renders are written to /tmp/sky_*.png for a look. Snapshots are synthetic
(``types.SimpleNamespace`` with the attributes the sky reads), so the geometry is known exactly.
"""

from __future__ import annotations

import types

import numpy as np
import pytest

from experience.scene import sky as sky_mod

OWNED_SHADERS = ("stars", "moon", "sun")
HIP_SIRIUS, HIP_BETELGEUSE, HIP_RIGEL = 32349, 27989, 24436


def radec_unit(ra_h: float, dec_deg: float) -> np.ndarray:
    ra, dec = np.radians(ra_h * 15.0), np.radians(dec_deg)
    return np.array([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)])


def pts_of(rig, m, v_j2000):
    return rig.project(m @ np.asarray(v_j2000, dtype=float) * 1e8)


def rot_z(deg: float) -> np.ndarray:
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def perpendicular(d: np.ndarray, angle_deg: float, toward=(0.0, 0.0, 1.0)) -> np.ndarray:
    """Unit vector at ``angle_deg`` from ``d``, turned toward ``toward``."""
    d = d / np.linalg.norm(d)
    t = np.asarray(toward, dtype=float)
    t = t - d * (t @ d)
    t /= np.linalg.norm(t)
    a = np.radians(angle_deg)
    return np.cos(a) * d + np.sin(a) * t


def snapshot(*, moon_dir=None, sun_dir=None, camera_km=np.zeros(3), j2000_to_eci=np.eye(3), moon_dist_km=384_400.0,
             illuminated=0.5):
    moon_dir = radec_unit(18.0, -23.0) if moon_dir is None else np.asarray(moon_dir, float)
    sun_dir = radec_unit(6.0, 23.0) if sun_dir is None else np.asarray(sun_dir, float)
    return types.SimpleNamespace(
        j2000_to_eci=np.asarray(j2000_to_eci, float),
        sun_unit_eci=sun_dir / np.linalg.norm(sun_dir),
        sun_dist_km=1.5207e8,  # mid-July, near aphelion
        moon_pos_km=np.asarray(camera_km, float) + moon_dir / np.linalg.norm(moon_dir) * moon_dist_km,
        moon_illuminated_fraction=illuminated,
    )


# ------------------------------------------------------------------------------------------------
# (4) the star file


def test_star_file_round_trips():
    path = sky_mod.STAR_FILE
    assert path.exists() and path.stat().st_size < 1_000_000, "the committed star file must stay under 1 MB"
    cat = sky_mod.load_star_catalog()
    assert "I/311" in cat.meta
    assert cat.xyz_j2000.dtype == np.float32 and cat.xyz_j2000.shape == (len(cat), 3)
    np.testing.assert_allclose(np.linalg.norm(cat.xyz_j2000.astype(float), axis=1), 1.0, atol=1e-6)
    assert np.all(np.diff(cat.hp_mag) >= 0), "brightest first"
    assert cat.hip[int(np.argmin(cat.hp_mag))] == HIP_SIRIUS, "Sirius is the brightest star"
    n65 = int((cat.hp_mag <= 6.5).sum())
    # 7,982 stars with Hp <= 6.5 (Hp runs a little fainter than V, hence just under the ~8,000 of V)
    assert 7_900 <= n65 <= 9_500, n65
    assert len(sky_mod.load_star_catalog(limit_mag=6.5)) == n65
    # Sirius at J2000 (SIMBAD: 06h45m08.917s -16d42m58.02s), after proper motion from J1991.25
    v = cat.xyz_j2000[cat.index_of(HIP_SIRIUS)].astype(float)
    expect = radec_unit((6 + 45 / 60 + 8.917 / 3600), -(16 + 42 / 60 + 58.02 / 3600))
    assert np.degrees(2 * np.arcsin(np.linalg.norm(v - expect) / 2)) * 3600 < 0.5  # arcsec


def test_star_colours_follow_b_v():
    cat = sky_mod.load_star_catalog()
    rgb = sky_mod.star_colors(cat.b_v)
    lum = rgb @ np.array([0.2126, 0.7152, 0.0722])
    np.testing.assert_allclose(lum, 1.0, atol=1e-4)  # colour carries no brightness
    bet, rig = rgb[cat.index_of(HIP_BETELGEUSE)], rgb[cat.index_of(HIP_RIGEL)]
    assert bet[0] > bet[2] * 1.5, f"Betelgeuse (B-V 1.5) should be orange: {bet}"
    assert rig[2] > rig[0], f"Rigel (B-V -0.03) should be bluish white: {rig}"
    assert 5600 < sky_mod.bv_to_temperature_k(0.65) < 6000  # the Sun's B-V


# ------------------------------------------------------------------------------------------------
# offscreen rendering


@pytest.fixture(scope="module")
def rig():
    pytest.importorskip("panda3d")
    from tests.sky_offscreen import OffscreenRig

    try:
        r = OffscreenRig(size=(640, 480), fov_x_deg=60.0)
    except RuntimeError as exc:  # no EGL on this machine
        pytest.skip(f"no offscreen OpenGL: {exc}")
    yield r
    r.close()


@pytest.fixture()
def notify_lines():
    """Everything Panda3D's notify prints while the test runs (compile errors included)."""
    from panda3d.core import LineStream, Notify

    stream = LineStream()
    previous = Notify.ptr().get_ostream_ptr()
    Notify.ptr().set_ostream_ptr(stream, False)
    lines: list[str] = []

    def read():
        while stream.is_text_available():
            lines.append(stream.get_line())
        return lines

    yield read
    Notify.ptr().set_ostream_ptr(previous, False)


@pytest.fixture()
def make_sky(rig):
    made = []

    def make(**kw):
        s = sky_mod.Sky(rig.far_root, **kw)
        made.append(s)
        return s

    yield make
    for s in made:
        s.remove()


def set_fov(rig, fov_x_deg: float) -> None:
    w, h = rig.size
    rig.lens.set_fov(fov_x_deg, np.degrees(2 * np.arctan(np.tan(np.radians(fov_x_deg) / 2) * h / w)))


def save(rig, img, name):
    rig.save(img, f"/tmp/sky_{name}.png")


def luminance(img):
    return img.astype(float) @ np.array([0.2126, 0.7152, 0.0722])


# (1) every shader compiles, links and draws ---------------------------------------------------


@pytest.mark.parametrize("name", OWNED_SHADERS)
def test_shader_compiles_links_and_draws(rig, make_sky, notify_lines, name):
    from panda3d.core import ShaderAttrib

    for ext in ("vert", "frag"):
        assert (sky_mod.SHADER_DIR / f"{name}.{ext}").read_text().lstrip().startswith("#version 330")
    sky = make_sky()
    moon_dir = radec_unit(18.0, -23.0)
    snap = snapshot(moon_dir=moon_dir, sun_dir=perpendicular(moon_dir, 60.0))
    sky.update(snap, np.zeros(3))
    node = {"stars": sky.stars, "moon": sky.moon, "sun": sky.sun_disc}[name]
    shader = node.get_attrib(ShaderAttrib).get_shader()
    # look at the object the shader draws; hide the others so the pixels are its own
    others = [n for n in (sky.stars, sky.moon, sky.sun) if not (n == node or n.is_ancestor_of(node))]
    for n in others:
        n.hide()
    set_fov(rig, 60.0 if name != "moon" else 2.0)
    rig.look({"stars": radec_unit(5.5, 0.0), "moon": moon_dir, "sun": sky.sun_dir_eci}[name])
    img = rig.render()
    save(rig, img, f"shader_{name}")
    errors = [ln for ln in notify_lines() if "error" in ln.lower() or "GLSL" in ln]
    assert not shader.get_error_flag(), f"{name}: shader failed: {errors}"
    assert not errors, errors
    assert img.max() > 60, f"{name}: nothing bright drawn"


def test_compile_check_catches_a_broken_shader(rig, notify_lines):
    """The check above can fail: a broken fragment shader sets the error flag and logs the error."""
    from panda3d.core import CardMaker, Shader

    vert = (sky_mod.SHADER_DIR / "sun.vert").read_text()
    bad = "#version 330\nout vec4 c;\nvoid main() { c = vec4(1.0) + not_declared; }\n"
    cm = CardMaker("bad")
    cm.set_frame(-1, 1, -1, 1)
    card = rig.far_root.attach_new_node(cm.generate())
    try:
        card.set_pos(0, 5e3, 0)
        card.set_scale(1e3)
        shader = Shader.make(Shader.SL_GLSL, vert, bad)
        card.set_shader(shader)
        set_fov(rig, 60.0)
        rig.look((0.0, 1.0, 0.0))
        rig.render()
        assert shader.get_error_flag()
        assert any("not_declared" in ln for ln in notify_lines())
    finally:
        card.remove_node()


def test_draw_calls(make_sky):
    from panda3d.core import GeomPoints

    sky = make_sky(star_limit_mag=6.5)
    geoms = [(gn, gn.node().get_num_geoms()) for gn in sky.root.find_all_matches("**/+GeomNode")]
    assert sum(n for _, n in geoms) == sky_mod.Sky.DRAW_CALLS == 4
    star_geom = sky.stars.node().get_geom(0)
    assert star_geom.get_num_primitives() == 1 and isinstance(star_geom.get_primitive(0), GeomPoints)
    assert star_geom.get_vertex_data().get_num_rows() == sky.star_count == 7982


# (2) Orion -----------------------------------------------------------------------------------


def test_orion_shows_betelgeuse_and_rigel(rig, make_sky, notify_lines):
    sky = make_sky()
    m = rot_z(30.0)  # a J2000 -> ECI rotation that is not the identity: v_eci = M v_j2000
    # Moon and Sun far from Orion
    sky.update(snapshot(j2000_to_eci=m, moon_dir=radec_unit(18.0, -23.0), sun_dir=radec_unit(16.0, -10.0)), np.zeros(3))
    set_fov(rig, 40.0)
    rig.look(m @ radec_unit(5.5, 0.0))
    img = rig.render()
    save(rig, img, "orion")
    assert not notify_lines(), notify_lines()
    lum = luminance(img)
    cat = sky.catalog
    for hip, name in ((HIP_BETELGEUSE, "Betelgeuse"), (HIP_RIGEL, "Rigel")):
        px = rig.project(m @ cat.xyz_j2000[cat.index_of(hip)].astype(float) * 1e8)
        assert px is not None, f"{name} outside the view"
        x, y = int(round(px[0])), int(round(px[1]))
        patch = lum[y - 2:y + 3, x - 2:x + 3]
        assert patch.max() > 200, f"{name} not bright at ({x}, {y}): max {patch.max():.0f}"
    # an empty patch (no catalogue star within it) is black
    h, w = lum.shape
    pts = np.array([p for p in (rig.project(m @ v.astype(float) * 1e8) for v in cat.xyz_j2000) if p is not None])
    rng = np.random.default_rng(1975)
    for _ in range(200):
        x0, y0 = int(rng.integers(20, w - 40)), int(rng.integers(20, h - 40))
        inside = (pts[:, 0] > x0 - 4) & (pts[:, 0] < x0 + 24) & (pts[:, 1] > y0 - 4) & (pts[:, 1] < y0 + 24)
        if not inside.any():
            break
    else:
        pytest.fail("no empty patch found")
    assert lum[y0:y0 + 20, x0:x0 + 20].max() < 2.0
    # the magnitude mapping: isolated stars of Hp 6.0-6.5 are dim pixels (linear ~0.01, display ~0.13)
    vis = np.array([rig.project(m @ v.astype(float) * 1e8) is not None for v in cat.xyz_j2000])
    faint = np.nonzero(vis & (cat.hp_mag > 6.0) & (cat.hp_mag <= 6.5))[0]
    checked = 0
    for i in faint:
        x, y = pts_of(rig, m, cat.xyz_j2000[i])
        if not (5 < x < w - 5 and 5 < y < h - 5):
            continue
        if (np.hypot(pts[:, 0] - x, pts[:, 1] - y) < 4).sum() > 1:
            continue  # a neighbour within 4 px
        peak = lum[int(y) - 1:int(y) + 2, int(x) - 1:int(x) + 2].max()
        assert 12 < peak < 80, (int(cat.hip[i]), float(cat.hp_mag[i]), peak)
        checked += 1
    assert checked >= 10


def test_exposure_dims_the_stars(rig, make_sky):
    sky = make_sky(exposure=0.05)
    sky.update(snapshot(moon_dir=radec_unit(18.0, -23.0), sun_dir=radec_unit(16.0, -10.0)), np.zeros(3))
    set_fov(rig, 40.0)
    rig.look(radec_unit(5.5, 0.0))
    dim = luminance(rig.render())
    sky.set_exposure(1.0)
    bright = luminance(rig.render())
    assert dim.sum() < 0.3 * bright.sum()
    assert (dim > 20).sum() < (bright > 20).sum()


# (3) the Moon's phase --------------------------------------------------------------------------


def _moon_view(rig, sky, snap, camera_km, name):
    sky.update(snap, camera_km)
    moon_rel_m = sky.moon_rel_m
    set_fov(rig, 1.2)
    rig.look(moon_rel_m)
    img = rig.render()
    save(rig, img, name)
    lum = luminance(img)
    cx, cy = rig.project(moon_rel_m)
    edge = rig.project(moon_rel_m + perpendicular(moon_rel_m, 90.0) * np.linalg.norm(moon_rel_m) * np.tan(sky.moon_angular_radius_rad))
    r_px = float(np.hypot(edge[0] - cx, edge[1] - cy))
    # image direction toward the Sun
    sx, sy = rig.project(moon_rel_m + sky.sun_dir_eci * 1e6)
    toward = np.array([sx - cx, sy - cy])
    toward /= np.linalg.norm(toward)
    yy, xx = np.mgrid[0:lum.shape[0], 0:lum.shape[1]]
    dx, dy = xx + 0.5 - cx, yy + 0.5 - cy
    disc = np.hypot(dx, dy) < r_px - 1.5
    return lum, disc, dx * toward[0] + dy * toward[1], r_px


def test_moon_lit_half_faces_the_sun(rig, make_sky):
    sky = make_sky()
    camera_km = np.array([6778.0, 0.0, 0.0])  # in low orbit: the Moon's direction from here
    moon_dir = radec_unit(20.0, -20.0)
    sun_dir = perpendicular(moon_dir, 90.0, toward=(1.0, 0.3, 0.2))
    lum, disc, along, r_px = _moon_view(rig, sky, snapshot(moon_dir=moon_dir, sun_dir=sun_dir, camera_km=camera_km),
                                        camera_km, "moon_quarter")
    assert 40 < r_px < 400, r_px  # 0.52 deg across in a 1.2 deg view
    sunward = lum[disc & (along > 0)].mean()
    away = lum[disc & (along < 0)].mean()
    assert sunward > 40 and away < 5, (sunward, away)
    assert sunward > 10 * away


@pytest.mark.parametrize("elongation_deg", [60.0, 120.0])
def test_moon_lit_fraction_matches_the_phase(rig, make_sky, elongation_deg):
    sky = make_sky()
    camera_km = np.zeros(3)
    moon_dir = radec_unit(20.0, -20.0)
    sun_dir = perpendicular(moon_dir, elongation_deg, toward=(-1.0, 0.2, 0.5))
    snap = snapshot(moon_dir=moon_dir, sun_dir=sun_dir, camera_km=camera_km)
    # the phase angle at the Moon, and the illuminated fraction of the disc
    moon_km = snap.moon_pos_km
    to_sun = snap.sun_unit_eci * snap.sun_dist_km - moon_km
    to_cam = camera_km - moon_km
    phase = np.arccos(to_sun @ to_cam / np.linalg.norm(to_sun) / np.linalg.norm(to_cam))
    snap.moon_illuminated_fraction = (1.0 + np.cos(phase)) / 2.0
    lum, disc, along, _ = _moon_view(rig, sky, snap, camera_km, f"moon_elong{int(elongation_deg)}")
    lit = (lum > 8.0) & disc
    fraction = lit.sum() / disc.sum()
    assert abs(fraction - snap.moon_illuminated_fraction) < 0.05, (fraction, snap.moon_illuminated_fraction)
    assert lum[disc & (along > 0)].mean() > lum[disc & (along < 0)].mean()


# the Sun ------------------------------------------------------------------------------------------


def test_sun_disc_size_and_glare(rig, make_sky):
    sky = make_sky()
    sun_dir = radec_unit(7.6, 21.5)  # mid-July
    sky.update(snapshot(sun_dir=sun_dir, moon_dir=radec_unit(18.0, -23.0)), np.array([0.0, 6778.0, 0.0]))
    set_fov(rig, 3.0)
    rig.look(sky.sun_dir_eci)
    img = rig.render()
    save(rig, img, "sun_close")
    w = rig.size[0]
    px_per_rad = w / 2 / np.tan(np.radians(1.5))
    saturated = (img.min(axis=2) >= 250).sum()
    diameter_deg = np.degrees(2 * np.sqrt(saturated / np.pi) / px_per_rad)
    assert abs(diameter_deg - 0.524) < 0.03, diameter_deg  # 2 asin(695,700 km / 1.5207e8 km)
    lum = luminance(img)
    cx, cy = rig.project(sky.sun_dir_eci * 1e8)
    r_px = np.radians(0.262) * px_per_rad
    ring = lum[int(cy), int(cx + 2.0 * r_px)]
    assert 40 < ring < 250, f"no soft glare at 2 solar radii: {ring}"
    # a wide view: glare fades out, the rest of the sky is dark
    set_fov(rig, 60.0)
    img = rig.render()
    save(rig, img, "sun_wide")
    lum = luminance(img)
    cx, cy = rig.project(sky.sun_dir_eci * 1e8)
    assert lum[int(cy) - 1:int(cy) + 2, int(cx) - 1:int(cx) + 2].min() > 250
    px_per_deg = rig.size[0] / 2 / np.tan(np.radians(30.0)) * np.radians(1.0)
    assert lum[int(cy), int(cx + 2 * px_per_deg)] > lum[int(cy), int(cx + 6 * px_per_deg)] + 5
    assert lum[int(cy), min(int(cx + 12 * px_per_deg), w - 1)] < 3


def test_linear_output_mode(rig, make_sky):
    """display_gamma = 0: unclamped linear radiance for a renderer that tone-maps afterwards."""
    sky = make_sky()
    moon_dir = radec_unit(20.0, -20.0)
    sky.update(snapshot(moon_dir=moon_dir, sun_dir=perpendicular(moon_dir, 179.0)), np.zeros(3))
    sky.set_output(display_gamma=0.0, radiance_scale=1.0)
    set_fov(rig, 1.2)
    rig.look(sky.moon_rel_m)
    lin = rig.render()
    sky.set_output()
    disp = rig.render()
    # albedo ~0.12 at full Moon: linear ~ 0.12 x 255 = 31, display ~ 0.12^(1/2.2) x 255 = 97
    c = (lin.shape[0] // 2, lin.shape[1] // 2)
    assert 15 < lin[c][0] < 50 and 70 < disp[c][0] < 130, (lin[c], disp[c])
