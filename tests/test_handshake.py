"""The hatch opening and the handshake animated in story time (experience/simulation/handshake.py,
data/mission/handshake.toml, the arrangements of data/mission/crew_figures.toml): the pose is a
function of time (keys in order, the weight monotone, hatch_closed before 19:17, the hands meeting at
19:19), and in every pose the story reaches, sampled densely, no figure pokes through a cabin
wall or a swinging hatch or into another figure."""

from __future__ import annotations

import datetime as dt
import functools
import math

import numpy as np
import pytest

from experience.mission import data
from experience.scene.modelgen import crew
from experience.scene.modelgen.params import load as load_dimensions
from experience.simulation import handshake

SHOWN = ("stafford", "slayton", "leonov", "kubasov")  # Brand is behind the closed Apollo-end hatch
WALL_TOL_M = 0.02         # as tests/test_crew.py: a figure may touch a wall by 2 cm (rigid segments)
HATCH_CLEAR_M = 0.0       # no vertex inside a hatch disc
HANDSHAKE = ("stafford/hand_r", "leonov/hand_r")  # the one contact the story has


def _utc(offset_s: float) -> dt.datetime:
    return data.event("handshake").utc + dt.timedelta(seconds=offset_s)


@functools.cache
def _meshes():
    ppl = crew.people()
    return ppl, {pid: crew.segment_meshes(ppl[pid]) for pid in crew.ORDER}


@functools.cache
def _hulls():
    """Per person and segment: the convex hull of the segment's vertices in its joint frame
    (outward face planes), a conservative stand-in for the lofted solid."""
    from scipy.spatial import ConvexHull

    _ppl, meshes = _meshes()
    out = {}
    for pid in SHOWN:
        for joint, parts in meshes[pid].items():
            p = np.concatenate([m.positions for ms in parts.values() for m in ms])
            hull = ConvexHull(p)
            centre = p.mean(axis=0)
            out[(pid, joint)] = (hull.equations, centre, float(np.linalg.norm(p - centre, axis=1).max()))
    return out


def _points(pose: dict, pid: str, step: int = 1) -> dict[str, np.ndarray]:
    ppl, meshes = _meshes()
    root, rots = pose[pid]
    world = crew.forward_kinematics(ppl[pid].height, rots, root)
    out = {}
    for joint, parts in meshes[pid].items():
        p = np.concatenate([m.positions for ms in parts.values() for m in ms])[::step]
        m = world[joint]
        out[joint] = p @ m[:3, :3].T + m[:3, 3]
    return out, world


@functools.cache
def _cabin():
    """(rmax(y), DM hatch, OM hatch): the free radius at each station of the stack frame (the DM
    cabin, the tunnels, the orbital-module sphere, from the drawn models as tests/test_crew.py
    does), and each DM-Soyuz hatch as (hinge point, radius, half thickness, +1 or -1: the way it
    swings along y)."""
    from tests.test_crew import _cabins
    from tests.test_models import MODELS, Model

    rmax = _cabins(Model(MODELS / "stack.gltf"))
    d = load_dimensions()
    r = d.dim("docking_module", "hatch_diameter_m") / 2
    y_dm = d.dim("docking_module", "soyuz_bulkhead_station_m")
    y_om = d.fact("docking_module", "length_m") + d.dim("soyuz", "apas_base_depth_m")
    return rmax, (np.array([-r, y_dm, 0.0]), r, 0.025, -1.0), (np.array([-r, y_om, 0.0]), r, 0.025, 1.0)


def _inside_hatch(p: np.ndarray, hatch, angle_deg: float) -> np.ndarray:
    """Depth (m, > 0 inside) of points in a hatch disc swung ``angle_deg`` about its hinge."""
    hinge, r, half, sign = hatch
    th = math.radians(angle_deg) * (-sign)   # local = Rz(th) . (p - hinge): the closed disc in y = 0
    c, s = math.cos(th), math.sin(th)
    d = p - hinge
    lx = c * d[:, 0] - s * d[:, 1]
    ly = s * d[:, 0] + c * d[:, 1]
    radial = r - np.hypot(lx - r, d[:, 2])
    return np.minimum(radial, half - np.abs(ly))


def _check(offset_s: float) -> list[str]:
    """Everything wrong with the pose at ``offset_s`` from the handshake event (empty: fine)."""
    cp = handshake.pose_at_offset(offset_s)
    return _check_pose(crew.blend(cp.a, cp.b, cp.weight), cp.hatch_deg, f"{offset_s:+.1f} s")


