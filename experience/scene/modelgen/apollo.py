"""Apollo CSM (ASTP, CSM-111): command module with cabin, service module.

Frame: +Y is the longitudinal axis, out of the docking port (SM -> CM apex). The origin is the
centre of the CM docking-ring face, the docking interface. +Z is the side hatch side (Apollo +Z,
where the crew's heads point); +X is to the crew's right. The CM base (lowest point of the heat
shield) is at y = -3.23 and the SPS nozzle exit at y = -3.23 - 6.88.
"""

from __future__ import annotations

import math

import numpy as np

from experience.scene.modelgen import geometry as g
from experience.scene.modelgen import materials as mat
from experience.scene.modelgen.gltf import Node, quat_from_matrix
from experience.mission.cabins import CMCabin, furniture
from experience.scene.modelgen.params import Dimensions

HULL_SEGMENTS = 96
SMALL = 12


class CMShape(CMCabin):
    """The CM outline (experience/mission/cabins.CMCabin, shared with the crossing's collision
    volumes) with the frames and profiles the model is drawn with."""

    def surface_frame(self, az_deg: float, h: float, out: float = 0.0, tilt_deg: float = 0.0) -> np.ndarray:
        """A plate frame on the cone at (azimuth, height), local +Z along the outward normal
        (optionally tilted further towards +Y), local +Y up the slant; y is base-relative."""
        d = g.azimuth_dir(az_deg)
        n_ang = self.delta + math.radians(tilt_deg)
        normal = d * math.cos(n_ang) + np.array([0.0, math.sin(n_ang), 0.0])
        up = -d * math.sin(n_ang) + np.array([0.0, math.cos(n_ang), 0.0])
        p = d * self.outer_r(h) + np.array([0.0, h, 0.0]) + normal * out
        return g.on_surface(p, normal, up)

    def inner_frame(self, az_deg: float, h: float, inset: float = 0.0) -> np.ndarray:
        """A plate frame on the cabin wall facing into the cabin (local +Z towards the axis)."""
        d = g.azimuth_dir(az_deg)
        normal = -(d * math.cos(self.delta) + np.array([0.0, math.sin(self.delta), 0.0]))
        up = -d * math.sin(self.delta) + np.array([0.0, math.cos(self.delta), 0.0])
        p = d * self.inner_r(h) + np.array([0.0, h, 0.0]) + normal * inset
        return g.on_surface(p, normal, up)

    def outer_profile(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """(heat-shield runs, skin runs) of the outer surface, base at h = 0."""
        cap = g.arc(0.0, self.Rh, self.Rh, -90.0, self.alpha, 24)
        shoulder_low = g.arc(self.sc_r, self.sc_h, self.rs, self.alpha, 0.0, 8)
        shoulder_up = g.arc(self.sc_r, self.sc_h, self.rs, 0.0, self.d_deg, 6)
        cone = g.line((self.t_r, self.t_h), (self.r_top, self.cone_top_h), 6)
        skin = [
            np.concatenate([shoulder_up, cone[1:]]),
            *g.polyline(
                (self.r_top, self.cone_top_h),
                (self.r_tunnel_out, self.deck_h),
                (self.r_tunnel_out, self.H - self.ring_h),
                (self.r_ring, self.H - self.ring_h),
                (self.r_ring, self.H),
                (self.r_tunnel, self.H),
            ),
        ]
        return [np.concatenate([cap, shoulder_low[1:]])], skin

    def cabin_profile(self) -> list[np.ndarray]:
        """Inner skin of the cabin (normals into the cabin): ceiling, wall, fillet, floor."""
        wall_bottom_h = self.wall_bottom_h
        fillet_r = self.inner_r(wall_bottom_h) - 0.05
        return [
            g.line((self.r_tunnel, self.ceiling_h), (self.ceiling_r, self.ceiling_h)),
            g.line((self.ceiling_r, self.ceiling_h), (self.inner_r(wall_bottom_h), wall_bottom_h), 4),
            np.array([(self.inner_r(wall_bottom_h), wall_bottom_h), (fillet_r, self.floor + 0.02), (fillet_r - 0.06, self.floor)]),
            g.line((fillet_r - 0.06, self.floor), (0.0, self.floor)),
        ]


def _couch(width: float, back_height: float) -> tuple[list[g.Mesh], list[g.Mesh]]:
    """One crew couch in its own frame: hip point at the origin, head towards +Z, lying face up
    (+Y); the floor is at y = -back_height. Returns (fabric meshes, frame meshes)."""
    fabric, frame = [], []
    t = 0.08
    fabric.append(g.box((width, t, 0.78), center=(0.0, 0.0, 0.41)))  # back pan
    fabric.append(g.box((width * 0.6, 0.07, 0.2), center=(0.0, 0.05, 0.92)))  # head rest
    thigh = g.compose(g.rot_x(40.0), g.translate(0.0, 0.0, -0.23))
    fabric.append(g.box((width, t, 0.46), thigh))
    knee = thigh @ np.array([0.0, 0.0, -0.23, 1.0])
    leg = g.compose(g.translate(*knee[:3]), g.rot_x(-12.0), g.translate(0.0, 0.0, -0.22))
    fabric.append(g.box((width * 0.9, t, 0.44), leg))
    # side rails and two struts to the floor
    for sx in (-1, 1):
        frame.append(g.box((0.03, 0.05, 0.95), center=(sx * (width / 2 + 0.015), -0.03, 0.42)))
        frame.append(g.cylinder_between((sx * width * 0.35, -0.04, 0.55), (sx * width * 0.4, -back_height, 0.75), 0.025, 8))
        frame.append(g.cylinder_between((sx * width * 0.35, -0.04, 0.05), (sx * width * 0.4, -back_height, -0.25), 0.025, 8))
    return fabric, frame


def hatch_disc(name: str, radius: float, thickness: float, opens_toward: float, translation, inside_details: bool = True) -> Node:
    """A round hatch whose node origin is its hinge, seated across the vehicle's axis.

    Node frame: the hinge axis is local +Y; the disc lies in the node's local XY plane, between
    z = 0 and z = +thickness, centred at x = +radius. Turning the node by a positive angle
    about its local +Y swings the hatch towards local -Z, the side with the handle, the
    pressure-equalisation valve and the window: into the module it opens into, which lies towards
    vehicle +Y (``opens_toward = +1``) or -Y (``-1``). In Panda3D (after panda3d-gltf's Y-up to
    Z-up conversion glTF local +Y is Panda local +Z) that is ``hatch.setH(hatch, angle)``."""
    # built first in a "seat" frame (hinge along Z, disc in XZ, inner face +Y), then re-expressed
    # with the hinge along the node's +Y
    seat_to_node = g.rot_x(-90.0)
    seat = g.identity() if opens_toward > 0 else g.rot_x(180.0)
    node = Node(
        name,
        translation=translation,
        rotation=quat_from_matrix(seat @ g.rot_x(90.0)),
        extras={"role": "hatch", "hinge_axis": "local +Y", "opens": "positive angle about local +Y"},
    )
    place = g.compose(g.translate(radius, -thickness / 2, 0.0), g.rot_x(-90.0))
    disc = g.extrude(g.disc_outline(radius, 40), thickness, place)
    details = [g.cylinder_between((0.0, -thickness / 2, -0.09), (0.0, -thickness / 2, 0.09), 0.025, 10)]  # hinge pin
    if inside_details:
        # handle (a bar on two posts) and the pressure-equalisation valve with its T-handle
        for dz in (-0.12, 0.12):
            details.append(g.cylinder_between((radius + 0.18, 0.0, dz), (radius + 0.18, 0.06, dz), 0.012, 8))
        details.append(g.cylinder_between((radius + 0.18, 0.06, -0.14), (radius + 0.18, 0.06, 0.14), 0.015, 8))
        details.append(g.cylinder_between((radius - 0.12, 0.0, 0.16), (radius - 0.12, 0.07, 0.16), 0.035, 12))
        details.append(g.box((0.12, 0.015, 0.02), center=(radius - 0.12, 0.08, 0.16)))
    window = g.extrude(g.disc_outline(0.06, 20), thickness + 0.006, g.compose(g.translate(radius - 0.1, -thickness / 2, -0.16), g.rot_x(-90.0)))
    node.add(mat.HATCH_PAINT, disc.transformed(seat_to_node))
    node.add(mat.PROBE_METAL, *(m.transformed(seat_to_node) for m in details))
    node.add(mat.WINDOW, window.transformed(seat_to_node))
    return node


def _window_spots(d: Dimensions) -> list[tuple[float, float, float, float, float]]:
    """(azimuth deg, base-relative height m, width m, height m, tilt deg) of the four square windows."""
    sw = d.dim("apollo_cm", "side_window_size_m")
    rw, rh = d.dim("apollo_cm", "rendezvous_window_width_m"), d.dim("apollo_cm", "rendezvous_window_height_m")
    return [(-62.0, 1.30, sw, sw, 0.0), (62.0, 1.30, sw, sw, 0.0), (-24.0, 2.20, rw, rh, 25.0), (24.0, 2.20, rw, rh, 25.0)]


def _hatch_window_frame(cm: CMShape, d: Dimensions) -> np.ndarray:
    """The round hatch window's plate frame (base-relative; local +Z outwards)."""
    hatch_frame = cm.surface_frame(0.0, d.dim("apollo_cm", "side_hatch_center_height_m"), out=0.012)
    return hatch_frame @ g.translate(0, 0.12, 0.012)


def cm_window_frames(d: Dimensions) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """(centre of the glass on the outer hull, outward unit normal, glass area m^2) of the CM's
    five windows (two side, two rendezvous, the hatch window) in the vehicle (= stack) frame: the
    frames :func:`build` draws them with; the scene lets sunlight in through them."""
    cm = CMShape(d)
    to_vehicle = g.translate(0.0, -cm.H, 0.0)
    out = []
    for az, h, w, hgt, tilt in _window_spots(d):
        f = to_vehicle @ cm.surface_frame(az, h, out=0.006, tilt_deg=tilt)
        out.append((f[:3, 3].copy(), f[:3, 2].copy(), w * hgt))
    f = to_vehicle @ _hatch_window_frame(cm, d)
    out.append((f[:3, 3].copy(), f[:3, 2].copy(), math.pi * (d.dim("apollo_cm", "hatch_window_diameter_m") / 2) ** 2))
    return out


def build(d: Dimensions) -> Node:
    cm = CMShape(d)
    H = cm.H
    base_y = -H  # the CM base in the vehicle frame
    to_vehicle = g.translate(0.0, base_y, 0.0)

    root = Node("apollo_csm", extras={"vehicle": "apollo_csm", "frame": "+Y out of the docking port; origin at the docking-ring face"})
    root.child(Node("csm/docking_interface", extras={"role": "docking_interface", "port": "probe"}))

    # ------------------------------------------------------------------ command module
    cm_node = root.child(Node("csm/cm"))
    hull = cm_node.child(Node("csm/cm/hull"))
    shield_runs, skin_runs = cm.outer_profile()
    hull.add(mat.HEAT_SHIELD, g.lathe(shield_runs, HULL_SEGMENTS).transformed(to_vehicle))
    hull.add(mat.CM_SKIN, g.lathe(skin_runs, HULL_SEGMENTS).transformed(to_vehicle))

    hatch_h = d.dim("apollo_cm", "side_hatch_center_height_m")
    hw, hh = d.dim("apollo_cm", "side_hatch_width_m"), d.dim("apollo_cm", "side_hatch_height_m")
    hatch_frame = cm.surface_frame(0.0, hatch_h, out=0.012)
    hull.add(mat.CM_SKIN, g.extrude(g.rounded_rect_outline(hw, hh, 0.08), 0.03, to_vehicle @ hatch_frame))
    windows, frames = [], []
    wd = d.dim("apollo_cm", "hatch_window_diameter_m")
    windows.append(g.extrude(g.disc_outline(wd / 2, 24), 0.02, to_vehicle @ _hatch_window_frame(cm, d)))
    frames.append(g.extrude(g.rounded_rect_outline(0.12, 0.05, 0.02), 0.02, to_vehicle @ hatch_frame @ g.translate(0.2, -0.22, 0.02)))
    window_spots = _window_spots(d)
    for az, h, w, hgt, tilt in window_spots:
        f = cm.surface_frame(az, h, out=0.006, tilt_deg=tilt)
        windows.append(g.extrude(g.rounded_rect_outline(w, hgt, 0.04), 0.02, to_vehicle @ f @ g.translate(0, 0, 0.004)))
        frames.append(g.extrude(g.rounded_rect_outline(w + 0.06, hgt + 0.06, 0.06), 0.014, to_vehicle @ f))
    # RCS engine ports: pitch and yaw pairs near the apex, roll pairs low on the cone
    for az, h in ((90.0, 2.35), (-90.0, 2.35), (180.0, 2.35), (180.0, 0.95), (40.0, 0.95), (-40.0, 0.95)):
        for off in (-0.09, 0.09):
            f = cm.surface_frame(az, h, out=0.003) @ g.translate(off, 0.0, 0.0)
            frames.append(g.extrude(g.disc_outline(0.045, 14), 0.01, to_vehicle @ f))
    hull.add(mat.WINDOW, *windows)
    hull.add(mat.BLACK, *frames)

    # cabin (inner skin seen from inside), tunnel, couches, main display console
    interior = cm_node.child(Node("csm/cm/interior", extras={"role": "interior"}))
    interior.add(mat.CABIN_WALL, g.lathe(cm.cabin_profile(), HULL_SEGMENTS).transformed(to_vehicle))
    # lower equipment bay at the crew's feet (-Z), lockers left and right
    lockers = [g.box(b.size, center=b.center) for b in furniture(d) if b.name.startswith(("lower_equipment_bay", "locker_"))]
    interior.add(mat.PANEL_INSTRUMENTS, *lockers)
    # the lower equipment bay's face towards the cabin: locker doors and the guidance panel
    leb = next(b for b in furniture(d) if b.name == "lower_equipment_bay")
    face_z = leb.center[2] + leb.size[2] / 2
    doors = [g.box((0.24, 0.18, 0.01), center=(x, leb.center[1] + y, face_z - 0.004)) for x in (-0.4, -0.13, 0.13, 0.4) for y in (-0.11, 0.11)]
    interior.add(mat.PANEL_FACE, *doors)
    inner_windows = []
    for az, h, w, hgt, _tilt in window_spots:
        inner_windows.append(g.extrude(g.rounded_rect_outline(w, hgt, 0.04), 0.01, to_vehicle @ cm.inner_frame(az, h, 0.004)))
    inner_windows.append(g.extrude(g.disc_outline(wd / 2, 24), 0.01, to_vehicle @ cm.inner_frame(0.0, hatch_h + 0.12, 0.004)))
    interior.add(mat.WINDOW, *inner_windows)
    interior.add(mat.HATCH_PAINT, g.extrude(g.rounded_rect_outline(hw * 0.95, hh * 0.95, 0.08), 0.03, to_vehicle @ cm.inner_frame(0.0, hatch_h, 0.016)))
    lights = [g.box((0.16, 0.04, 0.08), to_vehicle @ cm.inner_frame(az, cm.ceiling_h - 0.25, 0.02)) for az in (90.0, -90.0)]
    interior.add(mat.CABIN_LIGHT, *lights)

    tunnel = cm_node.child(Node("csm/cm/tunnel", extras={"role": "interior", "diameter_m": 2 * cm.r_tunnel}))
    tunnel.add(mat.CABIN_WALL, g.lathe([g.line((cm.r_tunnel, H), (cm.r_tunnel, cm.ceiling_h))], 48).transformed(to_vehicle))

    width = d.dim("apollo_cm", "couch_width_m")
    pitch = d.dim("apollo_cm", "couch_pitch_m")
    back_h = d.dim("apollo_cm", "couch_back_height_m")
    fabric, frame = _couch(width, back_h)
    for k, role in enumerate(("commander (left)", "centre", "right")):
        couch = Node(
            f"csm/cm/couch_{k}",
            translation=(float((k - 1) * pitch), float(base_y + cm.floor + back_h), 0.0),
            extras={"role": "couch", "seat": role},
        )
        couch.add(mat.COUCH_FABRIC, *fabric)
        couch.add(mat.COUCH_FRAME, *frame)
        cm_node.child(couch)

    panel = cm_node.child(Node("csm/cm/main_display_panel", extras={"role": "console"}))
    pw = d.dim("apollo_cm", "main_display_width_m")
    seg_w = pw / 3
    face_h = 0.5
    faces, knobs = [], []
    centre = np.array([0.0, cm.floor + back_h + 0.77, -0.25])
    for k in (-1, 0, 1):
        yaw = -k * 28.0
        f = g.compose(
            g.translate(*centre),
            g.translate(k * seg_w * 0.96, 0.0, abs(k) * 0.1),
            g.rot_y(yaw),
            g.rot_x(38.0),  # face down and towards the crew's heads (+Z)
        )
        faces.append(g.box((seg_w, face_h, 0.06), f))
        for i in range(5):
            for j in range(3):
                x = (i - 2) * seg_w / 5.5
                y = (j - 1.5) * face_h / 5.0   # three rows below the gauges along the top
                knobs.append(g.box((seg_w / 8, face_h / 7, 0.03), f @ g.translate(x, y, 0.04)))
    # the round gauges along each face's top row (flight director attitude indicators in the
    # left and centre faces, meters elsewhere)
    dials = []
    for k in (-1, 0, 1):
        f = g.compose(g.translate(*centre), g.translate(k * seg_w * 0.96, 0.0, abs(k) * 0.1), g.rot_y(-k * 28.0), g.rot_x(38.0))
        big = 0.075 if k <= 0 else 0.04
        dials.append(g.extrude(g.disc_outline(big, 20), 0.01, f @ g.translate(0.0, face_h * 0.36, 0.03)))
        for x in (-0.19, 0.19):
            dials.append(g.extrude(g.disc_outline(0.03, 14), 0.01, f @ g.translate(x, face_h * 0.36, 0.03)))
    panel.add(mat.PANEL_FACE, *(m.transformed(to_vehicle) for m in faces))
    panel.add(mat.PANEL_INSTRUMENTS, *(m.transformed(to_vehicle) for m in knobs))
    panel.add(mat.DIAL_FACE, *(m.transformed(to_vehicle) for m in dials))

    # forward (tunnel) hatch, closed, at the top of the cabin; opens down into the cabin
    cm_node.child(
        hatch_disc(
            "csm/cm/hatch_forward",
            cm.r_tunnel + 0.04,
            0.05,
            -1.0,
            (-(cm.r_tunnel + 0.04), base_y + cm.ceiling_h, 0.0),
        )
    )

    # docking probe (removed by the crew after docking: hide this node for the transfer)
    probe = root.child(Node("csm/probe", extras={"role": "docking_probe"}))
    tip = d.dim("apollo_cm", "probe_protrusion_m")
    parts = [
        g.cylinder(0.07, -0.42, tip - 0.12, 16),
        g.cone_between((0.0, tip - 0.12, 0.0), (0.0, tip, 0.0), 0.07, 0.025, 16),
        g.tube(cm.r_tunnel - 0.03, cm.r_tunnel - 0.005, -0.5, -0.44, 48),
    ]
    for k in range(3):
        dvec = g.azimuth_dir(120.0 * k)
        parts.append(g.cylinder_between(dvec * 0.06 + [0, -0.3, 0], dvec * (cm.r_tunnel - 0.02) + [0, -0.47, 0], 0.02, 8))
        parts.append(g.box((0.03, 0.08, 0.03), g.compose(g.rot_y(120.0 * k + 60.0), g.translate(0.0, tip - 0.1, 0.08))))
    probe.add(mat.PROBE_METAL, *parts)

    # ------------------------------------------------------------------ service module
    sm = root.child(Node("csm/sm"))
    R = d.fact("apollo_sm", "diameter_m") / 2
    L_total = d.fact("apollo_sm", "length_m")
    L_cyl = d.dim("apollo_sm", "cylinder_length_m")
    y_top = base_y
    y_aft = y_top - L_cyl
    y_exit = y_top - L_total
    sm_hull = sm.child(Node("csm/sm/hull"))
    band = 0.25  # white band round the aft end
    sm_hull.add(mat.SM_SKIN, g.lathe(g.polyline((0.0, y_aft), (R, y_aft)) + g.polyline((R, y_aft + band), (R, y_top), (0.0, y_top)), HULL_SEGMENTS))
    rad_len = d.dim("apollo_sm", "radiator_length_m")
    span = d.dim("apollo_sm", "radiator_span_deg")
    radiators = []
    for az in (52.0, 232.0):  # between the RCS quads
        y0, y1 = y_top - 0.35 - rad_len, y_top - 0.35
        # 12 mm proud of the skin: far enough apart not to fight in the depth buffer
        radiators.append(g.lathe(g.polyline((R - 0.01, y0), (R + 0.012, y0), (R + 0.012, y1), (R - 0.01, y1)), 12, az - span / 2, az + span / 2))
    radiators.append(g.lathe([g.line((R, y_aft), (R, y_aft + band))], HULL_SEGMENTS))
    sm_hull.add(mat.SM_RADIATOR, *radiators)
    # umbilical fairing running up the -Z side to the CM
    umb = sm.child(Node("csm/sm/umbilical"))
    umb.add(mat.SM_SKIN, g.box((0.35, 0.9, 0.1), center=(0.0, y_top - 0.45, -(R + 0.045))))

    fairing = sm.child(Node("csm/sm/fairing", extras={"role": "eps_radiator_fairing"}))
    fh = d.dim("apollo_sm", "fairing_height_m")
    fairing.add(
        mat.SM_RADIATOR,
        g.lathe(g.polyline((R, y_top - 0.02), (R - 0.012, y_top + fh), (cm.sc_r + cm.rs * 0.9, y_top + fh)), HULL_SEGMENTS),
    )

    # SPS engine: bell from inside the SM to the exit plane; dark outside, sooty inside
    nozzle = sm.child(Node("csm/sm/sps_nozzle"))
    r_exit = d.dim("apollo_sm", "sps_nozzle_exit_diameter_m") / 2
    y_throat = y_aft + d.dim("apollo_sm", "sps_nozzle_throat_station_m")
    outer = g.bell(0.42, r_exit, y_throat - y_exit, 24, power=0.7) + [0.0, y_throat]
    inner = g.offset_run(outer, -0.012)
    nozzle.add(mat.NOZZLE, g.lathe([outer], 64))
    nozzle.add(mat.NOZZLE_INNER, g.lathe([inner[::-1]], 64))
    nozzle.add(mat.NOZZLE, g.lathe([np.array([inner[0], outer[0]])], 64))  # rim at the exit
    nozzle.add(mat.GOLD_FOIL, g.cylinder(0.6, y_aft - 0.12, y_aft + 0.01, 32, caps=False))  # engine heat shield skirt

    # four RCS quads
    rcs = sm.child(Node("csm/sm/rcs"))
    station = d.dim("apollo_sm", "rcs_quad_station_m")
    clock = d.dim("apollo_sm", "rcs_quad_clocking_deg")
    housings, nozzles, plates = [], [], []
    for k in range(4):
        az = clock + 90.0 * k
        f = g.compose(g.rot_y(az), g.translate(0.0, y_top - station, R))  # local +Z radial out, X tangential
        yq = y_top - station
        plates.append(g.lathe(g.polyline((R, yq - 0.65), (R + 0.012, yq - 0.65), (R + 0.012, yq + 0.65), (R, yq + 0.65)), 8, az - 13.0, az + 13.0))
        housings.append(g.box((0.5, 0.7, 0.22), f @ g.translate(0, 0, 0.09)))
        ends = [((0, 0.35, 0.13), (0, 1, 0)), ((0, -0.35, 0.13), (0, -1, 0)), ((0.25, 0, 0.13), (1, 0, 0)), ((-0.25, 0, 0.13), (-1, 0, 0))]
        for (px, py, pz), (dx, dy, dz) in ends:
            p0 = f @ np.array([px, py, pz, 1.0])
            p1 = f @ np.array([px + 0.16 * dx, py + 0.16 * dy, pz + 0.16 * dz, 1.0])
            nozzles.append(g.cone_between(p0[:3], p1[:3], 0.03, 0.06, 10))
    rcs.add(mat.SM_RADIATOR, *plates)
    rcs.add(mat.RCS_HOUSING, *housings)
    rcs.add(mat.NOZZLE, *nozzles)

    # high-gain antenna on its boom at the aft end (-Z side), four dishes round a feed
    hga_root = (0.0, y_aft + 0.15, -(R - 0.05))
    hga = sm.child(Node("csm/sm/high_gain_antenna", translation=hga_root, extras={"role": "antenna"}))
    boom_len = d.dim("apollo_sm", "hga_boom_length_m")
    tip_pt = np.array([0.0, -boom_len * 0.55, -boom_len * 0.85])
    dish_r = d.dim("apollo_sm", "hga_dish_diameter_m") / 2
    boresight = np.array([0.0, -0.5, -1.0])
    cluster = g.frame(tip_pt + boresight / np.linalg.norm(boresight) * 0.15, boresight)
    dishes = []
    rr = np.linspace(0.0, dish_r, 7)
    dish_profile = np.stack([rr, 0.35 * rr**2], axis=1)
    for sx in (-1, 1):
        for sz in (-1, 1):
            dishes.append(g.lathe([dish_profile], 20).transformed(cluster @ g.translate(sx * dish_r * 1.02, 0.0, sz * dish_r * 1.02)))
    hga.add(mat.ANTENNA_WHITE, *dishes)
    hga.add(mat.SM_SKIN, g.cylinder_between((0, 0, 0), tip_pt, 0.04, 10), g.box((0.2, 0.2, 0.2), cluster))
    hga.add(mat.GOLD_FOIL, g.cone_between(cluster[:3, 3], cluster[:3, 3] + boresight / np.linalg.norm(boresight) * 0.25, 0.08, 0.12, 10))
    return root
