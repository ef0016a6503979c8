"""Soyuz 7K-TM (Soyuz 19): APAS-75, spherical orbital module, bell-shaped descent module,
instrument module with two solar arrays.

Frame: +Y is the axis from the docking port towards the instrument module (the stack axis when
docked to the Docking Module, so the stack needs no rotation); the port faces -Y. The origin is
the centre of the APAS-75 interface plane; the aft end of the instrument module is at y = 7.48.
The solar arrays lie along +-X with their cells facing +Z.
"""

from __future__ import annotations

import math

import numpy as np

from experience.mission.cabins import furniture, om_handrail_ring, om_side_hatch, om_wall_panel, orbital_module_sphere, sphere_station
from experience.scene.modelgen import apas
from experience.scene.modelgen import geometry as g
from experience.scene.modelgen import materials as mat
from experience.scene.modelgen.apollo import hatch_disc
from experience.scene.modelgen.gltf import Node, quat_axis_angle
from experience.scene.modelgen.params import Dimensions

SEGMENTS = 72


_sphere_station = sphere_station


PORTHOLES = ((-60.0, -0.1), (60.0, 0.25))  # (azimuth deg, height above the sphere's centre m)


def porthole_frames(d: Dimensions) -> list[tuple[np.ndarray, np.ndarray]]:
    """(centre on the outer hull, outward unit normal) of each orbital-module porthole, Soyuz
    model frame: what the model draws and where the porthole camera looks out."""
    om_c, r_om = orbital_module_sphere(d)
    out = []
    for az, dy in PORTHOLES:
        s = dy / r_om
        n = g.azimuth_dir(az) * math.cos(math.asin(s)) + np.array([0.0, s, 0.0])
        out.append((np.array([0.0, om_c, 0.0]) + n * r_om, n))
    return out


