"""Webhooks over HTTP with a real worker: a finished training job reaches a receiver on
127.0.0.1, signed so that the `standardwebhooks` package verifies it."""

import time

import pytest
from standardwebhooks import Webhook

from tests.e2e.conftest import kill_whole_worker
from tests.factories import TrainingJobFactory
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


def test_a_send_lost_with_its_worker_is_made_again(worker, http, receiver):
    first = worker()
    created = new_tenant()
    api = http(created["api_key"])
    endpoint = api.post(
        "/v1/webhook-endpoints", json={"url": receiver.url, "events": ["training_job.canceled"]}
    ).json()
    receiver.delays = [10]  # the first send hangs while its worker is killed
    queued = TrainingJobFactory(tenant_id=created["tenant_id"])
    assert api.post(f"/v1/training-jobs/{queued.pk}/cancel").json()["status"] == "canceled"
    deadline = time.monotonic() + 30
    while not receiver.received and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(receiver.received) == 1  # the send is in flight
    kill_whole_worker(first)
    worker(beat=True)  # a new worker, and the dispatcher that finds the lost send
    deadline = time.monotonic() + 60
    while len(receiver.received) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(receiver.received) == 2
    assert receiver.received[0][0]["webhook-id"] == receiver.received[1][0]["webhook-id"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        log = api.get(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries").json()["data"]
        if log[0]["status"] == "succeeded":
            break
        time.sleep(0.1)
    assert log[0]["status"] == "succeeded" and log[0]["attempts"] == 2, log
