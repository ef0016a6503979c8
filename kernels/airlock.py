"""Cabin gas: volumes joined by hatches and valves, filled from tanks, vented to space; batched.

The Docking Module airlock of 17 July 1975 (docs/airlock.md has the derivations, numbers and
sources) and any other set of rigid gas volumes. One call of :func:`step` advances S independent
scenarios by one time step, MuJoCo-MJX style: a pure function of (params, state, controls, dt).
Array layout: scenario axis first, then the volume (or edge, tank, vent) axis, species axis last
(``SPECIES``: 0 O2, 1 N2). Float64 SI throughout (Pa, K, m^3, mol, s); ``pressure_mmhg`` is the
one conversion for gauges.

The model
---------
- Each volume holds an ideal-gas mixture: moles per species ``gas_mol`` (S, V, K) and one
  temperature ``temp_k`` (S, V). Heat capacities are constant per species (diatomic gases near
  room temperature); the mixture's molar mass, c_p, c_v and gamma follow from the mole fractions.
- An *edge* joins two volumes through a hatch opening and an equalisation valve in parallel:
  effective area ``hatch_cda_m2 * hatch_open + valve_cda_m2 * valve_open`` (discharge coefficient
  times area). The flow is the compressible isentropic orifice law (:func:`orifice_molar_flow`),
  choked below the critical pressure ratio (2/(gamma+1))^(gamma/(gamma-1)), unchoked above it,
  with the upstream mixture's gamma, molar mass and temperature; the gas carries the upstream
  composition.
- A *tank* (one species, fixed volume and temperature: the tanks are outside the cabin and hold
  only moles as state) feeds one volume through its valve by the same law (a check valve: never
  backward). A *vent* empties one volume to vacuum (always choked), with an optional proportional
  relief band: shut below ``vent_crack_pa``, fully open above ``vent_full_pa`` (a manual vent has
  both at zero).
- Energy: adiabatic flow with wall exchange. Gas leaving a volume takes the enthalpy of an
  isentropic expansion of what stays (the exact result for a well-mixed adiabatic donor); gas
  entering brings that enthalpy; tanks deliver at their own temperature. Each volume's gas relaxes
  toward its wall temperature with conductance G (W/K; ``wall_fan_w_k`` with the cabin fan on,
  ``wall_still_w_k`` with it off): ``T <- T_w + (T - T_w) exp(-G dt / C_v)``, exact for the linear
  law. Gas that warms after a fast pressure drop is how the SP-4209 "leak" comes out.

Integration: stable and monotone for any dt
-------------------------------------------
An open hatchway equalises in milliseconds, a valve in minutes, a tank empties over hours: an
explicit step would need sub-millisecond steps. Each (sub-)step:

1. relaxes every gas toward its walls (exact exponential);
2. adds the tanks' gas (explicit: a choked source from ~18 MPa hardly feels the cabin);
3. takes each edge's and vent's secant conductance k = ndot / dp at the step's start (the orifice
   law below ``P_LIN_PA`` of difference is taken as linear: it has an infinite slope at zero);
4. solves backward Euler on the linearised network for the end-of-step pressures,
   ``(I + dt L) P = p + dt b`` (one small V x V solve per scenario), where a mole moved lowers the
   donor's pressure by gamma R T / V and raises the receiver's by the exact first-order change of
   p = R U / (c_v V), and a vent pulls its volume toward its cracking pressure;
5. moves the moles that give those pressures (``k (P_a - P_b) dt`` per edge) with the donor's
   composition and isentropic enthalpy: one species array subtracted from the donor and added to
   the receiver, so every species is conserved to rounding (``vented_mol`` counts what left).

L is an M-matrix, so the new pressures are weighted means of the old: no overshoot, no
oscillation; a step far longer than an equalisation time lands on the equilibrium; a chain of
open hatchways equalises in one step. The scheme is first order in dt where the flows are
resolved (valves at frame rate); the linearisation leaves a residual second order in the
fraction of a volume's gas moved in one step, which the next step removes.

Static configuration (Python ints in :class:`AirlockParams`: the topology and ``substeps``) is
like the static arguments of a jitted function; everything else is an array with a leading axis
of 1 (shared) or S (one row per scenario: :func:`build_params` takes a list of specs).
"""

from __future__ import annotations

import math
from typing import NamedTuple

from array_api_compat import device as _device

from kernels._xp import namespace

R_J_MOL_K = 8.314462618  # molar gas constant (CODATA 2018, exact)
MMHG_PA = 133.322387415  # 1 mmHg (conventional, 13.5951 g/cm^3 mercury at standard gravity)
SPECIES = ("o2", "n2")
O2, N2 = 0, 1
_TINY = 1e-300
P_LIN_PA = 1.0  # below this pressure difference an orifice's flow is taken as linear in it


