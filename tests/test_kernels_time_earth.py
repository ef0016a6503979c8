"""kernels.timescales and kernels.earth against ERFA and astropy (test-only references)."""

from __future__ import annotations

import numpy as np
import pytest

from kernels import earth, timescales
from tests.util import to_numpy

erfa = pytest.importorskip("erfa")
pytest.importorskip("astropy")
from astropy import units as u  # noqa: E402
from astropy.coordinates import (  # noqa: E402
    GCRS,
    TETE,
    CartesianRepresentation,
    EarthLocation,
    SkyCoord,
)
from astropy.time import Time  # noqa: E402
from astropy.utils import iers  # noqa: E402

J2000 = 2451545.0
DAY = 86400.0
ARCSEC = np.pi / 180.0 / 3600.0

# IERS Bulletin C: instants from which TAI-UTC holds.
LEAPS = [
    ("1972-01-01", 10), ("1972-07-01", 11), ("1973-01-01", 12), ("1974-01-01", 13),
    ("1975-01-01", 14), ("1976-01-01", 15), ("1977-01-01", 16), ("1978-01-01", 17),
    ("1979-01-01", 18), ("1980-01-01", 19), ("1981-07-01", 20), ("1982-07-01", 21),
    ("1983-07-01", 22), ("1985-07-01", 23), ("1988-01-01", 24), ("1990-01-01", 25),
    ("1991-01-01", 26), ("1992-07-01", 27), ("1993-07-01", 28), ("1994-07-01", 29),
    ("1996-01-01", 30), ("1997-07-01", 31), ("1999-01-01", 32), ("2006-01-01", 33),
    ("2009-01-01", 34), ("2012-07-01", 35), ("2015-07-01", 36), ("2017-01-01", 37),
]  # fmt: skip


def _utc_s_of(iso):
    t = Time(iso, scale="utc")
    return ((np.asarray(t.jd1) - J2000) + np.asarray(t.jd2)) * DAY


@pytest.fixture(scope="module")
def leap_table():
    table_utc_s = np.array([_utc_s_of(d) for d, _ in LEAPS], dtype=np.float64)
    table_dat = np.array([v for _, v in LEAPS], dtype=np.float64)
    # The hand table agrees with ERFA's built-in one.
    for (d, v) in LEAPS:
        y, m, dd = (int(p) for p in d.split("-"))
        assert erfa.dat(y, m, dd, 0.5) == v
    return table_utc_s, table_dat


@pytest.fixture(autouse=True, scope="module")
def _no_iers_download():
    with iers.conf.set_temp("auto_download", False):
        yield


def _a(xp, a):
    return xp.asarray(np.asarray(a, dtype=np.float64))


def _ang_diff(a, b):
    return (np.asarray(a) - np.asarray(b) + np.pi) % (2 * np.pi) - np.pi


@pytest.fixture(scope="module")
def times_1975_2000():
    """300 instants spread over 1975-2000 (JD, avoiding whole days)."""
    return np.linspace(2442413.5, 2451544.5, 300) + 0.3719


# ----------------------------------------------------------------------------------- time


def test_tt_minus_utc_july_1975(xp, leap_table):
    tab_utc, tab_dat = (_a(xp, t) for t in leap_table)
    utc = _a(xp, [_utc_s_of("1975-07-15T12:00:00"), _utc_s_of("1975-07-24T21:18:00")])
    tt = timescales.tt_s_from_utc_s(utc, tab_utc, tab_dat)
    np.testing.assert_allclose(to_numpy(tt - utc), 46.184, atol=1e-6)
    np.testing.assert_array_equal(to_numpy(timescales.tai_minus_utc_s(utc, tab_utc, tab_dat)), 14.0)


def test_tai_minus_utc_steps_at_instant(xp, leap_table):
    tab_utc, tab_dat = (_a(xp, t) for t in leap_table)
    t0 = _utc_s_of("1976-01-01")
    utc = _a(xp, [t0 - 1e-3, t0, t0 + 1.0, _utc_s_of("1970-06-01"), _utc_s_of("2020-01-01")])
    got = to_numpy(timescales.tai_minus_utc_s(utc, tab_utc, tab_dat))
    np.testing.assert_array_equal(got, [14.0, 15.0, 15.0, 10.0, 37.0])


