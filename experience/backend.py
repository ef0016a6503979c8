"""Array backend selection, in one place.

``select_backend()`` is called once, at the boundary (the CLI, a front end, a benchmark), from
``--backend`` or ``ASTP_BACKEND`` (``auto``, ``numpy`` or ``cupy``). The kernels never choose:
they work on whatever namespace their input arrays belong to. Arrays move between host and
device only through :func:`Backend.asarray` and :func:`to_host`, so no copy happens silently.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import sys
from typing import Any

import numpy as np

from experience.errors import AstpError

CHOICES = ("auto", "numpy", "cupy")
ENV_VAR = "ASTP_BACKEND"


@dataclasses.dataclass(frozen=True)
class Backend:
    """The chosen array namespace and why it was chosen."""

    name: str  # "numpy" or "cupy"
    xp: Any  # the array namespace module
    reason: str  # one sentence for `astp doctor` and notices
    device: str  # "cpu" or e.g. "cuda:0 (NVIDIA H100)"

    def asarray(self, host_array, dtype=None):
        """Host (NumPy) data -> an array of this backend (an explicit host-to-device copy)."""
        return self.xp.asarray(host_array, dtype=dtype or self.xp.float64)


def to_host(array) -> np.ndarray:
    """Any backend's array -> NumPy (an explicit device-to-host copy for CuPy)."""
    if hasattr(array, "get"):
        return array.get()
    return np.asarray(array)


def probe_cupy() -> tuple[Any | None, str]:
    """CuPy and its device description, or None and the reason it cannot run here."""
    try:
        cupy = importlib.import_module("cupy")
    except ImportError:
        return None, "CuPy is not installed (pip install '.[gpu]' on a machine with an NVIDIA GPU)"
    except Exception as exc:  # a broken CUDA install can raise anything at import
        return None, f"CuPy failed to import: {type(exc).__name__}: {exc}"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:
        return None, f"CuPy is installed but CUDA is unusable ({type(exc).__name__}: {exc})".strip()
    if count < 1:
        return None, "CuPy is installed but no CUDA device is present"
    try:
        props = cupy.cuda.runtime.getDeviceProperties(0)
        name = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
    except Exception:
        name = "CUDA device"
    return cupy, f"cuda:0 ({name})"


def select_backend(requested: str | None = None, *, notice=None) -> Backend:
    """Choose the array backend: the argument, else $ASTP_BACKEND, else ``auto``.

    ``notice`` is called with one line when ``auto`` falls back to NumPy (default: print to
    stderr). Asking for ``cupy`` where it cannot run raises :class:`AstpError` with the fix.
    """
    source = "--backend"
    if requested is None:
        requested = os.environ.get(ENV_VAR)
        source = ENV_VAR
    if requested is None or requested == "":
        requested, source = "auto", "default"
    choice = requested.strip().lower()
    if choice not in CHOICES:
        raise AstpError(
            f"unknown array backend {requested!r} (from {source}); use one of: {', '.join(CHOICES)}"
        )
    if choice == "numpy":
        return Backend("numpy", np, f"NumPy {np.__version__}, requested by {source}", "cpu")
    cupy, detail = probe_cupy()
    if choice == "cupy":
        if cupy is None:
            raise AstpError(
                f"the CuPy backend was requested by {source} but cannot run here: {detail}; "
                f"use --backend numpy (or ASTP_BACKEND=numpy) on this machine"
            )
        return Backend("cupy", cupy, f"CuPy {cupy.__version__} on {detail}, requested by {source}", detail)
    if cupy is not None:
        return Backend("cupy", cupy, f"CuPy {cupy.__version__} on {detail} (auto)", detail)
    line = f"astp: using NumPy on the CPU: {detail}"
    (notice or (lambda msg: print(msg, file=sys.stderr)))(line)
    return Backend("numpy", np, f"NumPy {np.__version__} (auto: {detail})", "cpu")
