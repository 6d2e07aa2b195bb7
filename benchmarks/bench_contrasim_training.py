"""Training speed of ContraSim: the skorch wrapper against a hand-written torch loop.

Two measurements, each in one run on the same data, model, batch size and device:

1. Example level: pairs per second per epoch of ``ContraSim.fit`` and of a plain torch
   loop training the same ``PairEncoder`` with the same loss, optimiser and batches. The
   ratio (wrapper / hand loop) is the cost of skorch.
2. Set level: seconds per epoch of ``ContraSim.fit_sets`` (all layers of all models of a
   batch in one forward pass) against plain torch loops that encode the layers in one
   pass and one layer of one model at a time.

Every variant is trained ``--repeats`` times, alternating, and the fastest epoch after
the first of each run is reported: on a shared machine the minimum is the figure least
disturbed by other work.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_contrasim_training.py
    python benchmarks/bench_contrasim_training.py --device cuda --n-pairs 65536 --width 768
"""

import argparse
import time

import numpy as np
import torch

from sklearn_contrasim import ContraSim
from sklearn_contrasim.contrasim._encoder import PairEncoder, SetEncoder
from sklearn_contrasim.contrasim._losses import SupConLoss
from sklearn_contrasim.datasets import make_paired_representations


def _synchronize(device):
    if device == "cuda":
        torch.cuda.synchronize()


def _hand_written_epochs(module, batches, n_epochs, n_rows, device, params):
    """Train ``module`` with Adam and SupCon; return the seconds of every epoch.

    ``batches(order)`` yields the module's inputs for each batch of the row order.
    """
    module = module.to(device)
    criterion = SupConLoss(params["temperature"], "cosine")
    optimizer = torch.optim.Adam(module.parameters(), lr=params["lr"])
    durations = []
    for _ in range(n_epochs):
        _synchronize(device)
        start = time.perf_counter()
        order = torch.randperm(n_rows)
        for inputs in batches(order):
            optimizer.zero_grad()
            loss = criterion(module(*[tensor.to(device) for tensor in inputs]))
            loss.backward()
            optimizer.step()
        _synchronize(device)
        durations.append(time.perf_counter() - start)
    return durations


def _split(order, batch_size):
    return order.split(batch_size)


def _fastest_epoch(durations):
    """Fastest epoch, the first (warm-up: allocations, kernels) excluded when possible."""
    return min(durations[1:] or durations)


def bench_example_level(args, params):
    X, y, _ = make_paired_representations(args.n_pairs, args.width, args.width, n_latent=16,
                                          random_state=0)
    x_rows, y_rows = torch.from_numpy(X.astype(np.float32)), torch.from_numpy(y.astype(np.float32))

    def batches(order):
        for index in _split(order, params["batch_size"]):
            yield x_rows[index], y_rows[index]

    wrapper, hand = [], []
    for _ in range(args.repeats):
        measure = ContraSim(max_epochs=args.epochs, device=args.device, **params).fit(X, y)
        wrapper.append(_fastest_epoch(measure.history_[:, "dur"]))
        torch.manual_seed(0)
        module = PairEncoder(args.width, args.width, params["hidden_layer_sizes"],
                             params["dim"], shared=True)
        hand.append(_fastest_epoch(_hand_written_epochs(module, batches, args.epochs,
                                                        args.n_pairs, args.device, params)))
    wrapper_rate = args.n_pairs / min(wrapper)
    hand_rate = args.n_pairs / min(hand)
    print(f"example level: {args.n_pairs} pairs of width {args.width}, batch "
          f"{params['batch_size']}, {args.epochs} epochs on {args.device}")
    print(f"  ContraSim.fit (skorch)     {wrapper_rate:12,.0f} pairs/s per epoch")
    print(f"  hand-written torch loop    {hand_rate:12,.0f} pairs/s per epoch")
    print(f"  ratio skorch / hand loop   {wrapper_rate / hand_rate:12.3f}")


class _PerLayerSetEncoder(SetEncoder):
    """The set encoder, run once per layer of each model instead of once per batch."""

    def forward(self, sets):
        n_models, n_layers = sets.shape[1:3]
        encoded = [[self.encoder_x(sets[:, model, layer]) for layer in range(n_layers)]
                   for model in range(n_models)]
        return torch.stack([torch.stack(layers) for layers in encoded])


def bench_set_level(args, params):
    rng = np.random.RandomState(0)
    base = [rng.randn(args.n_set_rows, args.width).astype(np.float32)
            for _ in range(args.layers)]
    sets = {f"seed{model}": [layer + 0.5 * rng.randn(*layer.shape).astype(np.float32)
                             for layer in base]
            for model in range(args.models)}
    stacked = torch.from_numpy(np.stack([np.stack(layers, axis=1) for layers in sets.values()],
                                        axis=1))  # (rows, models, layers, width)

    def batches(order):
        for index in _split(order, params["batch_size"]):
            yield (stacked[index],)

    timings = {"skorch": [], "one pass": [], "per layer": []}
    for _ in range(args.repeats):
        measure = ContraSim(max_epochs=args.epochs, device=args.device, **params)
        timings["skorch"].append(_fastest_epoch(measure.fit_sets(sets).history_[:, "dur"]))
        for name, module_class in (("one pass", SetEncoder), ("per layer", _PerLayerSetEncoder)):
            torch.manual_seed(0)
            module = module_class(args.width, params["hidden_layer_sizes"], params["dim"])
            timings[name].append(_fastest_epoch(_hand_written_epochs(
                module, batches, args.epochs, args.n_set_rows, args.device, params)))
    timings = {name: min(durations) for name, durations in timings.items()}
    print(f"set level: {args.models} models x {args.layers} layers x {args.n_set_rows} rows of "
          f"width {args.width}, batch {params['batch_size']} rows, on {args.device}")
    print(f"  ContraSim.fit_sets (skorch, one pass)  {timings['skorch']:8.3f} s/epoch")
    print(f"  hand loop, one pass                    {timings['one pass']:8.3f} s/epoch")
    print(f"  hand loop, one layer at a time         {timings['per layer']:8.3f} s/epoch")
    speed_up = timings["per layer"] / timings["one pass"]
    print(f"  speed-up of one pass over per layer    {speed_up:8.2f}x")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-pairs", type=int, default=16384)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--models", type=int, default=4)
    parser.add_argument("--layers", type=int, default=13)
    parser.add_argument("--n-set-rows", type=int, default=2048)
    parser.add_argument("--set-batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = parser.parse_args()
    params = dict(hidden_layer_sizes=(512, 256), dim=128, temperature=0.07, lr=1e-4,
                  random_state=0)
    bench_example_level(args, {**params, "batch_size": args.batch_size})
    bench_set_level(args, {**params, "batch_size": args.set_batch_size})


if __name__ == "__main__":
    main()
