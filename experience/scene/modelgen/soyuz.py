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

from experience.mission.cabins import om_cabin, om_furniture, om_handrail_ring, om_handrails, om_side_hatch, om_wall_panel, orbital_module_sphere, sphere_station
from experience.scene.modelgen import apas
from experience.scene.modelgen import geometry as g
from experience.scene.modelgen import materials as mat
from experience.scene.modelgen.apollo import hatch_disc
from experience.scene.modelgen.gltf import Node, quat_axis_angle
from experience.scene.modelgen.params import Dimensions

SEGMENTS = 72


_sphere_station = sphere_station


PORTHOLES = ((-60.0, -0.1), (60.0, 0.25))  # (azimuth deg, height above the sphere's centre m)
PORTHOLE_GLASS_RADIUS_M = 0.1


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
        windows.append(g.extrude(g.disc_outline(PORTHOLE_GLASS_RADIUS_M, 20), 0.03, g.on_surface(p + n * 0.005, n)))
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
    interior.add(mat.HATCH_PAINT, g.cylinder(r_hatch_aft + 0.02, dm_top - 0.04, dm_top, 40))   # the closed hatch to the descent module
    _furnish(d, om, interior)
    hc, hn, hr = om_side_hatch(d)   # the side hatch's frame on the hull, outside
    om_hull.add(mat.BLACK, g.extrude(g.disc_outline(hr + 0.04, 32), 0.015, g.on_surface(hc - hn * wall - hn * 0.002, -hn)))
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


# ------------------------------------------------------------------------------ the orbital module's inside
def _plate(outline, thickness: float, m: np.ndarray) -> g.Mesh:
    """A convex outline (either winding) extruded into a plate (see geometry.extrude)."""
    pts = np.asarray(outline, dtype=float)
    area = np.sum(pts[:, 0] * np.roll(pts[:, 1], -1) - np.roll(pts[:, 0], -1) * pts[:, 1])
    return g.extrude(pts if area > 0 else pts[::-1], thickness, m)


def _axes(ex, ey, ez, origin) -> np.ndarray:
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = ex, ey, ez, origin
    return m


def _ring_on(center, normal, major: float, minor: float, seg: int = 32) -> g.Mesh:
    """A torus lying on a surface: its axis along ``normal``."""
    hint = (0.0, 0.0, 1.0) if abs(float(np.asarray(normal, dtype=float)[1])) > 0.9 else (0.0, 1.0, 0.0)
    return g.torus(major, minor, seg, 6).transformed(g.on_surface(center, normal, hint) @ g.rot_x(90.0))


