"""Linear models answered with numpy instead of an ONNX Runtime call.

Our scikit-learn linear exports (LogisticRegression, LinearRegression, Ridge over numeric
features) are all one small graph: fill missing values (Imputer), standardize (Scaler), one
matrix product (LinearClassifier or LinearRegressor), then for a classifier a sigmoid or a
softmax (and an L1 Normalizer after a softmax). For one row that is a few dozen multiplications,
and ONNX Runtime's call around them is what costs under load: a web process that skipped the
call answered 17-20 % more predictions (docs/serving.md, "Stalls"), and one that answered with
these few numpy operations instead 8.5 % more, at a lower p99, although in a loop the two take
about the same time (~6 µs, `benchmarks/linear.py`). The call lets go of the GIL and takes it
back, and whenever another thread of the process (granian's) is waiting for it, the request
waits for that thread; small numpy operations keep the GIL.

So `linear_export` reads those parameters out of the graph (only a graph of exactly that
shape; anything else stays on ONNX Runtime), and the serving runtime uses them only after
they gave ONNX Runtime's answers on rows spread around the training data (`agrees_with`).
The arithmetic is in float64 (ONNX Runtime's is float32: the two differ by ~1e-7), and each
row is computed on its own, in a fixed order, so a row gets bit for bit the same answer alone
in a predict request or among 10,000 in a batch job.
"""

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

# Rows per block in `outputs`: the products of a block are one temporary array of
# rows x targets x features, kept to ~8 MB whatever the model's size.
_BLOCK_ELEMENTS = 1_000_000


