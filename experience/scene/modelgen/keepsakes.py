"""What a VR visitor holds, as project-built meshes (NumPy only): the halves of the commemorative
plaque, the small flags on their staffs (data/mission/keepsakes.toml) and the visitor's own hands
(a glove round a controller's handle, open and closed) and tracked hand joints (issue #11).

Frames (metres): a keepsake's origin is where it is held (the plaque half: the middle of its
straight edge, the arc towards +Y, its face +Z; a flag: the middle of its staff along +Y, the
cloth facing +Z, flying towards +X). A hand is drawn in OpenXR's grip frame (+X right, +Y up,
-Z forward: the handle runs along Y through the origin, the fingers close round it); the right
hand's palm lies on the +X side of the handle, the left hand is its mirror image.
"""

from __future__ import annotations

import math

import numpy as np

from experience.scene.modelgen import geometry as g
from experience.scene.modelgen.crew import flag_faces
from experience.scene.modelgen.gltf import Material

GLOVE = Material("visitor_glove", (0.80, 0.79, 0.74), metallic=0.0, roughness=0.75)
GLOVE_CLOSED = Material("visitor_glove_closed", (0.86, 0.72, 0.42), metallic=0.0, roughness=0.7)   # holding: warmer
CUFF = Material("visitor_cuff", (0.35, 0.37, 0.42), metallic=0.0, roughness=0.8)
CONTROLLER = Material("visitor_controller", (0.06, 0.06, 0.07), metallic=0.2, roughness=0.5)
JOINT = Material("visitor_hand_joint", (0.85, 0.80, 0.70), metallic=0.0, roughness=0.7)
STAFF = Material("keepsake_flag_staff", (0.75, 0.75, 0.72), metallic=0.8, roughness=0.35)
FINGERS_Y = (0.030, 0.010, -0.010, -0.030)   # index .. little finger along the handle


def _bronze(rgb) -> tuple[Material, Material]:
    c = tuple(float(v) for v in rgb)
    return (Material("keepsake_plaque", c, metallic=0.9, roughness=0.35),
            Material("keepsake_plaque_rim", tuple(min(1.0, v * 1.35) for v in c), metallic=0.9, roughness=0.25))


def plaque_half(diameter_m: float, thickness_m: float, color_rgb, half: str = "apollo") -> dict[Material, list[g.Mesh]]:
    """One half of the round plaque: a half disc (its straight edge on y = 0, the arc towards +Y),
    a raised rim along its arc and, on the face, a star (Soyuz half) or a ring (Apollo half): an
    illustrative face, not the real one (the sources give none)."""
    body, rim = _bronze(color_rgb)
    r = diameter_m / 2.0
    t = thickness_m
    a = np.radians(np.linspace(0.0, 180.0, 25))
    outline = np.stack([r * np.cos(a), r * np.sin(a)], axis=1)
    out = {body: [g.extrude(outline, t)]}
    # the rim: a thin half ring just proud of the face
    ring = []
    for k in range(len(a) - 1):
        p0 = (0.88 * r * math.cos(a[k]), 0.88 * r * math.sin(a[k]), t / 2)
        p1 = (0.88 * r * math.cos(a[k + 1]), 0.88 * r * math.sin(a[k + 1]), t / 2)
        ring.append(g.cylinder_between(p0, p1, 0.004, 6, caps=False))
    if half == "soyuz":
        ang = np.radians(90.0 + 36.0 * np.arange(10))
        rad = np.where(np.arange(10) % 2 == 0, 0.30 * r, 0.12 * r)
        cy = 0.45 * r
        pts = np.stack([rad * np.cos(ang), cy + rad * np.sin(ang)], axis=1)
        star = []
        for i in range(10):   # the star as ten thin triangles on the face (a fan about its centre)
            tri = np.array([[0.0, cy], pts[i], pts[(i + 1) % 10]])
            if (tri[1, 0] - tri[0, 0]) * (tri[2, 1] - tri[0, 1]) - (tri[1, 1] - tri[0, 1]) * (tri[2, 0] - tri[0, 0]) < 0:
                tri = tri[[0, 2, 1]]
            star.append(g.extrude(tri, 0.002, g.translate(0.0, 0.0, t / 2 + 0.001)))
        ring += star
    else:
        ring.append(g.torus(0.22 * r, 0.004, 24, 6).transformed(g.compose(g.translate(0.0, 0.45 * r, t / 2), g.rot_x(90.0))))
    out[rim] = [g.concat(ring)]
    return out


