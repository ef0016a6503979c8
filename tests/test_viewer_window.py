"""The real desktop viewer in a real window under Xvfb, driven like a person with xdotool.

The viewer runs as its own process (`astp viewer`), exactly as a visitor starts it; xdotool sends
real key presses and mouse drags to its X window; the viewer's status file (``--status-file``,
JSON four times a second) says what its clock, camera and HUD did; its F12 screenshot and a
screenshot of the whole X screen (ImageMagick ``import``) show the scene. Marker ``window``:
``./run-tests -m window`` runs exactly these. Xvfb is started here (tests/xdisplay.py); where it
cannot be set up the tests skip with the reason, and under CI=true that skip fails the run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.xdisplay import stop_process, find_window, screenshot_root, tools_or_skip, xdotool, xvfb_or_skip

WINDOW_TOOLS = ("xvfb", "xdotool", "imagemagick")

pytestmark = pytest.mark.window
TITLE = "Handshake in Orbit"


class Viewer:
    def __init__(self, proc, display, wid, status: Path, shots: Path, log: Path):
        self.proc, self.display, self.wid, self.status_path, self.shots, self.log = proc, display, wid, status, shots, log

    def status(self) -> dict:
        for _ in range(20):
            try:
                return json.loads(self.status_path.read_text(encoding="utf-8"))
            except (FileNotFoundError, json.JSONDecodeError):
                time.sleep(0.1)
        raise AssertionError(f"no status file; viewer log:\n{self.log.read_text()[-2000:]}")

    def wait(self, predicate, what: str, timeout_s: float = 90.0) -> dict:
        deadline = time.monotonic() + timeout_s
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the viewer exited ({self.proc.returncode}) waiting for {what}:\n"
                                     f"{self.log.read_text()[-2000:]}")
            if self.status_path.exists():
                last = self.status()
                if predicate(last):
                    return last
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}; last status: {json.dumps(last)[:1500]}")

    def frames_after(self, n: int = 2, min_s: float = 0.6) -> dict:
        """Wait until the viewer has drawn ``n`` more frames and ``min_s`` seconds have passed
        (X events reach the program a frame or two after xdotool sends them)."""
        start = self.status()["frames"]
        t0 = time.monotonic()
        return self.wait(lambda s: s["frames"] >= start + n and time.monotonic() - t0 >= min_s, f"{n} more frames")

    def key(self, *keys: str) -> dict:
        for k in keys:
            xdotool(self.display, "key", "--window", self.wid, k)
        return self.frames_after(3)


@pytest.fixture(scope="module")
def viewer(mission, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("viewer")
    status, shots, log = tmp / "status.json", tmp / "shots", tmp / "viewer.log"
    tools_or_skip(*WINDOW_TOOLS)
    with xvfb_or_skip() as xd:
        display = xd.display
        env = xd.env(ASTP_CONFIG_DIR=str(tmp / "config"))
        with open(log, "w") as logf:
            proc = subprocess.Popen([sys.executable, "-m", "experience.frontends.cli", "viewer", "--size", "960x540",
                                     "--status-file", str(status), "--screenshot-dir", str(shots)],
                                    env=env, stdout=logf, stderr=subprocess.STDOUT)
        try:
            wid = find_window(display, TITLE, proc=proc)
            v = Viewer(proc, display, wid, status, shots, log)
            v.wait(lambda s: s["frames"] >= 3, "the first frames", timeout_s=180.0)
            yield v
        finally:
            stop_process(proc)


def _picture_has_scene(img: np.ndarray) -> None:
    """Not black, not one clear colour: the scene is there (stars, Earth, the stack)."""
    assert img.ndim == 3 and img.shape[2] >= 3
    rgb = img[..., :3].astype(np.int32)
    assert rgb.mean() > 8, "the picture is (nearly) black"
    colours = np.unique((rgb // 8).reshape(-1, 3), axis=0)
    assert len(colours) > 200, f"only {len(colours)} distinct colours: a flat picture, not the scene"
    assert rgb.std() > 10


def test_window_opens_at_the_handshake_with_the_title(viewer):
    s = viewer.status()
    assert s["utc"].startswith("1975-07-17T19:19:")
    assert s["window"]["width"] == 960 and s["window"]["height"] == 540
    assert s["vehicles"] == ["apollo", "soyuz"]
    assert "Docked" in s["hud"]["panel"] and "UTC" in s["hud"]["panel"]
    name = xdotool(viewer.display, "getwindowname", viewer.wid)
    assert name == TITLE


def test_space_pauses_and_the_clock_stops(viewer):
    before = viewer.status()
    assert not before["paused"]
    s = viewer.key("space")
    assert s["paused"]
    t = s["t_s"]
    s = viewer.frames_after(3)
    assert s["t_s"] == t, "the story moved while paused"
    assert s["t_s"] > before["t_s"] - 1.0


def test_time_warp_and_reverse_keys(viewer):
    s = viewer.key("bracketright", "bracketright")
    assert s["rate"] == 5.0
    s = viewer.key("r")
    assert s["rate"] == -5.0 and not s["paused"]
    t0 = s["t_s"]
    s = viewer.frames_after(4)
    assert s["t_s"] < t0, "reverse did not run the story backwards"
    s = viewer.key("bracketleft", "bracketleft", "r", "space")
    assert s["rate"] == 1.0 and s["paused"]


def test_mouse_drag_turns_the_orbit_camera(viewer):
    before = viewer.status()["camera"]
    xdotool(viewer.display, "mousemove", "--window", viewer.wid, "480", "200")
    viewer.frames_after(2)
    xdotool(viewer.display, "mousedown", "1")
    viewer.frames_after(2)
    xdotool(viewer.display, "mousemove_relative", "--", "120", "40")
    viewer.frames_after(2)
    xdotool(viewer.display, "mouseup", "1")
    after = viewer.frames_after(2)["camera"]
    assert after["mode"] == "orbit"
    assert abs(after["orbit_yaw_deg"] - before["orbit_yaw_deg"]) > 10.0, viewer.status()["pointer"]
    assert after["orbit_pitch_deg"] != before["orbit_pitch_deg"]
    assert after["basis"] != before["basis"]


def test_wheel_zooms(viewer):
    d0 = viewer.status()["camera"]["orbit_distance_m"]
    xdotool(viewer.display, "mousemove", "--window", viewer.wid, "480", "200")
    xdotool(viewer.display, "click", "5")
    xdotool(viewer.display, "click", "5")
    s = viewer.frames_after(3)
    assert s["camera"]["orbit_distance_m"] > d0 * 1.2


def test_help_overlay_and_language_switch(viewer):
    s = viewer.key("F1")
    assert s["help_visible"]
    s = viewer.key("F1")
    assert not s["help_visible"]
    s = viewer.key("l")
    assert s["language"] == "ru"
    s = viewer.key("l")
    assert s["language"] == "en"


def test_next_event_key_jumps_to_the_first_undocking(viewer):
    s = viewer.key("6")      # the handshake preset
    assert s["utc"].startswith("1975-07-17T19:19:00")
    s = viewer.key("Next")  # Page Down: the next timeline event after the handshake
    assert s["utc"].startswith("1975-07-19T12:03:20"), (s["utc"], s["events_seen"])
    assert "undocking" in s["hud"]["bar"].lower()
    s = viewer.key("Prior")  # Page Up: back to the handshake
    assert s["utc"].startswith("1975-07-17T19:19:00")


def test_camera_keys_change_the_view(viewer):
    s = viewer.key("F4")
    assert s["camera"]["mode"] == "cm_window" and s["camera"]["placement"] == "cm_window"
    s = viewer.key("c")
    assert s["camera"]["mode"] == "soyuz_porthole"
    s = viewer.key("F2")
    assert s["camera"]["mode"] == "orbit"


def test_f12_screenshot_and_the_screen_show_the_scene(viewer, tmp_path):
    from PIL import Image

    n = len(viewer.status()["screenshots"])
    viewer.key("F12")
    s = viewer.wait(lambda s: len(s["screenshots"]) > n, "the screenshot")
    path = Path(s["screenshots"][-1])
    assert path.parent == viewer.shots and path.name.startswith("handshake-in-orbit_1975-07-17T19-19-")
    img = np.asarray(Image.open(path))
    assert img.shape[:2] == (540, 960)
    _picture_has_scene(img)
    # and what the X server itself shows in the window (not the program's own read-back)
    root = np.asarray(Image.open(screenshot_root(viewer.display, tmp_path / "root.png")))
    _picture_has_scene(root[:540, :960])


def test_escape_quits_cleanly(viewer):
    xdotool(viewer.display, "key", "--window", viewer.wid, "Escape")
    rc = viewer.proc.wait(timeout=60)
    log = viewer.log.read_text()
    assert rc == 0, log[-2000:]
    assert "Traceback" not in log and "Assertion" not in log, log[-2000:]


def test_main_job_opens_the_viewer_where_there_is_a_display(mission, tmp_path):
    tools_or_skip(*WINDOW_TOOLS)
    with xvfb_or_skip() as xd:
        display = xd.display
        env = xd.env(ASTP_CONFIG_DIR=str(tmp_path / "config"))
        proc = subprocess.Popen([sys.executable, "-m", "experience.frontends.cli", "-o", str(tmp_path / "out")],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            wid = find_window(display, TITLE, proc=proc)
            time.sleep(3.0)
            xdotool(display, "key", "--window", wid, "Escape")
            out, _ = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 0, out.decode(errors="replace")[-2000:]
    assert not (tmp_path / "out").exists(), "with a display the main job opens the viewer, it does not render stills"
