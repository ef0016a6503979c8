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


def test_ephemeris_quick_json():
    pytest.importorskip("sgp4")
    proc = _bench("ephemeris", "--quick", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    for key in ("name", "ours_per_s", "baseline", "baseline_per_s", "ratio", "machine", "notes"):
        assert key in result, key
    assert result["name"] == "ephemeris"
    assert result["ours_per_s"] > 0 and result["baseline_per_s"] > 0
    assert result["ratio"] == pytest.approx(result["ours_per_s"] / result["baseline_per_s"], rel=1e-12)
    assert result["pairs"] == 10**5 and result["quick"] is True
    assert result["baseline_errors"] == 0
    for key in ("cpu", "cores", "python", "numpy", "backend"):
        assert key in result["machine"], key
    assert result["machine"]["backend"] == "numpy"


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
