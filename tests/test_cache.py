"""The one cache mechanism (experience/cache.py) and its three users: a file that loads but holds the
wrong content is found and rebuilt with one notice, never returned; a cache that cannot be written
warns once and leaves nothing behind; the key follows the code and data, not their comments.

Every poisoned file is written by the test into a private ASTP_CACHE_DIR. "Recomputed" below means
the poisoner also rewrote the checksum (what a careless tool or a deliberate edit would do), so the
entry's own checks must find it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest

from experience import cache

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def cdir(tmp_path, monkeypatch):
    """A private, empty cache folder; the repository's generated/ data out of the way; the
    one-warning-per-process state reset."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("ASTP_CACHE_DIR", str(folder))
    monkeypatch.setattr(cache, "GENERATED", "no-generated-data-here")
    monkeypatch.setattr(cache, "_WRITE_WARNED", [])
    return folder


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith(".part") or p.name.startswith("."))


def _rewrite(path: Path, entry, change) -> None:
    """Poison a cache file: load its arrays, change them, write them back with a new checksum."""
    arrays = dict(cache.read(path, entry))
    change(arrays)
    head = json.dumps(cache._header(entry, entry.key, arrays)).encode()
    with open(path, "wb") as f:
        cache._savez(f, {cache.HEADER: np.frombuffer(head, np.uint8), **arrays}, 1)


def _keep_checksum(path: Path, change) -> None:
    """Poison a cache file but keep its old header (checksum): what bit rot or a hex editor does."""
    with np.load(path) as z:
        arrays = {k: np.array(z[k]) for k in z.files}
    change(arrays)
    with open(path, "wb") as f:
        cache._savez(f, arrays, 1)


# ----------------------------------------------------------------------------- the mechanism
def _toy_entry(tmp_path, **kw):
    src = tmp_path / "toy_source.py"
    if not src.exists():
        src.write_text("X = 1\n")

    def check(arrays):
        cache.require(arrays, "pos_km", np.float64, (None, 3), lo=-7000.0, hi=7000.0)

    return cache.Entry("toy", "toy table", (src,), params=(1,), check=check, **kw)


def _toy_arrays(scale=1.0):
    return {"pos_km": np.arange(12, dtype=np.float64).reshape(4, 3) * 500.0 * scale}


def test_load_builds_once_then_reads_and_verifies(cdir, tmp_path):
    entry = _toy_entry(tmp_path)
    calls = []

    def build():
        calls.append(1)
        return _toy_arrays()

    first = cache.load(entry, build)
    assert first.origin == "built" and first.path == entry.cache_path() and first.path.is_file()
    second = cache.load(entry, build)
    assert second.origin == "cache" and len(calls) == 1
    assert np.array_equal(second.arrays["pos_km"], _toy_arrays()["pos_km"])
    again = cache.load(entry, build, rebuild=True)
    assert again.origin == "built" and len(calls) == 2
    assert _leftovers(cdir) == []


@pytest.mark.parametrize("poison, words", [
    (lambda p, e: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]), "unreadable"),
    (lambda p, e: p.write_bytes(b""), "unreadable"),
    (lambda p, e: p.write_bytes(b"PK\x03\x04 not really a zip"), "unreadable"),
    (lambda p, e: _keep_checksum(p, lambda a: a.__setitem__("pos_km", a["pos_km"] * 1.001)), "checksum"),
    (lambda p, e: _keep_checksum(p, lambda a: a.pop(cache.HEADER)), "no cache header"),
    (lambda p, e: _rewrite(p, e, lambda a: a.__setitem__("pos_km", a["pos_km"][:, :2].copy())), "shape"),
    (lambda p, e: _rewrite(p, e, lambda a: a["pos_km"].__setitem__((1, 1), np.nan)), "NaN"),
    (lambda p, e: _rewrite(p, e, lambda a: a.__setitem__("pos_km", a["pos_km"].astype(np.float32))), "type"),
    (lambda p, e: _rewrite(p, e, lambda a: a.__setitem__("pos_km", a["pos_km"] * 100.0)), "above"),
])
def test_a_damaged_or_wrong_file_is_rebuilt_with_one_notice(cdir, tmp_path, poison, words):
    entry = _toy_entry(tmp_path)
    cache.load(entry, _toy_arrays)
    poison(entry.cache_path(), entry)
    notes = []
    got = cache.load(entry, _toy_arrays, notice=notes.append)
    assert got.origin == "built" and np.array_equal(got.arrays["pos_km"], _toy_arrays()["pos_km"])
    assert len(notes) == 1 and words in notes[0] and "rebuilding" in notes[0] and "\n" not in notes[0], notes
    assert cache.load(entry, _toy_arrays, notice=notes.append).origin == "cache" and len(notes) == 1


