"""The ground-track map front end: a synthetic case rendered to PNG and checked pixel-wise."""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from experience.frontends import groundmap

MOMENT = "1975-07-17 16:09:09 UTC"


def _sine_track(lon_start, phase_deg, n=500):
    """Two and a half sine 'orbits' whose node drifts 22.5 deg west per lap (like a real
    ground track): crosses the antimeridian at a different latitude each lap."""
    lon = lon_start + np.linspace(0.0, 900.0, n)
    lat = 51.8 * np.sin(np.radians(lon * 360.0 / 337.5 + phase_deg))
    return lat, (lon + 180.0) % 360.0 - 180.0


def _night_mask(rows=90, cols=180):
    """Night over the eastern hemisphere (0..180 E), day over the western."""
    mask = np.zeros((rows, cols))
    mask[:, cols // 2:] = 1.0
    return mask


A_LAT, A_LON = _sine_track(100.0, 0.0)
S_LAT, S_LON = _sine_track(110.0, 20.0)
EVENTS = [
    {"label": "Docking", "utc": "1975-07-17T16:09:09Z", "lat_deg": 20.0, "lon_deg": -120.0,
     "vehicle": "Apollo"},
    {"label": "Handshake", "utc": "1975-07-17T19:17:00Z", "lat_deg": 21.5, "lon_deg": -117.0,
     "vehicle": "Soyuz"},
    {"label": "Undocking", "utc": "1975-07-19T12:12:00Z", "lat_deg": -30.0, "lon_deg": 179.5,
     "vehicle": "Apollo"},
]


def _render(path, **kw):
    args = dict(tracks=[], events=[], night_mask=None, moment_label=MOMENT, title="Test map")
    args.update(kw)
    return groundmap.render_ground_track_map(path, **args)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    folder = tmp_path_factory.mktemp("groundmap")
    tracks = [
        {"label": "Apollo", "color": "#ffb000", "lat_deg": A_LAT, "lon_deg": A_LON},
        SimpleNamespace(label="Soyuz", color="#ff4f6d", lat_deg=S_LAT, lon_deg=S_LON),
    ]
    full = _render(folder / "full.png", tracks=tracks, events=EVENTS, night_mask=_night_mask(),
                   subsolar=(21.0, -62.0))
    plain = _render(folder / "plain.png")
    return full, plain


def _rgb(path):
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB")).astype(np.float64)


def test_png_of_expected_size_and_not_blank(rendered):
    full, _ = rendered
    with Image.open(full.path) as img:
        assert img.format == "PNG"
        assert img.size == (2400, 1300) == full.size_px
    rgb = _rgb(full.path)
    assert rgb.std() > 20.0
    assert len(np.unique(rgb[::7, ::7].reshape(-1, 3), axis=0)) > 500


def test_event_markers_change_the_pixels(rendered):
    full, plain = rendered
    a, b = _rgb(full.path), _rgb(plain.path)
    for ev in EVENTS:
        x, y = full.to_pixel(ev["lat_deg"], ev["lon_deg"])
        win = (slice(int(y) - 5, int(y) + 6), slice(int(x) - 5, int(x) + 6))
        assert np.abs(a[win] - b[win]).mean() > 40.0, ev["label"]
    # Far from tracks, events and the night side the map is the plain Blue Marble.
    x, y = full.to_pixel(-80.0, -100.0)  # 80 S 100 W, day side, no track (|lat| > 51.8)
    win = (slice(int(y) - 5, int(y) + 6), slice(int(x) - 5, int(x) + 6))
    assert np.abs(a[win] - b[win]).mean() < 2.0


def test_night_side_is_darker(rendered):
    full, plain = rendered
    a, b = _rgb(full.path).mean(axis=2), _rgb(plain.path).mean(axis=2)
    left, top, right, bottom = full.map_box_px
    mid = (left + right) // 2
    rows = slice(top + 20, bottom - 20)
    day = (rows, slice(left + 20, mid - 40))
    night = (rows, slice(mid + 40, right - 20))
    assert a[night].mean() < 0.7 * a[day].mean()
    assert a[night].mean() < 0.6 * b[night].mean()   # darkened relative to the Blue Marble
    assert a[day].mean() > 0.9 * b[day].mean()       # the day side is not


def test_antimeridian_split_has_no_streaks():
    lat, lon = groundmap.split_at_antimeridian(A_LAT, A_LON)
    finite = np.isfinite(lon[:-1]) & np.isfinite(lon[1:])
    assert np.abs(np.diff(lon))[finite].max() < 180.0
    breaks = np.flatnonzero(np.isnan(lon))
    assert breaks.size >= 2
    for i in breaks:  # the line is carried to the edge on both sides of every break
        assert abs(lon[i - 1]) == 180.0 and lon[i + 1] == -lon[i - 1]
        assert lat[i - 1] == lat[i + 1]
        assert abs(lat[i - 1]) <= 51.8


def test_bad_paths_are_one_line_errors_before_drawing(tmp_path):
    from experience.errors import AstpError

    with pytest.raises(AstpError, match=r"\.png file"):
        _render(tmp_path / "map.jpg")
    with pytest.raises(AstpError, match=r"\.png file"):
        _render(tmp_path / "map")
    with pytest.raises(AstpError, match="does not exist"):
        _render(tmp_path / "missing" / "map.png")
    (tmp_path / "dir.png").mkdir()
    with pytest.raises(AstpError, match="is a folder"):
        _render(tmp_path / "dir.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.png"]  # nothing else written


def test_bad_night_mask_raises(tmp_path):
    with pytest.raises(ValueError, match="night_mask"):
        _render(tmp_path / "m.png", night_mask=np.zeros(10))


def test_frontend_does_not_import_kernels():
    tree = ast.parse(Path(groundmap.__file__).read_text())
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [n for n in names if n == "kernels" or n.startswith("kernels.")]
