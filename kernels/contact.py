"""Contact primitives for the docking kernels: small-vector algebra, the closest points of two
segments, the distance to a torus, and the penalty contact law.

Pure array code; the namespace comes from the inputs (NumPy, CuPy, array_api_strict). Units:
metres, newtons, seconds.

Two layouts. The state's body arrays are ordinary arrays with xyz last, ``(..., 3)`` (the
helpers in the first section). Inside a step everything is *structure of arrays with the case
axis last*: a vector is a tuple of three component arrays ``(N,)`` (one per case) or ``(K, N)``
(K points per case), a matrix a nested 3x3 tuple of such arrays, constants ``(K, 1)``. Every
operation then runs over long contiguous lanes of N cases (NumPy's inner loop is the case axis,
not a length-3 or length-6 one), and the sums over points are reductions over the leading axis.

Contact law (per contact; normal ``n`` pointing from body B towards body A, penetration ``pen`` > 0
when overlapping, ``u = v_A - v_B`` the velocity of A's material point minus B's at the contact
point):

    f_n = max(0, k pen - c min(pen / depth, 1) u.n)      if pen > 0, else 0
    f_t = -min(mu f_n, c_t |u_t|) u_t / |u_t|             (regularised Coulomb)

The spring part is conservative (potential k pen^2 / 2); the damping part only removes energy and
is ramped in over the first ``depth`` of penetration, so the force starts from zero at first touch
(Hunt-Crossley style); the normal force never pulls; friction always opposes the sliding velocity
and is bounded by both the Coulomb limit and a viscous slope ``c_t`` that keeps the explicit
integration stable (below a sliding speed mu f_n / c_t it is viscous). The force on A is
``f_n n + f_t``; B gets the opposite force at the same point, so a pair carries no net force and
no net moment: momentum is conserved exactly by construction.
"""

from __future__ import annotations

TINY = 1e-12


# ---------------------------------------------------------------------------------------------
# xyz-last arrays (bodies)
# ---------------------------------------------------------------------------------------------
def cross(a, b, xp):
    """Row-wise cross product of broadcastable (..., 3) arrays."""
    ax, ay, az = a[..., 0], a[..., 1], a[..., 2]
    bx, by, bz = b[..., 0], b[..., 1], b[..., 2]
    return xp.stack((ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx), axis=-1)


def rotate_rows(rot, vec):
    """``rot @ vec`` row by row: rot (..., 3, 3), vec (..., 3) -> (..., 3)."""
    return rot[..., 0] * vec[..., 0, None] + rot[..., 1] * vec[..., 1, None] + rot[..., 2] * vec[..., 2, None]


def rotate_rows_t(rot, vec):
    """``rot.T @ vec`` row by row: rot (..., 3, 3), vec (..., 3) -> (..., 3)."""
    return rot[..., 0, :] * vec[..., 0, None] + rot[..., 1, :] * vec[..., 1, None] + rot[..., 2, :] * vec[..., 2, None]


def matmul_tn(a, b):
    """``a.T @ b`` for stacks of 3x3 matrices (broadcasting over leading axes)."""
    return (a[..., 0, :, None] * b[..., 0, None, :] + a[..., 1, :, None] * b[..., 1, None, :]
            + a[..., 2, :, None] * b[..., 2, None, :])


# ---------------------------------------------------------------------------------------------
# Structure of arrays (points): a vector is a tuple (x, y, z) of arrays of one shape
# ---------------------------------------------------------------------------------------------
def vdot(a, b):
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def vcross(a, b):
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def vsub(a, b):
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def vadd(a, b):
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


def vscale(a, s):
    return (a[0] * s, a[1] * s, a[2] * s)


def vslice0(a, start, stop):
    """Points start:stop of an SoA vector of (K, N) arrays."""
    return (a[0][start:stop, ...], a[1][start:stop, ...], a[2][start:stop, ...])


def vsum0(a, xp):
    """SoA of (K, N) -> SoA of (N,): the sum over the K points."""
    return (xp.sum(a[0], axis=0), xp.sum(a[1], axis=0), xp.sum(a[2], axis=0))


def rows(a):
    """(3, ...) array -> SoA of its three rows (e.g. constant points (3, K, 1) -> three (K, 1))."""
    return (a[0, ...], a[1, ...], a[2, ...])


def mat_vec(m, v):
    """``m @ v``: m a nested 3x3 tuple of arrays, v an SoA vector (everything broadcasts)."""
    return tuple(m[i][0] * v[0] + m[i][1] * v[1] + m[i][2] * v[2] for i in range(3))


def mat_t_vec(m, v):
    """``m.T @ v`` (nested-tuple matrix, SoA vector)."""
    return tuple(m[0][i] * v[0] + m[1][i] * v[1] + m[2][i] * v[2] for i in range(3))


