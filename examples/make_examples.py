"""Writes the quickstart's sample data (committed; run again only to change it):

- churn.csv: 400 made-up customers of a subscription product, and whether each one left
  (`churned`: yes/no), for a classifier. Churn is planted in support tickets, tenure and plan,
  with noise, so a model has something real to find.
- churn-new.csv: five customers without the answer, to predict (the same feature columns).
- digits.zip: 300 of scikit-learn's bundled 8x8 handwritten digits as PNGs, one folder per digit
  (`7/0042.png`), for an image classifier.

    .venv/bin/python examples/make_examples.py
"""

import csv
import io
import math
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

HERE = Path(__file__).resolve().parent
PLANS = ("basic", "pro", "enterprise")
COLUMNS = ("age", "plan", "monthly_spend", "tenure_months", "support_tickets")


def customers(n: int, rng: np.random.Generator) -> list[dict]:
    rows = []
    for _ in range(n):
        plan = PLANS[rng.choice(3, p=(0.5, 0.35, 0.15))]
        base = {"basic": 19.0, "pro": 49.0, "enterprise": 199.0}[plan]
        tenure = int(rng.integers(1, 72))
        tickets = int(rng.poisson(1.5))
        row = {
            "age": int(rng.integers(18, 75)),
            "plan": plan,
            "monthly_spend": round(base * float(rng.uniform(0.8, 1.6)), 2),
            "tenure_months": tenure,
            "support_tickets": tickets,
        }
        score = 0.9 * tickets - 0.06 * tenure + (0.8 if plan == "basic" else -0.4)
        row["churned"] = "yes" if rng.random() < 1 / (1 + math.exp(-score)) else "no"
        rows.append(row)
    return rows


def write_csv(path: Path, rows: list[dict], columns: tuple[str, ...]) -> None:
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def digits_zip(path: Path, limit: int) -> None:
    digits = load_digits()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for i, (pixels, label) in enumerate(zip(digits.images, digits.target, strict=True)):
            if i >= limit:
                break
            png = io.BytesIO()
            Image.fromarray((pixels * 255 / 16).astype(np.uint8), mode="L").save(png, "PNG")
            info = zipfile.ZipInfo(f"{label}/{i:04d}.png", date_time=(2026, 1, 1, 0, 0, 0))
            archive.writestr(info, png.getvalue(), zipfile.ZIP_DEFLATED)


def main() -> None:
    rng = np.random.default_rng(14)
    write_csv(HERE / "churn.csv", customers(400, rng), (*COLUMNS, "churned"))
    write_csv(HERE / "churn-new.csv", customers(5, rng), COLUMNS)
    digits_zip(HERE / "digits.zip", 300)


if __name__ == "__main__":
    main()
