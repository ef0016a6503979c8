"""The crossing in a headset: the VR movement model over the same :class:`Crossing` as the desktop
(issue #10 + #11; docs/vr.md "The crossing in VR").

:class:`CrossingMovement` is a :class:`experience.xr.tracking.MovementModel`. The visitor's BODY
is the crossing's eye (``Crossing.eye_m``, the stack frame = the VR model frame); the tracked
head is the body plus the head's own offset in the room (``TrackingOrigin``). Per frame:

- grip closing on a hand: ``Crossing.grab(point_m=that hand)`` when a handrail or hatch rim lies
  within :data:`HAND_REACH_M` of THAT hand (a click on the hand when it takes hold); a closed,
  empty hand reaching on catches the first grip that comes within its reach; the other hand
  closing on a grip takes over (hand over hand); while a hand holds, its motion relative to
  the body is ``Input.hand_m`` (move the hand back: the body goes forward); opening the hand is
  ``Crossing.release()`` (the momentum carries on);
- the left thumbstick, when no hand holds, is a push along the view (``Input.accel_m_s2``),
  with a comfort cap on the glide speed (:data:`GLIDE_MAX_M_S`);
- the right thumbstick turns (snap or smooth, as :class:`~experience.xr.tracking.FreeFloat`);
- the trigger's press on a hand operates the hatch or valve nearest that hand among
  ``Crossing.actions()`` (``Crossing.act``: the airlock's kernel and interlocks, the desktop F);
  success pulses that hand, a refusal becomes :attr:`notice` (the wrist panel shows it);
- the crossing's kernel steps the body against the walls; the head's own tracked offset is then
  held inside the walkable volume too (``Crossing.hold_inside``: the view shifts by what the wall
  held) and, beyond :data:`FADE_MARGIN_M`, the view fades (``Intents.fade``, applied to each eye by
  :func:`apply_fade`).
"""

from __future__ import annotations

import numpy as np

from experience.i18n import _
from experience.simulation import crossing as sim
from experience.xr.tracking import GRIP_CLOSED, GRIP_OPEN, FreeFloat, Grab, HandInput, Intents, TrackedPoses

HAND_REACH_M = 0.3        # a closing hand takes a grip this close to it
USE_REACH_M = 0.45        # a trigger operates a hatch or valve this close to the hand
GLIDE_ACCEL_M_S2 = 0.6    # full left stick: a gentle push along the view
GLIDE_MAX_M_S = 0.5       # comfort: the stick pushes no faster than this (the kernel caps all at 0.8)
FADE_MARGIN_M = 0.05      # the head may press this far past the walkable volume before the view fades
FADE_RANGE_M = 0.10       # ... and is black this much further (at the drawn wall: the head radius)
TRIGGER_ON, TRIGGER_OFF = 0.8, 0.3
NOTICE_S = 4.0
# Where a hand operates each target (stack frame, m). The equalisation valves sit on the DM's
# bulkheads at azimuth 180 (-Z), 0.55 m off the axis, their T handles 0.1 m into the DM
# (experience/scene/modelgen/docking_module.py); the hatch handles at the hatch discs' centres;
# the fill valves on the DM's control panel (cabins.py box dm_control_panel).
VALVE_OFF_AXIS_M = 0.55


def fade_for(depth_m: float) -> float:
    """The fade (0 clear .. 1 black) for a head pressed ``depth_m`` past the walkable volume."""
    return float(min(1.0, max(0.0, (float(depth_m) - FADE_MARGIN_M) / FADE_RANGE_M)))


def apply_fade(rows: np.ndarray, fade: float) -> np.ndarray:
    """One eye's picture (uint8 RGB) faded towards black by ``fade``."""
    if fade <= 0.0:
        return rows
    return (rows.astype(np.float32) * (1.0 - min(1.0, fade))).astype(np.uint8)


