"""Pose, field-of-view and projection math at the OpenXR boundary (pyglm, float64).

OpenXR gives poses in its reference space: +X right, +Y up, -Z forward, metres, orientation as a
unit quaternion (x, y, z, w). The scene's model frame (docs/models.md) has +Y along the stack
toward Soyuz and +Z toward the CM hatch side; Panda3D cameras look along their +Y with +Z up.
Everything here is double precision (``glm.dmat4``, ``glm.dquat``); the one conversion to
Panda3D types (float32, row vectors) is :func:`to_panda` / :func:`experience.scene.boundary.to_panda`
at the very end, and the one conversion to the scene's camera is a
:class:`~experience.scene.views.Placement` in float64 km ECI (the render boundary then differences
in float64 before rounding, so the Earth at 6,600 km and a handrail at 30 cm share one frame).

- :func:`pose_dmat` -- an OpenXR pose -> a column-vector rigid transform (reference -> pose).
- :func:`XR_TO_MODEL_BASIS` -- the fixed change of axes from OpenXR's (right, up, back) to a
  frame whose forward is +Y and up is +Z (the Panda3D camera convention).
- :func:`projection_dmat` -- the asymmetric OpenGL projection from the four fov angles.
- :func:`enclosing_symmetric` -- the symmetric frustum that holds an asymmetric one, and where
  the asymmetric one lies inside it (the eye picture is a crop of a symmetric render: the same
  centre of projection, so the crop IS the asymmetric view, pixel for pixel).
"""

from __future__ import annotations

import dataclasses
import math

import glm
import numpy as np

# OpenXR view axes (right = +X, up = +Y, back = +Z) -> camera axes in the (right, forward, up)
# convention of experience.scene.boundary.look_basis: forward = -Z_xr, up = +Y_xr.
XR_TO_RFU = np.array([[1.0, 0.0, 0.0],    # right   = x
                      [0.0, 0.0, -1.0],   # forward = -z
                      [0.0, 1.0, 0.0]])   # up      = y


@dataclasses.dataclass(frozen=True)
class Pose:
    """A rigid pose in float64: position (m) and rotation (3x3, columns = the pose's own x, y, z
    axes written in the parent frame)."""

    position_m: np.ndarray
    rotation: np.ndarray

    @staticmethod
    def identity() -> "Pose":
        return Pose(np.zeros(3), np.eye(3))

    def dmat(self) -> glm.dmat4:
        m = glm.dmat4(glm.dmat3(np.asarray(self.rotation, dtype=np.float64)))
        m[3] = glm.dvec4(*(float(v) for v in self.position_m), 1.0)
        return m

    def compose(self, child: "Pose") -> "Pose":
        """self * child: child given in self's frame -> the parent frame."""
        r = self.rotation @ child.rotation
        p = self.position_m + self.rotation @ child.position_m
        return Pose(p, r)

    def inverse(self) -> "Pose":
        rt = self.rotation.T
        return Pose(-(rt @ self.position_m), rt)

    def apply(self, p) -> np.ndarray:
        return self.position_m + self.rotation @ np.asarray(p, dtype=np.float64)


def quat_to_rot(x: float, y: float, z: float, w: float) -> np.ndarray:
    """A unit quaternion (OpenXR's x, y, z, w order) -> 3x3 rotation, through glm.dquat."""
    q = glm.normalize(glm.dquat(float(w), float(x), float(y), float(z)))  # glm's constructor is (w, x, y, z)
    m = glm.mat3_cast(q)
    return np.array(m, dtype=np.float64)  # numpy(glm) is already rows x cols (RECIPES.md "pyglm")


def rot_to_quat(r) -> tuple[float, float, float, float]:
    q = glm.quat_cast(glm.dmat3(np.asarray(r, dtype=np.float64)))
    return float(q.x), float(q.y), float(q.z), float(q.w)


def pose_from_xr(pose) -> Pose:
    """An ``xr.Posef`` -> :class:`Pose` (float64)."""
    o, p = pose.orientation, pose.position
    return Pose(np.array([p.x, p.y, p.z], dtype=np.float64), quat_to_rot(o.x, o.y, o.z, o.w))


