"""The historical trajectories of Soyuz 19 and Apollo, reconstructed from the published facts.

No element sets survive for either spacecraft, so the orbits are rebuilt from what is published
(data/mission/orbits.toml, every assumption there with its reasoning; docs/trajectory.md):

Soyuz
  1. The orbit plane contains the Baikonur pad at launch, inclined 51.8 deg, ascending north-east.
  2. Insertion 530 s after launch, at perigee, 16 deg downrange, into 186.35 x 220.35 km.
  3. Two tangential burns, at the low point of revolution 4 and the next high point, into the
     assembly orbit (222.1 x 226.6 km) raised or lowered by one common height ``delta``.
  4. ``delta`` is solved, inside the spread of the sources, so that at the docking (16:09:09 on
     17 July) Soyuz is at the point of its ground track nearest the docking place off Portugal.
Apollo
  1. Inserted at 19:59:56 in the Soyuz plane (the launch window put KSC under it), 17 deg downrange
     of KSC, at perigee, into 186.3 x 221.9 km.
  2. The rendezvous is solved backwards from terminal phase initiation (TPI, 15:17): there Apollo is
     on an orbit co-elliptic with Soyuz, 15 km below, with the line of sight 27 deg above the
     horizon. TPI is a transfer, solved by shooting through the numerical propagator, to the
     station-keeping point behind Soyuz at TPF; NSR (14:12) puts Apollo on the co-elliptic orbit;
     NC2 (12:51) is a transfer to the NSR point; NC1 is the tangential phasing burn that brings
     Apollo to the NC2 point on time.
  3. From TPF Apollo flies in formation with Soyuz (kinematic offsets in orbits.toml [formation]);
     docked, both share one trajectory; after leaving Soyuz Apollo coasts on its own.

Every coasting arc is integrated by the numerical propagator (two-body + J2..J4) and stored as a
dense table; states in between come from cubic Hermite interpolation. The solved parameters, the
burns and the tables are kept by experience/cache.py: generated/trajectory.npz in the repository
(tools/build_generated.py) or the user cache, used only when their key (the data files read here
and the code that builds them) matches and they pass the checks of :func:`_check_arrays`;
otherwise rebuilt.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np

from experience import cache
from experience.errors import AstpError, DataFileError
from experience.mission import data
from experience.mission.clock import MissionClock, format_utc, parse_utc
from experience.paths import repo_root
from experience.vec import cross3
from kernels import earth, orbit, point
from kernels.constants import GM_EARTH_KM3_S2 as MU, J2, R_EARTH_EQ_KM as R_EQ

TABLE_STEP_S = 60.0  # spacing of the stored trajectory tables (Hermite error well under 1 m)
CACHE_VERSION = 1
VEHICLES = ("soyuz", "apollo")


# --------------------------------------------------------------------------------------------
# Trajectory pieces
# --------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Table:
    """One coasting arc: states on a time grid (mission elapsed seconds)."""

    t_s: np.ndarray  # (m,)
    pos_km: np.ndarray  # (m, 3) ECI
    vel_km_s: np.ndarray  # (m, 3)

    def state(self, t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return orbit.hermite_interpolate(self.t_s, self.pos_km, self.vel_km_s, t_s)

    def point(self, t_s: float) -> tuple[point.Vec, point.Vec]:
        """:meth:`state` at one time, as 3-tuples (kernels/point.py: the same bits)."""
        j = point.interval(self.t_s, t_s)
        p, v = self.pos_km, self.vel_km_s
        return point.hermite(float(self.t_s[j]), float(self.t_s[j + 1]), tuple(p[j].tolist()),
                             tuple(v[j].tolist()), tuple(p[j + 1].tolist()), tuple(v[j + 1].tolist()), t_s)


@dataclasses.dataclass(frozen=True)
class Formation:
    """Flying with the leader at an LVLH offset (metres) that is piecewise linear in time."""

    leader: str
    t_s: np.ndarray  # (k,) knots
    offset_m: np.ndarray  # (k, 3): radial (up), along-track, cross-track

    @functools.cached_property
    def _knots(self) -> tuple[list[float], list[list[float]]]:
        """The knots as Python lists, for :meth:`point`."""
        return self.t_s.tolist(), self.offset_m.T.tolist()

    def point(self, t_s: float, leader_pos_km: point.Vec, leader_vel_km_s: point.Vec) -> tuple[point.Vec, point.Vec]:
        """The follower's state at one time from its leader's (3-tuples): the arithmetic of
        :meth:`MissionTrajectory._formation_state` for one point."""
        knots, columns = self._knots
        off = [point.interp(knots, col, t_s) for col in columns]
        j = point.interval(knots, t_s)
        dt = knots[j + 1] - knots[j]
        rate = [(col[j + 1] - col[j]) / dt for col in columns]
        basis = point.lvlh_basis(leader_pos_km, leader_vel_km_s)  # rows are the LVLH axes in ECI
        pos = tuple(leader_pos_km[k] + (basis[0][k] * off[0] + basis[1][k] * off[1] + basis[2][k] * off[2]) / 1000.0
                    for k in range(3))
        vel = tuple(leader_vel_km_s[k] + (basis[0][k] * rate[0] + basis[1][k] * rate[1] + basis[2][k] * rate[2])
                    / 1000.0 for k in range(3))
        return pos, vel


@dataclasses.dataclass(frozen=True)
class Segment:
    t0_s: float
    t1_s: float
    label: str  # "coast", "formation", "docked"
    piece: Table | Formation


@dataclasses.dataclass(frozen=True)
class Burn:
    vehicle: str
    name: str
    t_s: float
    dv_km_s: np.ndarray  # (3,) ECI

    @property
    def dv_m_s(self) -> float:
        return float(np.linalg.norm(self.dv_km_s) * 1000.0)


def lvlh_basis(pos_km: np.ndarray, vel_km_s: np.ndarray) -> np.ndarray:
    """(n, 3, 3) rows: radial (up), along-track (completing the triad), orbit normal."""
    r_hat = pos_km / np.linalg.norm(pos_km, axis=-1, keepdims=True)
    h = cross3(pos_km, vel_km_s)
    h_hat = h / np.linalg.norm(h, axis=-1, keepdims=True)
    s_hat = cross3(h_hat, r_hat)
    return np.stack((r_hat, s_hat, h_hat), axis=-2)


class MissionTrajectory:
    """Where each spacecraft was: ``state(vehicle, t_s)`` for arrays of mission elapsed seconds."""

    def __init__(self, clock: MissionClock, segments: dict[str, list[Segment]], burns: list[Burn],
                 solved: dict):
        self.clock = clock
        self.segments = segments
        self.burns = burns
        self.solved = solved

    def span(self, vehicle: str) -> tuple[float, float]:
        segs = self.segments[vehicle]
        return segs[0].t0_s, segs[-1].t1_s

    def check_span(self, vehicle: str, t_s: np.ndarray) -> None:
        """AstpError naming the accepted range if any time lies outside the simulated span."""
        t0, t1 = self.span(vehicle)
        t = np.atleast_1d(np.asarray(t_s, dtype=np.float64))
        bad = t[(t < t0 - 1e-6) | (t > t1 + 1e-6) | ~np.isfinite(t)]
        if bad.size:
            when = format_utc(self.clock.utc(float(bad[0]))) if np.isfinite(bad[0]) else str(bad[0])
            raise AstpError(
                f"{when} is outside the simulated flight of {vehicle.capitalize()}: it is simulated "
                f"from {format_utc(self.clock.utc(t0))} (orbit insertion) to "
                f"{format_utc(self.clock.utc(t1))} (before entry)"
            )

    def segment_labels(self, vehicle: str, t_s: np.ndarray) -> list[str]:
        """coast / formation / docked at each time. A leader (Soyuz) is labelled by the joint
        phases its followers fly with it: when Apollo is docked to Soyuz, both are docked."""
        t = np.atleast_1d(np.asarray(t_s, dtype=np.float64))
        if t.size == 1:  # the per-frame path: the same rule over a short list, no array masks
            tv, label = float(t[0]), None
            for t0, t1, name in self._label_spans(vehicle):
                if t0 <= tv <= t1:
                    label = name
            return [label]
        labels = np.empty(t.shape, dtype=object)
        for seg in self.segments[vehicle]:
            labels[(t >= seg.t0_s) & (t <= seg.t1_s)] = seg.label
        for other, segs in self.segments.items():
            for seg in segs:
                if other != vehicle and isinstance(seg.piece, Formation) and seg.piece.leader == vehicle:
                    labels[(t >= seg.t0_s) & (t <= seg.t1_s)] = seg.label
        return list(labels)

    def _label_spans(self, vehicle: str) -> tuple[tuple[float, float, str], ...]:
        """(t0, t1, label) in the order :meth:`segment_labels` applies them (the last match wins)."""
        memo = self.__dict__.setdefault("_label_memo", {})
        if vehicle not in memo:
            memo[vehicle] = self._spans_of_labels(vehicle)
        return memo[vehicle]

    def _spans_of_labels(self, vehicle: str) -> tuple[tuple[float, float, str], ...]:
        own = [(seg.t0_s, seg.t1_s, seg.label) for seg in self.segments[vehicle]]
        joint = [(seg.t0_s, seg.t1_s, seg.label) for other, segs in self.segments.items() for seg in segs
                 if other != vehicle and isinstance(seg.piece, Formation) and seg.piece.leader == vehicle]
        return tuple(own + joint)

    def states(self, vehicles, t_s) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """:meth:`state` of several vehicles at the same times, each evaluated once: a follower in
        formation reuses its leader's state instead of evaluating it again."""
        t = np.atleast_1d(np.asarray(t_s, dtype=np.float64))
        if t.size == 1:
            return {v: (np.array([p]), np.array([w])) for v, (p, w) in self.points(vehicles, float(t[0])).items()}
        known: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for v in vehicles:
            known[v] = self.state(v, t, _known=known)
        return known

    def points(self, vehicles, t_s: float) -> dict[str, tuple[point.Vec, point.Vec]]:
        """Several vehicles at one time as 3-tuples (position km, velocity km/s), each evaluated
        once (a follower reuses its leader's state): the per-frame path."""
        known: dict[str, tuple[point.Vec, point.Vec]] = {}
        for v in vehicles:
            known[v] = self.point(v, t_s, known)
        return known

    def point(self, vehicle: str, t_s: float, known=None) -> tuple[point.Vec, point.Vec]:
        """:meth:`state` at one time, as 3-tuples: the first segment holding the time, found in
        Python, evaluated by kernels/point.py (the same numbers as the batched path; NaN where the
        vehicle is between segments)."""
        lo, hi = self.span(vehicle)
        if not lo - 1e-6 <= t_s <= hi + 1e-6:
            self.check_span(vehicle, np.asarray([t_s]))  # raises, naming the range
        for seg in self.segments[vehicle]:
            if seg.t0_s <= t_s <= seg.t1_s:
                piece = seg.piece
                if isinstance(piece, Table):
                    return piece.point(t_s)
                leader = known.get(piece.leader) if known else None
                if leader is None:
                    leader = self.point(piece.leader, t_s)
                return piece.point(t_s, *leader)
        nan = (math.nan,) * 3
        return nan, nan

    def state(self, vehicle: str, t_s, *, _known=None) -> tuple[np.ndarray, np.ndarray]:
        """ECI position (km) and velocity (km/s), shapes (n, 3), at mission elapsed times."""
        t = np.atleast_1d(np.asarray(t_s, dtype=np.float64))
        if t.size == 1:  # the per-frame path: one point, in plain floats (kernels/point.py); a
            pos, vel = self.point(vehicle, float(t[0]))   # leader's state is evaluated on that path
            return np.array([pos]), np.array([vel])
        self.check_span(vehicle, t)
        pos = np.full(t.shape + (3,), np.nan)
        vel = np.full(t.shape + (3,), np.nan)
        for seg in self.segments[vehicle]:
            sel = (t >= seg.t0_s) & (t <= seg.t1_s) & np.isnan(pos[:, 0])
            if not sel.any():
                continue
            pos[sel], vel[sel] = self._piece_state(seg, t[sel], _known, sel)
        return pos, vel

    def _piece_state(self, seg, t: np.ndarray, known, sel):
        """One segment's states at times ``t`` (the ``sel`` part of the query)."""
        if isinstance(seg.piece, Table):
            return seg.piece.state(t)
        if known and seg.piece.leader in known:
            lp, lv = known[seg.piece.leader]
            return self._formation_state(seg.piece, t, (lp[sel], lv[sel]))
        return self._formation_state(seg.piece, t)

    def _formation_state(self, form: Formation, t: np.ndarray, leader_state=None):
        lp, lv = leader_state if leader_state is not None else self.state(form.leader, t)
        off = np.stack([np.interp(t, form.t_s, form.offset_m[:, k]) for k in range(3)], axis=-1)
        idx = np.clip(np.searchsorted(form.t_s, t, side="right") - 1, 0, len(form.t_s) - 2)
        rate = (form.offset_m[idx + 1] - form.offset_m[idx]) / (form.t_s[idx + 1] - form.t_s[idx])[:, None]
        basis = lvlh_basis(lp, lv)  # rows are the LVLH axes in ECI
        pos = lp + np.einsum("nij,ni->nj", basis, off) / 1000.0
        vel = lv + np.einsum("nij,ni->nj", basis, rate) / 1000.0
        return pos, vel


