"""Small helpers for tests."""

import numpy as np


def to_numpy(a):
    """Bring any namespace's array to NumPy for assertions (tests only)."""
    if hasattr(a, "get"):  # CuPy
        return a.get()
    return np.asarray(a)
