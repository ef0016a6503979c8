"""The one place that decides how independent batch tiles use this machine's cores.

Docking cases, ephemeris pairs and envelope samples are independent: they are cut into tiles and
each tile is one call of a pure kernel. NumPy releases the GIL inside its loops, so a thread pool
runs the tiles on every core without copying arrays between processes. Everything that runs tiles
asks this module; nothing else creates a pool.

``ASTP_THREADS`` (or the ``workers=`` argument) caps the pool; ``1`` runs the tiles in order on the
calling thread, which is what a GPU backend does (one tile holds everything there).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import TypeVar

from experience.errors import AstpError

ENV_VAR = "ASTP_THREADS"

T = TypeVar("T")
R = TypeVar("R")


def cpu_count() -> int:
    """Cores this process may run on (the affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def thread_count(requested: int | None = None) -> int:
    """The number of threads to use: ``requested``, else $ASTP_THREADS, else every core."""
    if requested is None:
        raw = os.environ.get(ENV_VAR, "").strip()
        if raw:
            try:
                requested = int(raw)
            except ValueError:
                raise AstpError(f"{ENV_VAR}={raw!r} is not a whole number: set it to a thread "
                                f"count such as {cpu_count()}, or unset it to use every core") from None
        else:
            return cpu_count()
    if requested < 1:
        raise AstpError(f"the thread count must be at least 1 (got {requested}): "
                        f"use 1 for one thread, or leave it out to use all {cpu_count()} cores")
    return requested


def map_tiles(fn: Callable[[T], R], tiles: Iterable[T], *, workers: int | None = None,
              on_done: Callable[[int, R], None] | None = None) -> list[R]:
    """``[fn(t) for t in tiles]``, the tiles spread over a thread pool; results in tile order.

    ``on_done(index, result)`` is called on the calling thread as each tile finishes (in completion
    order), for progress reports. An exception in any tile cancels the tiles not yet started and
    is raised here.
    """
    items: Sequence[T] = tiles if isinstance(tiles, Sequence) else list(tiles)
    n = thread_count(workers)
    n = min(n, len(items)) or 1
    if n == 1:
        out = []
        for i, item in enumerate(items):
            res = fn(item)
            out.append(res)
            if on_done is not None:
                on_done(i, res)
        return out
    results: list = [None] * len(items)
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="astp-tile") as pool:
        futures = {pool.submit(fn, item): i for i, item in enumerate(items)}
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    i = futures[fut]
                    results[i] = fut.result()
                    if on_done is not None:
                        on_done(i, results[i])
        except BaseException:
            for fut in pending:
                fut.cancel()
            raise
    return results
