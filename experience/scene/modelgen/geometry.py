"""Triangle meshes built from simple solids, in float64 metres (NumPy only).

Conventions (the same for every helper):

- A :class:`Mesh` holds ``positions`` (n, 3), ``normals`` (n, 3) and ``triangles`` (m, 3);
  triangles wind counter-clockwise seen from the side their normals point to (glTF front face).
- Solids of revolution turn about the +Y axis; azimuth 0 deg is +Z and 90 deg is +X
  (``x = r sin(az)``, ``z = r cos(az)``).
- A 2-D profile is a list of *runs*: each run is a sequence of (r, y) points, shaded smoothly
  along its length; two runs meet in a crease. Walking the profile from bottom to top (or from the
  axis outwards at the bottom) makes normals point away from the axis, i.e. an outer skin; walking
  it the other way round (:func:`reverse_profile`) makes an inner skin, seen from inside.
- 4x4 matrices act on column vectors (``p' = M @ p``); :func:`compose` multiplies left to right as
  written, so ``compose(T, R)`` rotates first, then translates.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

# ----------------------------------------------------------------------------------- matrices


def identity() -> np.ndarray:
    return np.eye(4)


def translate(x: float, y: float, z: float) -> np.ndarray:
    m = np.eye(4)
    m[:3, 3] = (x, y, z)
    return m


def scale(sx: float, sy: float, sz: float) -> np.ndarray:
    return np.diag([sx, sy, sz, 1.0])


def rot_x(deg: float) -> np.ndarray:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return np.array([[1, 0, 0, 0], [0, c, -s, 0], [0, s, c, 0], [0, 0, 0, 1]], dtype=float)


def rot_y(deg: float) -> np.ndarray:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return np.array([[c, 0, s, 0], [0, 1, 0, 0], [-s, 0, c, 0], [0, 0, 0, 1]], dtype=float)


def rot_z(deg: float) -> np.ndarray:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return np.array([[c, -s, 0, 0], [s, c, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], dtype=float)


def compose(*matrices: np.ndarray) -> np.ndarray:
    out = np.eye(4)
    for m in matrices:
        out = out @ m
    return out


def frame(origin: Sequence[float], y_axis: Sequence[float], x_hint: Sequence[float] = (1.0, 0.0, 0.0)) -> np.ndarray:
    """A rigid transform whose local +Y points along ``y_axis`` and local +X as close to
    ``x_hint`` as possible, with its origin at ``origin``."""
    y = np.asarray(y_axis, dtype=float)
    y = y / np.linalg.norm(y)
    x = np.asarray(x_hint, dtype=float)
    x = x - y * np.dot(x, y)
    if np.linalg.norm(x) < 1e-9:
        x = np.array([0.0, 0.0, 1.0]) - y * y[2]
        if np.linalg.norm(x) < 1e-9:
            x = np.array([1.0, 0.0, 0.0]) - y * y[0]
    x = x / np.linalg.norm(x)
    z = np.cross(x, y)
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = x, y, z, origin
    return m


def azimuth_dir(az_deg: float) -> np.ndarray:
    """Unit vector in the XZ plane at an azimuth (0 = +Z, 90 = +X)."""
    a = math.radians(az_deg)
    return np.array([math.sin(a), 0.0, math.cos(a)])


# --------------------------------------------------------------------------------------- mesh


class Mesh:
    """An indexed triangle list with per-vertex normals."""

    __slots__ = ("positions", "normals", "triangles")

    def __init__(self, positions=None, normals=None, triangles=None):
        self.positions = np.zeros((0, 3)) if positions is None else np.asarray(positions, dtype=float).reshape(-1, 3)
        self.normals = np.zeros((0, 3)) if normals is None else np.asarray(normals, dtype=float).reshape(-1, 3)
        self.triangles = (
            np.zeros((0, 3), dtype=np.int64) if triangles is None else np.asarray(triangles, dtype=np.int64).reshape(-1, 3)
        )

    @property
    def triangle_count(self) -> int:
        return int(self.triangles.shape[0])

    @property
    def vertex_count(self) -> int:
        return int(self.positions.shape[0])

    def transformed(self, m: np.ndarray) -> Mesh:
        p = self.positions @ m[:3, :3].T + m[:3, 3]
        # normals by the inverse transpose (rigid transforms and scales)
        nm = np.linalg.inv(m[:3, :3]).T
        n = self.normals @ nm.T
        lengths = np.linalg.norm(n, axis=1, keepdims=True)
        n = n / np.where(lengths > 0, lengths, 1.0)
        tri = self.triangles
        if np.linalg.det(m[:3, :3]) < 0:  # mirrored: keep the winding counter-clockwise
            tri = tri[:, ::-1]
        return Mesh(p, n, tri.copy())

    def flipped(self) -> Mesh:
        """The same surface seen from the other side (reversed winding and normals)."""
        return Mesh(self.positions.copy(), -self.normals, self.triangles[:, ::-1].copy())

    def double_sided(self) -> Mesh:
        return concat([self, self.flipped()])

    def cleaned(self, min_area: float = 1e-10) -> Mesh:
        """Drop degenerate triangles (e.g. where a lathe profile touches the axis)."""
        if self.triangle_count == 0:
            return self
        p = self.positions
        t = self.triangles
        cross = np.cross(p[t[:, 1]] - p[t[:, 0]], p[t[:, 2]] - p[t[:, 0]])
        keep = 0.5 * np.linalg.norm(cross, axis=1) > min_area
        return Mesh(p, self.normals, t[keep])


def concat(meshes: Iterable[Mesh]) -> Mesh:
    meshes = [m for m in meshes if m is not None and m.vertex_count]
    if not meshes:
        return Mesh()
    offsets = np.cumsum([0] + [m.vertex_count for m in meshes[:-1]])
    return Mesh(
        np.concatenate([m.positions for m in meshes]),
        np.concatenate([m.normals for m in meshes]),
        np.concatenate([m.triangles + o for m, o in zip(meshes, offsets)]),
    )


# ------------------------------------------------------------------------------ 2-D profiles


def arc(cr: float, cy: float, radius: float, a0_deg: float, a1_deg: float, n: int) -> np.ndarray:
    """Points (r, y) on a circle about (cr, cy), from angle a0 to a1 (degrees, 0 = +r, 90 = +y)."""
    a = np.radians(np.linspace(a0_deg, a1_deg, n + 1))
    return np.stack([cr + radius * np.cos(a), cy + radius * np.sin(a)], axis=1)


def line(p0: Sequence[float], p1: Sequence[float], n: int = 1) -> np.ndarray:
    t = np.linspace(0.0, 1.0, n + 1)[:, None]
    return (1 - t) * np.asarray(p0, dtype=float) + t * np.asarray(p1, dtype=float)


def polyline(*points: Sequence[float]) -> list[np.ndarray]:
    """A profile of straight runs (creased at every corner)."""
    return [np.array([points[i], points[i + 1]], dtype=float) for i in range(len(points) - 1)]


def reverse_profile(runs: Sequence[np.ndarray]) -> list[np.ndarray]:
    return [np.asarray(r, dtype=float)[::-1] for r in reversed(runs)]


def offset_run(run: np.ndarray, distance: float) -> np.ndarray:
    """Move a smooth run along its outward normal (negative: inwards)."""
    run = np.asarray(run, dtype=float)
    t = np.gradient(run, axis=0)
    t /= np.linalg.norm(t, axis=1, keepdims=True)
    n = np.stack([t[:, 1], -t[:, 0]], axis=1)
    return run + distance * n


# ------------------------------------------------------------------------------------ solids


def lathe(runs: Sequence[np.ndarray], segments: int, az0_deg: float = 0.0, az1_deg: float = 360.0) -> Mesh:
    """Revolve a profile (a list of runs of (r, y) points) about +Y between two azimuths."""
    az = np.radians(np.linspace(az0_deg, az1_deg, segments + 1))
    sa, ca = np.sin(az), np.cos(az)
    parts = []
    for run in runs:
        run = np.asarray(run, dtype=float)
        if run.shape[0] < 2:
            continue
        t = np.gradient(run, axis=0)
        t /= np.maximum(np.linalg.norm(t, axis=1, keepdims=True), 1e-300)
        nr, ny = t[:, 1], -t[:, 0]
        k = run.shape[0]
        r, y = run[:, 0][:, None], run[:, 1][:, None]
        pos = np.stack([r * sa, np.broadcast_to(y, (k, segments + 1)), r * ca], axis=2).reshape(-1, 3)
        nrm = np.stack(
            [nr[:, None] * sa, np.broadcast_to(ny[:, None], (k, segments + 1)), nr[:, None] * ca], axis=2
        ).reshape(-1, 3)
        i, j = np.meshgrid(np.arange(k - 1), np.arange(segments), indexing="ij")
        a = (i * (segments + 1) + j).ravel()
        b = a + 1
        d = a + segments + 1
        c = d + 1
        tri = np.concatenate([np.stack([a, b, d], axis=1), np.stack([b, c, d], axis=1)])
        parts.append(Mesh(pos, nrm, tri).cleaned())
    return concat(parts)


def cylinder(radius: float, y0: float, y1: float, segments: int, caps: bool = True) -> Mesh:
    runs = [line((radius, y0), (radius, y1))]
    if caps:
        runs = [line((0, y0), (radius, y0)), *runs, line((radius, y1), (0, y1))]
    return lathe(runs, segments)


def tube(r_in: float, r_out: float, y0: float, y1: float, segments: int) -> Mesh:
    """A thick-walled open tube (both skins and both end annuli)."""
    return lathe(
        polyline((r_in, y0), (r_out, y0), (r_out, y1), (r_in, y1), (r_in, y0)),
        segments,
    )


def annulus(r_in: float, r_out: float, y: float, segments: int, up: bool = True) -> Mesh:
    run = line((r_out, y), (r_in, y)) if up else line((r_in, y), (r_out, y))
    return lathe([run], segments)


def sphere(radius: float, segments: int, rings: int, center: Sequence[float] = (0, 0, 0)) -> Mesh:
    m = lathe([arc(0, 0, radius, -90, 90, rings)], segments)
    return m.transformed(translate(*center))


def torus(major: float, minor: float, seg_major: int, seg_minor: int) -> Mesh:
    return lathe([arc(major, 0.0, minor, 0.0, 360.0, seg_minor)], seg_major)


def cylinder_between(p0: Sequence[float], p1: Sequence[float], radius: float, segments: int = 8, caps: bool = True) -> Mesh:
    p0 = np.asarray(p0, dtype=float)
    p1 = np.asarray(p1, dtype=float)
    length = float(np.linalg.norm(p1 - p0))
    return cylinder(radius, 0.0, length, segments, caps).transformed(frame(p0, p1 - p0))


def cone_between(p0, p1, r0: float, r1: float, segments: int = 8) -> Mesh:
    p0 = np.asarray(p0, dtype=float)
    p1 = np.asarray(p1, dtype=float)
    length = float(np.linalg.norm(p1 - p0))
    m = lathe(polyline((0, 0), (r0, 0), (r1, length), (0, length)), segments)
    return m.transformed(frame(p0, p1 - p0))


_BOX_FACES = (
    # normal, two in-plane axes (u, v) with u x v = normal
    ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
    ((-1, 0, 0), (0, 0, 1), (0, 1, 0)),
    ((0, 1, 0), (0, 0, 1), (1, 0, 0)),
    ((0, -1, 0), (1, 0, 0), (0, 0, 1)),
    ((0, 0, 1), (1, 0, 0), (0, 1, 0)),
    ((0, 0, -1), (0, 1, 0), (1, 0, 0)),
)


def box(size: Sequence[float], m: np.ndarray | None = None, center: Sequence[float] = (0, 0, 0)) -> Mesh:
    """An axis-aligned box of ``size`` about ``center``, then moved by ``m``."""
    half = np.asarray(size, dtype=float) / 2
    pos, nrm, tri = [], [], []
    for k, (n, u, v) in enumerate(_BOX_FACES):
        n, u, v = (np.asarray(a, dtype=float) for a in (n, u, v))
        c = n * half
        for su, sv in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
            pos.append(c + su * u * half + sv * v * half)
            nrm.append(n)
        base = 4 * k
        tri += [(base, base + 1, base + 2), (base, base + 2, base + 3)]
    out = Mesh(np.array(pos) + np.asarray(center, dtype=float), nrm, tri)
    return out if m is None else out.transformed(m)


def _fan(n: int, offset: int = 0, reverse: bool = False) -> list[tuple[int, int, int]]:
    tris = [(offset, offset + i, offset + i + 1) for i in range(1, n - 1)]
    return [t[::-1] for t in tris] if reverse else tris


def extrude(outline: Sequence[Sequence[float]], thickness: float, m: np.ndarray | None = None) -> Mesh:
    """A flat plate: a convex counter-clockwise outline in the local XY plane, extruded from
    z = -thickness/2 to +thickness/2 (front face +Z), then moved by ``m``."""
    pts = np.asarray(outline, dtype=float)
    n = len(pts)
    h = thickness / 2
    pos, nrm, tri = [], [], []
    for z, sign in ((h, 1.0), (-h, -1.0)):
        base = len(pos)
        for x, y in pts:
            pos.append((x, y, z))
            nrm.append((0, 0, sign))
        tri += _fan(n, base, reverse=sign < 0)
    for i in range(n):
        a, b = pts[i], pts[(i + 1) % n]
        e = b - a
        out = np.array([e[1], -e[0], 0.0])
        out /= np.linalg.norm(out)
        base = len(pos)
        pos += [(a[0], a[1], -h), (b[0], b[1], -h), (b[0], b[1], h), (a[0], a[1], h)]
        nrm += [out] * 4
        tri += [(base, base + 1, base + 2), (base, base + 2, base + 3)]
    mesh = Mesh(pos, nrm, tri)
    return mesh if m is None else mesh.transformed(m)


def disc_outline(radius: float, n: int) -> np.ndarray:
    a = np.radians(np.linspace(0, 360, n, endpoint=False))
    return np.stack([radius * np.cos(a), radius * np.sin(a)], axis=1)


def rounded_rect_outline(w: float, h: float, r: float, n_corner: int = 4) -> np.ndarray:
    pts = []
    for cx, cy, a0 in ((w / 2 - r, h / 2 - r, 0), (-w / 2 + r, h / 2 - r, 90), (-w / 2 + r, -h / 2 + r, 180), (w / 2 - r, -h / 2 + r, 270)):
        for a in np.radians(np.linspace(a0, a0 + 90, n_corner + 1)):
            pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    return np.array(pts)


def on_surface(point: Sequence[float], normal: Sequence[float], up_hint: Sequence[float] = (0, 1, 0)) -> np.ndarray:
    """A transform whose local +Z is ``normal`` (a plate's front face) and local +Y is as close to
    ``up_hint`` as possible, placed at ``point``; used to lay plates on hull surfaces."""
    z = np.asarray(normal, dtype=float)
    z = z / np.linalg.norm(z)
    y = np.asarray(up_hint, dtype=float)
    y = y - z * np.dot(y, z)
    y = y / np.linalg.norm(y)
    x = np.cross(y, z)
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = x, y, z, point
    return m


def bell(r_throat: float, r_exit: float, length: float, n: int, power: float = 0.55) -> np.ndarray:
    """A rocket-nozzle contour as one run of (r, y), throat at y = 0 and exit at y = -length."""
    t = np.linspace(0.0, 1.0, n + 1)
    return np.stack([r_throat + (r_exit - r_throat) * t**power, -length * t], axis=1)[::-1]
