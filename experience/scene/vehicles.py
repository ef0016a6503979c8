"""The spacecraft in the NEAR pass: models placed by the snapshot, lit by the Sun and the Earth.

Models (docs/models.md, built by experience/scene/modelgen): ``models/stack.gltf`` (docked),
``apollo_csm.gltf`` + ``docking_module.gltf`` (Apollo before the Docking Module was jettisoned)
and ``soyuz.gltf``. Model frame: +Y along the stack axis from the Apollo SM toward Soyuz, origin at
the CM docking-ring face, +Z the CM side-hatch side (Soyuz shares the frame with its origin at its
APAS-75 interface).

Attitude (documented choice, snapshot.py): the snapshot's ``body_to_eci`` columns are the LVLH
axes x = along-track, y = orbit normal, z = radial up. Soyuz leads and Apollo trails with its
docking port forward (the docking axis along the flight direction), and Apollo's hatch side faces
the Earth, so

    model +Y -> body +x   (Soyuz ahead, Apollo behind)
    model +Z -> body -z   (hatch side toward the Earth)
    model +X -> body +y   (right-handed: X = Y x Z)

``model_to_eci = body_to_eci @ MODEL_TO_BODY``. The model origin sits at ``pos_km`` (the stack's
position is the CM docking-ring face).

During the docking (snapshot phase ``docking``) Apollo with its Docking Module and Soyuz are drawn
apart, each where the snapshot puts it (Soyuz from the docking simulation), and the Docking
Module's APAS-75 guide ring with its petals is its own node (``apas_dm_ring``, not flattened into
the rest), moved by ``snapshot.docking``: extended 0.3 m for the capture, then retracting.

When the model files are missing, a PLACEHOLDER is drawn and announced on stderr: cylinders, a
cone and a sphere at the true dimensions (CSM 3.91 m x 10.1 m, DM 1.4 m x 3.15 m, Soyuz 2.72 m x
7.48 m with an 8.37 m solar span), in the same frame.

Draw calls: each model is flattened (``flattenStrong``) into one node with one Geom per material.

The crews (``models/crew.gltf``, docs/models.md "The crews") are drawn only in interior views of
the docked stack: from the hatch opening (timeline event ``handshake``) until the first undocking
in the handshake arrangement, before and after it in ``hatch_closed`` (each crew in its own ship,
the hatches between the Docking Module and Soyuz closed). The file holds the handshake; other
arrangements are posed here by setting the figures' joint-node transforms from the pose table
(:func:`pose_crew`), then each arrangement is flattened into one node (a Geom per material).
Brand, in the Command Module behind the closed Apollo-end hatches, cannot be seen from any view
and is left out of the scene.
"""

from __future__ import annotations

import functools
import math
import sys

import numpy as np
from panda3d.core import (Filename, LMatrix4f, Loader, LoaderOptions, LRotationf, LVector3f, Material, NodePath,
                          OmniBoundingVolume, Shader)

from experience.paths import repo_root
from experience.vec import cross3
from experience.scene import boundary
from experience.scene.config import shader_path

MODEL_TO_BODY = np.array([[0.0, 1.0, 0.0],
                          [1.0, 0.0, 0.0],
                          [0.0, 0.0, -1.0]])  # columns: model X, Y, Z written in body axes
# The docking simulation's active port frame (kernels/docking.py; x -> body +y, y -> body +z,
# z -> body +x, experience/simulation/docking_replay.py) in model axes: columns port x, y, z.
PORT_TO_MODEL = MODEL_TO_BODY.T @ np.array([[0.0, 0.0, 1.0],
                                            [1.0, 0.0, 0.0],
                                            [0.0, 1.0, 0.0]])
RING_NODE = "apas_dm/ring"


def model_to_eci(state) -> np.ndarray:
    """The vehicle's model axes written in ECI (3x3, float64) for a snapshot VehicleState."""
    return np.asarray(state.body_to_eci, dtype=np.float64) @ MODEL_TO_BODY

EARTH_RADIUS_KM = 6371.0
EARTH_ALBEDO = 0.30
EARTHSHINE_TINT = np.array([0.80, 0.92, 1.15])
CABIN_LIGHT = 1.6       # floodlight intensity (white card at 1 m: radiance 0.5); illustrative
AMBIENT_FLOOR = 0.003  # keeps an eclipsed stack barely visible (illustrative)
CROSSING_HEADLAMP = 0.06  # the crossing's eye floats 0.15-1 m from the walls: a faint light at the eye ...
CROSSING_LAMP = 0.45      # ... and the room's lamp (data/mission/crossing.toml) does the lighting
WINDOW_BOUNCE = 0.5       # fraction of the sunbeam through a window the cabin scatters back (illustrative albedo)
WINDOW_BOUNCE_INSET_M = 0.3   # the scattered light as a point source this far inside the window

_LOADED: dict[str, NodePath | None] = {}
_PLACEHOLDER_NOTICE = [False]


def models_dir():
    return repo_root() / "models"


def _load_gltf(name: str) -> NodePath | None:
    """A model from models/NAME.gltf (cached per process), or None if it is missing or unreadable."""
    if name in _LOADED:
        return _LOADED[name]
    path = models_dir() / f"{name}.gltf"
    np_ = None
    if path.is_file():
        try:
            np_ = _converted(path)
        except Exception:  # a broken file or no glTF loader plugin: fall back to the placeholder
            np_ = None
    if np_ is not None:
        np_ = _in_file_axes(np_)
    _LOADED[name] = np_
    return np_


def _gltf_files(path) -> tuple:
    """The glTF file and the buffers and images it names (what the converted model depends on)."""
    import json

    files = [path]
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        for item in list(doc.get("buffers", [])) + list(doc.get("images", [])):
            uri = item.get("uri", "")
            if uri and not uri.startswith("data:"):
                files.append(path.parent / uri)
    except (OSError, ValueError, AttributeError):
        pass  # unreadable: the loader will say so; the key still covers the file itself
    return tuple(files)


BAM_MAGIC = b"pbj\0\n\r"


