"""`astp`: the command line of Handshake in Orbit.

Every user error is one line on stderr (``astp: error: ...``) naming the problem and the fix,
exit code 2, no traceback; a closed or full standard output is one of them. Output files go
through experience.outputs: checked before the work starts, written atomically, and committed
only when the command succeeds (a failed or interrupted run writes nothing, leaves no temporary
file, and never replaces a link, device or FIFO at the target).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from pathlib import Path

from experience import __version__, outputs
from experience.backend import select_backend
from experience.errors import AstpError
from experience.frontends.cli_args import add_backend

VEHICLES = ("soyuz", "apollo")


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line (no usage dump) with exit code 2."""

    def error(self, message):  # noqa: D401 - argparse API
        raise AstpError(f"{message} (see '{self.prog} --help')")


_add_backend = add_backend   # the one --backend option (experience/frontends/cli_args.py)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="astp", description="Handshake in Orbit: the Apollo-Soyuz mission of July 1975, simulated.")
    parser.add_argument("--version", action="version", version=f"astp {__version__}")
    _add_backend(parser)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    p = sub.add_parser("doctor", help="what this machine can run (backend, OpenGL, OpenXR, cache)")
    p.add_argument("--json", action="store_true", help="machine-readable report")
    _add_backend(p)

    p = sub.add_parser("ephemeris", help="where the spacecraft were, and the Earth below them",
                       description="Where Soyuz and Apollo were at given instants, or at every timeline event; "
                                   "or a ground-track map.")
    p.add_argument("--at", action="append", default=[], metavar="ISO8601",
                   help="an instant in UTC, e.g. 1975-07-17T19:19:00Z (repeatable)")
    p.add_argument("--events", action="store_true", help="every timeline event")
    p.add_argument("--vehicle", choices=VEHICLES, help="one vehicle (default: both)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="a JSON list of objects")
    fmt.add_argument("--csv", action="store_true", help="CSV with a header row")
    p.add_argument("--map", metavar="FILE.png", help="draw the ground track over Blue Marble imagery")
    p.add_argument("--from", dest="from_", metavar="ISO8601", help="map start (default: 1975-07-17T14:40:00Z)")
    p.add_argument("--to", metavar="ISO8601", help="map end (default: 1975-07-17T17:40:00Z)")
    p.add_argument("-o", "--output", metavar="FILE", help="write the table to FILE instead of standard output")
    _add_backend(p)

    p = sub.add_parser("trajectory", help="how the historical orbits were reconstructed (burns, solved values)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--rebuild", action="store_true", help="solve again and rewrite the cache")
    _add_backend(p)

    # --- astp dock, astp dock-envelope (issue #4; experience/frontends/dock.py) ---
    from experience.frontends import dock as _dock

    _dock.add_dock_parsers(sub, _Parser)
    # --- end astp dock ---

    # --- astp render (issue #3; experience/frontends/render.py) ---
    from experience.frontends import render as _render

    _render.add_parser(sub, _add_backend)
    # --- end astp render ---

    # --- astp viewer (issue #9; experience/frontends/desktop.py) ---
    from experience.frontends import desktop as _desktop

    _desktop.add_parser(sub, _add_backend)
    # --- end astp viewer ---

    # --- astp vr (issue #11; experience/frontends/vr.py) ---
    from experience.frontends import vr as _vr

    _vr.add_parser(sub, _add_backend)
    # --- end astp vr ---

    # --- astp record (issue #9; experience/frontends/record.py) ---
    from experience.frontends import record as _record

    _record.add_parser(sub, _add_backend)
    # --- end astp record ---

    # --- astp tour (issue #10; experience/frontends/tour.py) ---
    from experience.frontends import tour as _tour

    _tour.add_parser(sub, _add_backend)
    # --- end astp tour ---

    # --- astp kiosk (issue #12; experience/frontends/kiosk.py) ---
    from experience.frontends import kiosk as _kiosk

    _kiosk.add_parser(sub, _add_backend)
    # --- end astp kiosk ---

    p = sub.add_parser("handshake", help="the main job: the viewer at the handshake, or its stills without a display (default command)")
    p.add_argument("-o", "--output-dir", default="out", metavar="DIR", help="where to write pictures (default: out/)")
    p.add_argument("--stills", action="store_true", help="render the stills even where a display could show the viewer")
    _add_backend(p)
    return parser


# ------------------------------------------------------------------------------------------------
def _write_text(text: str, output: str | None) -> None:
    if not output:
        sys.stdout.write(text)
        return
    outputs.write_output(output, text, what="table")


ROW_COLUMNS = ("utc", "event", "vehicle", "met_s", "lat_deg", "lon_deg", "alt_km", "speed_km_s",
               "sunlit", "sun_elevation_deg", "sun_ra_deg", "sun_dec_deg", "gmst_deg", "region", "phase")


def _format_table(rows: list[dict]) -> str:
    from experience.mission.clock import format_elapsed

    head = f"{'UTC':<21}{'vehicle':<8}{'MET':>11}  {'lat':>8}{'lon':>10}{'alt km':>9}{'km/s':>7}  {'sun':<5}{'sun el':>7}  region / event"
    lines = [head, "-" * len(head)]
    for r in rows:
        def num(key, width, fmt):
            v = r.get(key)
            return f"{'-':>{width}}" if v is None else f"{v:>{width}{fmt}}"
        sun = "-" if r.get("sunlit") is None else ("day" if r["sunlit"] else "night")
        where = r.get("region") or "-"
        if r.get("event"):
            where += f"   [{r['event']}]"
        lines.append(f"{r['utc']:<21}{r['vehicle']:<8}{format_elapsed(r['met_s']):>11}  "
                     f"{num('lat_deg', 8, '.3f')}{num('lon_deg', 10, '.3f')}{num('alt_km', 9, '.1f')}"
                     f"{num('speed_km_s', 7, '.3f')}  {sun:<5}{num('sun_elevation_deg', 7, '.1f')}  {where}")
    return "\n".join(lines) + "\n"


def _format_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    cols = list(ROW_COLUMNS) + ["get_s", "ground_speed_km_s", "sunlit_fraction"]
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r.get(k) is None else r[k]) for k in cols})
    return buf.getvalue()