# --------------------------------------------------------------------------------------------
# Reconstruction
# --------------------------------------------------------------------------------------------
class _Builder:
    def __init__(self, clock: MissionClock):
        self.clock = clock
        self.orb = data.orbits()
        self.model = orbit.default_force_model(j3_j4=True, drag=False)

    # -- small helpers -------------------------------------------------------------------------
    def t_of(self, utc_text: str) -> float:
        return self.clock.t_s(parse_utc(utc_text))

    def gast(self, t_s: float) -> float:
        t = np.asarray([t_s])
        return float(earth.gast_rad(self.clock.ut1_s(t), self.clock.tt_s(t))[0])

    def site_eci(self, lat_deg: float, lon_deg: float, t_s: float) -> np.ndarray:
        ecef = earth.ecef_from_geodetic(np.radians([lat_deg]), np.radians([lon_deg]), np.zeros(1))
        gast = np.asarray([self.gast(t_s)])
        pos, _ = earth.ecef_to_eci(ecef, np.zeros((1, 3)), gast)
        return pos[0]

    def prop(self, pos, vel, dt_s):
        """Propagate a batch (n,3) by dt_s (either sign)."""
        pos, vel = np.atleast_2d(pos), np.atleast_2d(vel)
        if abs(dt_s) < 1e-9:
            return pos.copy(), vel.copy()
        return orbit.propagate(pos, vel, float(dt_s), self.model)

    def table(self, pos, vel, t0_s: float, t1_s: float) -> Table:
        span = t1_s - t0_s
        grid = np.arange(0.0, span, TABLE_STEP_S)
        grid = np.append(grid[grid < span - 1.0], span)
        p, v = orbit.propagate_grid(np.atleast_2d(pos), np.atleast_2d(vel), grid, self.model)
        return Table(t0_s + grid, p[0], v[0])

    @staticmethod
    def elements(pos, vel):
        return orbit.elements_from_state(np.atleast_2d(pos), np.atleast_2d(vel), MU)

    @staticmethod
    def state_from(a_km, e, i_rad, raan_rad, argp_rad, nu_rad):
        arr = lambda x: np.atleast_1d(np.asarray(x, dtype=np.float64))  # noqa: E731
        return orbit.state_from_elements(arr(a_km), arr(e), arr(i_rad), arr(raan_rad),
                                         arr(argp_rad), arr(nu_rad), MU)

    @staticmethod
    def plane_angle(pos, raan_rad: float, i_rad: float) -> tuple[float, float]:
        """(argument of latitude, angle out of the plane) of a position, for a plane."""
        node = np.array([math.cos(raan_rad), math.sin(raan_rad), 0.0])
        normal = np.array([math.sin(i_rad) * math.sin(raan_rad), -math.sin(i_rad) * math.cos(raan_rad),
                           math.cos(i_rad)])
        m = np.cross(normal, node)
        p = np.asarray(pos).reshape(3)
        u = math.atan2(float(p @ m), float(p @ node))
        out = math.asin(float(p @ normal) / float(np.linalg.norm(p)))
        return u, out

    def state_for_mean_heights(self, hp_km: float, ha_km: float, i_rad: float, raan_rad: float, u_rad: float):
        """Osculating state at perigee (argument of latitude u) whose MEAN orbit has the given
        perigee and apogee heights and inclination: the J2 short-period terms make osculating
        and mean values differ by kilometres and hundredths of a degree."""
        a_t, e_t = R_EQ + 0.5 * (hp_km + ha_km), (ha_km - hp_km) / (2 * R_EQ + hp_km + ha_km)
        a, e, inc = a_t, e_t, i_rad
        for _ in range(4):
            pos, vel = self.state_from(a, e, inc, raan_rad, u_rad, 0.0)
            me = orbit.mean_elements_from_state(pos, vel, self.model)
            a += a_t - float(me.a_km[0])
            e = max(e + e_t - float(me.e[0]), 1e-6)
            inc += i_rad - float(me.i_rad[0])
        return self.state_from(a, e, inc, raan_rad, u_rad, 0.0)

    def tangential_burn(self, pos, vel, r_other_km):
        """Velocity after a burn along the velocity that puts the opposite apsis at r_other_km."""
        r = np.linalg.norm(pos, axis=-1, keepdims=True)
        speed = np.sqrt(MU * (2.0 / r - 2.0 / (r + np.asarray(r_other_km).reshape(-1, 1))))
        return vel / np.linalg.norm(vel, axis=-1, keepdims=True) * speed

    def shoot(self, pos0, vel_guess, dt_s: float, target_pos, *, tol_km=1e-5, max_iter=12):
        """Velocity at pos0 that reaches target_pos after dt_s (Newton on the propagator)."""
        pos0 = np.asarray(pos0).reshape(1, 3)
        v = np.asarray(vel_guess, dtype=np.float64).reshape(3).copy()
        h = 1e-5  # km/s (1 cm/s) finite-difference step
        for _ in range(max_iter):
            vs = np.repeat(v[None, :], 4, axis=0)
            vs[1:] += np.eye(3) * h
            p, _ = self.prop(np.repeat(pos0, 4, axis=0), vs, dt_s)
            miss = p[0] - np.asarray(target_pos).reshape(3)
            if np.linalg.norm(miss) < tol_km:
                return v
            jac = ((p[1:] - p[0]) / h).T
            v = v - np.linalg.solve(jac, miss)
        raise RuntimeError(f"shooting did not converge (miss {np.linalg.norm(miss) * 1000:.1f} m)")

    # -- Soyuz -------------------------------------------------------------------------------------
    def soyuz(self):
        so = self.orb["soyuz"]
        site, ins, ins_a = so["launch_site"], so["insertion"], so["insertion"]["assumptions"]
        asm, asm_a = so["assembly_orbit"], so["assembly_orbit"]["assumptions"]
        t_launch = self.clock.t_s(data.event("soyuz_launch").utc)
        t_ins = t_launch + float(ins["time_after_launch_s"])
        i_rad = math.radians(ins["inclination_deg"])

        # 1. The plane through the pad at launch, ascending.
        r_site = self.site_eci(site["lat_deg"], site["lon_deg"], t_launch)
        lat_c = math.asin(r_site[2] / np.linalg.norm(r_site))
        ra_site = math.atan2(r_site[1], r_site[0])
        u_site = math.asin(math.sin(lat_c) / math.sin(i_rad))
        raan = ra_site - math.atan2(math.cos(i_rad) * math.sin(u_site), math.cos(u_site))

        # 2. Insertion at perigee, downrange.
        u_ins = u_site + math.radians(ins_a["downrange_deg"])
        p_ins, v_ins = self.state_for_mean_heights(ins["perigee_km"], ins["apogee_km"], i_rad, raan, u_ins)

        # 3. Circularisation on 16 July (SP4209): a tangential burn at a perigee raising the
        #    apogee to the assembly apogee, then at that apogee a horizontal burn whose speed is
        #    solved so the mean nodal period is the published one. Which perigee (revolution)
        #    is chosen by the docking place; the period is then trimmed within 0.02 min of the
        #    published value so that Soyuz is at the docking place at 16:09:09.
        t_end = self.t_of(so["coverage"]["end_utc"])
        day0, day1 = (self.t_of(x) for x in asm_a["circularisation_window_utc"])
        ins_table = self.table(p_ins, v_ins, t_ins, day1 + 3600.0)
        t_dock = self.clock.t_s(data.event("docking_1").utc)
        r_apo = R_EQ + float(asm["apogee_km"])
        period0 = 60.0 * float(asm["period_min"])
        trim = 60.0 * float(asm_a["period_trim_min"])

        e_asm = (float(asm["apogee_km"]) - float(asm["perigee_km"])) / (2 * R_EQ + float(asm["apogee_km"]) + float(asm["perigee_km"]))

        def phase_error(t_b1: float, period_s: float, shaped: bool = True):
            burns = self._circularise(ins_table, t_b1, r_apo, period_s, e_asm if shaped else None)
            pos, vel = self.prop(burns["p2"], burns["v2p"], t_dock - burns["t2"])
            err, cross = self._along_track_error(pos[0], vel[0], t_dock)
            return err, cross, burns

        perigees = _local_extrema(ins_table, day0, day1 - 3600.0, want_min=True)
        errors = [phase_error(t, period0, shaped=False)[0] for t in perigees]
        t_b1 = perigees[int(np.argmin(np.abs(errors)))]
        period, (e0, p0) = period0, (min(errors, key=abs), period0)
        p1 = period0 + 0.25 * trim
        for _ in range(5):  # secant on the period trim (the phase error is nearly linear in it)
            e1 = phase_error(t_b1, p1)[0]
            period = p1
            if abs(e1) * r_apo < 0.05 or e1 == e0:
                break
            p0, p1, e0 = p1, min(max(p1 - e1 * (p1 - p0) / (e1 - e0), period0 - trim), period0 + trim), e1
        err, cross, b = phase_error(t_b1, period)
        t_b2 = b["t2"]

        segments = [
            Segment(t_ins, t_b1, "coast", self.table(p_ins, v_ins, t_ins, t_b1)),
            Segment(t_b1, t_b2, "coast", self.table(b["p1"], b["v1p"], t_b1, t_b2)),
            Segment(t_b2, t_end, "coast", self.table(b["p2"], b["v2p"], t_b2, t_end)),
        ]
        burns = [Burn("soyuz", "Soyuz apogee raise", t_b1, (b["v1p"] - b["v1m"])[0]),
                 Burn("soyuz", "Soyuz circularisation", t_b2, (b["v2p"] - b["v2m"])[0])]
        me = orbit.mean_elements_from_state(b["p2"], b["v2p"], self.model)
        solved = {
            "soyuz_raan_at_launch_deg": math.degrees(raan) % 360.0,
            "soyuz_u_site_deg": math.degrees(u_site),
            "soyuz_circularisation_utc": [format_utc(self.clock.utc(t_b1)), format_utc(self.clock.utc(t_b2))],
            "soyuz_assembly_mean_a_km": float(me.a_km[0]),
            "soyuz_assembly_nodal_period_min": period / 60.0,
            "docking_along_track_error_km": float(err * r_apo),
            "docking_place_cross_track_km": float(cross),
        }
        return segments, burns, solved

    def _circularise(self, ins_table: Table, t_b1: float, r_apo_km: float, period_s: float,
                     e_target: float | None = None) -> dict:
        """The two Soyuz burns for a first-burn time: states before/after each burn.

        Burn 1 (tangential, at a perigee) raises the apogee; burn 2 (at that apogee) sets the
        speed for the nodal period ``period_s`` and a radial part for the shape. Without
        ``e_target`` the radial part makes the mean orbit as round as it gets from that point
        (a quick version for searching); with it, the apogee of burn 1 and the radial part of
        burn 2 are solved (Gauss-Newton) so that the mean eccentricity is ``e_target``.
        """
        p1, v1m = ins_table.state(np.asarray([t_b1]))

        def burns(apo_km: float, vr: float | None):
            v1p = self.tangential_burn(p1, v1m, apo_km)
            transfer = self.table(p1, v1p, t_b1, t_b1 + 3600.0)
            t2 = _local_extrema(transfer, t_b1 + 1800.0, t_b1 + 3600.0, want_min=False)[0]
            p2, v2m = transfer.state(np.asarray([t2]))
            v2p, e_vec = self._burn2(p2, v2m, period_s, vr)
            return {"p1": p1, "v1m": v1m, "v1p": v1p, "t2": t2, "p2": p2, "v2m": v2m, "v2p": v2p}, e_vec

        if e_target is None:
            return burns(r_apo_km, None)[0]
        x = np.array([r_apo_km, 0.0])
        steps = np.array([0.5, 0.001])
        for _ in range(6):
            b0, e0 = burns(*x)
            goal = e0 * (e_target / max(float(np.linalg.norm(e0)), 1e-9))
            f0 = e0 - goal
            if np.linalg.norm(f0) < 2e-5:
                break
            jac = np.stack([(burns(*(x + np.eye(2)[k] * steps[k]))[1] - e0) / steps[k] for k in range(2)], axis=1)
            x = x - np.linalg.lstsq(jac, f0, rcond=None)[0]
            x[1] = float(np.clip(x[1], -0.03, 0.03))
        return burns(*x)[0]

    def _burn2(self, p2, v2m, period_s: float, vr: float | None):
        """Velocity after the circularisation burn, and the mean eccentricity vector (ex, ey in
        the nodal frame). ``vr`` None: the radial part that minimises the mean eccentricity."""
        r = float(np.linalg.norm(p2))
        h_hat = np.cross(p2[0], v2m[0])
        along = np.cross(h_hat / np.linalg.norm(h_hat), p2[0] / r)
        radial = p2[0] / r

        def velocity(k: float, v_r: float):
            return ((k * math.sqrt(MU / r)) * along + v_r * radial)[None, :]

        def mean_of(k: float, v_r: float):
            me = orbit.mean_elements_from_state(p2, velocity(k, v_r), self.model)
            per = float(2 * math.pi / (me.mean_motion_rad_s[0] + me.argp_rate_rad_s[0]))
            e, w = float(me.e[0]), float(me.argp_rad[0])
            return per, np.array([e * math.cos(w), e * math.sin(w)])

        def speed_for_period(v_r: float):
            k0, k1 = 1.0, 1.0005
            per0 = mean_of(k0, v_r)[0]
            for _ in range(8):  # secant on the speed factor
                per1, _ = mean_of(k1, v_r)
                if abs(per1 - period_s) < 1e-3 or per1 == per0:
                    break
                k0, k1, per0 = k1, k1 - (per1 - period_s) * (k1 - k0) / (per1 - per0), per1
            return k1, mean_of(k1, v_r)[1]

        if vr is None:  # e^2 is quadratic in the radial part
            vrs = np.array([-0.004, 0.0, 0.004])
            e2 = np.array([float(np.sum(speed_for_period(v)[1] ** 2)) for v in vrs])
            curv = e2[0] - 2 * e2[1] + e2[2]
            vr = float(np.clip(0.004 * 0.5 * (e2[0] - e2[2]) / curv, -0.03, 0.03)) if curv > 0 else 0.0
        k, e_vec = speed_for_period(vr)
        return velocity(k, vr), e_vec

    def _along_track_error(self, pos, vel, t_s: float) -> tuple[float, float]:
        """Along-track angle (rad) from the docking place's projection onto the orbit plane, and
        the place's distance from the plane (km)."""
        place = self.orb["docking_place"]
        target = self.site_eci(place["lat_deg"], place["lon_deg"], t_s)
        el = self.elements(np.asarray(pos)[None, :], np.asarray(vel)[None, :])
        raan, inc = float(el.raan_rad[0]), float(el.i_rad[0])
        u_sc, _ = self.plane_angle(pos, raan, inc)
        u_tg, out = self.plane_angle(target, raan, inc)
        return math.remainder(u_sc - u_tg, 2 * math.pi), out * R_EQ

    # -- Apollo ------------------------------------------------------------------------------------
    def apollo(self, soyuz_traj: MissionTrajectory):
        ap = self.orb["apollo"]
        site, ins, ins_a, rv = ap["launch_site"], ap["insertion"], ap["insertion"]["assumptions"], ap["rendezvous"]
        t_launch = self.clock.t_s(data.event("apollo_launch").utc)
        t_ins = self.clock.t_s(data.event("apollo_insertion").utc)
        t_nc1, t_nc2, t_nsr = self.t_of(rv["nc1_utc"]), self.t_of(rv["nc2_utc"]), self.t_of(rv["nsr_utc"])
        t_tpi, t_tpf = self.t_of(rv["tpi_utc"]), self.t_of(rv["tpf_utc"])
        t_dock = self.clock.t_s(data.event("docking_1").utc)

        # 1. Insertion in the Soyuz plane, downrange of KSC.
        ps, vs = soyuz_traj.state("soyuz", [t_ins])
        el_s = self.elements(ps, vs)
        raan, inc = float(el_s.raan_rad[0]), float(el_s.i_rad[0])
        r_ksc = self.site_eci(site["lat_deg"], site["lon_deg"], t_launch)
        u_ksc, out_ksc = self.plane_angle(r_ksc, raan, inc)
        def insertion(d_raan: float = 0.0, d_inc: float = 0.0):
            return self.state_for_mean_heights(ins["perigee_km"], ins["apogee_km"], inc + d_inc, raan + d_raan,
                                               u_ksc + math.radians(ins_a["downrange_deg"]))

        # 2. The aim point, backwards from TPI: the co-elliptic orbit 15 km below Soyuz with the
        #    line of sight 27 deg above the horizon at TPI; where that orbit was at NSR (14:12).
        ps, vs = soyuz_traj.state("soyuz", [t_tpi])
        el = self.elements(ps, vs)
        dh = float(rv["coelliptic_delta_h_km"])
        r_s = float(np.linalg.norm(ps))
        theta = _tpi_angle(r_s, r_s - dh, math.radians(rv["tpi_elevation_deg"]))
        p_aim, v_aim = self.state_from(el.a_km[0] - dh, el.e[0], el.i_rad[0], el.raan_rad[0],
                                       el.argp_rad[0], el.nu_rad[0] - theta)
        p_nsr_aim, v_nsr_aim = self.prop(p_aim, v_aim, t_nsr - t_tpi)
        el_aim = self.elements(p_nsr_aim, v_nsr_aim)
        u_aim, r_aim = float(el_aim.u_rad[0]), float(np.linalg.norm(p_nsr_aim))

        # 3. Forwards: NC1 and NC2 along the velocity, NCC (half a revolution before NSR) along
        #    the velocity and radial, solved by Gauss-Newton with minimum-norm steps so that Apollo
        #    reaches the aim point's argument of latitude, radius and radial velocity at NSR; NSR
        #    then only adjusts the speed onto the co-elliptic orbit.
        t_ncc = t_nsr - 0.5 * 2 * math.pi * math.sqrt(r_aim ** 3 / MU)
        rdot_aim = float(np.dot(p_nsr_aim[0], v_nsr_aim[0]) / r_aim)
        aim = (u_aim, r_aim, rdot_aim)
        times = (t_nc1, t_nc2, t_ncc, t_nsr)
        u_ghost = float(self.elements(*self.prop(p_nsr_aim, v_nsr_aim, t_nc2 - t_nsr)).u_rad[0])

        def solve_phasing(p_ins, v_ins):
            p_nc1, v_nc1_m = self.prop(p_ins, v_ins, t_nc1 - t_ins)
            dv_grid = np.linspace(-0.08, 0.08, 33)  # km/s: a coarse phasing search for NC1 first
            err = self._nc1_errors(p_nc1, v_nc1_m, dv_grid, t_nc2 - t_nc1, u_ghost)
            x = np.array([_smallest_root(dv_grid, err), 0.0, 0.0, 0.0])
            h = 1e-5
            for _ in range(15):
                f = self._nsr_miss(p_nc1, v_nc1_m, x[None, :] + np.vstack([np.zeros(4), h * np.eye(4)]), times, aim)
                if np.all(np.abs(f[0]) < 1e-4):
                    break
                jac = ((f[1:] - f[0]) / h).T
                x = x - np.linalg.lstsq(jac, f[0], rcond=None)[0]
            return p_nc1, v_nc1_m, x

        # Apollo was aimed into a plane that the differential nodal regression brings onto the
        # Soyuz plane by NSR: solve the insertion node and inclination offsets for that.
        n_aim = np.cross(p_nsr_aim[0], v_nsr_aim[0])
        n_aim /= np.linalg.norm(n_aim)
        d_plane = np.zeros(2)
        for _ in range(2):
            p_ins, v_ins = insertion(*d_plane)
            p_nc1, v_nc1_m, x = solve_phasing(p_ins, v_ins)
            rows = []
            for dd in (np.zeros(2), np.array([1e-4, 0.0]), np.array([0.0, 1e-4])):
                pi_, vi_ = insertion(*(d_plane + dd))
                pc, vc = self.prop(pi_, vi_, t_nc1 - t_ins)
                st = self._phasing_states(pc, vc, x[None, :], times)
                rows.append([float(st["p_nsr"][0] @ n_aim), float(st["v_nsr_m"][0] @ n_aim) * 1000.0])
            rows = np.asarray(rows)
            jac = ((rows[1:] - rows[0]) / 1e-4).T
            d_plane = d_plane - np.linalg.solve(jac, rows[0])
        p_ins, v_ins = insertion(*d_plane)
        p_nc1, v_nc1_m, x = solve_phasing(p_ins, v_ins)
        plan = self._phasing_states(p_nc1, v_nc1_m, x[None, :], times)
        v_nc1_p, p_nc2, v_nc2_m, v_nc2_p = plan["v_nc1_p"], plan["p_nc2"], plan["v_nc2_m"], plan["v_nc2_p"]
        p_ncc, v_ncc_m, v_ncc_p = plan["p_ncc"], plan["v_ncc_m"], plan["v_ncc_p"]
        p_nsr, v_nsr_m = plan["p_nsr"], plan["v_nsr_m"]

        # NSR: onto the co-elliptic orbit (the aim velocity, carried to Apollo's actual point).
        v_nsr_p = v_nsr_aim
        p_tpi, v_tpi_m = self.prop(p_nsr, v_nsr_p, t_tpi - t_nsr)
        # TPI: shoot to the station-keeping point behind Soyuz at TPF.
        ps_f, vs_f = soyuz_traj.state("soyuz", [t_tpf])
        sk_km = float(rv["stationkeeping_range_m"]) / 1000.0
        target = ps_f[0] - sk_km * vs_f[0] / np.linalg.norm(vs_f[0])
        v_tpi_p = self.shoot(p_tpi, v_tpi_m, t_tpf - t_tpi, target)[None, :]
        p_tpf, v_tpf_m = self.prop(p_tpi, v_tpi_p, t_tpf - t_tpi)

        # 4. Formation with Soyuz from TPF; docked; separation; own coast after leaving.
        form_knots, offsets, labels = self._formation_knots(t_tpf, t_dock, sk_km * 1000.0)
        t_dep = form_knots[-1]
        formation = Formation("soyuz", np.asarray(form_knots), np.asarray(offsets, dtype=np.float64))
        probe = MissionTrajectory(self.clock, {"soyuz": soyuz_traj.segments["soyuz"],
                                               "apollo": [Segment(t_tpf, t_dep, "formation", formation)]}, [], {})
        p_tpf_f, v_tpf_f = probe.state("apollo", [t_tpf])
        p_dep, v_dep = probe.state("apollo", [t_dep])
        t_end = self.t_of(ap["coverage"]["end_utc"])

        segments = [
            Segment(t_ins, t_nc1, "coast", self.table(p_ins, v_ins, t_ins, t_nc1)),
            Segment(t_nc1, t_nc2, "coast", self.table(p_nc1, v_nc1_p, t_nc1, t_nc2)),
            Segment(t_nc2, t_ncc, "coast", self.table(p_nc2, v_nc2_p, t_nc2, t_ncc)),
            Segment(t_ncc, t_nsr, "coast", self.table(p_ncc, v_ncc_p, t_ncc, t_nsr)),
            Segment(t_nsr, t_tpi, "coast", self.table(p_nsr, v_nsr_p, t_nsr, t_tpi)),
            Segment(t_tpi, t_tpf, "coast", self.table(p_tpi, v_tpi_p, t_tpi, t_tpf)),
        ]
        for (ta, tb, label) in labels:
            segments.append(Segment(ta, tb, label, formation))
        segments.append(Segment(t_dep, t_end, "coast", self.table(p_dep, v_dep, t_dep, t_end)))

        burns = [
            Burn("apollo", "NC1 phasing", t_nc1, (v_nc1_p - v_nc1_m)[0]),
            Burn("apollo", "NC2 phasing", t_nc2, (v_nc2_p - v_nc2_m)[0]),
            Burn("apollo", "NCC corrective combination", t_ncc, (v_ncc_p - v_ncc_m)[0]),
            Burn("apollo", "NSR co-elliptic", t_nsr, (v_nsr_p - v_nsr_m)[0]),
            Burn("apollo", "TPI terminal phase initiation", t_tpi, (v_tpi_p - v_tpi_m)[0]),
            Burn("apollo", "TPF terminal phase finalisation", t_tpf, (v_tpf_f - v_tpf_m)[0]),
        ]
        tpf_gap_m = float(np.linalg.norm(p_tpf_f - p_tpf)) * 1000.0
        solved = {
            "ksc_out_of_soyuz_plane_km_at_apollo_launch": out_ksc * R_EQ,
            "apollo_insertion_plane_offset_deg": [math.degrees(float(d)) for d in d_plane],
            "tpi_phase_angle_deg": math.degrees(theta),
            "tpi_range_km": float(np.linalg.norm(p_tpi[0] - ps[0])),
            "nsr_miss_from_aim_km": float(np.linalg.norm(p_nsr[0] - p_nsr_aim[0])),
            "tpf_position_gap_m": tpf_gap_m,
            "apollo_burns_m_s": {b.name: round(b.dv_m_s, 2) for b in burns},
        }
        return segments, burns, solved

    def _phasing_states(self, p_nc1, v_nc1_m, x, times) -> dict:
        """Apply NC1 (x[:,0] along), NC2 (x[:,1] along), NCC (x[:,2] along, x[:,3] radial) and
        coast to NSR; rows of x are independent cases (km/s)."""
        t_nc1, t_nc2, t_ncc, t_nsr = times
        n = len(x)
        zero = np.zeros((n, 1))
        st = {"v_nc1_p": np.repeat(v_nc1_m, n, axis=0)}
        st["v_nc1_p"] = st["v_nc1_p"] + _in_plane_dv(np.repeat(p_nc1, n, axis=0), st["v_nc1_p"], np.hstack([x[:, 0:1], zero]))
        st["p_nc2"], st["v_nc2_m"] = self.prop(np.repeat(p_nc1, n, axis=0), st["v_nc1_p"], t_nc2 - t_nc1)
        st["v_nc2_p"] = st["v_nc2_m"] + _in_plane_dv(st["p_nc2"], st["v_nc2_m"], np.hstack([x[:, 1:2], zero]))
        st["p_ncc"], st["v_ncc_m"] = self.prop(st["p_nc2"], st["v_nc2_p"], t_ncc - t_nc2)
        st["v_ncc_p"] = st["v_ncc_m"] + _in_plane_dv(st["p_ncc"], st["v_ncc_m"], x[:, 2:4])
        st["p_nsr"], st["v_nsr_m"] = self.prop(st["p_ncc"], st["v_ncc_p"], t_nsr - t_ncc)
        return st

    def _nsr_miss(self, p_nc1, v_nc1_m, x, times, aim):
        """Misses at NSR for rows x (see _phasing_states): (argument-of-latitude error x radius,
        radius error, radial-velocity error x 1000 s), all in km."""
        u_aim, r_aim, rdot_aim = aim
        st = self._phasing_states(p_nc1, v_nc1_m, x, times)
        pos, vel = st["p_nsr"], st["v_nsr_m"]
        u = self.elements(pos, vel).u_rad
        r = np.linalg.norm(pos, axis=-1)
        du = np.array([math.remainder(float(a) - u_aim, 2 * math.pi) for a in u])
        rdot = np.sum(pos * vel, axis=-1) / r
        return np.stack([du * r_aim, r - r_aim, (rdot - rdot_aim) * 1000.0], axis=-1)

    def _nc1_errors(self, p_nc1, v_nc1_m, dvs, dt, u_target):
        n = len(dvs)
        v = np.repeat(v_nc1_m, n, axis=0)
        v = v + dvs[:, None] * v / np.linalg.norm(v, axis=-1, keepdims=True)
        pos, vel = self.prop(np.repeat(p_nc1, n, axis=0), v, dt)
        u = np.asarray(self.elements(pos, vel).u_rad, dtype=np.float64)
        return np.asarray([math.remainder(float(x) - u_target, 2 * math.pi) for x in u])

    def _formation_knots(self, t_tpf, t_dock, sk_m):
        """Apollo's LVLH offset from Soyuz: from the station-keeping point at TPF it holds station
        until the final approach (orbits.toml final_approach_utc, where the docking simulation
        starts, 30 m port to port: the Docking Module's length more between the two vehicles'
        reference points), then closes to zero at capture; the docking simulation replaces the
        last stretch in the scene (experience/simulation/docking_replay.py)."""
        f, d = self.orb["formation"], self.orb["docked"]
        t_u1, t_d2 = self.t_of(d["first_undocking_utc"]), self.t_of(d["second_docking_utc"])
        t_u2, t_dep = self.t_of(d["final_undocking_utc"]), self.t_of(d["apollo_departs_utc"])
        t_fa = self.t_of(self.orb["apollo"]["rendezvous"]["final_approach_utc"])
        if not (t_tpf < t_fa < t_dock):
            raise DataFileError("data/mission/orbits.toml: [apollo.rendezvous] final_approach_utc must lie between TPF and the docking")
        dm_m = float(data.vehicles()["docking_module"]["length_m"])
        zero, sk, sk_fa = [0.0, 0.0, 0.0], [0.0, -sk_m, 0.0], [0.0, -(sk_m + dm_m), 0.0]
        t_mid = 0.5 * (t_u1 + t_d2)
        knots = [t_tpf, t_fa, t_dock, t_u1, t_mid, t_d2, t_u2, t_dep]
        offsets = [sk, sk_fa, zero, zero, f["undocking_1_backoff_m"], zero, zero, f["after_final_undocking_m"]]
        labels = [(t_tpf, t_dock, "formation"), (t_dock, t_u1, "docked"), (t_u1, t_d2, "formation"),
                  (t_d2, t_u2, "docked"), (t_u2, t_dep, "formation")]
        return knots, offsets, labels

    def build(self) -> MissionTrajectory:
        s_segments, s_burns, s_solved = self.soyuz()
        soyuz_only = MissionTrajectory(self.clock, {"soyuz": s_segments}, s_burns, s_solved)
        a_segments, a_burns, a_solved = self.apollo(soyuz_only)
        return MissionTrajectory(self.clock, {"soyuz": s_segments, "apollo": a_segments},
                                 s_burns + a_burns, {**s_solved, **a_solved})


