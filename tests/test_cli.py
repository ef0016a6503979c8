"""The astp command line, run as a real process: outputs, formats and one-line errors."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest

REQUIRED_KEYS = {"utc", "event", "vehicle", "met_s", "lat_deg", "lon_deg", "alt_km", "speed_km_s", "sunlit",
                 "sun_elevation_deg", "sun_ra_deg", "sun_dec_deg", "gmst_deg", "region"}


def astp(*args, env_extra=None, cwd=None):
    env = dict(os.environ)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "experience.frontends.cli", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300)


@pytest.fixture(scope="module", autouse=True)
def _shared_cache(mission):
    """The session fixture `mission` built the trajectory into the test cache already."""
    yield


def test_ephemeris_at_docking_json():
    proc = astp("ephemeris", "--at", "1975-07-17T16:09:09Z", "--json", "--backend", "numpy")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert {r["vehicle"] for r in rows} == {"soyuz", "apollo"}
    for r in rows:
        assert REQUIRED_KEYS <= set(r)
        assert r["utc"] == "1975-07-17T16:09:09Z"
        assert -180.0 < r["lon_deg"] <= 180.0
        assert isinstance(r["sunlit"], bool)
    assert rows[0]["region"] == "North Atlantic Ocean"


def test_ephemeris_events_csv_covers_the_timeline():
    proc = astp("ephemeris", "--events", "--csv", "--backend", "numpy")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    events = {r["event"] for r in rows}
    assert {"soyuz_launch", "docking_1", "handshake", "apollo_splashdown"} <= events
    hs = [r for r in rows if r["event"] == "handshake"]
    assert len(hs) == 2 and hs[0]["lat_deg"] == hs[1]["lat_deg"]  # docked: one trajectory


def test_human_table_and_vehicle_filter():
    proc = astp("ephemeris", "--at", "1975-07-16T12:00:00Z", "--vehicle", "soyuz", "--backend", "numpy")
    assert proc.returncode == 0, proc.stderr
    assert "soyuz" in proc.stdout and "apollo" not in proc.stdout.split("\n", 2)[2]


@pytest.mark.parametrize("args, needle", [
    (("ephemeris", "--at", "17 July 1975"), "ISO 8601"),
    (("ephemeris", "--at", "1975-07-17T25:00:00Z"), "ISO 8601"),
    (("ephemeris", "--at", "1975-07-17T19:19:00Z", "--vehicle", "skylab"), "invalid choice"),
    (("ephemeris", "--at", "1975-08-01T00:00:00Z"), "outside the simulated flight"),
    (("ephemeris", "--at", "1975-07-15T12:25:00Z", "--vehicle", "soyuz"), "orbit insertion"),
    (("ephemeris",), "--at"),
    (("ephemeris", "--map", "track.jpg"), ".png"),
    (("ephemeris", "--at", "1975-07-17T19:19:00Z", "-o", "/nonexistent/dir/x.json", "--json"), "does not exist"),
    (("--backend", "tpu"), "invalid choice"),
    (("ephemeris", "--events", "--backend", "cupy"), "--backend numpy"),
])
def test_bad_input_is_one_line_exit_2(args, needle):
    from experience.backend import probe_cupy

    if "cupy" in args and probe_cupy()[0] is not None:
        pytest.skip("a CUDA device is present")
    proc = astp(*args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    err_lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("astp: error:")]
    assert len(err_lines) == 1, proc.stderr
    assert needle in err_lines[0]
    assert "Traceback" not in proc.stderr


def test_outside_range_names_the_accepted_range():
    proc = astp("ephemeris", "--at", "1975-07-30T00:00:00Z", "--vehicle", "apollo")
    assert "1975-07-15T19:59:56Z" in proc.stderr and "1975-07-24T20:35:00Z" in proc.stderr


def test_map_and_main_job(tmp_path):
    out_png = tmp_path / "track.png"
    proc = astp("ephemeris", "--map", str(out_png), "--from", "1975-07-17T15:00:00Z", "--to", "1975-07-17T17:00:00Z",
                "--backend", "numpy")
    assert proc.returncode == 0, proc.stderr
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    proc = astp("--backend", "numpy", cwd=tmp_path)  # no command: the main job
    assert proc.returncode == 0, proc.stderr
    assert "handshake" in proc.stdout.lower()
    assert (tmp_path / "out" / "handshake_groundtrack.png").exists()
    for name in ("handshake.png", "handshake_interior.png"):
        assert (tmp_path / "out" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


def test_trajectory_report_json():
    proc = astp("trajectory", "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    names = [b["name"] for b in info["burns"]]
    assert any("TPI" in n for n in names) and any("circularisation" in n for n in names)


def test_doctor_json():
    proc = astp("doctor", "--json", "--backend", "numpy")
    rep = json.loads(proc.stdout)
    assert {"python", "packages", "backend", "opengl", "openxr", "cache", "desktop_ok"} <= set(rep)
    assert rep["backend"]["name"] == "numpy"
    assert proc.returncode == (0 if rep["desktop_ok"] else 1)
