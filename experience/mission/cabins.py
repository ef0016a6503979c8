"""The crossing's rooms: one description of the cabins for what is drawn and what is walked in.

The Command Module, the Docking Module and the Soyuz orbital module are solids of revolution
about the stack axis (+Y, from Apollo towards Soyuz; the stack frame of docs/models.md: origin at
the CM docking-ring face, the DM between y = 0 and 3.15, Soyuz from y = 3.15). From the same
dimensions (data/mission/geometry.toml through :mod:`experience.mission.dimensions`) this module
gives

- the numbers the model generator draws the cabins with: :class:`CMCabin` (the CM's cone and
  cabin), :func:`orbital_module_sphere`, :func:`dm_cabin_profile`, the furniture boxes
  (:func:`furniture`) and the handrails (:func:`dm_handrails`, :func:`om_handrail_ring`);
- the walkable volume of the visitor's eye (:func:`crossing`): the drawn cabin and tunnel walls
  moved inwards by the visitor's head radius (:data:`BODY_RADIUS_M`), as *cells* (frusta and a
  sphere), the hatch planes that close them, the furniture as boxes grown by the same radius, and
  the grips (handrails and hatch rims) a hand can hold.

``experience.simulation.crossing`` turns this into the arrays of ``kernels.crossing``; the tests
(tests/test_crossing.py) check that every walkable point keeps the head radius from every wall
vertex the models draw, so the two cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from experience.mission.dimensions import Dimensions, load

BODY_RADIUS_M = 0.15        # the visitor's head around the eye: the eye keeps this far from walls
HATCH_THICKNESS_M = 0.05    # the round hatches (experience/scene/modelgen/apollo.hatch_disc)
ROOMS = ("cm", "dm", "soyuz_om")
HATCHES = ("apollo_dm", "dm_soyuz")


def fitting(key: str) -> float:
    """A cabin fitting's dimension from data/mission/crossing.toml [fitting.KEY]."""
    from experience.errors import DataFileError
    from experience.mission import data

    try:
        return float(data.load_toml("mission/crossing.toml")["fitting"][key]["value"])
    except KeyError:
        raise DataFileError(f"data/mission/crossing.toml lacks [fitting.{key}] value; add it") from None


def azimuth_dir(az_deg: float) -> np.ndarray:
    """Unit vector at an azimuth about +Y, 0 deg = +Z, 90 deg = +X (as the model generator)."""
    a = math.radians(az_deg)
    return np.array([math.sin(a), 0.0, math.cos(a)])


# ------------------------------------------------------------------------------ the vehicles
class CMCabin:
    """The CM outline as functions of height h above the base (lowest heat-shield point); the CM
    base sits at y = -H in the stack frame."""

    def __init__(self, d: Dimensions):
        self.H = d.fact("apollo_cm", "height_m")
        self.Rb = d.fact("apollo_cm", "base_diameter_m") / 2
        self.Rh = d.dim("apollo_cm", "heat_shield_radius_m")
        self.rs = d.dim("apollo_cm", "shoulder_radius_m")
        self.delta = math.radians(d.dim("apollo_cm", "cone_half_angle_deg"))
        self.r_top = d.dim("apollo_cm", "cone_top_radius_m")
        self.r_tunnel_out = d.dim("apollo_cm", "tunnel_outer_radius_m")
        self.r_ring = d.dim("apollo_cm", "docking_ring_outer_radius_m")
        self.ring_h = d.dim("apollo_cm", "docking_ring_height_m")
        self.r_tunnel = d.fact("apas75", "transfer_tunnel_diameter_m") / 2
        self.wall = d.dim("apollo_cm", "wall_thickness_m")
        self.floor = d.dim("apollo_cm", "floor_height_m")
        # shoulder torus centre, tangent to the heat-shield sphere (centre (0, Rh))
        self.sc_r = self.Rb - self.rs
        self.sc_h = self.Rh - math.sqrt((self.Rh - self.rs) ** 2 - self.sc_r**2)
        self.alpha = math.degrees(math.atan2(self.sc_h - self.Rh, self.sc_r))  # tangent point angle
        # where the shoulder meets the cone
        d_deg = math.degrees(self.delta)
        self.t_r = self.sc_r + self.rs * math.cos(self.delta)
        self.t_h = self.sc_h + self.rs * math.sin(self.delta)
        self.cone_top_h = self.t_h + (self.t_r - self.r_top) / math.tan(self.delta)
        self.deck_h = self.cone_top_h + 0.12
        self.d_deg = d_deg
        # cabin
        self.inner_off = self.wall / math.cos(self.delta)
        self.ceiling_r = self.r_top
        self.ceiling_h = self.t_h + (self.t_r - self.inner_off - self.ceiling_r) / math.tan(self.delta)
        self.wall_bottom_h = self.floor + 0.12   # where the cone wall turns into the floor fillet
        if self.cone_top_h >= self.H - self.ring_h - 0.05:
            raise ValueError("CM cone reaches past the docking ring; check apollo_cm dimensions")

    def outer_r(self, h: float) -> float:
        """Outer radius of the conical wall at height h (valid on the cone)."""
        return self.t_r - (h - self.t_h) * math.tan(self.delta)

    def inner_r(self, h: float) -> float:
        return self.outer_r(h) - self.inner_off


