"""``astp kiosk --supervise --config FILE``: the watchdog that keeps the kiosk running all day.

It starts the kiosk (``astp kiosk --config FILE --heartbeat LOG_DIR/heartbeat.json``) as a child
process and watches it every :data:`POLL_S` seconds:

- the kiosk **exits or crashes** (any exit code but the operator's, or a signal): started again
  after :data:`RESTART_DELAY_S` (well within 5 s);
- its **heartbeat stops** (the file the kiosk rewrites every frame is older than
  ``heartbeat_timeout_s``: a frozen render loop, a process stopped with SIGSTOP, a GL driver
  hang): killed (SIGKILL) and started again, within the timeout plus a second;
- no first frame within ``startup_timeout_s``: the same;
- the **daily restart window** (``restart_window = "04:00-04:15"``, local time): restarted once
  a day inside it (a fresh process every morning);
- the **operator** chose "Restart" (exit code 75): started again at once; "Exit" (code 0): the
  supervisor stops too.

A kiosk that crashes ``max_crashes`` times within ``crash_window_min`` minutes (heartbeat stalls
count) is given up on instead of being restarted forever: the supervisor writes the status
``gave_up`` with the causes and exits with code 3 (so systemd's ``Restart=on-failure`` with a
limit, or a person, takes over).

Logs (the standard library's ``logging.handlers.RotatingFileHandler``, 1 MB x 5 files each) in the
config's ``log_dir``: ``supervisor.log`` (every start, exit and restart with its cause) and
``kiosk.log`` (the kiosk's own output). ``supervisor.json`` is the current status (state, kiosk
pid, restarts, the last causes), written through experience.outputs; the kiosk's operator panel
shows it.
"""

from __future__ import annotations

import collections
import datetime as _dt
import json
import logging
import logging.handlers
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from experience.app.kiosk import KioskConfig, in_window

POLL_S = 0.2
RESTART_DELAY_S = 1.0
STATUS_PERIOD_S = 2.0
LOG_BYTES = 1_000_000
LOG_FILES = 5
GAVE_UP_EXIT = 3


def _handler(path: Path) -> logging.Handler:
    h = logging.handlers.RotatingFileHandler(path, maxBytes=LOG_BYTES, backupCount=LOG_FILES, encoding="utf-8")
    h.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    return h


def _loggers(log_dir: Path):
    sup = logging.getLogger("astp.kiosk.supervisor")
    out = logging.getLogger("astp.kiosk.output")
    for lg, name in ((sup, "supervisor.log"), (out, "kiosk.log")):
        for h in list(lg.handlers):
            lg.removeHandler(h)
            h.close()
        lg.setLevel(logging.INFO)
        lg.propagate = False
        lg.addHandler(_handler(log_dir / name))
    err = logging.StreamHandler(sys.stderr)
    err.setFormatter(logging.Formatter("astp kiosk supervisor: %(message)s"))
    sup.addHandler(err)
    return sup, out


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


def _die_with_parent():
    """Child side (Linux): the kiosk gets SIGKILL if the supervisor itself dies."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def kiosk_command(config: KioskConfig, python_args: list[str]) -> list[str]:
    """The kiosk's command line: this Python, or for a VR station started through the headless
    Monado prefix's own loader (tests; experience/xr/monado.py: its runtime needs a newer C
    library than the system's) the same loader again, so that the kiosk can load the runtime."""
    if config.vr_station and os.environ.get("ASTP_XR_LOADER") == "monado-prefix" and os.environ.get("XR_RUNTIME_JSON"):
        from experience.xr import monado

        prefix = Path(os.environ["XR_RUNTIME_JSON"]).parent
        if monado.prefix_ready(prefix):
            return monado.client_command(prefix, python_args)
    return [sys.executable, *python_args]


