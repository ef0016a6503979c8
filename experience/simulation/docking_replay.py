"""The docking of 17 July 1975 as the scene sees it: the simulated contact dynamics, replayed.

``astp dock`` (experience/simulation/docking.py, kernels/docking.py) simulates Apollo's approach
from 30 m to hard dock and records, at 50 Hz, the pose of Apollo's docking port relative to
Soyuz's and the pose of Apollo's APAS-75 guide ring relative to its port. Between the first and
the last record (16:06:05 to 16:11:49 UTC), :func:`experience.simulation.snapshot.snapshot`
places Soyuz relative to Apollo from this record instead of from the orbit reconstruction, and
hands the ring's pose to the scene (:class:`DockingPose`); outside it, nothing changes.

The records come from generated/docking-replay.npz in the repository (tools/build_generated.py)
when its key (the docking data, the kernels and this code) matches; otherwise from the user cache
of `astp dock`'s run, simulated on first use (about a minute on one CPU core). experience/cache.py
verifies either on every load.

Frames. The docking model's port frames (kernels/docking.py) have +z out of each port along the
docking axis. In the snapshot's body axes (x along-track, y orbit normal, z radial up; Soyuz
leads, Apollo trails with its docking port forward, Apollo's hatch side toward the Earth) they
are:

    Apollo port:  x -> +y_body,  y -> +z_body,  z -> +x_body (forward, toward Soyuz)
    Soyuz port:   x -> -y_body,  y -> +z_body,  z -> -x_body (backward, toward Apollo)

so that docked (port rotation = diag(-1, 1, -1), no offset) Soyuz's body axes equal Apollo's.
Apollo's vehicle position is its CM docking-ring face; its APAS-75 interface lies the Docking
Module's length ahead of it (vehicles.toml), and Soyuz's position is its APAS-75 interface.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import functools

import numpy as np

from experience.errors import AstpError, DataFileError

# Columns: the port's x, y, z written in the vehicle's body axes.
APOLLO_PORT_TO_BODY = np.array([[0.0, 0.0, 1.0],
                                [1.0, 0.0, 0.0],
                                [0.0, 1.0, 0.0]])
SOYUZ_PORT_TO_BODY = np.array([[0.0, 0.0, -1.0],
                               [-1.0, 0.0, 0.0],
                               [0.0, 1.0, 0.0]])


@dataclasses.dataclass(frozen=True)
class DockingPose:
    """One instant of the docking, for the scene (host float64 arrays, metres)."""

    phase: str                     # approach / contact / captured / retraction / alignment / hooks / hard_dock
    soyuz_rot_in_apollo: np.ndarray   # (3, 3) Soyuz body axes written in Apollo body axes
    soyuz_offset_m: np.ndarray     # (3,) Soyuz position (its APAS interface) from Apollo's, Apollo body axes
    ring_offset_m: np.ndarray      # (3,) Apollo's guide ring face from its retracted place, Apollo port axes
    ring_rot: np.ndarray           # (3, 3) guide ring axes in Apollo port axes
    contact_force_n: float
    stroke_m: float


def _nlerp_rot(a: np.ndarray, b: np.ndarray, w: float) -> np.ndarray:
    """Blend two nearby rotation matrices and re-orthonormalise (records are 20 ms apart)."""
    m = (1.0 - w) * a + w * b
    u, _, vt = np.linalg.svd(m)
    r = u @ vt
    if np.linalg.det(r) < 0.0:
        u[:, -1] *= -1.0
        r = u @ vt
    return r


@dataclasses.dataclass(frozen=True)
class DockingReplay:
    """The recorded docking on the mission clock (elapsed seconds)."""

    t_s: np.ndarray            # (n,) mission elapsed seconds of the records
    phase: np.ndarray          # (n,) phase codes
    phase_names: tuple[str, ...]
    port_offset_m: np.ndarray  # (n, 3) Apollo port from Soyuz port, Soyuz port axes
    port_rot: np.ndarray       # (n, 3, 3) Apollo port axes in Soyuz port axes
    ring_offset_m: np.ndarray  # (n, 3)
    ring_rot: np.ndarray       # (n, 3, 3)
    contact_force_n: np.ndarray
    stroke_m: np.ndarray
    dm_length_m: float
    info: dict = dataclasses.field(default_factory=dict, compare=False)  # capture_utc, hard_dock_utc, phase_utc

    @property
    def span_s(self) -> tuple[float, float]:
        return float(self.t_s[0]), float(self.t_s[-1])

    def covers(self, t_s: float) -> bool:
        t0, t1 = self.span_s
        return t0 <= t_s <= t1

    def at(self, t_s: float) -> DockingPose:
        """The pose at ``t_s`` (linear between records; rotations blended and re-orthonormalised)."""
        if not self.covers(t_s):
            t0, t1 = self.span_s
            raise AstpError(f"the docking replay covers mission seconds {t0:.1f}-{t1:.1f}, not {t_s:.1f}")
        i = int(np.clip(np.searchsorted(self.t_s, t_s, side="right") - 1, 0, len(self.t_s) - 2))
        dt = self.t_s[i + 1] - self.t_s[i]
        w = float(np.clip((t_s - self.t_s[i]) / dt, 0.0, 1.0)) if dt > 0 else 0.0

        def lerp(a):
            return (1.0 - w) * a[i] + w * a[i + 1]

        port_rot = _nlerp_rot(self.port_rot[i], self.port_rot[i + 1], w)
        offset = lerp(self.port_offset_m)
        a, s = APOLLO_PORT_TO_BODY, SOYUZ_PORT_TO_BODY
        # Soyuz port axes in Apollo port axes: port_rot^T; a Soyuz-body vector v -> Soyuz port
        # s^T v -> Apollo port port_rot^T (.) -> Apollo body a (.)
        rot = a @ port_rot.T @ s.T
        interface = np.array([self.dm_length_m, 0.0, 0.0])  # Apollo's APAS interface, Apollo body
        soyuz_offset = interface - a @ (port_rot.T @ offset)
        code = int(self.phase[i + 1] if w > 0.5 else self.phase[i])
        return DockingPose(
            phase=self.phase_names[code], soyuz_rot_in_apollo=rot, soyuz_offset_m=soyuz_offset,
            ring_offset_m=lerp(self.ring_offset_m), ring_rot=_nlerp_rot(self.ring_rot[i], self.ring_rot[i + 1], w),
            contact_force_n=float(lerp(self.contact_force_n)), stroke_m=float(lerp(self.stroke_m)),
        )


REPLAY_VERSION = 1
REPLAY_FLOAT32 = ("port_offset_m", "port_rot", "ring_offset_m", "ring_rot", "contact_force_n", "stroke_m")


def replay_arrays_from_run(run) -> dict[str, np.ndarray]:
    """What the scene replays of a :class:`experience.simulation.docking.DockingRun`: record times
    from capture (float64), phase codes, and the poses, force and stroke in float32 (micrometres
    and 1e-7 rad at these sizes; a quarter of the file). The phase times go along as JSON."""
    from experience import cache

    s = run.series
    if not run.result.get("capture_utc"):
        raise AstpError("the simulated docking did not capture; run 'astp dock' to see why")
    info = {k: run.result.get(k) for k in ("capture_utc", "hard_dock_utc", "contact_utc", "phase_utc",
                                           "record_rate_hz")}
    out = {"utc_s_from_capture": np.asarray(s["utc_s_from_capture"], dtype=np.float64),
           "phase": np.asarray(s["phase"], dtype=np.float64),
           "info": cache.json_array(info)}
    for key in REPLAY_FLOAT32:
        out[key] = np.asarray(s[key], dtype=np.float32)
    return out


def _check_replay_arrays(arrays) -> None:
    from experience import cache
    from experience.mission.clock import parse_utc
    from experience.simulation.docking import check_series

    for key in REPLAY_FLOAT32:
        cache.require(arrays, key, np.float32)
    cache.require(arrays, "utc_s_from_capture", np.float64, (None,))
    n = check_series(arrays, rot_tol=1e-5)
    info = cache.from_json_array(cache.require(arrays, "info", np.uint8, (None,)))
    if not isinstance(info, dict) or not isinstance(info.get("capture_utc"), str):
        raise cache.Invalid("has no capture time")
    try:
        parse_utc(info["capture_utc"], what="capture time")
    except AstpError:
        raise cache.Invalid("has an unreadable capture time") from None
    t = arrays["utc_s_from_capture"]
    rate = info.get("record_rate_hz")
    if not isinstance(rate, (int, float)) or not np.allclose(np.diff(t[:-1]), 1.0 / rate, atol=1e-6):
        raise cache.Invalid("has records that are not at the recording rate")
    if not (t[0] < 0.0 < t[-1]) or n < 100:
        raise cache.Invalid("does not span the capture")
    extra = set(arrays) - set(REPLAY_FLOAT32) - {"utc_s_from_capture", "phase", "info"}
    if extra:
        raise cache.Invalid(f"has unexpected fields ({', '.join(sorted(extra)[:3])})")


def replay_entry():
    """The replay's cache entry (generated/docking-replay.npz; keyed like the historical run plus
    this file)."""
    from pathlib import Path

    from experience import cache
    from experience.simulation import docking as sd

    return cache.Entry("docking-replay", "docking replay", sd.run_sources() + (Path(__file__),),
                       params=(REPLAY_VERSION, sd.RUN_CACHE_VERSION), check=_check_replay_arrays, generated=True)


def replay_from_arrays(arrays, clock) -> DockingReplay:
    """A :class:`DockingReplay` on ``clock`` from the replay's arrays (see :func:`replay_arrays_from_run`)."""
    from experience import cache
    from experience.mission import data
    from experience.mission.clock import parse_utc
    from kernels import docking as dk

    info = cache.from_json_array(arrays["info"])
    t_capture = clock.t_s(parse_utc(info["capture_utc"], what="capture time"))
    try:
        dm_length = float(data.vehicles()["docking_module"]["length_m"])
    except (KeyError, TypeError, ValueError):
        raise DataFileError("data/mission/vehicles.toml lacks [docking_module] length_m; add it") from None

    def f64(key):
        return np.asarray(arrays[key], dtype=np.float64)

    return DockingReplay(
        t_s=t_capture + f64("utc_s_from_capture"),
        phase=np.asarray(arrays["phase"]).astype(np.int64), phase_names=tuple(dk.PHASES),
        port_offset_m=f64("port_offset_m"), port_rot=f64("port_rot"),
        ring_offset_m=f64("ring_offset_m"), ring_rot=f64("ring_rot"),
        contact_force_n=f64("contact_force_n"), stroke_m=f64("stroke_m"),
        dm_length_m=dm_length, info=info,
    )


