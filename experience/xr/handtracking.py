"""Tracked hands (XR_EXT_hand_tracking): the 26 joints of a hand -> how far it is closed (the
fingers' curl, the thumb-index pinch), which stands for the grip action where a runtime tracks
bare hands (issue #11).

:func:`grip_from_joints` is the real path: it takes the joints as the runtime's
``xrLocateHandJointsEXT`` gives them (positions in the reference space, in the extension's joint
order). The headless Monado of the tests offers no hand tracking, so the tests and scripted runs
inject joints (``--inject right:joints=open|fist|pinch``) from :func:`synthetic_joints`, a simple
hand of adult proportions posed open, as a fist or pinching, placed at the controller's grip pose;
the report says ``joints: injected``. What is NOT done yet: creating the hand trackers in the
session (``xrCreateHandTrackerEXT``) where a runtime offers the extension.
"""

from __future__ import annotations

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
