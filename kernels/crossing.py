"""Moving in zero g through the cabins: the walkable volume, collisions, push, glide, brake, grab.

N visitors (or N test points) step together, one pure function of (volume, motion, state,
controls, dt), like the other kernels. Positions are the visitor's eye in metres in the stack
frame (+Y the stack axis from Apollo towards Soyuz), xyz last: ``pos_m`` (N, 3).

The walkable volume (:class:`Volume`) is a union of K *cells*, each ``y0 <= y <= y1`` and
``x^2 + z^2 <= q0 + q1 y + q2 y^2`` (frusta and spheres of revolution about the axis; the cabin
walls moved inwards by the head radius, built by experience/mission/cabins.py from the same
numbers as the drawn models), minus B axis-aligned boxes (furniture, and the hatches where they
swing open while open, grown by the head radius) and minus C oriented boxes (``obb_*``: the crews'
figures, one per drawn segment, grown by the head radius; built per pose by the caller, none in
the static volume).
H hatches close the cells' ends that lie in their planes: a closed hatch pulls such an end back
by ``gate_cap_m``. A step may only end in a cell the visitor was in, or in a neighbour of one
that is not behind a closed hatch (``adjacency`` (K, K) and ``pair_gate`` (K, K, H)): so no step,
however fast, passes a closed hatch, and no position outside the volume is ever returned (a move
that cannot be resolved keeps the old position and stops).

Motion (:class:`Motion`, Python floats): free flight integrates the push ``accel_m_s2`` with a
gentle exponential damping (``damping_per_s``, more while braking), speeds capped at
``max_speed_m_s``; holding a grip (``holding`` 1) ties the body to the grip: the body moves so
that the hand (``hand_m``, relative to the eye) stays on the anchor, at most ``max_pull_m_s``;
letting go keeps the velocity (pull, release, glide). Hitting a wall removes the velocity into
the wall and keeps the sliding part.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from kernels._xp import namespace

EPS_M = 1e-9


class Volume(NamedTuple):
    y0_m: object          # (K,)
    y1_m: object          # (K,)
    q0: object            # (K,) m^2
    q1: object            # (K,) m
    q2: object            # (K,)
    lo_gate: object       # (K, H) 1 where the cell's lower end lies in hatch h's plane
    hi_gate: object       # (K, H)
    gate_cap_m: object    # (K,) how far a closed hatch pulls an end back
    room: object          # (K, R) one-hot: the room each cell belongs to
    adjacency: object     # (K, K) 1 where two cells touch (0 on the diagonal)
    pair_gate: object     # (K, K, H) 1 where hatch h separates two touching cells
    box_lo_m: object      # (B, 3) furniture, grown by the head radius
    box_hi_m: object      # (B, 3)
    box_gate: object      # (B, H) 1 where a box is there only while hatch h is open (the hatch swung open)
    grip_a_m: object      # (G, 3) grip segments (handrails, hatch rims)
    grip_b_m: object      # (G, 3)
    obb_c_m: object = None     # (C, 3) oriented boxes' centres (the crews' segments); None or C = 0: none
    obb_rot: object = None     # (C, 3, 3) their axes as columns (local = (p - c) . rot)
    obb_half_m: object = None  # (C, 3) half sizes along those axes, grown by the head radius


class Motion(NamedTuple):
    damping_per_s: float = 0.35      # gentle: a glide halves in about 2 s
    brake_per_s: float = 2.5         # extra damping while braking
    max_speed_m_s: float = 0.8       # comfort cap for free flight
    max_pull_m_s: float = 1.0        # cap while pulling on a grip
    hold_per_s: float = 8.0          # how fast the body follows a held grip
    max_substep_m: float = 0.03      # no sub-step moves further than this (< head radius / 4)


class State(NamedTuple):
    pos_m: object         # (N, 3)
    vel_m_s: object       # (N, 3)


class Controls(NamedTuple):
    accel_m_s2: object    # (N, 3) the push the visitor asks for
    brake: object         # (N,) 0..1
    hatch_open: object    # (N, H) 1 open, 0 closed
    holding: object       # (N,) 1 while a hand holds a grip
    anchor_m: object      # (N, 3) the held point (stack frame)
    hand_m: object        # (N, 3) where the holding hand is, relative to the eye


# ------------------------------------------------------------------------------ membership
class _Frame(NamedTuple):
    """What a step computes once for its hatches: each cell's y range (N, K) and which cells
    may be entered from which (N, K, K)."""

    xp: object
    y0: object
    y1: object
    open_adj: object
    box_on: object        # (N, B) 1 where a box is there for these hatches


def _frame(vol: Volume, hatch_open, xp=None, neighbours: bool = True) -> _Frame:
    xp = xp or namespace(hatch_open)
    closed = 1.0 - hatch_open
    y0 = vol.y0_m[None, :] + vol.gate_cap_m[None, :] * xp.matmul(closed, xp.permute_dims(vol.lo_gate, (1, 0)))
    y1 = vol.y1_m[None, :] - vol.gate_cap_m[None, :] * xp.matmul(closed, xp.permute_dims(vol.hi_gate, (1, 0)))
    open_adj = None
    if neighbours:
        blocked = xp.sum(vol.pair_gate[None, :, :, :] * closed[:, None, None, :], axis=-1)  # (N, K, K)
        open_adj = vol.adjacency[None, :, :] * xp.clip(1.0 - blocked, 0.0, 1.0)
    box_on = 1.0 - xp.matmul(closed, xp.permute_dims(vol.box_gate, (1, 0)))   # (N, B)
    return _Frame(xp, y0, y1, open_adj, box_on > 0.5)


def _r2(vol: Volume, y):
    """The cells' squared radius at heights y (N, K)."""
    return vol.q0[None, :] + vol.q1[None, :] * y + vol.q2[None, :] * y * y


