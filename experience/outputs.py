"""Every file the program writes goes through here: nothing destroyed, nothing half-written.

The rules (the same for ``astp ephemeris -o``/``--map``, ``astp render``, ``astp dock``, the main
job's pictures, and later the viewer's screenshots and ``astp record``):

- **Check first.** :func:`check_output` (and :func:`check_folder`) say in one line what is wrong
  with a target before any work starts: the folder is missing or not writable, the name is a
  folder, the suffix is wrong, the target is read-only, a disk or a socket.
- **Regular files are replaced atomically.** The data goes into a uniquely named temporary file
  in the target's folder (``tempfile``, a hidden name like ``.handshake-k3v9q1.tmp.png``), which
  is renamed over the target only when it is complete. The replacement keeps the old file's
  permission bits (and, running as root, its owner); a new file gets the usual ``0666 & ~umask``.
- **A symbolic link is followed**: its target is replaced, the link stays a link (a dangling
  link gets its target created).
- **Streams are written into, never replaced**: a character device (``/dev/null``, a terminal),
  a FIFO, or a ``/dev/stdout``-style name (a ``/proc/self/fd`` link, which cannot be renamed
  over) receives the bytes, so running as root never swaps a device node for a regular file. The
  bytes are staged in a temporary file in ``$TMPDIR`` and copied in when the output is
  committed (so a failed command writes nothing there either). A block device or a socket is
  refused.
- **Temporary files never outlive the command**: they are removed on every exit path: an
  exception, Ctrl-C (SIGINT), SIGTERM and SIGHUP. While an output is open (and for the whole
  command under ``astp``), SIGTERM and SIGHUP are turned into :class:`Terminated` (a
  ``SystemExit``) so that ``finally`` blocks run; the signals are held back during the few
  steps that create, rename or remove a temporary file, so none is orphaned between them.
  (SIGKILL and a power cut cannot be caught: the temporary files they leave are hidden names
  containing ``.tmp``, never the target itself, and are safe to delete.)
- **All or nothing.** Inside :func:`batch` (``astp`` runs every command inside one) outputs are
  staged and committed together when the block ends without an exception; when it fails,
  every staged output is discarded and the folders the batch created are removed again. A
  command that fails writes nothing.

API
---
``check_output(path, *, suffixes=None, what="output", example=None, make_folders=False) -> Path``
    Preflight. ``suffixes`` e.g. ``(".png",)`` (case-insensitive; not applied to streams).
    ``make_folders``: a missing folder is fine if it can be created (it is, when the output is
    written). Raises :class:`AstpError` (one line, names the fix). Returns ``Path(path)``.
``check_folder(path, *, make=True, what="folder") -> Path``
    Preflight for an output folder (``render --events DIR``): a folder, writable, or creatable.
``open_output(path, mode="wb", *, encoding="utf-8", newline=None, **check) -> ContextManager[file]``
    Write through a file object; committed when the ``with`` block ends without an exception
    (or when the enclosing batch commits), discarded otherwise. ``mode`` is ``"wb"`` or ``"w"``.
``write_output(path, data: bytes | str, **check) -> Path``
    The whole content at once.
``output_path(path, *, suffix=None, **check) -> ContextManager[Path]``
    For writers that need a real file name (ffmpeg, a library that opens the file itself): a
    temporary path in the target's folder (in ``$TMPDIR`` for streams) ending in ``suffix``
    (default: the target's suffix, so the writer can infer the format), which the writer creates
    or overwrites; committed (renamed, or copied into a stream) at the end with the same rules.
``batch() -> ContextManager[OutputBatch]``
    Stage every output opened inside the block (in this thread/context) and commit them
    together at its end. Nested ``batch()`` blocks join the outer one.
``termination_handlers() -> ContextManager[None]``
    SIGTERM/SIGHUP -> :class:`Terminated` (exit code 128 + signal) for the block (main thread
    only; handlers someone else installed are left alone).
``Terminated``
    ``SystemExit`` subclass raised by those handlers; ``.signum``, ``.code`` = 128 + signum.

Everything raises :class:`experience.errors.AstpError` for a problem the user can fix.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import os
import shutil
import signal
import stat
import tempfile
import threading
from pathlib import Path
from typing import IO, Iterator

from experience.errors import AstpError

__all__ = [
    "OutputBatch",
    "Terminated",
    "batch",
    "check_folder",
    "check_output",
    "open_output",
    "output_path",
    "termination_handlers",
    "write_output",
]

TEMP_MARK = ".tmp"  # every temporary name contains it (".NAME-XXXXXXXX.tmp.SUFFIX")


# ------------------------------------------------------------------------------------------------
# Signals
# ------------------------------------------------------------------------------------------------
class Terminated(SystemExit):
    """Raised in the main thread when SIGTERM or SIGHUP arrives (see termination_handlers)."""

    def __init__(self, signum: int):
        super().__init__(128 + int(signum))
        self.signum = int(signum)

    @property
    def signame(self) -> str:
        try:
            return signal.Signals(self.signum).name
        except ValueError:
            return f"signal {self.signum}"


_TERM_SIGNALS = tuple(s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s)
_lock = threading.RLock()
_handler_depth = 0
_saved_handlers: dict[int, object] = {}
_critical_depth = 0
_pending: list[int] = []


def _raise_for(signum: int):
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated(signum)


def _on_signal(signum, _frame):
    if _critical_depth > 0:  # creating/renaming/removing a temporary file: finish that first
        _pending.append(signum)
        return
    _raise_for(signum)


@contextlib.contextmanager
def _held_signals():
    """The signals our handlers catch are held back (then raised) while the block runs."""
    global _critical_depth
    _critical_depth += 1
    try:
        yield
    finally:
        _critical_depth -= 1
        if _critical_depth == 0 and _pending:
            signum = _pending[0]
            _pending.clear()
            _raise_for(signum)


@contextlib.contextmanager
def termination_handlers():
    """Within the block, SIGTERM and SIGHUP raise :class:`Terminated` (so ``finally`` blocks run and
    temporary files are removed) and Ctrl-C still raises KeyboardInterrupt; a handler someone else
    installed is kept. Re-entrant; a no-op outside the main thread."""
    global _handler_depth
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    with _lock:
        if _handler_depth == 0:
            _saved_handlers.clear()
            for sig in _TERM_SIGNALS:
                if signal.getsignal(sig) == signal.SIG_DFL:
                    _saved_handlers[sig] = signal.signal(sig, _on_signal)
            if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                _saved_handlers[signal.SIGINT] = signal.signal(signal.SIGINT, _on_signal)
        _handler_depth += 1
    try:
        yield
    finally:
        with _lock:
            _handler_depth -= 1
            if _handler_depth == 0:
                for sig, old in _saved_handlers.items():
                    if signal.getsignal(sig) is _on_signal:
                        signal.signal(sig, old)
                _saved_handlers.clear()


# ------------------------------------------------------------------------------------------------
# What is at the target
# ------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class _Target:
    given: Path          # as the user wrote it (for messages; streams are opened by this name)
    kind: str            # "file" (replace real), "new" (create real), "stream" (write into given)
    real: Path           # symlinks resolved: the name that is replaced or created
    st: os.stat_result | None = None  # the existing file's status (kind "file")


def _fail(path, why: str, fix: str) -> AstpError:
    return AstpError(f"cannot write {path}: {why}; {fix}")


def _os_why(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _suffix_text(suffixes) -> str:
    return " or ".join(suffixes)


def _check_suffix(p: Path, suffixes, what: str, example: str | None) -> None:
    if not suffixes:
        return
    if p.suffix.lower() not in tuple(s.lower() for s in suffixes):
        example = example or f"{what.split()[-1]}{suffixes[0]}"
        raise AstpError(f"the {what} must be a {_suffix_text(suffixes)} file, not {p.name!r}; name it e.g. {example}")


def _nearest_existing(folder: Path) -> Path:
    probe = folder
    while not os.path.lexists(probe) and probe != probe.parent:
        probe = probe.parent
    return probe


def _check_parent(given, folder: Path, make_folders: bool) -> None:
    folder = folder if str(folder) else Path(".")
    if os.path.isdir(folder):
        if not os.access(folder, os.W_OK | os.X_OK):
            raise _fail(given, f"the folder {folder} is not writable", "choose a writable folder")
        return
    if os.path.lexists(folder):
        raise _fail(given, f"{folder} is not a folder", "choose a path inside a folder")
    if not make_folders:
        raise _fail(given, f"the folder {folder} does not exist", "create it first")
    base = _nearest_existing(folder)
    if not os.path.isdir(base):
        raise _fail(given, f"{base} is not a folder, so {folder} cannot be created", "choose another folder")
    if not os.access(base, os.W_OK | os.X_OK):
        raise _fail(given, f"the folder {folder} cannot be created ({base} is not writable)",
                    "choose a writable folder")


def _shown_folder(given: Path, real: Path) -> Path:
    """The folder to check and name in messages: the one the user wrote, unless a link leads elsewhere."""
    if os.path.islink(given):
        return real.parent
    return given.parent if str(given.parent) else Path(".")


_FD_FOLDERS = ("/proc/", "/dev/fd/")


def _via_fd_link(given: Path) -> bool:
    """True when ``given`` is, or its chain of symbolic links passes through, a file-descriptor
    name (``/dev/stdout`` -> ``/proc/self/fd/1``): such a target is an open stream of this process
    and is written into (appended to), never renamed over."""
    p = os.path.abspath(given)
    for _ in range(40):
        if p.startswith(_FD_FOLDERS) or os.path.realpath(os.path.dirname(p)).startswith(_FD_FOLDERS):
            return True
        if not os.path.islink(p):
            return False
        p = os.path.normpath(os.path.join(os.path.dirname(p), os.readlink(p)))
    return False


def _inspect(path, *, suffixes=None, what="output", example=None, make_folders=False) -> _Target:
    if path is None or str(path).strip() == "":
        raise AstpError(f"no file name given for the {what}; give a path")
    given = Path(os.fspath(path))
    if str(path).endswith(os.sep) or given.name in ("", ".", ".."):
        raise _fail(given, "that names a folder", f"give a file name{' ending in ' + suffixes[0] if suffixes else ''}")
    try:
        st = os.stat(given)  # follows symbolic links (and /proc/self/fd magic links)
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        raise _fail(given, "a part of that path is a file, not a folder", "choose a path inside a folder") from None
    except PermissionError:
        raise _fail(given, "permission denied", "choose a writable path") from None
    except OSError as exc:  # ELOOP, ENAMETOOLONG, ...
        raise _fail(given, _os_why(exc), "choose another path") from None

    if st is None:  # nothing there yet (or a dangling symbolic link: its target is created)
        _check_suffix(given, suffixes, what, example)
        real = Path(os.path.realpath(given))
        if str(real).startswith(("/proc/", "/dev/fd/")):
            raise _fail(given, "it names a file descriptor that is not open", "choose a file")
        _check_parent(given, _shown_folder(given, real), make_folders)
        return _Target(given, "new", real)

    mode = st.st_mode
    if stat.S_ISDIR(mode):
        raise _fail(given, "it is a folder", f"give a file name{' ending in ' + suffixes[0] if suffixes else ''}")
    if stat.S_ISBLK(mode):
        raise _fail(given, "it is a block device (a disk or a partition) and writing into it would destroy "
                           "what it holds", "choose a file")
    if stat.S_ISSOCK(mode):
        raise _fail(given, "it is a socket", "choose a file")
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        if not os.access(given, os.W_OK):
            raise _fail(given, "permission denied", "choose a writable path")
        return _Target(given, "stream", given)
    if not stat.S_ISREG(mode):
        raise _fail(given, "it is not a regular file", "choose a file")
    if _via_fd_link(given):  # /dev/stdout redirected to a file: append to it, never replace it
        return _Target(given, "stream", given)
    _check_suffix(given, suffixes, what, example)
    if not os.access(given, os.W_OK):
        raise _fail(given, "the file is read-only", "choose another name or make it writable")
    real = Path(os.path.realpath(given))
    try:
        same = os.path.samestat(st, os.stat(real))
    except OSError:
        same = False
    if not same:  # a name that does not lead to the file itself: write into it
        return _Target(given, "stream", given)
    _check_parent(given, _shown_folder(given, real), False)
    return _Target(given, "file", real, st)


def check_output(path, *, suffixes=None, what: str = "output", example: str | None = None,
                 make_folders: bool = False) -> Path:
    """Fail early (before minutes of work) if ``path`` cannot be written as an output.

    ``suffixes``: accepted suffixes, e.g. ``(".png",)``. ``what`` names the output in messages
    ("picture", "map", "plot"); ``example`` is a file name offered in the fix. ``make_folders``:
    missing folders are fine if they can be created. Returns ``Path(path)``."""
    _inspect(path, suffixes=suffixes, what=what, example=example, make_folders=make_folders)
    return Path(path)


def check_folder(path, *, make: bool = True, what: str = "folder") -> Path:
    """Fail early if ``path`` cannot hold outputs: it is a folder that is writable, or (``make``)
    it can be created."""
    folder = Path(path)
    if os.path.isdir(folder):
        if not os.access(folder, os.W_OK | os.X_OK):
            raise AstpError(f"cannot write into {folder}: the {what} is not writable; choose a writable folder")
        return folder
    if os.path.lexists(folder):
        raise AstpError(f"cannot write into {folder}: it is not a folder; choose a folder")
    if not make:
        raise AstpError(f"cannot write into {folder}: the {what} does not exist; create it first")
    base = _nearest_existing(folder)
    if not os.path.isdir(base):
        raise AstpError(f"cannot create {folder}: {base} is not a folder; choose another folder")
    if not os.access(base, os.W_OK | os.X_OK):
        raise AstpError(f"cannot create {folder}: {base} is not writable; choose a writable folder")
    return folder


# ------------------------------------------------------------------------------------------------
# Staging and committing
# ------------------------------------------------------------------------------------------------
def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _lock:  # os.umask has no read-only form
        old = os.umask(0o022)
        os.umask(old)
    return old


def _remove(path: Path | None) -> None:
    if path is None:
        return
    try:
        os.unlink(path)
    except OSError:  # already gone (renamed into place, or removed by the writer)
        pass


@dataclasses.dataclass
class _Staged:
    target: _Target
    tmp: Path
    check: dict
    created_dirs: list[Path]
    done: bool = False


class OutputBatch:
    """Outputs staged in temporary files, committed together (see :func:`batch`)."""

    def __init__(self):
        self._staged: list[_Staged] = []
        self._created_dirs: list[Path] = []

    # -- staging --------------------------------------------------------------------------
    def _stage(self, path, *, suffix: str | None = None, **check) -> _Staged:
        target = _inspect(path, **check)
        with _held_signals():
            created = []
            if target.kind == "stream":
                folder = Path(tempfile.gettempdir())
            else:
                folder = target.real.parent
                if not folder.is_dir():
                    created = self._make_folders(target.given, folder)
            name = target.real.name if target.kind != "stream" else "stream"
            stem = Path(name).stem if Path(name).suffix else name
            ext = suffix if suffix is not None else (target.real.suffix if target.kind != "stream"
                                                     else Path(target.given).suffix)
            try:
                fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{stem[:60]}-", suffix=f"{TEMP_MARK}{ext}")
            except OSError as exc:
                self._remove_dirs(created)
                raise _fail(target.given, _os_why(exc), "choose a writable folder") from None
            os.close(fd)
            entry = _Staged(target, Path(tmp), check, created)
            self._staged.append(entry)
            self._created_dirs.extend(created)
        return entry

    def _make_folders(self, given, folder: Path) -> list[Path]:
        missing = []
        probe = folder
        while not os.path.lexists(probe):
            missing.append(probe)
            probe = probe.parent
        created = []
        try:
            for d in reversed(missing):
                os.mkdir(d)
                created.append(d)
        except OSError as exc:
            self._remove_dirs(created)
            raise _fail(given, f"cannot create the folder {folder} ({_os_why(exc)})", "choose a writable folder") from None
        return created

    @staticmethod
    def _remove_dirs(dirs) -> None:
        for d in reversed(list(dirs)):
            try:
                os.rmdir(d)  # only if still empty
            except OSError:
                pass

    def _drop(self, entry: _Staged) -> None:
        with _held_signals():
            _remove(entry.tmp)
            entry.done = True
            if entry in self._staged:
                self._staged.remove(entry)

    # -- the public ways in ---------------------------------------------------------------
    @contextlib.contextmanager
    def open(self, path, mode: str = "wb", *, encoding: str = "utf-8", newline=None, **check) -> Iterator[IO]:
        """A file object for ``path``; the output is kept (and committed with the batch) when the
        block ends without an exception, dropped otherwise. An OSError inside the block (a full
        disk) becomes one AstpError line naming the output."""
        if mode not in ("wb", "w"):
            raise ValueError(f"open_output mode must be 'wb' or 'w', not {mode!r}")
        entry = self._stage(path, **check)
        given = entry.target.given
        ok = False
        try:
            try:
                fh = (open(entry.tmp, "wb") if mode == "wb"
                      else open(entry.tmp, "w", encoding=encoding, newline=newline))
            except OSError as exc:
                raise _fail(given, _os_why(exc), "choose a writable path") from None
            try:
                yield fh
                fh.flush()
                os.fsync(fh.fileno())
                fh.close()
                ok = True
            except OSError as exc:
                raise _fail(given, _os_why(exc), "free some space or write it elsewhere") from None
            finally:
                if not fh.closed:
                    try:
                        fh.close()
                    except OSError:
                        pass
        finally:
            if not ok and not entry.done:
                self._drop(entry)

    @contextlib.contextmanager
    def path(self, path, *, suffix: str | None = None, **check) -> Iterator[Path]:
        """A temporary file name for writers that open the file themselves (see output_path)."""
        entry = self._stage(path, suffix=suffix, **check)
        ok = False
        try:
            yield entry.tmp
            if not entry.tmp.is_file():
                raise _fail(entry.target.given, "the writer produced no file", "see the message above")
            ok = True
        finally:
            if not ok and not entry.done:
                self._drop(entry)

    def write(self, path, data: bytes | str, **check) -> Path:
        mode = "wb" if isinstance(data, (bytes, bytearray, memoryview)) else "w"
        with self.open(path, mode, **check) as fh:
            fh.write(data)
        return Path(path)

    # -- the end ------------------------------------------------------------------------------
    def commit(self) -> list[Path]:
        """Move every staged output into place: streams first (they are the ones that can still
        fail), then the atomic renames. On an error the outputs not yet in place are discarded."""
        done = []
        entries = [e for e in self._staged if not e.done]
        # a name staged twice: the last version wins
        last = {}
        for e in entries:
            last[(e.target.kind, str(e.target.real))] = e
        for e in entries:
            if last[(e.target.kind, str(e.target.real))] is not e:
                self._drop(e)
        entries = sorted(last.values(), key=lambda e: 0 if e.target.kind == "stream" else 1)
        try:
            for e in entries:
                self._commit_one(e)
                done.append(e.target.given)
        except BaseException:
            self.discard()
            raise
        self._staged.clear()
        self._created_dirs.clear()
        return done

    def _commit_one(self, e: _Staged) -> None:
        check = dict(e.check)
        check["make_folders"] = True  # the folders exist by now (the batch made them)
        now = _inspect(e.target.given, **check)  # what is there now (it may have changed)
        if now.kind == "stream":
            try:
                with open(e.tmp, "rb") as src, open(now.given, "ab") as dst:  # "a": never truncates
                    shutil.copyfileobj(src, dst, 1 << 20)
            except OSError as exc:
                raise _fail(e.target.given, _os_why(exc), "check the device or the reading end") from None
            self._drop(e)
            return
        with _held_signals():
            try:
                if now.kind == "file" and now.st is not None:
                    os.chmod(e.tmp, stat.S_IMODE(now.st.st_mode))
                    if hasattr(os, "geteuid") and os.geteuid() == 0:
                        try:
                            os.chown(e.tmp, now.st.st_uid, now.st.st_gid)
                        except OSError:
                            pass
                else:
                    os.chmod(e.tmp, 0o666 & ~_umask())
                if now.real.parent != e.tmp.parent:  # the target moved to another folder meanwhile
                    shutil.move(str(e.tmp), str(now.real))
                else:
                    os.replace(e.tmp, now.real)
            except OSError as exc:
                raise _fail(e.target.given, _os_why(exc), "choose a writable path") from None
            e.done = True
            self._staged.remove(e)

    def discard(self) -> None:
        """Remove every staged temporary file and the folders this batch created (if empty)."""
        with _held_signals():
            for e in list(self._staged):
                _remove(e.tmp)
                e.done = True
            self._staged.clear()
            self._remove_dirs(self._created_dirs)
            self._created_dirs.clear()

    @property
    def pending(self) -> list[Path]:
        """The outputs staged and not yet committed (their names as given)."""
        return [e.target.given for e in self._staged if not e.done]


_current: contextvars.ContextVar[OutputBatch | None] = contextvars.ContextVar("astp_output_batch", default=None)


@contextlib.contextmanager
def batch() -> Iterator[OutputBatch]:
    """Stage the outputs written inside the block; commit them all when it ends without an
    exception, discard them all otherwise. A nested ``batch()`` joins the outer one."""
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    b = OutputBatch()
    token = _current.set(b)
    try:
        with termination_handlers():
            try:
                yield b
            except BaseException:
                b.discard()
                raise
            b.commit()
    finally:
        _current.reset(token)


@contextlib.contextmanager
def immediate() -> Iterator[None]:
    """Outputs written inside the block are committed each on its own at once, outside any
    batch: for the interactive programs (a screenshot in the viewer is complete when it is taken,
    not when the visitor quits)."""
    token = _current.set(None)
    try:
        yield
    finally:
        _current.reset(token)


@contextlib.contextmanager
def _single_or_joined():
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    with batch() as b:
        yield b


@contextlib.contextmanager
def open_output(path, mode: str = "wb", *, encoding: str = "utf-8", newline=None, suffixes=None,
                what: str = "output", example: str | None = None, make_folders: bool = False) -> Iterator[IO]:
    """Write an output through a file object (``mode`` ``"wb"`` or ``"w"``), atomically: see the
    module docstring. Inside a :func:`batch` it is committed with the batch."""
    with _single_or_joined() as b:
        with b.open(path, mode, encoding=encoding, newline=newline, suffixes=suffixes, what=what,
                    example=example, make_folders=make_folders) as fh:
            yield fh


def write_output(path, data: bytes | str, *, suffixes=None, what: str = "output", example: str | None = None,
                 make_folders: bool = False) -> Path:
    """Write ``data`` (bytes, or str as UTF-8) to ``path`` by the rules above; returns ``Path(path)``."""
    with _single_or_joined() as b:
        return b.write(path, data, suffixes=suffixes, what=what, example=example, make_folders=make_folders)


@contextlib.contextmanager
def output_path(path, *, suffix: str | None = None, suffixes=None, what: str = "output",
                example: str | None = None, make_folders: bool = False) -> Iterator[Path]:
    """A temporary file name to hand to a writer that needs one (ffmpeg, savefig by name); the
    file is committed to ``path`` (renamed, or copied into a stream) when the block ends without
    an exception and removed otherwise."""
    with _single_or_joined() as b:
        with b.path(path, suffix=suffix, suffixes=suffixes, what=what, example=example,
                    make_folders=make_folders) as tmp:
            yield tmp
