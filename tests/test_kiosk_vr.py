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
        # Monado offers no XR_EXT_user_presence: "headset on" is judged from the session states, and said so
        assert b["vr"]["presence"] == {"source": "session states",
                                       "why": "the runtime does not offer XR_EXT_user_presence"}, b["vr"]
        assert b["vr"]["user_present"] is None
        # the headset drawn per eye: the monitor's renderer shares the process (docs/vr.md)
        assert b["vr"]["cull"] == "per-eye" and b["vr"]["stereo_frames"] == 0, b["vr"]
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
        assert "headset removed (session " in text and "reset to the attract loop" in text
        assert "headset on/off from the session states (the runtime does not offer XR_EXT_user_presence)" in text
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


def test_station_user_presence_event_lost_countdown_back_continues_lost_again_resets(monado, tmp_path):
    """XR_EXT_user_presence's path. A physical headset's proximity sensor cannot exist here, and
    headless Monado does not offer the extension, so the extension and its
    XrEventDataUserPresenceChangedEXT are injected at the pyopenxr boundary only
    (tests/xr_presence_fake.py: the extension listed, supportsUserPresence true, the event
    delivered through xr.poll_event when the test says so); the runtime, session, frames and
    states, the station, its kiosk session and monitor window are all real. The session stays
    FOCUSED throughout: every on/off below comes from the presence events, not from the states."""
    logs = tmp_path / "logs"
    cfg = tmp_path / "k.toml"
    cfg.write_text(f'[kiosk]\nvr_station = true\nquality = "low"\nlog_dir = "{logs}"\nidle_timeout_s = 120\n'
                   'countdown_s = 20\nscreen_width_mm = 300\n')
    control, status, out = tmp_path / "presence", tmp_path / "status.json", tmp_path / "kiosk.out"
    control.write_text("1 0\n")          # at the start: nobody in the headset (it hangs on its hook)
    env = monado.client_env(DISPLAY=monado.display, ASTP_CONFIG_DIR=str(tmp_path))
    env.pop("WAYLAND_DISPLAY", None)
    with open(out, "w") as fh:
        proc = subprocess.Popen(monado.client_command([str(ROOT / "tests" / "xr_presence_fake.py"), str(control), "--",
                                                       "kiosk", "--config", str(cfg), "--status-file", str(status)]),
                                cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)

    def vr(pred):
        def check():
            st = _read(status)
            return st if st and st.get("vr") and pred(st) else None
        return check

    def say(seq: int, present: bool) -> None:
        control.write_text(f"{seq} {int(present)}\n")

    try:
        st = _wait(vr(lambda s: s["vr"].get("state") == "FOCUSED" and s["vr"].get("headset_on") is False),
                   "a focused session, nobody present (the baseline)", 300, proc, out)
        assert st["vr"]["presence"] == {"source": "XR_EXT_user_presence"}, st["vr"]
        assert st["vr"]["user_present"] is False and st["kiosk"]["state"] == "attract" and st["vr"]["edges"] == []
        # put on: a visitor's session starts
        say(2, True)
        st = _wait(vr(lambda s: s["kiosk"]["state"] == "interactive"), "presence: a visitor", 60, proc, out)
        assert st["kiosk"]["sessions"] == 1 and st["vr"]["state"] == "FOCUSED" and st["vr"]["headset_on"] is True
        assert not st["vr"]["paused"]
        # taken off: the countdown at once (the same as "headset removed" from the states)
        say(3, False)
        st = _wait(vr(lambda s: s["kiosk"]["state"] == "countdown"), "presence lost: the countdown", 60, proc, out)
        assert st["vr"]["state"] == "FOCUSED" and st["kiosk"]["resets"] == 0
        # put on again within the countdown: the same visitor continues (no new session, no reset)
        say(4, True)
        st = _wait(vr(lambda s: s["kiosk"]["state"] == "interactive"), "presence back: continue", 60, proc, out)
        assert st["kiosk"]["sessions"] == 1 and st["kiosk"]["resets"] == 0
        # taken off and left off: the countdown runs out, everything is reset, the loop again
        say(5, False)
        _wait(vr(lambda s: s["kiosk"]["state"] == "countdown"), "presence lost again", 60, proc, out)
        _wait(vr(lambda s: s["kiosk"]["state"] == "attract" and s["kiosk"]["resets"] == 1), "the reset", 90, proc, out)
        st = _wait(vr(lambda s: s["vr"]["story_utc"] == "1975-07-17T19:10:00Z"), "the headset's next frame after it",
                   30, proc, out)     # the visitor's state reset: the story back at the start, waiting
        assert st["vr"]["paused"] and st["vr"]["state"] == "FOCUSED" and st["kiosk"]["resets"] == 1
        assert st["kiosk"]["state"] == "attract" and st["kiosk"]["sessions"] == 1
        assert [e[1] for e in st["vr"]["edges"]] == ["on", "off", "on", "off"]
        text = out.read_text()
        assert "headset on/off from XR_EXT_user_presence" in text
        assert text.count("headset removed (user presence)") == 2 and text.count("headset put on (user presence)") == 2
    finally:
        from tests.xdisplay import stop_process

        stop_process(proc)
