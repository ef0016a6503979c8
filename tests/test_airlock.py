"""The Docking Module airlock (kernels/airlock.py, experience/simulation/airlock.py): conservation,
monotone equalisation, the orifice law against analytic solutions, batching, the SP-4209 "leak",
the interlocks, the story presets and the data file.

Kernel tests take the ``xp`` fixture (NumPy, array_api_strict, CuPy where a CUDA device exists);
the simulation layer runs on the host (NumPy).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from experience.errors import AstpError, DataFileError
from experience.mission import data
from experience.simulation import airlock as sa
from kernels import airlock as ak

MM = ak.MMHG_PA
R = ak.R_J_MOL_K


def _host(a):
    if hasattr(a, "get"):  # CuPy
        return np.asarray(a.get(), dtype=np.float64)
    try:
        return np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError, RuntimeError):  # array_api_strict: through DLPack
        return np.asarray(np.from_dlpack(a), dtype=np.float64)


def _arr(xp, a):
    return xp.asarray(np.asarray(a, dtype=np.float64))


def _two(**kw):
    """DM (0) and Soyuz orbital module (1) joined by one hatchway and valve; a DM vent."""
    base = dict(volume_m3=(2.6, 5.0), wall_temp_k=(293.0, 293.0), wall_fan_w_k=(18.0, 22.0),
                wall_still_w_k=(1.5, 2.5), edges=((0, 1),), hatch_cda_m2=(0.3066,), valve_cda_m2=(1.1977e-5,),
                tank_node=(), tank_species=(), tank_volume_m3=(), tank_temp_k=(), tank_cda_m2=(),
                vent_node=(0,), vent_cda_m2=(3.066e-5,), vent_crack_pa=(0.0,), vent_full_pa=(0.0,))
    base.update(kw)
    return ak.AirlockSpec(**base)


def _state(xp, params, p_mmhg, x_o2, temp_k, tank_mol=()):
    s = len(p_mmhg)
    p = _arr(xp, p_mmhg) * MM
    xo = np.asarray(x_o2, dtype=float)
    x = _arr(xp, np.stack((xo, 1.0 - xo), axis=-1))
    tank = _arr(xp, np.asarray(tank_mol, dtype=float).reshape(s, -1))
    return ak.state_from_pressures(params, p, x, _arr(xp, temp_k), tank)


def _ctl(xp, params, s=1, **kw):
    base = ak.controls(params, s)
    return base._replace(**{k: _arr(xp, np.broadcast_to(np.asarray(v, float), _host(getattr(base, k)).shape))
                            for k, v in kw.items()})


def _p(params, st):
    return _host(ak.pressure_mmhg(params, st))


def _coarse(xp):
    """Step-size factor for the long analytic runs: fine on NumPy; 20x coarser (with the first-order
    tolerance scaled to match) where every array operation is slow (array_api_strict, a GPU)."""
    return 1.0 if xp is np else 20.0


# ---------------------------------------------------------------------------------------------
# Kernel: conservation, monotonicity, stability
# ---------------------------------------------------------------------------------------------
def test_gas_mass_per_species_conserved_in_closed_volumes(xp):
    spec = sa.load_config().spec._replace(tank_node=(), tank_species=(), tank_volume_m3=(), tank_temp_k=(),
                                          tank_cda_m2=(), vent_node=(), vent_cda_m2=(), vent_crack_pa=(),
                                          vent_full_pa=())
    params = ak.build_params(spec, _arr(xp, [0.0]))
    # three scenarios: hatches open, valves open, one of each; very different gases and temperatures
    st = _state(xp, params, [[258.0, 490.0, 520.0], [258.0, 50.0, 700.0], [300.0, 260.0, 520.0]],
                [[1.0, 0.5, 0.3], [1.0, 0.0, 0.21], [0.9, 0.6, 0.3]],
                [[295.0, 250.0, 293.0], [310.0, 293.0, 280.0], [295.0, 293.0, 293.0]])
    ctl = _ctl(xp, params, 3, hatch_open=[[1.0, 1.0], [0.0, 0.0], [1.0, 0.0]],
               valve_open=[[0.0, 0.0], [1.0, 1.0], [0.0, 1.0]], fan_on=[[1.0, 0.0, 1.0]] * 3)
    m0 = _host(xp.sum(st.gas_mol, axis=1))  # (S, K) per species
    for dt in [1e-3] * 50 + [0.1] * 50 + [5.0] * 100 + [120.0] * 20:
        st = ak.step(params, st, ctl, dt)
    m1 = _host(xp.sum(st.gas_mol, axis=1))
    assert np.all(np.abs(m1 - m0) <= 1e-9 * np.maximum(m0, 1e-12 * m0.max())), (m0, m1)
    assert np.all(_host(st.gas_mol) >= 0.0)
    p = _p(params, st)
    assert np.ptp(p[0]) < 0.5  # open hatchways equalise within a step, up to the thermal drift of 120 s


def test_energy_conserved_without_walls(xp):
    """No wall exchange, no tanks, no vents: the flows only move internal energy about (the
    donor's isentropic enthalpy is what the receiver gets), so the total is conserved."""
    spec = sa.load_config().spec._replace(wall_fan_w_k=(0.0,) * 3, wall_still_w_k=(0.0,) * 3, tank_node=(),
                                          tank_species=(), tank_volume_m3=(), tank_temp_k=(), tank_cda_m2=(),
                                          vent_node=(), vent_cda_m2=(), vent_crack_pa=(), vent_full_pa=())
    params = ak.build_params(spec, _arr(xp, [0.0]))
    st = _state(xp, params, [[258.0, 40.0, 520.0]], [[1.0, 0.5, 0.3]], [[295.0, 250.0, 293.0]])
    ctl = _ctl(xp, params, hatch_open=[[1.0, 1.0]])
    e0 = float(_host(xp.sum(ak.internal_energy_j(params, st))))
    for dt in [1e-3] * 50 + [1.0] * 50 + [100.0] * 10:
        st = ak.step(params, st, ctl, dt)
    assert float(_host(xp.sum(ak.internal_energy_j(params, st)))) == pytest.approx(e0, rel=1e-12)
    assert np.ptp(_p(params, st)) < 1e-6  # open hatchways: one pressure (the temperatures differ)


def test_species_books_balance_with_tanks_and_vents(xp):
    spec = sa.load_config().spec
    params = ak.build_params(spec, _arr(xp, [0.0]))
    st = _state(xp, params, [[258.0, 258.0, 520.0]], [[1.0, 1.0, 0.3]], [[295.0, 293.0, 293.0]],
                [[674.7, 678.2]])
    ctl = _ctl(xp, params, hatch_open=[[1.0, 0.0]], valve_open=[[0.0, 1.0]], tank_valve_open=[[1.0, 1.0]],
               vent_open=[[0.0, 1.0]])
    k_of_tank = _arr(xp, np.eye(len(ak.SPECIES))[list(spec.tank_species)])  # (T, K) one-hot

    def books(s):
        return _host(xp.sum(s.gas_mol, axis=1) + s.tank_mol @ k_of_tank + s.vented_mol)

    b0 = books(st)
    for _ in range(200):
        st = ak.step(params, st, ctl, 30.0)  # long enough for the relief valve to open
    assert _host(st.vented_mol).sum() > 0.0
    np.testing.assert_allclose(books(st), b0, rtol=1e-9)
    assert _p(params, st)[0, 1] < 582.0  # the relief valve holds the DM near its setting


def test_pressures_approach_equilibrium_monotonically(xp):
    """490 vs 520 mmHg through the valve and through the open hatchway, adiabatic, with the fans'
    wall exchange, and isothermal: six scenarios in one batched run, steps from 0.1 ms to 100 s."""
    walls = ((0.0, 0.0), (18.0, 22.0), (1e12, 1e12)) * 2
    params = ak.build_params([_two(wall_fan_w_k=g) for g in walls], _arr(xp, [0.0]))
    st = _state(xp, params, [[490.0, 520.0]] * 6, [[0.52, 0.3]] * 6, [[293.0, 293.0]] * 6)
    ctl = _ctl(xp, params, 6, valve_open=[[1.0]] * 3 + [[0.0]] * 3, hatch_open=[[0.0]] * 3 + [[1.0]] * 3)
    dp = [np.diff(_p(params, st), axis=1)[:, 0]]
    for dt in [1e-4] * 20 + [1.0 / 60.0] * 30 + [2.0] * 150 + [100.0] * 5:
        st = ak.step(params, st, ctl, dt)
        dp.append(np.diff(_p(params, st), axis=1)[:, 0])
    dp = np.asarray(dp)  # (steps, scenario)
    rise = np.diff(np.abs(dp), axis=0)
    # Never away from equilibrium, never past it (the DM stays the lower side). Without wall
    # exchange, or with the walls holding the gas isothermal, strictly (to rounding). With the fans'
    # wall exchange the step splits the exchange (first) from the flow (second), which leaves a
    # residual second order in the step: under 1e-4 mmHg with steps up to 2 s, a few hundredths of
    # a mmHg with 100 s steps (longer than the gas's thermal time constant of about a minute).
    fine = np.array([1e-7, 1e-4, 1e-7] * 2)  # 1e-7 mmHg: rounding in a stiff solve (2e-10 of the pressure)
    coarse = np.array([1e-7, 0.05, 1e-7] * 2)
    assert np.all(rise[:200] <= fine) and np.all(dp[:201] > -fine)
    assert np.all(rise[200:] <= coarse) and np.all(dp[200:] > -coarse)
    assert np.all(np.abs(dp[-1]) < 0.05), dp[-1]
    assert np.all(dp[50, 3:] < 0.05) and np.all(dp[50, :3] > 25.0)  # hatch: done in 0.5 s; valve: barely begun


def test_huge_steps_stay_finite_and_converge(xp):
    """Steps far beyond every time constant (a tank's whole contents in one step): the linearised
    step may land off the mark (its first-order pressure change per mole is far off when a volume
    gives away most of its gas at once) but stays finite, positive and converges: every open
    hatchway equal, the relief valve holding the DM at its setting, the tanks stopped by their
    check valves once below the cabin."""
    cfg = sa.load_config()
    params = ak.build_params(cfg.spec, _arr(xp, [0.0]))
    st = _state(xp, params, [[258.0, 30.0, 520.0]], [[1.0, 0.0, 0.3]], [[295.0, 350.0, 293.0]], [[674.7, 678.2]])
    ctl = _ctl(xp, params, hatch_open=[[1.0, 1.0]], valve_open=[[1.0, 1.0]], tank_valve_open=[[1.0, 1.0]],
               vent_open=[[0.0, 1.0]])
    for dt in (1e4,) * 4 + (1e5,) * 3 + (1e6,) * 2:
        st = ak.step(params, st, ctl, dt)
        p, t = _p(params, st), _host(st.temp_k)
        assert np.all(np.isfinite(p)) and np.all(p > 0.0) and np.all((t > 150.0) & (t < 500.0))
    crack = cfg.spec.vent_crack_pa[1] / MM
    assert np.ptp(p) < 1e-3 and p[0, 1] == pytest.approx(crack, abs=0.01)
    p_tank = _host(ak.tank_pressure_pa(params, st)) / MM
    assert np.all(p_tank < crack + 1e-6)
# ---------------------------------------------------------------------------------------------
# Kernel: the orifice law against analytic solutions
# ---------------------------------------------------------------------------------------------
def test_isothermal_choked_vent_is_exponential(xp):
    """Isothermal venting to vacuum: n(t) = n0 exp(-t / tau), tau = V sqrt(M / (R T)) / (CdA psi*)."""
    params = ak.build_params(_two(wall_fan_w_k=(1e12, 1e12)), _arr(xp, [0.0]))
    st = _state(xp, params, [[510.0, 520.0]], [[0.5, 0.3]], [[293.0, 293.0]])
    ctl = _ctl(xp, params, vent_open=[[1.0]])
    mm = 0.5 * 0.0319988 + 0.5 * 0.0280134
    cp = 0.5 * 29.378 + 0.5 * 29.124
    g = cp / (cp - R)
    psi_c = math.sqrt(g) * (2.0 / (g + 1.0)) ** ((g + 1.0) / (2.0 * (g - 1.0)))
    tau = 2.6 * math.sqrt(mm / (R * 293.0)) / (3.066e-5 * psi_c)
    n0 = float(_host(xp.sum(st.gas_mol, axis=-1))[0, 0])
    f = _coarse(xp)
    for _ in range(int(3000 / f)):
        st = ak.step(params, st, ctl, 0.1 * f)
    n = float(_host(xp.sum(st.gas_mol, axis=-1))[0, 0])
    assert n == pytest.approx(n0 * math.exp(-300.0 / tau), rel=2e-4 * f)  # backward Euler, dt = tau / 2800


def test_adiabatic_blowdown_matches_isentropic_solution(xp):
    """No wall exchange: p(t) = p0 (1 + (g-1)/2 t/tau0)^(-2g/(g-1)) (kernels.airlock.isentropic_blowdown_pa)."""
    params = ak.build_params(_two(wall_fan_w_k=(0.0, 0.0)), _arr(xp, [0.0]))
    st = _state(xp, params, [[510.0, 520.0]], [[0.0, 0.3]], [[293.0, 293.0]])  # pure N2
    ctl = _ctl(xp, params, vent_open=[[1.0]])
    g = 29.124 / (29.124 - R)
    f = _coarse(xp)
    dt, t = 0.05 * f, 0.0
    for target in (60.0, 200.0, 400.0):
        while t < target - 1e-9:
            st = ak.step(params, st, ctl, dt)
            t += dt
        expect = ak.isentropic_blowdown_pa(510.0 * MM, 293.0, 2.6, 3.066e-5, 0.0280134, g, t) / MM
        assert _p(params, st)[0, 0] == pytest.approx(expect, rel=2e-4 * f), target
        t_gas = 293.0 * (_p(params, st)[0, 0] / 510.0) ** ((g - 1.0) / g)
        assert _host(st.temp_k)[0, 0] == pytest.approx(t_gas, rel=2e-4 * f)


def _quad(f, a, b, n=20001):
    x = np.linspace(a, b, n)
    y = np.array([f(v) for v in x])
    return float(np.sum((y[1:] + y[:-1]) * np.diff(x)) / 2.0)


def test_equalisation_time_matches_the_orifice_law(xp):
    """Two volumes, isothermal, through the 5 mm valve: the time for 490/520 mmHg to come within
    1 mmHg equals t = integral V1 dp1 / (R T ndot(p2(p1), p1)) with p1 V1 + p2 V2 conserved."""
    spec = _two(wall_fan_w_k=(1e12, 1e12))
    params = ak.build_params(spec, _arr(xp, [0.0]))
    st = _state(xp, params, [[490.0, 520.0]], [[0.52, 0.3]], [[293.0, 293.0]])
    ctl = _ctl(xp, params, valve_open=[[1.0]])
    v1, v2 = spec.volume_m3
    mm = 0.3 * 0.0319988 + 0.7 * 0.0280134  # the upstream (Soyuz) gas
    cp = 0.3 * 29.378 + 0.7 * 29.124
    g = cp / (cp - R)
    c = (490.0 * v1 + 520.0 * v2) * MM
    p_end = (c - v2 * 1.0 * MM) / (v1 + v2)  # p1 when p2 - p1 = 1 mmHg

    def inv_rate(p1):
        p2 = (c - p1 * v1) / v2
        n = ak.orifice_molar_flow(np.asarray(p2), np.asarray(p1), np.asarray(293.0), np.asarray(mm), np.asarray(g),
                                  np.asarray(spec.valve_cda_m2[0]))
        return v1 / (R * 293.0 * float(n))

    t_law = _quad(inv_rate, 490.0 * MM, p_end)
    assert 100.0 < t_law < 200.0  # the data file's "about two and a half minutes"
    f = _coarse(xp)
    dt, t, dp = 0.05 * f, 0.0, 30.0
    while dp > 1.0:
        dp_before = dp
        st = ak.step(params, st, ctl, dt)
        t += dt
        dp = float(np.diff(_p(params, st)[0])[0])
    t_cross = t - dt * (1.0 - dp_before) / (dp_before - dp) if dp < 1.0 else t
    assert t_cross == pytest.approx(t_law, rel=2e-3 * f)


def test_choked_fill_from_a_reservoir_is_linear(xp):
    """A small volume filled from a far larger one (constant pressure), isothermal: choked while
    p < r_crit p_res, so the pressure rises linearly at R T ndot* / V; then the unchoked law to
    within 1 % of the reservoir, by quadrature."""
    spec = _two(volume_m3=(2.6, 1e7), wall_fan_w_k=(1e12, 1e12))
    params = ak.build_params(spec, _arr(xp, [0.0]))
    st = _state(xp, params, [[20.0, 520.0]], [[0.3, 0.3]], [[293.0, 293.0]])
    ctl = _ctl(xp, params, valve_open=[[1.0]])
    mm = 0.3 * 0.0319988 + 0.7 * 0.0280134
    cp = 0.3 * 29.378 + 0.7 * 29.124
    g = cp / (cp - R)
    r_c = float(ak.critical_pressure_ratio(g))
    ndot_c = float(ak.orifice_molar_flow(np.asarray(520.0 * MM), np.asarray(0.0), np.asarray(293.0), np.asarray(mm),
                                         np.asarray(g), np.asarray(spec.valve_cda_m2[0])))
    t_choked = (r_c * 520.0 - 20.0) * MM * 2.6 / (R * 293.0 * ndot_c)

    def inv_rate(p1):
        n = ak.orifice_molar_flow(np.asarray(520.0 * MM), np.asarray(p1), np.asarray(293.0), np.asarray(mm),
                                  np.asarray(g), np.asarray(spec.valve_cda_m2[0]))
        return 2.6 / (R * 293.0 * float(n))

    t_99 = t_choked + _quad(inv_rate, r_c * 520.0 * MM, 0.99 * 520.0 * MM)
    f = _coarse(xp)
    dt, t = 0.25 * f, 0.0
    seen = {}
    while "99" not in seen:
        p0 = _p(params, st)[0, 0]
        st = ak.step(params, st, ctl, dt)
        t += dt
        p1 = _p(params, st)[0, 0]
        for name, level in (("crit", r_c * 520.0), ("99", 0.99 * 520.0)):
            if name not in seen and p1 >= level:
                seen[name] = t - dt * (p1 - level) / (p1 - p0)
    assert seen["crit"] == pytest.approx(t_choked, rel=1e-3 * f)
    assert seen["99"] == pytest.approx(t_99, rel=2e-3 * f)


# ---------------------------------------------------------------------------------------------
# Kernel: batching, and the warming gas of SP-4209
# ---------------------------------------------------------------------------------------------
def test_batch_gives_the_same_results_as_one_by_one(xp):
    base = sa.load_config().spec
    specs = [base,
             base._replace(volume_m3=(6.2, 2.9, 4.5), valve_cda_m2=(2e-5, 0.5e-5)),
             base._replace(wall_fan_w_k=(0.0, 0.0, 0.0), tank_cda_m2=(2e-7, 1e-7)),
             base._replace(wall_temp_k=(290.0, 300.0, 285.0), vent_cda_m2=(8e-5, 2e-4))]
    p0 = [[258.0, 258.0, 520.0], [260.0, 480.0, 539.0], [258.0, 300.0, 523.0], [258.0, 510.0, 517.0]]
    x0 = [[1.0, 1.0, 0.3], [1.0, 0.5, 0.3], [1.0, 0.9, 0.25], [1.0, 0.52, 0.3]]
    t0 = [[295.0, 293.0, 293.0], [296.0, 280.0, 293.0], [295.0, 310.0, 290.0], [290.0, 300.0, 285.0]]
    tank = [[674.7, 678.2], [600.0, 650.0], [674.7, 100.0], [10.0, 678.2]]
    ctl = dict(hatch_open=[[1.0, 0.0], [0.0, 0.0], [0.0, 1.0], [0.0, 0.0]],
               valve_open=[[0.0, 1.0], [1.0, 1.0], [1.0, 0.0], [0.0, 0.0]],
               tank_valve_open=[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]],
               vent_open=[[0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [1.0, 1.0]],
               fan_on=[[1.0, 1.0, 1.0], [1.0, 0.0, 1.0], [0.0, 0.0, 0.0], [1.0, 1.0, 0.0]])
    dts = [0.02, 0.5, 3.0, 17.0] * 10
    params = ak.build_params(specs, _arr(xp, [0.0]))
    st = _state(xp, params, p0, x0, t0, tank)
    c = _ctl(xp, params, 4, **ctl)
    for dt in dts:
        st = ak.step(params, st, c, _arr(xp, [dt, 2 * dt, dt, 0.5 * dt]))
    for i, sp in enumerate(specs):
        p1 = ak.build_params(sp, _arr(xp, [0.0]))
        s1 = _state(xp, p1, [p0[i]], [x0[i]], [t0[i]], [tank[i]])
        c1 = _ctl(xp, p1, 1, **{k: [v[i]] for k, v in ctl.items()})
        for dt in dts:
            s1 = ak.step(p1, s1, c1, dt * (1.0, 2.0, 1.0, 0.5)[i])
        for name in ("gas_mol", "temp_k", "tank_mol", "vented_mol", "t_s"):
            np.testing.assert_allclose(_host(getattr(st, name))[i], _host(getattr(s1, name))[0], rtol=1e-12,
                                       atol=1e-300, err_msg=f"{name}, scenario {i}")


def test_trapped_gas_warms_and_the_pressure_rises(xp):
    """SP-4209, 18 July: after the hatches were closed and the pressure reduced to 260 mm, the
    trapped gas heated up and the pressure rose, which the sensors could not tell from a leak.
    The DM alone (hatches shut, no fan), vented from 510 mmHg to 260 and shut: the gas has cooled
    in the expansion, warms back to its walls, and the pressure climbs to n R T_wall / V."""
    params = ak.build_params(_two(), _arr(xp, [0.0]))
    st = _state(xp, params, [[510.0, 520.0]], [[0.52, 0.3]], [[293.0, 293.0]])
    vent = _ctl(xp, params, vent_open=[[1.0]], fan_on=[[0.0, 0.0]])
    shut = _ctl(xp, params, fan_on=[[0.0, 0.0]])
    t = 0.0
    while _p(params, st)[0, 0] > 260.0:
        st = ak.step(params, st, vent, 1.0)
        t += 1.0
    assert 120.0 < t < 600.0  # minutes, not seconds or hours
    p_shut, t_shut = _p(params, st)[0, 0], _host(st.temp_k)[0, 0]
    assert t_shut < 293.0 - 10.0  # the expansion cooled it
    series = [p_shut]
    for dt in [10.0] * 60 + [60.0] * 110:  # two hours with the vent shut
        st = ak.step(params, st, shut, dt)
        series.append(_p(params, st)[0, 0])
    series = np.asarray(series)
    assert np.all(np.diff(series) >= -1e-12)  # only ever up: what looked like a leak
    rise = series[-1] - series[0]
    assert rise > 5.0
    n_dm = _host(xp.sum(st.gas_mol, axis=-1))[0, 0]
    assert series[-1] == pytest.approx(n_dm * R * 293.0 / 2.6 / MM, abs=0.01)
    assert series[-1] == pytest.approx(p_shut * 293.0 / t_shut, rel=1e-3)  # same moles, warmer gas
    # with the fan on the same rise comes and goes in a couple of minutes
    assert series[6] - series[0] < 0.5 * rise  # a minute in, no fan: under half of it


# ---------------------------------------------------------------------------------------------
# The simulation layer: data file, interlocks, story, speed-up
# ---------------------------------------------------------------------------------------------
def test_data_file_is_sourced_and_loads():
    cfg = sa.load_config()
    sources = data.load_toml("mission/sources.toml")
    assert len(cfg.entries) > 40
    for key, e in cfg.entries.items():
        assert e.get("source") or e.get("estimate"), key
        assert all(s in sources for s in e.get("source", [])), key
        assert e.get("basis") or e.get("source"), key
        for c in e.get("conflicts", []):
            assert c.get("why_not"), key
    assert cfg.atmospheres["apollo"] == (258.0, 1.0)
    assert cfg.atmospheres["soyuz"] == (520.0, 0.30)
    soyuz = {c["value"] for c in cfg.entries["atmosphere.soyuz.pressure_mmhg"]["conflicts"]}
    assert {523.0, 533.0, 539.0} <= soyuz
    assert {c["value"] for c in cfg.entries["atmosphere.apollo.pressure_mmhg"]["conflicts"]} == {260.0}
    assert cfg.tank_mass_kg == {"n2": 18.9, "o2": 21.7}


def test_every_interlock_refuses_and_then_allows():
    lock = sa.Airlock.at("crossing_start")
    assert lock.hatches() == {"apollo_dm": "open", "dm_soyuz": "closed"}

    # 1. the overboard vent is locked while a DM hatch is open
    out = lock.set_valve("dm_vent", True)
    assert not out.ok and "\n" not in out.message and "close the hatch first" in out.message
    assert lock.valves()["dm_vent"] == "closed"
    assert lock.close_hatch("apollo_dm").ok
    assert lock.set_valve("dm_vent", True).ok

    # 2. no hatch opens while the DM vents to space (even at equal pressure)
    out = lock.open_hatch("apollo_dm")
    assert not out.ok and "close the vent first" in out.message and lock.hatches()["apollo_dm"] == "closed"
    assert lock.set_valve("dm_vent", False).ok
    assert lock.open_hatch("apollo_dm").ok

    # 3. the Soyuz hatch against 258 vs 520 mmHg: refused, in one line, nothing half-open
    assert lock.close_hatch("apollo_dm").ok
    out = lock.open_hatch("dm_soyuz")
    assert not out.ok and out.message == "Docking Module is at 258 mmHg, Soyuz at 520: equalise first"
    assert lock.hatches()["dm_soyuz"] == "closed" and not lock.hatch_ready("dm_soyuz")
    assert lock.set_valve("dm_soyuz", True).ok
    lock.run_for(60.0)
    assert not lock.open_hatch("dm_soyuz").ok  # still a large difference after a minute
    lock.run_for(900.0)
    assert lock.hatch_ready("dm_soyuz") and lock.open_hatch("dm_soyuz").ok
    assert lock.hatches()["dm_soyuz"] == "open"

    # 4. the Apollo hatch against the raised DM: refused until the DM is brought down and equalised
    assert lock.close_hatch("dm_soyuz").ok
    out = lock.open_hatch("apollo_dm", from_volume="cm")
    assert not out.ok and out.message.startswith("Command Module is at 258 mmHg, Docking Module at ")
    assert lock.set_valve("dm_soyuz", False).ok and lock.set_valve("dm_vent", True).ok
    while lock.pressures_mmhg()["dm"] > 262.0:
        lock.run_for(5.0)
    assert lock.set_valve("dm_vent", False).ok and lock.set_valve("apollo_dm", True).ok
    lock.run_for(600.0)
    assert lock.open_hatch("apollo_dm").ok


def test_story_presets_follow_the_historical_sequence():
    before = sa.Airlock.at("before_docking").reading()
    assert before.utc == "1975-07-17T16:00:00Z"
    assert before.pressures_mmhg == {"cm": 258.0, "dm": 258.0, "soyuz_om": 520.0}
    assert before.hatches == {"apollo_dm": "open", "dm_soyuz": "closed"}
    assert before.o2_fraction["dm"] == 1.0 and before.o2_fraction["soyuz_om"] == pytest.approx(0.30)

    ready = sa.Airlock.at("hatch_ready")  # 19:10 UTC
    r = ready.reading()
    assert r.hatches == {"apollo_dm": "closed", "dm_soyuz": "closed"}
    assert ready.hatch_ready("dm_soyuz") and ready.pressure_difference_mmhg("dm_soyuz") < 0.5
    assert 495.0 < r.pressures_mmhg["dm"] < 520.0 and r.pressures_mmhg["cm"] == pytest.approx(258.0)
    assert 0.45 < r.o2_fraction["dm"] < 0.56  # Apollo's oxygen with the nitrogen added
    assert r.tanks_kg["n2"] < 18.9 - 0.5 and r.tanks_kg["o2"] == pytest.approx(21.7)

    # the N2 fill stopped where the DM settles at ~490 mmHg (before the valve to the Soyuz opened)
    filled = sa.Airlock.at("1975-07-17T18:49:59Z").reading()
    assert filled.pressures_mmhg["dm"] == pytest.approx(490.0, abs=0.5)
    assert filled.valves["n2_fill"] == "closed"

    hand = sa.Airlock.at("handshake").reading()
    assert hand.hatches["dm_soyuz"] == "open"
    assert sa.Airlock.at("1975-07-17T19:16:59Z").hatches()["dm_soyuz"] == "closed"
    assert sa.Airlock.at(sa.parse_utc("1975-07-17T19:17:01Z")).hatches()["dm_soyuz"] == "open"


def test_story_evening_shows_the_warming_gas():
    """After the evening vent to 260 mmHg (SP-4209) closes, the DM's pressure rises on its own."""
    cfg = sa.load_config()
    vent = next(s for s in cfg.steps if s.target == "dm_vent")
    lock = sa.Airlock.at(vent.utc)
    while lock.valves()["dm_vent"] == "open":  # the story closes it at 260 mmHg
        lock = sa.Airlock.at(lock.utc + sa._dt.timedelta(seconds=10))
    p_closed = lock.pressures_mmhg()["dm"]
    later = sa.Airlock.at(lock.utc + sa._dt.timedelta(seconds=180)).pressures_mmhg()["dm"]
    assert 258.0 < p_closed < 266.0 and later > p_closed + 3.0
    night = sa.Airlock.at("1975-07-18T00:00:00Z").reading()
    assert night.hatches == {"apollo_dm": "closed", "dm_soyuz": "closed"} and night.fans["dm"] == "off"


def test_speedup_and_gauges():
    lock = sa.Airlock.at("hatch_ready")
    assert lock.speedup_label() == "real time"
    lock.set_speedup(60)
    assert lock.speedup_label() == "×60 time"
    t0 = lock.t_s
    assert lock.advance(1.0 / 60.0) == pytest.approx(1.0)
    assert lock.t_s - t0 == pytest.approx(1.0)
    lock.set_speedup(600)
    lock.advance(0.5)  # 300 s in one frame: four kernel steps, still stable
    assert lock.t_s - t0 == pytest.approx(301.0)
    with pytest.raises(AstpError, match="not offered"):
        lock.set_speedup(7)
    with pytest.raises(AstpError, match="unknown hatch"):
        lock.open_hatch("side_hatch")
    r = lock.reading()
    assert set(r.pressures_mmhg) == {"cm", "dm", "soyuz_om"} and set(r.hatches) == {"apollo_dm", "dm_soyuz"}


def test_unknown_story_time_is_one_readable_error():
    with pytest.raises(AstpError) as err:
        sa.Airlock.at("tomorrow")
    assert "preset" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(AstpError, match="before the airlock story"):
        sa.Airlock.at("1975-07-17T12:00:00Z")


def _broken(tmp_path, old, new):
    text = (data.data_dir() / "mission" / "airlock.toml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "airlock.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize("old,new,expect", [
    ("[volumes.dm.volume_m3]\nvalue = 2.6\nestimate = true", "[volumes.dm.volume_m3]\nvalue = 2.6",
     "[volumes.dm.volume_m3] has neither a source nor estimate"),
    ('source = ["NIST-WEBBOOK"]', 'source = ["NOWHERE"]', "unknown source 'NOWHERE'"),
    ("[valves.dm_soyuz.diameter_m]\nvalue = 0.005", "[valves.dm_soyuz.diameter_m]\nvalue = -0.005",
     "[valves.dm_soyuz.diameter_m] value -0.005 is outside"),
    ("[tanks.o2.mass_kg]\nvalue = 21.7", "[tanks.o2.mass_kgs]\nvalue = 21.7", "[tanks.o2.mass_kg] is missing"),
    ('action = "open_hatch"\ntarget = "dm_soyuz"', 'action = "open_hatch"\ntarget = "dm_soyuz_x"', "unknown target"),
    ("[hatches.dm_soyuz.tolerance_mmhg]\nvalue = 1.5", "[hatches.dm_soyuz.tolerance_mmhg]\nvalue = 1.5.0", "not valid TOML"),
])
def test_bad_data_file_is_one_line_naming_file_and_key(tmp_path, old, new, expect):
    with pytest.raises(DataFileError) as err:
        sa.load_config(_broken(tmp_path, old, new))
    msg = str(err.value)
    assert expect in msg and "airlock.toml" in msg and "\n" not in msg
    if "TOML" not in expect and "target" not in expect and "missing" not in expect:
        assert "(line " in msg


def test_a_story_step_the_interlock_refuses_is_a_data_error(tmp_path):
    path = _broken(tmp_path, 'utc = "1975-07-17T19:17:00Z"\naction = "open_hatch"',
                   'utc = "1975-07-17T18:51:00Z"\naction = "open_hatch"')
    cfg = sa.load_config(path)
    with pytest.raises(DataFileError) as err:
        sa.Airlock.at("handshake", cfg)
    assert "refused by the interlock" in str(err.value) and "equalise first" in str(err.value)


def test_visitor_texts_are_marked_for_translation():
    import ast

    path = data.data_dir().parent / "experience" / "simulation" / "airlock.py"
    marked = [node.args[0].value for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
              if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "N_")
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)]
    for text in ("equalise first", "close the vent first", "close the hatch first", "real time", "×{factor} time",
                 *sa.VOLUME_NAMES.values(), *sa.HATCH_NAMES.values(), *sa.VALVE_NAMES.values()):
        assert any(text in m for m in marked), text


def test_lazy_step_gives_the_same_state_bit_for_bit():
    """``lazy`` (host arrays) skips the tanks' flow only where every tank valve is shut: the
    states agree exactly, with the tank valves shut and open."""
    lock = sa.Airlock.at("crossing_start")
    params, st = lock.kernel_params, lock.kernel_state
    for tank_valve in (0.0, 1.0):
        ctl = ak.controls(params, hatch_open=1.0, valve_open=0.0, tank_valve_open=tank_valve, vent_open=0.0)
        a = b = st
        for dt in [1.0 / 60.0] * 30 + [2.0] * 10:
            a = ak.step(params, a, ctl, dt)
            b = ak.step(params, b, ctl, dt, lazy=True)
        for x, y in zip(a, b):
            assert np.array_equal(x, y)
        assert (tank_valve > 0.0) == (not np.array_equal(a.tank_mol, st.tank_mol))
