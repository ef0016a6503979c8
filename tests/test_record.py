"""`astp record`, run as a real process: an MP4 that decodes to the right frame count and size,
the same frames for the same arguments, one-line errors before any work, and nothing left behind
when it is stopped (Ctrl-C, SIGTERM) or fails."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

pytest.importorskip("imageio_ffmpeg")

SIZE = (160, 90)
FPS = 4

# 2 s of orbit camera at 10x over the docked stack, a cut into the cabins, a 1 s hold there:
# 9 + 4 = 13 frames at 4 fps (both ends included). No docking replay is needed at 19:19.
TINY = """
[tour]
title = "Tiny"

[[key]]
at = "handshake"
camera = "orbit"
yaw_deg = 110.0
pitch_deg = 10.0
distance_m = 30.0
rate = 10.0

[[key]]
at = "handshake + 20s"
camera = "orbit"
yaw_deg = 130.0
pitch_deg = 12.0
distance_m = 20.0

[[key]]
at = "handshake + 20s"
camera = "cabin"
eye_m = [-0.42, 1.75, 0.25]
look_at_m = [0.08, 3.0, 0.0]
duration_s = 1.0

[[key]]
at = "handshake + 20s"
camera = "cabin"
eye_m = [-0.40, 1.85, 0.25]
look_at_m = [0.08, 3.0, 0.0]