def _in_plane_dv(pos, vel, parts):
    """Velocity change (n, 3) from (along-velocity, radial) parts (n, 2), km/s."""
    along = vel / np.linalg.norm(vel, axis=-1, keepdims=True)
    radial = pos / np.linalg.norm(pos, axis=-1, keepdims=True)
    return parts[:, 0:1] * along + parts[:, 1:2] * radial


def _local_extrema(table: Table, t0_s: float, t1_s: float, want_min: bool) -> list[float]:
    """Times of the radius minima (perigees) or maxima (apogees) of a table inside [t0, t1],
    refined by a parabola through the 5 s samples around each."""
    t = np.arange(t0_s, t1_s, 5.0)
    p, _ = table.state(t)
    r = np.linalg.norm(p, axis=-1) * (1.0 if want_min else -1.0)
    k = np.where((r[1:-1] < r[:-2]) & (r[1:-1] <= r[2:]))[0] + 1
    out = []
    for i in k:
        denom = r[i - 1] - 2 * r[i] + r[i + 1]
        shift = 0.5 * (r[i - 1] - r[i + 1]) / denom if denom > 0 else 0.0
        out.append(float(t[i] + 5.0 * shift))
    return out


def _tpi_angle(r_target_km: float, r_chaser_km: float, elevation_rad: float) -> float:
    """Central angle by which the chaser trails, for a given line-of-sight elevation (circular)."""
    lo, hi = 1e-6, 0.5
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        el = math.atan2(r_target_km * math.cos(mid) - r_chaser_km, r_target_km * math.sin(mid))
        lo, hi = (mid, hi) if el > elevation_rad else (lo, mid)
    return 0.5 * (lo + hi)