def _bam_entry(path):
    from importlib import metadata

    from experience import cache

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "none"

    def check(arrays):
        bam = cache.require(arrays, "bam", np.uint8, finite=False)
        if bam.ndim != 1 or bytes(bam[:6]) != BAM_MAGIC:
            raise cache.Invalid("is not a Panda3D model (no BAM header)")

    return cache.Entry(f"model-{path.stem}", f"converted {path.stem} model", _gltf_files(path),
                       params=(version("panda3d"), version("panda3d-gltf")), check=check, compress=1)


def _converted(path) -> NodePath | None:
    """The glTF model as Panda3D nodes. Converting glTF (tangents, materials) takes most of a
    second per model; the result is kept in the user cache as a BAM stream keyed by the files'
    content and the converter's version, so a warm start only decodes it."""
    from experience import cache

    def build():
        node = Loader.getGlobalPtr().loadSync(Filename.fromOsSpecific(str(path)),
                                              LoaderOptions(LoaderOptions.LF_no_cache | LoaderOptions.LF_report_errors))
        if node is None:
            raise _NotLoaded()
        return {"bam": np.frombuffer(NodePath(node).encodeToBamStream(), dtype=np.uint8)}

    try:
        got = cache.load(_bam_entry(path), build)
    except _NotLoaded:
        return None
    model = NodePath.decodeFromBamStream(got.arrays["bam"].tobytes())
    return None if model.isEmpty() else model


class _NotLoaded(Exception):
    pass


def _in_file_axes(model: NodePath) -> NodePath:
    """Models are used in the glTF file's own axes (+Y the stack axis). Some Panda3D glTF loaders
    convert Y-up files to Z-up; detect that by the long axis and undo it."""
    lo, hi = model.getTightBounds()
    ext = hi - lo
    if ext.z > 1.5 * ext.y:  # the stack axis came out along +Z: (x, y, z)_file -> (x, -z, y)
        holder = NodePath(model.getName())
        model.reparentTo(holder)
        model.setMat(LMatrix4f(1, 0, 0, 0, 0, 0, -1, 0, 0, 1, 0, 0, 0, 0, 0, 1))  # row vectors: y' -> -z, z' -> y
        return holder
    return model


# --------------------------------------------------------------------------------- placeholder
def _material(color, metallic: float, roughness: float) -> Material:
    m = Material()
    m.setBaseColor((*color, 1.0))
    m.setMetallic(metallic)
    m.setRoughness(roughness)
    return m


def _lathe(profile: list[tuple[float, float]], segments: int = 48):
    """A surface of revolution about model +Y from (r, y) points (outer skin)."""
    prof = np.asarray(profile, dtype=np.float64)
    az = np.linspace(0.0, 2 * math.pi, segments + 1)
    r, y = prof[:, 0][:, None], prof[:, 1][:, None]
    pos = np.stack([r * np.sin(az), np.broadcast_to(y, (len(prof), segments + 1)), r * np.cos(az)], axis=-1)
    # profile normals: perpendicular to the (r, y) tangent, pointing outward
    t = np.gradient(prof, axis=0)
    nr, ny = t[:, 1], -t[:, 0]
    ln = np.hypot(nr, ny) + 1e-12
    nr, ny = (nr / ln)[:, None], (ny / ln)[:, None]
    nrm = np.stack([nr * np.sin(az), np.broadcast_to(ny, (len(prof), segments + 1)), nr * np.cos(az)], axis=-1)
    k = len(prof)
    i, j = np.meshgrid(np.arange(k - 1), np.arange(segments), indexing="ij")
    a = (i * (segments + 1) + j).ravel()
    b, c, d = a + 1, a + segments + 2, a + segments + 1
    tri = np.concatenate([np.stack([a, d, c], 1), np.stack([a, c, b], 1)])
    return pos.reshape(-1, 3), nrm.reshape(-1, 3), tri


def _box(center, size):
    cx, cy, cz = center
    sx, sy, sz = (s / 2 for s in size)
    pos, nrm, tri = [], [], []
    for axis in range(3):
        for sign in (-1.0, 1.0):
            n = np.zeros(3)
            n[axis] = sign
            u = np.zeros(3)
            u[(axis + 1) % 3] = 1.0
            v = np.cross(n, u)
            half = np.array([sx, sy, sz])
            base = len(pos)
            for du, dv in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
                p = n * half + u * half * du + v * half * dv
                pos.append(np.array([cx, cy, cz]) + p)
                nrm.append(n)
            tri += [(base, base + 1, base + 2), (base, base + 2, base + 3)]
    return np.array(pos), np.array(nrm), np.array(tri)


def _part(parent: NodePath, name: str, mesh, material: Material) -> NodePath:
    from experience.scene.earth import make_geom_node

    pos, nrm, tri = mesh
    node = parent.attachNewNode(make_geom_node(name, pos.astype(np.float32), None,
                                               np.asarray(tri, dtype=np.uint32), normal=nrm.astype(np.float32)))
    node.setMaterial(material, 1)
    node.setTwoSided(True)
    return node


