"""experience.tomlcheck (TOML with the line of every key, validated by schema) and the mission
data files checked with it: unknown keys, wrong types and duplicate ids named by file and line."""

from __future__ import annotations

import re
import shutil
import textwrap

import pytest

from experience import tomlcheck as T
from experience.errors import AstpError, DataFileError
from experience.mission import data

TEXT = textwrap.dedent('''\
    # a settings file
    title = "Handshake"          # line 2
    [window]
    width = 1280
    "odd.key" = 1
    view.camera.fov_deg = [60,
      70, { near = 0.1, far = "x" },
    ]
    help = """
    [[not_a_table]]
    still the string"""
    [[event]]
    id = "a"
      [[event.conflicts]]
      utc = "1975"
    [[event]]
    id = "b"
    [event.extra]
    when = 1979-05-27 07:32:00Z
    lit = 'C:\\path'
    ''')


def _lines(text):
    return T.loads(text, shown="s.toml")


def test_every_key_path_has_its_line():
    doc = _lines(TEXT)
    expect = {
        ("title",): 2, ("window",): 3, ("window", "width"): 4, ("window", "odd.key"): 5,
        ("window", "view", "camera", "fov_deg"): 6, ("window", "view", "camera", "fov_deg", 0): 6,
        ("window", "view", "camera", "fov_deg", 1): 7, ("window", "view", "camera", "fov_deg", 2, "far"): 7,
        ("window", "help"): 9, ("event",): 12, ("event", 0): 12, ("event", 0, "id"): 13,
        ("event", 0, "conflicts", 0): 14, ("event", 0, "conflicts", 0, "utc"): 15, ("event", 1): 16,
        ("event", 1, "id"): 17, ("event", 1, "extra"): 18, ("event", 1, "extra", "when"): 19,
        ("event", 1, "extra", "lit"): 20,
    }
    for path, line in expect.items():
        assert doc.line_of(path) == line, path
    assert doc.line_of(("event", 1, "extra", "missing")) == 18  # the nearest written parent
    assert ("not_a_table",) not in doc._lines                   # inside a multi-line string


SCHEMA = T.Table({
    "title": T.String(nonempty=True),
    "window": T.Table({
        "width": T.Integer(min=320, max=16384, doc="pixels"),
        "odd.key": T.Number(),
        "view": T.AnyValue(),
        "help": T.String(),
        "fullscreen": T.Boolean(default=False),
        "mode": T.String(choices=("desktop", "vr", "kiosk"), required=False),
    }),
    "event": T.Array(T.Table({
        "id": T.String(pattern=r"[a-z]+"),
        "conflicts": T.Array(T.Table({"utc": T.String()}), required=False),
        "extra": T.Table({"when": T.DateTime(), "lit": T.String()}, required=False),
    }), unique_by="id"),
})


def test_a_valid_file_gets_its_defaults():
    doc = T.loads(TEXT, SCHEMA, shown="s.toml")
    assert doc.data["window"]["fullscreen"] is False and "fullscreen" not in doc.raw["window"]
    assert "mode" not in doc.data["window"]


@pytest.mark.parametrize("old, new, line, words", [
    ("width = 1280", "widht = 1280", 4, ["unknown key 'widht' in window", "did you mean 'width'"]),
    ("width = 1280", "width = 0", 4, ["window.width = 0", "from 320 to 16384", "pixels"]),
    ("width = 1280", 'width = "1280"', 4, ["window.width must be a whole number", "(a string)"]),
    ("width = 1280", "width = 12.5", 4, ["whole number"]),
    ("width = 1280", "width = true", 4, ["whole number", "true/false"]),
    ("width = 1280", "width = 1280\nmode = \"destkop\"", 5, ["one of \"desktop\"", "did you mean \"desktop\""]),
    ('id = "b"', 'id = "a"', 17, ['event[2].id "a" is used twice (first at line 13)']),
    ('id = "b"', 'id = "B2"', 17, ["event[2].id must be a string matching"]),
    ('  utc = "1975"', '  utc = 1975', 15, ["event[1].conflicts[1].utc must be a string"]),
    ('  utc = "1975"', '  utd = "1975"', 15, ["unknown key 'utd' in event[1].conflicts[1]", "'utc'"]),
    ('title = "Handshake"', 'title = ""', 2, ["title is empty"]),
    ('title = "Handshake"', 'titel = "Handshake"', 2, ["unknown key 'titel' at the top level", "'title'"]),
    ("when = 1979-05-27 07:32:00Z", "when = 1979-05-27", 19, ["event[2].extra.when must be a date-time"]),
    ('"odd.key" = 1', '"odd.key" = nan', 5, ['window."odd.key" is nan', "finite"]),
])
def test_problems_are_one_line_with_file_line_key_and_fix(old, new, line, words):
    assert old in TEXT
    with pytest.raises(T.TomlError) as err:
        T.loads(TEXT.replace(old, new, 1), SCHEMA, shown="settings.toml")
    msg = str(err.value)
    assert msg.startswith(f"settings.toml:{line}: "), msg
    assert err.value.line == line and "\n" not in msg
    for w in words:
        assert w in msg, msg
    assert isinstance(err.value, DataFileError) and isinstance(err.value, AstpError) and err.value.exit_code == 2


