"""Time exact CKA layer grids against the least time this machine's matrix products allow.

Two "models" of ``--n-layers`` float32 layers (n rows x d features, related across models
and from layer to layer, with non-zero means like real activations) are compared layer by
layer, the layer-prediction benchmark's grid, for every n and d of the size preset:

- Linear CKA: the grid of :func:`sklearn_contrasim.measures.pairwise_similarity` (it
  chooses the feature or the Gram route), best of ``--repeats`` runs; the FLOP-minimal
  time, the fewer floating-point operations of the two routes (``_linear_grid_flops``:
  symmetric products, the Grams and the feature route's self-terms, counted as one
  triangle, and only the inner products of Grams that are needed) at the float32 matmul
  rate, the best of products ``A^T B`` (``A`` n x d and ``B`` n x (L d): the feature
  route's shape) timed right before each run of the grid, so that both see the machine in
  the same state; their ratio (the figure of merit: 1 is the machine's limit); the naive
  loop of ``LinearCKA().similarity`` pair by pair, timed on ``--naive-pairs`` pairs and
  extrapolated to all L^2; the grid's peak memory traced by ``tracemalloc`` in one more
  run (numpy buffers included, the input excluded; tracing is left out of the timed runs);
  and, for n <= 4,000, the largest difference from the grid of the float64 copies.
- RBF CKA (smaller n): the grid against a plain float64 numpy grid that computes each
  layer's centred Gram once and takes all inner products in one product; both times,
  both peaks and the largest difference.

One small grid runs untimed first: a process's first grid looks up its BLAS pools (a
scan of the loaded libraries, tens of milliseconds), once.

Run: ``python benchmarks/bench_layer_grid.py`` (n in {1,000, 4,000, 20,000}, d in {256,
768, 1,024}, 13 x 13 layers; RBF CKA at n in {1,000, 2,000}); ``--quick`` for small
sizes. Prints markdown tables.
"""

import argparse
import time
import tracemalloc

import numpy as np

from sklearn_contrasim.measures import RBFCKA, LinearCKA, pairwise_similarity
from sklearn_contrasim.measures._cka_math import _linear_grid_flops

PRESETS = {
    "full": {"n": (1000, 4000, 20_000), "d": (256, 768, 1024), "rbf_n": (1000, 2000)},
    "quick": {"n": (500, 2000), "d": (64, 256), "rbf_n": (300,)},
}


def make_models(n_layers, n_samples, n_features, seed):
    """Two lists of related float32 layers with non-zero means, like real activations."""
    rng = np.random.default_rng(seed)
    model_a, model_b = [], []
    state = rng.standard_normal((n_samples, n_features), dtype=np.float32)
    for _ in range(n_layers):
        state = 0.8 * state + 0.6 * rng.standard_normal(state.shape, dtype=np.float32)
        model_a.append(state + 0.5)
        model_b.append(state + rng.standard_normal(state.shape, dtype=np.float32) - 0.3)
    return model_a, model_b


