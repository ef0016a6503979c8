"""Story-time playback: where the story is (mission elapsed seconds) and how fast it moves.

:class:`Playback` is the one thing every interactive front end (desktop viewer, VR, kiosk, the
recorded tours) advances once per frame: ``advance(dt_wall_s)`` moves the story by
``rate x dt_wall_s`` (negative rates play backwards), paused or not, clamped to the story span.
It holds no clock of its own: times are mission elapsed seconds ``t_s`` of the one
:class:`~experience.mission.clock.MissionClock`, UTC only at the edges (:meth:`utc`).

Rates step through :data:`WARP_STEPS` (1x .. 10,000x); :meth:`jump` goes to any timeline event
(data/mission/timeline.toml) or story preset (data/mission/presets.toml: launch, insertion,
rendezvous, docking, hatch opening, handshake, ...); :meth:`scrub` moves by a fraction of the
story or by seconds. Everything here is plain Python: the scripted tests and the soak drive it
with no window.
"""

from __future__ import annotations

import dataclasses
import functools

from experience.errors import AstpError
from experience.mission import data
from experience.mission.clock import MissionClock

WARP_STEPS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 100.0, 300.0, 1000.0, 3000.0, 10000.0)
MARGIN_S = 600.0  # the story starts 10 min before the Soyuz launch and ends 10 min after splashdown


@dataclasses.dataclass(frozen=True)
class Preset:
    """A "now in the story" moment: an event, or a moment relative to one."""

    id: str
    label: str          # English (msgid); front ends translate it
    event: str          # timeline event id
    offset_s: float     # from the event's time
    t_s: float          # mission elapsed seconds
    key: str            # the keyboard key that jumps there


@functools.cache
def presets(clock: MissionClock | None = None) -> tuple[Preset, ...]:
    """The story presets of data/mission/presets.toml (validated by its schema in
    experience/mission/schemas.py), in story order."""
    clock = clock or MissionClock.from_data()
    doc = data.load_document("mission/presets.toml")
    ids = {ev.id for ev in data.timeline()}
    out = []
    for i, item in enumerate(doc.data["preset"]):
        if item["event"] not in ids:
            raise doc.error(("preset", i, "event"), f"event {item['event']!r} is not in data/mission/timeline.toml; "
                                                   "use one of its event ids")
        offset = float(item.get("offset_s", 0.0))
        out.append(Preset(id=item["id"], label=item["label"], event=item["event"], offset_s=offset,
                          t_s=clock.t_s(data.event(item["event"]).utc) + offset, key=str(item.get("key", ""))))
    return tuple(sorted(out, key=lambda p: p.t_s))


@dataclasses.dataclass
class Playback:
    """Story time and its rate. ``rate`` is story seconds per wall second (sign = direction)."""

    clock: MissionClock
    t_s: float
    rate: float = 1.0
    paused: bool = False
    start_s: float = 0.0
    end_s: float = 0.0

    @classmethod
    def at_event(cls, event_id: str = "handshake", clock: MissionClock | None = None, **kw) -> "Playback":
        clock = clock or MissionClock.from_data()
        start, end = story_span(clock)
        return cls(clock=clock, t_s=clock.t_s(data.event(event_id).utc), start_s=start, end_s=end, **kw)

    # -- the frame step --------------------------------------------------------------------------
    def advance(self, dt_wall_s: float) -> float:
        """Move the story by one frame of ``dt_wall_s`` wall seconds; returns the new ``t_s``.
        At either end of the story it stops there and pauses."""
        if not self.paused and dt_wall_s > 0.0:
            self.t_s += self.rate * dt_wall_s
            if self.t_s <= self.start_s or self.t_s >= self.end_s:
                self.t_s = min(max(self.t_s, self.start_s), self.end_s)
                self.paused = True
        return self.t_s

    # -- controls --------------------------------------------------------------------------------
    def toggle_pause(self) -> None:
        self.paused = not self.paused

    def reverse(self) -> None:
        self.rate = -self.rate
        self.paused = False

    def faster(self) -> None:
        self._step_warp(+1)

    def slower(self) -> None:
        self._step_warp(-1)

    def set_warp(self, warp: float) -> None:
        if abs(warp) not in WARP_STEPS:
            raise AstpError(f"time warp {warp:g}x is not offered; choose one of "
                            f"{', '.join(f'{w:g}' for w in WARP_STEPS)}")
        self.rate = float(warp)

    @property
    def warp(self) -> float:
        return abs(self.rate)

    def _step_warp(self, direction: int) -> None:
        sign = -1.0 if self.rate < 0 else 1.0
        current = min(range(len(WARP_STEPS)), key=lambda k: abs(WARP_STEPS[k] - abs(self.rate)))
        k = min(max(current + direction, 0), len(WARP_STEPS) - 1)
        self.rate = sign * WARP_STEPS[k]

    def seek(self, t_s: float) -> None:
        """Go to a story time (clamped to the story)."""
        self.t_s = min(max(float(t_s), self.start_s), self.end_s)

    def scrub(self, *, seconds: float = 0.0, fraction: float = 0.0) -> None:
        """Move by ``seconds`` of story time, or by a ``fraction`` of the whole story."""
        self.seek(self.t_s + seconds + fraction * (self.end_s - self.start_s))

    def seek_fraction(self, fraction: float) -> None:
        """Go to a place on the timeline bar (0 = story start, 1 = end)."""
        self.seek(self.start_s + min(max(fraction, 0.0), 1.0) * (self.end_s - self.start_s))

    @property
    def fraction(self) -> float:
        return (self.t_s - self.start_s) / (self.end_s - self.start_s)

    def jump(self, target: str) -> float:
        """Go to a timeline event id or a preset id; returns the new ``t_s``."""
        for p in presets(self.clock):
            if p.id == target:
                self.seek(p.t_s)
                return self.t_s
        try:
            ev = data.event(target)
        except Exception:
            known = [p.id for p in presets(self.clock)] + [e.id for e in data.timeline()]
            raise AstpError(f"unknown story moment {target!r}; choose one of: {', '.join(known)}") from None
        self.seek(self.clock.t_s(ev.utc))
        return self.t_s

    def next_event(self, direction: int = +1) -> str | None:
        """Jump to the next (or previous) timeline event; returns its id."""
        times = [(self.clock.t_s(ev.utc), ev.id) for ev in data.timeline()]
        if direction > 0:
            ahead = [(t, i) for t, i in times if t > self.t_s + 0.5]
            pick = min(ahead) if ahead else None
        else:
            behind = [(t, i) for t, i in times if t < self.t_s - 0.5]
            pick = max(behind) if behind else None
        if pick is None:
            return None
        self.seek(pick[0])
        return pick[1]

    def utc(self):
        return self.clock.utc(self.t_s)


def story_span(clock: MissionClock) -> tuple[float, float]:
    """(start, end) of the story in mission seconds: the Soyuz launch to the splashdown, with
    :data:`MARGIN_S` either side."""
    evs = data.timeline()
    return (clock.t_s(evs[0].utc) - MARGIN_S, clock.t_s(evs[-1].utc) + MARGIN_S)


def timeline_marks(clock: MissionClock) -> list[tuple[float, str, str]]:
    """(fraction along the story, event id, English name) for every timeline event (the bar)."""
    start, end = story_span(clock)
    return [((clock.t_s(ev.utc) - start) / (end - start), ev.id, ev.name) for ev in data.timeline()]
