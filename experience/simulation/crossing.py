"""The crossing as a visitor floats it: from the Command Module through the Docking Module airlock
into the Soyuz orbital module (issue #10; docs/crossing.md).

One :class:`Crossing` per visitor holds the eye's position and velocity in the stack frame
(metres, +Y from Apollo towards Soyuz), what a hand holds, and the airlock
(:class:`experience.simulation.airlock.Airlock`: the three cabins' gas, the two hatches, the
valves). The walkable volume and the grips come from experience/mission/cabins.py (the same
numbers the models are drawn from) and move through :mod:`kernels.crossing`.

The API every front end drives (desktop keys and mouse, VR hand poses, the guided tour):

- :meth:`Crossing.step` ``(inp: Input, dt_s)``: push (``accel_m_s2``), brake, and while holding,
  where the holding hand is relative to the eye (``hand_m``); the airlock advances too.
- :meth:`Crossing.grab` ``(point_m=None)`` holds the nearest grip (handrail, hatch rim) within
  reach of a point (a hand; the eye by default); :meth:`Crossing.release` lets go and keeps the
  velocity.
- :attr:`Crossing.room` (``cm``, ``dm``, ``soyuz_om``), :meth:`Crossing.actions` (the hatch and
  valve actions within reach, each with its label) and :meth:`Crossing.act` (do one; a refusal
  is an :class:`~experience.simulation.airlock.Outcome` with its one line).
- :class:`Guide`: the guided mode, input for visitors who do not steer; :func:`guided_tour`
  runs it headless (``astp tour --headless --json``).
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np

from experience.i18n import N_, _
from experience.mission import cabins, figures
from experience.simulation import airlock as sa
from experience.simulation import handshake
from kernels import crossing as kc

ROOMS = cabins.ROOMS
HATCHES = cabins.HATCHES
REACH_M = 0.7           # a hand reaches this far from the eye
ROOM_NAMES = {"cm": N_("Command Module"), "dm": N_("Docking Module"), "soyuz_om": N_("Soyuz orbital module")}
GUIDED_SPEED_M_S = 0.45
GUIDED_SPEEDUP = 600.0  # the airlock's visible speed-up while the guide waits for the gas
CREW_MARGIN_M = 0.10    # how close the eye comes to a crew member's solid (a drawn segment's box): the
                        # Docking Module, 1.32 m across, holds Stafford and Slayton, and the visitor
                        # finds a way past them only this close (the walls keep the head radius, 0.15 m)


@functools.lru_cache(maxsize=4)
def geometry(body_radius_m: float = cabins.BODY_RADIUS_M) -> cabins.Crossing:
    return cabins.crossing(body_radius_m=body_radius_m)


@functools.lru_cache(maxsize=4)
def volume(body_radius_m: float = cabins.BODY_RADIUS_M) -> kc.Volume:
    """The kernel arrays (host NumPy) of the walkable volume."""
    geo = geometry(body_radius_m)
    cells = geo.cells
    k, h, r = len(cells), len(HATCHES), len(ROOMS)
    lo = np.zeros((k, h))
    hi = np.zeros((k, h))
    for i, c in enumerate(cells):
        if c.lo_hatch:
            lo[i, HATCHES.index(c.lo_hatch)] = 1.0
        if c.hi_hatch:
            hi[i, HATCHES.index(c.hi_hatch)] = 1.0
    cap = np.full(k, body_radius_m + cabins.HATCH_THICKNESS_M / 2)
    room = np.zeros((k, r))
    for i, c in enumerate(cells):
        room[i, ROOMS.index(c.room)] = 1.0
    adj = np.zeros((k, k))
    gate = np.zeros((k, k, h))
    for i, a in enumerate(cells):
        for j, b in enumerate(cells):
            if i == j:
                continue
            if a.y0 <= b.y1 + 1e-9 and b.y0 <= a.y1 + 1e-9:
                adj[i, j] = 1.0
                for hatch in HATCHES:
                    if (a.hi_hatch == hatch and b.lo_hatch == hatch and abs(a.y1 - b.y0) < 1e-9) or \
                       (a.lo_hatch == hatch and b.hi_hatch == hatch and abs(a.y0 - b.y1) < 1e-9):
                        gate[i, j, HATCHES.index(hatch)] = 1.0
    b = body_radius_m
    all_boxes = list(geo.boxes) + [bx for bx, _h in geo.hatch_boxes]
    box_lo = np.array([[c - s / 2 - b for c, s in zip(bx.center, bx.size)] for bx in all_boxes])
    box_hi = np.array([[c + s / 2 + b for c, s in zip(bx.center, bx.size)] for bx in all_boxes])
    box_gate = np.zeros((len(all_boxes), h))
    for i, (_bx, hatch) in enumerate(geo.hatch_boxes):
        box_gate[len(geo.boxes) + i, HATCHES.index(hatch)] = 1.0
    return kc.Volume(
        y0_m=np.array([c.y0 for c in cells]), y1_m=np.array([c.y1 for c in cells]),
        q0=np.array([c.q[0] for c in cells]), q1=np.array([c.q[1] for c in cells]), q2=np.array([c.q[2] for c in cells]),
        lo_gate=lo, hi_gate=hi, gate_cap_m=cap, room=room, adjacency=adj, pair_gate=gate,
        box_lo_m=box_lo, box_hi_m=box_hi, box_gate=box_gate,
        grip_a_m=np.array([g.a for g in geo.grips]), grip_b_m=np.array([g.b for g in geo.grips]),
        obb_c_m=np.zeros((0, 3)), obb_rot=np.zeros((0, 3, 3)), obb_half_m=np.zeros((0, 3)),   # the crews: per pose (Crossing)
    )


@dataclasses.dataclass
class Input:
    """One frame of the visitor's intent (stack frame)."""

    accel_m_s2: tuple[float, float, float] = (0.0, 0.0, 0.0)   # push
    brake: float = 0.0                                        # 0..1
    hand_m: tuple[float, float, float] | None = None          # the holding hand, relative to the eye


