"""The one mechanism for everything the program keeps on disk to save time.

Three kinds of results are expensive and deterministic: the reconstructed trajectories
(experience/simulation/trajectory.py), the derived Earth textures (experience/scene/earth.py) and
the simulated docking (experience/simulation/docking.py, replayed by docking_replay.py). Each is
described by an :class:`Entry` and obtained with :func:`load`, which looks in three places:

1. ``generated/NAME.npz`` in the repository (built by ``tools/build_generated.py``, committed like
   models/), used when its key matches;
2. the user cache, ``experience.paths.cache_dir() / NAME-KEY.npz``;
3. otherwise it builds the arrays and writes them to the user cache.

The **key** is a digest of the code and data the result depends on (:func:`source_digest`: the
Python sources with comments and docstrings left out, the TOML data files as parsed values, other
files byte for byte) plus the entry's parameters. A file is trusted only after it passes three
checks: its header names this entry and key, its **checksum** (SHA-256 over every array's name,
dtype, shape and bytes, stored in the header) matches the content, and the entry's own **check**
(shapes, dtypes, ranges, consistency; raise :class:`Invalid`) accepts it. A file that fails any of
them is reported in one line on stderr and rebuilt; nothing that fails is ever returned.

Writing is atomic (a uniquely named hidden ``.part`` file in the same folder, renamed over the
target, removed on every error and on SIGTERM). When a new version of an entry is written, the copies made
by older code or data are removed but the most recently used one (:func:`prune`: a texture is
40-60 MB, and every release or edit of its code would leave another). A cache that cannot be written (read-only, a
folder where the file should be, ``ASTP_CACHE_DIR`` naming a file) is reported once per process and
the program goes on without it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import os
import re
import signal
import sys
import tempfile
import threading
import tokenize
import tomllib
import zipfile
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from experience.paths import cache_dir, repo_root

FORMAT = 1
KEEP_OLDER = 1   # user-cache files of an entry made by older code kept besides the current one (prune)
HEADER = "__cache__"
GENERATED = "generated"  # folder under the repository root


class Invalid(Exception):
    """Raised by an entry's check: the content is wrong. The message says how, in a few words
    that read after "the trajectory cache FILE ..." (e.g. "has NaN positions")."""


class Stale(Invalid):
    """The file is intact but was made by other code or data (its key differs)."""


# ------------------------------------------------------------------------------------------
# The key: code + data version
# ------------------------------------------------------------------------------------------
def _python_tokens(text: str) -> str:
    """The tokens of Python source without comments, docstrings and layout, as one string; the
    same on every Python version (3.12's split f-string tokens are joined back into one)."""
    tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(pos):
        row, col = pos
        return starts[row - 1] + col if row - 1 < len(starts) else len(text)

    skip = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING}
    fstring_start = getattr(tokenize, "FSTRING_START", None)
    fstring_end = getattr(tokenize, "FSTRING_END", None)
    out: list[str] = []
    prev = None
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type in skip:
            i += 1
            continue
        if fstring_start is not None and tok.type == fstring_start:
            depth, j = 0, i
            while j < len(tokens):
                if tokens[j].type == fstring_start:
                    depth += 1
                elif tokens[j].type == fstring_end:
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            out.append(text[offset(tok.start):offset(tokens[min(j, len(tokens) - 1)].end)])
            prev, i = tokenize.STRING, j + 1
            continue
        if tok.type == tokenize.STRING and prev in (None, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            nxt = next((t for t in tokens[i + 1:] if t.type not in skip), None)
            if nxt is None or nxt.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
                prev, i = tokenize.STRING, i + 1  # a string statement (docstring): no effect
                continue
        if tok.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER):
            out.append(f"<{tokenize.tok_name[tok.type]}>")
        else:
            out.append(tok.string)
        prev = tok.type
        i += 1
    # a NEWLINE right before ENDMARKER depends on the file's last line ending; leave it out
    while out and out[-1] in ("<NEWLINE>", "<ENDMARKER>", "<DEDENT>"):
        out.pop()
    return "\x1f".join(out)


