"""What a ground-track map shows, computed here so the map front end draws without physics:
the tracks of both spacecraft over a span, the timeline events inside it, and day and night
(with the subsolar point) at one chosen moment."""

from __future__ import annotations

import datetime as _dt

from experience.errors import AstpError
from experience.mission import data
from experience.mission.clock import format_utc
from experience.simulation.ephemeris import Ephemeris

TRACK_COLORS = {"soyuz": "#ff5a4f", "apollo": "#4fc3ff"}
LABELS = {"soyuz": "Soyuz 19", "apollo": "Apollo"}
EVENT_GROUPS = {"soyuz": "Soyuz 19", "apollo": "Apollo", "both": "Joint"}


def map_data(eph: Ephemeris, start: _dt.datetime, end: _dt.datetime, moment: _dt.datetime,
             vehicles=("soyuz", "apollo"), step_s: float = 20.0) -> dict:
    """Keyword arguments for ``experience.frontends.groundmap.render_ground_track_map``."""
    if end <= start:
        raise AstpError(f"the map span ends ({format_utc(end)}) before it starts ({format_utc(start)}); swap --from and --to")
    clock = eph.clock
    t0, t1 = clock.t_s(start), clock.t_s(end)
    tracks, events = [], []
    for vehicle in vehicles:
        v0, v1 = eph.traj.span(vehicle)
        a, b = max(t0, v0), min(t1, v1)
        if b <= a:
            continue
        _, lat, lon = eph.ground_track(vehicle, a, b, step_s)
        tracks.append({"label": LABELS[vehicle], "color": TRACK_COLORS[vehicle], "lat_deg": lat, "lon_deg": lon})
    if not tracks:
        raise AstpError(
            f"neither spacecraft was in orbit between {format_utc(start)} and {format_utc(end)}; "
            f"choose a span inside {format_utc(clock.utc(eph.traj.span('soyuz')[0]))} .. "
            f"{format_utc(clock.utc(eph.traj.span('apollo')[1]))}"
        )
    for ev in data.timeline():
        if not (start <= ev.utc <= end):
            continue
        t = clock.t_s(ev.utc)
        vehicle = "soyuz" if ev.vehicle == "both" else ev.vehicle
        v0, v1 = eph.traj.span(vehicle)
        if not (v0 <= t <= v1) or vehicle not in vehicles and ev.vehicle != "both":
            continue
        s = eph.evaluate(vehicle, [t])
        events.append({"label": ev.name, "utc": format_utc(ev.utc), "lat_deg": float(s.lat_deg[0]),
                       "lon_deg": float(s.lon_deg[0]), "vehicle": EVENT_GROUPS[ev.vehicle]})
    tm = clock.t_s(moment)
    return {
        "tracks": tracks,
        "events": events,
        "night_mask": eph.night_mask(tm, (360, 720)),
        "subsolar": eph.subsolar_point(tm),
        "moment_label": f"Day and night at {format_utc(moment)}",
        "title": f"Ground tracks {format_utc(start)} to {format_utc(end)}",
    }
