"""The crews' figures as a pose table, with no drawing: the skeleton (joints and their rest
offsets as fractions of the stature), the poses and arrangements of data/mission/crew_figures.toml,
forward kinematics and the blend between two arrangements (docs/models.md "The crews").

One source for the figures' posture: the model generator draws the figures with it
(experience/scene/modelgen/crew.py imports these functions), the scene poses the drawn figures
with it (experience/scene/vehicles.py) and the crossing's collisions pose the figures' solids with
it (:func:`segment_solids`: each segment's bounds as drawn, read from the built models/crew.gltf,
carried by the same joint transforms; experience/simulation/crossing.py). No panda3d here.
"""

from __future__ import annotations

import functools
import json
import math
from typing import Any

import numpy as np

from experience.errors import DataFileError
from experience.mission import data

DATA_FILE = "mission/crew_figures.toml"
ORDER = ("stafford", "slayton", "brand", "leonov", "kubasov")
ARRANGEMENTS = ("handshake", "hatch_closed", "at_hatch", "to_tunnel", "hatch_open", "reach", "pulled_in", "into_om", "let_go", "turning", "in_om")
# handshake, hatch_closed: the static views; at_hatch, to_tunnel, hatch_open, reach: the keys of the hatch
# opening in between; pulled_in, into_om, let_go, turning, in_om: after the handshake, Leonov draws Stafford into the orbital
# module (data/mission/handshake.toml, experience/simulation/handshake.py)
SHOWN = ("stafford", "slayton", "leonov", "kubasov")   # Brand stays in the CM, never drawn in the crossing

# joint: (parent, rest offset from the parent joint as fractions of the stature (x, y, z))
# x = the figure's left; mirrored for the right side (suffix _r).
_SKELETON: tuple[tuple[str, str | None, tuple[float, float, float]], ...] = (
    ("pelvis", None, (0.0, 0.0, 0.0)),
    ("spine", "pelvis", (0.0, 0.085, 0.0)),
    ("chest", "spine", (0.0, 0.10, 0.0)),
    ("neck", "chest", (0.0, 0.135, -0.008)),
    ("head", "neck", (0.0, 0.05, 0.008)),
    ("shoulder_l", "chest", (0.018, 0.118, 0.0)),
    ("upper_arm_l", "shoulder_l", (0.090, -0.006, -0.008)),
    ("forearm_l", "upper_arm_l", (0.0, -0.186, 0.0)),
    ("hand_l", "forearm_l", (0.0, -0.146, 0.0)),
    ("hip_l", "pelvis", (0.050, 0.0, 0.0)),
    ("thigh_l", "hip_l", (0.0, 0.0, 0.0)),
    ("shin_l", "thigh_l", (0.0, -0.232, 0.0)),
    ("foot_l", "shin_l", (0.0, -0.240, 0.0)),
)
PELVIS_HEIGHT = 0.515  # hip-joint height over the soles, fraction of the stature (rest pose)


def joint_names() -> list[str]:
    out = []
    for name, _parent, _off in _SKELETON:
        out.append(name)
        if name.endswith("_l"):
            out.append(name[:-2] + "_r")
    return out


def skeleton(height: float) -> list[tuple[str, str | None, np.ndarray]]:
    """(joint, parent joint, rest offset in metres), parents before children."""
    out = []
    for name, parent, off in _SKELETON:
        o = np.asarray(off, dtype=float) * height
        out.append((name, parent, o))
        if name.endswith("_l"):
            pr = parent[:-2] + "_r" if parent and parent.endswith("_l") else parent
            out.append((name[:-2] + "_r", pr, o * np.array([-1.0, 1.0, 1.0])))
    return out



def heights(table: dict[str, Any] | None = None) -> dict[str, float]:
    """{person: stature in metres} of the pose table's figures."""
    t = table or load_table()
    return {pid: float(t["figure"][pid]["height_m"]) for pid in ORDER}


@functools.cache
def _heights_cached() -> dict[str, float]:
    return heights()


def stature(pid: str) -> float:
    """One figure's stature in metres (the pose table's, read once: for per-frame callers)."""
    return _heights_cached()[pid]


