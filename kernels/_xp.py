"""Array-namespace helpers shared by the kernels."""

from __future__ import annotations

import math

from array_api_compat import array_namespace, device as _device

TWO_PI = 2.0 * math.pi
DEG = math.pi / 180.0
ARCSEC = DEG / 3600.0


def namespace(*arrays):
    """The array namespace of the inputs (NumPy, CuPy, array_api_strict, ...)."""
    return array_namespace(*arrays)


def asarray_like(value, like):
    """``value`` as a float64 array on the same namespace and device as ``like``."""
    xp = array_namespace(like)
    return xp.asarray(value, dtype=xp.float64, device=_device(like))


def wrap_pi(angle_rad):
    """Wrap angles to (-pi, pi]."""
    xp = array_namespace(angle_rad)
    wrapped = angle_rad - TWO_PI * xp.floor((angle_rad + math.pi) / TWO_PI)
    # floor maps exactly -pi to -pi; move it to +pi so the interval is (-pi, pi]. (Array
    # operands only: a Python scalar in where() is not in the 2023.12 standard.)
    return xp.where(wrapped == -math.pi, wrapped + TWO_PI, wrapped)


def wrap_two_pi(angle_rad):
    """Wrap angles to [0, 2 pi)."""
    xp = array_namespace(angle_rad)
    return angle_rad - TWO_PI * xp.floor(angle_rad / TWO_PI)


def dot(a, b):
    """Row-wise dot product of (..., 3) arrays."""
    xp = array_namespace(a, b)
    return xp.sum(a * b, axis=-1)


def norm(a):
    """Row-wise Euclidean norm of (..., 3) arrays."""
    xp = array_namespace(a)
    return xp.sqrt(xp.sum(a * a, axis=-1))


def cross(a, b):
    """Row-wise cross product of (..., 3) arrays (array API has linalg.cross in 2023.12+)."""
    xp = array_namespace(a, b)
    ax, ay, az = a[..., 0], a[..., 1], a[..., 2]
    bx, by, bz = b[..., 0], b[..., 1], b[..., 2]
    return xp.stack((ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx), axis=-1)


def matvec(m, v):
    """Apply (..., 3, 3) matrices to (..., 3) vectors."""
    xp = array_namespace(m, v)
    return xp.sum(m * v[..., None, :], axis=-1)


def rot_x(angle_rad):
    """Frame rotations R1(angle) as (..., 3, 3) arrays (passive, as in the astronomy texts)."""
    return _rot(angle_rad, 0)


def rot_y(angle_rad):
    return _rot(angle_rad, 1)


def rot_z(angle_rad):
    return _rot(angle_rad, 2)


def _rot(angle_rad, axis):
    xp = array_namespace(angle_rad)
    c, s = xp.cos(angle_rad), xp.sin(angle_rad)
    one, zero = xp.ones_like(c), xp.zeros_like(c)
    if axis == 0:
        rows = ((one, zero, zero), (zero, c, s), (zero, -s, c))
    elif axis == 1:
        rows = ((c, zero, -s), (zero, one, zero), (s, zero, c))
    else:
        rows = ((c, s, zero), (-s, c, zero), (zero, zero, one))
    return xp.stack([xp.stack(r, axis=-1) for r in rows], axis=-2)
