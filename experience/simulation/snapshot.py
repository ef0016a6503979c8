"""The simulation snapshot: everything the scene needs to draw one instant, and nothing to compute.

The scene (experience/scene) turns a :class:`Snapshot` into pictures; it never computes physics.
All vectors are float64 NumPy arrays in kilometres in the ``eci`` frame (true equator and equinox
of date, frozen at the mission epoch; docs/architecture.md). The conversion to camera-relative
float32 metres happens at the render boundary, in the scene.

Attitude: while the two spacecraft fly together (formation and docked) the stack holds a local
vertical / local horizontal (LVLH) attitude with its docking axis along the flight direction,
Soyuz leading and Apollo trailing with its docking port forward (Apollo closed on Soyuz from
behind, and the reconstruction keeps it behind whenever the two are apart), and the Apollo hatch
side toward the Earth. ``body_to_eci``
has as columns the body axes in ECI: x = along-track (flight direction), y = orbit normal,
z = radial (up, away from the Earth). The models' own axes are mapped onto these body axes by the
scene (docs/models.md). This attitude is a documented choice: the flown attitudes were not found in
the sources. Around the first docking (16:06:05-16:11:49 UTC, the span of the simulated contact
dynamics) Soyuz is placed relative to Apollo from the docking simulation, both vehicles are in
phase ``docking`` and :attr:`Snapshot.docking` carries the ring's pose for the scene
(experience/simulation/docking_replay.py). While docked, :attr:`Snapshot.crew` says where the
crews are in the pose table (experience/simulation/handshake.py: the hatch opening and the
handshake animated over 19:17-19:19 UTC on 17 July).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt

import numpy as np

from experience.backend import to_host
from experience.simulation import handshake, regions
from experience.simulation.docking_replay import DockingPose, approximate_span_utc, historical_replay
from experience.simulation.ephemeris import Ephemeris
from experience.simulation.trajectory import lvlh_basis
from kernels import earth, sun_moon


@dataclasses.dataclass(frozen=True)
class VehicleState:
    name: str
    pos_km: np.ndarray  # (3,) ECI
    vel_km_s: np.ndarray  # (3,)
    body_to_eci: np.ndarray  # (3, 3) columns: body x, y, z in ECI
    phase: str  # coast / formation / docked
    sunlit_fraction: float
    lat_deg: float
    lon_deg: float
    alt_km: float
    region: str


@dataclasses.dataclass(frozen=True)
class Snapshot:
    utc: _dt.datetime
    t_s: float
    vehicles: dict[str, VehicleState]
    sun_unit_eci: np.ndarray  # (3,) apparent direction of the Sun from the Earth's centre
    sun_dist_km: float
    moon_pos_km: np.ndarray  # (3,) geocentric
    moon_illuminated_fraction: float
    ecef_to_eci: np.ndarray  # (3, 3): rotates Earth-fixed vectors (texture frame) into ECI
    j2000_to_eci: np.ndarray  # (3, 3): star catalogue (J2000) directions into ECI
    gast_rad: float
    docking: DockingPose | None = None  # during the replayed docking (docking_replay.py), else None
    crew: handshake.CrewPose | None = None  # docked: the crews' pose (hatch opening, handshake), else None

    @property
    def docked(self) -> bool:
        return all(v.phase == "docked" for v in self.vehicles.values())


def _in_docking_replay(eph: Ephemeris, t_s: float, vehicles: dict) -> DockingPose | None:
    if not ("apollo" in vehicles and "soyuz" in vehicles):
        return None
    lo, hi = approximate_span_utc()
    if not (eph.clock.t_s(lo) <= t_s <= eph.clock.t_s(hi)):
        return None
    replay = historical_replay(eph.clock)
    return replay.at(t_s) if replay.covers(t_s) else None


def _docking_states(vehicles: dict, pose: DockingPose) -> dict:
    """Apollo as it flies; Soyuz placed relative to it by the docking simulation."""
    apollo, soyuz = vehicles["apollo"], vehicles["soyuz"]
    b = apollo.body_to_eci
    return {
        "apollo": dataclasses.replace(apollo, phase="docking"),
        "soyuz": dataclasses.replace(
            soyuz, phase="docking", pos_km=apollo.pos_km + b @ pose.soyuz_offset_m / 1000.0,
            vel_km_s=apollo.vel_km_s, body_to_eci=b @ pose.soyuz_rot_in_apollo),
    }


def snapshot(eph: Ephemeris, t_s: float, *, docking: bool = True) -> Snapshot:
    """The state of the world at one mission elapsed time (seconds). ``docking=False`` leaves the
    docking simulation out (Soyuz from the orbit reconstruction even during the docking)."""
    clock = eph.clock
    t = np.asarray([t_s], dtype=np.float64)
    vehicles = {}
    for name in ("soyuz", "apollo"):
        t0, t1 = eph.traj.span(name)
        if not (t0 <= t_s <= t1):
            continue
        s = eph.evaluate(name, t)
        basis = lvlh_basis(s.pos_km, s.vel_km_s)[0]  # rows: radial, along-track, normal
        body_to_eci = np.stack([basis[1], basis[2], basis[0]], axis=1)  # columns x, y, z
        vehicles[name] = VehicleState(
            name=name, pos_km=s.pos_km[0], vel_km_s=s.vel_km_s[0], body_to_eci=body_to_eci,
            phase=s.phase[0], sunlit_fraction=float(s.sunlit_fraction[0]),
            lat_deg=float(s.lat_deg[0]), lon_deg=float(s.lon_deg[0]), alt_km=float(s.alt_km[0]),
            region=regions.region_names(s.lat_deg, s.lon_deg)[0],
        )
    pose = _in_docking_replay(eph, t_s, vehicles) if docking else None
    if pose is not None:
        vehicles = vehicles | _docking_states(vehicles, pose)
    tt = clock.tt_s(t)
    _, _, dist, sun_unit = (to_host(a) for a in sun_moon.sun_apparent(tt))
    moon = sun_moon.moon_pos_tod_km(tt)
    illum = sun_moon.moon_illuminated_fraction(tt)
    gast = float(earth.gast_rad(clock.ut1_s(t), tt)[0])
    c, s_ = np.cos(gast), np.sin(gast)
    ecef_to_eci = np.array([[c, -s_, 0.0], [s_, c, 0.0], [0.0, 0.0, 1.0]])  # R3(-GAST)
    return Snapshot(
        utc=clock.utc(t_s), t_s=float(t_s), vehicles=vehicles,
        sun_unit_eci=np.asarray(sun_unit[0], dtype=np.float64), sun_dist_km=float(dist[0]),
        moon_pos_km=np.asarray(to_host(moon)[0], dtype=np.float64),
        moon_illuminated_fraction=float(to_host(illum)[0]),
        ecef_to_eci=ecef_to_eci, j2000_to_eci=np.asarray(to_host(earth.j2000_to_tod_matrix(tt))[0]),
        gast_rad=gast, docking=pose,
        crew=handshake.crew_pose(clock.utc(t_s)) if any(v.phase == "docked" for v in vehicles.values()) else None,
    )