def placeholder(kind: str) -> NodePath:
    """PLACEHOLDER geometry at true dimensions, in the model frame (see module docstring).
    ``kind``: stack | apollo | apollo_dm | soyuz."""
    root = NodePath(f"PLACEHOLDER_{kind}")
    alu = _material((0.80, 0.80, 0.82), 1.0, 0.3)
    cm_skin = _material((0.86, 0.86, 0.88), 1.0, 0.22)
    grey = _material((0.78, 0.79, 0.78), 0.15, 0.55)
    green = _material((0.32, 0.38, 0.30), 0.0, 0.85)
    cells = _material((0.03, 0.05, 0.18), 0.3, 0.25)
    dark = _material((0.16, 0.16, 0.17), 0.85, 0.5)
    if kind in ("stack", "apollo", "apollo_dm"):
        # CM: cone from the 3.91 m base (y = -3.23) to the tunnel (y = -0.3), then the tunnel
        _part(root, "PLACEHOLDER_cm", _lathe([(0.0, -3.45), (1.6, -3.35), (1.955, -3.23), (0.62, -0.6), (0.48, -0.5),
                                               (0.48, 0.0), (0.0, 0.0)]), cm_skin)
        _part(root, "PLACEHOLDER_sm", _lathe([(0.0, -10.11), (1.955, -10.11), (1.955, -3.26), (0.0, -3.26)]), alu)
        _part(root, "PLACEHOLDER_sps", _lathe([(1.25, -12.9), (0.4, -10.3), (0.3, -10.11)]), dark)
    if kind in ("stack", "apollo_dm"):
        _part(root, "PLACEHOLDER_dm", _lathe([(0.0, 0.0), (0.55, 0.0), (0.7, 0.25), (0.7, 2.85), (0.55, 3.15), (0.0, 3.15)]), grey)
    if kind in ("stack", "soyuz"):
        soyuz = root.attachNewNode("PLACEHOLDER_soyuz")
        if kind == "stack":
            soyuz.setY(3.15)
        _part(soyuz, "PLACEHOLDER_om", _lathe([(0.0, 0.0), (0.4, 0.0), (0.4, 0.2)]
                                              + [(1.1 * math.sin(a), 1.3 - 1.1 * math.cos(a)) for a in np.linspace(0.35, math.pi - 0.4, 12)]
                                              + [(0.0, 2.4)]), green)
        _part(soyuz, "PLACEHOLDER_dm_bell", _lathe([(0.0, 2.45), (0.7, 2.45), (1.1, 3.2), (1.1, 4.55), (0.0, 4.55)]), green)
        _part(soyuz, "PLACEHOLDER_im", _lathe([(0.0, 4.6), (1.1, 4.6), (1.1, 5.6), (1.36, 6.2), (1.36, 7.48), (0.0, 7.48)]), grey)
        for side in (-1.0, 1.0):
            _part(soyuz, f"PLACEHOLDER_array_{int(side)}", _box((side * (1.36 + 1.4), 6.67, 0.0), (2.8, 1.35, 0.03)), cells)
    return root


