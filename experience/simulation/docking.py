"""The docking of 17 July 1975 and the APAS-75 capture envelope, on the chosen array backend.

Loads data/mission/docking.toml (every number with its source or marked as an estimate), turns
it into the kernel's :class:`kernels.docking.DockingSpec`, and runs the kernels:

- :func:`historical_docking`: Apollo (active, US hydraulic attenuators) from 30 m to hard dock,
  with the RCS flying the approach; writes a time series for the scene (relative pose of the
  vehicles and pose of the ring at a fixed rate) and returns the numbers `astp dock` prints.
- :func:`capture_envelope`: a Monte Carlo over the contact conditions, all cases in one batched
  state (tiled on the CPU to stay in cache), returning the samples and which ones captured.

Frames: the Hill frame of the Soyuz orbit (x radial, y along-track, z orbit normal). Soyuz's
port faces backward (against the flight direction) and Apollo approaches from behind, as the
orbit reconstruction brings it in, so that the docked stack flies Soyuz leading, as
experience/simulation/snapshot.py assumes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import math
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from experience.backend import Backend, select_backend, to_host
from experience.errors import AstpError, DataFileError
from experience.mission import data
from experience.mission.clock import format_utc, parse_utc
from kernels import docking as dk
from kernels.constants import GM_EARTH_KM3_S2, R_EARTH_EQ_KM

DOCKING_FILE = "mission/docking.toml"
DEG = math.pi / 180.0
ROLES = ("apollo", "soyuz")
# Passive (Soyuz) body axes in the Hill frame: x radial, y along the orbit normal, z (the
# docking axis, out of the port) against the flight direction. Rows of the body -> Hill matrix.
PASSIVE_ROT = (1.0, 0.0, 0.0, 0.0, 0.0, -1.0, 0.0, 1.0, 0.0)
DOCKING_ALTITUDE_KM = 222.0  # CSC, timeline/facts: altitude at docking
ENVELOPE_AXES = ("closing_speed_m_s", "lateral_offset_m", "lateral_rate_m_s", "misalign_deg", "angular_rate_deg_s")
ENVELOPE_LABELS = {
    "closing_speed_m_s": "closing speed (m/s)",
    "lateral_offset_m": "lateral offset (m)",
    "lateral_rate_m_s": "lateral rate (m/s)",
    "misalign_deg": "angular misalignment (deg)",
    "angular_rate_deg_s": "angular rate (deg/s)",
}


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------
def _where() -> str:
    return f"data/{DOCKING_FILE}"


def table() -> dict[str, Any]:
    """docking.toml as nested dicts of entries (each with value and source or estimate)."""
    return data.load_toml(DOCKING_FILE)


def value(path: str):
    """The value of one entry, e.g. ``value("unit.ring_radius_m")``; names the file on error."""
    node: Any = table()
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            raise DataFileError(f"{_where()} lacks the entry [{path}]; restore it from the repository")
        node = node[part]
    if not isinstance(node, dict) or "value" not in node:
        raise DataFileError(f"{_where()} entry [{path}] has no value; add value = ...")
    if not node.get("source") and not node.get("estimate"):
        raise DataFileError(f"{_where()} entry [{path}] has neither a source nor estimate = true; add one")
    return node["value"]


def entries() -> list[tuple[str, dict]]:
    """Every (dotted name, entry) of docking.toml, for documentation and checks."""
    out = []

    def walk(prefix, node):
        if isinstance(node, dict) and "value" in node:
            out.append((prefix, node))
            return
        if isinstance(node, dict):
            for k, v in node.items():
                walk(f"{prefix}.{k}" if prefix else k, v)

    walk("", table())
    return out


@dataclasses.dataclass(frozen=True)
class MassProperties:
    """One vehicle: mass, principal moments (body x, y, z; z the docking axis), and the distance
    from its centre of mass to the interface plane of its docking port."""

    name: str
    mass_kg: float
    inertia_kg_m2: tuple[float, float, float]
    port_m: float
    cm_from_aft_m: float


def _combine(name, parts, port_z):
    """parts: (mass, z of own centre, Ixx, Iyy, Izz about own centre) along the docking axis."""
    m = sum(p[0] for p in parts)
    zc = sum(p[0] * p[1] for p in parts) / m
    ixx = sum(p[2] + p[0] * (p[1] - zc) ** 2 for p in parts)
    iyy = sum(p[3] + p[0] * (p[1] - zc) ** 2 for p in parts)
    izz = sum(p[4] for p in parts)
    return MassProperties(name, m, (ixx, iyy, izz), port_z - zc, zc)


def _cylinder(m, r, length, z0):
    it = m * (3 * r * r + length * length) / 12.0
    return (m, z0 + 0.5 * length, it, it, 0.5 * m * r * r)


def mass_properties() -> dict[str, MassProperties]:
    """Apollo CSM + DM and Soyuz, from the dimensions (formula in docking.toml vehicles.inertia_formula)."""
    veh = data.vehicles()
    geo = data.load_toml("mission/geometry.toml")
    try:
        r_sm = veh["apollo_sm"]["diameter_m"] / 2
        l_sm = geo["apollo_sm"]["cylinder_length_m"]["value"]
        r_cm = veh["apollo_cm"]["base_diameter_m"] / 2
        h_cm = veh["apollo_cm"]["height_m"]
        r_dm = veh["docking_module"]["max_diameter_m"] / 2
        l_dm = veh["docking_module"]["length_m"]
        m_dm = veh["docking_module"]["mass_kg"]
        r_im = veh["soyuz"]["max_diameter_m"] / 2
        r_hab = veh["soyuz"]["habitable_module_diameter_m"] / 2
        span = veh["soyuz"]["solar_array_span_m"]
        r_apas = veh["apas75"]["soviet_unit_max_diameter_m"] / 2
    except KeyError as exc:
        raise DataFileError(f"data/mission/vehicles.toml or geometry.toml lacks {exc.args[0]!r}") from None
    m_total = float(value("vehicles.active_mass_kg"))
    m_cm = float(value("vehicles.cm_mass_kg"))
    m_sm = m_total - m_cm - m_dm
    if m_sm <= 0:
        raise DataFileError(f"{_where()}: the Command Module and Docking Module outweigh the stack; fix the masses")
    cone = (m_cm, l_sm + h_cm / 4.0, 3 * m_cm * r_cm ** 2 / 20 + 3 * m_cm * h_cm ** 2 / 80,
            3 * m_cm * r_cm ** 2 / 20 + 3 * m_cm * h_cm ** 2 / 80, 3 * m_cm * r_cm ** 2 / 10)
    apollo = _combine("apollo", [_cylinder(m_sm, r_sm, l_sm, 0.0), cone, _cylinder(m_dm, r_dm, l_dm, l_sm + h_cm)],
                      l_sm + h_cm + l_dm)
    m_im, m_dsc, m_om, m_apas = (float(x) for x in value("vehicles.soyuz_module_masses_kg"))
    l_im, l_dsc, d_om, l_apas = (float(x) for x in value("vehicles.soyuz_module_lengths_m"))
    m_sa = float(value("vehicles.soyuz_solar_array_mass_kg"))
    m_passive = float(value("vehicles.passive_mass_kg"))
    if abs(m_im + m_dsc + m_om + m_apas - m_passive) > 1e-6:
        raise DataFileError(f"{_where()}: the Soyuz module masses do not add up to vehicles.passive_mass_kg")
    r_om = d_om / 2
    z = 0.0
    parts = [_cylinder(m_im - m_sa, r_im, l_im, z)]
    parts.append((m_sa, l_im / 2, 0.0, m_sa * span ** 2 / 12, m_sa * span ** 2 / 12))
    z += l_im
    parts.append(_cylinder(m_dsc, r_hab, l_dsc, z))
    z += l_dsc
    i_om = 0.4 * m_om * r_om * r_om
    parts.append((m_om, z + r_om, i_om, i_om, i_om))
    z += d_om
    parts.append(_cylinder(m_apas, r_apas * 0.9, l_apas, z))
    z += l_apas
    soyuz = _combine("soyuz", parts, z)
    return {"apollo": apollo, "soyuz": soyuz}


def mean_motion_rad_s() -> float:
    a_km = R_EARTH_EQ_KM + DOCKING_ALTITUDE_KM
    return math.sqrt(GM_EARTH_KM3_S2 / a_km ** 3)


def petal_lean_deg() -> float:
    """The guide petals' inward lean: geometry.toml [apas75.petal_lean_deg], the value the 3D model
    (experience/scene/modelgen/apas.py) draws too, so the two cannot disagree."""
    try:
        return float(data.load_toml("mission/geometry.toml")["apas75"]["petal_lean_deg"]["value"])
    except KeyError:
        raise DataFileError("data/mission/geometry.toml lacks [apas75.petal_lean_deg] value; add it") from None


def load_spec(active: str = "apollo", *, dt_s: float | None = None, thrusters: bool = False,
              orbit: bool = True, capture: bool = True, post_capture: bool = True,
              track_external: bool = False, attenuator: str | None = None,
              historical_aim: bool = False) -> dk.DockingSpec:
    """The kernel's spec for ``active`` ('apollo': 17 July, US unit; 'soyuz': 19 July, Soviet
    unit) with the static switches of the kernel. ``attenuator`` ('us' or 'soviet') overrides
    the active side's unit (for the androgyny checks)."""
    if active not in ROLES:
        raise AstpError(f"unknown active vehicle {active!r}; use one of: {', '.join(ROLES)}")
    kind = attenuator or ("us" if active == "apollo" else "soviet")
    if kind not in ("us", "soviet"):
        raise AstpError(f"unknown attenuator {kind!r}; use us or soviet")
    mp = mass_properties()
    act, pas = mp[active], mp["soyuz" if active == "apollo" else "apollo"]
    ring_m = float(value(f"attenuator.{kind}.ring_mass_kg"))
    r = float(value("unit.ring_radius_m"))
    ring_inertia = (0.5 * ring_m * r * r, 0.5 * ring_m * r * r, ring_m * r * r)  # thin hoop
    thrust = float(value("approach.rcs_thrust_n"))
    deg = DEG
    aim_off = tuple(float(x) for x in value("historical.aim_offset_m")) if historical_aim else (0.0, 0.0)
    aim_rot = tuple(float(x) * deg for x in value("historical.aim_misalign_deg")) if historical_aim else (0.0, 0.0, 0.0)
    # The active vehicle's stroke is carried by its ring: subtract the moving ring from the vehicle.
    return dk.DockingSpec(
        dt_s=float(dt_s if dt_s is not None else value("integration.dt_contact_s")),
        mass_active_kg=act.mass_kg - ring_m, mass_ring_kg=ring_m, mass_passive_kg=pas.mass_kg,
        inertia_active_kg_m2=act.inertia_kg_m2, inertia_ring_kg_m2=ring_inertia,
        inertia_passive_kg_m2=pas.inertia_kg_m2,
        port_active_m=act.port_m, port_passive_m=pas.port_m,
        ring_radius_m=r, petal_height_m=float(value("unit.petal_height_m")),
        petal_root_half_angle_deg=float(value("unit.petal_root_half_angle_deg")),
        petal_tip_width_m=float(value("unit.petal_tip_width_m")),
        petal_lean_deg=petal_lean_deg(), edge_radius_m=float(value("unit.edge_radius_m")),
        ring_tube_radius_m=float(value("unit.ring_tube_radius_m")),
        ring_cm_offset_m=float(value("unit.ring_cm_offset_m")), ring_extension_m=float(value("unit.ring_extension_m")),
        latch_radius_m=float(value("unit.latch_radius_m")),
        strut_base_radius_m=float(value("unit.strut_base_radius_m")),
        strut_base_depth_m=float(value("unit.strut_base_depth_m")),
        strut_ring_radius_m=float(value("unit.strut_ring_radius_m")),
        strut_base_half_angle_deg=float(value("unit.strut_base_half_angle_deg")),
        strut_ring_half_angle_deg=float(value("unit.strut_ring_half_angle_deg")),
        strut_stiffness_n_m=float(value(f"attenuator.{kind}.strut_stiffness_n_m")),
        strut_damping_n_s_m=float(value(f"attenuator.{kind}.strut_damping_n_s_m")),
        brake_force_n=float(value(f"attenuator.{kind}.brake_force_n")),
        brake_slope_n_s_m=float(value("attenuator.brake_slope_n_s_m")),
        stop_stiffness_n_m=float(value("attenuator.stop_stiffness_n_m")),
        stroke_back_margin_m=float(value("attenuator.stroke_back_margin_m")),
        stroke_out_margin_m=float(value("attenuator.stroke_out_margin_m")),
        contact_stiffness_n_m=float(value("contact.stiffness_n_m")),
        contact_damping_n_s_m=float(value("contact.damping_n_s_m")),
        contact_damping_depth_m=float(value("contact.damping_depth_m")),
        friction_coefficient=float(value("contact.friction_coefficient")),
        friction_slope_n_s_m=float(value("contact.friction_slope_n_s_m")),
        latch_gap_m=float(value("capture.latch_gap_m")), latch_lateral_m=float(value("capture.latch_lateral_m")),
        latch_stiffness_n_m=float(value("capture.latch_stiffness_n_m")),
        latch_damping_n_s_m=float(value("capture.latch_damping_n_s_m")),
        latch_close_rate_m_s=float(value("capture.latch_close_rate_m_s")),
        attenuation_s=float(value("phases.attenuation_s")), retract_rate_m_s=float(value("phases.retract_rate_m_s")),
        pin_engage_extension_m=float(value("phases.pin_engage_extension_m")),
        pin_radius_m=float(value("phases.pin_radius_m")), pin_stiffness_n_m=float(value("phases.pin_stiffness_n_m")),
        pin_damping_n_s_m=float(value("phases.pin_damping_n_s_m")),
        hook_radius_m=float(value("phases.hook_radius_m")), hook_gap_m=float(value("phases.hook_gap_m")),
        hook_stiffness_n_m=float(value("phases.hook_stiffness_n_m")),
        hook_damping_n_s_m=float(value("phases.hook_damping_n_s_m")),
        hook_close_rate_m_s=float(value("phases.hook_close_rate_m_s")),
        mean_motion_rad_s=mean_motion_rad_s() if orbit else 0.0,
        thrusters=bool(thrusters),
        accel_axial_m_s2=thrust * int(value("approach.axial_engines")) / act.mass_kg,
        accel_lateral_m_s2=thrust * int(value("approach.lateral_engines")) / act.mass_kg,
        torque_max_n_m=float(value("approach.torque_max_n_m")), deadband_m_s=float(value("approach.deadband_m_s")),
        approach_final_m_s=float(value("approach.final_speed_m_s")),
        approach_max_m_s=float(value("approach.max_speed_m_s")),
        approach_gain_1_s=float(value("approach.speed_gain_1_s")),
        approach_switch_m=float(value("approach.switch_distance_m")),
        lateral_gain_1_s=float(value("approach.lateral_gain_1_s")),
        lateral_max_m_s=float(value("approach.lateral_max_m_s")),
        attitude_kp_n_m_rad=float(value("approach.attitude_kp_n_m_rad")),
        attitude_kd_n_m_s_rad=float(value("approach.attitude_kd_n_m_s_rad")),
        aim_offset_m=aim_off, aim_misalign_rad=aim_rot, passive_rot=PASSIVE_ROT,
        capture=bool(capture), post_capture=bool(post_capture), track_external=bool(track_external),
    )