def build(d: Dimensions) -> Node:
    length = d.fact("soyuz", "length_m")
    r_max = d.fact("soyuz", "max_diameter_m") / 2
    span = d.fact("soyuz", "solar_array_span_m")
    area = d.fact("soyuz", "solar_array_area_m2")
    r_dm = d.fact("soyuz", "habitable_module_diameter_m") / 2
    rt = d.fact("apas75", "transfer_tunnel_diameter_m") / 2
    r_om = d.dim("soyuz", "orbital_module_diameter_m") / 2
    depth = d.dim("soyuz", "apas_base_depth_m")
    body_r = d.dim("apas75", "body_radius_m")
    wall = d.dim("soyuz", "wall_thickness_m")
    r_hatch_aft = d.dim("soyuz", "descent_hatch_diameter_m") / 2

    root = Node("soyuz", extras={"vehicle": "soyuz", "frame": "+Y from the docking port aft; port faces -Y; origin at the APAS-75 interface plane"})
    root.child(
        Node("soyuz/docking_interface", rotation=quat_axis_angle((1, 0, 0), 180.0), extras={"role": "docking_interface", "port": "apas75"})
    )
    unit = apas.build("apas_soyuz", d, depth)
    unit.rotation = quat_axis_angle((1, 0, 0), 180.0)
    root.child(unit)

    # ------------------------------------------------------------------ orbital module
    om_c, _ = orbital_module_sphere(d)
    r_neck = r_hatch_aft + 0.15
    om_aft = _sphere_station(om_c, r_om, r_neck, front=False)
    dm_top = om_aft + 0.065
    a0 = math.degrees(math.asin((depth - om_c) / r_om))
    a1 = math.degrees(math.asin((om_aft - om_c) / r_om))
    om = root.child(Node("soyuz/orbital_module", extras={"module": "orbital"}))
    om_hull = om.child(Node("soyuz/orbital_module/hull"))
    om_hull.add(mat.SOYUZ_BLANKET, g.lathe([g.arc(0.0, om_c, r_om, a0, a1, 40)], SEGMENTS))
    om_hull.add(mat.SOYUZ_BLANKET, g.lathe(g.polyline((r_neck, om_aft), (r_neck, dm_top)), SEGMENTS))
    details = []
    windows = []
    for p, n in porthole_frames(d):
        windows.append(g.extrude(g.disc_outline(0.1, 20), 0.03, g.on_surface(p + n * 0.005, n)))
        details.append(g.extrude(g.disc_outline(0.14, 20), 0.02, g.on_surface(p, n)))
    # docking target for the partner's optical sight, on the -Z side, and whip antennas
    tgt_n = g.azimuth_dir(180.0)
    tgt_p = np.array([0.0, om_c - 0.2, 0.0]) + tgt_n * math.sqrt(r_om**2 - 0.04)
    target = om.child(Node("soyuz/docking_target", extras={"role": "docking_target"}))
    target.add(
        mat.BLACK,
        g.extrude(g.disc_outline(0.16, 24), 0.015, g.on_surface(tgt_p, tgt_n)),
        g.cylinder_between(tgt_p, tgt_p + tgt_n * 0.3, 0.012, 6),
    )
    target.add(
        mat.ANTENNA_WHITE,
        g.box((0.2, 0.02, 0.02), g.on_surface(tgt_p + tgt_n * 0.3, tgt_n)),
        g.box((0.02, 0.2, 0.02), g.on_surface(tgt_p + tgt_n * 0.3, tgt_n)),
    )
    om_hull.add(mat.WINDOW, *windows)
    om_hull.add(mat.BLACK, *details)

    # inside: the sphere seen from within, the tunnel to the APAS, the hatch to the descent module
    r_in = r_om - wall
    y_in_front = _sphere_station(om_c, r_in, rt, front=True)
    y_in_aft = _sphere_station(om_c, r_in, r_hatch_aft, front=False)
    b_front = math.degrees(math.asin((y_in_front - om_c) / r_in))
    b_aft = math.degrees(math.asin((y_in_aft - om_c) / r_in))
    interior = om.child(Node("soyuz/orbital_module/interior", extras={"role": "interior"}))
    interior.add(
        mat.SOYUZ_CABIN,
        g.lathe([g.arc(0.0, om_c, r_in, b_aft, b_front, 40)], SEGMENTS),
        g.lathe([g.line((r_hatch_aft, dm_top - 0.04), (r_hatch_aft, y_in_aft))], 40),
    )
    cab = []
    # a cabinet on +X, the bench ("sofa") with lockers on -X, a folding table, a ring of handrail
    for name in ("om_cabinet", "om_bench", "om_table"):
        bx = next(b for b in furniture(d) if b.name == name)
        cab.append(g.box(bx.size, center=bx.center))
    cab.append(g.cylinder_between((0.0, om_c + 0.58, -0.3), (0.0, om_c + 0.85, -0.3), 0.02, 8))
    interior.add(mat.PANEL_INSTRUMENTS, *cab)
    ring_r, ring_y = om_handrail_ring(d)
    interior.add(mat.HANDRAIL, g.torus(ring_r, 0.014, 48, 6).transformed(g.translate(0.0, ring_y, 0.0)))
    interior.add(mat.HATCH_PAINT, g.cylinder(r_hatch_aft + 0.02, dm_top - 0.04, dm_top, 40))
    inner_windows = []
    for p, n in porthole_frames(d):
        p = p - n * wall
        inner_windows.append(g.extrude(g.disc_outline(0.1, 20), 0.01, g.on_surface(p - n * 0.006, -n)))
    interior.add(mat.WINDOW, *inner_windows)
    # the side hatch (the crew's way in on the pad): its lining and cover inside, a handle and
    # the latch wheel; outside, its frame on the hull
    hc, hn, hr = om_side_hatch(d)
    inner_hatch = g.on_surface(hc + hn * 0.004, hn)
    interior.add(mat.HATCH_PAINT, g.extrude(g.disc_outline(hr, 32), 0.025, inner_hatch))
    handle_f = g.on_surface(hc + hn * 0.029, hn)
    hatch_parts = [g.box((0.3, 0.025, 0.018), handle_f @ g.translate(0.0, -0.18, 0.009)),
                   g.torus(0.09, 0.008, 20, 6).transformed(handle_f @ g.rot_x(90.0) @ g.translate(0.0, 0.008, 0.0))]
    interior.add(mat.PROBE_METAL, *hatch_parts)
    out_c = hc - hn * wall
    om_hull.add(mat.BLACK, g.extrude(g.disc_outline(hr + 0.04, 32), 0.015, g.on_surface(out_c - hn * 0.002, -hn)))
    # a control panel on the wall above the bench, with its dials and switches
    pc, pn = om_wall_panel(d)
    pf = g.on_surface(pc, pn)
    interior.add(mat.PANEL_FACE, g.box((0.46, 0.32, 0.024), pf))
    dials = [g.extrude(g.disc_outline(0.035, 16), 0.008, pf @ g.translate(x, 0.07, 0.012)) for x in (-0.15, -0.05, 0.05, 0.15)]
    keys = [g.box((0.035, 0.03, 0.012), pf @ g.translate(x, y, 0.016)) for x in (-0.16, -0.08, 0.0, 0.08, 0.16) for y in (-0.06, -0.11)]
    interior.add(mat.DIAL_FACE, *dials)
    interior.add(mat.PANEL_INSTRUMENTS, *keys)
    interior.add(mat.CABIN_LIGHT, *(g.box((0.12, 0.12, 0.03), g.on_surface(np.array([0, om_c, 0]) + n * (r_in - 0.02), -n)) for n in (np.array([0.0, 0.6, 0.8]), np.array([0.0, 0.6, -0.8]))))
    tunnel = root.child(Node("soyuz/tunnel", extras={"role": "interior", "diameter_m": 2 * rt}))
    tunnel.add(mat.SOYUZ_CABIN, g.lathe([g.line((rt, y_in_front), (rt, 0.0))], 48))
    hatch_r = d.dim("docking_module", "hatch_diameter_m") / 2
    root.child(hatch_disc("soyuz/hatch_dm", hatch_r, 0.05, 1.0, (-hatch_r, y_in_front, 0.0)))

    # ------------------------------------------------------------------ descent module
    dm_len = d.dim("soyuz", "descent_module_length_m")
    nose_R = d.dim("soyuz", "descent_module_nose_radius_m")
    dm_base = dm_top + dm_len
    cy = dm_top + math.sqrt(nose_R**2 - r_neck**2)
    k_side = d.dim("soyuz", "descent_module_side_flare")  # dr/dy of the side wall
    phi = math.atan(1.0 / k_side)
    b0 = -math.degrees(math.acos(r_neck / nose_R))
    b1 = -(90.0 - math.degrees(phi))
    dome = g.arc(0.0, cy, nose_R, b0, b1, 16)
    shoulder_y = dm_base - 0.16
    side = g.line(dome[-1], (dome[-1][0] + k_side * (shoulder_y - dome[-1][1]), shoulder_y), 6)
    sc = (r_dm - 0.08, dm_base - 0.08)
    ang0 = math.degrees(math.atan2(side[-1][1] - sc[1], side[-1][0] - sc[0]))
    shoulder = g.arc(sc[0], sc[1], 0.08, ang0, 80.0, 8)
    descent = root.child(Node("soyuz/descent_module", extras={"module": "descent"}))
    dhull = descent.child(Node("soyuz/descent_module/hull"))
    dhull.add(mat.SOYUZ_BLANKET, g.lathe([np.concatenate([dome, side[1:], shoulder[1:]])], SEGMENTS))
    dhull.add(mat.SOYUZ_HEAT_SHIELD, g.lathe([g.line(shoulder[-1], (0.0, dm_base + 0.02), 3)], SEGMENTS))
    dwin, dframe = [], []
    for az in (-75.0, 75.0):
        y = dome[-1][1] + 0.35
        r = dome[-1][0] + k_side * 0.35
        n = g.azimuth_dir(az)
        dwin.append(g.extrude(g.disc_outline(0.1, 20), 0.03, g.on_surface(n * (r + 0.005) + [0, y, 0], n)))
        dframe.append(g.extrude(g.disc_outline(0.14, 20), 0.02, g.on_surface(n * r + [0, y, 0], n)))
    # periscope (VSK) hood on +Z
    y = dome[-1][1] + 0.6
    r = dome[-1][0] + k_side * 0.6
    dframe.append(g.box((0.16, 0.3, 0.14), center=(0.0, y, r + 0.04)))
    dhull.add(mat.WINDOW, *dwin)
    dhull.add(mat.BLACK, *dframe)

    # ------------------------------------------------------------------ instrument module
    im_front = dm_base - 0.06
    r_fwd = d.dim("soyuz", "instrument_module_forward_diameter_m") / 2
    f0 = d.dim("soyuz", "instrument_module_flare_start_m")
    f1 = d.dim("soyuz", "instrument_module_flare_end_m")
    im = root.child(Node("soyuz/instrument_module", extras={"module": "instrument"}))
    ihull = im.child(Node("soyuz/instrument_module/hull"))
    # light insulation and radiators, with dark seams cut into the profile (no overlapping skins)
    s1, s2, s3 = im_front + 0.2, f1 + 0.05, length - 0.12
    w = 0.035
    light = g.polyline((r_fwd - 0.1, im_front), (r_fwd, im_front), (r_fwd, s1))
    light += g.polyline((r_fwd, s1 + w), (r_fwd, f0), (r_max, f1), (r_max, s2))
    light += g.polyline((r_max, s2 + w), (r_max, s3))
    light += g.polyline((r_max, s3 + w), (r_max, length))
    ihull.add(mat.SOYUZ_RADIATOR, g.lathe(light, SEGMENTS))
    aft = length - 0.1
    ihull.add(mat.GOLD_FOIL, g.lathe(g.polyline((r_max, length), (r_max - 0.05, length), (r_max - 0.05, aft), (0.0, aft)), SEGMENTS))
    seams = [g.lathe([g.line((r_fwd, s1), (r_fwd, s1 + w))], SEGMENTS)]
    seams += [g.lathe([g.line((r_max, y), (r_max, y + w))], SEGMENTS) for y in (s2, s3)]
    ihull.add(mat.BLACK, *seams)
    # main and backup engine (SKDU) nozzle, opening aft (+Y) inside the skirt
    tt = np.linspace(0.0, 1.0, 9)
    bell_run = np.stack([0.05 + 0.11 * tt**0.6, aft - 0.02 + 0.11 * tt], axis=1)
    bell = g.lathe([bell_run], 24)
    engines = [bell, bell.flipped()]
    for k in range(4):  # attitude-control thruster blocks near the aft rim
        dvec = g.azimuth_dir(45.0 + 90.0 * k)
        c = dvec * (r_max - 0.25) + np.array([0.0, aft, 0.0])
        engines.append(g.cone_between(c, c + np.array([0.0, 0.07, 0.0]), 0.025, 0.05, 10))
    ihull.add(mat.NOZZLE, *engines)

    antennas = root.child(Node("soyuz/antennas", extras={"role": "antenna"}))
    rods = []
    for az, y0, tilt in ((135.0, om_c - 0.55, 1.0), (-135.0, om_c - 0.55, 1.0), (0.0, length - 0.4, -1.0), (180.0, length - 0.4, -1.0)):
        dvec = g.azimuth_dir(az)
        r0 = math.sqrt(max(r_om**2 - (y0 - om_c) ** 2, 0.0)) if y0 < dm_top else r_max
        p0 = dvec * r0 + np.array([0.0, y0, 0.0])
        p1 = p0 + dvec * 0.35 + np.array([0.0, -0.75 * tilt, 0.0])
        rods.append(g.cylinder_between(p0, p0 + dvec * 0.04, 0.025, 8))
        rods.append(g.cylinder_between(p0, p1, 0.008, 6))
    antennas.add(mat.BLACK, *rods)

    # ------------------------------------------------------------------ solar arrays
    boom = d.dim("soyuz", "solar_array_boom_m")
    y_sa = d.dim("soyuz", "solar_array_center_station_m")
    panel_len = span / 2 - r_max - boom
    panel_w = area / (2 * panel_len)
    if y_sa + panel_w / 2 > length or y_sa - panel_w / 2 < f0:
        raise ValueError("Soyuz solar arrays do not fit along the instrument module; check geometry.toml")
    for k, sx in enumerate((1.0, -1.0)):
        wing = Node(
            f"soyuz/solar_array_{k}",
            translation=(float(sx * r_max), float(y_sa), 0.0),
            rotation=(0.0, 0.0, 0.0, 1.0) if sx > 0 else quat_axis_angle((0, 0, 1), 180.0),
            extras={"role": "solar_array", "root": "node origin; panel along local +X, cells facing local +Z"},
        )
        x0, x1 = boom, boom + panel_len
        t = 0.012
        cells_front = g.box((panel_len, panel_w, 0.002), center=((x0 + x1) / 2, 0.0, t / 2))
        back = g.box((panel_len, panel_w, t), center=((x0 + x1) / 2, 0.0, 0.0))
        frames = [
            g.box((0.03, panel_w, t + 0.012), center=(x, 0.0, 0.0)) for x in np.linspace(x0 + 0.015, x1 - 0.015, 5)
        ]  # frames stay inside the panel outline, so the span is the panels' span
        frames += [g.box((panel_len, 0.03, t + 0.012), center=((x0 + x1) / 2, y, 0.0)) for y in (-panel_w / 2 + 0.015, panel_w / 2 - 0.015)]
        frames.append(g.box((0.02, panel_w * 0.96, t + 0.008), center=(x0 + panel_len * 0.125, 0.0, 0.0)))
        rootbox = [g.cylinder_between((0.0, 0.0, 0.0), (x0, 0.0, 0.0), 0.04, 10), g.box((0.12, 0.3, 0.08), center=(0.03, 0.0, 0.0))]
        wing.add(mat.SOLAR_CELLS, cells_front)
        wing.add(mat.SOLAR_BACK, back)
        wing.add(mat.SOLAR_FRAME, *frames, *rootbox)
        root.child(wing)
    return root
