"""The five crew members as articulated 3D figures at 1:1 scale, posed from the table in
data/mission/crew_figures.toml and placed in the stack frame (docs/models.md, "The crews").

A figure is a node hierarchy of rigid segments, each a smooth lofted solid (elliptical and
rounded-rectangular sections, rounded ends) in the segment's own joint frame:

    <id>                      placement in the stack frame (translation + rotation)
      <id>/pelvis               root joint (between the hip joints)
        <id>/spine               -> <id>/chest -> <id>/neck -> <id>/head
          <id>/chest
            <id>/shoulder_l|r    -> <id>/upper_arm_l|r -> <id>/forearm_l|r -> <id>/hand_l|r
        <id>/hip_l|r             -> <id>/thigh_l|r -> <id>/shin_l|r -> <id>/foot_l|r

Every joint node's translation is its rest offset from its parent joint and its rotation is the
pose (identity = the rest pose: standing, facing +Z, up +Y, the figure's left +X, arms hanging
with the palms inwards). Front ends pose a figure by rotating these nodes; :func:`joint_rotations`
turns a pose of the table into the rotations. Proportions are the usual anthropometric fractions
of the stature (Drillis & Contini segment lengths); widths are scaled by a per-person ``build``.
Each segment node has at most one primitive per material (coverall, skin, hair, shoes, eyes).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

import numpy as np

from experience.errors import DataFileError
from experience.mission.figures import (  # noqa: F401  (the pose table: one source, re-exported here)
    ARRANGEMENTS, DATA_FILE, ORDER, PELVIS_HEIGHT, SHOWN, _SKELETON, arrangement, blend, body_frame,
    forward_kinematics, grip_point, joint_names, joint_rotations, load_table, placement, rotation,
    skeleton, slerp, world_joints,
)
from experience.scene.modelgen import geometry as g
from experience.scene.modelgen.gltf import Material, Node, quat_from_matrix


SKIN = Material("crew_skin", (0.78, 0.50, 0.37), metallic=0.0, roughness=0.6)
SHOES = Material("crew_shoes_dark", (0.035, 0.033, 0.03), metallic=0.0, roughness=0.7)
EYES = Material("crew_eyes_dark", (0.02, 0.018, 0.016), metallic=0.0, roughness=0.3)
# insignia (data/mission/crew_figures.toml [insignia]): name tags and sleeve flags
TAG = Material("crew_name_tag", (0.92, 0.92, 0.88), metallic=0.0, roughness=0.8)
TAG_TEXT = Material("crew_name_text", (0.02, 0.02, 0.025), metallic=0.0, roughness=0.8)
FLAG_RED = Material("crew_flag_red", (0.60, 0.03, 0.04), metallic=0.0, roughness=0.8)
FLAG_WHITE = Material("crew_flag_white", (0.85, 0.85, 0.85), metallic=0.0, roughness=0.8)
FLAG_BLUE = Material("crew_flag_blue", (0.03, 0.05, 0.25), metallic=0.0, roughness=0.8)
FLAG_GOLD = Material("crew_flag_gold", (0.90, 0.62, 0.05), metallic=0.0, roughness=0.7)

# ------------------------------------------------------------------------------------ data
@dataclasses.dataclass(frozen=True)
class Person:
    id: str
    member: str
    height: float
    build: float
    hair: Material
    coverall: Material
    vehicle: str
    name_tag: str = ""
    flag: str = ""


def people(table: dict[str, Any] | None = None) -> dict[str, Person]:
    t = table or load_table()
    out = {}
    for pid in ORDER:
        f = t["figure"][pid]
        cov = t["coverall"][f["coverall"]]
        out[pid] = Person(
            id=pid, member=f["member"], height=float(f["height_m"]), build=float(f.get("build", 1.0)),
            hair=Material(f"crew_hair_{pid}", tuple(float(c) for c in f["hair"]), metallic=0.0, roughness=0.75),
            coverall=Material(f"crew_coverall_{f['coverall']}", tuple(float(c) for c in cov["color"]),
                              metallic=0.0, roughness=float(cov.get("roughness", 0.85))),
            vehicle=f["vehicle"], name_tag=str(f.get("name_tag", "")), flag=str(f.get("flag", "")),
        )
    return out


# ------------------------------------------------------------------------------------ meshes
def loft(sections, n: int, cap0: float | None = None, cap1: float | None = None, cap_rings: int = 2) -> g.Mesh:
    """A closed smooth solid through cross-sections along local Y.

    ``sections``: rows (y, cx, cz, rx, rz[, p]): centre (cx, cz), half-widths rx (along X) and rz
    (along Z), superellipse exponent p (2 = ellipse, larger = squarer). Azimuth 0 is +Z, 90 deg
    +X (as in geometry.lathe). Both ends are closed by rounded caps ``cap0``/``cap1`` deep
    (default: the end section's mean half-width), out to a pole."""
    s = np.asarray([list(r) + [2.0] * (6 - len(r)) for r in sections], dtype=float)
    direction = 1.0 if s[-1, 0] >= s[0, 0] else -1.0
    rows = []
    for end, depth, sign in ((0, cap0, -1.0), (-1, cap1, 1.0)):
        r = s[end]
        d = float(depth if depth is not None else 0.5 * (r[3] + r[4]))
        ring = []
        for k in range(1, cap_rings + 1):
            phi = math.radians(90.0 * k / (cap_rings + 1))
            ring.append([r[0] + sign * direction * d * math.sin(phi), r[1], r[2], r[3] * math.cos(phi), r[4] * math.cos(phi), r[5]])
        rows.append(ring)
    start = rows[0][::-1]
    body = np.concatenate([np.array(start), s, np.array(rows[1])])
    pole0 = np.array([s[0, 1], s[0, 0] - direction * float(cap0 if cap0 is not None else 0.5 * (s[0, 3] + s[0, 4])), s[0, 2]])
    pole1 = np.array([s[-1, 1], s[-1, 0] + direction * float(cap1 if cap1 is not None else 0.5 * (s[-1, 3] + s[-1, 4])), s[-1, 2]])
    a = np.arange(n) * 2 * math.pi / n
    sa, ca = np.sin(a), np.cos(a)
    pos = []
    for y, cx, cz, rx, rz, p in body:
        e = 2.0 / p
        px = cx + rx * np.sign(sa) * np.abs(sa) ** e
        pz = cz + rz * np.sign(ca) * np.abs(ca) ** e
        pos.append(np.stack([px, np.full(n, y), pz], axis=1))
    pos = np.concatenate([pole0[None], np.concatenate(pos), pole1[None]])
    k = len(body)
    tri = []
    j = np.arange(n)
    jn = (j + 1) % n
    tri.append(np.stack([np.zeros(n, int), 1 + jn, 1 + j], axis=1))
    for i in range(k - 1):
        a0, b0 = 1 + i * n + j, 1 + i * n + jn
        a1, b1 = a0 + n, b0 + n
        tri.append(np.stack([a0, b0, a1], axis=1))
        tri.append(np.stack([b0, b1, a1], axis=1))
    last = 1 + (k - 1) * n
    tri.append(np.stack([last + j, last + jn, np.full(n, len(pos) - 1)], axis=1))
    tri = np.concatenate(tri)
    return _with_normals(pos, tri)


def _with_normals(pos: np.ndarray, tri: np.ndarray) -> g.Mesh:
    """Smooth area-weighted vertex normals; triangles wound so that they face outwards."""
    face = np.cross(pos[tri[:, 1]] - pos[tri[:, 0]], pos[tri[:, 2]] - pos[tri[:, 0]])
    volume = float(np.einsum("ij,ij->i", pos[tri[:, 0]], face).sum())
    if volume < 0:
        tri = tri[:, ::-1]
        face = -face
    nrm = np.zeros_like(pos)
    for c in range(3):
        np.add.at(nrm, tri[:, c], face)
    ln = np.linalg.norm(nrm, axis=1, keepdims=True)
    nrm = nrm / np.where(ln > 0, ln, 1.0)
    return g.Mesh(pos, nrm, tri).cleaned(1e-12)


def ellipsoid(center, radii, n: int = 10, rings: int = 6, m: np.ndarray | None = None) -> g.Mesh:
    c = np.asarray(center, dtype=float)
    mesh = g.sphere(1.0, n, rings).transformed(g.compose(g.translate(*c), g.scale(*radii)))
    return mesh if m is None else mesh.transformed(m)


def _mirror_x(mesh: g.Mesh) -> g.Mesh:
    return mesh.transformed(g.scale(-1.0, 1.0, 1.0))


def segment_meshes(person: Person) -> dict[str, dict[Material, list[g.Mesh]]]:
    """Meshes of every segment in its joint's frame (rest pose), left side mirrored to the right."""
    H = person.height
    b = person.build
    cov, hair = person.coverall, person.hair

    def S(*rows):  # rows in stature fractions; widths scaled by the build
        return [(r[0] * H, r[1] * H * b, r[2] * H, r[3] * H * b, r[4] * H * b, *(r[5:] or (2.0,))) for r in rows]

    out: dict[str, dict[Material, list[g.Mesh]]] = {}
    hip_y = PELVIS_HEIGHT

    def rel(y):  # height over the soles -> relative to the pelvis joint
        return y - hip_y

    # ---- torso: pelvis (hips, seat), spine (abdomen), chest (ribcage, shoulders): one outline
    # cut into three overlapping pieces so that it stays closed when the spine bends
    pelvis = loft(S(
        (rel(0.470), 0.0, -0.004, 0.060, 0.045, 2.2),
        (rel(0.490), 0.0, -0.008, 0.086, 0.058, 2.4),
        (rel(0.520), 0.0, -0.010, 0.097, 0.063, 2.6),
        (rel(0.555), 0.0, -0.008, 0.095, 0.060, 2.6),
        (rel(0.590), 0.0, -0.004, 0.087, 0.056, 2.5),
        (rel(0.610), 0.0, 0.000, 0.083, 0.055, 2.4),
    ), 16, cap0=0.012 * H, cap1=0.02 * H)
    spine_base = 0.085
    spine = loft([(y - spine_base * H, cx, cz, rx, rz, p) for y, cx, cz, rx, rz, p in S(
        (rel(0.575), 0.0, -0.006, 0.090, 0.058, 2.5),
        (rel(0.610), 0.0, 0.000, 0.083, 0.055, 2.4),
        (rel(0.650), 0.0, 0.004, 0.086, 0.058, 2.4),
        (rel(0.700), 0.0, 0.006, 0.092, 0.064, 2.4),
        (rel(0.720), 0.0, 0.006, 0.095, 0.067, 2.4),
    )], 16, cap0=0.02 * H, cap1=0.02 * H)
    chest_base = spine_base + 0.10
    chest = loft([(y - chest_base * H, cx, cz, rx, rz, p) for y, cx, cz, rx, rz, p in S(
        (rel(0.690), 0.0, 0.005, 0.091, 0.063, 2.4),
        (rel(0.730), 0.0, 0.008, 0.097, 0.068, 2.4),
        (rel(0.770), 0.0, 0.006, 0.103, 0.066, 2.5),
        (rel(0.800), 0.0, 0.000, 0.110, 0.060, 2.8),
        (rel(0.818), 0.0, -0.004, 0.098, 0.052, 2.6),
        (rel(0.832), 0.0, -0.006, 0.062, 0.046, 2.2),
        (rel(0.842), 0.0, -0.003, 0.040, 0.040, 2.0),
        (rel(0.852), 0.0, 0.000, 0.036, 0.037, 2.0),  # the coverall's collar round the neck
    )], 18, cap0=0.02 * H, cap1=0.004 * H)
    out["pelvis"] = {cov: [pelvis]}
    out["spine"] = {cov: [spine]}
    out["chest"] = {cov: [chest]}

    # ---- neck and head (head frame: the head joint, ~0.893 H over the soles)
    neck = loft(S((-0.004, 0.0, 0.004, 0.029, 0.031), (0.02, 0.0, 0.006, 0.027, 0.029), (0.045, 0.0, 0.008, 0.028, 0.030)), 14,
                cap0=0.01 * H, cap1=0.01 * H)
    out["neck"] = {SKIN: [neck]}
    k = H / 1.8  # the head is drawn in metres for a 1.80 m man and scaled
    chin = -0.028  # chin below the head joint (m, 1.80 m man)
    head_rows = [  # y over the chin, cz, rx, rz (m)
        (0.012, 0.070, 0.022, 0.018),
        (0.030, 0.052, 0.046, 0.046),
        (0.060, 0.030, 0.062, 0.078),
        (0.100, 0.014, 0.071, 0.094),
        (0.140, 0.006, 0.076, 0.099),
        (0.180, -0.004, 0.076, 0.098),
        (0.208, -0.010, 0.066, 0.086),
        (0.226, -0.014, 0.042, 0.056),
    ]
    head = loft([((y + chin) * k, 0.0, cz * k, rx * k * b ** 0.3, rz * k) for y, cz, rx, rz in head_rows], 20,
                cap0=0.01 * k, cap1=0.012 * k)
    nose = ellipsoid((0.0, (0.108 + chin) * k, 0.104 * k), (0.011 * k, 0.024 * k, 0.018 * k), 8, 5)
    ears = [ellipsoid((s * 0.077 * k, (0.125 + chin) * k, -0.004 * k), (0.011 * k, 0.030 * k, 0.017 * k), 6, 4) for s in (-1, 1)]
    out["head"] = {SKIN: [head, nose, *ears]}
    eyes = [ellipsoid((s * 0.031 * k, (0.142 + chin) * k, 0.095 * k), (0.010 * k, 0.006 * k, 0.006 * k), 6, 3)
            for s in (-1, 1)]
    brows = [ellipsoid((s * 0.032 * k, (0.158 + chin) * k, 0.098 * k), (0.018 * k, 0.004 * k, 0.006 * k), 6, 3)
             for s in (-1, 1)]
    mouth = ellipsoid((0.0, (0.050 + chin) * k, 0.086 * k), (0.019 * k, 0.0035 * k, 0.008 * k), 8, 3)
    out["head"][EYES] = [*eyes, mouth]
    # hair: a shell a few millimetres outside the skull above a hairline that is lower at the back
    shell = loft([((y + chin) * k, 0.0, cz * k, (rx + 0.006) * k * b ** 0.3, (rz + 0.007) * k) for y, cz, rx, rz in head_rows[3:]]
                 + [((0.236 + chin) * k, 0.0, -0.016 * k, 0.03 * k, 0.04 * k)], 20, cap0=0.002, cap1=0.008 * k)
    out["head"][hair] = [_clip_below(shell, lambda p: (0.145 + chin) * k + 0.5 * p[:, 2] + 0.1 * np.abs(p[:, 0])), *brows]

    # ---- arms (left; the right is mirrored). Bone along -Y from the joint.
    upper_arm = loft(S(
        (0.012, 0.0, 0.0, 0.034, 0.033),
        (-0.02, 0.0, 0.0, 0.031, 0.031),
        (-0.09, 0.0, 0.0, 0.028, 0.028),
        (-0.16, 0.0, 0.0, 0.025, 0.024),
        (-0.186, 0.0, 0.0, 0.023, 0.022),
    ), 12, cap0=0.022 * H, cap1=0.020 * H)
    forearm = loft(S(
        (0.0, 0.0, 0.0, 0.023, 0.022),
        (-0.03, 0.0, 0.002, 0.025, 0.023),
        (-0.10, 0.0, 0.0, 0.019, 0.017),
        (-0.140, 0.0, 0.0, 0.016, 0.013),
    ), 12, cap0=0.018 * H, cap1=0.006 * H)
    # hand: palm inwards (-X for the left hand), fingers slightly curled towards the palm
    palm = loft(S(
        (0.004, 0.0, 0.0, 0.010, 0.016, 2.4),
        (-0.015, 0.0, 0.001, 0.012, 0.023, 3.0),
        (-0.052, 0.0, 0.002, 0.011, 0.025, 3.0),
    ), 12, cap0=0.004 * H, cap1=0.006 * H)
    fingers = loft(S(
        (-0.050, -0.001, 0.002, 0.0085, 0.022, 3.0),
        (-0.070, -0.003, 0.001, 0.0080, 0.021, 3.0),
        (-0.088, -0.007, 0.000, 0.0072, 0.019, 3.0),
        (-0.100, -0.011, 0.000, 0.0065, 0.016, 2.6),
    ), 12, cap0=0.004 * H, cap1=0.006 * H)
    thumb = g.cone_between(np.array([-0.004, -0.020, 0.018]) * H, np.array([-0.012, -0.055, 0.030]) * H, 0.0085 * H, 0.0070 * H, 8)
    thumb_tip = ellipsoid(np.array([-0.012, -0.055, 0.030]) * H, (0.0070 * H,) * 3, 6, 3)
    # shoes and feet (frame: the ankle joint; sole at -0.045 H, toe towards +Z)
    foot_rows = S(
        (-0.035, 0.0, 0.0, 0.022, 0.024),
        (0.0, 0.0, 0.0, 0.026, 0.028),
        (0.05, 0.002, 0.0, 0.030, 0.019),
        (0.095, 0.003, 0.0, 0.027, 0.012),
    )
    # loft along Y, then turn Y -> +Z: rows (station along the foot, cx, height centre, rx, ry)
    foot = loft([(st, cx, 0.0, rx, ry) for st, cx, _cz, rx, ry, _p in foot_rows], 14, cap0=0.012 * H, cap1=0.018 * H)
    foot = foot.transformed(g.rot_x(90.0))  # +Y -> +Z
    # drop the foot so its sole is at -0.045 H, the heel higher than the toe in the profile above
    foot = _sole(foot, -0.045 * H, H)
    thigh = loft(S(
        (0.02, 0.0, -0.004, 0.056, 0.054),
        (-0.03, 0.0, 0.0, 0.053, 0.054),
        (-0.12, 0.0, 0.004, 0.044, 0.044),
        (-0.20, 0.0, 0.004, 0.036, 0.036),
        (-0.232, 0.0, 0.004, 0.034, 0.034),
    ), 14, cap0=0.03 * H, cap1=0.03 * H)
    shin = loft(S(
        (0.0, 0.0, 0.004, 0.033, 0.034),
        (-0.06, 0.0, -0.004, 0.033, 0.036),
        (-0.14, 0.0, 0.0, 0.026, 0.027),
        (-0.215, 0.0, 0.0, 0.022, 0.022),
    ), 12, cap0=0.02 * H, cap1=0.01 * H)
    sock = loft(S((-0.205, 0.0, 0.0, 0.0225, 0.0225), (-0.245, 0.0, 0.0, 0.021, 0.022)), 12, cap0=0.004 * H, cap1=0.004 * H)

    left = {
        "upper_arm_l": {cov: [upper_arm]},
        "forearm_l": {cov: [forearm]},
        "hand_l": {SKIN: [palm, fingers, thumb, thumb_tip]},
        "thigh_l": {cov: [thigh]},
        "shin_l": {cov: [shin], SHOES: [sock]},
        "foot_l": {SHOES: [foot]},
    }
    for name, parts in left.items():
        out[name] = parts
        out[name[:-2] + "_r"] = {m: [_mirror_x(x) for x in ms] for m, ms in parts.items()}
    # ---- insignia: the name tag over the left breast, the flag on the left sleeve
    if person.name_tag:
        front = (0.006 + 0.066) * H * b * 0.985  # the chest's front at the tag (superellipse, x = 0.05 H)
        y_tag = (0.770 - hip_y - chest_base) * H
        for m, ms in name_tag(person.name_tag, (0.045 * H * b, y_tag, front), 0.05 * H, 0.015 * H).items():
            out["chest"].setdefault(m, []).extend(ms)
    if person.flag:
        r_arm = 0.031 * H * b
        for m, ms in sleeve_flag(person.flag, (r_arm, -0.05 * H, 0.0), 0.034 * H, 0.021 * H).items():
            out["upper_arm_l"].setdefault(m, []).extend(ms)
    return out


def _quad(x0: float, x1: float, y0: float, y1: float, z: float) -> g.Mesh:
    """A flat rectangle facing +Z (counter-clockwise seen from +Z)."""
    pos = np.array([[x0, y0, z], [x1, y0, z], [x1, y1, z], [x0, y1, z]], dtype=float)
    return g.Mesh(pos, np.tile([0.0, 0.0, 1.0], (4, 1)), np.array([[0, 1, 2], [0, 2, 3]]))


def _merge(meshes: list[g.Mesh]) -> list[g.Mesh]:
    return [g.concat(meshes)] if meshes else []


@functools.lru_cache(maxsize=16)
def text_mask(text: str, rows: int = 16) -> np.ndarray:
    """The text rendered in the project's Cyrillic-capable interface font (experience.i18n.
    ui_font_path(): DejaVu Sans Bold) as a boolean pixel mask ``rows`` high (row 0 at the top)."""
    from PIL import Image, ImageDraw, ImageFont

    from experience.i18n import ui_font_path

    font = ImageFont.truetype(str(ui_font_path(bold=True)), 64)
    x0, y0, x1, y1 = font.getbbox(text)
    img = Image.new("L", (x1 - x0 + 4, y1 - y0 + 4), 0)
    ImageDraw.Draw(img).text((2 - x0, 2 - y0), text, font=font, fill=255)
    cols = max(1, round(img.width * rows / img.height))
    small = img.resize((cols, rows), Image.Resampling.BOX)
    return np.asarray(small, dtype=np.uint8) >= 110


def name_tag(text: str, centre, width: float, height: float) -> dict[Material, list[g.Mesh]]:
    """A light fabric tag on the chest's front (facing +Z) with the surname in dark letters: the
    text's pixel mask as horizontal runs of small raised rectangles (no texture: the models are
    textureless glTF), scaled to fit the tag."""
    cx, cy, cz = (float(v) for v in centre)
    tag = g.box((width, height, 0.006), center=(cx, cy, cz))
    mask = text_mask(text)
    rows, cols = mask.shape
    margin = 0.12 * height
    px = min((width - 2 * margin) / cols, (height - 2 * margin) / rows)
    x_left = cx - cols * px / 2
    y_top = cy + rows * px / 2
    z = cz + 0.003 + 0.0005
    quads = []
    for r in range(rows):
        row = np.concatenate([[False], mask[r], [False]])
        starts = np.flatnonzero(row[1:] & ~row[:-1])
        ends = np.flatnonzero(~row[1:] & row[:-1])
        for a, b_ in zip(starts, ends):
            quads.append(_quad(x_left + a * px, x_left + b_ * px, y_top - (r + 1) * px, y_top - r * px, z))
    return {TAG: [tag], TAG_TEXT: _merge(quads)}


def _star(cx: float, cy: float, r: float, z: float) -> g.Mesh:
    """A five-pointed star facing +Z."""
    ang = np.radians(90.0 + 36.0 * np.arange(10))
    rad = np.where(np.arange(10) % 2 == 0, r, 0.382 * r)
    ring = np.stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang), np.full(10, z)], axis=1)
    pos = np.concatenate([[[cx, cy, z]], ring])
    tri = np.array([[0, 1 + i, 1 + (i + 1) % 10] for i in range(10)])
    return g.Mesh(pos, np.tile([0.0, 0.0, 1.0], (11, 1)), tri)