def load_table() -> dict[str, Any]:
    """crew_figures.toml, checked: every figure has a height with a basis and names a crew member
    of crew.toml; every arrangement names known people, poses and joints."""
    t = data.load_toml(DATA_FILE)
    where = f"data/{DATA_FILE}"
    names = {m["name"] for m in data.crew()}
    joints = set(joint_names())
    figs = t.get("figure", {})
    if set(figs) != set(ORDER):
        raise DataFileError(f"{where}: [figure.*] must be exactly {', '.join(ORDER)}")
    for pid, f in figs.items():
        if f.get("member") not in names:
            raise DataFileError(f"{where} [figure.{pid}]: member {f.get('member')!r} is not in crew.toml")
        if not (1.4 < float(f.get("height_m", 0)) < 2.1) or not str(f.get("basis", "")).strip():
            raise DataFileError(f"{where} [figure.{pid}]: needs height_m (1.4-2.1) and a basis")
        if f.get("coverall") not in t.get("coverall", {}):
            raise DataFileError(f"{where} [figure.{pid}]: unknown coverall {f.get('coverall')!r}")
    for pname, pose in t.get("pose", {}).items():
        for j, v in pose.items():
            if j not in joints or len(v) != 3:
                raise DataFileError(f"{where} [pose.{pname}]: {j!r} is not a joint with [x, y, z] degrees")
    for aname in ARRANGEMENTS:
        arr = t.get("arrangement", {}).get(aname)
        if arr is None:
            raise DataFileError(f"{where}: [arrangement.{aname}] is missing")
        for pid in ORDER:
            e = arr.get(pid)
            if not isinstance(e, dict) or e.get("pose") not in t.get("pose", {}):
                raise DataFileError(f"{where} [arrangement.{aname}.{pid}]: missing, or an unknown pose")
            if ("pelvis_at" in e) == ("anchor" in e):
                raise DataFileError(f"{where} [arrangement.{aname}.{pid}]: give either pelvis_at or anchor + at")
    return t



def rotation(xyz_deg) -> np.ndarray:
    """3x3 joint rotation of a pose entry: R = Rx . Rz . Ry (degrees)."""
    x, y, z = (math.radians(float(v)) for v in xyz_deg)
    cx, sx, cy, sy, cz, sz = math.cos(x), math.sin(x), math.cos(y), math.sin(y), math.cos(z), math.sin(z)
    rx = np.array([[1.0, 0.0, 0.0], [0.0, cx, -sx], [0.0, sx, cx]])
    ry = np.array([[cy, 0.0, sy], [0.0, 1.0, 0.0], [-sy, 0.0, cy]])
    rz = np.array([[cz, -sz, 0.0], [sz, cz, 0.0], [0.0, 0.0, 1.0]])
    return rx @ rz @ ry


def joint_rotations(pose: dict[str, Any]) -> dict[str, np.ndarray]:
    return {j: rotation(pose.get(j, (0.0, 0.0, 0.0))) for j in joint_names()}


def _unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v)


def body_frame(up, facing) -> np.ndarray:
    """3x3 rotation taking the figure's axes (left +X, up +Y, facing +Z) to the given directions."""
    y = _unit(up)
    z = np.asarray(facing, dtype=float) - y * float(np.dot(facing, y))
    z = _unit(z)
    x = np.cross(y, z)
    return np.stack([x, y, z], axis=1)