class AirlockSpec(NamedTuple):
    """Every physical input as plain floats / tuples, host side (one scenario).

    ``experience.simulation.airlock`` fills it from data/mission/airlock.toml; tests build their
    own. Topology entries are volume indices. Units are in the names.
    """

    volume_m3: tuple  # (V,)
    wall_temp_k: tuple  # (V,)
    wall_fan_w_k: tuple  # (V,) wall conductance h*A with the cabin fan on
    wall_still_w_k: tuple  # (V,) conduction only (fan off)
    edges: tuple  # ((a, b), ...) volume pairs; positive flow a -> b
    hatch_cda_m2: tuple  # (E,) discharge coefficient x area of the open hatchway
    valve_cda_m2: tuple  # (E,) of the equalisation valve
    tank_node: tuple  # (T,) volume each tank feeds
    tank_species: tuple  # (T,) species index of its gas
    tank_volume_m3: tuple  # (T,)
    tank_temp_k: tuple  # (T,)
    tank_cda_m2: tuple  # (T,) its metering valve
    vent_node: tuple  # (N,) volume each vent empties to space
    vent_cda_m2: tuple  # (N,)
    vent_crack_pa: tuple  # (N,) relief band; (0, 0) for a manual vent
    vent_full_pa: tuple  # (N,)
    molar_mass_kg_mol: tuple = (0.0319988, 0.0280134)  # O2, N2
    cp_j_mol_k: tuple = (29.378, 29.124)  # O2, N2 at 298 K
    substeps: int = 1


class AirlockParams(NamedTuple):
    """Arrays on one namespace/device (leading axis 1 or S) plus the static topology."""

    volume_m3: object  # (1|S, V)
    wall_temp_k: object  # (1|S, V)
    wall_fan_w_k: object  # (1|S, V)
    wall_still_w_k: object  # (1|S, V)
    hatch_cda_m2: object  # (1|S, E)
    valve_cda_m2: object  # (1|S, E)
    tank_volume_m3: object  # (1|S, T)
    tank_temp_k: object  # (1|S, T)
    tank_cda_m2: object  # (1|S, T)
    vent_cda_m2: object  # (1|S, N)
    vent_crack_pa: object  # (1|S, N)
    vent_band_pa: object  # (1|S, N) full - crack (0: no band)
    molar_mass_kg_mol: object  # (K,)
    cp_j_mol_k: object  # (K,)
    tank_molar_mass: object  # (T,)
    tank_gamma: object  # (T,)
    tank_rt_v: object  # (1|S, T) R T / V of each tank
    tank_species_h: object  # (1|S, T, K+1) one-hot species, then c_p T per mole delivered
    cv_j_mol_k: object  # (K,)
    cp_empty: object  # () properties given to an empty volume (never used for flow)
    mm_empty: object
    props_k: object  # (K, 4) c_v, c_p, molar mass, 1 per species
    gather_t: object  # (2E + N, V) one-hot rows: edge ends a, edge ends b, vents' volumes
    gather_pt: object  # (V, 2E + N) the same, transposed
    scatter: object  # (4E + N, 3V) sums connection quantities into volumes (_scatter_matrix)
    vent_diag: object  # (N, V*V) e_v e_v^T per vent, flattened
    n_edges: int
    n_vents: int
    edge_row_a: object  # (E, V*V) e_a (e_a - e_b)^T per edge, flattened (volume a's row of the network)
    edge_row_b: object  # (E, V*V) e_b (e_b - e_a)^T
    eye: object  # (V, V)
    inc_edge: object  # (V, E): -1 at a, +1 at b
    inc_a_t: object  # (E, V)
    inc_b_t: object  # (E, V)
    inc_tank: object  # (V, T) one-hot of the fed volume
    inc_vent: object  # (V, N)
    inc_vent_t: object  # (N, V)
    substeps: int


class AirlockState(NamedTuple):
    gas_mol: object  # (S, V, K) moles per species in each volume
    temp_k: object  # (S, V) gas temperature
    tank_mol: object  # (S, T) moles left in each tank
    vented_mol: object  # (S, K) moles sent to space so far (for the books)
    t_s: object  # (S,) elapsed seconds


class AirlockControls(NamedTuple):
    """Settings held over a step; 0/1 for hatches, 0..1 (a throttled valve) for the rest."""

    hatch_open: object  # (S|1, E)
    valve_open: object  # (S|1, E)
    tank_valve_open: object  # (S|1, T)
    vent_open: object  # (S|1, N)
    fan_on: object  # (S|1, V)


