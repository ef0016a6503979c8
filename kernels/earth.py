"""Earth orientation and figure: sidereal time, precession, nutation, frames, WGS-84 geodesy.

Models and sources:

- GMST: IAU 1982 (Aoki et al. 1982, A&A 105, 359), as a function of UT1.
- ERA: IAU 2000 Earth rotation angle (IERS Conventions 2003/2010, eq. 5.15).
- Nutation: IAU 1980 theory (Seidelmann 1982; Wahr 1981), the 63 largest terms as tabulated in
  Meeus, "Astronomical Algorithms", 2nd ed. (1998), table 22.A; arguments from Meeus eq. 22.x.
  Truncation error against the full 106-term series is about 0.003 arcsec.
- Mean obliquity: IAU 1980 (Lieske et al. 1977; Meeus eq. 22.2).
- Equation of the equinoxes: dpsi cos(eps0) plus the IAU 1994 complementary terms
  (IERS Conventions 1996, ch. 5).
- Precession: IAU 1976 (Lieske et al. 1977, A&A 58, 1), angles zeta, z, theta for a start epoch
  of J2000.0.
- Earth-fixed frame: ecef = R3(GAST) eci; polar motion (about 0.3 arcsec, i.e. about 10 m at the
  surface in 1975) is ignored.
- Geodesy: WGS-84 (NIMA TR8350.2), Bowring's (1976) iteration, fixed three steps.

All functions take and return float64 arrays; times shape (n,), vectors (n, 3), matrices (n, 3, 3).
"""

from __future__ import annotations

from kernels._xp import (
    ARCSEC,
    DEG,
    TWO_PI,
    asarray_like,
    namespace,
    norm,
    rot_x,
    rot_y,
    rot_z,
    wrap_pi,
    wrap_two_pi,
)
from kernels.constants import (
    OMEGA_EARTH_RAD_S,
    SECONDS_PER_DAY,
    WGS84_A_KM,
    WGS84_B_KM,
    WGS84_E2,
    WGS84_F,
)
from kernels.timescales import SECONDS_PER_JULIAN_CENTURY, julian_centuries

__all__ = [
    "gmst_rad",
    "era_rad",
    "nutation_arguments_rad",
    "nutation_rad",
    "mean_obliquity_rad",
    "true_obliquity_rad",
    "equation_of_equinoxes_rad",
    "gast_rad",
    "precession_matrix",
    "nutation_matrix",
    "j2000_to_tod_matrix",
    "eci_to_ecef",
    "ecef_to_eci",
    "geodetic_from_ecef",
    "ecef_from_geodetic",
    "ground_speed_km_s",
    "subpoint_of_direction",
]


# ---------------------------------------------------------------------------------------------
# Sidereal time and Earth rotation angle
# ---------------------------------------------------------------------------------------------


def gmst_rad(ut1_s):
    """Greenwich mean sidereal time in [0, 2 pi), IAU 1982 (Aoki et al. 1982).

    GMST(s) = 24110.54841 + 8640184.812866 Tu + 0.093104 Tu^2 - 6.2e-6 Tu^3 + UT1 seconds of day,
    Tu = Julian centuries of UT1 since J2000.0. Written as 67310.54841 s + ut1_s + ... so that the
    large term is reduced modulo one day first. Accuracy: matches ERFA gmst82 to 1e-7 s; differs
    from the IAU 2006 GMST by under 6 ms of time over 1975-2000 (precession-rate correction).
    """
    xp = namespace(ut1_s)
    tu = ut1_s / SECONDS_PER_JULIAN_CENTURY
    day_s = ut1_s - SECONDS_PER_DAY * xp.floor(ut1_s / SECONDS_PER_DAY)
    gmst_s = 67310.54841 + day_s + tu * (8640184.812866 + tu * (0.093104 - 6.2e-6 * tu))
    return wrap_two_pi(gmst_s * (TWO_PI / SECONDS_PER_DAY))


