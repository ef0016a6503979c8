"""The scene renderer: a snapshot in, a picture out.

``SceneRenderer`` is created once (it owns the Panda3D buffers, the Earth, the atmosphere, the
sky and the spacecraft) and renders any number of snapshots; ``render_still`` is the one-call
form used by ``astp render``. Passes, each into a linear-light, half-float (RGBA16F) buffer:

1. FAR (metres, camera at the origin, ECI axes; lens 1 km .. 1e9 m): the sky (stars, Moon, Sun,
   ``experience.scene.sky`` when it is importable), the Earth with aerial perspective, then the
   sky pass of the atmosphere (the limb) over whatever the Earth did not cover.
2. NEAR (same camera orientation; lens 0.02-0.5 m .. 5 km, its own depth buffer): the
   spacecraft, over transparent black, at ``supersample`` x the size (anti-aliased edges; the
   FAR pass is smooth and is not supersampled). Two depth ranges because one 24-bit depth buffer
   cannot hold both 5 cm and 6,600 km.
3. Tone map (shaders/tonemap.frag): per NEAR sample, composite over FAR by its alpha, exposure x
   radiance -> ACES filmic, average the samples, sRGB; into an 8-bit buffer that is read back.
   Exposure and tone mapping happen there and nowhere else.

Offscreen through EGL (``p3headlessgl``) when there is no ``DISPLAY``; with a display the default
pipe. Output is deterministic for the same arguments (no time or random inputs; llvmpipe renders
byte-identical frames). All conversion of simulation numbers happens in
:mod:`experience.scene.boundary`.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import os
import sys
import weakref
from pathlib import Path

import numpy as np

from experience.errors import AstpError
from experience.scene import boundary
from experience.scene.config import MAX_SIZE, RenderConfig, check_size, check_view, shader_path

_PIPE: list = []            # the process's one GraphicsPipe (shared_pipe)
_PIPE_INFO: dict = {}       # how it was chosen (pipe_info)
_LIMITS: dict = {}          # GL limits of that pipe (gl_limits)
_PRC_DONE = [False]
WINDOW_SORT = 5  # the tone-map region in a window: over ShowBase's 3D region (0), under its 2D overlay (10)
_ATEXIT_DONE = [False]
_SHUTDOWN_HOOKS: list = []
_LIVE: "weakref.WeakSet[SceneRenderer]" = weakref.WeakSet()

GL_FRAMEBUFFER = 0x8D40
GL_FRAMEBUFFER_COMPLETE = 0x8CD5
GL_FRAMEBUFFER_BINDING = 0x8CA6
GL_VIEWPORT = 0x0BA2
GL_MAX_TEXTURE_SIZE = 0x0D33
GL_MAX_VIEWPORT_DIMS = 0x0D3A
GL_MAX_RENDERBUFFER_SIZE = 0x84E8
FB_STATUS_NAMES = {0x8CD6: "an attachment is incomplete (out of memory or too large)",
                   0x8CD7: "it has no attachment", 0x8CD9: "its attachments differ in size",
                   0x8CDD: "the format is unsupported", 0x8D56: "the multisample counts differ",
                   0x8219: "there is no framebuffer"}


def collect_states() -> None:
    """Free the render and transform states no node uses any more. Every frame sets new shader
    inputs and matrices, and culling composes them into new states; Panda3D caches each one and
    frees unused ones only when asked (ShowBase asks once a frame in its ``garbageCollectStates``
    task). A loop without ShowBase (the offscreen renderer: stills, recorded tours, scripted runs,
    the kiosk soak) asks here, or it grows by about 80 states (~0.1 MB) a frame."""
    from panda3d.core import RenderState, TransformState

    TransformState.garbageCollect()
    RenderState.garbageCollect()


def headless() -> bool:
    """True when no display is named at all (DISPLAY and WAYLAND_DISPLAY unset)."""
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def configure_panda(*, onscreen: bool = False) -> None:
    """PRC settings for rendering (once per process, before the first pipe is made).
    ``onscreen``: for a front end that opens a window (the desktop viewer, the kiosk) instead of
    the offscreen stills."""
    if _PRC_DONE[0]:
        return
    from panda3d.core import loadPrcFileData

    lines = [
        "window-type none" if onscreen else "window-type offscreen",
        "audio-library-name null",
        "textures-power-2 none",
        "sync-video false",
        "gl-finish false",
        "notify-level-display error",
        "notify-level-x11display fatal",  # while select_pipe tries the display (it reports in one
        "notify-level-glxdisplay fatal",  # line); set back to "error" once the pipe is chosen
        "notify-level-device fatal",
        "notify-level-egldisplay fatal",
        "notify-level-glgsg error",
        "notify-level-gobj error",
        "notify-level-loader error",
        "notify-level-linmath error",
        f"model-path {shader_path('earth.vert').parent.as_posix()}",
        "gl-coordinate-system default",
        "driver-generate-mipmaps true",
        "default-antialias-enable false",
    ]
    loadPrcFileData("handshake-in-orbit renderer", "\n".join(lines))
    _PRC_DONE[0] = True


def _wayland_socket_alive(name: str) -> bool:
    path = Path(name) if os.path.isabs(name) else Path(os.environ.get("XDG_RUNTIME_DIR") or "/nonexistent") / name
    return path.exists()


def _probe_output(pipe) -> str | None:
    """None if ``pipe`` opens and draws a small offscreen buffer, else why not (a few words)."""
    from panda3d.core import FrameBufferProperties, GraphicsEngine, GraphicsPipe, WindowProperties

    engine = GraphicsEngine.getGlobalPtr()
    fb = FrameBufferProperties()
    fb.setRgbColor(True)
    fb.setDepthBits(16)
    buf = engine.makeOutput(pipe, "astp-pipe-probe", 0, fb, WindowProperties.size(16, 16),
                            GraphicsPipe.BF_refuse_window, None, None)
    if buf is None:
        return "it cannot open an OpenGL buffer"
    try:
        engine.renderFrame()
        ok = buf.isValid() and buf.getGsg() is not None and buf.getGsg().isValid()
    finally:
        _remove_outputs(engine, [buf])
    return None if ok else "its OpenGL context does not work"


def select_pipe() -> tuple:
    """Choose the graphics pipe the way every renderer in this process will use it; returns
    (pipe, info). ``info``: ``module`` (pandagl = the display's OpenGL, p3headlessgl = EGL
    offscreen), ``display``, ``reason`` and ``notice`` (the one line printed on a fallback, or None).

    - DISPLAY set and usable (it opens and draws a small buffer): the display's pipe, so that
      windows (the desktop viewer) and offscreen buffers share one pipe.
    - DISPLAY set but unusable (nothing there, no permission, no GLX): EGL, with a notice.
    - Only WAYLAND_DISPLAY (Panda3D draws windows through X11 only): EGL; a notice if its socket
      is not there.
    - Neither: EGL (offscreen).
    """
    configure_panda()
    from panda3d.core import GraphicsPipeSelection, loadPrcFileData

    sel = GraphicsPipeSelection.getGlobalPtr()
    try:
        return _select_pipe(sel, loadPrcFileData)
    finally:
        _restore_display_notices()


def _restore_display_notices() -> None:
    from panda3d.core import NS_error, Notify

    for name in (":display:x11display", ":display:glxdisplay"):
        with contextlib.suppress(Exception):
            Notify.ptr().getCategory(name).setSeverity(NS_error)


@contextlib.contextmanager
def _quiet(*categories: str):
    """Panda3D's notify categories silenced (fatal only) inside the block, as they were after."""
    from panda3d.core import NS_fatal, Notify

    saved = []
    for name in categories:
        with contextlib.suppress(Exception):
            cat = Notify.ptr().getCategory(name)
            saved.append((cat, cat.getSeverity()))
            cat.setSeverity(NS_fatal)
    try:
        yield
    finally:
        for cat, severity in saved:
            cat.setSeverity(severity)