def sphere_station(center_y: float, radius: float, r: float, front: bool) -> float:
    """The station where a sphere about (0, center_y) has radius r (front: towards -Y)."""
    dy = math.sqrt(radius**2 - r**2)
    return center_y - dy if front else center_y + dy


def orbital_module_sphere(d: Dimensions) -> tuple[float, float]:
    """(centre y, radius) of the orbital module's sphere in the Soyuz model frame (metres)."""
    r_om = d.dim("soyuz", "orbital_module_diameter_m") / 2
    r_front = d.dim("apas75", "body_radius_m") - 0.07  # where the APAS body's back ledge meets the sphere
    return d.dim("soyuz", "apas_base_depth_m") + math.sqrt(r_om**2 - r_front**2), r_om


@dataclasses.dataclass(frozen=True)
class OMCabin:
    """The orbital module's inside, Soyuz model frame: the inner sphere, where the tunnel from the
    APAS-75 meets it (``y_front``) and the neck to the descent module (``y_aft``)."""

    center_y: float
    r_in: float
    r_tunnel: float
    y_front: float
    r_hatch_aft: float
    y_aft: float


def om_cabin(d: Dimensions) -> OMCabin:
    om_c, r_om = orbital_module_sphere(d)
    r_in = r_om - d.dim("soyuz", "wall_thickness_m")
    rt = d.fact("apas75", "transfer_tunnel_diameter_m") / 2
    r_aft = d.dim("soyuz", "descent_hatch_diameter_m") / 2
    return OMCabin(om_c, r_in, rt, sphere_station(om_c, r_in, rt, True), r_aft, sphere_station(om_c, r_in, r_aft, False))


@dataclasses.dataclass(frozen=True)
class DMCabin:
    length: float
    r_in: float
    r_tunnel: float
    y_bh_apollo: float
    y_bh_soyuz: float

    @property
    def r_rail(self) -> float:
        return self.r_in - 0.1  # clear of the hatches when they swing open


def dm_cabin(d: Dimensions) -> DMCabin:
    return DMCabin(d.fact("docking_module", "length_m"), d.dim("docking_module", "inner_radius_m"),
                   d.fact("apas75", "transfer_tunnel_diameter_m") / 2,
                   d.dim("docking_module", "apollo_bulkhead_station_m"), d.dim("docking_module", "soyuz_bulkhead_station_m"))


def dm_cabin_profile(d: Dimensions) -> list[tuple[float, float]]:
    """(r, y) of the DM cabin's inner skin, Soyuz bulkhead first (normals into the cabin)."""
    c = dm_cabin(d)
    return [(c.r_tunnel, c.y_bh_soyuz), (c.r_in, c.y_bh_soyuz), (c.r_in, c.y_bh_apollo), (c.r_tunnel, c.y_bh_apollo)]


def dm_handrails(d: Dimensions) -> list[tuple[np.ndarray, np.ndarray]]:
    """The four long handrails along the DM cabin (DM frame = stack frame)."""
    c = dm_cabin(d)
    out = []
    for k in range(4):
        dvec = azimuth_dir(45.0 + 90.0 * k)
        out.append((dvec * c.r_rail + [0, c.y_bh_apollo + 0.15, 0], dvec * c.r_rail + [0, c.y_bh_soyuz - 0.15, 0]))
    return out


