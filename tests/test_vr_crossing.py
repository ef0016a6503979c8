"""The crossing in VR: the movement model over the real Crossing (no runtime), and `astp vr`
against the REAL headless Monado (marker ``vr``; the fixtures of tests/test_vr.py).

What is injected in the runtime tests: Monado's simulated controllers are fixed in the room and
its simulated headset cannot be walked headless, so grip and trigger values and the hands' and
the head's motion are injected on top of the runtime's own poses (``--inject``); the poses,
frame pacing and session are the runtime's.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from tests.test_vr import _astp, monado  # noqa: F401  (the shared runtime fixture)

DT = 1.0 / 60.0
KEEP = os.environ.get("ASTP_TEST_OUT")   # a folder: the runtime test leaves its DM eye picture and report there


def _rig(place="cm", crew=True):
    from experience.app.vr_crossing import CrossingMovement
    from experience.frontends.vr import crossing_at
    from experience.xr.tracking import TrackingOrigin
    from experience.xr.xrmath import Pose

    c = crossing_at(place)
    if not crew:   # the empty cabin: the movement model alone (the crews' boxes hold a head too)
        from experience.simulation.crossing import Crossing

        c = Crossing(airlock=c.airlock, start_m=tuple(c.eye_m), crew=False)
    o = TrackingOrigin(c.eye_m)
    head_ref = Pose(np.array([0.0, 1.6, 0.0]), np.eye(3))   # standing, looking along the room's -Z
    o.recentre(head_ref)
    return c, o, CrossingMovement(o, c), head_ref


def _poses(o, head_ref, right_ref=None, left_ref=None):
    from experience.xr.tracking import TrackedPoses
    from experience.xr.xrmath import Pose

    to = lambda p: None if p is None else o.to_model(Pose(np.asarray(p, dtype=np.float64), np.eye(3)))  # noqa: E731
    return TrackedPoses(o.to_model(head_ref), to(left_ref), to(right_ref))


def _ref_for_model(o, head_ref, model_point):
    """The room (reference-space) point that lands on a model-frame point now."""
    r = o.rotation()
    body = o.offset_m + o.start_m
    return head_ref.position_m + r.T @ (np.asarray(model_point) - body)


def test_grab_a_dm_handrail_and_pull_hand_over_hand_keeps_momentum():
    from experience.xr.tracking import HandInput

    c, o, mv, head = _rig("dm")
    rail = np.array([0.396, 1.7, 0.396])            # dm_handrail_0 at the body's height
    hand = _ref_for_model(o, head, rail - [0.05, 0.0, 0.05])
    # too far: a hand 0.5 m from every grip closes on nothing
    far = _ref_for_model(o, head, c.eye_m + [0.0, 0.0, -0.3])
    mv.update(_poses(o, head, right_ref=far), {"right": HandInput(grip=1.0)}, DT)
    assert mv.holding is None and not c.holding
    mv.update(_poses(o, head, right_ref=far), {"right": HandInput(grip=0.0)}, DT)
    it = mv.update(_poses(o, head, right_ref=hand), {"right": HandInput(grip=1.0)}, DT)
    assert mv.holding == "right" and c.holding == "dm_handrail_0" and it.haptic == {"right": 0.3}
    y0 = c.eye_m[1]
    for k in range(30):   # draw the hand 0.3 m back along the rail (toward the Apollo end): the body goes on
        it = mv.update(_poses(o, head, right_ref=hand + [0.0, 0.0, 0.3 * (k + 1) / 30]), {"right": HandInput(grip=1.0)}, DT)
    for _ in range(30):
        mv.update(_poses(o, head, right_ref=hand + [0.0, 0.0, 0.3]), {"right": HandInput(grip=1.0)}, DT)
    assert c.eye_m[1] - y0 == pytest.approx(0.3, abs=0.02)
    assert o.offset_m + o.start_m == pytest.approx(c.eye_m)     # the eyes ride on the crossing's body
    # hand over hand: the left hand takes the same rail further on, the right lets go
    left = _ref_for_model(o, head, np.array([0.35, c.eye_m[1] + 0.1, 0.35]))
    mv.update(_poses(o, head, right_ref=hand + [0.0, 0.0, 0.3], left_ref=left),
              {"right": HandInput(grip=1.0), "left": HandInput(grip=1.0)}, DT)
    assert mv.holding == "left"
    for k in range(10):   # a quick pull, then let go: the velocity carries on
        mv.update(_poses(o, head, left_ref=left + [0.0, 0.0, 0.03 * (k + 1)]), {"left": HandInput(grip=1.0)}, DT)
    mv.update(_poses(o, head, left_ref=left + [0.0, 0.0, 0.3]), {"left": HandInput(grip=0.0)}, DT)
    assert mv.holding is None and not c.holding
    v = float(c.vel_m_s[0][1])
    y1 = c.eye_m[1]
    for _ in range(20):
        mv.update(_poses(o, head), {}, DT)
    assert v > 0.2 and c.eye_m[1] - y1 > 0.05


def test_a_hand_reach_moves_no_body_and_a_swaying_head_moves_only_the_eye_with_it():
    """The "0.2 m of body drift during a DM hand reach" seen against Monado is its simulated
    head's own sway (tests below: the eye is the tracked head, frame by frame), not the movement
    model: a hand reaching out and back with the grip open and the trigger pressed moves the body
    by nothing (zero, not nearly); a head swaying like Monado's (up to 0.2 m) moves the eye with
    it exactly, leaves no velocity and, swaying back, leaves the body where it started."""
    import math

    from experience.xr.tracking import HandInput
    from experience.xr.xrmath import Pose

    c, o, mv, head = _rig("dm", crew=False)   # (Slayton floats within 0.2 m of this place)
    eye0, off0 = c.eye_m.copy(), o.offset_m.copy()
    hand0 = _ref_for_model(o, head, c.eye_m + [0.25, 0.2, -0.3])
    for k in range(90):   # out to 0.6 m and back, a trigger press at the far end
        reach = 0.6 * math.sin(math.pi * k / 89)
        trig = 1.0 if 40 <= k < 50 else 0.0
        mv.update(_poses(o, head, right_ref=hand0 + [0.0, 0.0, -reach]), {"right": HandInput(grip=0.2, trigger=trig)}, DT)
        assert np.array_equal(c.eye_m, eye0) and np.array_equal(o.offset_m, off0), k
    assert not np.any(c.vel_m_s)
    for k in range(120):  # the head sways 0.16 m side to side and 0.1 m up and down, and back
        t = k / 119
        sway = np.array([-0.16 * math.sin(2 * math.pi * t), -0.1 * math.sin(math.pi * t) ** 2, 0.0])
        swayed = Pose(head.position_m + sway, head.rotation)
        it = mv.update(_poses(o, swayed), {}, DT)
        assert np.allclose(c.eye_m, o.to_model(swayed).position_m, atol=1e-12), k   # the eye is the head
        assert not np.any(it.view_shift_m) and it.fade == 0.0 and not np.any(c.vel_m_s)
    assert np.allclose(c.eye_m, eye0, atol=1e-12) and np.array_equal(o.offset_m, off0)


def test_stick_glides_with_a_comfort_cap_and_the_wall_holds_the_body():
    from experience.app import vr_crossing as vc
    from experience.xr.tracking import HandInput

    c, o, mv, head = _rig("dm")
    speeds = []
    for _ in range(240):    # full stick to the right (+X): up to the comfort cap, then the DM wall
        it = mv.update(_poses(o, head), {"left": HandInput(thumbstick=(1.0, 0.0))}, DT)
        speeds.append(float(np.linalg.norm(it.velocity_m_s)))
    assert max(speeds) <= vc.GLIDE_MAX_M_S + 0.02
    p = c.eye_m
    assert p[0] > 0.3 and speeds[-1] < 0.05                    # held at the wall, not through it
    from kernels import crossing as kc
    assert bool(kc.inside(c.vol, c.pos_m, c._hatch_open())[0])


def test_head_pushed_into_a_wall_is_held_and_fades_the_view():
    """The head's tracked lean moves the crossing's eye (the walls hold it); the view stays where
    it was held and fades past the margin."""
    from experience.app import vr_crossing as vc
    from experience.xr.xrmath import Pose

    c, o, mv, head = _rig("dm")
    body = c.eye_m.copy()
    it = mv.update(_poses(o, head), {}, DT)
    assert it.fade == 0.0 and not np.any(it.view_shift_m)
    for lean, want in ((0.02, 0.0), (1.35, 1.0)):   # toward the closed Soyuz hatch (room -Z = model +Y)
        leaned = Pose(head.position_m + [0.0, 0.0, -lean], head.rotation)
        it = mv.update(_poses(o, leaned), {}, DT)
        if want == 0.0:
            assert it.fade == 0.0
        else:
            held = o.to_model(leaned).position_m + it.view_shift_m
            assert it.fade == pytest.approx(1.0) and held[1] < 2.75 - 0.15   # the view stays in the DM
    # the head's own motion carried the crossing's eye up to the hatch (held there), not the body
    assert c.eye_m[1] == pytest.approx(2.6, abs=0.03) and np.allclose(o.offset_m, 0.0)
    it = mv.update(_poses(o, head), {}, DT)                  # lean back: clear, the eye where it began
    assert it.fade == 0.0 and c.eye_m == pytest.approx(body, abs=1e-6)
    assert vc.fade_for(vc.FADE_MARGIN_M) == 0.0 and 0.0 < vc.fade_for(vc.FADE_MARGIN_M + 0.05) < 1.0
    rows = np.full((4, 4, 3), 200, np.uint8)
    assert vc.apply_fade(rows, 0.0) is rows and vc.apply_fade(rows, 0.5)[0, 0, 0] == 100
    assert vc.apply_fade(rows, 1.0).max() == 0


def test_trigger_at_the_dm_valve_equalises_and_a_refusal_is_said_in_russian():
    from experience import i18n
    from experience.app import vr_crossing as vc
    from experience.xr.tracking import HandInput

    c, o, mv, head = _rig("dm")
    # float to the Soyuz end of the DM
    c.pos_m = np.array([[0.0, 2.35, -0.1]])
    valve = vc.target_points(c)[("valve", "dm_soyuz")][0]
    hatch = vc.target_points(c)[("hatch", "dm_soyuz")][0]
    i18n.set_language("ru")
    try:
        at_hatch = _ref_for_model(o, head, hatch - [0.0, 0.15, 0.0])
        mv.update(_poses(o, head, right_ref=at_hatch), {"right": HandInput(trigger=1.0)}, DT)
        assert mv.used[-1]["verb"] == "open_hatch" and not mv.used[-1]["ok"]   # not equalised: refused
        assert any("\u0400" <= ch <= "\u04ff" for ch in mv.notice_now()), mv.notice_now()
        mv.update(_poses(o, head, right_ref=at_hatch), {"right": HandInput(trigger=0.0)}, DT)
        at_valve = _ref_for_model(o, head, valve - [0.0, 0.05, -0.05])
        it = mv.update(_poses(o, head, right_ref=at_valve), {"right": HandInput(trigger=1.0)}, DT)
        assert mv.used[-1] == {**mv.used[-1], "verb": "open_valve", "target": "dm_soyuz", "ok": True}
        assert c.airlock.valves()["dm_soyuz"] == "open" and it.haptic.get("right") == 0.6
        # held: one press is one action
        mv.update(_poses(o, head, right_ref=at_valve), {"right": HandInput(trigger=1.0)}, DT)
        assert len(mv.used) == 2
    finally:
        i18n.set_language("en")


def test_recentre_re_anchors_the_room_on_the_crossings_eye():
    from experience.xr.tracking import HandInput
    from experience.xr.xrmath import Pose

    c, o, mv, head = _rig("dm")
    for _ in range(60):                       # glide a little along the DM
        mv.update(_poses(o, head), {"left": HandInput(thumbstick=(0.0, 1.0))}, DT)
    for _ in range(30):
        mv.update(_poses(o, head), {}, DT)
    eye = c.eye_m.copy()
    assert eye[1] > 1.75
    walked = Pose(head.position_m + [0.4, 0.0, 0.3], head.rotation)   # the visitor walked in the room
    o.recentre(walked)                        # right menu: recentre
    it = mv.update(_poses(o, walked), {}, DT)
    assert np.allclose(o.start_m, eye, atol=0.05) and it.fade == 0.0
    assert np.linalg.norm(c.eye_m - eye) < 0.05                     # no jump through the cabin
    assert np.allclose(o.to_model(walked).position_m, c.eye_m, atol=0.05)


def test_timed_injections_parse_and_bad_ones_are_one_line():
    from experience.errors import AstpError
    from experience.frontends.vr import _parse_inject

    assert _parse_inject(["right:grip=1@20-60", "head:move=0,0,-1@5", "left:thumbstick=0,1", "head:still=1"]) == [
        ("right", "grip", 1.0, 20, 60), ("head", "move", (0.0, 0.0, -1.0), 5, None),
        ("left", "thumbstick", (0.0, 1.0), None, None), ("head", "still", True, None, None)]
    for bad, says in (("right:grip=1@60-20", "later F1"), ("right:grip=1@x", "@F0-F1"), ("head:grip=1", "only move"),
                      ("foot:grip=1", "left or right"), ("head:still=1@5-9", "no frames"), ("head:still=0", "still=1")):
        with pytest.raises(AstpError, match=says):
            _parse_inject([bad])


def test_vr_crossing_texts_are_translated():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    r = subprocess.run([sys.executable, str(root / "tools" / "update_catalogs.py"), "--check"], cwd=root,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    po = (root / "experience/locale/ru/LC_MESSAGES/astp.po").read_text(encoding="utf-8")
    assert 'msgid "Trigger: {action}"' in po


# ------------------------------------------------------------------------------------------------
# the real runtime
def _run(svc, *args, timeout=600):
    r = _astp(svc, "vr", "--json", "--quality", "low", "--dt", str(DT), *args, timeout=timeout)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout)


# the scripted hand over hand from the CM's tunnel (19:10 UTC): the left stick starts a glide up the
# tunnel; the right hand, closed, catches the DM's Apollo-end hatch rim and pulls (let go while
# moving: the glide carries on into the DM); it reaches forward again, closed, catches a DM handrail
# as the visitor floats past and pulls along it. Moves are in the reference space (+Z back towards
# the body). Monado's simulated head sways and turns on its own with the wall clock (up to 0.2 m):
# it would turn the glide and move the crossing's eye from run to run (on CI the glide re-caught
# the rim or ended 0.86-1.19 m along the DM rather than past 1.2), so the head is held at rest
# (head:still). The hands catch (closed) rather than close on cue. The pull at the rim is back and
# up (the body forward and down): Stafford's and Slayton's legs are in the DM's axis at this hour,
# and a visitor floats past beneath them (held on the axis, the eye stopped at 0.97 m).
HAND_OVER_HAND = ["head:still=1", "left:thumbstick=0,1@0-60", "right:grip=1@100-143", "right:move=0,0.2,0.5@112-142",
                  "right:move=0,0,-0.3@150-180", "right:grip=1@190-345", "right:move=0,0,0.5@300-330"]


@pytest.mark.vr
def test_pull_hand_over_hand_through_the_tunnel_into_the_dm(monado, tmp_path):
    png = tmp_path / "dm_left_eye.png"
    args = [a for item in HAND_OVER_HAND for a in ("--inject", item)]
    rep = _run(monado, "--frames", "380", "--place", "tunnel", "--save-eye", str(png), *args)
    if KEEP:
        (Path(KEEP) / "vr_crossing_report.json").write_text(json.dumps({k: rep[k] for k in ("crossing", "wrist_panel")}, indent=1))
        if png.exists():
            (Path(KEEP) / "vr_crossing_dm_left_eye.png").write_bytes(png.read_bytes())
    cr = rep["crossing"]
    assert rep["movement"] == "crossing" and rep["story_utc"].startswith("1975-07-17T19:1")
    assert cr["rooms_visited"] == ["cm", "dm"] and cr["room"] == "dm"      # through the tunnel
    assert cr["grips_taken"][0].startswith("dm_hatch_apollo_rim_") and cr["grips_taken"][-1].startswith("dm_handrail_")
    assert cr["pos_m"][1] > 1.2                                            # pulled along the rail
    assert cr["hatches"] == {"apollo_dm": "open", "dm_soyuz": "closed"} == cr["scene_hatches"]   # as drawn
    assert cr["pressures_mmhg"]["dm"] == pytest.approx(258.0, abs=1.0) and cr["pressures_mmhg"]["soyuz_om"] > 500
    assert rep["haptics_sent"] >= 2                                        # a click at each grip
    assert rep["head_source"] == "runtime, held at rest (injected)"
    from PIL import Image

    img = np.asarray(Image.open(png).convert("RGB"), dtype=np.float32)
    assert img.std() > 8.0 and 10.0 < img.mean() < 250.0


@pytest.mark.vr
def test_valve_by_hand_refusal_in_russian_wall_and_head_fade(monado):
    """In the DM: the right hand to the Soyuz-end equalisation valve, trigger (the valve opens, a
    pulse); to the hatch, trigger (refused: not equalised; the wrist panel says so in Russian);
    the left stick glides into the cabin wall (held); the head pushed 1.3 m forward into the
    closed Soyuz hatch (the view fades)."""
    rep = _run(monado, "--frames", "330", "--place", "dm", "--language", "ru",
               "--inject", "right:move=-0.29,-0.25,-0.5@0-30", "--inject", "right:trigger=1@40-50",
               "--inject", "right:move=0,0.55,0@55-65", "--inject", "right:trigger=1@70-80",
               "--inject", "left:thumbstick=1,0@90-250", "--inject", "head:move=0,0,-1.3@260-290")
    cr = rep["crossing"]
    used = [(u["verb"], u["target"], u["ok"]) for u in cr["used"]]
    assert used == [("open_valve", "dm_soyuz", True), ("open_hatch", "dm_soyuz", False)], cr["used"]
    assert cr["valves"]["dm_soyuz"] == "open" and cr["hatches"]["dm_soyuz"] == "closed"
    refusal = cr["used"][1]["message"]
    assert any("\u0400" <= ch <= "\u04ff" for ch in refusal), refusal
    assert refusal in rep["wrist_panel"]["notices"] and rep["wrist_panel"]["eyes_drawn"] > 0
    assert rep["haptics_sent"] >= 1
    # the hand's reach and the trigger moved no body: until the glide (frame 90) the crossing's eye
    # is the runtime's tracked head, frame by frame (its own sway, up to 0.2 m: the "drift"
    # seen in this reach), where the crews let it (the swaying head may lean into Stafford's or
    # Slayton's box: then the crossing holds it there, as its own hold from the last eye does),
    # and the tracking space was neither pushed nor pulled
    from experience.frontends.vr import crossing_at

    dm = crossing_at("dm")
    heads = {h["frame"]: np.asarray(h["head_model"]) for h in rep["head_log"]}
    still = [h for h in rep["hand_log"] if h["frame"] < 90]
    assert len(still) == 90 and all(h["body_offset_m"] == [0.0, 0.0, 0.0] and not h["grabs"] for h in still)
    eyes = {h["frame"]: np.asarray(h["eye_m"]) for h in rep["hand_log"]}
    free = 0
    for f in range(1, 90):
        held, _hit = dm.hold_inside(eyes[f - 1], heads[f], crew=True)
        assert np.allclose(eyes[f], held, atol=2e-3), (f, heads[f].tolist(), eyes[f].tolist(), held.tolist())
        free += float(np.linalg.norm(eyes[f] - heads[f])) < 1e-3
    assert free >= 30, free                                              # mostly just the head
    # the walls held the body: it glided to the head's right and stopped where the DM's walkable
    # volume ends (a wall, or Stafford or Slayton floating in the DM: their collision boxes move
    # with the figures). Monado's simulated head sways (up to 0.2 m) and turns on its own with
    # wall-clock time, so the glide's direction (the head's right), where it stops and how far the
    # swaying head leans back differ from run to run: what holds is that the eye glided out, never
    # went beyond the cabin wall (a free glide for those 160 frames, 0.6 m/s2 up to 0.5 m/s, would
    # carry it about 1 m out), and at every frame stood where the crossing's own walls and crews
    # let it (the same crossing, replayed from frame to frame, holds nothing back).
    out_m = {f: float(np.hypot(e[0], e[2])) for f, e in eyes.items()}
    pushed_out = [out_m[f] for f in range(200, 251)]
    assert cr["room"] == "dm" and 0.1 < max(pushed_out) and max(out_m.values()) < 0.6, pushed_out
    for f in range(91, 251):
        held, _hit = dm.hold_inside(eyes[f - 1], eyes[f], crew=True)
        assert np.allclose(held, eyes[f], atol=2e-3), (f, eyes[f - 1].tolist(), eyes[f].tolist(), held.tolist())
    # the head pushed into the hatch: held, and the view faded to black in the eyes drawn
    fades = {h["frame"]: h["fade"] for h in rep["hand_log"]}
    assert max(fades[f] for f in range(5, 85)) == 0.0                    # in the middle of the DM: clear
    pushed = [fades[f] for f in range(295, 330)]
    assert cr["fade_max"] == pytest.approx(1.0) and np.mean(pushed) > 0.5 and cr["fade_frames_drawn"] > 0, pushed
    assert cr["head_held_m"] > 0.1



@pytest.mark.vr
def test_plaque_handed_over_at_the_handshake_and_the_drawn_hand_follows_the_runtime(monado):
    """In the orbital module at 19:19:05 (after the handshake): the right hand (the runtime's own
    simulated controller pose, moved by injection: Monado's controllers are fixed in the room and
    cannot press headless) reaches the Apollo half of the plaque, closes (injected grip), carries
    it to Leonov's right hand and opens: the two halves join there. The drawn right hand sits,
    every frame, where the runtime's pose (plus the injected motion) puts it."""
    r = _astp(monado, "vr", "--frames", "150", "--json", "--quality", "low", "--dt", str(DT), "--place", "om",
              "--at", "1975-07-17T19:19:05Z", "--inject", "right:reach=plaque_apollo@5-35",
              "--inject", "right:grip=1@40-120", "--inject", "right:reach=leonov@50-100", timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    rep = json.loads(r.stdout)
    ks = rep["keepsakes"]
    assert [(e["what"], e["item"], e["hand"]) for e in ks["events"]] == [
        ("grab", "plaque_apollo", "right"), ("joined", "plaque_apollo", "right")]
    items = ks["items"]
    assert items["plaque_apollo"]["state"] == items["plaque_soyuz"]["state"] == "joined"
    assert np.linalg.norm(np.subtract(items["plaque_apollo"]["pos_m"], ks["receiver_m"])) < 0.05
    assert items["flag_us"]["state"] == "loose"                       # the other keepsake stays where it floated
    assert rep["input_source"]["right"]["pose_ref"] == "runtime + injected motion"
    log = rep["hand_draw_log"]
    assert len(log) >= 100
    for entry in log:   # the drawn hand where its pose is (the render frame: float32 metres from the eye)
        assert np.allclose(entry["drawn_m"], entry["expected_m"], atol=1e-4)
    forms = [e["form"] for e in log]
    assert "closed" in forms and forms[-1] == "open"                  # closed while holding, open after
    moved = np.linalg.norm(np.subtract(log[-1]["hand_model"], log[0]["hand_model"]))
    assert moved > 0.3                                                # it went to Leonov's hand
    assert rep["haptics_sent"] >= 2                                   # the grab and the handover
    assert ks["lines"] == ["In your hand: the Apollo half of the plaque", "The two halves of the plaque are joined"]


@pytest.mark.vr
def test_injected_tracked_hand_closes_by_its_joints_and_is_drawn_as_joints(monado):
    """XR_EXT_hand_tracking's path with INJECTED joints (the headless Monado tracks no bare
    hands): the right hand's joints curled into a fist close it on the plaque, which joins its
    counterpart at Leonov's hand; the left hand is drawn as its tracked joints, every frame where
    they are."""
    r = _astp(monado, "vr", "--frames", "110", "--json", "--quality", "low", "--dt", str(DT), "--place", "om",
              "--at", "1975-07-17T19:19:05Z", "--inject", "right:reach=plaque_apollo@5-35",
              "--inject", "right:joints=fist@40-90", "--inject", "right:reach=leonov@45-80",
              "--inject", "left:joints=open", timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    rep = json.loads(r.stdout)
    assert rep["hand_tracking"]["joints"] == {"left": "injected", "right": "none"}   # right: its span ended
    assert [(e["what"], e["item"]) for e in rep["keepsakes"]["events"]] == [("grab", "plaque_apollo"),
                                                                           ("joined", "plaque_apollo")]
    assert rep["hands_drawn"]["left"] == "joints"
    forms = [e["form"] for e in rep["hand_draw_log"]]
    assert "joints" in forms and forms[-1] == "open"
    for e in rep["hand_draw_log"]:
        assert np.allclose(e["drawn_m"], e["expected_m"], atol=1e-4)


def test_the_hands_wall_hold_is_worked_out_when_asked_and_remembered_exactly():
    """The wrist panel's hand is held inside the walls only when asked (held_hand), from the body
    the update held the hands from, equal to the crossing's own hold_inside to the last bit; the
    remembering hold (MemoHold) answers a repeated question from memory with the same point and
    a wall's hit, and asks the kernel again when a hatch has swung."""
    from experience.app.vr_crossing import MemoHold
    from experience.xr.tracking import HandInput
    from experience.xr.xrmath import Pose

    c, o, mv, head = _rig("dm")
    far = _ref_for_model(o, head, c.eye_m + [0.0, 0.0, -1.5])      # through the DM's floor wall
    near = _ref_for_model(o, head, c.eye_m + [0.1, 0.2, -0.1])
    mv.update(_poses(o, head, right_ref=far, left_ref=near), {"right": HandInput(), "left": HandInput()}, DT)
    body = mv._hands_body.copy()
    assert mv._hands_held == {}                                     # nothing worked out yet
    for name, ref in (("left", near), ("right", far)):
        want, _hit = c.hold_inside(body, o.to_model(Pose(np.asarray(ref, dtype=np.float64), np.eye(3))).position_m)
        assert np.array_equal(mv.held_hand(name), want)
    assert set(mv.hands_held) == {"left", "right"} and mv.held_hand("none") is None

    hold = MemoHold(c)
    a, b = c.eye_m, c.eye_m + np.array([0.0, 0.0, -1.5])
    p1, hit1 = hold(a, b)
    p2, hit2 = hold(a, b)
    assert (hold.calls, hold.hits) == (2, 1) and hit1 and hit2 and np.array_equal(p1, p2)
    assert np.array_equal(p1, c.hold_inside(a, b)[0])
    p2[0] += 1.0                                                    # the answer given is the caller's own
    assert np.array_equal(hold(a, b)[0], p1)
    hatches = dict(c.airlock.hatches())
    c.airlock._hatch[next(iter(hatches))] = not c.airlock._hatch[next(iter(hatches))]   # a hatch swings
    hold(a, b)
    assert hold.hits == 2 and hold.calls == 4                       # asked the kernel again