def target_points(crossing: sim.Crossing) -> dict[tuple[str, str], np.ndarray]:
    """(kind, target) -> where a hand operates it; kind is ``hatch`` or ``valve``."""
    geo = crossing.geo
    pts: dict[tuple[str, str], list] = {}
    dm_y = sorted(pl.y for pl in geo.hatch_planes)[:2]   # the DM's two bulkheads (Apollo end, Soyuz end)
    for pl in geo.hatch_planes:
        pts.setdefault(("hatch", pl.name), []).append(np.array([0.0, pl.y, 0.0]))
    for name, y, into in (("apollo_dm", dm_y[0], 0.1), ("dm_soyuz", dm_y[1], -0.1)):
        pts[("valve", name)] = [np.array([0.0, y + into, -VALVE_OFF_AXIS_M])]
    panel = next((b for b in geo.boxes if b.name == "dm_control_panel"), None)
    centre = np.asarray(panel.center if panel else (0.0, 1.55, 0.55), dtype=np.float64)
    for valve in ("n2_fill", "o2_fill", "dm_vent"):
        pts[("valve", valve)] = [centre]
    return {k: np.array(v) for k, v in pts.items()}


class MemoHold:
    """``crossing.hold_inside`` (the walls and closed hatches, not the crews) remembering its
    last answers: the same move from the same point with the hatches as they were gives the same
    point back (the collision volume is fixed; the kernel is a pure function of the two points
    and the open hatches), without the kernel's work. A keepsake floating at rest, or a hand held
    still at a still body, asks the same question every frame (about 0.3-0.7 ms each on the
    development machine). Exact: a key is the two points' float64 bytes and the hatches."""

    def __init__(self, crossing: sim.Crossing, size: int = 8):
        self.crossing = crossing
        self.size = int(size)
        self._memo: dict = {}
        self.calls = self.hits = 0

    def __call__(self, from_m, to_m):
        a = np.asarray(from_m, dtype=np.float64).reshape(3)
        b = np.asarray(to_m, dtype=np.float64).reshape(3)
        key = (a.tobytes(), b.tobytes(), tuple(self.crossing.airlock.hatches().values()))
        self.calls += 1
        got = self._memo.get(key)
        if got is not None:
            self.hits += 1
            return got[0].copy(), got[1]
        p, hit = self.crossing.hold_inside(a, b)
        if len(self._memo) >= self.size:
            self._memo.pop(next(iter(self._memo)))   # the oldest question
        self._memo[key] = (np.array(p, dtype=np.float64), bool(hit))
        return np.array(p, dtype=np.float64), bool(hit)


