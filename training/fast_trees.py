"""A vectorized stand-in for skl2onnx's per-node tree export.

skl2onnx 1.20 builds a tree ensemble's ONNX attributes one node at a time in Python: 4 s for a
100-tree forest of 500k nodes here, as long as half the fit itself. This function fills the same
attribute lists with numpy, node for node and in the same order (tests/training/
test_fast_trees.py compares the two), and is installed in the converters that call it. Anything
it does not cover (double-precision inputs) goes to the original. Every export is still checked
against the native model before it may serve (training/onnx_export.py).
"""

from typing import Any

import numpy as np

_original = None


def add_tree_to_attribute_pairs(
    attr_pairs: dict[str, list],
    is_classifier: bool,
    tree: Any,
    tree_id: int,
    tree_weight: float,
    weight_id_bias: int,
    leaf_weights_are_counts: bool,
    adjust_threshold_for_sklearn: bool = False,
    dtype: Any = None,
) -> None:
    if adjust_threshold_for_sklearn and dtype is not np.float32:
        return _original(
            attr_pairs,
            is_classifier,
            tree,
            tree_id,
            tree_weight,
            weight_id_bias,
            leaf_weights_are_counts,
            adjust_threshold_for_sklearn=adjust_threshold_for_sklearn,
            dtype=dtype,
        )
    n = tree.node_count
    ids = np.arange(n)
    left = np.asarray(tree.children_left[:n], dtype=np.int64)
    right = np.asarray(tree.children_right[:n], dtype=np.int64)
    branch = (left > ids) | (right > ids)
    threshold = np.where(branch, tree.threshold[:n], 0.0)
    if adjust_threshold_for_sklearn:
        # scikit-learn compares float32(x) <= float64 threshold; ONNX compares float32s. The
        # largest float32 w with float32(x) <= threshold <=> float32(x) <= w (skl2onnx's rule).
        as_float = threshold.astype(np.float32)
        below = np.nextafter(as_float, np.float32(-np.inf))
        adjusted = np.where(as_float.astype(np.float64) <= threshold, as_float, below)
        threshold = np.where(branch, adjusted.astype(np.float64), threshold)
    attr_pairs["nodes_treeids"].extend([tree_id] * n)
    attr_pairs["nodes_nodeids"].extend(ids.tolist())
    attr_pairs["nodes_featureids"].extend(np.where(branch, tree.feature[:n], 0).tolist())
    attr_pairs["nodes_modes"].extend(np.where(branch, "BRANCH_LEQ", "LEAF").tolist())
    attr_pairs["nodes_values"].extend(threshold.tolist())
    attr_pairs["nodes_truenodeids"].extend(np.where(branch, left, 0).tolist())
    attr_pairs["nodes_falsenodeids"].extend(np.where(branch, right, 0).tolist())
    attr_pairs["nodes_missing_value_tracks_true"].extend([0] * n)
    attr_pairs["nodes_hitrates"].extend([1.0] * n)

    leaves = ids[~branch]
    weights = np.asarray(tree.value)[leaves].reshape(len(leaves), -1).astype(np.float64)
    factor = np.full(len(leaves), float(tree_weight))
    if leaf_weights_are_counts:
        sums = weights.sum(axis=1)
        factor = factor / np.where(sums != 0.0, sums, 1.0)
    weights = weights * factor[:, None]
    if is_classifier and weights.shape[1] == 2:
        weights = weights[:, 1:]
    k = weights.shape[1]
    prefix = "class" if is_classifier else "target"
    attr_pairs[f"{prefix}_treeids"].extend([tree_id] * (len(leaves) * k))
    attr_pairs[f"{prefix}_nodeids"].extend(np.repeat(leaves, k).tolist())
    attr_pairs[f"{prefix}_ids"].extend(np.tile(np.arange(k) + weight_id_bias, len(leaves)).tolist())
    attr_pairs[f"{prefix}_weights"].extend(weights.reshape(-1).tolist())
    return None


def install() -> None:
    """Points skl2onnx's forest and boosting converters at the vectorized function."""
    global _original
    from skl2onnx.common import tree_ensemble
    from skl2onnx.operator_converters import decision_tree, gradient_boosting, random_forest

    if _original is None:
        _original = tree_ensemble.add_tree_to_attribute_pairs
    for module in (random_forest, gradient_boosting, decision_tree):
        module.add_tree_to_attribute_pairs = add_tree_to_attribute_pairs