def _canonical(path: Path, raw: bytes) -> bytes:
    suffix = path.suffix.lower()
    try:
        if suffix == ".py":
            return _python_tokens(raw.decode("utf-8")).encode("utf-8")
        if suffix == ".toml":
            return json.dumps(tomllib.loads(raw.decode("utf-8")), sort_keys=True, default=str,
                              separators=(",", ":")).encode("utf-8")
    except (UnicodeDecodeError, SyntaxError, tokenize.TokenError, tomllib.TOMLDecodeError, ValueError):
        pass  # not parseable: the raw bytes then (a broken file still changes the key)
    return raw


_DIGESTS: dict[tuple, str] = {}
_DIGEST_LOCK = threading.Lock()
STAMPS_FILE = "source-digests.json"
_stamps: dict[str, list] | None = None  # path -> [inode, size, mtime_ns, ctime_ns, digest], from disk
_stamps_new = False


def _const_text(c) -> str:
    """A code constant as text that is the same in every process: a frozenset's repr follows the
    string hash seed (``x in {"a", "b"}`` compiles to one), so sets are written sorted."""
    if isinstance(c, frozenset):
        return "frozenset(" + ",".join(sorted(_const_text(v) for v in c)) + ")"
    if isinstance(c, tuple):
        return "(" + ",".join(_const_text(v) for v in c) + ")"
    if isinstance(c, type(_python_tokens.__code__)):
        return "code(" + c.co_code.hex() + _const_text(c.co_consts) + ")"
    return repr(c)


def _digest_rules() -> str:
    """Changes when the canonical forms do (the code of the functions that make them); the same
    in every process (tests/test_cache.py runs it under two hash seeds)."""
    h = hashlib.sha256(f"{FORMAT}".encode())
    for fn in (_canonical, _python_tokens):
        h.update(fn.__code__.co_code)
        h.update(_const_text(fn.__code__.co_consts).encode())
    return h.hexdigest()[:16]


def _stamps_path() -> Path:
    return cache_dir() / STAMPS_FILE


def _load_stamps() -> dict[str, list]:
    """The digests earlier runs computed, by file and its stat stamp (the user cache's
    source-digests.json): tokenising some forty sources took a quarter of a second of every
    start. A file whose inode, size, mtime or ctime differ is digested again; ctime cannot be set
    back by hand, so an edited file is never taken for its earlier self."""
    global _stamps
    if _stamps is None:
        try:
            raw = json.loads(_stamps_path().read_text(encoding="utf-8"))
            ok = isinstance(raw, dict) and raw.get("rules") == _digest_rules() and isinstance(raw.get("files"), dict)
            _stamps = raw["files"] if ok else {}
        except (OSError, ValueError):
            _stamps = {}
    return _stamps


def _save_stamps() -> None:
    """Write the digests back (atomically; a cache that cannot be written is no error)."""
    global _stamps_new
    with _DIGEST_LOCK:
        if not _stamps_new or _stamps is None:
            return
        text = json.dumps({"rules": _digest_rules(), "files": _stamps}, separators=(",", ":"))
        _stamps_new = False
    folder = _stamps_path().parent
    tmp = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{STAMPS_FILE}.", suffix=".part", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, _stamps_path())
        tmp = None
    except OSError:
        pass
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def source_digest(path: Path) -> str:
    """SHA-256 of what a source file means: Python without comments and docstrings, TOML as its
    parsed values, anything else byte for byte. A missing file digests as "missing"."""
    global _stamps_new
    path = Path(path)
    try:
        st = path.stat()
    except OSError:
        return "missing"
    memo = (str(path), st.st_mtime_ns, st.st_size)
    stamp = [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]
    with _DIGEST_LOCK:
        if memo in _DIGESTS:
            return _DIGESTS[memo]
        known = _load_stamps().get(str(path))
        if isinstance(known, list) and len(known) == 5 and known[:4] == stamp and isinstance(known[4], str):
            _DIGESTS[memo] = known[4]
            return known[4]
    try:
        raw = path.read_bytes()
    except OSError:
        return "unreadable"
    digest = hashlib.sha256(_canonical(path, raw)).hexdigest()
    with _DIGEST_LOCK:
        _DIGESTS[memo] = digest
        _load_stamps()[str(path)] = stamp + [digest]
        _stamps_new = True
    return digest


def _label(path: Path) -> str:
    """A location-independent name: the last two parts (kernels/orbit.py, mission/orbits.toml)."""
    return "/".join(Path(path).parts[-2:])