def _in_cells(vol: Volume, f: _Frame, pos_m):
    y = pos_m[:, 1:2]
    rho2 = pos_m[:, 0:1] ** 2 + pos_m[:, 2:3] ** 2
    return (y >= f.y0) & (y <= f.y1) & (rho2 <= _r2(vol, y))


def _has_obb(vol: Volume) -> bool:
    return vol.obb_c_m is not None and vol.obb_c_m.shape[0] > 0


def _obb_local(xp, vol: Volume, pos_m):
    """(N, C, 3): each point in each oriented box's frame."""
    d = pos_m[:, None, :] - vol.obb_c_m[None, :, :]                        # (N, C, 3)
    return xp.sum(d[:, :, :, None] * vol.obb_rot[None, :, :, :], axis=2)    # d . rot


def _in_boxes(vol: Volume, f: _Frame, pos_m):
    xp = f.xp
    p = pos_m[:, None, :]
    inside_b = xp.all((p > vol.box_lo_m[None, :, :]) & (p < vol.box_hi_m[None, :, :]), axis=-1) & f.box_on
    out = xp.any(inside_b, axis=-1)
    if _has_obb(vol):
        loc = _obb_local(xp, vol, pos_m)
        out = out | xp.any(xp.all(xp.abs(loc) < vol.obb_half_m[None, :, :], axis=-1), axis=-1)
    return out


def in_cells(vol: Volume, pos_m, hatch_open):
    """(N, K) bool: which cells hold each point (boxes not considered)."""
    return _in_cells(vol, _frame(vol, hatch_open, neighbours=False), pos_m)


def in_boxes(vol: Volume, pos_m, hatch_open):
    """(N,) bool: the point is inside some (grown) furniture box, or an open hatch's swing."""
    return _in_boxes(vol, _frame(vol, hatch_open, namespace(pos_m, hatch_open), neighbours=False), pos_m)


