"""The keepsakes a visitor carries and hands over (issue #11): the halves of the commemorative
plaque and the flags the crews exchanged at the handshake (data/mission/keepsakes.toml, its sources
and this project's choices; docs/vr.md "Keepsakes").

A small pure model (NumPy, no Panda3D), in the stack's model frame (metres, float64). The front
end gives it, per frame, each hand as a :class:`Hand` (where it is, its orientation, how far it is
closed), where the receiving hand (Leonov's right) is and whether he takes things yet (from the
handshake on), and a ``hold(from_m, to_m) -> (point, hit)`` that keeps a point inside the
collision volume (the crossing's :meth:`~experience.simulation.crossing.Crossing.hold_inside`);
it answers with what happened (:class:`Event`) and keeps every keepsake's pose for the scene:

- a hand **closing** within :data:`GRAB_REACH_M` of a keepsake it may take (the visitor's own, loose
  or in the other hand; from the handshake on, what Leonov offers) holds it: the keepsake's pose
  follows that hand, keeping the grip it was taken with. The other hand closing on it takes it
  over (hand to hand);
- a hand **opening** lets go: the keepsake floats on with the hand's velocity (at most
  :data:`THROW_MAX_M_S`), gently damped (:data:`DAMPING_PER_S`, as the visitor's own float),
  held by the collision volume (a wall stops it);
- let go within the handover reach of Leonov's hand, from the handshake on, it is **handed
  over**: a plaque half goes into place against its counterpart (the two halves join into one
  disc in his hand: ``joined``); a flag goes to him (``given``), and the flag he holds is the
  visitor's to take (``taken``). Before the handshake it only floats (``too_early``).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from experience.i18n import N_, _

GRAB_REACH_M = 0.12      # a closing hand takes a keepsake whose centre is this close to the hand
DAMPING_PER_S = 0.6      # the float after a release: the same gentle damping as the visitor's
THROW_MAX_M_S = 0.8      # a released keepsake floats no faster than this
GRIP_CLOSED = 0.6        # a hand's grip value that closes it ...
GRIP_OPEN = 0.4          # ... and opens it again (hysteresis)
DATA_FILE = "mission/keepsakes.toml"
LABELS = {"plaque_apollo": N_("the Apollo half of the plaque"), "plaque_soyuz": N_("the Soyuz half of the plaque"),
          "flag_us": N_("a United States flag"), "flag_ussr": N_("a Soviet flag")}
SAID = {"joined": N_("The two halves of the plaque are joined"), "given": N_("Leonov takes the flag"),
        "taken": N_("You take Leonov's flag"), "too_early": N_("Leonov takes it at the handshake, 19:19 UTC")}


def notice_for(event: "Event") -> str:
    """The line the wrist panel shows for an event, in the visitor's language ('' for none)."""
    if event.what in SAID:
        return _(SAID[event.what])
    if event.what in ("grab", "handed"):
        return _("In your hand: {item}").format(item=_(LABELS.get(event.item, event.item)))
    return ""


@dataclasses.dataclass
class Hand:
    """One hand this frame (model frame): position, orientation (columns: the hand's axes) and grip."""
    pos_m: np.ndarray
    rot: np.ndarray
    grip: float


@dataclasses.dataclass
class Event:
    what: str            # grab | handed | release | joined | given | taken | too_early
    item: str
    hand: str | None = None


@dataclasses.dataclass
class Item:
    id: str
    kind: str            # plaque_half | flag
    owner: str           # visitor | leonov: who has it at the start
    counterpart: str
    spec: dict
    pos_m: np.ndarray
    rot: np.ndarray
    vel_m_s: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(3))
    state: str = "loose"          # loose | held | with_leonov | joined | given
    held_by: str | None = None    # left | right while held
    grip_pos: np.ndarray | None = None   # the keepsake's centre in the holding hand's frame
    grip_rot: np.ndarray | None = None   # its orientation in the hand's frame

    def matrix(self) -> np.ndarray:
        m = np.eye(4)
        m[:3, :3] = self.rot
        m[:3, 3] = self.pos_m
        return m


def load_table() -> dict:
    from experience.mission import data

    return data.load_toml(DATA_FILE)


def _rot_z(deg: float) -> np.ndarray:
    a = math.radians(deg)
    return np.array([[math.cos(a), -math.sin(a), 0.0], [math.sin(a), math.cos(a), 0.0], [0.0, 0.0, 1.0]])


