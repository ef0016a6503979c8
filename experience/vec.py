"""Small vector helpers for the per-frame paths (simulation and scene alike).

``numpy.cross`` costs tens of microseconds per call on small vectors (axis handling); a frame
calls it a dozen times. :func:`cross3` computes the same product from the components.
"""

from __future__ import annotations

import numpy as np


def cross3(a, b) -> np.ndarray:
    """The cross product of 3-vectors (shapes (3,) or (..., 3), broadcast like ``numpy.cross``)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    return np.stack((a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0), axis=-1)