def era_rad(ut1_s):
    """Earth rotation angle in [0, 2 pi), IAU 2000 (IERS Conventions 2010 eq. 5.15).

    ERA = 2 pi (0.7790572732640 + 1.00273781191135448 Du), Du = UT1 days since J2000.0; the
    integer days are dropped first for precision. Exact to float64 rounding.
    """
    xp = namespace(ut1_s)
    du = ut1_s / SECONDS_PER_DAY
    frac = du - xp.floor(du)
    return wrap_two_pi(TWO_PI * (frac + 0.7790572732640 + 0.00273781191135448 * du))


# ---------------------------------------------------------------------------------------------
# Nutation (IAU 1980) and obliquity
# ---------------------------------------------------------------------------------------------

# Meeus table 22.A: multipliers of (D, M, M', F, Omega), then dpsi = (a + b T) sin(arg),
# deps = (c + d T) cos(arg), in units of 0.0001 arcsec.
_NUT80 = (
    (0, 0, 0, 0, 1, -171996.0, -174.2, 92025.0, 8.9),
    (-2, 0, 0, 2, 2, -13187.0, -1.6, 5736.0, -3.1),
    (0, 0, 0, 2, 2, -2274.0, -0.2, 977.0, -0.5),
    (0, 0, 0, 0, 2, 2062.0, 0.2, -895.0, 0.5),
    (0, 1, 0, 0, 0, 1426.0, -3.4, 54.0, -0.1),
    (0, 0, 1, 0, 0, 712.0, 0.1, -7.0, 0.0),
    (-2, 1, 0, 2, 2, -517.0, 1.2, 224.0, -0.6),
    (0, 0, 0, 2, 1, -386.0, -0.4, 200.0, 0.0),
    (0, 0, 1, 2, 2, -301.0, 0.0, 129.0, -0.1),
    (-2, -1, 0, 2, 2, 217.0, -0.5, -95.0, 0.3),
    (-2, 0, 1, 0, 0, -158.0, 0.0, 0.0, 0.0),
    (-2, 0, 0, 2, 1, 129.0, 0.1, -70.0, 0.0),
    (0, 0, -1, 2, 2, 123.0, 0.0, -53.0, 0.0),
    (2, 0, 0, 0, 0, 63.0, 0.0, 0.0, 0.0),
    (0, 0, 1, 0, 1, 63.0, 0.1, -33.0, 0.0),
    (2, 0, -1, 2, 2, -59.0, 0.0, 26.0, 0.0),
    (0, 0, -1, 0, 1, -58.0, -0.1, 32.0, 0.0),
    (0, 0, 1, 2, 1, -51.0, 0.0, 27.0, 0.0),
    (-2, 0, 2, 0, 0, 48.0, 0.0, 0.0, 0.0),
    (0, 0, -2, 2, 1, 46.0, 0.0, -24.0, 0.0),
    (2, 0, 0, 2, 2, -38.0, 0.0, 16.0, 0.0),
    (0, 0, 2, 2, 2, -31.0, 0.0, 13.0, 0.0),
    (0, 0, 2, 0, 0, 29.0, 0.0, 0.0, 0.0),
    (-2, 0, 1, 2, 2, 29.0, 0.0, -12.0, 0.0),
    (0, 0, 0, 2, 0, 26.0, 0.0, 0.0, 0.0),
    (-2, 0, 0, 2, 0, -22.0, 0.0, 0.0, 0.0),
    (0, 0, -1, 2, 1, 21.0, 0.0, -10.0, 0.0),
    (0, 2, 0, 0, 0, 17.0, -0.1, 0.0, 0.0),
    (2, 0, -1, 0, 1, 16.0, 0.0, -8.0, 0.0),
    (-2, 2, 0, 2, 2, -16.0, 0.1, 7.0, 0.0),
    (0, 1, 0, 0, 1, -15.0, 0.0, 9.0, 0.0),
    (-2, 0, 1, 0, 1, -13.0, 0.0, 7.0, 0.0),
    (0, -1, 0, 0, 1, -12.0, 0.0, 6.0, 0.0),
    (0, 0, 2, -2, 0, 11.0, 0.0, 0.0, 0.0),
    (2, 0, -1, 2, 1, -10.0, 0.0, 5.0, 0.0),
    (2, 0, 1, 2, 2, -8.0, 0.0, 3.0, 0.0),
    (0, 1, 0, 2, 2, 7.0, 0.0, -3.0, 0.0),
    (-2, 1, 1, 0, 0, -7.0, 0.0, 0.0, 0.0),
    (0, -1, 0, 2, 2, -7.0, 0.0, 3.0, 0.0),
    (2, 0, 0, 2, 1, -7.0, 0.0, 3.0, 0.0),
    (2, 0, 1, 0, 0, 6.0, 0.0, 0.0, 0.0),
    (-2, 0, 2, 2, 2, 6.0, 0.0, -3.0, 0.0),
    (-2, 0, 1, 2, 1, 6.0, 0.0, -3.0, 0.0),
    (2, 0, -2, 0, 1, -6.0, 0.0, 3.0, 0.0),
    (2, 0, 0, 0, 1, -6.0, 0.0, 3.0, 0.0),
    (0, -1, 1, 0, 0, 5.0, 0.0, 0.0, 0.0),
    (-2, -1, 0, 2, 1, -5.0, 0.0, 3.0, 0.0),
    (-2, 0, 0, 0, 1, -5.0, 0.0, 3.0, 0.0),
    (0, 0, 2, 2, 1, -5.0, 0.0, 3.0, 0.0),
    (-2, 0, 2, 0, 1, 4.0, 0.0, 0.0, 0.0),
    (-2, 1, 0, 2, 1, 4.0, 0.0, 0.0, 0.0),
    (0, 0, 1, -2, 0, 4.0, 0.0, 0.0, 0.0),
    (-1, 0, 1, 0, 0, -4.0, 0.0, 0.0, 0.0),
    (-2, 1, 0, 0, 0, -4.0, 0.0, 0.0, 0.0),
    (1, 0, 0, 0, 0, -4.0, 0.0, 0.0, 0.0),
    (0, 0, 1, 2, 0, 3.0, 0.0, 0.0, 0.0),
    (0, 0, -2, 2, 2, -3.0, 0.0, 0.0, 0.0),
    (-1, -1, 1, 0, 0, -3.0, 0.0, 0.0, 0.0),
    (0, 1, 1, 0, 0, -3.0, 0.0, 0.0, 0.0),
    (0, -1, 1, 2, 2, -3.0, 0.0, 0.0, 0.0),
    (2, -1, -1, 2, 2, -3.0, 0.0, 0.0, 0.0),
    (0, 0, 3, 2, 2, -3.0, 0.0, 0.0, 0.0),
    (2, -1, 0, 2, 2, -3.0, 0.0, 0.0, 0.0),
)
_NUT80_MULT = tuple(tuple(float(row[k]) for row in _NUT80) for k in range(5))  # (5, 63)
_NUT80_COEF = tuple(tuple(row[5 + k] for row in _NUT80) for k in range(4))  # (4, 63)
_NUT_UNIT_RAD = 1.0e-4 * ARCSEC