# ---------------------------------------------------------------------------------------------
# Helpers on the backend
# ---------------------------------------------------------------------------------------------
def _host(x) -> np.ndarray:
    return np.asarray(to_host(x), dtype=np.float64)


def _rows(backend: Backend, *arrays):
    return tuple(backend.asarray(np.asarray(a, dtype=np.float64)) for a in arrays)


def petal_reach_m(spec: dk.DockingSpec) -> float:
    """Distance between the interface planes at which the petal tips of the aligned units meet."""
    geo = dk.unit_geometry(spec)
    return spec.ring_extension_m + 2.0 * geo["tip_height_m"]


# ---------------------------------------------------------------------------------------------
# The historical docking, 17 July 1975
# ---------------------------------------------------------------------------------------------
TIMESERIES_KEYS = (
    "t_s", "utc_s_from_capture", "phase", "port_offset_m", "port_rot", "ring_offset_m", "ring_rot",
    "active_pos_m", "active_rot", "passive_pos_m", "passive_rot", "contact_force_n", "stroke_m",
)


@dataclasses.dataclass
class DockingRun:
    """What `astp dock` reports, plus the recorded time series (host arrays)."""

    result: dict
    series: dict[str, np.ndarray]


def _record(params, state, out: dict):
    """Append case 0 of ``state`` to the time series (one host copy per array)."""
    rp = dk.relative_pose(params, state)
    out["t_s"].append(_host(state.t_s)[0])
    out["phase"].append(_host(state.phase)[0])
    for key in ("port_offset_m", "port_rot", "ring_offset_m", "ring_rot"):
        out[key].append(_host(rp[key])[0])
    pos, rot = _host(state.pos_m)[0], _host(state.rot)[0]
    out["active_pos_m"].append(pos[dk.ACTIVE])
    out["active_rot"].append(rot[dk.ACTIVE])
    out["passive_pos_m"].append(pos[dk.PASSIVE])
    out["passive_rot"].append(rot[dk.PASSIVE])
    out["contact_force_n"].append(_host(state.contact_force_n)[0])
    out["stroke_m"].append(_host(state.stroke_m)[0])


