"""Orbit kernels: force model, numerical propagator, Hermite tables, elements, mean-element path."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kernels import integrators, orbit
from kernels.constants import GM_EARTH_KM3_S2 as MU, R_EARTH_EQ_KM as R_EQ
from tests.util import to_numpy

DEG = math.pi / 180.0
MODEL = orbit.default_force_model(j3_j4=True, drag=False)


def _state(xp, hp_km, ha_km, i_deg=51.8, raan=0.3, argp=1.0, nu=0.5):
    """(pos, vel) arrays of shape (n, 3) on ``xp`` from perigee/apogee altitudes (lists ok)."""
    hp, ha = np.atleast_1d(hp_km).astype(float), np.atleast_1d(ha_km).astype(float)
    rp, ra = R_EQ + hp, R_EQ + ha
    a, e = (rp + ra) / 2.0, (ra - rp) / (ra + rp)
    n = a.shape[0]
    full = lambda v: np.broadcast_to(np.asarray(v, dtype=float), (n,)).copy()  # noqa: E731
    pos, vel = orbit.state_from_elements(a, e, full(i_deg * DEG), full(raan), full(argp), full(nu))
    return xp.asarray(pos), xp.asarray(vel)


# ---------------------------------------------------------------------------------------------
# Force model
# ---------------------------------------------------------------------------------------------
def _zonal_potential(pos, model):
    r = np.linalg.norm(pos, axis=-1)
    s = pos[..., 2] / r
    q = model.r_eq_km / r
    p2 = 0.5 * (3 * s**2 - 1)
    p3 = 0.5 * (5 * s**3 - 3 * s)
    p4 = (35 * s**4 - 30 * s**2 + 3) / 8
    return -model.mu_km3_s2 / r * (model.j2 * q**2 * p2 + model.j3 * q**3 * p3 + model.j4 * q**4 * p4)


def test_acceleration_is_the_gradient_of_the_zonal_potential(xp):
    pos = np.array([[6600.0, 300.0, 2000.0], [-3000.0, 4000.0, -4500.0], [100.0, -50.0, 6700.0]])
    acc = to_numpy(orbit.acceleration_km_s2(xp.asarray(pos), xp.asarray(np.zeros_like(pos)), MODEL))
    zonal = acc + MU * pos / np.linalg.norm(pos, axis=-1, keepdims=True) ** 3  # minus two-body
    h = 0.05  # km; central differences of the zonal part alone (truncation ~1e-16)
    grad = np.stack([(_zonal_potential(pos + h * np.eye(3)[k], MODEL)
                      - _zonal_potential(pos - h * np.eye(3)[k], MODEL)) / (2 * h) for k in range(3)], -1)
    assert np.abs(zonal - grad).max() < 1e-14  # km/s^2; the J3 and J4 terms are ~1e-8
    j2 = to_numpy(orbit.acceleration_km_s2(xp.asarray(pos), xp.asarray(np.zeros_like(pos)),
                                           MODEL._replace(j3=0.0, j4=0.0)))
    assert 1e-7 < np.abs(j2 - acc).max() < 1e-6  # J3/J4 are small but present


def test_drag_opposes_motion_relative_to_the_air(xp):
    model = orbit.default_force_model(drag=True)
    pos, vel = _state(xp, 225, 225)
    ballistic = xp.asarray([0.005])
    with_drag = to_numpy(orbit.acceleration_km_s2(pos, vel, model, ballistic))
    without = to_numpy(orbit.acceleration_km_s2(pos, vel, model))  # no ballistic: no drag
    drag = with_drag - without
    w = model.omega_earth_rad_s
    p, v = to_numpy(pos)[0], to_numpy(vel)[0]
    v_rel = v - np.cross([0.0, 0.0, w], p)
    assert np.dot(drag[0], v_rel) < 0.0
    assert abs(np.dot(drag[0], v_rel) / (np.linalg.norm(drag[0]) * np.linalg.norm(v_rel)) + 1.0) < 1e-12
    # 1000 * B * rho * v^2 at 225 km (rho ~ 1.4e-10 kg/m^3 in this model): ~5e-8 km/s^2.
    assert 1e-8 < np.linalg.norm(drag[0]) < 1e-7


# ---------------------------------------------------------------------------------------------
# Numerical propagation
# ---------------------------------------------------------------------------------------------
def test_propagator_matches_dop853_after_one_day():
    from scipy.integrate import solve_ivp

    pos, vel = _state(np, 225, 225)

    def rhs(_t, y):
        return np.concatenate([y[3:], orbit.acceleration_km_s2(y[None, :3], y[None, 3:], MODEL)[0]])

    ref = solve_ivp(rhs, (0.0, 86400.0), np.concatenate([pos[0], vel[0]]), method="DOP853",
                    rtol=1e-12, atol=1e-9)
    p, v = orbit.propagate(pos, vel, 86400.0, MODEL)
    assert np.linalg.norm(p[0] - ref.y[:3, -1]) < 0.010  # km: 10 m (measured ~1.3 mm)
    assert np.linalg.norm(v[0] - ref.y[3:, -1]) < 1e-5  # km/s


def test_short_propagation_agrees_across_namespaces(xp):
    model = orbit.default_force_model(drag=True)
    pos, vel = _state(np, [186, 225], [220, 300])
    ballistic = np.array([0.004, 0.006])
    p_ref, v_ref = orbit.propagate(pos, vel, 600.0, model, ballistic=ballistic)
    p, v = orbit.propagate(xp.asarray(pos), xp.asarray(vel), 600.0, model, ballistic=xp.asarray(ballistic))
    assert np.abs(to_numpy(p) - p_ref).max() < 1e-9
    assert np.abs(to_numpy(v) - v_ref).max() < 1e-12


def test_two_body_energy_and_momentum_are_conserved():
    model = MODEL._replace(j2=0.0, j3=0.0, j4=0.0)
    a, e = 8000.0, 0.1
    pos, vel = orbit.state_from_elements(np.array([a]), np.array([e]), np.array([0.5]),
                                         np.array([1.0]), np.array([2.0]), np.array([0.0]))
    p, v = orbit.propagate(pos, vel, 86400.0, model)

    def energy(p, v):
        return 0.5 * np.sum(v * v, -1) - MU / np.linalg.norm(p, axis=-1)

    assert abs(energy(p, v)[0] / energy(pos, vel)[0] - 1.0) < 1e-10
    h0, h1 = np.cross(pos, vel)[0], np.cross(p, v)[0]
    assert np.linalg.norm(h1 - h0) / np.linalg.norm(h0) < 1e-10
    # and it is still the same Kepler orbit: compare with the analytic position
    n = math.sqrt(MU / a**3)
    m1 = n * 86400.0
    ecc = orbit.kepler_solve(np.array([m1]), np.array([e]))
    nu = 2 * np.arctan2(np.sqrt(1 + e) * np.sin(ecc / 2), np.sqrt(1 - e) * np.cos(ecc / 2))
    p_kep, _ = orbit.state_from_elements(np.array([a]), np.array([e]), np.array([0.5]),
                                         np.array([1.0]), np.array([2.0]), nu)
    assert np.linalg.norm(p[0] - p_kep[0]) < 1e-3  # km


def test_backward_propagation_returns_to_the_start():
    pos, vel = _state(np, 186, 220)
    p, v = orbit.propagate(pos, vel, 7200.0, MODEL)
    p0, v0 = orbit.propagate(p, v, -7200.0, MODEL)
    assert np.abs(p0 - pos).max() < 1e-6
    assert np.abs(v0 - vel).max() < 1e-9
    same_p, _ = orbit.propagate(pos, vel, 0.0, MODEL)
    assert np.array_equal(same_p, pos) and same_p is not pos


def test_grid_states_match_single_propagations(xp):
    pos, vel = _state(np, [186, 225], [220, 300])
    grid = [0.0, 45.0, 200.0, 1111.0, 1800.0]  # non-uniform: dense output between steps
    p, v = orbit.propagate_grid(xp.asarray(pos), xp.asarray(vel), grid, MODEL)
    p, v = to_numpy(p), to_numpy(v)
    assert p.shape == (2, len(grid), 3) and v.shape == (2, len(grid), 3)
    assert np.array_equal(p[:, 0], pos)
    for k, t in enumerate(grid[1:], start=1):
        pk, vk = orbit.propagate(pos, vel, t, MODEL)
        assert np.abs(p[:, k] - pk).max() < 1e-6, t  # km
        assert np.abs(v[:, k] - vk).max() < 1e-9, t


def test_uniform_grid_with_short_last_interval():
    pos, vel = _state(np, 225, 225)
    span = 3 * 3600.0 + 17.0
    grid = np.append(np.arange(0.0, span, 60.0), span)
    p, _ = orbit.propagate_grid(pos, vel, grid, MODEL)
    pe, _ = orbit.propagate(pos, vel, span, MODEL)
    p60, _ = orbit.propagate(pos, vel, 60.0 * 100, MODEL)
    assert np.abs(p[0, -1] - pe[0]).max() < 1e-6
    assert np.abs(p[0, 100] - p60[0]).max() < 1e-6
    with pytest.raises(ValueError):
        orbit.propagate_grid(pos, vel, [10.0, 20.0], MODEL)


def test_batch_of_three_equals_three_single_runs():
    model = orbit.default_force_model(drag=True)
    pos, vel = _state(np, [186, 225, 300], [220, 230, 350], raan=[0.1, 2.0, 4.0])
    ballistic = np.array([0.003, 0.005, 0.008])
    p, v = orbit.propagate(pos, vel, 5400.0, model, ballistic=ballistic)
    for k in range(3):
        pk, vk = orbit.propagate(pos[k:k + 1], vel[k:k + 1], 5400.0, model, ballistic=ballistic[k:k + 1])
        assert np.abs(p[k] - pk[0]).max() < 1e-9
        assert np.abs(v[k] - vk[0]).max() < 1e-12


def test_drag_lowers_the_orbit():
    model = orbit.default_force_model(drag=True)
    pos, vel = _state(np, 225, 225)
    p, v = orbit.propagate(pos, vel, 86400.0, model, ballistic=np.array([0.005]))
    p0, v0 = orbit.propagate(pos, vel, 86400.0, model)
    a1 = orbit.elements_from_state(p, v).a_km[0]
    a0 = orbit.elements_from_state(p0, v0).a_km[0]
    assert -10.0 < a1 - a0 < -0.5  # km per day at 225 km for B = 0.005 m^2/kg


def test_adams_coefficients_are_the_textbook_ones():
    ab, am = integrators.adams_coefficients(4)
    assert np.allclose(np.array(ab) * 24, [55, -59, 37, -9])
    assert np.allclose(np.array(am) * 720, [251, 646, -264, 106, -19])
    ab8, am8 = integrators.adams_coefficients(8)
    assert abs(sum(ab8) - 1) < 1e-14 and abs(sum(am8) - 1) < 1e-14


# ---------------------------------------------------------------------------------------------
# Hermite tables
# ---------------------------------------------------------------------------------------------
def test_hermite_interpolation_error_on_trajectory_tables():
    pos, vel = _state(np, 225, 225)
    fine = np.arange(0.0, 2 * 3600.0 + 1.0, 1.0)
    p, v = orbit.propagate_grid(pos, vel, fine, MODEL)
    for spacing, tol_m in ((60, 0.6), (30, 0.05)):
        hp, hv = orbit.hermite_interpolate(fine[::spacing], p[0, ::spacing], v[0, ::spacing], fine)
        err_m = np.linalg.norm(hp - p[0], axis=-1).max() * 1e3
        assert err_m < tol_m, (spacing, err_m)
        assert np.linalg.norm(hv - v[0], axis=-1).max() < 0.05e-3  # km/s
    # nodes are reproduced exactly (up to rounding)
    hp, hv = orbit.hermite_interpolate(fine[::60], p[0, ::60], v[0, ::60], fine[::60])
    assert np.abs(hp - p[0, ::60]).max() < 1e-9 and np.abs(hv - v[0, ::60]).max() < 1e-12


def test_hermite_runs_on_every_namespace(xp):
    t = np.array([0.0, 10.0, 20.0])
    pos = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0], [4.0, 8.0, 12.0]])
    vel = np.gradient(pos, t, axis=0)
    q = np.array([0.0, 5.0, 12.5, 20.0])
    hp, hv = orbit.hermite_interpolate(xp.asarray(t), xp.asarray(pos), xp.asarray(vel), xp.asarray(q))
    ref_p, ref_v = orbit.hermite_interpolate(t, pos, vel, q)
    assert to_numpy(hp).shape == (4, 3)
    assert np.allclose(to_numpy(hp), ref_p, atol=1e-12) and np.allclose(to_numpy(hv), ref_v, atol=1e-12)
    assert np.allclose(ref_p[[0, 3]], pos[[0, 2]])


# ---------------------------------------------------------------------------------------------
# Elements
# ---------------------------------------------------------------------------------------------
def test_elements_round_trip(xp):
    # circular, near-circular, Soyuz-like 186 x 220 km, eccentric, equatorial, retrograde
    a = np.array([6603.137, 6603.137, R_EQ + 203.0, 12000.0, 7000.0, 7200.0])
    e = np.array([0.0, 1e-4, 17.0 / (2 * R_EQ + 406.0), 0.4, 0.01, 0.002])
    i = np.array([51.8, 51.8, 51.8, 63.4, 0.0, 98.0]) * DEG
    raan = np.array([0.3, 1.2, 2.5, 4.0, 0.0, 6.0])
    argp = np.array([1.0, 2.0, 0.1, 4.5, 0.0, 3.0])
    nu = np.array([0.5, 6.0, 3.0, 2.0, 1.0, 0.01])
    args = [xp.asarray(x) for x in (a, e, i, raan, argp, nu)]
    pos, vel = orbit.state_from_elements(*args, MU)
    el = orbit.elements_from_state(pos, vel, MU)
    pos2, vel2 = orbit.state_from_elements(el.a_km, el.e, el.i_rad, el.raan_rad, el.argp_rad, el.nu_rad, MU)
    assert np.abs(to_numpy(pos2) - to_numpy(pos)).max() < 1e-8
    assert np.abs(to_numpy(vel2) - to_numpy(vel)).max() < 1e-11
    got = {k: to_numpy(v) for k, v in el._asdict().items()}
    assert np.allclose(got["a_km"], a, rtol=1e-12)
    assert np.allclose(got["e"], e, atol=1e-12)
    assert np.allclose(got["i_rad"], i, atol=1e-12)
    u = (argp + nu) % (2 * np.pi)
    ang = lambda x, y: np.abs((x - y + np.pi) % (2 * np.pi) - np.pi)  # noqa: E731
    assert ang(got["u_rad"], u).max() < 1e-10
    # well-defined where the orbit allows: raan (inclined), argp and nu (e >= 1e-4)
    inclined = i > 0
    assert ang(got["raan_rad"][inclined], raan[inclined]).max() < 1e-10
    ecc = e >= 1e-4
    assert ang(got["argp_rad"][ecc], argp[ecc]).max() < 1e-7
    assert ang(got["nu_rad"][ecc], nu[ecc]).max() < 1e-7
    # mean anomaly consistent with Kepler's equation
    ecc_anom = to_numpy(orbit.kepler_solve(el.mean_anom_rad, el.e))
    nu_back = 2 * np.arctan2(np.sqrt(1 + got["e"]) * np.sin(ecc_anom / 2), np.sqrt(1 - got["e"]) * np.cos(ecc_anom / 2))
    assert ang(nu_back, got["nu_rad"]).max() < 1e-9
    for value in got.values():
        assert np.all(np.isfinite(value))


def test_soyuz_orbit_perigee_apogee_and_period(xp):
    pos, vel = _state(xp, 186.0, 220.0, nu=1.3)
    hp, ha = orbit.perigee_apogee_alt_km(pos, vel, MU, R_EQ)
    assert abs(to_numpy(hp)[0] - 186.0) < 1e-8 and abs(to_numpy(ha)[0] - 220.0) < 1e-8
    el = orbit.elements_from_state(pos, vel, MU)
    period = to_numpy(orbit.period_s(el.a_km, MU))[0]
    assert abs(period - 2 * math.pi * math.sqrt((R_EQ + 203.0) ** 3 / MU)) < 1e-8
    assert 88.0 * 60 < period < 89.0 * 60


def test_kepler_solve(xp):
    m = np.linspace(-20.0, 20.0, 4001)
    for ecc in (0.0, 1e-4, 0.1, 0.5, 0.9, 0.99):
        e = np.full_like(m, ecc)
        big_e = to_numpy(orbit.kepler_solve(xp.asarray(m), xp.asarray(e)))
        assert np.abs(big_e - ecc * np.sin(big_e) - m).max() < 1e-13, ecc


# ---------------------------------------------------------------------------------------------
# Mean elements and the fast path
# ---------------------------------------------------------------------------------------------
def test_j2_secular_raan_rate_matches_the_textbook():
    model = orbit.default_force_model(j3_j4=False)
    pos, vel = _state(np, 225, 225)
    p1, v1 = orbit.propagate(pos, vel, 86400.0, model)
    m0 = orbit.mean_elements_from_state(pos, vel, model)
    m1 = orbit.mean_elements_from_state(p1, v1, model)
    drift = float(m1.raan_rad[0] - m0.raan_rad[0])
    a, e, i = float(m0.a_km[0]), float(m0.e[0]), float(m0.i_rad[0])
    n = math.sqrt(MU / a**3)
    textbook = -1.5 * n * model.j2 * (R_EQ / (a * (1 - e * e))) ** 2 * math.cos(i) * 86400.0
    assert -5.5 < math.degrees(drift) < -5.3  # "about -5 deg/day"
    assert abs(drift / textbook - 1) < 2e-3  # first order in J2
    assert abs(drift / (float(m0.raan_rate_rad_s[0]) * 86400.0) - 1) < 1e-4  # with J2^2 terms
    assert abs(float(m1.a_km[0] - m0.a_km[0])) < 1e-3  # the mean semi-major axis does not drift


def test_mean_elements_kozai_a_agrees_with_the_average():
    pos, vel = _state(np, [225, 186], [225, 220])
    avg = orbit.mean_elements_from_state(pos, vel, MODEL)
    koz = orbit.mean_elements_from_state(pos, vel, MODEL, method="kozai_a")
    osc = orbit.elements_from_state(pos, vel)
    assert np.abs(koz.a_km - avg.a_km).max() < 0.05  # km (J2^2 and J3/J4 short-period terms)
    assert np.abs(osc.a_km - avg.a_km).max() > 1.0  # the correction matters
    with pytest.raises(ValueError):
        orbit.mean_elements_from_state(pos, vel, MODEL, method="nope")


@pytest.mark.parametrize("i_deg,bound_km", [(51.8, 5.0), (28.5, 10.0)])
def test_fast_path_error_after_one_day(i_deg, bound_km):
    grid = np.arange(0.0, 86400.0 + 1.0, 600.0)
    pos, vel = _state(np, [225, 186], [225, 220], i_deg=i_deg, raan=[0.3, 2.0], argp=[1.0, 4.0],
                      nu=[0.5, 3.0])
    p_num, v_num = orbit.propagate_grid(pos, vel, grid, MODEL)
    mean = orbit.mean_elements_from_state(pos, vel, MODEL)
    p, v = orbit.propagate_mean(mean, grid[None, :])
    err = np.linalg.norm(p - p_num, axis=-1)
    # measured: 3.4 km (51.8 deg), 8.1 km (28.5 deg), all short-period: no growth over the day
    assert err.max() < bound_km
    assert err[:, -1].max() < bound_km
    assert np.linalg.norm(v - v_num, axis=-1).max() < 0.012  # km/s


def test_fast_path_is_exact_kepler_without_rates(xp):
    rng = np.random.default_rng(7)
    n = 200
    a = rng.uniform(6500.0, 8000.0, n)
    e = rng.uniform(0.0, 0.01, n)
    i, raan, argp, m = rng.uniform(0, 3.1, n), rng.uniform(0, 6.3, n), rng.uniform(0, 6.3, n), rng.uniform(0, 6.3, n)
    n0 = np.sqrt(MU / a**3)
    z = np.zeros(n)
    mean = orbit.MeanElements(*(xp.asarray(x) for x in (a, e, i, raan, argp, m, n0, z, z)))
    dt = rng.uniform(-1e5, 1e5, n)
    p, v = orbit.propagate_mean(mean, xp.asarray(dt))
    ecc = orbit.kepler_solve(m + n0 * dt, e)
    nu = 2 * np.arctan2(np.sqrt(1 + e) * np.sin(ecc / 2), np.sqrt(1 - e) * np.cos(ecc / 2))
    p_ref, v_ref = orbit.state_from_elements(a, e, i, raan, argp, nu)
    assert np.abs(to_numpy(p) - p_ref).max() < 1e-6  # km
    assert np.abs(to_numpy(v) - v_ref).max() < 1e-7  # km/s


def test_fast_path_shapes_and_broadcasting(xp):
    rng = np.random.default_rng(3)
    a = rng.uniform(6600, 6900, 4)
    el = orbit.mean_elements_from_classical(
        *(xp.asarray(x) for x in (a, rng.uniform(0, 0.01, 4), rng.uniform(0.5, 1.5, 4),
                                  rng.uniform(0, 6, 4), rng.uniform(0, 6, 4), rng.uniform(0, 6, 4))),
        MODEL)
    times = np.array([0.0, 100.0, 5000.0])
    p_shared, v_shared = orbit.propagate_mean(el, xp.asarray(times[None, :]))  # (1, m): matmul path
    p_full, _ = orbit.propagate_mean(el, xp.asarray(np.tile(times, (4, 1))))  # (n, m)
    assert to_numpy(p_shared).shape == (4, 3, 3) and to_numpy(v_shared).shape == (4, 3, 3)
    assert np.abs(to_numpy(p_shared) - to_numpy(p_full)).max() < 1e-9
    for j, t in enumerate(times):
        p1, v1 = orbit.propagate_mean(el, xp.asarray(np.full(4, t)))
        assert to_numpy(p1).shape == (4, 3)
        assert np.abs(to_numpy(p1) - to_numpy(p_shared)[:, j]).max() < 1e-9
        assert np.abs(to_numpy(v1) - to_numpy(v_shared)[:, j]).max() < 1e-12


def test_polynomial_sincos(xp):
    x = np.linspace(-3000.0, 3000.0, 200001)
    s, c = orbit._sincos(xp.asarray(x))
    assert np.abs(to_numpy(s) - np.sin(x)).max() < 3e-11
    assert np.abs(to_numpy(c) - np.cos(x)).max() < 3e-11