@dataclass(frozen=True)
class LinearModel:
    fill: np.ndarray  # (k,) the value each feature's missing values take
    weights: np.ndarray  # (t, k) coefficients with the scaler folded in
    bias: np.ndarray  # (t,)
    spread: np.ndarray  # (k,) each feature's standard deviation in training (1 / scale)
    post_transform: str  # "NONE", "LOGISTIC" or "SOFTMAX"
    normalize: bool  # an L1 Normalizer after the classifier
    classifier: bool

    def outputs(self, features: np.ndarray) -> np.ndarray:
        """Class probabilities (n, classes) for a classifier, values (n,) for a regressor, for
        an [n, k] float matrix in which NaN is a missing value."""
        x = np.array(features, dtype=np.float64, order="C")  # a copy: filled in place
        missing = np.isnan(x)
        if missing.any():
            np.copyto(x, np.broadcast_to(self.fill, x.shape), where=missing)
        n, (t, k) = len(x), self.weights.shape
        step = max(1, _BLOCK_ELEMENTS // max(1, t * k))
        if n <= step:
            scores = (x[:, None, :] * self.weights).sum(axis=2)
        else:
            scores = np.concatenate(
                [(x[i : i + step, None, :] * self.weights).sum(axis=2) for i in range(0, n, step)]
            )
        scores += self.bias
        if not self.classifier:
            return scores[:, 0]
        if self.post_transform == "LOGISTIC":
            scores = expit(scores)
        elif self.post_transform == "SOFTMAX":
            scores = np.exp(scores - scores.max(axis=1, keepdims=True))
            scores /= scores.sum(axis=1, keepdims=True)
        if self.normalize:
            scores /= np.abs(scores).sum(axis=1, keepdims=True)
        return scores


def linear_export(graph: bytes, matrix_input: str) -> LinearModel | None:
    """The graph's linear model, if it is exactly Identity(matrix_input) -> Imputer -> Scaler ->
    LinearClassifier | LinearRegressor [-> Normalizer(L1)] with the attributes our exports
    use; None for anything else."""
    import onnx
    from onnx import helper

    model = onnx.load_from_string(graph)
    nodes = list(model.graph.node)
    kinds = [node.op_type for node in nodes]
    if kinds[:3] != ["Identity", "Imputer", "Scaler"] or list(nodes[0].input) != [matrix_input]:
        return None
    tail = kinds[3:]
    if tail not in (["LinearClassifier"], ["LinearClassifier", "Normalizer"], ["LinearRegressor"]):
        return None
    chain = [nodes[0].output[0], nodes[1].output[0], nodes[2].output[0]]
    if list(nodes[1].input) != chain[:1] or list(nodes[2].input) != chain[1:2]:
        return None
    if list(nodes[3].input) != chain[2:]:
        return None
    attrs = [{a.name: helper.get_attribute_value(a) for a in node.attribute} for node in nodes]
    width = model.graph.input[0].type.tensor_type.shape.dim[1].dim_value
    imputer, scaler, linear = attrs[1], attrs[2], attrs[3]
    if set(imputer) - {"imputed_value_floats", "replaced_value_float"} or not np.isnan(
        imputer.get("replaced_value_float", 0.0)
    ):
        return None
    fill = _vector(imputer.get("imputed_value_floats"), width)
    offset, scale = _vector(scaler.get("offset"), width), _vector(scaler.get("scale"), width)
    intercepts = np.asarray(linear.get("intercepts", []), dtype=np.float64)
    coefficients = np.asarray(linear.get("coefficients", []), dtype=np.float64)
    if fill is None or offset is None or scale is None or width < 1:
        return None
    if len(intercepts) < 1 or coefficients.size != len(intercepts) * width:
        return None
    classifier = tail[0] == "LinearClassifier"
    post = linear.get("post_transform", b"NONE").decode()
    outputs = [o.name for o in model.graph.output]
    if classifier:
        labels = linear.get("classlabels_ints") or linear.get("classlabels_strings") or []
        # One score per class (a binary export has two); ONNX's one-score binary form and
        # other transforms are left to ONNX Runtime.
        if len(labels) != len(intercepts) or post not in ("LOGISTIC", "SOFTMAX"):
            return None
        if len(outputs) != 2 or outputs[1] != (
            nodes[4].output[0] if len(nodes) > 4 else nodes[3].output[1]
        ):
            return None
        if len(nodes) > 4 and (
            attrs[4] != {"norm": b"L1"} or list(nodes[4].input) != [nodes[3].output[1]]
        ):
            return None
    elif post != "NONE" or len(intercepts) != 1 or outputs != [nodes[3].output[0]]:
        return None
    weights = coefficients.reshape(len(intercepts), width)
    # (x - offset) * scale . w + b  ==  x . (scale * w) + (b - (offset * scale) . w)
    folded = weights * scale
    return LinearModel(
        fill=fill,
        weights=folded,
        bias=intercepts - folded @ offset,
        spread=np.divide(1.0, scale, out=np.ones(width), where=scale != 0),
        post_transform=post,
        normalize=len(nodes) > 4,
        classifier=classifier,
    )


def _vector(values, width: int) -> np.ndarray | None:
    if values is None:
        return None
    array = np.asarray(values, dtype=np.float64)
    if array.shape == (1,):
        return np.repeat(array, width)
    return array if array.shape == (width,) else None


def check_rows(model: LinearModel, count: int = 64) -> np.ndarray:
    """float32 rows spread around where the model was trained: each feature its fill value
    (the training median) plus up to ~4 standard deviations, some missing."""
    generator = np.random.default_rng(0)
    width = model.fill.shape[0]
    rows = model.fill + generator.normal(0, 1.5, (count, width)) * model.spread
    rows[generator.random((count, width)) < 0.05] = np.nan
    return rows.astype(np.float32)


def agrees_with(model: LinearModel, session, matrix_input: str, classifier: bool) -> bool:
    """Whether `model` gives ONNX Runtime's answers (to float32's precision) on check rows."""
    rows = check_rows(model)
    ours = model.outputs(rows)
    theirs = np.asarray(session.run(None, {matrix_input: rows})[-1 if classifier else 0])
    theirs = theirs.astype(np.float64).reshape(ours.shape)
    return bool(np.allclose(ours, theirs, rtol=1e-4, atol=1e-5))
