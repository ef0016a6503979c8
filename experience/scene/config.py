"""The render configuration: one typed, validated object that every front end fills in.

:class:`RenderConfig` says what to draw (``view``), how big (``size``), how bright (``exposure``)
and how much detail to spend (Earth tessellation, atmosphere samples). ``validate()`` (called by
the constructor) rejects anything that cannot work with an :class:`~experience.errors.AstpError`
naming the problem and the fix, so a bad ``--size`` or ``--view`` on the command line reads as one
line, never as a traceback from deep inside Panda3D.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from experience.errors import AstpError
from experience.paths import repo_root

VIEWS = ("exterior", "window", "handshake")
MAX_SIZE = 8192  # largest width or height the renderer makes (memory); the OpenGL driver's limit may be lower:
#                   experience.scene.renderer.check_render_size refuses what does not fit, naming what does
ABSOLUTE_MAX_SIZE = 65535  # beyond any OpenGL driver: refused as a bad size without asking one
MIN_SIZE = 16



def shader_path(name: str) -> Path:
    """A GLSL file of the project (shaders/ at the repository root)."""
    path = repo_root() / "shaders" / name
    if not path.is_file():
        raise AstpError(f"the shader {path} is missing; reinstall the program or restore shaders/ from the repository")
    return path


_SIZE_RE = re.compile(r"^\s*(\d{1,6})\s*[xX\u00d7]\s*(\d{1,6})\s*$")


def parse_size(text: str) -> tuple[int, int]:
    """``"1280x720"`` -> ``(1280, 720)``; anything else raises AstpError with the expected form."""
    m = _SIZE_RE.match(str(text))
    if not m:
        raise AstpError(f"bad size {text!r}: write WIDTHxHEIGHT in pixels, e.g. 1280x720")
    size = (int(m.group(1)), int(m.group(2)))
    check_size(size)
    return size


def check_size(size) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in size)
    except (TypeError, ValueError):
        raise AstpError(f"bad size {size!r}: give (width, height) in pixels, e.g. (1280, 720)") from None
    if w < MIN_SIZE or h < MIN_SIZE:
        raise AstpError(f"bad size {w}x{h}: width and height must be at least {MIN_SIZE} pixels, e.g. 1280x720")
    if w > ABSOLUTE_MAX_SIZE or h > ABSOLUTE_MAX_SIZE:
        raise AstpError(f"bad size {w}x{h}: width and height must be at most {MAX_SIZE} pixels; "
                        f"render smaller (e.g. 3840x2160)")
    return w, h


def check_view(view: str) -> str:
    if view not in VIEWS:
        raise AstpError(f"unknown view {view!r}; choose one of: {', '.join(VIEWS)}")
    return view


@dataclasses.dataclass(frozen=True)
class RenderConfig:
    """Everything that changes a picture besides the snapshot itself.

    - ``size``: (width, height) in pixels.
    - ``view``: ``exterior`` | ``window`` | ``handshake`` (camera placements, ``experience.scene.views``).
    - ``exposure``: multiplies scene radiance before the tone curve (1.0: a white card facing the
      Sun comes out just below white); stops = log2(exposure).
    - ``fov_deg``: horizontal field of view; ``None`` takes the view's own default.
    - ``star_limit_mag``: faintest star drawn (handed to the sky, when there is one).
    - ``earth_segments``: longitude segments of the Earth mesh (latitude gets half as many);
      triangles = 2 x segments x segments / 2.
    - ``atmosphere_steps``: ray-march samples along the view ray per Earth pixel (the sky limb
      uses twice as many); the light path to the Sun is a precomputed transmittance table, so
      there is no inner loop.
    - ``anisotropy``: anisotropic filtering degree of the Blue Marble texture; 0 (default) = auto:
      8 on a GPU, 1 on a software rasteriser (llvmpipe's anisotropic filter costs 2.7x the whole
      frame, up to 100x with the tiling detail textures, which therefore never use it).
    - ``clouds``: draw the illustrative cloud layer (procedural, not the 1975 weather).
    - ``supersample``: the NEAR pass (spacecraft) renders ``n x n`` samples per pixel, averaged
      after tone mapping (anti-aliased edges); fewer where the OpenGL driver cannot hold the
      supersampled buffer (experience.scene.renderer.check_render_size). Hardware MSAA is not
      used: llvmpipe shades every sample along the Earth mesh's triangle edges, 20-100x slower.
    - ``flatten``: flatten the static scene graph (the benchmark switches it off for its baseline).
    """

    size: tuple[int, int] = (1280, 720)
    view: str = "exterior"
    exposure: float = 1.0
    fov_deg: float | None = None
    star_limit_mag: float = 6.5
    earth_segments: int = 384
    atmosphere_steps: int = 8
    anisotropy: int = 0
    clouds: bool = True
    flatten: bool = True
    supersample: int = 2

    def __post_init__(self):
        object.__setattr__(self, "size", check_size(self.size))
        self.validate()

    def validate(self) -> "RenderConfig":
        check_view(self.view)
        if not (isinstance(self.exposure, (int, float)) and 1e-4 <= float(self.exposure) <= 1e4):
            raise AstpError(f"bad exposure {self.exposure!r}: give a positive number between 0.0001 and 10000 "
                            f"(1.0 is the default, 2.0 one stop brighter)")
        if self.fov_deg is not None and not (5.0 <= float(self.fov_deg) <= 150.0):
            raise AstpError(f"bad field of view {self.fov_deg!r} deg: choose 5 to 150 degrees (or leave it unset)")
        if not (-2.0 <= float(self.star_limit_mag) <= 12.0):
            raise AstpError(f"bad star limit magnitude {self.star_limit_mag!r}: choose -2 to 12 (6.5 is the naked eye)")
        if not (isinstance(self.earth_segments, int) and 16 <= self.earth_segments <= 2048):
            raise AstpError(f"bad earth_segments {self.earth_segments!r}: choose an integer from 16 to 2048 (384 is the default)")
        if not (isinstance(self.atmosphere_steps, int) and 2 <= self.atmosphere_steps <= 64):
            raise AstpError(f"bad atmosphere_steps {self.atmosphere_steps!r}: choose an integer from 2 to 64 (8 is the default)")
        if not (isinstance(self.anisotropy, int) and 0 <= self.anisotropy <= 16):
            raise AstpError(f"bad anisotropy {self.anisotropy!r}: choose an integer from 1 to 16, or 0 for automatic")
        if not (isinstance(self.supersample, int) and 1 <= self.supersample <= 4):
            raise AstpError(f"bad supersample {self.supersample!r}: choose 1 to 4 (samples per pixel edge)")
        return self  # sizes the OpenGL driver cannot hold: experience.scene.renderer.check_render_size

    @property
    def width(self) -> int:
        return self.size[0]

    @property
    def height(self) -> int:
        return self.size[1]

    @property
    def aspect(self) -> float:
        return self.size[0] / self.size[1]

    def replace(self, **changes) -> "RenderConfig":
        return dataclasses.replace(self, **changes)
