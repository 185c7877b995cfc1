"""maas_client.webhooks against the Standard Webhooks package's own code: what one signs the
other verifies, and a bad signature or stale timestamp is refused."""

import base64
import json
import time

import pytest
from maas_client import WebhookVerificationError, webhooks
from standardwebhooks import Webhook

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
BODY = json.dumps({"id": "evt_1", "type": "training_job.succeeded", "data": {"object": {}}})


def _headers(timestamp: int | None = None) -> dict[str, str]:
    stamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": "evt_1",
        "webhook-timestamp": str(stamp),
        "webhook-signature": webhooks.sign(SECRET, "evt_1", stamp, BODY),
    }


def test_what_we_sign_the_spec_verifies_and_back():
    headers = _headers()
    assert Webhook(SECRET).verify(BODY, headers)["id"] == "evt_1"
    from datetime import datetime

    stamp = int(time.time())
    theirs = Webhook(SECRET).sign("evt_1", datetime.fromtimestamp(stamp), BODY)
    event = webhooks.verify(
        BODY.encode(),
        {"Webhook-Id": "evt_1", "Webhook-Timestamp": str(stamp), "Webhook-Signature": theirs},
        SECRET,
    )
    assert event["type"] == "training_job.succeeded"


def test_any_of_several_signatures_may_match():
    headers = _headers()
    headers["webhook-signature"] = "v1,bm90IGl0 " + headers["webhook-signature"]
    assert webhooks.verify(BODY, headers, SECRET)["id"] == "evt_1"


@pytest.mark.parametrize(
    "change",
    [
        {"webhook-signature": "v1,bm90IGl0"},
        {"webhook-timestamp": str(int(time.time()) - 301)},
        {"webhook-timestamp": str(int(time.time()) + 301)},
        {"webhook-timestamp": "yesterday"},
        {"webhook-id": ""},
    ],
)
def test_a_bad_signature_or_stale_timestamp_is_refused(change):
    headers = {**_headers(), **change}
    with pytest.raises(WebhookVerificationError):
        webhooks.verify(BODY, headers, SECRET)


def test_a_changed_body_is_refused():
    with pytest.raises(WebhookVerificationError, match="No webhook-signature matches"):
        webhooks.verify(BODY.replace("succeeded", "failed"), _headers(), SECRET)