def _poly_deg(t, coeffs):
    """Horner evaluation of a polynomial in t with coefficients in degrees, returned in radians."""
    acc = coeffs[-1] * t
    for c in coeffs[-2:0:-1]:
        acc = (acc + c) * t
    return (coeffs[0] + acc) * DEG


def nutation_arguments_rad(t):
    """Delaunay-type arguments D, M, M', F, Omega (radians) at T Julian centuries TT (Meeus 22)."""
    d = _poly_deg(t, (297.85036, 445267.111480, -0.0019142, 1.0 / 189474.0))
    m = _poly_deg(t, (357.52772, 35999.050340, -0.0001603, -1.0 / 300000.0))
    mp = _poly_deg(t, (134.96298, 477198.867398, 0.0086972, 1.0 / 56250.0))
    f = _poly_deg(t, (93.27191, 483202.017538, -0.0036825, 1.0 / 327270.0))
    om = _poly_deg(t, (125.04452, -1934.136261, 0.0020708, 1.0 / 450000.0))
    return d, m, mp, f, om


def nutation_rad(tt_s):
    """Nutation in longitude and obliquity (dpsi_rad, deps_rad), IAU 1980 theory.

    The 63 terms of Meeus table 22.A (all IAU 1980 terms of 0.0003 arcsec and larger). Accuracy
    against the full 106-term IAU 1980 series: a few milliarcseconds; against the modern
    IAU 2000A model: about 0.05 arcsec (plus the offsets the IAU 1980 model lacks).
    """
    xp = namespace(tt_s)
    t = julian_centuries(tt_s)
    args = xp.stack(nutation_arguments_rad(t), axis=-1)  # (n, 5)
    phase = xp.matmul(args, asarray_like(_NUT80_MULT, tt_s))  # (n, 63)
    a, b, c, d = (asarray_like(row, tt_s) for row in _NUT80_COEF)
    tcol = t[..., None]
    dpsi = xp.sum((a + b * tcol) * xp.sin(phase), axis=-1) * _NUT_UNIT_RAD
    deps = xp.sum((c + d * tcol) * xp.cos(phase), axis=-1) * _NUT_UNIT_RAD
    return dpsi, deps


