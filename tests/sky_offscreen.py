"""A small headless Panda3D rig for the sky tests: an offscreen buffer through EGL
(``p3headlessgl``), a camera with a PerspectiveLens at the origin of a metres scene whose axes are
the ECI axes (the FAR pass the renderer core hands to :class:`experience.scene.sky.Sky`), and a
read-back of the picture as a NumPy array. No ShowBase, no window, no audio."""

from __future__ import annotations

import numpy as np

_PRC = """
load-display p3headlessgl
window-type offscreen
audio-library-name null
notify-level-device fatal
notify-level-display error
textures-power-2 none
sync-video #f
framebuffer-srgb #f
"""

_prc_loaded = False


def load_prc() -> None:
    global _prc_loaded
    if not _prc_loaded:
        from panda3d.core import loadPrcFileData

        loadPrcFileData("sky-offscreen", _PRC)
        _prc_loaded = True


class OffscreenRig:
    """An offscreen RGBA8 buffer of ``size`` pixels with a camera at the origin.

    ``root`` is the scene (metres, ECI axes); ``far_root`` is the NodePath handed to the sky.
    The camera looks along +Y of its own frame with +Z up (Panda3D convention);
    :meth:`look` points it along an ECI direction."""

    def __init__(self, size=(640, 480), fov_x_deg: float = 60.0, near_m: float = 1000.0, far_m: float = 1e9):
        load_prc()
        from panda3d.core import (
            Camera, FrameBufferProperties, GraphicsEngine, GraphicsOutput,
            GraphicsPipe, NodePath, PerspectiveLens, Texture, WindowProperties,
        )

        self.size = tuple(int(v) for v in size)
        self.engine = GraphicsEngine.get_global_ptr()
        from experience.scene.renderer import shared_pipe

        self.pipe = shared_pipe()  # one pipe per process, shared with the renderer
        if self.pipe is None:
            raise RuntimeError("no graphics pipe (p3headlessgl/EGL) could be opened")
        fbp = FrameBufferProperties()
        fbp.set_rgba_bits(8, 8, 8, 8)
        fbp.set_depth_bits(24)
        wp = WindowProperties.size(*self.size)
        self.buffer = self.engine.make_output(
            self.pipe, "sky-test", 0, fbp, wp, GraphicsPipe.BF_refuse_window, None, None)
        if self.buffer is None:
            raise RuntimeError("could not create an offscreen buffer")
        self.texture = Texture("sky-test-color")
        self.buffer.add_render_texture(self.texture, GraphicsOutput.RTM_copy_ram)
        self.buffer.set_clear_color_active(True)
        self.buffer.set_clear_color((0, 0, 0, 1))
        self.buffer.set_clear_depth_active(True)

        self.root = NodePath("scene")
        self.far_root = self.root.attach_new_node("far")
        self.lens = PerspectiveLens()
        self.lens.set_fov(fov_x_deg, np.degrees(2 * np.arctan(np.tan(np.radians(fov_x_deg) / 2) * self.size[1] / self.size[0])))
        self.lens.set_near_far(near_m, far_m)
        cam = Camera("sky-test-cam", self.lens)
        self.camera = self.root.attach_new_node(cam)
        region = self.buffer.make_display_region()
        region.set_camera(self.camera)

    def look(self, forward, up=(0.0, 0.0, 1.0)) -> None:
        """Point the camera along ``forward`` (scene/ECI axes) with ``up`` roughly up."""
        from panda3d.core import LVector3f

        self.camera.set_pos(0, 0, 0)
        self.camera.look_at(LVector3f(*(float(v) for v in forward)), LVector3f(*(float(v) for v in up)))

    def project(self, p) -> tuple[float, float] | None:
        """Pixel (x right, y down) of a scene point, or None if outside the view."""
        from panda3d.core import LPoint2f, LPoint3f

        pc = self.camera.get_relative_point(self.root, LPoint3f(*(float(v) for v in p)))
        p2 = LPoint2f()
        if not self.lens.project(pc, p2):
            return None
        w, h = self.size
        return (p2.x * 0.5 + 0.5) * w, (0.5 - p2.y * 0.5) * h

    def render(self) -> np.ndarray:
        """Render one frame; (h, w, 3) uint8 RGB, row 0 at the top."""
        self.engine.render_frame()
        self.engine.render_frame()  # the copy to RAM lands after the frame that drew it
        img = np.frombuffer(bytes(self.texture.get_ram_image_as("RGB")), dtype=np.uint8)
        img = img.reshape(self.texture.get_y_size(), self.texture.get_x_size(), 3)
        return img[::-1].copy()

    def save(self, img: np.ndarray, path) -> None:
        from PIL import Image

        Image.fromarray(img).save(path)

    def close(self) -> None:
        if self.buffer is not None:
            self.engine.remove_window(self.buffer)
            self.buffer = None
