"""The render boundary: float64 kilometres in the Earth-centred frame -> float32 metres around the camera.

This module is the ONE place where simulation numbers become scene numbers. Everything upstream
(the :class:`~experience.simulation.snapshot.Snapshot`) is float64 kilometres in ``eci`` (true
equator and equinox of date, docs/architecture.md); everything downstream (Panda3D nodes, vertex
buffers, shader uniforms) is float32. The spacecraft fly 6,600 km from the Earth's centre, where
a float32 kilometre has a resolution of about half a metre: a scene with its origin at the Earth's
centre would make the docked stack jitter and tear. So:

1. Every position is first differenced **in float64** against the camera position (also float64
   km ECI): ``d_km = pos_km - camera_km``. For the spacecraft that difference is metres to
   kilometres, exact to far below a millimetre.
2. Only then is it scaled to metres and rounded to float32. The Earth's centre, 6,600 km away,
   keeps float32's ~0.5 m there, which is invisible at that distance.
3. The scene's axes stay the ECI axes (no rotation at the boundary), its origin is the camera.
   Both render passes (FAR: Earth, atmosphere, sky; NEAR: spacecraft) use this same frame.

Model matrices are composed in double precision with pyglm (``glm.dmat4``), because Panda3D's
``LMatrix4f`` and ``NodePath`` transforms are float32: composing a rotation with a 6,600 km
translation in float32 would round before the difference is taken. pyglm works with column
vectors (``p' = M p``, translation in column 3); Panda3D with row vectors (translation in row 3),
so :func:`to_panda` transposes once, at the very end.

Conventions of the matrices produced here:

- ``rot3`` arguments are 3x3 float64 NumPy arrays whose **columns** are the object's own axes
  written in ECI (``snapshot.vehicles[...].body_to_eci``, ``snapshot.ecef_to_eci``).
- A Panda3D camera looks along its +Y with +Z up; :func:`camera_matrix` builds that from a
  forward and an up vector given in ECI.
"""

from __future__ import annotations

import dataclasses

import glm
import numpy as np
from panda3d.core import (
    PTA_float,
    PTA_LMatrix4f,
    PTA_LVecBase2f,
    PTA_LVecBase3f,
    PTA_LVecBase4f,
    LMatrix4f,
    LVecBase3f,
)

M_PER_KM = 1000.0


def _dvec3(v) -> glm.dvec3:
    a = np.asarray(v, dtype=np.float64).reshape(3)
    return glm.dvec3(float(a[0]), float(a[1]), float(a[2]))


def _dmat3(rot3) -> glm.dmat3:
    """NumPy (3, 3) (math layout, columns = axes) -> glm.dmat3 (same matrix)."""
    a = np.asarray(rot3, dtype=np.float64).reshape(3, 3)
    return glm.dmat3(a)


def to_panda(m: glm.dmat4) -> LMatrix4f:
    """A pyglm column-vector matrix -> Panda3D's row-vector LMatrix4f (transpose, then float32)."""
    a = np.asarray(m, dtype=np.float64)  # rows/cols as in mathematics, translation in column 3
    return LMatrix4f(*a.T.astype(np.float32).ravel().tolist())


def to_panda3(m3) -> LMatrix4f:
    """A 3x3 matrix (column-vector convention) for a GLSL ``mat3`` uniform: Panda3D takes it as
    the upper 3x3 of an LMatrix4f in its row-vector layout, so that ``m * v`` in GLSL is ``m3 @ v``."""
    return to_panda(glm.dmat4(_dmat3(m3)))


class Uniforms:
    """The per-frame shader inputs of one or more nodes, written in place.

    ``NodePath.set_shader_input`` makes a new render state every call; a frame sets about twenty
    inputs, which was the largest single cost of a scene update. Instead each input is bound once
    to a Panda3D pointer-to-array (``PTA_float``, ``PTA_LVecBase3f``, ...), the same array on
    every node given, and later frames write the float32 values into that array's memory (the
    GSG reads it when it draws). A 3x3 value is a GLSL ``mat3`` with the meaning of
    :func:`to_panda3` (``m * v`` in GLSL is ``m3 @ v``). The first :meth:`set` of a name decides
    its shape; nothing else may set that input on these nodes afterwards.
    """

    _PTA = {(): PTA_float, (2,): PTA_LVecBase2f, (3,): PTA_LVecBase3f, (4,): PTA_LVecBase4f,
            (3, 3): PTA_LMatrix4f}

    def __init__(self, *nodes):
        self.nodes = list(nodes)
        self._views: dict[str, tuple[object, np.ndarray]] = {}

    def attach(self, node) -> None:
        """Give one more node every input set so far (and every one set later)."""
        self.nodes.append(node)
        for name, (pta, _) in self._views.items():
            node.set_shader_input(name, pta)

    def set(self, name: str, value) -> None:
        slot = self._views.get(name)
        if slot is None:
            shape = np.shape(value)
            pta = self._PTA[shape].empty_array(1)
            for node in self.nodes:
                node.set_shader_input(name, pta)
            view = np.asarray(memoryview(pta)).reshape(-1)
            if shape == (3, 3):  # the upper 3x3 of an LMatrix4f, as to_panda3 makes it
                view = view.reshape(4, 4)
                view[...] = np.eye(4)
                view = view[:3, :3]
            slot = self._views[name] = (pta, view)
        view = slot[1]
        if view.ndim == 2:  # Panda3D's row-vector layout: the transpose (see to_panda3)
            view[...] = np.asarray(value).T
        else:
            view[...] = value

    def value(self, name: str) -> np.ndarray:
        """What the shaders read for ``name`` now (float32), as it was given to :meth:`set`."""
        view = self._views[name][1]
        return view.T.copy() if view.ndim == 2 else (view[0].copy() if view.shape == (1,) else view.copy())


