"""The Earth-view ephemeris: where each spacecraft was and what the Earth below looked like.

``Ephemeris.evaluate(vehicle, t_s)`` answers for arrays of mission elapsed seconds with geodetic
sub-point, altitude, speeds, sunlight (umbra/penumbra), the Sun's elevation at the sub-point, the
Sun's apparent right ascension and declination, Greenwich sidereal time and the region below.
Array work runs on the chosen backend (NumPy or CuPy); results come back to the host once.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from experience.backend import Backend, select_backend, to_host
from experience.mission import data
from experience.mission.clock import MissionClock, format_utc
from experience.simulation import regions
from experience.simulation.trajectory import MissionTrajectory, mission_trajectory
from kernels import earth, eclipse, sun_moon

DEG = 180.0 / math.pi


@dataclasses.dataclass
class Samples:
    """Ephemeris values for one vehicle at n instants (NumPy arrays, host side)."""

    vehicle: str
    t_s: np.ndarray
    pos_km: np.ndarray  # (n, 3) ECI (true of date)
    vel_km_s: np.ndarray
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    alt_km: np.ndarray
    speed_km_s: np.ndarray  # inertial
    ground_speed_km_s: np.ndarray  # of the sub-point over the surface
    sunlit_fraction: np.ndarray  # of the solar disc seen from the spacecraft
    sun_elevation_deg: np.ndarray  # at the sub-point
    sun_ra_deg: np.ndarray
    sun_dec_deg: np.ndarray
    gmst_deg: np.ndarray
    phase: list[str]  # coast / formation / docked

    @property
    def sunlit(self) -> np.ndarray:
        return self.sunlit_fraction > 0.5


class Ephemeris:
    def __init__(self, trajectory: MissionTrajectory | None = None, backend: Backend | None = None):
        self.traj = trajectory or mission_trajectory()
        self.clock: MissionClock = self.traj.clock
        self.backend = backend or select_backend("numpy")

    # -- core -------------------------------------------------------------------------------------
    def sun(self, t_s: np.ndarray):
        """Sun apparent RA/Dec (rad), unit vector and position (km), true of date, on the backend."""
        xp = self.backend.xp
        tt = self.backend.asarray(self.clock.tt_s(t_s))
        ra, dec, dist, unit = sun_moon.sun_apparent(tt)
        return ra, dec, unit, unit * xp.reshape(dist, (-1, 1))

    def gast_gmst(self, t_s: np.ndarray):
        tt = self.backend.asarray(self.clock.tt_s(t_s))
        ut1 = self.backend.asarray(self.clock.ut1_s(t_s))
        return earth.gast_rad(ut1, tt), earth.gmst_rad(ut1)

    def evaluate(self, vehicle: str, t_s) -> Samples:
        t = np.atleast_1d(np.asarray(t_s, dtype=np.float64))
        pos_h, vel_h = self.traj.state(vehicle, t)
        xp, asarray = self.backend.xp, self.backend.asarray
        pos, vel = asarray(pos_h), asarray(vel_h)
        gast, gmst = self.gast_gmst(t)
        sun_ra, sun_dec, sun_unit, sun_pos = self.sun(t)
        pos_f, vel_f = earth.eci_to_ecef(pos, vel, gast)
        lat, lon, alt = earth.geodetic_from_ecef(pos_f)
        sun_unit_f, _ = earth.eci_to_ecef(sun_unit, xp.zeros_like(sun_unit), gast)
        out = dict(
            lat_deg=lat * DEG, lon_deg=lon * DEG, alt_km=alt,
            speed_km_s=xp.sqrt(xp.sum(vel * vel, axis=-1)),
            ground_speed_km_s=earth.ground_speed_km_s(pos_f, vel_f),
            sunlit_fraction=eclipse.sunlit_fraction(pos, sun_pos),
            sun_elevation_deg=eclipse.sun_elevation_rad(lat, lon, sun_unit_f) * DEG,
            sun_ra_deg=(sun_ra * DEG) % 360.0, sun_dec_deg=sun_dec * DEG,
            gmst_deg=(gmst * DEG) % 360.0,
        )
        host = {k: to_host(v) for k, v in out.items()}  # the one device-to-host copy
        return Samples(vehicle=vehicle, t_s=t, pos_km=pos_h, vel_km_s=vel_h,
                       phase=self.traj.segment_labels(vehicle, t), **host)

    # -- what the front ends ask for -------------------------------------------------------------
    def rows(self, vehicle: str, t_s, events: list[str | None] | None = None) -> list[dict]:
        """JSON-ready rows (one per instant), the format of `astp ephemeris --json`."""
        s = self.evaluate(vehicle, t_s)
        names = regions.region_names(s.lat_deg, s.lon_deg)
        get0 = self.clock.apollo_launch_t_s
        rows = []
        for k, t in enumerate(s.t_s):
            rows.append({
                "utc": format_utc(self.clock.utc(float(t)), decimals=3 if abs(t - round(t)) > 1e-3 else 0),
                "event": events[k] if events else None,
                "vehicle": vehicle,
                "met_s": round(float(t), 3),
                "get_s": round(float(t - get0), 3),
                "lat_deg": round(float(s.lat_deg[k]), 4),
                "lon_deg": round(float(s.lon_deg[k]), 4),
                "alt_km": round(float(s.alt_km[k]), 3),
                "speed_km_s": round(float(s.speed_km_s[k]), 5),
                "ground_speed_km_s": round(float(s.ground_speed_km_s[k]), 5),
                "sunlit": bool(s.sunlit[k]),
                "sunlit_fraction": round(float(s.sunlit_fraction[k]), 4),
                "sun_elevation_deg": round(float(s.sun_elevation_deg[k]), 3),
                "sun_ra_deg": round(float(s.sun_ra_deg[k]), 4),
                "sun_dec_deg": round(float(s.sun_dec_deg[k]), 4),
                "gmst_deg": round(float(s.gmst_deg[k]), 4),
                "region": names[k],
                "phase": s.phase[k],
                "pos_km": [round(float(x), 4) for x in s.pos_km[k]],
                "vel_km_s": [round(float(x), 7) for x in s.vel_km_s[k]],
            })
        return rows

    def event_rows(self) -> list[dict]:
        """One row per timeline event and vehicle it concerns. Events on the ground (launch,
        landing) or outside a vehicle's simulated flight give the site, or null positions."""
        rows = []
        orb = data.orbits()
        sites = {
            "soyuz_launch": orb["soyuz"]["launch_site"], "apollo_launch": orb["apollo"]["launch_site"],
            "soyuz_landing": orb["soyuz"]["landing_site"], "apollo_splashdown": orb["apollo"]["splashdown_site"],
        }
        for ev in data.timeline():
            t = self.clock.t_s(ev.utc)
            for vehicle in (("soyuz", "apollo") if ev.vehicle == "both" else (ev.vehicle,)):
                t0, t1 = self.traj.span(vehicle)
                if t0 <= t <= t1:
                    rows.extend(self.rows(vehicle, [t], events=[ev.id]))
                else:
                    rows.append(self._ground_row(ev, vehicle, t, sites.get(ev.id)))
        return rows

    def _ground_row(self, ev, vehicle: str, t: float, site: dict | None) -> dict:
        """An event the trajectory does not cover: on the ground at a known site, else nulls."""
        row = {"utc": format_utc(ev.utc), "event": ev.id, "vehicle": vehicle, "met_s": round(t, 3),
               "get_s": round(t - self.clock.apollo_launch_t_s, 3)}
        nulls = dict.fromkeys(("lat_deg", "lon_deg", "alt_km", "speed_km_s", "ground_speed_km_s", "sunlit",
                               "sunlit_fraction", "sun_elevation_deg", "region", "pos_km", "vel_km_s"))
        row.update(nulls)
        tt = np.asarray([t])
        ra, dec, _, _ = self.sun(tt)
        gast, gmst = self.gast_gmst(tt)
        row.update(sun_ra_deg=round(float(to_host(ra)[0]) * DEG % 360.0, 4),
                   sun_dec_deg=round(float(to_host(dec)[0]) * DEG, 4),
                   gmst_deg=round(float(to_host(gmst)[0]) * DEG % 360.0, 4))
        if site is not None:
            lat, lon = float(site["lat_deg"]), float(site["lon_deg"])
            elev = self.sun_elevation_at(np.asarray([lat]), np.asarray([lon]), t)[0]
            row.update(lat_deg=lat, lon_deg=lon, alt_km=0.0, speed_km_s=None, ground_speed_km_s=0.0,
                       sunlit=bool(elev > -0.833), sun_elevation_deg=round(float(elev), 3),
                       region=regions.region_names(np.asarray([lat]), np.asarray([lon]))[0])
        row["phase"] = "ground" if site is not None else "not simulated"
        return row

    def sun_elevation_at(self, lat_deg: np.ndarray, lon_deg: np.ndarray, t_s: float) -> np.ndarray:
        """Sun elevation (deg) at ground points (any shape) at one instant."""
        t = np.asarray([t_s])
        _, _, unit, _ = self.sun(t)
        gast, _ = self.gast_gmst(t)
        xp = self.backend.xp
        unit_f, _ = earth.eci_to_ecef(unit, xp.zeros_like(unit), gast)
        lat = self.backend.asarray(np.radians(lat_deg).reshape(-1))
        lon = self.backend.asarray(np.radians(lon_deg).reshape(-1))
        n = lat.shape[0]
        unit_n = xp.broadcast_to(unit_f, (n, 3))
        elev = to_host(eclipse.sun_elevation_rad(lat, lon, unit_n)) * DEG
        return elev.reshape(np.shape(lat_deg))

    def subsolar_point(self, t_s: float) -> tuple[float, float]:
        t = np.asarray([t_s])
        _, _, unit, _ = self.sun(t)
        gast, _ = self.gast_gmst(t)
        lat, lon = earth.subpoint_of_direction(unit, gast)
        return float(to_host(lat)[0]) * DEG, float(to_host(lon)[0]) * DEG

    def night_mask(self, t_s: float, shape=(180, 360)) -> np.ndarray:
        """(rows: +90..-90 lat, cols: -180..180 lon) night fraction 0..1 with twilight blended."""
        rows, cols = shape
        lat = 90.0 - (np.arange(rows) + 0.5) * 180.0 / rows
        lon = -180.0 + (np.arange(cols) + 0.5) * 360.0 / cols
        lat_g, lon_g = np.meshgrid(lat, lon, indexing="ij")
        elev = self.sun_elevation_at(lat_g, lon_g, t_s)
        return np.clip((0.0 - elev) / 12.0 + 0.5, 0.0, 1.0)  # civil-to-nautical twilight blend

    def ground_track(self, vehicle: str, t0_s: float, t1_s: float, step_s: float = 30.0):
        t = np.arange(t0_s, t1_s, step_s)
        t = np.append(t, t1_s)
        s = self.evaluate(vehicle, t)
        return t, s.lat_deg, s.lon_deg