def om_side_hatch(d: Dimensions) -> tuple[np.ndarray, np.ndarray, float]:
    """(centre on the orbital module's inner wall, inward unit normal, radius) of its side hatch,
    Soyuz model frame."""
    om = om_cabin(d)
    az = fitting("soyuz_side_hatch_azimuth_deg")
    s = fitting("soyuz_side_hatch_height_m") / om.r_in
    out = azimuth_dir(az) * math.cos(math.asin(s)) + np.array([0.0, s, 0.0])
    return np.array([0.0, om.center_y, 0.0]) + out * om.r_in, -out, fitting("soyuz_side_hatch_diameter_m") / 2


def om_wall_panel(d: Dimensions) -> tuple[np.ndarray, np.ndarray]:
    """(centre, inward normal) of the orbital module's control panel on its wall (Soyuz frame):
    above the divan's -Z end, facing the table."""
    om = om_cabin(d)
    out = np.array([-0.75, -0.35, -0.45])
    out = out / np.linalg.norm(out)
    return np.array([0.0, om.center_y, 0.0]) + out * (om.r_in - fitting("soyuz_cabin_lining_m") + 0.012), -out


def om_handrails(d: Dimensions) -> list[tuple[np.ndarray, np.ndarray]]:
    """The two straight handrails beside the orbital module's side hatch (Soyuz frame), 6 cm off
    the wall: drawn by modelgen/soyuz.py and held as grips in the crossing."""
    om = om_cabin(d)
    az0 = fitting("soyuz_side_hatch_azimuth_deg")
    r = om.r_in - 0.06
    out = []
    for daz in (-32.0, 32.0):
        ends = []
        for dy in (-0.42, 0.12):
            s = dy / r
            ends.append(np.array([0.0, om.center_y, 0.0]) + (azimuth_dir(az0 + daz) * math.cos(math.asin(s)) + [0.0, s, 0.0]) * r)
        out.append((ends[0], ends[1]))
    return out


def om_handrail_ring(d: Dimensions) -> tuple[float, float]:
    """(radius, y in the Soyuz frame) of the handrail ring round the orbital module's front."""
    om = om_cabin(d)
    return math.sqrt(om.r_in**2 - 0.62**2) - 0.07, om.center_y - 0.62


# ------------------------------------------------------------------------------ furniture
@dataclasses.dataclass(frozen=True)
class Box:
    """An axis-aligned box of furniture in its vehicle's model frame (metres)."""

    name: str
    vehicle: str        # apollo_csm, docking_module, soyuz
    center: tuple[float, float, float]
    size: tuple[float, float, float]


def couch_box(d: Dimensions, k: int) -> Box:
    """The space one CM couch takes (hip point at x = (k-1) pitch; head towards +Z, the floor
    below): the fabric pans, the raised legs, the rails and struts of modelgen/apollo._couch."""
    cm = CMCabin(d)
    width = d.dim("apollo_cm", "couch_width_m")
    pitch = d.dim("apollo_cm", "couch_pitch_m")
    back_h = d.dim("apollo_cm", "couch_back_height_m")
    hip_y = -cm.H + cm.floor + back_h
    # the back pan and head rest reach z = 1.02; the raised knees y = hip + 0.335; the shins
    # z = -0.79; the struts stand on the floor (tests/test_crossing.py checks the drawn couch inside)
    y0, y1 = -cm.H + cm.floor - 0.02, hip_y + 0.34
    return Box(f"couch_{k}", "apollo_csm", ((k - 1) * pitch, (y0 + y1) / 2, 0.115), (width + 0.06, y1 - y0, 1.83))