def test_tt_matches_astropy_and_round_trips(xp, leap_table):
    tab_utc, tab_dat = (_a(xp, t) for t in leap_table)
    jd = np.linspace(2441500.3, 2451544.9, 500)  # 1972-2000
    t = Time(jd, format="jd", scale="utc")
    ref = ((t.tt.jd1 - J2000) + t.tt.jd2) * DAY
    utc = _a(xp, (jd - J2000) * DAY)
    tt = timescales.tt_s_from_utc_s(utc, tab_utc, tab_dat)
    assert np.abs(to_numpy(tt) - ref).max() < 1e-4  # float64 JD rounding in the input
    back = timescales.utc_s_from_tt_s(tt, tab_utc, tab_dat)
    assert np.abs(to_numpy(back - utc)).max() < 1e-6
    # Round trip right around a leap instant (outside the inserted second itself).
    t0 = leap_table[0][10]
    near = _a(xp, [t0 - 2.0, t0 - 1e-3, t0, t0 + 1e-3, t0 + 0.5])
    tt_near = timescales.tt_s_from_utc_s(near, tab_utc, tab_dat)
    back = timescales.utc_s_from_tt_s(tt_near, tab_utc, tab_dat)
    assert np.abs(to_numpy(back - near)).max() < 1e-6


def test_ut1_interpolation_against_astropy(xp):
    # Daily UT1-UTC at 0h UTC for 10-31 July 1975 from astropy's IERS-B table.
    days = Time("1975-07-10", scale="utc") + np.arange(22) * u.day
    table_utc = ((days.jd1 - J2000) + days.jd2) * DAY
    table_dut1 = np.asarray(days.ut1.delta_ut1_utc, dtype=np.float64)  # seconds
    probe = Time("1975-07-15", scale="utc") + np.linspace(0.0, 10.0, 97) * u.day
    utc = ((probe.jd1 - J2000) + probe.jd2) * DAY
    ref = ((probe.ut1.jd1 - J2000) + probe.ut1.jd2) * DAY
    got = timescales.ut1_s_from_utc_s(_a(xp, utc), _a(xp, table_utc), _a(xp, table_dut1))
    err = np.abs(to_numpy(got) - ref).max()
    print(f"UT1 interpolation vs astropy: {err * 1e3:.3f} ms")
    assert err < 2e-3
    # Outside the table UT1 = UTC; table nodes reproduced exactly.
    out = _a(xp, [table_utc[0] - 3600.0, table_utc[-1] + 1.0, table_utc[3]])
    got = to_numpy(timescales.ut1_s_from_utc_s(out, _a(xp, table_utc), _a(xp, table_dut1)))
    np.testing.assert_allclose(got - to_numpy(out), [0.0, 0.0, table_dut1[3]], atol=1e-9)


def test_julian_centuries(xp):
    got = to_numpy(timescales.julian_centuries(_a(xp, [0.0, 36525.0 * DAY, -0.25 * 36525 * DAY])))
    np.testing.assert_allclose(got, [0.0, 1.0, -0.25], rtol=0, atol=1e-15)


# ---------------------------------------------------------------------------- sidereal time


def test_gmst_against_astropy(xp, times_1975_2000):
    jd = times_1975_2000
    t = Time(jd, format="jd", scale="ut1")
    got = to_numpy(earth.gmst_rad(_a(xp, (jd - J2000) * DAY)))
    assert np.all((got >= 0) & (got < 2 * np.pi))
    err06 = np.abs(_ang_diff(got, t.sidereal_time("mean", "greenwich").rad)).max()
    err06 *= DAY / (2 * np.pi)
    err82 = np.abs(_ang_diff(got, t.sidereal_time("mean", "greenwich", model="IAU1982").rad)).max()
    err82 *= DAY / (2 * np.pi)
    print(f"GMST vs astropy IAU2006: {err06 * 1e3:.3f} ms, vs IAU1982: {err82 * 1e6:.3f} us")
    assert err06 < 0.1
    assert err82 < 1e-5


def test_era_against_erfa(xp, times_1975_2000):
    jd = times_1975_2000
    got = to_numpy(earth.era_rad(_a(xp, (jd - J2000) * DAY)))
    assert np.abs(_ang_diff(got, erfa.era00(jd, 0.0 * jd))).max() < 1e-10


def test_gast_against_astropy(xp, times_1975_2000):
    jd = times_1975_2000
    t = Time(jd, format="jd", scale="ut1")
    tt_s = ((t.tt.jd1 - J2000) + t.tt.jd2) * DAY
    got = to_numpy(earth.gast_rad(_a(xp, (jd - J2000) * DAY), _a(xp, tt_s)))
    err06 = np.abs(_ang_diff(got, t.sidereal_time("apparent", "greenwich").rad)).max()
    st94 = t.sidereal_time("apparent", "greenwich", model="IAU1994").rad
    err94 = np.abs(_ang_diff(got, st94)).max()
    err06, err94 = err06 * DAY / (2 * np.pi), err94 * DAY / (2 * np.pi)
    print(f"GAST vs astropy IAU2006A: {err06 * 1e3:.3f} ms, vs IAU1994: {err94 * 1e3:.4f} ms")
    assert err06 < 0.01
    assert err94 < 1e-3


