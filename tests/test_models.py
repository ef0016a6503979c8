"""The spacecraft models in models/: rebuilt byte for byte, measured against the facts, with the
named nodes the scene and the docking dynamics need, and loadable by Panda3D's glTF loader."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from experience.mission import data
from experience.scene.modelgen import FILES, STACK, VEHICLES, build_all
from experience.scene.modelgen.apollo import CMShape
from experience.scene.modelgen.params import load as load_dimensions

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
TOL = 0.02  # dimensions within 2 % of the facts

_COMPONENTS = {5126: ("<f4", 4), 5123: ("<u2", 2), 5125: ("<u4", 4), 5121: ("u1", 1)}
_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}


# --------------------------------------------------------------------- a tiny glTF reader (NumPy)


def _quat_matrix(q) -> np.ndarray:
    x, y, z, w = q
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def _local(node) -> np.ndarray:
    if "matrix" in node:
        return np.array(node["matrix"], dtype=float).reshape(4, 4).T
    m = np.eye(4)
    m[:3, :3] = _quat_matrix(node.get("rotation", (0, 0, 0, 1))) @ np.diag(node.get("scale", (1, 1, 1)))
    m[:3, 3] = node.get("translation", (0, 0, 0))
    return m


class Model:
    """Node world transforms and world-space mesh data of one .gltf file."""

    def __init__(self, path: Path):
        self.doc = json.loads(path.read_text(encoding="utf-8"))
        self.buffers = [(path.parent / b["uri"]).read_bytes() for b in self.doc["buffers"]]
        self.world: dict[str, np.ndarray] = {}
        self.index: dict[str, int] = {}
        self.children: dict[str, list[str]] = {}
        for root in self.doc["scenes"][self.doc.get("scene", 0)]["nodes"]:
            self._walk(root, np.eye(4))

    def _walk(self, i: int, parent: np.ndarray) -> None:
        node = self.doc["nodes"][i]
        name = node["name"]
        assert name not in self.world, f"duplicate node name {name}"
        self.world[name] = parent @ _local(node)
        self.index[name] = i
        self.children[name] = [self.doc["nodes"][c]["name"] for c in node.get("children", [])]
        for c in node.get("children", []):
            self._walk(c, self.world[name])

    def accessor(self, i: int) -> np.ndarray:
        acc = self.doc["accessors"][i]
        view = self.doc["bufferViews"][acc["bufferView"]]
        dtype, size = _COMPONENTS[acc["componentType"]]
        width = _WIDTH[acc["type"]]
        start = view.get("byteOffset", 0) + acc.get("byteOffset", 0)
        raw = self.buffers[view["buffer"]][start : start + acc["count"] * width * size]
        return np.frombuffer(raw, dtype=dtype).reshape(acc["count"], width) if width > 1 else np.frombuffer(raw, dtype=dtype)

    def primitives(self, name: str):
        node = self.doc["nodes"][self.index[name]]
        if "mesh" not in node:
            return []
        return self.doc["meshes"][node["mesh"]]["primitives"]

    def points(self, *names: str) -> np.ndarray:
        """World-space vertex positions of the named nodes' own meshes."""
        out = []
        for name in names:
            m = self.world[name]
            for prim in self.primitives(name):
                p = self.accessor(prim["attributes"]["POSITION"]).astype(float)
                out.append(p @ m[:3, :3].T + m[:3, 3])
        assert out, f"no geometry in {names}"
        return np.concatenate(out)

    def extent(self, *names: str) -> np.ndarray:
        p = self.points(*names)
        return p.max(axis=0) - p.min(axis=0)

    def triangles(self) -> int:
        count = 0
        for name in self.world:
            for prim in self.primitives(name):
                count += self.doc["accessors"][prim["indices"]]["count"] // 3
        return count

    def draw_calls(self) -> int:
        return sum(len(self.primitives(n)) for n in self.world)


