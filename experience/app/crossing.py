"""The crossing on the one application loop: first person from the Command Module through the
Docking Module airlock into the Soyuz orbital module (issue #10; docs/crossing.md).

:class:`CrossingMode` joins an :class:`~experience.app.experience.Experience` to one
:class:`~experience.simulation.crossing.Crossing`. While it is on (``exp.crossing``), the camera is
the ``cabin`` camera with its eye on the crossing's eye, and every frame (``update``, called from
``Experience.step``):

- the movement keys / left stick (``Controls`` turns them into a wanted eye displacement through
  ``CameraRig.cabin_constraint``, which this mode takes over) become a push along the camera's
  axes; momentum carries on, gently damped, within the speed caps; the look (mouse drag, right
  stick) stays the camera's own, with no forced roll;
- ``crossing_grab`` (G) holds the nearest handrail or hatch rim within reach, or lets go; while
  holding, pushing forward pulls you along (the hand moves back towards you), and letting go
  keeps the speed;
- ``crossing_brake`` (B) switches the brake on or off; ``crossing_use`` (F) does the first hatch or valve action
  within reach (the airlock's interlocks answer with one line on screen);
- ``crossing_guide`` (T) switches the guided mode on or off (it floats you along the path and
  runs the airlock); ``crossing_speedup`` (X) steps the airlock's visible speed-up;
- ``crossing_keepsake`` (K) takes the nearest keepsake within reach (the plaque halves and flags,
  experience/simulation/keepsakes.py, the same model VR drives with both hands) into the visitor's
  one desktop hand, held in front of the eye, or lets it go: from the handshake on, with Leonov's
  hand within reach, it is handed over (the plaque halves join, the flags are exchanged), else it
  floats where it was let go.

``prepare_scene(renderer)`` hands the hatches and the room's lamp to the scene before it is drawn
(``AppLoop.frame``). The VR front end drives the same :class:`Crossing` with hand poses
(``Crossing.grab(hand_point)``, ``Input(hand_m=...)``: experience/app/vr_crossing.py) and puts
this mode on the loop with ``external=True``: it then keeps the language and ``prepare_scene``
(each eye's scene) and leaves the camera, the keys and the stepping to that driver.
"""

from __future__ import annotations

import math

import numpy as np

from experience import i18n
from experience.i18n import _
from experience.mission import data
from experience.mission import figures
from experience.simulation import crossing as sim
from experience.simulation import handshake
from experience.simulation import keepsakes as ks

PUSH_M_S2 = 0.8            # a push from the keys or the stick
PULL_M_S = 0.6             # how fast the hand draws back while pulling
MESSAGE_S = 4.0
LOOK_DEG_S = 40.0          # how fast the guide turns the view towards the hatchway
HAND_AHEAD_M = 0.38        # the desktop hand: this far ahead of the eye ...
HAND_BELOW_M = 0.14        # ... and this far below the line of sight


def room_lamps() -> dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]]:
    """Each room's lamp: (position in the stack frame, linear RGB), from data/mission/crossing.toml."""
    raw = data.load_toml("mission/crossing.toml")["lamp"]
    return {room: (tuple(float(v) for v in e["position_m"]["value"]), tuple(float(v) for v in e["color_rgb"]["value"]))
            for room, e in raw.items()}


