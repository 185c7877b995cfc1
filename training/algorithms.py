"""The algorithms tenants can train: one declarative table that both validates requests and is
served by `GET /v1/algorithms`. Builders import scikit-learn lazily and never TensorFlow (the
Keras trainer does that, in the worker only)."""

import math
from dataclasses import dataclass, field
from typing import Any


class ParamError(ValueError):
    def __init__(self, param: str, message: str):
        super().__init__(message)
        self.param = param


@dataclass(frozen=True)
class Param:
    type: str  # "int" | "float" | "bool" | "choice" | "int_list"
    default: Any
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] | None = None
    nullable: bool = False
    description: str = ""

    def check(self, name: str, value: Any) -> Any:
        where = f"params.{name}"
        if value is None:
            if self.nullable:
                return None
            raise ParamError(where, f"{where} may not be null; the default is {self.default!r}.")
        if self.type == "bool":
            if not isinstance(value, bool):
                raise ParamError(where, f"{where} must be true or false.")
            return value
        if self.type == "choice":
            if value not in (self.choices or ()):
                raise ParamError(where, f"{where} must be one of {', '.join(self.choices or ())}.")
            return value
        if self.type == "int_list":
            if not isinstance(value, list) or not value or len(value) > 10:
                raise ParamError(where, f"{where} must be a list of 1 to 10 whole numbers.")
            return [self._number(f"{where}[{i}]", v, whole=True) for i, v in enumerate(value)]
        return self._number(where, value, whole=self.type == "int")

    def _number(self, where: str, value: Any, *, whole: bool) -> int | float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParamError(where, f"{where} must be a {'whole number' if whole else 'number'}.")
        if not math.isfinite(value) or (whole and value != int(value)):
            raise ParamError(where, f"{where} must be a {'whole number' if whole else 'number'}.")
        if (self.min is not None and value < self.min) or (
            self.max is not None and value > self.max
        ):
            raise ParamError(
                where, f"{where} must be between {self.min} and {self.max}; got {value}."
            )
        return int(value) if whole else float(value)


@dataclass(frozen=True)
class Algorithm:
    name: str
    framework: str  # "sklearn" | "keras"
    task: str  # "classification" | "regression"
    price_tier: str  # "light" | "standard" | "heavy"
    params: dict[str, Param] = field(default_factory=dict)
    scale_numeric: bool = True  # standardize numeric features before the estimator
    description: str = ""

    def resolve_params(self, given: Any) -> dict[str, Any]:
        """The full parameter set: the request's, checked, and the defaults for the rest."""
        if given is None:
            given = {}
        if not isinstance(given, dict):
            raise ParamError("params", "params must be an object of parameter names to values.")
        unknown = sorted(set(given) - set(self.params))
        if unknown:
            accepted = ", ".join(self.params) or "none"
            raise ParamError(
                f"params.{unknown[0]}",
                f"{self.name} has no parameter {unknown[0]!r}. Accepted: {accepted}.",
            )
        return {
            name: spec.check(name, given[name]) if name in given else spec.default
            for name, spec in self.params.items()
        }

    def build_estimator(self, params: dict[str, Any], seed: int = 0):
        """The unfitted scikit-learn estimator (scikit-learn algorithms only)."""
        from sklearn import ensemble, linear_model

        p = dict(params)
        match self.name:
            case "logistic_regression":
                return linear_model.LogisticRegression(C=p["C"], max_iter=p["max_iter"])
            case "linear_regression":
                return linear_model.LinearRegression(fit_intercept=p["fit_intercept"])
            case "ridge":
                return linear_model.Ridge(alpha=p["alpha"])
            case "random_forest_classifier":
                return ensemble.RandomForestClassifier(random_state=seed, n_jobs=1, **p)
            case "random_forest_regressor":
                return ensemble.RandomForestRegressor(random_state=seed, n_jobs=1, **p)
            case "gradient_boosting_classifier":
                return ensemble.GradientBoostingClassifier(random_state=seed, **p)
            case "gradient_boosting_regressor":
                return ensemble.GradientBoostingRegressor(random_state=seed, **p)
        raise ValueError(f"{self.name} is not a scikit-learn algorithm")


