"""The real kiosk: its window under Xvfb driven with xdotool (the supervisor and the soak:
tests/test_kiosk_supervisor.py). Marker ``kiosk``
(``./run-tests -m kiosk``); where Xvfb or xdotool cannot be had the tests skip with the reason,
and under CI=true that skip fails the run (tests/xdisplay.skip_or_fail).

The kiosk's status file (``--status-file``, JSON four times a second) says what its state
machine, window and GUI did; xdotool sends real clicks and keys; every wait is on a condition
(the software GL of a CI machine draws a few frames a second), never a fixed sleep.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from experience.app import kiosk as K
from tests.xdisplay import stop_process, screenshot_root, tools_or_skip, xdotool, xvfb_or_skip

pytestmark = pytest.mark.kiosk
SIZE = (800, 450)
PIN = "1975"
CLI = [sys.executable, "-m", "experience.frontends.cli", "kiosk"]


def _config(tmp: Path, **extra) -> Path:
    lines = ["[kiosk]", 'quality = "low"', f'log_dir = "{tmp / "logs"}"', "screen_width_mm = 300"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in extra.items()]
    p = tmp / "kiosk.toml"
    p.write_text("\n".join(lines) + "\n")
    return p


def _wait(pred, what: str, timeout_s: float = 60.0, proc=None, log: Path | None = None, poll=0.2):
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the process exited ({proc.returncode}) waiting for {what}:\n"
                                 f"{log.read_text()[-3000:] if log else ''}")
        last = pred()
        if last:
            return last
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}; last: {str(last)[:800]}")


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@pytest.fixture(scope="module")
def display():
    tools_or_skip("xvfb", "xdotool", "imagemagick")
    disp = xvfb_or_skip(size=SIZE)
    yield disp
    disp.stop()


# ------------------------------------------------------------------------------------------------
class Kiosk:
    def __init__(self, proc, display, status: Path, log: Path, tmp: Path):
        self.proc, self.display, self.status_path, self.log, self.tmp = proc, display, status, log, tmp

    def status(self) -> dict:
        s = None
        for _ in range(30):
            s = _read_json(self.status_path)
            if s:
                return s
            time.sleep(0.1)
        raise AssertionError(f"no status file; kiosk log:\n{self.log.read_text()[-2000:]}")

    def wait(self, pred, what, timeout_s=60.0) -> dict:
        return _wait(lambda: (lambda s: s if s and pred(s) else None)(_read_json(self.status_path)), what,
                     timeout_s, proc=self.proc, log=self.log)

    def later(self, frames: int = 3) -> dict:
        n = self.status()["frames"]
        return self.wait(lambda s: s["frames"] >= n + frames, f"{frames} more frames")

    def click(self, x: int, y: int) -> None:
        """Move, click, and let the kiosk draw two frames: Panda3D reads the pointer's position
        once a frame, so two clicks within one frame would both land where the second was."""
        n = self.status()["frames"]
        xdotool(self.display, "mousemove", str(x), str(y))
        self.wait(lambda s: s["frames"] >= n + 1, "a frame with the pointer there")
        xdotool(self.display, "click", "1")
        self.wait(lambda s: s["frames"] >= n + 3, "the frames after the click")

    def corner_gesture(self) -> None:
        """The operator's hidden gesture: a tap in each corner, clockwise from the top left. Each
        tap waits until the kiosk has counted it at that place (``taps``, ``last_tap``) before the
        pointer moves on: Panda3D reads the pointer once a frame, and a click the X server delivers
        late (a loaded machine) would otherwise be read where the next move put the pointer."""
        w, h = SIZE
        for x, y in ((2, 2), (w - 3, 2), (w - 3, h - 3), (2, h - 3)):
            s = self.status()
            n, taps = s["frames"], s["kiosk"]["taps"]
            xdotool(self.display, "mousemove", str(x), str(y))
            self.wait(lambda s: s["frames"] >= n + 1, "a frame with the pointer there")
            xdotool(self.display, "click", "1")
            s = self.wait(lambda s: s["kiosk"]["taps"] > taps, f"the tap at {x},{y} counted")
            tx, ty = s["kiosk"]["last_tap"]
            assert abs(tx * w - x) <= 2 and abs(ty * h - y) <= 2, (s["kiosk"]["last_tap"], x, y)

    def button(self, name: str) -> None:
        x, y = self.status()["kiosk"]["buttons"][name]
        self.click(x, y)

    def state(self, want: str, timeout_s=60.0) -> dict:
        """Wait for a state, then for the GUI of that state drawn (the frame after the event)."""
        s = self.wait(lambda s: s["kiosk"]["state"] == want, f"the kiosk state {want!r}", timeout_s)
        n = s["frames"]
        return self.wait(lambda s: s["frames"] >= n + 2 or s["kiosk"]["state"] != want, "the next frames")


@pytest.fixture(scope="module")
def kiosk(display, mission, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("kiosk")
    cfg = _config(tmp, idle_timeout_s=10, countdown_s=8, pin_hash=K.hash_pin(PIN))
    status, log = tmp / "status.json", tmp / "kiosk.log"
    with open(log, "w") as logf:
        proc = subprocess.Popen([*CLI, "--config", str(cfg), "--status-file", str(status)],
                                env=display.env(ASTP_CONFIG_DIR=str(tmp / "config")), stdout=logf,
                                stderr=subprocess.STDOUT)
    k = Kiosk(proc, display.display, status, log, tmp)
    try:
        k.wait(lambda s: s["frames"] >= 5, "the first frames", timeout_s=240)
        yield k
    finally:
        stop_process(proc)


def test_fullscreen_borderless_cursor_hidden_attract_loop(kiosk):
    s = kiosk.status()
    w = s["kiosk"]["window"]
    assert w["fullscreen"] and w["undecorated"] and w["cursor_hidden"], w
    assert (s["window"]["width"], s["window"]["height"]) == SIZE == tuple(w["display"])
    wid = xdotool(kiosk.display, "search", "--name", "Handshake in Orbit").splitlines()[0]
    geo = xdotool(kiosk.display, "getwindowgeometry", "--shell", wid)
    assert f"WIDTH={SIZE[0]}" in geo and f"HEIGHT={SIZE[1]}" in geo, geo
    assert s["kiosk"]["state"] == "attract" and s["kiosk"]["quit_disabled"]
    # the attract loop plays the tours: the story time moves with the tour, a caption shows
    t0 = s["t_s"]
    s2 = kiosk.wait(lambda x: x["t_s"] != t0 and x["kiosk"]["caption"], "the tour to move on with a caption")
    assert s2["kiosk"]["attract_tour"] in ("launch", "rendezvous", "docking", "handshake")
    img = kiosk.tmp / "attract.png"
    screenshot_root(kiosk.display, img)
    from PIL import Image

    rgb = np.asarray(Image.open(img).convert("RGB")).astype(int)
    assert rgb.mean() > 5 and len(np.unique((rgb // 16).reshape(-1, 3), axis=0)) > 50


def test_a_click_breaks_the_attract_loop_and_targets_are_big(kiosk):
    before = kiosk.status()["kiosk"]
    assert before["state"] == "attract"
    kiosk.click(SIZE[0] // 2, SIZE[1] // 3)
    s = kiosk.state("interactive", timeout_s=30)
    assert s["kiosk"]["sessions"] == before["sessions"] + 1
    targets = s["kiosk"]["targets"]
    assert {t["name"] for t in targets} >= {"watch", "float", "crews", "language"}
    for t in targets:
        assert t["w_mm"] >= 15 and t["h_mm"] >= 15, t
    kiosk.button("language")
    kiosk.wait(lambda x: x["language"] == "ru", "Russian after the language button")


def test_escape_and_alt_f4_do_nothing(kiosk):
    wid = xdotool(kiosk.display, "search", "--name", "Handshake in Orbit").splitlines()[0]
    for key in ("Escape", "alt+F4", "Escape"):
        xdotool(kiosk.display, "key", "--window", wid, key)
    s = kiosk.later(4)
    assert kiosk.proc.poll() is None and s["window"]["fullscreen"]
    assert s["events_seen"] > 0


def test_wrong_pin_does_not_open_the_panel_and_the_right_one_does(kiosk):
    kiosk.corner_gesture()
    kiosk.state("pin", timeout_s=30)
    for d in "0000":
        kiosk.button(f"pin_{d}")
    kiosk.button("pin_ok")
    s = kiosk.wait(lambda x: x["kiosk"]["pin_failures"] >= 1, "the wrong PIN refused")
    assert s["kiosk"]["state"] == "pin" and s["kiosk"]["pin_message"] == "wrong"
    assert not any(t["name"].startswith("op_") for t in s["kiosk"]["targets"])
    for d in PIN:
        kiosk.button(f"pin_{d}")
    kiosk.button("pin_ok")
    s = kiosk.state("operator", timeout_s=30)
    assert {"op_exit", "op_restart", "op_close"} <= {t["name"] for t in s["kiosk"]["targets"]}
    screenshot_root(kiosk.display, kiosk.tmp / "operator.png")
    kiosk.button("op_close")
    kiosk.state("attract", timeout_s=30)


def test_idle_countdown_appears_and_resets_everything(kiosk):
    kiosk.click(SIZE[0] // 2, SIZE[1] // 3)
    kiosk.state("interactive", timeout_s=30)
    kiosk.button("language")
    kiosk.button("float")
    kiosk.wait(lambda x: x["language"] == "ru" and x["camera"]["mode"] == "cabin", "Russian, in the cabin")
    resets = kiosk.status()["kiosk"]["resets"]
    s = kiosk.state("countdown", timeout_s=40)
    assert "через" in s["kiosk"]["countdown_text"], s["kiosk"]["countdown_text"]   # in the visitor's language
    assert {"keep", "again"} <= {t["name"] for t in s["kiosk"]["targets"]}
    screenshot_root(kiosk.display, kiosk.tmp / "countdown.png")
    s = kiosk.state("attract", timeout_s=40)
    assert s["kiosk"]["resets"] == resets + 1
    assert s["language"] == "en" and s["kiosk"]["watching"] is None and not s["kiosk"]["crews_visible"]


def test_operator_panel_in_russian_and_its_default_language_survives_a_restart(kiosk, display):
    """Last in this file: it restarts the kiosk. The panel follows the kiosk's language (Russian
    here); the default language chosen on it is kept in state.toml in the log folder (the config
    file is not rewritten) and is the language of the next start."""
    cfg = kiosk.tmp / "kiosk.toml"
    before = cfg.read_bytes()
    kiosk.click(SIZE[0] // 2, SIZE[1] // 3)
    kiosk.state("interactive", timeout_s=30)
    kiosk.button("language")
    kiosk.wait(lambda x: x["language"] == "ru", "Russian")
    kiosk.corner_gesture()
    s = kiosk.state("pin", timeout_s=30)
    assert s["kiosk"]["operator_texts"]["pin_title"] == "PIN-код оператора"
    for d in PIN:
        kiosk.button(f"pin_{d}")
    kiosk.button("pin_ok")
    s = kiosk.state("operator", timeout_s=30)
    texts = {t["name"]: t["text"] for t in s["kiosk"]["targets"]}
    assert texts["op_exit"] == "Выйти из киоска" and texts["op_restart"] == "Перезапустить киоск"
    assert texts["op_close"] == "Закрыть"
    op = s["kiosk"]["operator_texts"]
    assert op["op_title"] == "Оператор" and op["op_lang_title"] == "Язык для новых посетителей:"
    assert "Время работы:" in op["op_status"] and "Журналы:" in op["op_status"], op["op_status"]
    kiosk.button("op_lang_ru")
    s = kiosk.wait(lambda x: x["kiosk"]["default_language"] == "ru", "the default language Russian")
    screenshot_root(kiosk.display, kiosk.tmp / "operator_ru.png")
    state = kiosk.tmp / "logs" / K.STATE_FILE
    assert 'default_language = "ru"' in state.read_text(encoding="utf-8")
    x, y = kiosk.status()["kiosk"]["buttons"]["op_restart"]
    n = kiosk.status()["frames"]
    xdotool(kiosk.display, "mousemove", str(x), str(y))
    kiosk.wait(lambda s: s["frames"] >= n + 1, "a frame with the pointer there")
    xdotool(kiosk.display, "click", "1")             # the kiosk exits on it: no frames after to wait for
    assert kiosk.proc.wait(timeout=60) == 75          # "restart" without the supervisor: exit 75
    assert cfg.read_bytes() == before                 # the operator's config untouched
    status, log = kiosk.tmp / "status2.json", kiosk.tmp / "kiosk2.log"
    with open(log, "w") as logf:
        proc = subprocess.Popen([*CLI, "--config", str(cfg), "--status-file", str(status)],
                                env=display.env(ASTP_CONFIG_DIR=str(kiosk.tmp / "config")), stdout=logf,
                                stderr=subprocess.STDOUT)
    k2 = Kiosk(proc, kiosk.display, status, log, kiosk.tmp)
    try:
        s = k2.wait(lambda x: x["frames"] >= 5, "the restarted kiosk", timeout_s=240)
        assert s["kiosk"]["default_language"] == "ru" and s["language"] == "ru"
        r = subprocess.run([*CLI, "--check", str(cfg)], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0 and "default ru (the operator's choice" in r.stdout, r.stdout + r.stderr
    finally:
        stop_process(proc)