def flag(kind: str, size_m, staff_m: float) -> dict[Material, list[g.Mesh]]:
    """A small flag on its staff (the staff along Y through the origin, the cloth flying to +X
    from the staff's top)."""
    w, h = (float(v) for v in size_m)
    top = staff_m / 2.0
    m = g.translate(w / 2 + 0.005, top - h / 2 - 0.005, 0.0)
    out = {mat: [x.transformed(m) for x in meshes] for mat, meshes in flag_faces(kind, w, h).items()}
    out[STAFF] = [g.cylinder_between((0.0, -top, 0.0), (0.0, top, 0.0), 0.004, 8),
                  g.sphere(0.007, 8, 5, center=(0.0, top + 0.004, 0.0))]
    return out


def _finger(knuckle, closed: float, length: float, radius: float) -> g.Mesh:
    """A finger from its knuckle, straight ahead (-Z) when open, wrapped round the handle (about
    the Y axis through the origin) when closed; ``closed`` 0..1 between the two."""
    k = np.asarray(knuckle, dtype=float)
    seg = length / 3
    pts = [k]
    bend = math.radians(58.0) * closed     # each of the three joints turns the finger this much about +Y (towards -X)
    for i in range(1, 4):
        a = bend * i
        pts.append(pts[-1] + np.array([-math.sin(a), 0.0, -math.cos(a)]) * seg)
    return g.concat([g.cylinder_between(a, b, radius, 8) for a, b in zip(pts, pts[1:])]
                    + [g.sphere(radius, 8, 5, center=p) for p in pts])


def hand(side: str, closed: bool, *, controller: bool = True) -> dict[Material, list[g.Mesh]]:
    """The visitor's hand in the grip frame: a glove (palm, four fingers, the thumb) and the cuff,
    round a controller's handle; ``closed``: the fingers wrapped round the handle (holding)."""
    c = 1.0 if closed else 0.0
    palm = g.box((0.024, 0.085, 0.095), center=(0.032, 0.0, 0.012))
    fingers = [_finger((0.030, y, -0.035), c, 0.085 - 0.012 * abs(i - 1.2), 0.0085) for i, y in enumerate(FINGERS_Y)]
    thumb_tip = (-0.005, 0.052, -0.040) if closed else (0.012, 0.058, -0.075)
    thumb = [g.cylinder_between((0.030, 0.040, 0.010), (0.020, 0.050, -0.020), 0.010, 8),
             g.cylinder_between((0.020, 0.050, -0.020), thumb_tip, 0.009, 8),
             g.sphere(0.009, 8, 5, center=thumb_tip)]
    cuff = g.cylinder_between((0.030, 0.0, 0.055), (0.030, 0.0, 0.110), 0.038, 12)
    glove = GLOVE_CLOSED if closed else GLOVE
    out: dict[Material, list[g.Mesh]] = {glove: [g.concat([palm, *fingers, *thumb])], CUFF: [cuff]}
    if controller:
        out[CONTROLLER] = [g.cylinder_between((0.0, -0.055, 0.0), (0.0, 0.05, 0.0), 0.017, 12),
                           g.torus(0.045, 0.006, 24, 6).transformed(g.compose(g.translate(0.0, 0.065, -0.01), g.rot_x(20.0)))]
    if side == "left":
        mirror = g.scale(-1.0, 1.0, 1.0)
        out = {m: [x.transformed(mirror) for x in ms] for m, ms in out.items()}
    return out


def joint_sphere(radius_m: float = 0.01) -> dict[Material, list[g.Mesh]]:
    """One tracked hand joint (XR_EXT_hand_tracking): a small sphere of unit radius scaled per joint."""
    return {JOINT: [g.sphere(radius_m, 8, 5)]}
