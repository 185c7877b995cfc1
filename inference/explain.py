"""Additive explanations: per-feature contributions that add up to the model's output
(API.md "Evaluation, explanations, aliases, exports"; docs/explanations.md says how).

The output explained is the regression value, or for a classifier the predicted class's
probability. Contributions are first computed exactly in the model's additive score:
- linear models, in closed form: w_j (z_j - mean_j) over the encoded columns, from the
  training means the trainer recorded (training.trainers.explainer_of): the exact Shapley values
  of a linear function of independent features;
- tree ensembles, with shap's TreeExplainer (its C implementation of path-dependent TreeSHAP:
  exact, not sampled), on the fitted trees;
then summed per input feature (a string feature's one-hot columns together). Where the output
is the score itself (regressors; a random forest's probabilities are the mean of its trees'),
those are the answer. Where a link turns the score into probabilities (logistic regression and
gradient boosting classifiers: sigmoid or softmax), the score's contributions are carried through
the link along the straight path from the base score to the row's score (integrated gradients of
the link, in closed form for the sigmoid and by 64-point Gauss-Legendre quadrature for the
softmax), so they add up to the probability within float error and keep the exact values' signs
for a binary model.

Explaining needs the native model (its skops artifact, sha256-checked and loaded with the
trusted types only, as inference.runtime does); it is cached beside the serving runtimes.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from catalog.selectors import artifact_read
from inference.runtime import SKOPS_TRUSTED_TYPES, cached

if TYPE_CHECKING:
    from catalog.models import ModelVersion

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(64)
_T = (_NODES + 1) / 2  # on [0, 1]
_W = _WEIGHTS / 2


class NotExplainable(Exception):
    """The version's algorithm (or its age) has no exact explanation; the message says why."""


