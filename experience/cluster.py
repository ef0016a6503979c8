"""Past one machine: independent batch tiles on a Dask distributed cluster.

experience.parallel runs tiles on this machine's thread pool; this module runs the same tiles
(the same function over the same plain-data tiles) on a Dask cluster, so the results are the
same, tile for tile. Dask is an optional dependency (``pip install 'handshake-in-orbit[dask]'``,
i.e. ``distributed``); nothing imports it until ``--dask`` is given.

``ADDRESS`` is a running scheduler (``tcp://host:8786``, started with ``dask scheduler`` and
joined by ``dask worker tcp://host:8786`` on each machine, every worker with the same astp
installed) or ``local``: a LocalCluster on this machine, one single-threaded worker process per
core (``$ASTP_THREADS`` caps it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from experience.errors import AstpError

INSTALL = "pip install 'handshake-in-orbit[dask]' (or: pip install distributed)"
CONNECT_TIMEOUT_S = 20


def _distributed():
    try:
        import distributed
    except ImportError:
        raise AstpError(f"--dask needs Dask's distributed scheduler, which is not installed: {INSTALL}") from None
    return distributed


@contextlib.contextmanager
def dask_client(address: str, *, workers: int | None = None) -> Iterator[Any]:
    """A ``distributed.Client`` on ``address`` (or a LocalCluster for ``local``), closed on exit.
    An unreachable scheduler is an AstpError naming the address and the fix."""
    distributed = _distributed()
    from experience import parallel

    address = (address or "").strip()
    if not address:
        raise AstpError("--dask needs an address: a scheduler such as tcp://host:8786, or local")
    with contextlib.ExitStack() as stack:
        if address == "local":
            n = parallel.thread_count(workers)
            cluster = stack.enter_context(distributed.LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                silence_logs=50))
            client = stack.enter_context(distributed.Client(cluster))
        else:
            try:
                client = stack.enter_context(distributed.Client(address, timeout=CONNECT_TIMEOUT_S))
            except (OSError, TimeoutError, ValueError) as exc:
                detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise AstpError(f"cannot reach the Dask scheduler at {address} ({detail[:120]}): start one "
                                f"with `dask scheduler` and workers with `dask worker {address}`, "
                                f"or use --dask local") from None
        yield client


def cluster_threads(client) -> int:
    """Threads over all workers of the cluster (what the tiles can run on at once)."""
    try:
        return max(1, sum(int(n) for n in client.nthreads().values()))
    except Exception:  # noqa: BLE001 - a scheduler that cannot say: assume one
        return 1


def dask_runner(client, label: str | None = None):
    """A runner for experience.simulation.docking.capture_envelope: ``run(fn, tiles, on_done)``
    maps ``fn`` over ``tiles`` on the cluster, results in tile order, ``on_done(i)`` on this
    thread as each tile comes back."""
    distributed = _distributed()

    def run(fn: Callable, tiles: Sequence, on_done: Callable[[int], None] | None = None) -> list:
        futures = client.map(fn, list(tiles), pure=False)
        where = {f.key: i for i, f in enumerate(futures)}
        results: list = [None] * len(futures)
        try:
            for fut in distributed.as_completed(futures):
                i = where[fut.key]
                results[i] = fut.result()
                if on_done is not None:
                    on_done(i)
        except BaseException:
            client.cancel(futures)
            raise
        return results

    run.threads = cluster_threads(client)
    run.label = label or f"dask {getattr(client.scheduler, 'address', '?')}"
    return run