# ---------------------------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------------------------
def build_params(spec, like) -> AirlockParams:
    """:class:`AirlockParams` with its arrays on the namespace and device of ``like``.

    ``spec`` is one :class:`AirlockSpec` (arrays with a leading axis of 1, shared by every
    scenario) or a sequence of them with one topology (a table of scenarios: leading axis S)."""
    specs = [spec] if isinstance(spec, AirlockSpec) else list(spec)
    if not specs:
        raise ValueError("build_params needs at least one AirlockSpec")
    first = specs[0]
    topo = ("edges", "tank_node", "tank_species", "vent_node", "molar_mass_kg_mol", "cp_j_mol_k", "substeps")
    for other in specs[1:]:
        for name in topo:
            if getattr(other, name) != getattr(first, name):
                raise ValueError(f"every AirlockSpec of a table needs the same {name}")
    xp = namespace(like)
    dev = _device(like)

    def arr(value):
        return xp.asarray(value, dtype=xp.float64, device=dev)

    n_v = len(first.volume_m3)
    n_e, n_t, n_n = len(first.edges), len(first.tank_node), len(first.vent_node)
    n_k = len(first.molar_mass_kg_mol)
    for sp in specs:
        for name, n in (("wall_temp_k", n_v), ("wall_fan_w_k", n_v), ("wall_still_w_k", n_v),
                        ("hatch_cda_m2", n_e), ("valve_cda_m2", n_e), ("tank_volume_m3", n_t),
                        ("tank_temp_k", n_t), ("tank_cda_m2", n_t), ("vent_cda_m2", n_n),
                        ("vent_crack_pa", n_n), ("vent_full_pa", n_n), ("volume_m3", n_v)):
            if len(getattr(sp, name)) != n:
                raise ValueError(f"AirlockSpec.{name} needs {n} values, one per "
                                 f"{'volume' if n == n_v else 'edge, tank or vent'}")
    if len(first.tank_species) != n_t or len(first.cp_j_mol_k) != n_k:
        raise ValueError("AirlockSpec.tank_species needs one value per tank, cp_j_mol_k one per species")
    if int(first.substeps) < 1:
        raise ValueError("AirlockSpec.substeps must be at least 1")

    a_idx = [int(a) for a, _ in first.edges]
    b_idx = [int(b) for _, b in first.edges]
    t_node = [int(i) for i in first.tank_node]
    v_node = [int(i) for i in first.vent_node]
    t_sp = [int(k) for k in first.tank_species]
    mm = [float(m) for m in first.molar_mass_kg_mol]
    cp = [float(c) for c in first.cp_j_mol_k]

    def onehot_t(idx, n):  # (len(idx), n)
        return [[1.0 if j == i else 0.0 for j in range(n)] for i in idx]

    def pair(rows_t, n_rows):  # rows_t (n_rows, V) -> arrays (V, n_rows), (n_rows, V)
        t = xp.reshape(arr(rows_t), (n_rows, n_v))
        return xp.permute_dims(t, (1, 0)), t

    a_t, b_t = onehot_t(a_idx, n_v), onehot_t(b_idx, n_v)
    e_t = [[b_t[e][v] - a_t[e][v] for v in range(n_v)] for e in range(n_e)]
    inc_edge, _ = pair(e_t, n_e)
    _, inc_a_t = pair(a_t, n_e)
    _, inc_b_t = pair(b_t, n_e)
    inc_tank, _ = pair(onehot_t(t_node, n_v), n_t)
    inc_vent, inc_vent_t = pair(onehot_t(v_node, n_v), n_n)

    def table(fn, shape):  # one row per spec -> (S, *shape)
        return xp.reshape(arr([fn(sp) for sp in specs]), (len(specs),) + shape)

    def fl(name):
        return lambda sp: [float(v) for v in getattr(sp, name)]

    return AirlockParams(
        volume_m3=table(fl("volume_m3"), (n_v,)), wall_temp_k=table(fl("wall_temp_k"), (n_v,)),
        wall_fan_w_k=table(fl("wall_fan_w_k"), (n_v,)), wall_still_w_k=table(fl("wall_still_w_k"), (n_v,)),
        hatch_cda_m2=table(fl("hatch_cda_m2"), (n_e,)), valve_cda_m2=table(fl("valve_cda_m2"), (n_e,)),
        tank_volume_m3=table(fl("tank_volume_m3"), (n_t,)), tank_temp_k=table(fl("tank_temp_k"), (n_t,)),
        tank_cda_m2=table(fl("tank_cda_m2"), (n_t,)), vent_cda_m2=table(fl("vent_cda_m2"), (n_n,)),
        vent_crack_pa=table(fl("vent_crack_pa"), (n_n,)),
        vent_band_pa=table(lambda sp: [max(float(f) - float(c), 0.0) for c, f in zip(sp.vent_crack_pa, sp.vent_full_pa)],
                           (n_n,)),
        molar_mass_kg_mol=arr(mm), cp_j_mol_k=arr(cp),
        tank_molar_mass=xp.reshape(arr([mm[k] for k in t_sp]), (n_t,)),
        tank_gamma=xp.reshape(arr([cp[k] / (cp[k] - R_J_MOL_K) for k in t_sp]), (n_t,)),
        tank_rt_v=table(lambda sp: [R_J_MOL_K * float(t) / float(v) for t, v in zip(sp.tank_temp_k, sp.tank_volume_m3)],
                        (n_t,)),
        tank_species_h=table(lambda sp: [[1.0 if j == k else 0.0 for j in range(n_k)] + [cp[k] * float(t)]
                                         for k, t in zip(t_sp, sp.tank_temp_k)], (n_t, n_k + 1)),
        cv_j_mol_k=arr([c - R_J_MOL_K for c in cp]),
        cp_empty=arr(sum(cp) / n_k), mm_empty=arr(sum(mm) / n_k),
        props_k=xp.reshape(arr([[c - R_J_MOL_K, c, m, 1.0] for c, m in zip(cp, mm)]), (n_k, 4)),
        gather_t=xp.reshape(arr(a_t + b_t + onehot_t(v_node, n_v)), (2 * n_e + n_n, n_v)),
        gather_pt=xp.permute_dims(xp.reshape(arr(a_t + b_t + onehot_t(v_node, n_v)), (2 * n_e + n_n, n_v)), (1, 0)),
        scatter=_scatter_matrix(a_t, b_t, onehot_t(v_node, n_v), n_v, arr, xp),
        vent_diag=xp.reshape(arr([[1.0 if (i == v and j == v) else 0.0 for i in range(n_v) for j in range(n_v)]
                                  for v in v_node]), (n_n, n_v * n_v)),
        n_edges=n_e, n_vents=n_n,
        edge_row_a=xp.reshape(arr([[-a_t[e][i] * e_t[e][j] for i in range(n_v) for j in range(n_v)]
                                   for e in range(n_e)]), (n_e, n_v * n_v)),
        edge_row_b=xp.reshape(arr([[b_t[e][i] * e_t[e][j] for i in range(n_v) for j in range(n_v)]
                                   for e in range(n_e)]), (n_e, n_v * n_v)),
        eye=xp.eye(n_v, dtype=xp.float64, device=dev),
        inc_edge=inc_edge, inc_a_t=inc_a_t, inc_b_t=inc_b_t, inc_tank=inc_tank,
        inc_vent=inc_vent, inc_vent_t=inc_vent_t, substeps=int(first.substeps),
    )


