"""Time the linear-CKA layer grid against a naive per-pair float64 computation.

Two "models" of ``--n-layers`` float32 layers (``--n-samples`` x ``--n-features``) are
compared layer by layer (the layer-prediction benchmark's grid) three ways:

1. :func:`sklearn_contrasim.measures.pairwise_similarity` with :class:`LinearCKA`
   (self-terms once per layer, cross terms batched, float32 products summed in float64);
2. a naive loop over pairs, each converted to float64 and given the textbook
   ``||X^T Y||_F^2 / (||X^T X||_F ||Y^T Y||_F)`` (three products per pair);
3. the time the unavoidable products would take at this machine's measured float32
   matrix-product throughput (one ``d x d`` product per pair and per layer).

Run: ``python benchmarks/bench_layer_grid.py`` (defaults: 13 x 13 layers, n = 5,000,
d = 768). Prints the times, the speed-up, the fraction of the matmul throughput reached
and the largest difference between the grid and the float64 reference.
"""

import argparse
import time

import numpy as np

from sklearn_contrasim.measures import LinearCKA, pairwise_similarity


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


def naive_linear_cka(X, Y):
    """Textbook linear CKA of one pair, in float64."""
    X = X.astype(np.float64)
    Y = Y.astype(np.float64)
    X -= X.mean(axis=0)
    Y -= Y.mean(axis=0)
    return np.linalg.norm(X.T @ Y) ** 2 / (np.linalg.norm(X.T @ X) * np.linalg.norm(Y.T @ Y))


def matmul_throughput(n_samples, n_features, n_columns, repeats=3):
    """Best float32 ``A^T B`` throughput (flop/s) on shapes like the grid's products."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((n_samples, n_features), dtype=np.float32)
    B = rng.standard_normal((n_samples, n_columns), dtype=np.float32)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        A.T @ B
        best = min(best, time.perf_counter() - start)
    return 2 * n_samples * n_features * n_columns / best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-layers", type=int, default=13)
    parser.add_argument("--n-samples", type=int, default=5000)
    parser.add_argument("--n-features", type=int, default=768)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    L, n, d = args.n_layers, args.n_samples, args.n_features
    model_a, model_b = make_models(L, n, d, args.seed)

    start = time.perf_counter()
    grid = pairwise_similarity(LinearCKA(), model_a, model_b)
    grid_seconds = time.perf_counter() - start

    start = time.perf_counter()
    reference = np.array([[naive_linear_cka(X, Y) for Y in model_b] for X in model_a])
    naive_seconds = time.perf_counter() - start

    throughput = matmul_throughput(n, d, L * d)
    # One d x d product per pair (cross term) and per layer (self-term): the least any
    # exact feature-space computation must multiply.
    unavoidable_flops = 2 * n * d * d * (L * L + 2 * L)
    ideal_seconds = unavoidable_flops / throughput

    print(f"layer grid: {L} x {L} layers, n = {n}, d = {d}, float32 input")
    print(f"pairwise_similarity(LinearCKA()): {grid_seconds:8.2f} s")
    print(f"naive per-pair float64:           {naive_seconds:8.2f} s")
    print(f"speed-up:                         {naive_seconds / grid_seconds:8.2f} x")
    print(f"float32 matmul throughput:        {throughput / 1e9:8.1f} GFLOP/s")
    print(f"unavoidable products at that rate:{ideal_seconds:8.2f} s "
          f"({unavoidable_flops / 1e12:.2f} TFLOP)")
    print(f"fraction of matmul throughput:    {ideal_seconds / grid_seconds:8.2f}")
    print(f"max |grid - float64 reference|:   {np.abs(grid - reference).max():.2e}")


if __name__ == "__main__":
    main()
