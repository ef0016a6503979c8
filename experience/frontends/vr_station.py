"""VR station mode (``vr_station = true``): the museum kiosk around `astp vr`.

One process, one loop, two outputs, one :class:`~experience.app.kiosk.KioskSession`:

- the headset: the VR front end (:class:`experience.frontends.vr.VrFrontEnd`, the crossing from
  the Command Module at 19:10 UTC), subclassed here as :class:`StationFrontEnd` (a head-locked
  card for "press a button to start" and the countdown; a reset of everything a visitor changes);
- the monitor: the kiosk's window (:class:`StationViewer`, a
  :class:`~experience.frontends.kiosk_window.KioskViewer`): the attract loop while nobody is in
  the headset; while a visitor is, the visitor's left eye mirrored full height, with the
  countdown; the operator's corner gesture / Ctrl+Shift+O and PIN as on the touch kiosk.

What drives the session (per loop iteration, after the OpenXR frame):

    controller input (grip, trigger, menu, a stick pushed; FOCUSED only)  -> session.input()
    headset put on                                                          -> session.input()
      (presence back: a new visitor from the loop, or "keep exploring" in the countdown)
    headset removed                                                         -> session.away(): the
                                                                               countdown starts now
    no input for idle_timeout_s                                             -> the countdown (tick)
    countdown over                                                          -> reset of both sides

"Headset on" is judged in one of two ways, chosen when the session opens (reported in the
heartbeat's ``vr.presence``):

- **XR_EXT_user_presence**, where the runtime lists it and the system senses presence
  (experience/xr/session.py enables it and reads ``supportsUserPresence``): the runtime's
  ``XrEventDataUserPresenceChangedEXT`` (the headset's proximity sensor) is the verdict; the first
  one (queued when the session starts running) is a baseline, not an edge;
- **the session states** otherwise: on = VISIBLE/FOCUSED; leaving them (SYNCHRONIZED, STOPPING,
  IDLE: what runtimes do when the proximity sensor trips) is "removed". The first
  VISIBLE/FOCUSED after the station starts is not "put on" (a headset on its hook is focused too
  on most runtimes). Monado 25 does not offer the extension: this path is the one tested for real.

The heartbeat is written every loop iteration (the monitor's frame), with the headset's state in
its content. A runtime lost mid-day: the monitor goes on with the attract loop and the session is
opened again every :data:`RETRY_S` seconds.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

from experience.app import kiosk as K
from experience.errors import AstpError
from experience.frontends.kiosk_window import DISABLED_ACTIONS, KioskViewer
from experience.i18n import N_

ON_STATES = ("VISIBLE", "FOCUSED")
RETRY_S = 10.0
LOG_KEEP = 400
INJECT_ENV = "ASTP_KIOSK_VR_INJECT"   # tests: "HAND:ACTION=VALUE@F0-F1;..." (astp vr --inject), drawn frames
PRESS_TO_START = N_("Press any button to start")
PRESS_TO_KEEP = N_("Press any button to keep exploring")


def _vr():
    from experience.frontends import vr

    return vr


def _front_class():
    """StationFrontEnd: VrFrontEnd's subclass (built here so that vr.py is imported only when the station runs)."""
    vr = _vr()

    class _StationFrontEnd(vr.VrFrontEnd):
        def __init__(self, exp, **kw):
            crossing = vr.crossing_at("cm")
            # one render per eye, never the shared-cull stereo renderer: the monitor's own renderer
            # draws the attract loop in the same process, and a stereo renderer drawn after another
            # renderer's frame at another camera placement draws a wrong view (reproduced with
            # Panda3D 1.10.16: the eyes' matrices of the stereo MatrixLens pick up the other
            # renderer's placement; docs/vr.md). Two one-eye renderers do not disturb each other.
            kw.setdefault("cull", "per-eye")
            super().__init__(exp, crossing=crossing, start_m=tuple(crossing.eye_m), **kw)
            self._turn0 = kw.get("turn", "snap")
            self.mirror = None            # (left eye bytes, bottom-up RGB, (w, h))
            self.card_lines: list[str] = []
            self._card_key = None
            self._card = None

        def _draw(self, info, eye):
            px = super()._draw(info, eye)
            if self.card_lines:
                px = self._with_card(px, eye.size)
            if eye.index == 0:
                self.mirror = (px, eye.size)
            return px

        def _with_card(self, px, size):
            w, h = size
            key = (tuple(self.card_lines), size)
            if key != self._card_key:
                self._card_key, self._card = key, _card_image(self.card_lines, w, h)
            card = self._card
            img = np.frombuffer(px, dtype=np.uint8).reshape(h, w, 3).copy()
            ch, cw = card.shape[:2]
            y0, x0 = (h - ch) // 2, (w - cw) // 2
            a = card[..., 3:4].astype(np.float32) / 255.0
            region = img[y0:y0 + ch, x0:x0 + cw].astype(np.float32)
            img[y0:y0 + ch, x0:x0 + cw] = (region * (1 - a) + card[..., :3] * a).astype(np.uint8)
            return img.tobytes()

        def reset_visitor(self, language: str) -> None:
            """Everything a visitor changes: story time, place and body, the crossing (hatches,
            pressures), the wrist panel, turning, language."""
            from experience.app.crossing import CrossingMode
            from experience.app.vr_crossing import CrossingMovement
            from experience.frontends.vr_wrist import WristPanel
            from experience.mission.clock import parse_utc
            from experience.xr.tracking import TrackingOrigin

            exp = self.exp
            exp.reset()
            exp.playback.seek(exp.eph.clock.t_s(parse_utc(vr.START_UTC)))
            exp.ui.language = language
            crossing = vr.crossing_at("cm")
            self.origin = TrackingOrigin(tuple(crossing.eye_m))
            self.crossing_mode = CrossingMode(exp, crossing, external=True)
            self.movement = CrossingMovement(self.origin, crossing, turn=self._turn0, snap_deg=self.snap_deg)
            self.wrist = WristPanel()
            self.last_intents = None
            self._recentre_was = False
            self._last_wall = None
            self.comfort = 0.0

        def trim(self, keep: int | None = None) -> None:
            """An all-day session: the per-frame logs of VrFrontEnd and its session kept short."""
            super().trim(LOG_KEEP if keep is None else keep)
            for name in ("notices", "actions_done"):
                xs = getattr(self.wrist, name, None)
                if isinstance(xs, list) and len(xs) > 100:
                    del xs[:-50]

    return _StationFrontEnd


