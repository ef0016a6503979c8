"""The desktop viewer: the whole mission in a window titled "Handshake in Orbit".

    astp viewer [--at ISO8601 | --event ID] [--size WxH] [--fullscreen] [--language en|ru]
                [--screenshot-dir DIR] [--status-file FILE] [--frames N]

One loop (experience/app/experience.py): Panda3D's ShowBase owns the window and its input; every
frame the input goes to the experience's controls, the story clock moves, the snapshot is taken,
the scene (built once) is updated, the HUD and captions follow, and ShowBase draws. The scene
draws into the window through :class:`~experience.scene.renderer.SceneRenderer` (its three passes
and tone map, the same as the stills); the 2D overlay (DirectGUI on ``aspect2d``) draws on top.

``--status-file`` writes the viewer's state as JSON four times a second (story time, rate,
camera, HUD text, frames; atomically): the window tests read it while they drive the window with
xdotool, and a kiosk supervisor can watch it as a heartbeat.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from experience.errors import AstpError

TITLE = "Handshake in Orbit"
STATUS_PERIOD_S = 0.25
MAX_FRAME_DT_S = 0.1   # a long hitch does not throw the story forward


def add_parser(sub, add_backend) -> None:
    p = sub.add_parser("viewer", help="open the desktop viewer (a window; needs a display)",
                       description="Fly the whole mission in a window: time controls, cameras, HUD, captions.")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--at", metavar="ISO8601", help="start at this UTC instant (default: the handshake, 19:19:00 UTC, 17 July 1975)")
    when.add_argument("--event", metavar="ID", help="start at a timeline event or story preset (e.g. docking_1, docking)")
    p.add_argument("--size", metavar="WxH", help="window size (default: from the settings, 1280x720)")
    p.add_argument("--fullscreen", action="store_true", default=None, help="full screen at the display's own size")
    p.add_argument("--language", metavar="LANG", help="caption and HUD language (en, ru)")
    p.add_argument("--camera", metavar="MODE", help="first camera: orbit, chase, cm_window, soyuz_porthole, free, cabin")
    p.add_argument("--paused", action="store_true", help="start paused")
    p.add_argument("--screenshot-dir", metavar="DIR", help="where F12 saves screenshots (default: your Pictures folder)")
    p.add_argument("--status-file", metavar="FILE", help="write the viewer's state as JSON four times a second (tests, supervisors)")
    p.add_argument("--frames", type=int, metavar="N", help="quit after N frames (tests, benchmarks)")
    p.add_argument("--crossing", choices=("free", "guided"), help="start in the crossing: first person in the Command "
                   "Module at 18:29 UTC on 17 July, to float through the Docking Module airlock into Soyuz (issue #10)")
    add_backend(p)


# ------------------------------------------------------------------------------------------------
def display_problem() -> str | None:
    """Why no window can open here (a sentence), or None when a display is available."""
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return "there is no display ($DISPLAY is not set)"
    if os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        import socket

        disp = os.environ["DISPLAY"]
        host, _, num = disp.rpartition(":")
        num = num.split(".")[0]
        if host in ("", "unix") and num.isdigit():
            path = f"/tmp/.X11-unix/X{num}"
            if not os.path.exists(path):
                return f"the display {disp} is not running (no {path})"
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.settimeout(2.0)
                s.connect(path)
            except OSError:
                return f"the display {disp} does not answer"
            finally:
                s.close()
    return None


def screenshot_dir(override: str | None) -> Path:
    if override:
        return Path(override)
    try:
        import platformdirs

        return Path(platformdirs.user_pictures_dir()) / TITLE
    except Exception:
        return Path.home() / "Pictures" / TITLE


def _write_json_atomic(path: Path, obj) -> None:
    """The status file, replaced atomically each time (experience.outputs, outside the command's batch)."""
    from experience import outputs

    with outputs.immediate():
        outputs.write_output(path, json.dumps(obj, ensure_ascii=False), what="status file")


# ------------------------------------------------------------------------------------------------
class DesktopViewer:
    """The window, its overlay and the frame loop around one :class:`Experience`."""

    def __init__(self, experience, settings, *, size=None, fullscreen=None, status_file=None,
                 shots_dir=None, title: str = TITLE, kiosk: bool = False):
        from experience.scene.renderer import configure_panda

        self.exp = experience
        self.settings = settings
        self.status_file = Path(status_file) if status_file else None
        self.shots_dir = shots_dir
        self.kiosk = kiosk
        configure_panda(onscreen=True)
        from panda3d.core import WindowProperties, loadPrcFileData

        w, h = size or (settings.width, settings.height)
        full = settings.fullscreen if fullscreen is None else fullscreen
        loadPrcFileData("astp viewer", f"window-title {title}\nwin-size {w} {h}\n"
                        f"fullscreen {'#t' if full else '#f'}\nsync-video #t\n")
        from direct.showbase.ShowBase import ShowBase

        from experience.scene import renderer as rmod

        self.base = ShowBase(windowType="none")
        self.base.pipe = rmod.shared_pipe()
        props = WindowProperties.getDefault()
        if full:  # at the display's own size (another size is refused by X servers without that mode)
            dw, dh = self.base.pipe.getDisplayWidth(), self.base.pipe.getDisplayHeight()
            if dw > 0 and dh > 0:
                props.setSize(dw, dh)
        if not self.base.openDefaultWindow(props=props):
            raise AstpError("could not open a window on this display; 'astp doctor' shows what is missing, "
                            "and 'astp render' makes stills without one")
        self.win = self.base.win
        self.base.disableMouse()
        self.base.setBackgroundColor(0, 0, 0, 1)
        for dr in self.win.getDisplayRegions():  # ShowBase's own 3D region: the scene draws its own passes
            if dr.getCamera() == self.base.cam:
                dr.setActive(False)
        from experience.scene.config import RenderConfig

        quality = {"low": dict(earth_segments=128, atmosphere_steps=6, supersample=1),
                   "medium": dict(supersample=1), "high": dict(supersample=2)}.get(settings.quality, {})
        cfg = RenderConfig(size=(self.win.getXSize(), self.win.getYSize()), **quality)
        self.renderer = rmod.SceneRenderer(cfg, window=self.win)
        from experience.app.experience import AppLoop
        from experience.frontends.overlay import Overlay

        self.overlay = Overlay(self.base, self.exp)
        self.loop = AppLoop(self.exp, self.renderer, [self.overlay])
        self._bind_input()
        self._last_status = 0.0
        self._fps = 0.0
        self.frames = 0
        self.screenshots: list[Path] = []
        self._gamepad = None
        self._find_gamepad()
        self.base.accept("window-event", self._window_event)

    # -- input --------------------------------------------------------------------------------------
    def _bind_input(self) -> None:
        c = self.exp.controls
        for name in c.events():
            self.base.accept(name, self._press, [name])
            self.base.accept(f"{name}-up", c.release, [name])
        self.base.accept("connect-device", lambda _dev: self._find_gamepad())
        self.base.accept("disconnect-device", lambda _dev: self._find_gamepad())

    def _press(self, name: str) -> None:
        if self.overlay.consumes(name):
            return
        self.exp.controls.press(name)

    def _find_gamepad(self) -> None:
        from panda3d.core import InputDevice

        if self._gamepad is not None:
            self.base.detachInputDevice(self._gamepad)
            self._gamepad = None
        pads = self.base.devices.getDevices(InputDevice.DeviceClass.gamepad)
        if pads:
            self._gamepad = pads[0]
            self.base.attachInputDevice(self._gamepad, prefix="gamepad")

    def _poll_devices(self) -> None:
        from panda3d.core import InputDevice, MouseButton

        c = self.exp.controls
        mw = self.base.mouseWatcherNode
        if mw.hasMouse():
            p = self.win.getPointer(0)
            over_gui = mw.getOverRegion() is not None
            dragging = mw.isButtonDown(MouseButton.one()) and not over_gui and not self.overlay.scrubbing
            self._pointer_state = {"x": p.getX(), "y": p.getY(), "button1": mw.isButtonDown(MouseButton.one()),
                                   "over_gui": over_gui, "region": str(mw.getOverRegion())}
            c.pointer(p.getX(), p.getY(), dragging)
        touches = [(self.win.getPointer(i).getX(), self.win.getPointer(i).getY())
                   for i in range(1, self.win.getNumInputDevices()) if self.win.getPointer(i).getInWindow()]
        c.touches(touches)
        if self._gamepad is not None:
            A = InputDevice.Axis
            axes = {}
            for name, axis in (("left_x", A.left_x), ("left_y", A.left_y), ("right_x", A.right_x),
                               ("right_y", A.right_y), ("left_trigger", A.left_trigger),
                               ("right_trigger", A.right_trigger)):
                a = self._gamepad.findAxis(axis)
                if a:
                    axes[name] = a.value
            c.axes(axes)

    def _window_event(self, win) -> None:
        if win is not self.win:
            return
        props = win.getProperties()
        if props.getOpen() is False:
            self.exp.ui.quit_requested = True
            return
        w, h = win.getXSize(), win.getYSize()
        if w > 0 and h > 0:
            self.renderer.resize((w, h))
            self.overlay.resize(w, h)

    # -- the frame ------------------------------------------------------------------------------------
    def step(self, dt_wall_s: float) -> None:
        self._poll_devices()
        self.loop.frame(min(dt_wall_s, MAX_FRAME_DT_S))
        self.base.taskMgr.step()   # ShowBase's tasks: events, the GUI, and drawing the frame
        self.frames += 1
        ui = self.exp.ui
        if ui.screenshot_requested:
            ui.screenshot_requested = False
            self.save_screenshot()
        if ui.fullscreen_requested:
            ui.fullscreen_requested = False
            self.toggle_fullscreen()

    def run(self, max_frames: int | None = None) -> int:
        last = time.perf_counter()
        window_start, window_frames = last, 0
        while not self.exp.ui.quit_requested:
            now = time.perf_counter()
            dt, last = now - last, now
            if now - window_start >= 1.0:  # frames per second over the last second or so
                self._fps = window_frames / (now - window_start)
                window_start, window_frames = now, 0
            window_frames += 1
            self.step(dt)
            if self.status_file is not None and now - self._last_status >= STATUS_PERIOD_S:
                self._last_status = now
                self.write_status()
            if max_frames is not None and self.frames >= max_frames:
                break
        if self.status_file is not None:
            self.write_status()
        return 0

    # -- outputs ---------------------------------------------------------------------------------------
    def save_screenshot(self) -> Path | None:
        """F12: the window's picture as a PNG named by the story time shown."""
        import numpy as np

        from experience import outputs
        from experience.scene.renderer import write_png

        folder = screenshot_dir(self.shots_dir)
        stamp = self.exp.snapshot.utc.strftime("%Y-%m-%dT%H-%M-%SZ") if self.exp.snapshot else "scene"
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.overlay.notice(f"Screenshot not saved: {folder}: {exc.strerror or exc}")
            return None
        path = folder / f"handshake-in-orbit_{stamp}.png"
        k = 2
        while path.exists():
            path = folder / f"handshake-in-orbit_{stamp}_{k}.png"
            k += 1
        tex = self.win.getScreenshot()
        if tex is None:
            self.overlay.notice("Screenshot not saved: the window gave no picture")
            return None
        w, h = tex.getXSize(), tex.getYSize()
        img = np.frombuffer(bytes(tex.getRamImageAs("RGB")), dtype=np.uint8).reshape(h, w, 3)[::-1]
        try:
            with outputs.immediate():  # complete when taken, not when the viewer closes
                write_png(np.ascontiguousarray(img), path, {"Software": "Handshake in Orbit (desktop viewer)",
                                                             "Creation Time": f"{stamp} (story time, UTC)"})
        except AstpError as exc:
            self.overlay.notice(f"Screenshot not saved: {exc}")
            return None
        self.screenshots.append(path)
        self.overlay.notice_saved(path)
        return path

    def toggle_fullscreen(self) -> None:
        from panda3d.core import WindowProperties

        props = WindowProperties()
        full = not self.win.getProperties().getFullscreen()
        props.setFullscreen(full)
        if full:
            props.setSize(self.base.pipe.getDisplayWidth(), self.base.pipe.getDisplayHeight())
        else:
            props.setSize(self.settings.width, self.settings.height)
        self.win.requestProperties(props)

    def status(self) -> dict:
        exp = self.exp
        snap = exp.snapshot
        cam = exp.camera
        pl = exp.placement
        return {
            "frames": self.frames, "fps": round(self._fps, 2),
            "t_s": exp.playback.t_s, "utc": snap.utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if snap else None,
            "rate": exp.playback.rate, "paused": exp.playback.paused,
            "camera": {"mode": cam.mode, "placement": pl.view if pl else None,
                       "orbit_yaw_deg": cam.orbit_yaw_deg, "orbit_pitch_deg": cam.orbit_pitch_deg,
                       "orbit_distance_m": cam.orbit_distance_m, "fov_deg": cam.fov_deg,
                       "basis": pl.basis.tolist() if pl is not None else None},
            "vehicles": sorted(snap.vehicles) if snap else [],
            "hud": self.overlay.texts(), "language": exp.ui.language, "units": exp.ui.units,
            "help_visible": exp.ui.help_visible, "screenshots": [str(p) for p in self.screenshots],
            "window": {"width": self.win.getXSize(), "height": self.win.getYSize(),
                       "fullscreen": bool(self.win.getProperties().getFullscreen())},
            "events_seen": exp.controls.events_seen, "pointer": getattr(self, "_pointer_state", None),
            "timings_ms": {"clock_snapshot": round(self.loop.timings.clock_snapshot_ms, 3),
                           "scene_update": round(self.loop.timings.scene_update_ms, 3),
                           "overlays": round(self.loop.timings.overlays_ms, 3)},
            "pid": os.getpid(), "wall_time": time.time(),
            "crossing": self._crossing_status(),
        }

    def _crossing_status(self) -> dict | None:
        """The crossing's state while it is on (issue #10): room, eye, hatches, pressures, guide."""
        mode = getattr(self.exp, "crossing", None)
        if mode is None:
            return None
        r = mode.crossing.reading()
        return {"room": r.room, "pos_m": list(r.pos_m), "vel_m_s": list(r.vel_m_s), "holding": r.holding,
                "hatches": r.hatches, "pressures_mmhg": r.pressures_mmhg, "guided": mode.guide is not None,
                "lines": mode.hud_lines(), "keepsakes": mode.keepsakes.report()}

    def write_status(self) -> None:
        try:
            _write_json_atomic(self.status_file, self.status())
        except OSError as exc:
            print(f"astp: cannot write the status file {self.status_file}: {exc.strerror or exc}", file=sys.stderr)
            self.status_file = None

    def close(self) -> None:
        self.overlay.destroy()
        self.renderer.close()
        self.base.destroy()


# ------------------------------------------------------------------------------------------------
def start_time_args(args):
    """(start event id or None, start UTC or None) from --at / --event."""
    from experience.mission.clock import parse_utc

    if getattr(args, "at", None):
        return None, parse_utc(args.at, what="--at time")
    return getattr(args, "event", None), None


def main_job_args(args):
    """The viewer's arguments for the main job: the handshake, settings' defaults."""
    import argparse

    return argparse.Namespace(at=None, event="handshake", size=None, fullscreen=None, language=None, camera=None,
                              paused=False, screenshot_dir=None, status_file=None, frames=None, crossing=None,
                              backend=getattr(args, "backend", None))


def run_crossing(args) -> int:
    """``astp tour`` with a window: the viewer in the crossing's guided mode."""
    ns = main_job_args(args)
    ns.event, ns.crossing = None, "guided"
    return cmd_viewer(ns)


def cmd_viewer(args) -> int:
    from experience.app import settings as settings_mod
    from experience.app.cameras import MODES
    from experience.backend import select_backend
    from experience.scene.config import parse_size

    problem = display_problem()
    if problem:
        raise AstpError(f"cannot open the viewer: {problem}; run it on a desktop, or make stills with "
                        "'astp render' (the main job 'astp' does that by itself)")
    settings = settings_mod.load(notice=lambda m: print(m, file=sys.stderr))
    size = parse_size(args.size) if args.size else None
    language = args.language or settings.language
    from experience.app.settings import _languages

    if language not in _languages():
        raise AstpError(f"unknown language {language!r}; choose one of: {', '.join(_languages())}")
    if args.camera and args.camera not in MODES:
        raise AstpError(f"unknown camera {args.camera!r}; choose one of: {', '.join(MODES)}")
    if args.frames is not None and args.frames < 1:
        raise AstpError("--frames must be at least 1")
    if args.status_file:
        folder = Path(args.status_file).parent
        if not folder.is_dir():
            raise AstpError(f"cannot write {args.status_file}: the folder {folder} does not exist; create it first")
    event, at = start_time_args(args)
    from experience.app.experience import Experience
    from experience.simulation.ephemeris import Ephemeris

    eph = Ephemeris(backend=select_backend(args.backend, notice=lambda _m: None))
    exp = Experience(eph, language=language, units=settings.units, bindings=settings.keys,
                     mouse_sensitivity=settings.mouse_sensitivity)
    if event:
        exp.playback.jump(event)
    elif at is not None:
        exp.playback.seek(eph.clock.t_s(at))
    if args.camera:
        exp.camera.set_mode(args.camera)
    if getattr(args, "crossing", None):
        from experience.app.crossing import CrossingMode

        mode = CrossingMode(exp, guided=args.crossing == "guided")
        if not event and at is None:
            exp.playback.seek(eph.clock.t_s(mode.crossing.airlock.utc))
    if args.paused:
        exp.playback.paused = True
    viewer = DesktopViewer(exp, settings, size=size, fullscreen=args.fullscreen, status_file=args.status_file,
                           shots_dir=args.screenshot_dir)
    try:
        return viewer.run(args.frames)
    finally:
        viewer.close()
