"""Loaded models, cached per process.

Each model version is served from its ONNX export through an onnxruntime session (one thread:
web workers are processes), warmed up on load; a linear export whose numpy evaluation gives the
session's answers is answered with numpy instead (inference.linear). Only a scikit-learn version
without a usable export falls back to its native skops artifact, loaded with skops' trusted
types only. Both artifacts are read through catalog.artifacts.artifact_read, which checks their
sha256 first. TensorFlow is never imported here.

The cache is an LRU bounded by count and by artifact bytes (MAAS_MODEL_CACHE_SIZE,
MAAS_MODEL_CACHE_BYTES). Callers look the version up in the database on every request (a
deleted model is then a 404 at once, in every process) and the cache is keyed by the version's
primary key and artifact hash, so a stale entry can never answer.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from django.conf import settings

from catalog.selectors import artifact_read
from inference.linear import agrees_with, linear_export
from maas.metrics import MODEL_CACHE

if TYPE_CHECKING:
    from catalog.models import ModelVersion

SKOPS_TRUSTED_TYPES = ["numpy.dtype", "sklearn.tree._tree.Tree"]


class NotServable(Exception):
    pass


@dataclass
class Runtime:
    version_id: int
    inputs: list[dict[str, str]]
    classes: list[Any] | None
    task: str
    engine: str  # "onnx" | "linear" | "native"
    size: int
    session: Any = None
    native: Any = None
    output_names: tuple[str, ...] = ()
    # The one [n, k] float input the session takes instead of k [n, 1] ones (see _one_input).
    matrix_input: str | None = None
    linear: Any = None  # inference.linear.LinearModel, for engine "linear"

    def predict(self, feed: dict[str, np.ndarray], frame) -> tuple[np.ndarray, np.ndarray | None]:
        """(predictions: class indexes or values, probabilities or None). `feed` is one [n, 1]
        array per feature, or {matrix_input: [n, k]} for a session that takes one."""
        matrix = self.matrix_input
        if matrix is not None and matrix not in feed and self.engine != "native":
            columns = [feed[spec["onnx_input"]] for spec in self.inputs]
            feed = {matrix: np.hstack(columns)}
        if self.engine == "linear":
            outputs = self.linear.outputs(feed[self.matrix_input])
            if self.task == "classification":
                return np.argmax(outputs, axis=1), outputs
            return outputs, None
        if self.engine == "onnx":
            outputs = self.session.run(None, feed)
            if self.task == "classification":
                proba = np.asarray(outputs[-1], dtype=np.float64)
                proba = proba.reshape(proba.shape[0], -1)
                return np.argmax(proba, axis=1), proba
            return np.asarray(outputs[0], dtype=np.float64).reshape(-1), None
        if self.task == "classification":
            proba = self.native.predict_proba(frame)
            return np.argmax(proba, axis=1), proba
        return np.asarray(self.native.predict(frame), dtype=np.float64).reshape(-1), None


_cache: "OrderedDict[tuple, Any]" = OrderedDict()
_CACHE_HIT, _CACHE_LOAD = MODEL_CACHE.labels("hit"), MODEL_CACHE.labels("load")
_lock = threading.Lock()


def _load(version: "ModelVersion") -> Runtime:
    task = "classification" if version.signature.get("classes") is not None else "regression"
    common = {
        "version_id": version.pk,
        "inputs": version.signature["inputs"],
        "classes": version.signature.get("classes"),
        "task": task,
    }
    if version.onnx_path:
        import onnxruntime as ort

        data = artifact_read(version.onnx_path, version.onnx_sha256)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        graph, matrix_input = _one_input(data, version.signature["inputs"])
        session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
        runtime = Runtime(
            engine="onnx", size=len(data), session=session, matrix_input=matrix_input, **common
        )
        if matrix_input is not None:
            linear = linear_export(graph, matrix_input)
            if linear is not None and agrees_with(
                linear, session, matrix_input, classifier=task == "classification"
            ):
                runtime.engine, runtime.linear = "linear", linear
    elif version.framework == "sklearn":
        import skops.io as sio

        data = artifact_read(version.native_path, version.native_sha256)
        # skops' defaults plus exactly the types our trainers produce; any other type in the
        # file raises. The tree types are trusted because the bytes are ours (sha256 checked).
        native = sio.loads(data, trusted=SKOPS_TRUSTED_TYPES)
        runtime = Runtime(engine="native", size=len(data), native=native, **common)
    else:
        raise NotServable(
            f"Version {version.version} has no ONNX export that passed its parity check, and "
            f"{version.framework} models are served only through ONNX. Train it again."
        )
    _warm_up(runtime)
    return runtime


MATRIX_INPUT = "maas_features"


def _one_input(data: bytes, inputs: list[dict[str, str]]) -> tuple[bytes, str | None]:
    """The graph rewritten to take all features as one [n, k] float tensor, when it starts by
    concatenating its k numeric [n, 1] inputs in signature order (our scikit-learn exports do).

    ONNX Runtime checks and binds each input separately: for 30 features that is ~40 µs per
    call, several times the model itself. The rewrite replaces the Concat by an Identity of
    the new input, so the model computes exactly what it did. Any other graph is left alone."""
    import onnx

    names = [spec["onnx_input"] for spec in inputs]
    if len(names) < 2 or any(spec["dtype"] != "number" for spec in inputs):
        return data, None
    model = onnx.load_from_string(data)
    graph = model.graph
    if [i.name for i in graph.input] != names:
        return data, None
    concat = [n for n in graph.node if n.op_type == "Concat" and list(n.input) == names]
    users = [n for n in graph.node if set(n.input) & set(names)]
    if len(concat) != 1 or users != concat:
        return data, None
    axis = next((a.i for a in concat[0].attribute if a.name == "axis"), None)
    if axis not in (1, -1) or any(
        i.type.tensor_type.elem_type != onnx.TensorProto.FLOAT for i in graph.input
    ):
        return data, None
    identity = onnx.helper.make_node("Identity", [MATRIX_INPUT], list(concat[0].output))
    position = list(graph.node).index(concat[0])
    graph.node.remove(concat[0])
    graph.node.insert(position, identity)
    del graph.input[:]
    graph.input.append(
        onnx.helper.make_tensor_value_info(MATRIX_INPUT, onnx.TensorProto.FLOAT, [None, len(names)])
    )
    return model.SerializeToString(), MATRIX_INPUT


def _warm_up(runtime: Runtime) -> None:
    from inference.validation import build_inputs

    row = [None] * len(runtime.inputs)
    feed, frame = build_inputs(runtime.inputs, [row], as_frame=runtime.engine == "native")
    runtime.predict(feed, frame)


def runtime_for(version: "ModelVersion") -> Runtime:
    """The version's serving runtime, from this process's cache or loaded now."""
    return cached(
        ("serve", version.pk, version.onnx_sha256 or version.native_sha256), version, _load
    )


def cached(key: tuple, version: "ModelVersion", load: Callable[["ModelVersion"], Any]) -> Any:
    """`load(version)`, kept in the one LRU of loaded models (anything with a `.size` in
    bytes). Keys hold the version's primary key and artifact hash, so a stale entry never
    answers."""
    with _lock:
        entry = _cache.get(key)
        if entry is not None:
            _cache.move_to_end(key)
            _CACHE_HIT.inc()
            return entry
    entry = load(version)
    _CACHE_LOAD.inc()
    with _lock:
        _cache[key] = entry
        _cache.move_to_end(key)
        while _cache and (
            len(_cache) > settings.MAAS_MODEL_CACHE_SIZE
            or sum(r.size for r in _cache.values()) > settings.MAAS_MODEL_CACHE_BYTES
        ):
            if len(_cache) == 1:
                break  # one model larger than the budget still serves
            _cache.popitem(last=False)
    return entry


def cache_clear() -> None:
    with _lock:
        _cache.clear()
