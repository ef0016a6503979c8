"""A real X server for the window tests: Xvfb, started by the tests themselves.

:func:`xvfb_display` (a context manager) starts ``Xvfb`` on a free display number with a
1920x1080x24 screen and yields its ``DISPLAY`` string; the server is killed afterwards. Where
Xvfb, xdotool or ImageMagick's ``import`` are missing and this process runs as root with apt
available (as CI does: Debian packages reachable), :func:`ensure_tools` installs Debian's
``xvfb xdotool x11-utils imagemagick`` first (once per machine). Where the server truly cannot
be had, :func:`unavailable` skips the test with the reason, except under ``CI=true``, where a skip
of these tests fails the run instead (pytest.fail).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

TOOLS = {"Xvfb": "xvfb", "xdotool": "xdotool", "xwininfo": "x11-utils", "import": "imagemagick"}
SCREEN = "1920x1080x24"


def unavailable(reason: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"window tests cannot run on CI: {reason}")
    pytest.skip(reason)


def ensure_tools() -> None:
    missing = [pkg for exe, pkg in TOOLS.items() if shutil.which(exe) is None]
    if not missing:
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        unavailable(f"needs {', '.join(sorted(set(missing)))} (Debian packages; run as root with apt to install them)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *sorted(set(missing))],
                       check=True, env=env, capture_output=True, timeout=900)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        out = getattr(exc, "stderr", b"") or b""
        unavailable(f"could not install {' '.join(sorted(set(missing)))} with apt-get: {out.decode(errors='replace')[-300:]}")
    still = [exe for exe in TOOLS if shutil.which(exe) is None]
    if still:
        unavailable(f"{', '.join(still)} still missing after apt-get install")


def _free_display() -> int:
    for n in range(90, 400):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    unavailable("no free X display number in 90..399")


@contextlib.contextmanager
def xvfb_display(screen: str = SCREEN):
    ensure_tools()
    n = _free_display()
    proc = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", screen, "-nolisten", "tcp", "-noreset"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sock = Path(f"/tmp/.X11-unix/X{n}")
    deadline = time.monotonic() + 20.0
    while not sock.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            err = proc.stderr.read().decode(errors="replace")[-300:] if proc.poll() is not None else "timed out"
            proc.kill()
            unavailable(f"Xvfb did not start: {err}")
        time.sleep(0.05)
    try:
        yield f":{n}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def xdotool(display: str, *args: str, check: bool = True) -> str:
    r = subprocess.run(["xdotool", *args], env=dict(os.environ, DISPLAY=display), capture_output=True,
                       text=True, timeout=30)
    if check and r.returncode != 0:
        raise AssertionError(f"xdotool {' '.join(args)} failed: {r.stderr.strip()}")
    return r.stdout.strip()


def find_window(display: str, title: str, timeout_s: float = 180.0, proc=None) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        out = xdotool(display, "search", "--name", title, check=False)
        if out:
            return out.splitlines()[0]
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the program exited ({proc.returncode}) before its window appeared")
        time.sleep(0.25)
    raise AssertionError(f"no window titled {title!r} within {timeout_s:.0f} s")


def screenshot_root(display: str, path: Path) -> Path:
    subprocess.run(["import", "-window", "root", str(path)], env=dict(os.environ, DISPLAY=display), check=True,
                   capture_output=True, timeout=60)
    return path
