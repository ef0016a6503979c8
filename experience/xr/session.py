"""An OpenXR session on OpenGL (GLX through a hidden GLFW window), its lifecycle and frames.

Lifecycle (``XrSessionState``, every state handled in :meth:`VrSession._on_state`):

    IDLE          wait (poll events, no frames)
    READY         xrBeginSession (PRIMARY_STEREO); frames start
    SYNCHRONIZED  frames paced by xrWaitFrame, nothing drawn (should_render is false)
    VISIBLE       frames drawn; input is not ours (actions inactive)
    FOCUSED       frames drawn, actions read
    STOPPING      xrEndSession; frames stop
    LOSS_PENDING  the runtime is going away: end, report, leave the loop (``lost``)
    EXITING       leave the loop (the visitor or the runtime asked to quit)

plus ``XrEventDataInstanceLossPending`` and any ``XR_ERROR_INSTANCE_LOST`` / ``SESSION_LOST`` /
``RUNTIME_FAILURE`` from a call (a runtime that died): the same as LOSS_PENDING.

User presence (``VrSession(user_presence=True)``, the kiosk's VR station): ``XR_EXT_user_presence``
is enabled where the runtime lists it and the system says it senses presence
(``XrSystemUserPresencePropertiesEXT.supportsUserPresence``); its
``XrEventDataUserPresenceChangedEXT`` (queued when the session starts running and whenever the
headset's proximity sensor changes) sets :attr:`VrSession.user_present`. Where it is absent,
``report["user_presence"]`` says why and :attr:`VrSession.presence_supported` is False: the
caller judges "headset on" from the session states instead.

Frames: ``xrWaitFrame`` (the pacing; its blocking time is reported as the GPU/compositor wait),
``xrBeginFrame``, ``xrLocateViews`` at the predicted display time in the reference space (STAGE
where the runtime offers it, else LOCAL), the head from the VIEW space, the actions and (where the
runtime tracks hands, XR_EXT_hand_tracking: experience/xr/handtracking.py) each hand's joints at
the same time in the same space (``hand_joints``), then per eye: acquire the
swapchain image, the front end draws (a callback returning the eye's picture), upload, release;
``xrEndFrame`` with one projection layer of both views. The pictures come from Panda3D's offscreen
renderer (its own GL context) as bytes; they are copied into the runtime's images in this
session's context with ``glTexSubImage2D`` (a CPU copy: simple and independent of Panda3D's
context, measured by the benchmark).
"""

from __future__ import annotations

import ctypes
import dataclasses
import math
import time

import numpy as np

from experience.errors import AstpError
from experience.xr import handtracking, xrmath
from experience.xr.runtime import _s, create_instance, format_name, quiet_stderr, system_id

GL_EXTENSION = "XR_KHR_opengl_enable"
USER_PRESENCE_EXTENSION = "XR_EXT_user_presence"
PREFERRED_FORMATS = (0x8C43, 0x8058)  # SRGB8_ALPHA8 (our pictures are sRGB-encoded), RGBA8
STATES = ("IDLE", "READY", "SYNCHRONIZED", "VISIBLE", "FOCUSED", "STOPPING", "LOSS_PENDING", "EXITING")


class SessionLost(AstpError):
    """The runtime went away (loss pending, instance or session lost)."""


