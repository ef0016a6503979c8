"""APAS-75, the androgynous peripheral docking unit (one on the Docking Module, one on Soyuz).

Both units are the same shape (that is what androgynous means). In the unit's own frame the
interface plane is y = 0, the unit faces +Y (towards its partner) and its body lies at y < 0:

- ``<prefix>``            group node, placed on the vehicle
- ``<prefix>/interface``  empty node on the axis in the interface plane, +Y out of the port
- ``<prefix>/base``       static structure: body, neck, structural (hook and seal) ring, attenuator struts
- ``<prefix>/ring``       the guide ring, origin at its centre, in the retracted position; moving
                          this node moves the petals with it
- ``<prefix>/petal_0..2`` children of the ring, origin at the petal's root on the ring centre-line,
                          local +Y up the petal, +Z its outer face; petal k sits at azimuth 120 k deg

Two units facing each other (one turned 180 deg about X) interleave their petals: azimuth a in
one frame is 180 - a in the other, so petals at 0/120/240 meet petals at 180/60/300.
"""

from __future__ import annotations

import numpy as np

from experience.scene.modelgen import geometry as g
from experience.scene.modelgen import materials as mat
from experience.scene.modelgen.gltf import Node, quat_from_matrix
from experience.scene.modelgen.params import Dimensions

SEGMENTS = 64


def petal_outline(width: float, height: float) -> np.ndarray:
    """A spade: full width at the root, shoulders at about half height, a blunt tip."""
    w = width / 2
    return np.array(
        [(-w, 0.0), (w, 0.0), (0.88 * w, 0.47 * height), (0.24 * w, height), (-0.24 * w, height), (-0.88 * w, 0.47 * height)]
    )


def build(prefix: str, dims: Dimensions, depth: float) -> Node:
    """One APAS-75 unit; ``depth`` is how far its body reaches behind the interface plane."""
    tunnel_r = dims.fact("apas75", "transfer_tunnel_diameter_m") / 2
    body_r = dims.dim("apas75", "body_radius_m")
    neck_r = dims.dim("apas75", "neck_radius_m")
    ring_face_r = dims.dim("apas75", "structural_ring_outer_radius_m")
    guide_r = dims.dim("apas75", "guide_ring_radius_m")
    tube_r = dims.dim("apas75", "guide_ring_tube_radius_m")
    ring_depth = dims.dim("apas75", "guide_ring_retracted_depth_m")
    petal_h = dims.dim("apas75", "petal_height_m")
    petal_w = dims.dim("apas75", "petal_base_width_m")
    lean = dims.dim("apas75", "petal_lean_deg")
    envelope = dims.fact("apas75", "soviet_unit_max_diameter_m") / 2
    if body_r > envelope or guide_r + tube_r > envelope:
        raise ValueError("APAS-75 unit geometry exceeds the 1.3 m envelope of the Soviet unit")

    unit = Node(prefix)
    unit.child(Node(f"{prefix}/interface", extras={"role": "docking_interface", "port": "apas75"}))

    # body: ledge where it meets the vehicle, body cylinder, cone in to the neck, neck,
    # structural ring (flange) and its face round the tunnel
    flange = 0.03
    cone_top = -depth + 0.06 + 0.06
    profile = g.polyline(
        (body_r - 0.07, -depth),
        (body_r, -depth),
        (body_r, -depth + 0.06),
        (neck_r, cone_top),
        (neck_r, -flange),
        (ring_face_r, -flange),
        (ring_face_r, 0.0),
        (tunnel_r, 0.0),
    )
    base = Node(f"{prefix}/base")
    base.add(mat.APAS_METAL, g.lathe(profile, SEGMENTS))
    # six attenuator struts from the body to the retracted ring, in pairs between the petals
    struts = []
    for k in range(3):
        for side in (-1, 1):
            az = 60.0 + 120.0 * k + side * 22.0
            d = g.azimuth_dir(az)
            p0 = d * (body_r - 0.05) + np.array([0.0, -depth + 0.07, 0.0])
            p1 = d * (guide_r - 0.01) + np.array([0.0, -ring_depth - tube_r, 0.0])
            struts.append(g.cylinder_between(p0, p1, 0.018, 8))
    # the eight structural hooks round the rim of the structural ring (behind the interface plane)
    hooks = [
        g.box((0.06, flange, 0.03), g.compose(g.rot_y(22.5 + 45.0 * k), g.translate(0.0, -flange / 2, ring_face_r + 0.012)))
        for k in range(8)
    ]
    base.add(mat.APAS_DARK, *struts, *hooks)
    unit.child(base)

    ring = Node(f"{prefix}/ring", translation=(0.0, -ring_depth, 0.0), extras={"role": "apas_guide_ring"})
    ring.add(mat.APAS_METAL, g.torus(guide_r, tube_r, SEGMENTS, 10))
    latches = [
        g.box((0.09, 0.07, 0.05), g.compose(g.rot_y(60.0 + 120.0 * k), g.translate(0.0, tube_r + 0.03, guide_r)))
        for k in range(3)
    ]
    ring.add(mat.APAS_DARK, *latches)
    outline = petal_outline(petal_w, petal_h)
    for k in range(3):
        az = 120.0 * k
        rot = g.compose(g.rot_y(az), g.rot_x(-lean))
        d = g.azimuth_dir(az)
        petal = Node(
            f"{prefix}/petal_{k}",
            translation=(float(d[0] * guide_r), 0.0, float(d[2] * guide_r)),
            rotation=quat_from_matrix(rot),
            extras={"role": "apas_guide_petal", "azimuth_deg": az},
        )
        plate = g.extrude(outline, 0.025)
        rib = g.box((0.03, petal_h * 0.85, 0.02), center=(0.0, petal_h * 0.42, -0.02))
        petal.add(mat.APAS_PETAL, plate)
        petal.add(mat.APAS_METAL, rib)
        ring.child(petal)
    unit.child(ring)
    return unit

