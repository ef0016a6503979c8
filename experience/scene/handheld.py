"""What the VR visitor's hands hold, drawn in the NEAR pass: the keepsakes (the plaque halves and
the flags, experience/simulation/keepsakes.py) and the hands themselves (issue #11).

The scene computes nothing here: :meth:`Handheld.update` takes the poses the front end has (each
keepsake's 4x4 in the stack's model frame with its state, each hand's grip pose and whether it
is closed, or its tracked joints) and places the nodes built once from project geometry
(experience/scene/modelgen/keepsakes.py) under the vehicles' root, so the cabin's lights and
the vehicle shader light them like the cabin around them.
"""

from __future__ import annotations

import numpy as np
from panda3d.core import LMatrix4f, Material, NodePath

from experience.scene.earth import make_geom_node
from experience.scene.modelgen import keepsakes as mk

HANDS = ("left", "right")
JOINTS = 26   # XR_HAND_JOINT_COUNT_EXT


def _panda(m: np.ndarray) -> LMatrix4f:
    return LMatrix4f(*(float(v) for v in np.asarray(m, dtype=np.float64).T.ravel()))   # Panda3D: row vectors


def build_node(name: str, meshes: dict) -> NodePath:
    """A node of one GeomNode per material from ``{modelgen Material: [Mesh]}``."""
    from experience.scene.modelgen import geometry as g

    root = NodePath(name)
    for k, (mat, parts) in enumerate(meshes.items()):
        mesh = g.concat(parts)
        node = root.attachNewNode(make_geom_node(f"{name}/{mat.name}", mesh.positions.astype(np.float32), None,
                                                 mesh.triangles.astype(np.uint32), normal=mesh.normals.astype(np.float32)))
        pm = Material(mat.name)
        pm.setBaseColor((*mat.color, 1.0))
        pm.setMetallic(float(mat.metallic))
        pm.setRoughness(float(mat.roughness))
        node.setMaterial(pm, 1)
        node.setTwoSided(True)
    return root


def keepsake_meshes(spec: dict) -> dict:
    if spec["kind"] == "plaque_half":
        return mk.plaque_half(spec.get("diameter_m", 0.2), spec.get("thickness_m", 0.008),
                              spec.get("color_rgb", (0.62, 0.42, 0.2)), spec.get("half", "apollo"))
    return mk.flag(spec["flag"], spec.get("size_m", (0.15, 0.09)), spec.get("staff_m", 0.24))


class Handheld:
    """The keepsakes and the two hands under ``parent`` (the vehicles' root of a SceneRenderer)."""

    def __init__(self, parent: NodePath, items: dict[str, dict]):
        self.root = parent.attachNewNode("handheld")
        self.items = {iid: build_node(f"keepsake_{iid}", keepsake_meshes(spec)) for iid, spec in items.items()}
        for n in self.items.values():
            n.reparentTo(self.root)
        self.hands: dict[str, dict[str, NodePath]] = {}
        joint = build_node("hand_joint", mk.joint_sphere(1.0))
        for side in HANDS:
            forms = {"open": build_node(f"hand_{side}_open", mk.hand(side, False)),
                     "closed": build_node(f"hand_{side}_closed", mk.hand(side, True))}
            for n in forms.values():
                n.reparentTo(self.root)
                n.hide()
            joints = self.root.attachNewNode(f"hand_{side}_joints")
            self.joint_nodes = getattr(self, "joint_nodes", {})
            self.joint_nodes[side] = [joint.instanceTo(joints.attachNewNode(f"hand_{side}_joint_{k}")).getParent()
                                      for k in range(JOINTS)]
            joints.hide()
            forms["joints"] = joints
            self.hands[side] = forms
        self.shown: dict[str, str | None] = {side: None for side in HANDS}

    def update(self, frame, state, items, hands: dict) -> None:
        """``items``: [(id, 4x4 model pose, state)]; ``hands``: side -> None (not tracked) or a
        dict with ``matrix`` (4x4 grip pose, model frame), ``closed`` (bool) and optionally
        ``joints`` ([(position m, radius m)], the tracked joints: drawn instead of the glove)."""
        from experience.scene.vehicles import model_to_eci

        self.root.setMat(frame.model_matrix(state.pos_km, model_to_eci(state)))
        for iid, m, _state in items:
            node = self.items.get(iid)
            if node is not None:
                node.setMat(_panda(m))
        for side in HANDS:
            forms = self.hands[side]
            for n in forms.values():
                n.hide()
            h = hands.get(side)
            if h is None:
                self.shown[side] = None
                continue
            if h.get("joints"):
                for node, (p, r) in zip(self.joint_nodes[side], h["joints"]):
                    node.setPosHprScale(float(p[0]), float(p[1]), float(p[2]), 0.0, 0.0, 0.0, float(r), float(r), float(r))
                forms["joints"].show()
                self.shown[side] = "joints"
            else:
                form = "closed" if h.get("closed") else "open"
                forms[form].setMat(_panda(h["matrix"]))
                forms[form].show()
                self.shown[side] = form