def quiet_teardown():
    """A context in which to close buffers and windows: Panda3D 1.10's GLX teardown of an offscreen
    context provokes a harmless BadMatch X error, kept out of the user's terminal. (Window owners
    may close their windows inside it too.)"""
    return _quiet(":display:x11display", ":display:glxdisplay")


def _quiet_checks():
    """While making and checking buffers whose failure we report ourselves in one line: Panda3D's
    own multi-line reports ("Could not get requested FrameBufferProperties", incomplete FBOs)."""
    return _quiet(":display", ":display:gsg:glgsg", ":display:x11display", ":display:glxdisplay")


def _remove_outputs(engine, outputs) -> None:
    """Remove these buffers or windows and let the engine finish closing them, quietly."""
    with quiet_teardown():
        for out in outputs:
            if out is not None:
                engine.removeWindow(out)
        engine.renderFrame()


def _select_pipe(sel, loadPrcFileData) -> tuple:
    display = os.environ.get("DISPLAY") or None
    wayland = os.environ.get("WAYLAND_DISPLAY") or None
    notice = None
    if display:
        try:
            pipe = sel.makeModulePipe("pandagl")
        except Exception:  # noqa: BLE001 - a broken module is the same as no display here
            pipe = None
        why = None
        if pipe is None:
            why = "Panda3D's X11 OpenGL module (pandagl) is missing"
        elif not pipe.isValid():
            why = "it cannot be opened"
        else:
            why = _probe_output(pipe)
        if why is None:
            loadPrcFileData("handshake-in-orbit pipe", "load-display pandagl")
            return pipe, {"module": "pandagl", "display": display, "notice": None,
                          "reason": f"DISPLAY={display} opens and draws", "offscreen": False}
        pipe = None
        notice = f"astp: the display DISPLAY={display} is not usable ({why}); rendering offscreen through EGL instead"
        reason = f"DISPLAY={display} is set but {why}"
    elif wayland:
        if _wayland_socket_alive(wayland):
            reason = (f"WAYLAND_DISPLAY={wayland} without an X display (Panda3D opens windows through X11 "
                      "only: XWayland's DISPLAY); offscreen through EGL")
        else:
            notice = (f"astp: WAYLAND_DISPLAY={wayland} names no running compositor; "
                      "rendering offscreen through EGL instead")
            reason = f"WAYLAND_DISPLAY={wayland} is set but its socket is not there"
    else:
        reason = "no display (DISPLAY and WAYLAND_DISPLAY unset)"
    if display or wayland:
        os.environ.setdefault("EGL_PLATFORM", "surfaceless")  # keep Mesa's EGL away from the display
    try:
        pipe = sel.makeModulePipe("p3headlessgl")
    except Exception:  # noqa: BLE001
        pipe = None
    if pipe is None or not pipe.isValid():
        raise AstpError("no OpenGL renderer is available: install Mesa's EGL/GL drivers "
                        "(Debian: apt install libegl1 libegl-mesa0 libgl1-mesa-dri) or run with a display; "
                        "'astp doctor' shows what is missing")
    loadPrcFileData("handshake-in-orbit pipe", "load-display p3headlessgl")
    return pipe, {"module": "p3headlessgl", "display": None, "notice": notice, "reason": reason, "offscreen": True}


def shared_pipe():
    """The process's one graphics pipe (:func:`select_pipe`). Everything that opens a buffer or a
    window in this process (renderers, tests, the desktop viewer) goes through it: a second
    default pipe in the same process can fail to open buffers. The first call registers
    :func:`shutdown` to run at exit."""
    if not _PIPE:
        pipe, info = select_pipe()
        if info["notice"]:
            print(info["notice"], file=sys.stderr)
        _PIPE.append(pipe)
        _PIPE_INFO.clear()
        _PIPE_INFO.update(info)
        if not _ATEXIT_DONE[0]:
            atexit.register(shutdown)
            _ATEXIT_DONE[0] = True
    return _PIPE[0]


def pipe_info() -> dict:
    """How the shared pipe was chosen (module, display, reason, notice); makes it if needed."""
    shared_pipe()
    return dict(_PIPE_INFO)


# ----------------------------------------------------------------------------------------------
# Shutdown
# ----------------------------------------------------------------------------------------------
def add_shutdown_hook(fn) -> None:
    """Call ``fn()`` at the start of :func:`shutdown`, before the renderer's own outputs and the
    pipe are released (last added, first called). A window owner registers its own close here,
    e.g. ``add_shutdown_hook(base.destroy)`` for a ShowBase on :func:`shared_pipe`."""
    if fn not in _SHUTDOWN_HOOKS:
        _SHUTDOWN_HOOKS.append(fn)


def remove_shutdown_hook(fn) -> None:
    with contextlib.suppress(ValueError):
        _SHUTDOWN_HOOKS.remove(fn)