def _scatter_matrix(a_t, b_t, v_t, n_v, arr, xp):
    """(4E + N, 3V): sums [out_a, in_a, dn_v, in_a h, out_a h] into [out, inflow, h_in].

    out = out_a at a + in_a at b + dn_v at the vent's volume; inflow = in_a at a + out_a at b;
    h_in = (in_a h) at a + (out_a h) at b."""
    n_e, n_n = len(a_t), len(v_t)
    rows = []
    for e in range(n_e):  # out_a: out at a, inflow at b
        rows.append(a_t[e] + b_t[e] + [0.0] * n_v)
    for e in range(n_e):  # in_a: out at b, inflow at a
        rows.append(b_t[e] + a_t[e] + [0.0] * n_v)
    for v in range(n_n):  # vents: out
        rows.append(v_t[v] + [0.0] * n_v + [0.0] * n_v)
    for e in range(n_e):  # in_a h: energy into a
        rows.append([0.0] * n_v + [0.0] * n_v + a_t[e])
    for e in range(n_e):  # out_a h: energy into b
        rows.append([0.0] * n_v + [0.0] * n_v + b_t[e])
    return xp.reshape(arr(rows), (4 * n_e + n_n, 3 * n_v))


def state_from_pressures(params: AirlockParams, p_pa, mole_fractions, temp_k, tank_mol) -> AirlockState:
    """A state from gauge-style inputs: pressures (S, V), mole fractions (S, V, K) (normalised
    here), temperatures (S, V) and tank contents (S, T) in moles."""
    xp = namespace(p_pa, mole_fractions, temp_k, tank_mol)
    x = mole_fractions / xp.maximum(xp.sum(mole_fractions, axis=-1, keepdims=True), _TINY)
    n_tot = p_pa * params.volume_m3 / (R_J_MOL_K * temp_k)
    s = p_pa.shape[0]
    k = mole_fractions.shape[-1]
    return AirlockState(
        gas_mol=n_tot[..., None] * x, temp_k=temp_k + 0.0, tank_mol=tank_mol + 0.0,
        vented_mol=xp.zeros((s, k), dtype=xp.float64, device=_device(p_pa)),
        t_s=xp.zeros((s,), dtype=xp.float64, device=_device(p_pa)),
    )


def tank_mol_from_pressure(params: AirlockParams, p_pa):
    """Moles in each tank at pressure ``p_pa`` (…, T) and the tank temperature (ideal gas)."""
    return p_pa * params.tank_volume_m3 / (R_J_MOL_K * params.tank_temp_k)


