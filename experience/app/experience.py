"""The one application loop of every interactive front end.

    input -> story clock -> snapshot -> scene update -> render

:class:`Experience` is the state of one visitor's session, with no window: the story time
(:class:`~experience.app.playback.Playback`), the camera (:class:`~experience.app.cameras.CameraRig`),
the UI toggles (:class:`~experience.app.controls.UiState`) and the input layer
(:class:`~experience.app.controls.Controls`). :meth:`Experience.step` advances it by one frame and
returns the frame's snapshot and camera placement.

:class:`AppLoop` joins an experience to a scene (:class:`~experience.scene.renderer.SceneRenderer`,
built once and only updated per frame) and to the front end's overlays (HUD, captions): its
:meth:`AppLoop.frame` is the whole per-frame work except the drawing itself, which the front end
does its own way (the desktop window's ShowBase loop, an offscreen buffer for scripted runs and
recorded tours, two eye buffers for VR). It measures where each frame's CPU time goes
(``timings``): the benchmark and the kiosk's status read it.
"""

from __future__ import annotations

import dataclasses
import time

from experience.app.cameras import CameraRig
from experience.app.controls import Controls, UiState
from experience.app.playback import Playback


@dataclasses.dataclass
class FrameTimings:
    """Milliseconds of the last frame, and running sums for averages."""

    clock_snapshot_ms: float = 0.0
    scene_update_ms: float = 0.0
    overlays_ms: float = 0.0
    frames: int = 0
    sum_clock_snapshot_ms: float = 0.0
    sum_scene_update_ms: float = 0.0

    def add(self, snap_ms: float, scene_ms: float, overlay_ms: float) -> None:
        self.clock_snapshot_ms, self.scene_update_ms, self.overlays_ms = snap_ms, scene_ms, overlay_ms
        self.frames += 1
        self.sum_clock_snapshot_ms += snap_ms
        self.sum_scene_update_ms += scene_ms


class Experience:
    """One visitor's session: story time, camera, UI state and input, over one simulation."""

    def __init__(self, eph=None, *, start: str = "handshake", language: str = "en", units: str = "metric",
                 languages: tuple[str, ...] = ("en", "ru"), bindings=None, mouse_sensitivity: float = 1.0,
                 disabled_actions: tuple[str, ...] = ()):
        from experience.simulation.ephemeris import Ephemeris
        from experience.simulation.live import LiveSimulation

        self.eph = eph or Ephemeris()
        self.live = LiveSimulation(self.eph)
        self.start = start
        self.playback = Playback.at_event(start, clock=self.eph.clock)
        self.camera = CameraRig()
        self.ui = UiState(language=language, languages=languages, units=units)
        self.controls = Controls(self, bindings, mouse_sensitivity, disabled_actions)
        self.snapshot = None
        self.placement = None
        self.frames = 0
        self.jumps = 0
        self.crossing = None   # the crossing mode while it is on (experience/app/crossing.py, issue #10)

    @property
    def clock(self):
        return self.eph.clock

    def step(self, dt_wall_s: float):
        """One frame: input already fed to :attr:`controls`; returns (snapshot, placement)."""
        self.controls.update(dt_wall_s)
        if self.crossing is not None:
            self.crossing.update(self, dt_wall_s)
        t_s = self.playback.advance(dt_wall_s)
        self.snapshot = self.live.snapshot(t_s)
        self.placement = self.camera.placement(self.snapshot)
        self.frames += 1
        return self.snapshot, self.placement

    def notify_jump(self) -> None:
        """The story jumped (an event, a preset): counted, for the HUD's caption to restart."""
        self.jumps += 1

    def reset(self) -> None:
        """Back to the start of a session: time, camera, UI (the kiosk's idle reset)."""
        if self.crossing is not None:
            self.crossing.stop()
        default_lang = self.ui.languages[0] if self.ui.languages else "en"
        self.playback = Playback.at_event(self.start, clock=self.eph.clock)
        self.camera = CameraRig()
        self.ui = UiState(language=default_lang, languages=self.ui.languages, units=self.ui.units)
        self.controls.held.clear()


class AppLoop:
    """An :class:`Experience` joined to its scene and overlays; :meth:`frame` per frame."""

    def __init__(self, experience: Experience, renderer, overlays=()):
        self.exp = experience
        self.renderer = renderer
        self.overlays = list(overlays)
        self.timings = FrameTimings()

    def frame(self, dt_wall_s: float):
        """Input was fed; advance the story, update the scene and the overlays (not the draw)."""
        t0 = time.perf_counter()
        snapshot, placement = self.exp.step(dt_wall_s)
        t1 = time.perf_counter()
        cross = getattr(self.exp, "crossing", None)
        vehicles = getattr(self.renderer, "vehicles", None)
        if cross is not None:
            cross.prepare_scene(self.renderer)
        elif getattr(vehicles, "crossing_hatches", None) is not None:
            vehicles.set_crossing(None)   # the crossing ended: the story's own configuration again
        self.renderer.prepare(snapshot, placement=placement)
        if cross is not None and hasattr(cross, "scene_prepared"):
            cross.scene_prepared(self.renderer)   # what is placed in this frame's render frame (the keepsakes)
        t2 = time.perf_counter()
        for overlay in self.overlays:
            overlay.update(self.exp)
        t3 = time.perf_counter()
        self.timings.add((t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3)
        return snapshot, placement

    def render_offscreen(self, dt_wall_s: float):
        """:meth:`frame`, then draw into the renderer's offscreen buffer and read it back:
        the scripted runs' and the recorded tours' form. Returns (H, W, 3) uint8."""
        self.frame(dt_wall_s)
        self.renderer.render_frame()
        return self.renderer.read()
