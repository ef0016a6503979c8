"""The VR station (``vr_station = true``) against a REAL OpenXR runtime: headless Monado
(tools/setup_monado.sh) with its simulated HMD, the station's monitor window on Xvfb, the whole
thing started by the real supervisor. Markers ``vr`` and ``kiosk``; where the runtime cannot be
set up the test skips with the reason, except under CI=true (tests/xdisplay.skip_or_fail).

What is the runtime's and what is simulated:
- session states, frame pacing, head poses: Monado's own;
- controller input: Monado's simulated controllers cannot press headless, so the station's
  trigger is injected (ASTP_KIOSK_VR_INJECT, as ``astp vr --inject``) for four drawn frames;
- "headset removed": headless Monado has no proximity sensor and does not offer
  XR_EXT_user_presence, and ``monado-ctl`` cannot unfocus the only client. What it does do, as a
  real runtime: a second OpenXR application that begins its session becomes the active one, and
  Monado takes visibility and focus from ours (FOCUSED -> VISIBLE -> SYNCHRONIZED), the same
  transitions runtimes make when the headset comes off; when that application ends, ours is
  VISIBLE and FOCUSED again ("put on"). The second application is a few lines over
  experience.xr.session.VrSession submitting empty frames.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.vr, pytest.mark.kiosk]
OTHER_APP = """
import signal, sys
sys.path.insert(0, {root!r})
from experience.xr.session import VrSession
vs = VrSession().open()
stop = []
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
print("open", flush=True)
while not stop and not vs.done:
    vs.run_frame(lambda i, e: None)