@pytest.fixture(scope="module")
def models() -> dict[str, Model]:
    return {name: Model(MODELS / f"{name}.gltf") for name in (*VEHICLES, STACK)}


@pytest.fixture(scope="module")
def facts():
    return data.vehicles()


def _close(measured: float, fact: float, what: str) -> None:
    assert abs(measured - fact) <= TOL * fact, f"{what}: model {measured:.3f} m, fact {fact:.3f} m"


# ----------------------------------------------------------------------------------- the tests


def test_rebuild_is_byte_identical(tmp_path):
    build_all(tmp_path)
    for name in FILES:
        fresh = (tmp_path / name).read_bytes()
        stored = (MODELS / name).read_bytes()
        assert fresh == stored, f"models/{name} is stale or not deterministic: run python tools/build_models.py"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FILES)


def test_files_are_small_and_valid_gltf(models):
    total = sum((MODELS / f).stat().st_size for f in FILES)
    assert total < 5_000_000, f"models/ holds {total / 1e6:.1f} MB"
    for name, m in models.items():
        assert m.doc["asset"]["version"] == "2.0"
        for prim in (p for n in m.world for p in m.primitives(n)):
            acc = m.doc["accessors"][prim["attributes"]["POSITION"]]
            pos = m.accessor(prim["attributes"]["POSITION"])
            assert np.array_equal(pos.min(axis=0), np.array(acc["min"], dtype="<f4")), name
            assert np.array_equal(pos.max(axis=0), np.array(acc["max"], dtype="<f4")), name
            idx = m.accessor(prim["indices"])
            assert idx.max() < acc["count"] and len(idx) % 3 == 0
            n = m.accessor(prim["attributes"]["NORMAL"]).astype(float)
            assert np.allclose(np.linalg.norm(n, axis=1), 1.0, atol=1e-4), f"{name}: normals not unit length"
        for mat in m.doc["materials"]:
            pbr = mat["pbrMetallicRoughness"]
            assert len(pbr["baseColorFactor"]) == 4
            assert 0 <= pbr["metallicFactor"] <= 1 and 0 <= pbr["roughnessFactor"] <= 1


def test_budgets(models):
    stack = models[STACK]
    assert stack.triangles() < 150_000
    assert stack.draw_calls() < 300
    assert stack.triangles() == sum(models[v].triangles() for v in VEHICLES)
    for v in VEHICLES:
        assert len(models[v].doc["materials"]) <= 25, v


def test_apollo_dimensions(models, facts):
    csm = models["apollo_csm"]
    ext = csm.extent("csm/cm/hull")
    _close(ext[1], facts["apollo_cm"]["height_m"], "CM height")
    _close(ext[0], facts["apollo_cm"]["base_diameter_m"], "CM base diameter (x)")
    _close(ext[2], facts["apollo_cm"]["base_diameter_m"], "CM base diameter (z)")
    sm = csm.extent("csm/sm/hull")
    _close(sm[0], facts["apollo_sm"]["diameter_m"], "SM diameter (x)")
    _close(sm[2], facts["apollo_sm"]["diameter_m"], "SM diameter (z)")
    _close(csm.extent("csm/sm/hull", "csm/sm/sps_nozzle")[1], facts["apollo_sm"]["length_m"], "SM length with SPS nozzle")
    # the CM sits on the SM: CM base = SM forward bulkhead
    assert abs(csm.points("csm/cm/hull")[:, 1].min() - csm.points("csm/sm/hull")[:, 1].max()) < 1e-3
    # five windows' worth of glass and three couches
    assert len([n for n in csm.world if n.startswith("csm/cm/couch_")]) == 3