def console_box(d: Dimensions) -> Box:
    """The main display console's three tilted faces (modelgen/apollo.build), boxed."""
    cm = CMCabin(d)
    pw = d.dim("apollo_cm", "main_display_width_m")
    back_h = d.dim("apollo_cm", "couch_back_height_m")
    y = -cm.H + cm.floor + back_h + 0.77
    # three faces of pw / 3, 0.5 m tall, tilted 38 deg, the outer two turned 28 deg and 0.1 m
    # towards the heads: 1.66 x 0.43 x 0.57 m about (0, y, -0.15)
    return Box("main_display_console", "apollo_csm", (0.0, y, -0.15), (pw * 1.04, 0.44, 0.58))


def furniture(d: Dimensions) -> list[Box]:
    """Every piece of furniture the crossing collides with, in its vehicle's frame. The model
    generator draws the lockers, the DM's panel and furnace and the orbital module's cabinet,
    bench and table from these boxes."""
    cm = CMCabin(d)
    dm = dm_cabin(d)
    om = om_cabin(d)
    base = -cm.H
    boxes = [couch_box(d, k) for k in range(3)] + [console_box(d)]
    boxes.append(Box("lower_equipment_bay", "apollo_csm", (0.0, base + cm.floor + 0.25, -1.12), (1.1, 0.5, 0.36)))
    for sx, side in ((-1, "left"), (1, "right")):
        boxes.append(Box(f"locker_{side}", "apollo_csm", (sx * 1.17, base + cm.floor + 0.3, -0.25), (0.3, 0.55, 0.7)))
    boxes.append(Box("dm_control_panel", "docking_module", (0.0, 1.55, dm.r_in - 0.09), (0.42, 0.5, 0.05)))
    boxes.append(Box("dm_panel_knobs", "docking_module", (0.0, 1.55, dm.r_in - 0.125), (0.33, 0.34, 0.02)))
    boxes.append(Box("dm_furnace", "docking_module", (0.0, 2.1, -(dm.r_in - 0.2)), (0.36, 0.42, 0.22)))
    depth = fitting("dm_stowage_depth_m")
    for sx, side in ((-1, "left"), (1, "right")):   # on the side walls between the lamps
        boxes.append(Box(f"dm_stowage_{side}", "docking_module", (sx * (dm.r_in - depth / 2 - 0.03), 1.65, 0.0), (depth, 0.62, 0.34)))
    # Slayton's sleeping restraint, rolled and strapped on the -Z wall below the furnace
    boxes.append(Box("dm_sleep_restraint", "docking_module", (0.0, 1.25, -(dm.r_in - 0.11)), (0.42, 0.8, 0.12)))
    boxes += om_furniture(d)
    return boxes


def om_furniture(d: Dimensions) -> list[Box]:
    """The orbital module's furniture (Soyuz frame; its "floor" is the aft side, +Y, where the
    hatch down to the descent module is): the divan along the -X wall (seat and back), the
    cupboard on the +X wall, the folding table on its post, the television camera on the front
    +X wall. Sizes from data/mission/crossing.toml [fitting.soyuz_*]; modelgen/soyuz.py draws
    each piece inside its box (tests/test_models.py checks that)."""
    om = om_cabin(d)
    c = om.center_y
    length = fitting("soyuz_sofa_length_m")
    depth = fitting("soyuz_sofa_seat_depth_m")
    seat_t = fitting("soyuz_sofa_seat_thickness_m")
    back_h = fitting("soyuz_sofa_back_height_m")
    seat_top = c + 0.36                 # the seat's face (towards -Y, the module's "up")
    seat_x0 = -0.80                     # the seat's back edge, at the back cushions
    seat_x1 = seat_x0 + depth
    # the stowage base under the seat reaches the curved wall: at the seat's front edge, mid-length
    y_floor = c + math.sqrt(om.r_in**2 - seat_x1**2)
    back_t = 0.12
    cab_d = fitting("soyuz_cabinet_depth_m")
    tv_l = fitting("soyuz_tv_camera_length_m")
    if y_floor - seat_top < seat_t:
        raise ValueError("the orbital module's divan does not fit above its wall; check crossing.toml fittings")
    return [
        Box("om_sofa_seat", "soyuz", ((seat_x0 + seat_x1) / 2, (seat_top + y_floor) / 2, 0.0), (depth, y_floor - seat_top, length)),
        Box("om_sofa_back", "soyuz", (seat_x0 - back_t / 2, seat_top - back_h / 2, 0.0), (back_t, back_h, length - 0.04)),
        # the cupboard stands forward of where Kubasov floats (his legs reach y = centre + 0.1)
        Box("om_cabinet", "soyuz", (0.79 - cab_d / 2, c - 0.28, -0.04), (cab_d, 0.46, 0.62)),
        Box("om_table", "soyuz", (0.0, c + 0.58, -0.3), (0.5, 0.04, 0.36)),
        Box("om_table_post", "soyuz", (0.0, c + 0.78, -0.3), (0.06, 0.36, 0.06)),
        Box("om_tv_camera", "soyuz", (0.54, c - 0.58, 0.40), (tv_l, 0.14, 0.16)),
    ]


