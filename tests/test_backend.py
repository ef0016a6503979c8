"""Backend selection in one place: flag, environment, auto fallback, clear errors."""

import numpy as np
import pytest

from experience import backend
from experience.errors import AstpError


def test_numpy_when_asked(monkeypatch):
    monkeypatch.delenv("ASTP_BACKEND", raising=False)
    b = backend.select_backend("numpy")
    assert b.name == "numpy" and b.xp is np


def test_environment_variable_is_read(monkeypatch):
    monkeypatch.setenv("ASTP_BACKEND", "numpy")
    assert backend.select_backend().name == "numpy"


def test_unknown_backend_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("ASTP_BACKEND", "tpu")
    with pytest.raises(AstpError, match="auto, numpy, cupy"):
        backend.select_backend()


def test_auto_falls_back_with_one_line_notice(monkeypatch):
    cupy, _ = backend.probe_cupy()
    if cupy is not None:
        pytest.skip("a CUDA device is present: auto picks CuPy here")
    notes = []
    b = backend.select_backend("auto", notice=notes.append)
    assert b.name == "numpy"
    assert len(notes) == 1 and "\n" not in notes[0] and "NumPy" in notes[0]


def test_cupy_where_none_can_run_is_a_clear_error():
    cupy, _ = backend.probe_cupy()
    if cupy is not None:
        pytest.skip("a CUDA device is present")
    with pytest.raises(AstpError) as err:
        backend.select_backend("cupy")
    assert "--backend numpy" in str(err.value)


@pytest.mark.gpu
def test_cupy_backend_on_a_gpu():
    cupy, reason = backend.probe_cupy()
    if cupy is None:
        pytest.skip(reason)
    b = backend.select_backend("cupy")
    assert b.name == "cupy"
    x = b.asarray(np.arange(3.0))
    assert backend.to_host(x).tolist() == [0.0, 1.0, 2.0]
