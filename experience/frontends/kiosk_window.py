"""The kiosk's window: the desktop viewer made into an unattended, touch-first museum display.

:class:`KioskViewer` is a :class:`~experience.frontends.desktop.DesktopViewer` (the same window,
scene, application loop and input layer) with:

- the window fullscreen at the display's size, undecorated, the cursor hidden, on top; the
  window manager's close request (Alt+F4) ignored (``setCloseRequestEvent``), and the viewer's
  own quit, fullscreen, screenshot and help bindings disabled (Escape does nothing);
- the attract loop (:class:`~experience.app.kiosk.AttractLoop`: the config's tours, the tours'
  own captions and fades) until any touch, key or button: every button-down event of the
  window (``ButtonThrower.setButtonDownEvent``) reaches :meth:`KioskViewer._on_button`, which
  breaks the loop on that event;
- :class:`KioskUI`: the DirectGUI layer (touch targets at least ``min_target_mm`` on the
  configured screen, sized from the window's pixels and ``screen_width_mm``), the idle
  countdown, the PIN keypad and the operator panel, all in the visitor's language;
- a heartbeat file written every frame (the supervisor's freeze detector) and, with
  ``--status-file``, the kiosk's state as JSON four times a second (the tests read it).

The same class runs offscreen (``window-type offscreen``) for the soak, ``astp kiosk --simulate``
(experience/frontends/kiosk_soak.py), with the input injected at the same handlers.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from experience.app import kiosk as K
from experience.errors import AstpError
from experience.frontends.desktop import DesktopViewer

DISABLED_ACTIONS = ("quit", "fullscreen", "screenshot", "help", "hud")
VISITOR_TOURS = ("docking", "handshake")   # "Watch the docking", "Float into Soyuz": loaded at start
ACCENT = (1.0, 0.62, 0.18, 1.0)         # Apollo-era orange
ACCENT_RU = (0.86, 0.22, 0.2, 1.0)      # Soyuz red
CARD = (0.035, 0.05, 0.09, 0.93)
BUTTON = ((0.1, 0.16, 0.28, 0.92), (0.3, 0.45, 0.7, 0.98), (0.16, 0.25, 0.42, 0.95), (0.1, 0.1, 0.1, 0.5))
BUTTON_ACCENT = ((0.85, 0.47, 0.1, 0.95), (1.0, 0.7, 0.35, 1.0), (0.95, 0.56, 0.16, 1.0), (0.3, 0.3, 0.3, 0.5))
TEXT_FG = (1, 1, 1, 1)
CAPTION_SCALE = 0.052
DIM = (0.75, 0.82, 0.95, 1)


class KioskUI:
    """The kiosk's 2D layer on ``aspect2d``; ``update(exp)`` every frame (an AppLoop overlay)."""

    def __init__(self, viewer: "KioskViewer"):
        from direct.gui.DirectGui import DirectFrame
        from direct.gui.OnscreenText import OnscreenText
        from panda3d.core import TextNode

        self.v = viewer
        base = viewer.base
        self.base = base
        self.font = viewer.overlay.font
        self.bold = viewer.overlay.font_bold
        self._measure = TextNode("kiosk-measure")
        self.buttons: dict[str, object] = {}
        self._labels: dict[str, str] = {}
        self._lang = None
        self._texts: dict[str, str] = {}
        self._fade = 0.0
        self._cap_key = None
        shadow = (0, 0, 0, 0.85)
        self.target_units = self._target_units()
        # the fade of the tours (over the scene, under the GUI)
        self.fade = DirectFrame(parent=base.render2d, frameColor=(0, 0, 0, 0), frameSize=(-1, 1, -1, 1))
        self.fade.setBin("background", 10)
        # -- attract
        self.band = DirectFrame(parent=base.a2dBottomCenter, frameColor=(0.0, 0.0, 0.0, 0.55),
                                frameSize=(-4, 4, 0, 0.36))
        self.accent_line = DirectFrame(parent=self.band, frameColor=ACCENT, frameSize=(-4, 4, 0.356, 0.364))
        self.title = OnscreenText(parent=base.a2dBottomLeft, pos=(0.09, 0.2), scale=0.095, fg=TEXT_FG, shadow=shadow,
                                  align=TextNode.ALeft, font=self.bold, mayChange=True, text="")
        self.subtitle = OnscreenText(parent=base.a2dBottomLeft, pos=(0.09, 0.1), scale=0.05, fg=DIM, shadow=shadow,
                                     align=TextNode.ALeft, font=self.font, mayChange=True, text="")
        self.prompt = OnscreenText(parent=base.a2dBottomRight, pos=(-0.09, 0.2), scale=0.062, fg=ACCENT,
                                   shadow=shadow, align=TextNode.ARight, font=self.bold, mayChange=True, text="")
        self.prompt2 = OnscreenText(parent=base.a2dBottomRight, pos=(-0.09, 0.11), scale=0.045, fg=DIM,
                                    shadow=shadow, align=TextNode.ARight, font=self.font, mayChange=True, text="")
        self.tour_title = OnscreenText(parent=base.a2dTopLeft, pos=(0.09, -0.13), scale=0.05, fg=ACCENT,
                                       shadow=shadow, align=TextNode.ALeft, font=self.bold, mayChange=True, text="")
        # the caption (the tour's in the loop, the story's in interactive mode)
        self.caption_bg = DirectFrame(parent=base.a2dBottomCenter, frameColor=(0, 0, 0, 0.5), frameSize=(0, 0, 0, 0))
        self.caption = OnscreenText(parent=base.a2dBottomCenter, pos=(0, 0), scale=CAPTION_SCALE, fg=TEXT_FG, shadow=shadow,
                                    align=TextNode.ACenter, font=self.font, wordwrap=40, mayChange=True, text="")
        # -- interactive: the four choices along the bottom
        self.bar = DirectFrame(parent=base.a2dBottomCenter, frameColor=(0, 0, 0, 0))
        self.station_line = OnscreenText(parent=base.a2dTopCenter, pos=(0, -0.12), scale=0.06, fg=ACCENT,
                                         shadow=shadow, align=TextNode.ACenter, font=self.bold, mayChange=True, text="")
        self.station_line.hide()
        self.hint = OnscreenText(parent=base.a2dTopLeft, pos=(0.09, -0.13), scale=0.045, fg=DIM, shadow=shadow,
                                 align=TextNode.ALeft, font=self.font, mayChange=True, text="")
        a = base.getAspectRatio()
        gap = 0.05
        h = max(0.2, self.target_units * 1.15)
        w = max(min(0.78, (2 * a - 0.16 - 3 * gap) / 4), self.target_units * 1.15)
        for i, name in enumerate(("watch", "float", "crews", "language")):
            x = (i - 1.5) * (w + gap)
            self._button(name, self.bar, (x, 0, 0.06 + h / 2), (w, h),
                         lambda n=name: self._choice(n), accent=name == "watch")
        # -- the crews card
        self.crews = self._card((2.3, 1.25), y=0.12)
        self.crews_text_a = OnscreenText(parent=self.crews, pos=(-1.05, 0.44), scale=0.048, fg=TEXT_FG,
                                         align=TextNode.ALeft, font=self.font, mayChange=True, text="")
        self.crews_text_s = OnscreenText(parent=self.crews, pos=(0.05, 0.44), scale=0.048, fg=TEXT_FG,
                                         align=TextNode.ALeft, font=self.font, mayChange=True, text="")
        self.crews_title = OnscreenText(parent=self.crews, pos=(-1.05, 0.52), scale=0.065, fg=ACCENT,
                                        align=TextNode.ALeft, font=self.bold, mayChange=True, text="")
        self._button("crews_close", self.crews, (0.85, 0, -0.6 + h / 2 + 0.06), (0.42, h), self._close_crews)
        self.crews.hide()
        # -- the countdown
        self.dim = DirectFrame(parent=base.render2d, frameColor=(0, 0, 0, 0.55), frameSize=(-1, 1, -1, 1))
        self.dim.hide()
        self.countdown = self._card((1.9, 0.95), y=0.05)
        self.cd_title = OnscreenText(parent=self.countdown, pos=(0, 0.24), scale=0.1, fg=ACCENT, align=TextNode.ACenter,
                                     font=self.bold, mayChange=True, text="")
        self.cd_text = OnscreenText(parent=self.countdown, pos=(0, 0.08), scale=0.06, fg=TEXT_FG, align=TextNode.ACenter,
                                    font=self.font, mayChange=True, text="")
        bw = max(0.78, self.target_units * 1.2)
        self._button("keep", self.countdown, (-0.45, 0, -0.22), (bw, h), self._keep, accent=True)
        self._button("again", self.countdown, (0.45, 0, -0.22), (bw, h), self._again)
        self.countdown.hide()
        # -- the PIN keypad
        self.pin = ""
        kp = max(0.2, self.target_units * 1.1)
        self.keypad = self._card((1.3, 5 * kp + 0.75), y=0.0)
        top = (5 * kp + 0.75) / 2
        self.pin_title = OnscreenText(parent=self.keypad, pos=(0, top - 0.12), scale=0.06, fg=ACCENT,
                                      align=TextNode.ACenter, font=self.bold, mayChange=True, text="")
        self.pin_dots = OnscreenText(parent=self.keypad, pos=(0, top - 0.24), scale=0.08, fg=TEXT_FG,
                                     align=TextNode.ACenter, font=self.bold, mayChange=True, text="")
        self.pin_msg = OnscreenText(parent=self.keypad, pos=(0, top - 0.33), scale=0.04, fg=(1, 0.6, 0.5, 1),
                                    align=TextNode.ACenter, font=self.font, mayChange=True, text="")
        keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "clear", "0", "ok"]
        y0 = top - 0.42 - kp / 2
        for i, k in enumerate(keys):
            r, c = divmod(i, 3)
            self._button(f"pin_{k}", self.keypad, ((c - 1) * (kp + 0.06), 0, y0 - r * (kp + 0.04)), (kp, kp),
                         lambda k=k: self._pin_key(k), accent=k == "ok")
        self._button("pin_cancel", self.keypad, (0, 0, y0 - 4 * (kp + 0.04)), (3 * kp + 0.12, kp * 0.8),
                     self._pin_cancel)
        self.keypad.hide()
        # -- the operator panel
        self.panel = self._card((2.6, 1.5), y=0.0)
        self.op_title = OnscreenText(parent=self.panel, pos=(-1.2, 0.6), scale=0.065, fg=ACCENT, align=TextNode.ALeft,
                                     font=self.bold, mayChange=True, text="")
        self.op_status = OnscreenText(parent=self.panel, pos=(-1.2, 0.47), scale=0.042, fg=TEXT_FG,
                                      align=TextNode.ALeft, font=self.font, mayChange=True, text="")
        ow = max(0.8, self.target_units * 1.2)
        oy = [0.48, 0.22, -0.04, -0.3, -0.56]
        self._button("op_exit", self.panel, (0.75, 0, oy[0]), (ow, h), lambda: self._op("exit"))
        self._button("op_restart", self.panel, (0.75, 0, oy[1]), (ow, h), lambda: self._op("restart"))
        self.op_lang_title = OnscreenText(parent=self.panel, pos=(0.75 - ow / 2, oy[2] + 0.01), scale=0.04, fg=DIM,
                                          align=TextNode.ALeft, font=self.font, mayChange=True, text="")
        for j, lang in enumerate(viewer.config.languages[:2]):
            self._button(f"op_lang_{lang}", self.panel, (0.75 + (j - 0.5) * (ow / 2 + 0.02), 0, oy[2] - 0.18),
                         (ow / 2 - 0.02, h), lambda lang=lang: self._op("language", lang))
        self._button("op_close", self.panel, (0.75, 0, oy[4]), (ow, h), lambda: self._op("close"), accent=True)
        self.panel.hide()

    # -- building blocks ---------------------------------------------------------------------------
    def _target_units(self) -> float:
        """The smallest touch target in aspect2d units (the window height is 2 units)."""
        win = self.v.win
        px_per_mm = win.getXSize() / self.v.config.screen_width_mm
        return self.v.config.min_target_mm * px_per_mm / (win.getYSize() / 2.0)

    def _card(self, size, y=0.0):
        from direct.gui.DirectGui import DirectFrame

        w, h = size
        card = DirectFrame(parent=self.base.aspect2d, frameColor=CARD, frameSize=(-w / 2, w / 2, -h / 2, h / 2),
                           pos=(0, 0, y))
        DirectFrame(parent=card, frameColor=ACCENT, frameSize=(-w / 2, w / 2, h / 2 - 0.012, h / 2))
        return card

    def _button(self, name, parent, pos, size, command, accent=False):
        from direct.gui import DirectGuiGlobals as DGG
        from direct.gui.DirectGui import DirectButton

        w, h = size
        b = DirectButton(parent=parent, text="", text_font=self.bold if accent else self.font, text_fg=TEXT_FG,
                         text_scale=0.055, frameSize=(-w / 2, w / 2, -h / 2, h / 2), relief=DGG.FLAT,
                         frameColor=BUTTON_ACCENT if accent else BUTTON, pos=pos, command=command,
                         pressEffect=1, rolloverSound=None, clickSound=None)
        b.size_units = (w, h)
        self.buttons[name] = b
        return b

    def _set_label(self, name: str, text: str) -> None:
        """A button's text at the largest size that fits: one line, else two (a long
        translation wraps before it shrinks), else one line shrunk to fit."""
        if self._labels.get(name) == text:
            return
        self._labels[name] = text
        b = self.buttons[name]
        w, h = b.size_units
        m = self._measure
        m.setFont(b["text_font"])
        m.clearWordwrap()
        width = max(m.calcWidth(text), 1e-3)
        lh = m.getLineHeight() or 1.2
        s, wrap, rows = min(0.056, 0.5 * h), None, 1
        if width * s > 0.86 * w:
            for s2 in (0.05, 0.046, 0.042):
                m.setWordwrap(0.86 * w / s2)
                m.setText(text)
                if m.getNumRows() == 2 and 2 * lh * s2 <= 0.85 * h:
                    s, wrap, rows = s2, 0.86 * w / s2, 2
                    break
            else:
                s = min(0.056, 0.86 * w / width, 0.5 * h)
        b["text"] = text
        b["text_scale"] = s
        b["text_wordwrap"] = wrap
        b["text_pos"] = (0, (rows - 1) * 0.5 * lh * s - 0.35 * s)
        b.setText()

    def _set_fade(self, black: float) -> None:
        a = round(max(0.0, min(1.0, black)), 3)
        if a != self._fade:
            self._fade = a
            self.fade["frameColor"] = (0, 0, 0, a)

    def _set(self, key: str, node, text: str) -> None:
        if self._texts.get(key) != text:
            self._texts[key] = text
            node.setText(text)

    # -- what the buttons do -------------------------------------------------------------------------
    def _choice(self, name: str) -> None:
        self.v.visitor_choice(name)

    def _close_crews(self) -> None:
        self.v.touch()
        self.crews.hide()

    def _keep(self) -> None:
        self.v.session.keep_exploring(self.v.now())

    def _again(self) -> None:
        self.v.session.start_again(self.v.now())

    def _pin_key(self, k: str) -> None:
        now = self.v.now()
        self.v.session.last_input = now
        if k == "clear":
            self.pin = ""
        elif k == "ok":
            ok = self.v.session.submit_pin(self.pin, now)
            self.pin = ""
            if ok:
                self.v.log(f"operator panel opened")
            else:
                self.v.log(f"operator PIN refused ({self.v.session.pin_message})")
        elif len(self.pin) < 12:
            self.pin += k

    def _pin_cancel(self) -> None:
        self.pin = ""
        self.v.session.cancel_pin(self.v.now())

    def _op(self, action: str, value=None) -> None:
        self.v.session.operator(action, self.v.now(), value)
        self.v.log(f"operator: {action}{' ' + value if value else ''}")

    # -- per frame ---------------------------------------------------------------------------------
    def update(self, exp) -> None:
        v = self.v
        s = v.session
        state = s.state
        lang = exp.ui.language
        _ = v.gettext(lang)
        if lang != self._lang:
            self._lang = lang
            T = K.TEXT
            self.title.setText(_(T["title"]))
            self.subtitle.setText(_(T["subtitle"]))
            self.hint.setText(_(T["drag"]))
            for n in ("watch", "float", "crews"):
                self._set_label(n, _(T[n]))
            self._set_label("language", self.v.language_label())
            self._set_label("crews_close", _("Close"))
            self._set_label("keep", _(T["keep"]))
            self._set_label("again", _(T["again"]))
            self.cd_title.setText(_(T["still_there"]))
            self._fill_crews(_)
        # the prompt: in every offered language (a visitor who reads only one still sees it)
        station = getattr(v, "station_mode", False)   # the VR station's monitor: the headset is the way in
        prompts = [v.gettext(lg)(K.TEXT["put_on" if station else "touch"]) for lg in v.config.languages]
        self._set("prompt", self.prompt, prompts[0])
        self._set("prompt2", self.prompt2, "   ".join(prompts[1:]))
        pulse = 0.65 + 0.35 * abs(((v.now() * 0.6) % 2.0) - 1.0)
        self.prompt.setAlphaScale(pulse)
        attract = state == K.ATTRACT
        for node in (self.band, self.title, self.subtitle, self.prompt, self.prompt2, self.tour_title):
            node.show() if attract else node.hide()
        self.bar.show() if state == K.INTERACTIVE and not station else self.bar.hide()
        self.hint.show() if state == K.INTERACTIVE and self.crews.isHidden() and not station else self.hint.hide()
        if station and state in (K.INTERACTIVE, K.COUNTDOWN):
            self._set("station_line", self.station_line, _(K.TEXT["in_headset"]))
            self.station_line.show()
        else:
            self.station_line.hide()
        if state != K.INTERACTIVE:
            self.crews.hide()
        # caption and fade
        if attract and v.attract_frame is not None:
            f = v.attract_frame
            cap = _(f.caption) if f.caption else ""
            alpha = f.caption_alpha
            self._set_fade(1.0 - f.fade)
            self._set("tour_title", self.tour_title, _(v.attract.tours[v.attract.index].title))
            bottom = 0.47
        else:
            from experience.app import hud

            cap = "" if v.watching is None else (_(v.watch_frame.caption) if v.watch_frame and v.watch_frame.caption else "")
            alpha = v.watch_frame.caption_alpha if v.watching is not None and v.watch_frame else 1.0
            if v.watching is None:
                cap = hud.caption_text(exp, _)
            self._set_fade(0.0 if v.watching is None or not v.watch_frame else 1.0 - v.watch_frame.fade)
            bottom = 0.22 + max(0.2, self.target_units * 1.15)
        if state in (K.COUNTDOWN, K.PIN_ENTRY, K.OPERATOR) or not self.crews.isHidden() or (station and not attract):
            cap = ""
        self._set("caption", self.caption, cap)
        self.caption.setAlphaScale(alpha)
        self.caption_bg.setAlphaScale(alpha)
        if cap and self._cap_key != (cap, bottom):
            self._cap_key = (cap, bottom)
            tn = self.caption.textNode
            sc, pad = CAPTION_SCALE, 0.035
            z = bottom + (max(tn.getNumRows(), 1) - 1) * tn.getLineHeight() * sc
            self.caption.setZ(z)
            l, r, b, t = tn.getFrameActual()
            self.caption_bg["frameSize"] = (l * sc - pad, r * sc + pad, z + b * sc - pad, z + t * sc + pad)
        self.caption_bg.show() if cap else self.caption_bg.hide()
        # the dialogs
        cd = state == K.COUNTDOWN
        self.countdown.show() if cd else self.countdown.hide()
        self.dim.show() if state in (K.COUNTDOWN, K.PIN_ENTRY, K.OPERATOR) else self.dim.hide()
        if cd:
            self._set("cd_text", self.cd_text, _(K.TEXT["restart_in"]).format(n=s.countdown_left_s(v.now())))
        self.keypad.show() if state == K.PIN_ENTRY else self.keypad.hide()
        if state == K.PIN_ENTRY:   # the operator's texts: in the kiosk's language of the moment, as the visitor's
            self._set("pin_title", self.pin_title, _("Operator PIN"))
            self._set("pin_dots", self.pin_dots, "● " * len(self.pin) if self.pin else "—")
            locked = s.pin_locked_s(v.now())
            msg = {"wrong": _("Wrong PIN"), "no_pin": _("No PIN is set: run astp kiosk --set-pin"),
                   "locked": _("Too many wrong PINs: wait {n} s").format(n=int(locked) + 1) if locked > 0
                   else _("Wrong PIN")}.get(s.pin_message, "")
            self._set("pin_msg", self.pin_msg, msg)
            for k in ("1", "2", "3", "4", "5", "6", "7", "8", "9", "0"):
                self._set_label(f"pin_{k}", k)
            self._set_label("pin_clear", _("Clear"))
            self._set_label("pin_ok", _("OK"))
            self._set_label("pin_cancel", _("Cancel"))
        self.panel.show() if state == K.OPERATOR else self.panel.hide()
        if state == K.OPERATOR:
            from experience.i18n import language_name

            self._set("op_title", self.op_title, _("Operator"))
            self._set_label("op_exit", _("Exit the kiosk"))
            self._set_label("op_restart", _("Restart the kiosk"))
            self._set("op_lang_title", self.op_lang_title, _("Language for new visitors:"))
            for lg in v.config.languages[:2]:
                mark = "✓ " if s.default_language == lg else ""
                self._set_label(f"op_lang_{lg}", mark + language_name(lg))
            self._set_label("op_close", _("Close"))
            self._set("op_status", self.op_status, v.operator_status_text(_))

    def _fill_crews(self, _) -> None:
        from experience.mission import data

        lang = self._lang
        rows = {"apollo": [], "soyuz": []}
        for m in data.crew():
            name = m.get("name_ru") if lang == "ru" and m.get("name_ru") else m["name"]
            rows.setdefault(m["vehicle"], []).append(f"{name}\n    {_(m['role'])}\n")
        self.crews_title.setText(_(K.TEXT["crews"]))
        self.crews_text_a.setText(_("Apollo") + "\n\n" + "\n".join(rows["apollo"]))
        self.crews_text_s.setText(_("Soyuz") + "\n\n" + "\n".join(rows["soyuz"]))

    def drawn_texts(self) -> dict:
        """What the attract loop's text nodes hold now (their text as drawn, not the catalogue's)."""
        return {"title": self.title.getText(), "subtitle": self.subtitle.getText(), "prompt": self.prompt.getText(),
                "prompt2": self.prompt2.getText(), "tour_title": self.tour_title.getText()}

    def visible_targets(self) -> list[dict]:
        """The touch targets on screen now, with their size in millimetres on the configured screen."""
        win = self.v.win
        mm_per_px = self.v.config.screen_width_mm / win.getXSize()
        px_per_unit = win.getYSize() / 2.0
        out = []
        for name, b in self.buttons.items():
            if b.isHidden() or any(p.isHidden() for p in b.getAncestors()[1:] if not p.isEmpty()):
                continue
            w, h = b.size_units
            sx = b.getSx(self.base.aspect2d)
            out.append({"name": name, "text": self._labels.get(name, ""), "w_mm": round(w * sx * px_per_unit * mm_per_px, 1),
                        "h_mm": round(h * sx * px_per_unit * mm_per_px, 1),
                        "center_px": self.center_px(name)})
        return out

    def center_px(self, name: str) -> tuple[int, int]:
        """Where a button's centre is in window pixels (the tests click there)."""
        b = self.buttons[name]
        p = self.base.render2d.getRelativePoint(b, (0, 0, 0))
        win = self.v.win
        return (int(round((p.getX() + 1) / 2 * win.getXSize())), int(round((1 - p.getZ()) / 2 * win.getYSize())))

    def destroy(self) -> None:
        for node in (self.fade, self.band, self.caption_bg, self.bar, self.crews, self.dim, self.countdown,
                     self.keypad, self.panel):
            node.destroy()
        for node in (self.title, self.subtitle, self.prompt, self.prompt2, self.tour_title, self.caption, self.hint,
                     self.station_line):
            node.destroy()


