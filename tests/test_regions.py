"""Region lookup: the geo kernels (NumPy, array_api_strict, CuPy) and the simulation layer."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest

from kernels import geo
from experience.simulation import regions
from tests.util import to_numpy

DEG = math.pi / 180.0


def _edges(rings_per_owner):
    """Edge arrays (radians) from {owner: [ring of (lon, lat) deg, ...]} in owner order."""
    lon0, lat0, lon1, lat1, owner = [], [], [], [], []
    for k, rings in enumerate(rings_per_owner):
        for ring in rings:
            r = np.asarray(ring, dtype=np.float64) * DEG
            nxt = np.roll(r, -1, axis=0)
            lon0.append(r[:, 0]), lat0.append(r[:, 1])
            lon1.append(nxt[:, 0]), lat1.append(nxt[:, 1])
            owner.append(np.full(len(r), k, dtype=np.int64))
    return [np.concatenate(a) for a in (lon0, lat0, lon1, lat1, owner)]


def _square(lon_w, lat_s, lon_e, lat_n):
    return [(lon_w, lat_s), (lon_e, lat_s), (lon_e, lat_n), (lon_w, lat_n)]


# Owner 0: small square inside owner 1 (priority); owner 1: square with a hole;
# owner 2: square across the antimeridian (170 E .. 170 W written with continuous longitudes,
# i.e. 190 == -170); owner 3: ring round the South Pole at 70 S; owner 4: ring round the North
# Pole at 75 N (flagged).
SYNTH = [
    [_square(11, 11, 12, 12)],
    [_square(0, 0, 20, 20), _square(5, 5, 8, 8)],
    [[(170, -10), (190, -10), (190, 10), (170, 10)]],
    [[(lon, -70) for lon in range(-180, 180, 20)]],
    [[(lon, 75) for lon in range(-180, 180, 20)]],
]
NORTH = np.array([False, False, False, False, True])
PROBES = [  # (lat, lon, expected owner)
    (11.5, 11.5, 0), (2.0, 2.0, 1), (6.5, 6.5, -1), (15.0, 3.0, 1), (25.0, 10.0, -1),
    (0.0, 175.0, 2), (0.0, -175.0, 2), (0.0, 180.0, 2), (0.0, -180.0, 2), (5.0, 540.0 - 1, 2),
    (0.0, 160.0, -1), (0.0, -160.0, -1), (-80.0, 33.0, 3), (-90.0, 0.0, 3), (-60.0, 33.0, -1),
    (80.0, -100.0, 4), (90.0, 0.0, 4), (60.0, 10.0, -1),
]


def _as(xp, a):
    return xp.asarray(a)


def test_points_in_polygons_synthetic(xp):
    lon0, lat0, lon1, lat1, owner = _edges(SYNTH)
    lat = np.array([p[0] for p in PROBES]) * DEG
    lon = np.array([p[1] for p in PROBES]) * DEG
    got = geo.points_in_polygons(
        _as(xp, lat), _as(xp, lon), _as(xp, lon0), _as(xp, lat0), _as(xp, lon1), _as(xp, lat1),
        _as(xp, owner), len(SYNTH), north_pole_owner=_as(xp, NORTH),
    )
    assert to_numpy(got).tolist() == [p[2] for p in PROBES]


def test_ray_through_vertex_counts_once(xp):
    # A diamond whose left/right vertices sit on the probe's meridian exactly.
    diamond = [[(0, -1), (1, 0), (0, 1), (-1, 0)]]
    lon0, lat0, lon1, lat1, owner = _edges([diamond])
    lat = np.array([0.0, -0.5, -2.0, 1.0, 0.5]) * DEG
    lon = np.array([0.0, 1.0, 0.0, 0.0, -1.0]) * DEG
    got = geo.points_in_polygons(
        _as(xp, lat), _as(xp, lon), _as(xp, lon0), _as(xp, lat0), _as(xp, lon1), _as(xp, lat1),
        _as(xp, owner), 1,
    )
    # inside; right vertex's meridian below it (outside); below the bottom vertex; on the top
    # vertex (boundary -> the polygon north of it, i.e. none); left vertex meridian above it.
    assert to_numpy(got).tolist() == [0, -1, -1, -1, -1]


def test_great_circle_distance(xp):
    lat1 = _as(xp, np.array([0.0, 0.0, 90.0, 10.0]) * DEG)
    lon1 = _as(xp, np.array([0.0, 0.0, 0.0, 20.0]) * DEG)
    lat2 = _as(xp, np.array([0.0, 0.0, 0.0, 10.0]) * DEG)
    lon2 = _as(xp, np.array([90.0, 180.0, 123.0, 20.0 + 1e-7]) * DEG)
    d = to_numpy(geo.great_circle_distance_rad(lat1, lon1, lat2, lon2))
    np.testing.assert_allclose(d[:3], [math.pi / 2, math.pi, math.pi / 2], rtol=1e-14)
    np.testing.assert_allclose(d[3], 1e-7 * DEG * math.cos(10 * DEG), rtol=1e-6)


def test_nearest_edge(xp):
    lon0, lat0, lon1, lat1, owner = _edges([[_square(0, 0, 1, 1)], [_square(5, 5, 6, 6)]])
    lat = np.array([0.5, -0.1, 5.5]) * DEG
    lon = np.array([0.5, 0.3, 6.2]) * DEG
    dist, near = geo.nearest_edge(
        _as(xp, lat), _as(xp, lon), _as(xp, lon0), _as(xp, lat0), _as(xp, lon1), _as(xp, lat1),
        _as(xp, owner), 2,
    )
    np.testing.assert_allclose(to_numpy(dist) / DEG, [0.5 * math.cos(0.5 * DEG), 0.1,
                                                      0.2 * math.cos(5.5 * DEG)], rtol=1e-9)
    assert to_numpy(near).tolist() == [0, 0, 1]


@pytest.mark.parametrize("layer_name", ["countries", "seas"])
def test_binned_index_matches_brute_force(xp, layer_name):
    layer = getattr(regions, layer_name)()
    rng = np.random.default_rng(7)
    n = 300
    lat = np.arcsin(rng.uniform(-1.0, 1.0, n))
    lon = rng.uniform(-math.pi, math.pi, n)
    args = [_as(xp, a) for a in (lat, lon, layer.edge_lon0, layer.edge_lat0, layer.edge_lon1,
                                 layer.edge_lat1, layer.edge_owner)]
    index = geo.PolygonIndex(layer.index.bin_width_rad,
                             *(_as(xp, a) for a in layer.index[1:]))
    binned = geo.points_in_polygons(*args, len(layer.names), index=index)
    brute = geo.points_in_polygons(*args, len(layer.names),
                                   north_pole_owner=_as(xp, layer.north_pole_owner))
    np.testing.assert_array_equal(to_numpy(binned), to_numpy(brute))
    np.testing.assert_array_equal(to_numpy(binned), layer.locate(np.degrees(lat), np.degrees(lon)))


# --- the simulation layer --------------------------------------------------------------------

KNOWN = [  # (label, lat, lon, expected name)
    ("Lisbon", 38.72, -9.14, "Portugal"),
    ("west of Portugal", 39.0, -11.0, "North Atlantic Ocean"),
    ("Baikonur", 45.92, 63.34, "Kazakhstan (then Kazakh SSR, USSR)"),
    ("Arkalyk landing area", 50.67, 67.02, "Kazakhstan (then Kazakh SSR, USSR)"),
    ("Moscow", 55.75, 37.62, "Russia (then Russian SFSR, USSR)"),
    ("Cape Canaveral", 28.6, -80.6, "United States of America"),
    ("Houston", 29.76, -95.37, "United States of America"),
    ("north of Hawaii", 22.0, -163.0, "North Pacific Ocean"),
    ("Ionian", 35.0, 18.0, "Mediterranean Sea"),
    ("Black Sea", 43.0, 35.0, "Black Sea"),
    ("Caspian", 41.0, 51.0, "Caspian Sea"),
    ("East Berlin, Museum Island", 52.52, 13.4, "Germany (then German Democratic Republic)"),
    ("West Berlin, Spandau", 52.535, 13.20, "Germany (then West Berlin)"),
    ("West Berlin, Kreuzberg", 52.497, 13.42, "Germany (then West Berlin)"),
    ("Leipzig", 51.34, 12.37, "Germany (then German Democratic Republic)"),
    ("Wismar", 53.89, 11.46, "Germany (then German Democratic Republic)"),
    ("Hamburg", 53.55, 9.99, "Germany (then Federal Republic of Germany)"),
    ("Hof", 50.31, 11.92, "Germany (then Federal Republic of Germany)"),
    ("Braunschweig", 52.27, 10.52, "Germany (then Federal Republic of Germany)"),
    ("below the handshake, 19:19 UTC", 47.97, 9.72, "Germany (then Federal Republic of Germany)"),
    ("Fiji, Viti Levu", -17.8, 178.0, "Fiji"),
    ("Fiji, Vanua Levu west of 180", -16.5, 179.9, "Fiji"),
    ("Fiji, Vanua Levu east of 180", -16.3, -179.95, "Fiji"),
    ("Chukotka east of 180", 66.0, -175.0, "Russia (then Russian SFSR, USSR)"),
    ("Pacific 170 W", 10.0, -170.0, "North Pacific Ocean"),
    ("Pacific 170 E", 10.0, 170.0, "North Pacific Ocean"),
    ("South Pacific 170 W", -30.0, -170.0, "South Pacific Ocean"),
    ("South Pacific 170 E", -40.0, 170.0, "Tasman Sea"),
    ("equator, 30 W (boundary -> north)", 0.0, -30.0, "North Atlantic Ocean"),
    ("just south of it", -0.001, -30.0, "South Atlantic Ocean"),
    ("Gulf of Mexico", 25.0, -90.0, "Gulf of Mexico"),
    ("Caribbean", 15.0, -75.0, "Caribbean Sea"),
    ("Bay of Bengal", 15.0, 88.0, "Bay of Bengal"),
    ("Arabian Sea", 15.0, 65.0, "Arabian Sea"),
    ("Sea of Japan", 40.0, 135.0, "Sea of Japan"),
    ("Red Sea", 20.0, 38.5, "Red Sea"),
    ("Baltic", 56.0, 19.0, "Baltic Sea"),
    ("North Sea", 56.0, 3.0, "North Sea"),
    ("Bay of Biscay", 45.0, -4.0, "Bay of Biscay"),
    ("Hudson Bay", 60.0, -86.0, "Hudson Bay"),
    ("Sea of Okhotsk", 55.0, 150.0, "Sea of Okhotsk"),
    ("Bering Sea", 58.0, -178.0, "Bering Sea"),
    ("Tasman Sea", -38.0, 160.0, "Tasman Sea"),
    ("Coral Sea", -15.0, 155.0, "Coral Sea"),
    ("South China Sea", 12.0, 113.0, "South China Sea"),
    ("Philippine Sea", 20.0, 130.0, "Philippine Sea"),
    ("Gulf of Guinea", 2.0, 3.0, "Gulf of Guinea"),
    ("Persian Gulf", 27.0, 51.0, "Persian Gulf"),
    ("Indian Ocean", -30.0, 80.0, "Indian Ocean"),
    ("Southern Ocean", -65.0, -100.0, "Southern Ocean"),
    ("Arctic Ocean", 85.0, 0.0, "Arctic Ocean"),
    ("North Pole", 90.0, 0.0, "Arctic Ocean"),
    ("South Pole", -90.0, 0.0, "Antarctica"),
]


@pytest.mark.parametrize("label, lat, lon, expected", KNOWN, ids=[k[0] for k in KNOWN])
def test_known_points(label, lat, lon, expected):
    assert regions.region_names(np.array([lat]), np.array([lon])) == [expected]


def test_vectorised_equals_per_point():
    rng = np.random.default_rng(3)
    lat = np.concatenate([[k[1] for k in KNOWN], np.degrees(np.arcsin(rng.uniform(-1, 1, 200)))])
    lon = np.concatenate([[k[2] for k in KNOWN], rng.uniform(-180, 180, 200)])
    batch = regions.region_names(lat, lon)
    single = [regions.region_names(np.array([a]), np.array([b]))[0] for a, b in zip(lat, lon)]
    assert batch == single
    # Scalars and other longitude representations give the same answer.
    assert regions.region_names(38.72, -9.14) == ["Portugal"]
    assert regions.region_names(lat, lon + 360.0) == batch
    assert regions.region_names(np.array([-16.3, 10.0]), np.array([180.0, -170.0])) == \
        regions.region_names(np.array([-16.3, 10.0]), np.array([-180.0, 190.0]))


def test_modern_names_and_notes():
    assert regions.region_names(45.92, 63.34, historical=False) == ["Kazakhstan"]
    assert regions.region_names(52.52, 13.4, historical=False) == ["Germany"]
    info = regions.region_info(np.array([52.52, 28.6]), np.array([13.4, -80.6]))
    assert info[0].name == "Germany (then German Democratic Republic)" and "German Democratic Republic" in info[0].note
    assert regions.region_note("Germany") == info[0].note
    assert regions.region_note("Portugal") is None
    assert info[1].code == "USA" and info[1].coast_snapped  # 1:110m coast puts it ~1.6 km out


def test_every_ocean_point_is_covered():
    """The oceans tile the sphere: no grid point needs the nearest-ocean fallback."""
    lat, lon = np.meshgrid(np.arange(-89.5, 90.0, 1.0), np.arange(-179.5, 180.0, 1.0))
    owner = regions.seas().locate(lat.ravel(), lon.ravel())
    assert (owner >= 0).all()


def test_fallback_when_no_sea_polygon_matches(monkeypatch):
    layer = regions.seas()
    original = regions.RegionLayer.locate

    def no_seas(self, lat_deg, lon_deg):
        out = original(self, lat_deg, lon_deg)
        return np.full_like(out, -1) if self is layer else out

    monkeypatch.setattr(regions.RegionLayer, "locate", no_seas)
    info = regions.region_info(np.array([0.0, 38.72, 43.0]), np.array([-30.0, -9.14, 35.0]))
    assert info[0].fallback and info[0].kind in ("ocean", "sea")
    assert info[0].name in ("North Atlantic Ocean", "South Atlantic Ocean")
    assert info[1].name == "Portugal" and not info[1].fallback
    assert info[2].fallback and info[2].kind == "sea"


def test_required_seas_present_and_sea_priority():
    doc = json.loads(regions.SEAS_FILE.read_text())
    by_name = {r["name"]: r for r in doc["regions"]}
    required = [
        "North Atlantic Ocean", "South Atlantic Ocean", "North Pacific Ocean",
        "South Pacific Ocean", "Indian Ocean", "Arctic Ocean", "Southern Ocean",
        "Mediterranean Sea", "Black Sea", "Caspian Sea", "Caribbean Sea", "Gulf of Mexico",
        "Bay of Bengal", "Arabian Sea", "Sea of Japan", "Red Sea", "Baltic Sea", "North Sea",
        "Bay of Biscay", "Hudson Bay", "Sea of Okhotsk", "Bering Sea", "Tasman Sea", "Coral Sea",
        "South China Sea", "Philippine Sea", "Gulf of Guinea", "Persian Gulf",
    ]
    assert not [n for n in required if n not in by_name]
    oceans = [r["priority"] for r in doc["regions"] if r["kind"] == "ocean"]
    seas = [r["priority"] for r in doc["regions"] if r["kind"] == "sea"]
    assert max(seas) < min(oceans)
    assert len({r["priority"] for r in doc["regions"]}) == len(doc["regions"])


def test_bad_input():
    with pytest.raises(ValueError, match="differ in size"):
        regions.region_names(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="index 1"):
        regions.region_names(np.array([0.0, np.nan]), np.array([0.0, 0.0]))
    with pytest.raises(ValueError, match="not valid"):
        regions.region_names(np.array([91.0]), np.array([0.0]))
    assert regions.region_names(np.zeros(0), np.zeros(0)) == []


def test_speed():
    rng = np.random.default_rng(11)
    regions.region_names(np.zeros(1), np.zeros(1))  # load once
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, 10_000)))
    lon = rng.uniform(-180, 180, 10_000)
    t0 = time.perf_counter()
    regions.region_names(lat[:100], lon[:100])
    t100 = time.perf_counter() - t0
    t0 = time.perf_counter()
    names = regions.region_names(lat, lon)
    t10k = time.perf_counter() - t0
    assert len(names) == 10_000
    # Measured about 3 ms and 0.2 s; generous bounds for slow CI machines.
    assert t100 < 0.05, t100
    assert t10k < 2.0, t10k
