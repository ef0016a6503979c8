"""The shape of every mission data file (data/mission/*.toml), checked by experience.tomlcheck.

``experience.mission.data.load_toml`` validates each file against ``SCHEMAS[relpath]`` when it is
read, so every loader of these files (the timeline, the trajectory, the docking model, the 3D
models, the crews) gets the same checks: unknown keys (with the closest valid one suggested),
wrong types, values out of range, missing keys and duplicate ids, each named by file and line.
Checks that need another file (source keys defined in sources.toml, crew members named in
crew.toml) stay with the loaders that read both.

Conventions of the files, as the schemas state them:

- A *sourced* table has its values, ``source = [...]`` (keys of sources.toml), an optional
  ``note`` and optional ``[[...conflicts]]``: other versions of any of its values, each with its
  own ``source`` and ``why_not`` (and optionally a ``description``).
- An *assumption* has ``assumption = true`` and ``why``.
- An *entry* (geometry.toml, docking.toml) is a table with ``value``, ``basis`` and either
  ``source`` or ``estimate = true``.
"""

from __future__ import annotations

import copy

from experience.tomlcheck import MISSING, AnyOf, Array, Boolean, Choice, Number, Spec, String, Table, keyname

TEXT = String(nonempty=True)
SOURCES = Array(String(nonempty=True), min_len=1, doc="keys of sources.toml")
VEC3 = Array(Number(), length=3)
RGB = Array(Number(min=0.0, max=1.0), length=3, doc="linear RGB")
VEHICLE = String(choices=("soyuz", "apollo"))
LAT = Number(min=-90.0, max=90.0, doc="degrees north")
LON = Number(min=-180.0, max=180.0, doc="degrees east")
KM = Number(min=0.0)
KG = Number(min=0.0)
M = Number(min=0.0)


def _utc_text(value, path, doc) -> None:
    from experience.errors import AstpError
    from experience.mission.clock import parse_utc

    try:
        parse_utc(value, what=keyname(path))
    except AstpError as exc:
        raise doc.error(path, str(exc)) from None


UTC = String(check=_utc_text, doc="an ISO 8601 UTC time such as \"1975-07-17T16:09:09Z\"")


def optional(spec: Spec) -> Spec:
    """The same spec, not required."""
    out = copy.copy(spec)
    out.required = False
    out.default = MISSING
    return out


def _conflict(fields: dict[str, Spec]) -> Table:
    """Another version of a sourced table's values: any of its keys, with source and why_not."""
    keys = {k: optional(s) for k, s in fields.items() if k not in ("note", "conflicts", "assumptions")}
    keys.update(source=SOURCES, why_not=TEXT, description=optional(TEXT))
    return Table(keys)


def sourced(fields: dict[str, Spec], *, source: bool = True, **extra: Spec) -> Table:
    """A table of sourced values (see the module docstring); ``extra`` keys are not conflictable."""
    out = dict(fields)
    out["source"] = SOURCES if source else optional(SOURCES)
    out["note"] = optional(TEXT)
    out["conflicts"] = optional(Array(_conflict(fields)))
    out.update(extra)
    return Table(out)


def assumed(fields: dict[str, Spec], **extra: Spec) -> dict[str, Spec]:
    out = dict(fields)
    out.update(assumption=Boolean(), why=TEXT, **extra)
    return out


# ------------------------------------------------------------------------------------ timeline
KINDS = ("launch", "insertion", "burn", "docking", "undocking", "transfer", "landing", "jettison", "milestone")

EVENT = Table({
    "id": String(pattern=r"[a-z][a-z0-9_]*", doc="lower-case letters, digits and _"),
    "name": TEXT,
    "name_ru": optional(TEXT),
    "utc": UTC,
    "vehicle": String(choices=("soyuz", "apollo", "both")),
    "kind": String(choices=KINDS),
    "source": SOURCES,
    "note": optional(TEXT),
    "approximate": optional(Boolean()),
    "derived": optional(String(choices=("trajectory",), doc="the time is solved by the reconstruction")),
    "conflicts": optional(Array(Table({
        "utc": optional(UTC), "source": SOURCES, "why_not": TEXT, "description": optional(TEXT),
    }))),
})
TIMELINE = Table({"event": Array(EVENT, min_len=1, unique_by="id")})

# ------------------------------------------------------------------------------------ sources
SOURCES_FILE = Table({}, extra=Table({"title": TEXT, "note": optional(TEXT)}), key_pattern=r"[A-Za-z0-9_-]+")

# ------------------------------------------------------------------------------------ crew
CREW = Table({"member": Array(Table({
    "name": TEXT, "name_ru": TEXT, "vehicle": VEHICLE, "role": TEXT,
    "time_in_other_ship": String(pattern=r"\d+:\d{2}", doc="hours:minutes"),
    "source": SOURCES, "note": optional(TEXT),
}), min_len=1, unique_by="name")})