def test_missing_keys_and_syntax_errors_name_the_line():
    with pytest.raises(T.TomlError, match=r"^s\.toml:3: window lacks the key 'width'"):
        T.loads(TEXT.replace("width = 1280\n", ""), SCHEMA, shown="s.toml")
    with pytest.raises(T.TomlError, match=r"^s\.toml:2: not valid TOML: .*line 2"):
        T.loads("a = 1\nb = = 2\n", shown="s.toml")
    with pytest.raises(T.TomlError, match=r"^s\.toml:2: not valid TOML: .*given twice"):
        T.loads("a = 1\na = 2\n", shown="s.toml")


def test_arrays_anyof_choice_and_maps():
    rgb = T.Array(T.Number(min=0, max=1), length=3)
    schema = T.Table({
        "color": rgb,
        "size": T.AnyOf(T.String(choices=("auto",)), T.Array(T.Integer(min=1), length=2)),
        "tags": T.Array(T.String(), unique=True, required=False),
        "poses": T.Table({}, extra=T.Table({}, extra=rgb), key_pattern=r"[a-z_]+"),
        "tree": T.Choice(lambda v: T.Number() if not isinstance(v, dict) else T.Table({}, extra=T.Number())),
    })
    ok = 'color = [0.1, 0.2, 0.3]\nsize = "auto"\ntree = 1\n[poses.wave]\narm = [1, 0, 0]\n'
    assert T.loads(ok, schema).data["poses"]["wave"]["arm"] == [1, 0, 0]
    for text, words in [
        (ok.replace("[0.1, 0.2, 0.3]", "[0.1, 0.2]"), "color has 2 elements"),
        (ok.replace("[0.1, 0.2, 0.3]", "[0.1, 2, 0.3]"), "color[2] = 2 is out of range"),
        (ok.replace('"auto"', "[1280, 0]"), "size[2] = 0 is out of range"),
        (ok.replace('"auto"', '"big"'), 'size must be one of "auto" or an array'),
        ('tags = ["a", "a"]\n' + ok, 'tags[2] "a" repeats tags[1]'),
        (ok.replace("[poses.wave]", "[poses.Wave]"), "does not match"),
        (ok.replace("tree = 1", 'tree = "x"'), "tree must be a number"),
    ]:
        with pytest.raises(T.TomlError) as err:
            T.loads(text, schema, shown="f.toml")
        assert words in str(err.value), str(err.value)


def test_own_checks_and_files(tmp_path):
    def even(value, path, doc):
        if value % 2:
            raise doc.error(path, f"{T.keyname(path)} must be even; fix it")

    schema = T.Table({"n": T.Integer(check=even)})
    f = tmp_path / "c.toml"
    f.write_text("\n\nn = 3\n")
    with pytest.raises(T.TomlError, match=r"c\.toml:3: n must be even"):
        T.load(f, schema)
    with pytest.raises(T.TomlError, match="no such file"):
        T.load(tmp_path / "nope.toml", schema)
    f.write_bytes(b"a = 1\nb = '\xff'\n")
    with pytest.raises(T.TomlError, match=r":2: not UTF-8"):
        T.load(f)


# ------------------------------------------------------------------------------------ mission data
def test_every_shipped_data_file_passes_its_schema():
    from experience.mission.schemas import SCHEMAS

    for relpath in SCHEMAS:
        data.load_document(relpath)
    # captions.toml and airlock.toml are validated by their own loaders (experience/mission/captions.py,
    # experience/simulation/airlock.py), each naming file and line; every other file has a schema here
    own_loaders = {"captions.toml", "airlock.toml"}
    assert {p.name for p in (data.data_dir() / "mission").glob("*.toml")} - own_loaders == {k.split("/")[1] for k in SCHEMAS}


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    """A copy of data/ that the loaders read ($ASTP_DATA_DIR), and a way to edit one file."""
    shutil.copytree(data.data_dir(), tmp_path / "data")
    monkeypatch.setenv("ASTP_DATA_DIR", str(tmp_path / "data"))
    data.clear_caches()

    def edit(name, old, new):
        path = tmp_path / "data" / "mission" / name
        text = path.read_text(encoding="utf-8")
        assert old in text, old
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        data.clear_caches()
        return path

    yield edit
    data.clear_caches()


