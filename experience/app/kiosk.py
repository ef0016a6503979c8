"""The museum kiosk without a window: its config, its operator PIN and its state machine.

    attract --(any input)--> interactive --(idle_timeout_s without input)--> countdown
       ^                          ^  |                                          |
       |                          |  +--- "Keep exploring" / any input ---------+
       +---- reset (every state a visitor can change) <-- countdown over, or "Start again"

The operator's way in, from any state: the hidden gesture (a tap in each corner of the screen,
clockwise from the top left, within :data:`GESTURE_WINDOW_S`) or the key sequence
Ctrl+Shift+O, then the PIN on an on-screen keypad. Wrong PINs are rate-limited: after
:data:`PIN_FREE_TRIES` wrong ones the keypad locks for :data:`PIN_LOCK_S` seconds, doubling with
every further wrong one up to :data:`PIN_LOCK_MAX_S`. The operator panel (exit, restart, status,
default language) falls back to the attract loop after the idle timeout too.

Everything here is plain Python with the time passed in (``now`` in seconds of any monotonic
clock): the window front end (experience/frontends/kiosk.py) feeds it real input and wall time,
the soak (``astp kiosk --simulate``) feeds it random visitors in accelerated time, and the unit
tests feed it by hand.

The config (``astp kiosk --config FILE.toml``) is validated by :func:`load_config` with
experience.tomlcheck before anything starts; every key under ``[kiosk]`` is optional
(:data:`DEFAULTS`; a file with only ``[kiosk]`` is valid). The PIN is kept only as a salted
scrypt hash (:func:`hash_pin`, :func:`verify_pin`; ``astp kiosk --set-pin`` writes it).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from experience.errors import AstpError
from experience.i18n import N_

# -- the config ------------------------------------------------------------------------------------
DEFAULTS = {
    "idle_timeout_s": 90.0,          # seconds without input before the countdown shows
    "countdown_s": 20,               # the countdown's length
    "tours": None,                   # attract loop tours in order (None: the tours marked `attract`, by their number)
    "languages": None,               # offered (None: every language with a catalog, English first)
    "default_language": "en",        # what a new visitor sees
    "screen_width_mm": 527.0,        # the visible width of the screen (a 24-inch 16:9 panel); sizes touch targets
    "min_target_mm": 15.0,           # the smallest touch target
    "restart_window": "",            # daily restart "HH:MM-HH:MM" local time ("" = none)
    "log_dir": "",                   # supervisor and kiosk logs ("" = the platform's user log folder)
    "pin_hash": "",                  # set with `astp kiosk --set-pin` ("" = the operator panel cannot be opened)
    "vr_station": False,             # the kiosk around `astp vr` (headset off = idle)
    "quality": "medium",             # the scene's detail: "low", "medium", "high" (as the viewer's settings)
    "heartbeat_timeout_s": 10.0,     # the supervisor restarts a kiosk whose heartbeat is older
    "startup_timeout_s": 180.0,      # ... or that has drawn no first frame after this long
    "max_crashes": 10,               # the supervisor gives up after this many crashes ...
    "crash_window_min": 10.0,        # ... within this many minutes
}
KEY_DOCS = {
    "idle_timeout_s": "seconds without input before the countdown",
    "countdown_s": "the countdown's seconds",
    "tours": "the attract loop's tours",
    "languages": "the languages offered",
    "default_language": "the language a new visitor sees",
    "screen_width_mm": "the visible screen width in millimetres",
    "min_target_mm": "the smallest touch target in millimetres",
    "restart_window": "the daily restart window, HH:MM-HH:MM",
    "log_dir": "the log folder",
    "pin_hash": "the operator PIN's hash (set it with astp kiosk --set-pin)",
    "vr_station": "VR station mode",
    "quality": "the scene's detail",
    "heartbeat_timeout_s": "seconds of a stopped heartbeat before a restart",
    "startup_timeout_s": "seconds to the first frame before a restart",
    "max_crashes": "crashes before the supervisor gives up",
    "crash_window_min": "minutes in which max_crashes count",
}
WINDOW_RE = r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d"
PIN_HASH_RE = r"scrypt\$\d+\$\d+\$\d+\$[0-9a-f]{32}\$[0-9a-f]{64}"


@dataclasses.dataclass(frozen=True)
class KioskConfig:
    path: Path | None
    idle_timeout_s: float
    countdown_s: int
    tours: tuple[str, ...]
    languages: tuple[str, ...]
    default_language: str
    screen_width_mm: float
    min_target_mm: float
    restart_window: tuple[_dt.time, _dt.time] | None
    log_dir: Path
    pin_hash: str
    vr_station: bool
    quality: str
    heartbeat_timeout_s: float
    startup_timeout_s: float
    max_crashes: int
    crash_window_min: float
    config_default_language: str = ""   # the file's own default_language where the operator's choice replaced it


def _languages() -> tuple[str, ...]:
    from experience.i18n import languages

    langs = tuple(languages())
    return tuple(sorted(langs, key=lambda c: (c != "en", c)))


def _tour_names() -> tuple[str, ...]:
    from experience.app.tours import tours

    return tuple(tours())


def default_log_dir() -> Path:
    override = os.environ.get("ASTP_KIOSK_LOG_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_log_dir("handshake-in-orbit", appauthor=False)) / "kiosk"


def schema():
    """The kiosk config's shape (experience.tomlcheck): ``[kiosk]``, every key optional."""
    from experience.tomlcheck import Array, Boolean, Integer, Number, String, Table

    langs, names = _languages(), _tour_names()
    d = KEY_DOCS
    fields = {
        "idle_timeout_s": Number(min=10, max=3600, required=False, doc=d["idle_timeout_s"]),
        "countdown_s": Integer(min=5, max=120, required=False, doc=d["countdown_s"]),
        "tours": Array(String(choices=names), min_len=1, unique=True, required=False, doc=d["tours"]),
        "languages": Array(String(choices=langs), min_len=1, unique=True, required=False, doc=d["languages"]),
        "default_language": String(choices=langs, required=False, doc=d["default_language"]),
        "screen_width_mm": Number(min=100, max=5000, required=False, doc=d["screen_width_mm"]),
        "min_target_mm": Number(min=5, max=60, required=False, doc=d["min_target_mm"]),
        "restart_window": String(required=False, doc=d["restart_window"], check=_check_window),
        "log_dir": String(required=False, doc=d["log_dir"]),
        "pin_hash": String(required=False, doc=d["pin_hash"], check=_check_pin_hash),
        "vr_station": Boolean(required=False, doc=d["vr_station"]),
        "quality": String(choices=("low", "medium", "high"), required=False, doc=d["quality"]),
        "heartbeat_timeout_s": Number(min=2, max=600, required=False, doc=d["heartbeat_timeout_s"]),
        "startup_timeout_s": Number(min=10, max=3600, required=False, doc=d["startup_timeout_s"]),
        "max_crashes": Integer(min=1, max=1000, required=False, doc=d["max_crashes"]),
        "crash_window_min": Number(min=1, max=1440, required=False, doc=d["crash_window_min"]),
    }
    return Table({"kiosk": Table(fields, required=False)})