def mean_obliquity_rad(tt_s):
    """Mean obliquity of the ecliptic, IAU 1980 (Lieske et al. 1977; Meeus eq. 22.2).

    eps0 = 84381.448" - 46.8150" T - 0.00059" T^2 + 0.001813" T^3, T in Julian centuries TT.
    """
    t = julian_centuries(tt_s)
    return (84381.448 + t * (-46.8150 + t * (-0.00059 + t * 0.001813))) * ARCSEC


def true_obliquity_rad(tt_s):
    """True obliquity eps0 + deps (IAU 1980)."""
    _, deps = nutation_rad(tt_s)
    return mean_obliquity_rad(tt_s) + deps


def equation_of_equinoxes_rad(tt_s):
    """Equation of the equinoxes dpsi cos(eps0) + 0.00264" sin(Om) + 0.000063" sin(2 Om).

    IAU 1994 form (IERS Conventions 1996, ch. 5), with IAU 1980 nutation.
    """
    xp = namespace(tt_s)
    dpsi, _ = nutation_rad(tt_s)
    om = nutation_arguments_rad(julian_centuries(tt_s))[4]
    return (
        dpsi * xp.cos(mean_obliquity_rad(tt_s))
        + (0.00264 * ARCSEC) * xp.sin(om)
        + (0.000063 * ARCSEC) * xp.sin(2.0 * om)
    )


def gast_rad(ut1_s, tt_s):
    """Greenwich apparent sidereal time in [0, 2 pi): GMST (IAU 1982) + equation of equinoxes.

    Accuracy: within 0.01 s of time of the IAU 2006/2000A apparent sidereal time over 1975-2000
    (6 ms measured, mostly the IAU 2000 precession-rate correction; 0.1 ms from the ERFA gst94).
    """
    return wrap_two_pi(gmst_rad(ut1_s) + equation_of_equinoxes_rad(tt_s))


# ---------------------------------------------------------------------------------------------
# Precession and nutation matrices
# ---------------------------------------------------------------------------------------------


def precession_matrix(tt_s):
    """Rotation J2000 mean equator/equinox -> mean equator/equinox of date, IAU 1976.

    P = R3(-z) R2(theta) R3(-zeta), Lieske et al. (1977) angles for start epoch J2000.0
    (Meeus eq. 21.3):
    zeta = 2306.2181" t + 0.30188" t^2 + 0.017998" t^3,
    z    = 2306.2181" t + 1.09468" t^2 + 0.018203" t^3,
    theta = 2004.3109" t - 0.42665" t^2 - 0.041833" t^3.
    Returns (n, 3, 3); v_date = P @ v_j2000.
    """
    xp = namespace(tt_s)
    t = julian_centuries(tt_s)
    zeta = t * (2306.2181 + t * (0.30188 + t * 0.017998)) * ARCSEC
    z = t * (2306.2181 + t * (1.09468 + t * 0.018203)) * ARCSEC
    theta = t * (2004.3109 + t * (-0.42665 - t * 0.041833)) * ARCSEC
    return xp.matmul(rot_z(-z), xp.matmul(rot_y(theta), rot_z(-zeta)))


