"""`astp dock` and `astp dock-envelope`: the APAS-75 docking of 17 July 1975 and its capture envelope.

The lead wires these into `astp` (experience/frontends/cli.py) with::

    from experience.frontends import dock
    dock.add_dock_parsers(sub, _Parser)
    ... "dock": dock.cmd_dock, "dock-envelope": dock.cmd_dock_envelope

Every user error raises :class:`AstpError` (one line, exit code 2). The progress bar is drawn only
when standard error is a terminal; plots are drawn with matplotlib's Agg backend (never a window).
This module asks experience.simulation.docking for everything; it never imports the kernels.
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

from experience import outputs
from experience.backend import select_backend
from experience.errors import AstpError
from experience.frontends.cli_args import add_backend, float_arg, int_arg

PLOT_OUTPUT = dict(suffixes=(".png",), what="plot", example="envelope.png")

RANGE_OPTIONS = (
    ("closing_speed_m_s", "--closing-speed", "m/s"),
    ("lateral_offset_m", "--lateral-offset", "m"),
    ("lateral_rate_m_s", "--lateral-rate", "m/s"),
    ("misalign_deg", "--misalign", "deg"),
    ("angular_rate_deg_s", "--angular-rate", "deg/s"),
)


# ------------------------------------------------------------------------------------------------
# Parsers
# ------------------------------------------------------------------------------------------------
def add_dock_parsers(subparsers, parser_class=None) -> None:
    """Add the ``dock`` and ``dock-envelope`` commands to an argparse subparsers object."""
    saved = getattr(subparsers, "_parser_class", None)
    if parser_class is not None:
        subparsers._parser_class = parser_class
    try:
        p = subparsers.add_parser(
            "dock", help="the APAS-75 docking of 17 July 1975, simulated from 30 m to hard dock",
            description="Simulate the first docking (Apollo active, US hydraulic APAS-75 unit) from about 30 m "
                        "out to hard dock: contact, capture, attenuation, retraction, guide pins, hooks. Writes "
                        "a time series the scene can animate.")
        p.add_argument("--json", action="store_true", help="print one JSON object")
        p.add_argument("-o", "--output-dir", default="out", metavar="DIR",
                       help="where to write the time series (default: out/)")
        p.add_argument("--until", choices=("hard-dock", "capture"), default="hard-dock",
                       help="stop at hard dock (default) or a moment after capture (faster)")
        p.add_argument("--from-distance", type=float, default=None, metavar="M",
                       help="start this far out, metres between the interface planes (default: 30, docking.toml); "
                            "closer in, the initial errors shrink in proportion")
        p.add_argument("--rebuild", action="store_true", help="ignore the cached run and simulate again")
        add_backend(p)

        p = subparsers.add_parser(
            "dock-envelope", help="APAS-75 capture envelope: a Monte Carlo over the contact conditions",
            description="Sample closing speed, lateral offset and rate, angular misalignment and rate at the "
                        "start of contact (uniformly, random directions), simulate every case in one batched "
                        "run and report which ones the latches capture.")
        p.add_argument("--samples", type=int_arg("--samples"), required=True, metavar="N",
                       help="number of cases (thousands run at once)")
        p.add_argument("--seed", type=int_arg("--seed"), default=1975, metavar="S", help="random seed (default 1975)")
        p.add_argument("--plot", metavar="FILE.png", help="draw the capture maps into FILE.png")
        p.add_argument("--json", action="store_true", help="print one JSON object")
        p.add_argument("--active", choices=("apollo", "soyuz"), default="apollo",
                       help="the active vehicle: apollo (17 July, US unit, default) or soyuz (19 July, Soviet unit)")
        for key, flag, unit in RANGE_OPTIONS:
            p.add_argument(flag, nargs=2, type=float_arg(flag), metavar=("MIN", "MAX"), dest=key,
                           help=f"sampled range in {unit} (default: docking.toml [envelope])")
        p.add_argument("--dask", metavar="ADDRESS", default=None,
                       help="run the chunks on a Dask cluster: a scheduler address such as tcp://host:8786, "
                            "or local (a cluster of worker processes on this machine); default: this "
                            "machine's thread pool ($ASTP_THREADS caps it)")
        p.add_argument("--chunk", type=int_arg("--chunk"), default=None, metavar="CASES",
                       help="cases per chunk, one batched state each (default: 1024 on the CPU, all on a GPU); "
                            "results do not depend on it")
        p.add_argument("--run-anyway", action="store_true",
                       help="start even when the estimate says the run would take more than a day "
                            "or need more memory than is available")
        add_backend(p)
    finally:
        if parser_class is not None:
            subparsers._parser_class = saved


# ------------------------------------------------------------------------------------------------
# Progress
# ------------------------------------------------------------------------------------------------
class _Progress:
    """A one-line progress bar on standard error when it is a terminal; with ``plain_every_s``,
    a plain line every that many seconds (and one at the end) when it is not (a log, a pipe)."""

    def __init__(self, label: str, stream=None, plain_every_s: float | None = None):
        self.stream = stream or sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.plain_every_s = None if self.enabled else plain_every_s
        self.label = label
        self.t0 = time.perf_counter()
        self.last = -1.0
        self.last_plain = self.t0
        self.ended = False

    def __call__(self, fraction: float, note: str = "") -> None:
        fraction = min(max(float(fraction), 0.0), 1.0)
        if self.plain_every_s is not None:
            self._plain(fraction)
            return
        if not self.enabled:
            return
        now = time.perf_counter()
        if fraction < 1.0 and now - self.last < 0.2:
            return
        self.last = now
        width = 30
        filled = int(round(width * fraction))
        elapsed = now - self.t0
        eta = f" {_duration(elapsed * (1 - fraction) / fraction)} left" if 0.02 < fraction < 1.0 else ""
        bar = "#" * filled + "." * (width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {100 * fraction:5.1f}%{eta} {note:<24}")
        self.stream.flush()

    def _plain(self, fraction: float) -> None:
        now = time.perf_counter()
        if self.ended or (fraction < 1.0 and now - self.last_plain < self.plain_every_s):
            return
        self.last_plain = now
        self.ended = fraction >= 1.0
        elapsed = now - self.t0
        left = f", about {_duration(elapsed * (1 - fraction) / fraction)} left" if 0.0 < fraction < 1.0 else ""
        self.stream.write(f"{self.label}: {100 * fraction:.0f}% after {_duration(elapsed)}{left}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


# ------------------------------------------------------------------------------------------------
# astp dock
# ------------------------------------------------------------------------------------------------
def cmd_dock(args) -> int:
    from experience.simulation import docking

    backend = select_backend(getattr(args, "backend", None))
    start = getattr(args, "from_distance", None)
    if start is not None and not (math.isfinite(start) and 1.2 <= start <= 200.0):
        raise AstpError(f"--from-distance {start:g} m is outside 1.2..200 m (the petals must start apart); "
                        "pick a distance in that range")
    until = "capture" if getattr(args, "until", "hard-dock") == "capture" else "hard_dock"
    outputs.check_folder(args.output_dir)  # before the simulation: created when the series is written
    bar = _Progress("astp dock")
    try:
        run, path, cached = docking.historical_docking_to(
            args.output_dir, backend=backend, until=until, start_distance_m=start,
            rebuild=bool(getattr(args, "rebuild", False)), progress=bar)
    finally:
        bar.close()
    result = dict(run.result)
    result["timeseries"] = str(path)
    result["cached"] = cached
    if args.json:
        print(json.dumps(result))
        return 0
    print("APAS-75 docking of 17 July 1975, Apollo active (US hydraulic unit), simulated:")
    if not result["captured"]:
        print(f"  contact at {result['contact_utc']} at {result['contact_speed_m_s']} m/s, but NO capture")
    else:
        print(f"  contact    {result['contact_utc']}  closing at {result['contact_speed_m_s']:.3f} m/s, "
              f"{result['contact_lateral_offset_mm']:.0f} mm and {result['contact_misalignment_deg']:.2f} deg off")
        print(f"  capture    {result['capture_utc']}  (timeline: 16:09:09, SP4012)")
        if result["hard_dock_utc"]:
            print(f"  hard dock  {result['hard_dock_utc']}")
    print(f"  peak attenuator stroke {result['peak_attenuator_stroke_m'] * 1000:.1f} mm, "
          f"peak contact force {result['peak_contact_force_n']:.0f} N")
    print(f"  final misalignment {result['final_misalignment_mm']:.3f} mm, {result['final_misalignment_deg']:.4f} deg "
          f"(phase: {result['phase']})")
    if result["linear_momentum_error_rel"] is not None:
        print(f"  momentum balance from contact on: linear {result['linear_momentum_error_rel']:.1e}, "
              f"angular {result['angular_momentum_error_rel']:.1e} (relative)")
    print(f"  time series for the scene ({result['record_rate_hz']:g} Hz): {path}")
    return 0


# ------------------------------------------------------------------------------------------------
# astp dock-envelope
# ------------------------------------------------------------------------------------------------
def _ranges_from_args(args) -> dict:
    from experience.simulation import docking

    ranges = docking.default_ranges()
    for key, flag, _unit in RANGE_OPTIONS:
        given = getattr(args, key, None)
        if given is not None:
            lo, hi = given
            if lo > hi:
                raise AstpError(f"{flag} {lo:g} {hi:g}: MIN is larger than MAX; give MIN MAX")
            ranges[key] = (float(lo), float(hi))
    docking.check_ranges(ranges)
    return ranges


DAY_S = 86400.0  # a run estimated longer than this is refused without --run-anyway
PLAIN_PROGRESS_S = 30.0  # seconds between plain progress lines when standard error is not a terminal


def _duration(seconds: float) -> str:
    from experience.simulation import docking

    return docking.format_duration(seconds)


def _check_estimate(est, samples: int, run_anyway: bool) -> None:
    """Refuse (one line, exit 2) what would not finish in a day or not fit in memory."""
    from experience.simulation import docking

    problems = []
    if est.seconds > DAY_S:
        problems.append("more than a day")
    available = docking.available_memory_bytes()
    if available is not None and est.added_bytes > available:
        problems.append(f"more memory than the {docking.format_bytes(available)} available")
    if problems and not run_anyway:
        raise AstpError(f"--samples {samples} would take {' and '.join(problems)} (estimated at most "
                        f"{_duration(est.seconds)} and {docking.format_bytes(est.peak_bytes)} on "
                        f"{min(est.threads, est.chunks)} threads here): ask for fewer samples, spread them over "
                        f"a cluster with --dask ADDRESS, or add --run-anyway to start it regardless")


def cmd_dock_envelope(args) -> int:
    import contextlib

    from experience.simulation import docking

    samples = args.samples
    if samples < 1:
        raise AstpError(f"--samples must be at least 1, not {samples}")
    if args.seed < 0:
        raise AstpError(f"--seed must be zero or positive, not {args.seed}")
    chunk = getattr(args, "chunk", None)
    if chunk is not None and chunk < 1:
        raise AstpError(f"--chunk must be at least 1 case, not {chunk}")
    plot = outputs.check_output(args.plot, **PLOT_OUTPUT) if args.plot else None
    ranges = _ranges_from_args(args)
    backend = select_backend(getattr(args, "backend", None))
    active = getattr(args, "active", "apollo")
    address = getattr(args, "dask", None)
    with contextlib.ExitStack() as stack:
        runner = None
        if address is not None:
            from experience import cluster

            client = stack.enter_context(cluster.dask_client(address))
            runner = cluster.dask_runner(client, label=f"dask {address}")
        est = docking.estimate_envelope(samples, args.seed, backend=backend, ranges=ranges, active=active,
                                        tile=chunk, threads=getattr(runner, "threads", None))
        where = f" (on {runner.label})" if runner is not None else ""
        print(f"astp dock-envelope: {est.describe()}{where}", file=sys.stderr, flush=True)
        _check_estimate(est, samples, bool(getattr(args, "run_anyway", False)))
        bar = _Progress(f"astp dock-envelope ({samples} cases)", plain_every_s=PLAIN_PROGRESS_S)
        try:
            env = docking.capture_envelope(samples, args.seed, backend=backend, ranges=ranges, active=active,
                                           tile=chunk, runner=runner,
                                           progress=lambda done, total: bar(done / max(total, 1)))
        finally:
            bar.close()
    summary = docking.envelope_summary(env)
    summary["estimated_s"] = round(est.seconds, 3)
    summary["estimated_peak_bytes"] = est.peak_bytes
    if plot is not None:
        render_envelope_plot(env, plot)
        summary["plot"] = str(plot)
    if args.json:
        print(json.dumps(summary))
        return 0
    print(f"APAS-75 capture envelope, {summary['samples']} cases (seed {summary['seed']}, {env.backend}, "
          f"{env.chunks} chunk{'s' * (env.chunks != 1)} of {env.tile} on {env.runner} "
          f"({env.threads} thread{'s' * (env.threads != 1)}), "
          f"{summary['compute_s']:.1f} s, {summary['case_steps_per_s']:.3g} case-steps/s):")
    print(f"  captured {summary['captured_count']} of {summary['samples']}: "
          f"capture fraction {summary['capture_fraction']:.3f}")
    for key, b in summary["binned"].items():
        probs = " ".join("  -- " if p is None else f"{p:4.2f}" for p in b["probability"])
        print(f"  {docking.ENVELOPE_LABELS[key]:<28} {b['edges'][0]:g}..{b['edges'][-1]:g}: {probs}")
    if plot is not None:
        print(f"  capture maps: {plot}")
    return 0


def render_envelope_plot(env, path: Path) -> Path:
    """Four capture maps (probability of capture in 2D bins, marginalised over the other axes,
    with the individual cases on top) and the capture probability along every axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from experience.simulation import docking

    pairs = (("lateral_offset_m", "closing_speed_m_s"), ("lateral_offset_m", "misalign_deg"),
             ("misalign_deg", "angular_rate_deg_s"), ("closing_speed_m_s", "lateral_rate_m_s"))
    fig = plt.figure(figsize=(13, 9.5), dpi=100)
    grid = fig.add_gridspec(2, 3, width_ratios=(1, 1, 1.05), wspace=0.32, hspace=0.3)
    cap = env.captured
    bins = int(min(10, max(4, math.sqrt(cap.size / 12.0))))
    image = None
    for k, (xa, ya) in enumerate(pairs):
        ax = fig.add_subplot(grid[k // 2, k % 2])
        x, y = env.samples[xa], env.samples[ya]
        (x0, x1), (y0, y1) = env.ranges[xa], env.ranges[ya]
        x1, y1 = max(x1, x0 + 1e-9), max(y1, y0 + 1e-9)
        count, xe, ye = np.histogram2d(x, y, bins=bins, range=((x0, x1), (y0, y1)))
        hits, _, _ = np.histogram2d(x[cap], y[cap], bins=(xe, ye))
        with np.errstate(invalid="ignore", divide="ignore"):
            prob = np.where(count > 0, hits / np.maximum(count, 1), np.nan)
        image = ax.imshow(prob.T, origin="lower", extent=(x0, x1, y0, y1), aspect="auto", cmap="RdYlGn",
                          vmin=0.0, vmax=1.0, interpolation="nearest")
        if x.size <= 3000:
            ax.scatter(x[cap], y[cap], s=7, c="k", marker="o", linewidths=0, alpha=0.5,
                       label="case captured" if k == 0 else None)
            ax.scatter(x[~cap], y[~cap], s=9, c="k", marker="x", linewidths=0.5, alpha=0.35,
                       label="case not captured" if k == 0 else None)
        ax.set_xlabel(docking.ENVELOPE_LABELS[xa])
        ax.set_ylabel(docking.ENVELOPE_LABELS[ya])
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
    if cap.size <= 3000:
        fig.legend(loc="upper left", bbox_to_anchor=(0.06, 0.945), ncol=2, fontsize=8, frameon=False)
    cax = fig.add_axes((0.62, 0.93, 0.3, 0.015))
    fig.colorbar(image, cax=cax, orientation="horizontal", label="capture probability (2D bins)")
    # capture probability along each axis, normalised to its sampled range
    ax = fig.add_subplot(grid[:, 2])
    binned = docking.binned_probability(env)
    for key, b in binned.items():
        edges = np.asarray(b["edges"])
        if edges.size < 3:
            continue
        centre = 0.5 * (edges[:-1] + edges[1:])
        frac = (centre - edges[0]) / (edges[-1] - edges[0])
        prob = np.array([np.nan if p is None else p for p in b["probability"]], dtype=float)
        ax.plot(frac, prob, marker="o", ms=4,
                label=f"{docking.ENVELOPE_LABELS[key]}  {edges[0]:g}..{edges[-1]:g}")
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("position in the sampled range")
    ax.set_ylabel("capture probability (other axes marginalised)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower left")
    who = {"apollo": "Apollo active, US hydraulic unit", "soyuz": "Soyuz active, Soviet electromechanical unit"}
    fig.suptitle(f"APAS-75 capture envelope ({who.get(env.active, env.active)}): {cap.size} cases, "
                 f"capture fraction {cap.mean():.2f}", x=0.33, y=0.965, fontsize=12)
    try:
        with outputs.open_output(path, "wb", **PLOT_OUTPUT) as fh:
            fig.savefig(fh, format="png")
    finally:
        plt.close(fig)
    return Path(path)
