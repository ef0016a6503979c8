"""Camera placements: where each view puts the camera, from the snapshot alone (deterministic).

Every placement is float64 km ECI (position) plus an orthonormal basis (columns right, forward,
up in ECI), handed to the render boundary. Points on the spacecraft are given in the model frame
(docs/models.md; +Y the stack axis toward Soyuz, origin at the CM docking-ring face, +Z the CM
hatch side) and carried into ECI with the vehicle's attitude (experience.scene.vehicles).

- ``exterior``: a camera flying around the stack, 44 m from its middle, looking 20 deg down
  at it along a direction 100 deg to the side of the Sun's azimuth (of the two sides, the one
  that sees the stack more nearly broadside): the Sun stays out of the frame, the sunward Earth
  fills the background, the limb crosses the upper third and the stack is lit from the side.
  It sways slowly about that place, +-12 deg in azimuth (period 20 min) and +-4 deg in elevation
  (31 min), a pure function of the mission time: the same instant always gives the same picture.
- ``window``: from just outside the round window in the CM side hatch (the hatch side faces the
  Earth in the documented attitude) along the window's outward normal, tilted 25 deg up toward
  the horizon; the tone-map pass draws an illustrative window frame around it.
- ``handshake``: inside the Docking Module, up against its wall beside the opened Soyuz-end
  hatch (the 1.32 m cabin is full of people: from its Apollo end the view is Stafford's and
  Slayton's backs), looking obliquely across the cabin through the hatchway into the Soyuz
  orbital module, at the two right hands meeting in the hatchway (the crews: vehicles.py,
  docs/models.md); lit by a floodlight at the camera and a lamp in the orbital module
  (illustrative cabin lighting; no sunlight inside).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from experience.errors import AstpError
from experience.scene import boundary
from experience.scene.config import VIEWS, check_view
from experience.scene.vehicles import model_to_eci

EXTERIOR_DISTANCE_M = 44.0
EXTERIOR_ELEVATION_DEG = 20.0
EXTERIOR_FOV_DEG = 55.0
VIEW_FROM_SUN_DEG = 100.0
TWILIGHT_STOPS = 2.0          # extra exposure when the ground below is in twilight (see auto_exposure)
DUSK_STOPS = 2.0              # more, for a view of the ground alone, as the metered ground's Sun sets (to -6 deg)
STACK_CENTRE_MODEL_M = (0.0, 0.4, 0.0)  # middle of the docked stack (SPS nozzle -10.1 m .. Soyuz aft +10.6 m)
APOLLO_CENTRE_MODEL_M = (0.0, -3.0, 0.0)
SOYUZ_CENTRE_MODEL_M = (0.0, 3.7, 0.0)
HANDSHAKE_EYE_MODEL_M = (-0.42, 1.75, 0.25)   # DM cabin: radius 0.66, y 0.60-2.75; the open hatch lies at -X, y 1.87-2.75
HANDSHAKE_LOOK_MODEL_M = (0.08, 3.0, 0.0)     # the handshake point (data/mission/crew_figures.toml)
HANDSHAKE_FOV_DEG = 75.0


@dataclasses.dataclass(frozen=True)
class Placement:
    view: str
    camera_km: np.ndarray      # float64 ECI
    basis: np.ndarray          # (3, 3) columns right, forward, up (ECI)
    fov_deg: float             # horizontal
    near_m: float              # near plane of the NEAR pass
    interior: bool             # cabin lighting instead of Sun and Earth
    window_frame: bool         # draw the illustrative window frame (tone-map pass)
    target_km: np.ndarray | None = None   # what the camera looks at (tests, overlays)
    exposure: float = 1.0      # the camera's own exposure (auto_exposure); RenderConfig.exposure multiplies it
    lamp_km: np.ndarray | None = None     # a cabin lamp (interior views)


def model_point_km(state, p_model_m) -> np.ndarray:
    """A point given in the vehicle's model frame (metres) -> float64 km ECI."""
    return np.asarray(state.pos_km, dtype=np.float64) + model_to_eci(state) @ np.asarray(p_model_m, dtype=np.float64) / 1000.0


def _subject(snapshot):
    """(VehicleState, model-frame centre) the exterior view looks at."""
    vs = snapshot.vehicles
    if not vs:
        raise AstpError(f"no spacecraft is in orbit at {snapshot.utc:%Y-%m-%dT%H:%M:%SZ}; "
                        "choose a time between Soyuz's orbit insertion and Apollo's re-entry")
    docked = any(v.phase == "docked" for v in vs.values())
    if docked:
        return vs.get("apollo") or next(iter(vs.values())), STACK_CENTRE_MODEL_M
    if "apollo" in vs:
        return vs["apollo"], APOLLO_CENTRE_MODEL_M
    return vs["soyuz"], SOYUZ_CENTRE_MODEL_M


