"""`astp dock` and `astp dock-envelope` (experience/frontends/dock.py), called through their argparse
parsers the way `astp` will call them: JSON shapes, files written, one-line errors with exit code 2."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from experience.errors import AstpError
from experience.frontends import dock

ROOT = Path(__file__).resolve().parents[1]
FAST_RANGES = ["--closing-speed", "0.2", "0.3", "--lateral-offset", "0", "0.03", "--lateral-rate", "0", "0.003",
               "--misalign", "0", "2", "--angular-rate", "0", "0.1"]


class _Parser(argparse.ArgumentParser):
    """Like the `astp` parser: a bad command line is an AstpError (one line, exit code 2)."""

    def error(self, message):
        raise AstpError(message)


def _parse(argv):
    parser = _Parser(prog="astp")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    dock.add_dock_parsers(sub, _Parser)
    return parser.parse_args(argv)


def _run(argv, capsys):
    args = _parse(argv)
    cmd = dock.cmd_dock if args.command == "dock" else dock.cmd_dock_envelope
    code = cmd(args)
    return code, capsys.readouterr()


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ASTP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ASTP_BACKEND", "numpy")
    return tmp_path


def test_dock_json_and_timeseries(cache, capsys):
    out = cache / "out"
    argv = ["dock", "--json", "--until", "capture", "--from-distance", "2.5", "-o", str(out), "--backend", "numpy"]
    code, io = _run(argv, capsys)
    assert code == 0
    result = json.loads(io.out)
    for key in ("captured", "contact_utc", "capture_utc", "hard_dock_utc", "contact_speed_m_s",
                "peak_attenuator_stroke_m", "peak_contact_force_n", "final_misalignment_mm",
                "final_misalignment_deg", "linear_momentum_error_rel", "angular_momentum_error_rel", "timeseries"):
        assert key in result, key
    assert result["captured"] is True
    assert result["capture_utc"] == "1975-07-17T16:09:09.000Z"
    assert result["contact_utc"] < result["capture_utc"]
    assert result["hard_dock_utc"] is None  # stopped at capture
    assert 0.05 < result["contact_speed_m_s"] < 0.15
    assert result["linear_momentum_error_rel"] < 1e-9 and result["angular_momentum_error_rel"] < 1e-9
    assert not result["cached"]
    series = np.load(result["timeseries"])
    t = series["t_s"]
    assert np.allclose(np.diff(t), 1.0 / 50.0, atol=1e-9)  # a fixed rate
    n = t.size
    assert series["port_offset_m"].shape == (n, 3) and series["port_rot"].shape == (n, 3, 3)
    assert series["ring_offset_m"].shape == (n, 3) and series["ring_rot"].shape == (n, 3, 3)
    assert series["phase"][-1] >= 2 and str(series["capture_utc"]) == result["capture_utc"]
    # the second run comes from the cache
    code, io = _run(argv, capsys)
    assert code == 0 and json.loads(io.out)["cached"] is True


def test_dock_rejects_a_bad_start_distance(cache, capsys):
    with pytest.raises(AstpError) as err:
        _run(["dock", "--from-distance", "-3"], capsys)
    assert err.value.exit_code == 2 and "\n" not in str(err.value)


def test_envelope_json_and_plot(cache, capsys):
    plot = cache / "envelope.png"
    code, io = _run(["dock-envelope", "--samples", "12", "--seed", "7", "--json", "--plot", str(plot),
                     "--backend", "numpy", *FAST_RANGES], capsys)
    assert code == 0
    summary = json.loads(io.out)
    assert summary["samples"] == 12 and 0.0 <= summary["capture_fraction"] <= 1.0
    assert summary["capture_fraction"] == pytest.approx(summary["captured_count"] / 12)
    assert len(summary["captured"]) == 12 and sum(summary["captured"]) == summary["captured_count"]
    assert summary["capture_fraction"] > 0.5  # soft, well aligned cases
    assert summary["ranges"]["misalign_deg"] == [0.0, 2.0]
    for key in ("closing_speed_m_s", "lateral_offset_m", "lateral_rate_m_s", "misalign_deg", "angular_rate_deg_s"):
        b = summary["binned"][key]
        assert len(b["edges"]) == len(b["probability"]) + 1 and sum(b["count"]) == 12
    assert plot.exists() and plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # standard error is not a terminal: the estimate and plain progress lines, no bar
    assert io.err.startswith("astp dock-envelope: 12 cases") and "\r" not in io.err


@pytest.mark.parametrize("argv, words", [
    (["dock-envelope", "--samples", "-5"], "--samples"),
    (["dock-envelope", "--samples", "0"], "--samples"),
    (["dock-envelope", "--samples", "ten"], "whole number"),
    (["dock-envelope", "--samples", "10", "--misalign", "5", "2"], "MIN"),
    (["dock-envelope", "--samples", "10", "--closing-speed", "-0.1", "0.2"], "closing_speed"),
    (["dock-envelope", "--samples", "10", "--lateral-offset", "0", "nan"], "finite"),
    (["dock-envelope", "--samples", "10", "--misalign", "0", "90"], "misalign"),
    (["dock-envelope", "--samples", "10", "--plot", "maps.jpg"], ".png"),
    (["dock-envelope", "--samples", "10", "--plot", "no/such/folder/maps.png"], "does not exist"),
])
def test_envelope_bad_parameters_are_one_line_errors(argv, words, cache, capsys):
    with pytest.raises(AstpError) as err:
        _run(argv, capsys)
    message = str(err.value)
    assert err.value.exit_code == 2 and "\n" not in message and words in message


def test_front_end_reaches_the_kernels_only_through_the_simulation():
    code = ("import sys; from experience.frontends import dock; "
            "print(any(m == 'kernels' or m.startswith('kernels.') for m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"
