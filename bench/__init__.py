"""Benchmarks: ``python -m bench NAME [--quick] [--json] [--backend numpy|cupy]``.

Each benchmark is a module ``bench/NAME.py`` exposing ``run(quick: bool) -> dict`` that times
our code and a baseline in the same process and returns at least ``name``, ``ours_per_s``,
``baseline``, ``baseline_per_s``, ``ratio`` (= ours_per_s / baseline_per_s), ``machine`` and
``notes``. Timings are the best of a few repetitions; tests never assert on them.
"""

from __future__ import annotations

import os
import platform
import time


def cpu_model() -> str:
    """The CPU model name (from /proc/cpuinfo where there is one)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def machine_info(backend: str, device: str = "cpu") -> dict:
    """CPU, cores, Python and NumPy versions and the array backend of this run."""
    import numpy as np

    info = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "backend": backend,
        "device": device,
        "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
    }
    try:
        import sgp4

        info["sgp4"] = sgp4.__version__
    except ImportError:
        pass
    return info


def best_time(fn, repeats: int, sync=None) -> float:
    """Best wall-clock time of ``repeats`` calls of ``fn`` (``sync`` is called before the clock
    stops, e.g. a CUDA device synchronisation)."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        if sync is not None:
            sync()
        best = min(best, time.perf_counter() - t0)
    return best
