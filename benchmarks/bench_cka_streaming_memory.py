"""Peak memory of linear CKA streamed over batches (n = 200,000, d = 768 by default).

Batches of paired float32 rows are generated on the fly (never the whole data set) and
fed to :meth:`LinearCKA.partial_fit`. The script reports the peak memory traced during
streaming (``tracemalloc``: numpy buffers included), the process's peak resident size,
what the data would take in memory, and, unless ``--no-check``, the in-memory value on the
same data once materialised, to show that streaming gives the same number.

Run: ``python benchmarks/bench_cka_streaming_memory.py``.
"""

import argparse
import resource
import time
import tracemalloc

import numpy as np

from sklearn_contrasim.measures import LinearCKA


def batches(n_samples, n_features, batch_size, seed):
    """Yield paired float32 batches; the same seed gives the same data."""
    rng = np.random.default_rng(seed)
    mixing = rng.standard_normal((n_features, n_features), dtype=np.float32) / np.sqrt(n_features)
    for start in range(0, n_samples, batch_size):
        rows = min(batch_size, n_samples - start)
        X = rng.standard_normal((rows, n_features), dtype=np.float32) + 1.0
        Y = X @ mixing + rng.standard_normal((rows, n_features), dtype=np.float32)
        yield X, Y


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=200_000)
    parser.add_argument("--n-features", type=int, default=768)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-check", action="store_true",
                        help="skip the in-memory computation on the materialised data")
    args = parser.parse_args(argv)
    n, d = args.n_samples, args.n_features

    rss_before = peak_rss_mb()
    tracemalloc.start()
    start = time.perf_counter()
    cka = LinearCKA()
    traced_peak, fit_overhead = 0.0, 0.0
    for X, Y in batches(n, d, args.batch_size, args.seed):
        # Memory partial_fit adds on top of what is held when it is called (the batch).
        held, peak = tracemalloc.get_traced_memory()
        traced_peak = max(traced_peak, peak)
        tracemalloc.reset_peak()
        cka.partial_fit(X, Y)
        fit_overhead = max(fit_overhead, tracemalloc.get_traced_memory()[1] - held)
    seconds = time.perf_counter() - start
    traced_peak = max(traced_peak, tracemalloc.get_traced_memory()[1]) / 2**20
    tracemalloc.stop()
    rss_streaming = peak_rss_mb()

    batch_mb = 2 * args.batch_size * d * 4 / 2**20
    print(f"streamed linear CKA: n = {cka.n_samples_seen_}, d = {d}, "
          f"batches of {args.batch_size} rows (float32)")
    print(f"similarity_:                        {cka.similarity_:.8f}")
    print(f"time:                               {seconds:8.1f} s")
    print(f"peak traced memory while streaming: {traced_peak:8.1f} MiB "
          f"(one pair of batches: {batch_mb:.1f} MiB; generating it included)")
    print(f"peak added by partial_fit:          {fit_overhead / 2**20:8.1f} MiB "
          "(statistics and block temporaries, over the batch it is given)")
    print(f"peak resident size: {rss_before:8.1f} MiB before, {rss_streaming:8.1f} MiB after "
          "streaming")
    print(f"the data in memory would take:      {2 * n * d * 4 / 2**20:8.1f} MiB (float32)")
    if not args.no_check:
        X, Y = (np.concatenate(parts) for parts in zip(*batches(n, d, args.batch_size, args.seed)))
        in_memory = LinearCKA().fit(X, Y).similarity(X, Y)
        print(f"in-memory similarity:               {in_memory:.8f} "
              f"(|difference| = {abs(in_memory - cka.similarity_):.1e})")


if __name__ == "__main__":
    main()
