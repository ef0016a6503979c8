"""A real X display for tests: Debian's Xvfb, started (and installed, where that is possible) by
the tests themselves. Used by the render tests under a display and by the window tests.

    from tests.xdisplay import xvfb_or_skip

    def test_something(xdisplay):          # the session fixture in tests/conftest.py
        subprocess.run([...], env=xdisplay.env())

    with start_xvfb((1280, 720)) as disp:  # a private server, stopped at the end of the block
        ...

API
- ``start_xvfb(size=(1920, 1080), depth=24, extra_args=(), timeout_s=20) -> XDisplay``: starts
  ``Xvfb -displayfd`` (the server picks a free display number and reports it when it is ready:
  no polling, no races with other servers), raises :class:`XvfbUnavailable` saying why not.
- ``XDisplay``: ``.display`` (":N"), ``.pid``, ``.env(**extra)`` (a copy of os.environ with DISPLAY
  set and WAYLAND_DISPLAY removed), ``.stop()`` (terminates only this server); a context manager.
- ``ensure_packages(*packages) -> str | None``: installs missing Debian packages (``xvfb``,
  ``xdotool``, ...) with apt-get when running as root where apt-get exists; returns None when all
  are there, else the reason they are not.
- ``xvfb_or_skip(**kwargs) -> XDisplay``: ``start_xvfb`` for a test; where Xvfb truly cannot be set
  up, skips with the reason, except on CI (``CI=true``), where that is a failure.
- ``skip_or_fail(reason)``: the same rule for any other precondition of a display test.
- ``tools_or_skip(*packages)``: ensure_packages, skipping (failing on CI) when they cannot be had.
- ``xdotool(display, *args)``, ``find_window(display, title, proc=...)``, ``screenshot_root(display,
  path)``: drive and look at a display like a person (xdotool, ImageMagick's ``import``).
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

COMMANDS = {"xvfb": "Xvfb", "xdotool": "xdotool", "x11-utils": "xdpyinfo", "xauth": "xauth", "imagemagick": "import"}
APT_TIMEOUT_S = 600


class XvfbUnavailable(RuntimeError):
    """Xvfb cannot be started here; the message says why."""


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def skip_or_fail(reason: str):
    """pytest.skip(reason), or pytest.fail on CI, where every display test must run."""
    import pytest

    if on_ci():
        pytest.fail(f"CI=true, so this display test may not skip: {reason}")
    pytest.skip(reason)


def ensure_packages(*packages: str) -> str | None:
    """None when the commands of ``packages`` exist (after installing them with apt-get as root
    if they did not); otherwise why they are missing."""
    missing = [p for p in packages if shutil.which(COMMANDS.get(p, p)) is None]
    if not missing:
        return None
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return f"{', '.join(missing)} not installed and not running as root (apt-get install {' '.join(missing)})"
    if shutil.which("apt-get") is None:
        return f"{', '.join(missing)} not installed and there is no apt-get here"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing]
    try:
        proc = subprocess.run(install, capture_output=True, text=True, timeout=APT_TIMEOUT_S, env=env)
        if proc.returncode != 0:  # the package lists may be empty (a fresh image): update once
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True, text=True,
                           timeout=APT_TIMEOUT_S, env=env)
            proc = subprocess.run(install, capture_output=True, text=True, timeout=APT_TIMEOUT_S, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"apt-get install {' '.join(missing)} failed ({type(exc).__name__})"
    still = [p for p in missing if shutil.which(COMMANDS.get(p, p)) is None]
    if still:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return f"apt-get install {' '.join(still)} failed: {last}"
    return None


class XDisplay:
    """A running Xvfb server started by :func:`start_xvfb`."""

    def __init__(self, proc: subprocess.Popen, number: int, size, depth: int):
        self.proc = proc
        self.number = number
        self.display = f":{number}"
        self.size = tuple(size)
        self.depth = depth

    @property
    def pid(self) -> int:
        return self.proc.pid

    def env(self, **extra) -> dict:
        env = dict(os.environ)
        env.pop("WAYLAND_DISPLAY", None)
        env["DISPLAY"] = self.display
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def __repr__(self):
        return f"XDisplay({self.display}, {self.size[0]}x{self.size[1]}x{self.depth}, pid {self.pid})"


def start_xvfb(size=(1920, 1080), depth: int = 24, extra_args=(), timeout_s: float = 20.0) -> XDisplay:
    """Start a private Xvfb (installing Debian's xvfb first where possible); XvfbUnavailable if not."""
    why = ensure_packages("xvfb")
    if why:
        raise XvfbUnavailable(why)
    read_fd, write_fd = os.pipe()
    log = tempfile.TemporaryFile()  # the server's messages (read only if it fails to start)
    cmd = ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{size[0]}x{size[1]}x{depth}",
           "-nolisten", "tcp", "-noreset", *extra_args]
    try:
        proc = subprocess.Popen(cmd, pass_fds=(write_fd,), stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=log)
    except OSError as exc:
        os.close(read_fd)
        os.close(write_fd)
        log.close()
        raise XvfbUnavailable(f"cannot run Xvfb: {exc.strerror or exc}") from None
    os.close(write_fd)
    text = b""
    deadline = time.monotonic() + timeout_s
    try:
        while b"\n" not in text:
            left = deadline - time.monotonic()
            if left <= 0 or proc.poll() is not None:
                break
            ready, _, _ = select.select([read_fd], [], [], min(left, 0.5))
            if ready:
                chunk = os.read(read_fd, 64)
                if not chunk:
                    break
                text += chunk
    finally:
        os.close(read_fd)
    if b"\n" not in text:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        log.seek(0)
        lines = log.read().decode("utf-8", "replace").strip().splitlines()
        log.close()
        raise XvfbUnavailable(f"Xvfb did not start within {timeout_s:.0f} s: {(lines or ['no message'])[-1]}")
    log.close()  # the server keeps its own descriptor of the (unlinked) file
    return XDisplay(proc, int(text.strip()), size, depth)


