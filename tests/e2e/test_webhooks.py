"""Webhooks over HTTP with a real worker: a finished training job reaches a receiver on
127.0.0.1, signed so that the `standardwebhooks` package verifies it."""

import time

import pytest
from standardwebhooks import Webhook

from tests.helpers import new_tenant, wait_for
from tests.training.conftest import breast_cancer_csv

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("price_books")]


def test_a_finished_job_reaches_the_receiver_signed(worker, http, receiver):
    worker()
    created = new_tenant()
    api = http(created["api_key"])
    endpoint = api.post(
        "/v1/webhook-endpoints", json={"url": receiver.url, "events": ["training_job.succeeded"]}
    ).json()
    dataset = api.post("/v1/datasets", files={"file": ("c.csv", breast_cancer_csv())}).json()
    job = api.post(
        "/v1/training-jobs",
        json={"dataset": dataset["id"], "target": "diagnosis", "algorithm": "logistic_regression"},
    ).json()
    assert wait_for(api, job["id"], {"succeeded", "failed"})["status"] == "succeeded"
    deadline = time.monotonic() + 30
    while not receiver.received and time.monotonic() < deadline:
        time.sleep(0.05)
    headers, body = receiver.received[0]
    payload = Webhook(endpoint["secret"]).verify(body, headers)
    assert payload["type"] == "training_job.succeeded"
    assert payload["data"]["object"]["id"] == job["id"]
    assert payload["data"]["object"]["status"] == "succeeded"
    deliveries = api.get(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries").json()["data"]
    assert deliveries[0]["status"] == "succeeded" and deliveries[0]["attempts"] == 1