def metered_point_km(cam_km, fwd, state) -> np.ndarray:
    """Where the camera's line of sight meets the Earth (a sphere through the point below the
    spacecraft), or the point below the spacecraft when it looks past the Earth."""
    cam = np.asarray(cam_km, dtype=np.float64)
    d = np.asarray(fwd, dtype=np.float64)
    d = d / np.linalg.norm(d)
    below = np.asarray(state.pos_km, dtype=np.float64)
    radius = float(np.linalg.norm(below)) - float(state.alt_km)
    b = float(cam @ d)
    disc = b * b - (float(cam @ cam) - radius * radius)
    if disc > 0.0 and -b - math.sqrt(disc) > 0.0:
        return cam + d * (-b - math.sqrt(disc))
    return below


def auto_exposure(snapshot, state, cam_km=None, fwd=None, dusk_stops: float = 0.0) -> float:
    """The camera's exposure, a pure function of the geometry (deterministic, no metering of
    pixels): 1.0 (sunny-16 for a sunlit subject) while the ground the camera looks at (where its
    line of sight meets the Earth; the ground below when it looks past it) is in full daylight,
    opening up to +2 stops as the Sun there sinks to the horizon and the picture is mostly twilit
    Earth (and in the Earth's shadow, where the picture stays dark: the night side is only the
    faint illustrative floor). ``dusk_stops``: for a view whose subject is the ground itself (the
    window), up to that many stops more as the Sun at the metered ground goes from 0 to 6 deg
    below the horizon (civil twilight), as a photographer at the window would open up."""
    if cam_km is None or fwd is None:
        point = np.asarray(state.pos_km, dtype=np.float64)
    else:
        point = metered_point_km(cam_km, fwd, state)
    return auto_exposure_at(snapshot, point, dusk_stops)


def exterior(snapshot, fov_deg: float | None = None) -> Placement:
    state, centre = _subject(snapshot)
    target = model_point_km(state, centre)
    b = np.asarray(state.body_to_eci, dtype=np.float64)
    x_b, y_b, z_b = b[:, 0], b[:, 1], b[:, 2]
    sun = np.asarray(snapshot.sun_unit_eci, dtype=np.float64)
    sun_az = math.atan2(float(y_b @ sun), float(x_b @ sun))
    # look 65 deg to one side of the Sun's azimuth: the Sun stays out of the frame, the sunward
    # Earth fills the background and the stack is lit from the side; of the two sides take the
    # one that sees the stack more nearly broadside
    t = float(snapshot.t_s)
    sway = math.radians(12.0 * math.sin(2 * math.pi * t / 1200.0))
    options = [sun_az + math.radians(VIEW_FROM_SUN_DEG), sun_az - math.radians(VIEW_FROM_SUN_DEG)]
    view_az = max(options, key=lambda a: (abs(math.sin(a)), -a)) + sway
    el = math.radians(EXTERIOR_ELEVATION_DEG + 4.0 * math.sin(2 * math.pi * t / 1860.0))
    look = math.cos(el) * (math.cos(view_az) * x_b + math.sin(view_az) * y_b) - math.sin(el) * z_b
    d = -look
    cam = target + d * EXTERIOR_DISTANCE_M / 1000.0
    basis = boundary.look_basis(-d, z_b)
    return Placement("exterior", cam, basis, fov_deg or EXTERIOR_FOV_DEG, 0.5, False, False, target,
                     auto_exposure(snapshot, state, cam, -d))


def _hatch_window_model():
    """Centre and outward normal (model frame, metres) of the CM side-hatch window."""
    try:
        from experience.scene.modelgen import apollo, params

        dims = params.load()
        cm = apollo.CMShape(dims)
        h = dims.dim("apollo_cm", "side_hatch_center_height_m") + 0.12
        frame = cm.surface_frame(0.0, h, out=0.0)
        p = frame[:3, 3] + np.array([0.0, -cm.H, 0.0])
        n = frame[:3, 2]
        return p, n / np.linalg.norm(n)
    except Exception:  # models' parameters unavailable: the same numbers, rounded
        delta = math.radians(33.0)
        return np.array([0.0, -1.66, 1.26]), np.array([0.0, math.sin(delta), math.cos(delta)])


def window(snapshot, fov_deg: float | None = None) -> Placement:
    state, _ = _subject(snapshot)
    p, n = _hatch_window_model()
    rot = model_to_eci(state)
    cam = model_point_km(state, p + n * 0.10)
    normal = rot @ n
    up_radial = np.asarray(state.pos_km, dtype=np.float64) / np.linalg.norm(state.pos_km)
    # tilt the line of sight from the window normal 25 deg toward the local horizontal
    horiz = normal - (normal @ up_radial) * up_radial
    horiz /= np.linalg.norm(horiz)
    axis = np.cross(normal, horiz)
    axis /= np.linalg.norm(axis)
    ang = math.radians(25.0)
    fwd = normal * math.cos(ang) + np.cross(axis, normal) * math.sin(ang)
    basis = boundary.look_basis(fwd, up_radial)
    return Placement("window", cam, basis, fov_deg or 62.0, 0.05, False, True,
                     cam + fwd * 100.0, auto_exposure(snapshot, state, cam, fwd, DUSK_STOPS))


