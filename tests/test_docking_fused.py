"""The fused CPU fast path (kernels/docking_fused.py, Numba) against the reference kernel
(kernels/docking.py) it mirrors: same start states, same steps, every state field.

Stated tolerance: after 300 steps of 1 ms through contact, capture and the phases after it,
every continuous field agrees to 1e-9 of its scale (largest magnitude in the batch, at least 1)
and the discrete ones (phases, event times) exactly; measured differences are ~1e-15 m in
positions and ~1e-12 relative in contact forces (the fused path adds the same terms in a
slightly different order and fuses multiply-adds). The reference runs on NumPy and under array_api_strict.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from experience.simulation import docking as sd
from kernels import docking as dk

fz = pytest.importorskip("kernels.docking_fused")
pytestmark = pytest.mark.skipif(not fz.available(), reason="numba is not installed (the fast path is optional)")

TOL = 1e-9
DISCRETE = ("t_s", "phase", "t_contact_s", "t_capture_s", "t_retract_s", "t_align_s", "t_hooks_s",
            "t_hard_dock_s")


def _host(a):
    try:
        return np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError, RuntimeError):  # array_api_strict: through DLPack
        return np.asarray(np.from_dlpack(a), dtype=np.float64)


def _starts(n, seed=3):
    """Captures in progress (the benchmark's cases), some of them put in the later phases."""
    from bench.docking import _cases

    _, off, vel, mis, rate = _cases(n, seed)
    return off, vel, mis, rate


def _later_phases(p, st):
    """A quarter each in approach/contact (as started), captured at t=0, retraction, alignment with
    the ring retracted, and hooks closing (the hooks' rest lengths from the start pose)."""
    n = st.t_s.shape[0]
    k = np.arange(n) % 5
    phase = np.where(k == 1, float(dk.CAPTURED), np.where(k == 2, float(dk.RETRACTION),
                     np.where(k == 3, float(dk.ALIGNMENT), np.where(k == 4, float(dk.HOOKS), st.phase))))
    ext = np.where(k >= 3, 0.0, st.ring_ext_m)
    t_cap = np.where(k >= 1, 0.0, st.t_capture_s)
    hook_rest = np.where((k == 4)[:, None], 0.02, st.hook_rest_m)
    return st._replace(phase=phase, ring_ext_m=ext, t_capture_s=t_cap, hook_rest_m=hook_rest)


def _compare(ref, fast):
    for name, a in ref._asdict().items():
        if name == "contact_ref" or a is None:
            continue
        a, b = _host(a), _host(getattr(fast, name))
        assert a.shape == b.shape, name
        assert np.array_equal(np.isnan(a), np.isnan(b)), name
        if name in DISCRETE:
            assert np.array_equal(a, b, equal_nan=True), name
            continue
        scale = max(1.0, float(np.nanmax(np.abs(a)))) if a.size else 1.0
        diff = np.where(np.isnan(a), 0.0, np.abs(a - b))
        assert float(diff.max(initial=0.0)) <= TOL * scale, (name, float(diff.max()), scale)


@pytest.mark.parametrize("active,post", [("apollo", False), ("apollo", True), ("soyuz", True)])
def test_fused_matches_the_reference_numpy(active, post):
    spec = sd.load_spec(active, thrusters=False, orbit=True, capture=True, post_capture=post, track_external=True)
    p = dk.build_params(spec, np.zeros(1))
    st = dk.approach_state(p, *_starts(200))
    if post:
        st = _later_phases(p, st)
    ref = dk.run(p, st, 300)
    fast = fz.run(p, st, 300)
    _compare(ref, fast)
    phases = _host(ref.phase)
    assert (phases == dk.CAPTURED).any() and (phases == dk.CONTACT).any()
    if post:
        assert (phases >= dk.ALIGNMENT).any()


def test_fused_matches_the_reference_under_array_api_strict():
    xps = pytest.importorskip("array_api_strict")
    spec = sd.load_spec("apollo", thrusters=False, orbit=True, capture=True, post_capture=True)
    off, vel, mis, rate = _starts(24)
    like = xps.asarray(np.zeros(1))
    p_strict = dk.build_params(spec, like)
    st_strict = dk.approach_state(p_strict, *(xps.asarray(a) for a in (off, vel, mis, rate)))
    ref = dk.run(p_strict, st_strict, 120)
    p = dk.build_params(spec, np.zeros(1))
    host_start = dk.DockingState(*(None if a is None else _host(a) for a in st_strict))
    fast = fz.run(p, host_start, 120)
    _compare(ref, fast)


def test_fused_scope():
    thr = sd.load_spec("apollo", thrusters=True, orbit=True)
    p = dk.build_params(thr, np.zeros(1))
    assert not fz.supports(p)
    st = dk.approach_state(p, *(a[:2] for a in _starts(2)))
    with pytest.raises(ValueError, match="thrusters"):
        fz.run(p, st, 1)
    free = dk.build_params(sd.load_spec("apollo", thrusters=False), np.zeros(1))
    assert fz.supports(free)
    assert not math.isnan(fz.run(free, dk.approach_state(free, *(a[:2] for a in _starts(2))), 2).t_s[0])