def forward_kinematics(height: float, rotations: dict[str, np.ndarray], root: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """World 4x4 of every joint, the pelvis at ``root`` (4x4, default identity)."""
    world: dict[str, np.ndarray] = {}
    for name, parent, off in skeleton(height):
        local = np.eye(4)
        local[:3, :3] = rotations.get(name, np.eye(3))
        local[:3, 3] = off
        base = (root if root is not None else np.eye(4)) if parent is None else world[parent]
        world[name] = base @ local
    return world


def grip_point(height: float, side: str = "r") -> np.ndarray:
    """The middle of the palm, where two hands meet in a handshake, in the hand joint's frame."""
    s = 1.0 if side == "r" else -1.0  # the palm faces the body in the rest pose
    return np.array([s * 0.010, -0.058, 0.004]) * height


def placement(person, entry: dict[str, Any], arrangement: dict[str, Any]) -> np.ndarray:
    """The figure root's 4x4 in the stack frame for one arrangement entry (``person``: anything
    with a ``height``, or the stature in metres)."""
    height = float(getattr(person, "height", person))
    rot = body_frame(entry["up"], entry["facing"])
    root = np.eye(4)
    root[:3, :3] = rot
    if "pelvis_at" in entry:
        root[:3, 3] = entry["pelvis_at"]
        return root
    at = entry["at"]
    target = np.asarray(arrangement[at] if isinstance(at, str) else at, dtype=float)
    anchor = entry["anchor"]
    if not anchor.startswith("grip_"):
        raise DataFileError(f"data/{DATA_FILE}: anchor {anchor!r}: only grip_l / grip_r are known")
    side = anchor[-1]
    pose = joint_rotations(arrangement["_poses"][entry["pose"]])
    world = forward_kinematics(height, pose, root)
    h = world[f"hand_{side}"]
    p = h[:3, :3] @ grip_point(height, side) + h[:3, 3]
    root[:3, 3] = target - p
    return root


def arrangement(name: str, table: dict[str, Any] | None = None) -> dict[str, tuple[np.ndarray, dict[str, np.ndarray]]]:
    """{person: (root 4x4 in the stack frame, joint rotations)} for an arrangement."""
    t = table or load_table()
    arr = dict(t["arrangement"][name])
    arr["_poses"] = t["pose"]
    hgt = heights(t)
    out = {}
    for pid in ORDER:
        entry = arr[pid]
        out[pid] = (placement(hgt[pid], entry, arr), joint_rotations(t["pose"][entry["pose"]]))
    return out


def world_joints(name: str, table: dict[str, Any] | None = None) -> dict[str, dict[str, np.ndarray]]:
    """{person: {joint: world 4x4 in the stack frame}} for an arrangement (tests, front ends)."""
    t = table or load_table()
    hgt = heights(t)
    return {pid: forward_kinematics(hgt[pid], rots, root) for pid, (root, rots) in arrangement(name, t).items()}


def quat_from_matrix(m: np.ndarray) -> tuple[float, float, float, float]:
    """Unit quaternion (x, y, z, w) of the rotation part of a 4x4 (or 3x3) matrix (w >= 0, rounded
    to 1e-9 as the glTF writer stores it)."""
    r = np.asarray(m, dtype=float)[:3, :3]
    tr = r[0, 0] + r[1, 1] + r[2, 2]
    if tr > 0:
        s = math.sqrt(tr + 1.0) * 2
        q = ((r[2, 1] - r[1, 2]) / s, (r[0, 2] - r[2, 0]) / s, (r[1, 0] - r[0, 1]) / s, 0.25 * s)
    elif r[0, 0] > r[1, 1] and r[0, 0] > r[2, 2]:
        s = math.sqrt(1.0 + r[0, 0] - r[1, 1] - r[2, 2]) * 2
        q = (0.25 * s, (r[0, 1] + r[1, 0]) / s, (r[0, 2] + r[2, 0]) / s, (r[2, 1] - r[1, 2]) / s)
    elif r[1, 1] > r[2, 2]:
        s = math.sqrt(1.0 + r[1, 1] - r[0, 0] - r[2, 2]) * 2
        q = ((r[0, 1] + r[1, 0]) / s, 0.25 * s, (r[1, 2] + r[2, 1]) / s, (r[0, 2] - r[2, 0]) / s)
    else:
        s = math.sqrt(1.0 + r[2, 2] - r[0, 0] - r[1, 1]) * 2
        q = ((r[0, 2] + r[2, 0]) / s, (r[1, 2] + r[2, 1]) / s, 0.25 * s, (r[1, 0] - r[0, 1]) / s)
    n = math.sqrt(sum(c * c for c in q))
    q = tuple(c / n for c in q)
    if q[3] < 0:
        q = tuple(-c for c in q)
    return tuple(float(round(c, 9)) for c in q)  # type: ignore[return-value]


def _quat(m: np.ndarray) -> np.ndarray:
    return np.asarray(quat_from_matrix(m), dtype=float)


def _quat_matrix(q: np.ndarray) -> np.ndarray:
    x, y, z, w = q / np.linalg.norm(q)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def slerp(ra: np.ndarray, rb: np.ndarray, w: float) -> np.ndarray:
    """The rotation a fraction ``w`` of the way from 3x3 ``ra`` to ``rb`` (shortest arc)."""
    if w <= 0.0:
        return np.asarray(ra, dtype=float)[:3, :3]
    if w >= 1.0:
        return np.asarray(rb, dtype=float)[:3, :3]
    qa, qb = _quat(ra), _quat(rb)
    d = float(qa @ qb)
    if d < 0:
        qb, d = -qb, -d
    if d > 0.9995:
        return _quat_matrix(qa + w * (qb - qa))
    th = math.acos(min(d, 1.0))
    return _quat_matrix((math.sin((1 - w) * th) * qa + math.sin(w * th) * qb) / math.sin(th))


@functools.lru_cache(maxsize=16)
def _arrangement_cached(name: str) -> dict[str, tuple[np.ndarray, dict[str, np.ndarray]]]:
    return arrangement(name)


def blend(a: str, b: str, weight: float, table: dict[str, Any] | None = None) -> dict[str, tuple[np.ndarray, dict[str, np.ndarray]]]:
    """{person: (root 4x4, joint rotations)} a fraction ``weight`` of the way from arrangement ``a``
    to ``b``: the roots' positions interpolated, every rotation (the roots' and the joints')
    slerped. What the scene applies for the snapshot's ``crew`` (experience/simulation/handshake.py)
    and what the crossing's crew solids are posed with (:func:`segment_solids`); without a table the
    last few blends are kept (the scene and the collisions ask for the same one each frame; treat
    the result as read-only)."""
    if table is None:
        return _blend_cached(a, b, float(weight))
    return _blend(a, b, weight, table)


@functools.lru_cache(maxsize=8)
def _blend_cached(a: str, b: str, weight: float):
    pa = _arrangement_cached(a)
    if a == b or weight <= 0.0:
        return pa
    if weight >= 1.0:
        return _arrangement_cached(b)
    qa, qb = _quats_cached(a), _quats_cached(b)
    pb = _arrangement_cached(b)
    out = {}
    for pid in ORDER:
        joints, q0 = qa[pid]
        _joints, q1 = qb[pid]
        m = _slerp_many(q0, q1, weight)          # row 0: the root, then the joints
        root = np.eye(4)
        root[:3, :3] = m[0]
        ra, rb = pa[pid][0], pb[pid][0]
        root[:3, 3] = ra[:3, 3] + weight * (rb[:3, 3] - ra[:3, 3])
        out[pid] = (root, {j: m[k + 1] for k, j in enumerate(joints)})
    return out


@functools.lru_cache(maxsize=16)
def _quats_cached(name: str) -> dict[str, tuple[tuple[str, ...], np.ndarray]]:
    """{person: (joints, quaternions (1 + J, 4): the root's, then each joint's)} of an arrangement."""
    out = {}
    for pid, (root, rots) in _arrangement_cached(name).items():
        joints = tuple(rots)
        out[pid] = (joints, np.array([_quat(root)] + [_quat(rots[j]) for j in joints]))
    return out


def _slerp_many(qa: np.ndarray, qb: np.ndarray, w: float) -> np.ndarray:
    """:func:`slerp` for rows of quaternions at once: (K, 3, 3) rotations."""
    d = np.sum(qa * qb, axis=1)
    qb = np.where(d[:, None] < 0.0, -qb, qb)
    d = np.abs(d)
    th = np.arccos(np.minimum(d, 1.0))
    lerp = d > 0.9995
    s = np.sin(th)
    safe = np.where(lerp, 1.0, s)
    ka = np.where(lerp, 1.0 - w, np.sin((1.0 - w) * th) / safe)
    kb = np.where(lerp, w, np.sin(w * th) / safe)
    q = ka[:, None] * qa + kb[:, None] * qb
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    x, y, z, c = q[:, 0], q[:, 1], q[:, 2], q[:, 3]
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * c), 2 * (x * z + y * c)], axis=-1),
        np.stack([2 * (x * y + z * c), 1 - 2 * (x * x + z * z), 2 * (y * z - x * c)], axis=-1),
        np.stack([2 * (x * z - y * c), 2 * (y * z + x * c), 1 - 2 * (x * x + y * y)], axis=-1)], axis=1)