def _furnish(d: Dimensions, om: Node, interior: Node) -> None:
    """What the orbital module holds, each piece drawn inside its box of
    :func:`experience.mission.cabins.om_furniture` (what the crossing collides with): the divan
    along the -X wall, the cupboard on +X, the folding table, the television camera and its lights,
    the control panel, the side hatch with its rim and latches, the hatch down to the descent
    module with its rim and handle, the portholes' rims, the handrails and the warm cabin lamps."""
    cab = om_cabin(d)
    c = np.array([0.0, cab.center_y, 0.0])
    r_in = cab.r_in
    boxes = {b.name: b for b in om_furniture(d)}

    def lo_hi(name):
        b = boxes[name]
        h = np.array(b.size) / 2
        return np.array(b.center) - h, np.array(b.center) + h

    def wall_y(x: float, z: float, inset: float = 0.0) -> float:
        """Where the inner wall is, aft of the centre, above (x, z)."""
        return float(c[1] + math.sqrt(max((r_in - inset) ** 2 - x * x - z * z, 0.0)))

    # -------------------------------------------------------- the divan: seat and back cushions
    sofa = om.child(Node("soyuz/orbital_module/interior_sofa", extras={"role": "interior", "furniture": "om_sofa_seat om_sofa_back"}))
    (x0, y0, z0), (x1, y1, z1) = lo_hi("om_sofa_seat")
    cushion_t = 0.12
    n_seats = 2
    gap = 0.014
    seg = (z1 - z0 - gap * (n_seats - 1)) / n_seats
    fabric, seams, base = [], [], []
    for k in range(n_seats):
        za = z0 + k * (seg + gap)
        zc = za + seg / 2
        outline = g.rounded_rect_outline(x1 - x0 - 0.01, cushion_t, 0.045, 4)
        fabric.append(g.extrude(outline, seg, g.translate((x0 + x1) / 2 - 0.005, y0 + cushion_t / 2, zc)))
        # piping along the cushion's front edge and tufting buttons on its face
        seams.append(g.cylinder_between((x1 - 0.03, y0 + 0.012, za + 0.02), (x1 - 0.03, y0 + 0.012, za + seg - 0.02), 0.009, 6))
        for bx in (x0 + 0.12, x0 + 0.28):
            for bz in (za + seg * 0.25, za + seg * 0.5, za + seg * 0.75):
                seams.append(g.extrude(g.disc_outline(0.011, 8), 0.006, g.on_surface((bx, y0 + 0.002, bz), (0.0, -1.0, 0.0), (1.0, 0.0, 0.0))))
    # the stowage base under the seat, down to the curved wall: front and end panels
    ytop = y0 + cushion_t
    xf = x1 - 0.012
    front = [(-z, ytop) for z in (z1, z0)] + [(-z, wall_y(xf, z, 0.01)) for z in np.linspace(z0, z1, 9)]
    base.append(_plate(front, 0.02, _axes((0, 0, -1), (0, 1, 0), (1, 0, 0), (xf, 0.0, 0.0))))
    for ze in (z0 + 0.012, z1 - 0.012):
        xs = np.linspace(x0, x1, 7)
        side = [(x1, ytop), (x0, ytop)] + [(x, min(wall_y(x, ze, 0.01), y1)) for x in xs]
        side = [(x, y) for x, y in side if y >= ytop - 1e-9]
        base.append(_plate(side, 0.02, g.translate(0.0, 0.0, ze)))
    # a seam between the cushions and the base, and a stowage lid line on the base's front
    seams.append(g.box((0.006, 0.012, z1 - z0 - 0.04), center=(xf + 0.011, ytop + 0.03, 0.0)))
    (bx0, by0, bz0), (bx1, by1, bz1) = lo_hi("om_sofa_back")
    back_seg = (bz1 - bz0 - gap) / 2
    for k in range(2):
        zc = bz0 + back_seg / 2 + k * (back_seg + gap)
        outline = g.rounded_rect_outline(bx1 - bx0, by1 - by0 - 0.01, 0.04, 4)
        fabric.append(g.extrude(outline, back_seg, g.translate((bx0 + bx1) / 2, (by0 + by1) / 2, zc)))
        for by in np.linspace(by0 + 0.1, by1 - 0.1, 3):
            seams.append(g.extrude(g.disc_outline(0.011, 8), 0.006, g.on_surface((bx1 - 0.002, by, zc), (1.0, 0.0, 0.0))))
    sofa.add(mat.SOYUZ_SOFA, *fabric)
    sofa.add(mat.PANEL_FACE, *seams)
    sofa.add(mat.SOYUZ_SOFA, *base)   # the base upholstered like the cushions: one piece of furniture

    # -------------------------------------------------------- the cupboard on +X: doors, handles, lamps
    cupboard = om.child(Node("soyuz/orbital_module/interior_cabinet", extras={"role": "interior", "furniture": "om_cabinet"}))
    (x0, y0, z0), (x1, y1, z1) = lo_hi("om_cabinet")
    zm = (z0 + z1) / 2
    carcass = [g.box((x1 - x0 - 0.012, y1 - y0, z1 - z0), center=((x0 + x1) / 2 + 0.006, (y0 + y1) / 2, zm))]
    gaps = [g.box((0.004, y1 - y0 - 0.02, z1 - z0 - 0.02), center=(x0 + 0.010, (y0 + y1) / 2, zm))]
    doors, handles, green, amber, keys = [], [], [], [], []
    rows = (0.15, 0.29)    # heights of the rows from the -Y (front) end: a panel row with lamps and switches, a row of doors
    ya = y0 + 0.01
    for i, h in enumerate(rows):
        yb = ya + h - 0.012
        for za, zb in ((z0 + 0.012, zm - 0.006), (zm + 0.006, z1 - 0.012)):
            centre = (x0 + 0.005, (ya + yb) / 2, (za + zb) / 2)
            doors.append(g.box((0.008, yb - ya, zb - za), center=centre))
            if i == 0:   # indicator lamps and switches on the top row
                for j, zz in enumerate(np.linspace(za + 0.04, zb - 0.04, 4)):
                    (green if j % 2 == 0 else amber).append(g.box((0.006, 0.022, 0.022), center=(x0 - 0.001, ya + 0.05, zz)))
                    keys.append(g.cylinder_between((x0, ya + 0.10, zz), (x0 - 0.018, ya + 0.10, zz), 0.006, 6))
            else:
                zh = zb - 0.04 if za < zm else za + 0.04
                handles.append(g.box((0.018, 0.12, 0.016), center=(x0 - 0.008, (ya + yb) / 2, zh)))
        ya += h
    cupboard.add(mat.PANEL_INSTRUMENTS, *carcass)
    cupboard.add(mat.PANEL_FACE, *gaps)
    cupboard.add(mat.SOYUZ_PANEL, *doors)
    cupboard.add(mat.PROBE_METAL, *handles, *keys)
    cupboard.add(mat.INDICATOR_GREEN, *green)
    cupboard.add(mat.SOYUZ_LAMP, *amber)

    # -------------------------------------------------------- the folding table on its post
    table = om.child(Node("soyuz/orbital_module/interior_table", extras={"role": "interior", "furniture": "om_table om_table_post"}))
    (x0, y0, z0), (x1, y1, z1) = lo_hi("om_table")
    up = np.array([0.0, -1.0, 0.0])
    top_f = g.on_surface(((x0 + x1) / 2, y1 - 0.012, (z0 + z1) / 2), up, (0.0, 0.0, 1.0))
    top = [g.extrude(g.rounded_rect_outline(x1 - x0, z1 - z0, 0.04, 4), 0.024, top_f)]
    rim = [g.box((x1 - x0 - 0.02, 0.014, 0.012), center=((x0 + x1) / 2, y0 + 0.008, z)) for z in (z0 + 0.01, z1 - 0.01)]
    rim += [g.box((0.012, 0.014, z1 - z0 - 0.02), center=(x, y0 + 0.008, (z0 + z1) / 2)) for x in (x0 + 0.01, x1 - 0.01)]
    holders = [g.extrude(g.disc_outline(0.045, 16), 0.004, g.on_surface((x, y1 - 0.026, (z0 + z1) / 2), up, (0.0, 0.0, 1.0))) for x in (-0.13, 0.0, 0.13)]
    (px0, py0, pz0), (px1, py1, pz1) = lo_hi("om_table_post")
    pc = ((px0 + px1) / 2, 0.0, (pz0 + pz1) / 2)
    post = [g.cylinder_between((pc[0], py0, pc[2]), (pc[0], py1 - 0.01, pc[2]), 0.022, 10),
            g.cylinder_between((pc[0], py1 - 0.05, pc[2]), (pc[0], py1, pc[2]), 0.03, 10)]
    table.add(mat.PANEL_INSTRUMENTS, *top)
    table.add(mat.SOYUZ_PANEL, *rim, *post)
    table.add(mat.BLACK, *holders)

    # -------------------------------------------------------- the television camera and its lights
    tv = om.child(Node("soyuz/orbital_module/interior_tv_camera", extras={"role": "interior", "furniture": "om_tv_camera"}))
    (x0, y0, z0), (x1, y1, z1) = lo_hi("om_tv_camera")
    lens_l = 0.07
    yc, zc = (y0 + y1) / 2, (z0 + z1) / 2
    body = [g.box((x1 - x0 - lens_l, y1 - y0, z1 - z0 - 0.02), center=((x0 + lens_l + x1) / 2, yc, zc))]
    lens = [g.cylinder_between((x0 + lens_l, yc, zc), (x0 + 0.01, yc, zc), 0.038, 14),
            g.cylinder_between((x0 + 0.012, yc, zc), (x0, yc, zc), 0.045, 14)]
    body_c = np.array([(x0 + lens_l + x1) / 2, yc, zc])
    out = (body_c - c) / np.linalg.norm(body_c - c)
    bracket = [g.cylinder_between(body_c, c + out * (r_in - 0.01), 0.015, 8)]
    lights = []
    for v in ((0.55, -0.75, 0.08), (0.30, -0.55, 0.72)):
        n = np.array(v) / np.linalg.norm(v)
        f = g.on_surface(c + n * (r_in - 0.018), -n)
        lights.append(g.extrude(g.rounded_rect_outline(0.11, 0.08, 0.015, 3), 0.012, f))
    tv.add(mat.PANEL_INSTRUMENTS, *body)
    tv.add(mat.BLACK, *lens)
    interior.add(mat.BLACK, *bracket)          # its mount and its lights are on the wall
    interior.add(mat.SOYUZ_LAMP, *lights)

    # -------------------------------------------------------- on the walls
    parts: dict = {}

    def put(material, *meshes):
        parts.setdefault(material, []).extend(meshes)

    ring_r, ring_y = om_handrail_ring(d)
    put(mat.HANDRAIL, g.torus(ring_r, 0.014, 48, 6).transformed(g.translate(0.0, ring_y, 0.0)))
    for a, b in om_handrails(d):
        put(mat.HANDRAIL, g.cylinder_between(a, b, 0.013, 8))
        for p in (a, b):   # stand-offs to the wall
            n = (p - c) / np.linalg.norm(p - c)
            put(mat.HANDRAIL, g.cylinder_between(p, c + n * (r_in - 0.005), 0.009, 6))
    # the hatch down to the descent module (closed; seen, not entered): its rim, handle and wheel
    y_aft = cab.y_aft
    r_aft = cab.r_hatch_aft
    put(mat.PROBE_METAL, _ring_on((0.0, y_aft + 0.01, 0.0), (0.0, -1.0, 0.0), r_aft + 0.012, 0.02, 40))
    face_y = sphere_station(cab.center_y, r_in + d.dim("soyuz", "wall_thickness_m"), r_aft + 0.15, front=False) + 0.025
    put(mat.PROBE_METAL,
        _ring_on((0.0, face_y - 0.025, 0.0), (0.0, -1.0, 0.0), 0.09, 0.009, 20),
        g.box((0.36, 0.018, 0.024), center=(0.0, face_y - 0.045, -0.16)),
        *(g.cylinder_between((x, face_y, -0.16), (x, face_y - 0.045, -0.16), 0.009, 6) for x in (-0.16, 0.16)))
    put(mat.BLACK, g.extrude(g.disc_outline(0.025, 12), 0.02, g.on_surface((0.16, face_y - 0.01, 0.12), (0.0, -1.0, 0.0), (0.0, 0.0, 1.0))))
    # the side hatch (the crew's way in on the pad): its lining and cover inside, rim and latches,
    # a handle and the latch wheel
    hc, hn, hr = om_side_hatch(d)
    put(mat.HATCH_PAINT, g.extrude(g.disc_outline(hr, 32), 0.025, g.on_surface(hc + hn * 0.004, hn)))
    handle_f = g.on_surface(hc + hn * 0.029, hn)
    put(mat.PROBE_METAL,
        g.box((0.3, 0.025, 0.018), handle_f @ g.translate(0.0, -0.18, 0.009)),
        g.torus(0.09, 0.008, 20, 6).transformed(handle_f @ g.rot_x(90.0) @ g.translate(0.0, 0.008, 0.0)),
        _ring_on(hc + hn * 0.02, hn, hr + 0.012, 0.018, 40))
    rim_f = g.on_surface(hc + hn * 0.03, hn)
    for k in range(8):
        a = 2 * math.pi * (k + 0.5) / 8
        put(mat.PROBE_METAL, g.box((0.05, 0.03, 0.016), rim_f @ g.translate(math.cos(a) * (hr - 0.02), math.sin(a) * (hr - 0.02), 0.0) @ g.rot_z(math.degrees(a))))
    # the portholes: glass and a rim, inside
    for p, n in porthole_frames(d):
        p = p - n * d.dim("soyuz", "wall_thickness_m")
        put(mat.WINDOW, g.extrude(g.disc_outline(PORTHOLE_GLASS_RADIUS_M, 20), 0.01, g.on_surface(p - n * 0.006, -n)))
        put(mat.PROBE_METAL, _ring_on(p - n * 0.012, -n, 0.115, 0.014, 24))
    # the control panel above the divan's -Z end: its face in a light bezel, dials, keys, lamps
    pc, pn = om_wall_panel(d)
    pf = g.on_surface(pc, pn)
    put(mat.SOYUZ_PANEL, g.box((0.52, 0.38, 0.016), pf @ g.translate(0.0, 0.0, -0.006)))
    put(mat.PANEL_FACE, g.box((0.46, 0.32, 0.024), pf))
    put(mat.DIAL_FACE, *(g.extrude(g.disc_outline(0.035, 16), 0.008, pf @ g.translate(x, 0.07, 0.012)) for x in (-0.15, -0.05, 0.05, 0.15)))
    put(mat.PANEL_INSTRUMENTS, *(g.box((0.035, 0.03, 0.012), pf @ g.translate(x, y, 0.016)) for x in (-0.16, -0.08, 0.0, 0.08, 0.16) for y in (-0.06, -0.11)))
    put(mat.INDICATOR_GREEN, *(g.box((0.018, 0.018, 0.006), pf @ g.translate(x, 0.135, 0.013)) for x in (-0.18, -0.12, -0.06)))
    put(mat.SOYUZ_LAMP, *(g.box((0.018, 0.018, 0.006), pf @ g.translate(x, 0.135, 0.013)) for x in (0.06, 0.12, 0.18)))
    # the warm cabin lamps: a frame and a glowing face, on the upper (front) and lower walls
    for v in ((0.0, 0.6, 0.8), (0.0, 0.6, -0.8), (0.45, -0.55, -0.70), (-0.55, -0.55, 0.62)):
        n = np.array(v) / np.linalg.norm(v)
        f = g.on_surface(c + n * (r_in - 0.012), -n)
        put(mat.SOYUZ_PANEL, g.extrude(g.rounded_rect_outline(0.2, 0.13, 0.02, 3), 0.012, f))
        put(mat.SOYUZ_LAMP, g.extrude(g.rounded_rect_outline(0.16, 0.09, 0.015, 3), 0.012, f @ g.translate(0.0, 0.0, 0.006)))
    for material, meshes in parts.items():
        interior.add(material, *meshes)