class HeartbeatWriter:
    """The heartbeat file, written by its own thread: :meth:`beat` (the frame's side) only hands
    over the frame count and, when given, new content; the thread then rewrites the file with the
    content (:func:`write_beat`: atomic, no fsync) or touches it (``os.utime``), at most every
    :data:`BEAT_MIN_GAP_S`. No new frame, no touch: a frozen frame loop (or a SIGSTOPped process)
    leaves the file's time standing, which is what the supervisor watches. The first failure
    stops the thread and is in :attr:`failed` (the frame says it once)."""

    def __init__(self, path: Path):
        import threading

        self.path = Path(path)
        self.failed: str | None = None
        self.writes = self.touches = 0
        self._cond = threading.Condition()
        self._frame = self._done = None
        self._content: dict | None = None
        self._stop = False
        sweep_beat_temps(self.path)
        self._thread = threading.Thread(target=self._run, name="kiosk-heartbeat", daemon=True)
        self._thread.start()

    def beat(self, frame: int, content: dict | None = None) -> None:
        with self._cond:
            self._frame = frame
            if content is not None:
                self._content = content
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stop and self._frame == self._done and self._content is None:
                    self._cond.wait()
                if self._stop:
                    return
                frame, content = self._frame, self._content
                self._done, self._content = frame, None
            try:
                if content is not None or not self.path.exists():
                    write_beat(self.path, json.dumps(content if content is not None else {"pid": os.getpid(),
                                                                                          "frames": frame}))
                    self.writes += 1
                else:
                    os.utime(self.path)
                    self.touches += 1
            except OSError as exc:
                self.failed = getattr(exc, "strerror", None) or str(exc)
                return
            time.sleep(BEAT_MIN_GAP_S)

    def close(self, timeout_s: float = 2.0) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()
        self._thread.join(timeout_s)