def test_docking_module_dimensions(models, facts):
    dm = models["docking_module"]
    _close(dm.extent("dm/hull", "apas_dm/base")[1], facts["docking_module"]["length_m"], "DM length")
    ext = dm.extent("dm/hull")
    _close(ext[0], facts["docking_module"]["max_diameter_m"], "DM diameter (x)")
    _close(ext[2], facts["docking_module"]["max_diameter_m"], "DM diameter (z)")
    # four spherical tanks outside the hull
    tanks = dm.points("dm/gas_tanks")
    assert np.hypot(tanks[:, 0], tanks[:, 2]).max() > facts["docking_module"]["max_diameter_m"] / 2


def test_soyuz_dimensions(models, facts):
    s = models["soyuz"]
    hulls = ("apas_soyuz/base", "soyuz/orbital_module/hull", "soyuz/descent_module/hull", "soyuz/instrument_module/hull")
    _close(s.extent(*hulls)[1], facts["soyuz"]["length_m"], "Soyuz length")
    im = s.extent("soyuz/instrument_module/hull")
    _close(im[0], facts["soyuz"]["max_diameter_m"], "Soyuz max diameter (x)")
    _close(im[2], facts["soyuz"]["max_diameter_m"], "Soyuz max diameter (z)")
    p = s.points(*hulls)
    assert np.hypot(p[:, 0], p[:, 2]).max() <= facts["soyuz"]["max_diameter_m"] / 2 * (1 + TOL)
    _close(s.extent("soyuz/descent_module/hull")[0], facts["soyuz"]["habitable_module_diameter_m"], "descent module diameter")
    _close(s.extent("soyuz/solar_array_0", "soyuz/solar_array_1")[0], facts["soyuz"]["solar_array_span_m"], "solar-array span")


def test_tunnels_and_apas_envelope(models, facts):
    d = facts["apas75"]["transfer_tunnel_diameter_m"]
    for model, node in (("apollo_csm", "csm/cm/tunnel"), ("docking_module", "dm/tunnel_apollo"), ("docking_module", "dm/tunnel_soyuz"), ("soyuz", "soyuz/tunnel")):
        ext = models[model].extent(node)
        _close(ext[0], d, f"{node} diameter")
        _close(ext[2], d, f"{node} diameter")
    s = models["soyuz"]
    names = ["apas_soyuz/base", "apas_soyuz/ring"] + [f"apas_soyuz/petal_{k}" for k in range(3)]
    p = s.points(*names)
    assert 2 * np.hypot(p[:, 0], p[:, 2]).max() <= facts["apas75"]["soviet_unit_max_diameter_m"], "Soviet APAS-75 exceeds 1.3 m"


REQUIRED = {
    "apollo_csm": [
        "apollo_csm", "csm/docking_interface", "csm/cm/hull", "csm/cm/interior", "csm/cm/tunnel",
        "csm/cm/couch_0", "csm/cm/couch_1", "csm/cm/couch_2", "csm/cm/main_display_panel",
        "csm/cm/hatch_forward", "csm/probe", "csm/sm/hull", "csm/sm/sps_nozzle", "csm/sm/rcs",
        "csm/sm/high_gain_antenna", "csm/sm/fairing",
    ],
    "docking_module": [
        "docking_module", "dm/docking_interface_apollo", "dm/docking_interface_soyuz", "dm/hull",
        "dm/gas_tanks", "dm/drogue", "dm/interior", "dm/tunnel_apollo", "dm/tunnel_soyuz",
        "dm/hatch_apollo", "dm/hatch_soyuz", "apas_dm", "apas_dm/interface", "apas_dm/base",
        "apas_dm/ring", "apas_dm/petal_0", "apas_dm/petal_1", "apas_dm/petal_2",
    ],
    "soyuz": [
        "soyuz", "soyuz/docking_interface", "apas_soyuz", "apas_soyuz/interface", "apas_soyuz/base",
        "apas_soyuz/ring", "apas_soyuz/petal_0", "apas_soyuz/petal_1", "apas_soyuz/petal_2",
        "soyuz/orbital_module/hull", "soyuz/orbital_module/interior", "soyuz/tunnel", "soyuz/hatch_dm",
        "soyuz/descent_module/hull", "soyuz/instrument_module/hull", "soyuz/solar_array_0",
        "soyuz/solar_array_1", "soyuz/antennas",
    ],
}


