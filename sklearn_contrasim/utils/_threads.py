"""Thread limits for torch and the BLAS/OpenMP pools, set for a block of work and restored."""

import os
import sys
from contextlib import contextmanager
from functools import cache

from joblib import effective_n_jobs
from threadpoolctl import ThreadpoolController, threadpool_limits


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


@cache
def _blas_pools():
    """threadpoolctl's controller of the BLAS pools (numpy's, loaded with it), found once:
    looking them up scans the process's libraries, which takes milliseconds."""
    return ThreadpoolController().select(user_api="blas")


def blas_threads():
    """Return the threads of the BLAS pools now: the smallest of their limits, at least 1.

    A limit is the environment's setting (``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``...)
    or one set by threadpoolctl or :func:`limit_threads`, so work split over this many
    Python threads, each with a one-thread BLAS (:func:`one_blas_thread`), respects it.
    The smallest, as wheels of numpy and scipy each bring their own BLAS, and a limit set
    before one of them was loaded leaves that one out.

    Returns
    -------
    n_threads : int

    Examples
    --------
    >>> from sklearn_contrasim.utils._threads import blas_threads, limit_threads
    >>> with limit_threads(1):
    ...     blas_threads()
    1
    """
    return max(1, min((pool["num_threads"] for pool in _blas_pools().info()), default=1))


def one_blas_thread():
    """Return a context manager that runs the BLAS pools on one thread (restored after).

    Unlike :func:`limit_threads` it leaves torch and OpenMP alone and costs microseconds
    (the pools are looked up once per process), for numpy code that splits its own work
    over Python threads.

    Examples
    --------
    >>> from sklearn_contrasim.utils._threads import blas_threads, one_blas_thread
    >>> with one_blas_thread():
    ...     blas_threads()
    1
    """
    return _blas_pools().limit(limits=1)


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