def _smallest_root(x: np.ndarray, y: np.ndarray) -> float:
    """The zero crossing of sampled y(x) (not a 2-pi wrap jump) closest to x = 0."""
    roots = []
    for k in range(len(x) - 1):
        if y[k] * y[k + 1] <= 0 and abs(y[k] - y[k + 1]) < math.pi:
            denom = y[k + 1] - y[k]
            roots.append(float(x[k]) if denom == 0 else float(x[k] - y[k] * (x[k + 1] - x[k]) / denom))
    if not roots:
        raise RuntimeError("no phasing solution in the searched range of NC1 burns")
    return min(roots, key=abs)


# --------------------------------------------------------------------------------------------
# Cache (experience/cache.py: generated/trajectory.npz in the repository, else the user cache)
# --------------------------------------------------------------------------------------------
R_PLAUSIBLE_KM = (6450.0, 6900.0)  # geocentric radius: perigee 150 km .. apogee 520 km
V_PLAUSIBLE_KM_S = (7.4, 8.1)
KINEMATIC_TOL_KM = 2.5e-4  # positions vs velocities of a table: 0.02 m as built; positions scaled by 1 + 1e-6 give 0.46 m
DATA_FILES = ("mission/orbits.toml", "mission/timeline.toml", "mission/vehicles.toml",
              "reference/leap_seconds.csv", "reference/eop_1975_july.csv")
