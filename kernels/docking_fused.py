"""A fused CPU fast path for :func:`kernels.docking.run`: the same physics, compiled with Numba.

:mod:`kernels.docking` is the reference (array-API code, NumPy / CuPy / array_api_strict); this
module is the same step written case by case and compiled, so that a case runs all its steps in
registers with no per-step NumPy call (the reference costs ~700 array operations per step
whatever the batch, ~1 ms on a CPU, which dominates below 10^4 cases). Every formula here
mirrors one of the reference (names and order are the reference's; multiply-adds are fused into
FMA instructions, and sums over contacts are accumulated in contact order);
tests/test_docking_fused.py checks the two against each other (the reference on NumPy and under
array_api_strict): every continuous state field to 1e-9 of its scale after 300 steps through
contact, capture and the phases after it, phases and event times exactly.

Scope: thrusters off (the capture envelope, the benchmarks, every free-drift run);
:func:`supports` says whether a parameter set is covered, and :func:`run` raises for one that is
not, so callers fall back to the reference. Host NumPy arrays in and out (the compiled loop
releases the GIL: tiles of cases run in parallel on experience.parallel.map_tiles).
"""

from __future__ import annotations

import math

import numpy as np

from kernels import docking as dk

try:  # Numba is optional: without it there is no fast path, and callers use the reference
    import numba
except ImportError:  # pragma: no cover - exercised where numba is absent
    numba = None

TINY = 1e-12
BROAD_MARGIN_M = dk.BROAD_MARGIN_M
APPROACH, CONTACT, CAPTURED, RETRACTION, ALIGNMENT, HOOKS, HARD_DOCK = (float(dk.APPROACH), float(dk.CONTACT),
                                                                        float(dk.CAPTURED), float(dk.RETRACTION),
                                                                        float(dk.ALIGNMENT), float(dk.HOOKS),
                                                                        float(dk.HARD_DOCK))

# per-case scalars, columns of the (N, 14) block the compiled loop works on
(S_T, S_EXT, S_PHASE, S_TCON, S_TCAP, S_TRET, S_TALI, S_THOOK, S_THARD, S_SPEED, S_PSTROKE, S_PFORCE,
 S_FORCE, S_STROKE) = range(14)
_SCALAR_FIELDS = ("t_s", "ring_ext_m", "phase", "t_contact_s", "t_capture_s", "t_retract_s", "t_align_s",
                  "t_hooks_s", "t_hard_dock_s", "contact_speed_m_s", "peak_stroke_m", "peak_force_n",
                  "contact_force_n", "stroke_m")

# the scalar parameters, in one float64 vector
_PARAM_FIELDS = ("dt_s", "edge_sum_m", "ring_radius_m", "ring_tube_m", "ring_torus_z_m", "pass_torus_z_m",
                 "face_z_m", "contact_stiffness_n_m", "contact_damping_n_s_m", "contact_damping_depth_m",
                 "friction_coefficient", "friction_slope_n_s_m", "strut_stiffness_n_m", "strut_damping_n_s_m",
                 "brake_force_n", "brake_slope_n_s_m", "stop_stiffness_n_m", "latch_gap_m", "latch_lateral_m",
                 "latch_stiffness_n_m", "latch_damping_n_s_m", "latch_close_rate_m_s", "attenuation_s",
                 "retract_rate_m_s", "pin_engage_extension_m", "pin_stiffness_n_m", "pin_damping_n_s_m",
                 "hook_gap_m", "hook_stiffness_n_m", "hook_damping_n_s_m", "hook_close_rate_m_s",
                 "mean_motion_rad_s", "strut_dz0_m", "ring_reach_m", "act_port_z_m")
_P = {name: k for k, name in enumerate(_PARAM_FIELDS)}


def available() -> bool:
    """Whether Numba is installed (the fast path exists)."""
    return numba is not None


def supports(params: dk.DockingParams) -> bool:
    """Whether this fast path covers ``params`` (Numba present, NumPy arrays, thrusters off)."""
    return available() and not params.thrusters and isinstance(params.mass_kg, np.ndarray)


