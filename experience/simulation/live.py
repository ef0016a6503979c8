"""Snapshots at frame rate: the same :class:`~experience.simulation.snapshot.Snapshot` as
:func:`~experience.simulation.snapshot.snapshot`, for an interactive loop that asks 60 times a
second.

:func:`snapshot` evaluates the full Sun, Moon, nutation and region models for every call (about
5 ms). What a frame needs changes slowly or smoothly, so :class:`LiveSimulation` computes the slow
quantities (the Sun's apparent direction and distance, the Moon's position and phase, the star
frame, Greenwich apparent sidereal time) with the same kernels on a grid of :data:`NODE_S`
seconds, one block of :data:`BLOCK_NODES` nodes at a time (one batched kernel call), and
interpolates between nodes; the spacecraft come from the trajectory tables exactly as in
:func:`snapshot`, with their sub-point, sunlight and region computed per frame on one point.

Accuracy against :func:`snapshot` (tests/test_app_loop.py checks it at random times): the Sun's
direction to 1e-9 rad, GAST to 1e-10 rad, the Moon to metres, the vehicles identical (same
tables), regions identical (looked up on the same sub-point, cached per 0.05 deg cell).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from experience.backend import to_host
from experience.mission.clock import datetime_of_utc_s, utc_s_of_tt_s
from experience.simulation import regions
from experience.simulation.docking_replay import approximate_span_utc
from experience.simulation.ephemeris import Ephemeris
from experience.simulation.snapshot import Snapshot, VehicleState, _docking_states, _in_docking_replay
from kernels import earth, eclipse, point, sun_moon

NODE_S = 60.0
BLOCK_NODES = 64
REGION_CELL_DEG = 0.05
VEHICLES = ("soyuz", "apollo")


@dataclasses.dataclass
class _Block:
    t0_s: float
    sun_unit: np.ndarray   # (n, 3)
    sun_dist_km: np.ndarray
    moon_km: np.ndarray     # (n, 3)
    moon_illum: np.ndarray
    j2000: np.ndarray       # (n, 3, 3)
    gast_unwrapped: np.ndarray
    tt_minus_utc_s: float | None   # TT-UTC over the whole block, None if a leap second falls inside
    sunlit: dict                    # vehicle -> sunlit fraction at the nodes (NaN where not flying)


class LiveSimulation:
    """Frame-rate snapshots over one :class:`Ephemeris` (host NumPy)."""

    def __init__(self, eph: Ephemeris):
        self.eph = eph
        self.clock = eph.clock
        self._blocks: dict[int, _Block] = {}
        self._regions: dict[tuple[int, int], str] = {}
        self._spans = {v: eph.traj.span(v) for v in VEHICLES}
        lo, hi = approximate_span_utc()
        self._docking_s = (self.clock.t_s(lo), self.clock.t_s(hi))

    # -- slow quantities ---------------------------------------------------------------------
    def _block(self, k: int) -> _Block:
        b = self._blocks.get(k)
        if b is not None:
            return b
        if len(self._blocks) > 64:  # a long scrub: keep the memory bounded
            self._blocks.clear()
        t0 = k * (BLOCK_NODES - 1) * NODE_S
        t = t0 + np.arange(BLOCK_NODES, dtype=np.float64) * NODE_S
        tt = self.clock.tt_s(t)
        _, _, dist, unit = (to_host(a) for a in sun_moon.sun_apparent(tt))
        moon = to_host(sun_moon.moon_pos_tod_km(tt))
        illum = to_host(sun_moon.moon_illuminated_fraction(tt))
        j2000 = to_host(earth.j2000_to_tod_matrix(tt))
        gast = np.unwrap(to_host(earth.gast_rad(self.clock.ut1_s(t), tt)))
        steps = tt - utc_s_of_tt_s(tt)
        offset = float(steps[0]) if steps[0] == steps[-1] else None
        sun_pos = np.asarray(unit) * np.asarray(dist)[:, None]
        lit = {}
        for name in VEHICLES:
            a, z = self._spans[name]
            inside = (t >= a) & (t <= z)
            frac = np.full(t.shape, np.nan)
            if inside.any():
                pos, _ = self.eph.traj.state(name, t[inside])
                frac[inside] = to_host(eclipse.sunlit_fraction(pos, sun_pos[inside]))
            lit[name] = frac
        b = _Block(t0, np.asarray(unit), np.asarray(dist), np.asarray(moon), np.asarray(illum),
                   np.asarray(j2000), gast, offset, lit)
        self._blocks[k] = b
        return b

    def _slow(self, t_s: float):
        k = int(math.floor(t_s / ((BLOCK_NODES - 1) * NODE_S)))
        b = self._block(k)
        x = (t_s - b.t0_s) / NODE_S
        i = min(max(int(math.floor(x)), 0), BLOCK_NODES - 2)
        w = x - i
        self._node = (b, i)

        def lerp(a):
            return a[i] + w * (a[i + 1] - a[i])

        sun = lerp(b.sun_unit)
        sun = sun / math.sqrt(float(sun @ sun))
        gast = float(lerp(b.gast_unwrapped)) % (2.0 * math.pi)
        return sun, float(lerp(b.sun_dist_km)), lerp(b.moon_km), float(lerp(b.moon_illum)), lerp(b.j2000), gast

    # -- the vehicles --------------------------------------------------------------------------
    def _region(self, lat_deg: float, lon_deg: float) -> str:
        key = (int(math.floor(lat_deg / REGION_CELL_DEG)), int(math.floor(lon_deg / REGION_CELL_DEG)))
        name = self._regions.get(key)
        if name is None:
            if len(self._regions) > 20000:
                self._regions.clear()
            name = regions.region_names(np.asarray([lat_deg]), np.asarray([lon_deg]))[0]
            self._regions[key] = name
        return name

    def _vehicles(self, t_s: float, sun_pos_km: np.ndarray, gast: float) -> dict[str, VehicleState]:
        """Every vehicle in orbit at ``t_s``: states from the tables, sub-point and frame in plain
        floats by the one-point kernels (kernels/point.py), sunlight from the node table."""
        names = [n for n in VEHICLES if self._spans[n][0] <= t_s <= self._spans[n][1]]
        if not names:
            return {}
        states = self.eph.traj.points(names, t_s)
        pos = np.array([states[n][0] for n in names])
        lit = self._sunlit(names, pos, sun_pos_km)
        t = (t_s,)
        out = {}
        for k, name in enumerate(names):
            p, v = states[name]
            lat, lon, alt = point.geodetic_from_ecef(point.eci_to_ecef_pos(p, gast))
            r, s, h = point.lvlh_basis(p, v)  # rows: radial, along-track, normal
            lat_deg, lon_deg = lat * 180.0 / math.pi, lon * 180.0 / math.pi
            out[name] = VehicleState(
                name=name, pos_km=pos[k], vel_km_s=np.array(v),
                body_to_eci=np.array(((s[0], h[0], r[0]), (s[1], h[1], r[1]), (s[2], h[2], r[2]))),
                phase=self.eph.traj.segment_labels(name, t)[0], sunlit_fraction=lit[k],
                lat_deg=lat_deg, lon_deg=lon_deg, alt_km=alt, region=self._region(lat_deg, lon_deg))
        return out

    def _sunlit(self, names, pos, sun_pos_km) -> list[float]:
        """Sunlit fractions: exactly 1 (or 0) where the vehicle is in full sunlight (umbra) at
        both bracketing nodes (a shadow crossing lasts half an hour, a node step one minute),
        else the kernel on this frame's positions (the penumbra takes about 8 s)."""
        b, i = self._node
        out = [None] * len(names)
        todo = []
        for k, name in enumerate(names):
            f0, f1 = b.sunlit[name][i], b.sunlit[name][i + 1]
            if f0 == f1 and f0 in (0.0, 1.0):
                out[k] = float(f0)
            else:
                todo.append(k)
        if todo:
            frac = eclipse.sunlit_fraction(pos[todo], np.broadcast_to(sun_pos_km, (len(todo), 3)))
            for j, k in enumerate(todo):
                out[k] = float(frac[j])
        return out

    def _utc(self, t_s: float):
        b, _ = self._node
        if b.tt_minus_utc_s is None:
            return self.clock.utc(t_s)
        return datetime_of_utc_s((t_s + self.clock.epoch_tt_s) - b.tt_minus_utc_s)

    # -- the snapshot ---------------------------------------------------------------------------
    def snapshot(self, t_s: float, *, docking: bool = True) -> Snapshot:
        t_s = float(t_s)
        sun, sun_dist, moon, illum, j2000, gast = self._slow(t_s)
        sun_pos = sun * sun_dist
        vehicles = self._vehicles(t_s, sun_pos, gast)
        lo, hi = self._docking_s
        pose = None
        if docking and lo <= t_s <= hi:
            pose = _in_docking_replay(self.eph, t_s, vehicles)
        if pose is not None:
            vehicles = vehicles | _docking_states(vehicles, pose)
        c, s = math.cos(gast), math.sin(gast)
        return Snapshot(
            utc=self._utc(t_s), t_s=t_s, vehicles=vehicles, sun_unit_eci=sun, sun_dist_km=sun_dist,
            moon_pos_km=moon, moon_illuminated_fraction=illum,
            ecef_to_eci=np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]),
            j2000_to_eci=j2000, gast_rad=gast, docking=pose)
