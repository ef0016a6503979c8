"""The generated data in generated/ (experience/generated.py, tools/build_generated.py): current for
today's code and data, and what a rebuild from scratch gives.

Tolerance: on the machine that built them the files are byte-identical to a rebuild (the checks
below say so when they are). Another CPU or NumPy build may round the last bit of a float
differently (SIMD paths of sin/cos/sqrt), and a newer Pillow may decode the JPEG Blue Marble a
level differently in a few pixels; so the comparison accepts, and says, differences below 1 mm in
a position, 1 um/s in a velocity, 0.1 % of the texture pixels, 0.1 mm and 1e-5 in the docking
poses. Anything larger means the stored file is not what the code makes: rebuild it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from experience import cache, generated

ROOT = Path(__file__).resolve().parents[1]
FIX = "run python tools/build_generated.py and commit generated/"


def _stored(name: str) -> dict:
    entry = generated.builders()[name][0]()
    return cache.read(ROOT / "generated" / f"{name}.npz", entry)


def _close_json(a, b, path="") -> None:
    if isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, (int, float)) and isinstance(b, (int, float)) and abs(a - b) <= 1e-9 * max(1.0, abs(a)), \
            f"{path}: {a} vs {b}; {FIX}"
    elif isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), f"{path}: keys differ; {FIX}"
        for k in a:
            _close_json(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), f"{path}: lengths differ; {FIX}"
        for i, (x, y) in enumerate(zip(a, b)):
            _close_json(x, y, f"{path}[{i}]")
    else:
        assert a == b, f"{path}: {a!r} vs {b!r}; {FIX}"


def _compare(stored: dict, fresh: dict, tol: dict, default_atol: float = 0.0) -> list[str]:
    """Names of arrays that differ at all (reported), asserting each within its tolerance."""
    assert set(stored) == set(fresh), f"fields differ: {sorted(set(stored) ^ set(fresh))}; {FIX}"
    differ = []
    for key in sorted(stored):
        a, b = stored[key], fresh[key]
        if a.dtype == np.uint8 and a.ndim == 1 and key in ("meta", "info"):  # a JSON document
            if not np.array_equal(a, b):
                differ.append(key)
                _close_json(cache.from_json_array(a), cache.from_json_array(b), key)
            continue
        assert a.shape == b.shape and a.dtype == b.dtype, f"{key}: {a.shape} {a.dtype} vs {b.shape} {b.dtype}; {FIX}"
        if np.array_equal(a, b):
            continue
        differ.append(key)
        atol = tol.get(key, tol.get(key.rsplit("_", 1)[-1], default_atol))
        assert np.allclose(a, b, rtol=0.0, atol=atol), f"{key} differs by {np.abs(a - b).max():g} (> {atol:g}); {FIX}"
    return differ


def test_generated_files_are_current():
    states = {name: generated.status(name) for name in generated.NAMES}
    assert all(s == "current" for s in states.values()), f"{states}: {FIX}"


def test_generated_files_are_small():
    sizes = {p.name: p.stat().st_size for p in (ROOT / "generated").glob("*.npz")}
    assert set(sizes) == {f"{n}.npz" for n in generated.NAMES}
    assert sum(sizes.values()) < 5_000_000, sizes


def test_the_shipped_data_is_what_the_program_uses(tmp_path, monkeypatch):
    """With an empty user cache, nothing is built: everything comes from generated/."""
    from experience.scene import earth_textures as et
    from experience.simulation import docking_replay as dr
    from experience.simulation import trajectory as tr

    monkeypatch.setenv("ASTP_CACHE_DIR", str(tmp_path / "empty"))
    for entry in (tr.cache_entry(), et.water_entry(), et.cloud_entry(), dr.replay_entry()):
        got = cache.load(entry, lambda: pytest.fail(f"{entry.name} was built instead of read"))
        assert got.origin == "generated", entry.name
    # nothing built or copied: at most the source digests that make the keys quick next time
    left = sorted(p.name for p in (tmp_path / "empty").glob("*")) if (tmp_path / "empty").exists() else []
    assert left in ([], [cache.STAMPS_FILE])


def test_rebuilding_the_trajectory_gives_the_stored_file(tmp_path):
    """`astp trajectory --rebuild` solves again (~20 s) into a private cache: the same arrays."""
    from experience.simulation import trajectory as tr

    env = dict(os.environ, ASTP_CACHE_DIR=str(tmp_path))
    proc = subprocess.run([sys.executable, "-m", "experience.frontends.cli", "trajectory", "--rebuild", "--json"],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)
    assert proc.returncode == 0, proc.stderr
    entry = tr.cache_entry()
    fresh = cache.read(tmp_path / f"trajectory-{entry.key}.npz", entry)
    differ = _compare(_stored("trajectory"), fresh, {"p": 1e-6, "v": 1e-9, "t": 1e-9, "o": 1e-9}, 1e-9)
    print("trajectory rebuild:", "byte-identical" if not differ else f"within tolerance ({len(differ)} arrays differ)")


def test_rebuilding_the_textures_gives_the_stored_files():
    from experience.scene import earth_textures as et

    for name, key, fresh in (("watermask", "mask", et.build_water_mask()), ("clouds", "clouds", et.build_clouds())):
        stored = _stored(name)[key]
        assert stored.shape == fresh.shape and stored.dtype == fresh.dtype
        off = np.count_nonzero(stored != fresh) / stored.size
        assert off <= 1e-3, f"{name}: {100 * off:.3f} % of the pixels differ; {FIX}"
        print(f"{name} rebuild:", "byte-identical" if off == 0 else f"{100 * off:.4f} % of pixels differ")


@pytest.mark.slow
def test_resimulating_the_docking_gives_the_stored_replay():
    """Simulates the docking of 16:09 UTC from scratch (~1-2 min on one core)."""
    from experience.simulation import docking as sd
    from experience.simulation import docking_replay as dr

    fresh = dr.replay_arrays_from_run(sd.historical_docking())
    stored = _stored("docking-replay")
    info_s, info_f = cache.from_json_array(stored.pop("info")), cache.from_json_array(fresh.pop("info"))
    assert info_s == info_f, f"the docking's times differ: {info_s} vs {info_f}; {FIX}"
    differ = _compare(stored, fresh, {"utc_s_from_capture": 1e-9, "m": 1e-4, "rot": 1e-5, "n": 1e-2, "phase": 0.0})
    print("docking replay re-simulated:", "byte-identical" if not differ else f"within tolerance: {differ}")
