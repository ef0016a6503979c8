"""The sky of the FAR render pass: stars, the Moon and the Sun, drawn from a snapshot.

:class:`Sky` hangs its nodes under a NodePath of the FAR pass: a scene in metres whose origin is the
camera and whose axes are the ECI axes (the renderer core turns the camera). It computes nothing
physical: every direction comes from the :class:`~experience.simulation.snapshot.Snapshot`.

Draw calls: 4 (stars 1, Moon 1, Sun disc 1, Sun glare 1). Per frame :meth:`Sky.update` sets three
node matrices and a few shader inputs; there is no per-star Python work after construction.

Depth: every sky vertex is pushed onto the far plane in its vertex shader (``z = 0.999998 w``), the
nodes never write depth and test with ``less_equal``, and they have infinite bounds (Panda3D's
frustum culling misjudges nodes beyond ~1e7 m with a 1 km / 1e9 m lens). So the sky shows behind
anything drawn in the pass, whatever the lens's near/far and whichever is drawn first. The nodes
sit in the ``background`` bin (stars 0, Moon 1, Sun disc 2, glare 3): the Moon's opaque disc hides
the stars behind it, the Sun adds on top.

Brightness (all shaders): linear values in units where a white Lambertian card facing the Sun is
1.0, times ``exposure``; then either a display encoding (the default: colours over 1.0 bleach
toward white, then ``clamp(x)^(1/2.2)``), or, with :meth:`Sky.set_output` ``(display_gamma=0)``,
unclamped linear radiance (times ``radiance_scale``) for a renderer that tone-maps afterwards.

- Stars (J2000 unit vectors rotated by ``snapshot.j2000_to_eci``; v_eci = M @ v_j2000): linear
  flux ``10^(-0.4 (Hp - 2.0))`` clamped at 1, so at exposure 1 stars brighter than Hp 2.0 saturate
  and a magnitude 6.5 star is 0.016 (display value 0.15, i.e. 39/255). Saturated stars are drawn
  as 3 px points whose ring carries ``0.08 (flux - 1)`` (edge pixels; corners ~40 % of it), the
  rest as 1 px points; the core pixel always carries the star's own flux.
  Colour: B-V -> effective temperature by Ballesteros (2012, EPL 97, 34008),
  ``T = 4600 K (1/(0.92 BV + 1.7) + 1/(0.92 BV + 0.62))``, then the Planck spectrum at T integrated
  against the CIE 1931 2-degree colour-matching functions (the analytic fit of Wyman, Sloan &
  Shirley 2013) -> XYZ -> linear sRGB, scaled to luminance 1 and desaturated 30 % toward white
  (faint star colours look paler to the eye than their black-body chromaticity).
- Moon: a sphere of radius 1,737.4 km at ``moon_pos_km - camera_eci_km`` (true distance and so true
  apparent size from the camera, parallax included), near side toward the Earth's centre, lunar
  north toward the ecliptic pole (libration, +-7 deg, ignored). Lambert shading toward the Sun as
  seen from the Moon (``sun_unit_eci * sun_dist_km - moon_pos_km``), albedo 0.14 highlands /
  0.07 maria (mean ~0.12) with the large near-side maria at their approximate places, and an
  earthshine floor of 5e-4 of full sunlight.
- Sun: a disc of the true apparent radius ``asin(695,700 km / sun_dist_km)`` (0.524 deg diameter in
  July), linearly limb-darkened (u = 0.6), radiance pi / solid angle ~ 46,000 (white card = 1), and
  a glare sprite ``(1 + (r / R_sun)^2)^-1.2 exp(-theta / 3 deg)`` out to 10 deg, fading at its edge
  (0.44 at the limb: below saturation, so the saturated disc keeps the true apparent size).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from experience.paths import repo_root
from experience.vec import cross3

STAR_FILE = repo_root() / "data" / "stars" / "hipparcos_v7.npz"
SHADER_DIR = repo_root() / "shaders"

STAR_RADIUS_M = 5.0e8          # stars on a sphere inside a 1e9 m far plane (the shader pins them to it anyway)
SUN_DISTANCE_M = 4.5e8         # the Sun's quads, at its true direction, scaled to stay angularly exact
MOON_RADIUS_KM = 1737.4
SUN_RADIUS_KM = 695_700.0      # IAU 2015 nominal
AU_KM = 149_597_870.7
OBLIQUITY_RAD = np.radians(23.4393)  # ecliptic pole for the Moon's orientation (0.01 deg over 1975-2000: irrelevant here)

STAR_MAG_WHITE = 2.0           # magnitude shown at linear 1.0 at exposure 1
STAR_MAX_POINT_PX = 3.0
STAR_HALO_GAIN = 0.08
STAR_SATURATION = 0.7          # 1 = full black-body chromaticity, 0 = white
MOON_ALBEDO_HIGHLANDS = 0.14
MOON_ALBEDO_MARIA = 0.07
MOON_EARTHSHINE = 5e-4
SUN_GLARE_GAIN = 1.0
SUN_GLARE_CORE_RADII = 1.0
SUN_GLARE_EFOLD_RAD = np.radians(3.0)
SUN_GLARE_EXTENT_RAD = np.radians(10.0)
SUN_GLARE_COLOR = (1.0, 0.93, 0.82)
DISPLAY_GAMMA = 2.2

BIN_STARS, BIN_MOON, BIN_SUN_DISC, BIN_SUN_GLARE = 0, 1, 2, 3


# --------------------------------------------------------------------------------------------
# The star catalogue (data/stars/hipparcos_v7.npz, built by tools/build_stars.py)


@dataclasses.dataclass(frozen=True)
class StarCatalog:
    hip: np.ndarray        # (n,) int32 Hipparcos numbers
    xyz_j2000: np.ndarray  # (n, 3) float32 unit vectors, J2000 (ICRS), epoch J2000.0
    hp_mag: np.ndarray     # (n,) float32 Hipparcos magnitude Hp
    b_v: np.ndarray        # (n,) float32 B-V colour index
    meta: str

    def __len__(self) -> int:
        return int(self.hip.shape[0])

    def select(self, limit_mag: float) -> "StarCatalog":
        keep = self.hp_mag <= limit_mag
        return StarCatalog(self.hip[keep], self.xyz_j2000[keep], self.hp_mag[keep], self.b_v[keep], self.meta)

    def index_of(self, hip: int) -> int:
        found = np.nonzero(self.hip == hip)[0]
        if found.size == 0:
            raise KeyError(f"HIP {hip} is not in the star file")
        return int(found[0])


def load_star_catalog(path: Path | str = STAR_FILE, limit_mag: float | None = None) -> StarCatalog:
    """The project's star file (brightest first); ``limit_mag`` keeps the stars with Hp <= it."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"star file {path} is missing; rebuild it with tools/build_stars.py")
    with np.load(path, allow_pickle=False) as z:
        cat = StarCatalog(
            hip=z["hip"].astype(np.int32), xyz_j2000=z["xyz_j2000"].astype(np.float32),
            hp_mag=z["hp_mag"].astype(np.float32), b_v=z["b_v"].astype(np.float32), meta=str(z["meta"]),
        )
    return cat if limit_mag is None else cat.select(limit_mag)


