"""Shared fixtures: every kernel test runs on NumPy, under array_api_strict, and on CuPy where a
CUDA device exists (skipped with the reason otherwise)."""

from __future__ import annotations

import importlib

import numpy as np
import pytest


def _cupy_or_reason():
    try:
        cupy = importlib.import_module("cupy")
    except Exception as exc:  # ImportError, or a broken CUDA install
        return None, f"CuPy not importable ({type(exc).__name__}): GPU-only check"
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return None, "CuPy imported but no CUDA device is present"
    except Exception as exc:
        return None, f"CuPy imported but CUDA is unusable ({type(exc).__name__})"
    return cupy, ""


@pytest.fixture(
    params=[
        "numpy",
        "array_api_strict",
        pytest.param("cupy", marks=pytest.mark.gpu),
    ]
)
def xp(request):
    """The array namespace a kernel test runs on."""
    if request.param == "numpy":
        return np
    if request.param == "array_api_strict":
        return pytest.importorskip("array_api_strict")
    cupy, reason = _cupy_or_reason()
    if cupy is None:
        pytest.skip(reason)
    return cupy



@pytest.fixture(scope="session")
def mission(tmp_path_factory):
    """The reconstructed mission, built once per test session into a private cache folder
    (exported as ASTP_CACHE_DIR so child processes find it)."""
    import os

    cache = tmp_path_factory.mktemp("astp-cache")
    os.environ["ASTP_CACHE_DIR"] = str(cache)
    from experience.simulation.trajectory import mission_trajectory

    return mission_trajectory(notice=lambda _msg: None)


@pytest.fixture(scope="module")
def eph(mission):
    """The mission's ephemeris, one per test module."""
    from experience.simulation.ephemeris import Ephemeris

    return Ephemeris(trajectory=mission)


@pytest.fixture()
def exp(eph):
    """A fresh Experience (the one application loop) on the mission's ephemeris."""
    from experience.app.experience import Experience

    return Experience(eph)


@pytest.fixture(scope="session")
def xdisplay():
    """A private Xvfb display (tests/xdisplay.py) for the session: installed with apt-get where it
    is missing and we are root; where it cannot be set up the test skips (fails when CI=true)."""
    from tests.xdisplay import xvfb_or_skip

    disp = xvfb_or_skip()
    yield disp
    disp.stop()
