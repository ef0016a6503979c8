"""Fixed-step Adams-Bashforth-Moulton integration of batched first-order systems ``y' = f(y)``.

The method (Hairer, Norsett & Wanner, "Solving ODEs I", sec. III.1; Montenbruck & Gill,
"Satellite Orbits", sec. 4.2.3):

- start: the first ``K`` nodes ``t = 0, h, ..., (K-1) h`` come from one classical RK4 step per
  node (an initial guess) refined by Picard iteration of the collocation formula
  ``y_j = y_0 + h sum_i W[j, i] f_i`` with ``W[j, i] = int_0^j L_i(s) ds`` (Lagrange basis on the
  nodes 0..K-1). All K-1 unknown nodes are evaluated in one batched call per iteration, and the
  factorial convergence of Picard iteration makes the start as accurate as the main stepping;
- main steps: predictor Adams-Bashforth with ``K`` back values (order K), one evaluation,
  corrector Adams-Moulton with ``K+1`` values (order K+1), one evaluation (PECE);
- dense output: the corrector's interpolating polynomial integrated from ``t_n`` to
  ``t_n + theta h`` (same order as the corrector), so output times need not be step nodes.

Every coefficient is computed here with exact rational arithmetic from its defining integral.
Time, step count and output times are host-side Python numbers (a schedule, not state): the
number of steps is fixed before any array work and no array value steers the control flow.
"""

from __future__ import annotations

import math
from fractions import Fraction

from kernels._xp import namespace

ORDER_K = 8  # back values of the predictor; corrector order K + 1
PICARD_ITERATIONS = 10  # Picard refinement sweeps of the start block
_NODE_TOL = 1e-9  # |t/h - node| below which an output time is taken as the node itself


# ---------------------------------------------------------------------------------------------
# Coefficients from exact polynomial integrals
# ---------------------------------------------------------------------------------------------
def _poly_mul(p, q):
    out = [Fraction(0)] * (len(p) + len(q) - 1)
    for i, a in enumerate(p):
        for j, b in enumerate(q):
            out[i + j] += a * b
    return out


def _lagrange_basis(nodes, j):
    """Coefficients (ascending powers of s) of the Lagrange polynomial L_j on ``nodes``."""
    poly = [Fraction(1)]
    for m, sm in enumerate(nodes):
        if m == j:
            continue
        den = Fraction(nodes[j] - sm)
        poly = _poly_mul(poly, [Fraction(-sm) / den, Fraction(1) / den])
    return poly


def _antiderivative(poly):
    """Coefficients of int_0^theta poly(s) ds (ascending powers of theta, starting at theta^0)."""
    return [Fraction(0)] + [c / (k + 1) for k, c in enumerate(poly)]


def _poly_eval(poly, x):
    acc = 0.0
    for c in reversed(poly):
        acc = acc * x + float(c)
    return acc


def _integrated_basis(nodes):
    """For each node j, the polynomial theta -> int_0^theta L_j(s) ds."""
    return [_antiderivative(_lagrange_basis(nodes, j)) for j in range(len(nodes))]


def adams_coefficients(k: int = ORDER_K):
    """(beta_AB, beta_AM): Adams-Bashforth weights of f_n, f_{n-1}, ..., f_{n-k+1} (order k) and
    Adams-Moulton weights of f_{n+1}, f_n, ..., f_{n-k+1} (order k+1), as floats."""
    ab_nodes = [-i for i in range(k)]
    am_nodes = [1] + ab_nodes
    ab = tuple(_poly_eval(p, 1.0) for p in _integrated_basis(ab_nodes))
    am = tuple(_poly_eval(p, 1.0) for p in _integrated_basis(am_nodes))
    return ab, am


_AB, _AM = adams_coefficients(ORDER_K)
_AM_DENSE = _integrated_basis([1] + [-i for i in range(ORDER_K)])  # for 0 < theta < 1
_START_BASIS = _integrated_basis(list(range(ORDER_K)))  # start block, s in [0, K-1]
_START_W = tuple(tuple(_poly_eval(p, float(j)) for p in _START_BASIS) for j in range(ORDER_K))