def test_a_file_of_another_key_is_not_used(cdir, tmp_path):
    entry = _toy_entry(tmp_path)
    cache.load(entry, _toy_arrays)
    other = cache.Entry("toy", "toy table", entry.sources, params=(2,), check=entry.check)
    shutil.copy(entry.cache_path(), other.cache_path())  # renamed into the other key's place
    notes = []
    assert cache.load(other, lambda: _toy_arrays(0.5), notice=notes.append).origin == "built"
    assert len(notes) == 1 and "other code or data" in notes[0]


def test_older_versions_are_pruned_keeping_the_last_used_and_other_variants(cdir, tmp_path):
    """Each edit of an entry's code makes a new key: writing it removes the copies older code
    made but the most recently used one; another variant (other parameters), another entry and
    files that are not the cache's own stay."""
    import time

    src = tmp_path / "toy_source.py"
    made = []
    for version in range(4):   # four versions of the code, each built once
        src.write_text(f"X = {version}\n")
        entry = _toy_entry(tmp_path)
        assert cache.load(entry, _toy_arrays).origin == "built"
        made.append(entry.cache_path())
        os.utime(made[-1], (time.time() - 100 + version, time.time() - 100 + version))   # used in order
    other_variant = cache.Entry("toy", "toy table", (src,), params=(2,), check=entry.check)
    other_path = cache.load(other_variant, _toy_arrays).path
    stranger = cdir / "toy-0123456789abcdef.npz"
    stranger.write_bytes(b"not ours")                      # a name like ours, not a cache file
    unrelated = cdir / "toys-0123456789abcdef.npz"
    shutil.copy(made[0], unrelated) if made[0].exists() else unrelated.write_bytes(b"x")
    src.write_text("X = 4\n")
    newest = cache.load(_toy_entry(tmp_path), _toy_arrays)
    assert newest.origin == "built"
    kept = {p.name for p in cdir.glob("toy-*.npz")}
    assert newest.path.name in kept and made[3].name in kept       # the newest older one stays
    assert not made[0].exists() and not made[1].exists() and not made[2].exists()
    assert other_path.exists() and stranger.exists() and unrelated.exists()
    # a read makes a file the most recently used: version 3 read again outlives version 4
    src.write_text("X = 3\n")
    assert cache.load(_toy_entry(tmp_path), _toy_arrays).origin == "cache"
    src.write_text("X = 5\n")
    cache.load(_toy_entry(tmp_path), _toy_arrays)
    assert made[3].exists() and not newest.path.exists()


def test_a_builder_bug_is_never_cached(cdir, tmp_path):
    entry = _toy_entry(tmp_path)
    with pytest.raises(RuntimeError, match="internal error"):
        cache.load(entry, lambda: {"pos_km": np.full((4, 3), np.nan)})
    assert not entry.cache_path().exists() and _leftovers(cdir) == []


@pytest.mark.parametrize("blocker", ["folder in the way", "cache dir is a file", "parent is a file"])
def test_an_unwritable_cache_warns_once_and_goes_on(cdir, tmp_path, monkeypatch, blocker):
    entry = _toy_entry(tmp_path)
    other = cache.Entry("toy2", "other table", entry.sources, check=entry.check)
    if blocker == "folder in the way":
        cdir.mkdir()
        entry.cache_path().mkdir()
        (entry.cache_path() / "keep.txt").write_text("not ours")
        other.cache_path().mkdir()
    elif blocker == "cache dir is a file":
        cdir.write_text("I am a file")
    else:
        (tmp_path / "file").write_text("x")
        monkeypatch.setenv("ASTP_CACHE_DIR", str(tmp_path / "file" / "cache"))
    notes = []
    for e in (entry, other, entry):
        got = cache.load(e, _toy_arrays, notice=notes.append)
        assert got.origin == "built" and got.path is None
    assert len(notes) == 1 and "cannot write the cache" in notes[0] and "going on without it" in notes[0], notes
    assert _leftovers(tmp_path) == []
    if blocker == "folder in the way":
        assert (entry.cache_path() / "keep.txt").read_text() == "not ours"
    elif blocker == "cache dir is a file":
        assert cdir.read_text() == "I am a file"