# ------------------------------------------------------------------------------ the walkable volume
@dataclasses.dataclass(frozen=True)
class Cell:
    """Part of the eye's walkable volume, stack frame: ``y0 <= y <= y1`` and
    ``x^2 + z^2 <= q0 + q1 y + q2 y^2`` (a frustum's or a sphere's radius squared). An end at a
    hatch plane (``lo_hatch``/``hi_hatch``) pulls back by the head radius plus half the hatch's
    thickness while that hatch is closed."""

    name: str
    room: str
    y0: float
    y1: float
    q: tuple[float, float, float]
    lo_hatch: str | None = None
    hi_hatch: str | None = None

    def radius(self, y: float) -> float:
        v = self.q[0] + self.q[1] * y + self.q[2] * y * y
        return math.sqrt(v) if v > 0 else 0.0


def frustum(name, room, y0, y1, r0, r1, lo=None, hi=None) -> Cell:
    s = (r1 - r0) / (y1 - y0) if y1 != y0 else 0.0
    a = r0 - s * y0   # r(y) = a + s y
    return Cell(name, room, y0, y1, (a * a, 2 * a * s, s * s), lo, hi)


def ball(name, room, cy, radius, y0=None, y1=None, lo=None, hi=None) -> Cell:
    y0 = cy - radius if y0 is None else y0
    y1 = cy + radius if y1 is None else y1
    return Cell(name, room, y0, y1, (radius * radius - cy * cy, 2 * cy, -1.0), lo, hi)


@dataclasses.dataclass(frozen=True)
class HatchPlane:
    name: str        # which airlock hatch (apollo_dm, dm_soyuz) it belongs to
    part: str        # the model node: dm/hatch_apollo, dm/hatch_soyuz, soyuz/hatch_dm
    y: float
    radius: float    # the opening it closes


@dataclasses.dataclass(frozen=True)
class Grip:
    name: str
    a: tuple[float, float, float]
    b: tuple[float, float, float]


@dataclasses.dataclass(frozen=True)
class Crossing:
    """The three rooms as the crossing walks them (stack frame, metres)."""

    body_radius_m: float
    cells: tuple[Cell, ...]
    hatch_planes: tuple[HatchPlane, ...]
    boxes: tuple[Box, ...]            # in the stack frame
    hatch_boxes: tuple[tuple[Box, str], ...]   # where each hatch swings open (stack frame), and which hatch
    grips: tuple[Grip, ...]
    start_m: tuple[float, float, float]            # where a visitor starts, in the CM
    guide_path_m: tuple[tuple[str, tuple[float, float, float]], ...]   # (room, waypoint)
    soyuz_offset_m: float             # where Soyuz's frame sits along +Y
    room_bounds_y: dict               # room -> (y0, y1) of its cells
    drawn_radius: tuple[tuple[float, float, float, float], ...]   # (y0, y1, r0, r1): the drawn wall


def _ring(name, y, r, n=8):
    pts = [azimuth_dir(360.0 * k / n) * r + np.array([0.0, y, 0.0]) for k in range(n + 1)]
    return [Grip(f"{name}_{k}", tuple(map(float, pts[k])), tuple(map(float, pts[k + 1]))) for k in range(n)]