def flag_faces(kind: str, width: float, height: float) -> dict[Material, list[g.Mesh]]:
    """A flag on the plane z = 0 facing +Z, the hoist at x = -width/2 (the canton's side)."""
    w, h = width, height
    x0, y0 = -w / 2, -h / 2
    out: dict[Material, list[g.Mesh]] = {}
    if kind == "us":
        # thirteen stripes, red at top and bottom; the blue canton over the top seven; the 50
        # stars as a simple grid of light dots (5 x 4 at this size)
        sh = h / 13
        out[FLAG_WHITE] = [_quad(x0, x0 + w, y0, y0 + h, 0.0)]
        out[FLAG_RED] = _merge([_quad(x0, x0 + w, y0 + k * sh, y0 + (k + 1) * sh, 0.0004) for k in range(0, 13, 2)])
        cw, ch = 0.4 * w, 7 * sh
        out[FLAG_BLUE] = [_quad(x0, x0 + cw, y0 + h - ch, y0 + h, 0.0008)]
        dots = []
        for i in range(5):
            for j in range(4):
                sx, sy = x0 + cw * (i + 0.5) / 5, y0 + h - ch * (j + 0.5) / 4
                d = 0.12 * cw / 5
                dots.append(_quad(sx - d, sx + d, sy - d, sy + d, 0.0012))
        out[FLAG_WHITE].append(g.concat(dots))
    elif kind == "ussr":
        # red field, the gold star (with the hammer and sickle left out at this size) near the hoist
        out[FLAG_RED] = [_quad(x0, x0 + w, y0, y0 + h, 0.0)]
        out[FLAG_GOLD] = [_star(x0 + 0.2 * w, y0 + 0.78 * h, 0.08 * h, 0.0005),
                          _quad(x0 + 0.12 * w, x0 + 0.30 * w, y0 + 0.50 * h, y0 + 0.62 * h, 0.0005)]
    else:
        raise DataFileError(f"data/{DATA_FILE}: flag {kind!r} is not known (us, ussr)")
    return out


