"""Docking case-steps per second: our batched APAS-75 step (:func:`kernels.docking.step`) against
MuJoCo's ``rollout`` on an equivalent model, same cases, same time step, same process, at several
batch sizes (``by_batch``: 100, 10^3 and 10^4 cases x 100 steps of 1 ms; ``--quick``: 100 and
10^3 cases x 50 steps).

The cases are captures in progress: the petals overlapping by more than half their height, the
ring faces 2 mm to 33 cm apart, up to 8 cm and 5 deg off, closing at 0.05-0.3 m/s.

Equivalent MuJoCo model (built from the same parameters, :func:`mujoco_xml`): three free bodies
(active vehicle, guide ring, passive vehicle) with the same masses, inertias and centres of mass;
the six attenuator struts as spatial tendons with the same stiffness, damping and neutral length;
contacts as 36 explicit ``<pair>`` elements mirroring our 36 contacts one for one
(:func:`contact_pairs`; every geom has contype = conaffinity = 0, so nothing else is checked):
flank capsules against flank capsules, latch and catch points against the faces, petal points
against the guide rings (a tangent capsule per point stands for the torus, which MuJoCo lacks).
Contact stiffness and damping map onto MuJoCo's solref (direct form, per unit of an effective
mass); friction 0.2; no gravity; Euler integrator; the fastest solver settings that keep the
converged answer (``MJ_OPTIONS``). :func:`capture_check` runs the historical case and a few
envelope cases on both sides and compares the capture outcome and the peak contact force (the
JSON's ``check``). The contact laws differ by design (soft constraints against our penalty law).

Each side at its best: ours as tiles of cases on experience.parallel.map_tiles (one tile per
thread, none under MIN_TILE cases) or one call on one thread, whichever is faster; MuJoCo on a
persistent rollout pool with one thread per core, or one thread, whichever is faster. All four
figures are in ``by_batch``. Ours runs on CuPy with ``--backend cupy`` (one call, the clock
stopped after a device synchronisation).
"""

from __future__ import annotations

import math
import os
import time

import numpy as np

from bench import best_time, machine_info

SIZES, STEPS = (100, 1_000, 10_000), 100
QUICK_SIZES, QUICK_STEPS = (100, 1_000), 50
MIN_TILE = 2_048  # fewest cases per thread for the reference path (see ours_tiles)
FUSED_MIN_TILE = 16  # and for the fused path
MJ_CHUNK = 25  # MuJoCo rollout steps per call (its state output is cases x steps x nstate)


def _cases(n: int, seed: int = 7):
    """Host start arrays for captures in progress."""
    from experience.simulation import docking as sd

    spec = sd.load_spec("apollo", thrusters=False, orbit=True, capture=True, post_capture=False)
    rng = np.random.default_rng(seed)
    reach = sd.petal_reach_m(spec)
    off = np.zeros((n, 3))
    ang = rng.uniform(0, 2 * math.pi, n)
    lat = rng.uniform(0.0, 0.08, n)
    off[:, 0], off[:, 1] = lat * np.cos(ang), lat * np.sin(ang)
    ext = spec.ring_extension_m
    off[:, 2] = rng.uniform(ext + 0.002, ext + 0.5 * (reach - ext), n)
    vel = np.zeros((n, 3))
    vel[:, 2] = -rng.uniform(0.05, 0.3, n)
    vel[:, :2] = rng.normal(0.0, 0.005, (n, 2))
    axis = rng.normal(size=(n, 3))
    axis /= np.linalg.norm(axis, axis=1, keepdims=True)
    mis = axis * np.radians(rng.uniform(0.0, 5.0, n))[:, None]
    rate = rng.normal(0.0, np.radians(0.1), (n, 3))
    return spec, off, vel, mis, rate


# ---------------------------------------------------------------------------------------------
# MuJoCo: the equivalent model
# ---------------------------------------------------------------------------------------------
def _fmt(v):
    return " ".join(f"{float(x):.6g}" for x in v)


PAD_HALF_M = 0.8  # half-width of the face boxes (our faces are planes; every latch and catch is inside)
PAD_DEPTH_M = 0.05  # half-thickness of the face boxes
POINT_RADIUS_M = 1e-3  # the latch and catch points as spheres of this radius, set back by it
ARC_HALF_M = 0.12  # half-length of the torus capsule that stands for the guide ring at one petal point
MJ_MASS_EFF_KG = 45.0  # effective mass for the contact stiffness in MuJoCo's solref (half the ring's)