def _tables(p: dk.DockingParams):
    """The constant point sets (host float64, xyz last) and the scalar vector."""
    h = np.asarray
    ring = h(p.ring_local_m, dtype=np.float64)
    act = h(p.act_local_m, dtype=np.float64)
    pts = {
        "ring": ring, "act": act,
        "pflank_p": h(p.pass_flank_p_m, dtype=np.float64), "pflank_d": h(p.pass_flank_d_m, dtype=np.float64),
        "catch": h(p.catch_m, dtype=np.float64), "pguide": h(p.pass_guide_m, dtype=np.float64),
        "pin_sock": np.ascontiguousarray(h(p.pin_socket_c, dtype=np.float64)[..., 0].T),
        "hook_pass": np.ascontiguousarray(h(p.hook_pass_c, dtype=np.float64)[..., 0].T),
        "pass_pts": np.ascontiguousarray(h(p.pass_pts_c, dtype=np.float64)[..., 0].T),
        "flank_aa": h(p.flank_aa_c, dtype=np.float64)[:, 0].copy(),
        "flank_ee": h(p.flank_ee_c, dtype=np.float64)[:, 0].copy(),
        "rho2": h(p.strut_rho2_c, dtype=np.float64)[:, 0].copy(),
        "lmin": h(p.strut_len_min_c, dtype=np.float64)[:, 0].copy(),
        "lmax": h(p.strut_len_max_c, dtype=np.float64)[:, 0].copy(),
        "mass": h(p.mass_kg, dtype=np.float64), "inv_mass": h(p.inv_mass_kg, dtype=np.float64),
        "inv_inertia": h(p.inv_inertia, dtype=np.float64),  # (body, axis)
    }
    scal = np.array([float(getattr(p, name)) for name in _PARAM_FIELDS])
    flags = np.array([int(bool(p.capture)), int(bool(p.post_capture)), int(bool(p.track_external)),
                      int(p.mean_motion_rad_s != 0.0), int(p.brake_force_n > 0.0)], dtype=np.int64)
    return pts, scal, flags


