"""Stripe sync over HTTP with the official SDK against localstripe, and the webhook."""

import hashlib
import hmac
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import stripe
from freezegun import freeze_time

from billing.models import BillingAccount, Invoice, InvoiceLine
from billing.stripe_sync import _client, _is_ours, invoice_push_to_stripe
from billing.tasks import close_invoices
from tests.billing.test_invoices import FEB, february_usage
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

WEBHOOK_SECRET = "whsec_test_secret"


@pytest.fixture(scope="session")
def localstripe_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    binary = Path(sys.executable).parent / "localstripe"
    process = subprocess.Popen(
        [str(binary), "--port", str(port), "--from-scratch"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("localstripe did not start") from None
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def stripe_settings(settings, localstripe_url):
    settings.STRIPE_API_KEY = "sk_test_maas"
    settings.STRIPE_API_BASE = localstripe_url
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.MAAS_USAGE_SINK = "database"
    return settings


@pytest.fixture
def finalized_invoice(billed_tenant, stripe_settings):
    february_usage(billed_tenant)
    with freeze_time("2026-03-01 02:00:00"):
        close_invoices()
    return Invoice.objects.get(tenant=billed_tenant, period_start=FEB)


def _stripe_invoices(customer_id: str, invoice_id: str) -> list:
    listed = _client().v1.invoices.list(params={"customer": customer_id}).data
    return [i for i in listed if _is_ours(i, invoice_id)]


def test_sync_creates_the_customer_and_invoice_once_even_when_run_twice(finalized_invoice):
    first = invoice_push_to_stripe(invoice_id=finalized_invoice.pk)
    account = BillingAccount.objects.get(tenant=finalized_invoice.tenant)
    customer = account.stripe_customer_id
    second = invoice_push_to_stripe(invoice_id=finalized_invoice.pk)
    assert first and first == second
    assert BillingAccount.objects.get(pk=account.pk).stripe_customer_id == customer
    finalized_invoice.refresh_from_db()
    assert finalized_invoice.stripe_invoice_id == first
    invoices = _stripe_invoices(customer, finalized_invoice.pk)
    assert len(invoices) == 1
    assert invoices[0].total == 1473  # cents: our total, 14.73
    assert all(
        line.stripe_invoice_item_id
        for line in InvoiceLine.objects.filter(invoice=finalized_invoice)
    )


def test_a_crash_between_stripe_and_our_save_creates_nothing_twice(finalized_invoice):
    invoice_push_to_stripe(invoice_id=finalized_invoice.pk)
    customer = BillingAccount.objects.get(tenant=finalized_invoice.tenant).stripe_customer_id
    # As if the process died right after Stripe answered, before our rows were updated:
    Invoice.objects.filter(pk=finalized_invoice.pk).update(stripe_invoice_id="")
    InvoiceLine.objects.filter(invoice=finalized_invoice).update(stripe_invoice_item_id="")
    invoice_push_to_stripe(invoice_id=finalized_invoice.pk)
    invoices = _stripe_invoices(customer, finalized_invoice.pk)
    assert len(invoices) == 1 and invoices[0].total == 1473


def test_nothing_to_charge_is_not_sent(billed_tenant, stripe_settings):
    with freeze_time("2026-03-01 02:00:00"):
        close_invoices()
    january = Invoice.objects.get(tenant=billed_tenant, period_start__month=1)
    assert january.total == 0 and invoice_push_to_stripe(invoice_id=january.pk) is None


def signed(payload: dict, secret: str = WEBHOOK_SECRET, at: int | None = None) -> tuple[str, str]:
    body = json.dumps(payload)
    timestamp = at or int(time.time())
    signature = hmac.new(
        secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256
    ).hexdigest()
    return body, f"t={timestamp},v1={signature}"


def event(event_id: str, kind: str, invoice: Invoice) -> dict:
    return {
        "id": event_id,
        "object": "event",
        "type": kind,
        "data": {
            "object": {
                "id": invoice.stripe_invoice_id or "in_stripe_x",
                "object": "invoice",
                "metadata": {"maas_invoice_id": invoice.pk},
            }
        },
    }


def post_webhook(client, body: str, signature: str):
    return client.post(
        "/webhooks/stripe",
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )


def test_webhook_marks_paid_and_replays_are_harmless(client, finalized_invoice):
    body, signature = signed(event("evt_paid_1", "invoice.paid", finalized_invoice))
    assert post_webhook(client, body, signature).status_code == 200
    finalized_invoice.refresh_from_db()
    assert finalized_invoice.status == "paid" and finalized_invoice.paid_at is not None
    replay = post_webhook(client, body, signature)
    assert replay.status_code == 200 and replay.json()["duplicate"] is True


def test_webhook_payment_failed_and_unknown_events(client, finalized_invoice):
    body, signature = signed(event("evt_fail_1", "invoice.payment_failed", finalized_invoice))
    assert post_webhook(client, body, signature).status_code == 200
    finalized_invoice.refresh_from_db()
    assert finalized_invoice.payment_failed_at is not None and finalized_invoice.status == "open"
    body, signature = signed({**event("evt_other", "customer.created", finalized_invoice)})
    assert post_webhook(client, body, signature).status_code == 200
    orphan = event("evt_orphan", "invoice.paid", finalized_invoice)
    orphan["data"]["object"]["metadata"] = {}
    orphan["data"]["object"]["id"] = "in_unknown"
    body, signature = signed(orphan)
    assert post_webhook(client, body, signature).status_code == 200


@pytest.mark.parametrize("tamper", ["secret", "body", "old", "missing"])
def test_webhook_rejects_unsigned_or_stale_events(client, finalized_invoice, tamper):
    payload = event("evt_bad", "invoice.paid", finalized_invoice)
    body, signature = signed(
        payload,
        secret="whsec_wrong" if tamper == "secret" else WEBHOOK_SECRET,
        at=int(time.time()) - 301 if tamper == "old" else None,
    )
    if tamper == "body":
        body = body.replace("invoice.paid", "invoice.voided")
    if tamper == "missing":
        signature = ""
    assert_error(
        post_webhook(client, body, signature), 400, "invalid_request_error", "invalid_signature"
    )
    finalized_invoice.refresh_from_db()
    assert finalized_invoice.status == "open"


def test_webhook_is_off_without_a_secret(client, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    assert_error(
        client.post("/webhooks/stripe", data="{}", content_type="application/json"),
        404,
        "not_found_error",
    )


def test_stripe_errors_are_stripe_errors(stripe_settings):
    with pytest.raises(stripe.InvalidRequestError):
        _client().v1.invoices.retrieve("in_does_not_exist")