@dataclass
class Explainer:
    version_id: int
    size: int
    task: str
    classes: list[Any] | None
    inputs: list[dict[str, str]]
    preprocess: Any
    groups: list[np.ndarray]  # per input feature: its encoded columns
    method: str  # "linear" | "tree"
    link: str  # "identity" | "sigmoid" | "softmax"
    pipeline: Any
    means: np.ndarray | None = None
    tree: Any = None

    def explain(self, frame, predicted: np.ndarray) -> dict[str, Any]:
        """{"base": per row, "outputs": the explained value per row, "contributions": [rows,
        features]} for rows already checked; for a classifier, of the `predicted` class of
        each row (the serving runtime's, so an explanation is always of what predict answers)."""
        Z = np.asarray(self.preprocess.transform(frame), dtype=np.float64)
        phi, base = self._score_contributions(Z)  # [n, columns, scores], [scores]
        score = base + phi.sum(axis=1)  # the model's additive score, per row
        rows = np.arange(len(Z))
        if self.task == "regression":
            outputs = score[:, 0]
            return self._answer(outputs, np.full(len(Z), base[0]), phi[:, :, 0])
        if self.link == "identity":  # probabilities are the score (a forest's mean of trees)
            return self._answer(score[rows, predicted], base[predicted], phi[rows, :, predicted])
        if self.link == "sigmoid":
            return self._through_sigmoid(phi[:, :, 0], base[0], score[:, 0], predicted)
        return self._through_softmax(phi, base, score, predicted)

    def _score_contributions(self, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        model = self.pipeline.steps[-1][1]
        if self.method == "linear":
            coef = np.atleast_2d(np.asarray(model.coef_, dtype=np.float64))  # [scores, columns]
            intercept = np.atleast_1d(np.asarray(model.intercept_, dtype=np.float64))
            phi = (Z - self.means)[:, :, None] * coef.T[None, :, :]
            return phi, intercept + coef @ self.means
        if isinstance(self.tree, list):  # one explainer per class score (_per_class_trees)
            phis, bases = [], []
            for explainer, offset in self.tree:
                phis.append(np.asarray(explainer.shap_values(Z, check_additivity=False)))
                bases.append(offset + float(np.sum(explainer.expected_value)))
            return np.stack(phis, axis=2).astype(np.float64), np.asarray(bases)
        values = self.tree.shap_values(Z, check_additivity=False)
        phi = np.asarray(values, dtype=np.float64)
        if phi.ndim == 2:
            phi = phi[:, :, None]
        return phi, np.atleast_1d(np.asarray(self.tree.expected_value, dtype=np.float64))

    def _through_sigmoid(self, phi, base: float, score, predicted) -> dict[str, Any]:
        p, p0 = _sigmoid(score), _sigmoid(base)
        delta = score - base
        near = np.abs(delta) < 1e-12
        # The mean slope of the sigmoid between the base score and the row's (its derivative
        # where the two meet): the score's contributions times it add up to p - p0 exactly.
        slope = np.where(near, p * (1 - p), (p - p0) / np.where(near, 1, delta))
        positive = predicted == 1
        contributions = phi * (slope * np.where(positive, 1.0, -1.0))[:, None]
        outputs = np.where(positive, p, 1 - p)
        return self._answer(outputs, np.where(positive, p0, 1 - p0), contributions)

    def _through_softmax(self, phi, base, score, predicted) -> dict[str, Any]:
        delta = score - base  # [n, K]
        rows = np.arange(len(score))
        # p_k along the path base + t * delta, at the quadrature nodes: [nodes, n, K]
        path = _softmax(base[None, None, :] + _T[:, None, None] * delta[None, :, :])
        p_k = path[:, rows, predicted]  # [nodes, n]
        one_hot = np.eye(score.shape[1])[predicted]  # [n, K]
        # d p_k / d score_c = p_k (1[c = k] - p_c), averaged over the path
        gradient = np.einsum("t,tn,tnc->nc", _W, p_k, one_hot[None] - path)
        contributions = np.einsum("njc,nc->nj", phi, gradient)
        outputs = _softmax(score)[rows, predicted]
        return self._answer(outputs, _softmax(base[None, :])[0, predicted], contributions)

    def _answer(self, outputs, base, columns) -> dict[str, Any]:
        by_feature = np.stack([columns[:, group].sum(axis=1) for group in self.groups], axis=1)
        return {"outputs": outputs, "base": base, "contributions": by_feature}


def settled(contributions: np.ndarray, base: np.ndarray, served: np.ndarray) -> np.ndarray:
    """Contributions that add up to the `served` outputs (what predict answers: the ONNX
    export, in float32) rather than to the float64 model they were computed on: the rounding
    difference, ~1e-7 of the output, is spread over the contributions in proportion to their
    size (evenly where all are 0)."""
    residual = served - base - contributions.sum(axis=1)
    size = np.abs(contributions)
    total = size.sum(axis=1, keepdims=True)
    share = np.where(total > 0, size / np.where(total > 0, total, 1), 1 / contributions.shape[1])
    return contributions + share * residual[:, None]


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softmax(x):
    shifted = np.exp(x - x.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _groups(preprocess, inputs: list[dict[str, str]]) -> list[np.ndarray]:
    """Each input feature's encoded columns, in signature order, from the fitted
    ColumnTransformer (training.data.build_preprocessor): one column per numeric feature, one
    per category for a string feature."""
    columns: dict[str, list[int]] = {}
    for name, transformer, features in preprocess.transformers_:
        if name == "remainder" or transformer == "drop":
            continue
        where = preprocess.output_indices_[name]
        start = where.start
        widths = (
            [len(c) for c in transformer.categories_]
            if hasattr(transformer, "categories_")
            else [1] * len(features)
        )
        for feature, width in zip(features, widths, strict=True):
            columns[feature] = list(range(start, start + width))
            start += width
    return [np.asarray(columns.get(spec["onnx_input"], []), dtype=int) for spec in inputs]


def explainer_for(version: "ModelVersion") -> Explainer:
    """The version's explainer, from the LRU of loaded models (inference.runtime.cached) or
    loaded now; raises NotExplainable."""
    return cached(("explain", version.pk, version.native_sha256), version, _explainer_load)


def _explainer_load(version: "ModelVersion") -> Explainer:
    method = (version.explainer or {}).get("method")
    if method not in ("linear", "tree"):
        if version.framework != "sklearn":
            reason = (
                f"{version.algorithm} is a neural network; its contributions cannot be "
                "computed exactly, and maas answers only explanations that add up"
            )
        elif not version.explainer:
            reason = f"version {version.version} was trained before explanations; train it again"
        else:
            reason = f"{version.algorithm} has no exact explanation"
        raise NotExplainable(f"Version {version.version} cannot be explained: {reason}.")
    import skops.io as sio

    data = artifact_read(version.native_path, version.native_sha256)
    pipeline = sio.loads(data, trusted=SKOPS_TRUSTED_TYPES)
    preprocess, model = pipeline.steps[0][1], pipeline.steps[-1][1]
    classes = version.signature.get("classes")
    task = "classification" if classes is not None else "regression"
    common = {
        "version_id": version.pk,
        "size": len(data),
        "task": task,
        "classes": classes,
        "inputs": version.signature["inputs"],
        "preprocess": preprocess,
        "groups": _groups(preprocess, version.signature["inputs"]),
        "method": method,
        "pipeline": pipeline,
    }
    link = "identity"
    if task == "classification" and not version.algorithm.startswith("random_forest"):
        link = "sigmoid" if len(model.classes_) == 2 else "softmax"
    if method == "linear":
        means = np.asarray(version.explainer["means"], dtype=np.float64)
        return Explainer(link=link, means=means, **common)
    import shap

    if link == "softmax" and version.algorithm == "gradient_boosting_classifier":
        return Explainer(link=link, tree=_per_class_trees(shap, model), **common)
    return Explainer(link=link, tree=shap.TreeExplainer(model), **common)


def _per_class_trees(shap, model) -> list[tuple[Any, float]]:
    """A multi-class gradient boosting classifier as shap takes it (its TreeExplainer reads
    binary ones only): each class's score is its initial score plus the learning rate times
    the sum of its regression trees, one per stage, so each class gets an explainer over its
    own trees, scaled."""
    from shap.explainers._tree import SingleTree

    initial = model._raw_predict_init(np.zeros((1, model.n_features_in_)))[0]
    return [
        (
            shap.TreeExplainer(
                [
                    SingleTree(model.estimators_[stage, k].tree_, scaling=model.learning_rate)
                    for stage in range(model.n_estimators_)
                ]
            ),
            float(initial[k]),
        )
        for k in range(len(model.classes_))
    ]
