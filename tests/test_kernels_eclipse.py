"""kernels.eclipse: Earth shadow on a spacecraft, Sun elevation and terminator on the ground."""

from __future__ import annotations

import numpy as np

from kernels import earth, eclipse, sun_moon
from tests.util import to_numpy

R_E = 6378.137
AU = 149597870.7


def _a(xp, a):
    return xp.asarray(np.asarray(a, dtype=np.float64))


def _sun(n, direction=(1.0, 0.0, 0.0)):
    d = np.asarray(direction, dtype=np.float64)
    return np.tile(d / np.linalg.norm(d) * AU, (n, 1))


def test_lit_between_earth_and_sun_and_umbra_behind(xp):
    pos = np.array(
        [[7000.0, 0.0, 0.0], [-7000.0, 0.0, 0.0], [-400000.0, 0.0, 0.0], [0.0, 7000.0, 0.0]]
    )
    frac = to_numpy(eclipse.sunlit_fraction(_a(xp, pos), _a(xp, _sun(4))))
    np.testing.assert_array_equal(frac, [1.0, 0.0, 0.0, 1.0])
    lit = to_numpy(eclipse.in_sunlight(_a(xp, pos), _a(xp, _sun(4))))
    np.testing.assert_array_equal(lit, [True, False, False, True])


def test_sweep_through_shadow_boundary_is_monotone(xp):
    r = R_E + 220.0
    b = np.arcsin(R_E / r)
    # ang: angle from the anti-Sun direction, which is also the angle between the Earth's centre
    # and the Sun seen from the spacecraft; the Sun's centre is on the Earth's limb at ang = b.
    edge = b
    ang = np.linspace(edge - 0.01, edge + 0.01, 2001)
    pos = np.stack([-r * np.cos(ang), r * np.sin(ang), 0 * ang], axis=-1)
    frac = to_numpy(eclipse.sunlit_fraction(_a(xp, pos), _a(xp, _sun(ang.size))))
    assert np.all((frac >= 0.0) & (frac <= 1.0))
    assert frac[0] == 0.0 and frac[-1] == 1.0
    assert np.all(np.diff(frac) >= -1e-12)
    penumbra = (frac > 0) & (frac < 1)
    # Solar disc 0.53 deg wide: the penumbra spans about that angle seen from the spacecraft.
    width_deg = np.degrees(np.ptp(ang[penumbra]))
    assert 0.3 < width_deg < 0.8
    half = np.interp(0.5, frac, ang)
    assert abs(half - edge) < 2e-4
    # A thicker occulting atmosphere only darkens.
    thick = to_numpy(
        eclipse.sunlit_fraction(_a(xp, pos), _a(xp, _sun(ang.size)), atmosphere_km=50.0)
    )
    assert np.all(thick <= frac + 1e-15) and np.any(thick < frac)
    lit = to_numpy(eclipse.in_sunlight(_a(xp, pos), _a(xp, _sun(ang.size)), threshold=0.5))
    np.testing.assert_array_equal(lit, frac > 0.5)


def test_annular_case_far_away(xp):
    # Far beyond the umbra tip (~1.4e6 km) the Earth is a small disc inside the Sun's disc.
    pos = np.array([[-5.0e6, 0.0, 0.0]])
    frac = to_numpy(eclipse.sunlit_fraction(_a(xp, pos), _a(xp, _sun(1))))
    a = np.arcsin(696000.0 / (AU + 5.0e6))
    b = np.arcsin(R_E / 5.0e6)
    np.testing.assert_allclose(frac, [1 - b * b / (a * a)], rtol=1e-12)


def test_sun_elevation_at_subsolar_and_terminator(xp):
    tt = _a(xp, [-7.8e8, -7.79e8, 0.0])
    gast = earth.gast_rad(tt - 46.0, tt)
    _, _, _, sun_unit = sun_moon.sun_apparent(tt)
    sun_ecef, _ = earth.eci_to_ecef(sun_unit, xp.zeros_like(sun_unit), gast)
    lat_s, lon_s = earth.subpoint_of_direction(sun_unit, gast)
    elev = to_numpy(eclipse.sun_elevation_rad(lat_s, lon_s, sun_ecef))
    np.testing.assert_allclose(elev, np.pi / 2, atol=1e-9)
    elev_anti = to_numpy(eclipse.sun_elevation_rad(-lat_s, lon_s + np.pi, sun_ecef))
    np.testing.assert_allclose(elev_anti, -np.pi / 2, atol=1e-9)
    # Along the terminator the Sun is on the geodetic horizon.
    lon = np.linspace(-np.pi, np.pi, 73)
    n = lon.size
    lat_s_n, lon_s_n = to_numpy(lat_s)[0], to_numpy(lon_s)[0]
    term = eclipse.terminator_lat_rad(_a(xp, lon), _a(xp, lat_s_n), _a(xp, lon_s_n))
    sun_rows = _a(xp, np.tile(to_numpy(sun_ecef)[0], (n, 1)))
    elev_t = to_numpy(eclipse.sun_elevation_rad(term, _a(xp, lon), sun_rows))
    np.testing.assert_allclose(elev_t, 0.0, atol=1e-12)
    term = to_numpy(term)
    assert np.all(np.abs(term) <= np.pi / 2)
