"""APAS-75 contact dynamics: two spacecraft and the active guide ring, in 6 DOF, batched.

One call of :func:`step` advances N independent docking cases by one fixed time step; every
array has the case axis first and xyz last. The model (docs/docking.md has the derivations,
numbers and sources):

Bodies (axis 1 of the state arrays): 0 the active vehicle (Apollo CSM + Docking Module on
17 July), 1 the active unit's guide ring with its three petals, 2 the passive vehicle (Soyuz).
Each body frame has its origin at the centre of mass, principal axes, and +z along the docking
axis out of the docking port ("port frame" = body frame shifted along z to the interface plane).
The passive unit's ring is retracted and locked, so it is part of body 2. Positions and
velocities are in the Hill (LVLH) frame of the passive vehicle's circular orbit: x radial, y
along-track, z orbit normal, metres.

Forces (all internal forces come in equal-and-opposite pairs applied at one point, or along the
line joining their two points, so total linear and angular momentum are conserved to rounding):

- six attenuator struts (a hexapod) between body 0 and the ring: linear spring about a neutral
  length set by the ring extension, viscous damper (US hydraulic unit) and/or a friction brake
  (Soviet electromechanical unit, regularised Coulomb), and stiff end stops;
- contact between the units (penalty law, kernels/contact.py): each active petal flank (a
  capsule) against the facing passive petal flank, points on each unit's petals (tip corners and
  the centre line) against the other unit's guide ring (a torus), the three latch points of the
  active ring face against the passive ring face, and the three passive catch points against the
  active ring face;
- capture latches (central spring-dampers, ring to passive) once the three latch points are
  within the gap and lateral tolerances of their catches; then timed retraction of the ring (the
  strut neutral lengths shorten), two guide pins (lateral springs, body 0 to 2) and four
  structural hooks (central springs closing to zero length);
- outside the pair: Clohessy-Wiltshire (Hill) terms on every body and, before first contact
  only, the active vehicle's RCS as the approach control (on-off translation with a deadband,
  saturated PD attitude hold).

Integration: semi-implicit (symplectic) Euler. Forces from the state at the start of the step;
velocities and world-frame angular momenta kicked; positions drifted with the new velocities;
attitudes advanced by the Strang splitting of the free rigid body into exact rotations about the
three principal axes (Cayley form, orthogonal to rounding). Kick-then-drift conserves linear
and angular momentum exactly for internal pairs (the drift adds x_n x p_(n+1) = x_n x p_n + x_n x
F dt, the spin kick adds (P - x_n) x F dt, and the pair sums to P x F - P x F = 0).

Phases (``state.phase``, float codes): 0 approach, 1 contact, 2 captured (latched, attenuation),
3 retraction, 4 alignment (guide pins), 5 hooks closing, 6 hard dock.

Static configuration (Python bools and floats in :class:`DockingParams`, like static arguments
of a jitted function) switches whole blocks off: ``capture``, ``post_capture``, ``thrusters``,
``track_external`` and a zero ``mean_motion_rad_s``.

Layout for speed (same physics): inside :func:`step` the case axis is last (contiguous lanes of N
cases; a vector is a tuple of component arrays), the state's arrays are views of those results
with the case axis first. An exact broad phase (``DockingState.contact_ref``) skips a case's
contact narrow phase while its ring cannot have closed any contact since its last one; the contact
law runs only on overlapping (contact, case) pairs and the latch forces only on latched cases;
skipped work would have added exact zeros (docs/docking.md, "How the step is laid out").
"""

from __future__ import annotations

import math
from typing import NamedTuple

from array_api_compat import device as _device

from kernels._xp import namespace
from kernels.contact import (TINY, cross, mat_t_vec, mat_tn, mat_vec, matmul_tn, penalty_forces, rotate_rows,
                             rotate_rows_t, rows, segment_closest, torus_normal, torus_rho_distance, transform,
                             transform_flat, transform_t, vadd,
                             vcross, vdot, vscale, vslice0, vsub, vsum0)

ACTIVE, RING, PASSIVE = 0, 1, 2
PHASES = ("approach", "contact", "captured", "retraction", "alignment", "hooks", "hard_dock")
APPROACH, CONTACT, CAPTURED, RETRACTION, ALIGNMENT, HOOKS, HARD_DOCK = range(7)

# Rows of DockingParams.ring_local_m (ring body frame): positions first, then directions.
_R_FLANK, _R_LATCH, _R_STRUT, _R_GUIDE, _R_NPOS = slice(0, 6), slice(6, 9), slice(9, 15), slice(15, 27), 27
_R_FLANK_DIR, _R_NORMAL = slice(27, 33), 33
# Rows of DockingParams.act_local_m (active body frame).
_A_STRUT, _A_PIN, _A_HOOK, _A_PINHOOK, _A_PORT = slice(0, 6), slice(6, 8), slice(8, 12), slice(6, 12), 12
# Contacts (axis 1 of the contact arrays): 6 flank pairs, 3 latch points on the passive face, 3 catch
# points on the ring face, 12 active petal points on the passive ring, 12 passive petal points on the
# active ring.
N_CONTACTS = 36


class DockingSpec(NamedTuple):
    """Every physical input as a plain float (or tuple of floats / bool), host side.

    ``experience.simulation.docking`` fills it from data/mission/docking.toml; tests may build
    one by hand. :func:`build_params` turns it into :class:`DockingParams` on a backend.
    Lengths m, masses kg, inertias kg m^2 (principal, body x, y, z), angles deg where named.
    """

    dt_s: float
    mass_active_kg: float
    mass_ring_kg: float
    mass_passive_kg: float
    inertia_active_kg_m2: tuple
    inertia_ring_kg_m2: tuple
    inertia_passive_kg_m2: tuple
    port_active_m: float  # centre of mass -> interface plane, along body +z
    port_passive_m: float
    # unit geometry (identical on both sides: androgynous), in the port frame
    ring_radius_m: float
    petal_height_m: float
    petal_root_half_angle_deg: float  # petal root corners on the ring, +- this about the petal azimuth
    petal_tip_width_m: float
    petal_lean_deg: float
    edge_radius_m: float
    ring_tube_radius_m: float  # the guide ring is a torus of this tube radius
    ring_cm_offset_m: float  # ring + petals centre of mass ahead of the ring face
    ring_extension_m: float  # ring face ahead of the interface plane, extended
    latch_radius_m: float
    strut_base_radius_m: float
    strut_base_depth_m: float
    strut_ring_radius_m: float
    strut_base_half_angle_deg: float
    strut_ring_half_angle_deg: float
    # attenuators
    strut_stiffness_n_m: float
    strut_damping_n_s_m: float
    brake_force_n: float
    brake_slope_n_s_m: float
    stop_stiffness_n_m: float
    stroke_back_margin_m: float
    stroke_out_margin_m: float
    # contact
    contact_stiffness_n_m: float
    contact_damping_n_s_m: float
    contact_damping_depth_m: float
    friction_coefficient: float
    friction_slope_n_s_m: float
    # capture and the phases after it
    latch_gap_m: float
    latch_lateral_m: float
    latch_stiffness_n_m: float
    latch_damping_n_s_m: float
    latch_close_rate_m_s: float
    attenuation_s: float
    retract_rate_m_s: float
    pin_engage_extension_m: float
    pin_radius_m: float
    pin_stiffness_n_m: float
    pin_damping_n_s_m: float
    hook_radius_m: float
    hook_gap_m: float
    hook_stiffness_n_m: float
    hook_damping_n_s_m: float
    hook_close_rate_m_s: float
    # orbit and approach control
    mean_motion_rad_s: float = 0.0
    thrusters: bool = False
    accel_axial_m_s2: float = 0.0
    accel_lateral_m_s2: float = 0.0
    torque_max_n_m: float = 0.0
    deadband_m_s: float = 0.01
    approach_final_m_s: float = 0.1
    approach_max_m_s: float = 0.25
    approach_gain_1_s: float = 0.01
    approach_switch_m: float = 1.0
    lateral_gain_1_s: float = 0.02
    lateral_max_m_s: float = 0.02
    attitude_kp_n_m_rad: float = 0.0
    attitude_kd_n_m_s_rad: float = 0.0
    aim_offset_m: tuple = (0.0, 0.0)
    aim_misalign_rad: tuple = (0.0, 0.0, 0.0)
    # body 2 axes in the Hill frame (rows of a 3x3 matrix, body -> Hill)
    passive_rot: tuple = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
    capture: bool = True
    post_capture: bool = True
    track_external: bool = False


