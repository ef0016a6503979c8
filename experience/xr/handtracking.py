"""Tracked hands (XR_EXT_hand_tracking): the 26 joints of a hand -> how far it is closed (the
fingers' curl, the thumb-index pinch), which stands for the grip action where a runtime tracks
bare hands (issue #11).

Through the runtime (:class:`HandTrackers`): where the runtime lists ``XR_EXT_hand_tracking`` the
session enables it and asks the system (``XrSystemHandTrackingPropertiesEXT``) whether it tracks
hands; if it does, one ``xrCreateHandTrackerEXT`` per hand, and per frame
``xrLocateHandJointsEXT`` at the predicted display time in the app's reference space, into a
joint buffer allocated once per hand (pyopenxr's ``locate_hand_joints_ext`` passes no joint array,
so it cannot be used: the function pointer is called directly). An active hand whose joints are
located feeds :func:`grip_from_joints`; a hand not tracked (no extension, no support, not active
this frame) leaves the controllers' actions as they are.

The headless Monado 25 of the tests lists the extension but its simulated devices track no hands
(``supportsHandTracking`` is false for every ``SIMULATED_LEFT``/``RIGHT`` kind: simple, wmr, ml2),
so against it the trackers are not created (and ``xrCreateHandTrackerEXT``, tried, is refused
with ``XR_ERROR_FEATURE_UNSUPPORTED``) and the controllers are used; ``astp vr --check`` says so.
For the grip itself the tests and scripted runs inject joints (``--inject right:joints=open|fist|pinch``)
from :func:`synthetic_joints`, a simple hand of adult proportions posed open, as a fist or
pinching, placed at the controller's grip pose; the report says ``joints: injected``.
"""

from __future__ import annotations

import ctypes
import math

import numpy as np

# XR_HAND_JOINT_*_EXT order
NAMES = ("palm", "wrist",
         "thumb_metacarpal", "thumb_proximal", "thumb_distal", "thumb_tip",
         *(f"{f}_{j}" for f in ("index", "middle", "ring", "little")
           for j in ("metacarpal", "proximal", "intermediate", "distal", "tip")))
COUNT = 26
TIPS = tuple(NAMES.index(f"{f}_tip") for f in ("index", "middle", "ring", "little"))
PALM, WRIST, THUMB_TIP, INDEX_TIP = 0, 1, NAMES.index("thumb_tip"), NAMES.index("index_tip")
MIDDLE_PROXIMAL = NAMES.index("middle_proximal")
PINCH_ON_M, PINCH_OFF_M = 0.015, 0.05


def grip_from_joints(pos) -> tuple[float, float, float]:
    """(grip, curl, pinch), each 0..1, from the joints' positions (26, 3) in metres: ``curl`` is
    how near the four fingertips come to the palm, measured in the hand's own size (the wrist to
    the middle finger's knuckle), ``pinch`` how near the thumb and index tips are; the grip is
    the larger of the two."""
    p = np.asarray(pos, dtype=np.float64).reshape(COUNT, 3)
    size = float(np.linalg.norm(p[MIDDLE_PROXIMAL] - p[WRIST]))
    if size < 1e-4:
        return 0.0, 0.0, 0.0
    d = np.linalg.norm(p[list(TIPS)] - p[PALM], axis=1) / size
    curl = float(np.clip((1.05 - d.mean()) / (1.05 - 0.45), 0.0, 1.0))   # straight ~1.1 hand sizes, a fist ~0.4
    gap = float(np.linalg.norm(p[THUMB_TIP] - p[INDEX_TIP]))
    pinch = float(np.clip((PINCH_OFF_M - gap) / (PINCH_OFF_M - PINCH_ON_M), 0.0, 1.0))
    return max(curl, pinch), curl, pinch