# ------------------------------------------------------------------------------------ vehicles
VEHICLES = Table({
    "apollo_cm": sourced({"name": TEXT, "base_diameter_m": M, "height_m": M, "habitable_volume_m3": M,
                          "windows": Number(min=0), "hatches": Number(min=0)}),
    "apollo_sm": sourced({"name": TEXT, "diameter_m": M, "length_m": M, "sps_thrust_n": Number(min=0),
                          "sps_engine": TEXT}),
    "apollo_csm": sourced({"name": TEXT, "mass_kg": KG}),
    "docking_module": sourced({"name": TEXT, "length_m": M, "max_diameter_m": M, "mass_kg": KG,
                               "shell_thickness_m": M, "external_tanks": Number(min=0), "tank_n2_kg": KG,
                               "tank_o2_kg": KG}),
    "soyuz": sourced({"name": TEXT, "length_m": M, "solar_array_span_m": M, "max_diameter_m": M,
                      "habitable_module_diameter_m": M, "habitable_volume_m3": M, "solar_array_area_m2": M,
                      "mass_kg": KG}),
    "docked_stack": sourced({"name": TEXT, "mass_kg": KG}),
    "apas75": sourced({"name": TEXT, "transfer_tunnel_diameter_m": M, "soviet_unit_max_diameter_m": M,
                       "soviet_unit_mass_kg": KG, "us_unit_mass_kg": KG, "guide_petals": Number(min=1),
                       "capture_latches": Number(min=1)}),
    "drag": Table({"drag_coefficient": Number(min=0), "apollo_area_m2": M, "soyuz_area_m2": M,
                   "note": optional(TEXT)}),
})

# ------------------------------------------------------------------------------------ orbits
_SITE = {"lat_deg": LAT, "lon_deg": LON}
_INSERTION_ASSUMPTIONS = Table(assumed({"downrange_deg": Number(min=0, max=180), "perigee_at_insertion": Boolean()},
                                       in_soyuz_plane=optional(Boolean())))
_ORBIT = {"perigee_km": KM, "apogee_km": KM}
ORBITS = Table({
    "frame": Table({"note": TEXT, "mission_epoch_utc": UTC}),
    "soyuz": Table({
        "launch_site": sourced({"name": TEXT, **_SITE}),
        "coverage": Table(assumed({"end_utc": UTC})),
        "landing_site": sourced(_SITE),
        "insertion": sourced({"time_after_launch_s": Number(min=0), **_ORBIT, "inclination_deg": Number(min=0, max=180),
                              "period_min": Number(min=0)}, assumptions=optional(_INSERTION_ASSUMPTIONS)),
        "assembly_orbit": sourced({**_ORBIT, "inclination_deg": Number(min=0, max=180), "period_min": Number(min=0)},
                                  assumptions=optional(Table(assumed({
                                      "circularisation_window_utc": Array(UTC, length=2),
                                      "period_trim_min": Number(min=0)})))),
    }),
    "docking_place": sourced(_SITE, **assumed({})),
    "apollo": Table({
        "launch_site": sourced({"name": TEXT, **_SITE}),
        "coverage": Table(assumed({"end_utc": UTC})),
        "splashdown_site": sourced(_SITE),
        "insertion": sourced(_ORBIT, assumptions=optional(_INSERTION_ASSUMPTIONS)),
        "rendezvous": sourced({
            "nc1_utc": UTC, "nc2_utc": UTC, "nsr_utc": UTC, "tpi_utc": UTC, "tpf_utc": UTC,
            "coelliptic_delta_h_km": KM, "tpi_elevation_deg": Number(min=0, max=90),
            "stationkeeping_range_m": M, "final_approach_utc": UTC,
        }, assumptions=optional(Table(assumed({})))),
    }),
    "formation": Table(assumed({"undocking_1_backoff_m": VEC3, "after_final_undocking_m": VEC3})),
    "docked": sourced({
        "first_docking_utc": UTC, "first_undocking_utc": UTC, "second_docking_utc": UTC,
        "final_undocking_utc": UTC, "apollo_departs_utc": UTC, "published_orbit_perigee_km": KM,
        "published_orbit_apogee_km": KM, "published_orbit_period_min": Number(min=0),
    }),
})


# ------------------------------------------------------------------------------------ entries
def _source_or_estimate(value, path, doc) -> None:
    if not value.get("source") and value.get("estimate") is not True:
        raise doc.error(path, f"entry {keyname(path)} has neither a source nor estimate = true; add one of them")


def entry(value: Spec) -> Table:
    """A value with ``basis`` and ``source`` or ``estimate = true`` (geometry.toml, docking.toml)."""
    return Table({
        "value": value, "basis": TEXT, "source": optional(SOURCES), "estimate": optional(Boolean()),
        "note": optional(TEXT),
        "conflicts": optional(Array(Table({"value": value, "source": optional(SOURCES),
                                           "estimate": optional(Boolean()), "why_not": TEXT}))),
    }, check=_source_or_estimate)


