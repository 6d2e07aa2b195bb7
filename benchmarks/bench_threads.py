"""ContraSim fit time against its thread count, on an idle machine and next to a busy one.

Times ``ContraSim(n_threads=k).fit`` for ``k`` = 1 (the default), 2, and ``None`` (torch's
own default, one thread per core, what the measures used before ``n_threads``) in two
conditions, in one run: "idle" (nothing started by this script) and "loaded" (one
CPU-bound process spinning beside the fit, started with ``multiprocessing`` and stopped
afterwards). After one untimed warm-up fit, every setting is trained ``--repeats`` times,
the settings alternating, and the fastest fit is reported (on a shared machine the minimum
is the figure least disturbed by other work), with its ratio to the best setting of its
condition.

The default model is the package's: 768-wide inputs (a transformer layer), hidden layers
(512, 256), dim 128, batches of 1,024 pairs.

Usage::

    PYTHONPATH=. python benchmarks/bench_threads.py [--n-pairs 4096 --epochs 2 --repeats 3]
"""

import argparse
import multiprocessing
import time

import numpy as np
import torch

from sklearn_contrasim import ContraSim
from sklearn_contrasim.utils._threads import available_cores


def _spin():
    """Keep one core busy until terminated (pure Python: no threads of its own)."""
    count = 0
    while True:
        count += 1


class CPUBoundNeighbour:
    """A context manager running one CPU-bound process while the block runs."""

    def __enter__(self):
        self.process = multiprocessing.get_context("spawn").Process(target=_spin, daemon=True)
        self.process.start()
        time.sleep(1.0)  # let it start spinning
        return self

    def __exit__(self, *exc_info):
        self.process.terminate()
        self.process.join()


def _fit_seconds(X, y, n_threads, args):
    measure = ContraSim(
        batch_size=args.batch_size, max_epochs=args.epochs, lr=1e-3, n_threads=n_threads,
        random_state=0,
    )
    start = time.perf_counter()
    measure.fit(X, y)
    return time.perf_counter() - start


def _time_settings(X, y, settings, args):
    """Return the fastest of ``args.repeats`` fits of every thread setting."""
    times = {label: [] for label in settings}
    for _ in range(args.repeats):
        for label, n_threads in settings.items():
            times[label].append(_fit_seconds(X, y, n_threads, args))
    return {label: min(seconds) for label, seconds in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-pairs", type=int, default=4096)
    parser.add_argument("--width", type=int, default=768)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    rng = np.random.RandomState(0)
    X = rng.randn(args.n_pairs, args.width)
    y = X @ rng.randn(args.width, args.width) / np.sqrt(args.width)
    y += 0.5 * rng.randn(*y.shape)
    settings = {"1 (default)": 1, "2": 2, f"torch's {torch.get_num_threads()}": None}
    print(f"{available_cores()} cores available, torch's own default {torch.get_num_threads()} "
          f"threads; {args.n_pairs} pairs x {args.width}, {args.epochs} epochs, batches of "
          f"{args.batch_size}, fastest of {args.repeats}")

    _fit_seconds(X, y, 1, args)  # warm-up: the first fit of a process pays torch's set-up
    results = {"idle": _time_settings(X, y, settings, args)}
    with CPUBoundNeighbour():
        results["loaded"] = _time_settings(X, y, settings, args)

    print(f"\n| condition | {' | '.join(f'{label} thread(s)' for label in settings)} |")
    print(f"|---|{'---|' * len(settings)}")
    for condition, seconds in results.items():
        best = min(seconds.values())
        cells = [f"{seconds[label]:.2f} s ({seconds[label] / best:.2f}x)" for label in settings]
        print(f"| {condition} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