def vec3f(v) -> LVecBase3f:
    a = np.asarray(v, dtype=np.float64).reshape(3)
    return LVecBase3f(float(a[0]), float(a[1]), float(a[2]))


@dataclasses.dataclass(frozen=True)
class RenderFrame:
    """The camera-centred frame of one picture: origin at ``camera_km`` (float64 km ECI), ECI axes,
    metres."""

    camera_km: np.ndarray

    def __post_init__(self):
        object.__setattr__(self, "camera_km", np.asarray(self.camera_km, dtype=np.float64).reshape(3).copy())

    def offset_km(self, pos_km) -> np.ndarray:
        """float64 km from the camera (no rounding yet)."""
        return np.asarray(pos_km, dtype=np.float64).reshape(3) - self.camera_km

    def to_m(self, pos_km) -> np.ndarray:
        """Camera-relative position in float32 metres: difference in float64, then scale and round."""
        return (self.offset_km(pos_km) * M_PER_KM).astype(np.float32)

    def model_dmat(self, pos_km, rot3=None, scale: float = 1.0) -> glm.dmat4:
        """Double-precision model matrix (column-vector): translate to the camera-relative
        position in metres, then rotate by ``rot3`` (columns = the object's axes in ECI), then
        scale uniformly. Object coordinates are metres."""
        m = glm.translate(glm.dmat4(1.0), _dvec3(self.offset_km(pos_km) * M_PER_KM))
        if rot3 is not None:
            m = m * glm.dmat4(_dmat3(rot3))
        if scale != 1.0:
            m = glm.scale(m, glm.dvec3(scale, scale, scale))
        return m

    def model_matrix(self, pos_km, rot3=None, scale: float = 1.0) -> LMatrix4f:
        """The same as :meth:`model_dmat`, rounded to float32 in Panda3D's layout."""
        return to_panda(self.model_dmat(pos_km, rot3, scale))


def look_basis(forward_eci, up_eci) -> np.ndarray:
    """Orthonormal camera basis (float64, double-precision pyglm): columns right, forward, up in
    ECI. ``up`` need only be roughly perpendicular to ``forward``."""
    f = glm.normalize(_dvec3(forward_eci))
    u = _dvec3(up_eci)
    r = glm.cross(f, u)
    if glm.length(r) < 1e-9:  # up parallel to forward: pick any perpendicular
        r = glm.cross(f, glm.dvec3(0.0, 0.0, 1.0) if abs(f.z) < 0.9 else glm.dvec3(1.0, 0.0, 0.0))
    r = glm.normalize(r)
    u = glm.normalize(glm.cross(r, f))
    return np.array([[r.x, f.x, u.x], [r.y, f.y, u.y], [r.z, f.z, u.z]], dtype=np.float64)


def camera_matrix(basis: np.ndarray) -> LMatrix4f:
    """Panda3D camera transform (at the origin of the render frame) for a basis from
    :func:`look_basis`: camera +X = right, +Y = forward, +Z = up."""
    return to_panda(glm.dmat4(_dmat3(basis)))


def transform_point(m: glm.dmat4, p) -> np.ndarray:
    """Apply a double-precision model matrix to a point (float64 result)."""
    v = m * glm.dvec4(*(float(x) for x in np.asarray(p, dtype=np.float64).reshape(3)), 1.0)
    return np.array([v.x, v.y, v.z], dtype=np.float64)


def project(basis: np.ndarray, fov_x_deg: float, size: tuple[int, int], p_m) -> tuple[float, float, float] | None:
    """Pixel coordinates (x right, y down) and depth (m) of a camera-relative point in metres,
    with the same pinhole model as the renderer's lenses; None if behind the camera."""
    p = np.asarray(p_m, dtype=np.float64).reshape(3)
    x, y, z = basis[:, 0] @ p, basis[:, 1] @ p, basis[:, 2] @ p
    if y <= 1e-9:
        return None
    w, h = size
    tx = np.tan(np.radians(fov_x_deg) / 2.0)
    ty = tx * h / w
    px = (x / y / tx * 0.5 + 0.5) * w
    py = (0.5 - z / y / ty * 0.5) * h
    return float(px), float(py), float(y)
