"""What lies under the spacecraft: the country, sea or ocean at any latitude/longitude, offline.

Data (``data/regions/``, see its README for sources and licences):

* ``countries_ne110m.json``: Natural Earth 1:110m Admin 0 countries (public domain), today's
  borders. Points in former Soviet republics and a few other places are labelled for 1975 from
  ``names_1975.json`` (e.g. "Kazakhstan (then Kazakh SSR, USSR)"); Germany is split into its
  1975 parts by an approximate inner-German border and West Berlin ("Germany (then Federal
  Republic of Germany)", "... (then German Democratic Republic)", "... (then West Berlin)").
* ``oceans.json``: hand-simplified IHO S-23 limits of oceans and seas (tens of km accuracy).
  Seas take precedence over the oceans they lie in (``priority``); the oceans tile the sphere.

Lookup order for each point: the country containing it; otherwise a country within
``COAST_TOLERANCE_KM`` (5 km: the 1:110m coastline is generalised by a few km, and shore
sites such as Cape Canaveral would otherwise land "at sea"); otherwise the first sea/ocean by
priority; otherwise (a "gap": only points exactly on a shared limit can fall through, because
the oceans tile the sphere) the sea/ocean with the nearest polygon vertex by great-circle
distance (vertices every <= 2 deg along each limit).

Both files are read once, lazily, and turned into edge arrays plus a longitude-bin index; the
point-in-polygon test itself is the array kernel :func:`kernels.geo.points_in_polygons`. Lookups
run on NumPy on the host (the inputs are small: a ground track, a few events).
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kernels.geo import (
    PolygonIndex,
    great_circle_distance_rad,
    nearest_edge,
    points_in_polygons,
)

DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "regions"
COUNTRIES_FILE = DATA_DIR / "countries_ne110m.json"
SEAS_FILE = DATA_DIR / "oceans.json"
NAMES_1975_FILE = DATA_DIR / "names_1975.json"

MAX_EDGE_DEG = 2.0        # sea limits are densified to this step before wrapping
COUNTRY_BINS = 720        # 0.5 deg longitude bins
SEA_BINS = 360            # 1 deg longitude bins
CHUNK_POINTS = 20_000     # bound the (points x bin width) work arrays
COAST_TOLERANCE_KM = 5.0  # sea points this close to a country's polygon report the country
EARTH_MEAN_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class RegionLayer:
    """One polygon layer (countries, or seas and oceans) as kernel-ready NumPy arrays."""

    label: str
    names: tuple[str, ...]
    kinds: tuple[str, ...]            # "country", "sea" or "ocean"
    codes: tuple[str, ...]            # ISO 3166-1 alpha-3 for countries, "" for seas
    edge_lon0: np.ndarray             # radians, (n_edges,)
    edge_lat0: np.ndarray
    edge_lon1: np.ndarray
    edge_lat1: np.ndarray
    edge_owner: np.ndarray            # int64, (n_edges,), sorted ascending
    north_pole_owner: np.ndarray      # bool, (n_owners,)
    index: PolygonIndex
    vertex_lat: np.ndarray            # radians, every ring vertex (fallback search)
    vertex_lon: np.ndarray
    vertex_owner: np.ndarray

    def locate(self, lat_deg, lon_deg) -> np.ndarray:
        """Owner index (-1 where none) for arrays of points in degrees."""
        lat = np.radians(np.asarray(lat_deg, dtype=np.float64).reshape(-1))
        lon = np.radians(np.asarray(lon_deg, dtype=np.float64).reshape(-1))
        out = np.empty(lat.shape, dtype=np.int64)
        for start in range(0, lat.shape[0], CHUNK_POINTS):
            sl = slice(start, start + CHUNK_POINTS)
            out[sl] = points_in_polygons(
                lat[sl], lon[sl], self.edge_lon0, self.edge_lat0, self.edge_lon1,
                self.edge_lat1, self.edge_owner, len(self.names), index=self.index,
            )
        return out

    def nearest_edge_km(self, lat_deg, lon_deg) -> tuple[np.ndarray, np.ndarray]:
        """Distance (km) to the nearest polygon edge within the index margin, and its owner.

        ``inf`` / -1 where no edge lies within the margin the index was built with.
        """
        lat = np.radians(np.asarray(lat_deg, dtype=np.float64).reshape(-1))
        lon = np.radians(np.asarray(lon_deg, dtype=np.float64).reshape(-1))
        dist = np.empty(lat.shape, dtype=np.float64)
        owner = np.empty(lat.shape, dtype=np.int64)
        for start in range(0, lat.shape[0], CHUNK_POINTS):
            sl = slice(start, start + CHUNK_POINTS)
            dist[sl], owner[sl] = nearest_edge(
                lat[sl], lon[sl], self.edge_lon0, self.edge_lat0, self.edge_lon1,
                self.edge_lat1, self.edge_owner, len(self.names), index=self.index,
            )
        return dist * EARTH_MEAN_RADIUS_KM, owner

    def nearest_vertex_owner(self, lat_deg, lon_deg) -> np.ndarray:
        """Owner of the nearest ring vertex (great circle, all vertices) for each point."""
        lat = np.radians(np.asarray(lat_deg, dtype=np.float64).reshape(-1, 1))
        lon = np.radians(np.asarray(lon_deg, dtype=np.float64).reshape(-1, 1))
        if lat.shape[0] == 0:
            return np.empty(0, dtype=np.int64)
        d = great_circle_distance_rad(lat, lon, self.vertex_lat[None, :], self.vertex_lon[None, :])
        return self.vertex_owner[np.argmin(d, axis=1)]


@dataclass(frozen=True)
class Region:
    """What one point lies in."""

    name: str              # display name (with the 1975 label where one applies)
    modern_name: str       # today's name from the data file
    kind: str              # "country", "sea" or "ocean"
    code: str              # ISO alpha-3 for countries, "" otherwise
    note: str | None       # historical note, if any
    coast_snapped: bool    # at sea in the data, but within COAST_TOLERANCE_KM of this country
    fallback: bool         # True when chosen by the nearest-ocean fallback


# --- geometry preparation (host, once) -------------------------------------------------------

def _wrap_deg(lon):
    """Wrap degrees to (-180, 180]."""
    w = (np.asarray(lon, dtype=np.float64) + 180.0) % 360.0 - 180.0
    return np.where(w == -180.0, 180.0, w)


def _densify(ring, max_step_deg: float) -> np.ndarray:
    """Insert vertices so no edge spans more than ``max_step_deg`` in lon or lat.

    Edges run along the direction written (continuous longitudes allowed). An edge whose ends
    differ by a whole number of turns in longitude at equal latitude joins a point to itself
    (e.g. the closing edge of a ring round the pole written from -180 to +180) and is dropped.
    """
    pts = np.asarray(ring, dtype=np.float64)
    out = []
    for p, q in zip(pts, np.roll(pts, -1, axis=0)):
        d = q - p
        if d[1] == 0.0 and d[0] != 0.0 and (d[0] % 360.0) == 0.0:
            out.append(p[None, :])
            continue
        n = max(1, int(math.ceil(max(abs(d[0]), abs(d[1])) / max_step_deg)))
        k = np.arange(n, dtype=np.float64)[:, None] / n
        out.append(p[None, :] + k * d[None, :])
    return np.concatenate(out, axis=0)


def _ring_edges(ring_deg: np.ndarray):
    lon = np.radians(_wrap_deg(ring_deg[:, 0]))
    lat = np.radians(ring_deg[:, 1])
    return lon, lat, np.roll(lon, -1), np.roll(lat, -1)


def build_polygon_index(edge_lon0, edge_lat0, edge_lon1, edge_lat1, edge_owner, n_owners: int,
                        north_pole_owner, n_bins: int, margin_rad: float = 0.0) -> PolygonIndex:
    """Longitude-bin index for the kernels in :mod:`kernels.geo` (NumPy, host, once).

    Every edge is listed in each bin its short-way longitude span touches (with a tiny margin).
    With ``margin_rad == 0`` edges along a meridian (which never cross a ray) are left out; with
    ``margin_rad > 0`` every edge is listed in all bins within that angular distance
    (``margin / cos(lat)`` in longitude, latitude capped at 85 deg) so that
    :func:`kernels.geo.nearest_edge` finds every edge that close. Every bin also gets one
    "no edge" slot per North-Pole owner so the parity flip applies where none of its edges lie.
    """
    e0 = np.asarray(edge_lon0, dtype=np.float64)
    e1 = np.asarray(edge_lon1, dtype=np.float64)
    owner_all = np.asarray(edge_owner, dtype=np.int64)
    n_edges = e0.shape[0]
    span = (e1 - e0 + math.pi) % (2 * math.pi) - math.pi
    if margin_rad > 0.0:
        active = np.arange(n_edges)
        max_abs_lat = np.minimum(np.maximum(np.abs(edge_lat0), np.abs(edge_lat1)),
                                 np.radians(85.0))
        pad_lon = (margin_rad / np.cos(max_abs_lat))[active]
    else:
        active = np.flatnonzero(span != 0.0)
        pad_lon = np.zeros(active.shape)
    lo = np.where(span > 0, e0, e0 + span)[active] - pad_lon
    hi = lo + np.abs(span[active]) + 2.0 * pad_lon
    width_rad = 2 * math.pi / n_bins
    k0 = np.floor((lo + math.pi) / width_rad - 1e-9).astype(np.int64)
    k1 = np.floor((hi + math.pi) / width_rad + 1e-9).astype(np.int64)
    k1 = np.minimum(k1, k0 + n_bins - 1)
    nk = k1 - k0 + 1
    edge_ids = np.repeat(active, nk)
    offsets = np.arange(edge_ids.shape[0]) - np.repeat(np.cumsum(nk) - nk, nk)
    bins = (np.repeat(k0, nk) + offsets) % n_bins
    owners = owner_all[edge_ids]

    pole = np.flatnonzero(np.asarray(north_pole_owner, dtype=bool))
    if pole.size:
        bins = np.concatenate([bins, np.repeat(np.arange(n_bins), pole.size)])
        owners = np.concatenate([owners, np.tile(pole, n_bins)])
        edge_ids = np.concatenate([edge_ids, np.full(n_bins * pole.size, n_edges)])

    order = np.lexsort((edge_ids, owners, bins))
    bins, owners, edge_ids = bins[order], owners[order], edge_ids[order]
    counts = np.bincount(bins, minlength=n_bins)
    width = max(1, int(counts.max()))
    col = np.arange(bins.shape[0]) - (np.cumsum(counts) - counts)[bins]

    key = bins * (n_owners + 1) + owners
    run_start = np.ones(key.shape, dtype=bool)
    run_start[1:] = key[1:] != key[:-1]
    run_last = np.ones(key.shape, dtype=bool)
    run_last[:-1] = key[1:] != key[:-1]
    first = col[run_start][np.cumsum(run_start) - 1]
    flags = np.zeros(n_owners, dtype=np.int64)
    flags[pole] = 1

    slot_edge = np.full((n_bins, width), n_edges, dtype=np.int64)
    slot_owner = np.full((n_bins, width), n_owners, dtype=np.int64)
    slot_first = np.tile(np.arange(width, dtype=np.int64), (n_bins, 1))
    slot_last = np.zeros((n_bins, width), dtype=bool)
    slot_flip = np.zeros((n_bins, width), dtype=np.int64)
    slot_edge[bins, col] = edge_ids
    slot_owner[bins, col] = owners
    slot_first[bins, col] = first
    slot_last[bins, col] = run_last
    slot_flip[bins, col] = flags[owners]
    return PolygonIndex(width_rad, slot_edge, slot_owner, slot_first, slot_last, slot_flip)


def _layer(label, names, kinds, codes, rings_per_owner, north_pole, n_bins,
           margin_rad=0.0) -> RegionLayer:
    parts = [[], [], [], [], []]
    vlat, vlon, vown = [], [], []
    for owner, rings in enumerate(rings_per_owner):
        for ring in rings:
            lon0, lat0, lon1, lat1 = _ring_edges(ring)
            for store, arr in zip(parts, (lon0, lat0, lon1, lat1)):
                store.append(arr)
            parts[4].append(np.full(lon0.shape, owner, dtype=np.int64))
            vlat.append(lat0)
            vlon.append(lon0)
            vown.append(np.full(lon0.shape, owner, dtype=np.int64))
    lon0, lat0, lon1, lat1, owner = (np.concatenate(p) for p in parts)
    north = np.asarray(north_pole, dtype=bool)
    index = build_polygon_index(lon0, lat0, lon1, lat1, owner, len(names), north, n_bins,
                                margin_rad)
    return RegionLayer(
        label=label, names=tuple(names), kinds=tuple(kinds), codes=tuple(codes),
        edge_lon0=lon0, edge_lat0=lat0, edge_lon1=lon1, edge_lat1=lat1, edge_owner=owner,
        north_pole_owner=north, index=index, vertex_lat=np.concatenate(vlat),
        vertex_lon=np.concatenate(vlon), vertex_owner=np.concatenate(vown),
    )


@functools.lru_cache(maxsize=None)
def countries() -> RegionLayer:
    """The country layer (loaded on first use, then cached)."""
    doc = json.loads(COUNTRIES_FILE.read_text(encoding="utf-8"))
    entries = doc["countries"]
    return _layer(
        "countries",
        [c["name"] for c in entries],
        ["country"] * len(entries),
        [c["iso_a3"] for c in entries],
        [[np.asarray(r, dtype=np.float64) for r in c["rings"]] for c in entries],
        [False] * len(entries),
        COUNTRY_BINS,
        margin_rad=COAST_TOLERANCE_KM / EARTH_MEAN_RADIUS_KM,
    )


@functools.lru_cache(maxsize=None)
def seas() -> RegionLayer:
    """The sea and ocean layer, in priority order (loaded on first use, then cached)."""
    doc = json.loads(SEAS_FILE.read_text(encoding="utf-8"))
    entries = sorted(doc["regions"], key=lambda r: r["priority"])
    return _layer(
        "seas and oceans",
        [r["name"] for r in entries],
        [r["kind"] for r in entries],
        [""] * len(entries),
        [[_densify(ring, MAX_EDGE_DEG) for ring in r["rings"]] for r in entries],
        [r.get("contains_pole") == "north" for r in entries],
        SEA_BINS,
    )


@functools.lru_cache(maxsize=None)
def _names_1975() -> dict:
    return json.loads(NAMES_1975_FILE.read_text(encoding="utf-8"))["by_iso_a3"]


def _country_labels(code: str, modern: str, part: int | None = None) -> tuple[str, str | None]:
    """The display name and note of a country; ``part``: the index of the 1975 part of a split
    country the point lies in (:func:`_parts`), None for the country's own label."""
    entry = _names_1975().get(code)
    if not entry:
        return modern, None
    then = entry["parts"][part]["then"] if part is not None else entry.get("then")
    return (f"{modern} (then {then})" if then else modern), entry.get("note")


