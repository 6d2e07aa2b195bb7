"""Cross-domain image-caption transfer at quick size, raw and relative representations.

Trains on the training pairs of one quick image-caption set (openclipart, emoji) and
scores on the test pairs of the other, with ``image_caption_transfer``; scores both sets
in domain with ``image_caption`` for reference. ContraSim (the quick preset's retrieval
training: batches of 128, 30 epochs, lr 1e-3), LinearCKA and OrthogonalProcrustes; 256
anchors; chunks of 8 pairs, 4 repeats, 10 negatives (chance 1/11). Prints the mean accuracy
over the 4 model pairs per (data set, negatives, measure) and representation, and writes
the result table to ``--output`` when given. Builds the quick sets when the data home
lacks them (several minutes each).

Usage::

    PYTHONPATH=. python benchmarks/bench_image_caption_transfer.py [--output results.csv]
"""

import argparse

import pandas as pd

from sklearn_contrasim.benchmarks import (
    default_measures,
    image_caption,
    image_caption_transfer,
    summarize,
)
from sklearn_contrasim.datasets import load_image_caption

MEASURES = ("ContraSim", "LinearCKA", "OrthogonalProcrustes")
LEARNED = {"batch_size": 128, "max_epochs": 30, "lr": 1e-3}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", help="CSV file for the result table")
    args = parser.parse_args()
    measures = {name: measure for name, measure in
                default_measures(learned_params=LEARNED).items() if name in MEASURES}
    common = dict(representation=("raw", "relative"), n_anchors=256, chunk_size=8,
                  n_repeats=4)
    data = {source: load_image_caption(source=source, preset="quick")
            for source in ("openclipart", "emoji")}
    frames = [image_caption_transfer(data[train], data[test], measures, **common)
              for train, test in [("openclipart", "emoji"), ("emoji", "openclipart")]]
    frames += [image_caption(data[source], measures, dataset=source, **common)
               for source in data]
    results = pd.concat(frames, ignore_index=True)
    if args.output:
        results.to_csv(args.output, index=False)
    summary = summarize(results, by=("dataset", "representation", "negatives"))
    table = summary.pivot_table(index=["dataset", "negatives", "measure"],
                                columns="representation", values="mean", sort=False)
    print(table.round(3).to_string())


if __name__ == "__main__":
    main()