class CrossingMode:
    """The crossing driven by the desktop's (or the kiosk's) controls on one Experience."""

    def __init__(self, exp, crossing: sim.Crossing | None = None, guided: bool = False, external: bool = False):
        self.exp = exp
        self.external = external   # another driver (the VR hands) steps the crossing and places the eye
        self.crossing = crossing or sim.Crossing()
        self.guide: sim.Guide | None = sim.Guide(self.crossing) if guided else None
        self.message = ""
        self._message_until = 0.0
        self._wanted = np.zeros(3)
        self._brake = False
        self._lamps = room_lamps()
        c = self.crossing
        self.keepsakes = ks.Keepsakes(c.eye_m, hold=c.hold_inside, receiver_m=self.leonov_hand_m())
        self._hand_at: np.ndarray | None = None   # the desktop hand this frame, where the K key moved it
        self._handheld = None                     # the scene's keepsakes and hand (built with the renderer)
        cam = exp.camera
        cam.set_mode("cabin")
        cam.cabin_eye_m = self.crossing.eye_m
        exp.crossing = self
        if external:
            return
        cam.cabin_yaw_deg, cam.cabin_pitch_deg = 0.0, 20.0   # up the CM towards the tunnel
        cam.cabin_constraint = self._constraint

    # -- input -----------------------------------------------------------------------------------
    def _constraint(self, wanted_m):
        """The camera's movement becomes the push's direction; the eye stays where the crossing is."""
        self._wanted = self._wanted + (np.asarray(wanted_m, dtype=np.float64) - self.exp.camera.cabin_eye_m)
        return self.exp.camera.cabin_eye_m

    def action(self, name: str) -> None:
        c = self.crossing
        if name == "crossing_grab":
            if c.holding:
                c.release()
            elif not c.grab():
                self.say(_("Nothing to hold within reach"))
        elif name == "crossing_use":
            acts = c.actions()
            if not acts:
                self.say(_("No hatch or valve within reach"))
                return
            a = acts[0]
            out = c.act(a.verb, a.target)
            self.say(out.message if not out.ok else a.label)
        elif name == "crossing_brake":
            self._brake = not self._brake
        elif name == "crossing_guide":
            self.guide = None if self.guide else sim.Guide(c)
        elif name == "crossing_keepsake":
            self._keepsake_key()
        elif name == "crossing_speedup":
            from experience.simulation.airlock import SPEEDUPS

            k = SPEEDUPS.index(c.airlock.speedup) if c.airlock.speedup in SPEEDUPS else 0
            c.airlock.set_speedup(SPEEDUPS[(k + 1) % len(SPEEDUPS)])
            self.say(c.airlock.speedup_label())

    # -- the keepsakes -----------------------------------------------------------------------------
    def leonov_hand_m(self) -> np.ndarray:
        """Leonov's right palm where the story has him now (the pose table, as the scene draws him)."""
        cp = self.crossing.crew_pose()
        root, rots = figures.blend(cp.a, cp.b, cp.weight)["leonov"]
        hgt = figures.stature("leonov")
        h = figures.forward_kinematics(hgt, rots, root)["hand_r"]
        return h[:3, :3] @ figures.grip_point(hgt, "r") + h[:3, 3]

    def receiving(self) -> bool:
        """Leonov takes keepsakes from the handshake on (the crossing's story time)."""
        return self.crossing.story_utc >= handshake.event_utc()

    def hand_m(self) -> np.ndarray:
        """The visitor's desktop hand: ahead of the eye and a little below the line of sight."""
        cam = self.exp.camera
        yaw, pitch = math.radians(cam.cabin_yaw_deg), math.radians(cam.cabin_pitch_deg)
        ahead = np.array([-math.sin(yaw) * math.cos(pitch), math.cos(yaw) * math.cos(pitch), math.sin(pitch)])
        down = np.array([math.sin(yaw) * math.sin(pitch), -math.cos(yaw) * math.sin(pitch), math.cos(pitch)])
        eye = self.crossing.eye_m
        want = eye + ahead * HAND_AHEAD_M - down * HAND_BELOW_M
        return self.crossing.hold_inside(eye, want)[0]

    def _ks_update(self, pos_m, closed: bool, dt_s: float) -> list:
        hand = ks.Hand(np.asarray(pos_m, dtype=np.float64), np.eye(3), 1.0 if closed else 0.0)
        return self.keepsakes.update({"right": hand}, dt_s, hold=self.crossing.hold_inside,
                                     receiver_m=self.leonov_hand_m(), receiving=self.receiving(),
                                     eye_m=self.crossing.eye_m)

    def _keepsake_key(self) -> None:
        """K: take the nearest keepsake within reach, or let the held one go (handed over at
        Leonov's hand from the handshake on)."""
        c, k = self.crossing, self.keepsakes
        eye = c.eye_m
        events = []
        if k.held("right") is None:
            iid, d = k.nearest(eye, receiving=self.receiving())
            if iid is None or d > sim.REACH_M:
                self.say(_("No keepsake within reach"))
                return
            at = k.items[iid].pos_m.copy()
            events += self._ks_update(at, False, 1e-3)    # the hand reaches out, open ...
            events += self._ks_update(at, True, 1e-3)     # ... and closes on it
        else:
            leonov = self.leonov_hand_m()
            at = leonov if self.receiving() and np.linalg.norm(leonov - eye) <= sim.REACH_M else self.hand_m()
            events += self._ks_update(at, True, 1e-3)     # the hand moves there, still closed ...
            events += self._ks_update(at, False, 1e-3)    # ... and opens
        lines = [ks.notice_for(e) for e in events]
        lines = [ln for ln in lines if ln]
        if lines:
            self.say(lines[-1])

    def say(self, text: str) -> None:
        self.message = text
        self._message_until = self.crossing.t_s + MESSAGE_S

    # -- per frame ---------------------------------------------------------------------------------
    def update(self, exp, dt_wall_s: float) -> None:
        c = self.crossing
        dt = min(max(float(dt_wall_s), 0.0), 0.1)
        if i18n.current_language() != exp.ui.language:
            i18n.set_language(exp.ui.language)   # the airlock's and the crossing's lines follow the visitor's language
        if self.external:
            return
        cam = exp.camera
        if cam.mode != "cabin":
            return
        if self.guide is not None:
            inp = self.guide.next_input(c, dt)
            if self.guide.look_m is not None:
                self._turn_towards(self.guide.look_m, dt)
            if self.guide.done:
                self.guide = None
        else:
            wanted = self._wanted
            n = float(np.linalg.norm(wanted))
            direction = wanted / n if n > 1e-12 else np.zeros(3)
            inp = sim.Input(brake=1.0 if self._brake else 0.0)
            if c.holding:
                # pulling: the holding hand draws back along the push, so the body goes forward
                hand = c._hand - direction * PULL_M_S * dt if c._hand is not None else None
                inp.hand_m = tuple(hand) if hand is not None else None
            else:
                inp.accel_m_s2 = tuple(direction * PUSH_M_S2)
        self._wanted = np.zeros(3)
        if dt > 0.0:
            c.step(inp, dt)
        cam.cabin_eye_m = c.eye_m
        # the keepsakes: the held one follows the desktop hand, the loose ones float on
        self._ks_update(self.hand_m(), self.keepsakes.held("right") is not None, max(dt, 1e-6))

    def _turn_towards(self, target_m, dt_s: float) -> None:
        """Turn the view gently (no roll, at most LOOK_DEG_S) towards a point: the guide shows the
        visitor the hatchway while the hatch opens and the commanders shake hands."""
        cam = self.exp.camera
        d = np.asarray(target_m, dtype=np.float64) - self.crossing.eye_m
        d = d / max(float(np.linalg.norm(d)), 1e-9)
        yaw, pitch = math.degrees(math.atan2(-d[0], d[1])), math.degrees(math.asin(max(-1.0, min(1.0, d[2]))))
        step = LOOK_DEG_S * dt_s
        dyaw = (yaw - cam.cabin_yaw_deg + 180.0) % 360.0 - 180.0
        cam.cabin_yaw_deg += max(-step, min(step, dyaw))
        cam.cabin_pitch_deg += max(-step, min(step, pitch - cam.cabin_pitch_deg))

    def prepare_scene(self, renderer) -> None:
        vehicles = getattr(renderer, "vehicles", None)
        if vehicles is not None and hasattr(vehicles, "set_crossing"):
            room = self.crossing.room
            vehicles.set_crossing(self.crossing.airlock.hatches(), self._lamps.get(room), self.crossing.airlock.pressures_mmhg(),
                                  crew=self.crossing.crew_pose(), room=room)

    def scene_prepared(self, renderer) -> None:
        """After the scene is placed for this frame (``AppLoop.frame``): the keepsakes (and the
        desktop hand while it holds one) into it (experience/scene/handheld.py, as VR draws them;
        VR, ``external``, draws its own)."""
        if self.external:
            return
        vehicles = getattr(renderer, "vehicles", None)
        frame = getattr(renderer, "frame", None)
        state = self.exp.snapshot.vehicles.get("apollo") if getattr(self.exp, "snapshot", None) is not None else None
        if vehicles is None or frame is None or state is None or not hasattr(vehicles, "root"):
            return
        if self._handheld is None:
            from experience.scene.handheld import Handheld

            self._handheld = Handheld(vehicles.root, self.keepsakes.table["item"])
        items = [(iid, m, st) for iid, _spec, m, st in self.keepsakes.drawn()]
        hands = {}
        if self.keepsakes.held("right") is not None:
            m = np.eye(4)
            m[:3, 3] = self.hand_m()
            hands["right"] = {"matrix": m, "closed": True}
        self._handheld.update(frame, state, items, hands)

    # -- what the visitor reads ----------------------------------------------------------------------
    def hud_lines(self) -> list[str]:
        c = self.crossing
        r = c.reading()
        p = r.pressures_mmhg
        room = _(sim.ROOM_NAMES.get(r.room, r.room)) if r.room in sim.ROOM_NAMES else r.room
        lines = [_("You are in the {room}").format(room=room),
                 _("Pressure: CM {cm:.0f}, DM {dm:.0f}, Soyuz {so:.0f} mmHg").format(cm=p["cm"], dm=p["dm"], so=p["soyuz_om"]),
                 c.airlock.speedup_label()]
        speed = math.hypot(*r.vel_m_s)
        if c.holding:
            lines.append(_("Holding on"))
        elif speed > 0.02:
            lines.append(_("Gliding at {v:.1f} m/s").format(v=speed))
        if self.guide is not None:
            lines.append(self.guide.message)
        else:
            acts = c.actions()
            if acts:
                lines.append(_("Press F: {action}").format(action=acts[0].label))
        if self.message and c.t_s < self._message_until:
            lines.append(self.message)
        return lines

    def stop(self) -> None:
        if self._handheld is not None:
            self._handheld.root.removeNode()
            self._handheld = None
        exp = self.exp
        exp.crossing = None
        if not self.external:
            exp.camera.cabin_constraint = None