# ------------------------------------------------------------------------------------- vehicles
class Vehicles:
    """The spacecraft under the NEAR root: one flattened node per configuration, shown as needed."""

    def __init__(self, parent: NodePath, config):
        self.config = config
        self.root = parent.attachNewNode("vehicles")
        shader = Shader.load(Shader.SL_GLSL, vertex=str(shader_path("vehicle.vert")),
                             fragment=str(shader_path("vehicle.frag")))
        self.root.setShader(shader, 10)
        self._defaults()
        self.placeholder_used: set[str] = set()
        self.nodes: dict[str, NodePath] = {}
        self.ring: NodePath | None = None
        self.ring_rest = np.eye(4)
        self.geom_counts: dict[str, int] = {}
        for kind in ("stack", "stack_open", "apollo", "apollo_dm", "soyuz"):
            self.nodes[kind] = self._build(kind)
            self.nodes[kind].hide()
        self.crew: dict[str, NodePath] = {}
        for arrangement in CREW_ARRANGEMENTS:
            node = self._build_crew(arrangement)
            if node is not None:
                node.hide()
                self.crew[arrangement] = node
                self.geom_counts[f"crew_{arrangement}"] = sum(g.node().getNumGeoms() for g in node.findAllMatches("**/+GeomNode"))
        self.crew_shown: str | None = None
        self.animated_crew = None   # (axes conversion, {person: (root node, {joint: (node, rest offset)})})
        self.hatch_pivots: list[tuple[NodePath, float]] = []
        # the crossing (issue #10; experience/app/crossing.py): while set, interior views of the
        # docked stack draw the hatches as the airlock has them, with the probe, the drogue and
        # the CM's tunnel hatch removed (as the crew did), lit by the lamp of the visitor's room
        self.crossing_hatches: dict[str, str] | None = None
        self.crossing_lamp: tuple[tuple[float, float, float], tuple[float, float, float]] | None = None
        self.crossing_room: str | None = None
        self.crossing_pressures: dict[str, float] | None = None
        self.crossing_crew = None
        self.gauges: dict[str, list[tuple[NodePath, str, float]]] = {}   # kind -> (pivot, volume, axis sign)

    def set_crossing(self, hatches: dict[str, str] | None, lamp=None, pressures_mmhg: dict[str, float] | None = None,
                     crew=None, room: str | None = None) -> None:
        """Draw the crossing's hatches (``{"apollo_dm": "open"|"closed", "dm_soyuz": ...}``; None:
        the story's own configuration) and light the cabins with ``lamp`` = (position in the
        stack's model frame in metres, linear RGB) and the Sun through the windows of ``room``
        (``cm``, ``dm``, ``soyuz_om``; :func:`room_windows`)."""
        self.crossing_hatches = dict(hatches) if hatches is not None else None
        self.crossing_lamp = lamp
        self.crossing_room = room if hatches is not None else None
        self.crossing_pressures = dict(pressures_mmhg) if pressures_mmhg else None
        self.crossing_crew = crew   # the CrewPose at the crossing's story time (None: the waiting Soyuz crew only)
        if hatches is not None:
            kind = _crossing_kind(self.crossing_hatches)
            if kind not in self.nodes:
                self.nodes[kind] = self._build(kind)
                self.nodes[kind].hide()
            if "crossing" not in self.crew:
                from experience.mission.cabins import CREW_ARRANGEMENT, CROSSING_CREW

                node = self._build_crew(CREW_ARRANGEMENT, only=CROSSING_CREW, name="crossing")
                if node is not None:
                    node.hide()
                    self.crew["crossing"] = node

    def _defaults(self) -> None:
        r = self.inputs = boundary.Uniforms(self.root)
        r.set("u_sun_dir", (1.0, 0.0, 0.0))
        r.set("u_sun_light", (0.0, 0.0, 0.0))
        r.set("u_up", (0.0, 0.0, 1.0))
        r.set("u_earth_cos", 0.26)
        r.set("u_earth_radiance", (0.0, 0.0, 0.0))
        r.set("u_limb_radiance", (0.0, 0.0, 0.0))
        r.set("u_cabin_light", (0.0, 0.0, 0.0))
        r.set("u_lamp_pos", (0.0, 0.0, 0.0))
        r.set("u_lamp", (0.0, 0.0, 0.0))
        r.set("u_win_pos", (0.0, 0.0, 0.0))
        r.set("u_win_radius", 0.0)
        r.set("u_win_sun", (0.0, 0.0, 0.0))
        r.set("u_win_bounce_pos", (0.0, 0.0, 0.0))
        r.set("u_win_bounce", (0.0, 0.0, 0.0))
        r.set("u_ambient", (AMBIENT_FLOOR,) * 3)
        r.set("u_eye_split", 1.0e9)           # one view: every fragment seen from the camera
        r.set("u_eye_left", (0.0, 0.0, 0.0))
        r.set("u_eye_right", (0.0, 0.0, 0.0))

    def _model(self, kind: str) -> NodePath:
        files = {"stack": ["stack"], "stack_open": ["stack"], "apollo": ["apollo_csm"],
                 "apollo_dm": ["apollo_csm", "docking_module"], "soyuz": ["soyuz"]}.get(kind, ["stack"])
        loaded = [_load_gltf(f) for f in files]
        if all(m is not None for m in loaded):
            holder = NodePath(kind)
            for m in loaded:
                m.copyTo(holder)
            if kind == "stack_open":
                _open_hatches(holder)
            elif kind.startswith("crossing_"):
                _crossing_hatches(holder, kind)
            return holder
        self.placeholder_used.add(kind)
        if not _PLACEHOLDER_NOTICE[0]:
            _PLACEHOLDER_NOTICE[0] = True
            print(f"astp: note: models/{files[0]}.gltf not found: drawing PLACEHOLDER spacecraft "
                  f"(simple solids at true size); build the models with tools/build_models.py", file=sys.stderr)
        return placeholder("stack" if kind.startswith("stack") else kind)

    def _build(self, kind: str) -> NodePath:
        model = self._model(kind)
        holder = self.root.attachNewNode(f"vehicle_{kind}")
        body = holder.attachNewNode("model_frame")
        model.reparentTo(body)
        if kind == "apollo_dm":
            self._separate_ring(model, body)
        if kind.startswith("crossing_"):
            self._separate_gauges(kind, model, body)
        if kind == "stack_anim":
            self._separate_hatches(model, body)
        if self.config.flatten:
            model.flattenStrong()
        holder.node().setBounds(OmniBoundingVolume())
        holder.node().setFinal(True)
        self.geom_counts[kind] = sum(g.node().getNumGeoms() for g in holder.findAllMatches("**/+GeomNode"))
        return holder

    def _separate_ring(self, model: NodePath, body: NodePath) -> None:
        """Take the Docking Module's guide ring (with its petals) out of the model into its own
        node under the model frame, at its rest (retracted) place, so the docking can move it."""
        from experience.scene.modelgen.panda import find_named

        ring = find_named(model, RING_NODE)
        if ring.isEmpty():
            return
        rest = ring.getMat(body)
        anim = body.attachNewNode("apas_dm_ring")
        anim.setMat(rest)
        ring.reparentTo(anim)
        ring.setMat(LMatrix4f.identMat())
        if self.config.flatten:
            ring.flattenStrong()
        self.ring = anim
        self.ring_rest = np.array([[rest.getCell(r, c) for c in range(4)] for r in range(4)]).T  # column vectors

    def _separate_gauges(self, kind: str, model: NodePath, body: NodePath) -> None:
        """Take the DM's four gauge needles out of the model onto pivots at their dials' centres
        (model axes), so the crossing can turn them to the cabins' pressures."""
        from experience.scene.modelgen.panda import find_named

        out = []
        for end, sign in (("apollo", 1.0), ("soyuz", -1.0)):
            for reads in ("dm", "cm" if end == "apollo" else "soyuz_om"):
                n = find_named(model, f"dm/gauge_{end}_{reads}")
                if n.isEmpty():
                    continue
                pivot = body.attachNewNode(f"dm/gauge_{end}_{reads}_pivot")
                pivot.setPos(n.getPos(body))
                n.wrtReparentTo(pivot)
                out.append((pivot, reads, sign))
        self.gauges[kind] = out

    def _separate_hatches(self, model: NodePath, body: NodePath) -> None:
        """Take the two DM-Soyuz hatches out of the model onto pivots at their hinges (model
        axes), so the hatch opening can swing them (``Snapshot.crew.hatch_deg``)."""
        from experience.scene.modelgen.panda import find_named

        self.hatch_pivots = []
        for name, sign in HATCH_SWING:
            h = find_named(model, name)
            if h.isEmpty():
                continue
            pivot = body.attachNewNode(f"{name}_hinge")
            pivot.setPos(h.getPos(body))
            h.wrtReparentTo(pivot)
            self.hatch_pivots.append((pivot, sign))

    def _apply_crew_pose(self, cp) -> None:
        """Pose the animated crew for the snapshot's CrewPose and swing the hatches."""
        for pivot, sign in getattr(self, "hatch_pivots", []):
            pivot.setH(sign * float(cp.hatch_deg))
        if self.animated_crew is None:
            return
        from experience.mission import figures

        conv, joints = self.animated_crew
        if not joints:
            return
        # every figure's root and joint nodes at once: the batched blend (figures.blend_rows, the
        # same one the crossing's solids are posed with in this frame) into one stack of 4x4
        # matrices, turned into Panda's axes together (conv is a signed permutation: exact)
        who, nodes, person, row, rest, roots, c4 = self._crew_batch
        _joints, loc, root_pos = figures.blend_rows(cp.a, cp.b, float(cp.weight), who)
        m = rest.copy()   # the rest offsets and the bottom row, built once
        m[:, :3, :3] = loc[person, row]
        m[roots, :3, 3] = root_pos
        mp = np.matmul(np.matmul(c4, m), c4.T)
        for node, v in zip(nodes, np.swapaxes(mp, 1, 2).reshape(-1, 16).tolist()):
            node.setMat(LMatrix4f(*v))   # Panda3D: row vectors

    def _build_animated_crew(self) -> None:
        """The crew figures for the hatch opening: not flattened, joint nodes kept to pose per frame."""
        from experience.scene.modelgen import crew
        from experience.scene.modelgen.panda import find_named

        loaded = _load_gltf(CREW_FILE)
        if loaded is None:
            self.animated_crew = None
            return
        holder = self.root.attachNewNode("crew_animated")
        body = holder.attachNewNode("model_frame")
        model = loaded.copyTo(body)
        table = crew.load_table()
        stored = crew.arrangement("handshake", table)
        conv = _file_axes(model, crew.ORDER[0], stored[crew.ORDER[0]][0][:3, 3])
        ppl = crew.people(table)
        joints = {}
        for pid in crew.ORDER:
            top = find_named(model, pid)
            if top.isEmpty():
                continue
            if pid in CREW_NOT_SHOWN:
                top.removeNode()
                continue
            nodes = {}
            for joint, _parent, offset in crew.skeleton(ppl[pid].height):
                j = find_named(top, f"{pid}/{joint}")
                if not j.isEmpty():
                    nodes[joint] = (j, offset)
            joints[pid] = (top, nodes)
        holder.node().setBounds(OmniBoundingVolume())
        holder.node().setFinal(True)
        holder.hide()
        self.crew["animated"] = holder
        self.animated_crew = (conv, joints)
        # the nodes as one batch for _apply_crew_pose: each node's person and row in
        # figures.blend_rows (row 0 the root), its rest offset (a root's: set per frame)
        from experience.mission import figures

        who = tuple(pid for pid in crew.ORDER if pid in joints)
        row_of = figures.joint_rows()
        nodes, person, row, trans, roots = [], [], [], [], []
        for p, pid in enumerate(who):
            top, js = joints[pid]
            roots.append(len(nodes))
            nodes.append(top)
            person.append(p)
            row.append(0)
            trans.append(np.zeros(3))
            for joint, (node, offset) in js.items():
                nodes.append(node)
                person.append(p)
                row.append(row_of[joint])
                trans.append(np.asarray(offset, dtype=float))
        c4 = np.eye(4)
        c4[:3, :3] = conv
        rest = np.zeros((len(nodes), 4, 4))   # each node's rest offset and the bottom row
        rest[:, :3, 3] = np.asarray(trans, dtype=float).reshape(-1, 3)
        rest[:, 3, 3] = 1.0
        self._crew_batch = (who, nodes, np.asarray(person, dtype=np.intp), np.asarray(row, dtype=np.intp),
                            rest, np.asarray(roots, dtype=np.intp), c4)

    def _turn_gauges(self, kind: str) -> None:
        if not self.crossing_pressures or kind not in self.gauges:
            return
        from experience.mission.cabins import fitting

        full, sweep, rest = (fitting("dm_gauge_full_scale_mmhg"), fitting("dm_gauge_sweep_deg"),
                             fitting("dm_gauge_rest_mmhg"))
        for pivot, reads, sign in self.gauges[kind]:
            p = min(max(float(self.crossing_pressures.get(reads, 0.0)), 0.0), full)
            r0 = 258.0 if reads == "cm" else rest
            # clockwise with rising pressure, seen from the cabin (the dial faces along sign * Y)
            pivot.setQuat(LRotationf(LVector3f(0.0, sign, 0.0), -(p - r0) * sweep / full))

    def ring_matrix(self, docking) -> np.ndarray:
        """The ring node's 4x4 (column vectors, model axes) for a docking pose (None: at rest)."""
        if docking is None:
            return self.ring_rest.copy()
        rot = PORT_TO_MODEL @ np.asarray(docking.ring_rot, dtype=np.float64) @ PORT_TO_MODEL.T
        centre = self.ring_rest[:3, 3]
        move = np.eye(4)
        move[:3, :3] = rot
        move[:3, 3] = centre + PORT_TO_MODEL @ np.asarray(docking.ring_offset_m, dtype=np.float64) - rot @ centre
        return move @ self.ring_rest

    def _build_crew(self, arrangement: str, only: tuple[str, ...] | None = None, name: str | None = None) -> NodePath | None:
        """The crew figures in one arrangement (``only`` these people), flattened into one node,
        or None without the file."""
        loaded = _load_gltf(CREW_FILE)
        if loaded is None:
            return None
        holder = self.root.attachNewNode(f"crew_{name or arrangement}")
        body = holder.attachNewNode("model_frame")
        model = loaded.copyTo(body)
        pose_crew(model, arrangement)
        from experience.scene.modelgen.panda import find_named

        everyone = ("stafford", "slayton", "brand", "leonov", "kubasov")
        for pid in CREW_NOT_SHOWN + tuple(p for p in everyone if only is not None and p not in only):
            n = find_named(model, pid)
            if not n.isEmpty():
                n.removeNode()
        if self.config.flatten:
            model.flattenStrong()
        holder.node().setBounds(OmniBoundingVolume())
        holder.node().setFinal(True)
        return holder

    # -------------------------------------------------------------------------------------
    @staticmethod
    def crew_arrangement(snapshot, interior: bool) -> str | None:
        """Which crew arrangement an interior view of the docked stack shows (None: no crew;
        ``"animated"``: the hatch opening and the handshake in motion, posed per frame from the
        snapshot's ``crew``, experience/simulation/handshake.py)."""
        if not interior or not any(v.phase == "docked" for v in snapshot.vehicles.values()):
            return None
        cp = getattr(snapshot, "crew", None)
        if cp is not None:
            static = cp.arrangement in CREW_ARRANGEMENTS and not cp.moving and cp.hatch_deg in (0.0, OPEN_DEG)
            return cp.arrangement if static else "animated"
        from experience.mission import data

        try:
            opened, closed = data.event("handshake").utc, data.event("undocking_1").utc
        except KeyError:
            return "handshake"
        return "handshake" if opened <= snapshot.utc < closed else "hatch_closed"

    def configuration(self, snapshot, interior: bool = False) -> list[tuple[str, object]]:
        """[(node kind, VehicleState)] to draw for this snapshot. Inside the docked stack the
        hatches between the Docking Module and Soyuz are open while the handshake arrangement is
        shown (from the hatch opening to the first undocking) and closed otherwise."""
        vs = snapshot.vehicles
        docked = [v for v in vs.values() if v.phase == "docked"]
        if docked:
            state = vs.get("apollo") or docked[0]
            if interior and self.crossing_hatches is not None:
                return [(_crossing_kind(self.crossing_hatches), state)]
            shown = self.crew_arrangement(snapshot, interior) if interior else None
            if shown == "animated":
                if "stack_anim" not in self.nodes:
                    self.nodes["stack_anim"] = self._build("stack_anim")
                    self.nodes["stack_anim"].hide()
                return [("stack_anim", state)]
            return [("stack_open" if shown == "handshake" else "stack", state)]
        out = []
        if "apollo" in vs:
            from experience.mission import data

            try:
                dm_gone = snapshot.utc >= data.event("dm_jettison").utc
            except KeyError:
                dm_gone = False
            out.append(("apollo" if dm_gone else "apollo_dm", vs["apollo"]))
        if "soyuz" in vs:
            out.append(("soyuz", vs["soyuz"]))
        return out

    def update(self, snapshot, frame: boundary.RenderFrame, placement) -> None:
        for np_ in self.nodes.values():
            np_.hide()
        shown = self.configuration(snapshot, interior=placement.interior)
        for kind, state in shown:
            np_ = self.nodes[kind]
            np_.setMat(frame.model_matrix(state.pos_km, model_to_eci(state)))
            np_.show()
            if kind == "apollo_dm" and self.ring is not None:
                self.ring.setMat(_panda_mat(self.ring_matrix(snapshot.docking), np.eye(3)))
            if kind.startswith("crossing_"):
                self._turn_gauges(kind)
        for np_ in self.crew.values():
            np_.hide()
        self.crew_shown = self.crew_arrangement(snapshot, placement.interior) if shown else None
        if self.crossing_hatches is not None and shown and shown[0][0].startswith("crossing_"):
            # the crossing: the visitor is with the Apollo crew; Leonov and Kubasov wait in the
            # orbital module where the mission data puts them (and the crossing collides with them)
            self.crew_shown = "crossing"
            cp = self.crossing_crew
            if cp is not None:
                # the crews as the crossing's story time has them (Stafford and Slayton in the DM
                # too): a still arrangement from its flattened node, the motion animated
                static = cp.arrangement in CREW_ARRANGEMENTS and not cp.moving and cp.hatch_deg in (0.0, OPEN_DEG)
                self.crew_shown = cp.arrangement if static else "animated"
        if self.crew_shown == "animated":
            if "animated" not in self.crew:
                self._build_animated_crew()
            self._apply_crew_pose(self.crossing_crew if self.crew_shown == "animated" and self.crossing_crew is not None
                                  and self.crossing_hatches is not None else snapshot.crew)
        if self.crew_shown in self.crew:
            state = shown[0][1]
            self.crew[self.crew_shown].setMat(frame.model_matrix(state.pos_km, model_to_eci(state)))
            self.crew[self.crew_shown].show()
        ref = shown[0][1] if shown else None
        self._lighting(snapshot, ref, placement)

    def _lighting(self, snapshot, state, placement) -> None:
        r = self.inputs
        sun = np.asarray(snapshot.sun_unit_eci, dtype=np.float64)
        r.set("u_sun_dir", sun)
        if state is None:
            return
        pos = np.asarray(state.pos_km, dtype=np.float64)
        dist = float(np.linalg.norm(pos))
        up = pos / dist
        earth_cos = math.sqrt(max(0.0, 1.0 - (EARTH_RADIUS_KM / dist) ** 2))
        lit = float(state.sunlit_fraction)
        e_sun = math.pi  # white card facing the Sun: radiance 1 (atmosphere.SUN_IRRADIANCE)
        mean_cos = _mean_cos_memo(float(up @ sun), dist)
        earth_rad = EARTH_ALBEDO * e_sun * mean_cos / math.pi * EARTHSHINE_TINT + 0.004 * EARTHSHINE_TINT
        limb = np.array([0.25, 0.45, 0.9]) * e_sun / math.pi * 0.35 * max(0.0, min(1.0, mean_cos * 4.0))
        interior = placement.interior
        r.set("u_sun_light", np.full(3, 0.0 if interior else e_sun * lit))
        r.set("u_up", up)
        r.set("u_earth_cos", float(earth_cos))
        r.set("u_earth_radiance", np.zeros(3) if interior else earth_rad)
        r.set("u_limb_radiance", np.zeros(3) if interior else limb)
        crossing = interior and self.crossing_lamp is not None and self.crossing_hatches is not None
        head = CABIN_LIGHT * (CROSSING_HEADLAMP if crossing else 1.0)
        r.set("u_cabin_light", np.full(3, head if interior else 0.0))
        lamp_km = getattr(placement, "lamp_km", None)
        lamp_rgb = np.array([1.0, 0.95, 0.85])
        rot = model_to_eci(state) if crossing else None
        to_m = boundary.RenderFrame(placement.camera_km).to_m if interior else None
        if crossing:
            lamp_m = np.asarray(self.crossing_lamp[0], dtype=np.float64)
            lamp_rgb = np.asarray(self.crossing_lamp[1], dtype=np.float64) * (CROSSING_LAMP / 1.5)
            lamp_km = pos + rot @ lamp_m / 1000.0
        if interior and lamp_km is not None:
            r.set("u_lamp_pos", to_m(lamp_km))
            r.set("u_lamp", lamp_rgb * CABIN_LIGHT * 1.5)
        else:
            r.set("u_lamp", (0.0, 0.0, 0.0))
        self._window_sun(r, pos, rot, to_m, sun, e_sun * lit if (crossing and self.crossing_room) else 0.0)
        r.set("u_ambient", np.full(3, 0.02 if interior else AMBIENT_FLOOR))

    def _window_sun(self, r, pos: np.ndarray, rot, to_m, sun: np.ndarray, e_sun_lit: float) -> None:
        """Sunlight through the most sunlit window of the crossing's room (issue #10): a beam of
        the window's cross-section along the Sun direction (u_win_*: the shader lights what lies in
        the cylinder from the window's centre, Lambert, no shadows inside it) and the beam's power,
        scattered once by the cabin (WINDOW_BOUNCE), as a point light just inside the window. The
        Sun's irradiance and the vehicle's sunlit fraction come with the snapshot; the windows
        (:func:`room_windows`) from the model generator's frames. Outside the crossing, in
        shadow, or with no window facing the Sun: all zero (the shader adds nothing). ``pos``: the
        vehicle's ECI position (km), ``rot``: its model axes in ECI, ``to_m``: the render frame's
        km -> camera-centred m (both None outside the crossing, where ``e_sun_lit`` is 0)."""
        best = sunlit_window(room_windows(self.crossing_room), rot, sun) if e_sun_lit > 0.0 else None
        if best is None:
            r.set("u_win_sun", (0.0, 0.0, 0.0))
            r.set("u_win_bounce", (0.0, 0.0, 0.0))
            r.set("u_win_radius", 0.0)
            return
        p_m, n_m, area, cos_i = best
        r.set("u_win_pos", to_m(pos + rot @ p_m / 1000.0))
        r.set("u_win_radius", math.sqrt(area * cos_i / math.pi))   # the beam's cross-section, as a disc
        r.set("u_win_sun", np.full(3, e_sun_lit))
        r.set("u_win_bounce_pos", to_m(pos + rot @ (p_m - n_m * WINDOW_BOUNCE_INSET_M) / 1000.0))
        # the beam's power E A cos(i), a fraction WINDOW_BOUNCE of it scattered evenly into 4 pi sr
        r.set("u_win_bounce", np.full(3, e_sun_lit * area * cos_i * WINDOW_BOUNCE / (4.0 * math.pi)))

    def draw_calls(self, kind: str) -> int:
        return self.geom_counts.get(kind, 0)