def replay_from_run(run, clock) -> DockingReplay:
    """A :class:`DockingReplay` from a :class:`experience.simulation.docking.DockingRun` on ``clock``."""
    return replay_from_arrays(replay_arrays_from_run(run), clock)


def build_replay_arrays(notice=None) -> dict[str, np.ndarray]:
    """Simulate the historical docking (or take the run from the user cache) and keep what the
    scene replays."""
    import sys

    from experience.simulation import docking as sd

    say = notice or (lambda msg: print(msg, file=sys.stderr))
    announced = []

    def progress(frac, what):
        if what != "cached" and not announced:
            announced.append(True)
            say("astp: simulating the docking of 16:09 UTC for the scene (once; about a minute)")

    run, _ = sd.historical_docking_cached(progress=progress, notice=notice)
    return replay_arrays_from_run(run)


def approximate_span_utc() -> tuple[_dt.datetime, _dt.datetime]:
    """The replay's window without simulating anything: from the docking data's start distance
    and closing speed before capture (generously) to two and a half minutes after it (hard dock
    came at 16:11:49). Used to decide whether a snapshot needs the replay at all."""
    from experience.mission import data

    capture = data.event("docking_1").utc
    return capture - _dt.timedelta(minutes=5), capture + _dt.timedelta(minutes=4)


@functools.lru_cache(maxsize=2)
def historical_replay(clock) -> DockingReplay:
    """The historical docking on ``clock``: from generated/docking-replay.npz when it matches the
    code and data, else simulated once per machine (user cache), and once per process (here)."""
    from experience import cache

    got = cache.load(replay_entry(), build_replay_arrays)
    return replay_from_arrays(got.arrays, clock)