def _blend(a: str, b: str, weight: float, table: dict[str, Any] | None):
    pa = arrangement(a, table) if table is not None else _arrangement_cached(a)
    if a == b or weight <= 0.0:
        return pa
    pb = arrangement(b, table) if table is not None else _arrangement_cached(b)
    if weight >= 1.0:
        return pb
    out = {}
    for pid in ORDER:
        (ra, ja), (rb, jb) = pa[pid], pb[pid]
        root = np.eye(4)
        root[:3, :3] = slerp(ra, rb, weight)
        root[:3, 3] = ra[:3, 3] + weight * (rb[:3, 3] - ra[:3, 3])
        out[pid] = (root, {j: slerp(ja[j], jb[j], weight) for j in ja})
    return out



# ------------------------------------------------------------------------------------ solids
MODEL_FILE = "models/crew.gltf"


@functools.cache
def segment_bounds() -> dict[str, tuple[tuple[str, ...], np.ndarray, np.ndarray]]:
    """{person: (joints, lo (J, 3), hi (J, 3))}: each drawn segment's bounds in its joint's frame,
    read from the built figures (models/crew.gltf: every joint node's mesh, the POSITION accessors'
    min and max over its primitives), so the solids are the drawing's own extent."""
    from experience.paths import repo_root

    path = repo_root() / MODEL_FILE
    try:
        gl = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise DataFileError(f"{MODEL_FILE}: cannot read the crew figures ({e}); rebuild the models (python tools/build_models.py)") from e
    acc = gl["accessors"]
    out = {}
    for pid in ORDER:
        names, lo, hi = [], [], []
        for node in gl["nodes"]:
            name = node.get("name", "")
            if not name.startswith(pid + "/") or "mesh" not in node:
                continue
            prims = gl["meshes"][node["mesh"]]["primitives"]
            mn = np.min([acc[pr["attributes"]["POSITION"]]["min"] for pr in prims], axis=0)
            mx = np.max([acc[pr["attributes"]["POSITION"]]["max"] for pr in prims], axis=0)
            names.append(name.split("/", 1)[1])
            lo.append(mn)
            hi.append(mx)
        out[pid] = (tuple(names), np.asarray(lo, dtype=float), np.asarray(hi, dtype=float))
    return out