def _momentum_scale(params, state):
    """Characteristic magnitudes for relative momentum errors: sum m|v| and sum (|x| m |v| + |h|)."""
    m = _host(params.mass_kg)
    v = _host(state.vel_m_s)[0]
    x = _host(state.pos_m)[0]
    h = _host(state.angmom_kg_m2_s)[0]
    speed = np.linalg.norm(v, axis=-1)
    return float(np.sum(m * speed)), float(np.sum(np.linalg.norm(x, axis=-1) * m * speed + np.linalg.norm(h, axis=-1)))


def historical_docking(backend: Backend | None = None, *, until: str = "hard_dock",
                       start_distance_m: float | None = None,
                       progress: Callable[[float, str], None] | None = None) -> DockingRun:
    """Apollo (active) from ``historical.start_distance_m`` to hard dock (or to capture).

    Three time steps (docking.toml [integration]): the approach step while the petals are apart,
    the contact step from just before the petals meet until a moment after capture, the slow
    step for attenuation, retraction and hook closing. The RCS flies the approach and stops at first contact;
    the Hill terms act throughout. Records every body's pose at ``historical.record_rate_hz``.
    """
    if until not in ("hard_dock", "capture"):
        raise AstpError(f"unknown end point {until!r}; use hard_dock or capture")
    backend = backend or select_backend("numpy")
    say = progress or (lambda frac, what: None)
    wall0 = time.perf_counter()
    rate = float(value("historical.record_rate_hz"))
    dts = {k: float(value(f"integration.dt_{k}_s")) for k in ("approach", "contact", "slow")}
    for k, dt in dts.items():
        if abs(round(1.0 / (rate * dt)) * rate * dt - 1.0) > 1e-9:
            raise DataFileError(f"{_where()}: integration.dt_{k}_s must divide the record interval 1/{rate:g} s")
    like = backend.asarray(np.zeros(1))
    specs = {k: load_spec("apollo", dt_s=dt, thrusters=True, orbit=True, track_external=True, historical_aim=True)
             for k, dt in dts.items()}
    params = {k: dk.build_params(s, like) for k, s in specs.items()}
    nominal = float(value("historical.start_distance_m"))
    start = nominal if start_distance_m is None else float(start_distance_m)
    # Starting closer than the documented 30 m, the initial errors shrink in proportion (the
    # approach corridor narrows); the closing speed follows the approach schedule.
    k = min(1.0, start / nominal)
    lat = [k * float(x) for x in value("historical.lateral_offset_m")]
    latv = [k * float(x) for x in value("historical.lateral_rate_m_s")]
    schedule = float(value("approach.final_speed_m_s")) + float(value("approach.speed_gain_1_s")) * max(
        start - float(value("approach.switch_distance_m")), 0.0)
    closing = min(float(value("historical.closing_speed_m_s")), schedule)
    off, vel, mis, rates, prate = _rows(
        backend, [[lat[0], lat[1], start]], [[latv[0], latv[1], -closing]],
        [[k * float(x) * DEG for x in value("historical.misalign_deg")]],
        [[k * float(x) * DEG for x in value("historical.rate_deg_s")]],
        [[float(x) * DEG for x in value("historical.passive_rate_deg_s")]])
    state = dk.approach_state(params["approach"], off, vel, mis, rates, prate)
    series: dict[str, list] = {k: [] for k in TIMESERIES_KEYS if k != "utc_s_from_capture"}
    reach = petal_reach_m(specs["contact"]) + float(value("integration.contact_margin_m"))
    # rough simulated duration, for the progress fraction only
    speed = 0.5 * (float(value("approach.final_speed_m_s")) + float(value("approach.max_speed_m_s")))
    expected = start / speed + 10.0
    if until == "hard_dock":
        expected += (float(value("phases.attenuation_s")) + specs["slow"].ring_extension_m
                     / float(value("phases.retract_rate_m_s")) + 30.0)

    def run_stage(name, stop, max_s):
        nonlocal state
        p = params[name]
        every = int(round(1.0 / (rate * p.dt_s)))
        steps = 0
        limit = int(round(max_s / p.dt_s))
        while steps < limit:
            _record(p, state, series)
            for _ in range(every):
                state = dk.step(p, state)
            steps += every
            if steps % (every * 25) == 0:
                say(min(0.99, float(series["t_s"][-1]) / expected), name)
            if stop(p, state):
                return True
        return False

    def far_enough_in(p, s):
        return float(_host(dk.relative_pose(p, s)["axial_m"])[0]) < reach

    say(0.0, "approach")
    if not run_stage("approach", far_enough_in, 3600.0):
        raise AstpError("the simulated approach did not reach the Soyuz within an hour; "
                        "check [historical] in data/mission/docking.toml")
    at_contact = {}

    settle = float(value("integration.capture_settle_s"))

    def captured_or_retracting(p, s):
        ph = float(_host(s.phase)[0])
        if ph == dk.CONTACT and float(_host(dk.relative_pose(p, s)["axial_m"])[0]) > reach + 0.1:
            return True  # bounced off: no capture
        if ph >= dk.CONTACT and not at_contact:
            at_contact["lin"], at_contact["ang"] = (_host(a)[0] for a in dk.momentum(p, s))
            at_contact["imp"], at_contact["aimp"] = _host(s.ext_impulse_n_s)[0], _host(s.ext_ang_impulse_n_m_s)[0]
            at_contact["scale"] = _momentum_scale(p, s)
            rp = dk.relative_pose(p, s)
            at_contact["lateral_mm"] = 1000.0 * float(_host(rp["lateral_m"])[0])
            at_contact["angle_deg"] = float(_host(rp["angle_rad"])[0]) / DEG
        return ph >= dk.CAPTURED and float(_host(s.t_s)[0] - _host(s.t_capture_s)[0]) >= settle

    run_stage("contact", captured_or_retracting, 60.0)
    if until == "hard_dock" and float(_host(state.phase)[0]) >= dk.CAPTURED:

        def docked(p, s):
            ph = float(_host(s.phase)[0])
            return ph >= dk.HARD_DOCK and float(_host(s.t_s)[0] - _host(s.t_hard_dock_s)[0]) >= 2.0

        run_stage("slow", docked, 900.0)
    # final record
    _record(params["slow"], state, series)
    say(1.0, "done")

    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in series.items()}
    p = params["slow"]
    final = dk.relative_pose(p, state)

    def t_of(name):
        x = float(_host(getattr(state, name))[0])
        return None if math.isnan(x) else x

    t_contact, t_capture, t_hard = t_of("t_contact_s"), t_of("t_capture_s"), t_of("t_hard_dock_s")
    captured = t_capture is not None
    anchor = parse_utc(str(value("historical.capture_utc")), what="historical.capture_utc")
    ref = t_capture if captured else (t_contact or 0.0)
    arrays["utc_s_from_capture"] = arrays["t_s"] - ref

    def utc(t):
        if t is None:
            return None
        return format_utc(anchor + _dt.timedelta(seconds=t - ref), decimals=3)

    lin_err = ang_err = None
    if at_contact:
        lin, ang = (_host(a)[0] for a in dk.momentum(p, state))
        imp, aimp = _host(state.ext_impulse_n_s)[0], _host(state.ext_ang_impulse_n_m_s)[0]
        d_lin = (lin - at_contact["lin"]) - (imp - at_contact["imp"])
        d_ang = (ang - at_contact["ang"]) - (aimp - at_contact["aimp"])
        lin_err = float(np.linalg.norm(d_lin) / at_contact["scale"][0])
        ang_err = float(np.linalg.norm(d_ang) / at_contact["scale"][1])
    contact_speed = float(_host(state.contact_speed_m_s)[0])
    result = {
        "captured": bool(captured),
        "contact_utc": utc(t_contact),
        "capture_utc": utc(t_capture),
        "hard_dock_utc": utc(t_hard),
        "contact_speed_m_s": None if math.isnan(contact_speed) else round(contact_speed, 5),
        "peak_attenuator_stroke_m": round(float(_host(state.peak_stroke_m)[0]), 5),
        "peak_contact_force_n": round(float(_host(state.peak_force_n)[0]), 1),
        "contact_lateral_offset_mm": round(at_contact["lateral_mm"], 2) if at_contact else None,
        "contact_misalignment_deg": round(at_contact["angle_deg"], 3) if at_contact else None,
        "final_misalignment_mm": round(1000.0 * float(_host(final["lateral_m"])[0]), 5),
        "final_misalignment_deg": round(float(_host(final["angle_rad"])[0]) / DEG, 5),
        "final_gap_mm": round(1000.0 * float(_host(final["axial_m"])[0]), 5),
        "linear_momentum_error_rel": lin_err,
        "angular_momentum_error_rel": ang_err,
        "phase": dk.PHASES[int(round(float(_host(state.phase)[0])))],
        "phase_utc": {name: utc(t_of(f"t_{key}_s")) for name, key in (
            ("contact", "contact"), ("captured", "capture"), ("retraction", "retract"), ("alignment", "align"),
            ("hooks", "hooks"), ("hard_dock", "hard_dock"))},
        "simulated_s": round(float(arrays["t_s"][-1]), 3),
        "record_rate_hz": rate,
        "backend": backend.name,
        "compute_s": round(time.perf_counter() - wall0, 2),
    }
    return DockingRun(result, arrays)