# --------------------------------------------------------------------------------------------
# Star colours: B-V -> black body -> linear sRGB


def bv_to_temperature_k(b_v) -> np.ndarray:
    """Effective temperature of a black body with the given B-V (Ballesteros 2012)."""
    bv = np.clip(np.asarray(b_v, dtype=np.float64), -0.4, 2.0)
    return 4600.0 * (1.0 / (0.92 * bv + 1.7) + 1.0 / (0.92 * bv + 0.62))


def _g(lam, mu, s1, s2):
    s = np.where(lam < mu, s1, s2)
    return np.exp(-0.5 * ((lam - mu) / s) ** 2)


def _cie_xyz_bar(lam_nm: np.ndarray) -> np.ndarray:
    """CIE 1931 2-degree colour-matching functions, multi-lobe Gaussian fit (Wyman et al. 2013)."""
    x = 1.056 * _g(lam_nm, 599.8, 37.9, 31.0) + 0.362 * _g(lam_nm, 442.0, 16.0, 26.7) - 0.065 * _g(lam_nm, 501.1, 20.4, 26.2)
    y = 0.821 * _g(lam_nm, 568.8, 46.9, 40.5) + 0.286 * _g(lam_nm, 530.9, 16.3, 31.1)
    z = 1.217 * _g(lam_nm, 437.0, 11.8, 36.0) + 0.681 * _g(lam_nm, 459.0, 26.0, 13.8)
    return np.stack([x, y, z], axis=-1)


_XYZ_TO_LINEAR_SRGB = np.array([
    [3.2406, -1.5372, -0.4986],
    [-0.9689, 1.8758, 0.0415],
    [0.0557, -0.2040, 1.0570],
])