def nutation_matrix(tt_s):
    """Rotation mean -> true equator and equinox of date: N = R1(-eps) R3(-dpsi) R1(eps0).

    IAU 1980 nutation (see :func:`nutation_rad`), eps = eps0 + deps. Returns (n, 3, 3).
    """
    xp = namespace(tt_s)
    dpsi, deps = nutation_rad(tt_s)
    eps0 = mean_obliquity_rad(tt_s)
    return xp.matmul(rot_x(-(eps0 + deps)), xp.matmul(rot_z(-dpsi), rot_x(eps0)))


def j2000_to_tod_matrix(tt_s):
    """Rotation J2000 -> true equator and equinox of date, N @ P (IAU 1976/1980), (n, 3, 3).

    Agrees with SOFA/ERFA pnm80 to milliarcseconds (nutation truncation); differs from the
    IAU 2006/2000A GCRS -> TETE rotation by under 0.1 arcsec over 1975-2000 (0.09 arcsec
    measured: the IAU 2000 precession-rate correction and the 0.02 arcsec frame bias).
    """
    xp = namespace(tt_s)
    return xp.matmul(nutation_matrix(tt_s), precession_matrix(tt_s))


# ---------------------------------------------------------------------------------------------
# Inertial <-> Earth-fixed
# ---------------------------------------------------------------------------------------------


def _rotate_z(vec, c, s):
    """Passive rotation R3(angle) of (n, 3) vectors given cos and sin of the angle, (n,)."""
    xp = namespace(vec)
    x, y, z = vec[..., 0], vec[..., 1], vec[..., 2]
    return xp.stack((c * x + s * y, -s * x + c * y, z), axis=-1)


def _omega_cross(vec):
    """omega x vec for omega = (0, 0, OMEGA_EARTH_RAD_S)."""
    xp = namespace(vec)
    x, y = vec[..., 0], vec[..., 1]
    return xp.stack(
        (-OMEGA_EARTH_RAD_S * y, OMEGA_EARTH_RAD_S * x, xp.zeros_like(x)), axis=-1
    )


def eci_to_ecef(pos_km, vel_km_s, gast_rad):
    """True-of-date inertial -> Earth-fixed: r_f = R3(GAST) r, v_f = R3(GAST) v - omega x r_f.

    omega = OMEGA_EARTH_RAD_S about +z (IERS mean rate; the difference to the instantaneous rate
    is under 1e-7 relative). Polar motion ignored (about 10 m). Returns (pos_ecef_km,
    vel_ecef_km_s), both (n, 3).
    """
    xp = namespace(pos_km, vel_km_s, gast_rad)
    c, s = xp.cos(gast_rad), xp.sin(gast_rad)
    pos_f = _rotate_z(pos_km, c, s)
    vel_f = _rotate_z(vel_km_s, c, s) - _omega_cross(pos_f)
    return pos_f, vel_f


def ecef_to_eci(pos_ecef_km, vel_ecef_km_s, gast_rad):
    """Inverse of :func:`eci_to_ecef`: r = R3(-GAST) r_f, v = R3(-GAST) (v_f + omega x r_f)."""
    xp = namespace(pos_ecef_km, vel_ecef_km_s, gast_rad)
    c, s = xp.cos(gast_rad), -xp.sin(gast_rad)
    pos = _rotate_z(pos_ecef_km, c, s)
    vel = _rotate_z(vel_ecef_km_s + _omega_cross(pos_ecef_km), c, s)
    return pos, vel


# ---------------------------------------------------------------------------------------------
# WGS-84 geodesy
# ---------------------------------------------------------------------------------------------

_EP2 = WGS84_E2 / (1.0 - WGS84_E2)


