"""APAS-75 contact dynamics (kernels/docking.py, experience/simulation/docking.py): conservation
laws, capture physics, androgyny, the phases after capture, and the data file.

Kernel tests take the ``xp`` fixture (NumPy, array_api_strict, CuPy where a CUDA device exists);
the longer physics runs use NumPy with a handful of cases (a step costs ~0.6 ms there).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from experience.mission import data
from experience.simulation import docking as sd
from kernels import docking as dk

DEG = math.pi / 180.0


def _spec(active="apollo", **kw):
    kw.setdefault("orbit", False)
    kw.setdefault("post_capture", False)
    return sd.load_spec(active, **kw)


def _host(a):
    if hasattr(a, "get"):  # CuPy
        return np.asarray(a.get(), dtype=np.float64)
    try:
        return np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError, RuntimeError):  # array_api_strict: through DLPack
        return np.asarray(np.from_dlpack(a), dtype=np.float64)


def _cases(spec, closing, lateral, misalign_deg, lateral_rate=None, rate_deg_s=None, gap_m=0.03):
    """Host start arrays for conditions given at the start of contact (petal tips meeting)."""
    n = len(closing)
    lat = np.asarray(lateral, dtype=float).reshape(n, 2)
    latv = np.zeros((n, 2)) if lateral_rate is None else np.asarray(lateral_rate, float).reshape(n, 2)
    mis = np.asarray(misalign_deg, dtype=float).reshape(n, 3) * DEG
    rate = np.zeros((n, 3)) if rate_deg_s is None else np.asarray(rate_deg_s, float).reshape(n, 3) * DEG
    return sd.contact_conditions(spec, np.asarray(closing, float), lat, latv, mis, rate, gap_m=gap_m)


def _state(xp, params, off, vel, mis, rate):
    a = [xp.asarray(np.asarray(v, dtype=np.float64)) for v in (off, vel, mis, rate)]
    return dk.approach_state(params, *a)


def _run_until(params, state, max_steps, chunk=500, done=None):
    steps = 0
    while steps < max_steps:
        state = dk.run(params, state, min(chunk, max_steps - steps))
        steps += chunk
        if done is not None and done(state):
            break
    return state


# ---------------------------------------------------------------------------------------------
# Conservation laws
# ---------------------------------------------------------------------------------------------
def test_momentum_conserved_through_contact_every_namespace(xp):
    """Thrusters off, Hill terms off: the ring lands on the passive face (a few millimetres out,
    0.2 m/s, tilted and sideways), struts, contacts, friction, latches all act; total linear and
    angular momentum stay put to 1e-9 relative (they do to ~1e-14)."""
    spec = _spec(capture=True)
    params = dk.build_params(spec, xp.asarray([0.0]))
    off = [[0.02, -0.01, spec.ring_extension_m + 0.004], [0.0, 0.03, spec.ring_extension_m + 0.002]]
    vel = [[0.01, 0.0, -0.2], [0.0, -0.02, -0.15]]
    mis = [[0.01, -0.005, 0.02], [0.0, 0.015, 0.0]]
    rate = [[0.002, 0.0, -0.001], [0.0, 0.003, 0.001]]
    state = _state(xp, params, off, vel, mis, rate)
    lin0, ang0 = (_host(a) for a in dk.momentum(params, state))
    e0 = _host(dk.energy_j(params, state))
    steps = 60
    energies = [e0]
    for _ in range(steps):
        state = dk.step(params, state)
        energies.append(_host(dk.energy_j(params, state)))
    lin, ang = (_host(a) for a in dk.momentum(params, state))
    assert np.all(_host(state.t_contact_s) < steps * spec.dt_s), "the cases must touch"
    assert np.all(_host(state.peak_force_n) > 100.0)
    scale_lin = np.linalg.norm(lin0, axis=1)
    x, v = _host(state.pos_m), _host(state.vel_m_s)
    m = _host(params.mass_kg)
    scale_ang = (np.sum(np.linalg.norm(x, axis=-1) * m * np.linalg.norm(v, axis=-1), axis=1)
                 + np.linalg.norm(ang0, axis=1))
    assert np.all(np.linalg.norm(lin - lin0, axis=1) <= 1e-9 * scale_lin)
    assert np.all(np.linalg.norm(ang - ang0, axis=1) <= 1e-9 * scale_ang)
    e = np.array(energies)
    assert np.all(np.diff(e, axis=0) <= 1e-12 * e0), "mechanical energy rose"
    assert np.all(e[-1] < e0), "contact must dissipate"
    # the attitudes stay rotations
    rot = _host(state.rot)
    eye = np.einsum("nbji,nbjk->nbik", rot, rot)
    assert np.allclose(eye, np.eye(3), atol=1e-12)


def test_broad_phase_changes_nothing(xp):
    """The broad phase (a case's contact narrow phase skipped while its ring cannot have closed a
    contact) gives exactly the state that running the narrow phase for every case on every step
    gives (no contact_ref: no broad phase), through first contacts and a capture."""
    spec = _spec(capture=True)
    params = dk.build_params(spec, xp.asarray([0.0]))
    ext = spec.ring_extension_m
    off = np.array([[0.0, 0.0, ext + 0.003], [0.02, -0.01, ext + 0.01], [0.0, 0.05, ext + 0.04],
                    [0.06, 0.03, ext + 0.1], [-0.08, 0.0, ext + 0.2], [0.01, 0.0, ext + 0.3]])
    vel = np.array([[0.0, 0.0, -0.1], [0.01, 0.0, -0.2], [0.0, -0.01, -0.15], [0.0, 0.0, -0.3],
                    [0.005, 0.0, -0.25], [0.0, 0.0, -0.05]])
    mis = np.array([[0.0, 0.0, 0.0], [0.01, -0.005, 0.02], [0.0, 0.03, 0.0], [0.02, 0.0, -0.01],
                    [0.0, 0.05, 0.0], [0.0, 0.0, 0.01]])
    rate = np.zeros((6, 3))
    fast = _state(xp, params, off, vel, mis, rate)
    full = fast
    skipped = 0
    for _ in range(300):
        nxt = dk.step(params, fast)
        skipped += int(np.sum(np.all(_host(nxt.contact_ref)[:, 9:12] == _host(fast.contact_ref)[:, 9:12], axis=1)))
        fast = nxt
        full = dk.step(params, full._replace(contact_ref=None))
    assert skipped > 0, "the broad phase must have skipped some narrow phases"
    assert np.any(_host(fast.phase) >= dk.CAPTURED) and np.any(_host(fast.phase) == dk.CONTACT)
    for name in ("pos_m", "vel_m_s", "rot", "angmom_kg_m2_s", "phase", "latch_rest_m", "peak_force_n"):
        assert np.array_equal(_host(getattr(fast, name)), _host(getattr(full, name))), name


@pytest.mark.parametrize("attenuator", ["us", "soviet"])
def test_energy_never_rises_and_momentum_holds_through_a_whole_capture(attenuator):
    """Five cases from first petal contact to latching (flanks, petal points on the rings, ring
    faces, latches): the integrator's mechanical energy never rises from one step to the next,
    and momentum holds to 1e-9. US hydraulic and Soviet friction-brake attenuators."""
    spec = _spec(attenuator=attenuator)
    params = dk.build_params(spec, np.zeros(1))
    lat = [[0, 0], [0.08, 0.0], [0.0, 0.10], [0.03, 0.02], [0.12, 0.0]]
    mis = [[0, 0, 0], [0, 0, 0], [0, 0, 0], [3.0, 1.5, 1.0], [0, 5.0, 0]]
    if attenuator == "soviet":  # fewer cases: the brake is the new part
        lat, mis = lat[1:4], mis[1:4]
    n = len(lat)
    state = dk.approach_state(params, *_cases(spec, [0.25] * n, lat, mis)[:4])
    e_prev = dk.energy_j(params, state)
    e0 = e_prev.copy()
    lin0, ang0 = dk.momentum(params, state)
    worst = np.zeros(n)
    for _ in range(3400):
        state = dk.step(params, state)
        e = dk.energy_j(params, state)
        worst = np.maximum(worst, (e - e_prev) / e0)
        e_prev = e
    lin, ang = dk.momentum(params, state)
    assert np.all(state.phase >= dk.CAPTURED), state.phase
    assert np.all(worst <= 1e-12), worst
    assert np.all(e_prev < 0.9 * e0)
    assert np.all(np.linalg.norm(lin - lin0, axis=1) <= 1e-9 * np.linalg.norm(lin0, axis=1))
    assert np.all(np.linalg.norm(ang - ang0, axis=1) <= 1e-9 * np.linalg.norm(lin0, axis=1) * 10.0)


# ---------------------------------------------------------------------------------------------
# Capture
# ---------------------------------------------------------------------------------------------
def test_soft_aligned_approach_captures_and_far_outside_does_not():
    """0.1 m/s, 3 cm and 1 deg off captures; 15 deg misaligned, 0.5 m/s sideways, or 0.4 m off
    does not."""
    spec = _spec()
    params = dk.build_params(spec, np.zeros(1))
    closing = [0.10, 0.10, 0.10, 0.10, 0.10]
    lateral = [[0.03, 0.0], [0.0, 0.02], [0.0, 0.0], [0.0, 0.0], [0.40, 0.0]]
    mis = [[1.0, 0.0, 0.0], [0.0, -0.7, 0.7], [15.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    latv = [[0, 0], [0, 0], [0, 0], [0.5, 0.0], [0, 0]]
    off, vel, mis0, rate0, _ = _cases(spec, closing, lateral, mis, lateral_rate=latv)
    state = dk.approach_state(params, off, vel, mis0, rate0)
    state = _run_until(params, state, 7500, done=lambda s: bool(np.all(s.phase[:2] >= dk.CAPTURED))
                       and float(s.t_s[0]) > 7.2)
    captured = state.phase >= dk.CAPTURED
    assert list(captured) == [True, True, False, False, False]
    assert np.all(state.contact_speed_m_s[:2] == pytest.approx(0.1, abs=0.01))
    final = dk.relative_pose(params, state)
    assert np.all(final["lateral_m"][:2] < spec.latch_lateral_m)
    assert np.all(np.degrees(final["angle_rad"][:2]) < 2.0)


def test_capture_falls_faster_with_angular_misalignment_than_with_lateral_offset():
    """NASA's 1972 analysis (NTRS 19730010144): capture is most sensitive to angular misalignment,
    least to lateral miss. Compared at equal displacement of the ring rim (a tilt theta moves it
    by R sin theta): at 0.15 m/s, every lateral miss up to 10 cm captures, while tilts that move
    the rim by 8 cm or more (8 deg) fail."""
    spec = _spec()
    params = dk.build_params(spec, np.zeros(1))
    rim = [0.03, 0.06, 0.08, 0.10]
    dirs = [0.0, 40.0]
    lateral, mis = [], []
    for d in rim:
        for a in dirs:
            lateral.append([d * math.cos(a * DEG), d * math.sin(a * DEG)])
            mis.append([0.0, 0.0, 0.0])
    for d in rim:
        for a in dirs:
            th = math.asin(d / spec.ring_radius_m) / DEG
            lateral.append([0.0, 0.0])
            mis.append([th * math.cos(a * DEG), th * math.sin(a * DEG), 0.0])
    n = len(lateral)
    off, vel, mis0, rate0, t_back = _cases(spec, [0.15] * n, lateral, mis)
    window = float(np.max(t_back)) + (sd.petal_reach_m(spec) - spec.ring_extension_m) / 0.15 + 2.5
    out = sd.run_cases(sd.select_backend("numpy"), spec, off, vel, mis0, rate0, window)
    cap = (out["phase"] >= dk.CAPTURED).reshape(2, len(rim), len(dirs)).mean(axis=2)
    by_lateral, by_tilt = cap
    assert np.all(by_lateral == 1.0), by_lateral
    assert by_tilt[0] == 1.0 and by_tilt[-1] == 0.0, by_tilt
    assert np.all(by_tilt <= by_lateral) and by_tilt.sum() < by_lateral.sum()


# ---------------------------------------------------------------------------------------------
# Androgyny
# ---------------------------------------------------------------------------------------------
def test_units_are_androgynous_when_docked():
    """Docked (ports together, the 180 deg turn about y), every latch of one unit sits on a catch
    of the other, the petals interleave with equal clearances, and the picture is the same from
    either side."""
    spec = _spec()
    geo = dk.unit_geometry(spec)
    mirror = np.array(dk.MIRROR)
    latches = np.array(geo["latches"])
    catches = np.array(geo["catches"])
    seen = catches @ mirror.T  # the other unit's catches in this unit's frame
    d = np.linalg.norm(latches[:, None] - seen[None], axis=-1)
    assert np.allclose(np.sort(d, axis=1)[:, 0], 0.0, atol=1e-12)
    assert sorted(dk.catch_pairing()) == [0, 1, 2] and sorted(dk.flank_pairing()) == list(range(6))
    params = dk.build_params(spec, np.zeros(1))
    state = dk.approach_state(params, np.array([[0.0, 0.0, spec.ring_extension_m]]), np.zeros((1, 3)),
                              np.zeros((1, 3)), np.zeros((1, 3)))
    ev = dk._evaluate(params, state)
    assert np.allclose(ev.latch_len_m, 0.0, atol=1e-12)
    # petal clearances: the same at all six flank pairs, positive
    roots = np.array(geo["flank_roots"])
    other = roots[dk.flank_pairing()] @ mirror.T
    gaps = np.linalg.norm(roots - other, axis=1)
    assert np.allclose(gaps, gaps[0]) and gaps[0] > 2 * spec.edge_radius_m


def _mirror_conditions(lateral, mis_rad, vel, rate):
    """The same approach seen from the other port: the inverse of the relative pose."""
    mirror = np.array(dk.MIRROR)
    off_b, vel_b, mis_b, rate_b = [], [], [], []
    for o, th, v, w in zip(lateral, mis_rad, vel, rate):
        e = np.asarray(dk.rotvec_to_matrix(np.asarray([th]))[0])
        r_a = e @ mirror
        off_b.append(-r_a.T @ o)
        vel_b.append(r_a.T @ (np.cross(w, o) - v))
        mis_b.append(-mirror @ th)
        rate_b.append(-r_a.T @ w)
    return tuple(np.asarray(a) for a in (off_b, vel_b, mis_b, rate_b))


def test_swapping_active_and_passive_roles_gives_the_mirror_result():
    """Apollo active vs Soyuz active, the same (US) attenuator, the same approach seen from the
    other port: the ports move the same way to within the effect of carrying the 90 kg ring on
    the other vehicle (measured: 1 mm, 0.07 deg, capture 0.04 s apart), and both capture."""
    spec_a = _spec("apollo", attenuator="us")
    spec_b = _spec("soyuz", attenuator="us")
    pa, pb = dk.build_params(spec_a, np.zeros(1)), dk.build_params(spec_b, np.zeros(1))
    lateral = [[0.05, -0.02], [0.0, 0.08]]
    mis = [[1.5, 0.0, 0.5], [0.0, 0.0, 0.0]]
    off, vel, mis0, rate0, _ = _cases(spec_a, [0.15, 0.2], lateral, mis, rate_deg_s=[[0, 0.1, 0], [0, 0, 0]])
    sa = dk.approach_state(pa, off, vel, mis0, rate0)
    sb = dk.approach_state(pb, *_mirror_conditions(off, mis0, vel, rate0))
    diffs = []
    for _ in range(10):
        sa, sb = dk.run(pa, sa, 500), dk.run(pb, sb, 500)
        ra, rb = dk.relative_pose(pa, sa), dk.relative_pose(pb, sb)
        diffs.append((np.linalg.norm(ra["port_offset_m"], axis=1) - np.linalg.norm(rb["port_offset_m"], axis=1),
                      ra["angle_rad"] - rb["angle_rad"]))
    d = np.abs(np.array(diffs))
    assert np.all(sa.phase >= dk.CAPTURED) and np.all(sb.phase >= dk.CAPTURED)
    assert d[:, 0].max() < 0.005 and d[:, 1].max() < 0.2 * DEG
    assert np.allclose(sa.t_capture_s, sb.t_capture_s, atol=0.2)
    assert np.allclose(sa.t_contact_s, sb.t_contact_s, atol=0.1)


def test_second_docking_soyuz_active_with_the_soviet_unit_captures():
    """19 July: Soyuz active, electromechanical attenuators with friction brakes."""
    spec = _spec("soyuz")
    assert spec.brake_force_n > 0 and spec.mass_active_kg < spec.mass_passive_kg
    params = dk.build_params(spec, np.zeros(1))
    off, vel, mis0, rate0, _ = _cases(spec, [0.18, 0.2], [[0.04, 0.0], [0.0, -0.06]], [[1.0, 0.5, 0], [0, 2.0, 0]])
    state = _run_until(params, dk.approach_state(params, off, vel, mis0, rate0), 6000,
                       done=lambda s: bool(np.all(s.phase >= dk.CAPTURED)))
    assert np.all(state.phase >= dk.CAPTURED)


# ---------------------------------------------------------------------------------------------
# After capture
# ---------------------------------------------------------------------------------------------
def test_phases_after_capture_run_in_order_to_hard_dock():
    """Shortened (attenuation 0.5 s, fast drives) so it runs in seconds: capture, retraction,
    guide pins, hooks, hard dock, in that order, with the ports aligned to a fraction of a
    millimetre and momentum still conserved."""
    spec = _spec(post_capture=True)._replace(attenuation_s=0.5, retract_rate_m_s=0.1, latch_close_rate_m_s=0.05,
                                             hook_close_rate_m_s=0.01)
    params = dk.build_params(spec, np.zeros(1))
    start = np.array([[0.01, -0.015, spec.ring_extension_m + 0.01]])
    state = dk.approach_state(params, start, np.array([[0.0, 0.0, -0.1]]), np.array([[0.004, 0.0, 0.0]]),
                              np.zeros((1, 3)))
    lin0, ang0 = dk.momentum(params, state)
    state = _run_until(params, state, 9000, done=lambda s: bool(s.phase[0] >= dk.HARD_DOCK))
    assert state.phase[0] == dk.HARD_DOCK
    times = [state.t_contact_s[0], state.t_capture_s[0], state.t_retract_s[0], state.t_align_s[0],
             state.t_hooks_s[0], state.t_hard_dock_s[0]]
    assert all(np.isfinite(times)) and times == sorted(times)
    final = dk.relative_pose(params, state)
    assert final["lateral_m"][0] < 5e-4 and abs(final["axial_m"][0]) < 2e-3
    assert final["angle_rad"][0] < 0.05 * DEG
    lin, ang = dk.momentum(params, state)
    assert np.linalg.norm(lin - lin0) <= 1e-9 * np.linalg.norm(lin0)


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------
def test_every_docking_parameter_has_a_source_or_is_an_estimate():
    sources = data.load_toml("mission/sources.toml")
    entries = sd.entries()
    assert len(entries) > 60
    for name, entry in entries:
        assert "value" in entry, name
        if entry.get("estimate"):
            assert entry.get("basis"), f"{name}: an estimate needs its reasoning (basis)"
        else:
            assert entry.get("source"), f"{name} has neither a source nor estimate = true"
            for key in entry["source"]:
                assert key in sources, f"{name}: source {key!r} is not in sources.toml"
    assert sd.value("capture.latch_gap_m") == 0.005  # SYRO p58
    assert sd.value("vehicles.active_mass_kg") + sd.value("vehicles.passive_mass_kg") == 20977.0  # SP4012


def test_mass_properties_from_the_dimensions():
    mp = sd.mass_properties()
    apollo, soyuz = mp["apollo"], mp["soyuz"]
    assert apollo.mass_kg == 14187.0 and soyuz.mass_kg == 6790.0
    assert 3.0 < apollo.cm_from_aft_m < 5.5 and 5.5 < apollo.port_m < 7.5
    assert 2.5 < soyuz.cm_from_aft_m < 4.0 and 3.5 < soyuz.port_m < 5.0
    ix, iy, iz = apollo.inertia_kg_m2
    assert ix == iy and iz < ix  # axisymmetric, long
    sx, sy, sz = soyuz.inertia_kg_m2
    assert sy > sx > sz  # the solar arrays along body x add to y and z


def test_the_3d_model_and_the_contact_model_lean_the_petals_alike():
    """One petal lean for both models (geometry.toml [apas75.petal_lean_deg]): the 3D model's petal
    nodes (local +Y up the petal, the unit axis +Y) and the contact model's petal tips agree."""
    from experience.scene.modelgen import apas
    from experience.scene.modelgen import params as model_params

    spec = _spec()
    unit = apas.build("apas_t", model_params.load(), 0.5)
    petals = [n for n in unit.walk() if n.name.startswith("apas_t/petal_")]
    assert len(petals) == 3
    for node in petals:
        x, y, z, w = node.rotation
        up = np.array([2 * (x * y - w * z), 1 - 2 * (x * x + z * z), 2 * (y * z + w * x)])  # R @ (0, 1, 0)
        assert math.degrees(math.acos(up[1])) == pytest.approx(spec.petal_lean_deg, abs=1e-5)  # quaternion rounding
        radial = np.array([node.translation[0], 0.0, node.translation[2]])
        assert np.dot(up, radial) < 0.0, "petals lean inward"
    geo = dk.unit_geometry(spec)
    lean = math.radians(spec.petal_lean_deg)
    assert geo["tip_radius_m"] == pytest.approx(spec.ring_radius_m - spec.petal_height_m * math.sin(lean))
    assert spec.petal_lean_deg == data.load_toml("mission/geometry.toml")["apas75"]["petal_lean_deg"]["value"]