def test_required_nodes(models):
    for vehicle, names in REQUIRED.items():
        for name in names:
            assert name in models[vehicle].world, f"{vehicle}.gltf lacks node {name}"
            assert name in models[STACK].world, f"stack.gltf lacks node {name}"
    for vehicle in VEHICLES:
        assert vehicle in models[STACK].children["astp_stack"]
    for prefix in ("apas_dm", "apas_soyuz"):
        for m in (models["docking_module"] if prefix == "apas_dm" else models["soyuz"], models[STACK]):
            # petals move with the ring, but each is its own node with its own mesh
            assert sorted(m.children[f"{prefix}/ring"]) == [f"{prefix}/petal_{k}" for k in range(3)]
            for k in range(3):
                assert m.primitives(f"{prefix}/petal_{k}")
    for hatch in ("dm/hatch_apollo", "dm/hatch_soyuz", "soyuz/hatch_dm", "csm/cm/hatch_forward"):
        assert models[STACK].primitives(hatch), hatch


def test_stack_assembly(models, facts):
    st = models[STACK]

    def pos(n):
        return st.world[n][:3, 3]

    def axis(n):
        return st.world[n][:3, 1]

    for a, b in (("csm/docking_interface", "dm/docking_interface_apollo"), ("dm/docking_interface_soyuz", "soyuz/docking_interface"), ("apas_dm/interface", "apas_soyuz/interface")):
        assert np.allclose(pos(a), pos(b), atol=1e-6), f"{a} and {b} do not meet"
        assert np.allclose(axis(a), -axis(b), atol=1e-6), f"{a} and {b} do not face each other"
    # the stack's modules touch: no gaps along the axis
    cm_top = st.points("csm/cm/hull")[:, 1].max()
    dm = st.points("dm/hull", "apas_dm/base")[:, 1]
    soy = st.points("apas_soyuz/base", "soyuz/orbital_module/hull")[:, 1]
    assert abs(cm_top - dm.min()) < 1e-3 and abs(dm.max() - soy.min()) < 1e-3
    _close(soy.min(), facts["docking_module"]["length_m"], "Soyuz interface station in the stack")
    # petals interleave: the two units' petals sit 60 deg apart
    az = {}
    for prefix in ("apas_dm", "apas_soyuz"):
        az[prefix] = sorted(round(math.degrees(math.atan2(pos(f"{prefix}/petal_{k}")[0], pos(f"{prefix}/petal_{k}")[2])) % 360) for k in range(3))
    assert az["apas_dm"] == [0, 120, 240] and az["apas_soyuz"] == [60, 180, 300]