def crossing(d: Dimensions | None = None, body_radius_m: float = BODY_RADIUS_M) -> Crossing:
    d = d or load()
    b = body_radius_m
    cm = CMCabin(d)
    dm = dm_cabin(d)
    om = om_cabin(d)
    L = dm.length
    rt = cm.r_tunnel
    base = -cm.H
    inset = b / math.cos(cm.delta)   # the cone wall leans: keep b along its normal
    y_floor, y_wall, y_ceil = base + cm.floor, base + cm.wall_bottom_h, base + cm.ceiling_h
    # the lowest part of the cabin, above the floor fillet, as a cylinder of the fillet's radius
    r_fillet = cm.inner_r(cm.wall_bottom_h) - 0.11
    cells = [
        frustum("cm_floor", "cm", y_floor + b, y_wall + b, r_fillet - b, r_fillet - b),
        frustum("cm_cabin", "cm", y_wall + 0.05, y_ceil - b, cm.inner_r(cm.wall_bottom_h + 0.05) - inset,
                cm.inner_r(cm.ceiling_h - b) - inset),
        frustum("cm_tunnel", "cm", y_ceil - b, 0.0, rt - b, rt - b),
        frustum("dm_tunnel_apollo", "dm", 0.0, dm.y_bh_apollo, rt - b, rt - b, hi="apollo_dm"),
        frustum("dm_mouth_apollo", "dm", dm.y_bh_apollo, dm.y_bh_apollo + b, rt - b, rt - b, lo="apollo_dm"),
        frustum("dm_cabin", "dm", dm.y_bh_apollo + b, dm.y_bh_soyuz - b, dm.r_in - b, dm.r_in - b),
        frustum("dm_mouth_soyuz", "dm", dm.y_bh_soyuz - b, dm.y_bh_soyuz, rt - b, rt - b, hi="dm_soyuz"),
        frustum("dm_tunnel_soyuz", "dm", dm.y_bh_soyuz, L, rt - b, rt - b, lo="dm_soyuz"),
        frustum("soyuz_tunnel", "soyuz_om", L, L + om.y_front, rt - b, rt - b, hi="dm_soyuz"),
    ]
    # from the Soyuz hatch into the sphere: the tunnel's radius until the shrunk sphere is as wide
    c = L + om.center_y
    rs = om.r_in - fitting("soyuz_cabin_lining_m") - b
    y_meet = c - math.sqrt(rs**2 - (rt - b) ** 2)
    cells.append(frustum("om_mouth", "soyuz_om", L + om.y_front, y_meet + 0.02, rt - b, rt - b, lo="dm_soyuz"))
    cells.append(ball("om_sphere", "soyuz_om", c, rs))
    drawn = (
        (y_wall, y_ceil, cm.inner_r(cm.wall_bottom_h), cm.inner_r(cm.ceiling_h)),
        (y_ceil, dm.y_bh_apollo, rt, rt),
        (dm.y_bh_apollo, dm.y_bh_soyuz, dm.r_in, dm.r_in),
        (dm.y_bh_soyuz, L + om.y_front, rt, rt),
    )
    planes = (
        HatchPlane("apollo_dm", "dm/hatch_apollo", dm.y_bh_apollo, rt),
        HatchPlane("dm_soyuz", "dm/hatch_soyuz", dm.y_bh_soyuz, rt),
        HatchPlane("dm_soyuz", "soyuz/hatch_dm", L + om.y_front, rt),
    )
    boxes = []
    for bx in furniture(d):
        off = L if bx.vehicle == "soyuz" else 0.0
        boxes.append(dataclasses.replace(bx, center=(bx.center[0], bx.center[1] + off, bx.center[2])))
    hatch_boxes = tuple((open_hatch_box(pl, d), pl.name) for pl in planes)
    grips = []
    for k, (a, e) in enumerate(dm_handrails(d)):
        grips.append(Grip(f"dm_handrail_{k}", tuple(map(float, a)), tuple(map(float, e))))
    grips += _ring("cm_tunnel_rim", y_ceil, rt)
    grips += _ring("dm_hatch_apollo_rim", dm.y_bh_apollo, rt)
    grips += _ring("dm_hatch_soyuz_rim", dm.y_bh_soyuz, rt)
    grips += _ring("soyuz_hatch_rim", L + om.y_front, rt)
    r_ring, y_ring = om_handrail_ring(d)
    grips += _ring("om_handrail", L + y_ring, r_ring, 12)
    for k, (a, e) in enumerate(om_handrails(d)):
        grips.append(Grip(f"om_hatch_handrail_{k}", (float(a[0]), float(a[1] + L), float(a[2])), (float(e[0]), float(e[1] + L), float(e[2]))))
    # the guided path: from above the couches up into the tunnel, through the DM, into the sphere
    start = (0.0, base + 1.65, 0.45)
    path = (
        ("cm", start),
        ("cm", (0.0, y_ceil - b - 0.02, 0.32)),
        ("cm", (0.0, y_ceil + 0.05, 0.0)),
        ("cm", (0.0, -0.3, 0.0)),
        # into the DM along its -X side, clear of Slayton and Stafford where they wait (their
        # solids: experience.simulation.crossing.CREW_MARGIN_M) and of the open Apollo hatch, up
        # to the watch point by the -X, +Z wall, where the airlock is run and the handshake seen
        ("dm", (-0.22, dm.y_bh_apollo + 0.12, 0.0)),
        ("dm", (-0.22, dm.y_bh_apollo + 0.25, 0.10)),
        ("dm", (-0.24, dm.y_bh_apollo + 0.52, 0.17)),
        ("dm", DM_WATCH_M),
        # after the handshake: out into the middle, clear of Slayton (by the +X, +Z wall) and of
        # the open Soyuz-end hatch (along the -X wall), to the hatchway
        ("dm", (-0.25, DM_WATCH_M[1] + 0.04, 0.0)),
        ("dm", (-0.08, DM_WATCH_M[1] + 0.17, -0.10)),
        ("dm", (0.0, dm.y_bh_soyuz - b - 0.60, -0.10)),
        ("dm", (0.0, dm.y_bh_soyuz - b - 0.45, 0.0)),
        ("dm", (0.0, L - 0.1, 0.0)),
        ("soyuz_om", (0.0, L + om.y_front + 0.05, 0.0)),
        ("soyuz_om", (0.0, c - 0.67, 0.0)),   # just in, in front of the crews (Leonov, Kubasov and Stafford after the handshake)
    )
    bounds = {}
    for cell in cells:
        lo, hi = bounds.get(cell.room, (math.inf, -math.inf))
        bounds[cell.room] = (min(lo, cell.y0), max(hi, cell.y1))
    return Crossing(b, tuple(cells), planes, tuple(boxes), hatch_boxes, tuple(grips), start, path, L, bounds, drawn)


