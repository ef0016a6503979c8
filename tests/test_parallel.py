"""experience.parallel: the one thread pool for independent batch tiles."""

import threading

import numpy as np
import pytest

from experience import parallel
from experience.errors import AstpError


def test_results_in_tile_order_and_every_tile_reported():
    seen = []
    out = parallel.map_tiles(lambda t: t * t, range(20), workers=4, on_done=lambda i, r: seen.append((i, r)))
    assert out == [t * t for t in range(20)]
    assert sorted(seen) == [(i, i * i) for i in range(20)]


def test_threads_really_used_and_same_result_as_serial():
    names = set()

    def tile(seed):
        names.add(threading.current_thread().name)
        return np.random.default_rng(seed).normal(size=1000).sum()

    many = parallel.map_tiles(tile, range(16), workers=2)
    one = parallel.map_tiles(tile, range(16), workers=1)
    assert many == one
    assert any(n.startswith("astp-tile") for n in names)


def test_error_in_a_tile_reaches_the_caller():
    def tile(t):
        if t == 3:
            raise ValueError("tile 3")
        return t

    with pytest.raises(ValueError, match="tile 3"):
        parallel.map_tiles(tile, range(8), workers=2)


def test_thread_count_from_environment(monkeypatch):
    monkeypatch.setenv(parallel.ENV_VAR, "3")
    assert parallel.thread_count() == 3
    monkeypatch.setenv(parallel.ENV_VAR, "many")
    with pytest.raises(AstpError, match="ASTP_THREADS"):
        parallel.thread_count()
    monkeypatch.delenv(parallel.ENV_VAR)
    assert parallel.thread_count() == parallel.cpu_count()
    with pytest.raises(AstpError, match="at least 1"):
        parallel.thread_count(0)