def write_timeseries(run: DockingRun, folder: str | Path) -> Path:
    """Write the time series as ``docking_1975-07-17.npz`` in ``folder`` (created if missing)
    through experience.outputs (atomic; committed with the command's batch under ``astp``).

    Keys: ``t_s`` (n,), ``utc_s_from_capture`` (n,), ``phase`` (n,) (codes, names in
    ``phase_names``), ``port_offset_m`` (n, 3) and ``port_rot`` (n, 3, 3) (the Apollo port in the
    Soyuz port frame; columns are axes), ``ring_offset_m`` (n, 3) and ``ring_rot`` (n, 3, 3) (the
    guide-ring face in the Apollo port frame), ``active_pos_m``/``passive_pos_m`` (n, 3) and
    ``active_rot``/``passive_rot`` (n, 3, 3) (centres of mass and body axes in the Hill frame:
    x radial, y along-track, z orbit normal), ``contact_force_n`` and ``stroke_m`` (n,), and the
    anchor ``capture_utc``.
    """
    from experience import outputs

    path = Path(folder) / "docking_1975-07-17.npz"
    with outputs.open_output(path, "wb", suffixes=(".npz",), what="time series", make_folders=True) as fh:
        np.savez_compressed(fh, **run.series, phase_names=np.asarray(dk.PHASES),
                            capture_utc=np.asarray(str(run.result.get("capture_utc") or "")),
                            rate_hz=np.asarray(run.result["record_rate_hz"]))
    return path


# ---------------------------------------------------------------------------------------------
# The capture envelope
# ---------------------------------------------------------------------------------------------
def default_ranges() -> dict[str, tuple[float, float]]:
    return {k: tuple(float(x) for x in value(f"envelope.{k}")) for k in ENVELOPE_AXES}


def check_ranges(ranges: dict[str, tuple[float, float]]) -> None:
    """Raise AstpError for a range a docking engineer would call nonsense."""
    limits = {"closing_speed_m_s": (1e-3, 2.0), "lateral_offset_m": (0.0, 1.0), "lateral_rate_m_s": (0.0, 1.0),
              "misalign_deg": (0.0, 45.0), "angular_rate_deg_s": (0.0, 20.0)}
    for key, (lo, hi) in ranges.items():
        if key not in limits:
            raise AstpError(f"unknown envelope axis {key!r}; use one of: {', '.join(ENVELOPE_AXES)}")
        if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
            raise AstpError(f"the {key} range {lo:g}..{hi:g} is empty or not a number; give MIN <= MAX")
        a, b = limits[key]
        if lo < a or hi > b:
            raise AstpError(f"the {key} range {lo:g}..{hi:g} is outside {a:g}..{b:g}, where the model applies")


def _unit_vectors(rng, n, dim):
    v = rng.normal(size=(n, dim))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


SAMPLE_BLOCK = 1024  # consecutive samples drawn from one random stream, (seed, block index)


def _sample_block(block: int, seed: int, ranges: dict[str, tuple[float, float]]) -> dict[str, np.ndarray]:
    rng = np.random.default_rng([int(seed), int(block)])
    n = SAMPLE_BLOCK
    out = {k: rng.uniform(ranges[k][0], ranges[k][1], n) for k in ENVELOPE_AXES if k in ranges}
    out["lateral_dir"] = _unit_vectors(rng, n, 2)
    out["lateral_rate_dir"] = _unit_vectors(rng, n, 2)
    out["misalign_axis"] = _unit_vectors(rng, n, 3)
    out["rate_axis"] = _unit_vectors(rng, n, 3)
    return out


def sample_conditions(n: int, seed: int, ranges: dict[str, tuple[float, float]], *,
                      start: int = 0) -> dict[str, np.ndarray]:
    """Samples ``start`` .. ``start + n - 1`` of the contact conditions, each magnitude uniform in
    its range, each direction uniformly random (lateral ones in the interface plane, angular ones
    in 3D).

    Every block of :data:`SAMPLE_BLOCK` consecutive samples comes from its own random stream,
    seeded with (seed, block index): sample i is the same whatever the number of samples, the
    chunks they run in, the thread or the machine (and the first n samples of a larger run are
    the n samples of a smaller one)."""
    if n < 1:
        raise ValueError(f"sample_conditions needs n >= 1, not {n}")
    first, last = start // SAMPLE_BLOCK, (start + n - 1) // SAMPLE_BLOCK
    blocks = [_sample_block(b, seed, ranges) for b in range(first, last + 1)]
    at = start - first * SAMPLE_BLOCK
    return {k: np.concatenate([b[k] for b in blocks])[at:at + n] for k in blocks[0]}