def shutdown() -> None:
    """Release every graphics output of this process, then the pipe, in that order.

    Panda3D's GraphicsEngine is a C++ static: left to itself, its destructor closes whatever
    buffers and windows are still open during the C runtime's exit handlers, after Python is gone
    and after libpandagl's own statics (the X11 pipe's mutex) are destroyed, which aborts the
    process (``ReMutexPosixImpl::lock(): Assertion 'result == 0' failed``, exit code 134) or
    crashes releasing Python callbacks. So, while everything is still alive:

    1. the shutdown hooks (:func:`add_shutdown_hook`; e.g. a viewer's ``base.destroy``), last first;
    2. every :class:`SceneRenderer` closes its buffers;
    3. ``GraphicsEngine.removeAllWindows()`` closes anything else on the engine (test buffers,
       windows nobody registered) and releases the GSGs;
    4. the pipe is dropped (an X11 pipe closes its display connection).

    Registered with ``atexit`` by the first :func:`shared_pipe`; safe to call any number of times
    and at any moment. A later :func:`shared_pipe` opens a new pipe.
    """
    while _SHUTDOWN_HOOKS:
        fn = _SHUTDOWN_HOOKS.pop()
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - shutting down: report and go on
            print(f"astp: note: a shutdown hook failed ({type(exc).__name__}: {exc})", file=sys.stderr)
    for r in list(_LIVE):
        with contextlib.suppress(Exception):
            r.close()
    _RENDERERS.clear()
    if _PIPE:
        from panda3d.core import GraphicsEngine

        with quiet_teardown():
            GraphicsEngine.getGlobalPtr().removeAllWindows()
        _PIPE.clear()
    _LIMITS.clear()


# ----------------------------------------------------------------------------------------------
# OpenGL limits and framebuffer checks
# ----------------------------------------------------------------------------------------------
_GL_LIB: list = []


def _gl():
    """ctypes access to the current context's glGetIntegerv / glCheckFramebufferStatus (through
    libglvnd's libOpenGL or libGL), or None where neither can be loaded."""
    if not _GL_LIB:
        import ctypes
        import ctypes.util

        lib = None
        for name in ("libOpenGL.so.0", "libGL.so.1", ctypes.util.find_library("OpenGL"), ctypes.util.find_library("GL")):
            if not name:
                continue
            try:
                cand = ctypes.CDLL(name)
                cand.glGetIntegerv.argtypes = [ctypes.c_uint, ctypes.POINTER(ctypes.c_int)]
                cand.glGetIntegerv.restype = None
                cand.glCheckFramebufferStatus.argtypes = [ctypes.c_uint]
                cand.glCheckFramebufferStatus.restype = ctypes.c_uint
                lib = cand
                break
            except (OSError, AttributeError):
                continue
        _GL_LIB.append(lib)
    return _GL_LIB[0]


def _gl_ints(lib, enum: int, n: int) -> list[int]:
    import ctypes

    buf = (ctypes.c_int * max(n, 4))()
    lib.glGetIntegerv(enum, buf)
    return [int(buf[i]) for i in range(n)]


class _FramebufferProbe:
    """A draw callback that records, inside the GL context, the bound framebuffer's status and
    viewport (and the driver limits) for one display region, then draws as usual."""

    def __init__(self):
        self.seen: dict | None = None

    def __call__(self, cbdata):
        lib = _gl()
        if lib is not None:
            try:
                self.seen = {
                    "status": int(lib.glCheckFramebufferStatus(GL_FRAMEBUFFER)),
                    "viewport": _gl_ints(lib, GL_VIEWPORT, 4),
                    "max_texture": _gl_ints(lib, GL_MAX_TEXTURE_SIZE, 1)[0],
                    "max_renderbuffer": _gl_ints(lib, GL_MAX_RENDERBUFFER_SIZE, 1)[0],
                    "max_viewport": _gl_ints(lib, GL_MAX_VIEWPORT_DIMS, 2),
                }
            except Exception:  # noqa: BLE001 - a missing entry point: fall back to Panda3D's view
                self.seen = None
        cbdata.upcall()


def _render_probed(engine, regions) -> list:
    """Render one frame with a :class:`_FramebufferProbe` on each display region; the callbacks
    are removed again (no Python object stays attached to a display region)."""
    from panda3d.core import PythonCallbackObject

    probes = [_FramebufferProbe() for _ in regions]
    for dr, probe in zip(regions, probes):
        dr.setDrawCallback(PythonCallbackObject(probe))
    try:
        engine.renderFrame()
    finally:
        for dr in regions:
            dr.clearDrawCallback()
    return [p.seen for p in probes]


def gl_limits() -> dict:
    """The shared pipe's OpenGL limits: ``max_texture``, ``max_renderbuffer``, ``max_viewport``
    (w, h), ``max_side`` (the smallest of them: the largest buffer side that can exist), the
    driver ``renderer`` string, and ``source`` (``gl`` when read from the driver, ``panda3d`` when
    only Panda3D's texture limit could be read). Measured once per pipe with a 16x16 buffer."""
    if _LIMITS:
        return dict(_LIMITS)
    from panda3d.core import (Camera, FrameBufferProperties, GraphicsEngine, GraphicsPipe, NodePath,
                              WindowProperties)

    pipe = shared_pipe()
    engine = GraphicsEngine.getGlobalPtr()
    fb = FrameBufferProperties()
    fb.setRgbColor(True)
    fb.setDepthBits(16)
    buf = engine.makeOutput(pipe, "astp-limits", 0, fb, WindowProperties.size(16, 16),
                            GraphicsPipe.BF_refuse_window, None, None)
    if buf is None:
        raise AstpError("the OpenGL driver cannot open even a 16x16 offscreen buffer; 'astp doctor' shows the driver")
    try:
        dr = buf.makeDisplayRegion()
        dr.setCamera(NodePath(Camera("astp-limits-cam")))
        seen = _render_probed(engine, [dr])[0]
        gsg = buf.getGsg()
        tex = int(gsg.getMaxTextureDimension()) if gsg is not None else 0
        renderer_name = gsg.getDriverRenderer() if gsg is not None else ""
        del gsg  # no Python reference may outlive the context
    finally:
        _remove_outputs(engine, [buf])
    if seen and seen["max_texture"] > 0:
        limits = {"max_texture": seen["max_texture"], "max_renderbuffer": seen["max_renderbuffer"],
                  "max_viewport": tuple(seen["max_viewport"]), "source": "gl"}
    else:
        t = tex if tex > 0 else 8192
        limits = {"max_texture": t, "max_renderbuffer": t, "max_viewport": (t, t), "source": "panda3d"}
    limits["max_side"] = int(min(limits["max_texture"], limits["max_renderbuffer"], *limits["max_viewport"]))
    limits["renderer"] = renderer_name
    _LIMITS.update(limits)
    return dict(_LIMITS)