READ_ONLY_CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    from pathlib import Path
    from experience import cache
    src = Path(sys.argv[1])
    entry = cache.Entry("toy", "toy table", (src,), check=lambda a: None)
    notes = []
    for _ in range(3):
        got = cache.load(entry, lambda: {"x": np.arange(3.0)}, notice=notes.append)
        assert got.origin == "built" and got.path is None, got
    print(len(notes), notes[0] if notes else "")
""")


def test_a_read_only_cache_warns_once_and_leaves_nothing(tmp_path):
    """A truly read-only folder: permissions where they bind (not root), else a read-only mount
    in a private mount namespace (root, where unshare works); otherwise an EROFS stand-in."""
    ro = tmp_path / "ro"
    ro.mkdir()
    (tmp_path / "src.py").write_text("X = 1\n")
    env = dict(os.environ, ASTP_CACHE_DIR=str(ro), PYTHONPATH=str(ROOT))
    child = [sys.executable, "-c", READ_ONLY_CHILD, str(tmp_path / "src.py")]
    if os.geteuid() != 0:
        ro.chmod(0o555)
        try:
            proc = subprocess.run(child, capture_output=True, text=True, env=env, timeout=120)
        finally:
            ro.chmod(0o755)
    elif shutil.which("unshare") and subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode == 0:
        script = f"mount -t tmpfs -o ro tmpfs {ro} && exec \"$@\""
        proc = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", *child], capture_output=True,
                              text=True, env=env, timeout=120)
    else:
        stand_in = ("import errno, tempfile\n"
                    "def _ro(*a, **k):\n    raise OSError(errno.EROFS, 'Read-only file system')\n"
                    "tempfile.mkstemp = _ro\n")
        child[2] = stand_in + READ_ONLY_CHILD
        proc = subprocess.run(child, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    count, note = proc.stdout.strip().split(" ", 1)
    assert count == "1" and "cannot write the cache" in note and ("Read-only" in note or "Permission" in note), note
    assert list(ro.iterdir()) == []


SIGTERM_CHILD = textwrap.dedent("""
    import sys, time
    import numpy as np
    from pathlib import Path
    from experience import cache
    real = cache._savez
    def slow(f, arrays, level):
        real(f, arrays, level)
        f.flush()
        print("writing", flush=True)
        time.sleep(60)
    cache._savez = slow
    entry = cache.Entry("toy", "toy table", (Path(sys.argv[1]),))
    cache.load(entry, lambda: {"x": np.arange(1000.0)})
