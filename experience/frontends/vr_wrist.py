"""The wrist panel: story time, the caption of the moment and the comfort settings, in the scene at
the visitor's left wrist (reading distance), in the visitor's language.

Shown while toggled on with the left hand's menu button. The panel is a card 18 x 9 cm held 7 cm
above the left hand, turned to face the head; its text comes from the same places as the desktop
HUD (experience/app/hud.py: ``hud_text``, ``caption_text``; translated through the gettext
catalogs, DejaVu Sans for Latin and Cyrillic). It is drawn onto each eye's picture with that
eye's own projection (a perspective warp of the card's four corners: the same pinhole as the
scene, so it sits at the wrist in stereo), over the scene (a wrist panel is in front of
everything it could overlap).
"""

from __future__ import annotations

import functools

import numpy as np

from experience.i18n import N_

PANEL_W_M, PANEL_H_M = 0.18, 0.1125
# Translators: lines of the VR wrist panel (comfort settings)
SNAP_TURN = N_("Snap turn {deg}°")
SMOOTH_TURN = N_("Smooth turn")
VIGNETTE = N_("Comfort vignette {pct} %")
VIGNETTE_OFF = N_("Comfort vignette off")
MENU_HINT = N_("Trigger: language · stick ◀ ▶: events · stick ▲ ▼: turning")
LIFT_M = 0.07
IMAGE_W, IMAGE_H = 512, 320
CAPTION_LINES = 4


@functools.lru_cache(maxsize=4)
def _font(size: int, bold: bool = False):
    from PIL import ImageFont

    from experience.i18n import ui_font_path

    return ImageFont.truetype(str(ui_font_path(bold)), size)


def panel_lines(exp, comfort: dict, extra=(), notice: str = "") -> list[str]:
    from experience.app.hud import caption_text, hud_text, translator

    _ = translator(exp.ui.language).gettext
    hud = hud_text(exp.snapshot, exp.playback, exp.ui, exp.camera.mode)
    lines = [hud.lines[0], *[p.strip() for p in hud.lines[1].split("    ") if p.strip()]]
    cap = caption_text(exp, _)
    turn = (_(SNAP_TURN).format(deg=int(round(comfort.get("snap_deg", 30.0)))) if comfort.get("turn") == "snap"
            else _(SMOOTH_TURN))
    vig = comfort.get("vignette", 0.0)
    lines.append(f"{turn}  ·  {_(VIGNETTE).format(pct=int(round(vig * 100))) if vig > 0 else _(VIGNETTE_OFF)}")
    if cap:
        lines.insert(3, cap)
    for k, line in enumerate([*([notice] if notice else []), *extra]):   # the crossing's: notice, room, pressures
        lines.insert(3 + k, line)
    lines.insert(len(lines) - 1, _(MENU_HINT))
    return lines