BEAT_MIN_GAP_S = 0.05


def _beat_temp(path: Path, pid: int | None = None) -> Path:
    return path.with_name(f".{path.name}.{os.getpid() if pid is None else pid}.tmp")


def write_beat(path: Path, text: str) -> None:
    """``text`` into ``path`` atomically (a temporary file beside it, renamed over it; readers see
    the old content or the new, never half) without waiting for the disk (no fsync)."""
    tmp = _beat_temp(path)
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise


def sweep_beat_temps(path: Path) -> None:
    """Remove heartbeat temporaries a killed kiosk left (SIGKILL between write and rename)."""
    try:
        for p in path.parent.glob(f".{path.name}.*.tmp"):
            try:
                pid = int(p.name.rsplit(".", 2)[-2])
            except ValueError:
                continue
            if pid == os.getpid() or not _alive(pid):
                p.unlink(missing_ok=True)
    except OSError:
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


class KioskViewer(DesktopViewer):
    """The desktop viewer's window, scene and loop, run as the museum kiosk."""

    def __init__(self, experience, settings, config: K.KioskConfig, *, heartbeat=None, status_file=None, size=None,
                 offscreen: bool = False, clock=None, log=None):
        from panda3d.core import loadPrcFileData

        self.config = config
        self._clock = clock or time.monotonic
        self._log = log or (lambda msg: print(f"astp kiosk: {msg}", file=sys.stderr, flush=True))
        self.started = self.now()
        self.started_wall = time.time()
        prc = "undecorated #t\ncursor-hidden #t\nz-order top\n"
        if offscreen:
            prc += "window-type offscreen\n"
        loadPrcFileData("astp kiosk", prc)
        super().__init__(experience, settings, size=size, fullscreen=not offscreen and size is None,
                         status_file=status_file, kiosk=True)
        if not offscreen:
            from panda3d.core import WindowProperties

            self.win.setCloseRequestEvent("kiosk-close-request")  # Alt+F4 / the window manager's close: ignored
            self.base.accept("kiosk-close-request", lambda: self.log("close request ignored"))
            props = WindowProperties()
            props.setCursorHidden(True)
            props.setUndecorated(True)
            self.win.requestProperties(props)
        self.heartbeat = Path(heartbeat) if heartbeat else None
        self._beat_written = -1e9
        self.beat_ms = 0.0
        self._beat = HeartbeatWriter(self.heartbeat) if self.heartbeat is not None else None
        from experience.app.tours import Tour

        self._tours: dict[str, Tour] = {}
        self.attract = K.AttractLoop([self.tour(n) for n in config.tours])
        self.attract_frame = None
        self.watching = None          # a tour the visitor asked for ("Watch the docking"): [tour, t]
        self.watch_frame = None
        self.session = K.KioskSession(config, now=self.now(), on_reset=self._reset_visitor)
        self.session.on_default_language = self._keep_default_language
        self.keep_state = not offscreen   # the soak never writes the operator's state file
        self.exp.ui.hud_visible = False
        self.exp.ui.language = config.default_language
        self.ui = KioskUI(self)
        o = self.overlay                       # the viewer's HUD: hidden, and left out of the loop
        for node in (o.panel, o.rate, o.camera, o.caption_bg, o.caption, o.status, o.notice_text, o.bar,
                     o.bar_label, o.help_bg):
            node.hide()
        self.loop.overlays.remove(o)
        self.loop.overlays.append(self.ui)
        if self.base.buttonThrowers:   # a window (offscreen, the soak injects the same events)
            self.base.buttonThrowers[0].node().setButtonDownEvent("kiosk-button")
        self.base.accept("kiosk-button", self._on_button)
        for name in K.OPERATOR_KEYS:
            self.base.accept(name, self._operator_keys, [name])
        # every bound action too (a gamepad's buttons come through their own device thrower)
        self.exp.controls.listeners.append(lambda action: self._on_button(f"action:{action}"))
        self.max_frame_ms = 0.0
        self.frame_ms = 0.0
        self.taps = 0                 # pointer button-downs outside the GUI's buttons, and where (status)
        self.last_tap = None
        self._events_seen = self.exp.controls.events_seen
        self._supervisor_cache = (0.0, {})
        self._prewarm()
        self.log(f"started (pid {os.getpid()}; tours {', '.join(config.tours)}; window "
                 f"{self.win.getXSize()}x{self.win.getYSize()})")

    def _prewarm(self) -> None:
        """What a frame would otherwise load on first use, loaded before the first frame: the
        historical docking replay (the attract loop's docking tour enters its window; loading it
        and checking its cache key took ~0.2-0.3 s inside one frame, the soak's slowest frame) and the
        tours the visitor's choices play (:meth:`tour`; 8-12 ms each inside the choice's frame). Then
        the start-up's objects are moved out of the garbage collector's full scans (``gc.freeze``),
        which shortens the collections that land in a frame."""
        import gc

        t0 = time.perf_counter()
        from experience.simulation.docking_replay import historical_replay

        try:
            historical_replay(self.exp.eph.clock)
        except AstpError as exc:   # the frame that needs it will say so; the kiosk still starts
            self.log(f"the docking replay could not be loaded at start: {exc}")
        for name in VISITOR_TOURS:   # the visitor's choices play these
            try:
                self.tour(name)
            except AstpError as exc:
                self.log(f"the tour {name!r} could not be loaded at start: {exc}")
        gc.collect()
        gc.freeze()
        self.prewarm_s = time.perf_counter() - t0

    def tour(self, name: str):
        """A shipped tour, loaded once (a tour is immutable; loading and validating one took 8-12 ms,
        which the visitor's "Watch the docking" and "Float into Soyuz" paid inside their frame)."""
        t = self._tours.get(name)
        if t is None:
            from experience.app.tours import Tour

            t = self._tours[name] = Tour.load(name, self.exp.clock)
        return t

    # -- time, text, log ---------------------------------------------------------------------------
    def now(self) -> float:
        return self._clock()

    @staticmethod
    def gettext(lang: str):
        from experience.app import hud

        return hud.translator(lang).gettext

    def log(self, msg: str) -> None:
        self._log(msg)

    # -- input -------------------------------------------------------------------------------------
    def _poll_devices(self) -> None:
        if self.base.mouseWatcherNode is not None:   # none offscreen (the soak)
            super()._poll_devices()

    def _corner_tap(self, button: str, now: float) -> bool:
        """A click or touch followed for the operator's corner gesture (counted, where it fell);
        True when it completed the gesture and the PIN keypad is shown."""
        if not (button.startswith("mouse1") or button == "touch"):
            return False
        mw = self.base.mouseWatcherNode
        if mw is None or not mw.hasMouse():
            return False
        m = mw.getMouse()
        x, y = (m.getX() + 1) / 2, (1 - m.getY()) / 2
        self.taps += 1
        self.last_tap = (round(x, 4), round(y, 4))
        if self.session.tap(x, y, now):
            self.log("operator gesture: PIN keypad shown")
            return True
        return False

    def _on_button(self, button: str) -> None:
        """Every button-down of the window (keys, mouse and touch buttons, gamepad): on this very
        event the attract loop breaks, the idle timer restarts, the corner gesture is followed."""
        now = self.now()
        if self._corner_tap(button, now):
            return
        before = self.session.state
        self.session.input(now)
        if before == K.ATTRACT and self.session.state == K.INTERACTIVE:
            self._start_session()

    def touch(self) -> None:
        """A GUI button was used (DirectGUI takes those clicks before the button thrower)."""
        before = self.session.state
        self.session.input(self.now())
        if before == K.ATTRACT:
            self._start_session()

    def _operator_keys(self, name: str) -> None:
        if self.session.key(name, self.now()):
            self.log("operator key sequence: PIN keypad shown")

    def _start_session(self) -> None:
        """From the loop into the visitor's own exploring: the story runs on from the docked
        stack at the handshake in real time, the orbit camera."""
        exp = self.exp
        exp.playback.jump("handshake")
        exp.playback.paused = False
        exp.playback.rate = 1.0
        exp.camera.set_mode("orbit")
        self.attract_frame = None

    def visitor_choice(self, name: str) -> None:
        self.touch()
        exp = self.exp
        if name == "watch":
            self.watching = [self.tour("docking"), 0.0]
        elif name == "float":
            self.watching = None
            self._float_in()
        elif name == "crews":
            self.watching = None
            exp.playback.jump("handshake")
            exp.camera.set_mode("orbit")
            self.ui.crews.show()
        elif name == "language":
            langs = self.config.languages
            i = langs.index(exp.ui.language) if exp.ui.language in langs else -1
            exp.ui.language = langs[(i + 1) % len(langs)]
        else:
            raise ValueError(f"unknown choice {name!r}")

    def language_label(self) -> str:
        """The language button: every offered language in its own name, the others first
        ("Русский / English" for an English-first kiosk)."""
        from experience.i18n import language_name

        langs = self.config.languages
        return " / ".join(language_name(x) for x in (*langs[1:], langs[0]))

    def _float_in(self) -> None:
        """Inside the Docking Module, looking through the hatch into Soyuz seconds before it
        opens: the handshake tour's own framing of that moment (data/tours/handshake.toml)."""
        exp = self.exp
        exp.playback.jump("handshake")
        t_hs = exp.playback.t_s
        exp.playback.rate, exp.playback.paused = 1.0, False
        try:
            tour = self.tour("handshake")
        except AstpError:
            exp.camera.set_mode("cabin")
            return
        cabin = [i for i, k in enumerate(tour.keys) if k.camera == "cabin"]
        if not cabin:
            exp.camera.set_mode("cabin")
            return
        i = min(cabin, key=lambda j: abs(tour.keys[j].t_s - (t_hs - 8.0)))
        tour.camera_at(tour._times[0][i]).apply(exp.camera)
        exp.playback.seek(tour.keys[i].t_s)

    def _keep_default_language(self, lang: str) -> None:
        """The operator chose a new default language: kept for the next start (state.toml in the
        log folder, experience.app.kiosk.save_state; the config file is not rewritten)."""
        if not self.keep_state:
            return
        try:
            path = K.save_state(self.config, lang)
            self.log(f"default language {lang} kept in {path}")
        except (OSError, AstpError) as exc:
            self.log(f"cannot keep the default language {lang}: {exc}; it lasts until the kiosk restarts")

    def _reset_visitor(self, default_language: str) -> None:
        """Every state a visitor can change, back to the start: time, camera, language (the
        default), UI panels; :meth:`Experience.reset` (hatches and pressures join it when the
        crossing's airlock state lives in the experience)."""
        self.exp.reset()
        self.exp.ui.language = default_language
        self.exp.ui.hud_visible = False
        self.watching = self.watch_frame = None
        self.attract.restart()
        if hasattr(self, "ui"):
            self.ui.crews.hide()
            self.ui.pin = ""
        self.log(f"reset to the attract loop (language {default_language})")

    # -- the frame -----------------------------------------------------------------------------------
    def step(self, dt_wall_s: float) -> None:
        t0 = time.perf_counter()
        from experience.app.tours import TourPlayer

        now = self.now()
        seen = self.exp.controls.events_seen   # drags, pinches, the wheel: a visitor still there
        if seen != self._events_seen:
            self._events_seen = seen
            if self.session.state not in (K.ATTRACT, K.COUNTDOWN):
                self.session.last_input = now
        state = self.session.tick(now)
        if state == K.ATTRACT:
            self.attract_frame = self.attract.advance(dt_wall_s)
            TourPlayer.apply_frame(self.exp, self.attract_frame)
            super().step(0.0)
        else:
            if self.watching is not None:
                tour, t = self.watching
                t += dt_wall_s
                if t > tour.duration_s:
                    self.watching = self.watch_frame = None
                    self.exp.playback.paused, self.exp.playback.rate = False, 1.0
                else:
                    self.watching[1] = t
                    self.watch_frame = TourPlayer.apply_frame(self.exp, tour.at(t))
            super().step(0.0 if self.watching is not None else dt_wall_s)
        if self.session.exit_requested:
            self.exp.ui.quit_requested = True
        self.write_heartbeat()
        self.frame_ms = (time.perf_counter() - t0) * 1e3
        if self.frames > 30:   # after warm-up
            self.max_frame_ms = max(self.max_frame_ms, self.frame_ms)

    def write_heartbeat(self) -> None:
        """The supervisor's freeze detector, fed every frame: the frame only hands its count (and
        once a second the content: pid, frames, state, languages) to :class:`HeartbeatWriter`,
        whose thread touches and rewrites the file; no file operation runs in the frame (a rename
        or even a utime waits on the disk's journal when the disk is busy: up to 160 ms measured in
        the soak on this shared machine, 5-7 ms for the fsync it used to do on a quiet one). A
        frame loop that stops stops the heartbeat with it. ``beat_ms``: what this frame spent on it."""
        self.beat_ms = 0.0
        w = self._beat
        if w is None:
            return
        t0 = time.perf_counter()
        if w.failed:
            self.log(f"cannot write the heartbeat {w.path}: {w.failed}; the supervisor will restart the kiosk")
            w.close()
            self._beat = None
            return
        now = time.monotonic()
        content = None
        if now - self._beat_written >= 1.0:
            content = {"pid": os.getpid(), "frames": self.frames, "state": self.session.state, "wall_time": time.time(),
                       "language": self.exp.ui.language, "default_language": self.session.default_language,
                       **self.heartbeat_extra()}
            self._beat_written = now
        w.beat(self.frames, content)
        self.beat_ms = (time.perf_counter() - t0) * 1e3

    def heartbeat_extra(self) -> dict:
        """More for the heartbeat's content (the VR station adds its headset's state)."""
        return {}

    # -- status --------------------------------------------------------------------------------------
    def supervisor_status(self) -> dict:
        t, cached = self._supervisor_cache
        if time.monotonic() - t < 2.0:
            return cached
        path = self.config.log_dir / "supervisor.json"
        try:
            cached = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            cached = {}
        self._supervisor_cache = (time.monotonic(), cached)
        return cached

    def operator_status_text(self, _=None) -> str:
        """The operator panel's status, in the language of ``_`` (a gettext; English without). The
        supervisor's restart causes are its log lines, shown as logged (English)."""
        _ = _ or (lambda m: m)
        up = self.now() - self.started
        sup = self.supervisor_status()
        s = self.session
        restarts = sup.get("restarts")
        lines = [_("Uptime: {h} h {m:02d} min").format(h=int(up // 3600), m=int(up % 3600 // 60)),
                 _("Frame rate: {fps} frames/s (slowest frame {ms} ms)").format(fps=f"{self._fps:.1f}",
                                                                              ms=f"{self.max_frame_ms:.0f}"),
                 _("Visitors: {visitors}   resets: {resets}   attract loops: {loops}").format(
                     visitors=s.sessions, resets=s.resets, loops=self.attract.cycles),
                 (_("Restarts by the supervisor: {n}").format(n=restarts) if restarts is not None
                  else _("Restarts by the supervisor: not supervised")),
                 _("Last restarts:")]
        causes = sup.get("last_causes") or []
        lines += [f"  {c}" for c in causes[-4:]] or ["  " + _("none")]
        lines.append(_("Logs: {folder}").format(folder=self.config.log_dir))
        return "\n".join(lines)

    def status(self) -> dict:
        out = super().status()
        props = self.win.getProperties()
        s = self.session
        out["kiosk"] = {
            **s.counters(), "attract_cycles": self.attract.cycles, "attract_tour": self.attract.tours[self.attract.index].name,
            "countdown_left_s": s.countdown_left_s(self.now()), "pin_locked_s": round(s.pin_locked_s(self.now()), 1),
            "pin_message": s.pin_message, "watching": self.watching[0].name if self.watching else None,
            "crews_visible": not self.ui.crews.isHidden(),
            "caption": self.ui._texts.get("caption", ""),
            "countdown_text": self.ui._texts.get("cd_text", "") if s.state == K.COUNTDOWN else "",
            "targets": self.ui.visible_targets(), "min_target_mm": self.config.min_target_mm,
            "buttons": {n: self.ui.center_px(n) for n in self.ui.buttons},
            "window": {"undecorated": bool(props.getUndecorated()), "cursor_hidden": bool(props.getCursorHidden()),
                       "fullscreen": bool(props.getFullscreen()),
                       "display": [self.base.pipe.getDisplayWidth(), self.base.pipe.getDisplayHeight()]},
            "max_frame_ms": round(self.max_frame_ms, 2), "quit_disabled": "quit" in self.exp.controls.disabled,
            "operator_texts": {k: self.ui._texts.get(k, "") for k in ("op_title", "op_lang_title", "op_status", "pin_title")},
            "drawn_texts": self.ui.drawn_texts(),
            "taps": self.taps, "last_tap": self.last_tap,
        }
        return out

    def close(self) -> None:
        if self._beat is not None:
            self._beat.close()
        self.ui.destroy()
        super().close()


def run_kiosk(config: K.KioskConfig, *, heartbeat=None, status_file=None, size=None, backend=None) -> int:
    """``astp kiosk --config FILE``: the kiosk in its window until the operator exits it."""
    from experience.app import settings as settings_mod
    from experience.app.experience import Experience
    from experience.backend import select_backend
    from experience.frontends.desktop import display_problem
    from experience.frontends.kiosk import EXIT_OPERATOR, EXIT_RESTART
    from experience.scene.config import parse_size
    from experience.simulation.ephemeris import Ephemeris

    problem = display_problem()
    if problem:
        raise AstpError(f"cannot open the kiosk: {problem}; start it in the museum PC's desktop session "
                        "(docs/kiosk.md), or soak-test it without a display with --simulate")
    if status_file and not Path(status_file).parent.is_dir():
        raise AstpError(f"cannot write {status_file}: the folder {Path(status_file).parent} does not exist; create it first")
    hb = Path(heartbeat) if heartbeat else config.log_dir / "heartbeat.json"
    from experience import outputs

    outputs.check_folder(hb.parent, what="kiosk log folder")
    hb.parent.mkdir(parents=True, exist_ok=True)
    settings = settings_mod.Settings(quality=config.quality)
    eph = Ephemeris(backend=select_backend(backend, notice=lambda _m: None))
    exp = Experience(eph, language=config.default_language, languages=config.languages,
                     disabled_actions=DISABLED_ACTIONS)
    viewer = KioskViewer(exp, settings, config, heartbeat=hb, status_file=status_file,
                         size=parse_size(size) if size else None)
    try:
        viewer.run()
    finally:
        viewer.close()
    if viewer.session.exit_requested == "restart":
        return EXIT_RESTART
    return EXIT_OPERATOR