def _check_window(value, keypath, doc):
    if value and not re.fullmatch(WINDOW_RE, value):
        raise doc.error(keypath, f"kiosk.restart_window {value!r} is not a daily window; write it as "
                                 "\"HH:MM-HH:MM\" in local time (e.g. \"04:00-04:15\"), or \"\" for none")
    return value


def _check_pin_hash(value, keypath, doc):
    if value and not re.fullmatch(PIN_HASH_RE, value):
        raise doc.error(keypath, "kiosk.pin_hash is not a PIN hash written by 'astp kiosk --set-pin' (the PIN is "
                                 "never stored in plain text); remove the line and run 'astp kiosk --set-pin --config FILE'")
    return value


def _window(text: str):
    if not text:
        return None
    a, b = text.split("-")
    return (_dt.time(int(a[:2]), int(a[3:])), _dt.time(int(b[:2]), int(b[3:])))


def parse_config(text: str, path: Path | str | None = None) -> KioskConfig:
    """A validated :class:`KioskConfig` from TOML text; AstpError (one line) if anything is wrong."""
    from experience import tomlcheck

    shown = str(path) if path else "<kiosk config>"
    doc = tomlcheck.loads(text, schema(), shown=shown)
    return _from_doc(doc, Path(path) if path else None)


def load_config(path) -> KioskConfig:
    """Read and validate the kiosk config file (see :func:`parse_config`)."""
    from experience import tomlcheck

    path = Path(path)
    if path.is_dir():
        raise AstpError(f"{path}: is a folder; give the kiosk's config file (a .toml file with a [kiosk] table)")
    doc = tomlcheck.load(path, schema(), shown=str(path))
    return _from_doc(doc, path)


