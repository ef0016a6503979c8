"""Geographic kernels: great-circle distance and point-in-polygon on the longitude/latitude plane.

Polygons are given as flat edge arrays (one row per ring edge, radians) plus the index of the
polygon ("owner") each edge belongs to. Owners are numbered by priority: where a point lies in
several owners, the lowest owner index wins.

Point-in-polygon rule (even-odd, antimeridian-safe)
----------------------------------------------------
From each point a ray runs due north along its meridian to the pole. An edge counts when the
point's longitude lies in the edge's half-open longitude span, and the edge's latitude there
(linear in longitude, as the polygon is drawn on an equirectangular map) is strictly greater
than the point's latitude. An odd count means inside.

* Every edge is taken the short way round in longitude (``wrap_pi(lon1 - lon0)``), so rings may
  cross the antimeridian freely (Russia, Fiji, the Pacific) as long as no single edge spans
  180 deg or more: densify long edges first.
* Edges along a meridian (zero longitude span) never count, so the cut edges that
  Natural Earth runs along +-180 deg are harmless.
* A ring that winds once round the polar axis encloses the *South* Pole under this rule
  (Antarctica, the Southern Ocean). An owner that encloses the *North* Pole (the Arctic Ocean)
  is flagged in ``north_pole_owner``: its parity is flipped.
* Boundary points: a point exactly on an edge belongs to the polygon north of the edge
  (strict ``>``), so a point on the equator between the North and South Atlantic is North.

All functions take their array namespace from the inputs (NumPy, CuPy, ``array_api_strict``)
and never loop over points in Python.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from kernels._xp import TWO_PI, namespace, wrap_pi
from array_api_compat import device as _device


def great_circle_distance_rad(lat1_rad, lon1_rad, lat2_rad, lon2_rad):
    """Central angle between points on a sphere (haversine form, stable for small angles).

    Inputs broadcast against each other; multiply by a radius for a distance.
    """
    xp = namespace(lat1_rad, lon1_rad, lat2_rad, lon2_rad)
    s_lat = xp.sin(0.5 * (lat2_rad - lat1_rad))
    s_lon = xp.sin(0.5 * (lon2_rad - lon1_rad))
    h = s_lat * s_lat + xp.cos(lat1_rad) * xp.cos(lat2_rad) * s_lon * s_lon
    h = xp.clip(h, 0.0, 1.0)
    return 2.0 * xp.asin(xp.sqrt(h))


def _edge_spans(edge_lon0, edge_lat0, edge_lon1, edge_lat1):
    """Per-edge start longitude, longitude width, latitude at the start and slope.

    An edge covers the half-open longitude interval ``[lo, lo + width)`` taken the short way
    round. ``lo`` is the actual vertex longitude (wrapped), so a ray through a vertex is counted
    exactly once (the width is computed with the same floating-point operations as the
    relative longitude of that vertex).
    """
    xp = namespace(edge_lon0, edge_lat0, edge_lon1, edge_lat1)
    lon0, lon1 = wrap_pi(edge_lon0), wrap_pi(edge_lon1)
    span = wrap_pi(lon1 - lon0)
    forward = span > 0.0
    lo = xp.where(forward, lon0, lon1)
    width = xp.abs(span)
    lat_lo = xp.where(forward, edge_lat0, edge_lat1)
    lat_hi = xp.where(forward, edge_lat1, edge_lat0)
    safe = xp.where(width == 0.0, xp.ones_like(width), width)
    return lo, width, lat_lo, (lat_hi - lat_lo) / safe


def _crossings(lat_rad, lon_rad, lo, width, lat_lo, slope):
    """Ray test on precomputed spans; ``lon_rad`` and ``lo`` both wrapped to (-pi, pi]."""
    xp = namespace(lat_rad, lon_rad, lo, width, lat_lo, slope)
    rel = lon_rad - lo
    rel = xp.where(rel < 0.0, rel + TWO_PI, rel)  # now in [0, 2 pi)
    return (rel < width) & ((lat_lo + rel * slope) > lat_rad)


def meridian_ray_crossings(lat_rad, lon_rad, edge_lon0, edge_lat0, edge_lon1, edge_lat1):
    """Boolean: does the edge cross the northward meridian ray from the point?

    Point and edge arrays broadcast against each other (e.g. points ``(n, 1)`` against edges
    ``(1, m)`` or ``(n, m)``). See the module docstring for the rule.
    """
    lo, width, lat_lo, slope = _edge_spans(edge_lon0, edge_lat0, edge_lon1, edge_lat1)
    return _crossings(lat_rad, wrap_pi(lon_rad), lo, width, lat_lo, slope)


class PolygonIndex(NamedTuple):
    """Edges pre-sorted into longitude bins so that a point tests only its bin's edges.

    Row ``b`` covers longitudes ``[-pi + b*w, -pi + (b+1)*w)`` (``w = bin_width_rad``) and lists
    every edge whose longitude span touches it, grouped by owner in ascending owner order,
    padded to a common width. Build it once on the host (see
    ``experience.simulation.regions.build_polygon_index``); the trivial one-row index (all edges)
    is built here when none is given.

    slot_edge:  (n_bins, width) int64, edge index; ``n_edges`` means "no edge" (a degenerate
                edge that never crosses is appended by the kernel).
    slot_owner: (n_bins, width) int64, owner of the slot; ``n_owners`` on padding.
    slot_first: (n_bins, width) int64, column of the first slot of the same owner run.
    slot_last:  (n_bins, width) bool, True on the last slot of an owner run.
    slot_flip:  (n_bins, width) int64, 1 where the owner encloses the North Pole. Each row must
                hold at least one slot (a "no edge" one will do) for every such owner.
    """

    bin_width_rad: float
    slot_edge: Any
    slot_owner: Any
    slot_first: Any
    slot_last: Any
    slot_flip: Any


def single_bin_index(edge_owner, n_owners: int, north_pole_owner=None) -> PolygonIndex:
    """The one-row index over all edges (brute force: every point tests every edge)."""
    xp = namespace(edge_owner)
    dev = _device(edge_owner)
    owner = xp.astype(edge_owner, xp.int64)
    order = xp.argsort(owner, stable=True)
    sorted_owner = xp.take(owner, order)
    first = xp.searchsorted(sorted_owner, sorted_owner, side="left")
    n = sorted_owner.shape[0]
    if n > 1:
        change = sorted_owner[1:] != sorted_owner[:-1]
        last = xp.concat((change, xp.ones((1,), dtype=xp.bool, device=dev)))
    else:
        last = xp.ones((n,), dtype=xp.bool, device=dev)
    if north_pole_owner is None:
        flip = xp.zeros((n,), dtype=xp.int64, device=dev)
    else:
        flags = xp.astype(north_pole_owner, xp.int64)
        flip = xp.take(flags, sorted_owner)
    return PolygonIndex(
        bin_width_rad=2.0 * math.pi + 1.0,
        slot_edge=xp.reshape(xp.astype(order, xp.int64), (1, n)),
        slot_owner=xp.reshape(sorted_owner, (1, n)),
        slot_first=xp.reshape(xp.astype(first, xp.int64), (1, n)),
        slot_last=xp.reshape(last, (1, n)),
        slot_flip=xp.reshape(flip, (1, n)),
    )


def _bins(lon_wrapped, index: PolygonIndex):
    xp = namespace(lon_wrapped)
    n_bins = index.slot_edge.shape[0]
    b = xp.astype(xp.floor((lon_wrapped + math.pi) / index.bin_width_rad), xp.int64)
    return xp.clip(b, 0, n_bins - 1)


def points_in_polygons(lat_rad, lon_rad, edge_lon0, edge_lat0, edge_lon1, edge_lat1,
                       edge_owner, n_owners: int, *, north_pole_owner=None,
                       index: PolygonIndex | None = None):
    """Index of the first (lowest-numbered) owner polygon containing each point, or -1.

    lat_rad, lon_rad: (n_points,) geodetic latitude/longitude in radians (any longitude; it is
        wrapped to (-pi, pi]).
    edge_*: (n_edges,) edge end points in radians; edge_owner: (n_edges,) integer owner index in
        ``[0, n_owners)``. Holes are simply more rings of the same owner (even-odd rule).
    north_pole_owner: optional (n_owners,) bool, owners that enclose the North Pole (only used
        when ``index`` is None; a prebuilt index carries the flags in ``slot_flip``).
    index: optional :class:`PolygonIndex` (longitude bins) built for exactly these edges; without
        it every point tests every edge (fine for a few hundred points or edges).

    Returns (n_points,) int64.
    """
    xp = namespace(lat_rad, lon_rad, edge_lon0, edge_lat0, edge_lon1, edge_lat1)
    dev = _device(lat_rad)
    if index is None:
        index = single_bin_index(edge_owner, n_owners, north_pole_owner)
    n_points = lat_rad.shape[0]
    width_slots = index.slot_edge.shape[1]

    # Per-edge spans plus one degenerate "no edge" row (zero width: never crosses).
    pad = xp.zeros((1,), dtype=edge_lon0.dtype, device=dev)
    lo, width, lat_lo, slope = (
        xp.concat((a, pad)) for a in _edge_spans(edge_lon0, edge_lat0, edge_lon1, edge_lat1)
    )

    lon = wrap_pi(lon_rad)
    b = _bins(lon, index)
    slot_edge = xp.reshape(xp.take(index.slot_edge, b, axis=0), (-1,))

    def gather(values):
        return xp.reshape(xp.take(values, slot_edge), (n_points, width_slots))

    crosses = _crossings(
        xp.reshape(lat_rad, (n_points, 1)), xp.reshape(lon, (n_points, 1)),
        gather(lo), gather(width), gather(lat_lo), gather(slope),
    )
    count = xp.astype(crosses, xp.int64)
    running = xp.cumulative_sum(count, axis=1)
    before = running - count  # crossings strictly before each slot in its row
    # Crossings of an owner run = running count at its last slot - count before its first slot.
    first = xp.take(index.slot_first, b, axis=0)
    row_start = xp.reshape(xp.arange(n_points, dtype=xp.int64, device=dev) * width_slots,
                           (n_points, 1))
    before_first = xp.reshape(
        xp.take(xp.reshape(before, (-1,)), xp.reshape(first + row_start, (-1,))),
        (n_points, width_slots),
    )
    run_count = running - before_first + xp.take(index.slot_flip, b, axis=0)
    inside = ((run_count % 2) == 1) & xp.take(index.slot_last, b, axis=0)
    owner = xp.take(index.slot_owner, b, axis=0)
    candidate = xp.where(inside, owner, xp.full_like(owner, n_owners))
    best = xp.min(candidate, axis=1)
    return xp.where(best == n_owners, xp.full_like(best, -1), best)


def nearest_edge(lat_rad, lon_rad, edge_lon0, edge_lat0, edge_lon1, edge_lat1, edge_owner,
                 n_owners: int, *, index: PolygonIndex | None = None):
    """Angular distance (rad) to the nearest edge and that edge's owner, for each point.

    Only the edges listed in the point's longitude bin are searched, so build the index with a
    longitude margin at least as wide as the distances you care about (``margin_rad`` in
    ``experience.simulation.regions.build_polygon_index``); without an index every edge is
    searched. The distance is planar in a local equirectangular frame (x = dlon cos(lat),
    y = dlat): good to a fraction of a percent for the few-km distances it is meant for
    (a coastline tolerance), and not meant for distances of many degrees or at the poles.

    Returns ``(distance_rad, owner)``: (n_points,) float64 and int64 (``inf`` and -1 where the
    bin holds no edge).
    """
    xp = namespace(lat_rad, lon_rad, edge_lon0, edge_lat0, edge_lon1, edge_lat1)
    dev = _device(lat_rad)
    if index is None:
        index = single_bin_index(edge_owner, n_owners)
    n_points = lat_rad.shape[0]
    width_slots = index.slot_edge.shape[1]
    pad = xp.zeros((1,), dtype=edge_lon0.dtype, device=dev)
    lon0 = xp.concat((wrap_pi(edge_lon0), pad))
    lat0 = xp.concat((edge_lat0, pad))
    lon1 = xp.concat((wrap_pi(edge_lon1), pad))
    lat1 = xp.concat((edge_lat1, pad))
    lon = wrap_pi(lon_rad)
    b = _bins(lon, index)
    slot_edge = xp.reshape(xp.take(index.slot_edge, b, axis=0), (-1,))

    def gather(values):
        return xp.reshape(xp.take(values, slot_edge), (n_points, width_slots))

    lat_p = xp.reshape(lat_rad, (n_points, 1))
    lon_p = xp.reshape(lon, (n_points, 1))
    coslat = xp.cos(lat_p)
    ax = wrap_pi(gather(lon0) - lon_p) * coslat
    ay = gather(lat0) - lat_p
    bx = wrap_pi(gather(lon1) - lon_p) * coslat
    by = gather(lat1) - lat_p
    sx, sy = bx - ax, by - ay
    ss = sx * sx + sy * sy
    t = -(ax * sx + ay * sy) / xp.where(ss == 0.0, xp.ones_like(ss), ss)
    t = xp.clip(t, 0.0, 1.0)
    cx, cy = ax + t * sx, ay + t * sy
    dist = xp.sqrt(cx * cx + cy * cy)
    owner = xp.take(index.slot_owner, b, axis=0)
    dist = xp.where(owner == n_owners, xp.full_like(dist, math.inf), dist)
    best = xp.argmin(dist, axis=1)
    row = xp.arange(n_points, dtype=xp.int64, device=dev) * width_slots
    flat = row + xp.astype(best, xp.int64)
    best_dist = xp.take(xp.reshape(dist, (-1,)), flat)
    best_owner = xp.take(xp.reshape(owner, (-1,)), flat)
    none = best_dist == math.inf
    return best_dist, xp.where(none, xp.full_like(best_owner, -1), best_owner)