def largest_size() -> int:
    """The largest width or height a picture can have here: the program's cap (config.MAX_SIZE,
    for memory) or the OpenGL driver's limit, whichever is smaller."""
    return int(min(MAX_SIZE, gl_limits()["max_side"]))


def check_render_size(size, supersample: int = 1) -> int:
    """Refuse (AstpError, one line naming the largest size that works here) a picture the OpenGL
    driver cannot hold; return the supersampling that fits (the spacecraft pass is drawn at
    ``supersample`` x the size, reduced as far as 1 where the driver's limits require)."""
    w, h = check_size(size)
    limits = gl_limits()
    top = largest_size()
    if w > top or h > top:
        driver = limits["renderer"] or "this OpenGL driver"
        why = (f"{driver} allows {limits['max_side']} pixels per side" if limits["max_side"] <= MAX_SIZE
               else f"the program's limit, for memory; {driver} would allow {limits['max_side']}")
        raise AstpError(f"--size {w}x{h} is too large to render here: the largest is {top}x{top} ({why}); "
                        f"ask for that or less")
    ss = max(1, int(supersample))
    while ss > 1 and max(w, h) * ss > limits["max_side"]:
        ss -= 1
    return ss


def _largest_working_size(w: int, h: int) -> tuple[int, int] | None:
    """The largest picture of the same shape as w x h whose half-float buffer this driver really
    makes (complete, of the size asked): bisection with throw-away 16-bit float + depth buffers,
    within :func:`largest_size`. None if not even a 16-pixel one works."""
    from panda3d.core import (Camera, FrameBufferProperties, GraphicsEngine, GraphicsPipe, NodePath,
                              WindowProperties)

    engine = GraphicsEngine.getGlobalPtr()
    pipe = shared_pipe()
    top = largest_size()
    scale = min(1.0, top / max(w, h))
    host_fb = FrameBufferProperties()
    host_fb.setRgbColor(True)
    host_fb.setRgbaBits(8, 8, 8, 8)
    with _quiet_checks():
        host = engine.makeOutput(pipe, "astp-size-probe-host", 0, host_fb, WindowProperties.size(16, 16),
                                 GraphicsPipe.BF_refuse_window, None, None)
    if host is None:
        return None

    def works(k: float) -> bool:
        bw, bh = max(16, int(w * k)), max(16, int(h * k))
        fb = FrameBufferProperties()
        fb.setRgbaBits(16, 16, 16, 16)
        fb.setFloatColor(True)
        fb.setDepthBits(24)
        with _quiet_checks():
            buf = engine.makeOutput(pipe, "astp-size-probe", -1, fb, WindowProperties.size(bw, bh),
                                    GraphicsPipe.BF_refuse_window, host.getGsg(), host)
            if buf is None:
                return False
            try:
                dr = buf.makeDisplayRegion()
                dr.setCamera(NodePath(Camera("astp-size-probe-cam")))
                seen = _render_probed(engine, [dr])[0]
                props = buf.getFbProperties()
                ok = (buf.isValid() and (buf.getFbXSize(), buf.getFbYSize()) == (bw, bh) and props.getRedBits() >= 16
                      and (seen is None or seen["status"] == GL_FRAMEBUFFER_COMPLETE))
            finally:
                _remove_outputs(engine, [buf])
        return ok

    try:
        return _bisect_size(works, w, h, scale)
    finally:
        _remove_outputs(engine, [host])


def _bisect_size(works, w: int, h: int, scale: float) -> tuple[int, int] | None:
    if works(scale):
        k = scale
    else:
        lo, hi = 16.0 / max(w, h), scale
        if not works(lo):
            return None
        for _ in range(8):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if works(mid) else (lo, mid)
        k = lo
    return max(16, int(w * k)), max(16, int(h * k))


def probe(snapshot=None, size=(64, 36)) -> dict:
    """What `astp render` will do here, found by doing it: the pipe it selects and why, the
    driver, its limits and the largest picture, and (given a snapshot) one small picture drawn
    through a real :class:`SceneRenderer`. `astp doctor` runs this in a child process."""
    out: dict = {"ok": False}
    try:
        info = pipe_info()
        out.update({"pipe": info["module"], "offscreen": info["offscreen"], "display": info["display"],
                    "reason": info["reason"], "notice": info["notice"]})
        limits = gl_limits()
        out.update({"limits": {k: limits[k] for k in ("max_texture", "max_renderbuffer", "max_viewport", "source")},
                    "largest_size": largest_size()})
        r = SceneRenderer(RenderConfig(size=size))
        gsg = r.ldr.getGsg()
        out.update({"vendor": gsg.getDriverVendor(), "renderer": gsg.getDriverRenderer(),
                    "version": gsg.getDriverVersion(),
                    "glsl": gsg.getDriverShaderVersionMajor() * 100 + gsg.getDriverShaderVersionMinor() * 10})
        if snapshot is None:
            out["ok"] = True
            return out
        img = r.render(snapshot, "exterior")
        lit = float(img.astype(np.float32).mean())
        out["test_picture"] = {"size": list(size), "mean_level": round(lit, 1), "ok": bool(lit > 5.0)}
        out["ok"] = bool(lit > 5.0)
        if not out["ok"]:
            out["why"] = "the test picture came out black"
    except AstpError as exc:
        out["why"] = str(exc)
    return out


def _sky_class():
    """experience.scene.sky.Sky when it exists and imports; None otherwise (skipped gracefully)."""
    try:
        from experience.scene.sky import Sky
    except Exception:
        return None
    return Sky


