"""Scripted camera tours: data files (data/tours/<name>.toml) played frame by frame.

A tour is a list of keyframes keyed to story times, each with a camera (mode and its numbers)
and the playback rate (or the video seconds) to the next key, plus captions keyed to story spans.
The same player drives ``astp record`` (experience/frontends/record.py) and the kiosk's attract
loop: for frame ``k`` at ``fps`` it sets an :class:`~experience.app.experience.Experience`'s story
time and camera, so the one application loop renders it, and says which caption belongs to that
moment. Everything is a pure function of the tour and the frame index (no wall clock): the same
tour gives the same frames on every run.

    tour = Tour.load("docking")              # or a path to a .toml file
    player = TourPlayer(tour, fps=30)
    for k in range(player.frames):
        frame = player.apply(exp, k)         # story time, rate and camera of frame k
        image = loop.render_offscreen(0.0)   # dt 0: the tour sets the time itself
        frame.caption, frame.caption_alpha, frame.fade   # what to draw over it

Timing. Key ``i`` lasts from its story time to the next key's: ``rate`` story seconds per video
second (video length = story span / rate), or ``duration_s`` video seconds (a hold when both keys
have the same story time: the story stands still, the camera moves). Two keys at the same story
time with different cameras are a cut (no video time between them).

Camera interpolation. Consecutive keys with the same camera mode form a run; within a run every
number (orbit: yaw, pitch, log distance; free: position and look angles; cabin: eye and look
angles; fov; exposure) follows a monotone cubic Hermite curve through the keys over video time
(Fritsch-Carlson tangents, zero at the run's ends: C1, it eases in and out, never overshoots a
key). Yaw goes the short way round between keys. Between runs the camera holds the last key of
the run and cuts at the next mode's first key, dipping through black for ``cut_fade_s``.

Validation (one function, :func:`validate`): unknown keys (with the closest known one), wrong
types, a time outside the story, a camera that does not exist, numbers outside the cameras'
limits, keys out of order, overlapping captions; each an :class:`~experience.errors.AstpError` of
one line naming the file and the line.

Captions are English msgids (the i18n layer translates them where they are shown); the catalog
extractor reads the ``title`` of ``[tour]`` and the ``text`` of every ``[[caption]]`` in
data/tours/*.toml (:func:`catalog_messages` lists them with their file and line).
"""

from __future__ import annotations

import bisect
import dataclasses
import difflib
import functools
import math
import re
import tomllib
from pathlib import Path

import numpy as np

from experience.app.cameras import MODES, ORBIT_MAX_M, ORBIT_MIN_M, PITCH_LIMIT_DEG, default_cabin_constraint
from experience.errors import AstpError
from experience.mission import data

TOURS_SUBDIR = "tours"
DEFAULT_FADE_IN_S = 0.6
DEFAULT_FADE_OUT_S = 1.0
DEFAULT_CUT_FADE_S = 0.35
CAPTION_FADE_S = 0.4
FOV_RANGE_DEG = (20.0, 100.0)           # the cameras' zoom range
CABIN_FOV_MIN_DEG = 70.0                # the cabin camera never goes narrower
DEFAULT_FOV_DEG = {"orbit": 55.0, "chase": 55.0, "free": 55.0, "cabin": 75.0}
FOV_MODES = tuple(DEFAULT_FOV_DEG)      # cm_window and soyuz_porthole have their windows' own field of view

_COMMON_KEYS = ("at", "camera", "rate", "duration_s", "exposure_stops", "note")
_MODE_KEYS = {
    "orbit": ("yaw_deg", "pitch_deg", "distance_m", "fov_deg"),
    "free": ("position_m", "look_at_m", "look_yaw_deg", "look_pitch_deg", "fov_deg"),
    "cabin": ("eye_m", "look_at_m", "look_yaw_deg", "look_pitch_deg", "fov_deg"),
    "chase": ("fov_deg",),
    "cm_window": (),
    "soyuz_porthole": (),
}
_TOUR_KEYS = ("title", "description", "attract", "fade_in_s", "fade_out_s", "cut_fade_s", "note")
_CAPTION_KEYS = ("from", "to", "text", "source", "note")
_TOP_KEYS = ("tour", "key", "caption")


def tours_dir() -> Path:
    """data/tours ($ASTP_DATA_DIR moves the data folder, for tests)."""
    return data.data_dir() / TOURS_SUBDIR


# ----------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Key:
    """One keyframe: a story time and a camera. ``values`` are the interpolated numbers of the
    mode (see :data:`_VALUE_NAMES`); ``rate`` / ``duration_s`` time the segment to the next key."""

    at: str              # as written in the file
    t_s: float           # mission elapsed seconds
    camera: str
    values: tuple[float, ...]
    rate: float | None
    duration_s: float | None
    line: int | None