class GLContext:
    """A hidden GLFW window's OpenGL context on the X display (GLX): the session's graphics binding."""

    def __init__(self):
        import os

        if not os.environ.get("DISPLAY"):
            raise AstpError("VR rendering needs an X display for its OpenGL context (GLX); run it on the desktop "
                            "(or under Xvfb: xvfb-run astp vr), or 'astp vr --fallback desktop'")
        try:
            import glfw
        except ImportError as exc:
            raise AstpError(f"glfw is not installed ({exc}); pip install 'handshake-in-orbit[vr]'") from None
        self.glfw = glfw
        noise: list[str] = []
        with quiet_stderr(noise):
            ok = glfw.init()
        if not ok:
            raise AstpError(f"cannot open an OpenGL context on DISPLAY={os.environ['DISPLAY']} "
                            f"({(noise or ['GLFW failed'])[-1]}); check the display, or 'astp vr --fallback desktop'")
        glfw.window_hint(glfw.VISIBLE, glfw.FALSE)
        glfw.window_hint(glfw.DOUBLEBUFFER, glfw.FALSE)
        glfw.window_hint(glfw.CONTEXT_CREATION_API, glfw.NATIVE_CONTEXT_API)
        self.window = glfw.create_window(16, 16, "Handshake in Orbit (OpenXR)", None, None)
        if not self.window:
            glfw.terminate()
            raise AstpError("cannot create an OpenGL context for OpenXR (GLX); 'astp doctor' shows the driver")
        glfw.make_context_current(self.window)
        glfw.swap_interval(0)

    def make_current(self) -> None:
        self.glfw.make_context_current(self.window)

    def binding(self, xr):
        from OpenGL import GLX

        self.make_current()
        self._binding = xr.GraphicsBindingOpenGLXlibKHR(
            x_display=GLX.glXGetCurrentDisplay(), glx_drawable=GLX.glXGetCurrentDrawable(),
            glx_context=GLX.glXGetCurrentContext())
        return ctypes.cast(ctypes.pointer(self._binding), ctypes.c_void_p)

    def renderer(self) -> str:
        from OpenGL import GL

        self.make_current()
        v = GL.glGetString(GL.GL_RENDERER)
        return v.decode() if isinstance(v, bytes) else str(v)

    def close(self) -> None:
        if self.window:
            self.glfw.destroy_window(self.window)
            self.window = None
            self.glfw.terminate()


def _gl_requirements(xr, inst, sid) -> str:
    fn = ctypes.cast(xr.get_instance_proc_addr(inst, "xrGetOpenGLGraphicsRequirementsKHR"),
                     xr.PFN_xrGetOpenGLGraphicsRequirementsKHR)
    req = xr.GraphicsRequirementsOpenGLKHR()
    res = xr.check_result(xr.Result(fn(inst, sid, ctypes.byref(req))))
    if res.is_exception():
        raise res
    return f"{xr.Version(req.min_api_version_supported)}..{xr.Version(req.max_api_version_supported)}"


def probe_session(xr, inst, sid, enabled) -> dict:
    """Swapchain formats and reference spaces, from a session created and destroyed again without
    xrBeginSession (``astp vr --check``)."""
    if GL_EXTENSION not in enabled:
        return {"formats": [], "why": f"the runtime offers no {GL_EXTENSION}"}
    try:
        ctx = GLContext()
    except AstpError as exc:
        return {"formats": [], "why": str(exc).split(";")[0]}
    try:
        gl_range = _gl_requirements(xr, inst, sid)
        sess = xr.create_session(inst, xr.SessionCreateInfo(0, sid, next=ctx.binding(xr)))
        try:
            fmts = [format_name(f) for f in xr.enumerate_swapchain_formats(sess)]
            spaces = [xr.ReferenceSpaceType(s).name for s in xr.enumerate_reference_spaces(sess)]
        finally:
            xr.destroy_session(sess)
        return {"formats": fmts, "reference_spaces": spaces, "graphics": gl_range, "gl_renderer": ctx.renderer()}
    except xr.exception.XrException as exc:
        return {"formats": [], "why": f"a session could not be created ({type(exc).__name__})"}
    finally:
        ctx.close()


@dataclasses.dataclass
class EyeView:
    """One eye of one frame: pose in the reference space, field of view, swapchain size."""

    index: int
    pose: xrmath.Pose
    frustum: xrmath.EyeFrustum
    size: tuple[int, int]


@dataclasses.dataclass
class FrameInfo:
    index: int
    predicted_display_time: int
    should_render: bool
    head: xrmath.Pose | None
    eyes: list[EyeView]
    state: str


@dataclasses.dataclass
class FrameStats:
    submitted: int = 0          # frames ended with a projection layer
    empty: int = 0              # frames ended without layers (should_render false, or not visible)
    missed: int = 0             # predicted display periods skipped between consecutive frames
    cpu_ms: list = dataclasses.field(default_factory=list)    # per submitted frame: begin .. end (no wait)
    wait_ms: list = dataclasses.field(default_factory=list)   # in xrWaitFrame
    eye_ms: list = dataclasses.field(default_factory=list)    # the front end's draw per eye (shared cull: the left holds both)
    upload_ms: list = dataclasses.field(default_factory=list)  # copy into the runtime's image per eye
    setup_ms: list = dataclasses.field(default_factory=list)   # frames that built the renderer (not in cpu_ms)
    exclude_current: bool = False     # set by the front end while a frame does one-time set-up

    def summary(self) -> dict:
        def pct(xs, q):
            return round(float(np.percentile(xs, q)), 3) if xs else None

        return {"submitted": self.submitted, "empty": self.empty, "missed": self.missed,
                "cpu_ms": {"p50": pct(self.cpu_ms, 50), "p95": pct(self.cpu_ms, 95), "p99": pct(self.cpu_ms, 99)},
                "wait_ms": {"p50": pct(self.wait_ms, 50), "p95": pct(self.wait_ms, 95)},
                "gpu_wait_ms": {"p50": pct(self.wait_ms, 50), "p95": pct(self.wait_ms, 95),
                                "what": "blocked in xrWaitFrame (the runtime's pacing and GPU/compositor wait)"},
                "setup_ms": [round(x, 1) for x in self.setup_ms],
                "eye_ms": {"p50": pct(self.eye_ms, 50), "p95": pct(self.eye_ms, 95)},
                "upload_ms": {"p50": pct(self.upload_ms, 50)}}