DM_WATCH_M = (-0.35, 1.25, 0.35)   # in the DM by its -X, +Z wall: where the guide runs the airlock and watches the handshake
CROSSING_CREW = ("leonov", "kubasov")   # who waits in the orbital module while the visitor crosses
CREW_ARRANGEMENT = "hatch_closed"         # where the mission data puts everyone before the hatch opens
# The crews' solids are not here: they move with the story (experience.mission.figures.segment_boxes,
# experience.simulation.crossing.Crossing.crew_solids).


HATCH_SWING_DEG = 95.0   # how far an open hatch stands (experience/scene/vehicles.py swings them so)
HATCH_OPENS = {"dm/hatch_apollo": 1.0, "dm/hatch_soyuz": -1.0, "soyuz/hatch_dm": 1.0}   # into +Y or -Y


def open_hatch_box(plane: HatchPlane, d: Dimensions) -> Box:
    """The box an open hatch takes, swung about its hinge (x = -r, in its plane) into its module."""
    r = d.dim("docking_module", "hatch_diameter_m") / 2
    t = HATCH_THICKNESS_M
    a = math.radians(HATCH_SWING_DEG)
    side = HATCH_OPENS[plane.part]
    xs = [-r, -r + 2 * r * math.cos(a), -r - t * math.sin(a), -r + 2 * r * math.cos(a) - t * math.sin(a)]
    ys = [plane.y, plane.y + side * 2 * r * math.sin(a)]
    lo = (min(xs) - 0.01, min(ys), -r - 0.01)
    hi = (max(xs) + 0.01, max(ys), r + 0.01)
    return Box(f"{plane.part}_open", "stack", tuple((a_ + b_) / 2 for a_, b_ in zip(lo, hi)),
               tuple(b_ - a_ for a_, b_ in zip(lo, hi)))
