"""kernels.sun_moon against astropy's apparent places (GCRS -> TETE), test-only reference."""

from __future__ import annotations

import numpy as np
import pytest

from kernels import sun_moon
from tests.util import to_numpy

pytest.importorskip("astropy")
from astropy import units as u  # noqa: E402
from astropy.coordinates import TETE, get_body  # noqa: E402
from astropy.time import Time  # noqa: E402
from astropy.utils import iers  # noqa: E402

J2000 = 2451545.0
DAY = 86400.0

SUN_MAX_ERR_DEG = 0.002  # documented ~1 arcsec; brief requirement 0.01 deg
MOON_MAX_ERR_DEG = 0.01  # Meeus ch. 47: ~10 arcsec; bound stated here


def _apparent(body, jd_tt):
    with iers.conf.set_temp("auto_download", False):
        t = Time(jd_tt, format="jd", scale="tt")
        c = get_body(body, t).transform_to(TETE(obstime=t))
        xyz = c.cartesian.xyz.to_value(u.km).T
        return c.ra.rad, c.dec.rad, c.distance.to_value(u.km), xyz


@pytest.fixture(scope="module")
def sun_ref():
    jd = np.linspace(2442413.5, 2451544.5, 200) + 0.2137  # 1975-2000
    return jd, _apparent("sun", jd)


@pytest.fixture(scope="module")
def moon_ref():
    jd = np.linspace(2442413.5, 2451544.5, 300) + 0.0731
    return jd, _apparent("moon", jd)


def _a(xp, a):
    return xp.asarray(np.asarray(a, dtype=np.float64))


def _errors_deg(ra, dec, ra_ref, dec_ref):
    dra = (np.asarray(ra) - ra_ref + np.pi) % (2 * np.pi) - np.pi
    return np.degrees(np.abs(dra)).max(), np.degrees(np.abs(np.asarray(dec) - dec_ref)).max()


def test_sun_against_astropy(xp, sun_ref):
    jd, (ra_ref, dec_ref, dist_ref, _) = sun_ref
    ra, dec, dist, unit = sun_moon.sun_apparent(_a(xp, (jd - J2000) * DAY))
    ra, dec, dist, unit = (to_numpy(v) for v in (ra, dec, dist, unit))
    err_ra, err_dec = _errors_deg(ra, dec, ra_ref, dec_ref)
    print(f"Sun vs astropy TETE 1975-2000: max |dRA| {err_ra:.5f} deg, "
          f"max |dDec| {err_dec:.5f} deg, "
          f"max dist rel {np.abs(dist / dist_ref - 1).max():.1e}")
    assert err_ra < SUN_MAX_ERR_DEG and err_dec < SUN_MAX_ERR_DEG
    assert np.abs(dist / dist_ref - 1).max() < 1e-5
    assert np.all((ra >= 0) & (ra < 2 * np.pi))
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1.0, atol=1e-15)
    np.testing.assert_allclose(unit[:, 2], np.sin(dec), atol=1e-15)


def test_sun_pos_tod_km(xp):
    tt = _a(xp, [-7.8e8, 0.0, 1.0e8])
    pos = to_numpy(sun_moon.sun_pos_tod_km(tt))
    _, _, dist, unit = (to_numpy(v) for v in sun_moon.sun_apparent(tt))
    np.testing.assert_allclose(pos, unit * dist[:, None], rtol=1e-15)
    assert np.all(np.abs(np.linalg.norm(pos, axis=1) / 149597870.7 - 1) < 0.0175)


def test_moon_against_astropy(xp, moon_ref):
    jd, (ra_ref, dec_ref, dist_ref, _) = moon_ref
    ra, dec, dist, unit = sun_moon.moon_apparent(_a(xp, (jd - J2000) * DAY))
    ra, dec, dist, unit = (to_numpy(v) for v in (ra, dec, dist, unit))
    err_ra, err_dec = _errors_deg(ra, dec, ra_ref, dec_ref)
    err_km = np.abs(dist - dist_ref).max()
    print(f"Moon vs astropy TETE 1975-2000: max |dRA| {err_ra:.5f} deg, "
          f"max |dDec| {err_dec:.5f} deg, "
          f"max |d dist| {err_km:.1f} km")
    assert err_ra < MOON_MAX_ERR_DEG and err_dec < MOON_MAX_ERR_DEG
    assert err_km < 100.0  # astropy's distance is light-time retarded (~40 km)
    pos = to_numpy(sun_moon.moon_pos_tod_km(_a(xp, (jd[:5] - J2000) * DAY)))
    np.testing.assert_allclose(pos, unit[:5] * dist[:5, None], rtol=1e-15)


def test_moon_phase_against_astropy_vectors(xp, sun_ref, moon_ref):
    jd = moon_ref[0]
    moon = moon_ref[1][3]
    sun = _apparent("sun", jd)[3]
    to_sun, to_earth = sun - moon, -moon
    ref = np.arctan2(
        np.linalg.norm(np.cross(to_sun, to_earth), axis=1), np.sum(to_sun * to_earth, axis=1)
    )
    tt = _a(xp, (jd - J2000) * DAY)
    phase = to_numpy(sun_moon.moon_phase_angle_rad(tt))
    frac = to_numpy(sun_moon.moon_illuminated_fraction(tt))
    err = np.degrees(np.abs(phase - ref)).max()
    print(f"Moon phase angle vs astropy vectors: {err:.4f} deg")
    assert err < 0.02
    np.testing.assert_allclose(frac, 0.5 * (1 + np.cos(ref)), atol=2e-4)
    assert np.all((frac >= 0) & (frac <= 1))
    assert frac.min() < 0.01 and frac.max() > 0.99
