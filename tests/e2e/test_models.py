"""Models a tenant can trust, over HTTP with a real worker and two web processes: the
evaluation, explanations billed per row, and aliases that move everywhere at once."""

from decimal import Decimal

import pytest
from sklearn.metrics import classification_report

from billing.models import MeterPrice
from billing.services import usage_process
from catalog.models import Dataset
from tests.helpers import HttpApi, new_tenant, wait_for
from tests.training.test_evaluation import planted_csv
from training.data import load_table, validation_split_of

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("price_books")]


def train(api: HttpApi, **body) -> dict:
    created = api.post("/v1/training-jobs", json=body)
    assert created.status_code == 202, created.text
    job = wait_for(api, created.json()["id"], {"succeeded", "failed", "canceled"})
    assert job["status"] == "succeeded", job["error"]
    return job


def test_evaluate_explain_and_promote_over_http(worker, serve, settings):
    worker()
    # The worker's broker folders (embedded) are under the test run's data folder.
    url = serve(workers=2, MAAS_USAGE_SINK="database", MAAS_DATA_DIR=str(settings.DATA_DIR))
    created = new_tenant()
    api = HttpApi(url, created["api_key"])
    csv = planted_csv(600)
    dataset = api.post("/v1/datasets", files={"file": ("planted.csv", csv)}).json()["id"]

    # A forest with 5-fold cross-validation on a 3-class table.
    first = train(
        api,
        dataset=dataset,
        target="kind",
        algorithm="random_forest_classifier",
        params={"n_estimators": 40},
        cv_folds=5,
        model="planted",
    )
    model = first["model"]
    evaluation = api.get(f"/v1/models/{model}/versions/1/evaluation").json()
    validation = evaluation["validation"]
    table = load_table(
        Dataset.objects.get(pk=dataset),
        features=first["features"],
        target="kind",
        task="classification",
    )
    _, X_val, _, y_val = validation_split_of(table, first["validation_split"], True)
    names = {spec["onnx_input"]: spec["name"] for spec in table.inputs}
    rows = X_val.rename(columns=names).to_dict(orient="records")
    predicted = api.post(f"/v1/models/{model}/predict", json={"inputs": rows}).json()
    report = classification_report(
        [table.classes[i] for i in y_val], predicted["predictions"], output_dict=True
    )
    assert sum(map(sum, validation["confusion_matrix"]["matrix"])) == len(rows)
    for cls in validation["per_class"]:
        assert cls["f1"] == pytest.approx(report[cls["label"]]["f1-score"])
        assert cls["support"] == report[cls["label"]]["support"]
    assert evaluation["cross_validation"]["folds"] == 5
    ranked = [item["feature"] for item in evaluation["feature_importance"]]
    assert ranked[0] == "signal" and ranked[-1] == "noise"

    # Explain 100 rows; they add up to predict's probabilities and are billed per row.
    book = MeterPrice.objects.get(price_book__code="enterprise", meter="explanations")
    book.allowance = Decimal(0)
    book.save()  # an operator's edit: no free rows, so the bill shows the price
    explained = api.post(f"/v1/models/{model}/explain", json={"inputs": rows[:100]}).json()
    probabilities = predicted["probabilities"][:100]
    classes = predicted["classes"]
    for i, contributions in enumerate(explained["explanations"]):
        total = explained["base_value"][i] + sum(contributions.values())
        expected = probabilities[i][classes.index(predicted["predictions"][i])]
        assert total == pytest.approx(expected, rel=1e-6)
    usage_process()
    usage = api.get("/v1/usage", params={"group_by": "meter"}).json()["data"]
    line = next(u for u in usage if u["meter"] == "explanations")
    price = next(m for m in api.get("/v1/pricing").json()["meters"] if m["meter"] == "explanations")
    assert line["quantity"] == "100"
    assert Decimal(line["amount"]) == (100 * Decimal(price["unit_amount"])).quantize(
        Decimal("0.01")
    )

    # production -> v1; a retrain does not go live; moving the alias does, in both processes.
    assert api.put(f"/v1/models/{model}/aliases/production", json={"version": 1}).ok
    train(api, dataset=dataset, target="kind", algorithm="logistic_regression", model="planted")
    one = rows[:1]

    def served(version) -> set[int]:
        # A new connection per request, so both web processes answer some of them.
        return {
            HttpApi(url, created["api_key"])
            .post(f"/v1/models/{model}/predict", json={"inputs": one, "version": version})
            .json()["version"]
            for _ in range(20)
        }

    assert served("production") == {1} and served(None) == {2}
    assert api.put(f"/v1/models/{model}/aliases/production", json={"version": 2}).ok
    assert served("production") == {2}
    batch = api.post(
        "/v1/inference-jobs", json={"model": model, "dataset": dataset, "version": "production"}
    ).json()
    assert batch["version"] == 2
    assert wait_for(api, batch["id"], {"succeeded", "failed"})["status"] == "succeeded"
    assert api.get(f"/v1/models/{model}").json()["aliases"] == {"production": 2}