def contact_conditions(spec: dk.DockingSpec, closing_m_s, lateral_m, lateral_rate_m_s, misalign_rad,
                       rate_rad_s, gap_m: float = 0.03):
    """Start states (host arrays) for conditions given at first petal contact: each case starts
    ``gap_m`` (plus the extra reach of a tilted petal) before the petal tips meet, with its
    offsets propagated back along the straight line it will fly (over a second or less, the Hill
    terms change them by micrometres). Returns offset, velocity, misalignment vector, rate (N, 3)
    and the time to contact (N,)."""
    closing = np.asarray(closing_m_s, dtype=np.float64)
    tilt = np.linalg.norm(misalign_rad, axis=1)
    clearance = gap_m + spec.ring_radius_m * np.sin(np.minimum(tilt, 1.0))
    t_back = clearance / closing
    reach = petal_reach_m(spec)
    off = np.zeros((closing.shape[0], 3))
    off[:, :2] = lateral_m - lateral_rate_m_s * t_back[:, None]
    off[:, 2] = reach + clearance
    vel = np.zeros_like(off)
    vel[:, :2] = lateral_rate_m_s
    vel[:, 2] = -closing
    mis = misalign_rad - rate_rad_s * t_back[:, None]
    return off, vel, mis, np.asarray(rate_rad_s, dtype=np.float64), t_back


@dataclasses.dataclass
class Envelope:
    samples: dict[str, np.ndarray]  # the sampled magnitudes (n,) per axis, in sample order
    captured: np.ndarray  # (n,) bool
    t_capture_s: np.ndarray  # (n,) from first contact, NaN if none
    peak_force_n: np.ndarray
    peak_stroke_m: np.ndarray
    ranges: dict[str, tuple[float, float]]
    seed: int
    compute_s: float
    case_steps: int
    backend: str
    tile: int  # cases per chunk
    active: str
    chunks: int = 1
    threads: int = 1
    runner: str = "threads"  # "threads" (experience.parallel) or "dask ADDRESS"
    device: str = "cpu"
    fused: bool = False  # stepped on kernels.docking_fused (else the reference kernels.docking)


HEAP_BYTES = 256 << 20
CHECK_EVERY = 250  # steps between the checks of which cases are resolved
CHUNK_CPU = 1024  # cases per chunk on the CPU (docs/docking.md: how it was chosen)
OUTCOME_KEYS = ("phase", "t_contact_s", "t_capture_s", "peak_force_n", "peak_stroke_m", "contact_speed_m_s",
                "lateral_m", "angle_rad", "axial_m")


def keep_heap() -> bool:
    """Stop glibc from handing freed heap back to the OS after every NumPy temporary (mallopt
    M_TRIM_THRESHOLD and M_MMAP_THRESHOLD raised to 256 MiB): the step makes hundreds of
    short-lived arrays, and with the default 128 KiB thresholds each is unmapped and faulted in
    again (measured: 1.6x slower). Process-wide and harmless; False where not available."""
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc.mallopt(-1, HEAP_BYTES) == 1 and libc.mallopt(-3, HEAP_BYTES) == 1
    except (OSError, AttributeError):
        return False


def _steps_to(window_s, dt_s: float, check_every: int) -> int:
    """Steps a case of this window runs at most: its window rounded up to a check."""
    k = int(math.ceil(float(window_s) / dt_s - 1e-9))
    return max(check_every, int(math.ceil(k / check_every)) * check_every)


FUSED_ENV = "ASTP_FUSED"


def use_fused(backend: Backend, spec: dk.DockingSpec) -> bool:
    """Whether the envelope steps on the fused CPU path (kernels.docking_fused, Numba; tested
    against the array-API reference there): on NumPy, with Numba installed, for the free-drift
    spec it covers, unless ``$ASTP_FUSED=0``. Decided once, where the command runs, and carried
    by every chunk, so that all chunks of a run step the same way."""
    import os

    if backend.name != "numpy" or os.environ.get(FUSED_ENV, "").strip() == "0":
        return False
    try:
        from kernels import docking_fused as fz
    except ImportError:
        return False
    return bool(fz.available() and fz.supports(dk.build_params(spec, np.zeros(1))))


def _stepper(fused: bool):
    if fused:
        from kernels import docking_fused as fz

        return fz.run
    return dk.run


def run_cases(backend: Backend, spec: dk.DockingSpec, off, vel, mis, rates, window_s: np.ndarray | float,
              *, tile: int | None = None, check_every: int = CHECK_EVERY,
              progress: Callable[[int, int], None] | None = None,
              fused: bool | None = None) -> dict[str, np.ndarray]:
    """Run N cases (host arrays (N, 3)) in batched tiles until each is resolved (captured, or
    moving apart beyond its start) or past its window; returns host arrays of outcomes.

    Every ``check_every`` steps the cases are checked, and each case's outcome is the state at
    the first check at which it is resolved (later steps of its tile do not change it), so a
    case's outcome does not depend on the other cases of its tile, the tile size or the order.
    On the CPU the cases go in tiles of ``tile`` (default 512: the temporaries stay in cache),
    sorted by window so that each tile stops as soon as its own cases are resolved; on a GPU one
    tile holds everything."""
    n = off.shape[0]
    tile = tile or (n if backend.name == "cupy" else 512)
    if backend.name == "numpy":
        keep_heap()
    window = np.broadcast_to(np.asarray(window_s, dtype=np.float64), (n,))
    order = np.argsort(window, kind="stable")
    inverse = np.empty_like(order)
    inverse[order] = np.arange(n)
    off, vel, mis, rates, window = off[order], vel[order], mis[order], rates[order], window[order]
    like = backend.asarray(np.zeros(1))
    params = dk.build_params(spec, like)
    step = _stepper(use_fused(backend, spec) if fused is None else fused)
    out = {k: np.zeros(n) for k in OUTCOME_KEYS}
    steps_total = 0
    budget = sum(_steps_to(window[s:s + tile].max(), spec.dt_s, check_every) for s in range(0, n, tile))
    done_steps = 0
    for s0 in range(0, n, tile):
        sl = slice(s0, min(n, s0 + tile))
        m = sl.stop - sl.start
        state = dk.approach_state(params, *_rows(backend, off[sl], vel[sl], mis[sl], rates[sl]))
        start_gap = off[sl, 2]
        limit = _steps_to(window[sl].max(), spec.dt_s, check_every)
        pending = np.ones(m, dtype=bool)
        steps = 0
        while steps < limit:
            state = step(params, state, check_every)
            steps += check_every
            done_steps += check_every
            if progress:
                progress(done_steps, budget)
            phase = _host(state.phase)
            rp = dk.relative_pose(params, state)
            axial = _host(rp["axial_m"])
            t = steps * spec.dt_s
            now = pending & ((phase >= dk.CAPTURED) | (axial > start_gap + 0.02) | (t >= window[sl] - 1e-9))
            if now.any():
                rows = np.nonzero(now)[0] + sl.start
                for key in ("phase", "t_contact_s", "t_capture_s", "peak_force_n", "peak_stroke_m",
                            "contact_speed_m_s"):
                    out[key][rows] = _host(getattr(state, key))[now]
                out["lateral_m"][rows] = _host(rp["lateral_m"])[now]
                out["angle_rad"][rows] = _host(rp["angle_rad"])[now]
                out["axial_m"][rows] = axial[now]
                pending &= ~now
            if not pending.any():
                break
        done_steps += limit - steps  # a tile that stopped early: its remaining budget is done
        steps_total += steps * m
    if progress:
        progress(budget, budget)
    out = {k: v[inverse] for k, v in out.items()}
    out["case_steps"] = np.asarray(steps_total)
    return out


# ---------------------------------------------------------------------------------------------
# The envelope in chunks: on the thread pool (experience.parallel) or a Dask cluster
# ---------------------------------------------------------------------------------------------
def envelope_spec(active: str = "apollo") -> dk.DockingSpec:
    """The spec of every envelope case: thrusters off from first contact, Hill terms on."""
    return load_spec(active, thrusters=False, orbit=True, capture=True, post_capture=False)


