"""The measures compared by default, and the quick and full benchmark presets."""

LEARNED_MEASURES = ("ContraSim", "DeepDot", "DeepCKA")


def default_measures(*, learned_params=None, random_state=0):
    """Every measure of the library, named, as the benchmarks compare them by default.

    The learned measures (ContraSim and its no-negative ablations DeepDot and DeepCKA)
    and every closed-form measure: linear CKA (biased and debiased), RBF CKA, mean CCA,
    SVCCA, PWCCA, orthogonal Procrustes, the raw dot product and the norm similarity.

    Parameters
    ----------
    learned_params : dict, default=None
        Parameters set on every learned measure (for example ``{"max_epochs": 20}``).
    random_state : int, default=0
        Seed of the learned measures.

    Returns
    -------
    measures : dict of str to BaseSimilarity
        Unfitted measures, learned ones first.

    Examples
    --------
    >>> from sklearn_contrasim.benchmarks import default_measures
    >>> measures = default_measures(learned_params={"max_epochs": 5})
    >>> measures["ContraSim"].max_epochs, "LinearCKA" in measures
    (5, True)
    """
    from ..contrasim import ContraSim, DeepCKA, DeepDot
    from ..measures import (
        PWCCA,
        RBFCKA,
        SVCCA,
        DotProduct,
        LinearCKA,
        MeanCCA,
        NormSimilarity,
        OrthogonalProcrustes,
    )

    learned_params = {"random_state": random_state, **(learned_params or {})}
    return {
        "ContraSim": ContraSim(**learned_params),
        "DeepDot": DeepDot(**learned_params),
        "DeepCKA": DeepCKA(**learned_params),
        "LinearCKA": LinearCKA(),
        "DebiasedCKA": LinearCKA(debiased=True),
        "RBFCKA": RBFCKA(),
        "MeanCCA": MeanCCA(),
        "SVCCA": SVCCA(),
        "PWCCA": PWCCA(),
        "OrthogonalProcrustes": OrthogonalProcrustes(),
        "DotProduct": DotProduct(),
        "NormSimilarity": NormSimilarity(),
    }


#: The ``contrasim-bench`` presets: for each benchmark, the data sets (name -> loader
#: parameters) and the runner's parameters, plus the training of the learned measures.
#: quick: small data sets built in minutes, every layer for layer prediction, five of the
#: 13 e5 layers and two training language pairs for multilingual, small chunks with
#: repeated shuffles so that each held-out set gives enough decisions.
#: full: the loaders' full sizes (as close to the paper's as the installed data allows).
PRESETS = {
    "quick": {
        "learned_params": {"batch_size": 256, "max_epochs": 60, "lr": 1e-3},
        "layer_prediction": {
            "datasets": {"mlp-fashion-mnist": {"model": "mlp", "preset": "quick"}},
            "runner": {"return_similarities": True},
        },
        "multilingual": {
            "datasets": {"e5-catalogs": {"preset": "quick"}},
            "runner": {"layers": [0, 3, 6, 9, 12], "train_pairs": [("en", "de"), ("en", "ru")],
                       "chunk_size": 16, "n_repeats": 2},
        },
        "image_caption": {
            "datasets": {"openclipart": {"source": "openclipart", "preset": "quick"}},
            "runner": {"chunk_size": 8, "n_repeats": 4},
        },
    },
    "full": {
        "learned_params": {"batch_size": 512, "max_epochs": 100, "lr": 1e-3},
        "layer_prediction": {
            "datasets": {
                "mlp-fashion-mnist": {"model": "mlp", "preset": "full"},
                "bert-catalogs": {"model": "bert", "preset": "full"},
            },
            "runner": {"return_similarities": True},
        },
        "multilingual": {
            "datasets": {"e5-catalogs": {"preset": "full"}},
            "runner": {"chunk_size": 32, "n_repeats": 2},
        },
        "image_caption": {
            "datasets": {
                "openclipart": {"source": "openclipart", "preset": "full"},
                "emoji": {"source": "emoji", "preset": "full"},
            },
            "runner": {"chunk_size": 16, "n_repeats": 4},
        },
    },
}
