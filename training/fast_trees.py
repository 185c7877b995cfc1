"""A vectorized stand-in for skl2onnx's per-node tree export, and a byte-level splice for forests.

skl2onnx 1.20 builds a tree ensemble's ONNX attributes one node at a time in Python: 4 s for a
100-tree forest of 500k nodes here, as long as half the fit itself. `add_tree_to_attribute_pairs`
fills the same attribute lists with numpy, node for node and in the same order (tests/training/
test_fast_trees.py compares the two), and is installed in the converters that call it. Anything
it does not cover (double-precision inputs) goes to the original.

For forests even that left ~7 s of a 200-tree export in protobuf objects, so there the arrays
are captured instead (`captured_trees`), skl2onnx builds its node around placeholders, and
`forest_model_bytes` writes the attributes as protobuf bytes straight from numpy (the test
parses them back and compares every attribute and output with skl2onnx's own model). Every
export is still checked against the native model before it may serve (training/onnx_export.py).
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

_original = None
_capture = threading.local()

# AttributeProto's type enum (onnx.proto), for the attributes spliced in as bytes.
_FLOATS, _INTS, _STRINGS = 6, 7, 8
_FLOAT_KEYS = {"nodes_values", "class_weights", "target_weights"}
# Attributes skl2onnx fills with their defaults (hit rate 1.0, missing values go false), which
# the spliced node leaves out: ONNX reads an absent one as its default, and onnxruntime loads a
# 200-tree forest ~15 % faster without 2 x 1.6 million values it would not use.
_DEFAULTED = {"nodes_hitrates", "nodes_missing_value_tracks_true"}
_ENSEMBLES = {"TreeEnsembleClassifier", "TreeEnsembleRegressor"}
_ready: dict[tuple, tuple[Any, dict[str, tuple[bytes, Any]]]] = {}  # see prepare_forest
_ready_lock = threading.Lock()
# nodes_modes entries as AttributeProto's field 9 (key 0x4a, length, text), by `branch`.
_MODE_ENTRIES = np.array([b"\x4a\x04LEAF", b"\x4a\x0aBRANCH_LEQ"], dtype=object)


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
    args = (
        is_classifier,
        tree,
        tree_id,
        tree_weight,
        weight_id_bias,
        leaf_weights_are_counts,
        adjust_threshold_for_sklearn,
    )
    if adjust_threshold_for_sklearn and dtype is not np.float32:
        return _original(attr_pairs, *args, dtype=dtype)
    captured = getattr(_capture, "payloads", None)
    if captured is None:
        for key, column in _tree_columns(*args).items():
            values = np.where(column, "BRANCH_LEQ", "LEAF") if key == "nodes_modes" else column
            attr_pairs[key].extend(values.tolist())
        return None
    payloads = _ready_payloads(args) or _payloads(_tree_columns(*args))
    for key, (payload, placeholder) in payloads.items():
        # skl2onnx builds its node around a one-element placeholder of the right type; the
        # node's real values are spliced in as bytes by `forest_model_bytes`.
        captured.setdefault(key, []).append(payload)
        if not attr_pairs[key]:
            attr_pairs[key].append(placeholder)
    return None


def _tree_columns(
    is_classifier: bool,
    tree: Any,
    tree_id: int,
    tree_weight: float,
    weight_id_bias: int,
    leaf_weights_are_counts: bool,
    adjust_threshold_for_sklearn: bool,
) -> dict[str, np.ndarray]:
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
    return {
        "nodes_treeids": np.full(n, tree_id, dtype=np.int64),
        "nodes_nodeids": ids,
        "nodes_featureids": np.where(branch, tree.feature[:n], 0),
        "nodes_modes": branch,  # True: BRANCH_LEQ, False: LEAF
        "nodes_values": threshold,
        "nodes_truenodeids": np.where(branch, left, 0),
        "nodes_falsenodeids": np.where(branch, right, 0),
        "nodes_missing_value_tracks_true": np.zeros(n, dtype=np.int64),
        "nodes_hitrates": np.ones(n),
        f"{prefix}_treeids": np.full(len(leaves) * k, tree_id, dtype=np.int64),
        f"{prefix}_nodeids": np.repeat(leaves, k),
        f"{prefix}_ids": np.tile(np.arange(k) + weight_id_bias, len(leaves)),
        f"{prefix}_weights": weights.reshape(-1),
    }


def _payloads(columns: dict[str, np.ndarray]) -> dict[str, tuple[bytes, Any]]:
    """Per attribute: the tree's values encoded as that attribute's field content (trees'
    contents concatenate), and a one-element placeholder of the attribute's type."""
    out = {}
    for key, values in columns.items():
        if key in _DEFAULTED:
            out[key] = (b"", 1.0 if key == "nodes_hitrates" else 0)
        elif key == "nodes_modes":
            out[key] = (b"".join(_MODE_ENTRIES[values.astype(np.intp)].tolist()), "LEAF")
        elif key in _FLOAT_KEYS:
            out[key] = (values.astype("<f4").tobytes(), 0.0)
        else:
            out[key] = (_varints(values.astype(np.int64)), 0)
    return out