def _check_pose(pose: dict, hatch_deg: float, label: str) -> list[str]:
    offset_s = label
    rmax, hdm, hom = _cabin()
    problems = []
    pts = {}
    for pid in SHOWN:
        segs, world = _points(pose, pid)
        pts[pid] = (segs, world)
        p = np.concatenate(list(segs.values()))
        out = np.hypot(p[:, 0], p[:, 2]) - rmax(p[:, 1])
        if out.max() > WALL_TOL_M:
            problems.append(f"{offset_s}: {pid} pokes {out.max():.3f} m through a wall at {p[out.argmax()].round(2)}")
        for name, hatch in (("the DM hatch", hdm), ("the orbital module's hatch", hom)):
            depth = _inside_hatch(p, hatch, hatch_deg)
            if depth.max() > HATCH_CLEAR_M:
                problems.append(f"{offset_s}: {pid} is {depth.max():.3f} m inside {name} "
                                f"({hatch_deg:.0f} deg) at {p[depth.argmax()].round(2)}")
    hulls = _hulls()
    for i, a in enumerate(SHOWN):
        for b in SHOWN[i + 1:]:
            for ja, pa in pts[a][0].items():
                pa = pa[::3]
                for jb, (eq, centre, radius) in ((j, hulls[(b, j)]) for j in pts[b][0]):
                    if {f"{a}/{ja}", f"{b}/{jb}"} == set(HANDSHAKE):
                        continue
                    m = pts[b][1][jb]
                    local = (pa - m[:3, 3]) @ m[:3, :3]
                    near = np.linalg.norm(local - centre, axis=1) < radius
                    if not near.any():
                        continue
                    q = local[near]
                    inside = (q @ eq[:, :3].T + eq[:, 3] < 0.0).all(axis=1)
                    if inside.any():
                        problems.append(f"{offset_s}: {a}/{ja} is inside {b}/{jb}")
    return problems


def _samples() -> np.ndarray:
    t0, t1 = handshake.span_s()
    return np.arange(t0 - 5.0, t1 + 10.0 + 1e-9, 1.0)


# ------------------------------------------------------------------------- pose of story time
def test_keys_come_from_the_data_in_order():
    ks = handshake.keys()
    assert ks[0][1] == "hatch_closed" and ks[0][2] == 0.0
    assert (0.0, "handshake", handshake.OPEN_DEG) in ks
    # after the handshake (this project's keys): Leonov draws Stafford into the orbital module
    after = [name for t, name, _h in ks if t > 0.0]
    assert after[0] == "handshake" and after[-1] == "in_om" and "pulled_in" in after
    assert all(h == handshake.OPEN_DEG for t, _n, h in ks if t >= 0.0)
    assert [k[0] for k in ks] == sorted(k[0] for k in ks)
    for _t, name, _h in ks:
        assert name in crew.ARRANGEMENTS
    t = data.load_toml(handshake.DATA_FILE)
    assert t["estimate"] is True and t["basis"].strip()  # the seconds are this project's: say so


def test_before_1917_the_hatch_is_closed_and_after_1919_the_hands_hold_then_both_are_in_the_soyuz():
    for s in (-3600.0, -600.0, -121.0):
        cp = handshake.crew_pose(_utc(s))
        assert (cp.a, cp.b, cp.hatch_deg) == ("hatch_closed", "hatch_closed", 0.0)
        assert cp.arrangement == "hatch_closed" and not cp.moving
    assert _utc(-120).strftime("%H:%M:%S") == "19:17:00"
    for s in (0.0, 3.0, 5.0, 8.0):
        cp = handshake.crew_pose(_utc(s))
        assert (cp.arrangement, cp.hatch_deg) == ("handshake", 95.0) and not cp.moving
    for s in (handshake.settled_s(), 600.0, 3600.0):     # then in the orbital module until the undocking
        cp = handshake.crew_pose(_utc(s))
        assert (cp.arrangement, cp.weight, cp.hatch_deg) == ("in_om", 1.0, 95.0) and not cp.moving
    cp = handshake.crew_pose(data.event("undocking_1").utc)
    assert cp.arrangement == "hatch_closed" and cp.hatch_deg == 0.0