def envelope_starts(spec: dk.DockingSpec, smp: dict[str, np.ndarray], gap_m: float = 0.03,
                    window_s: float | None = None):
    """Start states and windows of sampled conditions: (off, vel, mis, rate, window, t_back).
    ``window_s``: time allowed after the stroke (default docking.toml envelope.window_s)."""
    lat = smp["lateral_offset_m"][:, None] * smp["lateral_dir"]
    latv = smp["lateral_rate_m_s"][:, None] * smp["lateral_rate_dir"]
    mis = (smp["misalign_deg"] * DEG)[:, None] * smp["misalign_axis"]
    rate = (smp["angular_rate_deg_s"] * DEG)[:, None] * smp["rate_axis"]
    off, vel, mis0, rate0, t_back = contact_conditions(spec, smp["closing_speed_m_s"], lat, latv, mis, rate,
                                                       gap_m=gap_m)
    stroke_time = (petal_reach_m(spec) - spec.ring_extension_m) / smp["closing_speed_m_s"]
    window = t_back + stroke_time + float(value("envelope.window_s") if window_s is None else window_s)
    return off, vel, mis0, rate0, window, t_back


@dataclasses.dataclass(frozen=True)
class EnvelopeChunk:
    """One chunk of envelope cases, everything a worker needs (plain data: it pickles to Dask
    workers on other machines; they need the same astp installed, not its data files)."""

    spec: dk.DockingSpec
    backend: str  # "numpy" or "cupy", chosen where the command runs
    index: np.ndarray  # the cases' sample indices
    off: np.ndarray
    vel: np.ndarray
    mis: np.ndarray
    rate: np.ndarray
    window: np.ndarray
    check_every: int = CHECK_EVERY
    fused: bool = False  # step on kernels.docking_fused (decided where the command runs)


_BACKENDS: dict[str, Backend] = {}


def _backend_named(name: str) -> Backend:
    if name not in _BACKENDS:
        _BACKENDS[name] = select_backend(name, notice=lambda _line: None)
    return _BACKENDS[name]


def run_envelope_chunk(chunk: EnvelopeChunk, progress: Callable[[int, int], None] | None = None) -> dict:
    """Outcomes of one chunk (one batched state); the function every runner maps over chunks."""
    res = run_cases(_backend_named(chunk.backend), chunk.spec, chunk.off, chunk.vel, chunk.mis, chunk.rate,
                    chunk.window, tile=max(1, len(chunk.index)), check_every=chunk.check_every, progress=progress,
                    fused=chunk.fused)
    res["index"] = chunk.index
    return res


def chunk_budget(chunk: EnvelopeChunk) -> int:
    return _steps_to(float(chunk.window.max()), chunk.spec.dt_s, chunk.check_every)


def default_chunk(backend: Backend, samples: int, threads: int = 1) -> int:
    """All cases at once on a GPU; on the CPU chunks of CHUNK_CPU, smaller where that would leave
    a thread idle (16 cases on 2 threads: 2 chunks of 8, not 1 of 16)."""
    if backend.name == "cupy":
        return max(1, samples)
    return max(1, min(CHUNK_CPU, -(-samples // max(1, threads))))


def envelope_chunks(samples: int, seed: int, ranges, spec: dk.DockingSpec, backend: Backend,
                    chunk: int, window_s: float | None = None) -> tuple[dict[str, np.ndarray], list[EnvelopeChunk]]:
    """The samples (sample order) and the chunks they run in: sorted by window (so that a chunk's
    cases need about as many steps), cut into ``chunk`` cases each."""
    smp = sample_conditions(samples, seed, ranges)
    off, vel, mis, rate, window, _t = envelope_starts(spec, smp, window_s=window_s)
    order = np.argsort(window, kind="stable")
    fused = use_fused(backend, spec)
    chunks = []
    for s in range(0, samples, chunk):
        idx = order[s:s + chunk]
        chunks.append(EnvelopeChunk(spec, backend.name, idx, off[idx], vel[idx], mis[idx], rate[idx], window[idx],
                                    fused=fused))
    return {k: smp[k] for k in ENVELOPE_AXES}, chunks


Runner = Callable[[Callable[[EnvelopeChunk], dict], list, Callable[[int], None]], list]


class Interrupted(Exception):
    """Raised inside a chunk when the run was interrupted (Ctrl-C): the chunk stops at its next check."""


class _Tally:
    """Steps done over all chunks, from whichever thread finishes them, for one progress callback;
    and the stop flag that ends the chunks in flight at their next check after a Ctrl-C."""

    def __init__(self, budgets: list[int], progress):
        import threading

        self.budgets, self.progress = budgets, progress
        self.done = [0] * len(budgets)
        self.total = max(1, sum(budgets))
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def chunk(self, i: int, done: int, _budget: int | None = None) -> None:
        if self.stop.is_set():
            raise Interrupted("interrupted")
        if self.progress is None:
            return
        with self.lock:
            self.done[i] = max(self.done[i], min(int(done), self.budgets[i]))
            self.progress(sum(self.done), self.total)

    def finished(self, i: int) -> None:
        self.chunk(i, self.budgets[i])


@contextlib.contextmanager
def _stop_on_interrupt(stop):
    """While the chunks run: Ctrl-C (SIGINT) sets ``stop`` (so the chunks in flight end at their next
    check, not after minutes) and raises KeyboardInterrupt as usual. Main thread only."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum, frame):
        stop.set()
        if callable(previous):
            previous(signum, frame)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def thread_runner(workers: int | None = None) -> Runner:
    """Chunks on experience.parallel's thread pool (NumPy releases the GIL in its loops)."""
    from experience import parallel

    def run(fn, chunks, on_done):
        return parallel.map_tiles(fn, chunks, workers=workers, on_done=lambda i, _r: on_done(i))
    run.threads = parallel.thread_count(workers)
    run.label = "threads"
    return run


def capture_envelope(samples: int, seed: int = 1975, *, backend: Backend | None = None,
                     ranges: dict[str, tuple[float, float]] | None = None, active: str = "apollo",
                     tile: int | None = None, workers: int | None = None, runner: Runner | None = None,
                     progress: Callable[[int, int], None] | None = None,
                     window_s: float | None = None) -> Envelope:
    """Monte Carlo of the capture over the contact conditions: ``samples`` cases, thrusters off
    from first contact (free drift), the Hill terms on. A case is captured when the three
    latches engage (``window_s``: the time allowed after the stroke, default docking.toml).

    The cases run in chunks of ``tile`` (default: 1024 on the CPU, all of them on a GPU), each
    chunk one batched state, on ``runner`` (default: the thread pool of experience.parallel,
    ``workers`` threads; or :func:`experience.cluster.dask_runner`). The outcome of every case
    depends only on the seed and its sample index (see :func:`sample_conditions` and
    :func:`run_cases`): identical whatever the chunk size, the thread count or the machine."""
    if not isinstance(samples, int) or samples < 1:
        raise AstpError(f"--samples must be a positive whole number, not {samples!r}")
    backend = backend or select_backend("numpy")
    ranges = dict(ranges or default_ranges())
    check_ranges(ranges)
    spec = envelope_spec(active)
    if backend.name == "cupy" and runner is None:
        workers = 1  # one device: the chunks go one after another
    runner = runner or thread_runner(workers)
    chunk = int(tile or default_chunk(backend, samples, getattr(runner, "threads", 1)))
    if chunk < 1:
        raise AstpError(f"the chunk size must be at least 1 case, not {chunk}")
    mags, chunks = envelope_chunks(samples, seed, ranges, spec, backend, chunk, window_s)
    tally = _Tally([chunk_budget(c) for c in chunks], progress)
    t0 = time.perf_counter()
    with _stop_on_interrupt(tally.stop):
        if getattr(runner, "label", "") == "threads":
            def fn(item):
                i, c = item
                return run_envelope_chunk(c, progress=lambda d, b: tally.chunk(i, d))
            results = runner(fn, list(enumerate(chunks)), tally.finished)
        else:
            results = runner(run_envelope_chunk, chunks, tally.finished)
    elapsed = time.perf_counter() - t0
    res = {k: np.zeros(samples) for k in OUTCOME_KEYS}
    steps = 0
    for r in results:
        for k in OUTCOME_KEYS:
            res[k][r["index"]] = r[k]
        steps += int(r["case_steps"])
    captured = res["phase"] >= dk.CAPTURED
    return Envelope(
        samples=mags, captured=captured,
        t_capture_s=np.where(captured, res["t_capture_s"] - res["t_contact_s"], np.nan),
        peak_force_n=res["peak_force_n"], peak_stroke_m=res["peak_stroke_m"], ranges=ranges, seed=seed,
        compute_s=elapsed, case_steps=steps, backend=backend.name, tile=min(chunk, samples), active=active,
        chunks=len(chunks), threads=min(int(getattr(runner, "threads", 1)), len(chunks)),
        runner=getattr(runner, "label", "threads"), device=backend.device,
        fused=bool(chunks and chunks[0].fused))


# ---------------------------------------------------------------------------------------------
# What a run will cost, before it starts
# ---------------------------------------------------------------------------------------------
@dataclasses.dataclass
class EnvelopeEstimate:
    samples: int
    chunk: int
    chunks: int
    threads: int
    seconds: float  # wall time, at most (every chunk runs to its longest window)
    peak_bytes: int  # this process at its peak: what it holds now plus what the run adds
    added_bytes: int  # what the run adds (compared with the memory available)
    step_s: float  # one step of one full chunk in contact, with ``threads`` chunks at once
    host_bytes_per_case: float
    chunk_bytes: int
    calibration_s: float

    def describe(self) -> str:
        threads = min(self.threads, self.chunks)
        return (f"{self.samples} cases in {self.chunks} chunk{'s' * (self.chunks != 1)} of {self.chunk} "
                f"on {threads} thread{'s' * (threads != 1)}: estimated at most "
                f"{format_duration(self.seconds)} and {format_bytes(self.peak_bytes)} of memory at the peak "
                f"(calibrated here in {self.calibration_s:.1f} s)")


def format_duration(s: float) -> str:
    if s < 90:
        return f"{s:.0f} s"
    if s < 90 * 60:
        return f"{s / 60:.0f} min"
    if s < 48 * 3600:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.0f} days"


def format_bytes(b: float) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6)):
        if b >= size:
            return f"{b / size:.1f} {unit}"
    return f"{b / 1e3:.0f} kB"


