"""Camera placements: pure geometry (no rendering), checked against the ephemeris."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("panda3d")


def snap_at(eph, iso):
    from experience.mission.clock import parse_utc
    from experience.simulation.snapshot import snapshot

    return snapshot(eph, eph.clock.t_s(parse_utc(iso)))


def sun_elevation_deg(point_km, snap) -> float:
    up = np.asarray(point_km) / np.linalg.norm(point_km)
    return math.degrees(math.asin(float(up @ np.asarray(snap.sun_unit_eci))))


def test_metered_point_is_on_the_ground_along_the_line_of_sight(eph):
    from experience.scene import views

    snap = snap_at(eph, "1975-07-17T19:19:00Z")
    p = views.place("window", snap)
    state = snap.vehicles["apollo"]
    fwd = p.basis[:, 1]
    point = views.metered_point_km(p.camera_km, fwd, state)
    radius = np.linalg.norm(state.pos_km) - state.alt_km
    assert np.linalg.norm(point) == pytest.approx(radius, abs=1e-6)
    along = (point - p.camera_km) / np.linalg.norm(point - p.camera_km)
    assert along @ fwd == pytest.approx(1.0, abs=1e-9)
    # looking up, past the Earth: the ground below is metered
    assert np.allclose(views.metered_point_km(p.camera_km, state.pos_km, state), state.pos_km)


def test_exposure_follows_the_light_where_the_camera_looks(eph):
    """At 19:19 the ground below had just seen sunset and the stack flies toward the night: the
    exterior, whose subject is the sunlit stack, opens up by at most 2 stops; the window, whose
    subject is the twilit ground ahead, opens up further with the Sun's depression there."""
    from experience.scene import views

    snap = snap_at(eph, "1975-07-17T19:19:00Z")
    state = snap.vehicles["apollo"]
    assert sun_elevation_deg(state.pos_km, snap) < 0.0
    win = views.place("window", snap)
    ext = views.place("exterior", snap)
    for p, dusk in ((win, views.DUSK_STOPS), (ext, 0.0)):
        point = views.metered_point_km(p.camera_km, p.basis[:, 1], state)
        elev = sun_elevation_deg(point, snap)
        stops = views.TWILIGHT_STOPS * float(np.clip((25.0 - elev) / 25.0, 0.0, 1.0))
        stops += dusk * float(np.clip(-elev / 6.0, 0.0, 1.0))
        assert p.exposure == pytest.approx(2.0 ** stops)
    assert ext.exposure <= 2.0 ** views.TWILIGHT_STOPS
    assert win.exposure > ext.exposure
    # in full daylight nothing opens up
    day = views.place("exterior", snap_at(eph, "1975-07-17T19:00:00Z"))
    assert day.exposure == pytest.approx(1.0)