CODE_FILES = ("experience/simulation/trajectory.py", "experience/mission/clock.py", "experience/mission/data.py",
              "kernels/orbit.py", "kernels/integrators.py", "kernels/earth.py", "kernels/timescales.py",
              "kernels/constants.py", "kernels/_xp.py")


def cache_entry() -> cache.Entry:
    """The trajectory's cache entry: keyed by the data files it reads and the code that builds it."""
    root = repo_root()
    sources = tuple(data.data_dir() / f for f in DATA_FILES) + tuple(root / f for f in CODE_FILES)
    return cache.Entry("trajectory", "trajectory", sources, params=(CACHE_VERSION, TABLE_STEP_S),
                       check=_check_arrays, generated=True)


def _to_arrays(traj: MissionTrajectory) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {}
    meta = {"segments": {}, "burns": [], "solved": traj.solved}
    for vehicle, segs in traj.segments.items():
        meta["segments"][vehicle] = []
        for k, seg in enumerate(segs):
            key = f"{vehicle}_{k}"
            entry = {"t0_s": seg.t0_s, "t1_s": seg.t1_s, "label": seg.label, "key": key}
            if isinstance(seg.piece, Table):
                entry["type"] = "table"
                arrays[key + "_t"], arrays[key + "_p"], arrays[key + "_v"] = seg.piece.t_s, seg.piece.pos_km, seg.piece.vel_km_s
            else:
                entry["type"] = "formation"
                entry["leader"] = seg.piece.leader
                arrays[key + "_t"], arrays[key + "_o"] = seg.piece.t_s, seg.piece.offset_m
            meta["segments"][vehicle].append(entry)
    for k, b in enumerate(traj.burns):
        meta["burns"].append({"vehicle": b.vehicle, "name": b.name, "t_s": b.t_s})
        arrays[f"burn_{k}"] = b.dv_km_s
    arrays["meta"] = cache.json_array(meta)
    return {k: np.asarray(v, dtype=np.float64) if k != "meta" else v for k, v in arrays.items()}