def synthetic_joints(form: str = "open", side: str = "right") -> tuple[np.ndarray, np.ndarray]:
    """(positions (26, 3), radii (26,)) of an injected hand in the grip frame (+X right, +Y up,
    -Z forward; the palm centre at (0.03, 0, 0) beside the handle's line, the fingers along -Z):
    ``open``, ``fist`` or ``pinch`` (thumb and index tips together, the rest open)."""
    s = 1.0 if side == "right" else -1.0
    palm = np.array([0.03 * s, 0.0, 0.0])
    wrist = palm + [0.0, 0.0, 0.07]
    pos = [palm, wrist]
    # the thumb from the wrist's side
    t0 = wrist + [0.0, 0.03, -0.02]
    tip_dirs = {"open": (0.0, 0.5, -1.0), "fist": (-s * 1.0, 0.2, -0.6), "pinch": (-s * 0.25, -0.25, -1.0)}
    td = np.asarray(tip_dirs.get(form, tip_dirs["open"]), dtype=np.float64)
    td /= np.linalg.norm(td)
    pos += [t0, t0 + td * 0.04, t0 + td * 0.07, t0 + td * 0.095]
    bend = {"open": 0.0, "fist": math.radians(80.0), "pinch": 0.0}.get(form, 0.0)
    for k, y in enumerate((0.03, 0.01, -0.01, -0.03)):
        base = palm + [0.0, y, 0.035]
        knuckle = palm + [0.0, y, -0.045]
        pts = [base, knuckle]
        lengths = (0.045, 0.028, 0.022)
        curl_k = bend
        if form == "pinch" and k == 0:
            curl_k = math.radians(38.0)
        for i, seg in enumerate(lengths):
            a = curl_k * (i + 1)
            pts.append(pts[-1] + np.array([-s * math.sin(a), 0.0, -math.cos(a)]) * seg)
        pos += pts
    p = np.array(pos)
    if form == "pinch":   # the thumb tip onto the index tip
        p[THUMB_TIP] = p[INDEX_TIP] + [0.0, 0.008, 0.0]
    radii = np.full(COUNT, 0.008)
    radii[[PALM, WRIST]] = 0.015
    return p, radii


# -- through the runtime ---------------------------------------------------------------------------
EXTENSION = "XR_EXT_hand_tracking"


def system_tracks_hands(xr, inst, sid) -> bool:
    """``XrSystemHandTrackingPropertiesEXT.supportsHandTracking`` (call with the extension enabled)."""
    ht = xr.SystemHandTrackingPropertiesEXT()
    sp = xr.SystemProperties(next=ctypes.cast(ctypes.pointer(ht), ctypes.c_void_p))
    fn = ctypes.cast(xr.get_instance_proc_addr(inst, "xrGetSystemProperties"), xr.PFN_xrGetSystemProperties)
    res = xr.check_result(xr.Result(fn(inst, sid, ctypes.byref(sp))))
    if res.is_exception():
        raise res
    return bool(ht.supports_hand_tracking)


def describe(offered, enabled, supported: bool | None) -> dict:
    """What the runtime offers for tracked hands (``--check`` and the session's report)."""
    if EXTENSION not in offered:
        why = f"the runtime does not list {EXTENSION}; the controllers are used"
    elif EXTENSION not in enabled:
        why = f"{EXTENSION} was not enabled; the controllers are used"
    elif not supported:
        why = "the runtime lists the extension but its system tracks no hands (supportsHandTracking false); the controllers are used"
    else:
        why = ""
    return {"extension": EXTENSION in offered, "enabled": EXTENSION in enabled,
            "system_supports": bool(supported), "offered": bool(supported and EXTENSION in enabled),
            **({"why": why} if why else {})}


class HandJoints:
    """One hand's joints this frame, in the reference space: positions (26, 3) m, radii (26,) m,
    rotations (26, 3, 3); ``valid`` per joint (position and orientation valid)."""

    __slots__ = ("positions_m", "radii_m", "rotations", "valid")

    def __init__(self, positions_m, radii_m, rotations, valid):
        self.positions_m, self.radii_m, self.rotations, self.valid = positions_m, radii_m, rotations, valid

    def poses(self):
        from experience.xr.xrmath import Pose

        return [(Pose(p, r), float(rad)) for p, r, rad in zip(self.positions_m, self.rotations, self.radii_m)]


