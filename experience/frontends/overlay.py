"""The desktop viewer's 2D overlay (DirectGUI on ``aspect2d``): the HUD panel, the playback rate,
the caption of the moment, the story status line, the clickable timeline bar with the events
marked, a notice line and the help overlay listing every binding.

It draws what :mod:`experience.app.hud` says, in the visitor's language (DejaVu Sans from
matplotlib's fonts: Latin and Cyrillic), and only calls ``setText`` when a text changed.
"""

from __future__ import annotations

import os
import time

from experience.app import hud
from experience.app.controls import ACTION_HELP
from experience.app.playback import timeline_marks

PANEL_SCALE = 0.045
BAR_Y = -0.93
BAR_H = 0.035
NOTICE_S = 4.0
CAPTION_SCALE = 0.048
CAPTION_BOTTOM = 0.30   # baseline of the caption's last line above the bottom edge (the bar is below)


def ui_font_path(bold: bool = False) -> str:
    try:
        from experience.i18n import ui_font_path as shipped

        return str(shipped(bold=bold)) if bold else str(shipped())
    except (ImportError, TypeError):
        import matplotlib

        name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
        return os.path.join(matplotlib.get_data_path(), "fonts", "ttf", name)


def key_label(name: str) -> str:
    """A Panda3D event name as a person reads it on a keyboard or a gamepad."""
    special = {"space": "Space", "escape": "Esc", "page_up": "Page Up", "page_down": "Page Down",
               "arrow_left": "←", "arrow_right": "→", "arrow_up": "↑", "arrow_down": "↓",
               "wheel_up": "Wheel up", "wheel_down": "Wheel down", "shift-/": "?", "shift-=": "+",
               "shift--": "_"}
    if name in special:
        return special[name]
    if name.startswith("gamepad-"):
        b = name[len("gamepad-"):]
        pad = {"face_a": "A", "face_b": "B", "face_x": "X", "face_y": "Y", "lshoulder": "LB", "rshoulder": "RB",
               "dpad_up": "D-pad ↑", "dpad_down": "D-pad ↓", "dpad_left": "D-pad ←", "dpad_right": "D-pad →",
               "start": "Start", "back": "Back"}.get(b, b)
        return f"Pad {pad}"
    if name.startswith("shift-"):
        return "Shift+" + key_label(name[6:])
    if len(name) >= 2 and name[0] == "f" and name[1:].isdigit():
        return name.upper()
    return name.upper() if len(name) == 1 else name