def test_the_motion_is_monotone():
    ts = np.arange(-130.0, handshake.settled_s() + 10.0, 0.25)
    poses = [handshake.pose_at_offset(t) for t in ts]
    progress = [cp.key + cp.weight for cp in poses]
    assert all(b >= a - 1e-12 for a, b in zip(progress, progress[1:])), "the motion goes back"
    hatch = [cp.hatch_deg for cp in poses]
    assert all(b >= a - 1e-12 for a, b in zip(hatch, hatch[1:])), "the hatch closes again"
    assert hatch[0] == 0.0 and hatch[-1] == 95.0
    # the distance between the two right hands shrinks from the reach to the handshake
    ppl = crew.people()
    gaps = []
    for t in np.arange(-45.0, 0.01, 1.0):
        cp = handshake.pose_at_offset(t)
        pose = crew.blend(cp.a, cp.b, cp.weight)
        g = []
        for pid in ("stafford", "leonov"):
            root, rots = pose[pid]
            h = crew.forward_kinematics(ppl[pid].height, rots, root)["hand_r"]
            g.append(h[:3, :3] @ crew.grip_point(ppl[pid].height, "r") + h[:3, 3])
        gaps.append(float(np.linalg.norm(g[0] - g[1])))
    assert all(b <= a + 0.005 for a, b in zip(gaps, gaps[1:])), f"the hands move apart: {np.round(gaps, 3)}"
    assert gaps[0] > 0.5 and gaps[-1] < 0.04, (gaps[0], gaps[-1])


def test_at_1919_the_hands_meet_in_the_hatchway():
    ppl = crew.people()
    for s in (0.0, 5.0):
        cp = handshake.crew_pose(_utc(s))
        pose = crew.blend(cp.a, cp.b, cp.weight)
        g = []
        for pid in ("stafford", "leonov"):
            root, rots = pose[pid]
            h = crew.forward_kinematics(ppl[pid].height, rots, root)["hand_r"]
            g.append(h[:3, :3] @ crew.grip_point(ppl[pid].height, "r") + h[:3, 3])
        assert np.linalg.norm(g[0] - g[1]) < 0.04
        assert 2.75 <= g[0][1] <= 3.15 and math.hypot(g[0][0], g[0][2]) < 0.35


def test_the_snapshot_carries_the_pose():
    from experience.simulation import snapshot as snap_mod

    assert "crew" in {f.name for f in snap_mod.Snapshot.__dataclass_fields__.values()}


# ------------------------------------------------------------------------- no intersections
def test_every_key_pose_is_clear_of_walls_hatches_and_the_others():
    """Each key of the motion as the story holds it (with the hatches where that key has them, and
    the waiting poses also with the hatches open): nothing pokes through."""
    problems = []
    for _t, name, hatch in handshake.keys():
        pose = crew.blend(name, name, 0.0)
        for deg in {hatch, handshake.OPEN_DEG if name == "at_hatch" else hatch}:
            problems += _check_pose(pose, deg, f"{name} (hatch {deg:g} deg)")
    assert not problems, "\n".join(problems[:12])


def test_no_figure_meets_a_wall_a_hatch_or_another_figure_in_any_pose_the_story_reaches():
    problems = []
    for t in _samples():
        problems += _check(float(t))
    assert not problems, "\n".join(problems[:12]) + (f"\n... {len(problems)} in all" if len(problems) > 12 else "")


def test_the_intersection_check_finds_a_figure_in_a_wall_and_in_another():
    # the check itself: a figure pushed into the wall, and two figures on top of each other
    rmax, hdm, _hom = _cabin()
    p = np.array([[0.0, 1.5, 0.0], [0.9, 1.5, 0.0]])
    assert (np.hypot(p[:, 0], p[:, 2]) - rmax(p[:, 1]) > WALL_TOL_M).tolist() == [False, True]
    # a point just in front of the closed DM hatch is inside it once it swings
    q = np.array([[0.0, 2.60, 0.0]])
    assert _inside_hatch(q, hdm, 0.0).max() < 0 < _inside_hatch(q, hdm, 19.0).max()
    pose = crew.blend("handshake", "handshake", 1.0)
    moved = dict(pose)
    moved["slayton"] = pose["stafford"]
    segs_a, _ = _points(moved, "stafford")
    eq, centre, radius = _hulls()[("slayton", "chest")]
    m = crew.forward_kinematics(crew.people()["slayton"].height, moved["slayton"][1], moved["slayton"][0])["chest"]
    local = (segs_a["chest"].mean(axis=0, keepdims=True) - m[:3, 3]) @ m[:3, :3]
    assert (local @ eq[:, :3].T + eq[:, 3] < 0).all()


def test_the_scene_only_applies_the_pose():
    pytest.importorskip("panda3d.core")
    from experience.scene.vehicles import Vehicles

    class Snap:
        def __init__(self, offset_s):
            self.utc = _utc(offset_s)
            self.crew = handshake.crew_pose(self.utc)
            self.vehicles = {"apollo": type("V", (), {"phase": "docked"})()}

    assert Vehicles.crew_arrangement(Snap(-300), True) == "hatch_closed"
    for s in (-100, -65, -30, -5):
        assert Vehicles.crew_arrangement(Snap(s), True) == "animated", s
    assert Vehicles.crew_arrangement(Snap(0), True) == "handshake"
    assert Vehicles.crew_arrangement(Snap(5), False) is None
