"""Rendering with and without a display (issue #8, "Rendering and the display").

- Under a real X display (Xvfb, started by tests/xdisplay.py) `astp render` and the main job exit
  cleanly (no ``ReMutexPosixImpl::lock()`` abort at exit, exit code 0) and draw exactly the
  picture the offscreen (EGL) path draws, so every image check of test_render.py holds there too.
- A window on the shared pipe (what the desktop viewer does, with ShowBase) and the renderer's
  buffers live together, and :func:`experience.scene.renderer.shutdown` may be called twice.
- A DISPLAY or WAYLAND_DISPLAY that is set but unusable falls back to EGL with one notice, and
  `astp doctor` reports what render does.
- Sizes the driver cannot hold are refused before rendering; every buffer is checked.

Each run of the program is a child process (the pipe is chosen once per process).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("panda3d")
pytestmark = pytest.mark.usefixtures("mission")  # children share the session's private cache folder

ROOT = Path(__file__).resolve().parents[1]
HANDSHAKE = "1975-07-17T19:19:00Z"
SIZE = "320x180"


def _env(**changes) -> dict:
    env = dict(os.environ)
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def _offscreen_env(**changes) -> dict:
    return _env(DISPLAY=None, WAYLAND_DISPLAY=None, **changes)


def astp(*args, env, timeout=300):
    return subprocess.run([sys.executable, "-m", "experience.frontends.cli", *args], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=timeout)


def py(code: str, env, timeout=300):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=timeout)


def _pixels(path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def _ours(stderr: str) -> list[str]:
    """The program's own lines (Xlib's 'extension "XFree86-DGA" missing' comes from Panda3D's X11
    module, not from us)."""
    return [ln for ln in stderr.splitlines() if ln.strip() and not ln.startswith("Xlib:")]


@pytest.fixture(scope="module")
def offscreen_picture(tmp_path_factory, mission):
    out = tmp_path_factory.mktemp("offscreen") / "x.png"
    proc = astp("render", "--at", HANDSHAKE, "--size", SIZE, "-o", str(out), env=_offscreen_env())
    assert proc.returncode == 0, proc.stderr
    return _pixels(out)


def _unused_display() -> str:
    for n in range(4321, 4400):
        if not Path(f"/tmp/.X11-unix/X{n}").exists():
            return f":{n}"
    pytest.skip("no unused X display number")


# ------------------------------------------------------------------------------------ Xvfb
def test_render_under_a_display_exits_cleanly_with_the_offscreen_picture(xdisplay, offscreen_picture, tmp_path):
    out = tmp_path / "x.png"
    proc = astp("render", "--at", HANDSHAKE, "--size", SIZE, "-o", str(out), env=xdisplay.env())
    assert proc.returncode == 0, f"exit code {proc.returncode}: {proc.stderr}"
    assert "Assertion" not in proc.stderr and "Aborted" not in proc.stderr
    assert _ours(proc.stderr) == [f"wrote {out}"], proc.stderr
    assert np.array_equal(_pixels(out), offscreen_picture), "the display's OpenGL draws another picture"


def test_the_display_pipe_is_used_and_doctor_says_so(xdisplay):
    proc = py("import json; from experience.scene import renderer; print(json.dumps(renderer.pipe_info()))",
              env=xdisplay.env())
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    assert info["module"] == "pandagl" and info["display"] == xdisplay.display and info["notice"] is None
    doc = astp("doctor", "--json", env=xdisplay.env())
    gl = json.loads(doc.stdout)["opengl"]
    assert gl["ok"] and gl["pipe"] == "pandagl" and not gl["offscreen"] and gl["test_picture"]["ok"], gl


def test_main_job_stills_under_a_display(xdisplay, tmp_path):
    # with a display the main job opens the viewer (tests/test_viewer_window.py); --stills renders
    # its pictures there, through the display's GLX pipe, and must exit cleanly (no exit 134)
    proc = astp("handshake", "--stills", "-o", str(tmp_path), env=xdisplay.env(), timeout=600)
    assert proc.returncode == 0, f"exit code {proc.returncode}: {proc.stderr}"
    for name in ("handshake.png", "handshake_interior.png", "handshake_groundtrack.png"):
        assert (tmp_path / name).stat().st_size > 10_000, name
    assert not list(tmp_path.glob("*.part")) and not list(tmp_path.glob(".*"))


WINDOW_AND_BUFFERS = r"""
import sys
from experience.scene import renderer
from experience.scene.config import RenderConfig
from direct.showbase.ShowBase import ShowBase
from panda3d.core import WindowProperties

