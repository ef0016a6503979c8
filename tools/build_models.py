#!/usr/bin/env python3
"""Regenerate the spacecraft and crew models in models/ (glTF 2.0) from data/mission/*.toml.

    python tools/build_models.py [--out DIR]

The output is deterministic: rebuilding gives byte-identical files (tests/test_models.py checks
the stored files against a fresh build).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from experience.scene.modelgen import FILES, build_all  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "models", help="output folder (default: models/)")
    args = ap.parse_args(argv)
    counts = build_all(args.out)
    total = sum((args.out / f).stat().st_size for f in FILES)
    for name, n in counts.items():
        print(f"{name:16s} {n:7d} triangles")
    print(f"{len(FILES)} files, {total / 1e6:.2f} MB in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
