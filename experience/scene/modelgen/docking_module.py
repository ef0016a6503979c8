"""The Docking Module: an airlock with Apollo's probe-and-drogue receptacle at one end and the
American APAS-75 unit at the other.

Frame: +Y is the axis from the Apollo end to the Soyuz end (the stack axis). The origin is the
centre of the Apollo docking-ring face (it meets the CM's ring face); the APAS-75 interface
plane is at y = 3.15 (the module's length). Hatches open into the module.
"""

from __future__ import annotations

import numpy as np

from experience.mission.cabins import dm_cabin, dm_cabin_profile, dm_handrails, fitting, furniture
from experience.scene.modelgen import apas
from experience.scene.modelgen import geometry as g
from experience.scene.modelgen import materials as mat
from experience.scene.modelgen.apollo import hatch_disc
from experience.scene.modelgen.gltf import Node, quat_axis_angle
from experience.scene.modelgen.params import Dimensions

SEGMENTS = 64


def build(d: Dimensions) -> Node:
    L = d.fact("docking_module", "length_m")
    R = d.fact("docking_module", "max_diameter_m") / 2
    rt = d.fact("apas75", "transfer_tunnel_diameter_m") / 2
    r_ring = d.dim("apollo_cm", "docking_ring_outer_radius_m")  # same ring as the CM's
    adapter = d.dim("docking_module", "apollo_adapter_length_m")
    r_in = d.dim("docking_module", "inner_radius_m")
    y_bh_a = d.dim("docking_module", "apollo_bulkhead_station_m")
    y_bh_s = d.dim("docking_module", "soyuz_bulkhead_station_m")
    hatch_r = d.dim("docking_module", "hatch_diameter_m") / 2
    body_r = d.dim("apas75", "body_radius_m")
    apas_depth = d.dim("docking_module", "apas_base_depth_m")
    y_end = L - apas_depth  # where the hull ends and the APAS-75 unit's body begins
    if not (adapter < y_bh_a < y_bh_s < y_end + 0.01):
        raise ValueError("docking_module stations are out of order; check geometry.toml")

    root = Node("docking_module", extras={"vehicle": "docking_module", "frame": "+Y from the Apollo end to the Soyuz end; origin at the Apollo docking-ring face"})
    root.child(
        Node(
            "dm/docking_interface_apollo",
            rotation=quat_axis_angle((1, 0, 0), 180.0),
            extras={"role": "docking_interface", "port": "drogue"},
        )
    )
    root.child(Node("dm/docking_interface_soyuz", translation=(0.0, L, 0.0), extras={"role": "docking_interface", "port": "apas75"}))

    hull = root.child(Node("dm/hull"))
    seam_y = (1.2, 2.2)  # two thin dark seams (blanket joints) in the hull profile
    profile = g.polyline((rt, 0.0), (r_ring, 0.0), (r_ring, 0.12), (R, adapter), (R, seam_y[0]))
    profile += g.polyline((R, seam_y[0] + 0.03), (R, seam_y[1]))
    profile += g.polyline((R, seam_y[1] + 0.03), (R, y_end), (body_r, y_end))
    hull.add(mat.DM_SKIN, g.lathe(profile, SEGMENTS))
    # thin black seams and two VHF antennas
    seams = [g.lathe([g.line((R, y), (R, y + 0.03))], SEGMENTS) for y in seam_y]
    antennas = []
    for az in (90.0, 270.0):
        dvec = g.azimuth_dir(az)
        p0 = dvec * R + np.array([0.0, 1.7, 0.0])
        antennas.append(g.cylinder_between(p0, p0 + dvec * 0.05, 0.03, 8))
        antennas.append(g.cylinder_between(p0 + dvec * 0.05, p0 + dvec * 0.05 + np.array([0.0, -0.45, 0.0]), 0.008, 6))
    hull.add(mat.BLACK, *seams)
    details = root.child(Node("dm/exterior_details", extras={"role": "antennas_and_handrails"}))
    details.add(mat.BLACK, *antennas)
    # handrails on the outside (EVA contingency), white
    rails = []
    for az in (0.0, 180.0):
        dvec = g.azimuth_dir(az)
        a, b = dvec * (R + 0.06) + [0, 0.9, 0], dvec * (R + 0.06) + [0, 2.5, 0]
        rails.append(g.cylinder_between(a, b, 0.015, 8))
        for y in (0.9, 1.7, 2.5):
            rails.append(g.cylinder_between(dvec * R + [0, y, 0], dvec * (R + 0.06) + [0, y, 0], 0.012, 6))
    details.add(mat.TANK, *rails)

    tanks = root.child(Node("dm/gas_tanks", extras={"role": "n2_o2_tanks", "count": int(d.fact("docking_module", "external_tanks"))}))
    t_r = d.dim("docking_module", "tank_diameter_m") / 2
    t_y = d.dim("docking_module", "tank_station_m")
    t_c = d.dim("docking_module", "tank_axis_distance_m")
    spheres, struts = [], []
    for k in range(4):
        dvec = g.azimuth_dir(45.0 + 90.0 * k)
        c = dvec * t_c + np.array([0.0, t_y, 0.0])
        spheres.append(g.sphere(t_r, 24, 12, c))
        cone_r = r_ring + (R - r_ring) * (t_y - 0.12) / (adapter - 0.12)
        for dy in (-0.08, 0.08):
            struts.append(g.cylinder_between(dvec * (cone_r - 0.02) + [0, t_y + dy, 0], c + [0, dy, 0] - dvec * (t_r - 0.02), 0.02, 6))
        struts.append(g.tube(t_r - 0.001, t_r + 0.012, -0.02, 0.02, 24).transformed(g.translate(*c)))
    tanks.add(mat.TANK, *spheres)
    tanks.add(mat.PROBE_METAL, *struts)

    # drogue: the cone that guides the CSM's probe (removed after docking: hide for the transfer)
    drogue = root.child(Node("dm/drogue", extras={"role": "docking_drogue"}))
    tip = d.dim("apollo_cm", "probe_protrusion_m")
    funnel = g.lathe([g.line((0.07, tip - 0.02), (rt - 0.02, 0.02), 6)], 48)
    drogue.add(mat.PROBE_METAL, funnel, funnel.flipped(), g.cylinder(0.07, tip - 0.02, tip + 0.06, 16))
    drogue.add(mat.APAS_DARK, g.tube(rt - 0.03, rt - 0.002, 0.01, 0.04, 48))

    # --- inside: the cabin, tunnels, bulkheads, hatches, rails, gauges, valves -----------------
    interior = root.child(Node("dm/interior", extras={"role": "interior"}))
    cabin = g.polyline(*dm_cabin_profile(d))
    interior.add(mat.CABIN_WALL, g.lathe(cabin, SEGMENTS))
    t_a = root.child(Node("dm/tunnel_apollo", extras={"role": "interior", "diameter_m": 2 * rt}))
    t_a.add(mat.CABIN_WALL, g.lathe([g.line((rt, y_bh_a), (rt, 0.0))], 48))
    t_s = root.child(Node("dm/tunnel_soyuz", extras={"role": "interior", "diameter_m": 2 * rt}))
    t_s.add(mat.CABIN_WALL, g.lathe([g.line((rt, L), (rt, y_bh_s))], 48))

    rails = []
    r_rail = dm_cabin(d).r_rail  # clear of the hatches when they swing open
    for k, (a, b) in enumerate(dm_handrails(d)):
        dvec = g.azimuth_dir(45.0 + 90.0 * k)
        rails.append(g.cylinder_between(a, b, 0.016, 8))
        for y in np.linspace(y_bh_a + 0.2, y_bh_s - 0.2, 3):
            rails.append(g.cylinder_between(dvec * (r_in + 0.005) + [0, y, 0], dvec * r_rail + [0, y, 0], 0.012, 6))
    interior.add(mat.HANDRAIL, *rails)

    dials, bezels, valves = [], [], []
    rest = fitting("dm_gauge_rest_mmhg")
    for y, up, end, other in ((y_bh_a, 1.0, "apollo", "cm"), (y_bh_s, -1.0, "soyuz", "soyuz_om")):
        for az, reads in ((-20.0, "dm"), (20.0, other)):  # two pressure gauges on each bulkhead, outside the hatch's swing
            dvec = g.azimuth_dir(az)
            c = dvec * ((rt + r_in) / 2 + 0.02) + np.array([0.0, y, 0.0])
            axis = np.array([0.0, up, 0.0])
            bezels.append(g.cylinder_between(c, c + axis * 0.035, 0.06, 16))
            dials.append(g.cylinder_between(c + axis * 0.035, c + axis * 0.037, 0.05, 16, caps=True))
            # the needle: its own node at the dial's centre, turned by the scene to the cabin's
            # pressure during the crossing (experience/scene/vehicles.py); drawn at its rest reading
            centre = c + axis * 0.04
            needle = root.child(Node(f"dm/gauge_{end}_{reads}", translation=tuple(float(v) for v in centre), extras={
                "role": "gauge_needle", "reads": reads, "axis": [0.0, up, 0.0],
                "rest_mmhg": 258.0 if reads == "cm" else rest,
                "full_scale_mmhg": fitting("dm_gauge_full_scale_mmhg"), "sweep_deg": fitting("dm_gauge_sweep_deg")}))
            needle.add(mat.BLACK, g.box((0.006, 0.004, 0.04), g.frame((0.0, 0.0, 0.0), axis, dvec) @ g.translate(0, 0, 0.015)))
        # the equalisation valve on each bulkhead (az 180), body and T handle
        dvec = g.azimuth_dir(180.0)
        c = dvec * ((rt + r_in) / 2 + 0.02) + np.array([0.0, y, 0.0])
        axis = np.array([0.0, up, 0.0])
        valves.append(g.cylinder_between(c, c + axis * 0.08, 0.04, 12))
        valves.append(g.cylinder_between(c + axis * 0.08, c + axis * 0.12, 0.012, 8))
        valves.append(g.box((0.16, 0.02, 0.02), g.frame(c + axis * 0.125, axis)))
    interior.add(mat.DIAL_FACE, *dials)
    interior.add(mat.BLACK, *bezels)
    interior.add(mat.PROBE_METAL, *valves)

    # control panel on the +Z wall, the multipurpose electric furnace on the -Z wall, lights
    boxes = {b.name: b for b in furniture(d)}
    panel = g.box(boxes["dm_control_panel"].size, center=boxes["dm_control_panel"].center)
    knobs = [g.box((0.05, 0.04, 0.02), g.translate(x, y, r_in - 0.125)) for x in (-0.14, -0.05, 0.05, 0.14) for y in (1.4, 1.5, 1.6, 1.7)]
    furnace = g.box(boxes["dm_furnace"].size, center=boxes["dm_furnace"].center)
    interior.add(mat.PANEL_FACE, panel)
    interior.add(mat.PANEL_INSTRUMENTS, *knobs, furnace)
    lights = [g.box((0.1, 0.2, 0.03), g.compose(g.rot_y(az), g.translate(0.0, y, r_in - 0.03))) for az in (90.0, 270.0) for y in (1.1, 2.2)]
    interior.add(mat.CABIN_LIGHT, *lights)
    # stowage containers on the side walls and Slayton's rolled sleeping restraint (beta cloth),
    # with their straps (3 mm proud); the same boxes the crossing collides with (experience/mission/cabins.py)
    cloth, straps = [], []
    for name in ("dm_stowage_left", "dm_stowage_right", "dm_sleep_restraint"):
        bx = boxes[name]
        cloth.append(g.box(bx.size, center=bx.center))
        c, sz = np.array(bx.center), np.array(bx.size)
        for dy in (-0.3, 0.3):
            strap = sz + 0.006
            strap[1] = 0.03
            straps.append(g.box(tuple(strap), center=tuple(c + np.array([0.0, dy * sz[1] * 0.8, 0.0]))))
    interior.add(mat.COUCH_FABRIC, *cloth)
    interior.add(mat.BLACK, *straps)

    # hatches: origin at the hinge (x = -r), discs seated in the tunnel mouths; both open into the module
    root.child(hatch_disc("dm/hatch_apollo", hatch_r, 0.05, 1.0, (-hatch_r, y_bh_a, 0.0)))
    root.child(hatch_disc("dm/hatch_soyuz", hatch_r, 0.05, -1.0, (-hatch_r, y_bh_s, 0.0)))

    unit = apas.build("apas_dm", d, apas_depth)
    unit.translation = (0.0, L, 0.0)
    root.child(unit)
    return root
