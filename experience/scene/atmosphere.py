"""Single-scattering atmosphere: Rayleigh (8 km scale height) + Mie (1.2 km), top at 100 km, over
the WGS-84 ellipsoid.

Two places draw it, both with shaders/atmosphere_common.glsl:

- ``earth.frag``: aerial perspective, the light scattered into each view ray between the camera
  and the ground and the transmittance of that path (blue haze, reddened terminator);
- ``atmosphere.vert/.frag``: the *sky pass*, a full-screen quad drawn at the far plane after the
  Earth (depth test ``<=`` against the cleared depth 1.0, so it shades only pixels the Earth did
  not cover); it ray-marches the limb and composites over the stars with premultiplied alpha.

Cost per pixel: ``atmosphere_steps`` view samples on the Earth (default 8), twice that on the
limb; sunlight reaching each sample is one lookup in a transmittance table precomputed here with
NumPy (512 sun angles x 64 heights, 400-step integration, about a second, deterministic, kept in
the user cache), so there is no
inner loop (the classic 8x4 nested march costs ~2.4x more on llvmpipe and is less accurate).

"Atmosphere space" (see the GLSL file) is Earth-fixed kilometres with z scaled by a/b, which maps
the ellipsoid onto a sphere of radius a = 6378.137 km; the atmosphere is a 100 km shell of it.
Units of light: the Sun's irradiance is pi, so a white Lambertian card facing the Sun has
radiance 1.0, which the tone curve (renderer, exposure 1) shows just below white.
"""

from __future__ import annotations

import functools

import numpy as np
from panda3d.core import (CardMaker, ColorBlendAttrib, DepthTestAttrib, DepthWriteAttrib, NodePath,
                          OmniBoundingVolume, RenderAttrib, SamplerState, Shader, Texture, TransparencyAttrib)

from experience.scene import boundary
from experience.scene.config import shader_path

R_PLANET_KM = 6378.137
H_TOP_KM = 100.0
H_RAYLEIGH_KM = 8.0
H_MIE_KM = 1.2
BETA_RAYLEIGH = np.array([5.802e-3, 13.558e-3, 33.100e-3])
BETA_MIE_EXT = 4.440e-3
SUN_IRRADIANCE = np.pi  # scene units: white card facing the Sun -> radiance 1
LUT_MU, LUT_H = 512, 64
# Diffuse skylight on the ground per unit of solar irradiance, fully up when the Sun is higher than
# ~17 deg (an approximation: single scattering has no skylight of its own; clear-sky skylight is
# 10-20 % of the global irradiance and blue)
SKYLIGHT = np.array([0.06, 0.075, 0.10])
WGS84_A_OVER_B = 6378137.0 / 6356752.314245


def transmittance_entry(n_mu: int = LUT_MU, n_h: int = LUT_H, steps: int = 400):
    """The transmittance table's cache entry: built once per machine (about a second of NumPy),
    then read in milliseconds at every start-up."""
    from pathlib import Path

    from experience import cache

    def check(arrays):
        tr = cache.require(arrays, "transmittance", np.float32, (n_h, n_mu, 3))
        if float(tr.min()) < 0.0 or float(tr.max()) > 1.0:
            raise cache.Invalid("holds transmittances outside [0, 1]")
        if float(tr[-1, -1].min()) < 0.9:  # straight up from the top of the atmosphere: clear
            raise cache.Invalid("is not a transmittance table (the zenith from 100 km is not clear)")

    return cache.Entry("transmittance", "atmosphere transmittance table", (Path(__file__),),
                       params=(n_mu, n_h, steps), check=check, compress=0)


@functools.lru_cache(maxsize=1)
def transmittance_table(n_mu: int = LUT_MU, n_h: int = LUT_H, steps: int = 400) -> np.ndarray:
    """(n_h, n_mu, 3) float32: transmittance from a point at height h (rows: sqrt(h / 100 km)
    uniform) toward a direction of cosine mu from the zenith (columns: mu uniform in [-1, 1]) to
    space; 0 where the ray meets the Earth (its shadow). Kept in the user cache."""
    from experience import cache

    got = cache.load(transmittance_entry(n_mu, n_h, steps),
                     lambda: {"transmittance": build_transmittance(n_mu, n_h, steps)})
    return got.arrays["transmittance"]


def build_transmittance(n_mu: int = LUT_MU, n_h: int = LUT_H, steps: int = 400) -> np.ndarray:
    """:func:`transmittance_table`, computed."""
    mu = np.linspace(-1.0, 1.0, n_mu)
    h = (np.linspace(0.0, 1.0, n_h) ** 2) * H_TOP_KM
    r = R_PLANET_KM + h[:, None]
    mu_g = mu[None, :]
    r_top = R_PLANET_KM + H_TOP_KM
    # distance to the top of the atmosphere
    disc = r * r * (mu_g * mu_g - 1.0) + r_top * r_top
    t_top = -r * mu_g + np.sqrt(np.maximum(disc, 0.0))
    # rays below the horizon of their point meet the Earth: its shadow
    hits = (mu_g < 0.0) & (r * r * (1.0 - mu_g * mu_g) < R_PLANET_KM ** 2)
    od = np.zeros((n_h, n_mu, 3))
    for k in range(steps):  # midpoint rule, samples packed toward the start (densest air)
        u0, u1 = (k / steps) ** 2, ((k + 1) / steps) ** 2
        t = t_top * 0.5 * (u0 + u1)
        dt = t_top * (u1 - u0)
        rr = np.sqrt(r * r + t * t + 2.0 * r * mu_g * t)
        hh = np.maximum(rr - R_PLANET_KM, 0.0)
        d_r = np.exp(-hh / H_RAYLEIGH_KM)
        d_m = np.exp(-hh / H_MIE_KM)
        od += (d_r[..., None] * BETA_RAYLEIGH + (d_m * BETA_MIE_EXT)[..., None]) * dt[..., None]
    tr = np.exp(-od)
    tr[hits] = 0.0
    return tr.astype(np.float32)


