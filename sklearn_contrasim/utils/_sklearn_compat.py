"""The one import site of the scikit-learn private helpers this package uses.

scikit-learn does not promise these names across releases; importing them here only means
that a rename is fixed in one place.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
    validate_parameter_constraints,
    validate_params,
)
from sklearn.utils.validation import _check_feature_names_in

__all__ = [
    "Interval",
    "StrOptions",
    "_check_feature_names_in",
    "_fit_context",
    "validate_parameter_constraints",
    "validate_params",
]