class SceneRenderer:
    """Reusable renderer for one picture size; ``render(snapshot, view)`` -> (H, W, 3) uint8.

    Its three buffers are checked when it is made (one empty frame: each framebuffer complete and
    of the size asked, :meth:`_verify_outputs`); a size the driver cannot hold is an AstpError
    naming the largest that works here, never a picture with a pass missing."""

    def __init__(self, config: RenderConfig | None = None, *, window=None, stereo: bool = False, **changes):
        """``window``: a Panda3D window (``GraphicsWindow``, e.g. ShowBase's ``base.win``) to draw
        into instead of the 8-bit offscreen buffer that :meth:`read` reads back: the interactive
        front ends' form. The tone-map pass then draws into a display region of that window
        (sort :data:`WINDOW_SORT`, below a 2D overlay at ShowBase's usual sort 10) and the HDR
        buffers follow its size (:meth:`resize`).

        ``stereo``: two eyes side by side in one picture (each ``config.size``; the buffers are
        twice as wide), drawn in ONE ``renderFrame`` with one cull per pass: each pass's camera has
        a ``MatrixLens`` whose centre matrix (a frustum enclosing both eyes, its apex moved back
        behind them) culls and whose left and right eye matrices (each eye's offset from the
        camera, then the projection) draw two display regions on the stereo channels; Panda3D
        culls a camera once per frame and gives the second region the first one's cull result.
        :meth:`prepare` then takes ``eyes`` (the two eyes' offsets from the placement's camera)."""
        cfg = config or RenderConfig()
        if changes:
            cfg = cfg.replace(**changes)
        if stereo and window is not None:
            raise ValueError("a stereo renderer draws offscreen (no window)")
        self.stereo = bool(stereo)
        self.eyes_m = None
        self.ldr = self.far_buf = self.near_buf = None
        self.sky = None
        self.window = window
        self.pipe = window.getPipe() if window is not None else shared_pipe()
        from panda3d.core import (Camera, CardMaker, FrameBufferProperties, GraphicsEngine, GraphicsOutput,
                                  GraphicsPipe, MatrixLens, NodePath, OmniBoundingVolume, OrthographicLens,
                                  PerspectiveLens, Shader, Texture, WindowProperties)

        self.engine = GraphicsEngine.getGlobalPtr()
        ss = check_render_size(cfg.size, cfg.supersample)
        if ss != cfg.supersample:
            cfg = cfg.replace(supersample=ss)
        self.config = cfg
        _LIVE.add(self)
        w, h = cfg.size
        k = 2 if self.stereo else 1   # stereo: the two eyes side by side
        self.far_root = NodePath("far")
        self.near_root = NodePath("near")
        self.post_root = NodePath("post")
        # final 8-bit buffer (read back)
        fb = FrameBufferProperties()
        fb.setRgbColor(True)
        fb.setRgbaBits(8, 8, 8, 8)
        fb.setDepthBits(0)
        wp = WindowProperties.size(w * k, h)
        flags = GraphicsPipe.BF_refuse_window
        if window is not None:
            self.ldr, self.ldr_tex = window, None
        else:
            with _quiet_checks():  # a refusal is reported below, in one line
                self.ldr = self.engine.makeOutput(self.pipe, f"astp-ldr-{id(self)}", 0, fb, wp, flags, None, None)
            if self.ldr is None:
                self._fail(f"the OpenGL driver refused a {w * k}x{h} picture buffer")
            self.ldr_tex = Texture("ldr")
            self.ldr.addRenderTexture(self.ldr_tex, GraphicsOutput.RTM_copy_ram, GraphicsOutput.RTP_color)
        # linear HDR buffers: FAR at the picture size, NEAR supersampled (spacecraft edges)
        self.far_buf, self.far_tex = self._hdr_buffer("far", w * k, h, -10)
        self.near_buf, self.near_tex = self._hdr_buffer("near", w * k * ss, h * ss, -9)

        # FAR pass
        self.far_lens = MatrixLens() if self.stereo else PerspectiveLens()
        self.far_lens.setNearFar(1000.0, 1.0e9)
        self.far_cam = self.far_root.attachNewNode(Camera("far_cam", self.far_lens))
        self.far_dr, self.far_dr_right = self._pass_regions(self.far_buf, self.far_cam)
        # NEAR pass (cleared to transparent: alpha is the spacecraft's coverage)
        self.near_lens = MatrixLens() if self.stereo else PerspectiveLens()
        self.near_lens.setNearFar(0.5, 5000.0)
        self.near_cam = self.near_root.attachNewNode(Camera("near_cam", self.near_lens))
        self.near_dr, self.near_dr_right = self._pass_regions(self.near_buf, self.near_cam)
        self._proj_lens = PerspectiveLens()   # stereo: builds the projection the eye matrices share
        # tone map
        cm = CardMaker("tonemap")
        cm.setFrame(-1, 1, -1, 1)
        card = self.post_root.attachNewNode(cm.generate())
        card.node().setBounds(OmniBoundingVolume())
        card.node().setFinal(True)
        card.setShader(Shader.load(Shader.SL_GLSL, vertex=str(shader_path("tonemap.vert")),
                                   fragment=str(shader_path("tonemap.frag"))))
        card.setShaderInput("u_far", self.far_tex)
        card.setShaderInput("u_near", self.near_tex)
        self.tonemap_inputs = boundary.Uniforms(card)
        self.tonemap_inputs.set("u_exposure", float(cfg.exposure))
        card.setShaderInput("u_ss", int(ss))
        from experience.scene.atmosphere import white_balance
        from experience.scene.boundary import vec3f

        card.setShaderInput("u_white_balance", vec3f(white_balance()))
        self.tonemap_inputs.set("u_frame", (0.0, w / h, 0.06, 0.004))
        card.setDepthTest(False)
        card.setDepthWrite(False)
        card.setTwoSided(True)
        self.tonemap_card = card
        post_cam = self.post_root.attachNewNode(Camera("post_cam", OrthographicLens()))
        dr = self.ldr.makeDisplayRegion()
        if window is not None:
            dr.setSort(WINDOW_SORT)
        dr.setCamera(post_cam)
        dr.setClearColorActive(True)
        dr.setClearColor((0, 0, 0, 1))
        self.post_dr = dr
        self._verify_outputs()
        if window is not None:  # a window's passes draw every frame ShowBase renders
            for out in (self.ldr, self.far_buf, self.near_buf):
                out.setActive(True)
        cfg = self.config  # the supersampling may have changed

        # scene content
        self.gl_renderer = self.ldr.getGsg().getDriverRenderer() if self.ldr.getGsg() else ""
        self.software_gl = any(k in self.gl_renderer.lower() for k in ("llvmpipe", "softpipe", "swrast"))
        if cfg.anisotropy == 0:
            cfg = cfg.replace(anisotropy=1 if self.software_gl else 8)
            self.config = cfg
        from experience.scene.atmosphere import Atmosphere
        from experience.scene.earth import Earth
        from experience.scene.vehicles import Vehicles

        sky_cls = _sky_class()
        if sky_cls is not None:
            try:
                self.sky = sky_cls(self.far_root, star_limit_mag=cfg.star_limit_mag, exposure=1.0)
                if hasattr(self.sky, "set_output"):
                    self.sky.set_output(display_gamma=0.0, radiance_scale=1.0)  # linear HDR, same units
            except Exception as exc:  # the sky is optional: never lose the picture over it
                print(f"astp: note: sky not drawn ({type(exc).__name__}: {exc})", file=sys.stderr)
                self.sky = None
        self.atmosphere = Atmosphere(self.far_root, cfg)
        self.earth = Earth(self.far_root, cfg, self.atmosphere)
        self.vehicles = Vehicles(self.near_root, cfg)
        self._set_active(False)
        self.frames = 0

    def _pass_regions(self, buf, cam):
        """A pass's display region(s) on ``cam``: one over the buffer, or (stereo) the left and
        right halves on the lens's left and right channels (one cull for both)."""
        from panda3d.core import Lens

        if not self.stereo:
            dr = buf.makeDisplayRegion()
            dr.setCamera(cam)
            return dr, None
        out = []
        for (l, r), channel in (((0.0, 0.5), Lens.SC_left), ((0.5, 1.0), Lens.SC_right)):
            dr = buf.makeDisplayRegion(l, r, 0.0, 1.0)
            dr.setCamera(cam)
            dr.setStereoChannel(channel)
            out.append(dr)
        return out[0], out[1]

    def _stereo_lens(self, lens, fov_x: float, fov_y: float, near: float, far: float, eyes_m) -> None:
        """A stereo pass's MatrixLens: both eyes' projection (the symmetric ``fov``), each eye
        matrix first moving the scene by that eye's offset from the camera (``eyes_m``: two
        (x right, y forward, z up) offsets in metres), and the centre matrix that culls: the same
        frustum with its apex moved back until it encloses both eyes' frusta."""
        from panda3d.core import Mat4

        pl = self._proj_lens
        pl.setFov(fov_x, fov_y)
        pl.setNearFar(near, far)
        proj = Mat4(pl.getProjectionMat())
        tan_x = math.tan(math.radians(fov_x) / 2.0)
        tan_y = math.tan(math.radians(fov_y) / 2.0)
        e = np.abs(np.asarray(eyes_m, dtype=np.float64))
        back = float(max(e[:, 0].max() / tan_x, e[:, 2].max() / tan_y) + e[:, 1].max())
        (lx, ly, lz), (rx, ry, rz) = (tuple(float(v) for v in eye) for eye in eyes_m)
        lens.setLeftEyeMat(Mat4.translateMat(-lx, -ly, -lz) * proj)
        lens.setRightEyeMat(Mat4.translateMat(-rx, -ry, -rz) * proj)
        # the centre matrix last: MatrixLens's eye-matrix setters do not mark the lens changed, so a
        # drawn frame would keep the eyes of the last change (Panda3D 1.10); setUserMat does
        lens.setUserMat(Mat4.translateMat(0.0, back, 0.0) * proj)

    def _hdr_buffer(self, name: str, w: int, h: int, sort: int):
        from panda3d.core import (FrameBufferProperties, GraphicsOutput, GraphicsPipe, SamplerState, Texture,
                                  WindowProperties)

        fb = FrameBufferProperties()
        fb.setRgbaBits(16, 16, 16, 16)
        fb.setFloatColor(True)
        fb.setDepthBits(24)
        with _quiet_checks():  # a refusal is reported below, in one line
            buf = self.engine.makeOutput(self.pipe, f"astp-{name}-{id(self)}", sort, fb, WindowProperties.size(w, h),
                                         GraphicsPipe.BF_refuse_window, self.ldr.getGsg(), self.ldr)
        if buf is None:
            self._fail(f"the OpenGL driver refused the {w}x{h} half-float buffer of the {name} pass")
        tex = Texture(name)
        buf.addRenderTexture(tex, GraphicsOutput.RTM_bind_or_copy, GraphicsOutput.RTP_color)
        tex.setMinfilter(SamplerState.FT_nearest)
        tex.setMagfilter(SamplerState.FT_nearest)
        buf.setClearColorActive(True)
        buf.setClearColor((0, 0, 0, 0))
        buf.setClearDepthActive(True)
        return buf, tex

    def _outputs(self):
        """(pass name, buffer, display region, width, height, half-float) of the three buffers
        (stereo: the buffers twice as wide, each pass's probed region the left eye's half)."""
        w, h = self.config.size
        ss = self.config.supersample
        k = 2 if getattr(self, "stereo", False) else 1
        return (("picture", self.ldr, self.post_dr, w * k, h, False), ("far", self.far_buf, self.far_dr, w * k, h, True),
                ("near", self.near_buf, self.near_dr, w * k * ss, h * ss, True))

    def _output_problem(self, buf, seen, w: int, h: int, hdr: bool) -> str | None:
        """Why a buffer is not what was asked, or None: valid, complete, of the size asked, with the
        colour and depth bits asked (Panda3D's view, and the driver's own where ctypes reaches it)."""
        if not buf.isValid():
            return "it could not be opened"
        if (buf.getFbXSize(), buf.getFbYSize()) != (w, h):
            return f"it came out {buf.getFbXSize()}x{buf.getFbYSize()}"
        props = buf.getFbProperties()
        if props.getRedBits() < (16 if hdr else 8) or (hdr and (not props.getFloatColor() or props.getDepthBits() < 24)):
            return "it has no colour or depth storage (out of memory?)"
        if seen is not None:
            if seen["status"] != GL_FRAMEBUFFER_COMPLETE:
                return FB_STATUS_NAMES.get(seen["status"], f"the framebuffer is incomplete (0x{seen['status']:04x})")
            k = 2 if getattr(self, "stereo", False) and seen.get("half") else 1
            if tuple(seen["viewport"][2:]) != (w // k, h):
                return f"it draws {seen['viewport'][2]}x{seen['viewport'][3]}"
        return None

    def _verify_outputs(self) -> None:
        """One empty frame with every buffer active, each checked (:meth:`_output_problem`). A
        supersampled spacecraft pass that does not fit is retried with fewer samples (one note);
        any other failure is an AstpError naming the largest size that works here."""
        while True:
            outs = self._outputs()
            for _name, buf, *_ in outs:
                buf.setActive(True)
            try:
                with _quiet_checks():  # Panda3D's reports of an incomplete buffer: ours follows, in one line
                    seen = _render_probed(self.engine, [o[2] for o in outs])
            finally:
                for _name, buf, *_ in outs:
                    buf.setActive(False)
            for (name, *_r), s in zip(outs, seen):
                if s is not None and self.stereo and name != "picture":
                    s["half"] = True   # a stereo pass's probed region is one eye: half the buffer
            problems = {name: self._output_problem(buf, s, w, h, hdr)
                        for (name, buf, _dr, w, h, hdr), s in zip(outs, seen)}
            bad = {k: v for k, v in problems.items() if v}
            if not bad:
                return
            ss = self.config.supersample
            if set(bad) == {"near"} and ss > 1:
                self._resupersample(ss - 1, bad["near"])
                continue
            name, why = next(iter(bad.items()))
            w, h = next((o[3], o[4]) for o in outs if o[0] == name)
            self._fail(f"the OpenGL driver could not make the {w}x{h} buffer of the {name} pass ({why})")

    def _resupersample(self, ss: int, why: str) -> None:
        w, h = self.config.size
        print(f"astp: note: the spacecraft are drawn with {ss}x{ss} samples per pixel at {w}x{h} "
              f"(the driver could not hold {self.config.supersample}x{self.config.supersample}: {why})", file=sys.stderr)
        _remove_outputs(self.engine, [self.near_buf])
        self.config = self.config.replace(supersample=ss)
        k = 2 if self.stereo else 1
        self.near_buf, self.near_tex = self._hdr_buffer("near", w * k * ss, h * ss, -9)
        self.near_dr, self.near_dr_right = self._pass_regions(self.near_buf, self.near_cam)
        self.tonemap_card.setShaderInput("u_near", self.near_tex)
        self.tonemap_card.setShaderInput("u_ss", int(ss))

    def _fail(self, what: str) -> None:
        """Release everything made so far and raise the one-line error with the largest size that
        works here (measured with throw-away buffers of the same kind)."""
        w, h = self.config.size
        self.close()
        best = _largest_working_size(w, h)
        hint = (f"the largest that works here is {best[0]}x{best[1]}; ask for that or less"
                if best else "this driver cannot render pictures at all; 'astp doctor' shows it")
        raise AstpError(f"cannot render at {w}x{h}: {what}; {hint}")

    # -------------------------------------------------------------------------------------
    def _set_active(self, on: bool) -> None:
        if self.window is not None:
            return  # a window's buffers render every frame the engine renders
        for out in (self.ldr, self.far_buf, self.near_buf):
            out.setActive(on)

    def resize(self, size) -> None:
        """Follow a window's new size (pixels): the HDR buffers and the lenses' aspect."""
        w, h = check_size(size)
        if (w, h) == tuple(self.config.size):
            return
        ss = self.config.supersample
        self.far_buf.setSize(w, h)
        self.near_buf.setSize(w * ss, h * ss)
        self.config = self.config.replace(size=(w, h))
        self.tonemap_inputs.set("u_frame", (0.0, w / h, 0.06, 0.004))

    def prepare(self, snapshot, view: str | None = None, placement=None, eyes=None):
        """Set every node, lens and uniform for one snapshot and view (or an explicit
        :class:`~experience.scene.views.Placement` from an interactive camera); returns the
        Placement. A stereo renderer takes ``eyes``: the two eyes' offsets from the placement's
        camera in its own axes ((x right, y forward, z up) m, left then right; the eyes look the
        way the camera does)."""
        from experience.scene import boundary, views

        if placement is None:
            view = check_view(view or self.config.view)
            placement = views.place(view, snapshot, self.config.fov_deg)
        w, h = self.config.size
        fov_x = float(placement.fov_deg)
        tan_x = math.tan(math.radians(fov_x) / 2.0)
        tan_y = tan_x * h / w
        fov_y = math.degrees(2.0 * math.atan(tan_y))
        if self.stereo:
            if eyes is None:
                raise ValueError("a stereo renderer's prepare() needs the two eyes' offsets (eyes=)")
            self.eyes_m = np.asarray(eyes, dtype=np.float64).reshape(2, 3)
            self._stereo_lens(self.far_lens, fov_x, fov_y, 1000.0, 1.0e9, self.eyes_m)
            self._stereo_lens(self.near_lens, fov_x, fov_y, float(placement.near_m), 5000.0, self.eyes_m)
        else:
            for lens in (self.far_lens, self.near_lens):
                lens.setFov(fov_x, fov_y)
            self.near_lens.setNearFar(float(placement.near_m), 5000.0)
        cam_mat = boundary.camera_matrix(placement.basis)
        self.far_cam.setMat(cam_mat)
        self.near_cam.setMat(cam_mat)
        frame = boundary.RenderFrame(placement.camera_km)
        self.atmosphere.update(snapshot, frame, placement.basis, (tan_x, tan_y))
        self.earth.update(snapshot, frame)
        if self.sky is not None:
            self.sky.update(snapshot, placement.camera_km)
        self.vehicles.update(snapshot, frame, placement)
        if self.stereo:   # the view-dependent shading from each eye (shaders/vehicle.frag)
            vi = self.vehicles.inputs
            vi.set("u_eye_split", float(w * self.config.supersample))
            vi.set("u_eye_left", placement.basis @ self.eyes_m[0])
            vi.set("u_eye_right", placement.basis @ self.eyes_m[1])
        self.tonemap_inputs.set("u_exposure", float(self.config.exposure * placement.exposure))
        self.tonemap_inputs.set("u_frame", (1.0 if placement.window_frame else 0.0, w / h, 0.07, 0.004))
        self.placement = placement
        self.frame = frame
        return placement

    def render_frame(self) -> None:
        """Draw what :meth:`prepare` set up (no read-back). In a window the front end's own
        frame loop renders instead (ShowBase's ``igLoop``), and this is not called."""
        if self.ldr is None:
            raise AstpError("this renderer was closed (after shutdown); make a new one")
        self._set_active(True)
        try:
            self.engine.renderFrame()
        finally:
            self._set_active(False)
        self.frames += 1
        collect_states()

    def read_rows(self) -> np.ndarray:
        """The picture as drawn, (H, W, 3) uint8 RGB in GL's bottom-up row order (a new array).
        Panda3D keeps the read-back as BGRA bytes; the three channels are copied out here with
        NumPy (about 0.13 ms at 644x240 against 0.32 ms for ``getRamImageAs("RGB")``'s own
        per-pixel loop; the same bytes)."""
        from panda3d.core import Texture

        tex = self.ldr_tex
        w, h = tex.getXSize(), tex.getYSize()
        if (tex.getNumComponents() == 4 and tex.getComponentWidth() == 1
                and tex.getRamImageCompression() == Texture.CM_off):
            data = tex.getRamImage()
            if data and len(data) == w * h * 4:
                bgra = np.frombuffer(memoryview(data), dtype=np.uint8).reshape(h, w, 4)
                out = np.empty((h, w, 3), dtype=np.uint8)
                out[..., 0] = bgra[..., 2]
                out[..., 1] = bgra[..., 1]
                out[..., 2] = bgra[..., 0]
                return out
        data = tex.getRamImageAs("RGB")
        if not data:
            raise AstpError("the renderer produced no image (the OpenGL driver failed); 'astp doctor' shows the driver")
        return np.frombuffer(bytes(data), dtype=np.uint8).reshape(h, w, 3).copy()

    def read(self) -> np.ndarray:
        return np.ascontiguousarray(self.read_rows()[::-1])

    def render(self, snapshot, view: str | None = None) -> np.ndarray:
        self.prepare(snapshot, view)
        self.render_frame()
        return self.read()

    def scene_counts(self) -> dict:
        """Geoms (= draw calls, an upper bound: frustum culling only removes some) and triangles of
        what the current view draws, per pass, from the scene graph (SceneGraphAnalyzer over the
        GeomNodes that are not hidden)."""
        from panda3d.core import SceneGraphAnalyzer

        out = {}
        for name, root in (("far", self.far_root), ("near", self.near_root), ("post", self.post_root)):
            sga = SceneGraphAnalyzer()
            for np_ in root.findAllMatches("**/+GeomNode"):
                if not np_.isHidden():
                    sga.addNode(np_.node())
            out[name] = {"draw_calls": int(sga.getNumGeoms()), "triangles": int(sga.getNumTris()),
                         "geom_nodes": int(sga.getNumGeomNodes())}
        out["total"] = {k: sum(v[k] for v in out.values()) for k in ("draw_calls", "triangles", "geom_nodes")}
        return out

    def display_regions(self) -> dict:
        """The display regions of the three passes (for timing callbacks)."""
        return {"far": self.far_dr, "near": self.near_dr, "post": self.post_dr}

    def close(self) -> None:
        """Release the buffers (safe to call more than once, and after :func:`shutdown`); a
        window given to the constructor only loses the tone map's display region (its owner
        closes it)."""
        window = getattr(self, "window", None)
        if window is not None and getattr(self, "post_dr", None) is not None:
            window.removeDisplayRegion(self.post_dr)
            self.post_dr = None
        outs = [getattr(self, name, None) for name in ("near_buf", "far_buf", "ldr")]
        outs = [o for o in outs if o is not window]
        for name in ("near_buf", "far_buf", "ldr"):
            setattr(self, name, None)
        if any(o is not None for o in outs):
            _remove_outputs(self.engine, outs)
        if getattr(self, "sky", None) is not None and hasattr(self.sky, "remove"):
            with contextlib.suppress(Exception):
                self.sky.remove()
            self.sky = None
        for name in ("far_root", "near_root", "post_root"):
            root = getattr(self, name, None)
            if root is not None and not root.isEmpty():
                root.removeNode()
        _LIVE.discard(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ----------------------------------------------------------------------------------------------
_RENDERERS: dict[tuple, SceneRenderer] = {}


def renderer_for(config: RenderConfig) -> SceneRenderer:
    """A cached renderer for this configuration (one per size/settings in a process)."""
    key = dataclasses_key(config)
    r = _RENDERERS.get(key)
    if r is None:
        r = SceneRenderer(config)
        _RENDERERS[key] = r
    return r


def dataclasses_key(config: RenderConfig) -> tuple:
    import dataclasses

    d = dataclasses.asdict(config)
    d.pop("view", None)
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in d.items()))


