"""Spacecraft models built by project code from published dimensions, written as glTF 2.0.

``build_all(folder)`` writes ``apollo_csm``, ``docking_module``, ``soyuz`` (each a .gltf with its
.bin), ``stack.gltf`` (the docked stack, which reuses the three .bin buffers by reference) and
``crew`` (.gltf + .bin: the five crew members as articulated figures, posed for the handshake in
the stack frame; see crew.py and data/mission/crew_figures.toml).
Only NumPy is needed; see docs/models.md for frames, node names and sources.
"""

from __future__ import annotations

from pathlib import Path

from experience.scene.modelgen import gltf
from experience.scene.modelgen.params import Dimensions, load

VEHICLES = ("apollo_csm", "docking_module", "soyuz")
STACK = "stack"
CREW = "crew"
FILES = tuple(f"{v}.{ext}" for v in VEHICLES for ext in ("gltf", "bin")) + (f"{STACK}.gltf", f"{CREW}.gltf", f"{CREW}.bin")


def vehicle_nodes(dims: Dimensions | None = None) -> dict[str, gltf.Node]:
    """The node trees of the three vehicles (each in its own frame)."""
    from experience.scene.modelgen import apollo, docking_module, soyuz

    dims = dims or load()
    return {
        "apollo_csm": apollo.build(dims),
        "docking_module": docking_module.build(dims),
        "soyuz": soyuz.build(dims),
    }


def stack_placements(dims: Dimensions | None = None) -> dict[str, gltf.Node]:
    """Where each vehicle's root sits in the stack frame (the CSM's frame): the DM's Apollo ring
    face on the CM's ring face, Soyuz's APAS-75 interface on the DM's."""
    dims = dims or load()
    return {
        "apollo_csm": gltf.Node("apollo_csm"),
        "docking_module": gltf.Node("docking_module"),
        "soyuz": gltf.Node("soyuz", translation=(0.0, dims.fact("docking_module", "length_m"), 0.0)),
    }


def build_all(folder: Path) -> dict[str, int]:
    """Write every model into ``folder``; returns the triangle count of each file."""
    folder = Path(folder)
    dims = load()
    nodes = vehicle_nodes(dims)
    docs = {}
    counts = {}
    for name in VEHICLES:
        doc, blob = gltf.build(nodes[name], f"{name}.bin")
        gltf.write(doc, folder / f"{name}.gltf", blob)
        docs[name] = doc
        counts[name] = nodes[name].triangle_count()
    places = stack_placements(dims)
    stack = gltf.assemble("astp_stack", [(docs[n], places[n]) for n in VEHICLES])
    gltf.write(stack, folder / f"{STACK}.gltf")
    counts[STACK] = sum(counts[n] for n in VEHICLES)
    # the crews: five articulated figures in the handshake arrangement, in the stack frame
    from experience.scene.modelgen import crew

    figures = crew.build()
    doc, blob = gltf.build(figures, f"{CREW}.bin")
    gltf.write(doc, folder / f"{CREW}.gltf", blob)
    counts[CREW] = figures.triangle_count()
    return counts
