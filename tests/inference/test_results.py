"""Stored batch results render as JSON Lines and CSV, exactly and in order."""

import csv
import io
import json

import numpy as np
import pytest

from inference.results import RENDER_ROWS, results_render, results_save


def render(path: str, fmt: str) -> str:
    return b"".join(results_render(path, fmt)).decode()


def test_a_classifiers_results_in_both_formats(settings, tmp_path):
    classes = ["no", 'tricky "},{"row":1} label']  # what a naive line split would cut
    rows = np.array([0, 2, 5])
    proba = np.array([[0.25, 0.75], [1.0, 0.0], [1 / 3, 2 / 3]])
    path = results_save("r", rows, np.array([1, 0, 1]), proba, classes)
    lines = [json.loads(line) for line in render(path, "jsonl").splitlines()]
    assert lines == [
        {"row": 0, "prediction": classes[1], "probabilities": [0.25, 0.75]},
        {"row": 2, "prediction": "no", "probabilities": [1.0, 0.0]},
        {"row": 5, "prediction": classes[1], "probabilities": [1 / 3, 2 / 3]},
    ]
    table = list(csv.reader(io.StringIO(render(path, "csv"))))
    assert table[0] == ["row", "prediction", "p_no", f"p_{classes[1]}"]
    assert [float(v) for v in table[3][2:]] == [1 / 3, 2 / 3] and table[3][1] == classes[1]


def test_a_regressors_results_across_render_chunks():
    n = RENDER_ROWS + 3
    values = np.linspace(-1, 1, n)
    path = results_save("r", np.arange(n), values, None, None)
    lines = render(path, "jsonl").splitlines()
    assert len(lines) == n and json.loads(lines[-1]) == {"row": n - 1, "prediction": 1.0}
    table = list(csv.reader(io.StringIO(render(path, "csv"))))
    assert table[0] == ["row", "prediction"] and len(table) == n + 1
    assert [float(r[1]) for r in table[1:]] == values.tolist()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