# MuJoCo's fastest settings for this model that keep its answer: a grid of Newton, CG and PGS at
# 1-50 iterations and both friction cones (docs/benchmarks.md) ran within measurement noise of each
# other (5.7-9 us per case-step unloaded, one thread) wherever it kept the capture outcome and the
# converged contact forces (within 25 %); fewer Newton iterations with the pyramidal cone lose the
# historical capture and put out 10^4 N force spikes. Newton with 10 iterations, pyramidal cone,
# dense Jacobian (18 DOF), Euler without eulerdamp's implicit damping (our integrator is explicit).
MJ_OPTIONS = {"solver": "Newton", "iterations": 10, "ls_iterations": 10, "cone": "pyramidal", "jacobian": "dense"}
MJ_FLAGS = {"eulerdamp": "disable"}


def _torus_capsule(radius, z, azimuth, half):
    """A capsule axis tangent to the circle (radius, at height z) at ``azimuth``: the stretch of
    the guide ring's centre-line that one petal point meets."""
    c, s = math.cos(azimuth), math.sin(azimuth)
    a = (radius * c + half * s, radius * s - half * c, z)
    b = (radius * c - half * s, radius * s + half * c, z)
    return _fmt(a) + " " + _fmt(b)


def contact_pairs(params) -> list[tuple[str, str, str]]:
    """Our 36 contacts as (kind, ring geom, passive geom), in kernels.docking's order: 6 flank
    pairs, 3 latches on the passive face, 3 catches on the ring face, 12 ring petal points on the
    passive guide ring, 12 passive petal points on the ring's guide ring."""
    out = [("flank", f"rf{i}", f"pf{i}") for i in range(6)]
    out += [("latch", f"rl{k}", "pface") for k in range(3)]
    out += [("catch", "rface", f"pc{k}") for k in range(3)]
    out += [("petal-on-passive-ring", f"rg{j}", f"pt{j}") for j in range(12)]
    out += [("petal-on-active-ring", f"rt{j}", f"pg{j}") for j in range(12)]
    return out


