"""`astp render`: stills of the scene, offscreen (EGL where there is no display).

    astp render --at 1975-07-17T19:19:00Z --view exterior [--size 1920x1080] -o handshake.png
    astp render --events DIR [--view exterior] [--size 1280x720]

``--events`` writes one still per timeline event at which a spacecraft is in orbit, named by the
event id (``DIR/docking_1.png``). Every user error (unknown view, bad size, unwritable path, a
time with nothing in orbit) is one line, exit code 2, raised before any rendering starts.
The same arguments always give the same picture (no randomness, no wall-clock input).
Pictures are written through experience.outputs: under ``astp`` every picture of a command is
committed when the command succeeds, and a failed or interrupted run writes none.
"""

from __future__ import annotations

import sys
from pathlib import Path

from experience.errors import AstpError
from experience.scene.config import VIEWS, RenderConfig, check_view, parse_size

DEFAULT_SIZE = "1920x1080"
EVENTS_SIZE = "1280x720"
HANDSHAKE_SIZE = (1920, 1080)


def add_parser(sub, add_backend) -> None:
    """The `render` subcommand (wired into experience/frontends/cli.py)."""
    p = sub.add_parser("render", help="render stills of the scene (offscreen)",
                       description="Render a picture of the scene at an instant, or one per timeline event.")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--at", metavar="ISO8601", help="the instant in UTC, e.g. 1975-07-17T19:19:00Z")
    when.add_argument("--events", metavar="DIR", help="one still per timeline event with a spacecraft in orbit, into DIR")
    p.add_argument("--view", default="exterior", metavar="VIEW", help=f"camera: {', '.join(VIEWS)} (default: exterior)")
    p.add_argument("--size", default=None, metavar="WxH",
                   help=f"picture size in pixels (default: {DEFAULT_SIZE}; {EVENTS_SIZE} with --events)")
    p.add_argument("--exposure", type=float, default=1.0, metavar="X", help="exposure multiplier (default 1.0; 2.0 = one stop brighter)")
    p.add_argument("-o", "--output", metavar="FILE.png", help="the picture to write (with --at)")
    add_backend(p)


def _snapshot(eph, utc):
    from experience.simulation.snapshot import snapshot

    return snapshot(eph, eph.clock.t_s(utc))


def cmd_render(args) -> int:
    from experience.backend import select_backend
    from experience.mission.clock import parse_utc
    from experience.scene.renderer import check_writable

    view = check_view(args.view)
    if not (args.at or args.events):
        raise AstpError("say when: give --at ISO8601 with -o FILE.png, or --events DIR")
    size = parse_size(args.size or (EVENTS_SIZE if args.events else DEFAULT_SIZE))
    config = RenderConfig(size=size, view=view, exposure=args.exposure)
    from experience.scene.renderer import check_render_size

    check_render_size(size, config.supersample)  # what the OpenGL driver here can hold, before any work
    if args.at:
        if not args.output:
            raise AstpError("say where: give -o FILE.png for the picture")
        moment = parse_utc(args.at, what="--at time")
        check_writable(args.output)
        from experience.simulation.ephemeris import Ephemeris

        eph = Ephemeris(backend=select_backend(args.backend, notice=lambda _m: None))
        snap = _snapshot(eph, moment)
        _check_in_orbit(snap, view)
        path = render_one(snap, view, size, args.output, config)
        print(f"wrote {path}", file=sys.stderr)
        return 0
    if args.output:
        raise AstpError("-o names one picture; with --events give the folder: --events DIR")
    from experience import outputs

    out = outputs.check_folder(args.events)  # created when the pictures are written
    from experience.simulation.ephemeris import Ephemeris

    eph = Ephemeris(backend=select_backend(args.backend, notice=lambda _m: None))
    written = render_events(eph, out, view, size, config)
    print(f"wrote {len(written)} pictures to {out}", file=sys.stderr)
    return 0


def _check_in_orbit(snap, view: str) -> None:
    when = f"{snap.utc:%Y-%m-%dT%H:%M:%SZ}"
    if not snap.vehicles:
        raise AstpError(f"no spacecraft is in orbit at {when}; choose a time between Soyuz's orbit insertion "
                        "(1975-07-15T12:28:50Z) and Apollo's last simulated instant")
    if view in ("window", "handshake") and "apollo" not in snap.vehicles:
        raise AstpError(f"the {view} view needs the Apollo spacecraft, which is not in orbit at {when}; "
                        "use --view exterior")


def render_one(snap, view: str, size, path, config: RenderConfig | None = None, *,
               make_folders: bool = False) -> Path:
    from experience.scene.renderer import render_still

    render_still(snap, view, size, path, config=config, make_folders=make_folders)
    return Path(path)


def render_events(eph, out: Path, view: str, size, config: RenderConfig | None = None) -> list[Path]:
    """One still per timeline event with a spacecraft in orbit (DIR/<event id>.png). Where the
    chosen view needs Apollo and only Soyuz flies, that event is drawn with the exterior view."""
    from experience.mission import data

    written = []
    for ev in data.timeline():
        snap = _snapshot(eph, ev.utc)
        if not snap.vehicles:
            continue
        v = view if (view == "exterior" or "apollo" in snap.vehicles) else "exterior"
        written.append(render_one(snap, v, size, out / f"{ev.id}.png", config, make_folders=True))
        print(f"  {ev.id:<24} {ev.utc:%Y-%m-%dT%H:%M:%SZ}  {v}", file=sys.stderr)
    return written


def handshake_still(eph, out_dir: Path, view: str = "exterior") -> Path:
    """The main job's pictures at the handshake, 1920x1080: the exterior view
    (out_dir/handshake.png) or the handshake itself inside the stack (view="handshake":
    out_dir/handshake_interior.png)."""
    from experience.mission import data

    snap = _snapshot(eph, data.event("handshake").utc)
    name = {"exterior": "handshake.png", "handshake": "handshake_interior.png"}.get(view, f"handshake_{view}.png")
    return render_one(snap, view, HANDSHAKE_SIZE, Path(out_dir) / name, make_folders=True)