_VALUE_NAMES = {
    "orbit": ("yaw_deg", "pitch_deg", "log_distance", "fov_deg", "exposure_stops"),
    "free": ("x_m", "y_m", "z_m", "look_yaw_deg", "look_pitch_deg", "fov_deg", "exposure_stops"),
    "cabin": ("x_m", "y_m", "z_m", "look_yaw_deg", "look_pitch_deg", "fov_deg", "exposure_stops"),
    "chase": ("fov_deg", "exposure_stops"),
    "cm_window": ("exposure_stops",),
    "soyuz_porthole": ("exposure_stops",),
}
_YAW_INDEX = {"orbit": 0, "free": 3, "cabin": 3}   # which value is an angle that wraps


@dataclasses.dataclass(frozen=True)
class Caption:
    text: str            # English msgid
    from_s: float        # story span (mission elapsed seconds)
    to_s: float
    source: str
    line: int | None


@dataclasses.dataclass(frozen=True)
class CameraState:
    """The camera of one tour moment, in the rig's own terms (experience.app.cameras)."""

    mode: str
    fov_deg: float | None = None
    exposure_stops: float = 0.0
    orbit_yaw_deg: float | None = None
    orbit_pitch_deg: float | None = None
    orbit_distance_m: float | None = None
    position_m: tuple[float, float, float] | None = None   # free: body axes, from the subject; cabin: model frame
    look_yaw_deg: float | None = None
    look_pitch_deg: float | None = None

    def apply(self, rig) -> None:
        """Set a :class:`~experience.app.cameras.CameraRig` to this state."""
        rig.set_mode(self.mode)
        rig.exposure_stops = float(self.exposure_stops)
        if self.fov_deg is not None:
            rig.fov_deg = float(self.fov_deg)
        if self.mode == "orbit":
            rig.orbit_yaw_deg = float(self.orbit_yaw_deg)
            rig.orbit_pitch_deg = float(self.orbit_pitch_deg)
            rig.orbit_distance_m = float(self.orbit_distance_m)
        elif self.mode == "free":
            rig.free_pos_m = np.array(self.position_m, dtype=np.float64)
            rig.free_yaw_deg = float(self.look_yaw_deg)
            rig.free_pitch_deg = float(self.look_pitch_deg)
        elif self.mode == "cabin":
            constrain = rig.cabin_constraint or default_cabin_constraint
            rig.cabin_eye_m = np.asarray(constrain(np.array(self.position_m, dtype=np.float64)), dtype=np.float64)
            rig.cabin_yaw_deg = float(self.look_yaw_deg)
            rig.cabin_pitch_deg = float(self.look_pitch_deg)


@dataclasses.dataclass(frozen=True)
class TourFrame:
    """What one moment of a tour shows."""

    index: int | None        # frame index (None for a moment asked by time)
    tour_s: float            # video seconds from the tour's start
    t_s: float               # story time (mission elapsed seconds)
    rate: float              # story seconds per video second here (0 in a hold)
    camera: CameraState
    caption: str             # English msgid, or ""
    caption_alpha: float     # 0..1 (captions fade in and out)
    fade: float              # 0..1 brightness of the scene (fades at the start, the end and cuts)
    key: int                 # the keyframe segment this moment lies in