def mujoco_xml(params, options: dict | None = None, flags: dict | None = None) -> str:
    """MJCF of the equivalent model from host (NumPy) :class:`kernels.docking.DockingParams`.

    Contacts are explicit ``<pair>`` elements mirroring ours one for one (``contact_pairs``):
    every geom has contype = conaffinity = 0, so MuJoCo's broad phase checks exactly these 36
    pairs, like our narrow phase. Same geometry: flank capsules against flank capsules, latch and
    catch points (spheres of 1 mm set back by their radius) against the faces (boxes whose top is
    the face plane), petal points (spheres of the petal edge radius) against the guide ring, which
    MuJoCo has no torus for: each petal point meets a capsule of the tube radius on the tangent to
    the ring's centre-line at the azimuth where the point sits when docked (the distance differs
    from the torus's by about R (1 - cos(da)) for a point da away from that azimuth: 0.4 mm at
    2 deg of roll or 2 cm of lateral offset, ~5 mm at 8 cm).
    """
    from kernels import docking as dk

    p = params
    opts = dict(MJ_OPTIONS if options is None else options)
    flg = dict(MJ_FLAGS if flags is None else flags)
    mass = np.asarray(p.mass_kg)
    inertia = np.asarray(p.inertia_kg_m2)
    ring = np.asarray(p.ring_local_m)
    act = np.asarray(p.act_local_m)
    edge = p.edge_sum_m / 2
    tube = p.ring_tube_m - edge
    r = p.ring_radius_m
    r0 = POINT_RADIUS_M
    latch_z = float(ring[6][2])
    geoms_ring = []
    for i in range(6):
        a, d = ring[i], ring[27 + i]
        geoms_ring.append(f'<geom name="rf{i}" type="capsule" size="{edge}" fromto="{_fmt(a)} {_fmt(a + d)}"/>')
    for k in range(3):
        geoms_ring.append(f'<geom name="rl{k}" type="sphere" size="{r0}" pos="{_fmt(ring[6 + k] - (0, 0, r0))}"/>')
    geoms_ring.append(f'<geom name="rface" type="box" size="{PAD_HALF_M} {PAD_HALF_M} {PAD_DEPTH_M}" '
                      f'pos="0 0 {latch_z - PAD_DEPTH_M:.6g}"/>')
    for j in range(12):
        geoms_ring.append(f'<geom name="rg{j}" type="sphere" size="{edge}" pos="{_fmt(ring[15 + j])}"/>')
    pas_guide = np.asarray(p.pass_guide_m)
    for j in range(12):  # the ring's guide ring where passive petal point j meets it
        q = pas_guide[j]
        az = math.atan2(q[1], -q[0])  # docked: passive x, y -> ring -x, y
        geoms_ring.append(f'<geom name="rt{j}" type="capsule" size="{tube:.6g}" '
                          f'fromto="{_torus_capsule(r, p.ring_torus_z_m, az, ARC_HALF_M)}"/>')
    ring_sites = [f'<site name="r{i}" pos="{_fmt(ring[9 + i])}"/>' for i in range(6)]
    base_sites = [f'<site name="b{i}" pos="{_fmt(act[i])}"/>' for i in range(6)]
    pf_p, pf_d = np.asarray(p.pass_flank_p_m), np.asarray(p.pass_flank_d_m)
    geoms_pas = [f'<geom name="pf{i}" type="capsule" size="{edge}" fromto="{_fmt(pf_p[i])} {_fmt(pf_p[i] + pf_d[i])}"/>'
                 for i in range(6)]
    geoms_pas.append(f'<geom name="pface" type="box" size="{PAD_HALF_M} {PAD_HALF_M} {PAD_DEPTH_M}" '
                     f'pos="0 0 {p.face_z_m - PAD_DEPTH_M:.6g}"/>')
    for k, q in enumerate(np.asarray(p.catch_m)):
        geoms_pas.append(f'<geom name="pc{k}" type="sphere" size="{r0}" pos="{_fmt(q - (0, 0, r0))}"/>')
    for j, q in enumerate(pas_guide):
        geoms_pas.append(f'<geom name="pg{j}" type="sphere" size="{edge}" pos="{_fmt(q)}"/>')
    for j in range(12):  # the passive guide ring where ring petal point j meets it
        g = ring[15 + j]
        az = math.atan2(g[1], -g[0])
        geoms_pas.append(f'<geom name="pt{j}" type="capsule" size="{tube:.6g}" '
                         f'fromto="{_torus_capsule(r, p.pass_torus_z_m, az, ARC_HALF_M)}"/>')
    # strut neutral lengths with the ring extended
    reach = p.strut_dz0_m + p.ring_extension_m
    neutral = np.sqrt(np.asarray(p.strut_rho2_m2) + reach * reach)
    tendons = "\n  ".join(
        f'<spatial stiffness="{p.strut_stiffness_n_m}" damping="{p.strut_damping_n_s_m}" '
        f'springlength="{neutral[i]:.6f}"><site site="b{i}"/><site site="r{i}"/></spatial>' for i in range(6))

    def body(name, k, geoms):
        return (f'<body name="{name}"><freejoint/>'
                f'<inertial pos="0 0 0" mass="{mass[k]:.6g}" diaginertia="{_fmt(inertia[k])}"/>\n    '
                + "\n    ".join(geoms) + "\n  </body>")

    mu = p.friction_coefficient
    k_eff = p.contact_stiffness_n_m / MJ_MASS_EFF_KG
    b_eff = p.contact_damping_n_s_m / MJ_MASS_EFF_KG
    pairs = "\n  ".join(f'<pair geom1="{a}" geom2="{b}"/>' for _, a, b in contact_pairs(p))
    opt = " ".join(f'{k}="{v}"' for k, v in opts.items())
    flag = " ".join(f'{k}="{v}"' for k, v in flg.items())
    return f"""<mujoco model="apas75">
  <option timestep="{p.dt_s}" gravity="0 0 0" integrator="Euler" {opt}>
    <flag {flag}/>
  </option>
  <default>
    <geom contype="0" conaffinity="0"/>
    <pair condim="3" friction="{mu} {mu} 0.005 0.0001 0.0001" solref="{-k_eff:.6g} {-b_eff:.6g}"
          solimp="0.99 0.99 0.001 0.5 2"/>
  </default>
  <worldbody>
  {body("active", dk.ACTIVE, base_sites)}
  {body("ring", dk.RING, ring_sites + geoms_ring)}
  {body("passive", dk.PASSIVE, geoms_pas)}
  </worldbody>
  <contact>
  {pairs}
  </contact>
  <tendon>
  {tendons}
  </tendon>
</mujoco>"""


