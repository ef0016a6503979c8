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
    # times at the edges of the calendar, and seconds = 60 (issue #8)
    (("ephemeris", "--at", "0001-01-01T00:00:00+01:00"), "years 1 to 9999"),
    (("ephemeris", "--at", "9999-12-31T23:59:59.9999999-01:00"), "years 1 to 9999"),
    (("ephemeris", "--at", "9999-12-31T23:59:59.9999999Z"), "outside the simulated flight"),
    (("ephemeris", "--at", "0001-01-01T00:00:00Z"), "before 1972"),
    (("ephemeris", "--map", "x.png", "--from", "0001-01-01T00:00:00+01:00"), "years 1 to 9999"),
    (("ephemeris", "--at", "1975-07-17T19:18:60Z"), "no leap second"),
    (("ephemeris", "--at", "1975-12-31T23:59:60Z"), "outside the simulated flight"),  # a real one: read
    (("ephemeris", "--at", "1975-07-17T19:19:00Z", "-o", "."), "folder"),
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


# ------------------------------------------------------------------------------ outputs (issue #8)
def _one_error_line(proc):
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("astp: error:"), proc.stderr
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr
    return lines[0]


@pytest.mark.parametrize("redirect", [">&-", "> /dev/full"])
def test_closed_or_full_standard_output_is_one_line_exit_2(redirect):
    if "full" in redirect and not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    for args in ("ephemeris --at 1975-07-17T19:19:00Z --backend numpy",
                 "ephemeris --events --json --backend numpy"):  # small (flushed at exit) and large output
        cmd = f"exec {sys.executable} -m experience.frontends.cli {args} {redirect}"
        proc = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=300, env=dict(os.environ))
        assert proc.returncode == 2, proc.stderr
        line = _one_error_line(proc)
        assert "standard output" in line, line


def test_a_failing_command_writes_nothing(tmp_path):
    """The map used to be written before the table's --at was found outside the flight."""
    out_png = tmp_path / "track.png"
    proc = astp("ephemeris", "--map", str(out_png), "--at", "1975-08-01T00:00:00Z", "--backend", "numpy")
    assert proc.returncode == 2
    _one_error_line(proc)
    assert list(tmp_path.iterdir()) == []
    proc = astp("ephemeris", "--at", "1975-07-17T19:19:00Z", "--at", "1975-08-01T00:00:00Z", "--csv",
                "-o", str(tmp_path / "rows.csv"), "--backend", "numpy")
    assert proc.returncode == 2 and list(tmp_path.iterdir()) == []


def test_table_output_through_a_symlink_and_into_a_fifo(tmp_path):
    import threading

    real = tmp_path / "rows.csv"
    real.write_text("old\n")
    link = tmp_path / "latest.csv"
    link.symlink_to(real.name)
    proc = astp("ephemeris", "--at", "1975-07-17T19:19:00Z", "--csv", "-o", str(link), "--backend", "numpy")
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and real.read_text().startswith("utc,event,vehicle")
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()), daemon=True)
    reader.start()
    proc = astp("ephemeris", "--at", "1975-07-17T19:19:00Z", "--csv", "-o", str(fifo), "--backend", "numpy")
    reader.join(timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert got and got[0].startswith("utc,event,vehicle")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.csv", "pipe.csv", "rows.csv"]