""")


def test_sigterm_while_writing_leaves_no_temporary_file(tmp_path):
    folder = tmp_path / "cache"
    (tmp_path / "src.py").write_text("X = 1\n")
    env = dict(os.environ, ASTP_CACHE_DIR=str(folder), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", SIGTERM_CHILD, str(tmp_path / "src.py")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "writing"
        assert [p.name for p in folder.iterdir() if p.name.endswith(".part")], "the write should be under way"
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGTERM
    assert [p for p in folder.iterdir() if p.name != cache.STAMPS_FILE] == []  # only the digests kept


def test_the_key_follows_code_and_data_not_their_comments(tmp_path):
    py = tmp_path / "mod.py"
    toml = tmp_path / "data.toml"
    py.write_text('"""Doc."""\nX = 1  # one\n\ndef f(a):\n    """Doc of f."""\n    return a + X\n')
    toml.write_text('# header\n[a]\nvalue = 1.5  # source: somewhere\nsource = "NASA"\n')
    key = cache.make_key("k", (py, toml))
    py.write_text('"""Another doc."""\n\n# a comment line\nX = 1\ndef f(a):\n    """Changed."""\n\n    return a + X  # why\n')
    toml.write_text('[a]\nsource = "NASA"\n\n# moved\nvalue = 1.5\n')
    assert cache.make_key("k", (py, toml)) == key
    py.write_text('"""Doc."""\nX = 2\n\ndef f(a):\n    """Doc of f."""\n    return a + X\n')
    assert cache.make_key("k", (py, toml)) != key
    py.write_text('"""Doc."""\nX = 1\n\ndef f(a):\n    """Doc of f."""\n    return a + X\n')
    toml.write_text('[a]\nvalue = 1.6\nsource = "NASA"\n')
    assert cache.make_key("k", (py, toml)) != key
    assert cache.make_key("k", (py, toml), params=(1,)) != cache.make_key("k", (py, toml), params=(2,))


def _other_pythons() -> list[str]:
    found = []
    for version in ("3.11", "3.12", "3.13"):
        for exe in (*sorted(str(p) for p in Path.home().glob(f".pyenv/versions/{version}*/bin/python{version}")),
                    shutil.which(f"python{version}")):
            if not exe or Path(exe).resolve() == Path(sys.executable).resolve():
                continue
            ok = subprocess.run([exe, "-c", "import tomllib"], capture_output=True, timeout=60).returncode == 0
            if ok:
                found.append(exe)
                break
    return found


def test_the_key_is_the_same_on_every_python():
    """The generated files must match on CI's Python too: the token stream of our sources digests
    the same on 3.11, 3.12 and 3.13 (3.12 tokenizes f-strings differently; they are joined back)."""
    import inspect

    others = _other_pythons()
    if not others:
        pytest.skip("no other Python version on this machine to compare with")
    program = "\n".join([
        "import hashlib, io, json, sys, tokenize, tomllib", "from pathlib import Path",
        inspect.getsource(cache._python_tokens), inspect.getsource(cache._canonical),
        "for f in sys.argv[1:]:",
        "    print(hashlib.sha256(_canonical(Path(f), Path(f).read_bytes())).hexdigest())",
    ])
    files = sorted((ROOT / "experience").rglob("*.py")) + sorted((ROOT / "kernels").rglob("*.py"))
    here = [cache.source_digest(f) for f in files]
    for exe in others:
        proc = subprocess.run([exe, "-c", program, *map(str, files)], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        theirs = proc.stdout.split()
        bad = [f.name for f, a, b in zip(files, here, theirs) if a != b]
        assert len(theirs) == len(files) and not bad, f"digests differ on {exe}: {bad}"


# -------------------------------------------------------------------------------- trajectory
@pytest.fixture()
def traj_cache(cdir, mission, monkeypatch):
    """The real trajectory entry, its user-cache file written from the session's mission, and a
    builder that hands back that mission (instead of solving for 20 s)."""
    from experience.simulation import trajectory as tr

    entry = tr.cache_entry()
    cache.write(entry.cache_path(), entry, tr._to_arrays(mission))
    built = []

    def build_arrays(clock=None):
        built.append(1)
        return tr._to_arrays(mission)

    monkeypatch.setattr(tr, "build_arrays", build_arrays)
    monkeypatch.setattr(tr, "_MEMO", {})
    return entry, built


def _first_table(arrays):
    meta = cache.from_json_array(arrays["meta"])
    return next(e["key"] for e in meta["segments"]["apollo"] if e["type"] == "table")


def _scale_positions(arrays, factor=1.001):
    k = _first_table(arrays)
    arrays[k + "_p"] = arrays[k + "_p"] * factor


def _nan_velocity(arrays):
    k = _first_table(arrays)
    arrays[k + "_v"] = arrays[k + "_v"].copy()
    arrays[k + "_v"][3, 1] = np.nan


def _swap_two_rows(arrays):
    k = _first_table(arrays)
    p = arrays[k + "_p"].copy()
    p[[10, 11]] = p[[11, 10]]
    arrays[k + "_p"] = p


def _drop_a_column(arrays):
    k = _first_table(arrays)
    arrays[k + "_p"] = arrays[k + "_p"][:, :2].copy()


def _shift_a_segment(arrays):
    meta = cache.from_json_array(arrays["meta"])
    meta["segments"]["soyuz"][1]["t0_s"] += 30.0
    arrays["meta"] = cache.json_array(meta)


def _burn_in_km(arrays):
    arrays["burn_0"] = arrays["burn_0"] * 1000.0


def _garbage_meta(arrays):
    arrays["meta"] = np.frombuffer(b"{not json", np.uint8).copy()


def _positions_in_metres(arrays):
    for k in list(arrays):
        if k.endswith("_p"):
            arrays[k] = arrays[k] * 1000.0


@pytest.mark.parametrize("change, words", [
    (_scale_positions, "do not follow from its velocities"),
    (lambda a: _scale_positions(a, 1.00001), "do not follow from its velocities"),
    (_nan_velocity, "NaN"),
    (_swap_two_rows, "do not follow from its velocities"),
    (_drop_a_column, "shape"),
    (_shift_a_segment, "gap"),
    (_burn_in_km, "implausible burn"),
    (_garbage_meta, "unreadable JSON"),
    (_positions_in_metres, "outside a low Earth orbit"),
])
def test_a_poisoned_trajectory_cache_is_found_even_with_a_recomputed_checksum(traj_cache, mission, change, words):
    from experience.mission.clock import parse_utc
    from experience.simulation import trajectory as tr

    entry, built = traj_cache
    _rewrite(entry.cache_path(), entry, change)
    notes = []
    traj = tr.mission_trajectory(notice=notes.append)
    assert len(notes) == 1 and words in notes[0] and "rebuilding" in notes[0], notes
    assert built == [1]
    t = [mission.clock.t_s(parse_utc("1975-07-16T12:00:00Z"))]
    assert np.array_equal(traj.state("apollo", t)[0], mission.state("apollo", t)[0])
    cache.read(entry.cache_path(), entry)  # the rebuilt file is valid


def test_positions_scaled_with_the_old_checksum_fail_the_checksum(traj_cache):
    from experience.simulation import trajectory as tr

    entry, built = traj_cache
    _keep_checksum(entry.cache_path(), _scale_positions)
    notes = []
    tr.mission_trajectory(notice=notes.append)
    assert len(notes) == 1 and "checksum" in notes[0] and built == [1]


def test_a_truncated_trajectory_cache_is_rebuilt(traj_cache):
    from experience.simulation import trajectory as tr

    entry, built = traj_cache
    data = entry.cache_path().read_bytes()
    entry.cache_path().write_bytes(data[: len(data) * 2 // 3])
    notes = []
    tr.mission_trajectory(notice=notes.append)
    assert len(notes) == 1 and "unreadable" in notes[0] and built == [1]


def test_a_damaged_generated_file_falls_back_to_the_user_cache(tmp_path, monkeypatch, mission):
    """The shipped file is verified like any cache: damaged, it is reported and not used."""
    from experience.mission.clock import parse_utc
    from experience.paths import repo_root
    from experience.simulation import trajectory as tr

    fake_root = tmp_path / "repo"
    (fake_root / "generated").mkdir(parents=True)
    shutil.copy(repo_root() / "generated" / "trajectory.npz", fake_root / "generated" / "trajectory.npz")
    monkeypatch.setattr(cache, "repo_root", lambda: fake_root)
    monkeypatch.setenv("ASTP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(tr, "_MEMO", {})
    monkeypatch.setattr(tr, "build_arrays", lambda clock=None: tr._to_arrays(mission))
    entry = tr.cache_entry()
    assert cache.load(entry, lambda: pytest.fail("built")).origin == "generated"
    _rewrite(fake_root / "generated" / "trajectory.npz", entry, _scale_positions)
    notes = []
    traj = tr.mission_trajectory(notice=notes.append)
    assert len(notes) == 1 and "shipped trajectory" in notes[0] and "build_generated" in notes[0], notes
    t = [mission.clock.t_s(parse_utc("1975-07-16T12:00:00Z"))]
    assert np.array_equal(traj.state("apollo", t)[0], mission.state("apollo", t)[0])


def test_trajectory_rebuild_rewrites_the_cache(traj_cache, capsys):
    from experience.frontends import cli

    entry, built = traj_cache
    before = entry.cache_path().stat().st_ino
    assert cli.main(["trajectory", "--json"]) == 0 and built == []
    assert entry.cache_path().stat().st_ino == before          # read (and marked used), not rewritten
    assert cli.main(["trajectory", "--json", "--rebuild"]) == 0 and built == [1]
    assert entry.cache_path().stat().st_ino != before          # a new file renamed into place
    cache.read(entry.cache_path(), entry)
    capsys.readouterr()


# ------------------------------------------------------------------------------ the textures
@pytest.fixture()
def textures(cdir, monkeypatch):
    """The real texture entries; builders that return the shipped arrays (no image decoding)."""
    from experience.scene import earth_textures as et

    water = cache.read(ROOT / "generated" / "watermask.npz", et.water_entry())["mask"]
    clouds = cache.read(ROOT / "generated" / "clouds.npz", et.cloud_entry())["clouds"]
    relief = np.full((5400, 10800), 128, np.uint8)
    relief[::97, ::89] = 200
    monkeypatch.setattr(et, "build_water_mask", lambda path=None: water)
    monkeypatch.setattr(et, "build_clouds", lambda size=et.CLOUD_SIZE, seed=1975: clouds)
    monkeypatch.setattr(et, "build_relief", lambda path=None: relief)
    day = np.zeros((2700, 5400, 3), np.uint8)     # Panda3D's RAM order: Antarctica's ice first, BGR
    day[..., 0] = 120
    day[:200] = 250
    monkeypatch.setattr(et, "build_day_image", lambda path=None: day)
    return {"watermask": (et.water_entry(), et.water_mask_array, "mask", water),
            "clouds": (et.cloud_entry(), et.cloud_coverage_array, "clouds", clouds),
            "relief": (et.relief_entry(), et.relief_array, "relief", relief),
            "daymap": (et.day_entry(), et.day_image_array, "bgr", day)}


@pytest.mark.parametrize("name, change, words", [
    ("watermask", lambda a: a.__setitem__("mask", a["mask"][::-1].copy()), "upside down"),
    ("watermask", lambda a: a.__setitem__("mask", 255 - a["mask"]), "% water"),
    ("watermask", lambda a: a.__setitem__("mask", a["mask"][:, :2700].copy()), "shape"),
    ("watermask", lambda a: a.__setitem__("mask", a["mask"].astype(np.float32)), "type"),
    ("clouds", lambda a: a.__setitem__("clouds", np.zeros_like(a["clouds"])), "% cloud"),
    ("clouds", lambda a: a.__setitem__("clouds", a["clouds"][:512].copy()), "shape"),
    ("relief", lambda a: a.__setitem__("relief", np.zeros_like(a["relief"])), "not a relief"),
    ("relief", lambda a: a.__setitem__("relief", a["relief"].astype(np.int16)), "type"),
    ("daymap", lambda a: a.__setitem__("bgr", a["bgr"][::-1].copy()), "upside down"),
    ("daymap", lambda a: a.__setitem__("bgr", a["bgr"][..., ::-1].copy()), "channels swapped"),
    ("daymap", lambda a: a.__setitem__("bgr", a["bgr"][:, :, :1].copy()), "shape"),
])
def test_a_poisoned_texture_cache_is_rebuilt(textures, name, change, words):
    entry, fetch, key, good = textures[name]
    fetch()  # built and cached
    _rewrite(entry.cache_path(), entry, change)
    notes = []
    got = fetch(notice=notes.append)
    assert np.array_equal(got, good)
    assert len(notes) == 1 and words in notes[0] and entry.what in notes[0], notes


@pytest.mark.parametrize("name", ["watermask", "clouds", "relief", "daymap"])
def test_a_truncated_texture_cache_is_rebuilt(textures, name):
    entry, fetch, key, good = textures[name]
    fetch()
    data = entry.cache_path().read_bytes()
    entry.cache_path().write_bytes(data[:-100])
    notes = []
    assert np.array_equal(fetch(notice=notes.append), good)
    assert len(notes) == 1 and "unreadable" in notes[0]


def test_the_cached_day_texture_is_the_jpeg_panda3d_decodes(cdir):
    """The Blue Marble from the user cache is, byte for byte, the texture Panda3D makes from the
    JPEG itself (the cache changes where the pixels come from, not what they are)."""
    from panda3d.core import PNMImage, Texture

    from experience.scene import earth, earth_textures as et

    img = PNMImage()
    assert img.read(str(et.blue_marble_path()))
    direct = Texture("direct")
    direct.load(img)
    et.day_image_array()                                       # decoded and written to the cache
    assert et.day_entry().cache_path().is_file()
    earth._TEXTURES.pop("day", None)
    try:
        tex = earth.day_texture()                              # read back from the cache
        assert (tex.getXSize(), tex.getYSize(), tex.getNumComponents()) == (5400, 2700, 3)
        assert tex.getFormat() == Texture.F_srgb
        assert bytes(tex.getRamImage()) == bytes(direct.getRamImage())
    finally:
        earth._TEXTURES.pop("day", None)


# ------------------------------------------------------------------------------- the docking
@pytest.fixture()
def replay_cache(cdir, monkeypatch):
    """The real replay entry, its user cache written from the shipped replay, and a builder that
    returns the shipped arrays (instead of simulating for a minute)."""
    from experience.simulation import docking_replay as dr

    entry = dr.replay_entry()
    good = cache.read(ROOT / "generated" / "docking-replay.npz", entry)
    cache.write(entry.cache_path(), entry, good)
    built = []

    def build(notice=None):
        built.append(1)
        return dict(good)

    monkeypatch.setattr(dr, "build_replay_arrays", build)
    dr.historical_replay.cache_clear()
    yield entry, good, built
    dr.historical_replay.cache_clear()


def _unrotate(arrays):
    r = arrays["port_rot"].copy()
    r[100] *= 1.01
    arrays["port_rot"] = r


@pytest.mark.parametrize("change, words", [
    (_unrotate, "not rotations"),
    (lambda a: a.__setitem__("phase", a["phase"] + 9.0), "phase"),
    (lambda a: a["port_offset_m"].__setitem__((5, 0), np.nan), "NaN"),
    (lambda a: a.__setitem__("port_offset_m", a["port_offset_m"] * 1000.0), "farther than"),
    (lambda a: a.__setitem__("utc_s_from_capture", a["utc_s_from_capture"][::-1].copy()), "do not increase"),
    (lambda a: a.__setitem__("utc_s_from_capture", a["utc_s_from_capture"] * 2.0), "recording rate"),
    (lambda a: a.__setitem__("ring_rot", a["ring_rot"].astype(np.float64)), "type"),
    (lambda a: a.pop("stroke_m"), "lacks stroke_m"),
])
def test_a_poisoned_docking_replay_is_found(replay_cache, change, words):
    from experience.mission.clock import MissionClock
    from experience.simulation import docking_replay as dr

    entry, good, built = replay_cache
    _rewrite(entry.cache_path(), entry, change)
    notes = []
    got = cache.load(entry, lambda: dr.build_replay_arrays(), notice=notes.append)
    assert len(notes) == 1 and words in notes[0] and "docking replay" in notes[0], notes
    assert built == [1] and all(np.array_equal(got.arrays[k], good[k]) for k in good)
    replay = dr.historical_replay(MissionClock.from_data())  # the repaired cache: no notice, no build
    assert built == [1] and replay.t_s.size == good["utc_s_from_capture"].size


def test_a_poisoned_docking_run_cache_is_found(cdir, monkeypatch):
    from experience.simulation import docking as sd

    n = 50
    series = {k: np.zeros((n,) + shape[1:], np.float64) for k, shape in sd.SERIES_SHAPES.items()}
    for k in ("port_rot", "ring_rot", "active_rot", "passive_rot"):
        series[k][:] = np.eye(3)
    series["t_s"] = np.arange(n) * 0.02
    series["utc_s_from_capture"] = series["t_s"] - 0.5
    result = {k: None for k in sd.RESULT_KEYS} | {"captured": True, "capture_utc": "1975-07-17T16:09:09.000Z"}
    runs = []

    def simulate(backend=None, **kw):
        runs.append(kw)
        return sd.DockingRun(dict(result), {k: v.copy() for k, v in series.items()})

    monkeypatch.setattr(sd, "historical_docking", simulate)
    run, cached = sd.historical_docking_cached(until="capture", start_distance_m=2.5)
    assert not cached and len(runs) == 1
    run, cached = sd.historical_docking_cached(until="capture", start_distance_m=2.5)
    assert cached and len(runs) == 1
    entry = sd.run_cache_entry("capture", 2.5, "numpy")
    for change, words in ((lambda a: a.__setitem__("contact_force_n", np.full(n, np.nan)), "NaN"),
                          (lambda a: a.__setitem__("result", cache.json_array({"captured": True})), "incomplete result"),
                          (lambda a: a.__setitem__("active_rot", a["active_rot"] * 2.0), "not rotations")):
        _rewrite(entry.cache_path(), entry, change)
        notes = []
        run, cached = sd.historical_docking_cached(until="capture", start_distance_m=2.5, notice=notes.append)
        assert not cached and len(notes) == 1 and words in notes[0] and "docking simulation" in notes[0], notes
        assert np.array_equal(run.series["t_s"], series["t_s"])
    assert len(runs) == 4


# ------------------------------------------------------------------- models and the atmosphere
def test_a_converted_model_is_kept_and_a_poisoned_one_rebuilt(cdir):
    """The glTF conversion is cached as a BAM stream: the cached model has the same geometry as
    a fresh conversion, and a damaged cache file is found and rebuilt with one notice."""
    from experience.scene import vehicles

    path = vehicles.models_dir() / "docking_module.gltf"
    entry = vehicles._bam_entry(path)
    first = vehicles._converted(path)
    assert entry.cache_path().is_file()
    again = vehicles._converted(path)
    assert again.findAllMatches("**/+GeomNode").getNumPaths() == first.findAllMatches("**/+GeomNode").getNumPaths() > 0
    assert np.allclose(np.array(again.getTightBounds(), dtype=float), np.array(first.getTightBounds(), dtype=float))
    _rewrite(entry.cache_path(), entry, lambda a: a.__setitem__("bam", a["bam"][6:].copy()))
    notes = []
    got = cache.load(entry, lambda: {"bam": np.frombuffer(first.encodeToBamStream(), np.uint8)}, notice=notes.append)
    assert len(notes) == 1 and "BAM header" in notes[0] and got.origin == "built"
    # a different model file gives a different key
    assert vehicles._bam_entry(vehicles.models_dir() / "soyuz.gltf").key != entry.key


def test_the_transmittance_table_is_cached_and_verified(cdir):
    from experience.scene import atmosphere

    entry = atmosphere.transmittance_entry(64, 8, 40)
    table = cache.load(entry, lambda: {"transmittance": atmosphere.build_transmittance(64, 8, 40)}).arrays["transmittance"]
    _rewrite(entry.cache_path(), entry, lambda a: a.__setitem__("transmittance", a["transmittance"] * 2))
    notes = []
    got = cache.load(entry, lambda: {"transmittance": atmosphere.build_transmittance(64, 8, 40)}, notice=notes.append)
    assert np.array_equal(got.arrays["transmittance"], table)
    assert len(notes) == 1 and "outside [0, 1]" in notes[0]


def test_source_digests_are_kept_between_runs_and_an_edit_is_always_seen(cdir, tmp_path, monkeypatch):
    """The digests of the sources (the part of every key that costs time) are kept in the user
    cache by each file's stat stamp; a later run uses them, and an edit that restores the size
    and the mtime is still seen (the ctime moved)."""
    monkeypatch.setattr(cache, "_stamps", None)
    src = tmp_path / "mod.py"
    src.write_text("x = 1\n")
    first = cache.source_digest(src)
    cache.make_key("t", [src])  # writes the stamps
    saved = json.loads((cdir / cache.STAMPS_FILE).read_text())
    assert saved["files"][str(src)][4] == first
    # another run: nothing in memory; a poisoned stamp file entry would be believed only for an
    # unchanged file, so plant a wrong digest for the unchanged file and see it used
    saved["files"][str(src)][4] = "0" * 64
    (cdir / cache.STAMPS_FILE).write_text(json.dumps(saved))
    monkeypatch.setattr(cache, "_stamps", None)
    monkeypatch.setattr(cache, "_DIGESTS", {})
    assert cache.source_digest(src) == "0" * 64
    st = src.stat()
    src.write_text("x = 2\n")  # same size
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns))  # same mtime
    monkeypatch.setattr(cache, "_DIGESTS", {})
    again = cache.source_digest(src)
    assert again not in ("0" * 64, first)
    assert not list(cdir.glob(".*.part"))


def test_kept_source_digests_are_used_by_another_process(cdir, tmp_path):
    """The kept digests are believed by the next process too, whatever its string hash seed (the
    rules' fingerprint once took a frozenset's repr, which follows the seed, so no later start
    ever used them)."""
    src = tmp_path / "mod.py"
    src.write_text("x = {'a', 'b', 'c'}\n")
    code = textwrap.dedent(f"""
        import json
        from experience import cache
        known = {str(src)!r} in cache._load_stamps()
        cache.make_key("t", [{str(src)!r}])
        print(json.dumps({{"rules": cache._digest_rules(), "known": known}}))
    """)
    runs = []
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed, ASTP_CACHE_DIR=str(cdir))
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                             cwd=Path(__file__).resolve().parent.parent)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    assert runs[0]["rules"] == runs[1]["rules"]
    # the first process digested the file and kept it; the second found it kept
    saved = json.loads((cdir / cache.STAMPS_FILE).read_text())
    assert saved["rules"] == runs[0]["rules"] and str(src) in saved["files"]
    assert runs[0]["known"] is False and runs[1]["known"] is True
