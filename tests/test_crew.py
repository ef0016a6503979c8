"""The crews (models/crew.gltf, data/mission/crew_figures.toml): rebuilt byte for byte, at the
heights of the data, articulated with the documented node names, the two right hands meeting in
the hatchway at the handshake, everyone inside the cabins, and posable in Panda3D."""

from __future__ import annotations

import math

import numpy as np
import pytest

from experience.mission import data
from experience.scene.modelgen import CREW, crew, gltf
from experience.scene.modelgen.params import load as load_dimensions
from tests.test_models import MODELS, Model, _local

TOL = 0.02


@pytest.fixture(scope="module")
def model() -> Model:
    return Model(MODELS / f"{CREW}.gltf")


@pytest.fixture(scope="module")
def table():
    return crew.load_table()


@pytest.fixture(scope="module")
def stack() -> Model:
    return Model(MODELS / "stack.gltf")


def _rest_points(m: Model, pid: str) -> np.ndarray:
    """All vertices of one figure with every joint rotation reset to identity (the rest pose),
    in the figure's own frame (pelvis at the origin)."""
    out = []

    def walk(i: int, parent: np.ndarray) -> None:
        node = m.doc["nodes"][i]
        local = _local({k: v for k, v in node.items() if k != "rotation"})
        world = parent @ local
        for prim in m.primitives(node["name"]):
            p = m.accessor(prim["attributes"]["POSITION"]).astype(float)
            out.append(p @ world[:3, :3].T + world[:3, 3])
        for c in node.get("children", []):
            walk(c, world)

    walk(m.index[f"{pid}/pelvis"], np.eye(4))
    return np.concatenate(out)


def _figure_points(m: Model, pid: str) -> np.ndarray:
    return m.points(*[n for n in m.world if n.startswith(f"{pid}/")])


def test_stored_crew_equals_a_rebuild(tmp_path):
    figures = crew.build()
    doc, blob = gltf.build(figures, f"{CREW}.bin")
    gltf.write(doc, tmp_path / f"{CREW}.gltf", blob)
    for name in (f"{CREW}.gltf", f"{CREW}.bin"):
        assert (tmp_path / name).read_bytes() == (MODELS / name).read_bytes(), \
            f"models/{name} is stale or not deterministic: run python tools/build_models.py"


def test_heights_match_the_data(model, table):
    for pid in crew.ORDER:
        height = float(table["figure"][pid]["height_m"])
        p = _rest_points(model, pid)
        measured = p[:, 1].max() - p[:, 1].min()
        assert abs(measured - height) <= TOL * height, f"{pid}: figure {measured:.3f} m, data {height:.3f} m"
        # standing on the soles: the feet are the lowest point, the head the highest
        assert abs(p[:, 1].min() + crew.PELVIS_HEIGHT * height) < 0.01 * height


def test_heights_are_sourced_or_estimates(table):
    names = {m["name"] for m in data.crew()}
    assert {f["member"] for f in table["figure"].values()} == names
    for pid, f in table["figure"].items():
        assert str(f.get("basis", "")).strip(), pid
        assert f.get("estimate") is True or f.get("source"), f"{pid}: a height needs a source or estimate = true"
    for cov in table["coverall"].values():
        assert cov.get("illustrative") is True  # no source found for the colours: say so


def test_node_hierarchy(model):
    parents = {c: p for p, kids in model.children.items() for c in kids}
    chain = [("pelvis", "spine"), ("spine", "chest"), ("chest", "neck"), ("neck", "head")]
    for side in "lr":
        chain += [("chest", f"shoulder_{side}"), (f"shoulder_{side}", f"upper_arm_{side}"),
                  (f"upper_arm_{side}", f"forearm_{side}"), (f"forearm_{side}", f"hand_{side}"),
                  ("pelvis", f"hip_{side}"), (f"hip_{side}", f"thigh_{side}"), (f"thigh_{side}", f"shin_{side}"),
                  (f"shin_{side}", f"foot_{side}")]
    assert sorted(model.children["crew"]) == sorted(crew.ORDER)
    for pid in crew.ORDER:
        assert parents[f"{pid}/pelvis"] == pid
        for parent, child in chain:
            assert parents[f"{pid}/{child}"] == f"{pid}/{parent}", f"{pid}/{child}"
        assert len([n for n in model.world if n.startswith(f"{pid}/")]) == len(crew.joint_names())


