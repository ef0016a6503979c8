"""`astp doctor`: what this machine can run, and why.

Reports Python and package versions, the array backend and the reason for it, whether OpenGL can
render (probed in a child process so a broken driver cannot take the report down), whether an
OpenXR runtime is installed, and whether the cache directory is writable. Exit code 0 when the
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

_GL_PROBE = r"""
import json
from panda3d.core import (loadPrcFileData, GraphicsPipeSelection, FrameBufferProperties,
                          WindowProperties, GraphicsPipe, GraphicsEngine)
loadPrcFileData("", "window-type none\nnotify-level fatal\naudio-library-name null")
sel = GraphicsPipeSelection.get_global_ptr()
out = {"ok": False}
for name in ("pandagl", "p3headlessgl"):
    try:
        pipe = sel.make_module_pipe(name)
    except Exception:
        pipe = None
    if pipe is None or not pipe.is_valid():
        continue
    eng = GraphicsEngine.get_global_ptr()
    fb = FrameBufferProperties(); fb.set_rgb_color(True); fb.set_depth_bits(16)
    buf = eng.make_output(pipe, "probe", 0, fb, WindowProperties.size(16, 16),
                          GraphicsPipe.BF_refuse_window)
    if buf is None:
        continue
    eng.render_frame()
    gsg = buf.get_gsg()
    out = {"ok": True, "pipe": name, "vendor": gsg.get_driver_vendor(),
           "renderer": gsg.get_driver_renderer(), "version": gsg.get_driver_version(),
           "glsl": gsg.get_driver_shader_version_major() * 100 + gsg.get_driver_shader_version_minor() * 10}
    break
print(json.dumps(out))
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
    env = dict(os.environ)
    if not env.get("DISPLAY"):
        env.setdefault("EGL_PLATFORM", "surfaceless")
    try:
        proc = subprocess.run([sys.executable, "-c", _GL_PROBE], capture_output=True, text=True,
                              timeout=60, env=env)
    except subprocess.TimeoutExpired:
        return {"ok": False, "why": "the OpenGL probe did not finish in 60 s"}
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        if "No module named 'panda3d'" in proc.stderr:
            return {"ok": False, "why": "panda3d is not installed (pip install -e .)"}
        return {"ok": False, "why": f"the OpenGL probe failed: {last}"}
    try:
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"ok": False, "why": "the OpenGL probe printed nothing readable"}
    if not result.get("ok"):
        result["why"] = ("no OpenGL display pipe could open a buffer "
                         "(install libgl1 libegl1 libegl-mesa0 libgl1-mesa-dri)")
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
        "display": os.environ.get("DISPLAY") or None,
    }
    rep["desktop_ok"] = bool(backend["ok"] and rep["opengl"]["ok"] and rep["cache"]["ok"])
    return rep


def _line(ok: bool) -> str:
    return "ok  " if ok else "--  "


def format_report(rep: dict) -> str:
    gl, xr, cache, be = rep["opengl"], rep["openxr"], rep["cache"], rep["backend"]
    lines = [
        f"Handshake in Orbit doctor   (Python {rep['python']}, {rep['platform']})",
        "",
        f"{_line(be['ok'])}array backend   {be.get('name') or 'none'}: {be['why']}",
        f"      CuPy        {be['cupy']}",
        f"{_line(gl['ok'])}OpenGL          " + (
            f"{gl['renderer']} ({gl['version']}, via {gl['pipe']})" if gl["ok"] else gl["why"]),
        f"{_line(xr['ok'])}OpenXR runtime  " + (
            f"{xr['runtime']} ({xr['manifest']})" if xr["ok"] else xr["why"]),
        f"{_line(cache['ok'])}cache           {cache['path']}" + ("" if cache["ok"] else f": {cache['why']}"),
        f"      display     {rep['display'] or 'none (offscreen rendering through EGL)'}",
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