def _accel_j2_km_s2(pos_km: np.ndarray) -> np.ndarray:
    """Point mass + J2 (enough to check that a table's positions belong to its velocities)."""
    r = np.linalg.norm(pos_km, axis=-1, keepdims=True)
    z2 = (pos_km[:, 2:3] / r) ** 2
    k = 1.5 * J2 * MU * R_EQ ** 2 / r ** 5
    j2 = k * pos_km * np.concatenate([5 * z2 - 1, 5 * z2 - 1, 5 * z2 - 3], axis=1)
    return -MU * pos_km / r ** 3 + j2


def _check_arrays(arrays) -> None:
    """Shapes, types and ranges of a trajectory cache, and that every table's positions and
    velocities belong together (a position moved, scaled or swapped is found here even when the
    checksum was recomputed)."""
    Invalid, req = cache.Invalid, cache.require
    meta = cache.from_json_array(req(arrays, "meta", np.uint8, (None,)))
    if not isinstance(meta, dict) or set(meta) != {"segments", "burns", "solved"}:
        raise Invalid("has a malformed description")
    segs_by_vehicle = meta["segments"]
    if not isinstance(segs_by_vehicle, dict) or set(segs_by_vehicle) != set(VEHICLES):
        raise Invalid("does not describe both spacecraft")
    used = {"meta"}
    for vehicle, entries in segs_by_vehicle.items():
        if not isinstance(entries, list) or not entries:
            raise Invalid(f"has no segments for {vehicle}")
        prev_t1 = None
        for e in entries:
            try:
                key, t0, t1, label, kind = e["key"], float(e["t0_s"]), float(e["t1_s"]), e["label"], e["type"]
            except (KeyError, TypeError, ValueError):
                raise Invalid(f"has a malformed {vehicle} segment") from None
            if not (math.isfinite(t0) and math.isfinite(t1) and t0 < t1) or label not in ("coast", "formation", "docked"):
                raise Invalid(f"has a malformed {vehicle} segment {key}")
            if prev_t1 is not None and abs(t0 - prev_t1) > 1e-6:
                raise Invalid(f"has a gap in the {vehicle} segments at {key}")
            prev_t1 = t1
            t = req(arrays, key + "_t", np.float64, (None,))
            used.add(key + "_t")
            if t.size < 2 or not (np.diff(t) > 0).all():
                raise Invalid(f"has times of {key} that do not increase")
            if kind == "table":
                p = req(arrays, key + "_p", np.float64, (t.size, 3))
                v = req(arrays, key + "_v", np.float64, (t.size, 3))
                used |= {key + "_p", key + "_v"}
                if abs(t[0] - t0) > 1e-6 or abs(t[-1] - t1) > 1e-6:
                    raise Invalid(f"has a table {key} that does not span its segment")
                r, s = np.linalg.norm(p, axis=-1), np.linalg.norm(v, axis=-1)
                if r.min() < R_PLAUSIBLE_KM[0] or r.max() > R_PLAUSIBLE_KM[1]:
                    raise Invalid(f"has {vehicle} positions outside a low Earth orbit ({r.min():.0f}-{r.max():.0f} km from the centre)")
                if s.min() < V_PLAUSIBLE_KM_S[0] or s.max() > V_PLAUSIBLE_KM_S[1]:
                    raise Invalid(f"has {vehicle} speeds outside a low Earth orbit ({s.min():.3f}-{s.max():.3f} km/s)")
                dt = np.diff(t)[:, None]
                a = _accel_j2_km_s2(p)
                res = p[1:] - p[:-1] - 0.5 * dt * (v[:-1] + v[1:]) - dt * dt / 12.0 * (a[:-1] - a[1:])
                worst = float(np.abs(res).max())
                if worst > KINEMATIC_TOL_KM:
                    raise Invalid(f"has {vehicle} positions that do not follow from its velocities "
                                  f"(off by {worst * 1000:.0f} m in {key})")
            elif kind == "formation":
                if e.get("leader") not in VEHICLES or e["leader"] == vehicle:
                    raise Invalid(f"has a formation {key} without a valid leader")
                req(arrays, key + "_o", np.float64, (t.size, 3), lo=-1e5, hi=1e5)
                used.add(key + "_o")
            else:
                raise Invalid(f"has a segment {key} of unknown type {kind!r}")
    burns = meta["burns"]
    if not isinstance(burns, list):
        raise Invalid("has a malformed burn list")
    for k, b in enumerate(burns):
        if not (isinstance(b, dict) and b.get("vehicle") in VEHICLES and isinstance(b.get("name"), str)
                and isinstance(b.get("t_s"), (int, float)) and math.isfinite(b["t_s"])):
            raise Invalid(f"has a malformed burn {k}")
        dv = req(arrays, f"burn_{k}", np.float64, (3,))
        used.add(f"burn_{k}")
        if float(np.linalg.norm(dv)) > 0.2:
            raise Invalid(f"has an implausible burn {b['name']!r} ({np.linalg.norm(dv) * 1000:.0f} m/s)")
    extra = set(arrays) - used
    if extra:
        raise Invalid(f"has unexpected fields ({', '.join(sorted(extra)[:3])})")


