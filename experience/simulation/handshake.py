"""The crews' pose as a function of story time: the hatch opening and the handshake, 19:17-19:19 UTC
on 17 July 1975 (issue #10; key moments in data/mission/handshake.toml, the arrangements they name
in data/mission/crew_figures.toml).

:func:`crew_pose` answers, for one instant, which two arrangements of the pose table the crews are
between (``a`` and ``b``), how far along (``weight``, 0 = all ``a``, 1 = all ``b``, eased in and out
so that motion starts and stops gently, and never goes back), and how far the DM-Soyuz hatches stand
open (``hatch_deg``). The snapshot carries it (``Snapshot.crew``); the scene blends the two
arrangements' joint rotations and placements by the weight and swings the hatches, and computes
nothing about the story itself.

Outside the keys: before the first key its arrangement holds (``hatch_closed``); after the last
(19:19:50: Leonov has drawn Stafford into the orbital module, both at its far side, the keys after
the handshake being this project's estimates) that arrangement holds until the first undocking,
then ``hatch_closed`` (the hatches closed for undocking; the later transfers are not modelled).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import functools

from experience.errors import DataFileError
from experience.mission import data

DATA_FILE = "mission/handshake.toml"
OPEN_DEG = 95.0


@dataclasses.dataclass(frozen=True)
class CrewPose:
    """Where the crews are in the pose table at one instant (the scene applies it)."""
    a: str              # arrangement blended from
    b: str              # arrangement blended to
    weight: float       # 0..1, eased
    hatch_deg: float    # the DM-Soyuz hatches' swing, 0 closed .. 95 open
    key: int            # index of the key at or before this instant (-1: before the first)

    @property
    def arrangement(self) -> str:
        """The nearer of the two (what a static view would show)."""
        return self.b if self.weight >= 0.5 else self.a

    @property
    def moving(self) -> bool:
        return self.a != self.b and 0.0 < self.weight < 1.0

    @property
    def hatches_open(self) -> bool:
        return self.hatch_deg > 0.0


@functools.cache
def keys() -> tuple[tuple[float, str, float], ...]:
    """((seconds from the event, arrangement, hatch degrees), ...) in time order, checked."""
    t = data.load_toml(DATA_FILE)
    out = tuple((float(k["at_s"]), str(k["arrangement"]), float(k["hatch_deg"])) for k in t["key"])
    times = [k[0] for k in out]
    if times != sorted(times) or len(set(times)) != len(times):
        raise DataFileError(f"data/{DATA_FILE}: the keys' at_s must increase strictly; reorder them")
    figures = data.load_toml("mission/crew_figures.toml").get("arrangement", {})
    for _t, name, _h in out:
        if name not in figures:
            raise DataFileError(f"data/{DATA_FILE}: arrangement {name!r} is not in data/mission/crew_figures.toml; add it there")
    if not any(t == 0.0 and name == "handshake" and h == OPEN_DEG for t, name, h in out):
        raise DataFileError(f"data/{DATA_FILE}: a key at_s = 0 must be the handshake with the hatches open ({OPEN_DEG:g} deg)")
    if any(h != OPEN_DEG for t, _n, h in out if t >= 0.0):
        raise DataFileError(f"data/{DATA_FILE}: from the handshake on, the hatches stand open ({OPEN_DEG:g} deg)")
    return out


@functools.cache
def _event_times() -> tuple[_dt.datetime, _dt.datetime | None]:
    t = data.load_toml(DATA_FILE)
    opened = data.event(str(t.get("event", "handshake"))).utc
    try:
        closed = data.event("undocking_1").utc
    except KeyError:
        closed = None
    return opened, closed


def ease(x: float) -> float:
    """Smoothstep 0..1: starts and stops with zero speed, monotone."""
    x = min(max(x, 0.0), 1.0)
    return x * x * (3.0 - 2.0 * x)


def pose_at_offset(dt_s: float) -> CrewPose:
    """The pose ``dt_s`` seconds from the handshake event (no undocking cut-off)."""
    ks = keys()
    if dt_s <= ks[0][0]:
        return CrewPose(ks[0][1], ks[0][1], 0.0, ks[0][2], -1 if dt_s < ks[0][0] else 0)
    for i in range(len(ks) - 1):
        (t0, a0, h0), (t1, a1, h1) = ks[i], ks[i + 1]
        if t0 <= dt_s < t1:
            w = ease((dt_s - t0) / (t1 - t0))
            return CrewPose(a0, a1, w, h0 + (h1 - h0) * w, i)
    last = ks[-1]
    return CrewPose(last[1], last[1], 1.0, last[2], len(ks) - 1)


def event_utc() -> _dt.datetime:
    """The handshake event's UTC (19:19:00 on 17 July 1975, timeline.toml)."""
    return _event_times()[0]


def crew_pose(utc: _dt.datetime) -> CrewPose:
    """The crews' pose at a story instant (UTC), for the docked stack."""
    opened, closed = _event_times()
    if closed is not None and utc >= closed:
        return CrewPose("hatch_closed", "hatch_closed", 0.0, 0.0, -1)
    return pose_at_offset((utc - opened).total_seconds())


def settled_s() -> float:
    """Seconds from the handshake at which the crews' motion ends (the last key)."""
    return keys()[-1][0]


def span_s() -> tuple[float, float]:
    """The seconds from the event over which the crews move (first and last key)."""
    ks = keys()
    return ks[0][0], ks[-1][0]