def _line_of(path, needle):
    return next(n for n, ln in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in ln)


@pytest.mark.parametrize("name, old, new, needle, words, load", [
    ("timeline.toml", 'id = "apollo_launch"', 'id = "soyuz_launch"', 'id = "soyuz_launch"\nname = "Apollo',
     ['id "soyuz_launch" is used twice (first at line 12)'], "timeline"),
    ("timeline.toml", 'kind = "burn"', 'knid = "burn"', "knid", ["unknown key 'knid'", "did you mean 'kind'"], "timeline"),
    ("timeline.toml", 'utc = "1975-07-15T19:50:01Z"', "utc = 1975-07-15T19:50:01Z", "utc = 1975-07-15T19:50:01Z",
     ["event[3].utc must be a string", "a date-time"], "timeline"),
    ("timeline.toml", 'approximate = true', 'approximate = "yes"', 'approximate = "yes"',
     ["approximate must be true or false"], "timeline"),
    ("timeline.toml", 'source = ["SP4012"]', 'source = ["SP4013"]', 'source = ["SP4013"]',
     ["source 'SP4013' is not defined"], "timeline"),
    ("vehicles.toml", "height_m = 3.23", 'height_m = "3.23 m"', "3.23 m", ["apollo_cm.height_m must be a number"], "vehicles"),
    ("vehicles.toml", "  height_m = 3.63", "  hieght_m = 3.63", "hieght_m",
     ["unknown key 'hieght_m' in apollo_cm.conflicts[1]", "'height_m'"], "vehicles"),
    ("crew.toml", 'name = "Vance D. Brand"', 'name = "Thomas P. Stafford"', 'name = "Thomas P. Stafford"\nname_ru = "Вэнс',
     ['member[2].name "Thomas P. Stafford" is used twice'], "crew"),
    ("orbits.toml", "inclination_deg = 51.8", "inclination_deg = 518", "inclination_deg = 518",
     ["soyuz.insertion.inclination_deg = 518 is out of range"], "orbits"),
    ("orbits.toml", 'end_utc = "1975-07-21T10:05:00Z"', 'end_utc = "1975-07-21T10:05:60Z"', "10:05:60",
     ["no leap second"], "orbits"),
    ("docking.toml", "value = 0.57\nestimate = true", "value = 0.57\nestimte = true", "estimte",
     ["unknown key 'estimte' in unit.ring_radius_m", "'estimate'"], "docking"),
    ("geometry.toml", "value = 4.694", 'value = "4.694"', 'value = "4.694"',
     ["apollo_cm.heat_shield_radius_m.value must be a number"], "geometry"),
    ("crew_figures.toml", "height_m = 1.80", "height_m = 180", "height_m = 180", ["from 1.4 to 2.1"], "figures"),
])
def test_bad_data_files_name_file_line_and_key(data_copy, name, old, new, needle, words, load):
    path = data_copy(name, old, new)
    loaders = {
        "timeline": data.timeline, "vehicles": data.vehicles, "crew": data.crew, "orbits": data.orbits,
        "docking": lambda: __import__("experience.simulation.docking", fromlist=["table"]).table(),
        "geometry": lambda: __import__("experience.scene.modelgen.params", fromlist=["load"]).load(),
        "figures": lambda: __import__("experience.scene.modelgen.crew", fromlist=["load_table"]).load_table(),
    }
    with pytest.raises(DataFileError) as err:
        loaders[load]()
    msg = str(err.value)
    line = _line_of(path, needle.split("\n")[0]) if "\n" not in needle else _line_of_block(path, needle)
    assert re.match(rf"^.*{re.escape(name)}:{line}: ", msg), (msg, line)
    for w in words:
        assert w in msg, msg
    assert "\n" not in msg


def _line_of_block(path, block):
    text = path.read_text(encoding="utf-8")
    return text[:text.index(block)].count("\n") + 1


def test_a_bad_data_file_is_one_line_at_the_command_line(data_copy):
    import os
    import subprocess
    import sys

    data_copy("timeline.toml", 'id = "apollo_launch"', 'id = "soyuz_launch"')
    proc = subprocess.run([sys.executable, "-m", "experience.frontends.cli", "ephemeris", "--events",
                           "--backend", "numpy"], capture_output=True, text=True, env=dict(os.environ), timeout=300)
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "timeline.toml:32: " in lines[0] and "used twice" in lines[0], proc.stderr