class DockingParams(NamedTuple):
    """What :func:`step` reads: floats, bools and small constant arrays (on the state's backend)."""

    dt_s: float
    mass_kg: object  # (3,)
    inv_mass_kg: object  # (3,)
    inertia_kg_m2: object  # (3, 3) principal moments per body
    inv_inertia: object  # (3, 3)
    ring_local_m: object  # (34, 3) ring body frame: 27 points, then 6 flank directions and the face normal
    act_local_m: object  # (13, 3) active body frame
    # constants for the case-last layout of step(): (3, K, 1) point sets (rows x, y, z), (K, 1) per point
    ring_cp_c: object  # (3, 21, 1) ring contact points: flank roots, latches, petal points (ring body frame)
    ring_fdir_c: object  # (3, 6, 1) ring flank directions
    ring_ls_c: object  # (3, 9, 1) ring latch and strut points
    act_c: object  # (3, 13, 1) active body: strut bases, port, pins, hooks
    pass_flank_p_c: object  # (3, 6, 1)
    pass_flank_d_c: object
    catch_c: object  # (3, 3, 1)
    pin_socket_c: object  # (3, 2, 1)
    hook_pass_c: object  # (3, 4, 1)
    pass_guide_c: object  # (3, 12, 1)
    face_normal_c: object  # (3, 1, 1) body 2's face normal (+z)
    flank_aa_c: object  # (6, 1)
    flank_ee_c: object  # (6, 1)
    strut_rho2_c: object  # (6, 1)
    strut_len_min_c: object  # (6, 1)
    strut_len_max_c: object  # (6, 1)
    mass_c: object  # (3, 1) per body
    inv_mass_c: object  # (3, 1)
    inv_inertia_c: object  # (3 axes, 3 bodies, 1)
    mass_f: tuple  # host floats
    accel_f: tuple
    aim_xyz: tuple
    target_f: tuple  # nested 3x3 floats
    ring_reach_m: float  # largest distance of a ring contact feature from the ring's centre of mass
    pass_pts_c: object  # (3, 15, 1) body 2's contact points: catches and petal points
    pass_flank_p_m: object  # (6, 3) passive flank roots (paired with the ring's), body 2 frame
    pass_flank_d_m: object  # (6, 3)
    catch_m: object  # (3, 3) passive catches, paired with the ring latches
    face_z_m: float  # passive interface plane: z = face_z_m in body 2
    ez: object  # (3,) unit z
    strut_rho2_m2: object  # (6,) squared horizontal reach of each strut
    strut_dz0_m: float  # axial reach of every strut with the ring retracted
    ring_home_m: object  # (3,) ring centre of mass in body 0 with the ring retracted
    ring_extension_m: float
    mirror: object  # (3, 3) active port axes in passive port axes when docked
    passive_rot: object  # (3, 3)
    edge_sum_m: float
    ring_radius_m: float
    ring_tube_m: float  # tube radius + petal edge radius
    ring_torus_z_m: float  # centre-line of the ring torus (one tube radius behind the ring face), ring frame
    pass_torus_z_m: float  # the same for the passive ring, body 2 frame
    pass_guide_m: object  # (12, 3) passive petal points that meet the active ring, body 2 frame
    contact_stiffness_n_m: float
    contact_damping_n_s_m: float
    contact_damping_depth_m: float
    friction_coefficient: float
    friction_slope_n_s_m: float
    strut_stiffness_n_m: float
    strut_damping_n_s_m: float
    brake_force_n: float
    brake_slope_n_s_m: float
    stop_stiffness_n_m: float
    latch_gap_m: float
    latch_lateral_m: float
    latch_stiffness_n_m: float
    latch_damping_n_s_m: float
    latch_close_rate_m_s: float
    attenuation_s: float
    retract_rate_m_s: float
    pin_engage_extension_m: float
    pin_stiffness_n_m: float
    pin_damping_n_s_m: float
    hook_gap_m: float
    hook_stiffness_n_m: float
    hook_damping_n_s_m: float
    hook_close_rate_m_s: float
    mean_motion_rad_s: float
    thrusters: bool
    torque_max_n_m: float
    deadband_m_s: float
    approach_final_m_s: float
    approach_max_m_s: float
    approach_gain_1_s: float
    approach_switch_m: float
    lateral_gain_1_s: float
    lateral_max_m_s: float
    attitude_kp_n_m_rad: float
    attitude_kd_n_m_s_rad: float
    capture: bool
    post_capture: bool
    track_external: bool
    # constant point sets that share one z in their body frame: (2, K, 1) x, y rows and the z
    ring_ls_xy_c: object = None  # ring latch and strut points (ring_ls_c)
    ring_ls_z_m: float = 0.0
    ring_fl_xy_c: object = None  # ring flank roots and latches (ring_cp_c 0:9)
    ring_fl_z_m: float = 0.0
    ring_guide_c: object = None  # (3, 12, 1) ring petal points (ring_cp_c 9:21)
    act_strut_xy_c: object = None  # strut bases on body 0 (act_c 0:6)
    act_strut_z_m: float = 0.0
    act_ph_xy_c: object = None  # pins and hooks on body 0 (act_c 7:13)
    act_ph_z_m: float = 0.0
    act_port_z_m: float = 0.0  # body 0's port (act_c 6) is (0, 0, act_port_z_m)


class DockingState(NamedTuple):
    """Batched state; N cases. Event times are NaN until the event happens."""

    t_s: object  # (N,) seconds since the start of the run
    pos_m: object  # (N, 3, 3) body centres of mass in the Hill frame
    vel_m_s: object  # (N, 3, 3)
    rot: object  # (N, 3, 3, 3) body -> Hill rotation (columns: body axes)
    angmom_kg_m2_s: object  # (N, 3, 3) angular momentum about each centre of mass, Hill axes
    ring_ext_m: object  # (N,) commanded ring extension (neutral of the struts)
    phase: object  # (N,) float phase code
    latch_rest_m: object  # (N, 3)
    hook_rest_m: object  # (N, 4)
    t_contact_s: object
    t_capture_s: object
    t_retract_s: object
    t_align_s: object
    t_hooks_s: object
    t_hard_dock_s: object
    contact_speed_m_s: object  # closing speed of the ports at first contact
    peak_stroke_m: object  # largest strut deflection from neutral so far
    peak_force_n: object  # largest resultant contact force on the ring so far
    contact_force_n: object  # resultant contact force on the ring at the start of the last step
    stroke_m: object  # largest strut deflection at the start of the last step
    ext_impulse_n_s: object  # (N, 3) impulse of external forces (Hill terms, thrusters)
    ext_ang_impulse_n_m_s: object  # (N, 3) their angular impulse about the Hill origin
    # broad phase (N, 14): the ring pose in body-2 axes (9 + 3) at the last narrow phase, the
    # clearance found then (smallest contact distance, negative when touching) and the reach of
    # the features; None: every step runs the narrow phase
    contact_ref: object = None


# ---------------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------------
def _azimuth(deg):
    a = math.radians(deg)
    return math.cos(a), math.sin(a)


def unit_geometry(spec: DockingSpec) -> dict:
    """The androgynous unit in its own port frame (host lists of floats; the same for both units).

    Petal k stands at azimuth 120 k deg; its two flanks run from the root corners on the ring
    (at +- the root half-angle about the petal azimuth) to the tip corners (+- half the tip
    width, the petal leaned inward by the lean angle). Latches sit at the petal azimuths,
    catches between the petals (60 + 120 k):
    turned face to face (a 180 deg turn about y: azimuth a becomes 180 - a) each unit's latches
    meet the other's catches and its petals fall between the other's.
    """
    lean = math.radians(spec.petal_lean_deg)
    r_tip = spec.ring_radius_m - spec.petal_height_m * math.sin(lean)
    z_tip = spec.petal_height_m * math.cos(lean)
    roots, dirs = [], []
    for k in range(3):
        c, s = _azimuth(120.0 * k)
        for side in (-1.0, 1.0):
            cr, sr = _azimuth(120.0 * k + side * spec.petal_root_half_angle_deg)
            root = (spec.ring_radius_m * cr, spec.ring_radius_m * sr, 0.0)
            tip = (r_tip * c - side * 0.5 * spec.petal_tip_width_m * s,
                   r_tip * s + side * 0.5 * spec.petal_tip_width_m * c, z_tip)
            roots.append(root)
            dirs.append(tuple(t - r for t, r in zip(tip, root)))
    guide = []  # petal points that meet the other unit's guide ring: tip corners, two on the centre line
    for k in range(3):
        c, s = _azimuth(120.0 * k)
        for frac in (0.45, 0.75):
            h = frac * spec.petal_height_m
            r = spec.ring_radius_m - h * math.sin(lean)
            guide.append((r * c, r * s, h * math.cos(lean)))
        for side in (-1.0, 1.0):
            guide.append(tuple(a + b for a, b in zip(roots[2 * k + (side > 0)], dirs[2 * k + (side > 0)])))
    latches = [(spec.latch_radius_m * c, spec.latch_radius_m * s, 0.0)
               for c, s in (_azimuth(120.0 * k) for k in range(3))]
    catches = [(spec.latch_radius_m * c, spec.latch_radius_m * s, 0.0)
               for c, s in (_azimuth(60.0 + 120.0 * k) for k in range(3))]
    return {"flank_roots": roots, "flank_dirs": dirs, "latches": latches, "catches": catches, "guide": guide,
            "tip_radius_m": r_tip, "tip_height_m": z_tip}


def flank_pairing():
    """Index of the passive flank facing each active flank (flank index = 2 petal + side)."""
    pairs = []
    for k in range(3):
        pairs.append(2 * ((2 - k) % 3) + 0)  # side -1 faces the petal at 120 k - 60, its side -1
        pairs.append(2 * ((1 - k) % 3) + 1)  # side +1 faces the petal at 120 k + 60, its side +1
    return pairs


def catch_pairing():
    """Index of the passive catch (at 60 + 120 j) meeting active latch k (at 120 k): 180 - 120 k."""
    return [int(round(((180.0 - 120.0 * k) % 360.0 - 60.0) / 120.0)) % 3 for k in range(3)]


def strut_geometry(spec: DockingSpec):
    """Hexapod attachment points: (base points in the port frame of body 0, ring points in the
    ring-face frame). Pair k is centred between the petals at 60 + 120 k deg; the legs lean
    tangentially (ring points +- the ring half-angle, base points +- the base half-angle), so the
    six together resist all six motions of the ring."""
    base, ring = [], []
    for k in range(3):
        centre = 60.0 + 120.0 * k
        for side in (-1.0, 1.0):
            cb, sb = _azimuth(centre + side * spec.strut_base_half_angle_deg)
            cr, sr = _azimuth(centre + side * spec.strut_ring_half_angle_deg)
            base.append((spec.strut_base_radius_m * cb, spec.strut_base_radius_m * sb, -spec.strut_base_depth_m))
            ring.append((spec.strut_ring_radius_m * cr, spec.strut_ring_radius_m * sr, 0.0))
    return base, ring


MIRROR = ((-1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, -1.0))