def segment_solids(a: str, b: str, weight: float, who: tuple[str, ...] = SHOWN) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, np.ndarray]:
    """The figures' solids where the crews are (``blend(a, b, weight)``): per person and drawn
    segment, the oriented box of that segment's drawn bounds (:func:`segment_bounds`) carried by
    the same joint transform the scene draws it with. Returns (names ``person/joint``, centres
    (M, 3), axes (M, 3, 3) as columns, half sizes (M, 3)), in the stack frame; every drawn vertex
    lies inside its segment's box (tests/test_crossing.py).

    Computed for all the people at once (:func:`_batched_world`: the same slerp of the same
    quaternions as :func:`blend` and the same joint chain as :func:`forward_kinematics`, as
    arrays over people and joints), so the crossing can re-pose the 68 solids every frame while
    the crews move; the results agree with the per-person functions to rounding (1e-15)."""
    who = tuple(who)
    names, mid, half, take = _solid_layout(who)
    rot, pos = _batched_world(a, b, float(weight), who)             # (P, 1 + J, 3, 3), (P, 1 + J, 3)
    r = rot.reshape(-1, 3, 3)[take]                                 # (M, 3, 3)
    c = np.matmul(r, mid[:, :, None])[:, :, 0] + pos.reshape(-1, 3)[take]
    return names, c, r, half.copy()


@functools.cache
def _rows() -> tuple[tuple[str, ...], dict[str, int], tuple[tuple[int, int, tuple[int, ...]], ...]]:
    """The batched chain's row order: row 0 the root, then the joints by depth in the skeleton
    (so that each depth is one slice of rows): (joints in row order, {joint: row}, per depth
    (first row, end row, the parents' rows))."""
    parent = {name: par for name, par, _o in skeleton(1.0)}
    depth: dict[str, int] = {}
    for name in joint_names():   # skeleton order: parents first
        depth[name] = 0 if parent[name] is None else depth[parent[name]] + 1
    joints = tuple(sorted(joint_names(), key=lambda j: depth[j]))   # stable: skeleton order within a depth
    row = {j: 1 + k for k, j in enumerate(joints)}
    levels = []
    for d in range(max(depth.values()) + 1):
        rs = [row[j] for j in joints if depth[j] == d]
        levels.append((rs[0], rs[-1] + 1, tuple(0 if parent[j] is None else row[parent[j]] for j in joints if depth[j] == d)))
    return joints, row, tuple(levels)