[[caption]]
from = "handshake"
to = "handshake + 10s"
text = "Stafford and Leonov shake hands."
source = "test"
"""
TINY_FRAMES = 13


@pytest.fixture(scope="module", autouse=True)
def _shared_cache(mission):
    """The session fixture `mission` built the trajectory into the test cache (ASTP_CACHE_DIR)."""
    yield


def astp(*args, cwd=None, timeout=600):
    return subprocess.run([sys.executable, "-m", "experience.frontends.cli", *args], capture_output=True,
                          text=True, env=dict(os.environ), cwd=cwd, timeout=timeout)


@pytest.fixture()
def tiny(tmp_path):
    p = tmp_path / "tiny.toml"
    p.write_text(textwrap.dedent(TINY).lstrip(), encoding="utf-8")
    return p


def decode(path):
    """(size, list of (H, W, 3) uint8 frames) of a video, decoded by imageio-ffmpeg."""
    import imageio_ffmpeg

    gen = imageio_ffmpeg.read_frames(str(path))
    meta = next(gen)
    w, h = meta["size"]
    frames = [np.frombuffer(f, dtype=np.uint8).reshape(h, w, 3).copy() for f in gen]
    return meta, frames


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if ".part" in p.name)


# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """The tiny tour recorded twice with the same arguments (two processes)."""
    folder = tmp_path_factory.mktemp("rec")
    tour = folder / "tiny.toml"
    tour.write_text(textwrap.dedent(TINY).lstrip(), encoding="utf-8")
    outs = []
    for name in ("a.mp4", "b.mp4"):
        proc = astp("record", "--tour", str(tour), "-o", str(folder / name), "--size", "160x90", "--fps", str(FPS))
        assert proc.returncode == 0, proc.stderr
        outs.append((folder / name, proc.stderr))
    return folder, outs


def test_record_writes_an_mp4_with_the_right_frame_count_and_size(recorded):
    folder, [(a, stderr), _] = recorded
    meta, frames = decode(a)
    assert meta["codec"] == "h264" and meta["pix_fmt"].startswith("yuv420p")
    assert meta["fps"] == FPS and tuple(meta["size"]) == SIZE
    assert len(frames) == TINY_FRAMES
    assert all(f.shape == (SIZE[1], SIZE[0], 3) for f in frames)
    # the scene is there (not black) once it has faded in; black at the cut (it dips through black)
    mid = frames[4]
    assert mid.mean() > 15 and mid.std() > 10
    assert frames[8].mean() < frames[4].mean() / 3
    assert leftovers(folder) == []
    # not a terminal: periodic progress lines, then one line saying what was written
    assert "frames (" in stderr and f"wrote {a}" in stderr and f"{TINY_FRAMES} frames" in stderr


def test_same_arguments_give_the_same_frames_and_file(recorded):
    _, [(a, _), (b, _)] = recorded
    fa, fb = decode(a)[1], decode(b)[1]
    assert [hashlib.sha256(f.tobytes()).hexdigest() for f in fa] == [hashlib.sha256(f.tobytes()).hexdigest() for f in fb]
    assert a.read_bytes() == b.read_bytes(), "bit-exact encoding: no dates or machine-dependent threads in the file"


def test_frames_limits_the_shipped_tour_and_captions_are_burned_in(tmp_path):
    out, plain = tmp_path / "hs.mp4", tmp_path / "plain.mp4"
    proc = astp("record", "--tour", "handshake", "-o", str(out), "--size", "160x90", "--fps", "2", "--frames", "5")
    assert proc.returncode == 0, proc.stderr
    proc = astp("record", "--tour", "handshake", "-o", str(plain), "--size", "160x90", "--fps", "2", "--frames", "5",
                "--no-text")
    assert proc.returncode == 0, proc.stderr
    (_, with_text), (_, without) = decode(out), decode(plain)
    assert len(with_text) == len(without) == 5
    # the caption band sits at the bottom; above it the pictures agree (up to the encoding)
    diff = np.abs(with_text[4].astype(int) - without[4].astype(int)).mean(axis=2)
    assert diff[-30:].mean() > 8 * max(diff[:25].mean(), 0.5)


def test_the_caption_layer_draws_legible_text_in_english_and_russian():
    from experience.app.tours import CameraState, TourFrame
    from experience.frontends.record import TextLayer

    class Snap:
        import datetime as _dt

        utc = _dt.datetime(1975, 7, 17, 19, 19, tzinfo=_dt.timezone.utc)

    frame = TourFrame(0, 1.0, 0.0, 10.0, CameraState("orbit"), "Stafford and Leonov shake hands in the hatchway.",
                      1.0, 1.0, 0)
    black = np.zeros((720, 1280, 3), np.uint8)
    for text in (frame.caption, "Стаффорд и Леонов пожимают друг другу руки."):
        layer = TextLayer((1280, 720), lambda s, t=text: t)
        out = layer.draw(black, frame, Snap())
        band = out[600:700]
        assert (band.max(axis=2) > 200).sum() > 2000, "white letters in the caption band"
        assert (out[10:40, 10:400].max(axis=2) > 150).sum() > 200, "the clock, top left"
        assert out[200:500].max() == 0, "nothing over the middle of the picture"


# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("args, needle", [
    (["--tour", "nosuchtour"], "unknown tour"),
    (["--size", "161x90"], "even width and height"),
    (["--size", "big"], "bad size"),
    (["--fps", "0"], "bad --fps"),
    (["--fps", "ten"], "bad --fps"),
    (["--frames", "0"], "bad --frames"),
    (["--language", "xx"], "unknown language"),
    (["-o", "video.avi"], ".mp4"),
    (["-o", "/no/such/folder/v.mp4"], "does not exist"),
    (["-o", "DIR"], "is a folder"),
    (["-o", "FIFO"], "device or a pipe"),
    (["-o", None], "-o FILE.mp4"),
    (["--tour", None], "--tour NAME"),
    (["--tour", "BADTOUR"], "unknown key 'yaw'"),
])
def test_bad_input_is_one_line_exit_2_and_leaves_nothing(tmp_path, args, needle):
    argv = {"--tour": "handshake", "-o": str(tmp_path / "v.mp4"), "--size": "160x90", "--frames": "2"}
    (tmp_path / "d.mp4").mkdir()
    os.mkfifo(tmp_path / "fifo.mp4")
    bad = tmp_path / "bad.toml"
    bad.write_text('[tour]\ntitle = "x"\n[[key]]\nat = "handshake"\ncamera = "orbit"\nyaw = 1\n', encoding="utf-8")
    subst = {"DIR": str(tmp_path / "d.mp4"), "FIFO": str(tmp_path / "fifo.mp4"), "BADTOUR": str(bad)}
    opt, value = args
    if value is None:
        argv.pop(opt)
    else:
        argv[opt] = subst.get(value, value)
    before = sorted(p.name for p in tmp_path.iterdir())
    t0 = time.monotonic()
    proc = astp("record", *[x for kv in argv.items() for x in kv])
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("astp: error:") and needle in lines[0], proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert time.monotonic() - t0 < 60, "refused before any rendering"


def test_a_symlink_is_written_through_and_an_existing_file_replaced_whole(tmp_path, tiny):
    target = tmp_path / "real.mp4"
    target.write_bytes(b"old")
    target.chmod(0o640)
    link = tmp_path / "link.mp4"
    link.symlink_to("real.mp4")
    proc = astp("record", "--tour", str(tiny), "-o", str(link), "--size", "160x90", "--fps", "4", "--frames", "2")
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and os.readlink(link) == "real.mp4"
    assert len(decode(target)[1]) == 2
    assert (target.stat().st_mode & 0o777) == 0o640, "the replaced file keeps its permissions"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_stopping_a_recording_removes_its_temporary_file_and_keeps_the_old_video(tmp_path, sig, code):
    target = tmp_path / "v.mp4"
    target.write_bytes(b"the previous video")
    proc = subprocess.Popen([sys.executable, "-m", "experience.frontends.cli", "record", "--tour", "handshake",
                             "-o", str(target), "--size", "160x90", "--fps", "30"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None and not leftovers(tmp_path):
            time.sleep(0.1)
        assert proc.poll() is None, proc.communicate()[1]
        assert leftovers(tmp_path), "the video is written to a temporary file beside the target"
        time.sleep(6.0)  # into the frames (the set-up takes a few seconds)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == code, err
    assert "was not written" in err.splitlines()[-1]
    assert leftovers(tmp_path) == []
    assert target.read_bytes() == b"the previous video"
