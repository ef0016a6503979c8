"""Earth shadow on a spacecraft, and the Sun seen from the ground (day/night).

Shadow model: the conical (penumbra/umbra) model of Montenbruck & Gill, "Satellite Orbits"
(Springer 2000), sect. 3.4.2: seen from the spacecraft, the Sun and the Earth are discs of
apparent radii a = asin(R_sun / |s - r|) and b = asin(R_earth / |r|) whose centres are c apart;
the visible fraction of the solar disc is 1 - A / (pi a^2) with A the overlap area of the two
circles (treated as plane circles). The Earth is a sphere of the WGS-84 equatorial radius plus an
optional atmosphere height; oblateness is ignored, which moves the shadow entry/exit time by up
to a few seconds at LEO (about 20 km of Earth polar radius deficit), and so is the ~0.1 deg
refraction of the limb. Limb darkening of the Sun is ignored (fraction of disc area, not of
flux).

Ground: elevation of a body at infinity over the WGS-84 geodetic horizon (no refraction, no
parallax: the Sun's horizontal parallax is 8.8 arcsec), and the terminator as the line where that
elevation is zero.
"""

from __future__ import annotations

import math

from kernels._xp import cross, dot, namespace, norm
from kernels.constants import R_SUN_KM, WGS84_A_KM

__all__ = ["sunlit_fraction", "in_sunlight", "sun_elevation_rad", "terminator_lat_rad"]


def sunlit_fraction(pos_km, sun_pos_km, atmosphere_km=0.0):
    """Fraction of the solar disc visible from ``pos_km`` (n, 3), in [0, 1].

    ``pos_km`` and ``sun_pos_km`` are geocentric, same frame (any inertial or Earth-fixed frame
    works as long as both share it). The Earth occulter has radius WGS84_A_KM + atmosphere_km
    (a Python float, default 0). 0 in the umbra, 1 in full sunlight, between in the penumbra
    (about 8 s of an LEO orbit). Model and accuracy: see the module docstring.
    """
    xp = namespace(pos_km, sun_pos_km)
    to_sun = sun_pos_km - pos_km
    d_sun = norm(to_sun)
    r = norm(pos_km)
    radius_earth = WGS84_A_KM + atmosphere_km
    a = xp.asin(xp.clip(R_SUN_KM / d_sun, 0.0, 1.0))  # apparent Sun radius
    b = xp.asin(xp.clip(radius_earth / r, 0.0, 1.0))  # apparent Earth radius
    to_earth = -pos_km
    c = xp.atan2(norm(cross(to_sun, to_earth)), dot(to_sun, to_earth))  # centre separation
    # Partial overlap of two circles (radii a, b, centre distance c).
    c_safe = xp.where(c > 1e-12, c, xp.full_like(c, 1e-12))
    x = (c_safe * c_safe + a * a - b * b) / (2.0 * c_safe)
    y = xp.sqrt(xp.clip(a * a - x * x, 0.0, None))
    area = (
        a * a * xp.acos(xp.clip(x / a, -1.0, 1.0))
        + b * b * xp.acos(xp.clip((c_safe - x) / b, -1.0, 1.0))
        - c_safe * y
    )
    partial = 1.0 - area / (math.pi * a * a)
    full_sun = c >= a + b
    umbra = c <= b - a
    annular = c <= a - b  # Earth disc inside the solar disc (not reachable near the Earth)
    frac = xp.where(
        full_sun,
        xp.ones_like(c),
        xp.where(umbra, xp.zeros_like(c), xp.where(annular, 1.0 - (b * b) / (a * a), partial)),
    )
    return xp.clip(frac, 0.0, 1.0)


def in_sunlight(pos_km, sun_pos_km, atmosphere_km=0.0, threshold=0.5):
    """Boolean (n,): more than ``threshold`` (default half) of the solar disc is visible.

    With the default the switch happens when the Sun's centre crosses the Earth's limb, i.e. the
    cylindrical-shadow instant to within about a second at LEO.
    """
    return sunlit_fraction(pos_km, sun_pos_km, atmosphere_km) > threshold


def sun_elevation_rad(lat_rad, lon_rad, sun_unit_ecef):
    """Elevation (rad, in [-pi/2, pi/2]) of a body at infinity over the geodetic horizon.

    ``lat_rad``/``lon_rad`` (n,) WGS-84 geodetic, ``sun_unit_ecef`` (n, 3) the direction in the
    Earth-fixed frame (need not be normalised). elevation = asin(n . u) with n the ellipsoid
    normal. Parallax of the ground point ignored (8.8 arcsec for the Sun); no refraction.
    """
    xp = namespace(lat_rad, lon_rad, sun_unit_ecef)
    cl = xp.cos(lat_rad)
    normal = xp.stack((cl * xp.cos(lon_rad), cl * xp.sin(lon_rad), xp.sin(lat_rad)), axis=-1)
    u = sun_unit_ecef / norm(sun_unit_ecef)[..., None]
    s = dot(normal, u)
    c = norm(cross(normal, u))
    return xp.atan2(s, c)


def terminator_lat_rad(lon_rad, subsolar_lat_rad, subsolar_lon_rad):
    """Latitude (rad) of the day/night line at each longitude, for drawing maps.

    Solves n(lat, lon) . u_sun = 0 for the geodetic normal n, i.e.
    tan(lat) = -cos(lon - lon_s) cos(lat_s) / sin(lat_s), with (lat_s, lon_s) the subsolar point
    from :func:`kernels.earth.subpoint_of_direction`. The result is the geodetic latitude where
    :func:`sun_elevation_rad` is exactly 0 (Sun's centre on the geometric horizon; refraction,
    about 0.6 deg, and the 0.27 deg solar semi-diameter are not included). Inputs broadcast
    together (e.g. ``lon_rad`` (n,) with 0-d or (n,) subsolar coordinates). At an equinox
    (lat_s = 0) the line is a pair of meridians and the function returns +-pi/2 there.
    """
    xp = namespace(lon_rad, subsolar_lat_rad, subsolar_lon_rad)
    return xp.atan2(
        -xp.cos(lon_rad - subsolar_lon_rad) * xp.cos(subsolar_lat_rad), xp.sin(subsolar_lat_rad)
    )