def inside(vol: Volume, pos_m, hatch_open):
    """(N,) bool: the point is in the walkable volume (a cell, no box)."""
    f = _frame(vol, hatch_open, namespace(pos_m, hatch_open), neighbours=False)
    return f.xp.any(_in_cells(vol, f, pos_m), axis=-1) & ~_in_boxes(vol, f, pos_m)


def room_of(vol: Volume, pos_m, hatch_open):
    """(N,) int: the room of the first cell that holds each point; -1 outside."""
    xp = namespace(pos_m, hatch_open)
    inc = xp.astype(in_cells(vol, pos_m, hatch_open), xp.float64)
    per_room = xp.matmul(inc, vol.room)
    k = xp.argmax(per_room, axis=-1)
    return xp.where(xp.max(per_room, axis=-1) > 0.0, k, xp.full_like(k, -1))


def _reachable(f: _Frame, cells_now):
    """(N, K) bool: cells a step may end in: those holding the point and their neighbours not
    behind a closed hatch."""
    xp = f.xp
    now = xp.astype(cells_now, xp.float64)
    nb = xp.sum(now[:, :, None] * f.open_adj, axis=1)  # (N, K)
    return cells_now | (nb > 0.0)


def _clamp_into_cells(vol: Volume, f: _Frame, pos_m, allowed):
    """The point moved into the nearest allowed cell (y clipped into its range, then the radius
    clipped at that y): (N, 3) points."""
    xp = f.xp
    lo, hi = f.y0 + EPS_M, f.y1 - EPS_M
    y = pos_m[:, 1:2]
    yc = xp.minimum(xp.maximum(y, lo), hi)                                  # (N, K)
    rmax = xp.sqrt(xp.clip(_r2(vol, yc), 0.0, None)) * (1.0 - 1e-9) - EPS_M
    usable = allowed & (hi >= lo) & (rmax > 0.0)
    x, z = pos_m[:, 0:1], pos_m[:, 2:3]
    rho = xp.sqrt(x * x + z * z)
    scale = xp.where(rho > rmax, rmax / xp.maximum(rho, 1e-300), xp.ones_like(yc))
    cx, cz = x * scale, z * scale
    d2 = (cx - x) ** 2 + (yc - y) ** 2 + (cz - z) ** 2
    d2 = xp.where(usable, d2, xp.full_like(d2, 1e30))
    k = xp.argmin(d2, axis=-1)
    one = xp.astype(xp.arange(d2.shape[-1])[None, :] == k[:, None], xp.float64)
    return xp.stack((xp.sum(one * cx, axis=-1), xp.sum(one * yc, axis=-1), xp.sum(one * cz, axis=-1)), axis=-1)


def _nearest_face(xp, dist):
    """For distances to a box's six faces (..., 6: the three low faces, then the three high
    ones), the depth to the nearest face and the move (..., 3) out through it, in the box's axes."""
    j = xp.argmin(dist, axis=-1)
    one = xp.astype(xp.arange(6)[None, None, :] == j[:, :, None], xp.float64)
    d = xp.sum(one * dist, axis=-1)                              # (N, B) depth
    sign = xp.concat((-xp.ones_like(dist[..., 0:3]), xp.ones_like(dist[..., 3:6])), axis=-1)
    move6 = one * sign * (d[:, :, None] + 1e-6)
    return d, move6[..., 0:3] + move6[..., 3:6]