# ------------------------------------------------------------------ precession and nutation


def test_nutation_and_obliquity_against_erfa(xp, times_1975_2000):
    jd = times_1975_2000
    tt = _a(xp, (jd - J2000) * DAY)
    dpsi, deps = (to_numpy(v) for v in earth.nutation_rad(tt))
    dpsi_ref, deps_ref = erfa.nut80(jd, 0.0 * jd)
    err = max(np.abs(dpsi - dpsi_ref).max(), np.abs(deps - deps_ref).max()) / ARCSEC
    print(f"IAU 1980 nutation (63 terms) vs ERFA nut80 (106 terms): {err * 1e3:.2f} mas")
    assert err < 0.01
    eps0 = to_numpy(earth.mean_obliquity_rad(tt))
    np.testing.assert_allclose(eps0, erfa.obl80(jd, 0.0 * jd), rtol=0, atol=1e-12)
    np.testing.assert_allclose(to_numpy(earth.true_obliquity_rad(tt)), eps0 + deps, atol=1e-15)
    eqeq = to_numpy(earth.equation_of_equinoxes_rad(tt))
    assert np.abs(eqeq - erfa.eqeq94(jd, 0.0 * jd)).max() < 0.01 * ARCSEC
    args = earth.nutation_arguments_rad(timescales.julian_centuries(tt))
    assert len(args) == 5


def test_precession_nutation_matrices_against_erfa(xp, times_1975_2000):
    jd = times_1975_2000
    tt = _a(xp, (jd - J2000) * DAY)
    p = to_numpy(earth.precession_matrix(tt))
    n = to_numpy(earth.nutation_matrix(tt))
    pn = to_numpy(earth.j2000_to_tod_matrix(tt))
    assert p.shape == (jd.size, 3, 3)
    assert np.abs(p - erfa.pmat76(jd, 0.0 * jd)).max() < 1e-12
    assert np.abs(n - erfa.nutm80(jd, 0.0 * jd)).max() < 0.01 * ARCSEC
    err = np.abs(pn - erfa.pnm80(jd, 0.0 * jd)).max()
    print(f"J2000->TOD vs ERFA pnm80: {err / ARCSEC * 1e3:.2f} mas")
    assert err < 0.01 * ARCSEC
    eye = np.broadcast_to(np.eye(3), pn.shape)
    np.testing.assert_allclose(np.einsum("nij,nkj->nik", pn, pn), eye, atol=1e-14)


def test_j2000_to_tod_against_astropy_tete(times_1975_2000):
    jd = times_1975_2000
    t = Time(jd, format="jd", scale="tt")
    rng = np.random.default_rng(7)
    v = rng.normal(size=(jd.size, 3))
    v /= np.linalg.norm(v, axis=1)[:, None]
    c = SkyCoord(
        CartesianRepresentation(v.T * u.one), frame=GCRS(obstime=t), representation_type="cartesian"
    )
    ref = c.transform_to(TETE(obstime=t)).cartesian.xyz.value.T
    ref /= np.linalg.norm(ref, axis=1)[:, None]
    got = np.einsum("nij,nj->ni", earth.j2000_to_tod_matrix((jd - J2000) * DAY), v)
    err = np.arcsin(np.linalg.norm(np.cross(got, ref), axis=1)).max() / ARCSEC
    print(f"J2000->TOD vs astropy GCRS->TETE (IAU 2006/2000A): {err:.3f} arcsec")
    assert err < 0.2


# ------------------------------------------------------------------------------- frames


def test_eci_ecef_round_trip_and_rotation_term(xp):
    rng = np.random.default_rng(3)
    pos = rng.normal(size=(50, 3)) * 7000.0
    vel = rng.normal(size=(50, 3)) * 7.0
    gast = rng.uniform(0, 2 * np.pi, 50)
    pf, vf = earth.eci_to_ecef(_a(xp, pos), _a(xp, vel), _a(xp, gast))
    pb, vb = earth.ecef_to_eci(pf, vf, _a(xp, gast))
    np.testing.assert_allclose(to_numpy(pb), pos, atol=1e-9)
    np.testing.assert_allclose(to_numpy(vb), vel, atol=1e-12)
    # A point fixed on the Earth moves in the inertial frame with omega x r.
    pf = np.array([[6378.137, 0.0, 0.0], [0.0, 4000.0, 3000.0]])
    g = np.array([0.3, 1.2])
    p_i, v_i = earth.ecef_to_eci(_a(xp, pf), _a(xp, np.zeros((2, 3))), _a(xp, g))
    p_i, v_i = to_numpy(p_i), to_numpy(v_i)
    omega = np.array([0.0, 0.0, 7.292115e-5])
    np.testing.assert_allclose(v_i, np.cross(omega, p_i), atol=1e-15)
    # Rotation sign: R3(gast) takes the inertial x axis to longitude -gast.
    pf, _ = earth.eci_to_ecef(_a(xp, [[1.0, 0.0, 0.0]]), _a(xp, [[0.0, 0.0, 0.0]]), _a(xp, [0.5]))
    np.testing.assert_allclose(to_numpy(pf), [[np.cos(0.5), -np.sin(0.5), 0.0]], atol=1e-15)