class CrossingMovement(FreeFloat):
    """Hands on the crossing's grips, its collision, its airlock (see the module's text)."""

    def __init__(self, origin, crossing: sim.Crossing, *, turn: str = "snap", snap_deg: float = 30.0):
        super().__init__(origin, constraint=lambda p: p, turn=turn, snap_deg=snap_deg)
        self.crossing = crossing
        self.holding: str | None = None       # the hand that holds a grip
        self._closed: set[str] = set()
        self._hand0: np.ndarray | None = None # the holding hand relative to the body when it took hold
        self._grip0: np.ndarray | None = None # the grip relative to the body then
        self._trigger_armed = {"left": True, "right": True}
        self._targets = target_points(crossing)
        self.notice = ""                      # the last refusal or action, for the wrist panel
        self.notice_until = -1.0
        self.used: list[dict] = []            # every trigger use: verb, target, ok, message
        self.grabbed: list[str] = []          # every grip taken (grip names)
        self.rooms: list[str] = [crossing.room]
        self.fade = 0.0
        self.fade_max = 0.0
        self.head_depth_m = 0.0
        self.hold = MemoHold(crossing)        # the walls' hold of a hand (or a keepsake: the front end's)
        self._hands_at: dict[str, np.ndarray] = {}   # this frame's hands and the body they are held from
        self._hands_body = crossing.eye_m
        self._hands_held: dict[str, np.ndarray] = {}
        self._recentres = origin.recentres
        origin.start_m = crossing.eye_m       # the recentred head is the crossing's eye

    # -- what the hands do -------------------------------------------------------------------------
    def _say(self, text: str) -> None:
        self.notice = text
        self.notice_until = self.crossing.t_s + NOTICE_S

    def notice_now(self) -> str:
        return self.notice if self.crossing.t_s < self.notice_until else ""

    def held_hand(self, name: str) -> np.ndarray | None:
        """Where this frame's hand ``name`` is held inside the walls (model frame; None: not
        tracked): what is drawn at the hand (the wrist panel). Worked out when asked (the panel
        is drawn on few frames), from the body and the hatches as :meth:`update` had them (a
        trigger's use, which may swing a hatch, holds the hands before it acts)."""
        if name not in self._hands_at:
            return None
        if name not in self._hands_held:
            self._hands_held[name] = self.hold(self._hands_body, self._hands_at[name])[0]
        return self._hands_held[name]

    def hold_hands(self) -> dict[str, np.ndarray]:
        """Each tracked hand of this frame held inside the walls (:meth:`held_hand`)."""
        return {name: self.held_hand(name) for name in self._hands_at}

    @property
    def hands_held(self) -> dict[str, np.ndarray]:
        """:meth:`hold_hands`, as an attribute (the form the front end read before)."""
        return self.hold_hands()

    def _try_grab(self, name: str, hand_m: np.ndarray, body: np.ndarray) -> bool:
        c = self.crossing
        grip, _pt, d = c.grip_near(hand_m)
        if d > HAND_REACH_M or not c.grab(point_m=hand_m):
            return False
        self.holding = name
        self._hand0 = hand_m - body
        self._grip0 = c.anchor_m - body
        self.grabbed.append(c.holding or grip)
        return True

    def _use(self, name: str, hand_m: np.ndarray) -> dict | None:
        c = self.crossing
        best, best_d = None, USE_REACH_M
        for a in c.actions():
            kind = "hatch" if a.verb.endswith("hatch") else "valve"
            pts = self._targets.get((kind, a.target))
            if pts is None:
                continue
            d = float(np.min(np.linalg.norm(pts - hand_m, axis=1)))
            if d < best_d:
                best, best_d = a, d
        if best is None:
            self._say(_("No hatch or valve within reach"))
            return None
        out = c.act(best.verb, best.target)
        self._say(best.label if out.ok else out.message)
        rec = {"verb": best.verb, "target": best.target, "ok": bool(out.ok), "message": self.notice, "hand": name}
        self.used.append(rec)
        return rec

    def near_action(self, hand_m) -> str:
        """The label of what the trigger would do at this hand ('' if nothing)."""
        if hand_m is None:
            return ""
        for a in self.crossing.actions():
            kind = "hatch" if a.verb.endswith("hatch") else "valve"
            pts = self._targets.get((kind, a.target))
            if pts is not None and float(np.min(np.linalg.norm(pts - hand_m, axis=1))) < USE_REACH_M:
                return a.label
        return ""

    # -- per frame ---------------------------------------------------------------------------------
    def update(self, poses: TrackedPoses, hands: dict, dt_s: float) -> Intents:
        c = self.crossing
        o = self.origin
        if o.recentres != self._recentres:       # recentred: the tracking space re-anchors on the eye
            self._recentres = o.recentres
            o.start_m, o.offset_m = c.eye_m, np.zeros(3)
            wanted = c.eye_m                      # (this frame's poses were placed before the re-anchoring)
        else:
            wanted = poses.head.position_m if poses.head is not None else c.eye_m
        # the head's own motion in the room moves the crossing's eye, held by the walls; what the
        # walls refuse is how far the head is pushed into them
        self.head_depth_m = c.lean(wanted) if poses.head is not None else 0.0
        body = c.eye_m
        haptic: dict[str, float] = {}
        grabs = []
        hand_at = {}
        for name in ("left", "right"):
            pose = getattr(poses, name)
            if pose is not None:
                # the hand itself closes on a rail or turns a valve where it is (a hand is thinner
                # than the head's radius); what is drawn at the hand (the wrist panel) is held
                # inside the walls (held_hand, when asked)
                hand_at[name] = pose.position_m.copy()
        self._hands_at, self._hands_body, self._hands_held = hand_at, body.copy(), {}
        for name in ("left", "right"):
            hand = hands.get(name) or HandInput()
            if name not in hand_at:
                self._closed.discard(name)
                if self.holding == name:
                    c.release()
                    self.holding = None
                continue
            closed = hand.grip >= (GRIP_OPEN if name in self._closed else GRIP_CLOSED)
            if closed and name not in self._closed:
                self._closed.add(name)
                if self._try_grab(name, hand_at[name], body):   # hand over hand: the new hand takes over
                    haptic[name] = 0.3
            elif closed and self.holding is None:   # a closed, empty hand reaching on catches a grip
                if self._try_grab(name, hand_at[name], body):
                    haptic[name] = 0.3
            elif not closed and name in self._closed:
                self._closed.discard(name)
                if self.holding == name:
                    c.release()                   # the momentum carries on
                    self.holding = None
            if hand.trigger >= TRIGGER_ON and self._trigger_armed[name]:
                self._trigger_armed[name] = False
                self.hold_hands()                 # held with the hatches as they are before the use
                rec = self._use(name, hand_at[name])
                if rec is not None and rec["ok"]:
                    haptic[name] = max(haptic.get(name, 0.0), 0.6)
            elif hand.trigger < TRIGGER_OFF:
                self._trigger_armed[name] = True
        inp = sim.Input()
        if self.holding is not None and c.holding:
            rel = hand_at[self.holding] - body
            inp.hand_m = tuple(self._grip0 + (rel - self._hand0))
            grabs.append(Grab(self.holding, c.anchor_m, rel - self._hand0))
        elif self.holding is not None:
            self.holding = None                   # the grip slipped (a wall stopped the body)
        lx, ly = (hands.get("left") or HandInput()).thumbstick
        if self.holding is None and poses.head is not None and (abs(lx) > 0.15 or abs(ly) > 0.15):
            r = poses.head.rotation
            push = (-r[:, 2] * ly + r[:, 0] * lx)
            n = float(np.linalg.norm(push))
            if n > 1e-9:
                along = float(np.dot(c.vel_m_s[0], push / n))
                if along < GLIDE_MAX_M_S:         # comfort: no faster than this by the stick
                    inp.accel_m_s2 = tuple(push / max(n, 1.0) * GLIDE_ACCEL_M_S2)
        turn = self._turn(hands, dt_s)
        if dt_s > 0.0:
            c.step(inp, dt_s)
        new_body = c.eye_m
        delta = new_body - body                   # the crossing's own motion moves the tracking space
        o.offset_m = o.offset_m + delta
        o.yaw_deg += turn
        self.velocity = c.vel_m_s[0].copy()
        room = c.room
        if room != self.rooms[-1]:
            self.rooms.append(room)
        shift, fade = np.zeros(3), 0.0
        if poses.head is not None:
            shift = body - wanted                 # the view stays where the walls held the head
            fade = fade_for(self.head_depth_m)
        self.fade = fade
        self.fade_max = max(self.fade_max, fade)
        return Intents(grabs, delta, turn, self.velocity.copy(), haptic, shift, fade)

    def report(self) -> dict:
        """What the crossing's JSON report says (``astp vr --frames N --json``)."""
        r = self.crossing.reading()
        return {"room": r.room, "rooms_visited": list(self.rooms), "pos_m": [round(v, 4) for v in r.pos_m],
                "holding": r.holding, "grips_taken": self.grabbed[-20:], "hatches": dict(r.hatches),
                "valves": dict(self.crossing.airlock.valves()),
                "pressures_mmhg": {k: round(v, 2) for k, v in r.pressures_mmhg.items()},
                "used": self.used[-20:], "fade": round(self.fade, 3), "fade_max": round(self.fade_max, 3),
                "head_held_m": round(self.head_depth_m, 4)}