class Overlay:
    def __init__(self, base, exp):
        from direct.gui import DirectGuiGlobals as DGG
        from direct.gui.DirectGui import DirectFrame
        from direct.gui.OnscreenText import OnscreenText
        from panda3d.core import TextNode

        self.base = base
        self.exp = exp
        loader = base.loader
        self.font = loader.loadFont(ui_font_path())
        self.font_bold = loader.loadFont(ui_font_path(bold=True))
        for f in (self.font, self.font_bold):
            f.setPixelsPerUnit(48)
        a2d = base.aspect2d
        self._texts: dict[str, str] = {}
        shadow = (0, 0, 0, 0.8)
        self.panel = OnscreenText(parent=base.a2dTopLeft, pos=(0.05, -0.08), scale=PANEL_SCALE, fg=(1, 1, 1, 0.95),
                                  shadow=shadow, align=TextNode.ALeft, font=self.font, mayChange=True, text="")
        self.rate = OnscreenText(parent=base.a2dTopRight, pos=(-0.05, -0.09), scale=0.06, fg=(1, 0.9, 0.6, 1),
                                 shadow=shadow, align=TextNode.ARight, font=self.font_bold, mayChange=True, text="")
        self.camera = OnscreenText(parent=base.a2dTopRight, pos=(-0.05, -0.16), scale=0.04, fg=(0.85, 0.9, 1, 0.9),
                                   shadow=shadow, align=TextNode.ARight, font=self.font, mayChange=True, text="")
        self.caption_bg = DirectFrame(parent=base.a2dBottomCenter, frameColor=(0, 0, 0, 0.45),
                                      frameSize=(-1.2, 1.2, -0.1, 0.1), pos=(0, 0, 0))
        self.caption_bg.hide()
        self.caption = OnscreenText(parent=base.a2dBottomCenter, pos=(0, CAPTION_BOTTOM), scale=CAPTION_SCALE, fg=(1, 1, 1, 1),
                                    shadow=shadow, align=TextNode.ACenter, font=self.font, wordwrap=44,
                                    mayChange=True, text="")
        self.status = OnscreenText(parent=base.a2dTopCenter, pos=(0, -0.2), scale=0.042, fg=(1, 0.85, 0.5, 1),
                                   shadow=shadow, align=TextNode.ACenter, font=self.font, wordwrap=56,
                                   mayChange=True, text="")
        self.notice_text = OnscreenText(parent=base.a2dTopCenter, pos=(0, -0.1), scale=0.045, fg=(0.7, 1, 0.7, 1),
                                        shadow=shadow, align=TextNode.ACenter, font=self.font, mayChange=True, text="")
        self._notice_until = 0.0
        # the timeline bar: events marked, click or drag to go there
        self.bar = DirectFrame(parent=base.a2dBottomCenter, frameColor=(0.1, 0.12, 0.18, 0.75),
                               frameSize=(-1, 1, -BAR_H, BAR_H), pos=(0, 0, 0.07), state=DGG.NORMAL)
        self.bar.bind(DGG.B1PRESS, self._bar_press)
        self.bar.bind(DGG.B1RELEASE, self._bar_release)
        self.scrubbing = False
        self._marks = []
        for frac, ev_id, _name in timeline_marks(exp.clock):
            m = DirectFrame(parent=self.bar, frameColor=(0.65, 0.75, 1.0, 0.9),
                            frameSize=(-0.003, 0.003, -BAR_H * 1.4, BAR_H * 1.4), pos=(2 * frac - 1, 0, 0))
            self._marks.append((frac, ev_id, m))
        self.head = DirectFrame(parent=self.bar, frameColor=(1, 0.8, 0.3, 1),
                                frameSize=(-0.006, 0.006, -BAR_H * 2.0, BAR_H * 2.0), pos=(0, 0, 0))
        self.bar_label = OnscreenText(parent=base.a2dBottomCenter, pos=(0, 0.07 + BAR_H * 2.2), scale=0.035,
                                      fg=(0.85, 0.9, 1, 0.9), shadow=shadow, align=TextNode.ACenter, font=self.font,
                                      mayChange=True, text="")
        self.resize(0, 0)
        # the help overlay
        self.help_bg = DirectFrame(parent=a2d, frameColor=(0.02, 0.03, 0.06, 0.88), frameSize=(-1.25, 1.25, -0.86, 0.86))
        self.help_text = OnscreenText(parent=self.help_bg, pos=(-1.17, 0.76), scale=0.036, fg=(1, 1, 1, 1),
                                      align=TextNode.ALeft, font=self.font, mayChange=True, text="")
        self.help_text2 = OnscreenText(parent=self.help_bg, pos=(0.05, 0.76), scale=0.036, fg=(1, 1, 1, 1),
                                       align=TextNode.ALeft, font=self.font, mayChange=True, text="")
        self.help_bg.hide()
        self._help_lang = None
        self._caption_key = None

    # -- input the overlay takes first ------------------------------------------------------------
    def consumes(self, event: str) -> bool:
        """Events the overlay handles itself (none today: the bar is handled by DirectGUI)."""
        return False

    def _bar_fraction(self) -> float | None:
        mw = self.base.mouseWatcherNode
        if not mw.hasMouse():
            return None
        p = self.base.aspect2d.getRelativePoint(self.base.render2d, (mw.getMouseX(), 0, mw.getMouseY()))
        x = self.bar.getRelativePoint(self.base.aspect2d, p).getX()
        return min(max((x + 1.0) / 2.0, 0.0), 1.0)

    def _bar_press(self, _event=None) -> None:
        frac = self._bar_fraction()
        if frac is None:
            return
        self.scrubbing = True
        self.exp.controls.events_seen += 1
        for listener in self.exp.controls.listeners:
            listener("timeline")
        near = min(self._marks, key=lambda m: abs(m[0] - frac))
        if abs(near[0] - frac) < 0.004:  # a click on an event's mark goes exactly there
            self.exp.playback.jump(near[1])
            self.exp.notify_jump()
        else:
            self.exp.playback.seek_fraction(frac)

    def _bar_release(self, _event=None) -> None:
        self.scrubbing = False

    # -- per frame ------------------------------------------------------------------------------
    def _set(self, key: str, node, text: str) -> None:
        if self._texts.get(key) != text:
            self._texts[key] = text
            node.setText(text)

    def texts(self) -> dict:
        return dict(self._texts)

    def update(self, exp) -> None:
        ui = exp.ui
        if self.scrubbing:
            mw = self.base.mouseWatcherNode
            from panda3d.core import MouseButton

            if mw.hasMouse() and mw.isButtonDown(MouseButton.one()):
                frac = self._bar_fraction()
                if frac is not None:
                    exp.playback.seek_fraction(frac)
            else:
                self.scrubbing = False
        h = hud.hud_text(exp.snapshot, exp.playback, ui, exp.camera.mode)
        _ = hud.translator(ui.language).gettext
        for node in (self.panel, self.rate, self.camera, self.bar, self.bar_label, self.caption, self.status):
            node.show() if ui.hud_visible else node.hide()
        self._set("panel", self.panel, "\n".join(h.lines))
        self._set("rate", self.rate, h.rate)
        self._set("camera", self.camera, h.camera)
        cross = getattr(exp, "crossing", None)   # the crossing's lines (issue #10) replace the story status
        self._set("status", self.status, "\n".join(cross.hud_lines()) if cross is not None else h.status)
        cap = hud.caption_text(exp, _)
        if self._texts.get("caption") != cap:
            self._set("caption", self.caption, cap)
            self._fit_caption()
        if cap and ui.hud_visible:
            self.caption_bg.show()
        else:
            self.caption_bg.hide()
        self.head.setX(2.0 * exp.playback.fraction - 1.0)
        self._set("bar", self.bar_label, hud.nearest_event_label(exp.playback, _))
        if time.monotonic() > self._notice_until:
            self._set("notice", self.notice_text, "")
        if ui.help_visible:
            if self._help_lang != ui.language:
                self._help_lang = ui.language
                left, right = self._help_lines(_)
                self.help_text.setText(left)
                self.help_text2.setText(right)
            self.help_bg.show()
        else:
            self.help_bg.hide()

    def _fit_caption(self) -> None:
        """Grow the caption upward from its bottom line (it never covers the timeline bar) and fit
        its dark card to the wrapped text."""
        tn = self.caption.textNode
        s = CAPTION_SCALE
        rows = max(tn.getNumRows(), 1)
        y = CAPTION_BOTTOM + (rows - 1) * tn.getLineHeight() * s
        self.caption.setPos(0, y)
        l, r, b, t = tn.getFrameActual() if rows and self._texts.get("caption") else (0, 0, 0, 0)
        pad = 0.03
        self.caption_bg["frameSize"] = (l * s - pad, r * s + pad, y + b * s - pad, y + t * s + pad)

    def _help_lines(self, _) -> tuple[str, str]:
        c = self.exp.controls
        rows = [_("Keys and buttons"), ""]
        for action, text in ACTION_HELP.items():
            names = c.bindings.get(action, ())
            if names:
                rows.append(f"{', '.join(dict.fromkeys(key_label(n) for n in names))}:  {_(text)}")
        from experience.app.playback import presets

        rows2 = [_("Jump to a moment"), ""]
        for p in presets(self.exp.clock):
            names = c.bindings.get(f"preset:{p.id}", ())
            if names:
                rows2.append(f"{', '.join(key_label(n) for n in names)}:  {_(p.label)}")
        rows2 += ["", _("Mouse: drag to turn the camera, wheel to zoom"),
                  _("Touch: drag to turn, pinch to zoom"),
                  _("Gamepad: sticks move the camera, shoulders step events"),
                  _("Timeline bar: click or drag to go to any moment")]
        return "\n".join(rows), "\n".join(rows2)

    def notice(self, text: str) -> None:
        self._set("notice", self.notice_text, text)
        self._notice_until = time.monotonic() + NOTICE_S

    def notice_saved(self, path) -> None:
        _ = hud.translator(self.exp.ui.language).gettext
        self.notice(_("Screenshot saved: {name}").format(name=os.path.basename(str(path))))

    def resize(self, w: int, h: int) -> None:
        """aspect2d and its anchors follow the window's aspect ratio; the timeline bar spans the
        window's width (less a margin) whatever that ratio is."""
        self.bar.setSx(max(self.base.getAspectRatio() - 0.08, 0.5))

    def destroy(self) -> None:
        for node in (self.panel, self.rate, self.camera, self.caption, self.status, self.notice_text, self.bar_label):
            node.destroy()
        for frame in (self.caption_bg, self.bar, self.help_bg):
            frame.destroy()
