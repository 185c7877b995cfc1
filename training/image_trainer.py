"""Keras convolutional networks on image datasets (`cnn_image_classifier`). Imported by the
training worker only, like training.keras_trainer.

Images are decoded and resized to `image_size` here, on the worker, through the same function
predict uses (catalog.images.image_array), so a model sees the same pixels in training and in
serving. The network: `conv_blocks` blocks of Conv2D (3x3, relu, `filters` doubling per block)
and 2x2 max pooling, then Flatten, a dense layer of `dense_units` and a softmax. With `augment`,
small random shifts, rotations and zooms are applied to training batches only: they are layers
in front of the network while it trains, and not in the network that is exported and served.
"""

from typing import Any

import numpy as np
import pandas as pd

from catalog.selectors import dataset_images, image_array
from maas.jobs import JobCanceled
from training.data import Table, TrainingDataError, validation_split_of
from training.evaluation import evaluation_of, validation_report
from training.keras_trainer import epoch_callbacks
from training.onnx_export import check_parity
from training.results import TrainResult, native_zip


def load_images(dataset, size: int, channels: int) -> tuple[np.ndarray, list[str], list[str]]:
    """(images [n, size, size, channels] float32 in [0, 1], labels, archive paths)."""
    arrays, labels, names = [], [], []
    for name, label, image in dataset_images(dataset=dataset):
        if isinstance(image, Exception):
            raise TrainingDataError(str(image))
        arrays.append(image_array(image, size, channels))
        labels.append(label)
        names.append(name)
    return np.stack(arrays), labels, names


def _network(keras, size: int, channels: int, n_classes: int, params: dict[str, Any]):
    layers = [keras.Input((size, size, channels), name="image")]
    for block in range(params["conv_blocks"]):
        layers.append(
            keras.layers.Conv2D(params["filters"] * 2**block, 3, padding="same", activation="relu")
        )
        layers.append(keras.layers.MaxPooling2D(2, padding="same"))
    layers += [
        keras.layers.Flatten(),
        keras.layers.Dense(params["dense_units"], activation="relu"),
        keras.layers.Dense(n_classes, activation="softmax", name="output"),
    ]
    model = keras.Sequential(layers)
    return model


def _trainable(keras, network, size: int, channels: int, params: dict[str, Any]):
    """What fit() trains: the network, behind augmentation layers when asked (they share the
    network's weights, and only act in training)."""
    if params["augment"]:
        inputs = keras.Input((size, size, channels))
        shaken = keras.layers.RandomTranslation(0.1, 0.1)(inputs)
        shaken = keras.layers.RandomRotation(0.05)(shaken)
        shaken = keras.layers.RandomZoom(0.1)(shaken)
        trainable = keras.Model(inputs, network(shaken))
    else:
        trainable = network
    trainable.compile(
        optimizer=keras.optimizers.Adam(learning_rate=params["learning_rate"]),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return trainable


def train_images(
    *, algorithm, params, dataset, target: str, validation_split, cv_folds, reporter
) -> TrainResult:
    import keras

    keras.utils.set_random_seed(0)
    size = params["image_size"]
    channels = int((dataset.images or {}).get("channels") or 1)
    reporter.progress(0.05, "decoding images", rows=dataset.n_rows, image_size=size)
    images, labels, _ = load_images(dataset, size, channels)
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise TrainingDataError("The archive has one class folder; a classifier needs two.")
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[label] for label in labels], dtype=np.int64)
    # Rows are image numbers, so the split, the evaluation and the folds are the tables'.
    table = Table(
        X=pd.DataFrame({"in_0": np.arange(len(y))}),
        y=y,
        inputs=[{"name": "image", "dtype": "image", "onnx_input": "image"}],
        classes=classes,
    )
    reporter.check_cancel()
    R_train, R_val, y_train, y_val = validation_split_of(table, validation_split, True)
    X_train, X_val = images[R_train["in_0"].to_numpy()], images[R_val["in_0"].to_numpy()]
    reporter.progress(0.15, "split", train_rows=len(X_train), validation_rows=len(X_val))

    network = _network(keras, size, channels, len(classes), params)
    canceled: list[int] = []
    _trainable(keras, network, size, channels, params).fit(
        X_train,
        y_train,
        validation_data=(X_val, y_val),
        epochs=params["epochs"],
        batch_size=params["batch_size"],
        callbacks=epoch_callbacks(keras, params, reporter, canceled),
        verbose=0,
    )
    if canceled:
        raise JobCanceled()
    proba = network.predict(X_val, verbose=0).astype(np.float64)
    pred = np.argmax(proba, axis=1)
    report = validation_report("classification", y_val, pred, proba, classes)
    reporter.progress(0.85, "validation metrics", **report["metrics"])
    reporter.check_cancel()
    native, onnx, parity, input_name = _export(network, X_val, proba, pred)
    reporter.progress(0.88, "ONNX export checked", **parity)

    def predict_rows(rows: pd.DataFrame):
        out = network.predict(images[rows["in_0"].to_numpy()], verbose=0).astype(np.float64)
        return np.argmax(out, axis=1), out

    def fit_predict(rows_fold, y_fold, rows_test):
        fold = _network(keras, size, channels, len(classes), params)
        _trainable(keras, fold, size, channels, params).fit(
            images[rows_fold["in_0"].to_numpy()],
            y_fold,
            epochs=params["epochs"],
            batch_size=params["batch_size"],
            verbose=0,
        )
        out = fold.predict(images[rows_test["in_0"].to_numpy()], verbose=0).astype(np.float64)
        return np.argmax(out, axis=1), out

    evaluation = evaluation_of(
        algorithm=algorithm,
        table=table,
        X_val=R_val.reset_index(drop=True),
        y_val=y_val,
        report=report,
        predict=predict_rows,
        fit_predict=fit_predict,
        cv_folds=cv_folds,
        reporter=reporter,
        parallel=False,
    )
    signature = {
        "inputs": [
            {
                "name": "image",
                "dtype": "image",
                "onnx_input": input_name,
                "size": size,
                "channels": channels,
            }
        ],
        "target": target,
        "classes": classes,
    }
    return TrainResult(
        metrics=report["metrics"],
        signature=signature,
        native=native,
        native_name="model.zip",
        onnx=onnx,
        parity=parity,
        rows=len(y),
        evaluation=evaluation,
    )


def _export(network, X_val, proba, pred) -> tuple[bytes, bytes | None, dict, str]:
    """(native zip, the ONNX export if its parity check passed, the check, its input name)."""
    import tempfile
    from pathlib import Path

    import onnx as onnx_lib

    with tempfile.TemporaryDirectory() as tmp:
        keras_path = Path(tmp) / "model.keras"
        network.save(keras_path)
        native = native_zip({"model.keras": keras_path.read_bytes()})
        input_name = "image"
        try:
            onnx_path = Path(tmp) / "network.onnx"
            network.export(str(onnx_path), format="onnx", verbose=False)
            candidate = onnx_path.read_bytes()
            input_name = onnx_lib.load_from_string(candidate).graph.input[0].name
            parity = check_parity(
                candidate, {input_name: X_val}, native_proba=proba, native_pred=pred
            )
            onnx = candidate if parity["passed"] else None
        except Exception as exc:
            onnx, parity = None, {"passed": False, "error": f"{type(exc).__name__}: {exc}"}
    return native, onnx, parity, input_name