def _from_doc(doc, path) -> KioskConfig:
    if "kiosk" not in doc.raw:
        raise doc.error((), "no [kiosk] table; every kiosk setting goes under [kiosk] (a file with only "
                            "'[kiosk]' uses the defaults)")
    k = dict(doc.data["kiosk"])
    v = {key: (k[key] if key in k else default) for key, default in DEFAULTS.items()}
    langs = tuple(v["languages"]) if v["languages"] else _languages()
    if v["default_language"] not in langs:
        line_key = ("kiosk", "default_language") if "default_language" in k else ("kiosk", "languages")
        raise doc.error(line_key, f"kiosk.default_language {v['default_language']!r} is not among kiosk.languages "
                                  f"({', '.join(langs)}); add it to languages or choose one of those")
    if v["tours"]:
        tours = tuple(v["tours"])
    else:
        from experience.app.tours import attract_loop

        tours = tuple(t.name for t in attract_loop())
        if not tours:
            raise doc.error(("kiosk",), "no shipped tour is marked for the attract loop; name the tours in "
                                        f"kiosk.tours (one of: {', '.join(_tour_names())})")
    if v["vr_station"]:
        from experience.app.kiosk_vr import vr_available

        why = vr_available()
        if why:
            raise doc.error(("kiosk", "vr_station"), f"kiosk.vr_station = true, but {why}; or set vr_station = false "
                                                         "(the touch kiosk)")
    shown_dir = v["log_dir"]
    if shown_dir:
        log_dir = Path(os.path.expanduser(shown_dir))
        if not log_dir.is_absolute() and path is not None:
            log_dir = Path(path).parent / log_dir
    else:
        log_dir = default_log_dir()
    return KioskConfig(path=path, idle_timeout_s=float(v["idle_timeout_s"]), countdown_s=int(v["countdown_s"]),
                       tours=tours, languages=(v["default_language"],) + tuple(x for x in langs if x != v["default_language"]),
                       default_language=v["default_language"], screen_width_mm=float(v["screen_width_mm"]),
                       min_target_mm=float(v["min_target_mm"]), restart_window=_window(v["restart_window"]),
                       log_dir=log_dir, pin_hash=v["pin_hash"], vr_station=bool(v["vr_station"]), quality=v["quality"],
                       heartbeat_timeout_s=float(v["heartbeat_timeout_s"]),
                       startup_timeout_s=float(v["startup_timeout_s"]), max_crashes=int(v["max_crashes"]),
                       crash_window_min=float(v["crash_window_min"]))


def in_window(window, now: _dt.datetime) -> bool:
    """Whether local time ``now`` lies in the daily window (start <= t < end; may span midnight)."""
    if window is None:
        return False
    a, b, t = window[0], window[1], now.time()
    return a <= t < b if a <= b else (t >= a or t < b)


# -- what the operator changed: the state file ------------------------------------------------------
STATE_FILE = "state.toml"
STATE_HEADER = ("# Written by the kiosk's operator panel (astp kiosk). It overrides the config's default_language\n"
                "# until the config's own default_language is changed; delete this file to use the config again.\n")


def state_path(config: KioskConfig) -> Path:
    """The operator's choices, kept across restarts: ``state.toml`` in the kiosk's log folder
    (beside the heartbeat; the operator's config file is never rewritten for them)."""
    return config.log_dir / STATE_FILE


def _state_schema(config: KioskConfig):
    from experience.tomlcheck import String, Table

    return Table({"operator": Table({
        "default_language": String(choices=config.languages, required=False,
                                   doc="the default language chosen on the operator panel"),
        "config_default_language": String(required=False,
                                          doc="the config's default_language when that choice was made"),
    }, required=False)})


