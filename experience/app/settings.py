"""The visitor's settings: one TOML file in the user's config folder, validated on load.

Where: ``$ASTP_CONFIG_DIR/settings.toml`` if set, else the platform's user config folder
(platformdirs: ``~/.config/handshake-in-orbit/settings.toml`` on Linux, under ``%APPDATA%`` on
Windows). Written by the viewer when the visitor changes something it keeps (language, units,
fullscreen), atomically.

A file that cannot be read or parsed, or holds an unknown key or a wrong value, is reported in
one line naming the file, the line and the key (with the closest valid key for a misspelling),
moved aside as a backup (``settings.toml.bad-YYYYmmdd-HHMMSS``) and replaced by the defaults: the
viewer always starts. Every key is optional; the file's tables:

    [window]   width = 1280, height = 720 (pixels), fullscreen = false
    [display]  quality = "low" | "medium" | "high", language = "en" | "ru", units = "metric" | "imperial"
    [input]    mouse_sensitivity = 1.0 (0.1 .. 10)
    [keys]     <action> = ["key", ...]   (Panda3D event names, e.g. play_pause = ["space", "k"])
    [vr]       turn = "snap" | "smooth", snap_deg = 30.0 (10 .. 90), vignette = 0.6 (comfort
               vignette while gliding or turning, 0 = off .. 1)   (astp vr, docs/vr.md)
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import os
from pathlib import Path

from experience.errors import AstpError

QUALITIES = ("low", "medium", "high")
UNITS = ("metric", "imperial")
VR_TURNS = ("snap", "smooth")


@dataclasses.dataclass(frozen=True)
class Settings:
    width: int = 1280
    height: int = 720
    fullscreen: bool = False
    quality: str = "medium"
    language: str = "en"
    units: str = "metric"
    mouse_sensitivity: float = 1.0
    keys: dict = dataclasses.field(default_factory=dict)
    vr_turn: str = "snap"
    vr_snap_deg: float = 30.0
    vr_vignette: float = 0.6

    def replace(self, **changes) -> "Settings":
        return dataclasses.replace(self, **changes)


def _languages():
    from experience.i18n import languages

    return tuple(languages())


def schema():
    """The settings file's shape (experience.tomlcheck): every table and key optional."""
    from experience.app.controls import all_actions
    from experience.tomlcheck import Boolean, Integer, Number, String, Table

    def opt(spec):
        spec.required = False
        return spec

    key_list = _binding_spec()
    return Table({
        "window": opt(Table({"width": opt(Integer(min=320, max=16384)), "height": opt(Integer(min=240, max=16384)),
                             "fullscreen": opt(Boolean())})),
        "display": opt(Table({"quality": opt(String(choices=QUALITIES)), "language": opt(String(choices=_languages())),
                              "units": opt(String(choices=UNITS))})),
        "input": opt(Table({"mouse_sensitivity": opt(Number(min=0.1, max=10.0))})),
        "keys": opt(Table({a: opt(key_list) for a in all_actions()})),
        "vr": opt(Table({"turn": opt(String(choices=VR_TURNS)), "snap_deg": opt(Number(min=10.0, max=90.0)),
                         "vignette": opt(Number(min=0.0, max=1.0))})),
    })


def _binding_spec():
    from experience.tomlcheck import AnyOf, Array, String

    return AnyOf(String(nonempty=True), Array(String(nonempty=True), min_len=1))


def settings_path() -> Path:
    override = os.environ.get("ASTP_CONFIG_DIR")
    if override:
        return Path(override) / "settings.toml"
    import platformdirs

    return Path(platformdirs.user_config_dir("handshake-in-orbit", appauthor=False)) / "settings.toml"


def parse(text: str, path: Path) -> Settings:
    """Settings from TOML text; AstpError (one line: file, line, key, accepted values) if wrong."""
    from experience import tomlcheck

    doc = tomlcheck.loads(text, schema(), shown=str(path))
    d = doc.data
    w, disp, inp, vr = d.get("window", {}), d.get("display", {}), d.get("input", {}), d.get("vr", {})
    values = {k: v for k, v in {"width": w.get("width"), "height": w.get("height"), "fullscreen": w.get("fullscreen"),
                                "quality": disp.get("quality"), "language": disp.get("language"),
                                "units": disp.get("units"), "mouse_sensitivity": inp.get("mouse_sensitivity"),
                                "vr_turn": vr.get("turn"), "vr_snap_deg": vr.get("snap_deg"),
                                "vr_vignette": vr.get("vignette")}.items()
              if v is not None}
    values["keys"] = {a: ((v,) if isinstance(v, str) else tuple(v)) for a, v in d.get("keys", {}).items()}
    return Settings(**values)


def load(path: Path | None = None, notice=None) -> Settings:
    """The settings, or the defaults. A bad file is reported (one line through ``notice``),
    moved aside as a backup and replaced by the defaults; nothing is lost."""
    path = Path(path) if path else settings_path()
    say = notice or (lambda msg: None)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings()
    except (OSError, UnicodeDecodeError) as exc:
        problem = f"{path}: cannot be read ({getattr(exc, 'strerror', None) or exc})"
        return _recover(path, problem, say)
    except ValueError as exc:
        return _recover(path, f"{path}: cannot be read ({exc})", say)
    try:
        return parse(text, path)
    except AstpError as exc:
        return _recover(path, str(exc), say)


def _recover(path: Path, problem: str, say) -> Settings:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    backup = path.with_name(f"{path.name}.bad-{stamp}")
    try:
        os.replace(path, backup)
        save(Settings(), path)
        say(f"astp: {problem}; kept it as {backup.name} and started from the default settings")
    except OSError as exc:
        say(f"astp: {problem}; using the default settings (could not move the file aside: {exc.strerror or exc})")
    return Settings()


def to_toml(s: Settings) -> str:
    import tomli_w

    doc = {"window": {"width": s.width, "height": s.height, "fullscreen": s.fullscreen},
           "display": {"quality": s.quality, "language": s.language, "units": s.units},
           "input": {"mouse_sensitivity": float(s.mouse_sensitivity)},
           "vr": {"turn": s.vr_turn, "snap_deg": float(s.vr_snap_deg), "vignette": float(s.vr_vignette)}}
    if s.keys:
        doc["keys"] = {k: list(v) for k, v in s.keys.items()}
    return ("# Handshake in Orbit settings (written by the viewer; every key is optional).\n"
            + tomli_w.dumps(doc))


def save(s: Settings, path: Path | None = None) -> Path:
    """Write the settings atomically (experience.outputs: a temporary file in the same folder,
    then a rename; committed at once, outside any command's batch)."""
    from experience import outputs

    path = Path(path) if path else settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with outputs.immediate():
        outputs.write_output(path, to_toml(s), what="settings file")
    return path