def _rotvec_matrix(rv):
    """Rodrigues, host side: rotation matrix (nested tuples) of a rotation vector."""
    x, y, z = rv
    a = math.sqrt(x * x + y * y + z * z)
    if a < 1e-15:
        return ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))
    kx, ky, kz = x / a, y / a, z / a
    c, s, v = math.cos(a), math.sin(a), 1.0 - math.cos(a)
    return ((c + kx * kx * v, kx * ky * v - kz * s, kx * kz * v + ky * s),
            (ky * kx * v + kz * s, c + ky * ky * v, ky * kz * v - kx * s),
            (kz * kx * v - ky * s, kz * ky * v + kx * s, c + kz * kz * v))


def _t(rows):
    """Transpose a list of 3-tuples into three lists (x, y, z rows)."""
    return [list(c) for c in zip(*rows)]


def _matmul3(a, b):
    return tuple(tuple(sum(a[i][k] * b[k][j] for k in range(3)) for j in range(3)) for i in range(3))


# Explicit-integration limits on the velocity-proportional parts of the regularised Coulomb laws,
# as a fraction of ring mass / dt: the friction slope of one contact (up to 12 act at once, on an
# effective mass of about a third of the ring's at the rim) and the brake slope of one strut.
FRICTION_SLOPE_LIMIT = 0.02
BRAKE_SLOPE_LIMIT = 0.05


def build_params(spec: DockingSpec, like) -> DockingParams:
    """:class:`DockingParams` with its arrays on the namespace and device of ``like``."""
    from kernels._xp import asarray_like

    def arr(value):
        return asarray_like(value, like)

    def lane(values):  # (K, 1)
        return arr([[float(v)] for v in values])

    def lane_pts(points):  # (3, K, 1)
        return arr([[[float(c)] for c in row] for row in _t(points)])

    def flat_pts(points):  # (2, K, 1) x, y and the z they share
        zs = {float(q[2]) for q in points}
        assert len(zs) == 1, zs
        return arr([[[float(c)] for c in row] for row in _t(points)[0:2]]), zs.pop()

    geo = unit_geometry(spec)
    base, ring_pts = strut_geometry(spec)
    zc = spec.ring_cm_offset_m  # ring body frame = ring-face frame shifted by zc along +z

    def ring_body(p):
        return (p[0], p[1], p[2] - zc)

    ring_local = ([ring_body(p) for p in geo["flank_roots"]] + [ring_body(p) for p in geo["latches"]]
                  + [ring_body(p) for p in ring_pts] + [ring_body(p) for p in geo["guide"]]
                  + list(geo["flank_dirs"]) + [(0.0, 0.0, 1.0)])
    za, zp = spec.port_active_m, spec.port_passive_m

    def act_body(p):
        return (p[0], p[1], p[2] + za)

    def pas_body(p):
        return (p[0], p[1], p[2] + zp)

    pins_a = [(spec.pin_radius_m * c, spec.pin_radius_m * s, 0.0) for c, s in (_azimuth(a) for a in (90.0, 270.0))]
    hooks_a = [(spec.hook_radius_m * c, spec.hook_radius_m * s, 0.0)
               for c, s in (_azimuth(45.0 + 90.0 * j) for j in range(4))]
    act_local = ([act_body(p) for p in base] + [act_body(p) for p in pins_a] + [act_body(p) for p in hooks_a]
                 + [act_body((0.0, 0.0, 0.0))])
    # Passive partners: the point at active azimuth a sits at passive azimuth 180 - a.
    pins_p = [(spec.pin_radius_m * c, spec.pin_radius_m * s, 0.0)
              for c, s in (_azimuth(180.0 - a) for a in (90.0, 270.0))]
    hooks_p = [(spec.hook_radius_m * c, spec.hook_radius_m * s, 0.0)
               for c, s in (_azimuth(180.0 - 45.0 - 90.0 * j) for j in range(4))]
    pair = flank_pairing()
    pf_p = [pas_body(geo["flank_roots"][j]) for j in pair]
    pf_d = [geo["flank_dirs"][j] for j in pair]
    catches = [pas_body(geo["catches"][j]) for j in catch_pairing()]

    rho2, lmin, lmax = [], [], []
    dz0 = spec.strut_base_depth_m
    for b, r in zip(base, ring_pts):
        h2 = (r[0] - b[0]) ** 2 + (r[1] - b[1]) ** 2
        rho2.append(h2)
        lmin.append(math.sqrt(h2 + dz0 * dz0) - spec.stroke_back_margin_m)
        lmax.append(math.sqrt(h2 + (dz0 + spec.ring_extension_m) ** 2) + spec.stroke_out_margin_m)

    # reach of the ring's contact features for the broad phase: flank ends, latches, petal points
    # and its torus circle, from the ring's centre of mass
    ring_feats = (ring_local[:9] + ring_local[15:_R_NPOS]
                  + [tuple(a + b for a, b in zip(ring_local[i], ring_local[_R_NPOS + i])) for i in range(6)])
    ring_reach = max([math.sqrt(sum(c * c for c in f)) for f in ring_feats]
                     + [math.hypot(spec.ring_radius_m, zc + spec.ring_tube_radius_m)])

    masses = (spec.mass_active_kg, spec.mass_ring_kg, spec.mass_passive_kg)
    inertia = (tuple(spec.inertia_active_kg_m2), tuple(spec.inertia_ring_kg_m2), tuple(spec.inertia_passive_kg_m2))
    target = _matmul3(_rotvec_matrix(spec.aim_misalign_rad), MIRROR)
    prot = tuple(tuple(spec.passive_rot[3 * i:3 * i + 3]) for i in range(3))
    m_ring, dt = spec.mass_ring_kg, spec.dt_s
    ls_xy, ls_z = flat_pts(ring_local[6:15])
    fl_xy, fl_z = flat_pts(ring_local[0:9])
    st_xy, st_z = flat_pts(act_local[0:6])
    ph_xy, ph_z = flat_pts(act_local[6:12])
    assert tuple(act_local[12][0:2]) == (0.0, 0.0)
    return DockingParams(
        dt_s=float(dt),
        mass_kg=arr(masses), inv_mass_kg=arr([1.0 / m for m in masses]),
        inertia_kg_m2=arr(inertia), inv_inertia=arr([[1.0 / i for i in row] for row in inertia]),
        ring_local_m=arr(ring_local), act_local_m=arr(act_local),
        ring_cp_c=lane_pts(ring_local[0:9] + ring_local[15:_R_NPOS]), ring_fdir_c=lane_pts(ring_local[27:33]),
        ring_ls_c=lane_pts(ring_local[6:15]), act_c=lane_pts(act_local[0:6] + act_local[12:13] + act_local[6:12]),
        pass_flank_p_c=lane_pts(pf_p), pass_flank_d_c=lane_pts(pf_d), catch_c=lane_pts(catches),
        pin_socket_c=lane_pts([pas_body(q) for q in pins_p]), hook_pass_c=lane_pts([pas_body(q) for q in hooks_p]),
        pass_guide_c=lane_pts([pas_body(q) for q in geo["guide"]]), face_normal_c=lane_pts([(0.0, 0.0, 1.0)]),
        flank_aa_c=lane([sum(c * c for c in d) for d in geo["flank_dirs"]]),
        flank_ee_c=lane([sum(c * c for c in d) for d in pf_d]),
        strut_rho2_c=lane(rho2), strut_len_min_c=lane(lmin), strut_len_max_c=lane(lmax),
        mass_c=lane(masses), inv_mass_c=lane([1.0 / m for m in masses]),
        inv_inertia_c=arr([[[1.0 / inertia[b][i]] for b in range(3)] for i in range(3)]),
        mass_f=tuple(float(m) for m in masses),
        accel_f=(spec.accel_lateral_m_s2, spec.accel_lateral_m_s2, spec.accel_axial_m_s2),
        aim_xyz=(float(spec.aim_offset_m[0]), float(spec.aim_offset_m[1]), 0.0), target_f=target,
        ring_reach_m=ring_reach, pass_pts_c=lane_pts(catches + [pas_body(g) for g in geo["guide"]]),
        pass_flank_p_m=arr(pf_p), pass_flank_d_m=arr(pf_d), catch_m=arr(catches), face_z_m=float(zp),
        ez=arr((0.0, 0.0, 1.0)), strut_rho2_m2=arr(rho2), strut_dz0_m=float(dz0),
        ring_home_m=arr((0.0, 0.0, za + zc)), ring_extension_m=float(spec.ring_extension_m),
        mirror=arr(MIRROR), passive_rot=arr(prot),
        edge_sum_m=2.0 * spec.edge_radius_m, ring_radius_m=float(spec.ring_radius_m),
        ring_tube_m=spec.ring_tube_radius_m + spec.edge_radius_m,
        ring_torus_z_m=-float(zc) - spec.ring_tube_radius_m,
        pass_torus_z_m=float(zp) - spec.ring_tube_radius_m,
        pass_guide_m=arr([pas_body(q) for q in geo["guide"]]),
        contact_stiffness_n_m=spec.contact_stiffness_n_m, contact_damping_n_s_m=spec.contact_damping_n_s_m,
        contact_damping_depth_m=spec.contact_damping_depth_m, friction_coefficient=spec.friction_coefficient,
        friction_slope_n_s_m=min(spec.friction_slope_n_s_m, FRICTION_SLOPE_LIMIT * m_ring / dt),
        strut_stiffness_n_m=spec.strut_stiffness_n_m, strut_damping_n_s_m=spec.strut_damping_n_s_m,
        brake_force_n=spec.brake_force_n,
        brake_slope_n_s_m=min(spec.brake_slope_n_s_m, BRAKE_SLOPE_LIMIT * m_ring / dt),
        stop_stiffness_n_m=spec.stop_stiffness_n_m,
        latch_gap_m=spec.latch_gap_m, latch_lateral_m=spec.latch_lateral_m,
        latch_stiffness_n_m=spec.latch_stiffness_n_m, latch_damping_n_s_m=spec.latch_damping_n_s_m,
        latch_close_rate_m_s=spec.latch_close_rate_m_s, attenuation_s=spec.attenuation_s,
        retract_rate_m_s=spec.retract_rate_m_s, pin_engage_extension_m=spec.pin_engage_extension_m,
        pin_stiffness_n_m=spec.pin_stiffness_n_m, pin_damping_n_s_m=spec.pin_damping_n_s_m,
        hook_gap_m=spec.hook_gap_m, hook_stiffness_n_m=spec.hook_stiffness_n_m,
        hook_damping_n_s_m=spec.hook_damping_n_s_m, hook_close_rate_m_s=spec.hook_close_rate_m_s,
        mean_motion_rad_s=float(spec.mean_motion_rad_s), thrusters=bool(spec.thrusters),
        torque_max_n_m=spec.torque_max_n_m, deadband_m_s=spec.deadband_m_s,
        approach_final_m_s=spec.approach_final_m_s, approach_max_m_s=spec.approach_max_m_s,
        approach_gain_1_s=spec.approach_gain_1_s, approach_switch_m=spec.approach_switch_m,
        lateral_gain_1_s=spec.lateral_gain_1_s, lateral_max_m_s=spec.lateral_max_m_s,
        attitude_kp_n_m_rad=spec.attitude_kp_n_m_rad, attitude_kd_n_m_s_rad=spec.attitude_kd_n_m_s_rad,
        capture=bool(spec.capture), post_capture=bool(spec.post_capture), track_external=bool(spec.track_external),
        ring_ls_xy_c=ls_xy, ring_ls_z_m=ls_z, ring_fl_xy_c=fl_xy, ring_fl_z_m=fl_z,
        ring_guide_c=lane_pts(ring_local[15:_R_NPOS]), act_strut_xy_c=st_xy, act_strut_z_m=st_z,
        act_ph_xy_c=ph_xy, act_ph_z_m=ph_z, act_port_z_m=float(act_local[12][2]),
    )


