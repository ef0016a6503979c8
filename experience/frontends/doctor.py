"""`astp doctor`: what this machine can run, and why.

Reports Python and package versions, the array backend and the reason for it, what `astp render`
will do here (probed in a child process, so a broken driver cannot take the report down, through
the renderer's own pipe selection, buffers and checks, with a small test picture: the pipe and
why, the driver, the largest picture), whether an OpenXR runtime is installed, and whether the
cache directory is writable. Exit code 0 when the
desktop path can work (NumPy backend at least, OpenGL renders, cache writable).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from experience import backend as backend_mod
from experience.errors import AstpError
from experience.paths import cache_dir

PACKAGES = (
    "numpy", "array-api-compat", "cupy-cuda12x", "panda3d", "pillow", "matplotlib",
    "basemap-data", "astropy", "scipy", "sgp4", "array-api-strict",
)

# The child runs what `astp render` runs: the same pipe selection (experience.scene.renderer),
# the same buffers and checks, and one small picture of the handshake.
_GL_PROBE = r"""
import json, sys
from experience.scene import renderer
snap = None
try:
    from experience.mission import data
    from experience.simulation.ephemeris import Ephemeris
    from experience.simulation.snapshot import snapshot
    eph = Ephemeris()
    snap = snapshot(eph, eph.clock.t_s(data.event("handshake").utc), docking=False)
except Exception as exc:
    print(f"astp doctor: no snapshot for the test picture ({type(exc).__name__}: {exc})", file=sys.stderr)
print(json.dumps(renderer.probe(snap)))
"""

OPENXR_MANIFESTS = (
    "/etc/xdg/openxr/1/active_runtime.json",
    "/usr/share/openxr/1/active_runtime.json",
    "~/.config/openxr/1/active_runtime.json",
)


def _versions() -> dict[str, str | None]:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def _probe_gl() -> dict:
    try:
        proc = subprocess.run([sys.executable, "-c", _GL_PROBE], capture_output=True, text=True,
                              timeout=120, env=dict(os.environ))
    except subprocess.TimeoutExpired:
        return {"ok": False, "why": "the OpenGL probe did not finish in 120 s"}
    if "No module named 'panda3d'" in proc.stderr:
        return {"ok": False, "why": "panda3d is not installed (pip install -e .)"}
    try:
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"ok": False, "why": f"the OpenGL probe failed (exit code {proc.returncode}): {last}"}
    if proc.returncode != 0:
        result["ok"] = False
        result["why"] = f"the OpenGL probe crashed at exit (exit code {proc.returncode})"
    return result


def _probe_openxr() -> dict:
    env_path = os.environ.get("XR_RUNTIME_JSON")
    candidates = ([env_path] if env_path else []) + [os.path.expanduser(p) for p in OPENXR_MANIFESTS]
    for path in candidates:
        if path and Path(path).is_file():
            try:
                manifest = json.loads(Path(path).read_text())
                name = manifest.get("runtime", {}).get("name", "unnamed runtime")
            except (OSError, ValueError):
                return {"ok": False, "manifest": path, "why": "the runtime manifest is unreadable"}
            return {"ok": True, "manifest": path, "runtime": name}
    return {"ok": False, "why": "no OpenXR runtime manifest (set XR_RUNTIME_JSON or install a runtime such as Monado)"}


def _probe_cache() -> dict:
    path = cache_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".probe-", delete=True):
            pass
    except OSError as exc:
        return {"ok": False, "path": str(path), "why": f"{exc.strerror or exc}; set ASTP_CACHE_DIR to a writable folder"}
    return {"ok": True, "path": str(path)}


def _probe_generated() -> dict:
    """Whether each file of generated/ matches today's code and data (else it is built on first use)."""
    from experience import generated

    out = {}
    for name in generated.NAMES:
        try:
            out[name] = generated.status(name)
        except Exception as exc:  # noqa: BLE001 - a report, not a failure
            out[name] = f"unknown ({type(exc).__name__})"
    return out


def report(requested_backend: str | None = None) -> dict:
    notices: list[str] = []
    try:
        chosen = backend_mod.select_backend(requested_backend, notice=notices.append)
        backend = {"ok": True, "name": chosen.name, "device": chosen.device, "why": chosen.reason}
    except AstpError as exc:
        backend = {"ok": False, "name": None, "why": str(exc)}
    _, cupy_detail = backend_mod.probe_cupy()
    backend["cupy"] = cupy_detail
    rep = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": _versions(),
        "backend": backend,
        "opengl": _probe_gl(),
        "openxr": _probe_openxr(),
        "cache": _probe_cache(),
        "generated": _probe_generated(),
        "display": os.environ.get("DISPLAY") or None,
    }
    rep["desktop_ok"] = bool(backend["ok"] and rep["opengl"]["ok"] and rep["cache"]["ok"])
    return rep


def _line(ok: bool) -> str:
    return "ok  " if ok else "--  "


def _generated_line(gen: dict) -> str:
    if gen and all(v == "current" for v in gen.values()):
        return "current (" + ", ".join(gen) + ")"
    return "; ".join(f"{k} {v}" for k, v in gen.items()) + " (built on first use; python tools/build_generated.py)"


def _render_line(gl: dict) -> str:
    """What `astp render` will do, as the probe found by doing it."""
    if "pipe" not in gl:
        return "cannot render (see OpenGL)"
    how = "offscreen through EGL (p3headlessgl)" if gl.get("offscreen") else f"on the display {gl.get('display')} (pandagl)"
    text = f"{how}: {gl.get('reason')}"
    if gl.get("largest_size"):
        text += f"; pictures up to {gl['largest_size']}x{gl['largest_size']}"
    pic = gl.get("test_picture")
    if pic:
        text += f"; test picture {'ok' if pic['ok'] else 'BLACK'}"
    return text


def format_report(rep: dict) -> str:
    gl, xr, cache, be = rep["opengl"], rep["openxr"], rep["cache"], rep["backend"]
    lines = [
        f"Handshake in Orbit doctor   (Python {rep['python']}, {rep['platform']})",
        "",
        f"{_line(be['ok'])}array backend   {be.get('name') or 'none'}: {be['why']}",
        f"      CuPy        {be['cupy']}",
        f"{_line(gl['ok'])}OpenGL          " + (
            f"{gl['renderer']} ({gl['version']}, via {gl['pipe']})" if gl["ok"] else gl["why"]),
        f"      render      {_render_line(gl)}",
        f"{_line(xr['ok'])}OpenXR runtime  " + (
            f"{xr['runtime']} ({xr['manifest']})" if xr["ok"] else xr["why"]),
        f"{_line(cache['ok'])}cache           {cache['path']}" + ("" if cache["ok"] else f": {cache['why']}"),
        "      generated   " + _generated_line(rep.get("generated", {})),
        f"      display     {rep['display'] or 'none'}",
        "",
        "packages:",
    ]
    for name, version in rep["packages"].items():
        lines.append(f"      {name:<18}{version or 'not installed'}")
    lines += ["", "desktop path: " + ("can work" if rep["desktop_ok"] else "cannot work (see the lines marked --)")]
    return "\n".join(lines)


def run(args) -> int:
    rep = report(getattr(args, "backend", None))
    if args.json:
        print(json.dumps(rep, indent=2))
    else:
        print(format_report(rep))
    return 0 if rep["desktop_ok"] else 1