@dataclasses.dataclass(frozen=True)
class Action:
    verb: str        # open_hatch, close_hatch, open_valve, close_valve
    target: str      # a hatch or valve of the airlock
    label: str       # what the visitor reads (translated)


@dataclasses.dataclass(frozen=True)
class CrossingReading:
    t_s: float
    room: str
    pos_m: tuple[float, float, float]
    vel_m_s: tuple[float, float, float]
    holding: str | None
    hatches: dict[str, str]
    pressures_mmhg: dict[str, float]


class Crossing:
    """One visitor's crossing: eye position and velocity, the held grip, the airlock."""

    def __init__(self, airlock: sa.Airlock | None = None, start_m=None, motion: kc.Motion | None = None,
                 body_radius_m: float = cabins.BODY_RADIUS_M, crew: bool = True):
        self.geo = geometry(body_radius_m)
        self.vol = volume(body_radius_m)
        self.motion = motion or kc.Motion()
        self.airlock = airlock if airlock is not None else sa.Airlock.at("crossing_start")
        self.pos_m = np.array([start_m if start_m is not None else self.geo.start_m], dtype=np.float64)
        self.vel_m_s = np.zeros((1, 3))
        self.t_s = 0.0
        self._anchor: np.ndarray | None = None
        self._grip: str | None = None
        self._hand: np.ndarray | None = None
        self._open_key = None
        self._open_arr = None
        self._frame = None   # kernels.crossing.frame of the volume for the hatches of _open_key
        self._room_key = None
        self._room = "outside"
        self._zeros3 = np.zeros((1, 3))
        self.crew = crew   # False: the cabins without the crews as solids (movement tests, an empty stack)
        self._crew_key = None
        self._crew_vol = self.vol
        self._crew_solids = ((), np.zeros((0, 3)), np.zeros((0, 3, 3)), np.zeros((0, 3)))
        if not bool(kc.inside(self.vol, self.pos_m, self._hatch_open())[0]):
            raise ValueError(f"start point {self.pos_m[0].tolist()} is outside the walkable volume")

    # -------------------------------------------------------------- state
    def _hatch_open(self) -> np.ndarray:
        h = self.airlock.hatches()
        key = tuple(h[n] == "open" for n in HATCHES)
        if key != self._open_key:
            self._open_key = key
            self._open_arr = np.array([[1.0 if o else 0.0 for o in key]])
            self._frame = kc.frame(self.vol, self._open_arr)   # the same for the volume with the crews
        return self._open_arr

    @property
    def eye_m(self) -> np.ndarray:
        return self.pos_m[0].copy()

    @property
    def room(self) -> str:
        key = (self.pos_m.tobytes(), self._hatch_open().tobytes())
        if key != self._room_key:
            k = int(kc.room_of(self.vol, self.pos_m, self._hatch_open())[0])
            self._room_key, self._room = key, (ROOMS[k] if k >= 0 else "outside")
        return self._room

    @property
    def holding(self) -> str | None:
        return self._grip

    @property
    def story_utc(self):
        """The crossing's story time: the airlock's clock (from 18:29 UTC, advanced at its speed-up)."""
        return self.airlock.utc

    def crew_pose(self) -> handshake.CrewPose:
        """Where the crews are at the crossing's story time (the same as the snapshot's ``crew``)."""
        return handshake.crew_pose(self.story_utc)

    # -------------------------------------------------------------- the crews as solids
    def crew_solids(self) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, np.ndarray]:
        """The crews' solids where the story has them now: (names ``person/segment``, centres
        (M, 3), axes (M, 3, 3), half sizes (M, 3)), one oriented box per drawn segment of Stafford,
        Slayton, Leonov and Kubasov (:func:`experience.mission.figures.segment_solids`: the drawn
        figures' own bounds, posed by the same pose table and blend the scene draws them with)."""
        self._collision_volume()
        return self._crew_solids

    def in_crew(self, point_m=None, margin_m: float = CREW_MARGIN_M) -> str | None:
        """The crew member whose solid, grown by ``margin_m`` (:data:`CREW_MARGIN_M` by default,
        what the collisions keep), holds a point (the eye by default), or None."""
        names, c, rot, half = self.crew_solids()
        p = np.asarray(point_m if point_m is not None else self.pos_m[0], dtype=np.float64)
        b = float(margin_m)
        loc = np.einsum("ci,cik->ck", p[None, :] - c, rot)
        inside = np.all(np.abs(loc) < half + b, axis=1)
        return names[int(np.argmax(inside))].split("/")[0] if inside.any() else None

    def _collision_volume(self) -> kc.Volume:
        """The walkable volume with the crews' solids where the story has them now (grown by
        :data:`CREW_MARGIN_M`): rebuilt only when the crews' pose changes."""
        if not self.crew:
            return self.vol
        cp = self.crew_pose()
        key = (cp.a, cp.b, float(cp.weight))
        if key != self._crew_key:
            names, c, rot, half = figures.segment_solids(cp.a, cp.b, cp.weight)
            self._crew_vol = self.vol._replace(obb_c_m=c, obb_rot=rot, obb_half_m=half + CREW_MARGIN_M)
            self._crew_solids = (names, c, rot, half)
            self._crew_key = key
        return self._crew_vol

    def reading(self) -> CrossingReading:
        return CrossingReading(
            t_s=self.t_s, room=self.room, pos_m=tuple(float(v) for v in self.pos_m[0]),
            vel_m_s=tuple(float(v) for v in self.vel_m_s[0]), holding=self._grip,
            hatches=self.airlock.hatches(), pressures_mmhg=self.airlock.pressures_mmhg())

    # -------------------------------------------------------------- hands
    def grab(self, point_m=None) -> bool:
        """Hold the nearest grip within reach of ``point_m`` (a hand; the eye when None)."""
        p = np.asarray(point_m if point_m is not None else self.pos_m[0], dtype=np.float64).reshape(1, 3)
        pt, d, k = kc.nearest_grip(self.vol, p)
        if float(np.linalg.norm(pt[0] - self.pos_m[0])) > REACH_M or float(d[0]) > REACH_M:
            return False
        self._anchor = pt[0].copy()
        self._grip = self.geo.grips[int(k[0])].name
        self._hand = self._anchor - self.pos_m[0]
        return True

    def release(self) -> None:
        self._anchor = self._grip = self._hand = None

    @property
    def anchor_m(self) -> np.ndarray | None:
        """Where the held grip is held (stack frame), or None."""
        return None if self._anchor is None else self._anchor.copy()

    def grip_near(self, point_m):
        """(name, point, distance) of the grip nearest ``point_m`` (a VR hand)."""
        pt, d, k = kc.nearest_grip(self.vol, np.asarray(point_m, dtype=np.float64).reshape(1, 3))
        return self.geo.grips[int(k[0])].name, pt[0], float(d[0])

    def lean(self, to_m) -> float:
        """The eye moved by the visitor's own head (a VR headset's room-scale motion) towards
        ``to_m``, held by the walls, the closed hatches and the crews; the velocity is kept. Returns how far
        short of ``to_m`` the walls held it (m)."""
        held, _hit = self.hold_inside(self.pos_m[0], to_m, crew=True)
        self.pos_m = held.reshape(1, 3)
        return float(np.linalg.norm(held - np.asarray(to_m, dtype=np.float64)))

    def hold_inside(self, from_m, to_m, crew: bool = False) -> tuple[np.ndarray, bool]:
        """Where a point moved from ``from_m`` (inside the walkable volume) towards ``to_m`` is
        held by the walls and the closed hatches (a VR head's or hand's own tracked offset):
        (the point, whether a wall held it). ``crew``: the crews' solids hold it too (the head);
        a hand or a keepsake may reach a crew member's hand (the handover), so by default not."""
        a = np.asarray(from_m, dtype=np.float64).reshape(1, 3)
        b = np.asarray(to_m, dtype=np.float64).reshape(1, 3)
        h = self._hatch_open()
        out, hit = kc.resolve(self._collision_volume() if crew else self.vol, a, b, h, frame=self._frame, lazy=True)
        return np.asarray(out[0], dtype=np.float64), bool(hit[0])

    def nearest_grip(self):
        """(name, point, distance) of the grip nearest the eye."""
        pt, d, k = kc.nearest_grip(self.vol, self.pos_m)
        return self.geo.grips[int(k[0])].name, pt[0], float(d[0])

    # -------------------------------------------------------------- time
    def step(self, inp: Input | None = None, dt_s: float = 1.0 / 60.0) -> None:
        """Advance one frame: the visitor's input, the collisions, the airlock. Read the result
        with :meth:`reading`, :attr:`room`, :attr:`eye_m`."""
        inp = inp or Input()
        holding = self._anchor is not None
        if holding and inp.hand_m is not None:
            self._hand = np.asarray(inp.hand_m, dtype=np.float64)
        hatch_open = self._hatch_open()
        ctl = kc.Controls(
            accel_m_s2=np.asarray(inp.accel_m_s2, dtype=np.float64).reshape(1, 3) * (0.0 if holding else 1.0),
            brake=np.array([float(inp.brake)]), hatch_open=hatch_open,
            holding=np.array([1.0 if holding else 0.0]),
            anchor_m=(self._anchor if holding else np.zeros(3)).reshape(1, 3),
            hand_m=(self._hand if holding else np.zeros(3)).reshape(1, 3))
        st = kc.step(self._collision_volume(), self.motion, kc.State(self.pos_m, self.vel_m_s), ctl, dt_s, lazy=True,
                     frame=self._frame)
        self.pos_m, self.vel_m_s = st.pos_m, st.vel_m_s
        if holding and float(np.linalg.norm(self._anchor - self.pos_m[0])) > REACH_M + 0.2:
            self.release()   # the grip slipped out of reach (a wall stopped the body)
        self.airlock.advance(dt_s)
        self.t_s += float(dt_s)

    # -------------------------------------------------------------- the airlock, by hand
    def in_hatchway(self, hatch: str) -> bool:
        p = self.pos_m[0]
        rho = math.hypot(p[0], p[2])
        reach = self.geo.body_radius_m + cabins.HATCH_THICKNESS_M
        return any(pl.name == hatch and abs(p[1] - pl.y) < reach and rho < pl.radius for pl in self.geo.hatch_planes)

    def in_hatch_swing(self, hatch: str) -> bool:
        """The eye is where the hatch would swing open (its box grown by the head radius)."""
        p = self.pos_m[0]
        b = self.geo.body_radius_m
        for bx, name in self.geo.hatch_boxes:
            if name == hatch and all(abs(p[i] - bx.center[i]) < bx.size[i] / 2 + b for i in range(3)):
                return True
        return False

    def actions(self) -> list[Action]:
        """What the visitor can do from here: the hatches and valves within reach."""
        out = []
        p = self.pos_m[0]
        lock = self.airlock
        for hatch in HATCHES:
            near = any(pl.name == hatch and math.dist(p, (0.0, pl.y, 0.0)) < REACH_M + pl.radius
                       for pl in self.geo.hatch_planes)
            if not near:
                continue
            name = _(sa.HATCH_NAMES[hatch])
            if lock.hatches()[hatch] == "open":
                out.append(Action("close_hatch", hatch, _("Close the {hatch}").format(hatch=name)))
            else:
                out.append(Action("open_hatch", hatch, _("Open the {hatch}").format(hatch=name)))
                valve = hatch
                verb = "close_valve" if lock.valves()[valve] == "open" else "open_valve"
                text = _("Close the {valve}") if verb == "close_valve" else _("Open the {valve}")
                out.append(Action(verb, valve, text.format(valve=_(sa.VALVE_NAMES[valve]))))
        if self.room == "dm":
            for valve in ("n2_fill", "o2_fill"):
                verb = "close_valve" if lock.valves()[valve] == "open" else "open_valve"
                text = _("Close the {valve}") if verb == "close_valve" else _("Open the {valve}")
                out.append(Action(verb, valve, text.format(valve=_(sa.VALVE_NAMES[valve]))))
        return out

    def act(self, verb: str, target: str) -> sa.Outcome:
        """Operate a hatch or a valve (the airlock's interlocks apply; a hatch does not close on
        the visitor in its hatchway)."""
        lock = self.airlock
        if verb == "open_hatch":
            if self.in_hatch_swing(target):
                return sa.Outcome(False, _("Move clear of the hatch first: it swings open towards you"))
            return lock.open_hatch(target, from_volume=self.room if self.room in ROOMS else None)
        if verb == "close_hatch":
            if self.in_hatchway(target):
                return sa.Outcome(False, _("Move out of the hatchway first"))
            return lock.close_hatch(target)
        if verb in ("open_valve", "close_valve"):
            return lock.set_valve(target, verb == "open_valve")
        raise ValueError(f"unknown action {verb!r}")


