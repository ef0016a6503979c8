"""The benchmark harness: `python -m bench NAME [--quick] [--json]` (never asserts on time)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _bench(*args):
    env = dict(os.environ, ASTP_BACKEND="numpy")
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def _common(result, name):
    for key in ("name", "ours_per_s", "baseline", "baseline_per_s", "ratio", "machine", "notes", "by_batch",
                "load_average", "verdict", "losing_batch_sizes"):
        assert key in result, key
    assert result["name"] == name
    assert result["ours_per_s"] > 0 and result["baseline_per_s"] > 0
    assert result["ratio"] == pytest.approx(result["ours_per_s"] / result["baseline_per_s"], rel=1e-12)
    for key in ("cpu", "cores", "python", "numpy", "backend"):
        assert key in result["machine"], key
    assert result["machine"]["backend"] == "numpy"
    for row in result["by_batch"]:
        assert row["ratio"] == pytest.approx(row["ours_per_s"] / row["baseline_per_s"], rel=1e-12)
        assert row["ours_wins"] == (row["ratio"] > 1.0)
    assert result["losing_batch_sizes"] == [r.get("pairs", r.get("cases")) for r in result["by_batch"]
                                            if not r["ours_wins"]]


def test_ephemeris_quick_json():
    pytest.importorskip("sgp4")
    proc = _bench("ephemeris", "--quick", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    _common(result, "ephemeris")
    assert result["pairs"] == 10**5 and result["quick"] is True
    assert result["baseline_errors"] == 0
    assert [r["pairs"] for r in result["by_batch"]] == [10**2, 10**3, 10**4, 10**5]
    for row in result["by_batch"]:
        for key in ("pairs", "ours_per_s", "baseline_per_s", "ratio"):
            assert key in row, key
        # the baseline at its best is no slower than either of its figures
        assert row["baseline_per_s"] >= row["baseline_1process_per_s"] * (1 - 1e-12)
    # accuracy beside speed: the fast path's error and SGP4's, both against the numerical propagator
    for key in ("fast_path_error_km", "sgp4_error_km"):
        err = result[key]
        assert 0.0 < err["median"] <= err["max"] < 100.0, (key, err)
    assert "--quick stops at 10^5" in result["what"]


def test_docking_quick_json():
    pytest.importorskip("mujoco")
    proc = _bench("docking", "--quick", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    _common(result, "docking")
    assert result["contacts_ours"] == result["contacts_baseline"] == 36
    assert result["baseline_threads"] >= 1
    assert [r["cases"] for r in result["by_batch"]] == [100, 1000]
    check = result["check"]
    assert check["cases"][0]["case"] == "historical" and len(check["cases"]) == 3
    # the equivalent model is equivalent where it matters: the same capture outcome on every case
    assert check["same_outcome"], check
    for case in check["cases"]:
        assert case["peak_force_ours_n"] > 0 and case["peak_force_mujoco_n"] > 0
        assert 0.3 < case["force_ratio"] < 3.0, case


def test_crossing_physics_reports_the_crews_moving():
    """bench crossing's physics part (in process, a few frames): every room at rest, and the DM and
    the orbital module while the crews move (their solids re-posed every frame), each with its
    median and mean; the full JSON's format is tested in tests/test_crossing.py."""
    from bench import crossing as bc

    out = bc._physics_ms(6)
    moving = out.pop("_crews_moving")
    assert set(out) == set(bc.ROOMS) and set(moving) == set(bc.CREWS_MOVING) == {"dm", "soyuz_om"}
    for room, d in moving.items():
        assert d["physics_ms"] > 0 and d["physics_ms_median"] > 0 and d["physics_room_at_end"] == room
        assert "->" in d["crew_at_end"], d   # the crews were moving while it was timed
        assert out[room]["physics_ms_crews_moving"] == d["physics_ms"]
        assert out[room]["physics_ms_crews_moving_median"] == d["physics_ms_median"]


def test_human_table():
    pytest.importorskip("sgp4")
    proc = _bench("ephemeris", "--quick")
    assert proc.returncode == 0, proc.stderr
    assert "ratio" in proc.stdout and "baseline" in proc.stdout


def test_unknown_benchmark_lists_the_available_ones():
    proc = _bench("no-such-benchmark")
    assert proc.returncode == 2
    lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()]
    assert len(lines) == 1
    assert "no-such-benchmark" in lines[0] and "ephemeris" in lines[0]


def test_vr_noop_probe_reports_a_stereo_and_a_mono_frame_per_room():
    """bench vr's no-op part (the issue's figure: CPU per stereo frame on Mesa's no-op driver
    against the mono frame), run small in one room: the fields it reports (never their values)."""
    env = dict(os.environ, GALLIUM_NOOP="1", ASTP_BENCH_STICK="0.2")
    env.pop("DISPLAY", None)
    proc = subprocess.run([sys.executable, "-m", "bench.vr", "noop", "dm", "30", "10", "5", "160", "120"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["place"] == "dm" and got["stereo"]["frames"] == 30 and got["mono"]["frames"] == 10
    for side in ("stereo", "mono"):
        for key in ("p50_ms", "p95_ms", "mean_ms", "cpu_p50_ms"):
            assert got[side][key] > 0.0, (side, key)
    assert "growth_pct" not in got["stereo"]          # only a run of 2,000 frames or more checks growth
