"""`astp dock-envelope` as users run it (issues #8 and #13): the estimate before the run, the
refusal of what would not finish in a day or fit in memory (and its override), progress lines
when standard error is not a terminal, chunks on the thread pool and on a Dask cluster with
results identical case for case, and `captured` per case in the JSON.

Small sample counts and short windows keep every run to a few seconds on CI's two cores."""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
import pytest

from experience.backend import select_backend
from experience.errors import AstpError
from experience.frontends import dock
from experience.simulation import docking as sd

FAST_RANGES = ["--closing-speed", "0.3", "0.4", "--lateral-offset", "0", "0.03", "--lateral-rate", "0", "0.003",
               "--misalign", "0", "2", "--angular-rate", "0", "0.1"]
# some cases capture, some do not; with a short window after the stroke every case resolves in ~3 s
MIXED = dict(closing_speed_m_s=(0.3, 0.4), lateral_offset_m=(0.0, 0.2), lateral_rate_m_s=(0.0, 0.01),
             misalign_deg=(0.0, 20.0), angular_rate_deg_s=(0.0, 0.5))
MIXED_N, MIXED_SEED, MIXED_WINDOW_S = 6, 3, 0.5
OUTCOMES = ("captured", "t_capture_s", "peak_force_n", "peak_stroke_m")


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise AstpError(message)


def _run(argv, capsys):
    parser = _Parser(prog="astp")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    dock.add_dock_parsers(sub, _Parser)
    args = parser.parse_args(argv)
    code = dock.cmd_dock_envelope(args)
    return code, capsys.readouterr()


@pytest.fixture(autouse=True)
def _numpy(monkeypatch, tmp_path):
    monkeypatch.setenv("ASTP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ASTP_BACKEND", "numpy")


@pytest.fixture(scope="module")
def mixed_reference():
    """The mixed cases in one chunk on one thread: what every other way of running them must give."""
    env = sd.capture_envelope(MIXED_N, MIXED_SEED, backend=select_backend("numpy"), ranges=MIXED,
                              tile=MIXED_N, workers=1, window_s=MIXED_WINDOW_S)
    assert 0 < env.captured.sum() < MIXED_N  # both outcomes occur, so identity means something
    return env


def _same(a, b):
    for key in OUTCOMES:
        assert np.array_equal(getattr(a, key), getattr(b, key), equal_nan=True), key


@pytest.fixture(scope="module")
def fast_json():
    """`astp dock-envelope --json` on the thread pool (run once; several tests read it)."""
    return {}


def _fast_cli(capsys, extra=()):
    return _run(["dock-envelope", "--samples", "6", "--seed", "11", "--json", "--backend", "numpy",
                 *FAST_RANGES, *extra], capsys)