def sleeve_flag(kind: str, centre, width: float, height: float) -> dict[Material, list[g.Mesh]]:
    """The flag on a thin backing on the outer side of the left sleeve (facing +X, the figure's
    left), the hoist (canton) forwards (+Z) as flags are worn on the left sleeve."""
    cx, cy, cz = (float(v) for v in centre)
    # faces drawn facing +Z with the hoist at -x; turn +Z -> +X and the hoist to +Z: rot_y(90)
    m = g.compose(g.translate(cx + 0.0035, cy, cz), g.rot_y(90.0))
    out = {m_: [x.transformed(m) for x in ms] for m_, ms in flag_faces(kind, width, height).items()}
    backing = g.box((0.008, height * 1.06, width * 1.06), center=(cx - 0.0005, cy, cz))
    out.setdefault(FLAG_WHITE if kind == "us" else FLAG_RED, []).append(backing)
    return out


def _sole(mesh: g.Mesh, y_sole: float, H: float) -> g.Mesh:
    """Flatten the underside of a foot onto the sole plane and lift the heel end."""
    p = mesh.positions.copy()
    p[:, 1] = np.maximum(p[:, 1] - 0.018 * H, y_sole)
    return _with_normals(p, mesh.triangles)


def _clip_below(mesh: g.Mesh, level) -> g.Mesh:
    """Drop the triangles whose centroid lies below ``level(points)`` in y."""
    c = mesh.positions[mesh.triangles].mean(axis=1)
    keep = c[:, 1] > level(c)
    return g.Mesh(mesh.positions, mesh.normals, mesh.triangles[keep])


