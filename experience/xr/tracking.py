"""Where the VR visitor is: tracked poses -> the stack's model frame, and the seam for movement.

The seam with the crossing (issue #10): every frame the VR front end hands a movement model

    poses:   :class:`TrackedPoses`  head and both hands, in the stack's MODEL frame (metres, float64,
             origin at the CM docking-ring face, +Y toward Soyuz, +Z the CM hatch side), already
             including where the visitor's body has floated to;
    hands:   :class:`HandInput` per hand (grip, trigger, thumbstick, menu: from OpenXR actions or
             injected by tests);
    dt_s:    the wall time step,

and gets back :class:`Intents`: per hand a grab (the hand closed at a model-frame point) and the
pull it makes (the hand's motion while closed: the body moves the other way), and the body's
displacement and turn for this frame. :class:`FreeFloat` is the default model (zero-g momentum
from pulls and pushes with gentle damping, thumbstick glide, snap or smooth turns, the cabin
constraint of the desktop camera); the crossing replaces it with its handholds and collision
volumes by giving the front end any object with the same ``update`` (protocol
:class:`MovementModel`).

:class:`TrackingOrigin` maps the runtime's reference space (STAGE or LOCAL: +Y up, -Z forward)
into the model frame: OpenXR's up -> model +Z, forward -> model +Y (into the tunnel toward
Soyuz); :meth:`TrackingOrigin.recentre` puts the current head at the start point facing the
start direction (the visitor's height and where they stand in the room drop out: zero g has no
floor), and the body's float offset and turn are applied after it.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Protocol

import numpy as np

from experience.xr.xrmath import Pose

# OpenXR reference axes -> model axes (columns: where XR +X, +Y, +Z go): right -> +X, up -> +Z, back -> -Y
XR_TO_MODEL = np.array([[1.0, 0.0, 0.0],
                        [0.0, 0.0, -1.0],
                        [0.0, 1.0, 0.0]])
# The Command Module, 19:10 UTC on 17 July 1975: the visitor floats in the upper cabin on the axis
# above the main display panel (the CM spans y = -3.23 .. 0; the tunnel is its top 0.8 m), facing
# the forward bulkhead and the tunnel hatch, toward the Docking Module and Soyuz; at the CM end of
# the desktop cabin camera's range (experience.app.cameras.CABIN_Y_RANGE_M, -1.6), 15 cm inside it so
# that the head's own sway does not meet that limit at once.
CM_START_MODEL_M = (0.0, -1.45, 0.0)
CM_START_FORWARD = (0.0, 1.0, 0.0)
CM_LAMP_MODEL_M = (0.0, -2.3, 0.5)      # the cabin's floodlight (illustrative, like the DM's)
NEAR_M = 0.05                             # cabin scale: a handrail 30 cm away is well beyond it
GRIP_CLOSED = 0.6
GRIP_OPEN = 0.4


@dataclasses.dataclass
class HandInput:
    grip: float = 0.0
    trigger: float = 0.0
    thumbstick: tuple[float, float] = (0.0, 0.0)
    menu: bool = False
    pose_ref: Pose | None = None      # in the reference space (None: not tracked)
    active: bool = False              # the runtime reports the actions active
    joints: str | None = None         # injected tracked-hand form (open | fist | pinch: experience.xr.handtracking)
    joints_ref: list | None = None    # tracked joints [(Pose in the reference space, radius m)] (XR_EXT_hand_tracking)


@dataclasses.dataclass
class TrackedPoses:
    head: Pose | None
    left: Pose | None
    right: Pose | None


@dataclasses.dataclass
class Grab:
    hand: str
    at_model_m: np.ndarray            # where the hand closed (model frame)
    pull_m: np.ndarray                # the hand's motion this frame while closed (model frame)


@dataclasses.dataclass
class Intents:
    grabs: list
    body_delta_m: np.ndarray
    turn_deg: float = 0.0
    velocity_m_s: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(3))
    haptic: dict = dataclasses.field(default_factory=dict)   # hand -> amplitude 0..1 this frame
    view_shift_m: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(3))  # the walls hold the head
    fade: float = 0.0                 # the view's fade to black this frame (the head pushed into a wall)


class MovementModel(Protocol):
    def update(self, poses: TrackedPoses, hands: dict, dt_s: float) -> Intents: ...


class TrackingOrigin:
    """Reference space -> model frame: ``p_model = offset + R_body (start + R0 (p_ref - head0))``
    with R0 the recentring rotation (OpenXR axes to model axes, minus the head's yaw at recentre)."""

    def __init__(self, start_m=CM_START_MODEL_M):
        self.start_m = np.asarray(start_m, dtype=np.float64)
        self.rot0 = XR_TO_MODEL.copy()
        self.head0 = np.zeros(3)
        self.offset_m = np.zeros(3)       # where the body floated (model frame)
        self.yaw_deg = 0.0                # the body's turn about the model's +Z through the start point
        self.centred = False
        self.recentres = 0                # how many times recentre() ran (a movement model re-anchors on it)

    def recentre(self, head_ref: Pose) -> None:
        """The head as it is now becomes the start point, facing the start direction."""
        fwd = -head_ref.rotation[:, 2]
        yaw = math.atan2(-fwd[0], -fwd[2])    # the head's yaw about the reference +Y (0 = looking along -Z)
        c, s = math.cos(-yaw), math.sin(-yaw)
        unyaw = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
        self.rot0 = XR_TO_MODEL @ unyaw
        self.head0 = np.asarray(head_ref.position_m, dtype=np.float64).copy()
        self.offset_m = np.zeros(3)
        self.yaw_deg = 0.0
        self.centred = True
        self.recentres += 1

    def _body(self) -> np.ndarray:
        a = math.radians(self.yaw_deg)
        return np.array([[math.cos(a), -math.sin(a), 0.0], [math.sin(a), math.cos(a), 0.0], [0.0, 0.0, 1.0]])

    def rotation(self) -> np.ndarray:
        """Reference-space directions -> model-frame directions."""
        return self._body() @ self.rot0

    def to_model(self, pose_ref: Pose | None) -> Pose | None:
        if pose_ref is None:
            return None
        body = self._body()
        p = self.offset_m + self.start_m + body @ (self.rot0 @ (pose_ref.position_m - self.head0))
        return Pose(p, body @ self.rot0 @ pose_ref.rotation)


class FreeFloat:
    """The default zero-g movement until the crossing's (issue #10) handholds and collision
    volumes plug in: close a hand (grip) anywhere and move it to pull or push yourself (the body
    moves opposite to the hand); let go and the momentum carries you, damped gently; the left
    thumbstick glides (along the head's view), the right one turns (snap 30 deg or smooth
    60 deg/s). ``constraint`` keeps the head inside the cabins (the desktop camera's,
    :func:`experience.app.cameras.default_cabin_constraint`, by default)."""

    DAMPING_PER_S = 0.6
    GLIDE_M_S = 0.5
    SNAP_DEG = 30.0
    SMOOTH_DEG_S = 60.0

    def __init__(self, origin: TrackingOrigin, *, constraint=None, turn: str = "snap", snap_deg: float = 30.0):
        from experience.app.cameras import default_cabin_constraint

        self.origin = origin
        self.constraint = constraint or default_cabin_constraint
        self.turn = turn
        self.snap_deg = float(snap_deg)
        self.velocity = np.zeros(3)
        self._held: dict[str, np.ndarray] = {}
        self._snap_armed = True

    def update(self, poses: TrackedPoses, hands: dict, dt_s: float) -> Intents:
        grabs, pull_total, n = [], np.zeros(3), 0
        haptic = {}
        for name in ("left", "right"):
            hand, pose = hands.get(name) or HandInput(), getattr(poses, name)
            if pose is None:
                self._held.pop(name, None)
                continue
            closed = hand.grip >= (GRIP_OPEN if name in self._held else GRIP_CLOSED)
            if closed:
                if name not in self._held:
                    haptic[name] = 0.3            # a small click where the hand takes hold
                    self._held[name] = pose.position_m.copy()
                    pull = np.zeros(3)
                else:
                    pull = pose.position_m - self._held[name]
                grabs.append(Grab(name, self._held[name].copy(), pull))
                pull_total += pull
                n += 1
            else:
                self._held.pop(name, None)
        if n:
            delta = -pull_total / n           # the body moves opposite to the pulling hands
            self.velocity = delta / max(dt_s, 1e-3)
        else:
            self.velocity *= math.exp(-self.DAMPING_PER_S * dt_s)
            delta = self.velocity * dt_s
        lx, ly = (hands.get("left") or HandInput()).thumbstick
        if poses.head is not None and (abs(lx) > 0.15 or abs(ly) > 0.15):
            r = poses.head.rotation
            delta = delta + (-r[:, 2] * ly + r[:, 0] * lx) * self.GLIDE_M_S * dt_s
        turn = self._turn(hands, dt_s)
        if poses.head is not None:
            wanted = poses.head.position_m + delta
            allowed = np.asarray(self.constraint(wanted), dtype=np.float64)
            if np.linalg.norm(allowed - wanted) > 1e-9:
                self.velocity = np.zeros(3)   # the wall holds the head
            delta = allowed - poses.head.position_m
        self.origin.offset_m = self.origin.offset_m + delta
        self.origin.yaw_deg += turn
        return Intents(grabs, delta, turn, self.velocity.copy(), haptic)

    def _turn(self, hands: dict, dt_s: float) -> float:
        """This frame's turn (degrees) from the right thumbstick: snap or smooth."""
        turn = 0.0
        rx = (hands.get("right") or HandInput()).thumbstick[0]
        if self.turn == "smooth" and abs(rx) > 0.2:
            turn = -rx * self.SMOOTH_DEG_S * dt_s
        elif self.turn == "snap":
            if abs(rx) > 0.7 and self._snap_armed:
                turn, self._snap_armed = (-self.snap_deg if rx > 0 else self.snap_deg), False
            elif abs(rx) < 0.3:
                self._snap_armed = True
        return turn