def step(crossing: Crossing, inp: Input, dt_s: float) -> CrossingReading:
    """``step(state, input, dt_s)``: :meth:`Crossing.step`, then its :meth:`~Crossing.reading`."""
    crossing.step(inp, dt_s)
    return crossing.reading()


# ------------------------------------------------------------------------------ guided mode
class Guide:
    """Input for the guided crossing: float along the path, run the airlock as Stafford and
    Slayton did (close the Apollo hatch behind you, raise the DM with nitrogen, equalise with the
    Soyuz, open the Soyuz hatch), float on into the orbital module. It starts from wherever the
    visitor is (the next waypoint ahead) and from whatever state the airlock is in.
    ``next_input(crossing, dt_s)`` gives each frame's input and does the actions; ``message`` is
    the line to show; ``done`` at the end."""

    SETTLE_MMHG = 490.0
    # where the guide waits for the hatch opening and watches the handshake: in the DM by its -X,
    # +Z wall, at least 0.3 m from every figure in every pose of the opening (tests/test_crossing.py),
    # the hatchway 1.8 m ahead
    WATCH_M = cabins.DM_WATCH_M
    WATCH_AFTER_S = 5.0   # the handshake plays at real time until this long after it; the guide holds
                          # the visitor until the crews' motion has ended (handshake.settled_s())

    def __init__(self, crossing: Crossing):
        self.path = [np.asarray(p, dtype=np.float64) for _room, p in crossing.geo.guide_path_m]
        d = [float(np.linalg.norm(p - crossing.pos_m[0])) for p in self.path]
        k = int(np.argmin(d))
        # the next waypoint ahead: past the nearest one when the visitor is already beyond it
        ahead = k + 1 if k + 1 < len(self.path) and crossing.pos_m[0][1] >= self.path[k][1] - 0.05 else k
        self.i = max(1, min(ahead, len(self.path)))
        self.phase = "float"
        self.done = False
        self.message = _("Floating to the tunnel")
        self.events: list[tuple[float, str]] = []
        self.look_m: tuple[float, float, float] | None = None   # where a front end may turn the view (the hatchway)
        # the airlock is run from the watch point (the guide path's waypoint there)
        self._airlock_at = next(k for k, (_room, p) in enumerate(crossing.geo.guide_path_m) if tuple(p) == tuple(self.WATCH_M))
        self._planes = crossing.geo.hatch_planes

    @staticmethod
    def crews_settled(c: Crossing) -> bool:
        """The crews' motion after the handshake has ended (Leonov and Stafford in the orbital
        module): the way on from the watch point is free."""
        return (c.story_utc - handshake.event_utc()).total_seconds() >= handshake.settled_s()

    def _event(self, crossing: Crossing, what: str) -> None:
        self.events.append((crossing.t_s, what))

    @staticmethod
    def settled_dm_mmhg(lock: sa.Airlock) -> float:
        """The DM's pressure once its gas is back at the wall temperature (what a crew topping up
        until the gauge stays would read)."""
        r = lock.reading()
        wall = float(lock.kernel_params.wall_temp_k[0, sa.VOLUMES.index("dm")])
        return r.pressures_mmhg["dm"] * wall / r.temperatures_k["dm"]

    def _blocked(self, c: Crossing, target) -> bool:
        """A closed hatch lies between the visitor and the target."""
        y0, y1 = sorted((float(c.pos_m[0][1]), float(target[1])))
        shut = {h for h, v in c.airlock.hatches().items() if v == "closed"}
        return any(pl.name in shut and y0 < pl.y < y1 for pl in self._planes)

    def next_input(self, c: Crossing, dt_s: float) -> Input:
        if self.phase == "float":
            if self.i >= len(self.path):
                self.done = True
                self.message = _("You are in the Soyuz orbital module")
                return Input(brake=1.0)
            target = self.path[self.i]
            d = target - c.pos_m[0]
            dist = float(np.linalg.norm(d))
            # at the watch point (within reach of it: the open Apollo hatch stands by it until it
            # is closed) the airlock is run and the handshake watched; the guide floats on from
            # there only once the crews have moved clear of the way on (a closed hatch ahead is
            # opened the same way)
            at_watch = self.i == self._airlock_at and dist < 0.12 and not self.crews_settled(c)
            if self._blocked(c, target) or at_watch:
                self.phase = "airlock"
                return Input(brake=1.0)
            if dist < 0.06:
                self.i += 1
                if self.i >= 4:
                    self.message = _("Floating through the Docking Module")
                return Input(brake=1.0)
            v_want = d / max(dist, 1e-9) * min(GUIDED_SPEED_M_S, 1.2 * dist)
            return Input(accel_m_s2=tuple((v_want - c.vel_m_s[0]) * 3.0))
        if self.phase == "handshake":
            if float(np.linalg.norm(np.asarray(self.WATCH_M) - c.pos_m[0])) > 0.06:
                return self._to(c, self.WATCH_M)
            # watch the handshake from the Docking Module: the story plays at x10 until just
            # before the hands reach out, then at its own pace until a few seconds after 19:19;
            # then at x10 while Leonov draws Stafford into the orbital module, until the tunnel
            # and the sphere's entrance are free (the last key of the crews' motion)
            dt = (c.story_utc - handshake.event_utc()).total_seconds()
            if dt < self.WATCH_AFTER_S:
                c.airlock.set_speedup(GUIDED_SPEEDUP if dt < -90.0 else 10.0 if dt < -20.0 else 1.0)
                if dt >= 0.0:
                    self.message = _("19:19 UTC: the handshake in the hatchway")
                return Input(brake=1.0)
            if not self.crews_settled(c):
                c.airlock.set_speedup(10.0)
                self.message = _("Leonov draws Stafford into the Soyuz")
                return Input(brake=1.0)
            c.airlock.set_speedup(1.0)
            self.phase = "float"
            self.look_m = None
            self.message = _("On into the Soyuz")
            return Input(brake=1.0)
        return self._airlock(c)

    def _to(self, c: Crossing, target) -> Input:
        d = np.asarray(target, dtype=np.float64) - c.pos_m[0]
        dist = float(np.linalg.norm(d))
        if dist < 0.03:
            return Input(brake=1.0)
        v_want = d / dist * min(GUIDED_SPEED_M_S, 1.2 * dist)
        return Input(accel_m_s2=tuple((v_want - c.vel_m_s[0]) * 3.0))

    @staticmethod
    def hatchway_m() -> tuple[float, float, float]:
        """Where the hands meet at the handshake (crew_figures.toml arrangement.handshake)."""
        from experience.mission import data

        p = data.load_toml("mission/crew_figures.toml")["arrangement"]["handshake"]["handshake_point"]
        return tuple(float(v) for v in p)

    @staticmethod
    def hatch_opens_s() -> float:
        """Seconds from the handshake at which the story's hatch starts to swing."""
        ks = handshake.keys()
        return next(t0 for (t0, _a, h0), (_t1, _b, h1) in zip(ks, ks[1:]) if h1 > h0)

    def _airlock(self, c: Crossing) -> Input:
        """One decision per frame, from the airlock's state, until the Soyuz hatch is open."""
        lock = c.airlock
        brake = Input(brake=1.0)
        if float(np.linalg.norm(c.vel_m_s[0])) > 0.03:
            return brake
        hatches, valves = lock.hatches(), lock.valves()
        if hatches["apollo_dm"] == "open":
            out = c.act("close_hatch", "apollo_dm")
            if out.ok:
                self._event(c, "close_hatch apollo_dm")
            else:   # in the hatchway: float on into the DM first
                return Input(accel_m_s2=(0.0, 0.3, 0.0))
            return brake
        if hatches["dm_soyuz"] == "open":
            self.phase = "float" if self.crews_settled(c) else "handshake"
            return brake
        if lock.hatch_ready("dm_soyuz"):
            # the story's hatch opening: Slayton opens it when the crews' motion has the hatch
            # start to swing (data/mission/handshake.toml); until then the story runs on, fast
            # while the opening is far, at x10 for the last seconds before it
            to_open = self.hatch_opens_s() - (c.story_utc - handshake.event_utc()).total_seconds()
            if to_open > 0.0:
                for v in ("n2_fill",):
                    if lock.valves()[v] == "open":
                        c.act("close_valve", v)
                        self._event(c, f"close_valve {v}")
                lock.set_speedup(GUIDED_SPEEDUP if to_open > 90.0 else 10.0)
                self.message = _("Waiting for Slayton to open the hatch")
                self.look_m = self.hatchway_m()
                return self._to(c, self.WATCH_M)
            if c.act("open_hatch", "dm_soyuz").ok:
                self._event(c, "open_hatch dm_soyuz")
                for v in ("dm_soyuz", "n2_fill"):
                    if lock.valves()[v] == "open":
                        c.act("close_valve", v)
                        self._event(c, f"close_valve {v}")
                lock.set_speedup(10.0)
                self.phase = "handshake"
                self.message = _("The hatch is open: the commanders meet in the hatchway")
            return brake
        lock.set_speedup(GUIDED_SPEEDUP)
        settled = self.settled_dm_mmhg(lock)
        if settled < self.SETTLE_MMHG and valves["dm_soyuz"] == "closed":
            if valves["n2_fill"] == "closed":
                c.act("open_valve", "n2_fill")
                self._event(c, "open_valve n2_fill")
            self.message = _("Raising the Docking Module with nitrogen")
            return brake
        if valves["n2_fill"] == "open":
            c.act("close_valve", "n2_fill")
            self._event(c, "close_valve n2_fill")
        if valves["dm_soyuz"] == "closed":
            c.act("open_valve", "dm_soyuz")
            self._event(c, "open_valve dm_soyuz")
        self.message = _("Equalising with the Soyuz")
        return brake


