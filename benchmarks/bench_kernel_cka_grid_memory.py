"""Peak memory of a kernel-CKA layer grid: Grams written in place vs. a list then a stack.

An RBF-CKA grid needs every layer's centred n x n Gram matrix, then all their inner
products (linear CKA's Gram route streams its Grams in blocks instead). The library
writes each Gram into one stacked array as it is computed; the naive baseline, run here
in the same process on the same data, keeps the list of Grams and stacks it (a second
copy of every Gram) before the one matrix product. Both give the same grid. Reported: the peak memory traced by
``tracemalloc`` (numpy buffers included) during each grid, the ratio, and the seconds.

Run: ``python benchmarks/bench_kernel_cka_grid_memory.py`` (n = 4,000 rows, 6 x 6 layers
of 256 features, as in the full preset's MLP layer prediction; ``traced`` comes from
``bench_layer_grid.py`` next to it).
"""

import argparse

import numpy as np
from bench_layer_grid import traced

from sklearn_contrasim.measures import RBFCKA, pairwise_similarity
from sklearn_contrasim.measures._cka_math import _normalise


def naive_grid(measure, Xs, Ys):
    """The baseline: a list of (Gram, squared norm) summaries, stacked, then one product."""
    summaries_x = [measure._summarize(X) for X in Xs]
    summaries_y = [measure._summarize(Y) for Y in Ys]
    grams_x = np.stack([gram.ravel() for gram, _ in summaries_x])
    grams_y = np.stack([gram.ravel() for gram, _ in summaries_y])
    return _normalise(grams_x @ grams_y.T, np.array([s for _, s in summaries_x]),
                      np.array([s for _, s in summaries_y]), measure._lower_bound)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=4000)
    parser.add_argument("--n-features", type=int, default=256)
    parser.add_argument("--n-layers", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    shape = (args.n_samples, args.n_features)
    Xs = [rng.standard_normal(shape, dtype=np.float32) for _ in range(args.n_layers)]
    Ys = [X + rng.standard_normal(shape, dtype=np.float32) for X in Xs]
    measure = RBFCKA()

    library, library_seconds, library_peak = traced(lambda: pairwise_similarity(measure, Xs, Ys))
    naive, naive_seconds, naive_peak = traced(lambda: naive_grid(measure, Xs, Ys))
    gram_mib = args.n_samples**2 * 8 / 2**20
    print(f"RBF CKA grid, {args.n_layers} x {args.n_layers} layers, n = {args.n_samples}, "
          f"d = {args.n_features} (one float64 Gram: {gram_mib:.0f} MiB)")
    print(f"  library (in place):   peak {library_peak:7.0f} MiB, {library_seconds:5.1f} s")
    print(f"  naive (list + stack): peak {naive_peak:7.0f} MiB, {naive_seconds:5.1f} s")
    print(f"  memory ratio naive / library: {naive_peak / library_peak:.2f}")
    print(f"  largest difference between the grids: {np.abs(library - naive).max():.1e}")


if __name__ == "__main__":
    main()
