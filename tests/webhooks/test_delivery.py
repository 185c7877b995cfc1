"""Events recorded with the change they announce, and deliveries signed per Standard Webhooks
(verified with the `standardwebhooks` package, not our code), retried until acknowledged."""

from datetime import timedelta

import orjson
import pytest
from django.utils import timezone
from standardwebhooks import Webhook

from tests.factories import TrainingJobFactory
from tests.helpers import assert_error
from training.models import TrainingJob
from webhooks.delivery import BACKOFF, deliveries_due, delivery_attempt
from webhooks.models import Event, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


def create_endpoint(api, url, events=("*",)):
    answer = api.post("/v1/webhook-endpoints", {"url": url, "events": list(events)}, format="json")
    assert answer.status_code == 201, answer.json()
    return answer.json()


def cancel_a_queued_job(api, tenant) -> TrainingJob:
    job = TrainingJobFactory(tenant=tenant)
    assert api.post(f"/v1/training-jobs/{job.pk}/cancel").json()["status"] == "canceled"
    return job


def test_a_finished_job_is_an_event_and_a_signed_delivery(api, tenant, receiver):
    endpoint = create_endpoint(api, receiver.url)
    assert endpoint["secret"].startswith("whsec_") and endpoint["status"] == "enabled"
    job = cancel_a_queued_job(api, tenant)
    event = Event.objects.get(tenant=tenant)
    assert event.type == "training_job.canceled" and event.data["object"]["id"] == job.pk
    listed = api.get("/v1/events").json()["data"]
    assert [e["id"] for e in listed] == [event.pk]
    assert api.get(f"/v1/events/{event.pk}").json()["data"]["object"]["status"] == "canceled"

    delivery = WebhookDelivery.objects.get()
    delivery_attempt(delivery.pk)
    headers, body = receiver.received[0]
    payload = Webhook(endpoint["secret"]).verify(body, headers)  # raises on a bad signature
    assert payload["id"] == event.pk == headers["webhook-id"]
    assert payload["type"] == "training_job.canceled"
    assert payload["data"]["object"]["id"] == job.pk
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("succeeded", 1, 200)
    log = api.get(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries").json()["data"]
    assert log[0]["status"] == "succeeded" and log[0]["type"] == "training_job.canceled"


def test_a_failing_receiver_gets_the_same_event_until_it_answers(api, tenant, receiver):
    endpoint = create_endpoint(api, receiver.url, ["training_job.canceled"])
    receiver.statuses = [500, 503]
    cancel_a_queued_job(api, tenant)
    delivery = WebhookDelivery.objects.get()
    for attempt in range(3):
        delivery_attempt(delivery.pk)
        delivery.refresh_from_db()
        if attempt < 2:
            assert delivery.status == "pending" and delivery.response_status in (500, 503)
            wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
            assert 0.8 * BACKOFF[attempt] - 1 <= wait <= 1.2 * BACKOFF[attempt]
            assert deliveries_due() == []  # not before its time
            WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
            assert deliveries_due() == [delivery.pk]
    assert (delivery.status, delivery.attempts) == ("succeeded", 3)
    ids = {headers["webhook-id"] for headers, _ in receiver.received}
    assert len(receiver.received) == 3 and len(ids) == 1
    for headers, body in receiver.received:
        Webhook(endpoint["secret"]).verify(body, headers)


def test_a_delivery_whose_worker_died_is_sent_again(api, tenant, receiver):
    create_endpoint(api, receiver.url)
    cancel_a_queued_job(api, tenant)
    delivery = WebhookDelivery.objects.get()
    # A worker took it (attempt counted, leased) and died before recording anything.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        attempts=1, leased_until=timezone.now() + timedelta(seconds=60)
    )
    assert deliveries_due() == []  # held while the lease runs
    delivery_attempt(delivery.pk)
    assert receiver.received == []
    WebhookDelivery.objects.filter(pk=delivery.pk).update(leased_until=timezone.now())
    assert deliveries_due() == [delivery.pk]
    delivery_attempt(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and delivery.attempts == 2
    assert len(receiver.received) == 1


def test_gives_up_after_the_backoff_and_disables_an_endpoint_failing_for_days(
    api, tenant, receiver
):
    endpoint = create_endpoint(api, receiver.url)
    receiver.statuses = [500] * 20
    cancel_a_queued_job(api, tenant)
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=len(BACKOFF))
    delivery_attempt(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.next_attempt_at is None
    assert sum(BACKOFF) >= 24 * 3600  # retried for at least a day
    WebhookEndpoint.objects.filter(pk=endpoint["id"]).update(
        failing_since=timezone.now() - timedelta(days=3, seconds=1)
    )
    cancel_a_queued_job(api, tenant)
    delivery_attempt(WebhookDelivery.objects.latest("created_at").pk)
    assert WebhookEndpoint.objects.get(pk=endpoint["id"]).status == "disabled"
    cancel_a_queued_job(api, tenant)
    assert WebhookDelivery.objects.count() == 2  # a disabled endpoint gets nothing new
    enabled = api.patch(
        f"/v1/webhook-endpoints/{endpoint['id']}", {"status": "enabled"}, format="json"
    )
    assert enabled.json()["status"] == "enabled"


def test_redeliver_sends_the_event_again(api, tenant, receiver):
    create_endpoint(api, receiver.url)
    cancel_a_queued_job(api, tenant)
    first = WebhookDelivery.objects.get()
    delivery_attempt(first.pk)
    again = api.post(f"/v1/webhook-deliveries/{first.pk}/redeliver")
    assert again.status_code == 202 and again.json()["status"] == "pending"
    delivery_attempt(again.json()["id"])
    assert len(receiver.received) == 2
    assert receiver.received[0][0]["webhook-id"] == receiver.received[1][0]["webhook-id"]


def test_endpoints_are_checked_and_their_secret_shown_once(api, settings, receiver):
    settings.MAAS_WEBHOOKS_ALLOW_PRIVATE = False
    refused = api.post(
        "/v1/webhook-endpoints", {"url": receiver.url, "events": ["*"]}, format="json"
    )
    error = assert_error(refused, 400, "invalid_request_error")
    assert error["param"] == "url" and "loopback" in error["message"]
    for url in ("ftp://example.com/x", "not a url"):
        bad = api.post("/v1/webhook-endpoints", {"url": url, "events": ["*"]}, format="json")
        assert assert_error(bad, 400, "invalid_request_error")["param"] == "url"
    settings.MAAS_WEBHOOKS_ALLOW_PRIVATE = True
    bad = api.post("/v1/webhook-endpoints", {"url": receiver.url, "events": ["x.y"]}, format="json")
    assert assert_error(bad, 400, "invalid_request_error")["param"].startswith("events")
    headers = {"HTTP_IDEMPOTENCY_KEY": "hook-1"}
    body = {"url": receiver.url, "events": ["training_job.succeeded"]}
    first = api.post("/v1/webhook-endpoints", body, format="json", **headers)
    replay = api.post("/v1/webhook-endpoints", body, format="json", **headers)
    assert first.json()["secret"].startswith("whsec_") and replay.json()["secret"] is None
    endpoint = first.json()["id"]
    assert "secret" not in api.get(f"/v1/webhook-endpoints/{endpoint}").json()
    rotated = api.post(f"/v1/webhook-endpoints/{endpoint}/rotate-secret").json()
    assert rotated["secret"] != first.json()["secret"]
    listed = api.get("/v1/webhook-endpoints").json()["data"]
    assert [e["id"] for e in listed] == [endpoint]
    assert api.delete(f"/v1/webhook-endpoints/{endpoint}").status_code == 200
    assert_error(api.get(f"/v1/webhook-endpoints/{endpoint}"), 404, "not_found_error")


def test_scopes_and_walls(client_for, tenant, other_tenant, api, receiver):
    from tests.factories import ApiKeyFactory

    endpoint = create_endpoint(api, receiver.url)
    reader = client_for(ApiKeyFactory(tenant=tenant, scopes=["read", "write"]))
    assert_error(reader.get("/v1/webhook-endpoints"), 403, "permission_error")
    other = client_for(ApiKeyFactory(tenant=other_tenant))
    assert_error(other.get(f"/v1/webhook-endpoints/{endpoint['id']}"), 404, "not_found_error")
    assert other.get("/v1/webhook-endpoints").json()["data"] == []
    cancel_a_queued_job(api, tenant)
    assert other.get("/v1/events").json()["data"] == []
    event = Event.objects.get()
    assert_error(other.get(f"/v1/events/{event.pk}"), 404, "not_found_error")
    body = orjson.loads(api.get(f"/v1/events/{event.pk}").content)
    assert body["object"] == "event"
