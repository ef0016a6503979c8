#!/usr/bin/env python3
"""Rebuild the generated data in generated/ (what the program would otherwise compute on first use).

    python tools/build_generated.py [NAME ...] [--out DIR] [--check]

NAME: trajectory (the reconstructed orbits, ~20 s), watermask and clouds (Earth textures, ~3 s),
docking-replay (the simulated docking of 16:09 UTC, ~1-2 min); default: all. Each file carries
the key of the code and data it was built from (experience/cache.py); the program uses it only
while that key matches, so after a change to the keyed code or data, run this and commit the
result. ``--check`` builds nothing: it says which files are missing, stale or damaged (exit 1).

The builds are deterministic: on the same platform a rebuild is byte-identical
(tests/test_generated.py compares a rebuild with the stored files; see experience/generated.py).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from experience import generated  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", metavar="NAME", help=f"which files (default: all: {', '.join(generated.NAMES)})")
    ap.add_argument("--out", type=Path, default=None, help="output folder (default: generated/)")
    ap.add_argument("--check", action="store_true", help="only say whether each file is current (exit 1 if not)")
    args = ap.parse_args(argv)
    names = args.names or list(generated.NAMES)
    unknown = [n for n in names if n not in generated.NAMES]
    if unknown:
        ap.error(f"unknown name(s) {', '.join(unknown)}; choose from {', '.join(generated.NAMES)}")
    if args.check:
        states = {n: generated.status(n, args.out) for n in names}
        for n, s in states.items():
            print(f"{n:16s} {s}")
        return 0 if all(s == "current" for s in states.values()) else 1
    total = 0
    for name in names:
        t0 = time.perf_counter()
        path = generated.build(name, args.out)
        size = path.stat().st_size
        total += size
        print(f"{name:16s} {size / 1e6:6.2f} MB  {time.perf_counter() - t0:6.1f} s  {path}")
    print(f"{len(names)} files, {total / 1e6:.2f} MB in {path.parent}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