def _kernel(n_steps, pos, vel, rot, hm, sc, latch_rest, hook_rest, ref, ext_imp, ext_ang,
            ring, act, pflank_p, pflank_d, catch, pguide, pin_sock, hook_pass, pass_pts,
            flank_aa, flank_ee, rho2, lmin, lmax, mass, inv_mass, inv_inertia, P, flags):
    """Advance every case ``n_steps`` times, in place (see kernels.docking.step for the physics)."""
    dt = P[0]
    edge_sum, ring_r, ring_tube, ring_tz, pass_tz, face_z = P[1], P[2], P[3], P[4], P[5], P[6]
    kc, cc_, depth, mu, slope = P[7], P[8], P[9], P[10], P[11]
    ks, cs, brake_f, brake_s, kstop = P[12], P[13], P[14], P[15], P[16]
    lgap, llat, kl, cl, lclose, atten = P[17], P[18], P[19], P[20], P[21], P[22]
    retract, pin_ext, kp, cp, hgap, kh, ch, hclose = P[23], P[24], P[25], P[26], P[27], P[28], P[29], P[30]
    nn, dz0, ring_reach, port_z = P[31], P[32], P[33], P[34]
    capture, post, track, orbit, brake = flags[0] == 1, flags[1] == 1, flags[2] == 1, flags[3] == 1, flags[4] == 1
    n = pos.shape[0]
    f = np.empty((3, 3))  # force (body, xyz) in body-2 axes, then Hill
    tq = np.empty((3, 3))
    m = np.empty((2, 3, 3))  # bodies 0, 1 axes in body-2 axes
    dx = np.empty((2, 3))
    dv = np.empty((2, 3))
    wb = np.empty((3, 3))
    w01 = np.empty((2, 3))
    wd = np.empty((2, 3))
    acc = np.empty((2, 3))
    rp = np.empty((9, 3))  # ring latch and strut points in body-2 axes
    pen = np.empty(36)
    nrm = np.empty((36, 3))
    pnt = np.empty((36, 3))
    latch_len = np.empty(3)
    hook_len = np.empty(4)
    col = np.empty((3, 3))
    mc = np.empty(3)
    for c in range(n):
        for _ in range(n_steps):
            # --- relative frames (body-2 axes) ------------------------------------------------
            for b in range(2):
                for i in range(3):
                    for j in range(3):
                        m[b, i, j] = rot[c, 2, 0, i] * rot[c, b, 0, j] + rot[c, 2, 1, i] * rot[c, b, 1, j] \
                            + rot[c, 2, 2, i] * rot[c, b, 2, j]
                for i in range(3):
                    dx[b, i] = rot[c, 2, 0, i] * (pos[c, b, 0] - pos[c, 2, 0]) + rot[c, 2, 1, i] * (
                        pos[c, b, 1] - pos[c, 2, 1]) + rot[c, 2, 2, i] * (pos[c, b, 2] - pos[c, 2, 2])
                    dv[b, i] = rot[c, 2, 0, i] * (vel[c, b, 0] - vel[c, 2, 0]) + rot[c, 2, 1, i] * (
                        vel[c, b, 1] - vel[c, 2, 1]) + rot[c, 2, 2, i] * (vel[c, b, 2] - vel[c, 2, 2])
            for b in range(3):
                for j in range(3):
                    wb[b, j] = (rot[c, b, 0, j] * hm[c, b, 0] + rot[c, b, 1, j] * hm[c, b, 1]
                                + rot[c, b, 2, j] * hm[c, b, 2]) * inv_inertia[b, j]
            for b in range(2):
                for i in range(3):
                    w01[b, i] = m[b, i, 0] * wb[b, 0] + m[b, i, 1] * wb[b, 1] + m[b, i, 2] * wb[b, 2]
                    wd[b, i] = w01[b, i] - wb[2, i]
                acc[b, 0] = dv[b, 0] - (w01[b, 1] * dx[b, 2] - w01[b, 2] * dx[b, 1])
                acc[b, 1] = dv[b, 1] - (w01[b, 2] * dx[b, 0] - w01[b, 0] * dx[b, 2])
                acc[b, 2] = dv[b, 2] - (w01[b, 0] * dx[b, 1] - w01[b, 1] * dx[b, 0])
            # ring latch (0:3) and strut (3:9) points
            for k in range(9):
                for i in range(3):
                    rp[k, i] = m[1, i, 0] * ring[6 + k, 0] + m[1, i, 1] * ring[6 + k, 1] + (
                        m[1, i, 2] * ring[6 + k, 2] + dx[1, i])
            # --- broad phase ------------------------------------------------------------------
            d1 = 0.0
            for i in range(3):
                e = dx[1, i] - ref[c, 9 + i]
                d1 += e * e
            d2 = 0.0
            for i in range(3):
                for j in range(3):
                    e = m[1, i, j] - ref[c, 3 * i + j]
                    d2 += e * e
            move = math.sqrt(d1) + math.sqrt(0.5 * d2) * ref[c, 13]
            fr0 = fr1 = fr2 = tr0 = tr1 = tr2 = 0.0
            touching = False
            if ref[c, 12] - move <= BROAD_MARGIN_M:
                # --- narrow phase: 36 contacts ------------------------------------------------
                for k in range(6):  # flank capsules
                    p1x = m[1, 0, 0] * ring[k, 0] + m[1, 0, 1] * ring[k, 1] + (m[1, 0, 2] * ring[k, 2] + dx[1, 0])
                    p1y = m[1, 1, 0] * ring[k, 0] + m[1, 1, 1] * ring[k, 1] + (m[1, 1, 2] * ring[k, 2] + dx[1, 1])
                    p1z = m[1, 2, 0] * ring[k, 0] + m[1, 2, 1] * ring[k, 1] + (m[1, 2, 2] * ring[k, 2] + dx[1, 2])
                    d1x = m[1, 0, 0] * ring[27 + k, 0] + m[1, 0, 1] * ring[27 + k, 1] + m[1, 0, 2] * ring[27 + k, 2]
                    d1y = m[1, 1, 0] * ring[27 + k, 0] + m[1, 1, 1] * ring[27 + k, 1] + m[1, 1, 2] * ring[27 + k, 2]
                    d1z = m[1, 2, 0] * ring[27 + k, 0] + m[1, 2, 1] * ring[27 + k, 1] + m[1, 2, 2] * ring[27 + k, 2]
                    p2x, p2y, p2z = pflank_p[k, 0], pflank_p[k, 1], pflank_p[k, 2]
                    d2x, d2y, d2z = pflank_d[k, 0], pflank_d[k, 1], pflank_d[k, 2]
                    aa, ee = flank_aa[k], flank_ee[k]
                    rx, ry, rz = p1x - p2x, p1y - p2y, p1z - p2z
                    bb = d1x * d2x + d1y * d2y + d1z * d2z
                    cq = d1x * rx + d1y * ry + d1z * rz
                    fq = d2x * rx + d2y * ry + d2z * rz
                    denom = aa * ee - bb * bb
                    s = min(max((bb * fq - cq * ee) / max(denom, 1e-12 * aa * ee), 0.0), 1.0)
                    t = (bb * s + fq) / ee
                    if t < 0.0:
                        s = min(max(-cq / aa, 0.0), 1.0)
                    elif t > 1.0:
                        s = min(max((bb - cq) / aa, 0.0), 1.0)
                    t = min(max(t, 0.0), 1.0)
                    c2x, c2y, c2z = p2x + d2x * t, p2y + d2y * t, p2z + d2z * t
                    ex, ey, ez = (p1x + d1x * s) - c2x, (p1y + d1y * s) - c2y, (p1z + d1z * s) - c2z
                    dist = math.sqrt(ex * ex + ey * ey + ez * ez)
                    pen[k] = edge_sum - dist
                    inv = 1.0 / max(dist, TINY)
                    nrm[k, 0], nrm[k, 1], nrm[k, 2] = ex * inv, ey * inv, ez * inv
                    pnt[k, 0], pnt[k, 1], pnt[k, 2] = c2x + ex * 0.5, c2y + ey * 0.5, c2z + ez * 0.5
                for k in range(3):  # latches on the passive face, catches on the ring face
                    pen[6 + k] = face_z - rp[k, 2]
                    nrm[6 + k, 0], nrm[6 + k, 1], nrm[6 + k, 2] = 0.0, 0.0, 1.0
                    pnt[6 + k, 0], pnt[6 + k, 1], pnt[6 + k, 2] = rp[k, 0], rp[k, 1], rp[k, 2]
                    pen[9 + k] = ((rp[0, 0] - catch[k, 0]) * m[1, 0, 2] + (rp[0, 1] - catch[k, 1]) * m[1, 1, 2]
                                  + (rp[0, 2] - catch[k, 2]) * m[1, 2, 2])
                    nrm[9 + k, 0], nrm[9 + k, 1], nrm[9 + k, 2] = -m[1, 0, 2], -m[1, 1, 2], -m[1, 2, 2]
                    pnt[9 + k, 0], pnt[9 + k, 1], pnt[9 + k, 2] = catch[k, 0], catch[k, 1], catch[k, 2]
                for k in range(12):  # ring petal points on the passive guide ring
                    g = ring[15 + k]
                    gx = m[1, 0, 0] * g[0] + m[1, 0, 1] * g[1] + m[1, 0, 2] * g[2] + dx[1, 0]
                    gy = m[1, 1, 0] * g[0] + m[1, 1, 1] * g[1] + m[1, 1, 2] * g[2] + dx[1, 1]
                    gz = m[1, 2, 0] * g[0] + m[1, 2, 1] * g[1] + m[1, 2, 2] * g[2] + dx[1, 2]
                    rho = math.sqrt(gx * gx + gy * gy)
                    drho = rho - ring_r
                    dz = gz - pass_tz
                    d = math.sqrt(drho * drho + dz * dz)
                    pen[12 + k] = ring_tube - d
                    inv_d = 1.0 / max(d, TINY)
                    radial = drho * inv_d / max(rho, TINY)
                    nrm[12 + k, 0], nrm[12 + k, 1], nrm[12 + k, 2] = radial * gx, radial * gy, dz * inv_d
                    pnt[12 + k, 0], pnt[12 + k, 1], pnt[12 + k, 2] = gx, gy, gz
                for k in range(12):  # passive petal points on the ring's guide ring (in the ring frame)
                    vx, vy, vz = pguide[k, 0] - dx[1, 0], pguide[k, 1] - dx[1, 1], pguide[k, 2] - dx[1, 2]
                    qx = m[1, 0, 0] * vx + m[1, 1, 0] * vy + m[1, 2, 0] * vz
                    qy = m[1, 0, 1] * vx + m[1, 1, 1] * vy + m[1, 2, 1] * vz
                    qz = m[1, 0, 2] * vx + m[1, 1, 2] * vy + m[1, 2, 2] * vz
                    rho = math.sqrt(qx * qx + qy * qy)
                    drho = rho - ring_r
                    dz = qz - ring_tz
                    d = math.sqrt(drho * drho + dz * dz)
                    pen[24 + k] = ring_tube - d
                    inv_d = 1.0 / max(d, TINY)
                    radial = drho * inv_d / max(rho, TINY)
                    nqx, nqy, nqz = radial * qx, radial * qy, dz * inv_d
                    for i in range(3):
                        nrm[24 + k, i] = -(m[1, i, 0] * nqx + m[1, i, 1] * nqy + m[1, i, 2] * nqz)
                    pnt[24 + k, 0], pnt[24 + k, 1], pnt[24 + k, 2] = pguide[k, 0], pguide[k, 1], pguide[k, 2]
                clear = -pen[0]
                for k in range(1, 36):
                    clear = min(clear, -pen[k])
                for k in range(36):  # the penalty law on the overlapping ones
                    if pen[k] > 0.0:
                        px, py, pz = pnt[k, 0], pnt[k, 1], pnt[k, 2]
                        ux = acc[1, 0] + (wd[1, 1] * pz - wd[1, 2] * py)
                        uy = acc[1, 1] + (wd[1, 2] * px - wd[1, 0] * pz)
                        uz = acc[1, 2] + (wd[1, 0] * py - wd[1, 1] * px)
                        nx, ny, nz = nrm[k, 0], nrm[k, 1], nrm[k, 2]
                        vn = ux * nx + uy * ny + uz * nz
                        ramp = min(max(pen[k] * (1.0 / depth), 0.0), 1.0)
                        fn = max(kc * pen[k] - (cc_ * ramp) * vn, 0.0)
                        tx, ty, tz = ux - nx * vn, uy - ny * vn, uz - nz * vn
                        utm = math.sqrt(tx * tx + ty * ty + tz * tz)
                        coef = min(mu * fn, slope * utm) / max(utm, TINY)
                        fx, fy, fz = nx * fn - tx * coef, ny * fn - ty * coef, nz * fn - tz * coef
                        fr0 += fx
                        fr1 += fy
                        fr2 += fz
                        tr0 += py * fz - pz * fy
                        tr1 += pz * fx - px * fz
                        tr2 += px * fy - py * fx
                        if fn > 0.0:
                            touching = True
                reach2 = 0.0
                for k in range(pass_pts.shape[0]):
                    ex, ey, ez = pass_pts[k, 0] - dx[1, 0], pass_pts[k, 1] - dx[1, 1], pass_pts[k, 2] - dx[1, 2]
                    reach2 = max(reach2, ex * ex + ey * ey + ez * ez)
                for i in range(3):
                    for j in range(3):
                        ref[c, 3 * i + j] = m[1, i, j]
                    ref[c, 9 + i] = dx[1, i]
                ref[c, 12] = clear
                ref[c, 13] = max(math.sqrt(reach2), ring_reach)
            contact_force = math.sqrt(fr0 * fr0 + fr1 * fr1 + fr2 * fr2)
            # --- capture latches --------------------------------------------------------------
            latch_ok = True
            for k in range(3):
                lx, ly, lz = rp[k, 0] - catch[k, 0], rp[k, 1] - catch[k, 1], rp[k, 2] - catch[k, 2]
                latch_len[k] = math.sqrt(lx * lx + ly * ly + lz * lz)
                if not (lz <= lgap and lx * lx + ly * ly <= llat * llat):
                    latch_ok = False
                if capture and sc[c, S_PHASE] >= CAPTURED:
                    inv = 1.0 / max(latch_len[k], TINY)
                    hx, hy, hz = lx * inv, ly * inv, lz * inv
                    px, py, pz = rp[k, 0], rp[k, 1], rp[k, 2]
                    ux = acc[1, 0] + (wd[1, 1] * pz - wd[1, 2] * py)
                    uy = acc[1, 1] + (wd[1, 2] * px - wd[1, 0] * pz)
                    uz = acc[1, 2] + (wd[1, 0] * py - wd[1, 1] * px)
                    tension = kl * (latch_len[k] - latch_rest[c, k]) + cl * (ux * hx + uy * hy + uz * hz)
                    fx, fy, fz = -tension * hx, -tension * hy, -tension * hz
                    fr0 += fx
                    fr1 += fy
                    fr2 += fz
                    tr0 += py * fz - pz * fy
                    tr1 += pz * fx - px * fz
                    tr2 += px * fy - py * fx
            # --- attenuator struts --------------------------------------------------------------
            fs0 = fs1 = fs2 = ts0 = ts1 = ts2 = 0.0
            stroke = 0.0
            reach = dz0 + sc[c, S_EXT]
            for k in range(6):
                ax, ay, az = rp[3 + k, 0], rp[3 + k, 1], rp[3 + k, 2]
                bx = m[0, 0, 0] * act[k, 0] + m[0, 0, 1] * act[k, 1] + (m[0, 0, 2] * act[k, 2] + dx[0, 0])
                by = m[0, 1, 0] * act[k, 0] + m[0, 1, 1] * act[k, 1] + (m[0, 1, 2] * act[k, 2] + dx[0, 1])
                bz = m[0, 2, 0] * act[k, 0] + m[0, 2, 1] * act[k, 1] + (m[0, 2, 2] * act[k, 2] + dx[0, 2])
                lx, ly, lz = ax - bx, ay - by, az - bz
                length = math.sqrt(lx * lx + ly * ly + lz * lz)
                inv_len = 1.0 / length
                cx, cy, cz = by * az - bz * ay, bz * ax - bx * az, bx * ay - by * ax
                neutral = math.sqrt(rho2[k] + reach * reach)
                rate = (lx * (acc[1, 0] - acc[0, 0]) + ly * (acc[1, 1] - acc[0, 1]) + lz * (acc[1, 2] - acc[0, 2])
                        + cx * (wd[1, 0] - wd[0, 0]) + cy * (wd[1, 1] - wd[0, 1]) + cz * (wd[1, 2] - wd[0, 2])) * inv_len
                stretch = length - neutral
                over = length - max(min(length, lmax[k]), lmin[k])
                tension = ks * stretch + cs * rate + kstop * over
                if brake:
                    tension += min(max(brake_s * rate, -brake_f), brake_f)
                pull = tension * inv_len
                fs0 += lx * pull
                fs1 += ly * pull
                fs2 += lz * pull
                ts0 += cx * pull
                ts1 += cy * pull
                ts2 += cz * pull
                stroke = max(stroke, abs(stretch))
            fa0, fa1, fa2, ta0, ta1, ta2 = fs0, fs1, fs2, ts0, ts1, ts2
            fh0 = fh1 = fh2 = th0 = th1 = th2 = 0.0
            if post:
                phase = sc[c, S_PHASE]
                for k in range(6):  # pins 0:2, hooks 2:6 (act rows 6:12)
                    a = act[6 + k]
                    hx = m[0, 0, 0] * a[0] + m[0, 0, 1] * a[1] + (m[0, 0, 2] * a[2] + dx[0, 0])
                    hy = m[0, 1, 0] * a[0] + m[0, 1, 1] * a[1] + (m[0, 1, 2] * a[2] + dx[0, 1])
                    hz = m[0, 2, 0] * a[0] + m[0, 2, 1] * a[1] + (m[0, 2, 2] * a[2] + dx[0, 2])
                    ux = acc[0, 0] + (wd[0, 1] * hz - wd[0, 2] * hy)
                    uy = acc[0, 1] + (wd[0, 2] * hx - wd[0, 0] * hz)
                    uz = acc[0, 2] + (wd[0, 0] * hy - wd[0, 1] * hx)
                    if k < 2:
                        fpx = fpy = 0.0
                        if phase >= ALIGNMENT:
                            fpx = -(kp * (hx - pin_sock[k, 0]) + cp * ux)
                            fpy = -(kp * (hy - pin_sock[k, 1]) + cp * uy)
                        fh0 += fpx
                        fh1 += fpy
                        th0 += -hz * fpy
                        th1 += hz * fpx
                        th2 += hx * fpy - hy * fpx
                    else:
                        j = k - 2
                        ex, ey, ez = hx - hook_pass[j, 0], hy - hook_pass[j, 1], hz - hook_pass[j, 2]
                        hook_len[j] = math.sqrt(ex * ex + ey * ey + ez * ez)
                        if phase >= HOOKS:
                            inv = 1.0 / max(hook_len[j], TINY)
                            nx, ny, nz = ex * inv, ey * inv, ez * inv
                            ht = kh * (hook_len[j] - hook_rest[c, j]) + ch * (ux * nx + uy * ny + uz * nz)
                            fx, fy, fz = -ht * nx, -ht * ny, -ht * nz
                            fh0 += fx
                            fh1 += fy
                            fh2 += fz
                            th0 += hy * fz - hz * fy
                            th1 += hz * fx - hx * fz
                            th2 += hx * fy - hy * fx
                fa0 += fh0
                fa1 += fh1
                fa2 += fh2
                ta0 += th0
                ta1 += th1
                ta2 += th2
            # totals in body-2 axes, torques about each body's centre of mass
            f[1, 0], f[1, 1], f[1, 2] = fr0 - fs0, fr1 - fs1, fr2 - fs2
            p1x, p1y, p1z = dx[1, 0], dx[1, 1], dx[1, 2]
            tq[1, 0] = (tr0 - ts0) - (p1y * f[1, 2] - p1z * f[1, 1])
            tq[1, 1] = (tr1 - ts1) - (p1z * f[1, 0] - p1x * f[1, 2])
            tq[1, 2] = (tr2 - ts2) - (p1x * f[1, 1] - p1y * f[1, 0])
            f[2, 0], f[2, 1], f[2, 2] = -(fr0 + fh0), -(fr1 + fh1), -(fr2 + fh2)
            tq[2, 0], tq[2, 1], tq[2, 2] = -(tr0 + th0), -(tr1 + th1), -(tr2 + th2)
            f[0, 0], f[0, 1], f[0, 2] = fa0, fa1, fa2
            p0x, p0y, p0z = dx[0, 0], dx[0, 1], dx[0, 2]
            tq[0, 0] = ta0 - (p0y * fa2 - p0z * fa1)
            tq[0, 1] = ta1 - (p0z * fa0 - p0x * fa2)
            tq[0, 2] = ta2 - (p0x * fa1 - p0y * fa0)
            # the active port: gap and closing speed
            portx, porty, portz = m[0, 0, 2] * port_z + p0x, m[0, 1, 2] * port_z + p0y, m[0, 2, 2] * port_z + p0z
            gap = portz - face_z
            closing = -(acc[0, 2] + (wd[0, 0] * porty - wd[0, 1] * portx))
            # --- to Hill axes, external terms, kick and drift -----------------------------------
            for b in range(3):
                fx, fy, fz = f[b, 0], f[b, 1], f[b, 2]
                gx, gy, gz = tq[b, 0], tq[b, 1], tq[b, 2]
                for i in range(3):
                    f[b, i] = rot[c, 2, i, 0] * fx + rot[c, 2, i, 1] * fy + rot[c, 2, i, 2] * fz
                    tq[b, i] = rot[c, 2, i, 0] * gx + rot[c, 2, i, 1] * gy + rot[c, 2, i, 2] * gz
            if orbit:
                for b in range(3):
                    cw0 = ((3.0 * nn * nn) * pos[c, b, 0] + (2.0 * nn) * vel[c, b, 1]) * mass[b]
                    cw1 = ((-2.0 * nn) * vel[c, b, 0]) * mass[b]
                    cw2 = ((-nn * nn) * pos[c, b, 2]) * mass[b]
                    f[b, 0] += cw0
                    f[b, 1] += cw1
                    f[b, 2] += cw2
                    if track:
                        ext_imp[c, 0] += dt * cw0
                        ext_imp[c, 1] += dt * cw1
                        ext_imp[c, 2] += dt * cw2
                        x0, x1, x2 = pos[c, b, 0], pos[c, b, 1], pos[c, b, 2]
                        ext_ang[c, 0] += dt * (x1 * cw2 - x2 * cw1)
                        ext_ang[c, 1] += dt * (x2 * cw0 - x0 * cw2)
                        ext_ang[c, 2] += dt * (x0 * cw1 - x1 * cw0)
            for b in range(3):
                for i in range(3):
                    vel[c, b, i] = vel[c, b, i] + (dt * f[b, i]) * inv_mass[b]
                    hm[c, b, i] = hm[c, b, i] + dt * tq[b, i]
                    pos[c, b, i] = pos[c, b, i] + dt * vel[c, b, i]
                # free rotation: Strang splitting x, y, z, y, x, each in Cayley form
                for i in range(3):
                    mc[i] = rot[c, b, 0, i] * hm[c, b, 0] + rot[c, b, 1, i] * hm[c, b, 1] + rot[c, b, 2, i] * hm[c, b, 2]
                    for r in range(3):
                        col[i, r] = rot[c, b, r, i]
                for q in range(5):
                    i = (0, 1, 2, 1, 0)[q]
                    frac = 1.0 if q == 2 else 0.5
                    j, k = (i + 1) % 3, (i + 2) % 3
                    tt = mc[i] * ((0.5 * frac * dt) * inv_inertia[b, i])
                    inv2 = 2.0 / (1.0 + tt * tt)
                    co = inv2 - 1.0
                    sn = tt * inv2
                    for r in range(3):
                        cj, ck = col[j, r], col[k, r]
                        col[j, r] = cj * co + ck * sn
                        col[k, r] = ck * co - cj * sn
                    mj, mk = mc[j], mc[k]
                    mc[j] = co * mj + sn * mk
                    mc[k] = co * mk - sn * mj
                for i in range(3):
                    for r in range(3):
                        rot[c, b, r, i] = col[i, r]
            # --- phases -----------------------------------------------------------------------
            t = sc[c, S_T]
            phase = sc[c, S_PHASE]
            if touching and math.isnan(sc[c, S_TCON]):
                sc[c, S_TCON] = t
                sc[c, S_SPEED] = closing
            if phase == APPROACH and touching:
                phase = CONTACT
            if capture:
                if latch_ok and phase == CONTACT:
                    phase = CAPTURED
                    sc[c, S_TCAP] = t
                    for k in range(3):
                        latch_rest[c, k] = latch_len[k]
            if capture and post:
                if phase == CAPTURED and t - sc[c, S_TCAP] >= atten:
                    phase = RETRACTION
                    sc[c, S_TRET] = t
                if phase >= RETRACTION:
                    sc[c, S_EXT] = max(sc[c, S_EXT] - retract * dt, 0.0)
                    for k in range(3):
                        latch_rest[c, k] = max(latch_rest[c, k] - lclose * dt, 0.0)
                if phase == RETRACTION and sc[c, S_EXT] <= pin_ext:
                    phase = ALIGNMENT
                    sc[c, S_TALI] = t
                if phase == ALIGNMENT and sc[c, S_EXT] <= 0.0 and gap <= hgap:
                    phase = HOOKS
                    sc[c, S_THOOK] = t
                    for k in range(4):
                        hook_rest[c, k] = hook_len[k]
                if phase >= HOOKS:
                    top = -1.0
                    for k in range(4):
                        hook_rest[c, k] = max(hook_rest[c, k] - hclose * dt, 0.0)
                        top = max(top, hook_rest[c, k])
                    if phase == HOOKS and top <= 0.0:
                        phase = HARD_DOCK
                        sc[c, S_THARD] = t
            sc[c, S_PHASE] = phase
            sc[c, S_T] = t + dt
            sc[c, S_PSTROKE] = max(sc[c, S_PSTROKE], stroke)
            sc[c, S_PFORCE] = max(sc[c, S_PFORCE], contact_force)
            sc[c, S_FORCE] = contact_force
            sc[c, S_STROKE] = stroke


