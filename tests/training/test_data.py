import numpy as np
import pandas as pd
import pytest

from catalog.selectors import dataset_open
from tests.training.conftest import make_dataset
from training.data import load_table


def as_text_then_coerced(dataset, features, target):
    """What load_table gave before numbers were parsed by pandas: every column read as text."""
    with dataset_open(dataset=dataset) as f:
        frame = pd.read_csv(f, dtype=str, keep_default_na=False, na_values=[""])
    dtypes = {c["name"]: c["dtype"] for c in dataset.columns}
    numbers = [n for n in features if dtypes[n] == "number"]
    return {n: pd.to_numeric(frame[n], errors="coerce").astype("float32") for n in numbers}


@pytest.mark.parametrize(
    "csv",
    [
        # parsed as numbers: blanks, spaces, exponents, many digits
        b"a,b,s,t\n"
        + b"1.5,0.1,x,yes\n,2,y,no\n 2 ,3e2,,yes\n0.30000000000000004,-7,z,no\n1e-300,5,w,yes\n"
        * 3,
        # "1_000" is a number to Python's float() (so the upload says number) but not to
        # pandas' parser: the whole file is read as text, as before
        b"a,b,s,t\n" + b"1_000,1,x,yes\n2,2,y,no\n3,3,,yes\n4,4,z,no\n5,5,w,yes\n" * 3,
    ],
)
def test_numbers_read_as_the_text_path_read_them(tenant, csv):
    dataset = make_dataset(tenant, csv)
    assert {c["name"]: c["dtype"] for c in dataset.columns}["a"] == "number"

    table = load_table(dataset, features=["a", "b", "s"], target="t", task="classification")

    want = as_text_then_coerced(dataset, ["a", "b", "s"], "t")
    for i, name in enumerate(["a", "b"]):
        np.testing.assert_array_equal(table.X[f"in_{i}"].to_numpy(), want[name].to_numpy())
    assert table.X["in_2"].tolist() == ["x", "y", "", "z", "w"] * 3  # missing text: ""
    assert table.classes == ["no", "yes"]
