"""The input layer: devices' events -> named actions -> changes to the experience.

Every front end feeds raw input here and nothing else touches the playback or the camera:

- buttons (keyboard keys, mouse buttons, gamepad buttons) by their Panda3D event names
  (``space``, ``f1``, ``shift-/``, ``gamepad-face_a``...) through :meth:`Controls.press` /
  :meth:`Controls.release`; the bindings (action -> event names, :data:`DEFAULT_BINDINGS`,
  overridden by the settings' ``[keys]`` table) map them to actions;
- pointer motion (mouse, or touch delivered as mouse events) through :meth:`Controls.pointer`:
  a drag with the first button held turns the camera; two touch points pinching
  (:meth:`Controls.touches`) zoom;
- the wheel through :meth:`Controls.wheel`;
- a gamepad's sticks and triggers through :meth:`Controls.axes` (polled each frame from Panda3D's
  device manager, or injected by tests: there is no gamepad on CI).

Actions that happen once (play/pause, next event, a preset, a camera) are applied at once; held
actions (movement) and axes are integrated in :meth:`Controls.update` every frame with the wall
time step, so speed does not depend on the frame rate.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

from experience.app import cameras
from experience.i18n import N_
from experience.app.playback import presets

# action -> default event names. Presets ("preset:<id>") take their keys from presets.toml.
DEFAULT_BINDINGS: dict[str, tuple[str, ...]] = {
    "play_pause": ("space", "gamepad-face_a"),
    "reverse": ("r", "gamepad-face_x"),
    "faster": ("]", "gamepad-dpad_up"),
    "slower": ("[", "gamepad-dpad_down"),
    "next_event": ("page_down", "n", "gamepad-rshoulder"),
    "prev_event": ("page_up", "p", "gamepad-lshoulder"),
    "scrub_forward": ("arrow_right", "gamepad-dpad_right"),
    "scrub_back": ("arrow_left", "gamepad-dpad_left"),
    "camera_next": ("c", "gamepad-face_b"),
    "camera_prev": ("shift-c",),
    "cam_orbit": ("f2",),
    "cam_chase": ("f3",),
    "cam_cm_window": ("f4",),
    "cam_soyuz_porthole": ("f5",),
    "cam_free": ("f6",),
    "cam_cabin": ("f7",),
    "move_forward": ("w", "arrow_up"),
    "move_back": ("s", "arrow_down"),
    "move_left": ("a",),
    "move_right": ("d",),
    "move_up": ("e",),
    "move_down": ("q",),
    "zoom_in": ("+", "shift-=", "wheel_up"),
    "zoom_out": ("_", "shift--", "wheel_down"),
    "brighter": (".",),
    "darker": (",",),
    "help": ("f1", "shift-/", "?", "gamepad-start"),
    "hud": ("h",),
    "language": ("l", "gamepad-back"),
    "units": ("u",),
    "screenshot": ("f12",),
    "fullscreen": ("f11",),
    "quit": ("escape",),
    # the crossing (issue #10; experience/app/crossing.py)
    "crossing_grab": ("g", "gamepad-face_y"),
    "crossing_use": ("f",),
    "crossing_brake": ("b",),
    "crossing_guide": ("t",),
    "crossing_speedup": ("x",),
    "crossing_keepsake": ("k",),
}
HELD = ("move_forward", "move_back", "move_left", "move_right", "move_up", "move_down")
ACTION_HELP = {  # the help overlay's lines (English msgids; translated by the front end)
    "play_pause": N_("Play / pause"),
    "reverse": N_("Reverse time"),
    "faster": N_("Faster (time warp up to 10,000x)"),
    "slower": N_("Slower"),
    "next_event": N_("Next event"),
    "prev_event": N_("Previous event"),
    "scrub_forward": N_("Skip ahead 10 minutes"),
    "scrub_back": N_("Skip back 10 minutes"),
    "camera_next": N_("Next camera"),
    "camera_prev": N_("Previous camera"),
    "cam_orbit": N_("Camera: orbit the stack"),
    "cam_chase": N_("Camera: chase"),
    "cam_cm_window": N_("Camera: Command Module window"),
    "cam_soyuz_porthole": N_("Camera: Soyuz porthole"),
    "cam_free": N_("Camera: free flight"),
    "cam_cabin": N_("Camera: inside the cabins"),
    "move_forward": N_("Move forward (free flight, cabins)"),
    "move_back": N_("Move back"),
    "move_left": N_("Move left"),
    "move_right": N_("Move right"),
    "move_up": N_("Move up"),
    "move_down": N_("Move down"),
    "zoom_in": N_("Zoom in"),
    "zoom_out": N_("Zoom out"),
    "brighter": N_("Brighter"),
    "darker": N_("Darker"),
    "help": N_("Show / hide this help"),
    "hud": N_("Show / hide the displays"),
    "language": N_("English / Russian"),
    "units": N_("Metric / imperial"),
    "screenshot": N_("Save a screenshot"),
    "fullscreen": N_("Full screen"),
    "quit": N_("Quit"),
    "crossing_grab": N_("Crossing: grab / let go of a handrail or hatch rim"),
    "crossing_use": N_("Crossing: operate the hatch or valve within reach"),
    "crossing_brake": N_("Crossing: brake (on / off)"),
    "crossing_guide": N_("Crossing: guided mode on / off"),
    "crossing_speedup": N_("Crossing: airlock time faster"),
    "crossing_keepsake": N_("Crossing: take / let go of a keepsake (from 19:19, hand it to Leonov)"),
}
SCRUB_S = 600.0
DRAG_DEG_PER_PX = 0.25
STICK_DEG_PER_S = 90.0
FREE_SPEED_M_S = 12.0
CABIN_SPEED_M_S = 0.6   # comfort: a slow glide inside the cabins
WHEEL_FACTOR = 1.15


def all_actions() -> tuple[str, ...]:
    return tuple(DEFAULT_BINDINGS) + tuple(f"preset:{p.id}" for p in presets())


def default_bindings() -> dict[str, tuple[str, ...]]:
    out = dict(DEFAULT_BINDINGS)
    for p in presets():
        if p.key:
            out[f"preset:{p.id}"] = (p.key,)
    return out


@dataclasses.dataclass
class UiState:
    """What the visitor toggles besides time and camera (the front end draws it)."""

    language: str = "en"
    languages: tuple[str, ...] = ("en", "ru")
    units: str = "metric"
    help_visible: bool = False
    hud_visible: bool = True
    message: str = ""            # a one-line notice on screen (English msgid or formatted text)
    message_until_s: float = 0.0  # wall clock (front end's) until which it shows
    quit_requested: bool = False
    fullscreen_requested: bool = False
    screenshot_requested: bool = False


class Controls:
    """Routes input to the experience's playback, camera and UI state."""

    def __init__(self, experience, bindings: dict[str, tuple[str, ...]] | None = None,
                 mouse_sensitivity: float = 1.0, disabled: tuple[str, ...] = ()):
        self.exp = experience
        self.bindings = default_bindings() | dict(bindings or {})
        self.by_event: dict[str, str] = {}
        for action, names in self.bindings.items():
            for name in names:
                self.by_event.setdefault(name, action)
        self.sensitivity = float(mouse_sensitivity)
        self.disabled = set(disabled)   # e.g. the kiosk disables "quit"
        self.held: set[str] = set()
        self.stick = {"left_x": 0.0, "left_y": 0.0, "right_x": 0.0, "right_y": 0.0,
                      "left_trigger": 0.0, "right_trigger": 0.0}
        self._drag_from: tuple[float, float] | None = None
        self._pinch_from: float | None = None
        self.listeners: list[Callable[[str], None]] = []  # told of every action (front ends, kiosk idle timer)
        self.events_seen = 0

    # -- buttons -------------------------------------------------------------------------------
    def events(self) -> list[str]:
        """Every event name some action is bound to (what a front end must listen for)."""
        return sorted(self.by_event)

    def press(self, event: str) -> str | None:
        """A button went down; returns the action it triggered (None if unbound)."""
        self.events_seen += 1
        action = self.by_event.get(event)
        if action is None or action in self.disabled:
            return None
        for listener in self.listeners:
            listener(action)
        if action in HELD:
            self.held.add(action)
        else:
            self.apply(action)
        return action

    def release(self, event: str) -> None:
        action = self.by_event.get(event)
        if action in HELD:
            self.held.discard(action)

    def apply(self, action: str) -> None:
        """Carry out one action."""
        exp, pb, cam, ui = self.exp, self.exp.playback, self.exp.camera, self.exp.ui
        if action.startswith("preset:"):
            pb.jump(action.split(":", 1)[1])
            exp.notify_jump()
            return
        simple: dict[str, Callable[[], object]] = {
            "play_pause": pb.toggle_pause, "reverse": pb.reverse, "faster": pb.faster, "slower": pb.slower,
            "scrub_forward": lambda: pb.scrub(seconds=SCRUB_S), "scrub_back": lambda: pb.scrub(seconds=-SCRUB_S),
            "camera_next": lambda: cam.cycle(+1), "camera_prev": lambda: cam.cycle(-1),
            "zoom_in": lambda: cam.zoom(1.0 / WHEEL_FACTOR), "zoom_out": lambda: cam.zoom(WHEEL_FACTOR),
            "brighter": lambda: setattr(cam, "exposure_stops", min(cam.exposure_stops + 0.5, 4.0)),
            "darker": lambda: setattr(cam, "exposure_stops", max(cam.exposure_stops - 0.5, -4.0)),
        }
        if action in simple:
            simple[action]()
        elif action in ("next_event", "prev_event"):
            pb.next_event(+1 if action == "next_event" else -1)
            exp.notify_jump()
        elif action.startswith("cam_"):
            cam.set_mode(action[4:])
        elif action.startswith("crossing_"):
            if getattr(exp, "crossing", None) is None:
                from experience.app.crossing import CrossingMode

                CrossingMode(exp)
            exp.crossing.action(action)
        elif action == "help":
            ui.help_visible = not ui.help_visible
        elif action == "hud":
            ui.hud_visible = not ui.hud_visible
        elif action == "language":
            k = ui.languages.index(ui.language) if ui.language in ui.languages else -1
            ui.language = ui.languages[(k + 1) % len(ui.languages)]
        elif action == "units":
            ui.units = "imperial" if ui.units == "metric" else "metric"
        elif action == "screenshot":
            ui.screenshot_requested = True
        elif action == "fullscreen":
            ui.fullscreen_requested = True
        elif action == "quit":
            ui.quit_requested = True
        else:
            raise ValueError(f"unknown action {action!r}")

    # -- pointer, wheel, touch -------------------------------------------------------------------
    def pointer(self, x_px: float, y_px: float, dragging: bool) -> None:
        """The pointer is at (x, y) window pixels; ``dragging``: the first button is held."""
        if not dragging:
            self._drag_from = None
            return
        if self._drag_from is not None:
            dx, dy = x_px - self._drag_from[0], y_px - self._drag_from[1]
            if dx or dy:
                self.events_seen += 1
                k = DRAG_DEG_PER_PX * self.sensitivity
                # orbit: dragging right moves the camera left around the stack (the stack turns right)
                self.exp.camera.look(-dx * k, dy * k if self.exp.camera.mode == "orbit" else -dy * k)
        self._drag_from = (x_px, y_px)

    def wheel(self, steps: float) -> None:
        self.events_seen += 1
        self.exp.camera.zoom(WHEEL_FACTOR ** (-steps))

    def touches(self, points: list[tuple[float, float]]) -> None:
        """Active touch points (window pixels). Two points pinching zoom the camera."""
        if len(points) != 2:
            self._pinch_from = None
            return
        (x0, y0), (x1, y1) = points
        d = max(((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5, 1.0)
        if self._pinch_from is not None and abs(d - self._pinch_from) > 0.5:
            self.events_seen += 1
            self.exp.camera.zoom(self._pinch_from / d)  # fingers apart: closer
        self._pinch_from = d

    def axes(self, values: dict[str, float]) -> None:
        """A gamepad's axes this frame (-1..1; triggers 0..1), as Panda3D names them."""
        for k, v in values.items():
            if k in self.stick:
                self.stick[k] = float(v)

    # -- per frame -------------------------------------------------------------------------------
    def update(self, dt_wall_s: float) -> None:
        cam = self.exp.camera
        dead = 0.15
        s = {k: (v if abs(v) > dead else 0.0) for k, v in self.stick.items()}
        if any(s.values()):
            self.events_seen += 1
            for listener in self.listeners:
                listener("stick")
        look_x = s["right_x"] + (s["left_x"] if cam.mode == "orbit" else 0.0)
        look_y = s["right_y"] + (s["left_y"] if cam.mode == "orbit" else 0.0)
        if look_x or look_y:
            cam.look(-look_x * STICK_DEG_PER_S * dt_wall_s, look_y * STICK_DEG_PER_S * dt_wall_s)
        zoom = s["right_trigger"] - s["left_trigger"]
        if zoom:
            cam.zoom(WHEEL_FACTOR ** (-zoom * 4.0 * dt_wall_s))
        fwd = ("move_forward" in self.held) - ("move_back" in self.held) + (s["left_y"] if cam.mode != "orbit" else 0.0)
        right = ("move_right" in self.held) - ("move_left" in self.held) + (s["left_x"] if cam.mode != "orbit" else 0.0)
        up = ("move_up" in self.held) - ("move_down" in self.held)
        if fwd or right or up:
            speed = CABIN_SPEED_M_S if cam.mode == "cabin" else FREE_SPEED_M_S
            if cam.mode == "orbit":
                cam.zoom(WHEEL_FACTOR ** (-fwd * 4.0 * dt_wall_s))
            else:
                cam.move(fwd * speed * dt_wall_s, right * speed * dt_wall_s, up * speed * dt_wall_s)


CAMERA_MODES = cameras.MODES