def test_normals_face_out_of_hulls_and_into_cabins(models):
    def radial_dot(m, name):
        """Mean of normal . (unit vector away from the axis) over the node's main surface (its first
        primitive), walls only (normals not along the axis)."""
        prim = m.primitives(name)[0]
        p = m.accessor(prim["attributes"]["POSITION"]).astype(float)
        n = m.accessor(prim["attributes"]["NORMAL"]).astype(float)
        r = p.copy()
        r[:, 1] = 0.0
        keep = (np.linalg.norm(r, axis=1) > 1e-3) & (np.abs(n[:, 1]) < 0.5)
        return np.einsum("ij,ij->i", n[keep], r[keep] / np.linalg.norm(r[keep], axis=1, keepdims=True)).mean()

    for model, name in (("apollo_csm", "csm/cm/hull"), ("apollo_csm", "csm/sm/hull"), ("docking_module", "dm/hull"), ("soyuz", "soyuz/orbital_module/hull"), ("soyuz", "soyuz/descent_module/hull")):
        assert radial_dot(models[model], name) > 0.3, f"{name} normals point inwards"
    for model, name in (("apollo_csm", "csm/cm/tunnel"), ("docking_module", "dm/tunnel_apollo"), ("soyuz", "soyuz/tunnel"), ("docking_module", "dm/interior"), ("soyuz", "soyuz/orbital_module/interior")):
        assert radial_dot(models[model], name) < -0.3, f"{name} normals point out of the cabin"
    # winding agrees with the normals (front faces are the lit ones)
    for model in VEHICLES:
        m = models[model]
        for name in m.world:
            for prim in m.primitives(name):
                p = m.accessor(prim["attributes"]["POSITION"]).astype(float)
                n = m.accessor(prim["attributes"]["NORMAL"]).astype(float)
                t = m.accessor(prim["indices"]).reshape(-1, 3).astype(int)
                face = np.cross(p[t[:, 1]] - p[t[:, 0]], p[t[:, 2]] - p[t[:, 0]])
                agree = np.einsum("ij,ij->i", face, n[t].sum(axis=1))
                assert (agree > 0).mean() > 0.97, f"{name}: triangle winding disagrees with its normals"


def test_hatches_open_into_their_modules(models, facts):
    """Hatch convention: origin at the hinge, positive rotation about the node's local +Y opens the
    hatch into its module, and at 90 deg it clears the 0.8 m passage."""
    st = models[STACK]
    rt = facts["apas75"]["transfer_tunnel_diameter_m"] / 2
    into = {"dm/hatch_apollo": +1, "dm/hatch_soyuz": -1, "soyuz/hatch_dm": +1, "csm/cm/hatch_forward": -1}
    for name, sign in into.items():
        world = st.world[name]
        local = np.linalg.inv(world)
        p = st.points(name)
        p_local = p @ local[:3, :3].T + local[:3, 3]
        c, s_ = 0.0, 1.0  # 90 deg about local +Y
        rot = np.array([[c, 0, s_], [0, 1, 0], [-s_, 0, c]])
        opened = (p_local @ rot.T) @ world[:3, :3].T + world[:3, 3]
        dy = opened[:, 1].mean() - p[:, 1].mean()
        assert sign * dy > 0.3, f"{name} does not open into its module"
        r = np.hypot(opened[:, 0], opened[:, 2])
        # the open hatch lies beside the passage: nothing of it within 0.8 * tunnel radius of the axis
        assert r.min() > 0.8 * rt, f"{name} still blocks the passage when open"


def test_cabin_furniture_fits_inside_the_cm():
    dims = load_dimensions()
    cm = CMShape(dims)
    m = Model(MODELS / "apollo_csm.gltf")
    for name in ("csm/cm/couch_0", "csm/cm/couch_1", "csm/cm/couch_2", "csm/cm/main_display_panel"):
        p = m.points(name)
        h = p[:, 1] + cm.H  # height above the CM base
        r = np.hypot(p[:, 0], p[:, 2])
        assert h.min() >= cm.floor - 0.03, f"{name} goes through the cabin floor"  # strut feet may sink in
        assert (r < np.array([cm.inner_r(v) for v in h])).all(), f"{name} pokes through the cabin wall"


