"""Run the chunks of a run in N worker processes (or in this one) and merge their parts in
input order.

Workers are forked where the platform allows it: they start with the parent's compiled
protocol and loaded input, and nothing but chunks and parts crosses between processes.
Elsewhere (`spawn`), each worker rebuilds the run's state from its RunSpec once.

At most 2 x N chunks are in flight, so the parent's memory stays flat too; a part that comes
back early waits for the ones before it.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections import deque
from collections.abc import Callable
from itertools import chain, islice
from multiprocessing.pool import AsyncResult
from typing import Any

from trialcode.parallel.chunks import Chunk, RunSpec, RunState
from trialcode.parallel.parts import Part, Reports, make_part

# The state of this process's share of the run: set in the parent before the workers are
# forked (they inherit it), or built by a spawned worker from the RunSpec.
_STATE: RunState | None = None
_FULL: Any = None  # shared flags: which of the parent's HTML listings are full


def cores() -> int:
    """The cores this process may run on (`--jobs 0`)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _start_method() -> str:
    wanted = os.environ.get("TRIALCODE_START_METHOD")  # tests run the spawn path too
    if wanted:
        return wanted
    return "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"


def check_start_method() -> str | None:
    """Why TRIALCODE_START_METHOD cannot be used here, or None (docs/cli.md)."""
    wanted = os.environ.get("TRIALCODE_START_METHOD")
    methods = multiprocessing.get_all_start_methods()
    if wanted and wanted not in methods:
        return (f"TRIALCODE_START_METHOD={wanted!r} is not a way to start processes here: "
                f"{', '.join(methods)}")
    return None


def _init_worker(spec: RunSpec, full: Any) -> None:
    global _STATE, _FULL
    _FULL = full
    if _STATE is None or _STATE.spec != spec:
        _STATE = RunState(spec)


def _work(chunk: Chunk) -> Part:
    assert _STATE is not None
    return make_part(_STATE, chunk, tuple(_FULL))


def run_parts(
    state: RunState,
    reports: Reports,
    jobs: int = 1,
    progress: Callable[[Reports], None] | None = None,
) -> None:
    """Evaluate every chunk of the run, in `jobs` processes (1: in this one), merging each
    part into `reports` in input order; `progress` is called after each merge."""
    global _STATE

    def merge(chunk: Chunk, part: Part) -> None:
        repeated = reports.repeated(part)
        if repeated:
            # an id of this chunk was read by an earlier one: read it again knowing them
            part = make_part(state, chunk, reports.full(), repeated)
        reports.merge(part)
        if progress is not None:
            progress(reports)

    chunks = state.chunks()
    # never more processes than chunks to share (a small input runs in this process); the
    # command refuses more than 4 a core (trialcode.commands.validate)
    ahead = list(islice(chunks, 2 * max(jobs, 1)))
    jobs = min(jobs, len(ahead))
    chunks = chain(ahead, chunks)
    if jobs <= 1:
        for chunk in chunks:
            merge(chunk, make_part(state, chunk, reports.full()))
        return
    context = multiprocessing.get_context(_start_method())
    full = context.Array("b", len(reports.full()), lock=False)
    _STATE = state
    # What the workers inherit (the compiled protocol, the modules) is kept out of their cycle
    # collector's passes: a pass writes to every object it visits, which would make each
    # worker copy the parent's memory page by page.
    gc.freeze()
    pool = context.Pool(jobs, initializer=_init_worker, initargs=(state.spec, full))
    gc.unfreeze()
    try:
        pending: deque[tuple[Chunk, AsyncResult[Part]]] = deque()
        for chunk in chunks:
            pending.append((chunk, pool.apply_async(_work, (chunk,))))
            while len(pending) >= 2 * jobs:
                chunk_done, result = pending.popleft()
                merge(chunk_done, result.get())
                full[:] = reports.full()
        while pending:
            chunk_done, result = pending.popleft()
            merge(chunk_done, result.get())
            full[:] = reports.full()
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()
        _STATE = None
