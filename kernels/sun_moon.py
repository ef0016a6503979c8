"""Geocentric apparent Sun and Moon, true equator and equinox of date.

Sun: Meeus, "Astronomical Algorithms", 2nd ed. (1998), ch. 25 "higher accuracy" method: the
Earth's heliocentric coordinates from VSOP87 (Bretagnon & Francou 1988) as truncated in Meeus
ch. 32 / appendix III (terms of 1e-7 rad and larger in L and R; the two largest orders of B),
reduced to the FK5 system (Meeus eq. 32.3), aberration -20.4898"/R, IAU 1980 nutation
(kernels.earth.nutation_rad) and the true obliquity. Accuracy: about 1 arcsec in longitude
(measured against astropy's apparent Sun, GCRS -> TETE: under 0.001 deg in RA and Dec over
1975-2000), distance to about 3e-6 relative.

Moon: Meeus ch. 47 (a truncation of ELP-2000/82, Chapront-Touze & Chapront 1983): the 60
longitude/distance terms of table 47.A, the 60 latitude terms of table 47.B, and the additive
terms from Venus (A1), Jupiter (A2) and the Earth's flattening (L' - F, A3). Nutation in
longitude added for the apparent place; the Moon's 0.7 arcsec light-time term is neglected.
Accuracy: about 10 arcsec in longitude and 4 arcsec in latitude (Meeus), distance to tens of km.

Time argument: TT is used for TDB (the difference is under 2 ms). Directions are geocentric (not
topocentric: the Moon's parallax from the ground is up to 1 deg).
"""

from __future__ import annotations

import math

from kernels._xp import ARCSEC, DEG, asarray_like, cross, dot, namespace, norm, wrap_two_pi
from kernels.constants import AU_KM
from kernels.earth import mean_obliquity_rad, nutation_rad
from kernels.timescales import julian_centuries

__all__ = [
    "sun_apparent",
    "sun_pos_tod_km",
    "moon_apparent",
    "moon_pos_tod_km",
    "moon_phase_angle_rad",
    "moon_illuminated_fraction",
]


def _table(text):
    """Parse a whitespace table (one term a line) into a tuple of float columns."""
    rows = [tuple(float(v) for v in line.split()) for line in text.strip().splitlines()]
    return tuple(tuple(row[k] for row in rows) for k in range(len(rows[0])))


# ---------------------------------------------------------------------------------------------
# VSOP87 Earth (Meeus appendix III): A [1e-8 rad or 1e-8 AU], B [rad], C [rad per millennium].
# Term = A cos(B + C tau), tau = Julian millennia TDB since J2000.0.
# ---------------------------------------------------------------------------------------------