@functools.lru_cache(maxsize=None)
def _parts() -> tuple[dict[str, tuple[int, int]], RegionLayer | None]:
    """The 1975 parts of split countries as one polygon layer: {code: (first owner, count)} and
    the layer (owners in file order, so the first part listed wins where they overlap)."""
    spans, names, rings = {}, [], []
    for code, entry in _names_1975().items():
        parts = entry.get("parts") or []
        if parts:
            spans[code] = (len(names), len(parts))
            for part in parts:
                names.append(part["then"])
                rings.append([np.asarray(part["ring"], dtype=np.float64)])
    if not names:
        return spans, None
    return spans, _layer("1975 parts", names, ["country"] * len(names), [""] * len(names), rings,
                         [False] * len(names), 72)


def _part_of(codes: list[str], lat: np.ndarray, lon: np.ndarray) -> list[int | None]:
    """For each point in a country with 1975 parts: the part's index within its country, else None."""
    spans, layer = _parts()
    out: list[int | None] = [None] * len(codes)
    todo = [i for i, c in enumerate(codes) if c in spans]
    if not todo or layer is None:
        return out
    owner = layer.locate(lat[todo], lon[todo])
    for i, o in zip(todo, owner.tolist()):
        first, count = spans[codes[i]]
        if first <= o < first + count:
            out[i] = o - first
    return out