# ---------------------------------------------------------------------------------------------
# Initial states
# ---------------------------------------------------------------------------------------------
def rotvec_to_matrix(rv):
    """Rotation matrices (N, 3, 3) of rotation vectors (N, 3) (Rodrigues)."""
    xp = namespace(rv)
    ang = xp.sqrt(xp.sum(rv * rv, axis=-1))
    small = ang < 1e-12
    safe = xp.where(small, xp.ones_like(ang), ang)
    k = rv / safe[:, None, ...]
    s = xp.where(small, xp.zeros_like(ang), xp.sin(ang))
    v = xp.where(small, xp.zeros_like(ang), 1.0 - xp.cos(ang))
    kx, ky, kz = k[:, 0, ...], k[:, 1, ...], k[:, 2, ...]
    one = xp.ones_like(ang)
    rows = ((one - v * (ky * ky + kz * kz), kx * ky * v - kz * s, kx * kz * v + ky * s),
            (ky * kx * v + kz * s, one - v * (kx * kx + kz * kz), ky * kz * v - kx * s),
            (kz * kx * v - ky * s, kz * ky * v + kx * s, one - v * (kx * kx + ky * ky)))
    return xp.stack([xp.stack(r, axis=-1) for r in rows], axis=-2)


def _spin(rot, inertia, omega):
    """World angular momentum R I R^T omega for rot (N, 3, 3), inertia (3,), omega (N, 3)."""
    return rotate_rows(rot, rotate_rows_t(rot, omega) * inertia)


def approach_state(params: DockingParams, offset_m, vel_m_s, misalign_rad, rate_rad_s,
                   passive_rate_rad_s=None) -> DockingState:
    """States of N cases from approach conditions in the passive port frame (all (N, 3)).

    ``offset_m``: active port origin relative to the passive one (x, y lateral, z the distance
    between the interface planes); ``vel_m_s`` its velocity (closing is negative z);
    ``misalign_rad``: rotation vector taking the docked attitude to the actual one (applied in
    the passive port frame); ``rate_rad_s``: angular velocity of the active vehicle relative to
    the passive one. The passive vehicle sits at the Hill origin with ``params.passive_rot``,
    spinning at ``passive_rate_rad_s`` (body axes, default 0). The ring is extended, at rest on
    its struts.
    """
    xp = namespace(offset_m, vel_m_s, misalign_rad, rate_rad_s)
    n = offset_m.shape[0]
    zeros3 = xp.zeros_like(offset_m)
    rp = xp.broadcast_to(params.passive_rot, (n, 3, 3))
    rrel = xp.matmul(rotvec_to_matrix(misalign_rad), xp.broadcast_to(params.mirror, (n, 3, 3)))
    r0 = xp.matmul(rp, rrel)
    port_p = xp.stack((zeros3[:, 0, ...], zeros3[:, 0, ...], zeros3[:, 0, ...] + params.face_z_m), axis=-1)
    port_w = rotate_rows(rp, port_p + offset_m)
    x0 = port_w - rotate_rows(r0, xp.broadcast_to(params.act_local_m[_A_PORT, :], (n, 3)))
    w2_body = zeros3 if passive_rate_rad_s is None else passive_rate_rad_s
    w2 = rotate_rows(rp, w2_body)
    w0 = rotate_rows(rp, rate_rad_s) + w2
    v0 = rotate_rows(rp, vel_m_s) + cross(w2, port_w, xp) + cross(w0, x0 - port_w, xp)
    ring_home = params.ring_home_m + params.ring_extension_m * params.ez
    x1 = x0 + rotate_rows(r0, xp.broadcast_to(ring_home, (n, 3)))
    v1 = v0 + cross(w0, x1 - x0, xp)
    h0 = _spin(r0, params.inertia_kg_m2[0, :], w0)
    h1 = _spin(r0, params.inertia_kg_m2[1, :], w0)
    h2 = _spin(rp, params.inertia_kg_m2[2, :], w2)
    pos = xp.stack((x0, x1, zeros3), axis=1)
    vel = xp.stack((v0, v1, cross(w2, zeros3, xp)), axis=1)
    rot = xp.stack((r0, r0, rp), axis=1)
    h = xp.stack((h0, h1, h2), axis=1)
    zero = zeros3[:, 0, ...]
    nan = zero + float("nan")
    return DockingState(
        t_s=zero, pos_m=pos, vel_m_s=vel, rot=rot, angmom_kg_m2_s=h,
        ring_ext_m=zero + params.ring_extension_m, phase=zero,
        latch_rest_m=zeros3, hook_rest_m=xp.concat((zeros3, zero[:, None, ...]), axis=1),
        t_contact_s=nan, t_capture_s=nan, t_retract_s=nan, t_align_s=nan, t_hooks_s=nan, t_hard_dock_s=nan,
        contact_speed_m_s=nan, peak_stroke_m=zero, peak_force_n=zero, contact_force_n=zero, stroke_m=zero,
        ext_impulse_n_s=zeros3, ext_ang_impulse_n_m_s=zeros3,
        contact_ref=xp.concat((zeros3, zeros3, zeros3, zeros3, zero[:, None, ...] - 1.0, zero[:, None, ...]), axis=1),
    )


# ---------------------------------------------------------------------------------------------
# Forces
# ---------------------------------------------------------------------------------------------
class _Eval(NamedTuple):
    force: object  # (3, 3, N) component, body, case: Hill axes (internal forces + thrusters)
    torque: object  # (3, 3, N)
    thrust_force: object  # (3, N) or None: the thruster part on body 0 (Hill axes)
    thrust_torque: object
    touching: object  # (N,) bool: some contact carries a normal force
    contact_force_n: object  # (N,) resultant contact force on the ring
    stroke_m: object  # (N,) largest strut deflection from neutral
    latch_ok: object  # (N,) bool
    latch_len_m: object  # (3, N)
    hook_len_m: object  # (4, N) or None
    gap_m: object  # (N,) distance between the interface planes at the active port
    closing_m_s: object  # (N,) closing speed of the ports
    potential_j: object  # (N,) or None
    contact_ref: object  # (14, N) the broad phase's reference (see DockingState.contact_ref)


def _col(a, i):
    return (a[0][i, ...], a[1][i, ...], a[2][i, ...])


