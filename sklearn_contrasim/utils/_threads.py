"""Thread limits for torch and the BLAS/OpenMP pools, set for a block of work and restored."""

import os
import sys
from contextlib import contextmanager

from joblib import effective_n_jobs
from threadpoolctl import threadpool_limits


def available_cores():
    """Return the number of cores this process may run on (its CPU affinity)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not every platform has CPU affinity
        return os.cpu_count() or 1


def threads_per_worker(n_jobs):
    """Return the threads each of ``n_jobs`` parallel workers gets: ``cores // n_jobs``, at least 1.

    Parameters
    ----------
    n_jobs : int or None
        joblib's ``n_jobs`` (``None`` is one worker, ``-1`` one per core).

    Returns
    -------
    n_threads : int

    Examples
    --------
    >>> from sklearn_contrasim.utils._threads import available_cores, threads_per_worker
    >>> threads_per_worker(1) == available_cores()
    True
    >>> threads_per_worker(-1)
    1
    """
    return max(1, available_cores() // effective_n_jobs(n_jobs))


@contextmanager
def limit_threads(n_threads):
    """Run a block with at most ``n_threads`` threads in torch and the BLAS/OpenMP pools.

    torch's intra-op thread count (only when torch is already imported: this never
    imports it) and every pool threadpoolctl knows are limited inside the block and
    restored when it exits, also on an error. ``None`` changes nothing.

    Parameters
    ----------
    n_threads : int or None
        The limit, at least 1.

    Examples
    --------
    >>> from threadpoolctl import threadpool_info
    >>> from sklearn_contrasim.utils._threads import limit_threads
    >>> with limit_threads(1):
    ...     all(pool["num_threads"] == 1 for pool in threadpool_info())
    True
    """
    if n_threads is None:
        yield
        return
    if int(n_threads) < 1:
        raise ValueError(f"n_threads must be at least 1, got {n_threads!r}.")
    torch = sys.modules.get("torch")
    previous = torch.get_num_threads() if torch is not None else None
    with threadpool_limits(limits=int(n_threads)):
        if torch is not None:
            torch.set_num_threads(int(n_threads))
        try:
            yield
        finally:
            if torch is not None:
                torch.set_num_threads(previous)