def blackbody_rgb(temp_k, saturation: float = 1.0) -> np.ndarray:
    """(..., 3) linear sRGB of a black body at ``temp_k``, scaled to luminance Y = 1, negative
    components clipped, then mixed toward white by ``1 - saturation``."""
    t = np.asarray(temp_k, dtype=np.float64)[..., None]
    lam_nm = np.arange(380.0, 781.0, 5.0)
    lam_m = lam_nm * 1e-9
    c2 = 1.4387769e-2  # m K
    planck = lam_m ** -5 / np.expm1(c2 / (lam_m * t))  # (..., n_lambda), arbitrary scale
    xyz = planck @ _cie_xyz_bar(lam_nm)
    rgb = xyz @ _XYZ_TO_LINEAR_SRGB.T
    rgb = np.clip(rgb, 0.0, None)
    lum = rgb @ np.array([0.2126, 0.7152, 0.0722])
    rgb = rgb / lum[..., None]
    return 1.0 + saturation * (rgb - 1.0)


def star_colors(b_v, saturation: float = STAR_SATURATION) -> np.ndarray:
    """(n, 3) float32 linear sRGB star colours (luminance 1) from B-V."""
    return blackbody_rgb(bv_to_temperature_k(b_v), saturation).astype(np.float32)


# --------------------------------------------------------------------------------------------
# Geometry helpers (NumPy, float64; float32 only when handed to Panda3D)


def _unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64).reshape(3)
    return v / np.linalg.norm(v)


def _frame_from_forward(forward, up) -> np.ndarray:
    """3x3 with rows x (right), y (= forward), z (up, orthogonalised) for a node whose +y looks
    along ``forward``."""
    y = _unit(forward)
    u = np.asarray(up, dtype=np.float64).reshape(3)
    x = cross3(y, u)
    if np.linalg.norm(x) < 1e-9:
        x = cross3(y, [1.0, 0.0, 0.0] if abs(y[0]) < 0.9 else [0.0, 1.0, 0.0])
    x /= np.linalg.norm(x)
    z = cross3(x, y)
    return np.stack([x, y, z])


def _panda_mat(rows3: np.ndarray, scale: float, pos) -> "LMatrix4f":
    """Panda3D (row-vector) matrix whose local x, y, z map to the given rows, scaled, at pos."""
    from panda3d.core import LMatrix4f

    m = np.zeros((4, 4), dtype=np.float64)
    m[:3, :3] = np.asarray(rows3, dtype=np.float64) * scale
    m[3, :3] = np.asarray(pos, dtype=np.float64).reshape(3)
    m[3, 3] = 1.0
    return LMatrix4f(*m.astype(np.float32).ravel().tolist())


def moon_frame_rows(moon_pos_km) -> np.ndarray:
    """Rows: the Moon model's x, y, z axes in ECI. +y toward the Earth's centre (the near side),
    +z toward the ecliptic north pole (close to lunar north), x = y cross z (so east longitude,
    seen from the Earth on the right, is -x)."""
    ecl_pole = np.array([0.0, -np.sin(OBLIQUITY_RAD), np.cos(OBLIQUITY_RAD)])
    return _frame_from_forward(-np.asarray(moon_pos_km, dtype=np.float64), ecl_pole)


def sun_angular_radius_rad(sun_dist_km: float) -> float:
    return float(np.arcsin(SUN_RADIUS_KM / float(sun_dist_km)))


def moon_angular_radius_rad(moon_rel_km) -> float:
    return float(np.arcsin(MOON_RADIUS_KM / float(np.linalg.norm(moon_rel_km))))


# --------------------------------------------------------------------------------------------
# Geometry builders (Panda3D)


def _star_geom_node(cat: StarCatalog):
    from panda3d.core import (
        Geom, GeomNode, GeomPoints, GeomVertexArrayFormat, GeomVertexData, GeomVertexFormat,
        InternalName, OmniBoundingVolume,
    )

    afmt = GeomVertexArrayFormat()
    afmt.add_column(InternalName.get_vertex(), 3, Geom.NT_float32, Geom.C_point)
    afmt.add_column(InternalName.make("star_rgb"), 3, Geom.NT_float32, Geom.C_other)
    afmt.add_column(InternalName.make("star_mag"), 1, Geom.NT_float32, Geom.C_other)
    vfmt = GeomVertexFormat.register_format(GeomVertexFormat(afmt))
    n = len(cat)
    rows = np.zeros(n, dtype=[("xyz", "<f4", 3), ("rgb", "<f4", 3), ("mag", "<f4")])
    assert rows.dtype.itemsize == afmt.get_stride()
    rows["xyz"] = cat.xyz_j2000
    rows["rgb"] = star_colors(cat.b_v)
    rows["mag"] = cat.hp_mag
    vdata = GeomVertexData("stars", vfmt, Geom.UH_static)
    vdata.unclean_set_num_rows(n)
    memoryview(vdata.modify_array(0)).cast("B")[:] = rows.tobytes()
    points = GeomPoints(Geom.UH_static)
    points.add_consecutive_vertices(0, n)
    points.close_primitive()
    geom = Geom(vdata)
    geom.add_primitive(points)
    node = GeomNode("stars")
    node.add_geom(geom)
    node.set_bounds(OmniBoundingVolume())
    node.set_final(True)
    return node


