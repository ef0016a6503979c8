"""``astp tour``: the guided crossing from the Command Module through the Docking Module airlock
into the Soyuz orbital module (issue #10; docs/crossing.md).

``--headless`` runs it with scripted input and no window; ``--json`` prints the record:
``final_room``, ``rooms_visited`` (in order: ``cm``, ``dm``, ``soyuz_om``) and ``steps`` (each with
``t_s``, ``room``, ``pos_m``, ``hatches`` and ``pressures_mmhg``), plus ``events`` (the airlock
actions) and ``completed``. Exit 0 when the visitor ends in the Soyuz orbital module having
passed through the Docking Module, 1 otherwise. Without ``--headless`` the desktop viewer opens in
the crossing's guided mode.
"""

from __future__ import annotations

import json
import sys

from experience.errors import AstpError
from experience.frontends.cli_args import float_arg

DT_MIN_S, DT_MAX_S = 0.001, 0.2


def add_parser(sub, add_backend) -> None:
    p = sub.add_parser(
        "tour", help="the guided crossing CM -> Docking Module airlock -> Soyuz (headless with --headless)",
        description="Float from the Command Module through the Docking Module airlock into the Soyuz "
                    "orbital module, guided: the Apollo hatch closes, the DM is raised with nitrogen and "
                    "equalised with the Soyuz, the Soyuz hatch opens. --headless runs it without a window.")
    p.add_argument("--headless", action="store_true", help="no window: scripted input, print the record")
    p.add_argument("--json", action="store_true", help="the record as one JSON object")
    p.add_argument("--dt", type=float_arg("--dt", lo=DT_MIN_S, hi=DT_MAX_S, unit="s", example="0.0333"),
                   default=1.0 / 30.0, metavar="S", help="frame step in seconds (default 1/30)")
    add_backend(p)


def cmd_tour(args) -> int:
    from experience.simulation import crossing

    if not args.headless:
        from experience.frontends import desktop

        problem = desktop.display_problem()
        if problem:
            raise AstpError(f"cannot open the crossing's window: {problem}; run 'astp tour --headless --json' "
                            "for the guided crossing without one")
        return desktop.run_crossing(args)
    out = crossing.guided_tour(dt_s=args.dt)
    if args.json:
        sys.stdout.write(json.dumps(out) + "\n")
    else:
        last = out["steps"][-1]
        sys.stdout.write(f"rooms: {' -> '.join(out['rooms_visited'])}; ended in {out['final_room']} after "
                         f"{last['t_s']:.1f} s; hatches {last['hatches']}; pressures {last['pressures_mmhg']}\n")
    return 0 if out["completed"] else 1
