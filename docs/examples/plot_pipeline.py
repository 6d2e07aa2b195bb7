"""
==============================
ContraSim inside a Pipeline
==============================

Every measure is a scikit-learn estimator, so it can be the last step of a
:class:`~sklearn.pipeline.Pipeline`. Here the first representation set has neurons on
very different scales (some activations a thousand times larger than others), as raw
activations often do. Standardising the neurons
(:class:`~sklearn.preprocessing.StandardScaler`) and keeping their leading principal
components (:class:`~sklearn.decomposition.PCA`) before ContraSim helps it learn; in a
pipeline, both are learned on the training rows only and applied unchanged to held-out
rows, and the whole pipeline is cross-validated like any model.

A pipeline transforms only ``X``: the second set ``y`` is passed unchanged to the
measure's ``fit`` and ``score``. Preprocess ``y`` beforehand when it needs it.
"""

# %%
# Two paired sets, one badly scaled
# ---------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_contrasim.contrasim import ContraSim
from sklearn_contrasim.datasets import make_paired_representations

X, y, _ = make_paired_representations(
    1200, n_features_x=64, n_features_y=32, noise=3.0, nonlinear=True, random_state=0
)
rng = np.random.RandomState(0)
X = X * 10 ** rng.uniform(-1, 2, size=X.shape[1])  # neurons scaled by 0.1 to 100
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, random_state=0)
print(f"standard deviations of the neurons: {X.std(axis=0).min():.1f} "
      f"to {X.std(axis=0).max():.0f}")

# %%
# The measure alone, and in a pipeline
# ------------------------------------
# Tiny settings (one batch of all training rows, 30 epochs) so that the example runs in
# seconds; see the user guide for real ones.
contrasim = ContraSim(
    dim=16, hidden_layer_sizes=(64,), batch_size=600, lr=3e-3, max_epochs=30,
    temperature=0.1, random_state=0,
)
pipeline = make_pipeline(StandardScaler(), PCA(n_components=16, random_state=0), contrasim)
pipeline

# %%
# ``fit`` scales and reduces ``X`` and trains ContraSim on the result; ``score`` applies
# the same transformations to the held-out rows before running the retrieval protocol.
# The pipeline holds ``contrasim`` itself, so the measure alone is trained on a copy.
alone = clone(contrasim).fit(X_train, y_train)
pipeline.fit(X_train, y_train)
print(f"ContraSim alone:        held-out retrieval accuracy {alone.score(X_test, y_test):.2f}")
print(f"scaler, PCA, ContraSim: held-out retrieval accuracy {pipeline.score(X_test, y_test):.2f}")

# %%
# A pipeline has no ``similarity`` method: apply the preprocessing steps
# (``pipeline[:-1]``) and ask the fitted measure (``pipeline[-1]``).
measure = pipeline[-1]
X_test_reduced = pipeline[:-1].transform(X_test)
print(f"similarity of the test pairs:    {measure.similarity(X_test_reduced, y_test):.3f}")
print(f"similarity of shuffled pairs:    {measure.similarity(X_test_reduced, y_test[::-1]):.3f}")

# %%
# The two values are close: a mean cosine says little on its own. Whether the measure
# tells matched from mismatched pairs is what ``score`` measures (see :ref:`scoring`).
#
# The training curves (``history_``) of the two: the preprocessed inputs reach a lower
# contrastive loss.
fig, ax = plt.subplots(figsize=(5, 3.2))
ax.plot(alone.history_[:, "train_loss"], label="ContraSim on raw X")
ax.plot(measure.history_[:, "train_loss"], label="after StandardScaler and PCA")
ax.set_xlabel("epoch")
ax.set_ylabel("contrastive training loss")
ax.legend()
fig.tight_layout()

# %%
# Cross-validating the pipeline
# -----------------------------
# ``cross_val_score`` refits the whole pipeline on each training fold (so the scaler and
# the PCA never see the held-out rows) and scores it with the retrieval protocol.
scores = cross_val_score(pipeline, X, y, cv=3)
print(f"3-fold retrieval accuracy: {scores.mean():.2f} +/- {scores.std():.2f} "
      f"(chance {1 / 11:.2f})")