def _sphere_geom_node(name: str, n_lon: int = 64, n_lat: int = 32):
    """A unit UV sphere with outward normals, one Geom of triangles."""
    from panda3d.core import Geom, GeomTriangles, GeomVertexData, GeomVertexFormat

    lat = np.linspace(-np.pi / 2, np.pi / 2, n_lat + 1)
    lon = np.linspace(0.0, 2 * np.pi, n_lon + 1)
    la, lo = np.meshgrid(lat, lon, indexing="ij")  # (n_lat+1, n_lon+1)
    xyz = np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1).reshape(-1, 3)
    rows = np.zeros(xyz.shape[0], dtype=[("v", "<f4", 3), ("n", "<f4", 3)])
    rows["v"] = xyz
    rows["n"] = xyz
    vdata = GeomVertexData(name, GeomVertexFormat.get_v3n3(), Geom.UH_static)
    vdata.unclean_set_num_rows(xyz.shape[0])
    memoryview(vdata.modify_array(0)).cast("B")[:] = rows.tobytes()
    i = np.arange(n_lat)[:, None] * (n_lon + 1) + np.arange(n_lon)[None, :]
    a, b, c, d = i, i + 1, i + n_lon + 1, i + n_lon + 2  # a-b along longitude, c-d one latitude up
    tris = np.concatenate([np.stack([a, b, d], -1).reshape(-1, 3), np.stack([a, d, c], -1).reshape(-1, 3)])
    prim = GeomTriangles(Geom.UH_static)
    prim.set_index_type(Geom.NT_uint32)
    handle = prim.modify_vertices()
    handle.unclean_set_num_rows(tris.size)
    memoryview(handle).cast("B")[:] = tris.astype(np.uint32).tobytes()
    return _sky_node(name, vdata, prim)


def _sky_node(name: str, vdata, prim):
    """One GeomNode around one primitive, never culled (the sky is always around the camera)."""
    from panda3d.core import Geom, GeomNode, OmniBoundingVolume

    geom = Geom(vdata)
    geom.add_primitive(prim)
    node = GeomNode(name)
    node.add_geom(geom)
    node.set_bounds(OmniBoundingVolume())
    node.set_final(True)
    return node


def _quad_geom_node(name: str):
    """A unit square in the node's x-z plane (facing -y, i.e. the camera when +y points away),
    texcoords -1..1."""
    from panda3d.core import (
        Geom, GeomTriangles, GeomVertexData, GeomVertexFormat, GeomVertexWriter,
    )

    vdata = GeomVertexData(name, GeomVertexFormat.get_v3t2(), Geom.UH_static)
    vw = GeomVertexWriter(vdata, "vertex")
    tw = GeomVertexWriter(vdata, "texcoord")
    for u, v in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        vw.add_data3(u, 0.0, v)
        tw.add_data2(u, v)
    prim = GeomTriangles(Geom.UH_static)
    prim.add_vertices(0, 1, 2)
    prim.add_vertices(0, 2, 3)
    return _sky_node(name, vdata, prim)


def load_shader(name: str):
    """``shaders/<name>.vert`` + ``shaders/<name>.frag`` as a Panda3D GLSL shader."""
    from panda3d.core import Filename, Shader

    vert = SHADER_DIR / f"{name}.vert"
    frag = SHADER_DIR / f"{name}.frag"
    shader = Shader.load(Shader.SL_GLSL, vertex=Filename.from_os_specific(str(vert)),
                         fragment=Filename.from_os_specific(str(frag)))
    if shader is None:
        raise FileNotFoundError(f"could not read the shader {vert} / {frag}")
    return shader


# --------------------------------------------------------------------------------------------