# ---------------------------------------------------------------------------------------------
# Stepping
# ---------------------------------------------------------------------------------------------
def _weighted_sum(xp, weights, arrays):
    """sum_i w_i * arrays[i] for a short Python list (weights are host floats)."""
    acc = None
    for w, a in zip(weights, arrays):
        if w == 0.0:
            continue
        term = w * a
        acc = term if acc is None else acc + term
    return acc


def _rk4(f, y, h):
    k1 = f(y)
    k2 = f(y + (0.5 * h) * k1)
    k3 = f(y + (0.5 * h) * k2)
    k4 = f(y + h * k3)
    return y + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


def _start_block(xp, f, y0, h):
    """States and derivatives at nodes 0..K-1 (lists of arrays shaped like y0)."""
    k = ORDER_K
    ys = [y0]
    for _ in range(k - 1):
        ys.append(_rk4(f, ys[-1], h))
    f0 = f(y0)
    for _ in range(PICARD_ITERATIONS):
        block = xp.stack(ys[1:], axis=0)  # (K-1, ...) evaluated in one call
        fb = f(block)
        fs = [f0] + [fb[j, ...] for j in range(k - 1)]
        ys = [y0] + [y0 + h * _weighted_sum(xp, _START_W[j], fs) for j in range(1, k)]
    block = xp.stack(ys[1:], axis=0)
    fb = f(block)
    fs = [f0] + [fb[j, ...] for j in range(k - 1)]
    return ys, fs


def solve(f, y0, h: float, n_steps: int, t_out):
    """Integrate ``y' = f(y)`` from ``t = 0`` with ``n_steps`` fixed steps of size ``h``.

    ``f`` maps an array shaped ``(..., *y0.shape)`` to an array of the same shape (it must
    accept extra leading axes: the start block evaluates K-1 states in one call). ``h`` may be
    negative. ``t_out`` is a host-side sequence of output times in ``[0, n_steps*h]``, ordered
    in the direction of integration. Returns the list of states at ``t_out``.
    ``n_steps`` must be at least ``ORDER_K - 1`` (the start block); use :func:`steps_for`.
    """
    xp = namespace(y0)
    k = ORDER_K
    if n_steps < k - 1:
        raise ValueError(f"need at least {k - 1} steps, got {n_steps}")
    nodes_out = [float(t) / h for t in t_out]  # in units of steps, ascending
    out = [None] * len(nodes_out)
    pending = 0  # index of the first output not yet produced

    ys, fs = _start_block(xp, f, y0, h)
    # Outputs inside the start block [0, K-1].
    while pending < len(nodes_out) and nodes_out[pending] <= (k - 1) + _NODE_TOL:
        s = nodes_out[pending]
        j = round(s)
        if abs(s - j) < _NODE_TOL:
            out[pending] = ys[j]
        else:
            w = [_poly_eval(p, s) for p in _START_BASIS]
            out[pending] = y0 + h * _weighted_sum(xp, w, fs)
        pending += 1

    y = ys[-1]
    hist = list(reversed(fs))  # f_n, f_{n-1}, ..., f_{n-K+1}
    for n in range(k - 1, n_steps):
        if pending >= len(nodes_out):
            break
        yp = y + h * _weighted_sum(xp, _AB, hist)
        fp = f(yp)
        y_new = y + h * (_AM[0] * fp + _weighted_sum(xp, _AM[1:], hist))
        f_new = f(y_new)
        while pending < len(nodes_out) and nodes_out[pending] <= n + 1 + _NODE_TOL:
            theta = nodes_out[pending] - n
            if abs(theta - 1.0) < _NODE_TOL:
                out[pending] = y_new
            elif abs(theta) < _NODE_TOL:
                out[pending] = y
            else:
                w = [_poly_eval(p, theta) for p in _AM_DENSE]
                out[pending] = y + h * (w[0] * f_new + _weighted_sum(xp, w[1:], hist))
            pending += 1
        y = y_new
        hist = [f_new] + hist[:-1]
    if pending < len(nodes_out):
        raise ValueError("output times beyond the integration span")
    return out


def steps_for(span: float, step: float) -> int:
    """Number of fixed steps for ``|span|`` at nominal ``step``: ceil(|span|/step), at least the
    start block (K-1); the actual step is ``span / steps`` (never larger than ``step``)."""
    if not step > 0.0:
        raise ValueError("step must be positive")
    return max(ORDER_K - 1, int(math.ceil(abs(span) / step - 1e-12)))