def _from_arrays(arrays, clock: MissionClock) -> MissionTrajectory:
    meta = cache.from_json_array(arrays["meta"])
    segments: dict[str, list[Segment]] = {}
    for vehicle, entries in meta["segments"].items():
        segs = []
        for e in entries:
            key = e["key"]
            if e["type"] == "table":
                piece = Table(arrays[key + "_t"], arrays[key + "_p"], arrays[key + "_v"])
            else:
                piece = Formation(e["leader"], arrays[key + "_t"], arrays[key + "_o"])
            segs.append(Segment(float(e["t0_s"]), float(e["t1_s"]), e["label"], piece))
        segments[vehicle] = segs
    burns = [Burn(b["vehicle"], b["name"], float(b["t_s"]), arrays[f"burn_{k}"]) for k, b in enumerate(meta["burns"])]
    return MissionTrajectory(clock, segments, burns, meta["solved"])


def build_arrays(clock: MissionClock | None = None) -> dict[str, np.ndarray]:
    """Reconstruct the mission (tens of seconds) and return it as the cache's arrays."""
    return _to_arrays(_Builder(clock or MissionClock.from_data()).build())


_MEMO: dict[str, MissionTrajectory] = {}


def mission_trajectory(clock: MissionClock | None = None, *, use_cache: bool = True, rebuild: bool = False,
                       notice=None) -> MissionTrajectory:
    """The reconstructed mission: from generated/trajectory.npz or the user cache when their key
    matches and they pass their checks, else rebuilt (tens of seconds) and cached.
    ``rebuild``: solve again and rewrite the user cache. ``use_cache=False``: solve, write nothing."""
    clock = clock or MissionClock.from_data()
    entry = cache_entry()
    key = entry.key
    if key in _MEMO and not rebuild:
        return _MEMO[key]
    if not use_cache:
        traj = _Builder(clock).build()
        _MEMO[key] = traj
        return traj
    got = cache.load(entry, lambda: build_arrays(clock), rebuild=rebuild, notice=notice)
    traj = _from_arrays(got.arrays, clock)
    _MEMO[key] = traj
    return traj