def test_stacked_body_algebra_is_bitwise_the_term_by_term_one():
    """The step's body-level algebra runs on whole stacked arrays (one multiply and one sum per
    3x3 product, to cut NumPy's per-call cost); it must add the same terms in the same order as
    the term-by-term form it replaced, so the results are bitwise equal (NumPy)."""
    from kernels.contact import mat_t_vec, mat_tn, mat_vec, vadd, vscale, vsub

    p = dk.build_params(_spec(), np.zeros(1))
    rng = np.random.default_rng(5)
    n = 37
    rot = np.stack([dk.rotvec_to_matrix(rng.normal(size=(n, 3))) for _ in range(3)], axis=1)  # (N, 3, 3, 3)
    R = np.ascontiguousarray(np.transpose(rot, (2, 3, 1, 0)))  # (row, column, body, N)
    h = rng.normal(size=(3, 3, n)) * 50.0
    X, V = rng.normal(size=(3, 3, n)), rng.normal(size=(3, 3, n))

    # attitudes: the Strang splitting, column by column
    rm = tuple(tuple(R[i, j, ...] for j in range(3)) for i in range(3))
    mc = list(mat_t_vec(rm, (h[0], h[1], h[2])))
    cols = [(rm[0][j], rm[1][j], rm[2][j]) for j in range(3)]
    for i, frac, keep in ((0, 0.5, 2), (1, 0.5, 2), (2, 1.0, 2), (1, 0.5, 1), (0, 0.5, 0)):
        j, k = (i + 1) % 3, (i + 2) % 3
        tt = mc[i] * ((0.5 * frac * p.dt_s) * p.inv_inertia_c[i, ...])
        inv2 = 2.0 / (1.0 + tt * tt)
        c, sn = inv2 - 1.0, tt * inv2
        cj, ck = cols[j], cols[k]
        cols[j] = vadd(vscale(cj, c), vscale(ck, sn))
        cols[k] = vsub(vscale(ck, c), vscale(cj, sn))
        mj, mk = mc[j], mc[k]
        if keep == 2:
            mc[j] = c * mj + sn * mk
        if keep >= 1:
            mc[k] = c * mk - sn * mj
    old = np.stack([np.stack([cols[j][i] for j in range(3)]) for i in range(3)])
    assert np.array_equal(dk._free_rotation(R, h, p, np), old)

    # relative frames, offsets and rates in body-2 axes
    r2 = tuple(tuple(R[i, j, 2, ...] for j in range(3)) for i in range(3))
    r01 = tuple(tuple(R[i, j, 0:2, ...] for j in range(3)) for i in range(3))
    mrel = mat_tn(r2, r01)
    dx = mat_t_vec(r2, tuple(X[i, 0:2] - X[i, 2] for i in range(3)))
    hb = mat_t_vec(rm, (h[0], h[1], h[2]))
    wb = tuple(hb[i] * p.inv_inertia_c[i, ...] for i in range(3))
    w01 = mat_vec(mrel, tuple(w[0:2] for w in wb))
    r2a = R[:, :, 2, ...]
    mrel_a = np.sum(r2a[:, :, None, None, ...] * R[:, None, :, 0:2, ...], axis=0)
    dxv = np.stack((X[:, 0:2] - X[:, 2:3], V[:, 0:2] - V[:, 2:3]), axis=0)
    dxv = np.sum(r2a[None, :, :, None, ...] * dxv[:, :, None, ...], axis=1)
    wba = np.sum(R * h[:, None, ...], axis=0) * p.inv_inertia_c
    w01a = np.sum(mrel_a * wba[None, :, 0:2, ...], axis=1)
    assert np.array_equal(mrel_a, np.array(mrel))
    assert np.array_equal(dxv[0], np.array(dx))
    assert np.array_equal(wba, np.array(wb))
    assert np.array_equal(w01a, np.array(w01))