pipe = renderer.shared_pipe()
base = ShowBase(windowType="none")
base.pipe = pipe                       # the viewer's window on the one shared pipe
props = WindowProperties()
props.setSize(320, 240)
props.setTitle("Handshake in Orbit")
base.openDefaultWindow(props=props, type="onscreen")
renderer.add_shutdown_hook(base.destroy)
assert base.win is not None and base.win.isValid()
for _ in range(3):
    base.graphicsEngine.renderFrame()
r = renderer.SceneRenderer(RenderConfig(size=(64, 36)))
base.graphicsEngine.renderFrame()
renderer.shutdown()
renderer.shutdown()                    # twice: nothing left to do
assert r.ldr is None
r2 = renderer.SceneRenderer(RenderConfig(size=(64, 36)))   # a new pipe after a shutdown
print("ok", renderer.pipe_info()["module"])
"""


def test_a_window_and_the_renderer_share_the_pipe_and_shut_down_twice(xdisplay, mission):
    proc = py(WINDOW_AND_BUFFERS, env=xdisplay.env())
    assert proc.returncode == 0, f"exit code {proc.returncode}: {proc.stderr}"
    assert proc.stdout.strip().splitlines()[-1] == "ok pandagl"


SHUTDOWN_OFFSCREEN = r"""
from experience.scene import renderer
from experience.scene.config import RenderConfig
r = renderer.SceneRenderer(RenderConfig(size=(64, 36)))
renderer.shutdown(); renderer.shutdown()
try:
    r.render_frame()
except Exception as exc:
    print(type(exc).__name__, exc)