@functools.lru_cache(maxsize=8)
def room_windows(room: str | None) -> tuple[tuple[np.ndarray, np.ndarray, float], ...]:
    """(centre on the outer hull, outward unit normal, glass area m^2) of each window of a
    crossing room, stack frame (metres): the frames the model generator draws them with
    (modelgen/apollo.py cm_window_frames: the CM's five; modelgen/soyuz.py porthole_frames: the
    orbital module's two, Soyuz's frame one DM length along +Y). The DM has none modelled."""
    from experience.scene.modelgen import apollo, params, soyuz

    d = params.load()
    if room == "cm":
        return tuple(apollo.cm_window_frames(d))
    if room == "soyuz_om":
        off = np.array([0.0, d.fact("docking_module", "length_m"), 0.0])
        return tuple((p + off, n, math.pi * soyuz.PORTHOLE_GLASS_RADIUS_M ** 2) for p, n in soyuz.porthole_frames(d))
    return ()


def sunlit_window(windows, rot: np.ndarray, sun: np.ndarray):
    """The window (centre, outward normal, area) that lets in the most sunlight, with the cosine
    of the Sun's incidence on it: the largest area x cos(incidence) among the windows whose
    outward normal (turned to the world by ``rot``) faces the Sun (``sun`` unit, world); None
    when every window faces away. Returns (centre, normal, area, cos)."""
    best = None
    for p_m, n_m, area in windows:
        cos_i = float((rot @ n_m) @ sun)
        if cos_i > 0.0 and (best is None or area * cos_i > best[2] * best[3]):
            best = (p_m, n_m, area, cos_i)
    return best


