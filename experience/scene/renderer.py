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

import math
import os
import sys
from pathlib import Path

import numpy as np

from experience.errors import AstpError
from experience.scene.config import RenderConfig, check_size, check_view, shader_path

_PIPE = []
_PRC_DONE = [False]
WINDOW_SORT = 5  # the tone-map region in a window: over ShowBase's 3D region (0), under its 2D overlay (10)


def headless() -> bool:
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
    if headless() and not onscreen:
        lines.insert(0, "load-display p3headlessgl")
    loadPrcFileData("handshake-in-orbit renderer", "\n".join(lines))
    _PRC_DONE[0] = True


def shared_pipe():
    """The process's one graphics pipe (EGL offscreen without a display). Everything that opens
    a buffer in this process (renderers, tests, later the viewer) goes through it: a second
    default pipe in the same process can fail to open buffers."""
    if not _PIPE:
        configure_panda()
        from panda3d.core import GraphicsPipeSelection

        pipe = GraphicsPipeSelection.getGlobalPtr().makeDefaultPipe()
        if pipe is None or not pipe.isValid():
            raise AstpError("no OpenGL renderer is available: install Mesa's EGL/GL drivers "
                            "(Debian: apt install libegl1 libegl-mesa0 libgl1-mesa-dri) or run with a display; "
                            "'astp doctor' shows what is missing")
        _PIPE.append(pipe)
    return _PIPE[0]


def _sky_class():
    """experience.scene.sky.Sky when it exists and imports; None otherwise (skipped gracefully)."""
    try:
        from experience.scene.sky import Sky
    except Exception:
        return None
    return Sky