def best_rate_and_seconds(function, n_samples, n_features, n_columns, repeats):
    """The best float32 matmul rate (flop/s) and the best time of ``function`` over
    ``repeats`` rounds, each a product ``A^T B`` of the feature route's shape (the operands
    drawn once) right before a run of ``function``."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((n_samples, n_features), dtype=np.float32)
    B = rng.standard_normal((n_samples, n_columns), dtype=np.float32)
    product_seconds, seconds = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        A.T @ B
        product_seconds.append(time.perf_counter() - start)
        start = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - start)
    return 2 * n_samples * n_features * n_columns / min(product_seconds), min(seconds)


def traced(function):
    """Run ``function``; return its result, its seconds and its peak traced memory (MiB)."""
    tracemalloc.start()
    start = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return result, seconds, peak


def naive_seconds(model_a, model_b, n_pairs):
    """Seconds of ``LinearCKA().similarity`` on all pairs, extrapolated from ``n_pairs``."""
    start = time.perf_counter()
    for X, Y in zip(model_a[:n_pairs], model_b[:n_pairs]):
        LinearCKA().similarity(X, Y)
    return (time.perf_counter() - start) / n_pairs * len(model_a) * len(model_b)


def linear_row(n, d, args):
    model_a, model_b = make_models(args.n_layers, n, d, args.seed)
    widths = [d] * args.n_layers
    least_flops = min(_linear_grid_flops(n, widths, widths))
    run_grid = lambda: pairwise_similarity(LinearCKA(), model_a, model_b)  # noqa: E731
    rate, seconds = best_rate_and_seconds(run_grid, n, d, args.n_layers * d, args.repeats)
    grid, _, peak = traced(run_grid)
    ideal = least_flops / rate
    naive = naive_seconds(model_a, model_b, args.naive_pairs)
    if n <= 4000:
        reference = pairwise_similarity(LinearCKA(), [X.astype(np.float64) for X in model_a],
                                        [Y.astype(np.float64) for Y in model_b])
        difference = f"{np.abs(grid - reference).max():.1e}"
    else:
        difference = "-"
    return (f"| {n:,} | {d:,} | {seconds:.2f} | {least_flops / 1e12:.3f} | {rate / 1e9:.0f} "
            f"| {ideal:.2f} | **{seconds / ideal:.2f}** | {naive:.1f} | {naive / seconds:.1f} "
            f"| {peak:,.0f} | {difference} |")


def plain_rbf_grid(model_a, model_b, threshold=1.0):
    """RBF CKA of every pair in float64 numpy: each centred Gram once, one product."""

    def centred_gram(X):
        X = X.astype(np.float64)
        X -= X.mean(axis=0)
        sq_norms = np.einsum("ij,ij->i", X, X)
        distances = np.maximum(sq_norms[:, None] + sq_norms[None, :] - 2 * X @ X.T, 0)
        np.fill_diagonal(distances, 0)
        K = np.exp(-distances / (2 * threshold**2 * np.median(distances)))
        means = K.mean(axis=0)
        return (K - means[:, None] - means[None, :] + means.mean()).ravel()

    grams_a = np.stack([centred_gram(X) for X in model_a])
    grams_b = np.stack([centred_gram(Y) for Y in model_b])
    cross = grams_a @ grams_b.T
    return cross / np.sqrt(np.outer(np.einsum("ij,ij->i", grams_a, grams_a),
                                    np.einsum("ij,ij->i", grams_b, grams_b)))


def rbf_row(n, d, args):
    model_a, model_b = make_models(args.n_layers, n, d, args.seed)
    grid, seconds, peak = traced(lambda: pairwise_similarity(RBFCKA(), model_a, model_b))
    plain, plain_seconds, plain_peak = traced(lambda: plain_rbf_grid(model_a, model_b))
    return (f"| {n:,} | {d:,} | {seconds:.2f} | {plain_seconds:.2f} "
            f"| {plain_seconds / seconds:.2f} | {peak:,.0f} | {plain_peak:,.0f} "
            f"| {np.abs(grid - plain).max():.1e} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--n-layers", type=int, default=13)
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed runs of each linear grid (the best one counts)")
    parser.add_argument("--naive-pairs", type=int, default=3,
                        help="pairs the naive loop is timed on, extrapolated to all pairs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    preset = PRESETS["quick" if args.quick else "full"]
    L = args.n_layers
    pairwise_similarity(LinearCKA(), *make_models(2, 100, 8, args.seed))  # warm-up, untimed
    print(f"Linear CKA, {L} x {L} float32 layers")
    print("| n | d | grid (s) | least TFLOP | matmul GFLOP/s | FLOP-minimal (s) "
          "| grid / minimal | naive pairs (s) | speed-up | peak MiB | max diff f64 |")
    print("|" + "---|" * 11)
    for n in preset["n"]:
        for d in preset["d"]:
            print(linear_row(n, d, args), flush=True)
    print(f"\nRBF CKA, {L} x {L} float32 layers, against a plain float64 numpy grid")
    print("| n | d | grid (s) | plain (s) | speed-up | peak MiB | plain peak MiB | max diff |")
    print("|" + "---|" * 8)
    for n in preset["rbf_n"]:
        for d in preset["d"]:
            print(rbf_row(n, d, args), flush=True)


if __name__ == "__main__":
    main()