@functools.cache
def _solid_layout(who: tuple[str, ...]):
    """(names, bounds' middles (M, 3), half sizes (M, 3), each solid's row in the flattened
    (P * (1 + J)) world arrays of :func:`_batched_world`)."""
    bounds = segment_bounds()
    joints, row, _levels = _rows()
    n = 1 + len(joints)
    names, mids, halves, take = [], [], [], []
    for p, pid in enumerate(who):
        segs, lo, hi = bounds[pid]
        mids.append((lo + hi) / 2)
        halves.append((hi - lo) / 2)
        take += [p * n + row[j] for j in segs]
        names += [f"{pid}/{j}" for j in segs]
    return tuple(names), np.concatenate(mids), np.concatenate(halves), np.asarray(take, dtype=np.intp)


@functools.cache
def _chain(who: tuple[str, ...]):
    """The skeleton as arrays for a batch of people (rows of :func:`_rows`): rest offsets
    (P, 1 + J, 3, 1) in metres, each row's parent row (1 + J,), the ancestor matrix (1 + J, 1 + J)
    (1 where column k is row j or one of its ancestors: a joint's position is the root's plus the
    sum of the offsets, each turned by its parent's rotation, down its chain) and the levels as
    (first row, end row, parents' rows (index array))."""
    joints, row, levels = _rows()
    hgt = _heights_cached()
    off = np.zeros((len(who), 1 + len(joints), 3, 1))
    parent = np.zeros(1 + len(joints), dtype=np.intp)
    for p, pid in enumerate(who):
        for name, par, o in skeleton(hgt[pid]):
            off[p, row[name], :, 0] = o
            parent[row[name]] = 0 if par is None else row[par]
    anc = np.eye(1 + len(joints))
    for r in range(1, 1 + len(joints)):   # parents' rows come first
        anc[r] += anc[parent[r]]
        anc[r, r] = 1.0
    anc[:, 0] = 1.0
    return off, parent, anc, tuple((s, e, np.asarray(par, dtype=np.intp)) for s, e, par in levels)


@functools.lru_cache(maxsize=32)
def _pose_arrays(name: str, who: tuple[str, ...]):
    """An arrangement as arrays (rows of :func:`_rows`): rotations (P, 1 + J, 3, 3) (the root's,
    then each joint's: the matrices :func:`arrangement` gives), their quaternions (P * (1 + J), 4)
    as :func:`blend` slerps them, the roots' positions (P, 3)."""
    pose, quats = _arrangement_cached(name), _quats_cached(name)
    joints = _rows()[0]
    rot = np.stack([np.stack([pose[pid][0][:3, :3]] + [pose[pid][1][j] for j in joints]) for pid in who])
    q = []
    for pid in who:
        order = {j: 1 + k for k, j in enumerate(quats[pid][0])}
        q.append(quats[pid][1][[0] + [order[j] for j in joints]])
    q = np.concatenate(q)
    pos = np.stack([pose[pid][0][:3, 3] for pid in who])
    for x in (rot, q, pos):
        x.flags.writeable = False
    return rot, q, pos


@functools.lru_cache(maxsize=16)
def _slerp_pair(a: str, b: str, who: tuple[str, ...]):
    """What :func:`_slerp_many` computes from two arrangements' quaternions before the weight
    enters: (qa, qb on qa's side, the angles, their sines (1 where lerped), the lerped rows)."""
    _ra, qa, _pa = _pose_arrays(a, who)
    _rb, qb, _pb = _pose_arrays(b, who)
    d = np.sum(qa * qb, axis=1)
    qb = np.where(d[:, None] < 0.0, -qb, qb)
    d = np.abs(d)
    th = np.arccos(np.minimum(d, 1.0))
    lerp = d > 0.9995
    safe = np.where(lerp, 1.0, np.sin(th))
    return qa, qb, th, safe, lerp