# ---------------------------------------------------------------------------------------------
# Gas properties and the orifice law
# ---------------------------------------------------------------------------------------------
def mixture(params: AirlockParams, gas_mol):
    """Total moles, mole fractions, molar mass (kg/mol), c_p, c_v (J/mol/K) and gamma per volume."""
    xp = namespace(gas_mol)
    n_tot = xp.sum(gas_mol, axis=-1)
    x = gas_mol / xp.maximum(n_tot, _TINY)[..., None]
    # an empty volume gets the properties of pure N2 (never used for flow: it holds nothing)
    x = xp.where((n_tot > 0.0)[..., None], x, xp.ones_like(x) / x.shape[-1])
    molar_mass = xp.sum(x * params.molar_mass_kg_mol, axis=-1)
    cp = xp.sum(x * params.cp_j_mol_k, axis=-1)
    cv = cp - R_J_MOL_K
    return n_tot, x, molar_mass, cp, cv, cp / cv


def pressure_pa(params: AirlockParams, state: AirlockState):
    """Pressure of each volume (S, V), ideal gas."""
    xp = namespace(state.gas_mol)
    return xp.sum(state.gas_mol, axis=-1) * R_J_MOL_K * state.temp_k / params.volume_m3


def pressure_mmhg(params: AirlockParams, state: AirlockState):
    return pressure_pa(params, state) / MMHG_PA


def partial_pressure_pa(params: AirlockParams, state: AirlockState):
    """Partial pressure of each species (S, V, K)."""
    return state.gas_mol * (R_J_MOL_K * state.temp_k / params.volume_m3)[..., None]


def tank_pressure_pa(params: AirlockParams, state: AirlockState):
    return state.tank_mol * R_J_MOL_K * params.tank_temp_k / params.tank_volume_m3


def internal_energy_j(params: AirlockParams, state: AirlockState):
    """Internal energy of the gas in each volume (S, V), zero at 0 K (constant c_v)."""
    n_tot, _, _, _, cv, _ = mixture(params, state.gas_mol)
    return n_tot * cv * state.temp_k


def critical_pressure_ratio(gamma):
    """Downstream/upstream pressure ratio below which an orifice is choked."""
    return (2.0 / (gamma + 1.0)) ** (gamma / (gamma - 1.0))


def orifice_molar_flow(p_up_pa, p_down_pa, t_up_k, molar_mass_kg_mol, gamma, cda_m2, xp=None):
    """Molar flow (mol/s, >= 0) through an orifice of effective area ``cda_m2`` (discharge
    coefficient x area) from upstream stagnation state (p, T) to downstream static pressure:

        ndot = CdA p_up psi(r) / sqrt(M R T_up),  r = max(p_down / p_up, r_crit),
        psi(r) = sqrt(2 gamma / (gamma - 1) (r^(2/gamma) - r^((gamma+1)/gamma)))

    which at r <= r_crit is the choked value sqrt(gamma) (2/(gamma+1))^((gamma+1)/(2(gamma-1))).
    A downstream pressure above the upstream one gives zero (call with the sides ordered)."""
    xp = xp or namespace(p_up_pa, p_down_pa, t_up_k)
    p_up = xp.maximum(p_up_pa, _TINY)
    r = xp.minimum(xp.maximum(p_down_pa / p_up, critical_pressure_ratio(gamma)), 1.0)
    psi2 = 2.0 * gamma / (gamma - 1.0) * r ** (2.0 / gamma) * (1.0 - r ** ((gamma - 1.0) / gamma))
    flow = cda_m2 * p_up * xp.sqrt(xp.maximum(psi2, 0.0) / (molar_mass_kg_mol * R_J_MOL_K * xp.maximum(t_up_k, _TINY)))
    return xp.where(p_up_pa > 0.0, flow, 0.0)


def _saturating(rate, cap, dt, xp):
    """cap (1 - exp(-rate dt / cap)): rate * dt for small dt, never more than cap."""
    safe = xp.maximum(cap, _TINY)
    return xp.where(cap > 0.0, safe * (1.0 - xp.exp(-rate * dt / safe)), 0.0)


# ---------------------------------------------------------------------------------------------
# The step
# ---------------------------------------------------------------------------------------------
def _edge_gas(params, state, controls, p, mm, gam, xp):
    """Upstream side of every edge by the start pressures: (fwd, p_up, p_dn, T_up, M_up, gamma_up, CdA)."""
    q = xp.stack((p, state.temp_k, mm, gam), axis=-1)  # (S, V, 4), gathered by one-hot products
    qa, qb = params.inc_a_t @ q, params.inc_b_t @ q  # (S, E, 4)
    fwd = qa[..., 0] >= qb[..., 0]
    up = xp.where(fwd[..., None], qa, qb)
    p_dn = xp.where(fwd, qb[..., 0], qa[..., 0])
    cda = params.hatch_cda_m2 * controls.hatch_open + params.valve_cda_m2 * controls.valve_open
    return fwd, up[..., 0], p_dn, up[..., 1], up[..., 2], up[..., 3], cda


