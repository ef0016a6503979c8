"""``astp kiosk``: the museum kiosk, its config check, its PIN, its supervisor and its soak.

    astp kiosk --config FILE.toml                 the kiosk (fullscreen; needs a display)
    astp kiosk --check FILE.toml                  validate the config only (exit 2 with one line if wrong)
    astp kiosk --set-pin --config FILE.toml       store a new operator PIN (hashed) in the config
    astp kiosk --supervise --config FILE.toml     the watchdog that starts and restarts the kiosk
    astp kiosk --config FILE --simulate --hours H [--json]   the soak: offscreen, accelerated time

The config (experience/app/kiosk.py) is validated before anything starts: the kiosk never runs
half-configured. The window front end is experience/frontends/kiosk_window.py, the supervisor
experience/frontends/kiosk_supervisor.py, the soak experience/frontends/kiosk_soak.py;
docs/kiosk.md is the museum staff's guide.
"""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path

from experience.errors import AstpError

EXIT_OPERATOR = 0      # the operator chose "Exit": the supervisor stops too
EXIT_RESTART = 75      # the operator chose "Restart": the supervisor starts a new kiosk at once


def add_parser(sub, add_backend) -> None:
    p = sub.add_parser("kiosk", help="the museum kiosk: attract loop, touch, idle reset, operator PIN, supervisor",
                       description="Run the unattended museum kiosk from one config file (see docs/kiosk.md).")
    p.add_argument("--config", metavar="FILE", help="the kiosk's config file (TOML, a [kiosk] table)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--check", metavar="FILE", nargs="?", const="", help="validate the config only and exit")
    mode.add_argument("--set-pin", action="store_true", help="set the operator PIN (asked for; stored hashed in the config)")
    mode.add_argument("--supervise", action="store_true", help="start the kiosk and restart it when it exits, crashes or freezes")
    mode.add_argument("--simulate", action="store_true", help="soak test: the kiosk offscreen in accelerated time")
    p.add_argument("--hours", type=float, default=1.0, metavar="H", help="simulated hours for --simulate (default 1)")
    p.add_argument("--seed", type=int, default=1975, help="random seed of the simulated visitors (default 1975)")
    p.add_argument("--json", action="store_true", help="--simulate: print the result as one JSON object")
    p.add_argument("--heartbeat", metavar="FILE", help="the heartbeat file written every frame (default: in the log folder)")
    p.add_argument("--status-file", metavar="FILE", help="write the kiosk's state as JSON four times a second (tests; "
                   "with --supervise: every kiosk the supervisor starts writes it)")
    p.add_argument("--size", metavar="WxH", help=argparse_suppress())
    add_backend(p)


def argparse_suppress():
    import argparse

    return argparse.SUPPRESS


def _config_path(args) -> Path:
    if args.check is not None:
        given = args.check or args.config
    else:
        given = args.config
    if not given:
        raise AstpError("no config file; give one with --config FILE.toml (a file with only '[kiosk]' uses "
                        "the defaults; see docs/kiosk.md)")
    return Path(given)


def cmd_kiosk(args) -> int:
    from experience.app.kiosk import load_config, state_path, with_saved_state

    path = _config_path(args)
    if args.set_pin:
        return set_pin(path)
    config = load_config(path)
    if args.check is not None:
        said: list[str] = []
        run = with_saved_state(config, notice=said.append)
        default = (f"default {run.default_language} (the operator's choice, {state_path(config)})"
                   if run.default_language != config.default_language else f"default {config.default_language}")
        print(f"{path}: the kiosk config is valid (tours: {', '.join(config.tours)}; languages: "
              f"{', '.join(config.languages)}, {default}; {'VR station; ' if config.vr_station else ''}idle {config.idle_timeout_s:g} s + countdown {config.countdown_s} s; "
              f"PIN {'set' if config.pin_hash else 'not set: the operator panel cannot be opened'})")
        return 0
    if args.supervise:
        from experience.frontends.kiosk_supervisor import supervise

        return supervise(config, backend=args.backend, status_file=args.status_file)
    if args.simulate:
        if not (args.hours > 0):
            raise AstpError("--hours must be a positive number of simulated hours, e.g. 1 or 0.1")
        from experience.frontends.kiosk_soak import simulate

        result = simulate(config, hours=args.hours, seed=args.seed, backend=args.backend)
        if args.json:
            print(json.dumps(result))
        else:
            for k, v in result.items():
                print(f"{k:>16}: {v}")
        return 0 if result["exceptions"] == 0 else 1
    config = with_saved_state(config, notice=lambda m: print(f"astp kiosk: {m}", file=sys.stderr, flush=True))
    if config.vr_station:  # load_config refuses it where no VR runtime can be used
        from experience.frontends.vr_station import run_kiosk_station

        return run_kiosk_station(config, heartbeat=args.heartbeat, status_file=args.status_file, size=args.size,
                                 backend=args.backend)
    from experience.frontends.kiosk_window import run_kiosk

    return run_kiosk(config, heartbeat=args.heartbeat, status_file=args.status_file, size=args.size,
                     backend=args.backend)


def _read_pin(prompt: str) -> str:
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(prompt)
    line = sys.stdin.readline() if sys.stdin is not None else ""
    return line.strip()


def set_pin(path: Path) -> int:
    """Ask for a new PIN twice (or read it from one line of standard input when that is not a
    terminal), hash it and write it into the config under [kiosk]; the rest of the file is kept."""
    from experience import outputs
    from experience.app.kiosk import hash_pin, parse_config, with_pin_hash

    if path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise AstpError(f"{path}: cannot read it ({getattr(exc, 'strerror', None) or exc}); check the file") from None
        parse_config(text, path)  # a broken config is fixed first, not written over
    else:
        text = "[kiosk]\n"
    outputs.check_output(path, suffixes=(".toml",), what="kiosk config")
    tty = sys.stdin is not None and sys.stdin.isatty()
    pin = _read_pin("New operator PIN (4 to 12 digits): ")
    if tty and _read_pin("The same PIN again: ") != pin:
        raise AstpError("the two PINs differ; nothing was changed, run 'astp kiosk --set-pin' again")
    new = with_pin_hash(text, hash_pin(pin))
    parse_config(new, path)
    outputs.write_output(path, new, what="kiosk config")
    print(f"{path}: operator PIN set (stored as a salted scrypt hash)", file=sys.stderr)
    return 0