def _quat(rot):
    """Rotation matrices (..., 3, 3) -> quaternions (w, x, y, z)."""
    from scipy.spatial.transform import Rotation

    q = Rotation.from_matrix(rot.reshape(-1, 3, 3)).as_quat()  # x, y, z, w
    return np.concatenate((q[:, 3:], q[:, :3]), axis=1).reshape(rot.shape[:-2] + (4,))


def mujoco_states(model, params, state) -> np.ndarray:
    """MuJoCo full-physics states (N, nstate) for our host :class:`DockingState`."""
    import mujoco

    pos, vel, rot, h = (np.asarray(a) for a in (state.pos_m, state.vel_m_s, state.rot, state.angmom_kg_m2_s))
    n = pos.shape[0]
    inv_i = np.asarray(params.inv_inertia)
    w_body = np.einsum("nbji,nbj->nbi", rot, h) * inv_i  # body-frame angular velocity
    qpos = np.concatenate((pos, _quat(rot)), axis=-1).reshape(n, -1)
    qvel = np.concatenate((vel, w_body), axis=-1).reshape(n, -1)
    data = mujoco.MjData(model)
    spec = mujoco.mjtState.mjSTATE_FULLPHYSICS
    size = mujoco.mj_stateSize(model, spec)
    out = np.empty((n, size))
    for k in range(n):
        data.qpos[:] = qpos[k]
        data.qvel[:] = qvel[k]
        mujoco.mj_getState(model, data, out[k], spec)
    return out


def _mujoco_run(model, datas, init, steps, pool=None):
    """``steps`` steps of every case from ``init`` (N, nstate) with ``mujoco.rollout``: one thread
    per MjData in ``datas``; ``pool`` a persistent :class:`mujoco.rollout.Rollout` (its threads
    start once, not on every call)."""
    from mujoco import rollout

    n = init.shape[0]
    buf = np.empty((n, min(MJ_CHUNK, steps), init.shape[1]))
    s = init
    done = 0
    call = rollout.rollout if pool is None else pool.rollout
    while done < steps:
        k = min(MJ_CHUNK, steps - done)
        call(model, datas, s, nstep=k, state=buf[:, :k])
        s = buf[:, k - 1]
        done += k
    return buf


# ---------------------------------------------------------------------------------------------
# The check: same capture outcome and similar contact forces on both sides
# ---------------------------------------------------------------------------------------------
CHECK_EVERY = 10  # steps between samples of the latch condition
CHECK_HORIZON_S = 6.0  # longest run of a check case (the historical capture comes 3.9 s after contact)


def latch_ok(params, pos, rot) -> np.ndarray:
    """The capture condition of kernels.docking (all three latch points within the gap and the
    lateral tolerance of their catches, in body-2 axes) from host body poses (N, 3, 3) and
    (N, 3, 3, 3); the same function judges both sides."""
    from kernels import docking as dk

    lat = np.asarray(params.ring_local_m)[6:9]
    catch = np.asarray(params.catch_m)
    world = pos[:, dk.RING, None, :] + np.einsum("nij,kj->nki", rot[:, dk.RING], lat)
    b2 = np.einsum("nji,nkj->nki", rot[:, dk.PASSIVE], world - pos[:, dk.PASSIVE, None, :])
    dl = b2 - catch
    ok = (dl[..., 2] <= params.latch_gap_m) & (dl[..., 0] ** 2 + dl[..., 1] ** 2 <= params.latch_lateral_m ** 2)
    return np.all(ok, axis=1)


def _historical_case(spec):
    """The historical docking's contact conditions, 0.1 s before first contact, from the replay
    of the historical run (generated/docking-replay.npz): port offset, closing and lateral
    velocity, misalignment and relative rate (passive port frame)."""
    from scipy.spatial.transform import Rotation

    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "generated",
                        "docking-replay.npz")
    z = np.load(path, allow_pickle=False)
    t = z["utc_s_from_capture"]
    i = int(np.argmax(z["phase"] >= 1)) - 5  # 5 samples at 50 Hz before first contact
    off = z["port_offset_m"][i].astype(np.float64)
    dt = t[i + 1] - t[i]
    vel = (z["port_offset_m"][i + 1].astype(np.float64) - off) / dt
    mirror = np.diag([-1.0, 1.0, -1.0])
    r_a = Rotation.from_matrix(z["port_rot"][i].astype(np.float64) @ mirror)
    r_b = Rotation.from_matrix(z["port_rot"][i + 1].astype(np.float64) @ mirror)
    rate = (r_b * r_a.inv()).as_rotvec() / dt
    return off, vel, r_a.as_rotvec(), rate