MAP_OUTPUT = dict(suffixes=(".png",), what="map", example="track.png")


def _write_map(eph, path: str, start, end, moment, vehicles, *, make_folders: bool = False) -> Path:
    """Draw the ground-track map (computed by the simulation, drawn by the map front end)."""
    from experience.frontends import groundmap
    from experience.simulation import groundtrack

    target = outputs.check_output(path, make_folders=make_folders, **MAP_OUTPUT)
    kwargs = groundtrack.map_data(eph, start, end, moment, vehicles)
    try:
        groundmap.render_ground_track_map(target, make_folders=make_folders, **kwargs)
    except ValueError as exc:
        raise AstpError(str(exc)) from None
    return target


def cmd_ephemeris(args) -> int:
    from experience.mission.clock import parse_utc
    from experience.simulation.ephemeris import Ephemeris

    if not (args.at or args.events or args.map):
        raise AstpError("say when: give --at ISO8601 (repeatable), --events, or --map FILE.png")
    if args.events and args.at:
        raise AstpError("--events and --at ask for different rows; use one of them")
    # Every check before any work, and all the work before anything is written (the map and the
    # table are committed together by main()'s output batch, after the table is complete).
    instants = [parse_utc(a, what="--at time") for a in args.at]
    if args.map:
        start = parse_utc(args.from_ or "1975-07-17T14:40:00Z", what="--from time")
        end = parse_utc(args.to or "1975-07-17T17:40:00Z", what="--to time")
        outputs.check_output(args.map, **MAP_OUTPUT)
    if args.output:
        outputs.check_output(args.output, what="table")
    eph = Ephemeris(backend=select_backend(args.backend))
    vehicles = (args.vehicle,) if args.vehicle else VEHICLES

    rows = None
    if args.events:
        rows = eph.event_rows()
        if args.vehicle:
            rows = [r for r in rows if r["vehicle"] == args.vehicle]
    elif args.at:
        t = eph.clock.t_s_array(instants)
        rows = []
        for vehicle in vehicles:  # each call checks the span first (one-line error, no partial output)
            rows.extend(eph.rows(vehicle, t, events=[None] * len(instants)))
        rows.sort(key=lambda r: (r["met_s"], r["vehicle"]))

    if args.map:
        moment = instants[0] if instants else end
        path = _write_map(eph, args.map, start, end, moment, vehicles)
        print(f"wrote {path}", file=sys.stderr)
    if rows is None:
        return 0

    if args.json:
        text = json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
    elif args.csv:
        text = _format_csv(rows)
    else:
        text = _format_table(rows)
    _write_text(text, args.output)
    return 0