def panel_image(lines: list[str]):
    """The card as an RGBA PIL image (dark translucent card, light text, word-wrapped)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (IMAGE_W, IMAGE_H), (12, 16, 24, 215))
    d = ImageDraw.Draw(img)
    d.rectangle([2, 2, IMAGE_W - 3, IMAGE_H - 3], outline=(190, 200, 215, 255), width=3)
    head, body, hint, foot = lines[:3], lines[3:-2], lines[-2], lines[-1]
    y = 12
    for i, line in enumerate(head):
        font = _font(30 if i == 0 else 21, bold=(i == 0))
        for part in _wrap(d, line, font, IMAGE_W - 32):
            d.text((16, y), part, font=font, fill=(235, 238, 245, 255))
            y += int(font.size * 1.25)
    y += 6
    font = _font(21)
    step = int(font.size * 1.25)
    hint_y = IMAGE_H - 12 - 26 * 2 - 24
    full = False
    for line in body:   # each at most CAPTION_LINES lines, and no further than the hint line (ellipsis)
        parts = _wrap(d, line, font, IMAGE_W - 32)
        room = max(0, (hint_y - 2 - y) // step)
        keep = min(len(parts), CAPTION_LINES, room)
        if keep < len(parts):
            parts = parts[:keep]
            if parts:
                parts[-1] = parts[-1].rstrip(" ,.;:") + " …"
            full = True
        for part in parts:
            d.text((16, y), part, font=font, fill=(225, 228, 235, 255))
            y += step
        if full:
            break
    hint_font = _font(17)
    d.text((16, hint_y), hint, font=hint_font, fill=(150, 160, 175, 255))
    foot_font = _font(20)
    parts = [foot] if d.textlength(foot, font=foot_font) <= IMAGE_W - 32 else [p.strip() for p in foot.split("·")]
    for k, part in enumerate(parts):
        d.text((16, IMAGE_H - 12 - 26 * (len(parts) - k)), part, font=foot_font, fill=(170, 200, 235, 255))
    return img


def _wrap(d, text: str, font, width: int) -> list[str]:
    words, out, cur = text.split(), [], ""
    for w in words:
        trial = f"{cur} {w}".strip()
        if d.textlength(trial, font=font) <= width or not cur:
            cur = trial
        else:
            out.append(cur)
            cur = w
    if cur:
        out.append(cur)
    return out


def panel_corners(hand_model, head_model) -> np.ndarray:
    """(4, 3) model-frame corners (top-left, top-right, bottom-right, bottom-left) of the card
    above the hand, facing the head, upright to the head's up."""
    centre = hand_model.position_m + hand_model.rotation @ np.array([0.0, LIFT_M, 0.0])
    to_head = head_model.position_m - centre
    n = to_head / max(np.linalg.norm(to_head), 1e-6)
    up = head_model.rotation @ np.array([0.0, 1.0, 0.0])
    right = np.cross(up, n)
    if np.linalg.norm(right) < 1e-6:
        right = head_model.rotation @ np.array([1.0, 0.0, 0.0])
    right /= np.linalg.norm(right)
    up = np.cross(n, right)
    hw, hh = PANEL_W_M / 2.0, PANEL_H_M / 2.0
    return np.array([centre - right * hw + up * hh, centre + right * hw + up * hh,
                     centre + right * hw - up * hh, centre - right * hw - up * hh])


def project(corners_model: np.ndarray, eye_model, frustum, size) -> np.ndarray | None:
    """Pixel coordinates (x right, y down) of the corners in one eye's picture; None when any
    corner is behind the eye."""
    w, h = size
    v = (corners_model - eye_model.position_m) @ eye_model.rotation   # eye axes: x right, y up, -z forward
    depth = -v[:, 2]
    if np.any(depth < 0.02):
        return None
    tx, ty = v[:, 0] / depth, v[:, 1] / depth
    px = (tx - frustum.tan_left) / (frustum.tan_right - frustum.tan_left) * w
    py = (frustum.tan_up - ty) / (frustum.tan_up - frustum.tan_down) * h
    return np.column_stack([px, py])


def _perspective_coeffs(dst: np.ndarray, src: np.ndarray) -> list[float]:
    """PIL's PERSPECTIVE coefficients mapping output pixels (dst) back to input pixels (src)."""
    a, b = [], []
    for (x, y), (u, v) in zip(dst, src):
        a.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        a.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        b.extend([u, v])
    return np.linalg.solve(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)).tolist()


def composite(rows_bottom_up: np.ndarray, panel, pixels: np.ndarray) -> np.ndarray:
    """The eye's picture (H, W, 3 uint8, bottom-up rows) with the card warped onto ``pixels``."""
    from PIL import Image

    h, w = rows_bottom_up.shape[:2]
    src = np.array([[0, 0], [IMAGE_W, 0], [IMAGE_W, IMAGE_H], [0, IMAGE_H]], dtype=np.float64)
    try:
        coeffs = _perspective_coeffs(pixels, src)
    except np.linalg.LinAlgError:
        return rows_bottom_up
    warped = panel.transform((w, h), Image.PERSPECTIVE, coeffs, Image.BILINEAR, fillcolor=(0, 0, 0, 0))
    over = np.asarray(warped, dtype=np.float32)[::-1]          # to bottom-up rows
    alpha = over[..., 3:4] / 255.0
    out = rows_bottom_up.astype(np.float32) * (1.0 - alpha) + over[..., :3] * alpha
    return out.astype(np.uint8)