def make_key(name: str, sources=(), params=()) -> str:
    h = hashlib.sha256(f"astp-cache format {FORMAT}\n{name}\n".encode())
    for path in sorted(sources, key=_label):
        h.update(f"{_label(path)}={source_digest(path)}\n".encode())
    h.update(json.dumps(list(params), default=str).encode())
    _save_stamps()
    return h.hexdigest()[:16]


# ------------------------------------------------------------------------------------------
# Entries
# ------------------------------------------------------------------------------------------
Check = Callable[[Mapping[str, np.ndarray]], None]


@dataclasses.dataclass(frozen=True)
class Entry:
    """One cached result.

    - ``name``: file stem (``trajectory`` -> ``generated/trajectory.npz``, ``CACHE/trajectory-KEY.npz``).
    - ``what``: words for the notices ("trajectory", "relief texture").
    - ``sources``: the code and data files the result depends on (their meaning goes into the key).
    - ``params``: anything else that changes the result (sizes, seeds, versions), JSON-able.
    - ``check``: called with the arrays; raises :class:`Invalid` (or any exception) for wrong
      content. Also run on freshly built arrays, so a builder bug is never cached.
    - ``generated``: a copy may ship in the repository's generated/ folder.
    - ``compress``: deflate level of the arrays in the .npz (0 stores them; 1 is fast, 6 small).
    """

    name: str
    what: str
    sources: tuple = ()
    params: tuple = ()
    check: Check | None = None
    generated: bool = False
    compress: int = 6

    @property
    def key(self) -> str:
        return make_key(self.name, self.sources, self.params)

    def cache_path(self, key: str | None = None) -> Path:
        return cache_dir() / f"{self.name}-{key or self.key}.npz"

    def generated_path(self) -> Path:
        return repo_root() / GENERATED / f"{self.name}.npz"


@dataclasses.dataclass
class Loaded:
    arrays: dict[str, np.ndarray]
    origin: str  # "generated", "cache" or "built"
    path: Path | None  # the file it came from or went to (None: built, not written)