# ---------------------------------------------------------------------------------------------
def test_estimate_progress_and_captured_per_case(capsys, fast_json):
    code, io = _fast_cli(capsys)
    assert code == 0
    summary = json.loads(io.out)
    fast_json["threads"] = summary
    lines = io.err.splitlines()
    # the estimate first, then a plain progress line (standard error is not a terminal here)
    from experience import parallel

    size = -(-6 // parallel.thread_count())  # no thread left idle
    n_chunks = -(-6 // size)
    chunks = f"{n_chunks} chunk{'s' if n_chunks > 1 else ''} of {size}"
    assert lines[0].startswith(f"astp dock-envelope: 6 cases in {chunks}"), lines[0]
    assert "estimated at most" in lines[0] and "of memory" in lines[0] and "calibrated here" in lines[0]
    assert any(line.startswith("astp dock-envelope (6 cases): 100% after") for line in lines[1:]), io.err
    assert "\r" not in io.err  # no bar drawn into a log
    captured = summary["captured"]
    assert isinstance(captured, list) and len(captured) == 6 and all(isinstance(c, bool) for c in captured)
    assert summary["captured_count"] == sum(captured)
    assert summary["capture_fraction"] == pytest.approx(sum(captured) / 6)
    assert summary["estimated_s"] > 0 and summary["estimated_peak_bytes"] > 0
    assert summary["device"] == "cpu" and summary["runner"] == "threads" and summary["chunk_size"] == size


def test_plain_progress_lines_are_periodic():
    import io

    class Log(io.StringIO):
        def isatty(self):
            return False

    log = Log()
    bar = dock._Progress("astp dock-envelope (9 cases)", stream=log, plain_every_s=0.0)
    for f in (0.25, 0.5, 1.0, 1.0):
        bar(f)
    bar.close()
    lines = log.getvalue().splitlines()
    assert [line.split(": ")[1].split("%")[0] for line in lines] == ["25", "50", "100"]
    assert "left" in lines[0] and "left" not in lines[-1]


def test_a_live_bar_on_a_terminal():
    import io

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    term = Terminal()
    bar = dock._Progress("astp dock-envelope (9 cases)", stream=term, plain_every_s=30.0)
    bar(0.5)
    bar(1.0)
    bar.close()
    text = term.getvalue()
    assert text.startswith("\rastp dock-envelope (9 cases) [###############...............]  50.0%")
    assert "left" in text and "[" + "#" * 30 + "] 100.0%" in text and text.endswith("\n")
    assert text.count("\n") == 1  # one line, redrawn in place


def test_a_run_longer_than_a_day_is_refused_in_one_line(capsys):
    with pytest.raises(AstpError) as err:
        _run(["dock-envelope", "--samples", "1000000000", "--backend", "numpy"], capsys)
    message = str(err.value)
    assert err.value.exit_code == 2 and "\n" not in message
    assert "more than a day" in message and "days" in message and "--run-anyway" in message
    assert "more memory than the" in message  # 10^9 cases' outcomes do not fit here either
    assert "--dask" in message
    assert "estimated at most" in capsys.readouterr().err  # the estimate was shown first


def test_run_anyway_overrides_the_refusal(capsys, monkeypatch):
    monkeypatch.setattr(dock, "DAY_S", 1e-3)  # any run is "longer than a day"
    with pytest.raises(AstpError) as err:
        _run(["dock-envelope", "--samples", "2", "--json", *FAST_RANGES], capsys)
    assert "--run-anyway" in str(err.value)
    code, io = _run(["dock-envelope", "--samples", "2", "--json", "--run-anyway", *FAST_RANGES], capsys)
    assert code == 0 and len(json.loads(io.out)["captured"]) == 2


def test_a_run_that_does_not_fit_in_memory_is_refused(capsys, monkeypatch):
    monkeypatch.setattr(sd, "available_memory_bytes", lambda: 1000)
    with pytest.raises(AstpError) as err:
        _run(["dock-envelope", "--samples", "3", *FAST_RANGES], capsys)
    message = str(err.value)
    assert "more memory than the 1 kB available" in message and "--run-anyway" in message and "\n" not in message


def test_estimate_scales_with_samples():
    b = select_backend("numpy")
    small = sd.estimate_envelope(2048, 1, backend=b, tile=512, threads=1, calibration_steps=5)
    large = sd.estimate_envelope(8192, 1, backend=b, tile=512, threads=1, calibration_steps=5)
    assert small.chunks == 4 and large.chunks == 16
    assert large.added_bytes > small.added_bytes and small.peak_bytes > small.added_bytes
    ratio = (large.seconds / large.step_s) / (small.seconds / small.step_s)  # steps, free of timing noise
    assert 3.0 < ratio < 5.0


# ---------------------------------------------------------------------------------------------
def test_samples_depend_only_on_seed_and_index():
    ranges = sd.default_ranges()
    big = sd.sample_conditions(2 * sd.SAMPLE_BLOCK + 10, 5, ranges)
    small = sd.sample_conditions(7, 5, ranges)
    middle = sd.sample_conditions(20, 5, ranges, start=sd.SAMPLE_BLOCK - 10)  # across a block boundary
    for key in big:
        assert np.array_equal(small[key], big[key][:7])
        assert np.array_equal(middle[key], big[key][sd.SAMPLE_BLOCK - 10:sd.SAMPLE_BLOCK + 10])
    other = sd.sample_conditions(7, 6, ranges)
    assert not np.array_equal(other["closing_speed_m_s"], small["closing_speed_m_s"])


def test_identical_across_thread_counts_and_chunk_sizes(mixed_reference):
    env = sd.capture_envelope(MIXED_N, MIXED_SEED, backend=select_backend("numpy"), ranges=MIXED,
                              tile=4, workers=2, window_s=MIXED_WINDOW_S)
    assert env.chunks == 2 and env.threads == 2
    _same(env, mixed_reference)


def test_fused_and_reference_paths_agree(mixed_reference, monkeypatch):
    """The fused CPU path (kernels.docking_fused, where Numba is installed) and the array-API
    reference (ASTP_FUSED=0) give the same outcome for every case (to rounding: 1e-9 of the scale)."""
    backend = select_backend("numpy")
    monkeypatch.setenv(sd.FUSED_ENV, "0")
    ref = sd.capture_envelope(MIXED_N, MIXED_SEED, backend=backend, ranges=MIXED, tile=3, workers=2,
                              window_s=MIXED_WINDOW_S)
    assert not ref.fused
    assert np.array_equal(ref.captured, mixed_reference.captured)
    np.testing.assert_allclose(ref.peak_force_n, mixed_reference.peak_force_n, rtol=1e-6)
    np.testing.assert_allclose(ref.t_capture_s, mixed_reference.t_capture_s, atol=1e-9)


# ---------------------------------------------------------------------------------------------
# Dask
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def local_cluster():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                       dashboard_address=None, silence_logs=50)
    client = distributed.Client(cluster)
    try:
        yield cluster, client
    finally:
        client.close()
        cluster.close()


def test_dask_cluster_gives_the_same_cases(local_cluster, mixed_reference):
    from experience import cluster as astp_cluster

    _cluster, client = local_cluster
    runner = astp_cluster.dask_runner(client)
    assert runner.threads == 2
    env = sd.capture_envelope(MIXED_N, MIXED_SEED, backend=select_backend("numpy"), ranges=MIXED, tile=2,
                              runner=runner, window_s=MIXED_WINDOW_S)
    assert env.runner.startswith("dask ") and env.chunks == 3
    _same(env, mixed_reference)


def test_dask_address_on_the_command_line(local_cluster, capsys, fast_json):
    cluster, _client = local_cluster
    if "threads" not in fast_json:
        code, io = _fast_cli(capsys)
        fast_json["threads"] = json.loads(io.out)
    code, io = _fast_cli(capsys, ["--dask", cluster.scheduler_address, "--chunk", "4"])
    assert code == 0
    summary = json.loads(io.out)
    assert summary["runner"] == f"dask {cluster.scheduler_address}" and summary["chunks"] == 2
    reference = fast_json["threads"]
    for key in ("captured", "capture_fraction", "binned", "median_time_to_capture_s"):
        assert summary[key] == reference[key], key
    assert "on 2 threads" in io.err.splitlines()[0] and f"(on dask {cluster.scheduler_address})" in io.err


def test_dask_missing_says_how_to_install(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(AstpError) as err:
        _run(["dock-envelope", "--samples", "3", "--dask", "local", *FAST_RANGES], capsys)
    message = str(err.value)
    assert err.value.exit_code == 2 and "\n" not in message and "pip install" in message


def test_dask_unreachable_scheduler_is_one_line(capsys, monkeypatch):
    pytest.importorskip("distributed")
    from experience import cluster as astp_cluster

    monkeypatch.setattr(astp_cluster, "CONNECT_TIMEOUT_S", 1)
    with pytest.raises(AstpError) as err:
        _run(["dock-envelope", "--samples", "3", "--dask", "tcp://127.0.0.1:9", *FAST_RANGES], capsys)
    message = str(err.value)
    assert "\n" not in message and "tcp://127.0.0.1:9" in message and "--dask local" in message


def test_ctrl_c_stops_the_chunks_in_flight():
    """SIGINT during a run on the thread pool: KeyboardInterrupt, and the chunks already running
    end at their next check (no thread left computing)."""
    import os
    import signal
    import threading

    timer = threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):  # (a run of many seconds even on the fused path)
            sd.capture_envelope(4000, MIXED_SEED, backend=select_backend("numpy"), tile=1000, workers=2)
    finally:
        timer.cancel()
    assert not [t for t in threading.enumerate() if t.name.startswith("astp-tile")]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is put back


@pytest.mark.gpu
def test_the_envelope_runs_on_a_gpu_through_the_backend(request):
    """Where CuPy sees a device: the same cases in one chunk on it, the same outcomes as NumPy
    (to rounding: these cases are far from the capture boundary). Skipped without a CUDA device."""
    from experience.backend import probe_cupy

    cupy, reason = probe_cupy()
    if cupy is None:
        pytest.skip(f"not measured: no CUDA device ({reason})")
    mixed_reference = request.getfixturevalue("mixed_reference")
    backend = select_backend("cupy")
    env = sd.capture_envelope(MIXED_N, MIXED_SEED, backend=backend, ranges=MIXED, window_s=MIXED_WINDOW_S)
    assert env.backend == "cupy" and env.device.startswith("cuda") and env.chunks == 1
    assert np.array_equal(env.captured, mixed_reference.captured)
    np.testing.assert_allclose(env.peak_force_n, mixed_reference.peak_force_n, rtol=1e-6, atol=1e-6)
    est = sd.estimate_envelope(MIXED_N, MIXED_SEED, backend=backend, ranges=MIXED)
    assert est.threads == 1 and est.chunks == 1 and est.seconds > 0
