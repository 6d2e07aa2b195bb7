"""Does a learned measure carry a translation alignment over to languages it never saw?

On the full preset's multilingual data of the masked language model trained here
(``load_multilingual(model="mlm", preset="full")``: never shown a translation), ContraSim
with the full preset's training (batches of 256, 50 epochs, lr 1e-3) is fitted on the
training sentences of English and German, then

1. scored on the *held-out sentences of the same two languages* (layers 0, 3 and 6, chunks
   of 8, random and hard negatives, 2 shuffles), next to ``Norm``, ``Dot`` and linear CKA;
2. scored as the multilingual benchmark scores it, on the held-out sentences of the pairs
   of the four *other* languages, on raw and on anchor-relative representations (256
   anchor sentences, each language described by its own representation of them).

Chance is 1/11. Prints one table per check. Builds the data set when the data home lacks
it (about 15 minutes on 2 cores, the masked LM's training included).

Usage::

    PYTHONPATH=. python benchmarks/bench_multilingual_seen_languages.py [--n-jobs 2]
"""

import argparse

import numpy as np
import pandas as pd
from sklearn.base import clone

from sklearn_contrasim.benchmarks import PRESETS, default_measures, multilingual
from sklearn_contrasim.datasets import load_multilingual
from sklearn_contrasim.metrics import retrieval_accuracy

MEASURES = ("ContraSim", "NormSimilarity", "DotProduct", "LinearCKA")
LAYERS = (0, 3, 6)
PROTOCOL = {"chunk_size": 8, "n_repeats": 2}


def accuracy_table(results):
    """Accuracy per (representation, negatives, measure) and layer, hits pooled."""
    counts = results.groupby(["representation", "negatives", "measure", "layer"])[
        ["n_hits", "n_decisions"]].sum()
    return (counts.n_hits / counts.n_decisions).unstack("layer").round(2)


def seen_languages(data, measures, first="en", second="de"):
    """Each measure fitted on the training sentences of ``first`` and ``second`` and scored
    on their held-out sentences."""
    train = data.test_fold == -1
    rows = []
    for layer in LAYERS:
        X = data.representations[first][layer]
        Y = data.representations[second][layer]
        for name, measure in measures.items():
            fitted = clone(measure).fit(X[train], Y[train])
            for negatives in ("random", "hard"):
                scores = [retrieval_accuracy(fitted, X[~train], Y[~train],
                                             chunk_size=PROTOCOL["chunk_size"],
                                             negatives=negatives, random_state=repeat)
                          for repeat in range(PROTOCOL["n_repeats"])]
                rows.append({"negatives": negatives, "measure": name, "layer": layer,
                             "accuracy": np.mean(scores)})
    return pd.DataFrame(rows).pivot_table(index=["negatives", "measure"], columns="layer",
                                          values="accuracy").round(2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()
    learned = PRESETS["full"]["multilingual"].learned_params
    measures = {name: measure for name, measure in
                default_measures(learned_params=learned).items() if name in MEASURES}
    data = load_multilingual(model="mlm", preset="full")
    print("1. Fitted on en-de, scored on held-out en-de sentences")
    print(seen_languages(data, measures).to_string())
    print("\n2. Fitted on en-de, scored on the pairs of the other languages")
    results = multilingual(data, measures, train_pairs=[("en", "de")], layers=list(LAYERS),
                           representation=("raw", "relative"), n_jobs=args.n_jobs,
                           dataset="mlm-catalogs", **PROTOCOL)
    print(accuracy_table(results).to_string())


if __name__ == "__main__":
    main()