class HandTrackers:
    """The session's hand trackers (one per hand) where the runtime offers hand tracking.

    :meth:`open` after the session and its reference space exist: creates the trackers when the
    extension is enabled and the system tracks hands, else records why not (``report``).
    :meth:`locate` per frame: ``{"left": HandJoints | None, "right": ...}`` (None: not tracked)."""

    HANDS = ("left", "right")

    def __init__(self):
        self.xr = None
        self.trackers: dict = {}
        self.report: dict = describe((), (), None)
        self.located = {h: 0 for h in self.HANDS}     # frames with that hand's joints located
        self.refused: str | None = None
        self._buf: dict = {}
        self._locate = None

    def open(self, xr, inst, sid, session, offered, enabled) -> "HandTrackers":
        self.xr = xr
        supported = system_tracks_hands(xr, inst, sid) if EXTENSION in enabled else None
        self.report = describe(offered, enabled, supported)
        if not self.report["offered"]:
            return self
        try:
            for hand, which in zip(self.HANDS, (xr.HandEXT.LEFT, xr.HandEXT.RIGHT)):
                self.trackers[hand] = create_tracker(xr, session, which)
        except xr.exception.XrException as exc:
            self.refused = type(exc).__name__
            self.report.update(offered=False, why=f"xrCreateHandTrackerEXT failed ({self.refused}); the controllers are used")
            self.close()
            return self
        self._locate = ctypes.cast(xr.get_instance_proc_addr(inst, "xrLocateHandJointsEXT"), xr.PFN_xrLocateHandJointsEXT)
        for hand in self.HANDS:
            arr = (xr.HandJointLocationEXT * COUNT)()
            self._buf[hand] = (arr, xr.HandJointLocationsEXT(joint_count=COUNT, joint_locations=arr))
        self.report["trackers"] = list(self.trackers)
        return self

    @property
    def active(self) -> bool:
        return bool(self.trackers)

    def locate(self, space, display_time: int) -> dict:
        """Each hand's joints at ``display_time`` in ``space`` (None where not tracked this frame)."""
        out = {h: None for h in self.HANDS}
        if not self.trackers:
            return out
        xr = self.xr
        info = xr.HandJointsLocateInfoEXT(base_space=space, time=display_time)
        for hand, tracker in self.trackers.items():
            arr, locs = self._buf[hand]
            res = xr.check_result(xr.Result(self._locate(tracker, ctypes.byref(info), ctypes.byref(locs))))
            if res.is_exception():
                raise res
            if locs.is_active:
                out[hand] = joints_from_locations(arr, xr)
                if out[hand] is not None:
                    self.located[hand] += 1
        return out

    def close(self) -> None:
        for tracker in self.trackers.values():
            try:
                self.xr.destroy_hand_tracker_ext(tracker)
            except Exception:  # noqa: BLE001 - closing a lost runtime: nothing more to do
                pass
        self.trackers = {}


def create_tracker(xr, session, which):
    """``xrCreateHandTrackerEXT`` for one hand (the default 26-joint set)."""
    return xr.create_hand_tracker_ext(session, xr.HandTrackerCreateInfoEXT(
        hand=which, hand_joint_set=xr.HandJointSetEXT.DEFAULT))


def joints_from_locations(arr, xr) -> HandJoints | None:
    """The located joint array -> :class:`HandJoints`, or None when the palm, the wrist or a
    fingertip the grip needs has no valid position."""
    from experience.xr.xrmath import quat_to_rot

    need = xr.SpaceLocationFlags.POSITION_VALID_BIT | xr.SpaceLocationFlags.ORIENTATION_VALID_BIT
    pos = np.empty((COUNT, 3))
    rot = np.empty((COUNT, 3, 3))
    rad = np.empty(COUNT)
    valid = np.zeros(COUNT, dtype=bool)
    for i in range(COUNT):
        j = arr[i]
        p, q = j.pose.position, j.pose.orientation
        pos[i] = (p.x, p.y, p.z)
        rot[i] = quat_to_rot(q.x, q.y, q.z, q.w)
        rad[i] = j.radius
        valid[i] = (int(j.location_flags) & int(need)) == int(need)
    if not valid[[PALM, WRIST, MIDDLE_PROXIMAL, THUMB_TIP, *TIPS]].all():
        return None
    return HandJoints(pos, rad, rot, valid)