def handshake(snapshot, fov_deg: float | None = None) -> Placement:
    state, _ = _subject(snapshot)
    rot = model_to_eci(state)
    eye = np.array(HANDSHAKE_EYE_MODEL_M)     # in the DM, at its wall beside the opened hatch
    look = np.array(HANDSHAKE_LOOK_MODEL_M)   # the handshake, in the hatchway
    cam = model_point_km(state, eye)
    fwd = rot @ (look - eye)
    up = rot @ np.array([0.0, 0.0, 1.0])
    basis = boundary.look_basis(fwd, up)
    return Placement("handshake", cam, basis, fov_deg or HANDSHAKE_FOV_DEG, 0.02, True, False, model_point_km(state, look),
                     1.0, model_point_km(state, np.array([0.0, 4.0, 0.3])))


def soyuz_porthole(snapshot, fov_deg: float | None = None, exposure_stops: float = 0.0) -> Placement:
    """Out of the Soyuz orbital module's porthole on the +X side (just outside its glass, along
    its outward normal, tilted 20 deg toward the Earth)."""
    from experience.scene.modelgen import params, soyuz

    state = snapshot.vehicles["soyuz"]
    frames = soyuz.porthole_frames(params.load())
    p, n = max(frames, key=lambda f: f[1][0])  # the porthole on the +X side
    if snapshot.docked and "apollo" in snapshot.vehicles:  # the stack's frame: Soyuz sits one DM length along +Y
        state = snapshot.vehicles["apollo"]
        p = p + np.array([0.0, params.load().fact("docking_module", "length_m"), 0.0])
    rot = model_to_eci(state)
    cam = model_point_km(state, p + n * 0.08)
    normal = rot @ n
    down = -np.asarray(state.pos_km, dtype=np.float64) / np.linalg.norm(state.pos_km)
    fwd = normal * math.cos(math.radians(20.0)) + down * math.sin(math.radians(20.0))
    up = -down
    basis = boundary.look_basis(fwd, up)
    return Placement("soyuz_porthole", cam, basis, fov_deg or 62.0, 0.05, False, True, cam + fwd * 100.0,
                     auto_exposure(snapshot, state, cam, fwd, DUSK_STOPS) * 2.0 ** exposure_stops)


EMPTY_SKY_ALTITUDE_KM = 1500.0


def empty_sky(snapshot, fov_deg: float | None = None, site_unit_ecef=None) -> Placement:
    """No spacecraft in orbit (before the Soyuz insertion, after the splashdown): the Earth from
    1,500 km above ``site_unit_ecef`` (a unit vector in the Earth-fixed frame: the launch or the
    landing site; default the point below the Sun), looking at the horizon."""
    if site_unit_ecef is None:
        up = np.asarray(snapshot.sun_unit_eci, dtype=np.float64)
    else:
        up = np.asarray(snapshot.ecef_to_eci, dtype=np.float64) @ np.asarray(site_unit_ecef, dtype=np.float64)
    up = up / np.linalg.norm(up)
    cam = up * (6371.0 + EMPTY_SKY_ALTITUDE_KM)
    side = np.cross(up, [0.0, 0.0, 1.0])
    if np.linalg.norm(side) < 1e-6:
        side = np.array([1.0, 0.0, 0.0])
    side = side / np.linalg.norm(side)
    horizon = np.cross(side, up)
    fwd = horizon * math.cos(math.radians(40.0)) - up * math.sin(math.radians(40.0))
    basis = boundary.look_basis(fwd, up)
    return Placement("empty", cam, basis, fov_deg or EXTERIOR_FOV_DEG, 0.5, False, False, None,
                     auto_exposure_at(snapshot, cam + fwd * 1000.0))


def auto_exposure_at(snapshot, point_km, dusk_stops: float = 0.0) -> float:
    """:func:`auto_exposure` metered at a ground point given directly."""
    up = np.asarray(point_km, dtype=np.float64)
    up = up / np.linalg.norm(up)
    sun_elev_deg = math.degrees(math.asin(float(np.clip(up @ np.asarray(snapshot.sun_unit_eci, dtype=np.float64), -1, 1))))
    twilight = float(np.clip((25.0 - sun_elev_deg) / 25.0, 0.0, 1.0))
    dusk = float(np.clip(-sun_elev_deg / 6.0, 0.0, 1.0))
    return float(2.0 ** (TWILIGHT_STOPS * twilight + dusk_stops * dusk))


_PLACERS = {"exterior": exterior, "window": window, "handshake": handshake}
assert set(_PLACERS) == set(VIEWS)


def place(view: str, snapshot, fov_deg: float | None = None) -> Placement:
    check_view(view)
    return _PLACERS[view](snapshot, fov_deg)