vs.close()
"""


@pytest.fixture(scope="module")
def monado(tmp_path_factory):
    from tests.xdisplay import skip_or_fail, tools_or_skip, xvfb_or_skip

    if sys.platform != "linux" or os.uname().machine != "x86_64":
        skip_or_fail("headless Monado from Debian's packages needs Linux on x86_64")
    try:
        import xr  # noqa: F401
    except ImportError:
        skip_or_fail("pyopenxr is not installed (pip install 'handshake-in-orbit[vr]')")
    tools_or_skip("xvfb", "imagemagick")
    from experience.errors import AstpError
    from experience.xr import monado as mon

    try:
        prefix = mon.ensure_prefix()
    except AstpError as exc:
        skip_or_fail(str(exc))
    disp = xvfb_or_skip(size=(800, 450))
    svc = mon.MonadoService(prefix, log_path=tmp_path_factory.mktemp("monado") / "service.log")
    svc.start()
    svc.display = disp.display
    yield svc
    svc.cleanup()
    disp.stop()


def _read(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _wait(pred, what, timeout_s, proc, log: Path):
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the supervisor exited ({proc.returncode}) waiting for {what}:\n{log.read_text()[-3000:]}")
        last = pred()
        if last:
            return last
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}; last: {str(last)[:1500]}\n{log.read_text()[-2000:]}")


def test_config_check_accepts_the_station_with_a_runtime_and_refuses_without(monado, tmp_path):
    cfg = tmp_path / "k.toml"
    cfg.write_text(f'[kiosk]\nvr_station = true\nlog_dir = "{tmp_path / "logs"}"\n')
    env = monado.client_env(DISPLAY=monado.display)
    r = subprocess.run(monado.client_command(["-m", "experience.frontends.cli", "kiosk", "--check", str(cfg)]),
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "VR station" in r.stdout, r.stderr[-2000:]
    env = dict(os.environ, XR_RUNTIME_JSON=str(tmp_path / "missing.json"))
    r = subprocess.run([sys.executable, "-m", "experience.frontends.cli", "kiosk", "--check", str(cfg)],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 2 and len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert f"{cfg}:2" in lines[0] and "kiosk.vr_station" in lines[0] and "set vr_station = false" in lines[0]
    assert "missing.json" in lines[0]


def test_station_under_the_supervisor_input_headset_off_countdown_reset_and_on_again(monado, tmp_path):
    logs = tmp_path / "logs"
    cfg = tmp_path / "k.toml"
    cfg.write_text(f'[kiosk]\nvr_station = true\nquality = "low"\nlog_dir = "{logs}"\nidle_timeout_s = 120\n'
                   'countdown_s = 5\nscreen_width_mm = 300\n')
    env = monado.client_env(DISPLAY=monado.display, ASTP_CONFIG_DIR=str(tmp_path),
                            ASTP_KIOSK_VR_INJECT="right:trigger=1@30-34")
    env.pop("WAYLAND_DISPLAY", None)
    out = tmp_path / "supervisor.out"
    with open(out, "w") as fh:
        sup = subprocess.Popen(monado.client_command(["-m", "experience.frontends.cli", "kiosk", "--supervise",
                                                      "--config", str(cfg)]),
                               cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)
    hb, status = logs / "heartbeat.json", logs / "supervisor.json"
    kiosk_log = logs / "kiosk.log"
    other = None
    try:
        def beat(pred):
            def check():
                b = _read(hb)
                return b if b and pred(b) else None
            return check

        # the station starts: the session FOCUSED, frames submitted, the attract loop, heartbeats
        b = _wait(beat(lambda b: b["vr"].get("state") == "FOCUSED" and b["vr"].get("submitted", 0) > 0),
                  "a focused session with frames", 300, sup, out)
        assert b["state"] == "attract" and b["sessions"] == 0
        sv = _wait(lambda: (_read(status) or {}).get("state") == "running" and _read(status), "supervisor status", 30, sup, out)
        assert b["pid"] == sv.get("kiosk_pid", b["pid"])
        m1 = hb.stat().st_mtime
        # the injected trigger (frames 30-33) starts a visitor's session
        b = _wait(beat(lambda b: b["state"] == "interactive"), "the injected input", 300, sup, out)
        assert b["sessions"] == 1 and b["vr"]["inputs"] >= 1 and hb.stat().st_mtime > m1
        # "headset removed": another OpenXR application takes the runtime's focus
        other = subprocess.Popen(monado.client_command(["-c", OTHER_APP.format(root=str(ROOT))]), cwd=ROOT,
                                 env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert other.stdout.readline().strip() == "open"
        b = _wait(beat(lambda b: b["vr"].get("headset_on") is False), "the headset removed", 60, sup, out)
        assert b["vr"]["state"] in ("VISIBLE", "SYNCHRONIZED", "STOPPING", "IDLE")
        b = _wait(beat(lambda b: b["state"] == "countdown" or b["resets"] >= 1), "the countdown", 30, sup, out)
        b = _wait(beat(lambda b: b["state"] == "attract" and b["resets"] == 1), "the reset", 60, sup, out)
        assert b["vr"]["paused"] and b["vr"]["story_utc"] == "1975-07-17T19:10:00Z"   # the visitor's state reset
        text = kiosk_log.read_text()
        assert "headset removed" in text and "reset to the attract loop" in text
        # "put on" again: the other application ends, ours is FOCUSED again: a new visitor
        other.send_signal(signal.SIGTERM)
        other.wait(timeout=30)
        b = _wait(beat(lambda b: b["vr"].get("state") == "FOCUSED" and b["state"] == "interactive"),
                  "the headset put on", 60, sup, out)
        assert b["sessions"] == 2 and [e[1] for e in b["vr"]["edges"]][-2:] == ["off", "on"]
        # the supervisor watched the station's heartbeat the whole time: no restart
        sv = _read(status)
        assert sv["state"] == "running" and sv.get("restarts", 0) == 0, sv
    finally:
        if other is not None and other.poll() is None:
            other.kill()
        sup.send_signal(signal.SIGTERM)
        try:
            sup.wait(timeout=30)
        except subprocess.TimeoutExpired:
            sup.kill()
