"""The palette: PBR metallic-roughness factors chosen after 1975 flight and museum photographs.

Colours are linear-light base colours (glTF ``baseColorFactor``). One material is shared by every
part of a vehicle that looks the same, so each vehicle part needs only a few draw calls.
"""

from __future__ import annotations

from experience.scene.modelgen.gltf import Material

# --- Apollo -------------------------------------------------------------------------------
# The CM's outer skin was aluminised Kapton/Mylar tape over the ablator: a bright, slightly
# crinkled mirror. The SM was bare polished aluminium with white-painted radiators.
CM_SKIN = Material("apollo_cm_aluminised_film", (0.86, 0.86, 0.88), metallic=1.0, roughness=0.22)
HEAT_SHIELD = Material("apollo_heat_shield_ablator", (0.20, 0.16, 0.12), metallic=0.0, roughness=0.9)
SM_SKIN = Material("apollo_sm_polished_aluminium", (0.80, 0.80, 0.82), metallic=1.0, roughness=0.32)
SM_RADIATOR = Material("apollo_sm_radiator_white", (0.88, 0.88, 0.86), metallic=0.0, roughness=0.55)
RCS_HOUSING = Material("apollo_rcs_housing", (0.70, 0.70, 0.70), metallic=0.6, roughness=0.45)
NOZZLE = Material("engine_nozzle_dark_metal", (0.16, 0.16, 0.17), metallic=0.85, roughness=0.5)
NOZZLE_INNER = Material("engine_nozzle_inner_soot", (0.05, 0.05, 0.05), metallic=0.3, roughness=0.8)
ANTENNA_WHITE = Material("antenna_dish_white", (0.85, 0.85, 0.83), metallic=0.0, roughness=0.5, double_sided=True)
WINDOW = Material("window_glass", (0.02, 0.025, 0.03), metallic=0.0, roughness=0.05)
BLACK = Material("black_paint", (0.03, 0.03, 0.03), metallic=0.0, roughness=0.7)
GOLD_FOIL = Material("gold_foil", (0.90, 0.62, 0.22), metallic=1.0, roughness=0.3)
PROBE_METAL = Material("docking_mechanism_metal", (0.62, 0.62, 0.64), metallic=0.9, roughness=0.35)

# --- cabins ---------------------------------------------------------------------------------
CABIN_WALL = Material("cabin_wall_grey", (0.58, 0.60, 0.58), metallic=0.0, roughness=0.8)
COUCH_FABRIC = Material("couch_beta_cloth", (0.74, 0.72, 0.66), metallic=0.0, roughness=0.9)
COUCH_FRAME = Material("couch_frame_aluminium", (0.55, 0.56, 0.58), metallic=0.9, roughness=0.4)
PANEL_FACE = Material("panel_face_dark_grey", (0.06, 0.065, 0.07), metallic=0.1, roughness=0.6)
PANEL_INSTRUMENTS = Material("panel_instruments_light", (0.70, 0.70, 0.66), metallic=0.2, roughness=0.5)
DIAL_FACE = Material("gauge_dial_white", (0.85, 0.85, 0.82), metallic=0.0, roughness=0.4)
HANDRAIL = Material("handrail_blue_grey", (0.30, 0.36, 0.44), metallic=0.3, roughness=0.5)
HATCH_PAINT = Material("hatch_light_grey", (0.70, 0.71, 0.70), metallic=0.2, roughness=0.5)
CABIN_LIGHT = Material("cabin_floodlight", (0.9, 0.9, 0.85), metallic=0.0, roughness=0.5, emissive=(0.9, 0.9, 0.8))
SOYUZ_CABIN = Material("soyuz_cabin_upholstery", (0.55, 0.60, 0.52), metallic=0.0, roughness=0.9)

# --- Docking Module ------------------------------------------------------------------------
DM_SKIN = Material("docking_module_light_grey", (0.78, 0.79, 0.78), metallic=0.15, roughness=0.55)
TANK = Material("gas_tank_white", (0.86, 0.86, 0.85), metallic=0.1, roughness=0.45)

# --- APAS-75 --------------------------------------------------------------------------------
APAS_METAL = Material("apas_structure_metal", (0.68, 0.68, 0.66), metallic=0.85, roughness=0.35)
APAS_PETAL = Material("apas_petal_paint", (0.82, 0.82, 0.78), metallic=0.2, roughness=0.45)
APAS_DARK = Material("apas_latch_dark", (0.10, 0.10, 0.10), metallic=0.5, roughness=0.5)

# --- Soyuz ----------------------------------------------------------------------------------
# The 7K-TM's orbital and descent modules wore green-grey thermal blankets; the aggregate
# compartment carried light radiator panels; the solar cells were dark blue in aluminium frames.
SOYUZ_BLANKET = Material("soyuz_green_grey_blanket", (0.32, 0.38, 0.30), metallic=0.0, roughness=0.85)
SOYUZ_RADIATOR = Material("soyuz_radiator_light", (0.80, 0.81, 0.78), metallic=0.05, roughness=0.55)
SOYUZ_HEAT_SHIELD = Material("soyuz_heat_shield", (0.22, 0.20, 0.17), metallic=0.0, roughness=0.9)
SOLAR_CELLS = Material("solar_cells_dark_blue", (0.03, 0.05, 0.18), metallic=0.3, roughness=0.25)
SOLAR_FRAME = Material("solar_frame_aluminium", (0.72, 0.72, 0.72), metallic=0.8, roughness=0.4)
SOLAR_BACK = Material("solar_panel_back", (0.55, 0.55, 0.52), metallic=0.0, roughness=0.7)

# The orbital module's inside (issue #10): photographs of Soyuz orbital modules of the period show
# a light cabin, its wall covered in light upholstery, a divan in a warmer woven fabric, light
# enamelled panels and cupboard doors. Colours are estimates from those photographs (no measured
# colour was found; docs/models.md). Seams, piping and buttons reuse the dark panel face, amber
# indicator lamps the warm lamp (a vehicle keeps to 25 materials, tests/test_models.py).
SOYUZ_SOFA = Material("soyuz_divan_upholstery", (0.60, 0.50, 0.32), metallic=0.0, roughness=0.95)
SOYUZ_PANEL = Material("soyuz_panel_enamel", (0.58, 0.64, 0.64), metallic=0.1, roughness=0.6)
SOYUZ_LAMP = Material("soyuz_cabin_lamp_warm", (1.0, 0.9, 0.72), metallic=0.0, roughness=0.5, emissive=(1.0, 0.82, 0.58))
INDICATOR_GREEN = Material("indicator_lamp_green", (0.2, 0.6, 0.25), metallic=0.0, roughness=0.4, emissive=(0.25, 0.9, 0.35))