def test_the_orbital_module_furniture_is_drawn_inside_its_collision_boxes(models):
    """One source: each piece of the orbital module's furniture (the divan, the cupboard, the table,
    the television camera) is drawn inside the boxes the crossing collides with
    (cabins.om_furniture), fills them, and has the sizes of data/mission/crossing.toml."""
    from experience.mission import cabins

    s = models["soyuz"]
    boxes = {b.name: b for b in cabins.om_furniture(load_dimensions())}
    om = cabins.om_cabin(load_dimensions())
    for node, names in (("interior_sofa", ("om_sofa_seat", "om_sofa_back")), ("interior_cabinet", ("om_cabinet",)),
                        ("interior_table", ("om_table", "om_table_post")), ("interior_tv_camera", ("om_tv_camera",))):
        p = s.points(f"soyuz/orbital_module/{node}")
        assert s.doc["nodes"][[n["name"] for n in s.doc["nodes"]].index(f"soyuz/orbital_module/{node}")]["extras"]["furniture"] == " ".join(names)
        lo = np.min([np.array(boxes[n].center) - np.array(boxes[n].size) / 2 for n in names], axis=0)
        hi = np.max([np.array(boxes[n].center) + np.array(boxes[n].size) / 2 for n in names], axis=0)
        inside = np.zeros(len(p), dtype=bool)
        for n in names:   # every vertex in one of its boxes (handles and lamps may stand 2 cm proud)
            c, h = np.array(boxes[n].center), np.array(boxes[n].size) / 2 + 0.021
            inside |= np.all(np.abs(p - c) <= h, axis=1)
        assert inside.all(), f"{node} is drawn outside its collision boxes"
        # and fills them (but where the box runs into the curved wall)
        assert np.all(p.min(axis=0) <= lo + 0.03) or node == "interior_sofa", node
        # nothing of it pokes out of the hull
        assert np.linalg.norm(p - [0.0, om.center_y, 0.0], axis=1).max() < om.r_in + d_wall(), f"{node} pokes through the hull"
    sofa = s.extent("soyuz/orbital_module/interior_sofa")
    _close(sofa[2], cabins.fitting("soyuz_sofa_length_m"), "divan length")
    seat = s.points("soyuz/orbital_module/interior_sofa")
    x0 = boxes["om_sofa_seat"].center[0] - boxes["om_sofa_seat"].size[0] / 2
    _close(seat[:, 0].max() - x0, cabins.fitting("soyuz_sofa_seat_depth_m"), "divan seat depth")
    _close(s.extent("soyuz/orbital_module/interior_tv_camera")[0], cabins.fitting("soyuz_tv_camera_length_m"), "TV camera length")
    cab = s.points("soyuz/orbital_module/interior_cabinet")
    cx0 = boxes["om_cabinet"].center[0] - boxes["om_cabinet"].size[0] / 2
    cab = cab[cab[:, 0] >= cx0 - 1e-4]   # the doors and carcass, not the handles and switches in front
    _close(cab[:, 0].max() - cab[:, 0].min(), cabins.fitting("soyuz_cabinet_depth_m"), "cupboard depth")


def d_wall() -> float:
    return load_dimensions().dim("soyuz", "wall_thickness_m")


def test_geometry_data_is_sourced():
    geometry = data.load_toml("mission/geometry.toml")
    sources = data.load_toml("mission/sources.toml")
    assert geometry
    for section, entries in geometry.items():
        for key, entry in entries.items():
            assert entry.get("basis"), f"{section}.{key} has no basis"
            if not entry.get("estimate", False):
                assert entry.get("source") and all(s in sources for s in entry["source"]), f"{section}.{key}"
    load_dimensions()  # validates as the builder does


def test_panda3d_gltf_loads_every_model():
    gltf = pytest.importorskip("gltf", reason="panda3d-gltf is not installed: the Panda3D loading check is skipped")
    core = pytest.importorskip("panda3d.core")
    from experience.scene.modelgen.panda import find_named

    for name in (*VEHICLES, STACK):
        root = core.NodePath(gltf.load_model(str(MODELS / f"{name}.gltf")))
        geoms = sum(n.node().get_num_geoms() for n in root.find_all_matches("**/+GeomNode"))
        assert geoms > 0, f"{name}.gltf loaded without geometry"
        bounds = root.get_tight_bounds()
        assert bounds is not None and (bounds[1] - bounds[0]).length() > 1.0
        if name == STACK:
            assert geoms < 300
            for required in REQUIRED.values():
                for node in required:
                    assert not find_named(root, node).is_empty(), f"Panda3D lost node {node}"