def crew_arrangement(cp: handshake.CrewPose) -> str:
    """A step's ``crew``: the arrangement shown, or ``a->b`` while the crews move between two."""
    return f"{cp.a}->{cp.b}" if cp.moving else cp.arrangement


def guided_tour(dt_s: float = 1.0 / 30.0, record_every_s: float = 0.5, max_s: float = 400.0) -> dict:
    """Run the guided crossing with scripted input and no window; the tour's JSON record."""
    c = Crossing()
    guide = Guide(c)
    steps, visited = [], []
    next_rec = 0.0

    def record():
        r = c.reading()
        steps.append({"t_s": round(r.t_s, 3), "room": r.room, "pos_m": [round(v, 4) for v in r.pos_m],
                      "hatches": dict(r.hatches), "pressures_mmhg": {k: round(v, 2) for k, v in r.pressures_mmhg.items()},
                      "story_utc": c.story_utc.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z", "crew": crew_arrangement(c.crew_pose())})

    n_events = 0
    handshake_room = None
    while c.t_s <= max_s and not guide.done:
        room = c.room
        if not visited or visited[-1] != room:
            visited.append(room)
        if c.t_s >= next_rec - 1e-9 or len(guide.events) != n_events:
            record()
            next_rec += record_every_s
            n_events = len(guide.events)
        inp = guide.next_input(c, dt_s)
        if handshake_room is None and c.crew_pose().arrangement == "handshake" and c.crew_pose().hatches_open:
            handshake_room = c.room
        c.step(inp, dt_s)
    room = c.room
    if not visited or visited[-1] != room:
        visited.append(room)
    record()
    return {
        "final_room": room,
        "rooms_visited": visited,
        "completed": bool(guide.done and room == "soyuz_om" and "dm" in visited),
        "story_utc_end": c.airlock.reading().utc,
        "handshake_seen_from": handshake_room,
        "events": [{"t_s": round(t, 3), "action": a} for t, a in guide.events],
        "steps": steps,
    }
