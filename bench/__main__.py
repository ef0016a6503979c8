"""``python -m bench NAME [--quick] [--json] [--backend numpy|cupy]`` (run from the repo root)."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import sys

import bench


def available() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if not m.name.startswith("_"))


def _fmt_rate(x) -> str:
    if not isinstance(x, (int, float)):
        return str(x)
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.2f} {unit}/s"
    return f"{x:.2f} /s"


def _table(result: dict) -> str:
    m = result.get("machine", {})
    lines = [f"{result['name']}: {result.get('what', '')}".rstrip(": "),
             f"  ours      {_fmt_rate(result['ours_per_s']):>14}  {result.get('ours', '')}",
             f"  baseline  {_fmt_rate(result['baseline_per_s']):>14}  {result['baseline']}",
             f"  ratio     {result['ratio']:>12.2f}x"]
    for row in result.get("by_batch", []):
        size = row.get("pairs", row.get("cases"))
        lines.append(f"  batch {size:>9,}  ours {_fmt_rate(row['ours_per_s']):>14}  baseline "
                     f"{_fmt_rate(row['baseline_per_s']):>14}  ratio {row['ratio']:8.2f}x"
                     + ("" if row.get("ours_wins", True) else "  (ours loses)"))
    for key, value in result.get("variants", {}).items():
        lines.append(f"  variant   {_fmt_rate(value):>14}  {key}")
    lines.append(f"  machine   {m.get('cpu')}, {m.get('cores')} cores, Python {m.get('python')}, "
                 f"NumPy {m.get('numpy')}, backend {m.get('backend')} ({m.get('device')})")
    if "load_average" in result:
        lines.append(f"  load avg  {result['load_average']}")
    lines.append(f"  notes     {result['notes']}")
    return "\n".join(lines)


def main(argv=None) -> int:
    names = available()
    parser = argparse.ArgumentParser(prog="python -m bench", description="Run one benchmark.")
    parser.add_argument("name", help=f"benchmark to run: {', '.join(names)}")
    parser.add_argument("--quick", action="store_true", help="small sizes (seconds, for tests)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--backend", choices=("numpy", "cupy", "auto"),
                        help="array backend for our side (default: $ASTP_BACKEND, else numpy)")
    args = parser.parse_args(argv)
    if args.name not in names:
        print(f"unknown benchmark {args.name!r}; available: {', '.join(names)}", file=sys.stderr)
        return 2
    if args.backend:
        os.environ["ASTP_BACKEND"] = args.backend
    # Single-threaded comparisons: keep BLAS (used by some kernels for small products) on one
    # thread; must be set before NumPy is first imported.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    module = importlib.import_module(f"bench.{args.name}")
    try:
        result = module.run(args.quick)
    except Exception as exc:  # an AstpError (e.g. CuPy requested but unusable) reads as one line
        from experience.errors import AstpError

        if isinstance(exc, AstpError):
            print(f"bench {args.name}: {exc}", file=sys.stderr)
            return exc.exit_code
        raise
    print(json.dumps(result, indent=None if args.json else 2) if args.json else _table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
