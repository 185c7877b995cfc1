"""A linear model's one-row answer: ONNX Runtime's call against inference.linear's numpy.

    .venv/bin/python benchmarks/linear.py [--calls 20000] [--rounds 5]

The breast-cancer LogisticRegression, exported as the trainers export it. Each engine answers one
row `--calls` times, in rounds alternating between the engines, and the table gives the median
µs per call:

- alone: nothing else in the process;
- beside a thread that wants the GIL: a second thread wakes every 100 µs and runs ~20 µs of
  Python, as granian's threads in a web process do to hand over requests and answers. A call
  that lets go of the GIL (ONNX Runtime's does) lets that thread in, and waits for it to give
  the GIL back; numpy's small operations keep it.

Not a timed test: a table, run by hand (docs/serving.md)."""

import argparse
import os
import statistics
import sys
import threading
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maas.settings")


def exported():
    import django

    django.setup()
    import onnxruntime as ort
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from inference.linear import linear_export
    from inference.runtime import _one_input
    from training.data import build_preprocessor
    from training.onnx_export import sklearn_to_onnx

    data = load_breast_cancer(as_frame=True)
    X = data.data.copy()
    X.columns = [f"f{i}" for i in range(X.shape[1])]
    inputs = [{"name": c, "onnx_input": c, "dtype": "number"} for c in X.columns]
    pipeline = Pipeline(
        [
            ("preprocess", build_preprocessor(inputs, scale=True)),
            ("model", LogisticRegression(max_iter=5000)),
        ]
    ).fit(X, data.target)
    graph, matrix_input = _one_input(sklearn_to_onnx(pipeline, X, classifier=True), inputs)
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1  # as served
    session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
    row = X.to_numpy(np.float32)[:1].copy()
    model = linear_export(graph, matrix_input)
    return {
        "ONNX Runtime": lambda: session.run(None, {matrix_input: row}),
        "numpy (inference.linear)": lambda: model.outputs(row),
    }


def per_call(call, calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - started) / calls * 1e6


class GilWanter:
    """A thread that wakes every 100 µs and runs ~20 µs of Python."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.is_set():
            time.sleep(0.0001)
            deadline = time.perf_counter() + 0.00002
            while time.perf_counter() < deadline:
                pass

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    engines = exported()
    results: dict[tuple[str, str], list[float]] = {}
    for call in engines.values():
        per_call(call, 1000)  # warm
    for setting in ("alone", "beside a thread that wants the GIL"):
        for _ in range(args.rounds):
            for name, call in engines.items():
                if setting == "alone":
                    took = per_call(call, args.calls)
                else:
                    with GilWanter():
                        took = per_call(call, args.calls)
                results.setdefault((setting, name), []).append(took)
    print(f"one row, {args.calls:,} calls per round, {args.rounds} rounds alternating, medians")
    print("| setting | engine | µs per call | rounds |")
    print("|---|---|---|---|")
    for (setting, name), values in results.items():
        rounds = " / ".join(f"{v:.1f}" for v in values)
        print(f"| {setting} | {name} | {statistics.median(values):.1f} | {rounds} |")


if __name__ == "__main__":
    main()