def with_saved_state(config: KioskConfig, notice=None) -> KioskConfig:
    """The config with the operator's saved default language applied (:func:`save_state`), or as
    it is: when there is no state file, when it cannot be read (``notice`` says why; the kiosk
    still starts), or when the config's own ``default_language`` was changed since (the config
    was edited on purpose: it wins)."""
    from experience import tomlcheck

    path = state_path(config)
    if not path.is_file():
        return config
    try:
        doc = tomlcheck.load(path, _state_schema(config), shown=str(path))
    except AstpError as exc:
        if notice is not None:
            notice(f"the operator's saved settings are ignored: {exc}")
        return config
    op = dict(doc.data.get("operator") or {})
    lang = op.get("default_language")
    if not lang or lang == config.default_language:
        return config
    if op.get("config_default_language", config.default_language) != config.default_language:
        if notice is not None:
            notice(f"the operator's default language {lang!r} ({path}) is ignored: the config's default_language "
                   f"was changed to {config.default_language!r} since")
        return config
    return dataclasses.replace(config, default_language=lang, config_default_language=config.default_language,
                               languages=(lang,) + tuple(x for x in config.languages if x != lang))


def save_state(config: KioskConfig, default_language: str) -> Path:
    """Keep the operator's default language for the next start (atomically; the config file is
    not touched). ``config`` is the kiosk's config as loaded from its file."""
    from experience import outputs

    if default_language not in config.languages:
        raise AstpError(f"{default_language!r} is not one of the kiosk's languages ({', '.join(config.languages)})")
    base = config_default(config)
    text = (STATE_HEADER + "[operator]\n" f'default_language = "{default_language}"\n'
            f'config_default_language = "{base}"\n')
    path = state_path(config)
    outputs.check_folder(path.parent, what="kiosk log folder")
    path.parent.mkdir(parents=True, exist_ok=True)
    with outputs.immediate():
        outputs.write_output(path, text, what="kiosk state file")
    return path


def config_default(config: KioskConfig) -> str:
    """The config file's own default language (before :func:`with_saved_state`)."""
    return config.config_default_language or config.default_language