def test_geodetic_against_astropy(xp):
    rng = np.random.default_rng(11)
    n = 400
    lat = np.concatenate(
        [rng.uniform(-np.pi / 2, np.pi / 2, n - 6), [np.pi / 2, -np.pi / 2, 0, 0, 1e-9, -1e-9]]
    )
    lon = np.concatenate([rng.uniform(-np.pi, np.pi, n - 6), [0, 0, np.pi, -np.pi / 2, 0, 0]])
    alt = np.concatenate([rng.uniform(-1.0, 1000.0, n - 6), [0, 400, 220, 0, 36000, 1e-3]])
    loc = EarthLocation.from_geodetic(lon * u.rad, lat * u.rad, alt * u.km, ellipsoid="WGS84")
    ref_xyz = np.stack([loc.x.to_value(u.km), loc.y.to_value(u.km), loc.z.to_value(u.km)], axis=-1)
    xyz = to_numpy(earth.ecef_from_geodetic(_a(xp, lat), _a(xp, lon), _a(xp, alt)))
    assert np.abs(xyz - ref_xyz).max() < 1e-9  # km, i.e. 1 micrometre
    glat, glon, galt = (to_numpy(v) for v in earth.geodetic_from_ecef(_a(xp, ref_xyz)))
    ref = EarthLocation.from_geocentric(*(ref_xyz.T * u.km)).to_geodetic("WGS84")
    r_km = np.linalg.norm(ref_xyz, axis=1)
    lat_err_km = np.abs(glat - ref.lat.rad).max() * r_km.max()
    lon_err_km = np.abs(_ang_diff(glon, ref.lon.rad) * np.cos(glat)).max() * r_km.max()
    alt_err_km = np.abs(galt - ref.height.to_value(u.km)).max()
    print(f"geodetic vs astropy: lat {lat_err_km * 1e6:.3f} mm, lon {lon_err_km * 1e6:.3f} mm, "
          f"alt {alt_err_km * 1e6:.3f} mm")
    assert max(lat_err_km, lon_err_km, alt_err_km) < 1e-6  # 1 mm
    # Round trip against the inputs; longitude in (-pi, pi].
    assert np.all((glon > -np.pi) & (glon <= np.pi))
    assert np.abs(galt - alt).max() < 1e-6
    assert np.abs(glat - lat).max() < 1e-12


def test_ground_speed_equatorial_circular(xp):
    r = 6378.137 + 220.0
    v = np.sqrt(398600.4418 / r)
    ang = np.array([0.0, 1.0, 2.5])
    pos_i = np.stack([r * np.cos(ang), r * np.sin(ang), 0 * ang], axis=-1)
    vel_i = np.stack([-v * np.sin(ang), v * np.cos(ang), 0 * ang], axis=-1)
    pf, vf = earth.eci_to_ecef(_a(xp, pos_i), _a(xp, vel_i), _a(xp, [0.2, 0.7, 3.0]))
    got = to_numpy(earth.ground_speed_km_s(pf, vf))
    np.testing.assert_allclose(got, (v - 7.292115e-5 * r) * 6378.137 / r, rtol=1e-12)
    # Radial motion does not count.
    got = to_numpy(earth.ground_speed_km_s(_a(xp, [[0.0, 0.0, 7000.0]]), _a(xp, [[0.0, 0.0, 1.0]])))
    np.testing.assert_allclose(got, [0.0], atol=1e-15)


def test_subpoint_of_direction(xp):
    u_eci = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 2.0], [1.0, 1.0, np.sqrt(2.0)], [-1.0, 0.0, 0.0]])
    gast = np.array([0.5, 0.1, 0.0, 0.0])
    lat, lon = (to_numpy(v) for v in earth.subpoint_of_direction(_a(xp, u_eci), _a(xp, gast)))
    np.testing.assert_allclose(lat, [0.0, np.pi / 2, np.pi / 4, 0.0], atol=1e-15)
    np.testing.assert_allclose([lon[0], lon[2], lon[3]], [-0.5, np.pi / 4, np.pi], atol=1e-15)