def _push_out_of_boxes(vol: Volume, f: _Frame, pos_m):
    """Move each point out of the (grown) box it is deepest in, through that box's nearest face."""
    xp = f.xp
    p = pos_m[:, None, :]                                        # (N, 1, 3)
    lo, hi = vol.box_lo_m[None, :, :], vol.box_hi_m[None, :, :]  # (1, B, 3)
    ins = xp.all((p > lo) & (p < hi), axis=-1) & f.box_on        # (N, B)
    d, move = _nearest_face(xp, xp.concat((p - lo, hi - p), axis=-1))   # (N, B), (N, B, 3)
    if _has_obb(vol):
        # the oriented boxes: through the nearest face in the box's frame, back to the stack frame
        loc = _obb_local(xp, vol, pos_m)                                         # (N, C, 3)
        half = vol.obb_half_m[None, :, :]
        ins_o = xp.all(xp.abs(loc) < half, axis=-1)                              # (N, C)
        d_o, m_loc = _nearest_face(xp, xp.concat((loc + half, half - loc), axis=-1))
        m_world = xp.sum(vol.obb_rot[None, :, :, :] * m_loc[:, :, None, :], axis=-1)   # rot . m
        ins = xp.concat((ins, ins_o), axis=-1)
        d = xp.concat((d, d_o), axis=-1)
        move = xp.concat((move, m_world), axis=1)
    deep = xp.where(ins, d, xp.full_like(d, -1.0))
    b = xp.argmax(deep, axis=-1)
    pick = xp.astype(xp.arange(d.shape[-1])[None, :] == b[:, None], xp.float64) * xp.astype(ins, xp.float64)
    return pos_m + xp.sum(pick[:, :, None] * move, axis=1)


def _resolve(vol: Volume, f: _Frame, old_m, new_m, cells_old, lazy: bool, lazy_rounds: bool | None = None):
    """``lazy``: return at once where every move is free; ``lazy_rounds`` (default ``lazy``):
    stop after the first round where it resolved every point."""
    xp = f.xp
    lazy_rounds = lazy if lazy_rounds is None else lazy_rounds
    allowed = _reachable(f, cells_old)
    cells_new = _in_cells(vol, f, new_m)
    good = xp.any(cells_new & allowed, axis=-1) & ~_in_boxes(vol, f, new_m)
    if lazy and bool(xp.all(good)):   # host arrays only: nothing to resolve this step
        return new_m, ~good, cells_new
    p = new_m
    for _round in range(2):
        p = _push_out_of_boxes(vol, f, _clamp_into_cells(vol, f, p, allowed))
        cells_p = _in_cells(vol, f, p)
        fixed = xp.any(cells_p & allowed, axis=-1) & ~_in_boxes(vol, f, p)
        if lazy_rounds and bool(xp.all(fixed | good)):
            break
    out = xp.where(good[:, None], new_m, xp.where(fixed[:, None], p, old_m))
    cells = xp.where(good[:, None], cells_new, xp.where(fixed[:, None], cells_p, cells_old))
    return out, ~good, cells


def resolve(vol: Volume, old_m, new_m, hatch_open, frame: _Frame | None = None, lazy: bool = False):
    """Where a move from ``old_m`` (inside) towards ``new_m`` ends: ``new_m`` when it is inside a
    reachable cell and no box, else the nearest such point found by clamping and pushing out
    (two rounds), else ``old_m``. Returns (pos (N, 3), hit (N,) bool). ``frame``: :func:`frame`
    of ``vol`` and ``hatch_open``, when the caller keeps it; ``lazy``: return at once where every
    move is free (reads one flag back to the host: NumPy arrays; the same results)."""
    f = frame if frame is not None else _frame(vol, hatch_open, namespace(old_m, new_m, hatch_open))
    out, hit, _cells = _resolve(vol, f, old_m, new_m, _in_cells(vol, f, old_m), lazy, lazy_rounds=False)
    return out, hit


def frame(vol: Volume, hatch_open) -> _Frame:
    """What :func:`step` and :func:`resolve` compute from the volume's cells and boxes and the
    hatches before any point enters (each cell's y range, which cells may be entered from which,
    which boxes are there): a caller that steps many frames with the same hatches may compute it
    once and pass it as ``frame=`` (it does not depend on the oriented boxes)."""
    return _frame(vol, hatch_open, namespace(hatch_open))