def test_budgets(model):
    for pid in crew.ORDER:
        names = [n for n in model.world if n.startswith(f"{pid}/")]
        tris = sum(model.doc["accessors"][p["indices"]]["count"] // 3 for n in names for p in model.primitives(n))
        assert 2000 < tris < 7000, f"{pid}: {tris} triangles"
        for n in names:
            mats = [p["material"] for p in model.primitives(n)]
            assert len(mats) == len(set(mats)), f"{n}: more than one primitive per material"
    assert len(model.doc["materials"]) <= 16  # 10 for the figures + 6 for the name tags and sleeve flags


def _grip(m: Model, pid: str, side: str, height: float) -> np.ndarray:
    w = m.world[f"{pid}/hand_{side}"]
    return w[:3, :3] @ crew.grip_point(height, side) + w[:3, 3]


def test_the_right_hands_meet_in_the_hatchway(model, table):
    dims = load_dimensions()
    rt = dims.fact("apas75", "transfer_tunnel_diameter_m") / 2
    y0 = dims.dim("docking_module", "soyuz_bulkhead_station_m")  # the DM's Soyuz-end hatch
    y1 = dims.fact("docking_module", "length_m") + dims.dim("soyuz", "apas_base_depth_m")
    h = {pid: float(table["figure"][pid]["height_m"]) for pid in crew.ORDER}
    s = _grip(model, "stafford", "r", h["stafford"])
    lv = _grip(model, "leonov", "r", h["leonov"])
    assert np.linalg.norm(s - lv) < 0.04, f"the hands are {np.linalg.norm(s - lv):.3f} m apart"
    for p in (s, lv):
        assert math.hypot(p[0], p[2]) < rt - 0.05, "the handshake is not inside the 0.8 m hatchway"
        assert y0 <= p[1] <= y1, f"the handshake at y = {p[1]:.2f} is not between the DM hatch and Soyuz"
    # Stafford reaches from the Docking Module, Leonov from Soyuz; they face each other
    assert model.world["stafford/pelvis"][1, 3] < y0 < dims.fact("docking_module", "length_m") < model.world["leonov/pelvis"][1, 3]
    assert model.world["stafford/head"][1, 3] < model.world["leonov/head"][1, 3]
    # the left hands are not in the hatchway
    assert np.linalg.norm(_grip(model, "stafford", "l", h["stafford"]) - s) > 0.2


def _cabins(stack: Model):
    """Radius of the free space as a function of the station y in the stack frame (-1: none)."""
    dm = stack.points("dm/interior")
    om = stack.points("soyuz/orbital_module/interior")
    r_dm = float(np.hypot(dm[:, 0], dm[:, 2]).max())
    y_dm = (float(dm[:, 1].min()), float(dm[:, 1].max()))
    c_om = 0.5 * (om[:, 1].min() + om[:, 1].max())
    r_om = 0.5 * (om[:, 0].max() - om[:, 0].min())
    y_om0 = float(om[:, 1].min())
    rt = 0.4

    def rmax(y):
        r = np.full_like(y, -1.0)
        r = np.where((y >= y_dm[0]) & (y <= y_dm[1]), r_dm, r)
        r = np.where((y > y_dm[1]) & (y <= y_om0 + 0.1), rt, r)
        sphere = np.sqrt(np.maximum(r_om**2 - (y - c_om) ** 2, 0.0))
        return np.where(y > y_om0, np.maximum(r, sphere), r)

    return rmax


@pytest.mark.parametrize("arrangement", crew.ARRANGEMENTS)
def test_everyone_is_inside_the_cabins(arrangement, table, stack):
    rmax = _cabins(stack)
    ppl = crew.people(table)
    worlds = crew.world_joints(arrangement, table)
    for pid in ("stafford", "slayton", "leonov", "kubasov"):  # Brand is in the CM (a cone; not checked here)
        pts = []
        for joint, parts in crew.segment_meshes(ppl[pid]).items():
            m = worlds[pid][joint]
            pts += [mesh.positions @ m[:3, :3].T + m[:3, 3] for ms in parts.values() for mesh in ms]
        p = np.concatenate(pts)
        out = np.hypot(p[:, 0], p[:, 2]) - rmax(p[:, 1])
        assert out.max() < 0.02, f"{arrangement}: {pid} pokes {out.max():.3f} m through a wall at {p[out.argmax()].round(2)}"
    # Brand floats in the Command Module cabin
    brand = worlds["brand"]["pelvis"][:3, 3]
    assert -2.8 < brand[1] < -0.93


def test_nobody_in_the_hatchway_before_the_hatch_opens(table):
    from experience.scene.vehicles import Vehicles

    class Snap:
        def __init__(self, utc):
            self.utc = utc
            self.vehicles = {"apollo": type("V", (), {"phase": "docked"})()}

    opened = data.event("handshake").utc
    before, after = Snap(opened.replace(minute=opened.minute - 5)), Snap(opened)
    assert Vehicles.crew_arrangement(before, True) == "hatch_closed"
    assert Vehicles.crew_arrangement(after, True) == "handshake"
    assert Vehicles.crew_arrangement(after, False) is None  # exterior views: the crews are not drawn
    assert Vehicles.crew_arrangement(Snap(data.event("undocking_1").utc), True) == "hatch_closed"
    dims = load_dimensions()
    y0 = dims.dim("docking_module", "soyuz_bulkhead_station_m")
    y1 = dims.fact("docking_module", "length_m")
    for pid, joints in crew.world_joints("hatch_closed", table).items():
        for name, m in joints.items():
            assert not (y0 - 0.05 < m[1, 3] < y1 + 0.05), f"{pid}/{name} is in the hatchway with the hatch closed"


def test_panda3d_poses_the_figures_by_rotating_nodes(table):
    pytest.importorskip("panda3d.core")
    from panda3d.core import NodePath

    from experience.scene import vehicles
    from experience.scene.modelgen.panda import find_named

    loaded = vehicles._load_gltf(CREW)
    if loaded is None:
        pytest.skip("no glTF loader for Panda3D")
    for arrangement in crew.ARRANGEMENTS:
        holder = NodePath("t")
        model = loaded.copyTo(holder)
        vehicles.pose_crew(model, arrangement)
        want = crew.world_joints(arrangement, table)
        for pid in crew.ORDER:
            for joint in ("head", "hand_r", "foot_l"):
                p = find_named(model, f"{pid}/{joint}").getPos(model)
                assert np.allclose([p[0], p[1], p[2]], want[pid][joint][:3, 3], atol=2e-4), f"{arrangement} {pid}/{joint}"
