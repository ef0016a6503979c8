"""The command line's shared argument shapes: one ``--backend`` option and the number parsers
that turn a bad value into argparse's one-line error (``astp: error: ... (see 'astp X --help')``,
exit 2; experience/frontends/cli.py's parser raises it as an AstpError).

Every front end's ``add_parser(sub, add_backend)`` gets :func:`add_backend` from cli.py; the
parsers are for ``type=``::

    p.add_argument("--samples", type=int_arg("--samples", lo=1), ...)
    p.add_argument("--dt", type=float_arg("--dt", lo=0.001, hi=0.2, unit="s", example="0.0333"), ...)
"""

from __future__ import annotations

import argparse
import math

from experience.backend import CHOICES as BACKENDS


def add_backend(p) -> None:
    # SUPPRESS: the option may stand before or after the command (astp --backend numpy ephemeris
    # ... or astp ephemeris ... --backend numpy) without one default overwriting the other.
    p.add_argument("--backend", choices=BACKENDS, default=argparse.SUPPRESS,
                   help="array backend (default: $ASTP_BACKEND or auto: CuPy if a CUDA GPU is usable, else NumPy)")


def _range(flag: str, value, lo, hi, unit: str, example: str | None, text: str):
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        span = (f"{lo:g}..{hi:g}" if lo is not None and hi is not None else
                f"at least {lo:g}" if lo is not None else f"at most {hi:g}")
        tail = f"; use e.g. {example}" if example else ""
        raise argparse.ArgumentTypeError(f"{flag} {text} is outside {span}{' ' + unit if unit else ''}{tail}")
    return value


def int_arg(flag: str, *, lo: int | None = None, hi: int | None = None, unit: str = "", example: str | None = None):
    """``type=`` for a whole number (optionally within lo..hi)."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} takes a whole number, not {text!r}") from None
        return _range(flag, value, lo, hi, unit, example, text)
    return parse


def float_arg(flag: str, *, lo: float | None = None, hi: float | None = None, unit: str = "",
              example: str | None = None):
    """``type=`` for a finite number (optionally within lo..hi)."""
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} takes numbers, not {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{flag} takes finite numbers, not {text!r}")
        return _range(flag, value, lo, hi, unit, example, text)
    return parse