MEAN_COS_STEP = 0.01      # grid of the earthshine lookup in cos(Sun zenith)
MEAN_COS_STEP_KM = 5.0    # and in geocentric distance


@functools.lru_cache(maxsize=4096)
def _mean_cos_node(i: int, j: int) -> float:
    """:func:`visible_earth_mean_cos` at one node of the lookup grid, for a canonical pair of
    directions (it depends on the Sun's angle from the zenith and the distance alone)."""
    up_dot_sun = max(-1.0, min(1.0, i * MEAN_COS_STEP))
    s = math.sqrt(max(0.0, 1.0 - up_dot_sun * up_dot_sun))
    return visible_earth_mean_cos(np.array([0.0, 0.0, 1.0]), np.array([s, 0.0, up_dot_sun]), j * MEAN_COS_STEP_KM)


def _mean_cos_memo(up_dot_sun: float, dist_km: float) -> float:
    """:func:`visible_earth_mean_cos` per frame: bilinear between the nodes of a grid (0.01 in
    cos, 5 km), each computed once. The function is smooth (a clamped cosine averaged over the
    visible cap), so the interpolation is good to about 1e-4 (tests/test_render.py), far below a
    grey level; a new cell is reached every minute or so of story time at 1x, not every frame."""
    x, y = up_dot_sun / MEAN_COS_STEP, dist_km / MEAN_COS_STEP_KM
    i, j = math.floor(x), math.floor(y)
    fx, fy = x - i, y - j
    a = _mean_cos_node(i, j) + fx * (_mean_cos_node(i + 1, j) - _mean_cos_node(i, j))
    b = _mean_cos_node(i, j + 1) + fx * (_mean_cos_node(i + 1, j + 1) - _mean_cos_node(i, j + 1))
    return a + fy * (b - a)