def _card_image(lines, w, h) -> np.ndarray:
    """A head-locked card (RGBA, rows bottom-up as the eye pictures) sized to the eye."""
    from PIL import Image, ImageDraw, ImageFont

    from experience.i18n import ui_font_path

    cw, ch = max(40, int(w * 0.7)), max(20, int(h * 0.32))
    img = Image.new("RGBA", (cw, ch), (12, 16, 24, 220))
    d = ImageDraw.Draw(img)
    d.rectangle([1, 1, cw - 2, ch - 2], outline=(255, 158, 46, 255), width=2)
    big = ImageFont.truetype(str(ui_font_path(True)), max(8, ch // 5))
    small = ImageFont.truetype(str(ui_font_path(False)), max(7, ch // 7))
    y = ch // 8
    for i, line in enumerate(lines):
        font = big if i == 0 else small
        tw = d.textlength(line, font=font)
        d.text(((cw - tw) / 2, y), line, font=font, fill=(255, 158, 46, 255) if i == 0 else (235, 238, 245, 255))
        y += int(font.size * 1.35)
    return np.ascontiguousarray(np.asarray(img, dtype=np.uint8)[::-1])


def headset_verdict(vs) -> bool | None:
    """Is the headset on? From XR_EXT_user_presence where the session has it (None until the
    runtime's first presence event), else from the session state (VISIBLE/FOCUSED)."""
    if vs.presence_supported:
        return vs.user_present
    return vs.state in ON_STATES


def _active(hands) -> bool:
    for h in hands.values():
        sx, sy = h.thumbstick
        if h.grip > 0.5 or h.trigger > 0.5 or h.menu or abs(sx) > 0.5 or abs(sy) > 0.5:
            return True
    return False


class Station:
    """The headset side and the rules joining it to the kiosk's session."""

    def __init__(self, config: K.KioskConfig, exp, log, injections=()):
        from experience.app import settings as settings_mod

        self.config = config
        self.exp = exp            # the headset's Experience (the monitor has its own)
        self.log = log
        self.injections = list(injections)
        self.front = None
        self.viewer = None
        self.retry_at = 0.0
        self.opens = 0
        self.headset_on: bool | None = None   # None until the first verdict (a baseline, not an edge)
        self.edges: list[tuple[float, str]] = []
        self.inputs = 0
        self.last_error = ""
        s = settings_mod.Settings()
        self.kw = dict(turn=s.vr_turn, vignette=s.vr_vignette, snap_deg=s.vr_snap_deg, posture="standing",
                       user_presence=True,
                       quality={"low": dict(earth_segments=128, atmosphere_steps=6), "medium": {}, "high": {}}[config.quality])

    def open(self) -> None:
        self.front = _front_class()(self.exp, **self.kw)
        self.opens += 1
        self.headset_on = None
        for hand, action, val, f0, f1 in self.injections:   # as astp vr --inject (tests: no buttons headless)
            if action == "move":
                continue
            if f0 is None:
                self.front.actions.inject(hand, **{action: val})
            else:
                self.front.timed.append((hand, action, val, f0, f1))
        self.injections = []
        self.front.reset_visitor(self.config.default_language)
        self.exp.playback.paused = True
        vs = self.front.vs
        how = (f"headset on/off from {vs.report['user_presence']['source']}" if vs.presence_supported else
               f"headset on/off from the session states ({vs.report.get('user_presence', {}).get('why', '')})")
        self.log(f"VR session open on {vs.report.get('system')} ({vs.report.get('runtime')}); {how}")

    def close(self) -> None:
        if self.front is not None:
            try:
                self.front.close()
            except Exception as exc:  # noqa: BLE001 - closing a lost runtime
                self.log(f"closing the VR session: {exc}")
            self.front = None

    # -- the visitor -------------------------------------------------------------------------------
    def start_visitor(self) -> None:
        if self.front is not None:
            self.front.reset_visitor(self.viewer.exp.ui.language if self.viewer else self.config.default_language)
        self.exp.playback.paused = False

    def reset(self, language: str) -> None:
        if self.front is not None:
            self.front.reset_visitor(language)
        self.exp.ui.language = language
        self.exp.playback.paused = True

    # -- per frame ---------------------------------------------------------------------------------
    def frame(self, session, now: float) -> None:
        if self.front is None:
            if now >= self.retry_at:
                try:
                    self.open()
                except AstpError as exc:
                    self.last_error = str(exc)
                    self.log(f"the VR session cannot be opened: {exc}; trying again in {RETRY_S:.0f} s")
                    self.retry_at = now + RETRY_S
            return
        f = self.front
        f.card_lines = self._card(session, now)
        info = f.vs.run_frame(f._draw)
        if info is not None and info.should_render:
            f.frames += 1
        on = headset_verdict(f.vs)
        if on is None:
            pass                             # the runtime has not said yet (user presence)
        elif self.headset_on is None:
            if on or f.vs.presence_supported:
                self.headset_on = on         # the baseline: a headset on its hook is focused too
        elif on != self.headset_on:
            self.headset_on = on
            self.edges = (self.edges + [(round(now, 2), "on" if on else "off")])[-20:]
            why = "user presence" if f.vs.presence_supported else f"session {f.vs.state}"
            if on:
                self.log(f"headset put on ({why})")
                self._input(session, now)
            else:
                self.log(f"headset removed ({why}): the countdown starts")
                session.away(now)
        if f.vs.state == "FOCUSED" and _active(f.actions.hands()):
            self._input(session, now)
        if f.frames % 100 == 0:
            f.trim()
        if f.vs.done:
            self.last_error = f.vs.lost or "the runtime ended the session"
            self.log(f"VR session ended ({self.last_error}); opening it again in {RETRY_S:.0f} s")
            self.close()
            session.away(now)
            self.retry_at = now + RETRY_S

    def _input(self, session, now: float) -> None:
        before = session.state
        session.input(now)
        self.inputs += 1
        if before == K.ATTRACT and session.state == K.INTERACTIVE and self.viewer is not None:
            self.viewer._start_session()

    def _card(self, session, now: float) -> list[str]:
        _ = KioskViewer.gettext(self.exp.ui.language)
        if session.state == K.ATTRACT:
            return [_(K.TEXT["title"]), _(PRESS_TO_START)]
        if session.state == K.COUNTDOWN:
            return [_(K.TEXT["still_there"]), _(K.TEXT["restart_in"]).format(n=session.countdown_left_s(now)),
                    _(PRESS_TO_KEEP)]
        return []

    def summary(self) -> dict:
        f = self.front
        out = {"open": f is not None, "opens": self.opens, "headset_on": self.headset_on, "edges": self.edges[-10:],
               "inputs": self.inputs, "last_error": self.last_error, "language": self.exp.ui.language,
               "paused": self.exp.playback.paused}
        if f is not None:
            out.update({"presence": f.vs.report.get("user_presence"), "user_present": f.vs.user_present,
                        "state": f.vs.state, "states": f.vs.states_seen[-12:], "submitted": f.vs.stats.submitted,
                        "empty": f.vs.stats.empty, "drawn": f.frames, "system": f.vs.report.get("system"),
                        "cull": f.cull, "stereo_frames": f.stereo_frames,
                        "story_utc": f.exp.snapshot.utc.strftime("%Y-%m-%dT%H:%M:%SZ") if f.exp.snapshot else None})
        return out


class StationViewer(KioskViewer):
    """The kiosk's window as the VR station's monitor."""

    station_mode = True

    def __init__(self, experience, settings, config, *, station: Station, **kw):
        self.station = station
        self._mirror = None
        super().__init__(experience, settings, config, **kw)
        station.viewer = self

    def _on_button(self, button: str) -> None:
        """The monitor is not the way in (the headset is): only the operator's corner taps count."""
        self._corner_tap(button, self.now())
        if self.session.state in (K.PIN_ENTRY, K.OPERATOR):
            self.session.last_input = self.now()

    def _start_session(self) -> None:
        super()._start_session()
        self.station.start_visitor()

    def _reset_visitor(self, default_language: str) -> None:
        super()._reset_visitor(default_language)
        self.station.reset(default_language)

    def _update_mirror(self) -> None:
        f = self.station.front
        show = self.session.state in (K.INTERACTIVE, K.COUNTDOWN) and f is not None and f.mirror is not None
        if not show:
            if self._mirror is not None:
                self._mirror[1].hide()
            return
        from panda3d.core import CardMaker, Texture

        px, (w, h) = f.mirror
        if self._mirror is None or self._mirror[2] != (w, h):
            if self._mirror is not None:
                self._mirror[1].removeNode()
            tex = Texture("vr-mirror")
            tex.setup2dTexture(w, h, Texture.T_unsigned_byte, Texture.F_rgb)
            cm = CardMaker("vr-mirror")
            sx = (w / h) / self.base.getAspectRatio()
            cm.setFrame(-sx, sx, -1, 1)
            node = self.base.render2d.attachNewNode(cm.generate())
            node.setTexture(tex)
            node.setBin("background", 5)
            self._mirror = (tex, node, (w, h))
        tex, node, _size = self._mirror
        tex.setRamImageAs(px, "RGB")
        node.show()

    def step(self, dt_wall_s: float) -> None:
        if self.session.state != K.ATTRACT:   # the monitor's captions follow the visitor's language
            self.exp.ui.language = self.station.exp.ui.language
        self._update_mirror()
        super().step(dt_wall_s)

    def heartbeat_extra(self) -> dict:
        s = self.session
        return {"sessions": s.sessions, "resets": s.resets, "vr": self.station.summary()}

    def status(self) -> dict:
        out = super().status()
        out["vr"] = self.station.summary()
        return out


def run_kiosk_station(config: K.KioskConfig, *, heartbeat=None, status_file=None, size=None, backend=None) -> int:
    """``astp kiosk --config FILE`` with ``vr_station = true``: until the operator exits it."""
    from experience import outputs
    from experience.app import settings as settings_mod
    from experience.app.experience import Experience
    from experience.backend import select_backend
    from experience.frontends.desktop import display_problem
    from experience.frontends.kiosk import EXIT_OPERATOR, EXIT_RESTART
    from experience.scene.config import parse_size
    from experience.simulation.ephemeris import Ephemeris
    from experience.xr.runtime import RuntimeLog

    problem = display_problem()
    if problem:
        raise AstpError(f"cannot open the VR station's monitor window: {problem}; start it in the museum PC's "
                        "desktop session (docs/kiosk.md)")
    hb = Path(heartbeat) if heartbeat else config.log_dir / "heartbeat.json"
    outputs.check_folder(hb.parent, what="kiosk log folder")
    hb.parent.mkdir(parents=True, exist_ok=True)
    injections = _vr()._parse_inject([x for x in os.environ.get(INJECT_ENV, "").split(";") if x.strip()])

    def log(msg: str) -> None:
        print(f"astp kiosk: {msg}", file=sys.stderr, flush=True)

    with RuntimeLog():   # the runtime's C-level messages off the kiosk's log
        eph = Ephemeris(backend=select_backend(backend, notice=lambda _m: None))
        vr_exp = Experience(eph, language=config.default_language, languages=config.languages)
        station = Station(config, vr_exp, log, injections)
        station.open()   # no headset at start: one line, exit 2 (the supervisor tries again)
        viewer = None
        try:
            exp = Experience(eph, language=config.default_language, languages=config.languages,
                             disabled_actions=DISABLED_ACTIONS)
            viewer = StationViewer(exp, settings_mod.Settings(quality=config.quality), config, station=station,
                                   heartbeat=hb, status_file=status_file, size=parse_size(size) if size else None)
            _loop(viewer, station)
        finally:
            if viewer is not None:
                viewer.close()
            station.close()
    if viewer.session.exit_requested == "restart":
        return EXIT_RESTART
    return EXIT_OPERATOR


def _loop(viewer: StationViewer, station: Station) -> None:
    from experience.frontends.desktop import STATUS_PERIOD_S

    last = time.perf_counter()
    window_start, window_frames = last, 0
    while not viewer.exp.ui.quit_requested:
        now = time.perf_counter()
        dt, last = now - last, now
        if now - window_start >= 1.0:
            viewer._fps = window_frames / (now - window_start)
            window_start, window_frames = now, 0
        window_frames += 1
        station.frame(viewer.session, viewer.now())
        viewer.step(dt)
        if viewer.status_file is not None and now - viewer._last_status >= STATUS_PERIOD_S:
            viewer._last_status = now
            viewer.write_status()
    if viewer.status_file is not None:
        viewer.write_status()