# the rotation matrix (row-major, 9) of a unit quaternion (x, y, z, w) as a linear map of its
# products q_i q_j (16, row-major) plus a constant: the same sums as _slerp_many's
_QM = np.zeros((16, 9))
for _k, _terms in enumerate((
        ((1, 1, -2), (2, 2, -2)), ((0, 1, 2), (2, 3, -2)), ((0, 2, 2), (1, 3, 2)),
        ((0, 1, 2), (2, 3, 2)), ((0, 0, -2), (2, 2, -2)), ((1, 2, 2), (0, 3, -2)),
        ((0, 2, 2), (1, 3, -2)), ((1, 2, 2), (0, 3, 2)), ((0, 0, -2), (1, 1, -2)))):
    for _i, _j, _c in _terms:
        _QM[_i * 4 + _j, _k] = _c
_QM_1 = np.array([1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0])


def _slerp_rows(a: str, b: str, w: float, who: tuple[str, ...]) -> np.ndarray:
    """:func:`_slerp_many` of two arrangements' quaternions (rows of :func:`_rows`), with the
    weight-free part kept per pair: (P * (1 + J), 3, 3)."""
    qa, qb, th, safe, lerp = _slerp_pair(a, b, who)
    wk = np.array([[1.0 - w], [w]])
    k = np.where(lerp, wk, np.sin(wk * th) / safe)                # (2, K): ka, kb
    q = k[0][:, None] * qa + k[1][:, None] * qb
    q = q / np.sqrt(np.sum(q * q, axis=1, keepdims=True))
    qq = (q[:, :, None] * q[:, None, :]).reshape(-1, 16)
    return (qq @ _QM + _QM_1).reshape(-1, 3, 3)


def blend_rows(a: str, b: str, weight: float, who: tuple[str, ...] = SHOWN):
    """:func:`blend` for a batch of people as arrays: (the joints in row order (:func:`_rows`:
    row 0 the root, row 1 + k joint k), local rotations (P, 1 + J, 3, 3): the roots' and the
    joints', the roots' positions (P, 3)); read-only. The last few are kept: the crossing's
    solids (:func:`segment_solids`) and the scene's animated figures ask for the same one in a
    frame. The same slerp as :func:`segment_solids` (it agrees with :func:`blend` to rounding,
    1e-15; exactly the arrangement's matrices at either end); the positions are blend's."""
    loc, root_pos = _local_rows(a, b, float(weight), tuple(who))
    return _rows()[0], loc, root_pos


def joint_rows() -> dict[str, int]:
    """{joint: its row in :func:`blend_rows`' arrays} (row 0: the root)."""
    return dict(_rows()[1])


@functools.lru_cache(maxsize=4)
def _local_rows(a: str, b: str, weight: float, who: tuple[str, ...]):
    ra, _qa, pa = _pose_arrays(a, who)
    if a == b or weight <= 0.0:
        return ra, pa
    if weight >= 1.0:
        rb, _qb, pb = _pose_arrays(b, who)
        return rb, pb
    pb = _pose_arrays(b, who)[2]
    loc = _slerp_rows(a, b, weight, who).reshape(ra.shape)
    root_pos = pa + weight * (pb - pa)
    loc.flags.writeable = False
    root_pos.flags.writeable = False
    return loc, root_pos


def _batched_world(a: str, b: str, weight: float, who: tuple[str, ...]):
    """World rotations (P, 1 + J, 3, 3) and positions (P, 1 + J, 3) of every row of
    :func:`_rows` (row 0: the root) for ``blend(a, b, weight)``: :func:`forward_kinematics`'s
    chain, one depth of the skeleton at a time."""
    loc, root_pos = _local_rows(a, b, float(weight), tuple(who))
    off, parent, anc, levels = _chain(who)
    rot = np.empty_like(loc)
    rot[:, 0] = loc[:, 0]
    for s, e, par in levels:
        np.matmul(rot[:, par], loc[:, s:e], out=rot[:, s:e])
    inc = np.matmul(rot[:, parent], off)[..., 0]                    # each offset turned by its parent
    inc[:, 0] = root_pos
    return rot, np.matmul(anc, inc)
