"""The fast input path (all numbers) and the careful one give the model the same tensors."""

import numpy as np
import pytest

from inference.validation import build_inputs, prepare_inputs, rows_as_lists
from maas.errors import InvalidRequest

INPUTS = [{"name": n, "dtype": "number", "onnx_input": f"in_{i}"} for i, n in enumerate("abc")]


def careful(rows):
    feed, _ = build_inputs(INPUTS, rows_as_lists(INPUTS, rows, 1000))
    return np.hstack([feed[spec["onnx_input"]] for spec in INPUTS])


@pytest.mark.parametrize(
    "rows",
    [
        [{"a": 1, "b": 2.5, "c": -3}, {"c": 0.1, "b": 1e30, "a": 7}],
        [[1, 2.5, -3], [7, 1e30, 0.1]],
        [{"a": 2**60, "b": 0, "c": 1.0000001}],
    ],
)
def test_the_fast_path_feeds_what_the_careful_path_does(rows):
    feed, _, n = prepare_inputs(INPUTS, rows, 1000)
    fast = np.hstack([feed[spec["onnx_input"]] for spec in INPUTS])
    assert n == len(rows)
    assert fast.dtype == np.float32 and np.array_equal(fast, careful(rows))
    matrix, _, _ = prepare_inputs(INPUTS, rows, 1000, matrix_input="x")
    assert np.array_equal(matrix["x"], fast)


def test_nulls_take_the_careful_path_and_become_missing_values():
    feed, _, _ = prepare_inputs(INPUTS, [[1, None, 3]], 1000, matrix_input="x")
    assert np.isnan(feed["in_1"][0, 0]) and feed["in_0"][0, 0] == 1


@pytest.mark.parametrize(
    ("rows", "param"),
    [
        ([{"a": 1, "b": True, "c": 3}], "inputs[0].b"),
        ([[1, 2, 3], [1, "2", 3]], "inputs[1].b"),
        ([{"a": 1, "b": 2}], "inputs[0].c"),
        ([{"a": 1, "b": 2, "c": 3, "d": 4}], "inputs[0].d"),
        ([{"a": 1, "b": 2, "c": 3}, {"a": 1, "b": 2, "d": 4}], "inputs[1].d"),  # as many keys
        ([[1, 2]], "inputs[0]"),
    ],
)
def test_every_problem_is_named_by_the_careful_path(rows, param):
    with pytest.raises(InvalidRequest) as excinfo:
        prepare_inputs(INPUTS, rows, 1000, matrix_input="x")
    assert excinfo.value.param == param
