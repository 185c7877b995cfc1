"""Keras dense networks. Imported by the training worker only: importing TensorFlow costs
seconds and ~660 MB, so web processes never do.

The preprocessing (imputation, scaling, one-hot) is a scikit-learn ColumnTransformer fitted
with the network; the served ONNX graph is the preprocessor's export joined to the network's, so
predictions take the raw columns like every other model.
"""

from typing import Any

import numpy as np

from maas.jobs import JobCanceled
from training.data import build_preprocessor
from training.evaluation import evaluation_of, validation_report
from training.onnx_export import check_parity, onnx_predictor, preprocessor_to_onnx
from training.results import TrainResult, native_zip


def _network(keras, n_inputs: int, n_outputs: int, params: dict[str, Any], classifier: bool):
    layers = [keras.Input((n_inputs,), name="features")]
    for units in params["hidden_units"]:
        layers.append(keras.layers.Dense(units, activation="relu"))
        if params["dropout"]:
            layers.append(keras.layers.Dropout(params["dropout"]))
    layers.append(
        keras.layers.Dense(n_outputs, activation="softmax" if classifier else None, name="output")
    )
    model = keras.Sequential(layers)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=params["learning_rate"]),
        loss="sparse_categorical_crossentropy" if classifier else "mse",
    )
    return model


def epoch_callbacks(keras, params: dict[str, Any], reporter, canceled: list[int]) -> list:
    """A progress event per epoch (with its losses), a cancellation check after each (a cancel
    stops training and is noted in `canceled`), and early stopping on the validation loss."""
    epochs = params["epochs"]

    class Progress(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs = {k: float(v) for k, v in (logs or {}).items()}
            reporter.progress(0.2 + 0.6 * (epoch + 1) / epochs, f"epoch {epoch + 1}", **logs)
            try:
                reporter.check_cancel()
            except JobCanceled:
                canceled.append(epoch)
                self.model.stop_training = True

    callbacks = [Progress()]
    if params["early_stopping_patience"]:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                patience=params["early_stopping_patience"], restore_best_weights=True
            )
        )
    return callbacks


def train_keras(
    algorithm, params, table, X_train, X_val, y_train, y_val, signature, cv_folds, reporter
):
    import keras
    import skops.io as sio

    classifier = algorithm.task == "classification"
    keras.utils.set_random_seed(0)
    preprocessor = build_preprocessor(table.inputs, scale=True)
    Z_train = preprocessor.fit_transform(X_train).astype(np.float32)
    Z_val = preprocessor.transform(X_val).astype(np.float32)
    n_outputs = len(table.classes) if classifier else 1
    model = _network(keras, Z_train.shape[1], n_outputs, params, classifier)
    epochs = params["epochs"]
    canceled: list[int] = []
    callbacks = epoch_callbacks(keras, params, reporter, canceled)
    model.fit(
        Z_train,
        y_train.astype(np.int64 if classifier else np.float32),
        validation_data=(Z_val, y_val.astype(np.int64 if classifier else np.float32)),
        epochs=epochs,
        batch_size=params["batch_size"],
        callbacks=callbacks,
        verbose=0,
    )
    if canceled:
        raise JobCanceled()
    raw = model.predict(Z_val, verbose=0)
    if classifier:
        proba, pred = raw.astype(np.float64), np.argmax(raw, axis=1)
    else:
        proba, pred = None, raw.reshape(-1).astype(np.float64)
    report = validation_report(algorithm.task, y_val, pred, proba, table.classes)
    metrics = report["metrics"]
    reporter.progress(0.85, "validation metrics", **metrics)
    reporter.check_cancel()

    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        keras_path = Path(tmp) / "model.keras"
        model.save(keras_path)
        native = native_zip(
            {"preprocessor.skops": sio.dumps(preprocessor), "model.keras": keras_path.read_bytes()}
        )
        onnx, parity = None, {"passed": False}
        try:
            onnx_path = Path(tmp) / "network.onnx"
            model.export(str(onnx_path), format="onnx", verbose=False)
            candidate = _join(preprocessor, X_train.head(1), onnx_path.read_bytes())
            parity = check_parity(candidate, X_val, native_proba=proba, native_pred=pred)
            onnx = candidate if parity["passed"] else None
        except Exception as exc:
            parity = {"passed": False, "error": f"{type(exc).__name__}: {exc}"}
    reporter.progress(0.88, "ONNX export checked", **parity)
    evaluation = _evaluation(
        algorithm,
        params,
        table,
        model,
        preprocessor,
        X_val,
        y_val,
        report,
        reporter,
        cv_folds,
        onnx,
    )
    return TrainResult(
        metrics=metrics,
        signature=signature,
        native=native,
        native_name="model.zip",
        onnx=onnx,
        parity=parity,
        rows=len(table.y),
        evaluation=evaluation,
    )