def mat_tn(a, b):
    """``a.T @ b`` for nested 3x3 tuples of arrays (or of floats for one of them)."""
    return tuple(tuple(a[0][i] * b[0][j] + a[1][i] * b[1][j] + a[2][i] * b[2][j] for j in range(3))
                 for i in range(3))


def transform(m, local, shift=None):
    """``m @ local (+ shift)``: m a nested 3x3 tuple of (N,) arrays, local SoA of (K, 1) constants
    or (K, N), shift SoA of (N,) -> SoA of (K, N)."""
    out = mat_vec(m, local)
    return out if shift is None else vadd(out, shift)


def transform_flat(m, xy, z, shift):
    """``m @ (x, y, z) + shift`` for constant points that share one z: m a nested 3x3 tuple of (N,)
    arrays, xy the (K, 1) constant x and y, z a float, shift SoA of (N,) -> SoA of (K, N). The z
    term joins the shift on the (N,) lanes, so the (K, N) work is two products and two sums."""
    x, y = xy[0, ...], xy[1, ...]
    return tuple(m[i][0] * x + m[i][1] * y + (m[i][2] * z + shift[i]) for i in range(3))


def transform_t(m, vec):
    """``m.T @ vec``: m a nested 3x3 tuple of (N,) arrays, vec SoA of (K, N)."""
    return mat_t_vec(m, vec)


# ---------------------------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------------------------
def segment_closest(p1, d1, p2, d2, aa, ee, xp):
    """Closest points of segments p1 + s d1 and p2 + t d2, s and t in [0, 1] (SoA vectors).

    ``aa = |d1|^2`` and ``ee = |d2|^2`` are passed in (constant for rigid segments). Ericson,
    "Real-Time Collision Detection" (2005) sec. 5.1.9, without branches: the clamped parameters
    are chosen with ``where``; (nearly) parallel segments take the clamped s of a tiny
    denominator, which still gives a closest pair. Returns (the point on the second segment,
    the vector from it to the point on the first).
    """
    r = vsub(p1, p2)
    b = vdot(d1, d2)
    c = vdot(d1, r)
    f = vdot(d2, r)
    denom = aa * ee - b * b
    s = xp.minimum(xp.maximum((b * f - c * ee) / xp.maximum(denom, 1e-12 * aa * ee), 0.0), 1.0)
    t = (b * s + f) / ee
    s = xp.where(t < 0.0, xp.minimum(xp.maximum(-c / aa, 0.0), 1.0),
                 xp.where(t > 1.0, xp.minimum(xp.maximum((b - c) / aa, 0.0), 1.0), s))
    t = xp.minimum(xp.maximum(t, 0.0), 1.0)
    c2 = vadd(p2, vscale(d2, t))
    return c2, vsub(vadd(p1, vscale(d1, s)), c2)


def torus_rho_distance(pts, radius, z0, xp):
    """The distance ``rho`` of points (SoA) from the z axis and ``d`` from the centre-line of a
    torus (a circle of ``radius`` about the z axis in the plane z = z0): what a penetration needs;
    the unit normal comes separately (:func:`torus_normal`), only for the points that touch."""
    px, py = pts[0], pts[1]
    rho = xp.sqrt(px * px + py * py)
    drho = rho - radius
    dz = pts[2] - z0
    return rho, xp.sqrt(drho * drho + dz * dz)


def torus_normal(pts, rho, d, radius, z0, xp):
    """The unit vector from the torus centre-line to the points, from ``rho`` and ``d`` of
    :func:`torus_rho_distance` (the same arithmetic as computing it all at once)."""
    drho = rho - radius
    dz = pts[2] - z0
    inv_d = 1.0 / xp.maximum(d, TINY)
    radial = drho * inv_d / xp.maximum(rho, TINY)
    return (radial * pts[0], radial * pts[1], dz * inv_d)


# ---------------------------------------------------------------------------------------------
# The penalty law
# ---------------------------------------------------------------------------------------------
def penalty_forces(pen, normal, u, stiffness, damping, depth, mu, slope, xp):
    """Contact forces on body A (SoA) and the normal force magnitudes, for contacts of any one
    array shape (the docking kernel passes the overlapping pairs as flat (P,) arrays).

    ``pen`` penetration, ``normal`` SoA unit normal from B to A, ``u`` SoA velocity of A's
    material point minus B's at the contact point; the law is in the module docstring.
    """
    vn = vdot(u, normal)
    ramp = xp.minimum(xp.maximum(pen * (1.0 / depth), 0.0), 1.0)
    fn = stiffness * pen - (damping * ramp) * vn
    fn = xp.where(pen > 0.0, xp.maximum(fn, 0.0), 0.0)
    ut = vsub(u, vscale(normal, vn))
    utm = xp.sqrt(vdot(ut, ut))
    coef = xp.minimum(mu * fn, slope * utm) / xp.maximum(utm, TINY)
    return vsub(vscale(normal, fn), vscale(ut, coef)), fn