def _vent_gas(params, state, controls, p, mm, gam):
    """Each vent's volume state and its open area (the relief band applied)."""
    xp = namespace(p)
    qv = params.inc_vent_t @ xp.stack((p, state.temp_k, mm, gam), axis=-1)  # (S, N, 4)
    over = qv[..., 0] - params.vent_crack_pa
    relief = params.vent_band_pa > 0.0
    opening = xp.where(relief, xp.minimum(xp.maximum(over, 0.0) / xp.maximum(params.vent_band_pa, _TINY), 1.0), 1.0)
    return qv, over, params.vent_cda_m2 * controls.vent_open * opening


def _tank_flow(params, state, controls, p, xp):
    return orifice_molar_flow(state.tank_mol * params.tank_rt_v, p @ params.inc_tank, params.tank_temp_k,
                              params.tank_molar_mass, params.tank_gamma,
                              params.tank_cda_m2 * controls.tank_valve_open, xp)


def _gas(params, n, xp):
    n_tot = xp.sum(n, axis=-1)
    n_safe = xp.maximum(n_tot, _TINY)
    mm = (n @ params.molar_mass_kg_mol) / n_safe
    cp = (n @ params.cp_j_mol_k) / n_safe
    cp = xp.where(n_tot > 0.0, cp, params.cp_empty)
    mm = xp.where(n_tot > 0.0, mm, params.mm_empty)
    return n_tot, n_safe, mm, cp, cp / (cp - R_J_MOL_K)


def flows(params: AirlockParams, state: AirlockState, controls: AirlockControls):
    """Instantaneous flows by the orifice law (mol/s): edges (S, E) signed a -> b, tanks (S, T)
    into their volumes, vents (S, N) out to space."""
    xp = namespace(state.gas_mol)
    n_tot, _, mm, _, gam = _gas(params, state.gas_mol, xp)
    p = n_tot * R_J_MOL_K * state.temp_k / params.volume_m3
    fwd, p_up, p_dn, t_up, m_up, g_up, cda = _edge_gas(params, state, controls, p, mm, gam, xp)
    ndot = orifice_molar_flow(p_up, p_dn, t_up, m_up, g_up, cda, xp)
    qv, _, cda_v = _vent_gas(params, state, controls, p, mm, gam)
    ndot_v = orifice_molar_flow(qv[..., 0], 0.0 * qv[..., 0], qv[..., 1], qv[..., 2], qv[..., 3], cda_v, xp)
    return xp.where(fwd, ndot, -ndot), _tank_flow(params, state, controls, p, xp), ndot_v


def _relax_to_walls(params, controls, n, temp, dt, xp):
    """Exact step of C dT/dt = G (T_wall - T) for the gas of each volume."""
    c_tot = xp.maximum(n @ params.cv_j_mol_k, _TINY)
    g = xp.where(controls.fan_on > 0.0, params.wall_fan_w_k, params.wall_still_w_k)
    t_w = params.wall_temp_k
    return t_w + (temp - t_w) * xp.exp(-g * dt / c_tot)