def mean_orbit(pos_km: np.ndarray, vel_km_s: np.ndarray) -> dict:
    """The mean orbit of one state as the sources publish orbits: perigee and apogee heights
    above the equatorial radius (km), inclination (deg) and nodal period (min)."""
    me = orbit.mean_elements_from_state(np.atleast_2d(pos_km), np.atleast_2d(vel_km_s),
                                        orbit.default_force_model(j3_j4=True, drag=False))
    a, e = float(me.a_km[0]), float(me.e[0])
    return {"perigee_km": round(a * (1 - e) - R_EQ, 2), "apogee_km": round(a * (1 + e) - R_EQ, 2),
            "inclination_deg": round(math.degrees(float(me.i_rad[0])), 3),
            "nodal_period_min": round(2 * math.pi / float(me.mean_motion_rad_s[0] + me.argp_rate_rad_s[0]) / 60.0, 3)}


# Instants at which `describe` reports the mean orbit (each between the burns that bound it).
ORBIT_CHECKPOINTS = {
    "soyuz_insertion_orbit": ("soyuz", "1975-07-15T12:40:00Z"),
    "soyuz_assembly_orbit": ("soyuz", "1975-07-17T00:00:00Z"),
    "apollo_insertion_orbit": ("apollo", "1975-07-15T20:10:00Z"),
    "apollo_coelliptic_orbit": ("apollo", "1975-07-17T14:40:00Z"),
    "docked_orbit": ("soyuz", "1975-07-18T12:00:00Z"),
}


def describe(traj: MissionTrajectory) -> dict:
    """A JSON-ready summary of the reconstruction: spans, burns, mean orbits, solved values."""
    clock = traj.clock
    orbits = {}
    for name, (vehicle, utc) in ORBIT_CHECKPOINTS.items():
        p, v = traj.state(vehicle, [clock.t_s(parse_utc(utc))])
        orbits[name] = {"vehicle": vehicle, "utc": utc, **mean_orbit(p, v)}
    return {
        "orbits": orbits,
        "spans": {v: [format_utc(clock.utc(a)) for a in traj.span(v)] for v in traj.segments},
        "burns": [{"vehicle": b.vehicle, "name": b.name, "utc": format_utc(clock.utc(b.t_s)),
                   "dv_m_s": round(b.dv_m_s, 3)} for b in traj.burns],
        "solved": traj.solved,
    }


__all__ = ["MissionTrajectory", "mission_trajectory", "describe", "Burn", "Segment", "Table",
           "Formation", "lvlh_basis"]