def _contacts(p: DockingParams, m1, p1, acc1, wd1, energy, xp):
    """Narrow phase: the 36 contacts between the ring and body 2 for M cases. ``m1`` (3x3 nested
    tuple) and ``p1`` the ring pose in body-2 axes, ``acc1``, ``wd1`` its relative velocity terms
    (vectors of (M,) lanes).

    Returns the contact force on the ring and its moment about the body-2 origin (vectors of (M,)
    lanes), whether any contact carries a normal force (M,), the contact potential (M,) or None,
    and the clearance (M,): the smallest distance by which any contact is apart (negative =
    overlap). Every per-point array is (K, M): points first, cases last (contiguous)."""
    ring_fl = transform_flat(m1, p.ring_fl_xy_c, p.ring_fl_z_m, p1)  # flank roots 0:6, latches 6:9
    fdir = transform(m1, rows(p.ring_fdir_c))
    n_ring = (m1[0][2], m1[1][2], m1[2][2])  # ring +z axis in body-2 axes
    # flank capsules: closest points of the two segments
    c2, delta = segment_closest(vslice0(ring_fl, 0, 6), fdir, rows(p.pass_flank_p_c), rows(p.pass_flank_d_c),
                                p.flank_aa_c, p.flank_ee_c, xp)
    dist = xp.sqrt(vdot(delta, delta))
    # ring face: latch points on the passive face (z = face_z), catches on the ring face
    latch = vslice0(ring_fl, 6, 9)
    catch = rows(p.catch_c)
    pen_catch = vdot(vsub(vslice0(latch, 0, 1), catch), n_ring)
    # petal points against the other unit's guide ring (a torus one tube radius behind its face)
    guide_a = transform(m1, rows(p.ring_guide_c), p1)  # petal points
    rho_ga, d_ga = torus_rho_distance(guide_a, p.ring_radius_m, p.pass_torus_z_m, xp)
    guide_p = rows(p.pass_guide_c)
    q = transform_t(m1, vsub(guide_p, p1))  # passive petal points in the ring frame
    rho_gp, d_gp = torus_rho_distance(q, p.ring_radius_m, p.ring_torus_z_m, xp)
    m = p1[0].shape[0]
    pens = (p.edge_sum_m - dist, p.face_z_m - latch[2], pen_catch, p.ring_tube_m - d_ga, p.ring_tube_m - d_gp)
    pen = xp.concat(pens, axis=0)  # (36, M)
    potential = None
    if energy:
        pos = xp.maximum(pen, 0.0)
        potential = 0.5 * p.contact_stiffness_n_m * xp.sum(pos * pos, axis=0)
    clearance = -xp.max(pen, axis=0)
    # Only the overlapping (contact, case) pairs can carry a force (the law gives exactly zero
    # otherwise): gather them, finish their normals and points (the same arithmetic as for all
    # of them), apply the law to them alone, and sum them back per case in the same order as a
    # sum over all 36 contacts would.
    face_n = rows(p.face_normal_c)

    def flank(d, c, r):  # picked delta, closest point on the passive flank, distance
        return vscale(d, 1.0 / xp.maximum(r[0], TINY)), vadd(c, vscale(d, 0.5))

    def face(n, pt, _):
        return n, pt

    def catch_f(n, pt, _):
        return (-n[0], -n[1], -n[2]), pt

    def guide_act(pt, _, r):  # petal point of the ring, its rho and d from the passive torus
        return torus_normal(pt, r[0], r[1], p.ring_radius_m, p.pass_torus_z_m, xp), pt

    def guide_pas(qq, pt, r):  # passive petal point in the ring frame, its rho, d; then m1 (9)
        n_q = torus_normal(qq, r[0], r[1], p.ring_radius_m, p.ring_torus_z_m, xp)
        mm = (r[2:5], r[5:8], r[8:11])
        n_gp = mat_vec(mm, n_q)  # back to body-2 axes; the force on the ring is along -n_gp
        return (-n_gp[0], -n_gp[1], -n_gp[2]), pt

    m1f = tuple(m1[i][j] for i in range(3) for j in range(3))
    groups = (  # (penetration, vector a, vector b, scalars, finish): parts (K, M), (K, 1) or (M,)
        (pens[0], delta, c2, (dist,), flank),
        (pens[1], face_n, latch, (), face),
        (pens[2], n_ring, catch, (), catch_f),
        (pens[3], guide_a, guide_a, (rho_ga, d_ga), guide_act),
        (pens[4], q, guide_p, (rho_gp, d_gp) + m1f, guide_pas),
    )
    parts, off = [], 0
    for g_pen, g_a, g_b, g_s, finish in groups:
        kg = g_pen.shape[0]
        kk, cc = xp.nonzero(g_pen > 0.0)
        if kk.shape[0]:
            flat = kk * m + cc

            def pick(a):
                if a.ndim == 1:  # per case
                    return xp.take(a, cc)
                if a.shape[-1] == 1:  # constant per point
                    return xp.take(xp.reshape(xp.broadcast_to(a, (kg, 1)), (-1,)), kk)
                return xp.take(xp.reshape(a, (-1,)), flat)

            va = tuple(pick(c) for c in g_a)
            vb = va if g_b is g_a else tuple(pick(c) for c in g_b)
            g_normal, g_point = finish(va, vb, tuple(pick(c) for c in g_s))
            parts.append((kk + off, cc, xp.take(xp.reshape(g_pen, (-1,)), flat), g_normal, g_point))
        off += kg
    if not parts:
        zero = p1[0] * 0.0
        return (zero, zero, zero), (zero, zero, zero), zero > 0.0, potential, clearance
    kk = xp.concat([q[0] for q in parts])
    cc = xp.concat([q[1] for q in parts])
    order = xp.argsort(cc * 36 + kk, stable=True)  # by case, then contact

    def cat(i, j=None):
        a = xp.concat([q[i] if j is None else q[i][j] for q in parts])
        return xp.take(a, order)

    cc, pen_p = xp.take(cc, order), cat(2)
    normal = (cat(3, 0), cat(3, 1), cat(3, 2))
    point = (cat(4, 0), cat(4, 1), cat(4, 2))
    u = vadd(tuple(xp.take(a, cc) for a in acc1), vcross(tuple(xp.take(a, cc) for a in wd1), point))
    fc, fn = penalty_forces(pen_p, normal, u, p.contact_stiffness_n_m, p.contact_damping_n_s_m,
                            p.contact_damping_depth_m, p.friction_coefficient, p.friction_slope_n_s_m, xp)
    vals = xp.stack(fc + vcross(point, fc) + (xp.astype(fn > 0.0, xp.float64),), axis=0)  # (7, P)
    # segments of equal case: (pairs per segment, segments) table, summed down its columns
    n_p = cc.shape[0]
    first = xp.concat((cc[0:1] >= 0, cc[1:] != cc[:-1]))
    starts = xp.nonzero(first)[0]
    n_seg = starts.shape[0]
    ends = xp.concat((starts[1:], xp.asarray([n_p], dtype=starts.dtype, device=_device(starts))))
    width = int(xp.max(ends - starts))
    j = xp.arange(width, dtype=starts.dtype, device=_device(starts))[:, None]
    at = starts[None, :] + j
    at = xp.where(at < ends[None, :], at, xp.zeros_like(at) + n_p)
    vals = xp.concat((vals, xp.zeros_like(vals[:, 0:1])), axis=1)
    seg = xp.sum(xp.reshape(xp.take(vals, xp.reshape(at, (-1,)), axis=1), (7, width, n_seg)), axis=1)  # (7, S)
    # back to the M cases (the segment of each case, or a zero column)
    has = xp.any(pen > 0.0, axis=0)
    hi = xp.astype(has, starts.dtype)
    sel = hi * (xp.cumulative_sum(hi) - 1) + (1 - hi) * n_seg
    got = xp.take(xp.concat((seg, xp.zeros_like(seg[:, 0:1])), axis=1), sel, axis=1)
    return ((got[0, ...], got[1, ...], got[2, ...]), (got[3, ...], got[4, ...], got[5, ...]), got[6, ...] > 0.0,
            potential, clearance)


# The broad phase skips a case's narrow phase while no contact can have closed since the last one.
# Every contact distance is a distance between a ring feature and a body-2 feature; in the ring's
# frame a ring feature stays put and a body-2 point q moves by at most |p1 - p1_ref| +
# ||m1 - m1_ref|| |q - p1_ref| (and in body 2's frame a ring point by |p1 - p1_ref| +
# ||m1 - m1_ref|| |L|), so each distance changes by at most |p1 - p1_ref| + ||m1 - m1_ref|| * reach,
# reach the largest of those lever arms at the last narrow phase. For two rotations the spectral norm
# is ||m1 - m1_ref||_F / sqrt(2) (both are 2 sin(angle / 2) times 2 or sqrt(8)). The margin covers
# rounding.
BROAD_MARGIN_M = 1e-9


def _broad_reference(p, pose, clearance, xp):
    """(14, M) reference of the broad phase from the ring pose (12, M): m1 (9, row-major) and p1
    (3); then the clearance and the reach."""
    p1 = (pose[9, ...], pose[10, ...], pose[11, ...])
    dq = vsub(rows(p.pass_pts_c), p1)  # body-2 contact points from the ring's centre of mass (15, M)
    reach = xp.maximum(xp.sqrt(xp.max(vdot(dq, dq), axis=0)), p.ring_reach_m)
    return xp.concat((pose, clearance[None, ...], reach[None, ...]), axis=0)


def _scatter(vals, mask, k, xp):
    """Columns ``vals`` (R, K) of the K cases where ``mask`` (N,) holds, back to (R, N) with
    zeros elsewhere (a gather: the array API has no scatter)."""
    packed = xp.concat((vals, xp.zeros_like(vals[:, 0:1, ...])), axis=1)
    mi = xp.astype(mask, xp.int64)
    return xp.take(packed, mi * (xp.cumulative_sum(mi) - 1) + (1 - mi) * k, axis=1)


def _lanes(s: DockingState):
    """The state's body arrays with the case axis last: positions, velocities and angular momenta
    (component, body, case), attitudes (row, column, body, case). Views of the arrays a step
    returns (which are themselves views of case-last arrays), so this costs no copy."""
    xp = namespace(s.pos_m)
    return (xp.permute_dims(s.pos_m, (2, 1, 0)), xp.permute_dims(s.vel_m_s, (2, 1, 0)),
            xp.permute_dims(s.rot, (2, 3, 1, 0)), xp.permute_dims(s.angmom_kg_m2_s, (2, 1, 0)))