r2 = renderer.SceneRenderer(RenderConfig(size=(64, 36)))
r2.render_frame()
print("ok")
"""


def test_shutdown_is_safe_twice_and_a_closed_renderer_says_so(mission):
    proc = py(SHUTDOWN_OFFSCREEN, env=_offscreen_env())
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[-1] == "ok" and lines[0].startswith("AstpError") and "closed" in lines[0]


def test_a_display_without_glx_falls_back_to_egl(offscreen_picture, tmp_path):
    from tests.xdisplay import xvfb_or_skip

    with xvfb_or_skip(size=(640, 480), extra_args=("-extension", "GLX")) as disp:
        out = tmp_path / "x.png"
        proc = astp("render", "--at", HANDSHAKE, "--size", SIZE, "-o", str(out), env=disp.env())
    assert proc.returncode == 0, proc.stderr
    notes = [ln for ln in _ours(proc.stderr) if not ln.startswith("wrote")]
    assert len(notes) == 1 and "not usable" in notes[0] and "EGL" in notes[0], proc.stderr
    assert np.array_equal(_pixels(out), offscreen_picture)


# ------------------------------------------------------------------------- stale displays
def test_a_stale_display_falls_back_to_egl_with_one_notice(offscreen_picture, tmp_path):
    display = _unused_display()
    out = tmp_path / "x.png"
    proc = astp("render", "--at", HANDSHAKE, "--size", SIZE, "-o", str(out), env=_env(DISPLAY=display))
    assert proc.returncode == 0, proc.stderr
    lines = _ours(proc.stderr)
    assert len(lines) == 2 and lines[1] == f"wrote {out}", proc.stderr
    assert f"DISPLAY={display}" in lines[0] and "not usable" in lines[0] and "EGL" in lines[0]
    assert np.array_equal(_pixels(out), offscreen_picture)
    doc = astp("doctor", "--json", env=_env(DISPLAY=display))
    gl = json.loads(doc.stdout)["opengl"]
    assert gl["ok"] and gl["pipe"] == "p3headlessgl" and gl["offscreen"], gl
    assert display in gl["reason"] and "cannot be opened" in gl["reason"]
    assert gl["test_picture"]["ok"] and gl["largest_size"] >= 1024
    text = astp("doctor", env=_env(DISPLAY=display)).stdout
    assert "offscreen through EGL" in text and display in text


def test_a_stale_wayland_socket_falls_back_to_egl_with_one_notice(offscreen_picture, tmp_path):
    out = tmp_path / "x.png"
    env = _env(DISPLAY=None, WAYLAND_DISPLAY="astp-no-such-compositor", XDG_RUNTIME_DIR=str(tmp_path))
    proc = astp("render", "--at", HANDSHAKE, "--size", SIZE, "-o", str(out), env=env)
    assert proc.returncode == 0, proc.stderr
    lines = _ours(proc.stderr)
    assert len(lines) == 2 and "WAYLAND_DISPLAY=astp-no-such-compositor" in lines[0] and "EGL" in lines[0], proc.stderr
    assert np.array_equal(_pixels(out), offscreen_picture)


# ------------------------------------------------------------------- sizes and framebuffers
def test_sizes_beyond_the_driver_are_refused_naming_the_largest(monkeypatch):
    from experience.errors import AstpError
    from experience.scene import renderer

    real = renderer.gl_limits()
    assert real["max_side"] >= 1024 and real["source"] in ("gl", "panda3d")
    fake = dict(real, max_texture=256, max_renderbuffer=256, max_viewport=(256, 256), max_side=256)
    monkeypatch.setattr(renderer, "_LIMITS", fake)
    with pytest.raises(AstpError, match=r"largest is 256x256") as err:
        renderer.check_render_size((320, 180))
    assert "\n" not in str(err.value) and "256 pixels per side" in str(err.value)
    assert renderer.check_render_size((200, 100), 2) == 1  # the spacecraft pass at 2x would be 400
    assert renderer.check_render_size((128, 72), 2) == 2


def test_the_driver_limits_are_read_from_opengl():
    from experience.scene import renderer

    if renderer._gl() is None:
        pytest.skip("no libOpenGL.so.0 or libGL.so.1 to read the limits through (Panda3D's texture limit is used)")
    lim = renderer.gl_limits()
    assert lim["source"] == "gl" and lim["max_renderbuffer"] >= 1024 and min(lim["max_viewport"]) >= 1024


def test_a_buffer_the_driver_refuses_is_an_error_naming_what_works(monkeypatch):
    """A real refusal (wider than the driver's 2-D limit), past a pre-check told otherwise."""
    from experience.errors import AstpError
    from experience.scene import renderer
    from experience.scene.config import RenderConfig

    real = renderer.gl_limits()
    wide = real["max_side"] + 16
    monkeypatch.setattr(renderer, "_LIMITS", dict(real, max_side=1 << 16))
    monkeypatch.setattr(renderer, "MAX_SIZE", 1 << 16)
    with pytest.raises(AstpError) as err:
        renderer.SceneRenderer(RenderConfig(size=(wide, 16), supersample=1))
    msg = str(err.value)
    assert f"cannot render at {wide}x16" in msg and "largest that works here is" in msg, msg
    best = int(msg.rsplit("largest that works here is ", 1)[1].split("x")[0])
    assert 0.5 * real["max_side"] <= best <= real["max_side"]


def _fail_pass(monkeypatch, index: int, times: int):
    """Make the framebuffer check see pass ``index`` (0 picture, 1 far, 2 near) incomplete."""
    from experience.scene import renderer

    real = renderer._render_probed
    left = [times]

    def fake(engine, regions):
        seen = real(engine, regions)
        if len(regions) == 3 and left[0] > 0:
            left[0] -= 1
            seen[index] = dict(seen[index] or {"viewport": [0, 0, 0, 0]}, status=0x8CD6)
        return seen

    monkeypatch.setattr(renderer, "_render_probed", fake)


def test_an_incomplete_spacecraft_pass_is_retried_with_fewer_samples(monkeypatch, capsys, mission):
    if __import__("experience.scene.renderer", fromlist=["_gl"])._gl() is None:
        pytest.skip("the framebuffer status is read through libOpenGL/libGL, absent here")
    from experience.mission import data
    from experience.scene import renderer
    from experience.scene.config import RenderConfig
    from experience.simulation.ephemeris import Ephemeris
    from experience.simulation.snapshot import snapshot

    _fail_pass(monkeypatch, 2, times=1)
    r = renderer.SceneRenderer(RenderConfig(size=(96, 54), supersample=2))
    try:
        assert r.config.supersample == 1
        err = capsys.readouterr().err
        assert "1x1 samples" in err and "incomplete" in err
        eph = Ephemeris(trajectory=mission)
        img = r.render(snapshot(eph, eph.clock.t_s(data.event("handshake").utc)), "exterior")
        assert img.shape == (54, 96, 3) and img.max() > 40
    finally:
        r.close()


def test_an_incomplete_pass_is_an_error_not_a_picture(monkeypatch):
    if __import__("experience.scene.renderer", fromlist=["_gl"])._gl() is None:
        pytest.skip("the framebuffer status is read through libOpenGL/libGL, absent here")
    from experience.errors import AstpError
    from experience.scene import renderer
    from experience.scene.config import RenderConfig

    _fail_pass(monkeypatch, 1, times=100)
    with pytest.raises(AstpError, match=r"far pass \(an attachment is incomplete"):
        renderer.SceneRenderer(RenderConfig(size=(96, 54)))
