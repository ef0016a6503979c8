"""experience.outputs: nothing at a target is destroyed, nothing half-written is left, and no
temporary file outlives an error, Ctrl-C or SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from experience import outputs
from experience.errors import AstpError

ROOT = Path(__file__).resolve().parents[1]


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _no_temp_files(*folders: Path) -> None:
    for folder in folders:
        left = [n for n in _names(folder) if outputs.TEMP_MARK in n or n.endswith(".part")]
        assert not left, f"temporary files left in {folder}: {left}"


# ------------------------------------------------------------------------------------ regular files
def test_new_file_and_atomic_replace_keep_permissions(tmp_path):
    target = tmp_path / "table.txt"
    outputs.write_output(target, "one\n")
    assert target.read_text() == "one\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~_umask()  # not mkstemp's 0600
    os.chmod(target, 0o640)
    inode = target.stat().st_ino
    outputs.write_output(target, b"two\n")
    assert target.read_bytes() == b"two\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert target.stat().st_ino != inode  # replaced by a rename, not rewritten in place
    assert _names(tmp_path) == ["table.txt"]


def _umask() -> int:
    old = os.umask(0o022)
    os.umask(old)
    return old


def test_an_error_while_writing_keeps_the_old_file_and_leaves_nothing(tmp_path):
    target = tmp_path / "pic.png"
    target.write_bytes(b"old picture")
    with pytest.raises(RuntimeError):
        with outputs.open_output(target, suffixes=(".png",)) as fh:
            fh.write(b"half a new pic")
            raise RuntimeError("the renderer failed")
    assert target.read_bytes() == b"old picture"
    assert _names(tmp_path) == ["pic.png"]


def test_temporary_names_are_unique_hidden_and_in_the_target_folder(tmp_path):
    seen = []
    with outputs.batch():
        for _ in range(3):
            with outputs.output_path(tmp_path / "clip.mp4") as tmp:
                seen.append(tmp)
                assert tmp.parent == tmp_path and tmp.name.startswith(".clip-") and tmp.suffix == ".mp4"
                assert outputs.TEMP_MARK in tmp.name and not tmp.name.endswith(".part")
                tmp.write_bytes(b"frames")
    assert len(set(seen)) == 3
    assert _names(tmp_path) == ["clip.mp4"]


# ------------------------------------------------------------------------------------ links, devices
def test_a_symlink_is_followed_and_stays_a_link(tmp_path):
    real = tmp_path / "real.png"
    real.write_bytes(b"old")
    link = tmp_path / "link.png"
    link.symlink_to("real.png")
    outputs.write_output(link, b"new", suffixes=(".png",))
    assert link.is_symlink() and os.readlink(link) == "real.png"
    assert real.read_bytes() == b"new"
    dangling = tmp_path / "dangling.png"
    dangling.symlink_to(tmp_path / "sub" / "made.png")
    with pytest.raises(AstpError, match="does not exist"):
        outputs.check_output(dangling)
    (tmp_path / "sub").mkdir()
    outputs.write_output(dangling, b"made")
    assert dangling.is_symlink() and (tmp_path / "sub" / "made.png").read_bytes() == b"made"
    _no_temp_files(tmp_path, tmp_path / "sub")


def test_a_fifo_is_written_into_not_replaced(tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    outputs.write_output(fifo, b"\x89PNG through a pipe", suffixes=(".png",))
    reader.join(timeout=30)
    assert got == [b"\x89PNG through a pipe"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert _names(tmp_path) == ["pipe.png"]


def _char_device(tmp_path, kind):
    """A character device the test owns: a /dev/null twin made with mknod (where permitted,
    i.e. as root) or the slave side of a pseudo-terminal. Returns (path, read_back, cleanup)."""
    if kind == "mknod":
        node = tmp_path / "null-twin"
        try:
            os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        except (PermissionError, OSError) as exc:
            pytest.skip(f"mknod not permitted here ({exc.strerror}); the pty case covers devices")
        return node, None, lambda: None
    master, slave = os.openpty()
    path = Path(os.ttyname(slave))

    def read_back():
        chunks = []
        os.set_blocking(master, False)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                chunks.append(os.read(master, 4096))
            except BlockingIOError:
                if chunks:
                    break
                time.sleep(0.05)
        return b"".join(chunks)

    def cleanup():
        os.close(slave)
        os.close(master)

    return path, read_back, cleanup


@pytest.mark.parametrize("kind", ["mknod", "pty"])
def test_a_character_device_is_written_into_never_replaced(tmp_path, kind):
    dev, read_back, cleanup = _char_device(tmp_path, kind)
    try:
        before = os.lstat(dev)
        outputs.write_output(dev, b"hello device\n", suffixes=(".png",))  # no suffix rule for a device
        after = os.lstat(dev)
        assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev and after.st_ino == before.st_ino
        if read_back is not None:
            assert b"hello device" in read_back()
        # through a symlink, too: the link stays, the device stays
        link = tmp_path / "screen.png"
        link.symlink_to(dev)
        outputs.write_output(link, b"again\n")
        assert link.is_symlink() and stat.S_ISCHR(os.stat(link).st_mode)
        if read_back is not None:
            assert b"again" in read_back()
    finally:
        cleanup()
    _no_temp_files(tmp_path)


def test_dev_stdout_style_targets_are_appended_to(tmp_path):
    """`astp ... -o /dev/stdout >> log`: the file behind the descriptor gets the output appended;
    it is never renamed over (which would lose what the log held)."""
    log = tmp_path / "log.txt"
    log.write_text("earlier line\n")
    code = textwrap.dedent("""
        import sys
        from experience import outputs
        outputs.write_output("/dev/stdout", "new line\\n")
        outputs.write_output("/proc/self/fd/1", "another\\n")
    """)
    with open(log, "a") as out:
        proc = subprocess.run([sys.executable, "-c", code], stdout=out, stderr=subprocess.PIPE, text=True,
                              cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert log.read_text() == "earlier line\nnew line\nanother\n"
    _no_temp_files(tmp_path)


def test_refused_targets_are_one_line_before_any_work(tmp_path):
    (tmp_path / "folder.png").mkdir()
    (tmp_path / "file").write_text("x")
    sock_path = tmp_path / "s.png"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    cases = [
        (tmp_path / "folder.png", "is a folder"),
        (tmp_path / "missing" / "x.png", "does not exist"),
        (tmp_path / "file" / "x.png", "is a file, not a folder"),
        (tmp_path / "x.jpg", ".png file"),
        (sock_path, "socket"),
        ("", "no file name"),
    ]
    try:
        for path, words in cases:
            with pytest.raises(AstpError) as err:
                outputs.check_output(path, suffixes=(".png",), what="picture", example="handshake.png")
            assert words in str(err.value) and "\n" not in str(err.value), (path, str(err.value))
    finally:
        sock.close()
    if os.geteuid() != 0:  # root may write anywhere
        ro = tmp_path / "ro"
        ro.mkdir()
        os.chmod(ro, 0o555)
        with pytest.raises(AstpError, match="not writable"):
            outputs.check_output(ro / "x.png")
        os.chmod(ro, 0o755)
    assert sorted(_names(tmp_path)) == ["file", "folder.png", "s.png"]


def test_a_block_device_is_refused(tmp_path):
    node = tmp_path / "disk.png"
    try:  # a major number nobody uses: even a wrong write could not reach a disk
        os.mknod(node, 0o600 | stat.S_IFBLK, os.makedev(240, 0))
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot create a block device node here ({exc.strerror})")
    with pytest.raises(AstpError, match="block device"):
        outputs.write_output(node, b"x")
    assert stat.S_ISBLK(os.lstat(node).st_mode)


def test_folders_are_checked_and_made_only_when_written(tmp_path):
    outputs.check_folder(tmp_path / "a" / "b")  # creatable: fine, nothing made yet
    assert _names(tmp_path) == []
    (tmp_path / "plain").write_text("x")
    with pytest.raises(AstpError, match="not a folder"):
        outputs.check_folder(tmp_path / "plain")
    with pytest.raises(AstpError, match="is not a folder"):
        outputs.check_folder(tmp_path / "plain" / "sub")
    outputs.write_output(tmp_path / "a" / "b" / "x.txt", "x", make_folders=True)
    assert (tmp_path / "a" / "b" / "x.txt").read_text() == "x"


# ------------------------------------------------------------------------------------ all or nothing
def test_a_failed_batch_writes_nothing_and_removes_the_folders_it_made(tmp_path):
    keep = tmp_path / "keep.txt"
    keep.write_text("old")
    with pytest.raises(AstpError):
        with outputs.batch():
            outputs.write_output(keep, "new")
            outputs.write_output(tmp_path / "new" / "deep" / "a.png", b"a", make_folders=True)
            with outputs.output_path(tmp_path / "b.mp4") as tmp:
                tmp.write_bytes(b"video")
            raise AstpError("the command failed after its outputs")
    assert keep.read_text() == "old"
    assert _names(tmp_path) == ["keep.txt"]


def test_a_batch_commits_everything_at_its_end(tmp_path):
    with outputs.batch() as b:
        outputs.write_output(tmp_path / "a.txt", "a")
        outputs.write_output(tmp_path / "a.txt", "a, second version")  # the last one wins
        with outputs.batch():  # nested: joins the outer batch
            outputs.write_output(tmp_path / "b.txt", "b")
        assert not (tmp_path / "a.txt").exists() and not (tmp_path / "b.txt").exists()
        assert sorted(p.name for p in b.pending) == ["a.txt", "a.txt", "b.txt"]
    assert (tmp_path / "a.txt").read_text() == "a, second version"
    assert (tmp_path / "b.txt").read_text() == "b"
    assert _names(tmp_path) == ["a.txt", "b.txt"]


def test_output_path_for_writers_that_need_a_name(tmp_path):
    with outputs.output_path(tmp_path / "rec.mp4") as tmp:
        tmp.unlink()                    # a writer like ffmpeg -y may recreate the file
        tmp.write_bytes(b"mp4 data")
    assert (tmp_path / "rec.mp4").read_bytes() == b"mp4 data"
    with pytest.raises(AstpError, match="produced no file"):
        with outputs.output_path(tmp_path / "none.mp4") as tmp:
            tmp.unlink()
    assert _names(tmp_path) == ["rec.mp4"]


def test_a_full_disk_while_writing_is_one_line(tmp_path):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    with pytest.raises(AstpError) as err:
        outputs.write_output("/dev/full", b"x" * 100_000)
    assert "cannot write /dev/full" in str(err.value) and "\n" not in str(err.value)


# ------------------------------------------------------------------------------------ signals
CHILD = textwrap.dedent("""
    import sys, time
    from experience import outputs
    target = sys.argv[1]
    if sys.argv[2] == "cli":
        from experience.frontends import cli

        def slow(args):
            with outputs.open_output(target, "wb") as fh:
                fh.write(b"half")
                fh.flush()
                print("ready", flush=True)
                time.sleep(120)
            return 0

        cli.COMMANDS["doctor"] = slow
        sys.exit(cli.main(["doctor"]))
    with outputs.open_output(target, "wb") as fh:
        fh.write(b"half")
        fh.flush()
        print("ready", flush=True)
        time.sleep(120)
""")


@pytest.mark.parametrize("how", ["cli", "library"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_signals_remove_the_temporary_file_and_keep_the_target(tmp_path, sig, how):
    target = tmp_path / "out.png"
    target.write_bytes(b"the old picture")
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(target), how], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert proc.stdout.readline().strip() == "ready"
        assert any(outputs.TEMP_MARK in n for n in _names(tmp_path))  # it was there while writing
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert target.read_bytes() == b"the old picture"
    assert _names(tmp_path) == ["out.png"]
    if how == "cli":
        assert proc.returncode == (130 if sig == signal.SIGINT else 128 + sig), err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
        assert err.startswith("astp: "), err
    else:
        assert proc.returncode in (128 + sig, 1, -sig), err  # SIGINT: KeyboardInterrupt (exit 1)
