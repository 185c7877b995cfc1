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


@pytest.mark.parametrize("prepared", [False, True], ids=["encoded-at-export", "encoded-ahead"])
@pytest.mark.parametrize(
    ("model", "classes"),
    [
        (RandomForestClassifier(n_estimators=7, random_state=0), 2),
        (RandomForestClassifier(n_estimators=7, random_state=0), 3),
        (RandomForestRegressor(n_estimators=7, random_state=0), 0),
    ],
)
def test_spliced_forest_is_the_model_skl2onnx_builds(model, classes, prepared, monkeypatch):
    """The bytes written straight from numpy parse into the same model, attribute for
    attribute, as skl2onnx's own protobuf objects, and run to the same outputs."""
    import onnx
    import onnxruntime as ort
    import pandas as pd
    from skl2onnx import convert_sklearn
    from sklearn.pipeline import Pipeline

    from training.data import build_preprocessor
    from training.onnx_export import _initial_types, onnx_feed, sklearn_to_onnx

    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(300, 4)) * 1000, columns=list("abcd"))
    y = rng.integers(0, classes, 300) if classes else X["a"] * 3 + rng.normal(size=300)
    inputs = [{"onnx_input": c, "dtype": "float"} for c in X.columns]
    pipeline = Pipeline(
        [("preprocess", build_preprocessor(inputs, scale=False)), ("model", model)]
    ).fit(X, y)
    options = {id(pipeline): {"zipmap": False}} if classes else None
    fast_trees.install()
    reference = convert_sklearn(pipeline, initial_types=_initial_types(X), options=options)

    encoded_at_export = []
    if prepared:  # as the training worker does, chunk by chunk while the forest fits
        trees = pipeline.steps[-1][1].estimators_
        fast_trees.prepare_forest(trees[:4], 0, len(trees), bool(classes))
        fast_trees.prepare_forest(trees[4:], 4, len(trees), bool(classes))
        real_columns = fast_trees._tree_columns

        def counted_columns(*args):
            encoded_at_export.append(args)
            return real_columns(*args)

        monkeypatch.setattr(fast_trees, "_tree_columns", counted_columns)
    with fast_trees.captured_trees() as payloads:
        model = convert_sklearn(pipeline, initial_types=_initial_types(X), options=options)
    spliced_bytes = fast_trees.forest_model_bytes(model, payloads)
    fast_trees.forget_prepared()
    assert not encoded_at_export  # with `prepared`, every tree came from prepare_forest

    assert spliced_bytes is not None  # the splice ran, rather than a fallback
    spliced_by_export = []
    real = fast_trees.forest_model_bytes

    def spy(*args):
        spliced_by_export.append(real(*args))
        return spliced_by_export[-1]

    monkeypatch.setattr(fast_trees, "forest_model_bytes", spy)
    sklearn_to_onnx(pipeline, X, classifier=bool(classes))
    assert spliced_by_export and spliced_by_export[0] is not None  # the export splices too
    spliced = onnx.load_from_string(spliced_bytes)

    onnx.checker.check_model(spliced)
    assert [n.op_type for n in spliced.graph.node] == [n.op_type for n in reference.graph.node]
    for got, want in zip(spliced.graph.node, reference.graph.node, strict=True):
        assert got.input == want.input and got.output == want.output
        got_attrs = {a.name: onnx.helper.get_attribute_value(a) for a in got.attribute}
        want_attrs = {a.name: onnx.helper.get_attribute_value(a) for a in want.attribute}
        if got.op_type.startswith("TreeEnsemble"):
            # Left out of the splice: skl2onnx writes them as their defaults, all 1.0 and all 0.
            assert set(want_attrs.pop("nodes_hitrates")) == {1.0}
            assert set(want_attrs.pop("nodes_missing_value_tracks_true")) == {0}
        np.testing.assert_equal(got_attrs, want_attrs, err_msg=got.op_type)  # NaN == NaN
    assert spliced.graph.input == reference.graph.input
    assert spliced.graph.output == reference.graph.output
    feed = onnx_feed(X)
    got = ort.InferenceSession(spliced.SerializeToString()).run(None, feed)
    want = ort.InferenceSession(reference.SerializeToString()).run(None, feed)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)


def test_varints_match_protobufs_encoding():
    from onnx import AttributeProto

    values = np.array([0, 1, 127, 128, 300, 16383, 16384, 2**31, 2**62], dtype=np.int64)
    attribute = AttributeProto(name="x", type=AttributeProto.INTS)
    attribute.ints.extend(values.tolist())
    parsed = AttributeProto.FromString(fast_trees._attribute("x", [fast_trees._varints(values)]))
    assert list(parsed.ints) == values.tolist() and parsed.type == AttributeProto.INTS
    with pytest.raises(ValueError, match="negative"):
        fast_trees._varints(np.array([-1]))