def _evaluate(p: DockingParams, s: DockingState, energy: bool = False, lanes=None) -> _Eval:
    """Forces and torques on the three bodies (Hill axes) and the diagnostics of one state.

    Works in body-2 (passive) axes with its origin at body 2's centre of mass, with the case axis
    last: a vector is a tuple of its three components, each an array (..., N) (N contiguous), a
    matrix a nested tuple of nine. The contact narrow phase runs only for the cases the broad
    phase cannot rule out (all of them with ``energy``)."""
    xp = namespace(s.pos_m)
    n = s.pos_m.shape[0]
    X, V, R, H = _lanes(s) if lanes is None else lanes
    # Body-level algebra on whole stacked arrays (a 3x3 product is one multiply and one sum over
    # the shared axis, summed in the same order as term by term), then viewed as nested tuples.
    r2 = R[:, :, 2, ...]  # (row, column, N)
    # bodies 0, 1 axes in body-2 axes: mrel[i, j] = sum_k r2[k, i] r01[k, j], (3, 3, 2, N)
    mrel = xp.sum(r2[:, :, None, None, ...] * R[:, None, :, 0:2, ...], axis=0)
    # centres and velocities of bodies 0, 1 relative to body 2, in body-2 axes: (3, 2, N)
    dxv = xp.stack((X[:, 0:2, ...] - X[:, 2:3, ...], V[:, 0:2, ...] - V[:, 2:3, ...]), axis=0)
    dxv = xp.sum(r2[None, :, :, None, ...] * dxv[:, :, None, ...], axis=1)
    wba = xp.sum(R * H[:, None, ...], axis=0) * p.inv_inertia_c  # body-frame angular velocities (3, 3 bodies, N)
    w01a = xp.sum(mrel * wba[None, :, 0:2, ...], axis=1)  # bodies 0, 1 angular velocity in body-2 axes
    wda = w01a - wba[:, 2:3, ...]
    dx, dv, wb, w01, wd = (tuple(a[i, ...] for i in range(3)) for a in (dxv[0, ...], dxv[1, ...], wba, w01a, wda))
    w2 = _col(wb, 2)
    # velocity of body b's material point at P relative to body 2's: acc[b] + wd[b] x P
    acc = vsub(dv, vcross(w01, dx))
    m0 = tuple(tuple(mrel[i, j, 0, ...] for j in range(3)) for i in range(3))
    m1 = tuple(tuple(mrel[i, j, 1, ...] for j in range(3)) for i in range(3))
    p0, p1, acc0, acc1, wd0, wd1 = _col(dx, 0), _col(dx, 1), _col(acc, 0), _col(acc, 1), _col(wd, 0), _col(wd, 1)

    ring = transform_flat(m1, p.ring_ls_xy_c, p.ring_ls_z_m, p1)  # latch and strut points of the ring, (9, N)
    b_pt = transform_flat(m0, p.act_strut_xy_c, p.act_strut_z_m, p0)  # strut bases on body 0, (6, N)
    port = tuple(m0[i][2] * p.act_port_z_m + p0[i] for i in range(3))  # body 0's port

    # --- contacts between the ring and body 2: broad phase, then the narrow phase ---------------
    pose = xp.stack([m1[i][j] for i in range(3) for j in range(3)] + list(p1), axis=0)  # (12, N): m1, p1
    ref = None if s.contact_ref is None else xp.permute_dims(s.contact_ref, (1, 0))
    cand = None
    if ref is not None and not energy:
        dd = pose - ref[0:12, ...]
        dd = dd * dd
        move = xp.sqrt(xp.sum(dd[9:12, ...], axis=0)) + xp.sqrt(0.5 * xp.sum(dd[0:9, ...], axis=0)) * ref[13, ...]
        cand = ref[12, ...] - move <= BROAD_MARGIN_M
    idx = None if cand is None else xp.nonzero(cand)[0]
    k = n if idx is None else int(idx.shape[0])
    potential = None
    if k == n:
        f_ring, t_ring, touching, potential, clear = _contacts(p, m1, p1, acc1, wd1, energy, xp)
        new_ref = _broad_reference(p, pose, clear, xp)
    elif k == 0:
        zero = p1[0] * 0.0
        f_ring = t_ring = (zero, zero, zero)
        touching = cand & False
        new_ref = ref
    else:
        g = xp.take(pose, idx, axis=1)  # (12, K)
        gv = xp.take(xp.stack(acc1 + wd1, axis=0), idx, axis=1)  # (6, K)
        m1c = tuple(tuple(g[3 * i + j, ...] for j in range(3)) for i in range(3))
        p1c = (g[9, ...], g[10, ...], g[11, ...])
        fc, tc, touch_c, _, clear = _contacts(p, m1c, p1c, (gv[0, ...], gv[1, ...], gv[2, ...]),
                                              (gv[3, ...], gv[4, ...], gv[5, ...]), False, xp)
        packed = xp.concat((xp.stack(fc + tc + (xp.astype(touch_c, xp.float64),), axis=0),
                            _broad_reference(p, g, clear, xp)), axis=0)  # (21, K)
        packed = xp.concat((packed, xp.zeros_like(packed[:, 0:1, ...])), axis=1)  # column K: the cases skipped
        ci = xp.astype(cand, idx.dtype)
        sel = ci * (xp.cumulative_sum(ci) - 1) + (1 - ci) * k
        got = xp.take(packed, sel, axis=1)
        f_ring, t_ring = (got[0, ...], got[1, ...], got[2, ...]), (got[3, ...], got[4, ...], got[5, ...])
        touching = got[6, ...] > 0.0
        new_ref = xp.where(cand, got[7:, ...], ref)
    contact_force = xp.sqrt(vdot(f_ring, f_ring))

    # --- capture latches (central spring-dampers, latch point to catch) -------------------------
    latch = vslice0(ring, 0, 3)
    dl = vsub(latch, rows(p.catch_c))
    latch_len = xp.sqrt(vdot(dl, dl))
    latch_ok = xp.all((dl[2] <= p.latch_gap_m) & (dl[0] * dl[0] + dl[1] * dl[1] <= p.latch_lateral_m ** 2), axis=0)
    if p.capture:
        # only latched cases carry latch forces (the rest add exact zeros): gather them
        latched = s.phase >= CAPTURED
        rest = xp.permute_dims(s.latch_rest_m, (1, 0))
        li = None if energy else xp.nonzero(latched)[0]
        kl = n if li is None else int(li.shape[0])
        if kl == n:
            sub = (dl, latch_len, rest, latch, acc1, wd1)
        elif kl:
            g = xp.take(xp.concat(dl + (latch_len, rest) + latch + (xp.stack(acc1 + wd1, axis=0),), axis=0), li, axis=1)
            sub = ((g[0:3, ...], g[3:6, ...], g[6:9, ...]), g[9:12, ...], g[12:15, ...],
                   (g[15:18, ...], g[18:21, ...], g[21:24, ...]), (g[24, ...], g[25, ...], g[26, ...]),
                   (g[27, ...], g[28, ...], g[29, ...]))
        if kl:
            s_dl, s_len, s_rest, s_latch, s_acc, s_wd = sub
            dhat = vscale(s_dl, 1.0 / xp.maximum(s_len, TINY))
            stretch = s_len - s_rest
            u_l = vadd(s_acc, vcross(s_wd, s_latch))
            tension = p.latch_stiffness_n_m * stretch + p.latch_damping_n_s_m * vdot(u_l, dhat)
            if kl == n:
                tension = xp.where(latched, tension, 0.0)
            fl = vscale(dhat, -tension)
            f_l, t_l = vsum0(fl, xp), vsum0(vcross(s_latch, fl), xp)
            if kl < n:
                got = _scatter(xp.stack(f_l + t_l, axis=0), latched, kl, xp)
                f_l, t_l = (got[0, ...], got[1, ...], got[2, ...]), (got[3, ...], got[4, ...], got[5, ...])
            f_ring = vadd(f_ring, f_l)
            t_ring = vadd(t_ring, t_l)
            if energy:
                potential = potential + xp.sum(xp.where(latched, (0.5 * p.latch_stiffness_n_m) * stretch * stretch,
                                                        0.0), axis=0)

    # --- attenuator struts (body 0 <-> ring) -----------------------------------------------------
    a_pt = vslice0(ring, 3, 9)
    leg = vsub(a_pt, b_pt)
    length = xp.sqrt(vdot(leg, leg))
    inv_len = 1.0 / length
    # moment arm of a unit pull along the strut: b x uhat = a x uhat = (b x a) / length, which gives
    # both the strut's rate (u_A - u_B) . uhat = (acc1 - acc0) . uhat + (wd1 - wd0) . arm and its
    # moment; uhat = leg / length and arm are never formed: the 1 / length goes on the sums
    ba = vcross(b_pt, a_pt)
    reach = p.strut_dz0_m + s.ring_ext_m
    neutral = xp.sqrt(p.strut_rho2_c + reach * reach)
    rate = (vdot(leg, vsub(acc1, acc0)) + vdot(ba, vsub(wd1, wd0))) * inv_len
    stretch = length - neutral
    # beyond the end stops: length - (length clamped to [min, max])
    over = length - xp.maximum(xp.minimum(length, p.strut_len_max_c), p.strut_len_min_c)
    tension = p.strut_stiffness_n_m * stretch + p.strut_damping_n_s_m * rate + p.stop_stiffness_n_m * over
    if p.brake_force_n > 0.0:
        tension = tension + xp.minimum(xp.maximum(p.brake_slope_n_s_m * rate, -p.brake_force_n), p.brake_force_n)
    # on body 0 at B; the ring gets the opposite at A (same line, so the same moment about the origin)
    pull = tension * inv_len  # tension per metre of leg
    f_struts = vsum0(vscale(leg, pull), xp)
    t_struts = vsum0(vscale(ba, pull), xp)
    stroke = xp.max(xp.abs(stretch), axis=0)
    if energy:
        potential = potential + 0.5 * xp.sum(p.strut_stiffness_n_m * stretch * stretch
                                             + p.stop_stiffness_n_m * over * over, axis=0)

    f_act, t_act = f_struts, t_struts
    hook_len = None
    # --- guide pins and structural hooks (body 0 <-> body 2) -----------------------------------
    if p.post_capture:
        hp = transform_flat(m0, p.act_ph_xy_c, p.act_ph_z_m, p0)  # pins 0:2, hooks 2:6
        uh = vadd(acc0, vcross(wd0, hp))
        pins_on = s.phase >= ALIGNMENT
        sock = rows(p.pin_socket_c)
        dpx, dpy = hp[0][0:2, ...] - sock[0], hp[1][0:2, ...] - sock[1]
        fpx = xp.where(pins_on, -(p.pin_stiffness_n_m * dpx + p.pin_damping_n_s_m * uh[0][0:2, ...]), 0.0)
        fpy = xp.where(pins_on, -(p.pin_stiffness_n_m * dpy + p.pin_damping_n_s_m * uh[1][0:2, ...]), 0.0)
        hk = vslice0(hp, 2, 6)
        dh = vsub(hk, rows(p.hook_pass_c))
        hook_len = xp.sqrt(vdot(dh, dh))
        hhat = vscale(dh, 1.0 / xp.maximum(hook_len, TINY))
        hstretch = hook_len - xp.permute_dims(s.hook_rest_m, (1, 0))
        hooks_on = s.phase >= HOOKS
        htension = xp.where(hooks_on, p.hook_stiffness_n_m * hstretch
                            + p.hook_damping_n_s_m * vdot(vslice0(uh, 2, 6), hhat), 0.0)
        fh = vscale(hhat, -htension)  # on body 0 at the hooks
        pin_pt = vslice0(hp, 0, 2)
        f_hp = vadd((xp.sum(fpx, axis=0), xp.sum(fpy, axis=0), p1[0] * 0.0), vsum0(fh, xp))
        t_hp = vadd(vsum0(vcross(pin_pt, (fpx, fpy, fpx * 0.0)), xp), vsum0(vcross(hk, fh), xp))
        f_act = vadd(f_act, f_hp)
        t_act = vadd(t_act, t_hp)
        if energy:
            pin_e = (0.5 * p.pin_stiffness_n_m) * xp.sum(dpx * dpx + dpy * dpy, axis=0)
            hook_e = xp.sum(xp.where(hooks_on, (0.5 * p.hook_stiffness_n_m) * hstretch * hstretch, 0.0), axis=0)
            potential = potential + xp.where(s.phase >= ALIGNMENT, pin_e, 0.0) + hook_e
    else:
        f_hp = t_hp = None

    # Totals (body-2 axes): torques about each body's own centre of mass.
    force_ring = vsub(f_ring, f_struts)
    torque_ring = vsub(vsub(t_ring, t_struts), vcross(p1, force_ring))
    force_pas = vscale(f_ring, -1.0) if f_hp is None else vscale(vadd(f_ring, f_hp), -1.0)
    torque_pas = vscale(t_ring, -1.0) if t_hp is None else vscale(vadd(t_ring, t_hp), -1.0)
    torque_act = vsub(t_act, vcross(p0, f_act))

    u_port = vadd(acc0, vcross(wd0, port))
    thrust_f = thrust_t = None
    if p.thrusters:
        thrust_f, thrust_t = _approach_control(p, s, m0, port, u_port, _col(wb, 0), w2, xp)
        f_act = vadd(f_act, thrust_f)
        torque_act = vadd(torque_act, thrust_t)

    def hill(a, b, c):  # body-2 axes -> Hill axes, stacked over the bodies: (3, 3, N)
        v = xp.stack([xp.stack((a[i], b[i], c[i]), axis=0) for i in range(3)], axis=0)
        return xp.sum(r2[:, :, None, ...] * v[None, ...], axis=1)

    forces = hill(f_act, force_ring, force_pas)
    torques = hill(torque_act, torque_ring, torque_pas)
    if thrust_f is not None:
        r2t = tuple(tuple(r2[i, j, ...] for j in range(3)) for i in range(3))
        thrust_f = xp.stack(mat_vec(r2t, thrust_f), axis=0)
        thrust_t = xp.stack(mat_vec(r2t, thrust_t), axis=0)
    return _Eval(forces, torques, thrust_f, thrust_t, touching, contact_force, stroke, latch_ok, latch_len, hook_len,
                 port[2] - p.face_z_m, -u_port[2], potential, new_ref)