_FOREST = {
    "n_estimators": Param("int", 100, 1, 1000, description="trees"),
    "max_depth": Param("int", None, 1, 100, nullable=True, description="null: grow fully"),
    "min_samples_leaf": Param("int", 1, 1, 10_000),
}
_BOOSTING = {
    "n_estimators": Param("int", 100, 1, 2000, description="boosting stages"),
    "learning_rate": Param("float", 0.1, 0.0001, 1.0),
    "max_depth": Param("int", 3, 1, 20),
}
_MLP = {
    "hidden_units": Param("int_list", [64, 32], 1, 4096, description="units per dense layer"),
    "dropout": Param("float", 0.1, 0.0, 0.9),
    "epochs": Param("int", 20, 1, 1000),
    "batch_size": Param("int", 32, 1, 65_536),
    "learning_rate": Param("float", 0.001, 0.00001, 1.0),
    "early_stopping_patience": Param(
        "int", 5, 0, 100, description="epochs without validation improvement; 0: off"
    ),
}

_CNN = {
    "image_size": Param("int", 28, 8, 256, description="images are resized to this square"),
    "epochs": Param("int", 10, 1, 500),
    "batch_size": Param("int", 32, 1, 4096),
    "learning_rate": Param("float", 0.001, 0.00001, 1.0),
    "conv_blocks": Param("int", 2, 1, 5, description="Conv2D + max pooling blocks"),
    "filters": Param(
        "int", 32, 4, 512, description="filters of the first block; doubles per block"
    ),
    "dense_units": Param("int", 64, 1, 4096),
    "augment": Param("bool", False, description="random shifts, rotations, zooms in training"),
    "early_stopping_patience": Param(
        "int", 3, 0, 100, description="epochs without validation improvement; 0: off"
    ),
}

ALGORITHMS: dict[str, Algorithm] = {
    a.name: a
    for a in [
        Algorithm(
            "logistic_regression",
            "sklearn",
            "classification",
            "light",
            {
                "C": Param("float", 1.0, 0.0001, 10_000.0),
                "max_iter": Param("int", 1000, 10, 100_000),
            },
            description="Linear classifier on standardized features",
        ),
        Algorithm(
            "linear_regression",
            "sklearn",
            "regression",
            "light",
            {"fit_intercept": Param("bool", True)},
            description="Ordinary least squares",
        ),
        Algorithm(
            "ridge",
            "sklearn",
            "regression",
            "light",
            {"alpha": Param("float", 1.0, 0.0, 1_000_000.0)},
            description="L2-regularized least squares on standardized features",
        ),
        Algorithm(
            "random_forest_classifier",
            "sklearn",
            "classification",
            "standard",
            _FOREST,
            scale_numeric=False,
            description="Random forest",
        ),
        Algorithm(
            "random_forest_regressor",
            "sklearn",
            "regression",
            "standard",
            _FOREST,
            scale_numeric=False,
            description="Random forest",
        ),
        Algorithm(
            "gradient_boosting_classifier",
            "sklearn",
            "classification",
            "standard",
            _BOOSTING,
            scale_numeric=False,
            description="Gradient-boosted trees",
        ),
        Algorithm(
            "gradient_boosting_regressor",
            "sklearn",
            "regression",
            "standard",
            _BOOSTING,
            scale_numeric=False,
            description="Gradient-boosted trees",
        ),
        Algorithm(
            "mlp_classifier",
            "keras",
            "classification",
            "heavy",
            _MLP,
            description="Dense neural network (Keras, TensorFlow)",
        ),
        Algorithm(
            "mlp_regressor",
            "keras",
            "regression",
            "heavy",
            _MLP,
            description="Dense neural network (Keras, TensorFlow)",
        ),
        Algorithm(
            "cnn_image_classifier",
            "keras",
            "classification",
            "heavy",
            _CNN,
            description="Convolutional network on image datasets (Keras, TensorFlow)",
        ),
    ]
}
IMAGE_ALGORITHMS = frozenset({"cnn_image_classifier"})


def get_algorithm(name: Any) -> Algorithm:
    if not isinstance(name, str) or name not in ALGORITHMS:
        raise ParamError(
            "algorithm", f"Unknown algorithm {name!r}. Choose one of {', '.join(ALGORITHMS)}."
        )
    return ALGORITHMS[name]
