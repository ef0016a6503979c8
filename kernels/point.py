"""One-point twins of the array kernels, for the per-frame path.

An interactive frame asks for two spacecraft at one instant. The array kernels answer that
correctly but spend their time on array overhead (tens of small array operations, each a
microsecond or more, for three numbers). These functions compute the same quantities for one
point in plain Python floats, with the operations of the array kernels in the same order, so the
results are the same to the last bit where only + - * / and sqrt are involved (Hermite
interpolation, rotations, the LVLH triad) and to an ulp where libm's trigonometry is
(geodetic latitude): tests/test_kernels_point.py compares each one with its array kernel.

One API, two implementations: :mod:`experience.simulation.trajectory` and
:mod:`experience.simulation.live` choose this one for a single instant and the array kernels
for everything batched. Vectors are 3-tuples of floats; nothing here allocates an array.
"""

from __future__ import annotations

import bisect
import math

from kernels.constants import WGS84_A_KM, WGS84_B_KM, WGS84_E2, WGS84_F

Vec = tuple[float, float, float]

_EP2 = WGS84_E2 / (1.0 - WGS84_E2)
_TWO_PI = 2.0 * math.pi


def interval(t_grid_s, t_s: float) -> int:
    """The table interval holding ``t_s``, as :func:`kernels.orbit.hermite_interpolate` picks it
    (``searchsorted(side="right") - 1`` clipped to ``[0, m - 2]``). ``t_grid_s`` is any sequence."""
    return min(max(bisect.bisect_right(t_grid_s, t_s) - 1, 0), len(t_grid_s) - 2)


def hermite(t0_s: float, t1_s: float, p0: Vec, v0: Vec, p1: Vec, v1: Vec, t_s: float) -> tuple[Vec, Vec]:
    """Cubic Hermite position and velocity at ``t_s`` on one table interval: the arithmetic of
    :func:`kernels.orbit.hermite_interpolate`, term for term."""
    h = t1_s - t0_s
    tau = (t_s - t0_s) / h
    t2 = tau * tau
    t3 = t2 * tau
    h00 = 2.0 * t3 - 3.0 * t2 + 1.0
    h10 = (t3 - 2.0 * t2 + tau) * h
    h01 = 3.0 * t2 - 2.0 * t3
    h11 = (t3 - t2) * h
    d00 = (6.0 * t2 - 6.0 * tau) / h
    d10 = 3.0 * t2 - 4.0 * tau + 1.0
    d11 = 3.0 * t2 - 2.0 * tau
    pos = tuple(h00 * p0[k] + h10 * v0[k] + h01 * p1[k] + h11 * v1[k] for k in range(3))
    vel = tuple(d00 * (p0[k] - p1[k]) + d10 * v0[k] + d11 * v1[k] for k in range(3))
    return pos, vel


def interp(t_grid_s, values, t_s: float) -> float:
    """Piecewise-linear interpolation clamped at the ends, as ``numpy.interp`` computes it
    (slope times the distance from the left knot, plus the left value)."""
    n = len(t_grid_s)
    if t_s <= t_grid_s[0]:
        return float(values[0])
    if t_s >= t_grid_s[n - 1]:
        return float(values[n - 1])
    j = bisect.bisect_right(t_grid_s, t_s) - 1
    slope = (values[j + 1] - values[j]) / (t_grid_s[j + 1] - t_grid_s[j])
    return float(slope * (t_s - t_grid_s[j]) + values[j])


def norm(a: Vec) -> float:
    return math.sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2])


def cross(a: Vec, b: Vec) -> Vec:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def lvlh_basis(pos_km: Vec, vel_km_s: Vec) -> tuple[Vec, Vec, Vec]:
    """Rows radial (up), along-track (completing the triad), orbit normal: the arithmetic of
    :func:`experience.simulation.trajectory.lvlh_basis`."""
    r = norm(pos_km)
    r_hat = (pos_km[0] / r, pos_km[1] / r, pos_km[2] / r)
    h = cross(pos_km, vel_km_s)
    hn = norm(h)
    h_hat = (h[0] / hn, h[1] / hn, h[2] / hn)
    return r_hat, cross(h_hat, r_hat), h_hat


def eci_to_ecef_pos(pos_km: Vec, gast_rad: float) -> Vec:
    """The Earth-fixed position of :func:`kernels.earth.eci_to_ecef` (r_f = R3(GAST) r)."""
    c, s = math.cos(gast_rad), math.sin(gast_rad)
    x, y, z = pos_km
    return (c * x + s * y, -s * x + c * y, z)


def wrap_pi(angle_rad: float) -> float:
    """:func:`kernels._xp.wrap_pi` for one angle: (-pi, pi]."""
    wrapped = angle_rad - _TWO_PI * math.floor((angle_rad + math.pi) / _TWO_PI)
    return wrapped + _TWO_PI if wrapped == -math.pi else wrapped


def geodetic_from_ecef(pos_km: Vec) -> tuple[float, float, float]:
    """:func:`kernels.earth.geodetic_from_ecef` for one point: (lat_rad, lon_rad, alt_km), the
    same Bowring iteration in the same order."""
    x, y, z = pos_km
    p = math.sqrt(x * x + y * y)
    lon = wrap_pi(math.atan2(y, x))
    beta = math.atan2(z, (1.0 - WGS84_F) * p)
    for _ in range(3):
        sb, cb = math.sin(beta), math.cos(beta)
        lat = math.atan2(z + _EP2 * WGS84_B_KM * sb * sb * sb, p - WGS84_E2 * WGS84_A_KM * cb * cb * cb)
        beta = math.atan2((1.0 - WGS84_F) * math.sin(lat), math.cos(lat))
    sl = math.sin(lat)
    alt = p * math.cos(lat) + z * sl - WGS84_A_KM * math.sqrt(1.0 - WGS84_E2 * sl * sl)
    return lat, lon, alt


__all__ = ["cross", "eci_to_ecef_pos", "geodetic_from_ecef", "hermite", "interp",
           "interval", "lvlh_basis", "norm", "wrap_pi"]