# ------------------------------------------------------------------------------------ nodes
def figure_node(person: Person, root: np.ndarray, rotations: dict[str, np.ndarray]) -> Node:
    """The node tree of one person, posed and placed."""
    meshes = segment_meshes(person)
    top = Node(person.id, translation=tuple(float(v) for v in root[:3, 3]), rotation=quat_from_matrix(root),
               extras={"role": "crew", "member": person.member, "height_m": person.height, "vehicle": person.vehicle,
                       "rest_pose": "all joint rotations identity: standing, facing +Z, up +Y, left +X"})
    nodes: dict[str, Node] = {}
    for name, parent, off in skeleton(person.height):
        node = Node(f"{person.id}/{name}", translation=tuple(float(v) for v in off),
                    rotation=quat_from_matrix(rotations.get(name, np.eye(3))), extras={"role": "crew_joint"})
        for material, ms in meshes.get(name, {}).items():
            node.add(material, *ms)
        (top if parent is None else nodes[parent]).child(node)
        nodes[name] = node
    return top


def build(table: dict[str, Any] | None = None, arrangement_name: str = "handshake") -> Node:
    """All five figures in one arrangement (default: the handshake), in the stack frame."""
    t = table or load_table()
    ppl = people(t)
    root = Node("crew", extras={"role": "crew", "arrangement": arrangement_name,
                                "frame": "the stack frame (the CSM's): +Y from Apollo towards Soyuz, origin at the CM docking-ring face"})
    for pid, (place, rots) in arrangement(arrangement_name, t).items():
        root.child(figure_node(ppl[pid], place, rots))
    return root
