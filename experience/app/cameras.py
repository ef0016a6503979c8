"""The interactive cameras: each turns the visitor's input and a snapshot into a
:class:`~experience.scene.views.Placement` for the scene.

Modes (``CameraRig.MODES``), all in the frame of the spacecraft they follow (its LVLH body axes,
so the camera flies with the stack and the Earth turns below):

- ``orbit``: around the stack (or the spacecraft in view), yaw/pitch by mouse drag, touch drag or
  the right stick; distance by the wheel, pinch or the triggers (5 m .. 5 km). It starts where
  the still ``exterior`` view stands, so the first frame at 19:19 is the familiar picture.
- ``chase``: behind and above Apollo (or Soyuz when Apollo is not in orbit), looking along the
  flight path at it.
- ``cm_window``: out of the Command Module's side-hatch window (the still ``window`` view).
- ``soyuz_porthole``: out of the orbital module's porthole on the +X side.
- ``free``: a free-flying camera, position in metres in the stack's LVLH frame, WASD/QE or the
  left stick to move, mouse or right stick to look.
- ``cabin``: first person inside the stack's cabins (eye in the stack's model frame). The
  crossing (issue #10: collisions, handholds, the airlock) plugs in through
  :attr:`CameraRig.cabin_constraint`: a function that takes the wanted eye position (model frame,
  metres) and returns the allowed one; by default the eye is kept inside the cabins' axis
  cylinder.

Nothing here computes physics: the placements are geometry of the snapshot's positions.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable

import numpy as np

from experience.scene import boundary, views
from experience.scene.vehicles import model_to_eci

MODES = ("orbit", "chase", "cm_window", "soyuz_porthole", "free", "cabin")
ORBIT_MIN_M, ORBIT_MAX_M = 5.0, 5000.0
PITCH_LIMIT_DEG = 85.0
CABIN_EYE_MODEL_M = views.HANDSHAKE_EYE_MODEL_M    # in the Docking Module, where the handshake still stands
CABIN_LOOK_MODEL_M = views.HANDSHAKE_LOOK_MODEL_M  # ... looking through the opened hatch at the handshake
CABIN_LAMP_MODEL_M = (0.0, 4.0, 0.3)               # the orbital module's lamp (as views.handshake)
CABIN_RADIUS_M = 0.55                  # default constraint: inside the DM/tunnel/OM axis cylinder
CABIN_Y_RANGE_M = (-1.6, 5.2)          # CM (behind the tunnel) .. Soyuz orbital module


def _unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    return v / np.linalg.norm(v)


def _dir_from_angles(yaw_deg: float, pitch_deg: float, x_b, y_b, z_b) -> np.ndarray:
    """Unit direction from yaw (about body z, from body x toward body y) and pitch (up +)."""
    yw, pt = math.radians(yaw_deg), math.radians(pitch_deg)
    return math.cos(pt) * (math.cos(yw) * x_b + math.sin(yw) * y_b) + math.sin(pt) * z_b


def _angles_from_dir(d, x_b, y_b, z_b) -> tuple[float, float]:
    d = _unit(d)
    pitch = math.degrees(math.asin(max(-1.0, min(1.0, float(d @ z_b)))))
    yaw = math.degrees(math.atan2(float(d @ y_b), float(d @ x_b)))
    return yaw, pitch


@dataclasses.dataclass
class CameraRig:
    """The camera state of one visitor; :meth:`placement` for each frame's snapshot."""

    mode: str = "orbit"
    # orbit: where the camera stands, seen from the subject (body frame angles), and how far
    orbit_yaw_deg: float | None = None      # None: take the still exterior view's place at the first frame
    orbit_pitch_deg: float = 20.0
    orbit_distance_m: float = views.EXTERIOR_DISTANCE_M
    fov_deg: float = views.EXTERIOR_FOV_DEG
    # free: offset from the subject in body axes (m) and the look direction
    free_pos_m: np.ndarray = dataclasses.field(default_factory=lambda: np.array([-60.0, 25.0, 10.0]))
    free_yaw_deg: float = -20.0
    free_pitch_deg: float = -8.0
    # cabin: eye in the stack's model frame, look angles in the model frame (yaw about +Z from +Y)
    cabin_eye_m: np.ndarray = dataclasses.field(default_factory=lambda: np.array(CABIN_EYE_MODEL_M))
    cabin_yaw_deg: float = dataclasses.field(default_factory=lambda: _cabin_start_angles()[0])
    cabin_pitch_deg: float = dataclasses.field(default_factory=lambda: _cabin_start_angles()[1])
    cabin_constraint: Callable[[np.ndarray], np.ndarray] | None = None
    exposure_stops: float = 0.0

    # -- input ---------------------------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown camera {mode!r}; choose one of {', '.join(MODES)}")
        self.mode = mode

    def cycle(self, step: int = 1) -> str:
        self.mode = MODES[(MODES.index(self.mode) + step) % len(MODES)]
        return self.mode

    def look(self, dyaw_deg: float, dpitch_deg: float) -> None:
        """Mouse drag / right stick: orbit around the subject, or turn the head."""
        if self.mode == "orbit":
            self.orbit_yaw_deg = (self.orbit_yaw_deg or 0.0) + dyaw_deg
            self.orbit_pitch_deg = _clamp(self.orbit_pitch_deg + dpitch_deg, -PITCH_LIMIT_DEG, PITCH_LIMIT_DEG)
        elif self.mode == "free":
            self.free_yaw_deg += dyaw_deg
            self.free_pitch_deg = _clamp(self.free_pitch_deg + dpitch_deg, -PITCH_LIMIT_DEG, PITCH_LIMIT_DEG)
        elif self.mode == "cabin":
            self.cabin_yaw_deg += dyaw_deg
            self.cabin_pitch_deg = _clamp(self.cabin_pitch_deg + dpitch_deg, -PITCH_LIMIT_DEG, PITCH_LIMIT_DEG)

    def zoom(self, factor: float) -> None:
        """Wheel / pinch: factor > 1 moves away (orbit), narrows nothing else."""
        if self.mode == "orbit":
            self.orbit_distance_m = _clamp(self.orbit_distance_m * factor, ORBIT_MIN_M, ORBIT_MAX_M)
        elif self.mode in ("free", "cabin", "cm_window", "soyuz_porthole", "chase"):
            self.fov_deg = _clamp(self.fov_deg * factor, 20.0, 100.0)

    def move(self, forward_m: float, right_m: float, up_m: float) -> None:
        """WASD/QE or the left stick, in the camera's own axes (free and cabin modes)."""
        if self.mode == "free":
            x_b, y_b, z_b = np.eye(3)
            fwd = _dir_from_angles(self.free_yaw_deg, self.free_pitch_deg, x_b, y_b, z_b)
            right = _unit(np.cross(fwd, z_b)) if abs(fwd @ z_b) < 0.999 else y_b
            up = np.cross(right, fwd)
            self.free_pos_m = self.free_pos_m + fwd * forward_m + right * right_m + up * up_m
        elif self.mode == "cabin":
            fwd, right, up = self._cabin_axes()
            wanted = self.cabin_eye_m + fwd * forward_m + right * right_m + up * up_m
            constrain = self.cabin_constraint or default_cabin_constraint
            self.cabin_eye_m = np.asarray(constrain(wanted), dtype=np.float64)

    def _cabin_axes(self):
        # model frame: +Y the stack axis toward Soyuz, +Z the CM hatch side
        yw, pt = math.radians(self.cabin_yaw_deg), math.radians(self.cabin_pitch_deg)
        fwd = np.array([-math.sin(yw) * math.cos(pt), math.cos(yw) * math.cos(pt), math.sin(pt)])
        right = _unit(np.cross(fwd, [0.0, 0.0, 1.0])) if abs(fwd[2]) < 0.999 else np.array([1.0, 0.0, 0.0])
        return fwd, right, np.cross(right, fwd)

    # -- the frame -----------------------------------------------------------------------------
    def placement(self, snapshot) -> views.Placement:
        if not snapshot.vehicles:
            return views.empty_sky(snapshot, self.fov_deg)
        mode = self.mode
        if mode in ("cm_window", "cabin") and "apollo" not in snapshot.vehicles:
            mode = "orbit"
        if mode == "soyuz_porthole" and "soyuz" not in snapshot.vehicles:
            mode = "orbit"
        if mode == "cabin" and not snapshot.docked:
            mode = "orbit"   # the cabins join only while docked
        return getattr(self, f"_{mode}")(snapshot)

    def _orbit(self, snapshot) -> views.Placement:
        state, centre = views._subject(snapshot)
        target = views.model_point_km(state, centre)
        b = np.asarray(state.body_to_eci, dtype=np.float64)
        x_b, y_b, z_b = b[:, 0], b[:, 1], b[:, 2]
        if self.orbit_yaw_deg is None:  # start where the still exterior view stands
            start = views.exterior(snapshot)
            self.orbit_yaw_deg, self.orbit_pitch_deg = _angles_from_dir(start.camera_km - target, x_b, y_b, z_b)
        d = _dir_from_angles(self.orbit_yaw_deg, self.orbit_pitch_deg, x_b, y_b, z_b)
        cam = target + d * self.orbit_distance_m / 1000.0
        basis = boundary.look_basis(-d, z_b)
        near = 0.5 if self.orbit_distance_m > 20.0 else 0.1
        return views.Placement("orbit", cam, basis, self.fov_deg, near, False, False, target,
                               views.auto_exposure(snapshot, state, cam, -d) * 2.0 ** self.exposure_stops)

    def _chase(self, snapshot) -> views.Placement:
        vs = snapshot.vehicles
        state = vs.get("apollo") or vs["soyuz"]
        centre = views.APOLLO_CENTRE_MODEL_M if state.name == "apollo" else views.SOYUZ_CENTRE_MODEL_M
        target = views.model_point_km(state, centre)
        b = np.asarray(state.body_to_eci, dtype=np.float64)
        x_b, z_b = b[:, 0], b[:, 2]
        cam = target + (-x_b * 32.0 + z_b * 9.0) / 1000.0
        fwd = target - cam
        basis = boundary.look_basis(fwd, z_b)
        return views.Placement("chase", cam, basis, self.fov_deg, 0.5, False, False, target,
                               views.auto_exposure(snapshot, state, cam, fwd) * 2.0 ** self.exposure_stops)

    def _cm_window(self, snapshot) -> views.Placement:
        p = views.window(snapshot)
        return dataclasses.replace(p, view="cm_window", exposure=p.exposure * 2.0 ** self.exposure_stops)

    def _soyuz_porthole(self, snapshot) -> views.Placement:
        return views.soyuz_porthole(snapshot, exposure_stops=self.exposure_stops)

    def _free(self, snapshot) -> views.Placement:
        state, centre = views._subject(snapshot)
        target = views.model_point_km(state, centre)
        b = np.asarray(state.body_to_eci, dtype=np.float64)
        cam = target + b @ self.free_pos_m / 1000.0
        x_b, y_b, z_b = b[:, 0], b[:, 1], b[:, 2]
        fwd = _dir_from_angles(self.free_yaw_deg, self.free_pitch_deg, x_b, y_b, z_b)
        basis = boundary.look_basis(fwd, z_b)
        dist_m = float(np.linalg.norm(self.free_pos_m))
        near = 0.5 if dist_m > 30.0 else 0.05
        return views.Placement("free", cam, basis, self.fov_deg, near, False, False, None,
                               views.auto_exposure(snapshot, state, cam, fwd) * 2.0 ** self.exposure_stops)

    def _cabin(self, snapshot) -> views.Placement:
        state = snapshot.vehicles["apollo"]
        rot = model_to_eci(state)
        fwd, _, up = self._cabin_axes()
        cam = views.model_point_km(state, self.cabin_eye_m)
        basis = boundary.look_basis(rot @ fwd, rot @ up)
        lamp = views.model_point_km(state, np.array(CABIN_LAMP_MODEL_M))
        return views.Placement("cabin", cam, basis, min(max(self.fov_deg + 20.0, 40.0), 100.0), 0.02, True, False, None,
                               2.0 ** self.exposure_stops, lamp)


def _cabin_start_angles() -> tuple[float, float]:
    """(yaw, pitch) in the model frame from the cabin eye toward the handshake point."""
    f = np.asarray(CABIN_LOOK_MODEL_M, dtype=np.float64) - np.asarray(CABIN_EYE_MODEL_M, dtype=np.float64)
    f = f / np.linalg.norm(f)
    return math.degrees(math.atan2(-f[0], f[1])), math.degrees(math.asin(f[2]))


def default_cabin_constraint(eye_m: np.ndarray) -> np.ndarray:
    """Keep the eye inside the stack's axis cylinder (until the crossing's collision volumes,
    issue #10, replace it)."""
    p = np.asarray(eye_m, dtype=np.float64).copy()
    r = math.hypot(p[0], p[2])
    if r > CABIN_RADIUS_M:
        p[0] *= CABIN_RADIUS_M / r
        p[2] *= CABIN_RADIUS_M / r
    p[1] = _clamp(p[1], *CABIN_Y_RANGE_M)
    return p


def _clamp(v: float, lo: float, hi: float) -> float:
    return lo if v < lo else hi if v > hi else v