def _substep(params: AirlockParams, state: AirlockState, controls: AirlockControls, dt, xp, tanks: bool = True):
    # Laid out for few array operations (a single scenario's step is all dispatch overhead): the
    # properties of every volume at the ends of every connection are gathered by one product,
    # and one orifice evaluation serves edges, vents and tanks.
    ne, nn = params.n_edges, params.n_vents
    k = state.gas_mol.shape[-1]
    n = state.gas_mol
    ext = n @ params.props_k  # (S, V, 4): C_v, C_p (J/K), mass (kg), moles
    n_tot = ext[..., 3]

    # 1. wall exchange over the step (first, so that the flows below leave open hatchways equal)
    c_v = xp.maximum(ext[..., 0], _TINY)
    g = xp.where(controls.fan_on > 0.0, params.wall_fan_w_k, params.wall_still_w_k)
    temp = params.wall_temp_k + (state.temp_k - params.wall_temp_k) * xp.exp(-g * dt / c_v)

    # 2. the tanks' gas joins its volume (explicit: a choked source from ~18 MPa hardly feels the
    #    cabin), moles and c_p T of enthalpy per mole
    #    (``tanks`` False: every tank valve is shut, so no gas comes and the state is the same without)
    u = ext[..., 0] * temp
    tank_mol = state.tank_mol
    if tanks:
        p0 = n_tot * R_J_MOL_K * temp / params.volume_m3
        ndot_t = orifice_molar_flow(state.tank_mol * params.tank_rt_v, p0 @ params.inc_tank, params.tank_temp_k,
                                    params.tank_molar_mass, params.tank_gamma,
                                    params.tank_cda_m2 * controls.tank_valve_open, xp)
        dn_t = _saturating(ndot_t, state.tank_mol, dt, xp)  # (S, T)
        add = params.inc_tank @ (dn_t[..., None] * params.tank_species_h)  # (S, V, K+1)
        n = n + add[..., :k]
        u = u + add[..., k]
        ext = n @ params.props_k
        n_tot = ext[..., 3]
        tank_mol = xp.maximum(state.tank_mol - dn_t, 0.0)
    n_safe = xp.maximum(n_tot, _TINY)
    temp = xp.where(n_tot > 0.0, u / xp.maximum(ext[..., 0], _TINY), temp)

    # 3. every connection's two sides, by one gather
    cp = xp.where(n_tot > 0.0, ext[..., 1] / n_safe, params.cp_empty)
    cv = cp - R_J_MOL_K
    gam = cp / cv
    p = n_tot * R_J_MOL_K * temp / params.volume_m3
    q = xp.stack((p, temp, ext[..., 2] / n_safe, gam, cv), axis=-1)  # (S, V, 5)
    qg = params.gather_t @ q  # (S, 2E + N, 5): edge ends a, edge ends b, vents' volumes
    qa, qb, qv = qg[:, :ne, :], qg[:, ne:2 * ne, :], qg[:, 2 * ne:, :]
    fwd = qa[..., 0] >= qb[..., 0]
    up = xp.where(fwd[..., None], qa, qb)
    d = xp.maximum(up[..., 0] - xp.where(fwd, qb[..., 0], qa[..., 0]), P_LIN_PA)
    over = qv[..., 0] - params.vent_crack_pa
    opening = xp.where(params.vent_band_pa > 0.0,
                       xp.minimum(xp.maximum(over, 0.0) / xp.maximum(params.vent_band_pa, _TINY), 1.0), 1.0)

    # 4. one orifice law for edges and vents: edges at (p_up, p_up - d) for their secant
    #    conductance (below P_LIN_PA the law is taken as linear: it has an infinite slope at zero
    #    difference), vents to vacuum
    ndot = orifice_molar_flow(
        xp.concat((up[..., 0], qv[..., 0]), axis=-1), xp.concat((up[..., 0] - d, 0.0 * qv[..., 0]), axis=-1),
        xp.concat((up[..., 1], qv[..., 1]), axis=-1), xp.concat((up[..., 2], qv[..., 2]), axis=-1),
        xp.concat((up[..., 3], qv[..., 3]), axis=-1),
        xp.concat((params.hatch_cda_m2 * controls.hatch_open + params.valve_cda_m2 * controls.valve_open,
                   params.vent_cda_m2 * controls.vent_open * opening), axis=-1), xp)
    k_e = ndot[:, :ne] / d
    k_v = xp.where(over > 0.0, ndot[:, ne:] / xp.maximum(over, P_LIN_PA), 0.0)

    # 5. new pressures by backward Euler on the linearised network, (I + dt L) P = p + dt b: a mole
    #    moved lowers the donor's pressure by gamma R T_up / V (isentropic, to first order) and
    #    raises the receiver's by the exact first-order change of p = R U / (c_v V) when a mole of
    #    the upstream gas (c_p,up T_up of enthalpy, its own c_v) joins: R (c_p,up T_up - c_v,up T
    #    + c_v T) / (c_v V); a vent pulls its volume toward its cracking pressure.
    h_up = (up[..., 4] + R_J_MOL_K) * up[..., 1]
    donor = up[..., 3] * R_J_MOL_K * up[..., 1]

    def receiver(c):
        return R_J_MOL_K * (h_up - up[..., 4] * c[..., 1] + c[..., 4] * c[..., 1]) / c[..., 4]

    w_a = k_e * xp.where(fwd, donor, receiver(qa))  # row of volume a
    w_b = k_e * xp.where(fwd, receiver(qb), donor)  # row of volume b
    w_v = qv[..., 3] * R_J_MOL_K * qv[..., 1] * k_v  # (S, N)
    s, n_vol = p.shape[0], p.shape[1]
    lap = xp.reshape(w_a @ params.edge_row_a + w_b @ params.edge_row_b + w_v @ params.vent_diag, (s, n_vol, n_vol))
    a_mat = params.eye + (dt / params.volume_m3)[..., None] * lap
    rhs = p + dt * ((w_v * params.vent_crack_pa) @ params.inc_vent_t) / params.volume_m3
    p_new = xp.linalg.solve(a_mat, rhs[..., None])[..., 0]

    # 6. the moles that give those pressures: each edge carries k (P_a - P_b) dt, each vent
    #    k (P - p_crack) dt
    pg = p_new @ params.gather_pt  # (S, 2E + N)
    s_e = k_e * (pg[:, :ne] - pg[:, ne:2 * ne]) * dt  # signed a -> b
    dn_v = k_v * xp.maximum(pg[:, 2 * ne:] - params.vent_crack_pa, 0.0) * dt
    fwd = s_e >= 0.0
    dn_e = xp.abs(s_e)

    # 7. donors: isentropic expansion of what stays (of what was there and came in during the
    #    step, for a volume that passes gas on); its enthalpy shared over the outflows
    out_a = xp.where(fwd, dn_e, 0.0)
    in_a = dn_e - out_a
    flow = xp.concat((out_a, in_a, dn_v, in_a * h_up, out_a * h_up), axis=-1) @ params.scatter  # (S, 4V)
    out, inflow, h_in = flow[:, :n_vol], flow[:, n_vol:2 * n_vol], flow[:, 2 * n_vol:3 * n_vol]
    stay = xp.minimum(xp.maximum(1.0 - out / xp.maximum(n_tot + inflow, _TINY), 0.0), 1.0)
    h_mol = xp.where(out > 0.0, (u + h_in) * (1.0 - stay ** gam) / xp.maximum(out, _TINY), (cv + R_J_MOL_K) * temp)

    xh = xp.concat((n / xp.maximum(n_tot, _TINY)[..., None], h_mol[..., None]), axis=-1)  # (S, V, K+1)
    xg = params.gather_t @ xh
    up_x = xp.where(fwd[..., None], xg[:, :ne, :], xg[:, ne:2 * ne, :])  # (S, E, K+1)
    delta = params.inc_edge @ (s_e[..., None] * up_x) - params.inc_vent @ (dn_v[..., None] * xg[:, 2 * ne:, :])
    n_new = xp.maximum(n + delta[..., :k], 0.0)
    u_new = xp.maximum(u + delta[..., k], 0.0)
    c_tot = n_new @ params.cv_j_mol_k
    t_new = xp.where(c_tot > 0.0, u_new / xp.maximum(c_tot, _TINY), params.wall_temp_k)
    vented = (dn_v[:, None, :] @ xg[:, 2 * ne:, :k])[:, 0, :]
    return AirlockState(
        gas_mol=n_new, temp_k=t_new, tank_mol=tank_mol,
        vented_mol=state.vented_mol + vented, t_s=state.t_s + dt[..., 0],
    )


