"""The measures compared by default, and the quick and full benchmark presets."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

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


def _read_only(value):
    """``value`` with every mapping made a read-only view and every list a tuple."""
    if isinstance(value, Mapping):
        return MappingProxyType({key: _read_only(item) for key, item in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(_read_only(item) for item in value)
    return value


@dataclass(frozen=True)
class BenchmarkSettings:
    """One benchmark's part of a preset: its data sets, its runner's and its measures' settings.

    Every mapping is stored as a read-only view (and every list as a tuple), so a preset
    cannot be changed by the runs that read it.

    Parameters
    ----------
    datasets : mapping of str to mapping
        Data set name -> the parameters of the benchmark's loader (for example
        :func:`~sklearn_contrasim.datasets.load_multilingual`).
    learned_params : mapping, default={}
        Parameters set on every learned measure (see :func:`default_measures`).
    runner_params : mapping, default={}
        Keyword arguments of the benchmark's runner (for example
        :func:`~sklearn_contrasim.benchmarks.multilingual`).
    relative_measures : sequence of str or None, default=None
        The measures that compare anchor-relative representations when
        ``runner_params["representation"]`` names them (the others compare the raw ones
        only); None: every measure.

    Examples
    --------
    >>> from sklearn_contrasim.benchmarks import PRESETS
    >>> settings = PRESETS["quick"]["multilingual"]
    >>> list(settings.datasets), settings.runner_params["layers"]
    (['e5-catalogs'], (0, 6, 12))
    """

    datasets: Mapping
    learned_params: Mapping = field(default_factory=dict)
    runner_params: Mapping = field(default_factory=dict)
    relative_measures: Sequence | None = None

    def __post_init__(self):
        for name in ("datasets", "learned_params", "runner_params", "relative_measures"):
            object.__setattr__(self, name, _read_only(getattr(self, name)))


#: The ``contrasim-bench`` presets (read-only): preset name -> benchmark name ->
#: :class:`BenchmarkSettings` (the data sets with their loader parameters, the training of
#: the learned measures and the runner's parameters).
#:
#: quick (minutes on 2 cores): the loaders' quick sets; layer prediction on the MLP seeds
#: with 10 epochs of set-level training (batches of 1,024 rows of every layer of every
#: model); multilingual on 3 of the 13 e5 layers (0, 6, 12), trained on en-de and tested
#: on the 10 pairs of the 5 other languages, chunks of 8 sentences (58 decisions per
#: pair, layer and negatives); image-caption on the 4 model pairs, chunks of 8 pairs and
#: 4 shuffles (88 decisions per pair and negatives).
#: Layer prediction and image-caption compare raw and anchor-relative representations,
#: the relative ones with ContraSim and the closed-form measures (the no-negative
#: ablations DeepDot and DeepCKA on raw ones only), multilingual raw ones of one model, to
#: stay within minutes; ``multilingual(..., representation=("raw", "relative"))`` and
#: ``load_multilingual(model="mlm")`` run the rest.
#: full: the loaders' full sets (as close to the paper's sizes as the installed data
#: allows), every layer, every English training pair, two data sets per benchmark (for
#: multilingual, two models: multilingual-e5-small and the masked language model trained
#: here on monolingual text, ``model="mlm"``); layer prediction and image-caption on raw
#: and anchor-relative representations, multilingual on raw ones
#: (``multilingual(..., representation=("raw", "relative"))`` runs both).
_QUICK_RETRIEVAL_TRAINING = {"batch_size": 128, "max_epochs": 30, "lr": 1e-3}
_BOTH = ("raw", "relative")
_WITHOUT_ABLATIONS = ("ContraSim", "LinearCKA", "DebiasedCKA", "RBFCKA", "MeanCCA", "SVCCA",
                      "PWCCA", "OrthogonalProcrustes", "DotProduct", "NormSimilarity")
PRESETS = MappingProxyType({
    "quick": MappingProxyType({
        "layer_prediction": BenchmarkSettings(
            datasets={"mlp-fashion-mnist": {"model": "mlp", "preset": "quick"}},
            learned_params={"batch_size": 1024, "max_epochs": 10, "lr": 1e-3},
            runner_params={"return_similarities": True, "representation": _BOTH},
            relative_measures=_WITHOUT_ABLATIONS,
        ),
        "multilingual": BenchmarkSettings(
            datasets={"e5-catalogs": {"preset": "quick"}},
            learned_params=_QUICK_RETRIEVAL_TRAINING,
            runner_params={"layers": [0, 6, 12], "train_pairs": [("en", "de")],
                           "chunk_size": 8},
        ),
        "image_caption": BenchmarkSettings(
            datasets={"openclipart": {"source": "openclipart", "preset": "quick"}},
            learned_params=_QUICK_RETRIEVAL_TRAINING,
            runner_params={"chunk_size": 8, "n_repeats": 4, "representation": _BOTH},
            relative_measures=_WITHOUT_ABLATIONS,
        ),
    }),
    "full": MappingProxyType({
        "layer_prediction": BenchmarkSettings(
            datasets={
                "mlp-fashion-mnist": {"model": "mlp", "preset": "full"},
                "bert-catalogs": {"model": "bert", "preset": "full"},
            },
            learned_params={"batch_size": 1024, "max_epochs": 30, "lr": 1e-3},
            runner_params={"return_similarities": True, "representation": _BOTH},
        ),
        "multilingual": BenchmarkSettings(
            datasets={"e5-catalogs": {"preset": "full"},
                      "mlm-catalogs": {"model": "mlm", "preset": "full"}},
            learned_params={"batch_size": 256, "max_epochs": 50, "lr": 1e-3},
            runner_params={"chunk_size": 8, "n_repeats": 2},
        ),
        "image_caption": BenchmarkSettings(
            datasets={
                "openclipart": {"source": "openclipart", "preset": "full"},
                "emoji": {"source": "emoji", "preset": "full"},
            },
            learned_params={"batch_size": 256, "max_epochs": 50, "lr": 1e-3},
            runner_params={"chunk_size": 8, "n_repeats": 4, "representation": _BOTH},
        ),
    }),
})