_compiled = None
# fastmath "contract" only: multiply-adds fused into FMA instructions; no reassociation, NaN and
# infinity kept (the broad phase and the phase logic rely on them)
FASTMATH = {"contract"}


def _compiled_kernel():
    global _compiled
    if _compiled is None:
        _compiled = numba.njit(nogil=True, cache=True, error_model="numpy", fastmath=FASTMATH)(_kernel)
    return _compiled


def run(params: dk.DockingParams, state: dk.DockingState, n_steps: int) -> dk.DockingState:
    """:func:`kernels.docking.run` on the fast path: host NumPy state in, new host state out."""
    if not supports(params):
        raise ValueError("kernels.docking_fused covers NumPy parameters with thrusters off and needs numba; "
                         "use kernels.docking.run for this case")
    s = state
    n = s.pos_m.shape[0]

    def own(a, shape):
        return np.array(np.broadcast_to(np.asarray(a, dtype=np.float64), shape), dtype=np.float64, order="C")

    pos, vel = own(s.pos_m, (n, 3, 3)), own(s.vel_m_s, (n, 3, 3))
    rot, hm = own(s.rot, (n, 3, 3, 3)), own(s.angmom_kg_m2_s, (n, 3, 3))
    sc = np.stack([np.asarray(getattr(s, k), dtype=np.float64) for k in _SCALAR_FIELDS], axis=1)
    latch_rest, hook_rest = own(s.latch_rest_m, (n, 3)), own(s.hook_rest_m, (n, 4))
    if s.contact_ref is None:  # every step runs the narrow phase: a reference that never skips
        ref = np.zeros((n, 14))
        ref[:, 12] = -1.0
    else:
        ref = own(s.contact_ref, (n, 14))
    ext_imp, ext_ang = own(s.ext_impulse_n_s, (n, 3)), own(s.ext_ang_impulse_n_m_s, (n, 3))
    pts, scal, flags = _tables(params)
    _compiled_kernel()(int(n_steps), pos, vel, rot, hm, sc, latch_rest, hook_rest, ref, ext_imp, ext_ang,
                       pts["ring"], pts["act"], pts["pflank_p"], pts["pflank_d"], pts["catch"], pts["pguide"],
                       pts["pin_sock"], pts["hook_pass"], pts["pass_pts"], pts["flank_aa"], pts["flank_ee"],
                       pts["rho2"], pts["lmin"], pts["lmax"], pts["mass"], pts["inv_mass"], pts["inv_inertia"],
                       scal, flags)
    fields = {k: sc[:, i] for i, k in enumerate(_SCALAR_FIELDS)}
    return dk.DockingState(pos_m=pos, vel_m_s=vel, rot=rot, angmom_kg_m2_s=hm, latch_rest_m=latch_rest,
                           hook_rest_m=hook_rest, ext_impulse_n_s=ext_imp, ext_ang_impulse_n_m_s=ext_ang,
                           contact_ref=ref, **fields)
