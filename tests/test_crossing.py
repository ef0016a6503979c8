"""The crossing (kernels/crossing.py, experience/mission/cabins.py, experience/simulation/crossing.py):
the walkable volume is closed and matches the drawn cabins, zero-g movement (push, glide, brake,
grab and pull, caps, walls, hatches), the guided crossing through the airlock and
``astp tour --headless --json``.

Kernel tests take the ``xp`` fixture (NumPy, array_api_strict, CuPy where a CUDA device exists).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from experience.mission import cabins, data
from experience.simulation import crossing as cs
from kernels import crossing as kc

ROOT = Path(__file__).resolve().parents[1]
B = cabins.BODY_RADIUS_M


def _host(a):
    if hasattr(a, "get"):
        return np.asarray(a.get())
    try:
        return np.asarray(a)
    except (TypeError, ValueError, RuntimeError):
        return np.asarray(np.from_dlpack(a))


def _vol(xp):
    v = cs.volume()
    return kc.Volume(*(xp.asarray(np.asarray(a, dtype=np.float64)) for a in v))


def _sample_inside(n, rng, hatch_open):
    """n points of the walkable volume (rejection sampling in the stack's bounding box)."""
    v = cs.volume()
    out = []
    while sum(len(o) for o in out) < n:
        p = np.column_stack([rng.uniform(-1.8, 1.8, 4000), rng.uniform(-3.0, 5.5, 4000), rng.uniform(-1.8, 1.8, 4000)])
        h = np.broadcast_to(hatch_open, (len(p), 2))
        out.append(p[kc.inside(v, p, h)])
    return np.concatenate(out)[:n]


def _planes():
    return [(pl.name, pl.y) for pl in cs.geometry().hatch_planes]


# ------------------------------------------------------------------------------ closure
def test_closed_random_walk_never_leaves_and_never_passes_a_closed_hatch(xp):
    """Points anywhere inside, pushed hard in random directions for 3 s with random hatch
    states, stay inside, and stay on their side of every closed hatch plane."""
    rng = np.random.default_rng(7)
    n = 120
    hatch = rng.integers(0, 2, size=(n, 2)).astype(float)
    hatch[: n // 3] = 0.0
    pos = np.concatenate([_sample_inside(1, rng, hatch[i]) for i in range(n)])
    side0 = {i: pos[:, 1] > y for i, (_name, y) in enumerate(_planes())}
    vol = _vol(xp)
    motion = kc.Motion(max_speed_m_s=2.0)   # faster than any visitor, to try to tunnel through
    state = kc.State(xp.asarray(pos), xp.asarray(np.zeros((n, 3))))
    h = xp.asarray(hatch)
    zeros = xp.asarray(np.zeros((n, 3)))
    for frame in range(30):
        acc = rng.normal(size=(n, 3)) * 6.0
        ctl = kc.Controls(xp.asarray(acc), xp.asarray(np.zeros(n)), h, xp.asarray(np.zeros(n)), zeros, zeros)
        state = kc.step(vol, motion, state, ctl, 1.0 / 15.0)
        p = _host(state.pos_m)
        assert _host(kc.inside(vol, state.pos_m, h)).all(), f"frame {frame}: a point left the volume"
        for i, (name, y) in enumerate(_planes()):
            closed = hatch[:, cs.HATCHES.index(name)] == 0.0
            assert ((p[:, 1] > y) == side0[i])[closed].all(), f"frame {frame}: a point passed the closed {name} hatch"
        assert (np.linalg.norm(_host(state.vel_m_s), axis=-1) <= 2.0 + 1e-9).all()


def test_an_open_hatch_lets_you_through_and_a_closed_one_stops_you(xp):
    vol = _vol(xp)
    start = np.array([[0.05, 2.2, 0.0], [0.05, 2.2, 0.0]])     # in the DM cabin
    hatch = xp.asarray(np.array([[1.0, 1.0], [1.0, 0.0]]))       # Soyuz hatch open / closed
    state = kc.State(xp.asarray(start), xp.asarray(np.zeros((2, 3))))
    push = xp.asarray(np.array([[0.0, 1.0, 0.0]] * 2))
    zeros = xp.asarray(np.zeros((2, 3)))
    ctl = kc.Controls(push, xp.asarray(np.zeros(2)), hatch, xp.asarray(np.zeros(2)), zeros, zeros)
    for _ in range(25):
        state = kc.step(vol, kc.Motion(), state, ctl, 0.1)
    room = _host(kc.room_of(vol, state.pos_m, hatch))
    assert list(room) == [cabins.ROOMS.index("soyuz_om"), cabins.ROOMS.index("dm")]
    y_hatch = cs.geometry().hatch_planes[1].y
    assert _host(state.pos_m)[1, 1] < y_hatch - B


def test_walkable_volume_keeps_the_head_clear_of_every_drawn_wall_and_piece_of_furniture():
    """One source: every walkable point is at least the head radius from every vertex the
    models draw for the cabins' walls, tunnels, couches, console, lockers, panels and furniture
    (handrails, which the hand holds, and the thin dials excepted), with all hatches open."""
    from tests.test_models import MODELS, Model

    m = Model(MODELS / "stack.gltf")
    doc = m.doc
    skip = {"handrail_blue_grey", "cabin_floodlight", "gauge_dial_white", "window_glass", "black_paint",
            "docking_mechanism_metal", "hatch_light_grey"}
    pts = []
    for name in m.world:
        if not any(k in name for k in ("interior", "tunnel", "couch", "main_display_panel")):
            continue
        w = m.world[name]
        for prim in m.primitives(name):
            if doc["materials"][prim["material"]]["name"] in skip:
                continue
            p = m.accessor(prim["attributes"]["POSITION"]).astype(float)
            pts.append(p @ w[:3, :3].T + w[:3, 3])
    walls = np.concatenate(pts)
    rng = np.random.default_rng(3)
    eye = _sample_inside(3000, rng, np.ones(2))
    # near the walls is where it matters: add the walkable points pushed out to the boundary
    v = cs.volume()
    far = eye + rng.normal(size=eye.shape) * 0.6
    edge, _hit = kc.resolve(v, eye, far, np.ones((len(eye), 2)))
    probe = np.concatenate([eye, edge])
    worst = math.inf
    for chunk in np.array_split(probe, 20):
        d = np.sqrt(((chunk[:, None, :] - walls[None, :, :]) ** 2).sum(-1)).min(axis=1)
        worst = min(worst, float(d.min()))
    assert worst >= B - 0.01, f"a walkable point comes within {worst:.3f} m of a drawn wall (head radius {B})"


def test_an_oriented_box_holds_every_push(xp):
    """The crews' solids are oriented boxes: a box turned 45 deg in the DM is a solid for every
    point pushed at it (NumPy, array-api-strict), and a point inside one is pushed out of it."""
    v = cs.volume()
    c = math.sqrt(0.5)
    rot = np.array([[[c, 0.0, c], [0.0, 1.0, 0.0], [-c, 0.0, c]]])
    obb = v._replace(obb_c_m=np.array([[0.0, 1.7, 0.0]]), obb_rot=rot, obb_half_m=np.array([[0.12, 0.2, 0.05]]) + 0.1)
    vx = kc.Volume(*(xp.asarray(np.asarray(a, dtype=np.float64)) for a in obb))
    rng = np.random.default_rng(5)
    n = 64
    pos = np.column_stack([rng.uniform(-0.25, 0.25, n), rng.uniform(1.2, 1.3, n), rng.uniform(-0.25, 0.25, n)])
    h = xp.asarray(np.zeros((n, 2)))
    state = kc.State(xp.asarray(pos), xp.asarray(np.zeros((n, 3))))
    push = xp.asarray(np.tile([0.0, 4.0, 0.0], (n, 1)))
    zeros = xp.asarray(np.zeros((n, 3)))
    for _ in range(60):
        state = kc.step(vx, kc.Motion(), state, kc.Controls(push, xp.asarray(np.zeros(n)), h, xp.asarray(np.zeros(n)), zeros, zeros), 1 / 30)
        p = _host(state.pos_m)
        local = (p - [0.0, 1.7, 0.0]) @ rot[0]
        assert not np.any(np.all(np.abs(local) < obb.obb_half_m[0] - 1e-9, axis=1))
    assert _host(state.pos_m)[:, 1].max() > 2.0          # those beside the box slid past it
    # a point inside (the box moved onto it) is pushed out through the nearest face
    inside = xp.asarray(np.array([[0.02, 1.7, 0.0]]))
    out, hit = kc.resolve(vx, inside, inside, xp.asarray(np.zeros((1, 2))))
    local = (_host(out)[0] - [0.0, 1.7, 0.0]) @ rot[0]
    assert bool(_host(hit)[0]) and np.any(np.abs(local) >= obb.obb_half_m[0] - 1e-9)


def test_every_room_is_reachable_and_the_guide_path_is_walkable():
    """Each waypoint is walkable with the hatches as the guide has them when it floats there (the
    Apollo hatch open up to the watch point, where it is closed; the Soyuz hatch open after it)
    and clear of the crews where the story has them then (waiting; after the handshake, Leonov
    and Stafford in the orbital module)."""
    from experience.simulation import handshake

    v = cs.volume()
    geo = cs.geometry()
    watch = [tuple(p) for _r, p in geo.guide_path_m].index(tuple(cs.Guide.WATCH_M))
    before, after = _crossing_at(-600.0, geo.start_m), _crossing_at(handshake.settled_s() + 1.0, geo.start_m)
    for k, (room, p) in enumerate(geo.guide_path_m):
        pa = np.array([p])
        hatches = np.array([[1.0, 0.0]]) if k < watch else np.array([[0.0, 1.0]])
        assert kc.inside(v, pa, hatches)[0], f"guide point {p} is not walkable"
        assert cabins.ROOMS[int(kc.room_of(v, pa, hatches)[0])] == room
        assert (before if k <= watch else after).in_crew(p) is None, f"guide point {p} is in a crew member"
    assert [r for r in dict.fromkeys(room for room, _p in geo.guide_path_m)] == list(cabins.ROOMS)


# ------------------------------------------------------------------------------ movement
def test_push_glide_brake_and_speed_cap():
    c = cs.Crossing(start_m=(0.0, 1.2, 0.0), crew=False)   # the cabin alone: no crew solids in the way
    c.airlock.close_hatch("apollo_dm")
    for _ in range(90):  # push along the DM for 3 s
        c.step(cs.Input(accel_m_s2=(0.0, 3.0, 0.0)), 1 / 30)
    v_push = np.linalg.norm(c.vel_m_s)
    assert v_push <= c.motion.max_speed_m_s + 1e-9
    c2 = cs.Crossing(start_m=(0.0, 0.9, 0.0), crew=False)   # the cabin alone: no crew solids in the way
    c2.vel_m_s = np.array([[0.0, 0.3, 0.0]])
    speeds = []
    for _ in range(30):   # glide 1 s: momentum carries, gently damped
        c2.step(cs.Input(), 1 / 30)
        speeds.append(float(np.linalg.norm(c2.vel_m_s)))
    assert 0.3 * math.exp(-c2.motion.damping_per_s) * 0.99 < speeds[-1] < 0.3
    assert all(b <= a + 1e-12 for a, b in zip(speeds, speeds[1:]))
    for _ in range(30):   # brake 1 s
        c2.step(cs.Input(brake=1.0), 1 / 30)
    assert np.linalg.norm(c2.vel_m_s) < 0.3 * math.exp(-(c2.motion.damping_per_s + c2.motion.brake_per_s) * 0.95) * 1.2


def test_walls_stop_and_slide():
    c = cs.Crossing(start_m=(0.0, 1.6, 0.0), crew=False)   # the cabin alone: no crew solids in the way
    for _ in range(120):   # push at the wall and along it
        c.step(cs.Input(accel_m_s2=(3.0, 1.0, 0.0)), 1 / 30)
    p = c.eye_m
    assert math.hypot(p[0], p[2]) <= c.geo.cells[5].radius(p[1]) + 1e-6
    assert c.vel_m_s[0, 0] <= 1e-9 or math.hypot(p[0], p[2]) < 0.5  # no velocity into the wall
    assert c.room == "dm"


def test_grab_a_handrail_pull_release_and_glide():
    c = cs.Crossing(start_m=(0.2, 1.2, 0.2), crew=False)   # the cabin alone: no crew solids in the way
    assert c.grab()
    assert c.holding.startswith("dm_handrail")
    anchor = c._anchor.copy()
    hand0 = anchor - c.eye_m
    # pull: the hand moves back towards the body (and past it): the body moves along the rail
    for k in range(20):
        c.step(cs.Input(hand_m=tuple(hand0 - np.array([0.0, 0.03 * (k + 1), 0.0]))), 1 / 30)
    assert c.vel_m_s[0, 1] > 0.2
    v = c.vel_m_s.copy()
    c.release()
    c.step(cs.Input(), 1 / 30)
    assert np.linalg.norm(c.vel_m_s - v) < 0.05   # momentum kept on letting go
    # nothing within reach of the hand (the grip nearest it is out of the arm's reach): no grab
    cm = cs.Crossing()
    assert not cm.grab((0.0, -2.0, 1.3)) and cm.holding is None


def test_hatch_does_not_close_on_you_and_actions_are_offered():
    c = cs.Crossing(start_m=(0.0, 0.6, 0.0))   # in the Apollo hatchway
    out = c.act("close_hatch", "apollo_dm")
    assert not out.ok and out.message
    assert c.airlock.hatches()["apollo_dm"] == "open"
    c2 = cs.Crossing(start_m=(0.0, 1.1, 0.0))
    verbs = {(a.verb, a.target) for a in c2.actions()}
    assert ("close_hatch", "apollo_dm") in verbs
    assert c2.act("close_hatch", "apollo_dm").ok
    out = c2.act("open_hatch", "dm_soyuz")     # against 260 vs 520 mmHg: refused, says why
    assert not out.ok and "mmHg" in out.message


# ------------------------------------------------------------------------------ guided crossing
def test_guided_crossing_runs_the_airlock_and_ends_in_the_soyuz():
    out = cs.guided_tour()
    assert out["final_room"] == "soyuz_om" and out["completed"]
    assert out["rooms_visited"] == ["cm", "dm", "soyuz_om"]
    actions = [e["action"] for e in out["events"]]
    assert actions.index("close_hatch apollo_dm") < actions.index("open_hatch dm_soyuz")
    first_om = next(s for s in out["steps"] if s["room"] == "soyuz_om")
    assert first_om["hatches"]["dm_soyuz"] == "open" and first_om["hatches"]["apollo_dm"] == "closed"
    p = first_om["pressures_mmhg"]
    assert abs(p["dm"] - p["soyuz_om"]) < 5.0 and p["cm"] < 300.0
    for s in out["steps"]:
        assert set(s) == {"t_s", "room", "pos_m", "hatches", "pressures_mmhg", "story_utc", "crew"}
        assert set(s["hatches"]) == {"apollo_dm", "dm_soyuz"} and set(s["pressures_mmhg"]) == {"cm", "dm", "soyuz_om"}


def test_the_guided_crossing_brings_the_story_to_the_handshake_in_front_of_the_visitor():
    """The crossing's story clock (the airlock's, from 18:29) reaches the hatch opening while the
    visitor waits in the DM; the hatch opens when the crews' motion opens it, and at 19:19 the
    handshake is in the hatchway ahead of the visitor, who floats on into the Soyuz after it."""
    from experience.simulation import handshake

    out = cs.guided_tour()
    assert out["completed"] and out["handshake_seen_from"] == "dm"
    steps = out["steps"]
    utc = [dt.datetime.fromisoformat(s["story_utc"].replace("Z", "+00:00")) for s in steps]
    assert utc[0].strftime("%H:%M") == "18:29" and utc == sorted(utc)
    event = handshake.event_utc()
    opened = next(i for i, s in enumerate(steps) if s["hatches"]["dm_soyuz"] == "open")
    assert (utc[opened] - event).total_seconds() >= cs.Guide.hatch_opens_s() - 1e-6
    # every step: the crews as the story's pose table has them at the step's story time
    for s, u in zip(steps, utc):
        assert s["crew"] == cs.crew_arrangement(handshake.crew_pose(u))
    at = [i for i, u in enumerate(utc) if 0.0 <= (u - event).total_seconds() <= 2.0]
    assert at, "no step at the handshake"
    for i in at:
        s = steps[i]
        assert s["crew"] == "handshake" and s["room"] == "dm" and s["hatches"]["dm_soyuz"] == "open"
        eye = np.array(s["pos_m"])
        assert np.allclose(eye, cs.Guide.WATCH_M, atol=0.07)
        # the hatchway (the two hands at the handshake point) is ahead, within 2 m
        hs = np.array(data.load_toml("mission/crew_figures.toml")["arrangement"]["handshake"]["handshake_point"])
        assert 1.0 < np.linalg.norm(hs - eye) < 2.0 and hs[1] > eye[1]
    assert steps[-1]["room"] == "soyuz_om" and (utc[-1] - event).total_seconds() >= cs.Guide.WATCH_AFTER_S


def test_the_visitor_waits_clear_of_every_figure():
    """The guide's watch point keeps 0.25 m from every drawn figure in every pose of the hatch
    opening and the handshake (the eye never pokes into Stafford or Slayton)."""
    from experience.scene.modelgen import crew
    from experience.simulation import handshake

    ppl = crew.people()
    eye = np.asarray(cs.Guide.WATCH_M)
    meshes = {pid: crew.segment_meshes(ppl[pid]) for pid in ("stafford", "slayton", "leonov", "kubasov")}
    t0, t1 = handshake.span_s()
    for t in np.arange(t0 - 5.0, t1 + 5.0, 2.5):
        cp = handshake.pose_at_offset(float(t))
        pose = crew.blend(cp.a, cp.b, cp.weight)
        for pid, segs in meshes.items():
            root, rots = pose[pid]
            world = crew.forward_kinematics(ppl[pid].height, rots, root)
            for joint, parts in segs.items():
                p = np.concatenate([m.positions for ms in parts.values() for m in ms])
                m = world[joint]
                d = np.linalg.norm(p @ m[:3, :3].T + m[:3, 3] - eye, axis=1).min()
                assert d > 0.25, f"{t:+.1f} s: {pid}/{joint} {d:.3f} m from the watch point"


def test_astp_tour_headless_json():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-m", "experience.frontends.cli", "tour", "--headless", "--json"],
                       capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["final_room"] == "soyuz_om" and out["rooms_visited"] == ["cm", "dm", "soyuz_om"]
    assert out["steps"] and {"t_s", "room", "pos_m", "hatches", "pressures_mmhg"} <= set(out["steps"][0])


def test_visitor_texts_are_marked_for_translation():
    import ast

    src = (ROOT / "experience/simulation/crossing.py").read_text(encoding="utf-8")
    tree = ast.parse(src)
    calls = {n.args[0].value for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") in ("_", "N_")
             and n.args and isinstance(n.args[0], ast.Constant)}
    from experience import i18n

    i18n.set_language("ru")
    try:
        for msg in calls:
            assert i18n._(msg) != msg, f"no Russian for {msg!r}"
    finally:
        i18n.set_language("en")


def test_lazy_resolution_gives_the_same_steps():
    """``lazy`` (host arrays, one visitor) skips work only where nothing needs resolving, holding
    or sliding; a ``frame`` the caller keeps gives the same steps."""
    rng = np.random.default_rng(11)
    n = 60
    pos = _sample_inside(n, rng, np.ones(2))
    v = cs.volume()
    h = np.ones((n, 2))
    zeros = np.zeros((n, 3))
    a = b = c = kc.State(pos, zeros)
    f = kc.frame(v, h)
    for k in range(20):
        held = np.zeros(n) if k < 10 else (np.arange(n) % 2).astype(float)   # later, half the points hold a grip
        anchor = pos + 0.05
        ctl = kc.Controls(rng.normal(size=(n, 3)) * 4.0, np.zeros(n), h, held, anchor, zeros)
        a = kc.step(v, kc.Motion(), a, ctl, 1 / 30)
        b = kc.step(v, kc.Motion(), b, ctl, 1 / 30, lazy=True)
        c = kc.step(v, kc.Motion(), c, ctl, 1 / 30, lazy=True, frame=f)   # the frame kept by the caller
        assert np.allclose(a.pos_m, b.pos_m, atol=1e-12) and np.allclose(a.vel_m_s, b.vel_m_s, atol=1e-12)
        assert np.array_equal(b.pos_m, c.pos_m) and np.array_equal(b.vel_m_s, c.vel_m_s)
    # resolve: lazy returns at once only where every move is free, the same points and hits
    for k in range(20):
        far = pos + rng.normal(size=(n, 3)) * (0.02 if k % 2 else 0.5)
        for rows in (slice(None), slice(0, 1), slice(1, 2)):
            a_out, a_hit = kc.resolve(v, pos[rows], far[rows], h[rows])
            b_out, b_hit = kc.resolve(v, pos[rows], far[rows], h[rows], frame=kc.frame(v, h[rows]), lazy=True)
            assert np.array_equal(a_out, b_out) and np.array_equal(a_hit, b_hit)
    # one visitor gliding free, as the Crossing steps it: the lazy step is the eager one exactly
    one = kc.State(pos[:1], zeros[:1])
    e = l = one
    for k in range(60):
        ctl = kc.Controls(rng.normal(size=(1, 3)) * 4.0, np.zeros(1), h[:1], np.zeros(1), zeros[:1], zeros[:1])
        e = kc.step(v, kc.Motion(), e, ctl, 1 / 60)
        l = kc.step(v, kc.Motion(), l, ctl, 1 / 60, lazy=True, frame=kc.frame(v, h[:1]))
        assert np.array_equal(e.pos_m, l.pos_m) and np.array_equal(e.vel_m_s, l.vel_m_s)


def test_bench_crossing_quick_json():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-m", "bench", "crossing", "--quick", "--json"], capture_output=True,
                       text=True, cwd=ROOT, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout)
    for key in ("name", "ours_per_s", "baseline", "baseline_per_s", "ratio", "rooms", "targets"):
        assert key in out
    assert out["name"] == "crossing" and set(out["rooms"]) == set(cabins.ROOMS)
    for room, d in out["rooms"].items():
        assert d["room_seen"] == room and d["physics_room_at_end"] == room
        assert d["draw_calls"] > 0 and d["triangles"] > 0 and d["physics_ms"] > 0
    # physics while the crews move, in the DM and the orbital module, judged in physics_ok too
    assert set(out["crews_moving"]) == {"dm", "soyuz_om"}
    for room, d in out["crews_moving"].items():
        assert d["physics_ms_median"] > 0 and d["physics_ms"] > 0 and d["physics_room_at_end"] == room
        assert out["rooms"][room]["physics_ms_crews_moving_median"] == d["physics_ms_median"]
    t = out["targets"]
    assert t["physics_ok"] == (t["physics_at_rest_ok"] and t["physics_crews_moving_ok"])


def test_an_open_hatch_is_in_the_way_and_does_not_open_onto_you():
    """The open hatch, swung into its module, is a solid; it does not open onto a visitor."""
    geo = cs.geometry()
    box = next(bx for bx, h in geo.hatch_boxes if bx.name == "dm/hatch_apollo_open")
    spot = (box.center[0], box.center[1], box.center[2])
    v = cs.volume()
    beside = np.array([[-0.3, spot[1], spot[2]]])    # where the hatch swings
    assert kc.inside(v, beside, np.array([[0.0, 0.0]]))[0]          # closed: free space
    assert not kc.inside(v, beside, np.array([[1.0, 0.0]]))[0]      # open: the hatch is there
    c = cs.Crossing(start_m=(0.0, box.center[1], 0.0))
    c.airlock.close_hatch("apollo_dm")
    c.pos_m = np.array([[-0.3, box.center[1], 0.0]])
    out = c.act("open_hatch", "apollo_dm")
    assert not out.ok and out.message
    # floating sideways into the open hatch stops at it
    c2 = cs.Crossing(start_m=(0.0, box.center[1], 0.0))
    for _ in range(60):
        c2.step(cs.Input(accel_m_s2=(-2.0, 0.0, 0.0)), 1 / 30)
    assert c2.eye_m[0] >= box.center[0] + box.size[0] / 2 + B - 1e-6


def test_astp_tour_without_a_display_or_with_a_bad_step_is_one_line():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["PYTHONPATH"] = str(ROOT)
    for args, needle in ((["tour"], "--headless"), (["tour", "--headless", "--dt", "5"], "--dt")):
        r = subprocess.run([sys.executable, "-m", "experience.frontends.cli", *args], capture_output=True, text=True,
                           cwd=ROOT, env=env, timeout=120)
        assert r.returncode == 2 and needle in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def _poses_the_story_reaches():
    """(label, a, b, weight) of the crews' motion: the keys and, between them, every second."""
    from experience.simulation import handshake

    t0, t1 = handshake.span_s()
    out = []
    for t in np.arange(t0 - 2.0, t1 + 2.0 + 1e-9, 1.0):
        cp = handshake.pose_at_offset(float(t))
        out.append((f"{t:+.0f} s", cp.a, cp.b, cp.weight))
    return out


def test_the_crew_solids_hold_their_drawn_figures_in_every_pose_the_story_reaches():
    """The crossing's crew solids are the drawn figures' own segments (their bounds in
    models/crew.gltf) carried by the pose table's joint transforms: every vertex the model
    generator draws for Stafford, Slayton, Leonov and Kubasov lies inside its segment's oriented
    box, in every pose of the hatch opening, the handshake and after it."""
    from experience.mission import figures
    from experience.scene.modelgen import crew

    ppl = crew.people()
    meshes = {pid: crew.segment_meshes(ppl[pid]) for pid in figures.SHOWN}
    for label, a, b, w in _poses_the_story_reaches()[::3]:
        names, centre, axes, half = figures.segment_solids(a, b, w)
        index = {n: k for k, n in enumerate(names)}
        pose = crew.blend(a, b, w)
        for pid, segs in meshes.items():
            root, rots = pose[pid]
            world = crew.forward_kinematics(ppl[pid].height, rots, root)
            for joint, parts in segs.items():
                m = world[joint]
                p = np.concatenate([x.positions for ms in parts.values() for x in ms]) @ m[:3, :3].T + m[:3, 3]
                k = index[f"{pid}/{joint}"]
                local = (p - centre[k]) @ axes[k]
                poke = float((np.abs(local) - half[k]).max())
                assert poke < 1e-5, f"{label}: {pid}/{joint} reaches {poke:.4f} m out of its solid"
    # every drawn segment has its solid (none left out)
    assert {n.split("/")[0] for n in names} == set(figures.SHOWN)
    assert len(names) == sum(len(segs) for segs in meshes.values())


def _person_extent(c, pid):
    """(lo, hi) in the stack frame of a person's solids' corners."""
    names, centre, axes, half = c.crew_solids()
    signs = np.array([[i, j, k] for i in (-1, 1) for j in (-1, 1) for k in (-1, 1)], dtype=float)
    pts = np.concatenate([centre[i] + (signs * half[i]) @ axes[i].T for i, n in enumerate(names) if n.startswith(pid + "/")])
    return pts.min(axis=0), pts.max(axis=0)


def _crossing_at(offset_s, start_m):
    from experience.simulation import airlock as sa
    from experience.simulation import handshake

    lock = sa.Airlock.at(handshake.event_utc() + dt.timedelta(seconds=offset_s))
    return cs.Crossing(airlock=lock, start_m=start_m)


def test_the_crew_solids_move_with_the_story():
    """Before the opening Leonov waits in the sphere; at 19:19 he and Stafford reach into the
    hatchway; after the handshake both are in the orbital module and the tunnel is free."""
    from experience.simulation import handshake

    c = _crossing_at(-600.0, cs.Guide.WATCH_M)
    assert _person_extent(c, "leonov")[0][1] > 3.6                  # waiting in the sphere
    c = _crossing_at(0.0, cs.Guide.WATCH_M)
    assert _person_extent(c, "leonov")[0][1] < 3.2 and _person_extent(c, "stafford")[1][1] > 2.9
    c = _crossing_at(handshake.settled_s() + 1.0, cs.Guide.WATCH_M)
    assert c.crew_pose().arrangement == "in_om" and not c.crew_pose().moving
    for pid in ("stafford", "leonov"):
        assert _person_extent(c, pid)[0][1] > 3.6, pid
    # the tunnel's axis, from the DM's Soyuz end to the sphere's entrance, is free for the visitor
    for y in np.arange(2.2, cs.geometry().guide_path_m[-1][1][1] + 1e-9, 0.05):
        assert c.in_crew((0.0, float(y), 0.0)) is None, y


def test_the_guided_visitor_never_enters_a_crew_member():
    """Every frame of the guided crossing (30 frames per second), the eye keeps CREW_MARGIN_M
    from every crew member's solid where the story has them that frame (Stafford and Slayton
    waiting in the DM while the airlock runs, the hatch opening, the handshake, Leonov drawing
    Stafford into the Soyuz after it); the visitor still ends in the orbital module, after the
    crews have moved."""
    from experience.simulation import handshake

    c = cs.Crossing()
    guide = cs.Guide(c)
    dt_s = 1.0 / 30.0
    frames = 0
    while c.t_s < 400.0 and not guide.done:
        c.step(guide.next_input(c, dt_s), dt_s)
        who = c.in_crew()
        assert who is None, (f"frame {frames}: the eye {c.eye_m.round(3)} is inside {who} at "
                             f"{c.story_utc:%H:%M:%S} ({cs.crew_arrangement(c.crew_pose())})")
        frames += 1
    assert guide.done and c.room == "soyuz_om"
    assert (c.story_utc - handshake.event_utc()).total_seconds() >= handshake.settled_s()


def test_a_free_glide_into_a_crew_member_is_held():
    """Steering by hand (free mode): a glide straight at Leonov's middle, waiting in the orbital
    module before the opening and floating there after the handshake, and at Stafford waiting in
    the DM, is held at the solid: never inside, stopped close to it."""
    from experience.simulation import handshake

    for label, offset_s, start, pid in (("Leonov before the opening", -600.0, (0.0, 3.75, 0.0), "leonov"),
                                        ("Leonov after the handshake", handshake.settled_s() + 5.0, (0.0, 3.75, 0.0), "leonov"),
                                        ("Stafford in the DM", -600.0, (-0.22, 0.85, 0.10), "stafford")):
        c = _crossing_at(offset_s, start)
        lo, hi = _person_extent(c, pid)
        names, centre, _axes, _half = c.crew_solids()
        target = centre[names.index(f"{pid}/chest")]
        assert c.in_crew() is None, label
        for _ in range(150):   # 5 s pushing hard towards his chest
            d = target - c.eye_m
            c.step(cs.Input(accel_m_s2=tuple(d / np.linalg.norm(d) * 3.0)), 1 / 30)
            assert c.in_crew() is None, f"{label}: the eye {c.eye_m.round(3)} is inside {c.in_crew()}"
        # held at the solid: just outside it (within a few cm of the margin), not through it
        assert c.in_crew(margin_m=cs.CREW_MARGIN_M + 0.05) == pid, f"{label}: stopped short at {c.eye_m.round(3)}"


def test_the_vr_start_places_are_clear_of_the_crews():
    """``astp vr --place``: each start place keeps the eye out of the crews where the story has
    them at that place's time (the head is held by them; hands and keepsakes reach through)."""
    from experience.frontends.vr import PLACES, crossing_at

    for place in PLACES:
        c = crossing_at(place)
        assert c.in_crew() is None, (place, c.eye_m, c.in_crew())
        held, hit = c.hold_inside(c.eye_m, c.eye_m + np.array([0.0, 0.3, 0.0]))   # a hand may move freely
        assert held.shape == (3,)


def test_the_crews_do_not_float_inside_the_orbital_module_furniture():
    """Leonov's and Kubasov's drawn segments (their solids' centres) stay out of the divan, the
    cupboard, the table and the TV camera in every arrangement the story reaches in the sphere."""
    from experience.simulation import airlock as sa, handshake

    boxes = [b for b in cabins.crossing().boxes if b.name.startswith("om_")]
    assert {b.name for b in boxes} >= {"om_sofa_seat", "om_sofa_back", "om_cabinet", "om_table", "om_tv_camera"}
    for off_s in (-600.0, 600.0):
        lock = sa.Airlock.at(handshake.event_utc() + dt.timedelta(seconds=off_s))
        c = cs.Crossing(airlock=lock, start_m=(0.0, 3.75, 0.0))
        names, centres, _rot, _half = c.crew_solids()
        for name, p in zip(names, centres):
            for b in boxes:
                assert not np.all(np.abs(p - np.array(b.center)) < np.array(b.size) / 2), f"{name} is inside {b.name} ({off_s:+.0f} s)"
