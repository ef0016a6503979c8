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
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import difflib
import os
import re
import tomllib
from pathlib import Path

from experience.errors import AstpError

QUALITIES = ("low", "medium", "high")
UNITS = ("metric", "imperial")


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

    def replace(self, **changes) -> "Settings":
        return dataclasses.replace(self, **changes)


# table -> key -> (field, check) ; check returns an error text (accepted values) or None
def _int_range(lo, hi):
    return lambda v: None if isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi else f"a whole number from {lo} to {hi}"


def _float_range(lo, hi):
    return lambda v: None if isinstance(v, (int, float)) and not isinstance(v, bool) and lo <= v <= hi else f"a number from {lo:g} to {hi:g}"


def _bool(v):
    return None if isinstance(v, bool) else "true or false"


def _choice(options_fn):
    def check(v):
        options = options_fn()
        return None if v in options else "one of " + ", ".join(f'"{o}"' for o in options)
    return check


def _languages():
    try:
        from experience.i18n import languages
        return tuple(languages())
    except ImportError:
        return ("en", "ru")


SCHEMA = {
    "window": {"width": ("width", _int_range(320, 16384)), "height": ("height", _int_range(240, 16384)),
               "fullscreen": ("fullscreen", _bool)},
    "display": {"quality": ("quality", _choice(lambda: QUALITIES)), "language": ("language", _choice(_languages)),
                "units": ("units", _choice(lambda: UNITS))},
    "input": {"mouse_sensitivity": ("mouse_sensitivity", _float_range(0.1, 10.0))},
}


def settings_path() -> Path:
    override = os.environ.get("ASTP_CONFIG_DIR")
    if override:
        return Path(override) / "settings.toml"
    import platformdirs

    return Path(platformdirs.user_config_dir("handshake-in-orbit", appauthor=False)) / "settings.toml"


def _line_of(text: str, table: str | None, key: str | None) -> int | None:
    """The line (1-based) of ``key`` in ``[table]`` (or of the table header)."""
    current = None
    header_line = None
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        m = re.match(r"^\[\s*([^\]]+?)\s*\]", line)
        if m:
            current = m.group(1).strip('"')
            if current == table:
                header_line = n
                if key is None:
                    return n
            continue
        if key is not None and current == table and re.match(rf'^"?{re.escape(key)}"?\s*=', line):
            return n
    return header_line


def parse(text: str, path: Path, actions: tuple[str, ...] | None = None) -> Settings:
    """Settings from TOML text; AstpError (one line: file, line, key, accepted values) if wrong."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AstpError(f"{path}: not valid TOML ({exc})") from None
    values = {}
    for table, content in raw.items():
        if table == "keys":
            values["keys"] = _keys(content, text, path, actions)
            continue
        if table not in SCHEMA:
            raise AstpError(_unknown(path, _line_of(text, table, None), f"table [{table}]", table,
                                     list(SCHEMA) + ["keys"]))
        if not isinstance(content, dict):
            raise AstpError(f"{path}:{_line_of(text, None, table) or '?'}: {table} must be a table [{table}]")
        for key, value in content.items():
            spec = SCHEMA[table].get(key)
            if spec is None:
                raise AstpError(_unknown(path, _line_of(text, table, key), f"key {key!r} in [{table}]", key,
                                         list(SCHEMA[table])))
            field, check = spec
            problem = check(value)
            if problem:
                raise AstpError(f"{path}:{_line_of(text, table, key) or '?'}: [{table}] {key} = {value!r} "
                                f"is not allowed; use {problem}")
            values[field] = value
    return Settings(**values)


def _keys(content, text: str, path: Path, actions) -> dict:
    if actions is None:
        from experience.app.controls import all_actions
        actions = all_actions()
    out = {}
    for action, names in content.items():
        if action not in actions:
            raise AstpError(_unknown(path, _line_of(text, "keys", action), f"action {action!r} in [keys]", action,
                                     list(actions)))
        if isinstance(names, str):
            names = [names]
        if not (isinstance(names, list) and names and all(isinstance(n, str) and n for n in names)):
            raise AstpError(f"{path}:{_line_of(text, 'keys', action) or '?'}: [keys] {action} must be a key name "
                            f"or a list of them, e.g. {action} = [\"space\"]")
        out[action] = tuple(names)
    return out


def _unknown(path: Path, line, what: str, name: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(name, valid, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{path}:{line or '?'}: unknown {what}; {hint}accepted: {', '.join(valid)}"


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
           "input": {"mouse_sensitivity": float(s.mouse_sensitivity)}}
    if s.keys:
        doc["keys"] = {k: list(v) for k, v in s.keys.items()}
    return ("# Handshake in Orbit settings (written by the viewer; every key is optional).\n"
            + tomli_w.dumps(doc))


def save(s: Settings, path: Path | None = None) -> Path:
    """Write the settings atomically (a temporary file in the same folder, then a rename)."""
    import tempfile

    path = Path(path) if path else settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(to_toml(s))
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path