class Supervisor:
    def __init__(self, config: KioskConfig, *, backend=None, command=None, status_file=None):
        self.config = config
        self.log_dir = config.log_dir
        self.heartbeat = self.log_dir / "heartbeat.json"
        self.status_path = self.log_dir / "supervisor.json"
        self.command = command or kiosk_command(config, ["-m", "experience.frontends.cli", "kiosk",
                                                         "--config", str(config.path), "--heartbeat", str(self.heartbeat),
                                                         *(["--backend", backend] if backend else []),
                                                         *(["--status-file", str(status_file)] if status_file else [])])
        self.log, self.out = _loggers(self.log_dir)
        self.proc: subprocess.Popen | None = None
        self.started_at = 0.0          # monotonic, of the current child
        self.started_wall = 0.0
        self.restarts = 0
        self.starts = 0
        self.crashes: collections.deque[float] = collections.deque()
        self.causes: list[str] = []
        self.state = "starting"
        self.last_lines: collections.deque[str] = collections.deque(maxlen=20)
        self._status_at = 0.0
        self._daily_done: _dt.date | None = None
        self.began = time.time()

    # -- the child -----------------------------------------------------------------------------
    def start(self) -> None:
        env = dict(os.environ, ASTP_KIOSK_SUPERVISED="1", ASTP_KIOSK_RESTARTS=str(self.restarts),
                   PYTHONUNBUFFERED="1")
        self.last_lines.clear()
        self.proc = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=env, text=True, encoding="utf-8", errors="replace",
                                     preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
        self.started_at, self.started_wall = time.monotonic(), time.time()
        self.starts += 1
        threading.Thread(target=self._pump, args=(self.proc,), daemon=True).start()
        self.state = "running"
        self.log.info(f"kiosk started (pid {self.proc.pid}, start {self.starts}, restarts {self.restarts})")
        self.write_status(force=True)

    def _pump(self, proc) -> None:
        for line in proc.stdout:
            line = line.rstrip("\n")
            if line:
                self.last_lines.append(line)
                self.out.info(f"[{proc.pid}] {line}")

    def kill(self, why: str) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.log.error(f"kiosk pid {self.proc.pid} did not die after SIGKILL ({why})")

    def _last_error(self) -> str:
        for line in reversed(self.last_lines):
            if line.startswith(("astp: error:", "astp:")) or "Error" in line or "error" in line:
                return line[:200]
        return self.last_lines[-1][:200] if self.last_lines else ""

    # -- status --------------------------------------------------------------------------------
    def write_status(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._status_at < STATUS_PERIOD_S:
            return
        self._status_at = now
        from experience import outputs

        st = {"state": self.state, "supervisor_pid": os.getpid(),
              "kiosk_pid": self.proc.pid if self.proc is not None and self.proc.poll() is None else None,
              "kiosk_started": self.started_wall, "starts": self.starts, "restarts": self.restarts,
              "crashes_in_window": len(self.crashes), "max_crashes": self.config.max_crashes,
              "crash_window_min": self.config.crash_window_min, "last_causes": self.causes[-10:],
              "log_dir": str(self.log_dir), "since": self.began, "updated": time.time()}
        try:
            with outputs.immediate():
                outputs.write_output(self.status_path, json.dumps(st, indent=1), what="supervisor status")
        except Exception as exc:  # a full disk must not stop the watchdog
            self.log.error(f"cannot write {self.status_path}: {exc}")

    def _restart(self, cause: str, *, crash: bool) -> bool:
        """Note the cause; False when it was one crash too many (given up)."""
        stamp = _dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        self.causes.append(f"{stamp} {cause}")
        self.causes = self.causes[-50:]
        now = time.monotonic()
        if crash:
            self.crashes.append(now)
            while self.crashes and now - self.crashes[0] > self.config.crash_window_min * 60:
                self.crashes.popleft()
            if len(self.crashes) >= self.config.max_crashes:
                self.state = "gave_up"
                self.log.error(f"restart cause: {cause}")
                self.log.error(f"gave up: the kiosk crashed {len(self.crashes)} times within "
                               f"{self.config.crash_window_min:g} min; fix the cause (see {self.log_dir / 'kiosk.log'}) "
                               f"and start the supervisor again")
                self.write_status(force=True)
                return False
        self.log.warning(f"restart cause: {cause}")
        self.state = "restarting"
        self.write_status(force=True)
        return True

    # -- the watch -----------------------------------------------------------------------------
    def check(self) -> tuple[str, bool] | None:
        """(cause, crash) when the child must be (or was) restarted, else None."""
        code = self.proc.poll()
        if code is not None:
            if code == 0:
                return ("operator exit", False)
            from experience.frontends.kiosk import EXIT_RESTART

            if code == EXIT_RESTART:
                return ("operator restart", False)
            if code < 0:
                return (f"kiosk killed by {_signal_name(code)} (crash)", True)
            err = self._last_error()
            return (f"kiosk exited with code {code} (crash){': ' + err if err else ''}", True)
        now, wall = time.monotonic(), time.time()
        try:
            beat = self.heartbeat.stat().st_mtime
        except OSError:
            beat = 0.0
        if beat < self.started_wall:   # no frame yet from this process
            if now - self.started_at > self.config.startup_timeout_s:
                self.kill("startup")
                return (f"no first frame within {self.config.startup_timeout_s:g} s (startup timeout)", True)
        elif wall - beat > self.config.heartbeat_timeout_s:
            self.kill("heartbeat")
            return (f"heartbeat stopped for {wall - beat:.1f} s (frozen; timeout "
                    f"{self.config.heartbeat_timeout_s:g} s): killed", True)
        win = self.config.restart_window
        if win is not None:
            local = _dt.datetime.now()
            if in_window(win, local) and self._daily_done != local.date():
                self._daily_done = local.date()
                if now - self.started_at > 60:   # not a kiosk that has just started
                    self.proc.terminate()
                    try:
                        self.proc.wait(timeout=15)
                    except subprocess.TimeoutExpired:
                        self.kill("daily")
                    return ("daily restart window", False)
        return None

    def run(self) -> int:
        self.log.info(f"supervisor started (pid {os.getpid()}; config {self.config.path}; logs {self.log_dir}; "
                      f"heartbeat timeout {self.config.heartbeat_timeout_s:g} s; gives up after "
                      f"{self.config.max_crashes} crashes in {self.config.crash_window_min:g} min)")
        try:
            self.start()
            while True:
                time.sleep(POLL_S)
                found = self.check()
                if found is None:
                    self.write_status()
                    continue
                cause, crash = found
                if cause == "operator exit":
                    self.state = "stopped"
                    self.causes.append(f"{_dt.datetime.now():%Y-%m-%d %H:%M:%S} operator exit")
                    self.log.info("the operator exited the kiosk; the supervisor stops")
                    self.write_status(force=True)
                    return 0
                if not self._restart(cause, crash=crash):
                    return GAVE_UP_EXIT
                self.restarts += 1
                time.sleep(RESTART_DELAY_S if crash else 0.0)
                self.start()
        finally:
            if self.proc is not None and self.proc.poll() is None:
                self.log.info(f"stopping the kiosk (pid {self.proc.pid})")
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                if self.state not in ("gave_up",):
                    self.state = "stopped"
                self.write_status(force=True)


def supervise(config: KioskConfig, *, backend=None, status_file=None) -> int:
    """Run the watchdog until the operator exits the kiosk (0) or it gives up (3). ``status_file``:
    passed on to every kiosk it starts (``--status-file``; the tests read it)."""
    from experience import outputs

    outputs.check_folder(config.log_dir, what="kiosk log folder")
    config.log_dir.mkdir(parents=True, exist_ok=True)
    if status_file and not Path(status_file).parent.is_dir():
        from experience.errors import AstpError

        raise AstpError(f"cannot write {status_file}: the folder {Path(status_file).parent} does not exist; create it first")
    return Supervisor(config, backend=backend, status_file=status_file).run()