# ------------------------------------------------------------------------------------------
# Reading and writing
# ------------------------------------------------------------------------------------------
def checksum(arrays: Mapping[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(memoryview(a.reshape(-1)).cast("B") if a.size else b"")
    return "sha256:" + h.hexdigest()


def _variant(entry: Entry) -> str:
    """The entry's parameters as a short digest: two files of one name and variant differ only by
    the code and data that made them (an older version), two variants are both in use."""
    return hashlib.sha256(json.dumps([entry.name, list(entry.params)], default=str).encode()).hexdigest()[:16]


def _header(entry: Entry, key: str, arrays: Mapping[str, np.ndarray]) -> dict:
    return {"format": FORMAT, "name": entry.name, "key": key, "variant": _variant(entry),
            "checksum": checksum(arrays)}


def _decode_header(z) -> object:
    """The JSON header of an open cache archive (``np.load``'s NpzFile)."""
    return json.loads(bytes(np.asarray(z[HEADER], dtype=np.uint8)).decode("utf-8"))


def _read_header(path: Path) -> dict | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            head = _decode_header(z)
    except Exception:  # noqa: BLE001 - damaged, foreign or gone: not ours to judge here
        return None
    return head if isinstance(head, dict) else None


def prune(entry: Entry, key: str, folder: Path | None = None) -> list[Path]:
    """Remove the user cache's files of ``entry`` made by older code or data, keeping the
    :data:`KEEP_OLDER` most recently used besides ``key`` (two checkouts or versions in turn do
    not rebuild each other's). Only files named ``NAME-KEY.npz`` whose header names this entry
    and its variant are touched (other parameters, other entries and anything else stay).
    Returns what was removed."""
    folder = Path(folder) if folder is not None else cache_dir()
    pattern = re.compile(re.escape(entry.name) + r"-([0-9a-f]{16})\.npz")
    older = []
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    for name in names:
        m = pattern.fullmatch(name)
        if m is None or m.group(1) == key:
            continue
        path = folder / name
        head = _read_header(path)
        if head is None or head.get("name") != entry.name or head.get("variant", _variant(entry)) != _variant(entry):
            continue
        with contextlib.suppress(OSError):
            older.append((path.stat().st_mtime_ns, path))   # last used (load touches a file it reads)
    removed = []
    for _mtime, path in sorted(older, reverse=True)[KEEP_OLDER:]:
        with contextlib.suppress(OSError):
            path.unlink()
            removed.append(path)
    return removed


def read(path: Path, entry: Entry, key: str | None = None) -> dict[str, np.ndarray]:
    """The arrays of a cache file, verified (header, checksum, the entry's check); otherwise
    :class:`Invalid` saying what is wrong. ``key``: the one expected (default: the current)."""
    key = key or entry.key
    try:
        with np.load(path, allow_pickle=False) as z:
            if not hasattr(z, "files"):
                raise Invalid("is not a cache archive")
            if HEADER not in z.files:
                raise Invalid("has no cache header")
            head = _decode_header(z)
            arrays = {k: np.asarray(z[k]) for k in z.files if k != HEADER}
    except Invalid:
        raise
    except Exception as exc:  # a damaged archive raises anything: BadZipFile, EOFError, zlib.error...
        raise Invalid(f"is unreadable ({type(exc).__name__})") from None
    if not isinstance(head, dict) or head.get("format") != FORMAT or head.get("name") != entry.name:
        raise Invalid("has a foreign header")
    if head.get("key") != key:
        raise Stale("was made by other code or data")
    if head.get("checksum") != checksum(arrays):
        raise Invalid("fails its checksum (changed after it was written)")
    if entry.check is not None:
        try:
            entry.check(arrays)
        except Invalid:
            raise
        except Exception as exc:
            raise Invalid(f"holds malformed content ({type(exc).__name__}: {exc})") from None
    return arrays


def _savez(f, arrays: Mapping[str, np.ndarray], level: int) -> None:
    """An .npz (what np.load reads) with the given deflate level (np.savez_compressed has none)."""
    mode = zipfile.ZIP_DEFLATED if level > 0 else zipfile.ZIP_STORED
    kwargs = {"compresslevel": min(9, level)} if level > 0 else {}
    with zipfile.ZipFile(f, "w", compression=mode, allowZip64=True, **kwargs) as zf:
        for name, a in arrays.items():
            with zf.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(a), allow_pickle=False)


@contextlib.contextmanager
def _removed_on_sigterm(tmp: str):
    """While writing: SIGTERM removes the temporary file first, then acts as it would have."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    try:
        previous = signal.getsignal(signal.SIGTERM)
    except (ValueError, OSError):
        previous = None
    if previous is None or previous == signal.SIG_IGN:  # a handler from C, or ignored: leave it
        yield
        return

    def handler(signum, frame):
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if callable(previous):
            previous(signum, frame)
        else:  # SIG_DFL: die of the signal, as without this handler
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def write(path: Path, entry: Entry, arrays: Mapping[str, np.ndarray], key: str | None = None) -> Path:
    """Write ``arrays`` as a cache file for ``entry`` atomically; OSError if it cannot be written
    (nothing is left behind then)."""
    path = Path(path)
    key = key or entry.key
    arrays = {k: np.asarray(v) for k, v in arrays.items()}
    head = np.frombuffer(json.dumps(_header(entry, key, arrays)).encode("utf-8"), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with _removed_on_sigterm(tmp):
            with os.fdopen(fd, "wb") as f:
                _savez(f, {HEADER: head, **arrays}, int(entry.compress))
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


# ------------------------------------------------------------------------------------------
# The one entry point
# ------------------------------------------------------------------------------------------
_WRITE_WARNED: list[str] = []


def _say(msg: str) -> None:
    print(msg, file=sys.stderr)


def _warn_unwritable(folder: Path, exc: OSError, notice) -> None:
    if _WRITE_WARNED:
        return
    _WRITE_WARNED.append(str(folder))
    why = exc.strerror or type(exc).__name__
    notice(f"astp: cannot write the cache in {folder} ({why}); going on without it "
           f"(set ASTP_CACHE_DIR to a writable folder to make later runs faster)")


def load(entry: Entry, build: Callable[[], Mapping[str, np.ndarray]], *, rebuild: bool = False,
         notice: Callable[[str], None] | None = None, write_cache: bool = True) -> Loaded:
    """The verified arrays of ``entry``: from generated/, else the user cache, else ``build()``
    (then written to the user cache). ``rebuild``: build and rewrite the user cache whatever is
    there. ``notice`` receives the one-line messages (default: stderr)."""
    say = notice or _say
    key = entry.key
    if not rebuild:
        if entry.generated:
            gen = entry.generated_path()
            if gen.is_file():
                try:
                    return Loaded(read(gen, entry, key), "generated", gen)
                except Stale:
                    pass  # made for other code or data (a change not yet regenerated): skip quietly
                except Invalid as exc:
                    say(f"astp: the shipped {entry.what} {gen} {exc}; using the user cache instead "
                        f"(restore it with git checkout, or run python tools/build_generated.py)")
        path = entry.cache_path(key)
        if path.is_file():
            try:
                got = Loaded(read(path, entry, key), "cache", path)
                with contextlib.suppress(OSError):   # last used, as ccache marks it: what prune keeps
                    os.utime(path)
                return got
            except Invalid as exc:
                say(f"astp: the {entry.what} cache {path} {exc}; rebuilding it (nothing is lost)")
    arrays = {k: np.asarray(v) for k, v in build().items()}
    if entry.check is not None:
        try:
            entry.check(arrays)
        except Invalid as exc:  # a builder bug: never cache it, never hand it on
            raise RuntimeError(f"internal error: the freshly built {entry.what} {exc}") from None
    path = entry.cache_path(key)
    if not write_cache:
        return Loaded(arrays, "built", None)
    try:
        write(path, entry, arrays, key)
    except OSError as exc:
        _warn_unwritable(path.parent, exc, say)
        return Loaded(arrays, "built", None)
    prune(entry, key, path.parent)   # the older versions' copies (a texture is 40-60 MB)
    return Loaded(arrays, "built", path)


def write_generated(entry: Entry, arrays: Mapping[str, np.ndarray], folder: Path | None = None) -> Path:
    """Write the repository copy of ``entry`` (tools/build_generated.py)."""
    folder = Path(folder) if folder is not None else repo_root() / GENERATED
    arrays = {k: np.asarray(v) for k, v in arrays.items()}
    if entry.check is not None:
        entry.check(arrays)
    return write(folder / f"{entry.name}.npz", entry, arrays)


# ------------------------------------------------------------------------------------------
# Helpers for checks
# ------------------------------------------------------------------------------------------
def require(arrays: Mapping[str, np.ndarray], name: str, dtype=None, shape=None, *, finite: bool = True,
            lo: float | None = None, hi: float | None = None) -> np.ndarray:
    """The array ``name`` after checking it: dtype, shape (None in a shape matches any length),
    no NaN or infinity, every value in [lo, hi]. Raises :class:`Invalid` naming the problem."""
    if name not in arrays:
        raise Invalid(f"lacks {name}")
    a = arrays[name]
    if dtype is not None and a.dtype != np.dtype(dtype):
        raise Invalid(f"has {name} of type {a.dtype}, not {np.dtype(dtype)}")
    if shape is not None:
        if a.ndim != len(shape) or any(s is not None and s != n for s, n in zip(shape, a.shape)):
            want = "x".join("n" if s is None else str(s) for s in shape) or "scalar"
            raise Invalid(f"has {name} of shape {a.shape}, not {want}")
    if a.dtype.kind in "fc" and finite and not np.isfinite(a).all():
        raise Invalid(f"has NaN or infinite values in {name}")
    if a.size and lo is not None and float(np.min(a)) < lo:
        raise Invalid(f"has {name} below {lo:g} (min {float(np.min(a)):g})")
    if a.size and hi is not None and float(np.max(a)) > hi:
        raise Invalid(f"has {name} above {hi:g} (max {float(np.max(a)):g})")
    return a


def json_array(obj) -> np.ndarray:
    """A JSON document as a uint8 array (npz files hold no objects)."""
    return np.frombuffer(json.dumps(obj, sort_keys=True).encode("utf-8"), dtype=np.uint8).copy()


def from_json_array(a: np.ndarray):
    try:
        return json.loads(bytes(np.asarray(a, dtype=np.uint8)).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid(f"has an unreadable JSON field ({type(exc).__name__})") from None


__all__ = ["Entry", "Invalid", "Stale", "Loaded", "load", "read", "write", "write_generated", "checksum",
           "make_key", "source_digest", "require", "json_array", "from_json_array"]