class SceneRenderer:
    """Reusable renderer for one picture size; ``render(snapshot, view)`` -> (H, W, 3) uint8."""

    def __init__(self, config: RenderConfig | None = None, *, window=None, **changes):
        """``window``: a Panda3D window (``GraphicsWindow``, e.g. ShowBase's ``base.win``) to draw
        into instead of the 8-bit offscreen buffer that :meth:`read` reads back: the interactive
        front ends' form. The tone-map pass then draws into a display region of that window
        (sort :data:`WINDOW_SORT`, below a 2D overlay at ShowBase's usual sort 10) and the HDR
        buffers follow its size (:meth:`resize`)."""
        cfg = config or RenderConfig()
        if changes:
            cfg = cfg.replace(**changes)
        self.config = cfg
        self.window = window
        self.pipe = window.getPipe() if window is not None else shared_pipe()
        from panda3d.core import (Camera, CardMaker, FrameBufferProperties, GraphicsEngine, GraphicsOutput,
                                  GraphicsPipe, NodePath, OmniBoundingVolume, OrthographicLens, PerspectiveLens,
                                  Shader, Texture, WindowProperties)

        self.engine = GraphicsEngine.getGlobalPtr()
        w, h = cfg.size
        # final 8-bit buffer (read back)
        fb = FrameBufferProperties()
        fb.setRgbColor(True)
        fb.setRgbaBits(8, 8, 8, 8)
        fb.setDepthBits(0)
        wp = WindowProperties.size(w, h)
        flags = GraphicsPipe.BF_refuse_window
        if window is not None:
            self.ldr, self.ldr_tex = window, None
        else:
            self.ldr = self.engine.makeOutput(self.pipe, f"astp-ldr-{id(self)}", 0, fb, wp, flags, None, None)
            if self.ldr is None:
                raise AstpError(f"could not create a {w}x{h} offscreen buffer; try a smaller --size "
                                "('astp doctor' shows the OpenGL limits)")
            self.ldr_tex = Texture("ldr")
            self.ldr.addRenderTexture(self.ldr_tex, GraphicsOutput.RTM_copy_ram, GraphicsOutput.RTP_color)
        # linear HDR buffers: FAR at the picture size, NEAR supersampled (spacecraft edges)
        ss = cfg.supersample
        self.far_buf, self.far_tex = self._hdr_buffer("far", w, h, -10)
        self.near_buf, self.near_tex = self._hdr_buffer("near", w * ss, h * ss, -9)

        # FAR pass
        self.far_root = NodePath("far")
        self.far_lens = PerspectiveLens()
        self.far_lens.setNearFar(1000.0, 1.0e9)
        self.far_cam = self.far_root.attachNewNode(Camera("far_cam", self.far_lens))
        self.far_dr = self.far_buf.makeDisplayRegion()
        self.far_dr.setCamera(self.far_cam)
        # NEAR pass (cleared to transparent: alpha is the spacecraft's coverage)
        self.near_root = NodePath("near")
        self.near_lens = PerspectiveLens()
        self.near_lens.setNearFar(0.5, 5000.0)
        self.near_cam = self.near_root.attachNewNode(Camera("near_cam", self.near_lens))
        self.near_dr = self.near_buf.makeDisplayRegion()
        self.near_dr.setCamera(self.near_cam)
        # tone map
        self.post_root = NodePath("post")
        cm = CardMaker("tonemap")
        cm.setFrame(-1, 1, -1, 1)
        card = self.post_root.attachNewNode(cm.generate())
        card.node().setBounds(OmniBoundingVolume())
        card.node().setFinal(True)
        card.setShader(Shader.load(Shader.SL_GLSL, vertex=str(shader_path("tonemap.vert")),
                                   fragment=str(shader_path("tonemap.frag"))))
        card.setShaderInput("u_far", self.far_tex)
        card.setShaderInput("u_near", self.near_tex)
        card.setShaderInput("u_exposure", float(cfg.exposure))
        card.setShaderInput("u_ss", int(ss))
        from experience.scene.atmosphere import white_balance
        from experience.scene.boundary import vec3f

        card.setShaderInput("u_white_balance", vec3f(white_balance()))
        card.setShaderInput("u_frame", (0.0, w / h, 0.06, 0.004))
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

        # scene content
        self.gl_renderer = self.ldr.getGsg().getDriverRenderer() if self.ldr.getGsg() else ""
        self.software_gl = any(k in self.gl_renderer.lower() for k in ("llvmpipe", "softpipe", "swrast"))
        if cfg.anisotropy == 0:
            cfg = cfg.replace(anisotropy=1 if self.software_gl else 8)
            self.config = cfg
        from experience.scene.atmosphere import Atmosphere
        from experience.scene.earth import Earth
        from experience.scene.vehicles import Vehicles

        self.sky = None
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

    def _hdr_buffer(self, name: str, w: int, h: int, sort: int):
        from panda3d.core import (FrameBufferProperties, GraphicsOutput, GraphicsPipe, SamplerState, Texture,
                                  WindowProperties)

        fb = FrameBufferProperties()
        fb.setRgbaBits(16, 16, 16, 16)
        fb.setFloatColor(True)
        fb.setDepthBits(24)
        buf = self.engine.makeOutput(self.pipe, f"astp-{name}-{id(self)}", sort, fb, WindowProperties.size(w, h),
                                     GraphicsPipe.BF_refuse_window, self.ldr.getGsg(), self.ldr)
        if buf is None:
            raise AstpError("the OpenGL driver cannot render to a half-float buffer; 'astp doctor' shows the driver")
        tex = Texture(name)
        buf.addRenderTexture(tex, GraphicsOutput.RTM_bind_or_copy, GraphicsOutput.RTP_color)
        tex.setMinfilter(SamplerState.FT_nearest)
        tex.setMagfilter(SamplerState.FT_nearest)
        buf.setClearColorActive(True)
        buf.setClearColor((0, 0, 0, 0))
        buf.setClearDepthActive(True)
        return buf, tex

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
        self.tonemap_card.setShaderInput("u_frame", (0.0, w / h, 0.06, 0.004))

    def prepare(self, snapshot, view: str | None = None, placement=None):
        """Set every node, lens and uniform for one snapshot and view (or an explicit
        :class:`~experience.scene.views.Placement` from an interactive camera); returns the
        Placement."""
        from experience.scene import boundary, views

        if placement is None:
            view = check_view(view or self.config.view)
            placement = views.place(view, snapshot, self.config.fov_deg)
        w, h = self.config.size
        fov_x = float(placement.fov_deg)
        tan_x = math.tan(math.radians(fov_x) / 2.0)
        tan_y = tan_x * h / w
        fov_y = math.degrees(2.0 * math.atan(tan_y))
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
        self.tonemap_card.setShaderInput("u_exposure", float(self.config.exposure * placement.exposure))
        self.tonemap_card.setShaderInput("u_frame", (1.0 if placement.window_frame else 0.0, w / h, 0.07, 0.004))
        self.placement = placement
        self.frame = frame
        return placement

    def render_frame(self) -> None:
        """Draw what :meth:`prepare` set up (no read-back). In a window the front end's own
        frame loop renders instead (ShowBase's ``igLoop``), and this is not called."""
        self._set_active(True)
        try:
            self.engine.renderFrame()
        finally:
            self._set_active(False)
        self.frames += 1

    def read(self) -> np.ndarray:
        data = self.ldr_tex.getRamImageAs("RGB")
        if not data:
            raise AstpError("the renderer produced no image (the OpenGL driver failed); 'astp doctor' shows the driver")
        w, h = self.ldr_tex.getXSize(), self.ldr_tex.getYSize()
        img = np.frombuffer(bytes(data), dtype=np.uint8).reshape(h, w, 3)[::-1]
        return np.ascontiguousarray(img)

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
        if self.window is not None and getattr(self, "post_dr", None) is not None:
            self.window.removeDisplayRegion(self.post_dr)
            self.post_dr = None
        for name in ("near_buf", "far_buf", "ldr"):
            out = getattr(self, name, None)
            if out is not None and out is not self.window:
                self.engine.removeWindow(out)
            setattr(self, name, None)
        if self.sky is not None and hasattr(self.sky, "remove"):
            self.sky.remove()
        self.far_root.removeNode()
        self.near_root.removeNode()
        self.post_root.removeNode()

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
    if max(size) * cfg.supersample > 16384:
        cfg = cfg.replace(supersample=max(1, 16384 // max(size)))
    r = renderer_for(cfg)
    img = r.render(snapshot, view)
    if path is not None:
        meta = {"Software": "Handshake in Orbit (astp render)", "Title": f"{view} view",
                "Creation Time": f"{snapshot.utc:%Y-%m-%dT%H:%M:%SZ} (scene time, UTC)"}
        if r.vehicles.placeholder_used:
            meta["Comment"] = "PLACEHOLDER spacecraft models (models/*.gltf were missing)"
        write_png(img, path, meta, make_folders=make_folders)
    return img
