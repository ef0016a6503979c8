"""The keepsakes by hand (issue #11): the plaque halves and the flags picked up, carried, handed
from hand to hand, released to float, handed over to Leonov at the handshake; the hands drawn
and the hand-tracking path. The model is pure (experience/simulation/keepsakes.py); the
runtime tests (marker ``vr``) are in tests/test_vr_crossing.py beside the other crossing runs.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

DT = 1.0 / 60.0


def _hand(p, grip, rot=None):
    from experience.simulation.keepsakes import Hand

    return Hand(np.asarray(p, dtype=np.float64), np.eye(3) if rot is None else rot, grip)


def _setup(place="dm"):
    from experience.frontends.vr import crossing_at
    from experience.simulation.keepsakes import Keepsakes

    c = crossing_at(place)
    hold = c.hold_inside
    ks = Keepsakes(c.eye_m, hold=hold)
    return c, ks, hold


def test_keepsakes_start_within_reach_and_from_the_data_file():
    from experience.simulation.keepsakes import load_table

    c, ks, _hold = _setup("cm")
    t = load_table()
    assert set(ks.items) == set(t["item"]) == {"plaque_apollo", "plaque_soyuz", "flag_us", "flag_ussr"}
    assert t["estimate"] is True and set(t["source"]) <= {"NASM", "ABC75", "SP4209", "TIME75"}
    for iid in ("plaque_apollo", "flag_us"):
        it = ks.items[iid]
        assert it.state == "loose" and 0.2 < np.linalg.norm(it.pos_m - c.eye_m) < 0.5      # within arm's reach
        assert bool(c.hold_inside(c.eye_m, it.pos_m)[1]) is False                            # inside the cabin
    assert ks.items["plaque_soyuz"].state == ks.items["flag_ussr"].state == "with_leonov"


def test_grab_carry_hand_to_hand_release_float_and_the_wall():
    c, ks, hold = _setup("dm")
    it = ks.items["plaque_apollo"]
    p0 = it.pos_m.copy()
    far = p0 + [0.0, 0.0, 0.3]
    ks.update({"right": _hand(far, 1.0)}, DT, hold=hold, eye_m=c.eye_m)            # closing too far away: nothing
    assert ks.held("right") is None
    ks.update({"right": _hand(far, 0.0)}, DT, hold=hold, eye_m=c.eye_m)
    a = math.radians(30.0)
    turn = np.array([[math.cos(a), -math.sin(a), 0.0], [math.sin(a), math.cos(a), 0.0], [0.0, 0.0, 1.0]])
    ev = ks.update({"right": _hand(p0 + [0.05, 0.0, 0.0], 1.0)}, DT, hold=hold, eye_m=c.eye_m)
    assert [e.what for e in ev] == ["grab"] and ks.held("right") == "plaque_apollo"
    # carried: the pose follows the hand, keeping the grip it was taken with (5 cm to its left)
    hand_to = p0 + [0.05, 0.2, 0.1]
    ks.update({"right": _hand(hand_to, 1.0, turn)}, DT, hold=hold, eye_m=c.eye_m)
    assert np.allclose(it.pos_m, hand_to + turn @ [-0.05, 0.0, 0.0], atol=1e-12)
    assert np.allclose(it.rot, turn @ ks.items["plaque_apollo"].grip_rot, atol=1e-12)
    # to the other hand: the left closes on it, the right lets go
    ev = ks.update({"right": _hand(hand_to, 1.0, turn), "left": _hand(it.pos_m + [0.0, 0.0, 0.03], 1.0)}, DT,
                   hold=hold, eye_m=c.eye_m)
    assert [(e.what, e.hand) for e in ev] == [("handed", "left")] and ks.held("left") == "plaque_apollo"
    ks.update({"right": _hand(hand_to, 0.0), "left": _hand(it.pos_m + [0.0, 0.0, 0.03], 1.0)}, DT, hold=hold, eye_m=c.eye_m)
    assert ks.held("right") is None and ks.held("left") == "plaque_apollo"      # the right opening drops nothing
    # released with the hand moving at 0.6 m/s sideways: it floats on, gently damped, until the wall holds it
    lp = it.pos_m + [0.0, 0.0, 0.03]
    for k in range(6):
        ks.update({"left": _hand(lp + [-0.01 * (k + 1), 0.0, 0.0], 1.0)}, DT, hold=hold, eye_m=c.eye_m)
    ev = ks.update({"left": _hand(lp + [-0.07, 0.0, 0.0], 0.0)}, DT, hold=hold, eye_m=c.eye_m)
    assert [e.what for e in ev] == ["release"] and it.state == "loose"
    assert it.vel_m_s[0] == pytest.approx(-0.6 * math.exp(-0.6 * DT), rel=1e-6)   # the hand's, floated one frame
    speeds = []
    for _ in range(600):
        ks.update({}, DT, hold=hold, eye_m=c.eye_m)
        speeds.append(float(np.linalg.norm(it.vel_m_s)))
        assert not c.hold_inside(c.eye_m, it.pos_m)[1] or speeds[-1] == 0.0
    assert speeds[0] == pytest.approx(0.6 * math.exp(-0.6 * DT) ** 2, rel=1e-3)    # damped (no push)
    assert speeds[-1] == 0.0                                                     # ... and stopped at the wall
    wall = it.pos_m.copy()
    assert hold(wall, wall + [-0.2, 0.0, 0.0])[1]                                # it rests against the wall
    # a keepsake let go by a hand reaching through the wall stays inside
    ks.update({"right": _hand(wall + [0.0, 0.0, 0.02], 1.0)}, DT, hold=hold, eye_m=c.eye_m)
    assert ks.held("right") == "plaque_apollo"
    ks.update({"right": _hand(wall + [-0.5, 0.0, 0.02], 1.0)}, DT, hold=hold, eye_m=c.eye_m)
    ks.update({"right": _hand(wall + [-0.5, 0.0, 0.02], 0.0)}, DT, hold=hold, eye_m=c.eye_m)
    assert not hold(c.eye_m, it.pos_m)[1] or np.linalg.norm(it.pos_m - (wall + [-0.5, 0.0, 0.02])) > 0.2


def test_handed_over_at_the_handshake_the_halves_join_and_the_flags_are_exchanged():
    c, ks, hold = _setup("om")
    leonov = np.array([-0.55, 4.0, 0.2])
    plaque, flag = ks.items["plaque_apollo"], ks.items["flag_us"]
    kw = dict(hold=hold, eye_m=c.eye_m, receiver_m=leonov)
    # before the handshake: released at his hand, the half only floats on
    ks.update({"right": _hand(plaque.pos_m, 1.0)}, DT, receiving=False, **kw)
    ks.update({"right": _hand(leonov + [0.05, -0.05, 0.0], 1.0)}, DT, receiving=False, **kw)
    ev = ks.update({"right": _hand(leonov + [0.05, -0.05, 0.0], 0.0)}, DT, receiving=False, **kw)
    assert [e.what for e in ev] == ["too_early", "release"] and plaque.state == "loose"
    assert ks.nearest(leonov)[0] != "flag_ussr"                                  # his flag is not offered yet
    # at the handshake: taken again and handed over, the two halves join in his hand into one disc
    ks.update({"right": _hand(plaque.pos_m, 1.0)}, DT, receiving=True, **kw)
    ks.update({"right": _hand(leonov + [0.1, -0.1, 0.0], 1.0)}, DT, receiving=True, **kw)
    ev = ks.update({"right": _hand(leonov + [0.1, -0.1, 0.0], 0.0)}, DT, receiving=True, **kw)
    soyuz = ks.items["plaque_soyuz"]
    assert [e.what for e in ev] == ["joined"] and plaque.state == soyuz.state == "joined"
    assert np.allclose(plaque.pos_m, soyuz.pos_m) and np.linalg.norm(soyuz.pos_m - leonov) < 0.05
    up_a, up_s = plaque.rot @ [0.0, 1.0, 0.0], soyuz.rot @ [0.0, 1.0, 0.0]       # arcs opposite: one disc
    assert np.allclose(up_a, -up_s) and np.allclose(plaque.rot @ [0, 0, 1.0], soyuz.rot @ [0, 0, 1.0])
    assert ks.nearest(leonov, receiving=True)[0] != "plaque_apollo"              # the joined plaque stays with him
    # the flag: handed over, and his own is the visitor's to take
    ks.update({"left": _hand(flag.pos_m, 1.0)}, DT, receiving=True, **kw)
    ks.update({"left": _hand(leonov + [0.0, -0.15, 0.1], 1.0)}, DT, receiving=True, **kw)
    ev = ks.update({"left": _hand(leonov + [0.0, -0.15, 0.1], 0.0)}, DT, receiving=True, **kw)
    assert [e.what for e in ev] == ["given"] and flag.state == "given"
    ussr = ks.items["flag_ussr"]
    ev = ks.update({"left": _hand(ussr.pos_m + [0.0, -0.03, 0.0], 1.0)}, DT, receiving=True, **kw)
    assert [e.what for e in ev] == ["taken", "grab"] and ks.held("left") == "flag_ussr"
    ks.update({"left": _hand(c.eye_m + [0.1, 0.3, -0.1], 1.0)}, DT, receiving=True, **kw)
    assert np.linalg.norm(ussr.pos_m - (c.eye_m + [0.1, 0.3, -0.1])) < 0.05       # carried off
    assert ks.report()["items"]["flag_us"]["state"] == "given"


def test_tracked_hand_joints_close_the_hand_by_curl_or_pinch():
    """XR_EXT_hand_tracking's 26 joints -> the grip. The joints are INJECTED (synthetic_joints):
    the headless Monado of the tests tracks no bare hands."""
    from experience.xr import handtracking as ht

    assert ht.COUNT == len(ht.NAMES) == 26 and ht.NAMES[ht.THUMB_TIP] == "thumb_tip"
    for side in ("left", "right"):
        grips = {f: ht.grip_from_joints(ht.synthetic_joints(f, side)[0]) for f in ("open", "fist", "pinch")}
        assert grips["open"][0] < 0.2
        assert grips["fist"][1] > 0.9 and grips["fist"][0] > 0.9          # curled fingers
        assert grips["pinch"][2] > 0.9 and grips["pinch"][1] < 0.3        # the pinch alone
    # the same hand anywhere, turned any way: the same grip (distances only)
    p, _r = ht.synthetic_joints("fist")
    a = math.radians(50.0)
    rot = np.array([[math.cos(a), 0.0, math.sin(a)], [0.0, 1.0, 0.0], [-math.sin(a), 0.0, math.cos(a)]])
    assert ht.grip_from_joints(p @ rot.T + [1.0, 2.0, 3.0]) == pytest.approx(ht.grip_from_joints(p))


def test_runtime_hand_joints_are_read_from_xrLocateHandJointsEXT_and_close_the_hand():
    """The session's per-frame call at the pyopenxr boundary: HandTrackers.locate fills its joint
    buffer through the runtime's ``xrLocateHandJointsEXT`` (here a ctypes function standing in for
    a runtime that tracks hands: the headless Monado tracks none, tests/test_vr.py shows its
    refusal) at the display time in the given space; the joints come back in the reference space
    and a fist closes the hand, an inactive hand or one without valid joints is not tracked (the
    controllers stay), and the front end feeds them to the joint grip."""
    xr = pytest.importorskip("xr")
    import ctypes

    from experience.xr import handtracking as ht

    fist, radii = ht.synthetic_joints("fist", "right")
    fist = fist + [0.2, 1.1, -0.3]     # somewhere in the room
    calls = []
    state = {"active": 1, "flags": 0xF}

    @xr.PFN_xrLocateHandJointsEXT
    def locate(tracker, info_p, locs_p):
        info, locs = info_p.contents, locs_p.contents
        calls.append((int(info.time), int(locs.joint_count), ctypes.cast(tracker, ctypes.c_void_p).value))
        locs.is_active = state["active"]
        for i in range(locs.joint_count):
            j = locs.joint_locations[i]
            j.location_flags = state["flags"]
            j.pose = xr.Posef(xr.Quaternionf(0.0, 0.0, 0.0, 1.0), xr.Vector3f(*fist[i]))
            j.radius = radii[i]
        return 0

    hands = ht.HandTrackers()
    hands.xr = xr
    hands.trackers = {"left": ctypes.cast(ctypes.c_void_p(0x10), xr.HandTrackerEXT),
                      "right": ctypes.cast(ctypes.c_void_p(0x20), xr.HandTrackerEXT)}
    hands._locate = locate
    for h in hands.HANDS:
        arr = (xr.HandJointLocationEXT * ht.COUNT)()
        hands._buf[h] = (arr, xr.HandJointLocationsEXT(joint_count=ht.COUNT, joint_locations=arr))
    got = hands.locate(None, 123456789)
    assert [c[:2] for c in calls] == [(123456789, 26), (123456789, 26)] and {c[2] for c in calls} == {0x10, 0x20}
    j = got["right"]
    assert np.allclose(j.positions_m, fist, atol=1e-6) and np.allclose(j.radii_m, radii, atol=1e-6)
    assert np.allclose(j.rotations, np.eye(3)) and j.valid.all()
    assert ht.grip_from_joints(j.positions_m)[1] > 0.9 and hands.located == {"left": 1, "right": 1}
    state["active"] = 0                 # the runtime lost the hand: not tracked
    assert hands.locate(None, 1) == {"left": None, "right": None}
    state["active"], state["flags"] = 1, 0x1   # orientation only: no positions to grip with
    assert hands.locate(None, 2) == {"left": None, "right": None}

    # the front end: runtime joints close the hand; a bare hand (no controller pose) sits at its palm
    from experience.frontends.vr import VrFrontEnd
    from experience.xr.tracking import HandInput

    state["flags"] = 0xF
    front = VrFrontEnd.__new__(VrFrontEnd)
    front.joints_source, front.joint_grips = {"left": "none", "right": "none"}, {}
    front.vs = type("S", (), {"hand_joints": hands.locate(None, 3)})()
    bare = HandInput()
    front._tracked_joints(bare, "right")
    assert front.joints_source["right"] == "runtime" and bare.grip > 0.9 and len(bare.joints_ref) == 26
    assert np.allclose(bare.pose_ref.position_m, fist[ht.PALM], atol=1e-6)
    front.vs.hand_joints = {"left": None, "right": None}
    ctl = HandInput(grip=0.3)
    front._tracked_joints(ctl, "right")   # not tracked: the controller's grip as it was
    assert front.joints_source["right"] == "none" and ctl.grip == 0.3 and ctl.joints_ref is None


def test_hand_tracking_report_names_why_the_controllers_are_used():
    from experience.xr import handtracking as ht

    ext = ht.EXTENSION
    assert ht.describe([], [], None)["why"].startswith(f"the runtime does not list {ext}")
    assert not ht.describe([ext], [], None)["enabled"]
    no = ht.describe([ext], [ext], False)
    assert no["extension"] and no["enabled"] and not no["offered"] and "tracks no hands" in no["why"]
    yes = ht.describe([ext], [ext], True)
    assert yes["offered"] and "why" not in yes