def check_cases(spec, n_envelope: int):
    """The historical case and ``n_envelope`` cases from the capture envelope's own sampler, with
    its lateral and angular ranges cut to where the MuJoCo model's torus capsules stand for the
    guide ring to within a few millimetres (lateral offset <= 8 cm, misalignment <= 5 deg)."""
    from experience.simulation import docking as sd

    names, rows = ["historical"], [_historical_case(spec)]
    ranges = sd.default_ranges()
    ranges["lateral_offset_m"] = (0.0, 0.08)
    ranges["misalign_deg"] = (0.0, 5.0)
    ranges["angular_rate_deg_s"] = (0.0, 0.5)
    smp = sd.sample_conditions(n_envelope, 1975, ranges)
    lat = smp["lateral_offset_m"][:, None] * smp["lateral_dir"]
    latv = smp["lateral_rate_m_s"][:, None] * smp["lateral_rate_dir"]
    mis = np.radians(smp["misalign_deg"])[:, None] * smp["misalign_axis"]
    rate = np.radians(smp["angular_rate_deg_s"])[:, None] * smp["rate_axis"]
    off, vel, mis0, rate0, _ = sd.contact_conditions(spec, smp["closing_speed_m_s"], lat, latv, mis, rate)
    for k in range(n_envelope):
        names.append(f"envelope {k}: {smp['closing_speed_m_s'][k]:.3f} m/s, {smp['lateral_offset_m'][k] * 100:.1f} cm, "
                     f"{smp['misalign_deg'][k]:.1f} deg")
        rows.append((off[k], vel[k], mis0[k], rate0[k]))
    return names, [np.stack([r[j] for r in rows]) for j in range(4)]


def _mujoco_contact_force(model, data, buf) -> float:
    """Resultant contact force on the ring (every pair is ring against body 2), newtons."""
    import mujoco

    total = np.zeros(3)
    for c in range(data.ncon):
        mujoco.mj_contactForce(model, data, c, buf)
        total += data.contact[c].frame.reshape(3, 3).T @ buf[:3]
    return float(np.linalg.norm(total))


def capture_check(spec, model, n_envelope: int) -> dict:
    """Run the check cases on both sides without latches (free bodies on both sides: MuJoCo's
    model has none) and compare the capture outcome (the latch condition met within the horizon,
    sampled every CHECK_EVERY steps by the same function) and the peak resultant contact force on
    the ring up to capture (or the horizon)."""
    import mujoco

    from kernels import docking as dk

    names, (off, vel, mis, rate) = check_cases(spec, n_envelope)
    free = spec._replace(capture=False, post_capture=False)
    hp = dk.build_params(free, np.zeros(1))
    st = dk.approach_state(hp, off, vel, mis, rate)
    n = off.shape[0]
    steps = int(round(CHECK_HORIZON_S / spec.dt_s))
    # ours
    t_cap = np.full(n, np.nan)
    peak = np.zeros(n)
    done = 0
    while done < steps and np.isnan(t_cap).any():
        st = dk.run(hp, st, CHECK_EVERY)
        done += CHECK_EVERY
        ok = latch_ok(hp, np.asarray(st.pos_m), np.asarray(st.rot)) & np.isnan(t_cap)
        t_cap[ok] = done * spec.dt_s
        peak = np.where(np.isnan(t_cap) | ok, np.asarray(st.peak_force_n), peak)
    # MuJoCo, one case at a time
    init = mujoco_states(model, hp, dk.approach_state(hp, off, vel, mis, rate))
    data = mujoco.MjData(model)
    buf = np.zeros(6)
    spec_full = mujoco.mjtState.mjSTATE_FULLPHYSICS
    mj_cap = np.full(n, np.nan)
    mj_peak = np.zeros(n)
    for k in range(n):
        mujoco.mj_setState(model, data, init[k], spec_full)
        for i in range(1, steps + 1):
            mujoco.mj_step(model, data)
            mj_peak[k] = max(mj_peak[k], _mujoco_contact_force(model, data, buf))
            if i % CHECK_EVERY == 0:
                pos = np.asarray(data.xpos[1:4])[None]
                rot = np.asarray(data.xmat[1:4]).reshape(1, 3, 3, 3)
                if latch_ok(hp, pos, rot)[0]:
                    mj_cap[k] = i * spec.dt_s
                    break
    cases = []
    for k in range(n):
        cases.append({
            "case": names[k],
            "captured_ours": bool(np.isfinite(t_cap[k])), "captured_mujoco": bool(np.isfinite(mj_cap[k])),
            "t_capture_ours_s": None if np.isnan(t_cap[k]) else float(t_cap[k]),
            "t_capture_mujoco_s": None if np.isnan(mj_cap[k]) else float(mj_cap[k]),
            "peak_force_ours_n": float(peak[k]), "peak_force_mujoco_n": float(mj_peak[k]),
            "force_ratio": float(mj_peak[k] / peak[k]) if peak[k] > 0 else None,
        })
    same = all(c["captured_ours"] == c["captured_mujoco"] for c in cases)
    ratios = [c["force_ratio"] for c in cases if c["force_ratio"]]
    return {
        "same_outcome": same,
        "force_ratio_min": min(ratios) if ratios else None,
        "force_ratio_max": max(ratios) if ratios else None,
        "horizon_s": CHECK_HORIZON_S,
        "how": ("both sides without latches (MuJoCo has none) from the same start states, up to the horizon; "
                "captured = the latch condition of kernels.docking met (sampled every %d ms, one function for "
                "both); force = peak resultant contact force on the ring up to capture; force_ratio = MuJoCo / ours"
                % int(CHECK_EVERY * spec.dt_s * 1000)),
        "cases": cases,
    }