def _approach_control(p, s, m0, port, u_port, w0, w2, xp):
    """Apollo RCS before first contact: on-off translation along the body axes against a velocity
    error (deadband ``deadband_m_s``), and a saturated PD attitude hold. Returns the force and
    torque on body 0 in body-2 axes (zero once the case has touched); vectors of (N,) lanes,
    ``m0`` the body-0 axes in body-2 axes, ``w0`` body 0's angular velocity in its own axes."""
    ax, ay, az = (float(a) for a in p.aim_xyz)
    rz = port[2] - (p.face_z_m + az)
    vz = -xp.minimum(p.approach_final_m_s + p.approach_gain_1_s * xp.maximum(rz - p.approach_switch_m, 0.0),
                     p.approach_max_m_s)
    vx, vy = (-xp.minimum(xp.maximum(p.lateral_gain_1_s * (port[i] - a), -p.lateral_max_m_s), p.lateral_max_m_s)
              for i, a in ((0, ax), (1, ay)))
    err_b = mat_t_vec(m0, vsub(u_port, (vx, vy, vz)))  # in body-0 axes
    on = s.phase == APPROACH
    acc_b = tuple(xp.where((xp.abs(err_b[i]) > p.deadband_m_s) & on, -xp.sign(err_b[i]) * p.accel_f[i], 0.0)
                  for i in range(3))
    force = vscale(mat_vec(m0, acc_b), p.mass_f[0])
    # attitude: error rotation E = M0^T T, small-angle vector from its skew part (body-0 axes)
    e = mat_tn(m0, p.target_f)
    theta = (0.5 * (e[2][1] - e[1][2]), 0.5 * (e[0][2] - e[2][0]), 0.5 * (e[1][0] - e[0][1]))
    w_rel = vsub(w0, mat_t_vec(m0, w2))
    tq = tuple(xp.where(on, xp.minimum(xp.maximum(p.attitude_kp_n_m_rad * theta[i] - p.attitude_kd_n_m_s_rad * w_rel[i],
                                                  -p.torque_max_n_m), p.torque_max_n_m), 0.0) for i in range(3))
    return force, mat_vec(m0, tq)


# ---------------------------------------------------------------------------------------------
# The step
# ---------------------------------------------------------------------------------------------
def _free_rotation(rot, h, p: DockingParams, xp):
    """Advance every body's attitude by dt with its (new) angular momentum held fixed: Strang
    splitting of the free rigid body into exact rotations about body axes x, y, z, y, x
    (each keeps h; the composition is symplectic), each rotation in Cayley form. ``rot`` the
    attitudes (row, column, body, N), ``h`` the angular momenta (component, body, N), Hill axes;
    returns the new attitudes as one (row, column, body, N) array.

    Whole columns (3 rows x 3 bodies x N) go through each operation, so a step costs ~45 array
    operations here whatever N is; the arithmetic per element is the same as column by column."""
    ms = xp.sum(rot * h[:, None, ...], axis=0)  # body-frame momenta: R^T h
    mc = [ms[i, ...] for i in range(3)]  # (3 bodies, N) each
    cols = [rot[:, j, ...] for j in range(3)]  # (3 rows, 3 bodies, N)
    dt = p.dt_s
    # the body-frame momentum components each later rotation still reads (the last two need fewer)
    for i, frac, keep in ((0, 0.5, 2), (1, 0.5, 2), (2, 1.0, 2), (1, 0.5, 1), (0, 0.5, 0)):
        j, k = (i + 1) % 3, (i + 2) % 3
        tt = mc[i] * ((0.5 * frac * dt) * p.inv_inertia_c[i, ...])  # tan(angle / 2)
        inv2 = 2.0 / (1.0 + tt * tt)
        c = inv2 - 1.0  # (1 - tt^2) / (1 + tt^2)
        sn = tt * inv2  # 2 tt / (1 + tt^2)
        cj, ck = cols[j], cols[k]
        cols[j] = cj * c + ck * sn
        cols[k] = ck * c - cj * sn
        mj, mk = mc[j], mc[k]
        if keep == 2:
            mc[j] = c * mj + sn * mk
        if keep >= 1:
            mc[k] = c * mk - sn * mj
    return xp.stack(cols, axis=1)