def cmd_trajectory(args) -> int:
    from experience.simulation.trajectory import describe, mission_trajectory

    select_backend(args.backend, notice=lambda _m: None)
    traj = mission_trajectory(rebuild=args.rebuild)
    info = describe(traj)
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print("Simulated spans:")
    for v, (a, b) in info["spans"].items():
        print(f"  {v:<7} {a} .. {b}")
    print("Burns (impulsive):")
    for b in info["burns"]:
        print(f"  {b['utc']}  {b['vehicle']:<7} {b['name']:<36} {b['dv_m_s']:8.2f} m/s")
    print("Solved and derived values:")
    for k, v in info["solved"].items():
        print(f"  {k:<46} {v}")
    return 0


def cmd_handshake(args) -> int:
    """The main job. With a display: the desktop viewer at the handshake. Without one (or with
    --stills): the handshake in numbers, its stills and the ground track of the joint flight,
    saying in one line why there is no window."""
    from experience.frontends import desktop as _desktop

    problem = None if args.stills else _desktop.display_problem()
    if not args.stills and problem is None:
        return _desktop.cmd_viewer(_desktop.main_job_args(args))
    if problem:
        print(f"astp: no window: {problem}; rendering the handshake stills into {args.output_dir}/ instead",
              file=sys.stderr)
    from experience.mission import data
    from experience.mission.clock import parse_utc
    from experience.simulation.ephemeris import Ephemeris

    out = outputs.check_folder(args.output_dir)  # created when the pictures are written
    for name in ("handshake_groundtrack.png", "handshake.png", "handshake_interior.png"):
        outputs.check_output(out / name, suffixes=(".png",), what="picture", make_folders=True)
    eph = Ephemeris(backend=select_backend(args.backend))
    moment = data.event("handshake").utc
    row = eph.rows("apollo", [eph.clock.t_s(moment)], events=["handshake"])[0]
    print(f"The Stafford-Leonov handshake, {row['utc']}:")
    print(f"  the docked stack was over {row['region']} at {row['lat_deg']:.2f}, {row['lon_deg']:.2f}, "
          f"{row['alt_km']:.1f} km up, moving at {row['speed_km_s']:.3f} km/s;")
    elev = row["sun_elevation_deg"]
    ground = (f"the Sun stood {elev:.1f} deg above the horizon" if elev >= 0 else
              f"the Sun had set, {-elev:.1f} deg below the horizon")
    print(f"  the stack was in {'sunlight' if row['sunlit'] else 'the Earth shadow'}; on the ground below, {ground}.")
    path = _write_map(eph, str(out / "handshake_groundtrack.png"),
                      parse_utc("1975-07-17T15:40:00Z"), parse_utc("1975-07-17T20:10:00Z"),
                      moment, VEHICLES, make_folders=True)
    print(f"  ground track of the joint flight: {path}")
    # --- rendered still (issue #3; experience/frontends/render.py) ---
    from experience.frontends import render as _render

    print(f"  picture of the docked stack at that second: {_render.handshake_still(eph, out)}")
    print(f"  the handshake in the hatchway, inside: {_render.handshake_still(eph, out, 'handshake')}")
    # --- end rendered still ---
    return 0


def cmd_doctor(args) -> int:
    from experience.frontends import doctor

    return doctor.run(args)


def cmd_viewer(args) -> int:
    from experience.frontends import desktop as _desktop

    return _desktop.cmd_viewer(args)


def cmd_render(args) -> int:
    from experience.frontends import render as _render

    return _render.cmd_render(args)


def cmd_record(args) -> int:
    from experience.frontends import record as _record

    return _record.cmd_record(args)


