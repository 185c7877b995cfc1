"""The CLI's own rules, without a server: how CSV cells become typed values, how --param
values parse, and click's usage errors (exit 2). tests/e2e/test_client_cli.py runs it live."""

import pytest
from click.testing import CliRunner
from maas_client import cli


def test_csv_cells_follow_the_signature():
    rows = [{"age": "41", "plan": "pro", "spend": "59.50", "vip": "true", "zip": "02134", "x": "1"}]
    dtypes = {
        "age": "number",
        "plan": "string",
        "spend": "number",
        "vip": "boolean",
        "zip": "string",
    }
    assert cli._typed(rows, dtypes) == [
        {"age": 41, "plan": "pro", "spend": 59.5, "vip": True, "zip": "02134"}  # x: not a feature
    ]
    assert cli._typed([{"age": "", "plan": ""}], dtypes) == [{"age": None, "plan": None}]
    # A number the server will refuse, naming the row and column, is sent as it is.
    assert cli._typed([{"age": "forty"}], dtypes) == [{"age": "forty"}]


def test_without_the_signature_cells_that_read_as_numbers_are_numbers():
    assert cli._typed([{"a": "1", "b": "2.5", "c": "pro", "d": "false", "e": "1e3"}], None) == [
        {"a": 1, "b": 2.5, "c": "pro", "d": False, "e": 1000.0}
    ]


@pytest.mark.parametrize(
    ("given", "parsed"),
    [
        ("n_estimators=200", {"n_estimators": 200}),
        ("learning_rate=0.01", {"learning_rate": 0.01}),
        ("augment=true", {"augment": True}),
        ("hidden_layers=[64, 32]", {"hidden_layers": [64, 32]}),
        ("solver=lbfgs", {"solver": "lbfgs"}),
    ],
)
def test_params_are_json_where_they_parse(given, parsed):
    assert cli._params(None, None, (given,)) == parsed


@pytest.mark.parametrize(
    "args",
    [
        ["predict", "churn"],
        ["train", "--dataset", "ds_1"],
        ["train", "--dataset", "d", "--target", "t", "--algorithm", "a", "--param", "oops"],
        ["jobs", "get", "ds_1"],
        ["nonsense"],
    ],
)
def test_usage_errors_exit_2_before_any_request(args):
    result = CliRunner().invoke(cli.main, [*args, "--api-key", "mk_x"])
    assert result.exit_code == 2, result.output
