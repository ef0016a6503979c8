"""Finding and describing the OpenXR runtime: ``astp vr --check``.

:func:`check` answers, without beginning a session, what a visitor's machine offers: the runtime
(name, version, manifest path), the system (the headset's name, vendor, tracking, largest
swapchain), the view configurations with each view's recommended and largest size, the blend
modes, the reference spaces, the swapchain formats (these need an ``XrSession``: one is created on
a hidden OpenGL context and destroyed again without ``xrBeginSession``; where no OpenGL context can
be made the report says why) and the instance extensions.

Where no runtime can be used the answer is an :class:`~experience.errors.AstpError`: one line
saying what is missing and how to fix it (exit code 2, no traceback), with the OpenXR loader's
own C-level messages kept off the terminal (:func:`quiet_stderr`) and folded into that line.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import sys
import tempfile
from pathlib import Path

from experience.errors import AstpError

APP_NAME = "Handshake in Orbit"
MANIFESTS = (  # the loader's search order on Linux after XR_RUNTIME_JSON
    "$XDG_CONFIG_HOME/openxr/1/active_runtime.json",
    "~/.config/openxr/1/active_runtime.json",
    "/etc/xdg/openxr/1/active_runtime.json",
    "/etc/openxr/1/active_runtime.json",
    "/usr/share/openxr/1/active_runtime.json",
)
INSTALL_HINT = ("install an OpenXR runtime (SteamVR, Meta Quest Link, Monado, Windows Mixed Reality, Varjo) and make "
                "it the active one, or set XR_RUNTIME_JSON to its manifest; 'tools/setup_monado.sh' sets up a headless "
                "Monado for testing; 'astp vr --fallback desktop' opens the desktop viewer instead")
FORMAT_NAMES = {0x8058: "RGBA8", 0x8C43: "SRGB8_ALPHA8", 0x8C41: "SRGB8", 0x805B: "RGBA16", 0x881A: "RGBA16F",
                0x8814: "RGBA32F", 0x881B: "RGB16F", 0x8C3A: "R11F_G11F_B10F", 0x8059: "RGB10_A2",
                0x81A5: "DEPTH_COMPONENT16", 0x81A6: "DEPTH_COMPONENT24", 0x8CAC: "DEPTH_COMPONENT32F",
                0x88F0: "DEPTH24_STENCIL8", 0x8CAD: "DEPTH32F_STENCIL8", 0x8051: "RGB8"}


def format_name(fmt: int) -> str:
    return FORMAT_NAMES.get(int(fmt), f"0x{int(fmt):04x}")


# ----------------------------------------------------------------------------------------------
def import_xr():
    """pyopenxr, or an AstpError naming the package to install."""
    try:
        import xr  # noqa: F401
    except ImportError as exc:
        raise AstpError(f"the OpenXR bindings are not installed ({exc}); "
                        "pip install 'handshake-in-orbit[vr]' (pyopenxr, PyOpenGL, glfw)") from None
    except OSError as exc:  # the bundled loader library cannot be loaded
        raise AstpError(f"the OpenXR loader cannot be loaded ({exc}); reinstall pyopenxr") from None
    return xr


def manifest_path() -> tuple[Path | None, str]:
    """(the active runtime's manifest, how it was found) as the OpenXR loader looks for it."""
    env = os.environ.get("XR_RUNTIME_JSON")
    if env:
        return (Path(env) if Path(env).is_file() else None), f"XR_RUNTIME_JSON={env}"
    for raw in MANIFESTS:
        if raw.startswith("$XDG_CONFIG_HOME"):
            base = os.environ.get("XDG_CONFIG_HOME")
            if not base:
                continue
            raw = raw.replace("$XDG_CONFIG_HOME", base)
        p = Path(os.path.expanduser(raw))
        if p.is_file():
            return p, "active_runtime.json"
    return None, "no active_runtime.json"


def manifest_problem(path: Path) -> str | None:
    """Why the runtime named by this manifest cannot be loaded into this process (a few words),
    or None when its library loads."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        lib = doc["runtime"]["library_path"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"its manifest {path} cannot be read ({type(exc).__name__}: {exc})"
    lib_path = Path(lib) if os.path.isabs(lib) else (path.parent / lib)
    if os.sep in lib and not lib_path.exists():
        return f"its library {lib_path} does not exist"
    try:
        ctypes.CDLL(str(lib_path) if os.sep in lib else lib)
    except OSError as exc:
        msg = str(exc)
        if "GLIBC_" in msg:
            return (f"its library needs a newer C library than this process has ({msg.split(': ')[-1]}); "
                    "start the program through that runtime's own loader (python -m experience.xr.monado run -- ...)")
        return f"its library cannot be loaded ({msg})"
    return None


@contextlib.contextmanager
def quiet_stderr(sink: list):
    """File descriptor 2 goes to a temporary file inside the block (the OpenXR loader and the
    runtime print there from C); its lines are appended to ``sink``."""
    try:
        sys.stderr.flush()
    except Exception:  # noqa: BLE001
        pass
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    tmp = tempfile.TemporaryFile()
    os.dup2(tmp.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        tmp.seek(0)
        sink.extend(ln for ln in tmp.read().decode("utf-8", "replace").splitlines() if ln.strip())
        tmp.close()


class RuntimeLog:
    """While a session runs, the runtime's and the OpenXR loader's C-level messages (file
    descriptor 2) go to an unlinked temporary file instead of the terminal; Python's own
    ``sys.stderr`` keeps the terminal. :meth:`last_error` gives the runtime's last error line (for
    the one-line report of a lost session). A context manager; nothing is left on disk."""

    def __init__(self):
        self._tmp = None
        self._saved_fd = None
        self._saved_stderr = None

    def __enter__(self):
        try:
            sys.stderr.flush()
            self._saved_fd = os.dup(2)
        except (OSError, ValueError, AttributeError):
            return self
        self._tmp = tempfile.TemporaryFile()
        self._saved_stderr = sys.stderr
        sys.stderr = open(os.dup(self._saved_fd), "w", encoding="utf-8", errors="replace", buffering=1)
        os.dup2(self._tmp.fileno(), 2)
        return self

    def lines(self) -> list[str]:
        if self._tmp is None:
            return []
        self._tmp.flush()
        self._tmp.seek(0)
        text = self._tmp.read().decode("utf-8", "replace")
        self._tmp.seek(0, 2)
        return [ln for ln in text.splitlines() if ln.strip()]

    def last_error(self) -> str:
        errs = [ln for ln in self.lines() if "XR_ERROR" in ln] or [ln for ln in self.lines() if "ERROR" in ln]
        return errs[-1].strip() if errs else ""

    def __exit__(self, *exc):
        if self._saved_fd is None:
            return
        os.dup2(self._saved_fd, 2)
        os.close(self._saved_fd)
        if self._saved_stderr is not None:
            try:
                sys.stderr.close()
            except OSError:
                pass
            sys.stderr = self._saved_stderr
        if self._tmp is not None:
            self._tmp.close()
        self._saved_fd = None


def no_runtime_error(detail: str = "") -> AstpError:
    path, how = manifest_path()
    if path is None:
        what = (f"XR_RUNTIME_JSON names {os.environ['XR_RUNTIME_JSON']}, which does not exist"
                if os.environ.get("XR_RUNTIME_JSON") else "no OpenXR runtime is installed (no active_runtime.json)")
    else:
        why = manifest_problem(path)
        what = f"the OpenXR runtime of {path} cannot be used" + (f": {why}" if why else (f" ({detail})" if detail else ""))
        if why and "own loader" in why:
            return AstpError(f"{what}")
    return AstpError(f"{what}; {INSTALL_HINT}")


def create_instance(extensions=(), *, optional=()):
    """An ``XrInstance`` with ``extensions`` (all required) and those of ``optional`` the runtime
    offers; (xr, instance, enabled extension names, all offered names). AstpError when there is
    no runtime or a required extension is missing."""
    xr = import_xr()
    noise: list[str] = []
    try:
        with quiet_stderr(noise):
            offered = [_s(e.extension_name) for e in xr.enumerate_instance_extension_properties()]
    except xr.exception.XrException as exc:
        raise no_runtime_error(_last(noise) or str(exc)) from None
    missing = [e for e in extensions if e not in offered]
    if missing:
        raise AstpError(f"the OpenXR runtime lacks {', '.join(missing)} (needed for OpenGL rendering); "
                        "use a runtime with OpenGL support (SteamVR, Monado), or 'astp vr --fallback desktop'")
    enabled = list(extensions) + [e for e in optional if e in offered and e not in extensions]
    info = xr.InstanceCreateInfo(
        application_info=xr.ApplicationInfo(application_name=APP_NAME, application_version=1,
                                            engine_name="Panda3D", engine_version=1,
                                            api_version=xr.Version(1, 0, 0)),
        enabled_extension_names=enabled)
    try:
        with quiet_stderr(noise):
            inst = xr.create_instance(info)
    except xr.exception.XrException as exc:
        raise no_runtime_error(_last(noise) or type(exc).__name__) from None
    return xr, inst, enabled, offered


def _s(v) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def _last(lines: list[str]) -> str:
    keep = [ln for ln in lines if "Error" in ln or "error" in ln]
    return (keep or lines or [""])[-1].strip()


def system_id(xr, inst):
    try:
        return xr.get_system(inst, xr.SystemGetInfo(form_factor=xr.FormFactor.HEAD_MOUNTED_DISPLAY))
    except xr.exception.FormFactorUnavailableError:
        raise AstpError("the OpenXR runtime sees no headset (is it connected and switched on?); connect it and "
                        "try again, or 'astp vr --fallback desktop'") from None
    except xr.exception.XrException as exc:
        raise AstpError(f"the OpenXR runtime has no head-mounted system ({type(exc).__name__}); "
                        "check the headset and its runtime, or 'astp vr --fallback desktop'") from None


# ----------------------------------------------------------------------------------------------
def check(*, with_formats: bool = True) -> dict:
    """The runtime report (``astp vr --check --json``); AstpError when there is no runtime."""
    from experience.xr import session as xs

    from experience.xr import handtracking

    xr, inst, enabled, offered = create_instance(optional=(xs.GL_EXTENSION, handtracking.EXTENSION))
    try:
        props = xr.get_instance_properties(inst)
        path, how = manifest_path()
        rep: dict = {"ok": True,
                     "runtime": {"name": _s(props.runtime_name), "version": str(xr.Version(props.runtime_version)),
                                 "manifest": str(path) if path else None, "found_by": how},
                     "extensions": sorted(offered)}
        sid = system_id(xr, inst)
        sp = xr.get_system_properties(inst, sid)
        rep["system"] = {"name": _s(sp.system_name), "vendor_id": int(sp.vendor_id),
                         "max_swapchain": [int(sp.graphics_properties.max_swapchain_image_width),
                                           int(sp.graphics_properties.max_swapchain_image_height)],
                         "max_layers": int(sp.graphics_properties.max_layer_count),
                         "position_tracking": bool(sp.tracking_properties.position_tracking),
                         "orientation_tracking": bool(sp.tracking_properties.orientation_tracking)}
        vcs = []
        for vct in xr.enumerate_view_configurations(inst, sid):
            vct = xr.ViewConfigurationType(vct)
            views = xr.enumerate_view_configuration_views(inst, sid, vct)
            blends = [xr.EnvironmentBlendMode(b).name for b in xr.enumerate_environment_blend_modes(inst, sid, vct)]
            vcs.append({"type": vct.name, "views": [
                {"recommended": [int(v.recommended_image_rect_width), int(v.recommended_image_rect_height)],
                 "max": [int(v.max_image_rect_width), int(v.max_image_rect_height)],
                 "samples": int(v.recommended_swapchain_sample_count)} for v in views],
                "blend_modes": blends})
        rep["view_configurations"] = vcs
        supported = handtracking.system_tracks_hands(xr, inst, sid) if handtracking.EXTENSION in enabled else None
        rep["hand_tracking"] = handtracking.describe(offered, enabled, supported)
        if with_formats:
            rep["swapchain"] = xs.probe_session(xr, inst, sid, enabled)
        return rep
    finally:
        with contextlib.suppress(Exception):
            xr.destroy_instance(inst)


def format_check(rep: dict) -> str:
    rt, sy = rep["runtime"], rep["system"]
    lines = [f"OpenXR runtime   {rt['name']} {rt['version']}",
             f"  manifest       {rt['manifest'] or '-'} ({rt['found_by']})",
             f"system           {sy['name']} (vendor 0x{sy['vendor_id']:04x}); tracking: "
             f"{'position + orientation' if sy['position_tracking'] else 'orientation only'}; "
             f"largest swapchain {sy['max_swapchain'][0]}x{sy['max_swapchain'][1]}"]
    for vc in rep["view_configurations"]:
        views = ", ".join(f"{v['recommended'][0]}x{v['recommended'][1]} (max {v['max'][0]}x{v['max'][1]})"
                          for v in vc["views"])
        lines.append(f"view config      {vc['type']}: {len(vc['views'])} views {views}; blend {', '.join(vc['blend_modes'])}")
    sc = rep.get("swapchain") or {}
    if sc.get("formats"):
        lines.append(f"swapchain        {', '.join(sc['formats'])} (OpenGL {sc.get('graphics', '')}); "
                     f"spaces {', '.join(sc.get('reference_spaces', []))}")
    elif sc:
        lines.append(f"swapchain        formats not known: {sc.get('why')}")
    ht = rep.get("hand_tracking") or {}
    if ht:
        lines.append("hand tracking    " + ("offered (XR_EXT_hand_tracking): tracked hands close by curl or pinch"
                                         if ht.get("offered") else f"not offered: {ht.get('why')}"))
    lines.append(f"extensions       {len(rep['extensions'])}: {', '.join(rep['extensions'])}")
    return "\n".join(lines) + "\n"