def geodetic_from_ecef(pos_km):
    """WGS-84 geodetic latitude, longitude and ellipsoidal height from Earth-fixed positions.

    Bowring (1976, Survey Review 23, 323) iteration on the reduced latitude, three fixed steps
    (each step roughly cubes the error), height from h = p cos(lat) + z sin(lat) - a sqrt(1 -
    e^2 sin^2 lat) which is well conditioned at all latitudes. Accuracy: better than 1e-6 mm from
    the surface to beyond geostationary altitude. Longitude in (-pi, pi]; at the poles lon = 0.
    Returns (lat_rad, lon_rad, alt_km), each (n,).
    """
    xp = namespace(pos_km)
    x, y, z = pos_km[..., 0], pos_km[..., 1], pos_km[..., 2]
    p = xp.sqrt(x * x + y * y)
    lon = wrap_pi(xp.atan2(y, x))
    beta = xp.atan2(z, (1.0 - WGS84_F) * p)
    for _ in range(3):
        sb, cb = xp.sin(beta), xp.cos(beta)
        lat = xp.atan2(
            z + _EP2 * WGS84_B_KM * sb * sb * sb, p - WGS84_E2 * WGS84_A_KM * cb * cb * cb
        )
        beta = xp.atan2((1.0 - WGS84_F) * xp.sin(lat), xp.cos(lat))
    sl = xp.sin(lat)
    alt = p * xp.cos(lat) + z * sl - WGS84_A_KM * xp.sqrt(1.0 - WGS84_E2 * sl * sl)
    return lat, lon, alt


def ecef_from_geodetic(lat_rad, lon_rad, alt_km):
    """Earth-fixed position (n, 3) of WGS-84 geodetic coordinates (exact closed form)."""
    xp = namespace(lat_rad, lon_rad, alt_km)
    sl, cl = xp.sin(lat_rad), xp.cos(lat_rad)
    n_km = WGS84_A_KM / xp.sqrt(1.0 - WGS84_E2 * sl * sl)
    rxy = (n_km + alt_km) * cl
    return xp.stack(
        (rxy * xp.cos(lon_rad), rxy * xp.sin(lon_rad), (n_km * (1.0 - WGS84_E2) + alt_km) * sl),
        axis=-1,
    )


def ground_speed_km_s(pos_ecef_km, vel_ecef_km_s):
    """Speed of the sub-satellite point over the Earth's surface, km/s, (n,).

    The Earth-relative velocity's horizontal part (perpendicular to the geocentric radius) scaled
    by r_surface / r, where r_surface is the WGS-84 ellipsoid radius along the geocentric
    direction. A geocentric (not geodetic-normal) projection: differs from the speed along the
    geodetic ground track by under 0.2 percent at LEO.
    """
    xp = namespace(pos_ecef_km, vel_ecef_km_s)
    r = norm(pos_ecef_km)
    u = pos_ecef_km / r[..., None]
    v_rad = xp.sum(vel_ecef_km_s * u, axis=-1)
    v_h = vel_ecef_km_s - v_rad[..., None] * u
    ux, uy, uz = u[..., 0], u[..., 1], u[..., 2]
    r_surf = 1.0 / xp.sqrt((ux * ux + uy * uy) / WGS84_A_KM**2 + uz * uz / WGS84_B_KM**2)
    return norm(v_h) * r_surf / r


def subpoint_of_direction(unit_eci, gast_rad):
    """Latitude and longitude (radians) of the point below a direction (e.g. the subsolar point).

    The direction is rotated Earth-fixed with R3(GAST); lat = atan2(z, sqrt(x^2 + y^2)),
    lon = atan2(y, x) in (-pi, pi]. This is the geocentric latitude of the direction, and it is
    also the geodetic latitude of the ellipsoid point whose normal is parallel to the direction
    (where a body at infinity is in the zenith), so it is consistent with
    :func:`kernels.eclipse.sun_elevation_rad`. Input need not be normalised.
    """
    xp = namespace(unit_eci, gast_rad)
    c, s = xp.cos(gast_rad), xp.sin(gast_rad)
    u = _rotate_z(unit_eci, c, s)
    x, y, z = u[..., 0], u[..., 1], u[..., 2]
    return xp.atan2(z, xp.sqrt(x * x + y * y)), wrap_pi(xp.atan2(y, x))