def step(params: DockingParams, state: DockingState) -> DockingState:
    """Advance every case by ``params.dt_s``. Pure: returns a new state.

    Inside, every array has the case axis last (contiguous lanes of N); the state's arrays are
    returned as views with the case axis first (xyz last), so the next step reads them back
    without a copy."""
    p, s = params, state
    xp = namespace(s.pos_m)
    dt = p.dt_s
    lanes = _lanes(s)
    X, V, R, H = lanes
    ev = _evaluate(p, s, lanes=lanes)
    force, torque = ev.force, ev.torque  # (3 components, 3 bodies, N)
    ext_f = None
    if ev.thrust_force is not None:
        zero = xp.zeros_like(X[0, 1:, ...])
        ext_f = xp.stack([xp.concat((ev.thrust_force[i:i + 1, ...], zero), axis=0) for i in range(3)], axis=0)
    if p.mean_motion_rad_s != 0.0:
        nn = p.mean_motion_rad_s
        cw = xp.stack(((3.0 * nn * nn) * X[0, ...] + (2.0 * nn) * V[1, ...], (-2.0 * nn) * V[0, ...],
                       (-nn * nn) * X[2, ...]), axis=0) * p.mass_c
        force = force + cw
        ext_f = cw if ext_f is None else ext_f + cw
    ext_imp, ext_ang = s.ext_impulse_n_s, s.ext_ang_impulse_n_m_s
    if p.track_external and ext_f is not None:
        ext_imp = ext_imp + dt * xp.permute_dims(xp.sum(ext_f, axis=1), (1, 0))
        ang = xp.stack([xp.sum(c, axis=0) for c in vcross((X[0, ...], X[1, ...], X[2, ...]),
                                                          (ext_f[0, ...], ext_f[1, ...], ext_f[2, ...]))], axis=0)
        if ev.thrust_torque is not None:
            ang = ang + ev.thrust_torque
        ext_ang = ext_ang + dt * xp.permute_dims(ang, (1, 0))

    vel = V + (dt * force) * p.inv_mass_c
    h = H + dt * torque
    pos = X + dt * vel
    rot = _free_rotation(R, h, p, xp)

    # --- phases --------------------------------------------------------------------------------
    t = s.t_s
    one = xp.ones_like(t)
    phase = s.phase
    touching = ev.touching
    first = touching & xp.isnan(s.t_contact_s)
    t_contact = xp.where(first, t, s.t_contact_s)
    contact_speed = xp.where(first, ev.closing_m_s, s.contact_speed_m_s)
    phase = xp.where((phase == APPROACH) & touching, one * CONTACT, phase)
    latch_rest, t_capture = s.latch_rest_m, s.t_capture_s
    ring_ext, hook_rest = s.ring_ext_m, s.hook_rest_m
    t_retract, t_align, t_hooks, t_hard = s.t_retract_s, s.t_align_s, s.t_hooks_s, s.t_hard_dock_s
    if p.capture:
        now = ev.latch_ok & (phase == CONTACT)  # the latches trip on contact, not before
        phase = xp.where(now, one * CAPTURED, phase)
        t_capture = xp.where(now, t, t_capture)
        latch_rest = xp.permute_dims(xp.where(now, ev.latch_len_m, xp.permute_dims(latch_rest, (1, 0))), (1, 0))
    if p.capture and p.post_capture:
        now = (phase == CAPTURED) & (t - t_capture >= p.attenuation_s)
        phase = xp.where(now, one * RETRACTION, phase)
        t_retract = xp.where(now, t, t_retract)
        moving = phase >= RETRACTION
        ring_ext = xp.where(moving, xp.maximum(ring_ext - p.retract_rate_m_s * dt, 0.0), ring_ext)
        latch_rest = xp.where(moving[:, None, ...], xp.maximum(latch_rest - p.latch_close_rate_m_s * dt, 0.0),
                              latch_rest)
        now = (phase == RETRACTION) & (ring_ext <= p.pin_engage_extension_m)
        phase = xp.where(now, one * ALIGNMENT, phase)
        t_align = xp.where(now, t, t_align)
        now = (phase == ALIGNMENT) & (ring_ext <= 0.0) & (ev.gap_m <= p.hook_gap_m)
        phase = xp.where(now, one * HOOKS, phase)
        t_hooks = xp.where(now, t, t_hooks)
        hook_rest = xp.permute_dims(xp.where(now, ev.hook_len_m, xp.permute_dims(hook_rest, (1, 0))), (1, 0))
        closing = phase >= HOOKS
        hook_rest = xp.where(closing[:, None, ...], xp.maximum(hook_rest - p.hook_close_rate_m_s * dt, 0.0), hook_rest)
        now = (phase == HOOKS) & (xp.max(hook_rest, axis=1) <= 0.0)
        phase = xp.where(now, one * HARD_DOCK, phase)
        t_hard = xp.where(now, t, t_hard)

    return DockingState(
        t_s=t + dt, pos_m=xp.permute_dims(pos, (2, 1, 0)), vel_m_s=xp.permute_dims(vel, (2, 1, 0)),
        rot=xp.permute_dims(rot, (3, 2, 0, 1)), angmom_kg_m2_s=xp.permute_dims(h, (2, 1, 0)),
        ring_ext_m=ring_ext, phase=phase, latch_rest_m=latch_rest, hook_rest_m=hook_rest,
        t_contact_s=t_contact, t_capture_s=t_capture, t_retract_s=t_retract, t_align_s=t_align,
        t_hooks_s=t_hooks, t_hard_dock_s=t_hard, contact_speed_m_s=contact_speed,
        peak_stroke_m=xp.maximum(s.peak_stroke_m, ev.stroke_m),
        peak_force_n=xp.maximum(s.peak_force_n, ev.contact_force_n),
        contact_force_n=ev.contact_force_n, stroke_m=ev.stroke_m,
        ext_impulse_n_s=ext_imp, ext_ang_impulse_n_m_s=ext_ang,
        contact_ref=xp.permute_dims(ev.contact_ref, (1, 0)),
    )


def run(params: DockingParams, state: DockingState, n_steps: int) -> DockingState:
    """``n_steps`` (a host integer) calls of :func:`step`."""
    for _ in range(int(n_steps)):
        state = step(params, state)
    return state


# ---------------------------------------------------------------------------------------------
# Diagnostics
# ---------------------------------------------------------------------------------------------
def momentum(params: DockingParams, state: DockingState):
    """Total linear momentum (N, 3) and angular momentum about the Hill origin (N, 3)."""
    xp = namespace(state.pos_m)
    mv = state.vel_m_s * params.mass_kg[:, None, ...]
    lin = xp.sum(mv, axis=1)
    ang = xp.sum(cross(state.pos_m, mv, xp) + state.angmom_kg_m2_s, axis=1)
    return lin, ang


def kinetic_energy_j(params: DockingParams, state: DockingState):
    """Translational plus rotational kinetic energy of the three bodies (N,)."""
    xp = namespace(state.pos_m)
    trans = 0.5 * xp.sum(xp.sum(state.vel_m_s * state.vel_m_s, axis=-1) * params.mass_kg, axis=1)
    mb = rotate_rows_t(state.rot, state.angmom_kg_m2_s)
    spin = 0.5 * xp.sum(xp.sum(mb * mb * params.inv_inertia, axis=-1), axis=1)
    return trans + spin


def energy_j(params: DockingParams, state: DockingState, discrete: bool = True):
    """Mechanical energy (N,): kinetic energy plus the elastic energy in the struts, end stops,
    contacts, latches, pins and hooks.

    With ``discrete`` (default) the kinetic part is the one the integrator keeps: the state holds
    the velocities of the half step behind (v_(n-1/2), h_(n-1/2)); the next kick gives
    v_(n+1/2); the energy is 1/2 v_(n-1/2) M v_(n+1/2) + 1/2 h_(n-1/2) I^-1(q_n) h_(n+1/2) +
    U(q_n), which the kick-drift scheme conserves exactly for linear springs and which the
    dampers, brake and friction can only lower. It differs from the plain energy (``discrete=
    False``, velocities of the state) by O(dt^2) in the stiff modes (relative 1e-4 around contact
    at dt = 1 ms). Without thrusters, Hill terms and the retraction/hook drives neither rises on
    average; the discrete one never rises from one step to the next (tests/test_docking.py).
    """
    xp = namespace(state.pos_m)
    ev = _evaluate(params, state, energy=True)
    if not discrete:
        return kinetic_energy_j(params, state) + ev.potential_j
    dt = params.dt_s
    force, torque = xp.permute_dims(ev.force, (2, 1, 0)), xp.permute_dims(ev.torque, (2, 1, 0))
    v_next = state.vel_m_s + (dt * force) * params.inv_mass_kg[:, None, ...]
    h_next = state.angmom_kg_m2_s + dt * torque
    trans = 0.5 * xp.sum(xp.sum(state.vel_m_s * v_next, axis=-1) * params.mass_kg, axis=1)
    mb = rotate_rows_t(state.rot, state.angmom_kg_m2_s)
    mb_next = rotate_rows_t(state.rot, h_next)
    spin = 0.5 * xp.sum(xp.sum(mb * mb_next * params.inv_inertia, axis=-1), axis=1)
    return trans + spin + ev.potential_j


def relative_pose(params: DockingParams, state: DockingState) -> dict:
    """The pose of the active port in the passive port frame and of the ring face in the active
    port frame, and the misalignment of the interface (what the scene animates).

    Returns a dict of arrays: ``port_offset_m`` (N, 3), ``port_rot`` (N, 3, 3) (active port axes
    in passive port axes; the mirror diag(-1, 1, -1) when perfectly docked), ``ring_offset_m``
    (N, 3) (ring face centre from the active port), ``ring_rot`` (N, 3, 3) (ring axes in active
    axes), ``lateral_m``, ``axial_m`` and ``angle_rad`` (N,) of the docked interface.
    """
    xp = namespace(state.pos_m)
    x, rot = state.pos_m, state.rot
    r2 = rot[:, PASSIVE, ...]
    rrel = matmul_tn(r2, rot[:, ACTIVE, ...])
    port = rotate_rows_t(r2, x[:, ACTIVE, ...] - x[:, PASSIVE, ...]) + rotate_rows(rrel, xp.broadcast_to(
        params.act_local_m[_A_PORT, :], x[:, 0, ...].shape))
    offset = port - params.ez * params.face_z_m
    r0 = rot[:, ACTIVE, ...]
    ring_rot = matmul_tn(r0, rot[:, RING, ...])
    ring_face = rotate_rows(ring_rot, xp.broadcast_to(-params.ring_local_m[_R_NORMAL, :] * (
        params.ring_home_m[2] - params.act_local_m[_A_PORT, 2]), x[:, 0, ...].shape))
    ring_offset = rotate_rows_t(r0, x[:, RING, ...] - x[:, ACTIVE, ...]) + ring_face - params.act_local_m[_A_PORT, :]
    q = matmul_tn(xp.broadcast_to(params.mirror, rrel.shape), rrel)
    cos_a = xp.clip(0.5 * (q[:, 0, 0] + q[:, 1, 1] + q[:, 2, 2] - 1.0), -1.0, 1.0)
    return {
        "port_offset_m": offset, "port_rot": rrel, "ring_offset_m": ring_offset, "ring_rot": ring_rot,
        "lateral_m": xp.sqrt(offset[:, 0, ...] * offset[:, 0, ...] + offset[:, 1, ...] * offset[:, 1, ...]),
        "axial_m": offset[:, 2, ...], "angle_rad": xp.acos(cos_a),
    }