def visible_earth_mean_cos(up: np.ndarray, sun: np.ndarray, dist_km: float, n: int = 24) -> float:
    """Mean of max(0, cos(sun zenith)) over the Earth cap visible from ``dist_km`` (geocentric),
    weighted by the solid angle seen from the vehicle (cheap quadrature: n x 2n directions)."""
    sin_rho = EARTH_RADIUS_KM / dist_km
    rho = math.asin(min(1.0, sin_rho))
    # directions from the vehicle within rho of the nadir, uniform in solid angle
    t = (np.arange(n) + 0.5) / n
    cos_a = 1.0 - t * (1.0 - math.cos(rho))
    phi = (np.arange(2 * n) + 0.5) / (2 * n) * 2 * math.pi
    ca, ph = np.meshgrid(cos_a, phi, indexing="ij")
    sa = np.sqrt(1.0 - ca * ca)
    # local frame around the nadir
    nadir = -up
    e1 = cross3(nadir, [0.0, 0.0, 1.0])
    if np.linalg.norm(e1) < 1e-6:
        e1 = cross3(nadir, [1.0, 0.0, 0.0])
    e1 /= np.linalg.norm(e1)
    e2 = cross3(nadir, e1)
    d = ca[..., None] * nadir + sa[..., None] * (np.cos(ph)[..., None] * e1 + np.sin(ph)[..., None] * e2)
    # ground point of each direction (ray from the vehicle), its normal, and its sun cosine
    p0 = up * dist_km
    b = np.einsum("...i,i->...", d, p0)
    c = dist_km ** 2 - EARTH_RADIUS_KM ** 2
    disc = np.maximum(b * b - c, 0.0)
    tt = -b - np.sqrt(disc)
    pts = p0 + d * tt[..., None]
    nrm = pts / np.linalg.norm(pts, axis=-1, keepdims=True)
    cs = np.maximum(np.einsum("...i,i->...", nrm, sun), 0.0)
    return float(cs.mean())


