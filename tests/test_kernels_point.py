"""The one-point kernels (kernels/point.py) against the array kernels they twin.

Where only + - * / and sqrt are involved the answers must be the same bits; where libm's
trigonometry is involved (NumPy may use its own SIMD sin/cos), within a few ulps.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from experience.simulation.trajectory import lvlh_basis
from kernels import _xp, earth, orbit, point

RNG = np.random.default_rng(20260717)


def _orbit_states(n: int):
    r = RNG.uniform(6500.0, 42000.0, n)
    u = RNG.normal(size=(n, 3))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    pos = u * r[:, None]
    vel = RNG.normal(size=(n, 3)) * 4.0
    return pos, vel


def test_hermite_is_the_array_kernel_bit_for_bit():
    m = 50
    t_grid = np.cumsum(RNG.uniform(20.0, 90.0, m))
    pos, vel = _orbit_states(m)
    queries = np.concatenate([RNG.uniform(t_grid[0] - 30.0, t_grid[-1] + 30.0, 300), t_grid])
    p_ref, v_ref = orbit.hermite_interpolate(t_grid, pos, vel, queries)
    for k, t in enumerate(queries):
        j = point.interval(t_grid, float(t))
        p, v = point.hermite(float(t_grid[j]), float(t_grid[j + 1]), tuple(pos[j]), tuple(vel[j]),
                             tuple(pos[j + 1]), tuple(vel[j + 1]), float(t))
        assert np.array_equal(np.array(p), p_ref[k]) and np.array_equal(np.array(v), v_ref[k])


def test_interp_is_numpy_interp_bit_for_bit_inside_at_knots_and_beyond_the_ends():
    knots = np.cumsum(RNG.uniform(1.0, 100.0, 12))
    values = RNG.normal(size=12) * 30.0
    queries = np.concatenate([RNG.uniform(knots[0] - 50, knots[-1] + 50, 500), knots])
    ref = np.interp(queries, knots, values)
    got = np.array([point.interp(knots.tolist(), values.tolist(), float(t)) for t in queries])
    assert np.array_equal(got, ref)


def test_lvlh_basis_is_the_array_one_bit_for_bit():
    pos, vel = _orbit_states(200)
    ref = lvlh_basis(pos, vel)
    for k in range(len(pos)):
        assert np.array_equal(np.array(point.lvlh_basis(tuple(pos[k]), tuple(vel[k]))), ref[k])


def test_earth_fixed_position_and_geodetic_agree_with_the_array_kernels():
    pos, vel = _orbit_states(300)
    pos[:4] = [[0.0, 0.0, 6400.0], [0.0, 0.0, -6400.0], [-6700.0, 0.0, 10.0], [-6700.0, -0.0, -10.0]]
    gast = RNG.uniform(0.0, 2.0 * math.pi, len(pos))
    ref_f, _ = earth.eci_to_ecef(pos, vel, gast)
    lat, lon, alt = earth.geodetic_from_ecef(ref_f)
    for k in range(len(pos)):
        f = point.eci_to_ecef_pos(tuple(pos[k]), float(gast[k]))
        assert np.allclose(f, ref_f[k], rtol=0.0, atol=1e-11)  # km: 10 nm
        la, lo, al = point.geodetic_from_ecef(tuple(ref_f[k]))
        assert la == pytest.approx(lat[k], abs=1e-14) and al == pytest.approx(alt[k], abs=1e-9)
        assert abs((lo - lon[k] + math.pi) % (2 * math.pi) - math.pi) < 1e-14
        assert -math.pi < lo <= math.pi


@pytest.mark.parametrize("angle", [-math.pi, math.pi, 0.0, 3 * math.pi, -3 * math.pi, 1e-300, 7.0, -7.0])
def test_wrap_pi_is_the_array_kernel(angle):
    assert point.wrap_pi(angle) == float(_xp.wrap_pi(np.asarray([angle]))[0])


def test_the_trajectory_per_frame_path_is_the_batched_path_bit_for_bit():
    from experience.simulation.trajectory import mission_trajectory

    traj = mission_trajectory()
    for vehicle in ("soyuz", "apollo"):
        lo, hi = traj.span(vehicle)
        times = list(RNG.uniform(lo, hi, 200)) + [lo, hi]
        for seg in traj.segments[vehicle]:  # every piece, its ends included (formation, docked)
            times += [seg.t0_s, seg.t1_s, 0.5 * (seg.t0_s + seg.t1_s)]
        t = np.asarray(times)
        pos, vel = traj.state(vehicle, t)
        for k, tk in enumerate(times):
            p, v = traj.point(vehicle, float(tk))
            assert np.array_equal(np.array(p), pos[k]) and np.array_equal(np.array(v), vel[k]), (vehicle, tk)
