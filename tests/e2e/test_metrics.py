"""GET /metrics over HTTP: after a finished job and predictions, their counters have moved,
summed across the server's two worker processes (prometheus-client's multiprocess mode), and
the scrape-time readings (queues, jobs, usage backlog, webhook deliveries) are there."""

import json
import re
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import HttpApi, new_tenant, wait_for
from tests.training.conftest import breast_cancer_csv

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("price_books")]
TOKEN = "scrape-me"
ROOT = Path(__file__).resolve().parents[2]


def scrape(url: str) -> dict[tuple, float]:
    answer = requests.get(
        f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_counters_move_after_a_job_and_predictions(worker, serve, settings):
    worker()
    url = serve(
        workers=2,
        MAAS_USAGE_SINK="database",
        MAAS_DATA_DIR=str(settings.DATA_DIR),
        MAAS_METRICS_TOKEN=TOKEN,
    )
    refused = requests.get(f"{url}/metrics", timeout=30)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "metrics_token_invalid"
    before = scrape(url)

    api = HttpApi(url, new_tenant()["api_key"])
    dataset = api.post("/v1/datasets", files={"file": ("c.csv", breast_cancer_csv())}).json()
    job = api.post(
        "/v1/training-jobs",
        json={"dataset": dataset["id"], "target": "diagnosis", "algorithm": "logistic_regression"},
    ).json()
    done = wait_for(api, job["id"], {"succeeded", "failed"})
    assert done["status"] == "succeeded"
    inputs = api.get(f"/v1/models/{done['model']}/versions/1").json()["signature"]["inputs"]
    row = {spec["name"]: 1.0 for spec in inputs}
    for _ in range(6):  # over kept and new connections: both worker processes may answer
        answer = requests.post(
            f"{url}/v1/models/{done['model']}/predict",
            json={"inputs": [row]},
            headers={"Authorization": api.session.headers["Authorization"]},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
    after = scrape(url)

    predict = {"route": "/v1/models/<oid:id>/predict", "method": "POST", "status": "200"}
    moved = value(after, "maas_http_requests_total", **predict) - value(
        before, "maas_http_requests_total", **predict
    )
    assert moved == 6, [k for k in after if "predict" in str(k)]
    count = "maas_predict_duration_seconds_count"
    assert value(after, count) - value(before, count) == 6
    assert value(after, "maas_model_cache_total", result="load") > value(
        before, "maas_model_cache_total", result="load"
    )
    finished = {"kind": "trainingjob", "outcome": "succeeded"}
    assert (
        value(after, "maas_jobs_finished_total", **finished)
        == value(before, "maas_jobs_finished_total", **finished) + 1
    )
    assert value(after, "maas_job_run_seconds_total", **finished) > 0
    assert ("maas_queue_depth", (("queue", "training"),)) in after
    assert ("maas_usage_waiting", ()) in after
    assert ("maas_webhook_deliveries", (("status", "pending"),)) in after
    # Every series the Grafana dashboard plots is one the server serves.
    dashboard = json.loads((ROOT / "deploy" / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    plotted = {name for expr in exprs for name in re.findall(r"maas_[a-z_]+", expr)}
    served = {name for name, _ in after}
    assert plotted and plotted <= served, plotted - served