def cmd_vr(args) -> int:
    from experience.frontends import vr as _vr

    return _vr.cmd_vr(args)
def cmd_kiosk(args) -> int:
    from experience.frontends import kiosk as _kiosk

    return _kiosk.cmd_kiosk(args)


def cmd_dock(args) -> int:
    from experience.frontends import dock as _dock

    return _dock.cmd_dock(args)


def cmd_tour(args) -> int:
    from experience.frontends import tour as _tour

    return _tour.cmd_tour(args)


def cmd_dock_envelope(args) -> int:
    from experience.frontends import dock as _dock

    return _dock.cmd_dock_envelope(args)


COMMANDS = {"doctor": cmd_doctor, "ephemeris": cmd_ephemeris, "trajectory": cmd_trajectory,
            "handshake": cmd_handshake, "render": cmd_render, "dock": cmd_dock,
            "dock-envelope": cmd_dock_envelope, "viewer": cmd_viewer, "record": cmd_record,
            "tour": cmd_tour, "vr": cmd_vr, "kiosk": cmd_kiosk}


class _GuardedStdout:
    """sys.stdout while a command runs: a write or flush that fails (standard output closed with
    ``>&-``, a full disk or ``> /dev/full``) becomes one AstpError line instead of a traceback (or
    Python's "Exception ignored" at exit). A closed pipe (``| head``) stays BrokenPipeError."""

    def __init__(self, stream):
        self._stream = stream
        self.failed = False

    def _error(self, exc: OSError | None) -> AstpError:
        self.failed = True
        if exc is None:
            return AstpError("standard output is closed; redirect it (> FILE or > /dev/null) "
                             "or write the result to a file with -o FILE")
        return AstpError(f"cannot write to standard output: {exc.strerror or exc}; "
                         "free some space or redirect it elsewhere (> FILE, or -o FILE)")

    def write(self, text):
        if self._stream is None:
            raise self._error(None)
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise self._error(exc) from None

    def flush(self):
        if self._stream is None:
            return None
        try:
            return self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise self._error(exc) from None

    def __getattr__(self, name):
        if self._stream is None:
            raise AttributeError(name)
        return getattr(self._stream, name)


def _occupy_closed_std_fds() -> None:
    """Put /dev/null on standard input, output or error where they were closed at start, so that
    no file opened later gets descriptor 1 or 2 (where C libraries would print into it)."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)


def _silence_stdout() -> None:
    """After standard output failed: point descriptor 1 at /dev/null so that the interpreter's
    final flush of what is still buffered succeeds quietly."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.close(null)
    except OSError:
        pass


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    _occupy_closed_std_fds()
    saved_out, saved_err = sys.stdout, sys.stderr
    if sys.stderr is None:  # 2>&-: messages go nowhere (never onto standard output)
        sys.stderr = open(os.devnull, "w", encoding="utf-8")
    guard = _GuardedStdout(saved_out)
    sys.stdout = guard
    try:
        return _run(argv)
    finally:
        sys.stdout, sys.stderr = saved_out, saved_err
        if guard.failed:
            _silence_stdout()


def _run(argv: list[str]) -> int:
    try:
        # SIGTERM/SIGHUP become a clean exit (finally blocks run, temporary files are removed),
        # and every output of the command is committed only when it succeeds (experience.outputs).
        with outputs.termination_handlers():
            if not any(a in COMMANDS or a in ("-h", "--help", "--version") for a in argv):
                argv = ["handshake", *argv]  # no command: the main job, with its options
            args = build_parser().parse_args(argv)
            args.backend = getattr(args, "backend", None)
            with outputs.batch():
                code = COMMANDS[args.command](args)
                sys.stdout.flush()  # a full or closed standard output shows here, before the commit
            return code
    except AstpError as exc:
        print(f"astp: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("astp: interrupted", file=sys.stderr)
        return 130
    except outputs.Terminated as exc:
        print(f"astp: terminated ({exc.signame})", file=sys.stderr)
        return exc.code
    except BrokenPipeError:
        _silence_stdout()
        return 0


if __name__ == "__main__":
    sys.exit(main())
