"""Thread limits set for a block of work and restored afterwards."""

import pytest
import torch
from threadpoolctl import threadpool_info, threadpool_limits

from sklearn_contrasim.utils._threads import (
    available_cores,
    blas_threads,
    limit_threads,
    one_blas_thread,
    threads_per_worker,
)


def test_limit_threads_sets_and_restores_torch_and_blas_threads():
    before_torch = torch.get_num_threads()
    before_pools = [pool["num_threads"] for pool in threadpool_info()]
    with limit_threads(1):
        assert torch.get_num_threads() == 1
        assert all(pool["num_threads"] == 1 for pool in threadpool_info())
    assert torch.get_num_threads() == before_torch
    assert [pool["num_threads"] for pool in threadpool_info()] == before_pools


def test_limit_threads_restores_after_an_error():
    before = torch.get_num_threads()
    with pytest.raises(RuntimeError, match="inside"):
        with limit_threads(1):
            raise RuntimeError("inside")
    assert torch.get_num_threads() == before


def test_limit_threads_none_changes_nothing():
    torch.set_num_threads(1)
    with limit_threads(None):
        assert torch.get_num_threads() == 1


@pytest.mark.parametrize("n_threads", [0, -2])
def test_limit_threads_rejects_fewer_than_one_thread(n_threads):
    with pytest.raises(ValueError, match="n_threads must be at least 1"):
        with limit_threads(n_threads):
            pass


def test_threads_per_worker_shares_the_cores():
    cores = available_cores()
    assert threads_per_worker(None) == cores
    assert threads_per_worker(-1) == 1
    assert threads_per_worker(2 * cores) == 1
    assert threads_per_worker(1) == cores


def test_one_blas_thread_sets_and_restores_the_blas_pools_only():
    torch.set_num_threads(2)
    with threadpool_limits(2, user_api="blas"):
        assert blas_threads() == 2
        with one_blas_thread():
            assert blas_threads() == 1
            assert torch.get_num_threads() == 2
        assert blas_threads() == 2