CREW_FILE = "crew"
CREW_ARRANGEMENTS = ("handshake", "hatch_closed", "in_om")   # held for long: flattened (in_om: from 19:19:50 to the undocking)
CREW_NOT_SHOWN = ("brand",)  # in the CM, behind the closed Apollo-end hatches: never visible
OPEN_DEG = 95.0               # an open hatch (experience/simulation/handshake.py OPEN_DEG)
HATCH_SWING = (("dm/hatch_soyuz", -1.0), ("soyuz/hatch_dm", 1.0))  # the DM's into the DM, Soyuz's into its orbital module


def _file_axes(model: NodePath, name: str, file_translation) -> np.ndarray:
    """3x3 C with Panda local = C . glTF local for the nodes under a loaded model: identity when
    the loader kept the file's axes, (x, y, z) -> (x, -z, y) when it converted Y-up to Z-up."""
    from experience.scene.modelgen.panda import find_named

    p = find_named(model, name).getPos()
    t = np.asarray(file_translation, dtype=float)
    if np.allclose([p[0], p[1], p[2]], t, atol=1e-4):
        return np.eye(3)
    return np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


def _panda_mat(m: np.ndarray, conv: np.ndarray) -> LMatrix4f:
    c = np.eye(4)
    c[:3, :3] = conv
    mp = c @ m @ c.T
    return LMatrix4f(*(float(v) for v in mp.T.ravel()))  # Panda3D: row vectors


def pose_crew(model: NodePath, arrangement: str) -> None:
    """Put the crew figures of a loaded ``crew.gltf`` into an arrangement of the pose table by
    setting each figure's root (placement in the stack frame) and joint-node transforms (rest
    offset + pose rotation). This is how a front end poses the figures (any pose: build the
    rotations with ``crew.joint_rotations``)."""
    from experience.scene.modelgen import crew
    from experience.scene.modelgen.panda import find_named

    table = crew.load_table()
    stored = crew.arrangement("handshake", table)
    wanted = stored if arrangement == "handshake" else crew.arrangement(arrangement, table)
    ppl = crew.people(table)
    conv = _file_axes(model, crew.ORDER[0], stored[crew.ORDER[0]][0][:3, 3])
    for pid, (root, rotations) in wanted.items():
        node = find_named(model, pid)
        if node.isEmpty():
            continue
        node.setMat(_panda_mat(root, conv))
        for joint, _parent, offset in crew.skeleton(ppl[pid].height):
            local = np.eye(4)
            local[:3, :3] = rotations[joint]
            local[:3, 3] = offset
            j = find_named(node, f"{pid}/{joint}")
            if not j.isEmpty():
                j.setMat(_panda_mat(local, conv))


def _crossing_kind(hatches: dict[str, str]) -> str:
    return f"crossing_{hatches.get('apollo_dm', 'closed')}_{hatches.get('dm_soyuz', 'closed')}"


CROSSING_REMOVED = ("csm/probe", "dm/drogue", "csm/cm/hatch_forward")  # taken out by the crew before the transfers


def _crossing_hatches(model: NodePath, kind: str) -> None:
    """The stack as the crossing walks it: probe, drogue and the CM's tunnel hatch removed, the
    Apollo-end hatch and the DM-Soyuz pair swung open where the kind says so."""
    from experience.scene.modelgen.panda import find_named

    _, apollo, soyuz = kind.split("_")
    for name in CROSSING_REMOVED:
        n = find_named(model, name)
        if not n.isEmpty():
            n.removeNode()
    swings = []
    if apollo == "open":
        swings.append(("dm/hatch_apollo", 95.0))
    if soyuz == "open":
        swings += [("dm/hatch_soyuz", -95.0), ("soyuz/hatch_dm", 95.0)]
    for name, angle in swings:
        h = find_named(model, name)
        if h.isEmpty():
            continue
        pivot = model.attachNewNode(f"{name}_hinge")
        pivot.setPos(h.getPos(model))
        h.wrtReparentTo(pivot)
        pivot.setH(angle)


def _open_hatches(model: NodePath) -> None:
    """Swing the hatches between the Docking Module and Soyuz open (the handshake): each turns
    95 deg about its vertical hinge (model +Z through the node's origin), the DM's into the DM,
    Soyuz's into its orbital module. Done with a pivot in model axes, whatever local axes the
    glTF loader gave the hatch node."""
    from experience.scene.modelgen.panda import find_named

    for name, angle in (("dm/hatch_soyuz", -95.0), ("soyuz/hatch_dm", 95.0)):
        h = find_named(model, name)
        if h.isEmpty():
            continue
        pivot = model.attachNewNode(f"{name}_hinge")
        pivot.setPos(h.getPos(model))
        h.wrtReparentTo(pivot)
        pivot.setH(angle)