class VrSession:
    """Instance, system, session, spaces, swapchains; :meth:`run_frame` per frame."""

    def __init__(self, *, actions=None, prefer_stage: bool = True, user_presence: bool = False):
        self.want_presence = user_presence
        self.presence_supported = False   # XR_EXT_user_presence enabled and the system senses presence
        self.user_present: bool | None = None   # the runtime's last word (None: none yet, or not supported)
        self.presence_changes: list[tuple[int, bool]] = []   # (frame index, present), the last 20
        self.xr = None
        self.inst = self.session = None
        self.ctx = None
        self.state = "IDLE"
        self.states_seen: list[str] = []
        self.running = False
        self.exit_requested = False
        self.done = False
        self.lost: str | None = None
        self.swapchains: list = []
        self.images: list = []
        self.sizes: list[tuple[int, int]] = []
        self.last_k: dict[int, int] = {}      # eye -> the swapchain image it was last given
        self.stats = FrameStats()
        self.frame_index = 0
        self.actions = actions
        self.prefer_stage = prefer_stage
        self.space_type = None
        self._last_display_time = None
        self._period = None
        self.report: dict = {}
        self.hands = handtracking.HandTrackers()   # XR_EXT_hand_tracking, where offered
        self.hand_joints: dict = {"left": None, "right": None}   # this frame's (handtracking.HandJoints | None)

    # -- opening --------------------------------------------------------------------------------
    def open(self) -> "VrSession":
        optional = (handtracking.EXTENSION,) + ((USER_PRESENCE_EXTENSION,) if self.want_presence else ())
        xr, inst, enabled, offered = create_instance((GL_EXTENSION,), optional=optional)
        self.xr, self.inst = xr, inst
        try:
            self.sid = system_id(xr, inst)
            if self.want_presence:
                self._probe_presence(enabled)
            props = xr.get_instance_properties(inst)
            sp = xr.get_system_properties(inst, self.sid)
            self.report.update({"runtime": _s(props.runtime_name), "runtime_version": str(xr.Version(props.runtime_version)),
                                "system": _s(sp.system_name)})
            vct = xr.ViewConfigurationType.PRIMARY_STEREO
            if vct.value not in [int(v) for v in xr.enumerate_view_configurations(inst, self.sid)]:
                raise AstpError("the headset offers no stereo view configuration; 'astp vr --fallback desktop'")
            self.view_configs = xr.enumerate_view_configuration_views(inst, self.sid, vct)
            self.report["gl_requirements"] = _gl_requirements(xr, inst, self.sid)
            self.ctx = GLContext()
            self.session = xr.create_session(inst, xr.SessionCreateInfo(0, self.sid, next=self.ctx.binding(xr)))
            spaces = [int(s) for s in xr.enumerate_reference_spaces(self.session)]
            stage = xr.ReferenceSpaceType.STAGE
            self.space_type = stage if (self.prefer_stage and stage.value in spaces) else xr.ReferenceSpaceType.LOCAL
            ident = xr.Posef()
            self.space = xr.create_reference_space(self.session, xr.ReferenceSpaceCreateInfo(self.space_type, ident))
            self.view_space = xr.create_reference_space(
                self.session, xr.ReferenceSpaceCreateInfo(xr.ReferenceSpaceType.VIEW, ident))
            self.report["reference_space"] = self.space_type.name
            self._make_swapchains()
            self.hands.open(xr, inst, self.sid, self.session, offered, enabled)
            self.report["hand_tracking"] = self.hands.report
            if self.actions is not None:
                self.actions.attach(self)
        except BaseException:
            self.close()
            raise
        return self

    def _probe_presence(self, enabled) -> None:
        """Whether this system reports user presence (XR_EXT_user_presence); the verdict and why
        in ``report["user_presence"]``."""
        xr = self.xr
        if USER_PRESENCE_EXTENSION not in enabled:
            self.report["user_presence"] = {"source": "session states",
                                            "why": f"the runtime does not offer {USER_PRESENCE_EXTENSION}"}
            return
        up = xr.SystemUserPresencePropertiesEXT()
        props = xr.SystemProperties(next=ctypes.cast(ctypes.pointer(up), ctypes.c_void_p))
        result = xr.check_result(xr.raw_functions.xrGetSystemProperties(self.inst, self.sid, ctypes.byref(props)))
        if result.is_exception():
            self.report["user_presence"] = {"source": "session states",
                                            "why": f"xrGetSystemProperties failed ({type(result).__name__})"}
            return
        self.presence_supported = bool(up.supports_user_presence)
        self.report["user_presence"] = (
            {"source": USER_PRESENCE_EXTENSION} if self.presence_supported else
            {"source": "session states", "why": f"the runtime offers {USER_PRESENCE_EXTENSION} but this system "
                                                "senses no user presence (supportsUserPresence false)"})

    def _make_swapchains(self) -> None:
        xr = self.xr
        offered = [int(f) for f in xr.enumerate_swapchain_formats(self.session)]
        fmt = next((f for f in PREFERRED_FORMATS if f in offered), None)
        if fmt is None:
            raise AstpError(f"the runtime offers no 8-bit colour swapchain (it offers "
                            f"{', '.join(format_name(f) for f in offered)}); this program needs SRGB8_ALPHA8 or RGBA8")
        self.format = fmt
        self.report["swapchain_format"] = format_name(fmt)
        for v in self.view_configs:
            w, h = int(v.recommended_image_rect_width), int(v.recommended_image_rect_height)
            sc = xr.create_swapchain(self.session, xr.SwapchainCreateInfo(
                usage_flags=xr.SwapchainUsageFlags.SAMPLED_BIT | xr.SwapchainUsageFlags.COLOR_ATTACHMENT_BIT
                | xr.SwapchainUsageFlags.TRANSFER_DST_BIT,
                format=fmt, sample_count=1, width=w, height=h, face_count=1, array_size=1, mip_count=1))
            self.swapchains.append(sc)
            self.images.append(xr.enumerate_swapchain_images(sc, xr.SwapchainImageOpenGLKHR))
            self.sizes.append((w, h))
        self.report["eye_size"] = list(self.sizes[0])
        self.report["swapchain_images"] = len(self.images[0])

    # -- events and states -------------------------------------------------------------------------
    def poll_events(self) -> None:
        xr = self.xr
        while True:
            try:
                ev = xr.poll_event(self.inst)
            except xr.EventUnavailable:
                return
            except xr.exception.XrException as exc:
                self._lose(f"the runtime stopped answering ({type(exc).__name__})")
                return
            kind = xr.StructureType(ev.type)
            if kind == xr.StructureType.EVENT_DATA_SESSION_STATE_CHANGED:
                e = ctypes.cast(ctypes.byref(ev), ctypes.POINTER(xr.EventDataSessionStateChanged)).contents
                self._on_state(xr.SessionState(e.state).name)
            elif kind == xr.StructureType.EVENT_DATA_INSTANCE_LOSS_PENDING:
                self._lose("the OpenXR runtime is shutting down (instance loss pending)")
            elif kind == xr.StructureType.EVENT_DATA_REFERENCE_SPACE_CHANGE_PENDING:
                self.report["space_changes"] = self.report.get("space_changes", 0) + 1
            elif kind == xr.StructureType.EVENT_DATA_INTERACTION_PROFILE_CHANGED and self.actions is not None:
                self.actions.profile_changed(self)
            elif kind == getattr(xr.StructureType, "EVENT_DATA_USER_PRESENCE_CHANGED_EXT", None):
                e = ctypes.cast(ctypes.byref(ev), ctypes.POINTER(xr.EventDataUserPresenceChangedEXT)).contents
                self._on_presence(bool(e.is_user_present))

    def _on_presence(self, present: bool) -> None:
        """XrEventDataUserPresenceChangedEXT: the headset put on (True) or taken off (False)."""
        if not self.presence_supported:   # the spec: not queued then; a stray one changes nothing
            return
        self.user_present = present
        self.presence_changes = (self.presence_changes + [(self.frame_index, present)])[-20:]

    def _on_state(self, name: str) -> None:
        xr = self.xr
        self.state = name
        self.states_seen.append(name)
        if name == "READY":
            xr.begin_session(self.session, xr.SessionBeginInfo(xr.ViewConfigurationType.PRIMARY_STEREO))
            self.running = True
        elif name == "STOPPING":
            self.running = False
            xr.end_session(self.session)
        elif name == "LOSS_PENDING":
            self._lose("the OpenXR session is being lost (the runtime or headset went away)")
        elif name == "EXITING":
            self.running = False
            self.done = True
        # IDLE: nothing to do but wait; SYNCHRONIZED / VISIBLE / FOCUSED: frames run (run_frame)

    def _lose(self, why: str) -> None:
        self.lost = self.lost or why
        self.running = False
        self.done = True

    def request_exit(self) -> None:
        """Ask the runtime to end the session (it goes STOPPING -> IDLE -> EXITING)."""
        if self.exit_requested or self.session is None:
            return
        self.exit_requested = True
        try:
            self.xr.request_exit_session(self.session)
        except self.xr.exception.SessionNotRunningError:
            self.done = True
        except self.xr.exception.XrException as exc:
            self._lose(f"the runtime stopped answering ({type(exc).__name__})")

    # -- the frame -----------------------------------------------------------------------------------
    def run_frame(self, draw) -> FrameInfo | None:
        """Poll events; when the session runs: wait, begin, locate, draw each eye with
        ``draw(frame_info, eye) -> bytes`` (``eye.size`` RGB rows bottom-up, or None for black),
        end. Returns the frame's info, or None when no frame ran (idle, stopping, done)."""
        self.poll_events()
        if self.done or not self.running:
            if not self.done:
                time.sleep(0.01)
            return None
        xr = self.xr
        try:
            return self._frame(draw)
        except (xr.exception.InstanceLostError, xr.exception.SessionLostError, xr.exception.RuntimeFailureError) as exc:
            self._lose(f"the OpenXR runtime was lost mid-session ({type(exc).__name__})")
        except xr.exception.SessionNotRunningError:
            self.running = False
        except xr.exception.XrException as exc:   # any other failed call: end the session, say which
            self._lose(f"an OpenXR call failed mid-session ({type(exc).__name__}: {exc})")
        return None

    def _frame(self, draw) -> FrameInfo:
        xr = self.xr
        t0 = time.perf_counter()
        fs = xr.wait_frame(self.session, xr.FrameWaitInfo())
        t1 = time.perf_counter()
        xr.begin_frame(self.session, xr.FrameBeginInfo())
        pdt = int(fs.predicted_display_time)
        if self._last_display_time is not None and fs.predicted_display_period > 0:
            skipped = round((pdt - self._last_display_time) / fs.predicted_display_period) - 1
            self.stats.missed += max(0, int(skipped))
        self._last_display_time = pdt
        head = None
        loc = xr.locate_space(self.view_space, self.space, pdt)
        if loc.location_flags & xr.SpaceLocationFlags.POSITION_VALID_BIT:
            head = xrmath.pose_from_xr(loc.pose)
        if self.actions is not None and self.state == "FOCUSED":
            self.actions.sync(self, pdt)
        if self.hands.active:   # joints only while input is ours (FOCUSED), as the actions
            self.hand_joints = (self.hands.locate(self.space, pdt) if self.state == "FOCUSED"
                                else {"left": None, "right": None})
        _vs, views = xr.locate_views(self.session, xr.ViewLocateInfo(
            xr.ViewConfigurationType.PRIMARY_STEREO, pdt, self.space))
        eyes = [EyeView(i, xrmath.pose_from_xr(v.pose), xrmath.EyeFrustum.from_fov(v.fov), self.sizes[i])
                for i, v in enumerate(views)]
        info = FrameInfo(self.frame_index, pdt, bool(fs.should_render), head, eyes, self.state)
        layers = []
        if fs.should_render and self.state in ("VISIBLE", "FOCUSED"):
            proj_views = []
            for eye, v in zip(eyes, views):
                te = time.perf_counter()
                pixels = draw(info, eye)
                tu = time.perf_counter()
                self._upload(eye.index, pixels)
                if not self.stats.exclude_current:
                    self.stats.eye_ms.append((tu - te) * 1e3)
                    self.stats.upload_ms.append((time.perf_counter() - tu) * 1e3)
                w, h = eye.size
                proj_views.append(xr.CompositionLayerProjectionView(
                    pose=v.pose, fov=v.fov, sub_image=xr.SwapchainSubImage(
                        swapchain=self.swapchains[eye.index],
                        image_rect=xr.Rect2Di(offset=xr.Offset2Di(0, 0), extent=xr.Extent2Di(w, h)))))
            layer = xr.CompositionLayerProjection(space=self.space, views=proj_views)
            layers = [ctypes.byref(layer)]
        xr.end_frame(self.session, xr.FrameEndInfo(display_time=pdt, environment_blend_mode=xr.EnvironmentBlendMode.OPAQUE,
                                                   layers=layers))
        if layers:
            self.stats.submitted += 1
            if self.stats.exclude_current:   # the frame that built the renderer: reported apart
                self.stats.setup_ms.append((time.perf_counter() - t1) * 1e3)
                self.stats.exclude_current = False
            else:
                self.stats.wait_ms.append((t1 - t0) * 1e3)
                self.stats.cpu_ms.append((time.perf_counter() - t1) * 1e3)
        else:
            self.stats.empty += 1
        self.frame_index += 1
        return info

    def _upload(self, index: int, pixels) -> None:
        """Copy one eye's picture (RGB, bottom-up rows) into the acquired swapchain image."""
        from OpenGL import GL

        xr = self.xr
        sc = self.swapchains[index]
        w, h = self.sizes[index]
        k = xr.acquire_swapchain_image(sc, xr.SwapchainImageAcquireInfo())
        xr.wait_swapchain_image(sc, xr.SwapchainImageWaitInfo(timeout=xr.INFINITE_DURATION))
        self.ctx.make_current()
        GL.glBindTexture(GL.GL_TEXTURE_2D, self.images[index][k].image)
        GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 1)
        data = pixels if pixels is not None else bytes(w * h * 3)
        GL.glTexSubImage2D(GL.GL_TEXTURE_2D, 0, 0, 0, w, h, GL.GL_RGB, GL.GL_UNSIGNED_BYTE, data)
        GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
        self.last_k[index] = k
        xr.release_swapchain_image(sc, xr.SwapchainImageReleaseInfo())

    def read_image(self, index: int) -> np.ndarray:
        """The last picture given to eye ``index``'s swapchain, read back from the runtime's
        image (H, W, 3 uint8, top row first): what the compositor got."""
        from OpenGL import GL

        w, h = self.sizes[index]
        k = self.last_k.get(index, 0)
        self.ctx.make_current()
        GL.glBindTexture(GL.GL_TEXTURE_2D, self.images[index][k].image)
        GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 1)
        raw = GL.glGetTexImage(GL.GL_TEXTURE_2D, 0, GL.GL_RGB, GL.GL_UNSIGNED_BYTE)
        GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
        img = np.frombuffer(raw, dtype=np.uint8).reshape(h, w, 3)[::-1]
        return np.ascontiguousarray(img)

    # -- closing --------------------------------------------------------------------------------------
    def shutdown(self, timeout_s: float = 3.0, draw=None) -> None:
        """End cleanly: request exit, keep the frame loop going until EXITING (or time out)."""
        if self.session is None or self.lost:
            return
        self.request_exit()
        deadline = time.monotonic() + timeout_s
        while not self.done and time.monotonic() < deadline:
            self.run_frame(draw or (lambda _i, _e: None))

    def close(self) -> None:
        xr = self.xr
        if xr is None:
            return
        for sc in self.swapchains:
            try:
                xr.destroy_swapchain(sc)
            except Exception:  # noqa: BLE001 - closing a lost runtime: nothing more to do
                pass
        self.swapchains = []
        self.hands.close()
        if self.actions is not None:
            self.actions.close()
        for name in ("space", "view_space"):
            sp = getattr(self, name, None)
            if sp is not None:
                try:
                    xr.destroy_space(sp)
                except Exception:  # noqa: BLE001
                    pass
                setattr(self, name, None)
        if self.session is not None:
            try:
                xr.destroy_session(self.session)
            except Exception:  # noqa: BLE001
                pass
            self.session = None
        if self.inst is not None:
            try:
                xr.destroy_instance(self.inst)
            except Exception:  # noqa: BLE001
                pass
            self.inst = None
        if self.ctx is not None:
            self.ctx.close()
            self.ctx = None
