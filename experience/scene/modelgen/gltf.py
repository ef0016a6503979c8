"""A small glTF 2.0 writer: JSON plus one adjacent .bin buffer, PBR metallic-roughness materials,
a named node hierarchy, one mesh per node (one primitive per material).

Output is deterministic: vertex data is rounded to a fixed grid before it is stored as float32
(positions to 10 micrometres, normals to 1e-5), JSON floats are rounded to 6 decimals and keys are
sorted, so the same input gives byte-identical files on any machine.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from experience.mission import figures
from experience.scene.modelgen.geometry import Mesh, concat

GENERATOR = "handshake-in-orbit modelgen 1"
POSITION_DECIMALS = 5
NORMAL_DECIMALS = 5
JSON_DECIMALS = 6

_ARRAY_BUFFER = 34962
_ELEMENT_ARRAY_BUFFER = 34963
_FLOAT = 5126
_UNSIGNED_SHORT = 5123
_UNSIGNED_INT = 5125


@dataclasses.dataclass(frozen=True)
class Material:
    """A PBR metallic-roughness material (no textures)."""

    name: str
    color: tuple[float, float, float]
    metallic: float
    roughness: float
    double_sided: bool = False
    emissive: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "pbrMetallicRoughness": {
                "baseColorFactor": [*self.color, 1.0],
                "metallicFactor": self.metallic,
                "roughnessFactor": self.roughness,
            },
        }
        if self.double_sided:
            out["doubleSided"] = True
        if any(self.emissive):
            out["emissiveFactor"] = list(self.emissive)
        return out


@dataclasses.dataclass
class Node:
    """A named node: optional geometry (per material), a local transform, children.

    ``rotation`` is a unit quaternion (x, y, z, w) as in glTF."""

    name: str
    translation: tuple[float, float, float] = (0.0, 0.0, 0.0)
    rotation: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)
    children: list[Node] = dataclasses.field(default_factory=list)
    parts: dict[Material, list[Mesh]] = dataclasses.field(default_factory=dict)
    extras: dict[str, Any] | None = None

    def add(self, material: Material, *meshes: Mesh) -> Node:
        self.parts.setdefault(material, []).extend(m for m in meshes if m is not None)
        return self

    def child(self, node: Node) -> Node:
        self.children.append(node)
        return node

    def walk(self) -> Iterable[Node]:
        yield self
        for c in self.children:
            yield from c.walk()

    def triangle_count(self) -> int:
        return sum(m.triangle_count for n in self.walk() for ms in n.parts.values() for m in ms)


def quat_axis_angle(axis: Sequence[float], deg: float) -> tuple[float, float, float, float]:
    a = np.asarray(axis, dtype=float)
    a = a / np.linalg.norm(a)
    h = math.radians(deg) / 2
    s = math.sin(h)
    return (float(a[0] * s), float(a[1] * s), float(a[2] * s), float(math.cos(h)))


def _round_floats(obj: Any) -> Any:
    if isinstance(obj, float):
        v = round(obj, JSON_DECIMALS)
        return 0.0 if v == 0 else v
    if isinstance(obj, dict):
        return {k: _round_floats(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_round_floats(v) for v in obj]
    return obj


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(_round_floats(doc), sort_keys=True, indent=1, ensure_ascii=True) + "\n"


class _Packer:
    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.length = 0
        self.views: list[dict[str, Any]] = []
        self.accessors: list[dict[str, Any]] = []

    def _view(self, data: bytes, target: int) -> int:
        pad = (-self.length) % 4
        if pad:
            self.chunks.append(b"\0" * pad)
            self.length += pad
        self.views.append({"buffer": 0, "byteOffset": self.length, "byteLength": len(data), "target": target})
        self.chunks.append(data)
        self.length += len(data)
        return len(self.views) - 1

    def vec3(self, arr: np.ndarray, with_bounds: bool) -> int:
        a = np.ascontiguousarray(arr, dtype="<f4")
        acc: dict[str, Any] = {
            "bufferView": self._view(a.tobytes(), _ARRAY_BUFFER),
            "componentType": _FLOAT,
            "count": int(a.shape[0]),
            "type": "VEC3",
        }
        if with_bounds:
            acc["min"] = [float(v) for v in a.min(axis=0)]
            acc["max"] = [float(v) for v in a.max(axis=0)]
        self.accessors.append(acc)
        return len(self.accessors) - 1

    def indices(self, tri: np.ndarray, vertex_count: int) -> int:
        dtype, ctype = ("<u2", _UNSIGNED_SHORT) if vertex_count <= 65535 else ("<u4", _UNSIGNED_INT)
        a = np.ascontiguousarray(tri.reshape(-1), dtype=dtype)
        self.accessors.append(
            {
                "bufferView": self._view(a.tobytes(), _ELEMENT_ARRAY_BUFFER),
                "componentType": ctype,
                "count": int(a.shape[0]),
                "type": "SCALAR",
            }
        )
        return len(self.accessors) - 1

    def blob(self) -> bytes:
        data = b"".join(self.chunks)
        return data + b"\0" * ((-len(data)) % 4)


def _quantise(mesh: Mesh) -> tuple[np.ndarray, np.ndarray]:
    p = np.round(mesh.positions, POSITION_DECIMALS)
    n = np.round(mesh.normals, NORMAL_DECIMALS)
    p[p == 0] = 0.0  # no negative zeros
    n[n == 0] = 0.0
    return p.astype("<f4"), n.astype("<f4")


def build(root: Node, bin_uri: str) -> tuple[dict[str, Any], bytes]:
    """The glTF JSON document and its binary buffer for one scene rooted at ``root``."""
    packer = _Packer()
    materials: list[Material] = []
    mat_index: dict[Material, int] = {}
    meshes: list[dict[str, Any]] = []
    nodes: list[dict[str, Any]] = []
    names: set[str] = set()

    def material_id(m: Material) -> int:
        if m not in mat_index:
            if any(x.name == m.name for x in materials):
                raise ValueError(f"two different materials are both named {m.name!r}")
            mat_index[m] = len(materials)
            materials.append(m)
        return mat_index[m]

    def emit(node: Node) -> int:
        if node.name in names:
            raise ValueError(f"node name {node.name!r} is used twice")
        names.add(node.name)
        idx = len(nodes)
        out: dict[str, Any] = {"name": node.name}
        nodes.append(out)
        if any(float(v) != 0.0 for v in node.translation):
            out["translation"] = [float(v) for v in node.translation]
        if tuple(float(v) for v in node.rotation) != (0.0, 0.0, 0.0, 1.0):
            out["rotation"] = [float(v) for v in node.rotation]
        if node.extras:
            out["extras"] = node.extras
        prims = []
        for mat, parts in node.parts.items():
            mesh = concat(parts)
            if mesh.triangle_count == 0:
                continue
            p, n = _quantise(mesh)
            prims.append(
                {
                    "attributes": {"POSITION": packer.vec3(p, True), "NORMAL": packer.vec3(n, False)},
                    "indices": packer.indices(mesh.triangles, mesh.vertex_count),
                    "material": material_id(mat),
                    "mode": 4,
                }
            )
        if prims:
            meshes.append({"name": node.name, "primitives": prims})
            out["mesh"] = len(meshes) - 1
        kids = [emit(c) for c in node.children]
        if kids:
            out["children"] = kids
        return idx

    emit(root)
    blob = packer.blob()
    doc = {
        "asset": {"version": "2.0", "generator": GENERATOR},
        "scene": 0,
        "scenes": [{"name": root.name, "nodes": [0]}],
        "nodes": nodes,
        "meshes": meshes,
        "materials": [m.to_json() for m in materials],
        "accessors": packer.accessors,
        "bufferViews": packer.views,
        "buffers": [{"uri": bin_uri, "byteLength": len(blob)}],
    }
    return doc, blob


def assemble(name: str, parts: Sequence[tuple[dict[str, Any], Node | None]]) -> dict[str, Any]:
    """A glTF document that places whole documents (each with its own .bin buffer, referenced by
    uri, so no vertex data is copied) under one root node. ``parts`` pairs each document with a
    Node giving the placement of its root (its translation and rotation; its name is ignored)."""
    out: dict[str, Any] = {
        "asset": {"version": "2.0", "generator": GENERATOR},
        "scene": 0,
        "scenes": [{"name": name, "nodes": [0]}],
        "nodes": [{"name": name, "children": []}],
        "meshes": [],
        "materials": [],
        "accessors": [],
        "bufferViews": [],
        "buffers": [],
    }
    for doc, placement in parts:
        doc = copy.deepcopy(doc)
        n_off, m_off = len(out["nodes"]), len(out["meshes"])
        mat_off, acc_off = len(out["materials"]), len(out["accessors"])
        view_off, buf_off = len(out["bufferViews"]), len(out["buffers"])
        for view in doc["bufferViews"]:
            view["buffer"] += buf_off
        for acc in doc["accessors"]:
            acc["bufferView"] += view_off
        for mesh in doc["meshes"]:
            for prim in mesh["primitives"]:
                prim["attributes"] = {k: v + acc_off for k, v in prim["attributes"].items()}
                prim["indices"] += acc_off
                prim["material"] += mat_off
        for node in doc["nodes"]:
            if "mesh" in node:
                node["mesh"] += m_off
            if "children" in node:
                node["children"] = [c + n_off for c in node["children"]]
        root = doc["nodes"][doc["scenes"][doc["scene"]]["nodes"][0]]
        if placement is not None:
            if any(v != 0.0 for v in placement.translation):
                root["translation"] = [float(v) for v in placement.translation]
            if tuple(placement.rotation) != (0.0, 0.0, 0.0, 1.0):
                root["rotation"] = [float(v) for v in placement.rotation]
        out["nodes"][0]["children"].append(n_off + doc["scenes"][doc["scene"]]["nodes"][0])
        for key in ("nodes", "meshes", "materials", "accessors", "bufferViews", "buffers"):
            out[key].extend(doc[key])
    return out


def write(doc: dict[str, Any], gltf_path: Path, blob: bytes | None = None) -> list[Path]:
    """Write the JSON (and the buffer next to it, named by the document's first buffer uri)."""
    gltf_path = Path(gltf_path)
    gltf_path.parent.mkdir(parents=True, exist_ok=True)
    written = [gltf_path]
    gltf_path.write_text(dumps(doc), encoding="ascii", newline="\n")
    if blob is not None:
        bin_path = gltf_path.parent / doc["buffers"][0]["uri"]
        bin_path.write_bytes(blob)
        written.append(bin_path)
    return written


quat_from_matrix = figures.quat_from_matrix   # one copy (experience/mission/figures.py), the writer's rounding