def step(vol: Volume, motion: Motion, state: State, controls: Controls, dt_s: float, lazy: bool = False,
         frame: _Frame | None = None) -> State:
    """Advance every visitor by ``dt_s`` seconds (sub-stepped so that no sub-step moves further
    than ``motion.max_substep_m``). ``lazy``: skip the collision resolution in a sub-step where
    no point needs it, and the hold and the slide where no point holds or hits; that reads flags
    back to the host, so use it with NumPy arrays (one visitor per frame), not on a GPU.
    ``frame``: :func:`frame` of ``vol`` and ``controls.hatch_open``, when the caller keeps it."""
    xp = namespace(state.pos_m, state.vel_m_s, controls.hatch_open)
    dt_s = float(dt_s)
    if dt_s <= 0.0:
        return state
    n = max(1, math.ceil(max(motion.max_speed_m_s, motion.max_pull_m_s) * dt_s / motion.max_substep_m))
    h = dt_s / n
    f = frame if frame is not None else _frame(vol, controls.hatch_open, xp)
    p, v = state.pos_m, state.vel_m_s
    cells = _in_cells(vol, f, p)
    hold = controls.holding[:, None]
    damp = xp.exp(-(motion.damping_per_s + motion.brake_per_s * controls.brake[:, None]) * h)
    target = controls.anchor_m - controls.hand_m
    pull = 1.0 - math.exp(-motion.hold_per_s * h)
    free_only = lazy and not bool(xp.any(hold != 0.0))   # no hand holds: v is v_free (the blend's other term is 0)
    for _i in range(n):
        v_free = _cap(xp, (v + controls.accel_m_s2 * h) * damp, motion.max_speed_m_s)
        if free_only:
            v = v_free
        else:
            v_hold = _cap(xp, (target - p) * (pull / h), motion.max_pull_m_s)
            v = hold * v_hold + (1.0 - hold) * v_free
        wanted = p + v * h
        q, hit, cells = _resolve(vol, f, p, wanted, cells, lazy)
        if lazy and not bool(xp.any(hit)):   # no point hit anything: the velocity stays
            p = q
            continue
        # slide: drop the part of the velocity that the wall took
        off = q - wanted
        dn = xp.sqrt(xp.sum(off * off, axis=-1, keepdims=True))
        nrm = off / xp.maximum(dn, 1e-12)
        vn = xp.sum(v * nrm, axis=-1, keepdims=True)
        v_slide = v - xp.minimum(vn, xp.zeros_like(vn)) * nrm
        stuck = xp.all(q == p, axis=-1, keepdims=True) & xp.any(wanted != p, axis=-1, keepdims=True)
        v = xp.where(hit[:, None], xp.where(stuck, xp.zeros_like(v), v_slide), v)
        p = q
    return State(p, v)


def _cap(xp, v, vmax: float):
    s = xp.sqrt(xp.sum(v * v, axis=-1, keepdims=True))
    return v * xp.minimum(xp.ones_like(s), vmax / xp.maximum(s, 1e-12))


# ------------------------------------------------------------------------------ grips
def nearest_grip(vol: Volume, point_m):
    """The nearest point on any grip to each point: (points (N, 3), distances (N,), grip index (N,))."""
    xp = namespace(point_m)
    a, b = vol.grip_a_m[None, :, :], vol.grip_b_m[None, :, :]
    ab = b - a
    t = xp.sum((point_m[:, None, :] - a) * ab, axis=-1) / xp.maximum(xp.sum(ab * ab, axis=-1), 1e-12)
    t = xp.clip(t, 0.0, 1.0)
    c = a + t[:, :, None] * ab                                # (N, G, 3)
    d = xp.sqrt(xp.sum((c - point_m[:, None, :]) ** 2, axis=-1))
    k = xp.argmin(d, axis=-1)
    one = xp.astype(xp.arange(d.shape[-1])[None, :] == k[:, None], xp.float64)
    pt = xp.sum(one[:, :, None] * c, axis=1)
    return pt, xp.sum(one * d, axis=-1), k