_L0 = _table("""
175347046 0 0
3341656 4.6692568 6283.0758500
34894 4.62610 12566.15170
3497 2.7441 5753.3849
3418 2.8289 3.5231
3136 3.6277 77713.7715
2676 4.4181 7860.4194
2343 6.1352 3930.2097
1324 0.7425 11506.7698
1273 2.0371 529.6910
1199 1.1096 1577.3435
990 5.233 5884.927
902 2.045 26.298
857 3.508 398.149
780 1.179 5223.694
753 2.533 5507.553
505 4.583 18849.228
492 4.205 775.523
357 2.920 0.067
317 5.849 11790.629
284 1.899 796.298
271 0.315 10977.079
243 0.345 5486.778
206 4.806 2544.314
205 1.869 5573.143
202 2.458 6069.777
156 0.833 213.299
132 3.411 2942.463
126 1.083 20.775
115 0.645 0.980
103 0.636 4694.003
102 0.976 15720.839
102 4.267 7.114
99 6.21 2146.17
98 0.68 155.42
86 5.98 161000.69
85 1.30 6275.96
85 3.67 71430.70
80 1.81 17260.15
79 3.04 12036.46
75 1.76 5088.63
74 3.50 3154.69
74 4.68 801.82
70 0.83 9437.76
62 3.98 8827.39
61 1.82 7084.90
57 2.78 6286.60
56 4.39 14143.50
56 3.47 6279.55
52 0.19 12139.55
52 1.33 1748.02
51 0.28 5856.48
49 0.49 1194.45
41 5.37 8429.24
41 2.40 19651.05
39 6.17 10447.39
37 6.04 10213.29
37 2.57 1059.38
36 1.71 2352.87
36 1.78 6812.77
33 0.59 17789.85
30 0.44 83996.85
30 2.74 1349.87
25 3.16 4690.48
""")
_L1 = _table("""
628331966747 0 0
206059 2.678235 6283.07585
4303 2.6351 12566.1517
425 1.590 3.523
119 5.796 26.298
109 2.966 1577.344
93 2.59 18849.23
72 1.14 529.69
68 1.87 398.15
67 4.41 5507.55
59 2.89 5223.69
56 2.17 155.42
45 0.40 796.30
36 0.47 775.52
29 2.65 7.11
21 5.34 0.98
19 1.85 5486.78
19 4.97 213.30
17 2.99 6275.96
16 0.03 2544.31
16 1.43 2146.17
15 1.21 10977.08
12 2.83 1748.02
12 3.26 5088.63
12 5.27 1194.45
12 2.08 4694.00
11 0.77 553.57
10 1.30 6286.60
10 4.24 1349.87
9 2.70 242.73
9 5.64 951.72
8 5.30 2352.87
6 2.65 9437.76
6 4.67 4690.48
""")
_L2 = _table("""
52919 0 0
8720 1.0721 6283.0758
309 0.867 12566.152
27 0.05 3.52
16 5.19 26.30
16 3.68 155.42
10 0.76 18849.23
9 2.06 77713.77
7 0.83 775.52
5 4.66 1577.34
4 1.03 7.11
4 3.44 5573.14
3 5.14 796.30
3 6.05 5507.55
3 1.19 242.73
3 6.12 529.69
3 0.31 398.15
3 2.28 553.57
2 4.38 5223.69
2 3.75 0.98
""")
_L3 = _table("""
289 5.844 6283.076
35 0 0
17 5.49 12566.15
3 5.20 155.42
1 4.72 3.52
1 5.30 18849.23
1 5.97 242.73
""")
_L4 = _table("""
114 3.142 0
8 4.13 6283.08
1 3.84 12566.15
""")
_L5 = _table("""
1 3.14 0
""")
_B0 = _table("""
280 3.199 84334.662
102 5.422 5507.553
80 3.88 5223.69
44 3.70 2352.87
32 4.00 1577.34
""")
_B1 = _table("""
9 3.90 5507.55
6 1.73 5223.69
""")
_R0 = _table("""
100013989 0 0
1670700 3.0984635 6283.0758500
13956 3.05525 12566.15170
3084 5.1985 77713.7715
1628 1.1739 5753.3849
1576 2.8469 7860.4194
925 5.453 11506.770
542 4.564 3930.210
472 3.661 5884.927
346 0.964 5507.553
329 5.900 5223.694
307 0.299 5573.143
243 4.273 11790.629
212 5.847 1577.344
186 5.022 10977.079
175 3.012 18849.228
110 5.055 5486.778
98 0.89 6069.78
86 5.69 15720.84
86 1.27 161000.69
65 0.27 17260.15
63 0.92 529.69
57 2.01 83996.85
56 5.24 71430.70
49 3.25 2544.31
47 2.58 775.52
45 5.54 9437.76
43 6.01 6275.96
39 5.36 4694.00
38 2.39 8827.39
37 0.83 19651.05
37 4.90 12139.55
36 1.67 12036.46
35 1.84 2942.46
33 0.24 7084.90
32 0.18 5088.63
32 1.78 398.15
28 1.21 6286.60
28 1.90 6279.55
26 4.59 10447.39
""")
_R1 = _table("""
103019 1.107490 6283.075850
1721 1.0644 12566.1517
702 3.142 0
32 1.02 18849.23
31 2.84 5507.55
25 1.32 5223.69
18 1.42 1577.34
10 5.91 10977.08
9 1.42 6275.96
9 0.27 5486.78
""")
_R2 = _table("""
4359 5.7846 6283.0758
124 5.579 12566.152
12 3.14 0
9 3.63 77713.77
6 1.87 5573.14
3 5.47 18849.23
""")
_R3 = _table("""
145 4.273 6283.076
7 3.92 12566.15
""")
_R4 = _table("""
4 2.56 6283.08
""")