def prepare_forest(trees: list, first_id: int, n_trees: int, is_classifier: bool) -> None:
    """Encodes a forest's trees ahead of its export, with the arguments skl2onnx's forest
    converters pass (weight 1/n_trees, counts for classifiers, float32 thresholds). The training
    worker calls it on a second thread for each chunk of trees while the next chunk fits; a
    conversion that asks for the same tree with the same arguments takes the bytes from here."""
    weight = 1.0 / n_trees
    for offset, estimator in enumerate(trees):
        args = (is_classifier, estimator.tree_, first_id + offset, weight, 0, is_classifier, True)
        payloads = _payloads(_tree_columns(*args))
        with _ready_lock:
            _ready[_ready_key(args)] = (estimator.tree_, payloads)


def forget_prepared() -> None:
    with _ready_lock:
        _ready.clear()


def _ready_key(args: tuple) -> tuple:
    is_classifier, tree, *rest = args
    return (is_classifier, id(tree), *rest)


def _ready_payloads(args: tuple) -> dict[str, tuple[bytes, Any]] | None:
    with _ready_lock:
        found = _ready.get(_ready_key(args))
    # The same object, not only the same id: an id can be reused once a tree is gone.
    return found[1] if found is not None and found[0] is args[1] else None


@contextmanager
def captured_trees() -> Iterator[dict[str, list[bytes]]]:
    """While open, the tree attributes go to the yielded dict as encoded bytes (one piece per
    tree and attribute) and skl2onnx builds its node around one-element placeholders."""
    _capture.payloads = {}
    try:
        yield _capture.payloads
    finally:
        _capture.payloads = None


def forest_model_bytes(model: Any, payloads: dict[str, list[bytes]]) -> bytes | None:
    """The serialized model with the captured payloads as its tree ensemble's attributes,
    encoded straight from numpy; None if the graph has no single tree ensemble to put them in.

    Building a 77 MB forest through protobuf objects (onnx.helper's per-value type checks, the
    repeated fields' extends, the node's copy into the graph, then serializing) cost ~7 s for
    200 trees here; these bytes take a fraction of that. Protobuf parsers read a repeated
    number field packed or not, and nested messages may be written one field at a time."""
    graph = model.graph
    ensembles = [i for i, node in enumerate(graph.node) if node.op_type in _ENSEMBLES]
    if len(ensembles) != 1 or not payloads:
        return None
    node = graph.node[ensembles[0]]
    kept = [a for a in node.attribute if a.name not in payloads]
    del node.attribute[:]
    node.attribute.extend(kept)
    node_bytes = node.SerializeToString() + b"".join(
        _field(5, _attribute(key, parts))
        for key, parts in payloads.items()
        if key not in _DEFAULTED
    )
    nodes = [
        _field(1, node_bytes if i == ensembles[0] else n.SerializeToString())
        for i, n in enumerate(graph.node)
    ]
    del graph.node[:]
    graph_bytes = b"".join(nodes) + graph.SerializeToString()
    model.ClearField("graph")
    return model.SerializeToString() + _field(7, graph_bytes)


def _attribute(key: str, parts: list[bytes]) -> bytes:
    content = b"".join(parts)
    if key == "nodes_modes":  # repeated strings are never packed: the entries are the content
        payload, kind = content, _STRINGS
    elif key in _FLOAT_KEYS:
        payload, kind = _field(7, content), _FLOATS
    else:
        payload, kind = _field(8, content), _INTS
    return _field(1, key.encode()) + payload + _varint_key(20, 0) + bytes([kind])


def _field(number: int, data: bytes) -> bytes:
    """A length-delimited field: key, length, bytes."""
    return _varint_key(number, 2) + _varints(np.array([len(data)], dtype=np.int64)) + data


def _varint_key(number: int, wire_type: int) -> bytes:
    return _varints(np.array([number << 3 | wire_type], dtype=np.int64))


def _varints(values: np.ndarray) -> bytes:
    """Protobuf base-128 varints of non-negative int64s, every one as wide as the largest.

    A varint may carry continuation bytes that add nothing (5 as 0x85 0x00), and every protobuf
    parser reads it so; fixed widths make the encoding one reshape, with no per-value lengths to
    gather (node ids take 2 bytes where some could take 1)."""
    if len(values) and values.min() < 0:
        raise ValueError("negative values are not encoded here")
    v = values.astype(np.uint64)
    largest = int(v.max()) if len(v) else 0
    width = max(1, (largest.bit_length() + 6) // 7)
    out = np.empty((len(v), width), dtype=np.uint8)
    for k in range(width):
        group = (v >> np.uint64(7 * k)) & np.uint64(0x7F)
        out[:, k] = group | np.uint64(0x80 if k < width - 1 else 0)
    return out.tobytes()


def install() -> None:
    """Points skl2onnx's forest and boosting converters at the vectorized function."""
    global _original
    from skl2onnx.common import tree_ensemble
    from skl2onnx.operator_converters import decision_tree, gradient_boosting, random_forest

    if _original is None:
        _original = tree_ensemble.add_tree_to_attribute_pairs
    for module in (random_forest, gradient_boosting, decision_tree):
        module.add_tree_to_attribute_pairs = add_tree_to_attribute_pairs