PNG = dict(suffixes=(".png",), what="picture", example="handshake.png")


def write_png(image: np.ndarray, path, metadata: dict | None = None, *, make_folders: bool = False) -> Path:
    """Write an (H, W, 3) uint8 image as PNG through experience.outputs (atomic, never destroys
    what is at the target; inside an outputs.batch() it is committed with the batch)."""
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    from experience import outputs

    info = PngInfo()
    for k, v in (metadata or {}).items():
        info.add_text(str(k), str(v))
    with outputs.open_output(path, "wb", make_folders=make_folders, **PNG) as fh:
        Image.fromarray(image).save(fh, format="PNG", pnginfo=info)
    return Path(path)


def check_writable(path, *, make_folders: bool = False) -> Path:
    """Fail early (before minutes of rendering) if ``path`` cannot be written as a PNG
    (``make_folders``: a missing folder that can be created is fine)."""
    from experience import outputs

    return outputs.check_output(path, make_folders=make_folders, **PNG)


def render_still(snapshot, view: str, size=(1280, 720), path=None, *, config: RenderConfig | None = None,
                 make_folders: bool = False) -> np.ndarray:
    """Render one picture: (H, W, 3) uint8, also written to ``path`` (PNG, through
    experience.outputs; ``make_folders`` creates a missing folder) when given."""
    check_view(view)
    size = check_size(size)
    if path is not None:
        check_writable(path, make_folders=make_folders)
    cfg = (config or RenderConfig()).replace(size=size, view=view)
    check_render_size(size, cfg.supersample)  # before anything is drawn: one line naming what works here
    r = renderer_for(cfg)
    img = r.render(snapshot, view)
    if path is not None:
        meta = {"Software": "Handshake in Orbit (astp render)", "Title": f"{view} view",
                "Creation Time": f"{snapshot.utc:%Y-%m-%dT%H:%M:%SZ} (scene time, UTC)"}
        if r.vehicles.placeholder_used:
            meta["Comment"] = "PLACEHOLDER spacecraft models (models/*.gltf were missing)"
        write_png(img, path, meta, make_folders=make_folders)
    return img