def _vsop(tau, series):
    """Sum_k tau^k Sum_i A_i cos(B_i + C_i tau) / 1e8 for a list of VSOP87 series."""
    xp = namespace(tau)
    total = xp.zeros_like(tau)
    power = xp.ones_like(tau)
    tcol = tau[..., None]
    for a, b, c in series:
        a_, b_, c_ = (asarray_like(col, tau) for col in (a, b, c))
        total = total + power * xp.sum(a_ * xp.cos(b_ + c_ * tcol), axis=-1)
        power = power * tau
    return total * 1.0e-8


def _ecliptic_to_tod(lon_rad, lat_rad, eps_rad):
    """Unit vectors (n, 3) in the equatorial frame from ecliptic lon/lat and obliquity."""
    xp = namespace(lon_rad, lat_rad, eps_rad)
    cb = xp.cos(lat_rad)
    x = cb * xp.cos(lon_rad)
    y = cb * xp.sin(lon_rad)
    z = xp.sin(lat_rad)
    ce, se = xp.cos(eps_rad), xp.sin(eps_rad)
    return xp.stack((x, ce * y - se * z, se * y + ce * z), axis=-1)


def _radec(unit):
    xp = namespace(unit)
    x, y, z = unit[..., 0], unit[..., 1], unit[..., 2]
    return wrap_two_pi(xp.atan2(y, x)), xp.atan2(z, xp.sqrt(x * x + y * y))


def sun_apparent(tt_s):
    """Geocentric apparent Sun, true equator and equinox of date (Meeus ch. 25 + VSOP87).

    Returns (ra_rad in [0, 2 pi), dec_rad, dist_km, unit_tod (n, 3)). ``dist_km`` is the
    geometric Earth-Sun distance. Accuracy about 1 arcsec (see module docstring).
    """
    xp = namespace(tt_s)
    t = julian_centuries(tt_s)
    tau = t / 10.0
    lon_earth = _vsop(tau, (_L0, _L1, _L2, _L3, _L4, _L5))
    lat_earth = _vsop(tau, (_B0, _B1))
    r_au = _vsop(tau, (_R0, _R1, _R2, _R3, _R4))
    # Geocentric geometric coordinates, VSOP87 dynamical ecliptic and equinox of date.
    lon = lon_earth + math.pi
    lat = -lat_earth
    # Reduction to FK5 (Meeus eq. 32.3).
    lon_p = lon - (1.397 * t + 0.00031 * t * t) * DEG
    lat = lat + (0.03916 * ARCSEC) * (xp.cos(lon_p) - xp.sin(lon_p))
    lon = lon - 0.09033 * ARCSEC
    # Nutation and annual aberration (Meeus eq. 25.10).
    dpsi, deps = nutation_rad(tt_s)
    lon = lon + dpsi - (20.4898 * ARCSEC) / r_au
    unit = _ecliptic_to_tod(lon, lat, mean_obliquity_rad(tt_s) + deps)
    ra, dec = _radec(unit)
    return ra, dec, r_au * AU_KM, unit


def sun_pos_tod_km(tt_s):
    """Geocentric Sun position (n, 3) km, true equator and equinox of date.

    Direction is the apparent one (aberration included, as seen by an observer moving with the
    Earth, which is what illumination and shadow geometry need); length is the distance.
    """
    _, _, dist_km, unit = sun_apparent(tt_s)
    return unit * dist_km[..., None]


# ---------------------------------------------------------------------------------------------
# Moon (Meeus ch. 47)
# ---------------------------------------------------------------------------------------------