def xvfb_or_skip(**kwargs) -> XDisplay:
    """:func:`start_xvfb`, or skip the test with the reason (fail instead when CI=true)."""
    try:
        return start_xvfb(**kwargs)
    except XvfbUnavailable as exc:
        skip_or_fail(f"no Xvfb: {exc}")


def tools_or_skip(*packages: str) -> None:
    """Install ``packages`` where possible (apt-get as root); otherwise skip (fail when CI=true)."""
    why = ensure_packages(*packages)
    if why:
        skip_or_fail(why)


def _display(display) -> str:
    return display.display if isinstance(display, XDisplay) else str(display)


def xdotool(display, *args: str, check: bool = True) -> str:
    """Run ``xdotool ARGS`` on ``display`` (":N" or an XDisplay); its output, stripped."""
    r = subprocess.run(["xdotool", *args], env=dict(os.environ, DISPLAY=_display(display)),
                       capture_output=True, text=True, timeout=30)
    if check and r.returncode != 0:
        raise AssertionError(f"xdotool {' '.join(args)} failed: {r.stderr.strip()}")
    return r.stdout.strip()


def find_window(display, title: str, timeout_s: float = 180.0, proc=None) -> str:
    """The id of the first window named ``title``; fails if ``proc`` exits first or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        out = xdotool(display, "search", "--name", title, check=False)
        if out:
            return out.splitlines()[0]
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the program exited ({proc.returncode}) before its window appeared")
        time.sleep(0.25)
    raise AssertionError(f"no window titled {title!r} within {timeout_s:.0f} s")


def screenshot_root(display, path: Path) -> Path:
    """The whole X screen as an image file (what a person would see), via ImageMagick's import."""
    subprocess.run(["import", "-window", "root", str(path)], env=dict(os.environ, DISPLAY=_display(display)),
                   check=True, capture_output=True, timeout=60)
    return Path(path)


def stop_process(proc, timeout_s: float = 20.0) -> None:
    """End a front end started by a test: SIGTERM, then SIGKILL if it has not gone in time."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
