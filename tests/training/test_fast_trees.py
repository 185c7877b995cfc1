"""The vectorized tree export fills exactly what skl2onnx's own would."""

from collections import defaultdict

import numpy as np
import pytest
from sklearn.ensemble import (
    GradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)

from training import fast_trees


def attributes(function, model, is_classifier, weight, counts):
    pairs = defaultdict(list)
    for tree_id, estimator in enumerate(np.ravel(model.estimators_)):
        function(
            pairs,
            is_classifier,
            estimator.tree_,
            tree_id,
            weight,
            0,
            counts,
            adjust_threshold_for_sklearn=True,
            dtype=np.float32,
        )
    return pairs


@pytest.mark.parametrize(
    ("model", "is_classifier", "classes"),
    [
        (RandomForestClassifier(n_estimators=5, random_state=0), True, 2),
        (RandomForestClassifier(n_estimators=5, random_state=0), True, 3),
        (RandomForestRegressor(n_estimators=5, random_state=0), False, 0),
        (GradientBoostingRegressor(n_estimators=5, random_state=0), False, 0),
    ],
)
def test_same_attributes_as_skl2onnx(model, is_classifier, classes):
    from skl2onnx.common.tree_ensemble import add_tree_to_attribute_pairs as original

    fast_trees.install()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 6)).astype(np.float32)
    y = rng.integers(0, classes, 400) if classes else X[:, 0] * 3 + rng.normal(size=400)
    model.fit(X, y)
    weight = 1.0 / len(np.ravel(model.estimators_))
    want = attributes(original, model, is_classifier, weight, is_classifier)
    got = attributes(
        fast_trees.add_tree_to_attribute_pairs, model, is_classifier, weight, is_classifier
    )
    assert set(got) == set(want)
    for key, values in want.items():
        if key.endswith("weights") or key == "nodes_values":
            np.testing.assert_allclose(got[key], values, rtol=1e-12, atol=0, err_msg=key)
        else:
            assert got[key] == list(values), key