# Table 47.A: multipliers of D, M, M', F; sum_l coefficient [1e-6 deg] (sine);
# sum_r coefficient [1e-3 km] (cosine).
_MOON_LR = _table("""
0 0 1 0 6288774 -20905355
2 0 -1 0 1274027 -3699111
2 0 0 0 658314 -2955968
0 0 2 0 213618 -569925
0 1 0 0 -185116 48888
0 0 0 2 -114332 -3149
2 0 -2 0 58793 246158
2 -1 -1 0 57066 -152138
2 0 1 0 53322 -170733
2 -1 0 0 45758 -204586
0 1 -1 0 -40923 -129620
1 0 0 0 -34720 108743
0 1 1 0 -30383 104755
2 0 0 -2 15327 10321
0 0 1 2 -12528 0
0 0 1 -2 10980 79661
4 0 -1 0 10675 -34782
0 0 3 0 10034 -23210
4 0 -2 0 8548 -21636
2 1 -1 0 -7888 24208
2 1 0 0 -6766 30824
1 0 -1 0 -5163 -8379
1 1 0 0 4987 -16675
2 -1 1 0 4036 -12831
2 0 2 0 3994 -10445
4 0 0 0 3861 -11650
2 0 -3 0 3665 14403
0 1 -2 0 -2689 -7003
2 0 -1 2 -2602 0
2 -1 -2 0 2390 10056
1 0 1 0 -2348 6322
2 -2 0 0 2236 -9884
0 1 2 0 -2120 5751
0 2 0 0 -2069 0
2 -2 -1 0 2048 -4950
2 0 1 -2 -1773 4130
2 0 0 2 -1595 0
4 -1 -1 0 1215 -3958
0 0 2 2 -1110 0
3 0 -1 0 -892 3258
2 1 1 0 -810 2616
4 -1 -2 0 759 -1897
0 2 -1 0 -713 -2117
2 2 -1 0 -700 2354
2 1 -2 0 691 0
2 -1 0 -2 596 0
4 0 1 0 549 -1423
0 0 4 0 537 -1117
4 -1 0 0 520 -1571
1 0 -2 0 -487 -1739
2 1 0 -2 -399 0
0 0 2 -2 -381 -4421
1 1 1 0 351 0
3 0 -2 0 -340 0
4 0 -3 0 330 0
2 -1 2 0 327 0
0 2 1 0 -323 1165
1 1 -1 0 299 0
2 0 3 0 294 0
2 0 -1 -2 0 8752
""")

# Table 47.B: multipliers of D, M, M', F; sum_b coefficient [1e-6 deg] (sine).
_MOON_B = _table("""
0 0 0 1 5128122
0 0 1 1 280602
0 0 1 -1 277693
2 0 0 -1 173237
2 0 -1 1 55413
2 0 -1 -1 46271
2 0 0 1 32573
0 0 2 1 17198
2 0 1 -1 9266
0 0 2 -1 8822
2 -1 0 -1 8216
2 0 -2 -1 4324
2 0 1 1 4200
2 1 0 -1 -3359
2 -1 -1 1 2463
2 -1 0 1 2211
2 -1 -1 -1 2065
0 1 -1 -1 -1870
4 0 -1 -1 1828
0 1 0 1 -1794
0 0 0 3 -1749
0 1 -1 1 -1565
1 0 0 1 -1491
0 1 1 1 -1475
0 1 1 -1 -1410
0 1 0 -1 -1344
1 0 0 -1 -1335
0 0 3 1 1107
4 0 0 -1 1021
4 0 -1 1 833
0 0 1 -3 777
4 0 -2 1 671
2 0 0 -3 607
2 0 2 -1 596
2 -1 1 -1 491
2 0 -2 1 -451
0 0 3 -1 439
2 0 2 1 422
2 0 -3 -1 421
2 1 -1 1 -366
2 1 0 1 -351
4 0 0 1 331
2 -1 1 1 315
2 -2 0 -1 302
0 0 1 3 -283
2 1 1 -1 -229
1 1 0 -1 223
1 1 0 1 223
0 1 -2 -1 -220
2 1 -1 -1 -220
1 0 1 1 -185
2 -1 -2 -1 181
0 1 2 1 -177
4 0 -2 -1 176
4 -1 -1 -1 166
1 0 1 -1 -164
4 0 1 -1 132
1 0 -1 -1 -119
4 -1 0 -1 115
2 -2 0 1 107
""")


def _poly_deg(t, coeffs):
    """c0 + c1 t + c2 t^2 + ... with coefficients in degrees, returned in radians."""
    acc = coeffs[-1]
    for c in coeffs[-2::-1]:
        acc = acc * t + c
    return acc * DEG