GEOMETRY = Table({}, extra=Table({}, extra=entry(Number())))

_DOCKING_ENTRY = entry(AnyOf(Number(), String(), Array(Number())))


def _docking_node(value) -> Spec:
    """An entry has values of its own (value, basis, ...); a group holds only tables."""
    if isinstance(value, dict) and ("value" in value or any(not isinstance(v, dict) for v in value.values())):
        return _DOCKING_ENTRY
    return _DOCKING_GROUP


_DOCKING_GROUP = Table({}, extra=Choice(_docking_node, noun="an entry (a table with value) or a group of entries"))
DOCKING = _DOCKING_GROUP

# ------------------------------------------------------------------------------------ crews
_PERSON = Table({"pose": TEXT, "up": VEC3, "facing": VEC3, "pelvis_at": optional(VEC3), "anchor": optional(TEXT),
                 "at": optional(AnyOf(TEXT, VEC3))})
CREW_FIGURES = Table({
    "figure": Table({}, extra=Table({
        "member": TEXT, "height_m": Number(min=1.4, max=2.1), "estimate": optional(Boolean()), "basis": TEXT,
        "build": optional(Number(min=0.5, max=1.5)), "hair": RGB, "coverall": TEXT, "vehicle": VEHICLE,
        "name_tag": optional(TEXT), "flag": optional(String(choices=("us", "ussr"))),
    })),
    "insignia": optional(Table({"illustrative": Boolean(), "name_tags": TEXT, "flags": TEXT})),
    "coverall": Table({}, extra=Table({"color": RGB, "roughness": optional(Number(min=0.0, max=1.0)),
                                       "illustrative": optional(Boolean())})),
    "pose": Table({}, extra=Table({}, extra=VEC3)),
    "arrangement": Table({}, extra=Table({}, extra=Choice(
        lambda v: _PERSON if isinstance(v, dict) else VEC3, noun="a person's placement or a point [x, y, z]"))),
})

HANDSHAKE = Table({
    "event": TEXT, "estimate": Boolean(), "basis": TEXT,
    "key": Array(Table({"at_s": Number(min=-3600.0, max=3600.0), "arrangement": TEXT,
                        "hatch_deg": Number(min=0.0, max=95.0), "note": optional(TEXT)}), min_len=1),
})

PRESETS = Table({"preset": Array(Table({
    "id": String(pattern=r"^[a-z][a-z0-9_]*$"), "label": TEXT, "event": TEXT,
    "offset_s": optional(Number()), "note": optional(TEXT), "key": optional(String()),
}), min_len=1, unique_by="id")})

CROSSING = Table({"lamp": Table({}, extra=Table({"position_m": entry(VEC3), "color_rgb": entry(RGB)})),
                  "fitting": Table({}, extra=entry(Number()))})

# ------------------------------------------------------------------------------------ keepsakes (VR, issue #11)
KEEPSAKES = Table({
    "source": SOURCES, "estimate": Boolean(), "basis": TEXT,
    "handover": Table({"person": TEXT, "hand": String(choices=("l", "r")), "from_event": TEXT,
                       "reach_m": Number(min=0.05, max=1.0)}),
    "item": Table({}, extra=Table({
        "kind": String(choices=("plaque_half", "flag")), "owner": String(choices=("visitor", "leonov")),
        "counterpart": TEXT, "half": optional(String(choices=("apollo", "soyuz"))),
        "flag": optional(String(choices=("us", "ussr"))), "diameter_m": optional(Number(min=0.02, max=1.0)),
        "thickness_m": optional(Number(min=0.001, max=0.1)), "color_rgb": optional(RGB),
        "size_m": optional(Array(Number(min=0.01, max=1.0), length=2)), "staff_m": optional(Number(min=0.0, max=1.0)),
        "start_offset_m": optional(VEC3),
    }), key_pattern=r"[a-z][a-z0-9_]*"),
})

SCHEMAS: dict[str, Spec] = {
    "mission/presets.toml": PRESETS,
    "mission/timeline.toml": TIMELINE,
    "mission/sources.toml": SOURCES_FILE,
    "mission/crew.toml": CREW,
    "mission/vehicles.toml": VEHICLES,
    "mission/orbits.toml": ORBITS,
    "mission/geometry.toml": GEOMETRY,
    "mission/docking.toml": DOCKING,
    "mission/crew_figures.toml": CREW_FIGURES,
    "mission/crossing.toml": CROSSING,
    "mission/handshake.toml": HANDSHAKE,
    "mission/keepsakes.toml": KEEPSAKES,
}

__all__ = ["SCHEMAS", "entry", "optional", "sourced"]