# Where Leonov holds his own keepsakes, and where the visitor's go, relative to his hand (model
# frame: the plaque's face toward the Docking Module, -Y; the flag beside it)
IN_HAND = {"plaque_half": np.array([0.0, -0.02, 0.0]), "flag": np.array([0.0, -0.02, 0.10])}
FACE_DM = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])   # item +Z (its face) -> model -Y


class Keepsakes:
    """The plaque halves and flags of one visitor (see the module's text)."""

    def __init__(self, start_eye_m, table: dict | None = None, *, hold=None, receiver_m=None):
        t = table or load_table()
        self.table = t
        ho = t["handover"]
        self.reach_m = float(ho["reach_m"])
        self.person = ho["person"]
        self.from_event = ho["from_event"]
        eye = np.asarray(start_eye_m, dtype=np.float64)
        self.receiver_m = np.asarray(receiver_m if receiver_m is not None else eye + [0.0, 1.0, 0.0], dtype=np.float64)
        self.items: dict[str, Item] = {}
        for iid, spec in t["item"].items():
            if spec["owner"] == "visitor":
                to = eye + np.asarray(spec.get("start_offset_m", (0.0, 0.3, 0.0)), dtype=np.float64)
                pos = hold(eye, to)[0] if hold is not None else to
                rot = FACE_DM @ _rot_z(180.0) if spec["kind"] == "plaque_half" else FACE_DM.copy()   # facing the visitor
                self.items[iid] = Item(iid, spec["kind"], "visitor", spec["counterpart"], spec, np.asarray(pos, float), rot)
            else:
                it = Item(iid, spec["kind"], "leonov", spec["counterpart"], spec, np.zeros(3), np.eye(3), state="with_leonov")
                self.items[iid] = it
        self._closed: set[str] = set()
        self._last_hand: dict[str, np.ndarray] = {}
        self._hand_vel: dict[str, np.ndarray] = {}
        self.events: list[Event] = []
        self._place_with_leonov()

    # -- queries ----------------------------------------------------------------------------------
    def held(self, hand: str) -> str | None:
        """The keepsake ``hand`` holds, or None."""
        return next((i.id for i in self.items.values() if i.state == "held" and i.held_by == hand), None)

    def nearest(self, pos_m, *, receiving: bool = False) -> tuple[str | None, float]:
        """(id, distance) of the nearest keepsake a hand at ``pos_m`` may take."""
        best, best_d = None, math.inf
        for it in self.items.values():
            if not self._takeable(it, receiving):
                continue
            d = float(np.linalg.norm(it.pos_m - np.asarray(pos_m, dtype=np.float64)))
            if d < best_d:
                best, best_d = it.id, d
        return best, best_d

    def _takeable(self, it: Item, receiving: bool) -> bool:
        if it.state in ("loose", "held"):
            return True
        # what Leonov holds: his flag, offered from the handshake on, once he has the visitor's
        return (receiving and it.state == "with_leonov" and it.kind == "flag"
                and self.items[it.counterpart].state == "given")

    # -- per frame --------------------------------------------------------------------------------
    def update(self, hands: dict, dt_s: float, *, hold=None, receiver_m=None, receiving: bool = False,
               eye_m=None) -> list[Event]:
        """One frame: ``hands`` maps left / right to a :class:`Hand` (or None: not tracked);
        ``receiver_m`` is Leonov's hand, ``receiving`` whether he takes things yet; ``hold``
        keeps points inside the collision volume; ``eye_m`` (the visitor's eye) is where a
        released keepsake is held back from (a hand may reach through a wall the eye may not)."""
        if receiver_m is not None:
            self.receiver_m = np.asarray(receiver_m, dtype=np.float64)
        out: list[Event] = []
        dt = max(float(dt_s), 1e-6)
        for name in ("left", "right"):
            h = hands.get(name)
            if h is None:
                if name in self._closed:
                    self._closed.discard(name)
                    self._let_go(name, None, hold, receiving, eye_m, out)
                self._last_hand.pop(name, None)
                continue
            p = np.asarray(h.pos_m, dtype=np.float64)
            last = self._last_hand.get(name)
            self._hand_vel[name] = np.zeros(3) if last is None else (p - last) / dt
            self._last_hand[name] = p.copy()
            closed = h.grip >= (GRIP_OPEN if name in self._closed else GRIP_CLOSED)
            if closed and name not in self._closed:
                self._closed.add(name)
                iid, d = self.nearest(p, receiving=receiving)
                if iid is not None and d <= GRAB_REACH_M:
                    self._take(name, self.items[iid], h, out)
            elif not closed and name in self._closed:
                self._closed.discard(name)
                self._let_go(name, h, hold, receiving, eye_m, out)
        self.carry(hands)
        self._float(dt_s, hold)
        self._place_with_leonov()
        self.events.extend(out)
        return out

    def carry(self, hands: dict) -> None:
        """Move every held keepsake with its hand (after the body has moved this frame too)."""
        for it in self.items.values():
            if it.state == "held":
                h = hands.get(it.held_by)
                if h is not None:
                    r = np.asarray(h.rot, dtype=np.float64)
                    it.pos_m = np.asarray(h.pos_m, dtype=np.float64) + r @ it.grip_pos
                    it.rot = r @ it.grip_rot

    def _take(self, name: str, it: Item, h: Hand, out: list) -> None:
        was = it.held_by if it.state == "held" else None
        if it.state == "with_leonov":
            out.append(Event("taken", it.id, name))
        r = np.asarray(h.rot, dtype=np.float64)
        it.grip_pos = r.T @ (it.pos_m - np.asarray(h.pos_m, dtype=np.float64))
        it.grip_rot = r.T @ it.rot
        it.state, it.held_by, it.owner = "held", name, "visitor"
        it.vel_m_s = np.zeros(3)
        out.append(Event("handed" if was and was != name else "grab", it.id, name))

    def _let_go(self, name: str, h: Hand | None, hold, receiving: bool, eye_m, out: list) -> None:
        iid = self.held(name)
        if iid is None:
            return
        it = self.items[iid]
        it.held_by = None
        near = float(np.linalg.norm(it.pos_m - self.receiver_m)) <= self.reach_m
        if near and receiving:
            other = self.items[it.counterpart]
            if it.kind == "plaque_half":
                it.state = other.state = "joined"
                out.append(Event("joined", it.id, name))
            else:
                it.state = "given"
                out.append(Event("given", it.id, name))
            it.vel_m_s = np.zeros(3)
            return
        if near:
            out.append(Event("too_early", it.id, name))
        it.state = "loose"
        v = self._hand_vel.get(name, np.zeros(3))
        s = float(np.linalg.norm(v))
        it.vel_m_s = v * (THROW_MAX_M_S / s) if s > THROW_MAX_M_S else v.copy()
        if hold is not None and eye_m is not None:   # a hand may be through a wall: the keepsake stays inside
            it.pos_m = np.asarray(hold(np.asarray(eye_m, dtype=np.float64), it.pos_m)[0], dtype=np.float64)
        out.append(Event("release", it.id, name))

    def _float(self, dt_s: float, hold) -> None:
        k = math.exp(-DAMPING_PER_S * float(dt_s))
        for it in self.items.values():
            if it.state != "loose":
                continue
            it.vel_m_s = it.vel_m_s * k
            to = it.pos_m + it.vel_m_s * float(dt_s)
            if hold is not None:
                p, hit = hold(it.pos_m, to)
                if hit:
                    it.vel_m_s = np.zeros(3)   # a wall stops it (no bounce: gentle)
                it.pos_m = np.asarray(p, dtype=np.float64)
            else:
                it.pos_m = to

    def _place_with_leonov(self) -> None:
        """Leonov's keepsakes, the given flag and the joined plaque in his hand."""
        r = self.receiver_m
        for it in self.items.values():
            if it.state not in ("with_leonov", "joined", "given"):
                continue
            if it.kind == "plaque_half":
                # the disc faces the Docking Module; the Soyuz half's straight edge up, the Apollo
                # half's down: joined, they make one disc
                turn = _rot_z(0.0 if it.spec.get("half") == "soyuz" else 180.0)
                it.rot = FACE_DM @ turn
                it.pos_m = r + IN_HAND["plaque_half"]
            else:
                side = 1.0 if it.state == "given" else -1.0   # the given flag beside his own
                it.rot = FACE_DM.copy()
                it.pos_m = r + IN_HAND["flag"] + [0.06 * side, 0.0, 0.0]

    # -- for the scene and the report -------------------------------------------------------------
    def drawn(self) -> list[tuple[str, dict, np.ndarray, str]]:
        """(id, its data, 4x4 pose in the model frame, state) of every keepsake."""
        return [(it.id, it.spec, it.matrix(), it.state) for it in self.items.values()]

    def report(self) -> dict:
        return {"items": {it.id: {"state": it.state, "held_by": it.held_by,
                                  "pos_m": [round(float(v), 4) for v in it.pos_m]} for it in self.items.values()},
                "events": [dataclasses.asdict(e) for e in self.events[-30:]],
                "receiver_m": [round(float(v), 4) for v in self.receiver_m]}