def region_note(name_or_code: str) -> str | None:
    """The historical note for a country (ISO alpha-3, modern name or display name), if any."""
    layer = countries()
    key = name_or_code.split(" (then ")[0]
    for name, code in zip(layer.names, layer.codes):
        if key in (name, code):
            return _country_labels(code, name)[1]
    return None


# --- lookups -------------------------------------------------------------------------------

def region_info(lat_deg, lon_deg) -> list[Region]:
    """:class:`Region` for each point (arrays or scalars of degrees, same size).

    Order: the country containing the point; else a country whose polygon is within
    ``COAST_TOLERANCE_KM`` (Natural Earth 1:110m coasts are generalised by a few km, which
    would otherwise put shore sites such as Cape Canaveral at sea); else the first sea/ocean by
    priority; else the sea/ocean with the nearest vertex (great circle).
    """
    lat = np.asarray(lat_deg, dtype=np.float64).reshape(-1)
    lon = np.asarray(lon_deg, dtype=np.float64).reshape(-1)
    if lat.shape != lon.shape:
        raise ValueError(f"lat_deg and lon_deg differ in size: {lat.shape} vs {lon.shape}")
    bad = ~(np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90.0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{int(bad.sum())} point(s) are not valid latitude/longitude, "
                         f"first at index {i}: ({lat[i]}, {lon[i]})")
    if lat.size == 0:
        return []
    land = countries()
    water = seas()
    country = land.locate(lat, lon)
    snapped = np.zeros(lat.shape, dtype=bool)
    wet = np.flatnonzero(country < 0)
    if wet.size:
        dist_km, near = land.nearest_edge_km(lat[wet], lon[wet])
        close = (near >= 0) & (dist_km <= COAST_TOLERANCE_KM)
        country[wet[close]] = near[close]
        snapped[wet[close]] = True
    sea = np.full(lat.shape, -1, dtype=np.int64)
    wet = np.flatnonzero(country < 0)
    if wet.size:
        sea[wet] = water.locate(lat[wet], lon[wet])
    gap = np.flatnonzero((country < 0) & (sea < 0))
    if gap.size:
        sea[gap] = water.nearest_vertex_owner(lat[gap], lon[gap])
    is_gap = np.zeros(lat.shape, dtype=bool)
    is_gap[gap] = True
    out = []
    parts = _part_of([land.codes[c] if c >= 0 else "" for c in country.tolist()], lat, lon)
    for c, s, snap, fb, part in zip(country.tolist(), sea.tolist(), snapped.tolist(), is_gap.tolist(), parts):
        if c >= 0:
            modern, code = land.names[c], land.codes[c]
            name, note = _country_labels(code, modern, part)
            out.append(Region(name, modern, "country", code, note, snap, False))
        else:
            out.append(Region(water.names[s], water.names[s], water.kinds[s], "", None, False, fb))
    return out


def region_names(lat_deg, lon_deg, *, historical: bool = True) -> list[str]:
    """Name of the country, sea or ocean under each point (degrees; NumPy arrays or scalars).

    ``historical=True`` (default) labels countries for July 1975 where the map differed, e.g.
    "Kazakhstan (then Kazakh SSR, USSR)"; ``False`` gives today's names only.
    """
    info = region_info(lat_deg, lon_deg)
    return [r.name if historical else r.modern_name for r in info]