def available_memory_bytes() -> int | None:
    """Memory this process can still use: MemAvailable, capped by a cgroup limit where one is set."""
    avail = None
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
        if limit != "max":
            room = int(limit) - used
            avail = room if avail is None else min(avail, room)
    except (OSError, ValueError):
        pass
    return avail


def estimate_envelope(samples: int, seed: int = 1975, *, backend: Backend | None = None,
                      ranges: dict[str, tuple[float, float]] | None = None, active: str = "apollo",
                      tile: int | None = None, threads: int | None = None,
                      calibration_steps: int | None = None) -> EnvelopeEstimate:
    """Wall time and peak memory of :func:`capture_envelope`, from a calibration on this machine.

    Steps: the windows of (up to) the first 8192 samples give the steps of each chunk (its
    longest window, as the run sorts cases by window). Time per step: ``threads`` chunks of real
    cases, started 1 mm before contact, run at once on the thread pool and their contact steps
    are timed. Memory: one step's allocations (tracemalloc) per chunk in flight, plus the host
    arrays per case measured while drawing the subsample. An upper bound: chunks stop when their
    cases are resolved, most before their longest window."""
    import tracemalloc

    from experience import parallel

    t_start = time.perf_counter()
    backend = backend or select_backend("numpy")
    ranges = dict(ranges or default_ranges())
    check_ranges(ranges)
    spec = envelope_spec(active)
    threads = int(threads or (1 if backend.name == "cupy" else parallel.thread_count()))
    chunk = int(tile or default_chunk(backend, samples, threads))
    chunk = max(1, min(chunk, samples))
    n_chunks = -(-samples // chunk)
    m = min(samples, 8192)
    tracemalloc.start()
    try:
        smp = sample_conditions(m, seed, ranges)
        _off, _vel, _mis, _rate, window, t_back = envelope_starts(spec, smp)
        np.argsort(window, kind="stable")
        host_per_case = tracemalloc.get_traced_memory()[1] / m + 8 * (len(OUTCOME_KEYS) + 2)
    finally:
        tracemalloc.stop()
    # steps of each chunk: the window quantile at the chunk's last case
    w_sorted = np.sort(window)
    ends = np.minimum(np.arange(1, n_chunks + 1) * chunk, samples)
    q = w_sorted[np.clip(np.ceil(ends / samples * m).astype(np.int64) - 1, 0, m - 1)]
    steps = np.array([_steps_to(w, spec.dt_s, CHECK_EVERY) for w in q], dtype=np.float64)
    sizes = np.minimum(chunk, samples - (ends - chunk))
    # calibration: the cases that touch soonest, started 1 mm out, so the timed steps are in contact
    pick = np.argsort(t_back, kind="stable")[:chunk]
    if pick.size < chunk:
        pick = np.resize(pick, chunk)
    sub = {k: v[pick] for k, v in smp.items()}
    off, vel, mis, rate, _w, tb = envelope_starts(spec, sub, gap_m=0.001)
    lead = int(math.ceil(float(tb.max()) / spec.dt_s)) + 5
    params = dk.build_params(spec, backend.asarray(np.zeros(1)))
    fused = use_fused(backend, spec)
    step = _stepper(fused)
    if backend.name == "numpy":
        keep_heap()
    calibration_steps = int(calibration_steps or (400 if fused else 40))
    if fused:  # compile (or load Numba's cache) before anything is timed
        step(params, dk.approach_state(params, *_rows(backend, off[:1], vel[:1], mis[:1], rate[:1])), 1)

    def calibrate(_i):
        state = dk.approach_state(params, *_rows(backend, off, vel, mis, rate))
        state = step(params, state, lead)
        _host(state.phase)
        t0 = time.perf_counter()
        state = step(params, state, calibration_steps)
        _host(state.phase)
        return (time.perf_counter() - t0) / calibration_steps, state

    got = parallel.map_tiles(calibrate, range(max(1, min(threads, n_chunks, parallel.cpu_count()))),
                             workers=threads)
    step_s = float(np.median([g[0] for g in got]))
    state = got[0][1]
    state_bytes = sum(int(getattr(a, "nbytes", 0)) for a in state)
    tracemalloc.start()
    try:
        step(params, state, 1)
        step_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    chunk_bytes = int(state_bytes + step_peak)
    in_flight = min(threads, n_chunks)
    # the last chunk may be smaller: its steps cost in proportion, not less than a tenth
    cost = steps * step_s * np.maximum(sizes / chunk, 0.1)
    seconds = max(float(cost.sum()) / in_flight, float(cost.max()))
    added = int(samples * host_per_case + (in_flight if backend.name == "numpy" else 1) * chunk_bytes)
    return EnvelopeEstimate(samples, chunk, n_chunks, threads, seconds, resident_bytes() + added, added, step_s,
                            host_per_case, chunk_bytes, time.perf_counter() - t_start)


def resident_bytes() -> int:
    """This process's resident memory now (VmRSS), 0 where it cannot be read."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def binned_probability(env: Envelope, bins: int | None = None) -> dict[str, dict[str, list]]:
    """Capture probability in equal bins along each sampled axis (other axes marginalised)."""
    bins = int(bins or value("envelope.bins"))
    out = {}
    for key in ENVELOPE_AXES:
        lo, hi = env.ranges[key]
        x = env.samples[key]
        if hi <= lo:
            out[key] = {"edges": [lo, hi], "probability": [float(env.captured.mean())], "count": [int(x.size)]}
            continue
        edges = np.linspace(lo, hi, bins + 1)
        idx = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, bins - 1)
        count = np.bincount(idx, minlength=bins)
        hits = np.bincount(idx, weights=env.captured.astype(np.float64), minlength=bins)
        prob = [round(float(h / c), 4) if c else None for h, c in zip(hits, count)]
        out[key] = {"edges": [round(float(e), 6) for e in edges], "probability": prob, "count": count.tolist()}
    return out


def envelope_summary(env: Envelope) -> dict:
    """The JSON of `astp dock-envelope`."""
    n = int(env.captured.size)
    return {
        "samples": n,
        "seed": env.seed,
        "ranges": {k: list(v) for k, v in env.ranges.items()},
        "capture_fraction": round(float(env.captured.mean()), 6),
        "captured": [bool(c) for c in env.captured],  # one per case, in sample order
        "captured_count": int(env.captured.sum()),
        "binned": binned_probability(env),
        "median_time_to_capture_s": (None if not env.captured.any()
                                     else round(float(np.nanmedian(env.t_capture_s)), 3)),
        "active": env.active,
        "compute_s": round(env.compute_s, 3),
        "case_steps_per_s": round(env.case_steps / env.compute_s, 1) if env.compute_s > 0 else None,
        "backend": env.backend,
        "device": env.device,
        "step_path": "fused (kernels.docking_fused)" if env.fused else "reference (kernels.docking)",
        "runner": env.runner,
        "threads": env.threads,
        "chunk_size": env.tile,
        "chunks": env.chunks,
    }


# ---------------------------------------------------------------------------------------------
# Cache of the historical run (experience/cache.py)
# ---------------------------------------------------------------------------------------------
RUN_CACHE_VERSION = 2
RUN_DATA_FILES = ("mission/docking.toml", "mission/vehicles.toml", "mission/geometry.toml")
RUN_CODE_FILES = ("experience/simulation/docking.py", "experience/mission/data.py", "experience/mission/clock.py",
                  "experience/backend.py", "kernels/docking.py", "kernels/contact.py", "kernels/constants.py",
                  "kernels/_xp.py")
RESULT_KEYS = ("captured", "contact_utc", "capture_utc", "hard_dock_utc", "phase", "phase_utc", "record_rate_hz",
               "simulated_s", "backend")
SERIES_SHAPES = {"t_s": (None,), "utc_s_from_capture": (None,), "phase": (None,), "port_offset_m": (None, 3),
                 "port_rot": (None, 3, 3), "ring_offset_m": (None, 3), "ring_rot": (None, 3, 3),
                 "active_pos_m": (None, 3), "active_rot": (None, 3, 3), "passive_pos_m": (None, 3),
                 "passive_rot": (None, 3, 3), "contact_force_n": (None,), "stroke_m": (None,)}


def run_sources() -> tuple[Path, ...]:
    """The data and code files a historical run depends on (its cache key)."""
    from experience.paths import repo_root

    return (tuple(data.data_dir() / f for f in RUN_DATA_FILES)
            + tuple(repo_root() / f for f in RUN_CODE_FILES))


def check_series(arrays, *, rot_tol: float = 1e-6) -> int:
    """Shapes, types and ranges of a docking time series (run or replay); returns its length."""
    from experience import cache

    n = None
    for key, shape in SERIES_SHAPES.items():
        if key not in arrays:
            continue
        a = arrays[key]
        if a.dtype.kind != "f":
            raise cache.Invalid(f"has {key} of type {a.dtype}, not a float")
        n = a.shape[0] if n is None else n
        cache.require(arrays, key, None, (n,) + shape[1:])
    if n is None or n < 2:
        raise cache.Invalid("has no records")
    t = arrays.get("utc_s_from_capture", arrays.get("t_s"))
    if t is None or not (np.diff(t) > 0).all():
        raise cache.Invalid("has record times that do not increase")
    phase = arrays["phase"]
    if not (np.all(phase == np.round(phase)) and phase.min() >= 0 and phase.max() < len(dk.PHASES)):
        raise cache.Invalid("has phase codes that are not the docking's phases")
    for key in ("port_offset_m", "ring_offset_m", "active_pos_m", "passive_pos_m"):
        if key in arrays and float(np.abs(arrays[key]).max()) > 500.0:  # runs start at most 200 m out
            raise cache.Invalid(f"has {key} farther than 500 m")
    for key in ("port_rot", "ring_rot", "active_rot", "passive_rot"):
        if key in arrays:
            r = arrays[key].astype(np.float64)
            err = float(np.abs(np.einsum("nji,njk->nik", r, r) - np.eye(3)).max())
            if err > rot_tol:
                raise cache.Invalid(f"has {key} that are not rotations (off by {err:.1e})")
    if float(arrays["contact_force_n"].min()) < 0.0 or float(arrays["contact_force_n"].max()) > 1e6:
        raise cache.Invalid("has contact forces outside 0..1 MN")
    if float(np.abs(arrays["stroke_m"]).max()) > 1.0:
        raise cache.Invalid("has attenuator strokes over 1 m")
    return n


def _check_run_arrays(arrays) -> None:
    from experience import cache

    for key in TIMESERIES_KEYS:
        cache.require(arrays, key, np.float64)
    check_series(arrays)
    result = cache.from_json_array(cache.require(arrays, "result", np.uint8, (None,)))
    if not isinstance(result, dict) or not set(RESULT_KEYS) <= set(result):
        raise cache.Invalid("has an incomplete result")
    extra = set(arrays) - set(TIMESERIES_KEYS) - {"result"}
    if extra:
        raise cache.Invalid(f"has unexpected fields ({', '.join(sorted(extra)[:3])})")


def run_cache_entry(until: str = "hard_dock", start_distance_m: float | None = None, backend: str = "numpy"):
    from experience import cache

    return cache.Entry("docking", "docking simulation", run_sources(),
                       params=(RUN_CACHE_VERSION, until, start_distance_m, backend), check=_check_run_arrays)


def historical_docking_to(folder: str | Path, *, backend: Backend | None = None, until: str = "hard_dock",
                          start_distance_m: float | None = None, rebuild: bool = False,
                          progress: Callable[[float, str], None] | None = None) -> tuple[DockingRun, Path, bool]:
    """:func:`historical_docking_cached`, writing the time series into ``folder``.
    Returns (run, time-series path, whether it came from the cache)."""
    run, cached = historical_docking_cached(backend=backend, until=until, start_distance_m=start_distance_m,
                                            rebuild=rebuild, progress=progress)
    return run, write_timeseries(run, folder), cached


def historical_docking_cached(*, backend: Backend | None = None, until: str = "hard_dock",
                              start_distance_m: float | None = None, rebuild: bool = False,
                              progress: Callable[[float, str], None] | None = None,
                              notice: Callable[[str], None] | None = None) -> tuple[DockingRun, bool]:
    """:func:`historical_docking` kept in the user cache (experience/cache.py: keyed by the data,
    the kernels and this file; verified on load). Returns (run, whether it came from the cache)."""
    import json

    from experience import cache

    backend = backend or select_backend("numpy")
    entry = run_cache_entry(until, start_distance_m, backend.name)

    def build():
        run = historical_docking(backend, until=until, start_distance_m=start_distance_m, progress=progress)
        return {**run.series, "result": cache.json_array(run.result)}

    got = cache.load(entry, build, rebuild=rebuild, notice=notice)
    series = {k: got.arrays[k] for k in TIMESERIES_KEYS}
    result = json.loads(bytes(got.arrays["result"]).decode("utf-8"))
    cached = got.origin != "built"
    if cached and progress:
        progress(1.0, "cached")
    return DockingRun(result, series), cached