class WristPanel:
    """Toggle, text cache and per-eye drawing of the panel."""

    def __init__(self):
        self.visible = False
        self._menu_was = False
        self._key = None
        self._image = None
        self.drawn = 0
        self.actions_done: list[str] = []
        self.notices: list[str] = []      # the crossing's notices the panel showed
        self.notices_drawn = 0

    def update(self, menu_pressed: bool) -> None:
        if menu_pressed and not self._menu_was:
            self.visible = not self.visible
        self._menu_was = menu_pressed

    def interact(self, hands: dict, exp, movement) -> list[str]:
        """While the panel is shown it is a menu, through the same Controls as the desktop: the
        right trigger switches the language, the left stick left/right jumps to the previous or
        next timeline event, the left stick up/down switches snap and smooth turning (once per
        push). The left stick does not glide meanwhile (its value is taken here). Returns what
        was done this frame."""
        done: list[str] = []
        if not self.visible:
            self._armed = {}
            return done
        armed = getattr(self, "_armed", None)
        if armed is None or not armed:
            armed = self._armed = {"trigger": True, "x": True, "y": True}
        right, left = hands["right"], hands["left"]
        if right.trigger > 0.8 and armed["trigger"]:
            exp.controls.apply("language")
            done.append("language")
            armed["trigger"] = False
        elif right.trigger < 0.3:
            armed["trigger"] = True
        x, y = left.thumbstick
        if abs(x) > 0.7 and armed["x"]:
            exp.controls.apply("next_event" if x > 0 else "prev_event")
            done.append("next_event" if x > 0 else "prev_event")
            armed["x"] = False
        elif abs(x) < 0.3:
            armed["x"] = True
        if abs(y) > 0.7 and armed["y"]:
            if hasattr(movement, "turn"):
                movement.turn = "smooth" if movement.turn == "snap" else "snap"
                done.append(f"turn:{movement.turn}")
            armed["y"] = False
        elif abs(y) < 0.3:
            armed["y"] = True
        left.thumbstick = (0.0, 0.0)
        right.trigger = 0.0          # taken by the menu too (it does not operate a valve meanwhile)
        self.actions_done.extend(done)
        return done

    def image(self, exp, comfort: dict, extra=(), notice: str = ""):
        key = (exp.snapshot.utc.replace(microsecond=0), exp.ui.language, tuple(sorted(comfort.items())),
               tuple(extra), notice)
        if key != self._key:
            self._key = key
            self._image = panel_image(panel_lines(exp, comfort, extra, notice))
        return self._image

    def draw(self, rows_bottom_up, exp, comfort, hand_model, head_model, eye_model, frustum, extra=(), notice: str = ""):
        """Draw the panel where the left hand holds it: while it is switched on, or while a
        ``notice`` (the crossing's refusal or action, in the visitor's language) is fresh."""
        if not (self.visible or notice) or hand_model is None or head_model is None:
            return rows_bottom_up
        h, w = rows_bottom_up.shape[:2]
        px = project(panel_corners(hand_model, head_model), eye_model, frustum, (w, h))
        if px is None or px[:, 0].max() < 0 or px[:, 0].min() > w or px[:, 1].max() < 0 or px[:, 1].min() > h:
            return rows_bottom_up
        self.drawn += 1
        if notice:
            self.notices_drawn += 1
            if notice not in self.notices:
                self.notices.append(notice)
        return composite(rows_bottom_up, self.image(exp, comfort, extra, notice), px)