# -- the PIN ---------------------------------------------------------------------------------------
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1
PIN_RE = re.compile(r"\d{4,12}")


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$<salt hex>$<hash hex>`` of a PIN (4 to 12 digits)."""
    if not PIN_RE.fullmatch(pin or ""):
        raise AstpError("the PIN must be 4 to 12 digits (the operator types it on an on-screen keypad)")
    salt = salt or secrets.token_bytes(16)
    h = hashlib.scrypt(pin.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${h.hex()}"


def verify_pin(pin: str, stored: str) -> bool:
    """Whether ``pin`` matches the stored hash (constant time); False when no PIN is set."""
    if not stored or not re.fullmatch(PIN_HASH_RE, stored):
        return False
    _, n, r, p, salt, want = stored.split("$")
    try:
        got = hashlib.scrypt(pin.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32)
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(got.hex(), want)


def with_pin_hash(text: str, pin_hash: str) -> str:
    """The config text with ``pin_hash`` set under ``[kiosk]`` (the rest of the file, comments
    included, untouched)."""
    lines = text.splitlines(keepends=True)
    header = re.compile(r"^\s*\[\s*kiosk\s*\]\s*(#.*)?$")
    any_header = re.compile(r"^\s*\[")
    key = re.compile(r"^\s*pin_hash\s*=")
    start = next((i for i, ln in enumerate(lines) if header.match(ln.rstrip("\r\n"))), None)
    new = f'pin_hash = "{pin_hash}"\n'
    if start is None:
        sep = "" if not text or text.endswith("\n") else "\n"
        return text + sep + ("\n" if text.strip() else "") + "[kiosk]\n" + new
    end = next((i for i in range(start + 1, len(lines)) if any_header.match(lines[i])), len(lines))
    for i in range(start + 1, end):
        if key.match(lines[i]):
            lines[i] = new
            return "".join(lines)
    lines.insert(start + 1, new)
    return "".join(lines)


# -- the state machine -----------------------------------------------------------------------------
ATTRACT, INTERACTIVE, COUNTDOWN, PIN_ENTRY, OPERATOR = "attract", "interactive", "countdown", "pin", "operator"
STATES = (ATTRACT, INTERACTIVE, COUNTDOWN, PIN_ENTRY, OPERATOR)
GESTURE = ("top_left", "top_right", "bottom_right", "bottom_left")
GESTURE_WINDOW_S = 8.0
CORNER_FRACTION = 0.08           # a corner tap: within this fraction of the width/height of a corner
OPERATOR_KEYS = ("control-shift-o", "shift-control-o")
PIN_FREE_TRIES = 3
PIN_LOCK_S = 30.0
PIN_LOCK_MAX_S = 900.0

TEXT = {  # visitor-facing texts (English msgids, translated where drawn)
    "touch": N_("Touch the screen to explore"),
    "title": N_("Handshake in Orbit"),
    "subtitle": N_("Apollo–Soyuz, July 1975"),
    "watch": N_("Watch the docking"),
    "float": N_("Float into Soyuz"),
    "crews": N_("Meet the crews"),
    "still_there": N_("Still there?"),
    "restart_in": N_("This display will restart in {n} s"),
    "keep": N_("Keep exploring"),
    "again": N_("Start again"),
    "drag": N_("Drag to look around"),
    "put_on": N_("Put on the headset to explore"),          # the VR station's monitor
    "in_headset": N_("A visitor is exploring in the headset"),
}


class KioskSession:
    """The kiosk's states and counters; time is passed in (seconds, monotonic)."""

    def __init__(self, config: KioskConfig, now: float = 0.0, on_reset=None):
        self.config = config
        self.state = ATTRACT
        self.since = now
        self.last_input = now
        self.countdown_until = 0.0
        self.on_reset = on_reset               # called on every reset (the front end resets the experience)
        self.sessions = 0                      # visitors: attract -> interactive
        self.resets = 0
        self.pin_failures = 0
        self.pin_locked_until = 0.0
        self.pin_message = ""
        self.operator_opened = 0
        self.exit_requested: str | None = None  # "exit" or "restart" (the operator's)
        self.default_language = config.default_language
        self.on_default_language = None        # called when the operator changes it (the front end keeps it)
        self._corners: list[tuple[str, float]] = []
        self._keys: list[float] = []
        self.transitions: list[tuple[float, str, str]] = []   # (time, from, to), the last 50

    # -- transitions ---------------------------------------------------------------------------
    def _go(self, state: str, now: float) -> None:
        if state != self.state:
            self.transitions = (self.transitions + [(now, self.state, state)])[-50:]
        self.state, self.since = state, now

    def input(self, now: float) -> str:
        """Any touch, key or button: breaks the attract loop at once, keeps a session alive,
        answers the countdown with "Keep exploring". Returns the state after it."""
        self.last_input = now
        if self.state == ATTRACT:
            self.sessions += 1
            self._go(INTERACTIVE, now)
        elif self.state == COUNTDOWN:
            self._go(INTERACTIVE, now)
        return self.state

    def away(self, now: float) -> str:
        """The visitor left without a word (VR station: the headset was taken off): the countdown
        starts now rather than after ``idle_timeout_s``; a visitor who comes back (any input,
        the headset put on again) keeps exploring. Returns the state after it."""
        if self.state == INTERACTIVE:
            self.countdown_until = now + self.config.countdown_s
            self._go(COUNTDOWN, now)
        return self.state

    def keep_exploring(self, now: float) -> None:
        self.last_input = now
        if self.state == COUNTDOWN:
            self._go(INTERACTIVE, now)

    def start_again(self, now: float) -> None:
        """The countdown's "Start again", or its end: every visitor state reset, the attract loop."""
        self.reset(now)

    def reset(self, now: float) -> None:
        self.resets += 1
        self.last_input = now
        self._corners.clear()
        self._go(ATTRACT, now)
        if self.on_reset is not None:
            self.on_reset(self.default_language)

    def tick(self, now: float) -> str:
        """Per frame: the idle timer and the countdown. Returns the state."""
        idle = now - self.last_input
        if self.state in (INTERACTIVE, PIN_ENTRY, OPERATOR) and idle >= self.config.idle_timeout_s:
            if self.state == INTERACTIVE:
                self.countdown_until = now + self.config.countdown_s
                self._go(COUNTDOWN, now)
            else:  # the operator walked away: locked again, back to the loop
                self.reset(now)
        elif self.state == COUNTDOWN and now >= self.countdown_until:
            self.reset(now)
        return self.state

    def countdown_left_s(self, now: float) -> int:
        return max(0, int(-(-(self.countdown_until - now) // 1))) if self.state == COUNTDOWN else 0

    # -- the operator --------------------------------------------------------------------------
    def tap(self, x_frac: float, y_frac: float, now: float) -> bool:
        """A tap at (x, y) as fractions of the screen (0,0 top left); True when it completed
        the hidden corner gesture (the PIN keypad opens)."""
        c = CORNER_FRACTION
        corner = {(True, True): "top_left", (False, True): "top_right", (False, False): "bottom_right",
                  (True, False): "bottom_left"}
        near_x = x_frac <= c or x_frac >= 1 - c
        near_y = y_frac <= c or y_frac >= 1 - c
        if not (near_x and near_y):
            self._corners.clear()
            return False
        name = corner[(x_frac <= c, y_frac <= c)]
        self._corners = [(n, t) for n, t in self._corners if now - t <= GESTURE_WINDOW_S]
        expect = GESTURE[len(self._corners)] if len(self._corners) < len(GESTURE) else None
        if name == expect:
            self._corners.append((name, now))
        else:
            self._corners = [(name, now)] if name == GESTURE[0] else []
        if len(self._corners) == len(GESTURE):
            self._corners.clear()
            return self.open_pin(now)
        return False

    def key(self, event: str, now: float) -> bool:
        """A key event; True when it was the operator's key sequence (the PIN keypad opens)."""
        if event in OPERATOR_KEYS:
            return self.open_pin(now)
        return False

    def open_pin(self, now: float) -> bool:
        if self.state in (PIN_ENTRY, OPERATOR):
            return False
        self.last_input = now
        self.pin_message = ""
        self._go(PIN_ENTRY, now)
        return True

    def pin_locked_s(self, now: float) -> float:
        return max(0.0, self.pin_locked_until - now)

    def submit_pin(self, pin: str, now: float) -> bool:
        """The keypad's OK: True (the operator panel opens) or False (wrong, or locked)."""
        self.last_input = now
        if self.state != PIN_ENTRY:
            return False
        if self.pin_locked_s(now) > 0:
            self.pin_message = "locked"
            return False
        if not self.config.pin_hash:
            self.pin_message = "no_pin"
            return False
        if verify_pin(pin, self.config.pin_hash):
            self.pin_failures = 0
            self.pin_message = ""
            self.operator_opened += 1
            self._go(OPERATOR, now)
            return True
        self.pin_failures += 1
        self.pin_message = "wrong"
        if self.pin_failures >= PIN_FREE_TRIES:
            lock = min(PIN_LOCK_S * 2 ** (self.pin_failures - PIN_FREE_TRIES), PIN_LOCK_MAX_S)
            self.pin_locked_until = now + lock
            self.pin_message = "locked"
        return False

    def cancel_pin(self, now: float) -> None:
        if self.state in (PIN_ENTRY, OPERATOR):
            self.last_input = now
            self._go(INTERACTIVE, now)

    def operator(self, action: str, now: float, value: str | None = None) -> None:
        """An operator panel button: "exit", "restart", "language" (value: the new default), "close"."""
        if self.state != OPERATOR:
            return
        self.last_input = now
        if action in ("exit", "restart"):
            self.exit_requested = action
        elif action == "language":
            if value not in self.config.languages:
                raise ValueError(f"unknown language {value!r}")
            self.default_language = value
            if self.on_default_language is not None:
                self.on_default_language(value)
        elif action == "close":
            self.reset(now)
        else:
            raise ValueError(f"unknown operator action {action!r}")

    def counters(self) -> dict:
        return {"state": self.state, "sessions": self.sessions, "resets": self.resets,
                "pin_failures": self.pin_failures, "operator_opened": self.operator_opened,
                "default_language": self.default_language}


# -- the attract loop ------------------------------------------------------------------------------
class AttractLoop:
    """The configured tours one after another, forever: which tour and frame at a loop time."""

    def __init__(self, tours, fps: float = 30.0):
        from experience.app.tours import TourPlayer

        self.tours = list(tours)
        self.players = [TourPlayer(t, fps=fps) for t in self.tours]
        self.t = 0.0           # seconds into the current tour
        self.index = 0
        self.cycles = 0        # whole loops played

    @property
    def length_s(self) -> float:
        return sum(t.duration_s for t in self.tours)

    def restart(self) -> None:
        self.t, self.index = 0.0, 0

    def advance(self, dt_s: float):
        """Move on ``dt_s`` seconds; the :class:`~experience.app.tours.TourFrame` to show."""
        self.t += max(dt_s, 0.0)
        while self.t > self.tours[self.index].duration_s:
            self.t -= self.tours[self.index].duration_s
            self.index += 1
            if self.index == len(self.tours):
                self.index = 0
                self.cycles += 1
        return self.tours[self.index].at(self.t)