def pose_dmat(pose) -> glm.dmat4:
    return pose_from_xr(pose).dmat()


def camera_basis(rotation_ref: np.ndarray, ref_to_world: np.ndarray) -> np.ndarray:
    """A view's rotation (columns: its x, y, z in the reference space) -> the camera basis
    (columns right, forward, up) in the world frame that ``ref_to_world`` (3x3) maps into."""
    r = np.asarray(ref_to_world, dtype=np.float64) @ np.asarray(rotation_ref, dtype=np.float64)
    right, up, back = r[:, 0], r[:, 1], r[:, 2]
    return np.column_stack([right, -back, up])


def projection_dmat(left_rad: float, right_rad: float, down_rad: float, up_rad: float,
                    near_m: float, far_m: float) -> glm.dmat4:
    """The OpenGL projection (column vectors, clip z in -1..1) of an asymmetric frustum given by
    OpenXR's four angles (left and down negative for a centred eye)."""
    return frustum_dmat(math.tan(left_rad), math.tan(right_rad), math.tan(down_rad), math.tan(up_rad), near_m, far_m)


def frustum_dmat(tan_l: float, tan_r: float, tan_d: float, tan_u: float, near_m: float, far_m: float) -> glm.dmat4:
    """glFrustum in double precision (pyglm's ``frustum`` of Python floats is float32)."""
    l, r, b, t, n, f = near_m * tan_l, near_m * tan_r, near_m * tan_d, near_m * tan_u, near_m, far_m
    a = np.array([[2 * n / (r - l), 0.0, (r + l) / (r - l), 0.0],
                  [0.0, 2 * n / (t - b), (t + b) / (t - b), 0.0],
                  [0.0, 0.0, -(f + n) / (f - n), -2 * f * n / (f - n)],
                  [0.0, 0.0, -1.0, 0.0]])
    return glm.dmat4(a)


@dataclasses.dataclass(frozen=True)
class EyeFrustum:
    """An eye's asymmetric field of view (tangents) and the symmetric frustum rendered for it."""

    tan_left: float
    tan_right: float
    tan_down: float
    tan_up: float

    @staticmethod
    def from_fov(fov) -> "EyeFrustum":
        return EyeFrustum(math.tan(fov.angle_left), math.tan(fov.angle_right),
                          math.tan(fov.angle_down), math.tan(fov.angle_up))

    @property
    def tan_x(self) -> float:
        """Half-width tangent of the enclosing symmetric frustum."""
        return max(abs(self.tan_left), abs(self.tan_right))

    @property
    def tan_y(self) -> float:
        return max(abs(self.tan_down), abs(self.tan_up))

    def render_size(self, eye_w: int, eye_h: int) -> tuple[int, int]:
        """The symmetric render's size in pixels so that the crop is ``eye_w`` x ``eye_h``."""
        w = int(math.ceil(eye_w * 2.0 * self.tan_x / (self.tan_right - self.tan_left)))
        h = int(math.ceil(eye_h * 2.0 * self.tan_y / (self.tan_up - self.tan_down)))
        return w + (w % 2), h + (h % 2)

    def crop(self, size: tuple[int, int], eye_w: int, eye_h: int) -> tuple[int, int]:
        """(x0, y0) of the ``eye_w`` x ``eye_h`` crop inside a symmetric render of ``size``,
        in GL's bottom-up rows."""
        w, h = size
        x0 = int(round((self.tan_left + self.tan_x) / (2.0 * self.tan_x) * w))
        y0 = int(round((self.tan_down + self.tan_y) / (2.0 * self.tan_y) * h))
        return min(max(0, x0), w - eye_w), min(max(0, y0), h - eye_h)

    def fov_x_deg(self) -> float:
        """The symmetric render's horizontal field of view (the renderer's ``fov_deg``)."""
        return math.degrees(2.0 * math.atan(self.tan_x))

    def projection(self, near_m: float, far_m: float) -> glm.dmat4:
        return frustum_dmat(self.tan_left, self.tan_right, self.tan_down, self.tan_up, near_m, far_m)


def to_panda(m: glm.dmat4):
    """The one conversion into Panda3D (float32, row vectors)."""
    from experience.scene.boundary import to_panda as _tp

    return _tp(m)
