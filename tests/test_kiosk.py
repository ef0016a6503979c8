"""The kiosk without a window: its config (every kind of bad file, one line, exit 2), the PIN
(hashed, never plain; rate-limited) and the state machine (attract -> interactive -> countdown ->
reset; the operator's gesture and PIN), driven by hand with the time passed in."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from experience.app import kiosk as K
from experience.errors import AstpError


def _cli(*args, stdin=None, env=None):
    return subprocess.run([sys.executable, "-m", "experience.frontends.cli", "kiosk", *args], input=stdin,
                          capture_output=True, text=True, timeout=120, env=env)


# -- the config ------------------------------------------------------------------------------------
def test_a_file_with_only_the_table_is_valid_with_the_defaults():
    c = K.parse_config("[kiosk]\n", "k.toml")
    assert c.idle_timeout_s == 90 and c.countdown_s == 20
    assert c.tours == ("launch", "rendezvous", "docking", "handshake")  # the tours marked attract, in their order
    assert c.languages[0] == c.default_language == "en" and "ru" in c.languages
    assert c.pin_hash == "" and c.vr_station is False and c.restart_window is None


def test_every_key_is_read():
    c = K.parse_config('[kiosk]\nidle_timeout_s = 30\ncountdown_s = 10\ntours = ["handshake"]\n'
                       'languages = ["ru", "en"]\ndefault_language = "ru"\nscreen_width_mm = 1000\n'
                       'restart_window = "23:50-00:10"\nlog_dir = "logs"\nheartbeat_timeout_s = 4\n'
                       'max_crashes = 3\ncrash_window_min = 2\n', "/tmp/x/k.toml")
    assert (c.idle_timeout_s, c.countdown_s, c.tours, c.default_language) == (30, 10, ("handshake",), "ru")
    assert c.languages == ("ru", "en") and str(c.log_dir) == "/tmp/x/logs"
    import datetime as dt

    assert K.in_window(c.restart_window, dt.datetime(2026, 1, 1, 23, 55))
    assert K.in_window(c.restart_window, dt.datetime(2026, 1, 1, 0, 5))
    assert not K.in_window(c.restart_window, dt.datetime(2026, 1, 1, 12, 0))


BAD = [
    ("[kiosk]\nidle_timout_s = 30\n", ["k.toml:2", "idle_timout_s", "did you mean 'idle_timeout_s'"]),
    ("[kiosk]\nidle_timeout_s = \"long\"\n", ["k.toml:2", "kiosk.idle_timeout_s", "a number from 10 to 3600"]),
    ("[kiosk]\ncountdown_s = 2\n", ["k.toml:2", "kiosk.countdown_s", "out of range", "5 to 120"]),
    ("[kiosk]\ncountdown_s = 10.5\n", ["k.toml:2", "kiosk.countdown_s", "whole number"]),
    ("[kiosk]\nidle_timeout_s = \n", ["k.toml:2", "not valid TOML"]),
    ("[kiosk]\ntours = [\"dockin\"]\n", ["k.toml:2", "kiosk.tours[1]", "did you mean \"docking\"", "handshake"]),
    ("[kiosk]\nlanguages = [\"de\"]\n", ["k.toml:2", "kiosk.languages[1]", "\"en\", \"ru\""]),
    ("[kiosk]\ndefault_language = \"fr\"\n", ["k.toml:2", "kiosk.default_language", "\"en\", \"ru\""]),
    ("[kiosk]\nlanguages = [\"ru\"]\n", ["k.toml:2", "default_language 'en' is not among kiosk.languages"]),
    ("[kiosk]\nrestart_window = \"4am\"\n", ["k.toml:2", "kiosk.restart_window", "HH:MM-HH:MM"]),
    ("[kiosk]\npin_hash = \"1234\"\n", ["k.toml:2", "kiosk.pin_hash", "--set-pin", "never stored in plain text"]),
    ("[kiosk]\nvr_station = true\n", ["k.toml:2", "kiosk.vr_station", "set vr_station = false"]),
    ("[kiosk]\nvr_station = \"yes\"\n", ["k.toml:2", "kiosk.vr_station", "true or false"]),
    ("[kiosk]\n[kiosk.extra]\n", ["k.toml:2", "unknown key 'extra'"]),
    ("[kioks]\n", ["k.toml:1", "unknown key 'kioks'", "kiosk"]),
    ("title = 1\n", ["k.toml:1", "unknown key 'title'"]),
    ("", ["k.toml", "no [kiosk] table"]),
]


@pytest.mark.parametrize("text,words", BAD, ids=[w[1] if len(w) > 1 else w[0] for _t, w in BAD])
def test_bad_configs_are_one_line_naming_file_key_and_accepted_values(text, words, monkeypatch, tmp_path):
    monkeypatch.setenv("XR_RUNTIME_JSON", str(tmp_path / "missing.json"))   # no VR runtime here, whatever is installed
    with pytest.raises(AstpError) as e:
        K.parse_config(text, "k.toml")
    msg = str(e.value)
    assert "\n" not in msg and e.value.exit_code == 2
    for w in words:
        assert w in msg, (w, msg)


def test_check_on_the_command_line(tmp_path):
    good = tmp_path / "k.toml"
    good.write_text("[kiosk]\nidle_timeout_s = 30\n")
    r = _cli("--check", str(good))
    assert r.returncode == 0 and "valid" in r.stdout, r.stderr
    for name, text, word in [("bad.toml", "[kiosk]\ncountdown_s = 1000\n", "kiosk.countdown_s"),
                             ("syntax.toml", "[kiosk\n", "not valid TOML"),
                             ("latin1.toml", None, "not UTF-8"),
                             ("missing.toml", "", "no such file")]:
        p = tmp_path / name
        if text is None:
            p.write_bytes(b"[kiosk]\n# caf\xe9\n")
        elif name != "missing.toml":
            p.write_text(text)
        r = _cli("--check", str(p))
        assert r.returncode == 2, r
        assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
        assert str(p) in r.stderr and word in r.stderr, r.stderr
    r = _cli("--check", str(tmp_path))
    assert r.returncode == 2 and "is a folder" in r.stderr
    r = _cli()
    assert r.returncode == 2 and "--config FILE.toml" in r.stderr


def test_unreadable_file(tmp_path):
    import os

    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    p = tmp_path / "k.toml"
    p.write_text("[kiosk]\n")
    p.chmod(0)
    r = _cli("--check", str(p))
    assert r.returncode == 2 and "cannot read" in r.stderr


# -- the PIN ---------------------------------------------------------------------------------------
def test_pin_is_salted_scrypt_never_plain():
    a, b = K.hash_pin("2468"), K.hash_pin("2468")
    assert a != b and a.startswith("scrypt$") and "2468" not in a
    assert K.verify_pin("2468", a) and K.verify_pin("2468", b)
    assert not K.verify_pin("2469", a) and not K.verify_pin("2468", "")
    for bad in ("12", "abcd", "1234567890123"):
        with pytest.raises(AstpError, match="4 to 12 digits"):
            K.hash_pin(bad)


def test_set_pin_writes_the_hash_and_keeps_the_rest(tmp_path):
    p = tmp_path / "k.toml"
    p.write_text("# museum kiosk, gallery 3\n[kiosk]\nidle_timeout_s = 45\n")
    r = _cli("--set-pin", "--config", str(p), stdin="97531\n")
    assert r.returncode == 0, r.stderr
    text = p.read_text()
    assert "# museum kiosk, gallery 3" in text and "idle_timeout_s = 45" in text and "97531" not in text
    c = K.load_config(p)
    assert K.verify_pin("97531", c.pin_hash)
    r = _cli("--set-pin", "--config", str(p), stdin="13579\n")   # replaced, not added twice
    assert r.returncode == 0 and p.read_text().count("pin_hash") == 1
    assert K.verify_pin("13579", K.load_config(p).pin_hash)
    r = _cli("--set-pin", "--config", str(p), stdin="12\n")
    assert r.returncode == 2 and "4 to 12 digits" in r.stderr
    assert K.verify_pin("13579", K.load_config(p).pin_hash)    # a refused PIN changes nothing
    new = tmp_path / "new.toml"
    assert _cli("--set-pin", "--config", str(new), stdin="2222\n").returncode == 0
    assert K.verify_pin("2222", K.load_config(new).pin_hash)
    assert not list(tmp_path.glob(".*tmp*"))


# -- the state machine -----------------------------------------------------------------------------
def _session(**kw):
    text = "[kiosk]\nidle_timeout_s = 60\ncountdown_s = 20\n" + "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in kw.items())
    resets = []
    s = K.KioskSession(K.parse_config(text, "k.toml"), now=0.0, on_reset=resets.append)
    return s, resets


def test_input_breaks_attract_and_idle_counts_down_to_a_reset():
    s, resets = _session()
    assert s.state == K.ATTRACT and s.tick(1000.0) == K.ATTRACT   # the loop never times out
    assert s.input(1000.0) == K.INTERACTIVE and s.sessions == 1
    assert s.tick(1059.0) == K.INTERACTIVE
    s.input(1059.0)                                               # input restarts the idle timer
    assert s.tick(1118.0) == K.INTERACTIVE
    assert s.tick(1119.0) == K.COUNTDOWN and s.countdown_left_s(1119.0) == 20
    assert s.countdown_left_s(1129.5) == 10
    assert s.tick(1138.9) == K.COUNTDOWN
    assert s.tick(1139.0) == K.ATTRACT and s.resets == 1 and resets == ["en"]


def test_countdown_keep_exploring_and_start_again():
    s, resets = _session()
    s.input(0.0)
    s.tick(60.0)
    assert s.state == K.COUNTDOWN
    s.keep_exploring(65.0)
    assert s.state == K.INTERACTIVE and s.tick(124.0) == K.INTERACTIVE and s.tick(125.0) == K.COUNTDOWN
    s.input(126.0)                       # any touch answers the countdown too
    assert s.state == K.INTERACTIVE
    s.tick(186.0)
    s.start_again(187.0)
    assert s.state == K.ATTRACT and s.resets == 1 and s.sessions == 1


def test_corner_gesture_and_pin_open_the_operator_panel():
    pin = K.hash_pin("1975")
    s, _ = _session(pin_hash=pin)
    corners = [(0.01, 0.01), (0.99, 0.02), (0.98, 0.99), (0.02, 0.97)]
    assert [s.tap(x, y, 1.0 + i) for i, (x, y) in enumerate(corners)] == [False, False, False, True]
    assert s.state == K.PIN_ENTRY
    assert s.submit_pin("1975", 6.0) and s.state == K.OPERATOR
    s.operator("language", 7.0, "ru")
    assert s.default_language == "ru"
    s.operator("close", 8.0)
    assert s.state == K.ATTRACT
    # wrong order, too slow, or a tap elsewhere: nothing
    assert not any(s.tap(x, y, 10.0 + i) for i, (x, y) in enumerate(reversed(corners)))
    assert not any(s.tap(x, y, 20.0 + 3 * i) for i, (x, y) in enumerate(corners))
    assert not any(s.tap(x, y, 40.0) for x, y in [corners[0], corners[1], (0.5, 0.5), corners[2], corners[3]])
    assert s.state == K.ATTRACT
    assert s.key("shift-control-o", 50.0) and s.state == K.PIN_ENTRY
    s.cancel_pin(51.0)
    assert s.state == K.INTERACTIVE


def test_wrong_pins_are_rate_limited():
    s, _ = _session(pin_hash=K.hash_pin("1975"))
    s.open_pin(0.0)
    for i in range(K.PIN_FREE_TRIES):
        assert not s.submit_pin("0000", 1.0 + i)
    assert s.pin_message == "locked" and s.pin_locked_s(3.0) == pytest.approx(K.PIN_LOCK_S)
    assert not s.submit_pin("1975", 10.0) and s.state == K.PIN_ENTRY   # even the right PIN, while locked
    assert s.submit_pin("1975", 3.0 + K.PIN_LOCK_S) and s.state == K.OPERATOR
    s.operator("close", 100.0)
    s.open_pin(100.0)
    for i in range(K.PIN_FREE_TRIES + 1):
        s.submit_pin("0000", 200.0 + i * 1000)
    assert s.pin_locked_s(200.0 + 3000) == pytest.approx(2 * K.PIN_LOCK_S)   # doubling


def test_no_pin_set_means_no_operator_panel_and_operator_times_out():
    s, _ = _session()
    s.open_pin(0.0)
    assert not s.submit_pin("1234", 1.0) and s.pin_message == "no_pin"
    s2, resets = _session(pin_hash=K.hash_pin("1111"))
    s2.open_pin(0.0)
    s2.submit_pin("1111", 1.0)
    assert s2.tick(61.0) == K.ATTRACT and resets          # a panel left open locks itself again
    s2.open_pin(100.0)
    s2.submit_pin("1111", 101.0)
    s2.operator("restart", 102.0)
    assert s2.exit_requested == "restart"


def test_attract_loop_plays_the_tours_in_order_and_counts_cycles():
    from experience.app.tours import Tour

    tours = [Tour.load("docking"), Tour.load("handshake")]
    loop = K.AttractLoop(tours)
    f0 = loop.advance(0.0)
    assert loop.index == 0 and f0.fade < 0.5
    loop.advance(tours[0].duration_s + 1.0)
    assert loop.index == 1 and loop.cycles == 0
    loop.advance(tours[1].duration_s)
    assert loop.index == 0 and loop.cycles == 1
    assert loop.length_s == pytest.approx(sum(t.duration_s for t in tours))


def test_attract_loop_never_stands_still_for_long():
    """Over the whole loop (and into the second round) the picture changes: consecutive moments
    never show the same story time and camera for more than a second."""
    from experience.app.tours import Tour

    loop = K.AttractLoop([Tour.load("docking"), Tour.load("handshake")])
    dt, same, worst, prev = 0.1, 0, 0, None
    for _ in range(int(1.2 * loop.length_s / dt)):
        f = loop.advance(dt)
        key = (round(f.t_s, 6), f.camera, round(f.fade, 4))
        same = same + 1 if key == prev else 0
        worst = max(worst, same)
        prev = key
    assert worst * dt <= 1.0 and loop.cycles == 1


# -- the supervisor's rules, around a stand-in child (the real kiosk: tests/test_kiosk_supervisor.py) -----
def _sup(tmp_path, code: str, **extra):
    from experience.frontends.kiosk_supervisor import Supervisor

    lines = [f'log_dir = "{tmp_path / "logs"}"'] + [f"{k} = {v!r}".replace("'", '"') for k, v in extra.items()]
    cfg = K.parse_config("[kiosk]\n" + "\n".join(lines) + "\n", tmp_path / "k.toml")
    cfg.log_dir.mkdir(parents=True, exist_ok=True)
    return Supervisor(cfg, command=[sys.executable, "-c", code])


def test_supervisor_daily_window_and_heartbeat_rules(tmp_path):
    import datetime as dt
    import time

    now = dt.datetime.now()
    a, b = (now - dt.timedelta(minutes=1)).strftime("%H:%M"), (now + dt.timedelta(minutes=2)).strftime("%H:%M")
    touch = ("import os, sys, time\np = sys.argv[1] if len(sys.argv) > 1 else None\n"
             "while True:\n    open(%r, 'a').close(); os.utime(%r); time.sleep(0.1)\n")
    hb = str(tmp_path / "logs" / "heartbeat.json")
    s = _sup(tmp_path, touch % (hb, hb), restart_window=f"{a}-{b}", heartbeat_timeout_s=2)
    try:
        s.start()
        time.sleep(1.0)
        s.started_at -= 120     # it has run a while: the window restarts it once
        assert s.check() == ("daily restart window", False)
        s.start()
        time.sleep(1.0)
        s.started_at -= 120
        assert s.check() is None   # once a day
        os.kill(s.proc.pid, signal.SIGSTOP)
        time.sleep(2.6)
        cause, crash = s.check()
        assert crash and cause.startswith("heartbeat stopped for") and s.proc.poll() is not None
    finally:
        s.kill("test")


def test_supervisor_operator_codes_and_gives_up(tmp_path):
    s = _sup(tmp_path, "raise SystemExit(0)")
    assert s.run() == 0 and "operator exit" in (tmp_path / "logs" / "supervisor.log").read_text()
    s = _sup(tmp_path, "import sys; print('astp: error: boom', file=sys.stderr); raise SystemExit(1)", max_crashes=3)
    from experience.frontends import kiosk_supervisor as KS

    KS.RESTART_DELAY_S, old = 0.05, KS.RESTART_DELAY_S
    try:
        assert s.run() == KS.GAVE_UP_EXIT
    finally:
        KS.RESTART_DELAY_S = old
    st = json.loads((tmp_path / "logs" / "supervisor.json").read_text())
    assert st["state"] == "gave_up" and st["starts"] == 3
    assert all("exited with code 1 (crash): astp: error: boom" in c for c in st["last_causes"])


def test_operator_default_language_is_kept_in_the_state_file_and_an_edited_config_wins(tmp_path):
    cfg = tmp_path / "kiosk.toml"
    text = f'[kiosk]\n# the museum own note\nlog_dir = "{tmp_path / "logs"}"\n'
    cfg.write_text(text)
    c = K.load_config(cfg)
    assert K.with_saved_state(c) == c                      # no state file yet
    s = K.KioskSession(c)
    kept = []
    s.on_default_language = kept.append
    s.state = K.OPERATOR
    s.operator("language", 1.0, "ru")
    assert kept == ["ru"]
    path = K.save_state(c, "ru")
    assert path == tmp_path / "logs" / "state.toml" and cfg.read_text() == text   # the config untouched
    c2 = K.with_saved_state(K.load_config(cfg))
    assert c2.default_language == "ru" and c2.languages[0] == "ru" and K.config_default(c2) == "en"
    K.save_state(c2, "en")                                  # back to the config's own: no override
    assert K.with_saved_state(K.load_config(cfg)).default_language == "en"
    # chosen when the config's own default was another (written by hand here: with two languages that is
    # the only way): the config was edited since, so the config wins
    (tmp_path / "logs" / "state.toml").write_text('[operator]\ndefault_language = "ru"\nconfig_default_language = "ru"\n')
    said = []
    assert K.with_saved_state(K.load_config(cfg), notice=said.append).default_language == "en"
    assert said and "was changed" in said[0]
    (tmp_path / "logs" / "state.toml").write_text("[operator]\ndefault_language = 3\n")
    said = []
    assert K.with_saved_state(K.load_config(cfg), notice=said.append).default_language == "en"
    assert said and "ignored" in said[0] and "state.toml" in said[0]


def test_away_starts_the_countdown_at_once_and_input_brings_the_visitor_back():
    c = K.parse_config("[kiosk]\ncountdown_s = 5\n")
    s = K.KioskSession(c, now=0.0)
    assert s.away(1.0) == K.ATTRACT                         # nobody there: nothing to count down
    s.input(2.0)
    assert s.away(3.0) == K.COUNTDOWN and s.countdown_left_s(3.0) == 5
    assert s.input(4.0) == K.INTERACTIVE                    # the headset put on again
    s.away(5.0)
    assert s.tick(10.0) == K.ATTRACT and s.resets == 1


# -- the heartbeat ---------------------------------------------------------------------------------
def _until(pred, timeout_s=10.0):
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.01)
    return False


def test_heartbeat_writer_writes_off_the_frame_touches_only_on_new_frames_and_sweeps_dead_temps(tmp_path):
    """The kiosk's heartbeat thread (experience/frontends/kiosk_window.HeartbeatWriter): the
    content when the frame hands it over (atomic: no temporary left), the file's time when a
    new frame is counted, nothing when no frame comes (a frozen loop stops the heartbeat); a
    temporary that a killed kiosk left is removed at start, a live process's is kept."""
    from experience.frontends.kiosk_window import HeartbeatWriter, _beat_temp

    path = tmp_path / "heartbeat.json"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    _beat_temp(path, dead.pid).write_text("{")
    _beat_temp(path, os.getppid()).write_text("{")          # a live process: not ours to remove
    w = HeartbeatWriter(path)
    try:
        assert not _beat_temp(path, dead.pid).exists() and _beat_temp(path, os.getppid()).exists()
        w.beat(1, {"pid": 7, "frames": 1})
        assert _until(lambda: w.writes == 1)
        assert json.loads(path.read_text()) == {"pid": 7, "frames": 1}
        os.utime(path, (1.0, 1.0))
        w.beat(2)
        assert _until(lambda: w.touches == 1) and path.stat().st_mtime > 1.0
        os.utime(path, (1.0, 1.0))
        w.beat(2)                                             # the same frame again: no touch
        assert not _until(lambda: w.touches > 1, timeout_s=0.5) and path.stat().st_mtime == 1.0
        w.beat(3, {"pid": 7, "frames": 3})
        assert _until(lambda: w.writes == 2) and json.loads(path.read_text())["frames"] == 3
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, _beat_temp(path, os.getppid()).name])
        assert w.failed is None
    finally:
        w.close()
    bad = HeartbeatWriter(tmp_path / "gone" / "heartbeat.json")
    try:
        bad.beat(1, {"frames": 1})
        assert _until(lambda: bad.failed is not None) and "No such file" in bad.failed
    finally:
        bad.close()