@dataclasses.dataclass(frozen=True)
class Tour:
    name: str
    path: Path
    title: str
    description: str
    keys: tuple[Key, ...]
    captions: tuple[Caption, ...]
    attract: int | None = None
    fade_in_s: float = DEFAULT_FADE_IN_S
    fade_out_s: float = DEFAULT_FADE_OUT_S
    cut_fade_s: float = DEFAULT_CUT_FADE_S

    # -- loading ---------------------------------------------------------------------------------
    @classmethod
    def load(cls, name_or_path: str | Path, clock=None) -> "Tour":
        """A shipped tour by name (data/tours/NAME.toml) or any tour file by its path."""
        path = resolve(name_or_path)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise AstpError(f"{path}: not a UTF-8 text file; save the tour as UTF-8 TOML") from None
        except OSError as exc:
            raise AstpError(f"cannot read the tour {path}: {exc.strerror or exc}") from None
        return validate(path, text, clock=clock)

    # -- timing ----------------------------------------------------------------------------------
    @functools.cached_property
    def _times(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """(video start of each key, story rate of each segment)."""
        starts, rates = [0.0], []
        for a, b in zip(self.keys, self.keys[1:]):
            span = b.t_s - a.t_s
            if a.duration_s is not None:
                dur = a.duration_s
            elif span > 0:
                dur = span / a.rate
            else:
                dur = 0.0  # a cut
            rates.append(span / dur if dur > 0 else 0.0)
            starts.append(starts[-1] + dur)
        rates.append(0.0)
        return tuple(starts), tuple(rates)

    @property
    def duration_s(self) -> float:
        """Video seconds from the first key to the last."""
        return self._times[0][-1]

    @property
    def start_s(self) -> float:
        return self.keys[0].t_s

    @property
    def end_s(self) -> float:
        return self.keys[-1].t_s

    def frame_count(self, fps: float) -> int:
        """Frames at ``fps``: both ends included (frame 0 is the first key, the last frame the
        last key where the length is a whole number of frames)."""
        return int(math.floor(self.duration_s * fps + 1e-9)) + 1

    def _segment(self, tour_s: float) -> int:
        starts = self._times[0]
        i = bisect.bisect_right(starts, tour_s) - 1
        return min(max(i, 0), len(self.keys) - 2)  # at a cut (two keys at one moment): the later

    def story_time(self, tour_s: float) -> tuple[float, float, int]:
        """(story time, rate, segment) at ``tour_s`` video seconds (clamped to the tour)."""
        starts, rates = self._times
        tour_s = min(max(float(tour_s), 0.0), self.duration_s)
        if len(self.keys) == 1:
            return self.keys[0].t_s, 0.0, 0
        i = self._segment(tour_s)
        a, b = self.keys[i], self.keys[i + 1]
        if rates[i] == 0.0:
            return a.t_s, 0.0, i
        t = a.t_s + rates[i] * (tour_s - starts[i])
        return min(t, b.t_s), rates[i], i

    def video_time(self, t_s: float) -> float:
        """The first video second at which the story reaches ``t_s`` (the inverse of story_time)."""
        starts, rates = self._times
        if t_s <= self.keys[0].t_s:
            return 0.0
        for i, (a, b) in enumerate(zip(self.keys, self.keys[1:])):
            if t_s <= b.t_s and b.t_s > a.t_s:
                return starts[i] + (t_s - a.t_s) / rates[i]
        return self.duration_s

    # -- the camera ------------------------------------------------------------------------------
    @functools.cached_property
    def _runs(self) -> tuple[tuple[int, int, tuple], ...]:
        """(first key, last key, per-value Hermite data) for each run of one camera mode."""
        runs = []
        starts = self._times[0]
        i = 0
        while i < len(self.keys):
            j = i
            while j + 1 < len(self.keys) and self.keys[j + 1].camera == self.keys[i].camera:
                j += 1
            mode = self.keys[i].camera
            times = np.array(starts[i:j + 1])
            vals = np.array([k.values for k in self.keys[i:j + 1]], dtype=np.float64)
            if mode in _YAW_INDEX:  # the short way round from each key to the next
                c = _YAW_INDEX[mode]
                for r in range(1, len(vals)):
                    d = (vals[r, c] - vals[r - 1, c] + 180.0) % 360.0 - 180.0
                    vals[r, c] = vals[r - 1, c] + d
            tangents = np.stack([_monotone_tangents(times, vals[:, c]) for c in range(vals.shape[1])], axis=1) \
                if vals.shape[1] else np.zeros_like(vals)
            runs.append((i, j, (times, vals, tangents)))
            i = j + 1
        return tuple(runs)

    def camera_at(self, tour_s: float) -> CameraState:
        """The camera at ``tour_s`` video seconds."""
        tour_s = min(max(float(tour_s), 0.0), self.duration_s)
        starts = self._times[0]
        run = self._runs[0]
        for r in self._runs:  # the last run that has begun (a cut belongs to the new run)
            if starts[r[0]] <= tour_s:
                run = r
        first, last, (times, vals, tangents) = run
        mode = self.keys[first].camera
        if tour_s >= times[-1]:
            v = vals[-1]
        else:
            s = max(0, int(np.searchsorted(times, tour_s, side="right")) - 1)
            v = _hermite(times[s], times[s + 1], vals[s], vals[s + 1], tangents[s], tangents[s + 1], tour_s)
        return _camera_state(mode, v)

    # -- captions and fades ----------------------------------------------------------------------
    def caption_at(self, tour_s: float) -> tuple[str, float]:
        """(English msgid, alpha) of the caption shown at ``tour_s``; ("", 0) when none."""
        t, _, _ = self.story_time(tour_s)
        end = self.end_s
        for cap in self.captions:
            if cap.from_s <= t < cap.to_s or (t == cap.to_s == end):
                a, b = self.video_time(cap.from_s), self.video_time(cap.to_s)
                if cap.to_s >= end:
                    b = self.duration_s
                ramp = min(CAPTION_FADE_S, max((b - a) / 2.0, 1e-6))
                alpha = min(1.0, (tour_s - a) / ramp, (b - tour_s) / ramp)
                return cap.text, _smoothstep(min(max(alpha, 0.0), 1.0))
        return "", 0.0

    def fade_at(self, tour_s: float) -> float:
        """Brightness of the scene: up from black at the start, down at the end, a dip at cuts."""
        f = 1.0
        if self.fade_in_s > 0:
            f = min(f, tour_s / self.fade_in_s)
        if self.fade_out_s > 0:
            f = min(f, (self.duration_s - tour_s) / self.fade_out_s)
        if self.cut_fade_s > 0:
            starts = self._times[0]
            for r in self._runs[1:]:
                f = min(f, abs(tour_s - starts[r[0]]) / self.cut_fade_s)
        return _smoothstep(min(max(f, 0.0), 1.0))

    def at(self, tour_s: float, index: int | None = None) -> TourFrame:
        """Everything of the moment ``tour_s`` video seconds into the tour."""
        tour_s = min(max(float(tour_s), 0.0), self.duration_s)
        t, rate, seg = self.story_time(tour_s)
        text, alpha = self.caption_at(tour_s)
        return TourFrame(index, tour_s, t, rate, self.camera_at(tour_s), text, alpha, self.fade_at(tour_s), seg)

    # -- the story -------------------------------------------------------------------------------
    def check_story(self, live) -> None:
        """Every key's camera can stand where the file says at its time: something is in orbit,
        and the window and cabin cameras have their spacecraft (the cabins: docked). ``live`` is
        an experience's :class:`~experience.simulation.live.LiveSimulation`. AstpError naming the
        file and line otherwise (the rig would silently fall back to the orbit camera)."""
        for k in self.keys:
            snap = live.snapshot(k.t_s)
            where = f"{_rel(self.path)}:{k.line or '?'}"
            vs = snap.vehicles
            problem = None
            if not vs:
                problem = "no spacecraft is in orbit then"
            elif k.camera in ("cm_window", "cabin") and "apollo" not in vs:
                problem = "Apollo is not in orbit then"
            elif k.camera == "soyuz_porthole" and "soyuz" not in vs:
                problem = "Soyuz is not in orbit then"
            elif k.camera == "cabin" and not snap.docked:
                problem = "the spacecraft are not docked then (the cabins join only while docked)"
            if problem:
                raise AstpError(f"{where}: the {k.camera} camera at {k.at} cannot be used: {problem}; "
                                "choose another time or camera")


class TourPlayer:
    """Frames of a tour at a frame rate, applied to an :class:`Experience`."""

    def __init__(self, tour: Tour, fps: float = 30.0, max_frames: int | None = None):
        if not (fps > 0):
            raise AstpError(f"bad frame rate {fps!r}: give a positive number of frames per second, e.g. 30")
        self.tour = tour
        self.fps = float(fps)
        n = tour.frame_count(self.fps)
        self.frames = n if max_frames is None else max(1, min(n, int(max_frames)))

    def frame(self, k: int) -> TourFrame:
        """Frame ``k`` (0-based): a pure function of the tour, the frame rate and ``k``."""
        if not 0 <= k < self.frames:
            raise IndexError(f"frame {k} is outside 0..{self.frames - 1}")
        return self.tour.at(k / self.fps, index=k)

    def __iter__(self):
        return (self.frame(k) for k in range(self.frames))

    @staticmethod
    def apply_frame(exp, frame: TourFrame) -> TourFrame:
        """Set ``exp``'s story time, playback rate and camera to ``frame``. Then run the loop's
        frame with ``dt_wall_s = 0`` (the tour sets the time; a real dt would move it on)."""
        pb = exp.playback
        pb.seek(frame.t_s)
        pb.rate = frame.rate if frame.rate > 0 else pb.rate
        pb.paused = frame.rate == 0.0
        frame.camera.apply(exp.camera)
        return frame

    def apply(self, exp, k: int) -> TourFrame:
        """:meth:`frame` ``k``, applied to ``exp`` (:meth:`apply_frame`)."""
        return self.apply_frame(exp, self.frame(k))


# ----------------------------------------------------------------------------------------------
def resolve(name_or_path: str | Path) -> Path:
    """The file of a tour: a shipped name, or a path to a .toml file. AstpError if neither."""
    text = str(name_or_path)
    if text.endswith(".toml") or "/" in text or "\\" in text:
        path = Path(text)
        if path.is_dir():
            raise AstpError(f"the tour {text} is a folder; give a tour file (NAME.toml) or a tour name")
        if not path.is_file():
            raise AstpError(f"no tour file {text}; give an existing .toml file or one of: {', '.join(tours()) or '(none)'}")
        return path
    path = tours_dir() / f"{text}.toml"
    if not path.is_file():
        names = tours()
        close = difflib.get_close_matches(text, names, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise AstpError(f"unknown tour {text!r}; {hint}choose one of: {', '.join(names) or '(none installed)'}")
    return path


def tours() -> list[str]:
    """The names of the shipped tours (data/tours/*.toml), sorted."""
    folder = tours_dir()
    return sorted(p.stem for p in folder.glob("*.toml")) if folder.is_dir() else []


def attract_loop(clock=None) -> list[Tour]:
    """The tours the kiosk's attract loop plays, in order (those with ``attract = N`` in [tour])."""
    loaded = [Tour.load(n, clock) for n in tours()]
    return sorted((t for t in loaded if t.attract is not None), key=lambda t: (t.attract, t.name))


def catalog_messages(folder: Path | None = None) -> list[tuple[str, str, int]]:
    """(msgid, file, line) of every translatable text in the tour files: [tour] title and each
    [[caption]] text. For the gettext catalog extractor (tools/update_catalogs.py)."""
    out = []
    for path in sorted((folder or tours_dir()).glob("*.toml")):
        text = path.read_text(encoding="utf-8")
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            continue
        title = raw.get("tour", {}).get("title") if isinstance(raw.get("tour"), dict) else None
        if isinstance(title, str):
            out.append((title, str(path), _line_of(text, "tour", None, "title") or 0))
        for i, cap in enumerate(raw.get("caption", []) if isinstance(raw.get("caption"), list) else []):
            if isinstance(cap, dict) and isinstance(cap.get("text"), str):
                out.append((cap["text"], str(path), _line_of(text, "caption", i, "text") or 0))
    return out


# ----------------------------------------------------------------------------------------------
def validate(path: Path, text: str, clock=None) -> Tour:
    """Parse and check a tour file; the Tour, or AstpError of one line naming file and line.
    (All of the tour files' validation is here, in one place.)"""
    from experience.app.playback import presets, story_span
    from experience.mission.clock import MissionClock, format_utc, parse_utc

    where_file = _rel(path)

    def fail(line, message):
        raise AstpError(f"{where_file}:{line or '?'}: {message}")

    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        fail(m.group(1) if m else None, f"not valid TOML ({str(exc).split(' (at')[0]}); fix that line")

    def check_keys(table: dict, allowed, tname, index, what):
        for k in table:
            if k not in allowed:
                close = difflib.get_close_matches(k, allowed, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                fail(_line_of(text, tname, index, k), f"unknown key {k!r} in {what}; {hint}accepted: {', '.join(allowed)}")

    for k in raw:
        if k not in _TOP_KEYS:
            close = difflib.get_close_matches(k, _TOP_KEYS, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            fail(_line_of(text, k, None, None) or _line_of(text, None, None, k),
                 f"unknown table or key {k!r}; {hint}a tour has [tour], [[key]] and [[caption]]")
    tour = raw.get("tour")
    if not isinstance(tour, dict):
        fail(_line_of(text, None, None, "tour"), "the tour needs a [tour] table with its title")
    if not isinstance(raw.get("key", []), list) or not isinstance(raw.get("caption", []), list):
        bad = "key" if not isinstance(raw.get("key", []), list) else "caption"
        fail(_line_of(text, bad, None, None) or _line_of(text, None, None, bad), f"{bad} must be written [[{bad}]] (a list of tables)")
    check_keys(tour, _TOUR_KEYS, "tour", None, "[tour]")

    def number(table, key, tname, index, *, lo=None, hi=None, default=None, positive=False, required=False):
        if key not in table:
            if required:
                fail(_line_of(text, tname, index, None), f"[[{tname}]] #{index + 1} lacks {key}; add it")
            return default
        v = table[key]
        line = _line_of(text, tname, index, key)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            fail(line, f"{key} must be a number, not {v!r}")
        v = float(v)
        if positive and v <= 0:
            fail(line, f"{key} must be more than 0, not {v:g}")
        if lo is not None and v < lo or hi is not None and v > hi:
            fail(line, f"{key} = {v:g} is outside {lo:g}..{hi:g}")
        return v

    def string(table, key, tname, index, required=False):
        if key not in table:
            if required:
                what = "[tour]" if index is None else f"[[{tname}]] #{index + 1}"
                fail(_line_of(text, tname, index, None), f"{what} lacks {key}; add it")
            return None
        v = table[key]
        if not isinstance(v, str) or not v.strip():
            fail(_line_of(text, tname, index, key), f"{key} must be a non-empty text in quotes, not {v!r}")
        return v

    def vector(table, key, tname, index):
        v = table[key]
        if (not isinstance(v, list) or len(v) != 3
                or any(isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) for x in v)):
            fail(_line_of(text, tname, index, key), f"{key} must be three numbers [x, y, z] in metres, not {v!r}")
        return [float(x) for x in v]

    clock = clock or MissionClock.from_data()
    story_lo, story_hi = story_span(clock)
    preset_t = {p.id: p.t_s for p in presets(clock)}
    event_ids = {ev.id for ev in data.timeline()}

    def story_time(table, key, tname, index):
        raw_at = string(table, key, tname, index, required=True)
        line = _line_of(text, tname, index, key)
        m = re.fullmatch(r"\s*([a-z][a-z0-9_]*)\s*(?:([+-])\s*(.+?))?\s*", raw_at)
        if m and not re.match(r"\d{4}-", raw_at.strip()):
            name, sign, offset = m.groups()
            if name in preset_t:
                t = preset_t[name]
            elif name in event_ids:
                t = clock.t_s(data.event(name).utc)
            else:
                close = difflib.get_close_matches(name, sorted(event_ids | set(preset_t)), n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                fail(line, f"{key} = {raw_at!r}: no timeline event or story preset {name!r}; {hint}"
                           "write a UTC time (1975-07-17T16:00:00Z) or an event id with an offset (docking_1 - 9m09s)")
            if offset is not None:
                secs = _parse_offset(offset)
                if secs is None:
                    fail(line, f"{key} = {raw_at!r}: cannot read the offset {offset!r}; write e.g. 90s, 2m30s, 1h or 150")
                t += secs if sign == "+" else -secs
        else:
            try:
                t = clock.t_s(parse_utc(raw_at, what=key))
            except AstpError as exc:
                fail(line, str(exc))
        if not story_lo <= t <= story_hi:
            fail(line, f"{key} = {raw_at!r} ({format_utc(clock.utc(t))}) is outside the story "
                       f"({format_utc(clock.utc(story_lo))} .. {format_utc(clock.utc(story_hi))})")
        return raw_at, t

    title = string(tour, "title", "tour", None, required=True)
    description = string(tour, "description", "tour", None) or ""
    attract = tour.get("attract")
    if attract is not None and (isinstance(attract, bool) or not isinstance(attract, int) or attract < 1):
        fail(_line_of(text, "tour", None, "attract"), f"attract must be a whole number from 1 (its place in the kiosk's attract loop), not {attract!r}")
    fades = {k: number(tour, k, "tour", None, lo=0.0, hi=10.0, default=d) for k, d in
             (("fade_in_s", DEFAULT_FADE_IN_S), ("fade_out_s", DEFAULT_FADE_OUT_S), ("cut_fade_s", DEFAULT_CUT_FADE_S))}

    raw_keys = raw.get("key", [])
    if not raw_keys:
        fail(None, "the tour has no [[key]]; add at least two keyframes")
    keys: list[Key] = []
    for i, k in enumerate(raw_keys):
        head = _line_of(text, "key", i, None)
        if not isinstance(k, dict):
            fail(head, "each [[key]] must be a table")
        cam = k.get("camera")
        if cam is None:
            fail(head, f"[[key]] #{i + 1} lacks camera; add one of: {', '.join(MODES)}")
        if cam not in MODES:
            close = difflib.get_close_matches(str(cam), MODES, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            fail(_line_of(text, "key", i, "camera"), f"camera {cam!r} does not exist; {hint}choose one of: {', '.join(MODES)}")
        allowed = _COMMON_KEYS + _MODE_KEYS[cam]
        for name in k:
            if name not in allowed:
                owners = [m for m, ks in _MODE_KEYS.items() if name in ks]
                if owners:
                    fail(_line_of(text, "key", i, name), f"{name} is for the {', '.join(owners)} camera"
                                                          f"{'s' if len(owners) > 1 else ''}, not {cam}; remove it or change the camera")
                close = difflib.get_close_matches(name, allowed, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                fail(_line_of(text, "key", i, name), f"unknown key {name!r} in [[key]]; {hint}accepted for the {cam} camera: {', '.join(allowed)}")
        at, t = story_time(k, "at", "key", i)
        string(k, "note", "key", i)
        rate = number(k, "rate", "key", i, positive=True)
        duration = number(k, "duration_s", "key", i, positive=True)
        if rate is not None and duration is not None:
            fail(_line_of(text, "key", i, "duration_s"), "give rate or duration_s for the segment to the next key, not both")
        exposure = number(k, "exposure_stops", "key", i, lo=-6.0, hi=6.0, default=0.0)
        fov = None
        if cam in FOV_MODES:
            lo = CABIN_FOV_MIN_DEG if cam == "cabin" else FOV_RANGE_DEG[0]
            fov = number(k, "fov_deg", "key", i, lo=lo, hi=FOV_RANGE_DEG[1], default=DEFAULT_FOV_DEG[cam])
        if cam == "orbit":
            yaw = number(k, "yaw_deg", "key", i, required=True)
            pitch = number(k, "pitch_deg", "key", i, lo=-PITCH_LIMIT_DEG, hi=PITCH_LIMIT_DEG, required=True)
            dist = number(k, "distance_m", "key", i, lo=ORBIT_MIN_M, hi=ORBIT_MAX_M, required=True)
            values = (yaw, pitch, math.log(dist), fov, exposure)
        elif cam in ("free", "cabin"):
            pos_key = "position_m" if cam == "free" else "eye_m"
            if pos_key not in k:
                fail(head, f"[[key]] #{i + 1} lacks {pos_key} (the {cam} camera's place); add it")
            pos = vector(k, pos_key, "key", i)
            if cam == "cabin":
                inside = default_cabin_constraint(np.array(pos))
                if float(np.max(np.abs(inside - np.array(pos)))) > 1e-9:
                    fail(_line_of(text, "key", i, pos_key), f"eye_m = {pos} is outside the cabins (the stack's model frame: "
                         "within 0.55 m of the axis, y from -1.6 m to 5.2 m)")
            has_at = "look_at_m" in k
            has_angles = "look_yaw_deg" in k or "look_pitch_deg" in k
            if has_at == has_angles:
                fail(_line_of(text, "key", i, "look_at_m" if has_at else None),
                     f"give the {cam} camera's look as look_at_m = [x, y, z] or as look_yaw_deg and look_pitch_deg (one of the two)")
            if has_at:
                target = vector(k, "look_at_m", "key", i)
                d = np.array(target) - np.array(pos)
                if float(np.linalg.norm(d)) < 1e-6:
                    fail(_line_of(text, "key", i, "look_at_m"), "look_at_m is where the camera stands; look somewhere else")
                d = d / np.linalg.norm(d)
                if cam == "free":   # body axes: yaw from x toward y, pitch up z
                    yaw, pitch = math.degrees(math.atan2(d[1], d[0])), math.degrees(math.asin(d[2]))
                else:               # model frame: yaw about +Z from +Y (toward -X), pitch up +Z
                    yaw, pitch = math.degrees(math.atan2(-d[0], d[1])), math.degrees(math.asin(d[2]))
                if abs(pitch) > PITCH_LIMIT_DEG:
                    fail(_line_of(text, "key", i, "look_at_m"), f"look_at_m looks {pitch:.0f} deg up or down; the cameras "
                                                               f"turn at most {PITCH_LIMIT_DEG:g} deg")
            else:
                yaw = number(k, "look_yaw_deg", "key", i, required=True)
                pitch = number(k, "look_pitch_deg", "key", i, lo=-PITCH_LIMIT_DEG, hi=PITCH_LIMIT_DEG, required=True)
            values = (*pos, yaw, pitch, fov, exposure)
        elif cam == "chase":
            values = (fov, exposure)
        else:
            values = (exposure,)
        keys.append(Key(at, t, cam, tuple(values), rate, duration, _line_of(text, "key", i, "at") or head))

    if len(keys) < 2:
        fail(keys[0].line, "a tour needs at least two [[key]] (where it starts and where it ends)")
    for i, (a, b) in enumerate(zip(keys, keys[1:])):
        if b.t_s < a.t_s:
            fail(b.line, f"key at {b.at!r} comes before the previous key ({a.at!r}); keys go forward in story time")
        if b.t_s > a.t_s and a.rate is None and a.duration_s is None:
            fail(a.line, f"give rate (story seconds per video second) or duration_s for the segment from {a.at!r} to {b.at!r}")
        if b.t_s == a.t_s and b.camera == a.camera and a.duration_s is None:
            fail(a.line, f"two {a.camera} keys at the same time {a.at!r}: give duration_s (a hold) on the first, "
                         "or use different cameras (a cut)")
        if b.t_s == a.t_s and b.camera != a.camera and a.rate is not None:
            fail(a.line, "rate has no meaning for a cut (the next key is at the same time); remove it")
    last = keys[-1]
    if last.rate is not None or last.duration_s is not None:
        fail(last.line, "the last key ends the tour: remove its rate / duration_s")

    captions = []
    for i, c in enumerate(raw.get("caption", [])):
        head = _line_of(text, "caption", i, None)
        if not isinstance(c, dict):
            fail(head, "each [[caption]] must be a table")
        check_keys(c, _CAPTION_KEYS, "caption", i, "[[caption]]")
        cap_text = string(c, "text", "caption", i, required=True)
        source = string(c, "source", "caption", i, required=True)
        string(c, "note", "caption", i)
        f_at, f = story_time(c, "from", "caption", i)
        t_at, t = story_time(c, "to", "caption", i)
        if t <= f:
            fail(_line_of(text, "caption", i, "to"), f"caption ends ({t_at!r}) before it starts ({f_at!r})")
        if f < keys[0].t_s - 1e-6 or t > keys[-1].t_s + 1e-6:
            fail(_line_of(text, "caption", i, "from"), f"caption {f_at!r} .. {t_at!r} is outside the tour "
                 f"({keys[0].at!r} .. {keys[-1].at!r})")
        captions.append(Caption(cap_text, f, t, source, _line_of(text, "caption", i, "text") or head))
    captions.sort(key=lambda c: c.from_s)
    for a, b in zip(captions, captions[1:]):
        if b.from_s < a.to_s - 1e-9:
            fail(b.line, f"this caption starts before the one at line {a.line} ends; captions must not overlap")

    return Tour(path.stem, path, title, description, tuple(keys), tuple(captions), attract,
                fades["fade_in_s"], fades["fade_out_s"], fades["cut_fade_s"])


# ----------------------------------------------------------------------------------------------
def _camera_state(mode: str, v) -> CameraState:
    v = [float(x) for x in v]
    if mode == "orbit":
        return CameraState(mode, fov_deg=v[3], exposure_stops=v[4], orbit_yaw_deg=(v[0] + 180.0) % 360.0 - 180.0,
                           orbit_pitch_deg=v[1], orbit_distance_m=math.exp(v[2]))
    if mode in ("free", "cabin"):
        return CameraState(mode, fov_deg=v[5], exposure_stops=v[6], position_m=(v[0], v[1], v[2]),
                           look_yaw_deg=(v[3] + 180.0) % 360.0 - 180.0, look_pitch_deg=v[4])
    if mode == "chase":
        return CameraState(mode, fov_deg=v[0], exposure_stops=v[1])
    return CameraState(mode, exposure_stops=v[0])


def _monotone_tangents(t: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Fritsch-Carlson tangents for a monotone cubic Hermite curve through (t, y); zero at both
    ends (the camera eases in and out of a run) and where the curve turns."""
    n = len(t)
    m = np.zeros(n)
    if n < 3:
        return m
    h = np.diff(t)
    delta = np.diff(y) / h
    for i in range(1, n - 1):
        d0, d1 = delta[i - 1], delta[i]
        if d0 * d1 <= 0.0:
            continue
        w0, w1 = 2.0 * h[i] + h[i - 1], h[i] + 2.0 * h[i - 1]
        m[i] = (w0 + w1) / (w0 / d0 + w1 / d1)   # weighted harmonic mean: never overshoots
    return m


def _hermite(t0, t1, y0, y1, m0, m1, t):
    h = t1 - t0
    s = (t - t0) / h
    s2, s3 = s * s, s * s * s
    return ((2 * s3 - 3 * s2 + 1) * y0 + (s3 - 2 * s2 + s) * h * m0
            + (-2 * s3 + 3 * s2) * y1 + (s3 - s2) * h * m1)


def _smoothstep(x: float) -> float:
    return x * x * (3.0 - 2.0 * x)


def _parse_offset(text: str) -> float | None:
    """'90', '90s', '2m30s', '1h5m', '9m09.5s' -> seconds; None if unreadable."""
    s = text.replace(" ", "")
    m = re.fullmatch(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s?)?", s)
    if not s or not m or not any(m.groups()):
        return None
    h, mi, se = (float(g) if g else 0.0 for g in m.groups())
    return h * 3600.0 + mi * 60.0 + se


def _line_of(text: str, table: str | None, index: int | None, key: str | None) -> int | None:
    """The line (1-based) of ``key`` in table ``[table]`` (``index`` None) or in the
    ``index``-th ``[[table]]``; of the table's header when ``key`` is None or not found; of a
    top-level ``key`` when ``table`` is None. None when nothing matches."""
    current, count, header = None, {}, None
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        m = re.match(r"^\[\[\s*([^\]]+?)\s*\]\]", line)
        if m:
            name = m.group(1)
            count[name] = count.get(name, -1) + 1
            current = (name, count[name])
            if table == name and index == count[name]:
                header = n
            continue
        m = re.match(r"^\[\s*([^\]]+?)\s*\]", line)
        if m:
            current = (m.group(1), None)
            if table == m.group(1) and index is None:
                header = n
            continue
        if key is not None and re.match(rf'^"?{re.escape(key)}"?\s*=', line):
            if (table is None and current is None) or current == (table, index):
                return n
    return header


def _rel(path: Path) -> str:
    """The path as a person would type it: relative to the project where it lies inside."""
    try:
        return str(Path(path).resolve().relative_to(data.data_dir().resolve().parent))
    except ValueError:
        return str(path)