def sun_transmittance(h_km: float, mu: float) -> np.ndarray:
    """Transmittance toward the Sun from height h at cosine mu (nearest entry of the table)."""
    table = transmittance_table()
    i = int(round(np.sqrt(np.clip(h_km / H_TOP_KM, 0.0, 1.0)) * (LUT_H - 1)))
    j = int(round((np.clip(mu, -1.0, 1.0) * 0.5 + 0.5) * (LUT_MU - 1)))
    return table[i, j].astype(np.float64)


def white_balance() -> np.ndarray:
    """Per-channel gains of a camera white-balanced for daylight: a white card on the ground under
    a Sun 45 deg high (direct light through the atmosphere plus skylight) comes out neutral."""
    mu = np.cos(np.radians(45.0))
    e = sun_transmittance(0.0, mu) * mu + SKYLIGHT
    lum = float(e @ np.array([0.2126, 0.7152, 0.0722]))
    return lum / e


def transmittance_texture() -> Texture:
    table = transmittance_table()
    tex = Texture("atmosphere_transmittance")
    tex.setup2dTexture(table.shape[1], table.shape[0], Texture.T_float, Texture.F_rgb32)
    # Panda3D stores RGB as BGR in RAM
    tex.setRamImage(np.ascontiguousarray(table[..., ::-1]).tobytes())
    tex.setMinfilter(SamplerState.FT_linear)
    tex.setMagfilter(SamplerState.FT_linear)
    tex.setWrapU(SamplerState.WM_clamp)
    tex.setWrapV(SamplerState.WM_clamp)
    return tex


def eci_to_atm(snapshot) -> np.ndarray:
    """3x3 (float64): ECI vectors -> atmosphere space (ECEF with z scaled by a/b), km per km."""
    scale = np.diag([1.0, 1.0, WGS84_A_OVER_B])
    return scale @ np.asarray(snapshot.ecef_to_eci, dtype=np.float64).T


class Atmosphere:
    """Owns the transmittance table, the sky pass and the uniforms shared with the Earth."""

    def __init__(self, parent: NodePath, config):
        self.config = config
        self.lut = transmittance_texture()
        self.shared = boundary.Uniforms()  # the inputs of every node bound below
        self.shared.set("u_cam_atm", (R_PLANET_KM + 400.0, 0.0, 0.0))
        self.shared.set("u_sun_atm", (1.0, 0.0, 0.0))
        cm = CardMaker("sky_pass")
        cm.setFrame(-1, 1, -1, 1)
        self.np = parent.attachNewNode(cm.generate())
        self.np.node().setBounds(OmniBoundingVolume())
        self.np.node().setFinal(True)
        shader = Shader.load(Shader.SL_GLSL, vertex=str(shader_path("atmosphere.vert")),
                             fragment=str(shader_path("atmosphere.frag")))
        self.np.setShader(shader)
        self.np.setAttrib(DepthTestAttrib.make(RenderAttrib.M_less_equal))
        self.np.setAttrib(DepthWriteAttrib.make(DepthWriteAttrib.M_off))
        self.np.setAttrib(ColorBlendAttrib.make(ColorBlendAttrib.M_add, ColorBlendAttrib.O_one,
                                                ColorBlendAttrib.O_one_minus_incoming_alpha))
        self.np.setTransparency(TransparencyAttrib.M_none)
        self.np.setBin("fixed", 10)
        self.np.setTwoSided(True)
        self.np.setShaderInput("u_steps", int(2 * config.atmosphere_steps))
        self.inputs = boundary.Uniforms(self.np)
        self.inputs.set("u_tan_half_fov", (1.0, 1.0))
        self.inputs.set("u_cam_to_atm", np.eye(3))
        self.bind(self.np)

    def bind(self, np_: NodePath) -> None:
        """Give a node the shared atmosphere inputs (updated every frame by :meth:`update`)."""
        np_.setShaderInput("u_transmittance", self.lut)
        np_.setShaderInput("u_lut_size", (float(LUT_MU), float(LUT_H)))
        np_.setShaderInput("u_sun_irradiance", (SUN_IRRADIANCE,) * 3)
        np_.setShaderInput("u_skylight", boundary.vec3f(SKYLIGHT))
        self.shared.attach(np_)

    def update(self, snapshot, frame: boundary.RenderFrame, cam_basis: np.ndarray, tan_half: tuple[float, float]) -> None:
        m = eci_to_atm(snapshot)
        cam_atm = m @ frame.camera_km
        sun_atm = m @ np.asarray(snapshot.sun_unit_eci, dtype=np.float64)
        sun_atm /= np.linalg.norm(sun_atm)
        self.shared.set("u_cam_atm", cam_atm)
        self.shared.set("u_sun_atm", sun_atm)
        self.inputs.set("u_cam_to_atm", m @ cam_basis)
        self.inputs.set("u_tan_half_fov", tan_half)