def _moon_ecliptic(tt_s):
    """Geometric ecliptic longitude, latitude (mean equinox of date, rad) and distance (km)."""
    xp = namespace(tt_s)
    t = julian_centuries(tt_s)
    lp = _poly_deg(t, (218.3164477, 481267.88123421, -0.0015786, 1.0 / 538841.0, -1.0 / 65194000.0))
    d = _poly_deg(t, (297.8501921, 445267.1114034, -0.0018819, 1.0 / 545868.0, -1.0 / 113065000.0))
    m = _poly_deg(t, (357.5291092, 35999.0502909, -0.0001536, 1.0 / 24490000.0))
    mp = _poly_deg(t, (134.9633964, 477198.8675055, 0.0087414, 1.0 / 69699.0, -1.0 / 14712000.0))
    f = _poly_deg(t, (93.2720950, 483202.0175233, -0.0036539, -1.0 / 3526000.0, 1.0 / 863310000.0))
    a1 = _poly_deg(t, (119.75, 131.849))
    a2 = _poly_deg(t, (53.09, 479264.290))
    a3 = _poly_deg(t, (313.45, 481266.484))
    ecc = 1.0 - t * (0.002516 + 0.0000074 * t)  # E, eccentricity factor for terms in M
    args = xp.stack((d, m, mp, f), axis=-1)  # (n, 4)
    ecol = ecc[..., None]

    def series(table):
        mult = asarray_like(table[:4], tt_s)  # (4, k)
        phase = xp.matmul(args, mult)  # (n, k)
        abs_m = xp.abs(mult[1, :])
        efac = xp.where(abs_m == 1.0, ecol, xp.where(abs_m == 2.0, ecol * ecol, xp.ones_like(ecol)))
        return phase, efac

    phase, efac = series(_MOON_LR)
    coef_l = asarray_like(_MOON_LR[4], tt_s)
    coef_r = asarray_like(_MOON_LR[5], tt_s)
    sum_l = xp.sum(coef_l * efac * xp.sin(phase), axis=-1)
    sum_r = xp.sum(coef_r * efac * xp.cos(phase), axis=-1)
    phase_b, efac_b = series(_MOON_B)
    sum_b = xp.sum(asarray_like(_MOON_B[4], tt_s) * efac_b * xp.sin(phase_b), axis=-1)

    sum_l = sum_l + 3958.0 * xp.sin(a1) + 1962.0 * xp.sin(lp - f) + 318.0 * xp.sin(a2)
    sum_b = (
        sum_b
        - 2235.0 * xp.sin(lp)
        + 382.0 * xp.sin(a3)
        + 175.0 * xp.sin(a1 - f)
        + 175.0 * xp.sin(a1 + f)
        + 127.0 * xp.sin(lp - mp)
        - 115.0 * xp.sin(lp + mp)
    )
    lon = lp + sum_l * (1.0e-6 * DEG)
    lat = sum_b * (1.0e-6 * DEG)
    dist_km = 385000.56 + sum_r * 1.0e-3
    return lon, lat, dist_km


def moon_apparent(tt_s):
    """Geocentric apparent Moon, true equator and equinox of date (Meeus ch. 47).

    Returns (ra_rad in [0, 2 pi), dec_rad, dist_km, unit_tod (n, 3)). Accuracy about 10 arcsec
    (0.003 deg) in direction against the full ELP-2000/82 theory; geocentric, not topocentric.
    """
    lon, lat, dist_km = _moon_ecliptic(tt_s)
    dpsi, deps = nutation_rad(tt_s)
    unit = _ecliptic_to_tod(lon + dpsi, lat, mean_obliquity_rad(tt_s) + deps)
    ra, dec = _radec(unit)
    return ra, dec, dist_km, unit


def moon_pos_tod_km(tt_s):
    """Geocentric Moon position (n, 3) km, true equator and equinox of date."""
    _, _, dist_km, unit = moon_apparent(tt_s)
    return unit * dist_km[..., None]


def moon_phase_angle_rad(tt_s):
    """Phase angle Sun-Moon-Earth in [0, pi] (Meeus ch. 48, computed from the vectors).

    0 at full Moon, pi at new Moon. Accuracy about 0.003 deg (that of the positions).
    """
    xp = namespace(tt_s)
    moon = moon_pos_tod_km(tt_s)
    to_sun = sun_pos_tod_km(tt_s) - moon
    to_earth = -moon
    return xp.atan2(norm(cross(to_sun, to_earth)), dot(to_sun, to_earth))


def moon_illuminated_fraction(tt_s):
    """Illuminated fraction of the Moon's disc seen from the Earth's centre, k = (1 + cos i) / 2
    (Meeus eq. 48.1), i the phase angle. In [0, 1]."""
    xp = namespace(tt_s)
    return 0.5 * (1.0 + xp.cos(moon_phase_angle_rad(tt_s)))
