"""A real headless OpenXR runtime for tests and benchmarks: Monado from Debian 13's packages in a
private prefix (tools/setup_monado.sh; ../shared/RECIPES.md "A real OpenXR runtime, headless").

    from experience.xr import monado
    prefix = monado.ensure_prefix()            # runs tools/setup_monado.sh once (cached)
    with monado.MonadoService(prefix) as svc:  # monado-service with the null compositor
        subprocess.run(svc.client_command(["-m", "experience.frontends.cli", "vr", "--check"]),
                       env=svc.client_env(DISPLAY=":5"))

or from a shell (starts the service, runs the program through the prefix's loader, stops it):

    python -m experience.xr.monado run -- -m experience.frontends.cli vr --check

Why through the prefix's loader: the runtime's client library needs glibc 2.38 (Debian 13), so
the Python process that loads it starts as ``PREFIX/.../ld-linux-x86-64.so.2 --library-path LIBS
python ...``; plain ``LD_LIBRARY_PATH`` fails (``undefined symbol: __tunable_is_initialized``).
A child of such a process started with ``sys.executable`` uses the host's loader again.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from experience.errors import AstpError

ROOT = Path(__file__).resolve().parents[2]
SETUP = ROOT / "tools" / "setup_monado.sh"
LOADER = "usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
SERVICE = "usr/bin/monado-service"
SOCKET = "monado_comp_ipc"


def default_prefix() -> Path:
    env = os.environ.get("ASTP_MONADO_PREFIX")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "handshake-in-orbit" / "monado"


def prefix_ready(prefix: Path | None = None) -> bool:
    p = Path(prefix or default_prefix())
    return (p / ".complete").is_file() and (p / LOADER).exists() and (p / SERVICE).exists()


def ensure_prefix(prefix: Path | None = None, timeout_s: float = 900.0) -> Path:
    """The prefix, set up by tools/setup_monado.sh where it is not yet (cached: milliseconds when
    it is). AstpError with the script's one-line reason when it cannot be set up here."""
    p = Path(prefix or default_prefix())
    if not SETUP.exists():
        raise AstpError(f"{SETUP} is missing; the headless Monado runtime cannot be set up")
    try:
        r = subprocess.run(["bash", str(SETUP), "--prefix", str(p)], capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise AstpError(f"tools/setup_monado.sh took over {timeout_s:.0f} s; run it by hand to see why") from None
    if r.returncode != 0 or not prefix_ready(p):
        why = (r.stderr.strip().splitlines() or ["no message"])[-1]
        raise AstpError(f"the headless Monado runtime could not be set up: {why}")
    return p


def library_path(prefix: Path) -> str:
    """The prefix's library folders, then the Python's own library folder (libpython)."""
    libs = (Path(prefix) / "libpath").read_text().strip()
    pylib = sysconfig.get_config_var("LIBDIR") or ""
    return ":".join(x for x in (libs, pylib) if x)


def manifest(prefix: Path) -> Path:
    return Path(prefix) / "openxr_monado.json"


class MonadoService:
    """``monado-service`` with the null compositor and two simulated controllers, in a private
    ``XDG_RUNTIME_DIR`` (mode 700). Started by :meth:`start` (waits for its socket), stopped by
    :meth:`stop` (SIGTERM; only this process). A context manager."""

    def __init__(self, prefix: Path | None = None, *, log_path: Path | None = None):
        self.prefix = Path(prefix or default_prefix())
        if not prefix_ready(self.prefix):
            raise AstpError(f"no Monado prefix at {self.prefix}; run tools/setup_monado.sh first")
        self.proc: subprocess.Popen | None = None
        self.runtime_dir: Path | None = None
        self.log_path = log_path
        self._log = None
        self._own_dir = False

    # -- environment ----------------------------------------------------------------------------
    def service_env(self) -> dict:
        env = dict(os.environ)
        env.update({
            "XRT_COMPOSITOR_NULL": "1", "SIMULATED_ENABLE": "1", "SIMULATED_LEFT": "simple",
            "SIMULATED_RIGHT": "simple", "XRT_NO_STDIN": "1", "IPC_EXIT_ON_DISCONNECT": "0",
            "XDG_RUNTIME_DIR": str(self.runtime_dir),
            "VK_ICD_FILENAMES": str(self.prefix / "usr/share/vulkan/icd.d/lvp_icd.json"),
            "XRT_LOG": os.environ.get("XRT_LOG", "warning"),
        })
        return env

    def client_env(self, **extra) -> dict:
        """The environment of a program that talks to this service."""
        env = dict(os.environ)
        env.update({
            "XR_RUNTIME_JSON": str(manifest(self.prefix)), "XDG_RUNTIME_DIR": str(self.runtime_dir),
            "__EGL_VENDOR_LIBRARY_DIRS": str(self.prefix / "usr/share/glvnd/egl_vendor.d"),
            "LIBGL_DRIVERS_PATH": str(self.prefix / "usr/lib/x86_64-linux-gnu/dri"),
            "XRT_LOG": os.environ.get("XRT_LOG", "warning"),
            "ASTP_XR_LOADER": "monado-prefix",
        })
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def client_command(self, python_args, python: str | None = None) -> list[str]:
        """``[loader, --library-path, LIBS, python, *python_args]``: a Python that can load the runtime."""
        return client_command(self.prefix, python_args, python)

    # -- life -----------------------------------------------------------------------------------
    def start(self, timeout_s: float = 15.0) -> "MonadoService":
        if self.proc is not None and self.proc.poll() is None:
            return self
        if self.runtime_dir is None:
            self.runtime_dir = Path(tempfile.mkdtemp(prefix="astp-monado-"))
            os.chmod(self.runtime_dir, 0o700)
            self._own_dir = True
        sock = self.runtime_dir / SOCKET
        with_log = self.log_path or (self.runtime_dir / "monado-service.log")
        self._log = open(with_log, "ab")
        self.log_path = Path(with_log)
        cmd = [str(self.prefix / LOADER), "--library-path", (self.prefix / "libpath").read_text().strip(),
               str(self.prefix / SERVICE)]
        self.proc = subprocess.Popen(cmd, env=self.service_env(), stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT, cwd=str(self.runtime_dir))
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if sock.exists():
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        tail = self.log_tail()
        self.stop()
        raise AstpError(f"monado-service did not start ({tail or 'no message'})")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n: int = 1) -> str:
        try:
            lines = [ln for ln in Path(self.log_path).read_text(errors="replace").splitlines() if ln.strip()]
        except (OSError, TypeError):
            return ""
        return " | ".join(lines[-n:])

    def stop(self, timeout_s: float = 10.0) -> int | None:
        """SIGTERM this service (only this process) and wait; its exit code."""
        code = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=timeout_s)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=timeout_s)
            code = self.proc.returncode
        if self._log is not None:
            self._log.close()
            self._log = None
        return code

    def cleanup(self) -> None:
        self.stop()
        if self._own_dir and self.runtime_dir is not None:
            shutil.rmtree(self.runtime_dir, ignore_errors=True)
            self.runtime_dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()


def client_command(prefix: Path, python_args, python: str | None = None) -> list[str]:
    prefix = Path(prefix)
    return [str(prefix / LOADER), "--library-path", library_path(prefix), python or sys.executable, *python_args]


def main(argv=None) -> int:
    """``python -m experience.xr.monado run [--] PYTHON-ARGS...``: set up (once), start the service,
    run ``python PYTHON-ARGS`` through the prefix's loader against it, stop the service; the
    program's exit code. ``python -m experience.xr.monado prefix``: set up and print the prefix."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("run", "prefix"):
        print("usage: python -m experience.xr.monado run [--] PYTHON-ARGS... | prefix", file=sys.stderr)
        return 2
    try:
        prefix = ensure_prefix()
        if argv[0] == "prefix":
            print(prefix)
            return 0
        args = argv[1:]
        if args[:1] == ["--"]:
            args = args[1:]
        with MonadoService(prefix) as svc:
            return subprocess.call(svc.client_command(args), env=svc.client_env())
    except AstpError as exc:
        print(f"astp: error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