class Sky:
    """Stars, Moon and Sun under ``parent`` (the FAR pass: metres, camera at the origin, ECI axes).

    ``update(snapshot, camera_eci_km)`` once per frame before rendering; ``snapshot`` needs
    ``j2000_to_eci`` (3x3), ``sun_unit_eci`` (3,), ``sun_dist_km`` and ``moon_pos_km`` (3,), and
    ``camera_eci_km`` is the camera's float64 ECI position in km. Until the first update the stars
    show with J2000 = ECI and the Moon and Sun are hidden. ``star_limit_mag`` keeps the stars with
    Hp <= it (the star file stops at Hp 7.0: 13,943 stars; 7,982 to the default 6.5)."""

    DRAW_CALLS = 4

    def __init__(self, parent, *, star_limit_mag: float = 6.5, exposure: float = 1.0):
        from panda3d.core import (
            ColorBlendAttrib, DepthTestAttrib, RenderAttrib, ShaderAttrib, TexGenAttrib, TextureStage,
            TransparencyAttrib,
        )

        from experience.scene.boundary import Uniforms

        self.star_limit_mag = float(star_limit_mag)
        self.catalog = load_star_catalog(limit_mag=self.star_limit_mag)
        self.root = parent.attach_new_node("sky")
        self.root.set_light_off(10)
        self.root.set_fog_off(10)
        self.root.set_depth_write(False, 10)
        self.root.set_attrib(DepthTestAttrib.make(RenderAttrib.M_less_equal), 10)
        self.root.set_two_sided(False, 10)
        self._exposure = 1.0
        self._gamma = DISPLAY_GAMMA
        self._radiance_scale = 1.0
        self.set_exposure(exposure)
        additive = ColorBlendAttrib.make(ColorBlendAttrib.M_add, ColorBlendAttrib.O_one, ColorBlendAttrib.O_one)

        # stars: one GeomPoints, one draw call
        self.stars = self.root.attach_new_node(_star_geom_node(self.catalog))
        stars_shader = load_shader("stars")
        self.stars.set_attrib(ShaderAttrib.make(stars_shader, 10).set_flag(ShaderAttrib.F_shader_point_size, True), 10)
        self.stars.set_shader_input("star_params", (STAR_MAG_WHITE, STAR_MAX_POINT_PX, STAR_HALO_GAIN, 0.0))
        self.stars.set_attrib(additive, 10)
        self.stars.set_transparency(TransparencyAttrib.M_none, 10)
        self.stars.set_bin("background", BIN_STARS, 10)
        # gl_PointCoord is only defined with GL_POINT_SPRITE on in a compatibility context (NVIDIA);
        # Panda3D 1.10 enables it for a point-sprite TexGen, which needs no texture
        self.stars.set_tex_gen(TextureStage.get_default(), TexGenAttrib.M_point_sprite, 10)
        self.stars.set_mat(_panda_mat(np.eye(3), STAR_RADIUS_M, np.zeros(3)))

        # Moon: an opaque sphere (hides the stars behind its dark side too)
        self.moon = self.root.attach_new_node(_sphere_geom_node("moon"))
        self.moon.set_shader(load_shader("moon"), 10)
        self.moon_inputs = Uniforms(self.moon)
        self.moon_inputs.set("moon_sun_dir", (0.0, 1.0, 0.0))
        self.moon.set_shader_input("moon_params", (MOON_ALBEDO_HIGHLANDS, MOON_ALBEDO_MARIA, MOON_EARTHSHINE, 0.0))
        self.moon.set_transparency(TransparencyAttrib.M_none, 10)
        self.moon.set_bin("background", BIN_MOON, 10)
        self.moon.hide()

        # Sun: a disc quad and a glare quad (same shader), both added on top
        sun_shader = load_shader("sun")
        self.sun = self.root.attach_new_node("sun")
        self.sun_disc = self.sun.attach_new_node(_quad_geom_node("sun-disc"))
        self.sun_glare = self.sun.attach_new_node(_quad_geom_node("sun-glare"))
        self.disc_inputs, self.glare_inputs = Uniforms(self.sun_disc), Uniforms(self.sun_glare)
        for np_, bin_sort in ((self.sun_disc, BIN_SUN_DISC), (self.sun_glare, BIN_SUN_GLARE)):
            np_.set_shader(sun_shader, 10)
            np_.set_attrib(additive, 10)
            np_.set_transparency(TransparencyAttrib.M_none, 10)
            np_.set_bin("background", bin_sort, 10)
            np_.set_shader_input("sun_color", SUN_GLARE_COLOR)
        self.sun_disc.set_shader_input("sun_gain", (np.pi / 6.8e-5, 0.0, SUN_GLARE_CORE_RADII, SUN_GLARE_EFOLD_RAD))
        self.sun_glare.set_shader_input("sun_gain", (0.0, SUN_GLARE_GAIN, SUN_GLARE_CORE_RADII, SUN_GLARE_EFOLD_RAD))
        self.sun.hide()

        # what the last update computed (for tests and the renderer core)
        self.moon_rel_m = None
        self.sun_dir_eci = None
        self.moon_angular_radius_rad = None
        self.sun_angular_radius_rad = None

    # ---------------------------------------------------------------------------------------
    @property
    def star_count(self) -> int:
        return len(self.catalog)

    @property
    def exposure(self) -> float:
        return self._exposure

    def set_exposure(self, exposure: float) -> None:
        """Linear multiplier of all sky brightness (stars, Moon, Sun)."""
        self._exposure = float(exposure)
        self._apply_output()

    def set_output(self, display_gamma: float = DISPLAY_GAMMA, radiance_scale: float = 1.0) -> None:
        """``display_gamma > 0``: the shaders write ``clamp(exposure x)^(1/gamma)`` (display values, the
        default 2.2; use 1.0 for an sRGB frame buffer that encodes by itself). ``display_gamma = 0``:
        they write unclamped linear ``exposure x radiance_scale x`` for a renderer that tone-maps
        afterwards (``radiance_scale`` converts "white card facing the Sun = 1" into its units)."""
        self._gamma = float(display_gamma)
        self._radiance_scale = float(radiance_scale)
        self._apply_output()

    def _apply_output(self) -> None:
        self.root.set_shader_input("sky_output", (self._exposure, self._gamma, self._radiance_scale, 0.0))

    def remove(self) -> None:
        """Take the sky out of the scene graph."""
        self.root.remove_node()

    # ---------------------------------------------------------------------------------------
    def update(self, snapshot, camera_eci_km: np.ndarray) -> None:
        cam_km = np.asarray(camera_eci_km, dtype=np.float64).reshape(3)

        # stars: v_eci = M v_j2000 (column vectors); Panda3D's row vectors take M^T
        m = np.asarray(snapshot.j2000_to_eci, dtype=np.float64).reshape(3, 3)
        self.stars.set_mat(_panda_mat(m.T, STAR_RADIUS_M, np.zeros(3)))

        sun_unit = _unit(snapshot.sun_unit_eci)
        sun_dist_km = float(getattr(snapshot, "sun_dist_km", AU_KM))
        sun_geo_km = sun_unit * sun_dist_km

        # Moon: true position from the camera (float64 difference, then metres)
        moon_km = np.asarray(snapshot.moon_pos_km, dtype=np.float64).reshape(3)
        moon_rel_km = moon_km - cam_km
        rows = moon_frame_rows(moon_km)
        self.moon.set_mat(_panda_mat(rows, MOON_RADIUS_KM * 1000.0, moon_rel_km * 1000.0))
        sun_from_moon = _unit(sun_geo_km - moon_km)
        self.moon_inputs.set("moon_sun_dir", rows @ sun_from_moon)
        self.moon.show()

        # Sun: quads perpendicular to the line of sight, at SUN_DISTANCE_M, angularly exact
        sun_dir = _unit(sun_geo_km - cam_km)
        ang_r = sun_angular_radius_rad(sun_dist_km)
        self.sun.set_mat(_panda_mat(_frame_from_forward(sun_dir, [0.0, 0.0, 1.0]), 1.0, sun_dir * SUN_DISTANCE_M))
        disc_tan = np.tan(4.0 * ang_r)  # room for the anti-aliased edge when the disc spans few pixels
        glare_tan = np.tan(SUN_GLARE_EXTENT_RAD)
        self.sun_disc.set_scale(SUN_DISTANCE_M * disc_tan)
        self.sun_glare.set_scale(SUN_DISTANCE_M * glare_tan)
        self.disc_inputs.set("sun_params", (ang_r, disc_tan, 0.0, 0.0))
        self.glare_inputs.set("sun_params", (ang_r, glare_tan, 0.0, 0.0))
        self.sun.show()

        self.moon_rel_m = moon_rel_km * 1000.0
        self.sun_dir_eci = sun_dir
        self.moon_angular_radius_rad = moon_angular_radius_rad(moon_rel_km)
        self.sun_angular_radius_rad = ang_r