def step(params: AirlockParams, state: AirlockState, controls: AirlockControls, dt_s, lazy: bool = False) -> AirlockState:
    """Advance every scenario by ``dt_s`` (a float, or (S,) per scenario) in ``params.substeps``
    sub-steps, the controls held. Returns a new state; the inputs are not modified. ``lazy``:
    skip the tanks' flow where every tank valve is shut (the same state: no gas comes); that reads
    one flag back to the host, so use it with NumPy arrays (one scenario per frame), not on a GPU."""
    xp = namespace(state.gas_mol)
    tanks = not lazy or bool(xp.any(controls.tank_valve_open != 0.0))
    s = state.gas_mol.shape[0]
    dt = xp.asarray(dt_s, dtype=xp.float64, device=_device(state.gas_mol))
    dt = xp.reshape(dt * xp.ones((s,), dtype=xp.float64, device=_device(state.gas_mol)), (s, 1))
    h = dt / params.substeps
    for _ in range(params.substeps):
        state = _substep(params, state, controls, h, xp, tanks)
    return state


def run(params: AirlockParams, state: AirlockState, controls: AirlockControls, dt_s, n_steps: int) -> AirlockState:
    for _ in range(int(n_steps)):
        state = step(params, state, controls, dt_s)
    return state


def controls(params: AirlockParams, s: int = 1, *, hatch_open=0.0, valve_open=0.0, tank_valve_open=0.0,
             vent_open=0.0, fan_on=1.0) -> AirlockControls:
    """Controls of shape (s, ·) on the params' namespace, each filled with one value (0 = closed)."""
    xp = namespace(params.volume_m3)
    dev = _device(params.volume_m3)

    def fill(n, v):
        return xp.full((s, n), float(v), dtype=xp.float64, device=dev)

    return AirlockControls(
        hatch_open=fill(params.hatch_cda_m2.shape[1], hatch_open),
        valve_open=fill(params.valve_cda_m2.shape[1], valve_open),
        tank_valve_open=fill(params.tank_cda_m2.shape[1], tank_valve_open),
        vent_open=fill(params.vent_cda_m2.shape[1], vent_open),
        fan_on=fill(params.volume_m3.shape[1], fan_on),
    )


def isentropic_blowdown_pa(p0_pa, t0_k, volume_m3, cda_m2, molar_mass_kg_mol, gamma, t_s):
    """Analytic pressure of an adiabatic (isentropic) volume venting to vacuum, always choked:
    p(t) = p0 (1 + (gamma - 1)/2 t/tau0)^(-2 gamma/(gamma - 1)), tau0 = V / (CdA c*0),
    c*0 = sqrt(gamma R T0 / M) (2/(gamma+1))^((gamma+1)/(2(gamma-1))). Plain floats (tests, docs)."""
    c_star = math.sqrt(gamma * R_J_MOL_K * t0_k / molar_mass_kg_mol) * (2.0 / (gamma + 1.0)) ** (
        (gamma + 1.0) / (2.0 * (gamma - 1.0)))
    tau0 = volume_m3 / (cda_m2 * c_star)
    return p0_pa * (1.0 + 0.5 * (gamma - 1.0) * t_s / tau0) ** (-2.0 * gamma / (gamma - 1.0))