def _evaluation(
    algorithm, params, table, model, preprocessor, X_val, y_val, report, reporter, cv_folds, onnx
):
    """training.trainers.evaluation_of with this network; cross-validation folds train one
    at a time (TensorFlow already uses every core) for the same epochs, stopping early on the
    training loss (a fold has no validation rows of its own)."""
    import keras

    classifier = algorithm.task == "classification"

    def predict_with(network, fitted):
        def predict(X):
            raw = network.predict(fitted.transform(X).astype(np.float32), verbose=0)
            if classifier:
                return np.argmax(raw, axis=1), raw.astype(np.float64)
            return raw.reshape(-1).astype(np.float64), None

        return predict

    def fit_predict(X_fold, y_fold, X_test):
        fold_pre = build_preprocessor(table.inputs, scale=True)
        Z = fold_pre.fit_transform(X_fold).astype(np.float32)
        n_outputs = len(table.classes) if classifier else 1
        network = _network(keras, Z.shape[1], n_outputs, params, classifier)
        stop = []
        if params["early_stopping_patience"]:
            stop.append(
                keras.callbacks.EarlyStopping(
                    monitor="loss", patience=params["early_stopping_patience"]
                )
            )
        network.fit(
            Z,
            y_fold.astype(np.int64 if classifier else np.float32),
            epochs=params["epochs"],
            batch_size=params["batch_size"],
            callbacks=stop,
            verbose=0,
        )
        return predict_with(network, fold_pre)(X_test)

    return evaluation_of(
        algorithm=algorithm,
        table=table,
        X_val=X_val,
        y_val=y_val,
        report=report,
        # Keras' predict() costs tens of ms a call; the checked export answers the same.
        predict=onnx_predictor(onnx, classifier=classifier)
        if onnx
        else predict_with(model, preprocessor),
        fit_predict=fit_predict,
        cv_folds=cv_folds,
        reporter=reporter,
        parallel=False,
    )


def _join(preprocessor, X_sample, network_onnx: bytes) -> bytes:
    """One graph: raw columns -> preprocessor -> network."""
    import onnx
    from onnx import compose

    network = onnx.load_from_string(network_onnx)
    opset = next(o.version for o in network.opset_import if o.domain in ("", "ai.onnx"))
    pre = preprocessor_to_onnx(preprocessor, X_sample, opset)
    pre.ir_version = network.ir_version
    # merge_models wants one version per operator domain. The preprocessor's operators mean
    # the same at the network's (newer) opset; the parity check that follows proves it.
    versions = {o.domain: o.version for o in network.opset_import}
    for entry in pre.opset_import:
        versions[entry.domain] = max(entry.version, versions.get(entry.domain, 0))
    for entry in [*pre.opset_import, *network.opset_import]:
        entry.version = versions[entry.domain]
    network = compose.add_prefix(network, prefix="net_")
    merged = compose.merge_models(
        pre, network, io_map=[(pre.graph.output[0].name, network.graph.input[0].name)]
    )
    return merged.SerializeToString()