# ---------------------------------------------------------------------------------------------
# The benchmark
# ---------------------------------------------------------------------------------------------
def ours_tiles(n: int, threads: int, min_tile: int = None) -> list[slice]:
    """How the CPU path cuts n cases for the pool: one tile per thread, but none under
    ``min_tile`` cases (the reference: MIN_TILE, below which NumPy's per-call cost, which holds the
    GIL, is most of a step and a second thread only queues behind the first; the fused path,
    which releases the GIL for the whole run: FUSED_MIN_TILE)."""
    min_tile = MIN_TILE if min_tile is None else min_tile
    count = max(1, min(threads, n // min_tile))
    edges = [round(k * n / count) for k in range(count + 1)]
    return [slice(a, b) for a, b in zip(edges[:-1], edges[1:])]


def best_wall_cpu(fn, repeats: int, sync=None) -> tuple[float, float]:
    """Best wall-clock and best CPU time (this process, all its threads) of ``repeats`` calls: on
    a shared machine the CPU time of a one-thread run is what the work costs, whatever the load."""
    wall = cpu = float("inf")
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        if sync is not None:
            sync()
        wall, cpu = min(wall, time.perf_counter() - w0), min(cpu, time.process_time() - c0)
    return wall, cpu


def _mean_contacts(model, final) -> float:
    import mujoco

    probe = mujoco.MjData(model)
    ncon = []
    for k in range(final.shape[0]):
        mujoco.mj_setState(model, probe, final[k], mujoco.mjtState.mjSTATE_FULLPHYSICS)
        mujoco.mj_forward(model, probe)
        ncon.append(probe.ncon)
    return float(np.mean(ncon))


def run(quick: bool = False) -> dict:
    import mujoco
    from mujoco import rollout

    from experience import parallel
    from experience.backend import select_backend, to_host
    from experience.simulation.docking import keep_heap
    from kernels import docking as dk

    load_start = os.getloadavg()
    requested = os.environ.get("ASTP_BACKEND") or "numpy"
    backend = select_backend(requested)
    xp = backend.xp
    sizes, steps = (QUICK_SIZES, QUICK_STEPS) if quick else (SIZES, STEPS)
    n_max = max(sizes)
    spec, off, vel, mis, rate = _cases(n_max)
    heap = keep_heap() if backend.name == "numpy" else False
    cores = parallel.cpu_count()
    threads = 1 if backend.name == "cupy" else parallel.thread_count()
    sync = xp.cuda.Device().synchronize if backend.name == "cupy" else None

    params = dk.build_params(spec, backend.asarray(np.zeros(1)))
    host_params = dk.build_params(spec, np.zeros(1))
    model = mujoco.MjModel.from_xml_string(mujoco_xml(host_params))
    init_all = mujoco_states(model, host_params, dk.approach_state(host_params, off, vel, mis, rate))
    one = [mujoco.MjData(model)]
    many = [mujoco.MjData(model) for _ in range(cores)]
    _mujoco_run(model, one, init_all[:50], 3)  # warm-up
    warm = dk.approach_state(params, *(backend.asarray(a[:8]) for a in (off, vel, mis, rate)))
    dk.run(params, warm, 3)
    # the fused CPU path (kernels.docking_fused, Numba) where it covers the case; else the reference
    from kernels import docking_fused as fz

    fused = backend.name == "numpy" and fz.supports(params)
    if fused:
        t0 = time.perf_counter()
        fz.run(params, warm, 3)  # compiles once (or loads Numba's cache)
        compile_s = time.perf_counter() - t0
    ours_run = fz.run if fused else dk.run
    min_tile = FUSED_MIN_TILE if fused else MIN_TILE

    by_batch = []
    touching = None
    with rollout.Rollout(nthread=cores) as pool:
        _mujoco_run(model, many, init_all[:50], 3, pool)  # warm-up (the pool's threads start)
        for n in sizes:
            repeats = 3 if n <= 1_000 else 2
            rows = [backend.asarray(a[:n]) for a in (off, vel, mis, rate)]
            whole = dk.approach_state(params, *rows)
            tiles = ([slice(0, n)] if backend.name == "cupy" else ours_tiles(n, threads, min_tile))
            starts = [dk.approach_state(params, *(r[t] for r in rows)) for t in tiles]
            finals = {}

            def ours_one():
                finals[0] = ours_run(params, whole, steps)

            def ours_all():
                finals[1] = parallel.map_tiles(lambda st: ours_run(params, st, steps), starts, workers=threads)

            init = init_all[:n]
            t_one, c_one = best_wall_cpu(ours_one, repeats, sync)
            t_all = best_time(ours_all, repeats, sync) if len(tiles) > 1 else t_one
            b_one, cb_one = best_wall_cpu(lambda: _mujoco_run(model, one, init, steps), repeats)
            b_all = best_time(lambda: _mujoco_run(model, many, init, steps, pool), repeats)
            # the array-API reference on NumPy, one call on one thread (what runs without Numba)
            t_ref = (best_time(lambda: dk.run(params, whole, steps), 1 if n > 1_000 else repeats, sync)
                     if fused else t_one)
            cs = n * steps
            # each side at its best: the faster of its all-core and its one-thread figure (on a
            # loaded machine a second thread can lose); both are reported
            row = {"cases": n, "steps": steps, "ours_tiles": len(tiles),
                   "ours_per_s": cs / min(t_all, t_one), "ours_all_threads_per_s": cs / t_all,
                   "ours_1thread_per_s": cs / t_one, "ours_reference_1thread_per_s": cs / t_ref,
                   "baseline_per_s": cs / min(b_all, b_one), "baseline_all_threads_per_s": cs / b_all,
                   "baseline_1thread_per_s": cs / b_one}
            row["ratio"] = row["ours_per_s"] / row["baseline_per_s"]
            row["ratio_1thread"] = row["ours_1thread_per_s"] / row["baseline_1thread_per_s"]
            # one thread each, CPU time: the cost of the work itself on this core, whatever the load
            row["ours_1thread_cpu_us_per_case_step"] = c_one / cs * 1e6
            row["baseline_1thread_cpu_us_per_case_step"] = cb_one / cs * 1e6
            row["ratio_1thread_cpu"] = cb_one / c_one
            row["ours_wins"] = row["ratio"] > 1.0
            by_batch.append(row)
            if n == n_max:
                touching = float(np.mean(to_host(finals[0].t_contact_s) >= 0))
        final = _mujoco_run(model, many, init_all[:200], steps, pool)[:, -1]
    mean_contacts = _mean_contacts(model, final)
    check = capture_check(spec, model, 2 if quick else 5)
    load_end = os.getloadavg()

    head = by_batch[-1]
    at = {r["cases"]: r for r in by_batch}
    goals = {
        "ratio_at_10000_cases_at_least_10": (at[10_000]["ratio"] >= 10.0) if 10_000 in at else "not measured (--quick)",
        "ratio_at_100_cases_at_least_2": at[100]["ratio"] >= 2.0 if 100 in at else "not measured",
    }
    losing = [r["cases"] for r in by_batch if not r["ours_wins"]]
    if backend.name == "cupy":
        how = "one call on all cases on the GPU (clock stopped after device synchronisation)"
    elif fused:
        how = (f"the fused CPU path kernels.docking_fused (Numba; tested against the array-API reference "
               f"to 1e-9), cases cut into tiles (one per thread, at least {FUSED_MIN_TILE} cases each) on "
               f"experience.parallel.map_tiles, {threads} threads, float64")
    else:
        how = (f"the array-API reference (no Numba here), cases cut into tiles (one per thread, at least "
               f"{MIN_TILE} cases each) on experience.parallel.map_tiles, {threads} threads, float64")
    return {
        "name": "docking",
        "what": (f"docking cases x {steps} steps of {spec.dt_s * 1000:g} ms (case-steps per second) at "
                 f"{', '.join(f'{n:,}' for n in sizes)} cases; headline at {n_max:,}"),
        "ours": f"the kernels.docking physics on {backend.name}: 3 bodies, 6 struts, 36 contacts per case; {how}",
        "ours_per_s": head["ours_per_s"],
        "ours_all_threads_per_s": head["ours_all_threads_per_s"],
        "ours_1thread_per_s": head["ours_1thread_per_s"],
        "baseline": (f"mujoco.rollout (MuJoCo {mujoco.__version__}) with a persistent pool of {cores} threads, "
                     f"equivalent model with {model.npair} explicit contact pairs, solver "
                     f"{MJ_OPTIONS['solver']} x{MJ_OPTIONS['iterations']}"),
        "baseline_per_s": head["baseline_per_s"],
        "baseline_all_threads_per_s": head["baseline_all_threads_per_s"],
        "baseline_1thread_per_s": head["baseline_1thread_per_s"],
        "baseline_threads": cores,
        "ours_threads": threads,
        "ratio": head["ours_per_s"] / head["baseline_per_s"],
        "ratio_vs_baseline_all_threads": head["ours_per_s"] / head["baseline_all_threads_per_s"],
        "ratio_1thread": head["ratio_1thread"],
        "ratio_1thread_cpu": head["ratio_1thread_cpu"],
        "ours_path": "fused (kernels.docking_fused)" if fused else "reference (kernels.docking)",
        "ours_reference_1thread_per_s": head["ours_reference_1thread_per_s"],
        "fused_compile_s": round(compile_s, 2) if fused else None,
        "contacts_ours": dk.N_CONTACTS,
        "contacts_baseline": int(model.npair),
        "by_batch": by_batch,
        "losing_batch_sizes": losing,
        "verdict": ("ours is ahead at every batch size measured" if not losing else
                    "ours LOSES to MuJoCo (all threads) at %s cases" % ", ".join(f"{n:,}" for n in losing)),
        "goals": goals,
        "check": check,
        "cases": n_max,
        "steps": steps,
        "dt_s": spec.dt_s,
        "quick": quick,
        "cases_touching_fraction": touching,
        "mujoco_mean_contacts": mean_contacts,
        "mujoco_options": {**MJ_OPTIONS, **MJ_FLAGS},
        "allocator": ("glibc mallopt: trim and mmap thresholds 256 MiB (set by the bench)" if heap
                      else "allocator defaults"),
        "load_average": {"start": [round(x, 2) for x in load_start], "end": [round(x, 2) for x in load_end]},
        "machine": machine_info(backend.name, backend.device),
        "notes": (
            "Best of 2-3 runs each, same process, same start states (captures in progress: petals "
            "overlapping, up to 8 cm and 5 deg off, 0.05-0.3 m/s), same 1 ms step, float64. MuJoCo model: "
            "same masses, inertias and strut tendons; its contacts are 36 explicit pairs mirroring ours one "
            "for one (contact_pairs(); the guide-ring torus is a tangent capsule per petal point), checked "
            "against ours in 'check' (capture outcome and peak contact force). Its contact solver (soft "
            "constraints) differs from our penalty law. Each side at its best: the faster of its all-core "
            "figure (ours: tiles on experience.parallel.map_tiles; MuJoCo: rollout with baseline_threads "
            "threads) and its one-thread figure, both in by_batch; ratio_vs_baseline_all_threads is against "
            "MuJoCo on all cores alone. ours_reference_1thread_per_s: the array-API reference kernel on NumPy "
            "(what runs without Numba). The machine is shared: see load_average."
        ),
    }
