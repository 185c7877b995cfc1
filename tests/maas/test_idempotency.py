from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from freezegun import freeze_time

from catalog.models import Dataset
from maas.idempotency import idempotency_begin, purge_expired_idempotency_records
from maas.models import IdempotencyRecord
from tenants.models import ApiKey
from tests.factories import ApiKeyFactory
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

BODY = {"name": "deploy", "scopes": ["read"]}


def post_key(client, body=BODY, key="idem-1"):
    return client.post("/v1/api-keys", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_replay_answers_the_first_response_and_does_nothing_else(api, tenant):
    first = post_key(api)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    second = post_key(api)
    assert second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true"
    # The same key, once created; its secret was shown once and is not kept to be shown again.
    assert second.json() == {**first.json(), "api_key": None}
    assert second.headers["Content-Type"] == "application/json"
    assert ApiKey.objects.filter(tenant=tenant, name="deploy").count() == 1


def test_no_record_holds_a_secret(api):
    secret = post_key(api).json()["api_key"]
    assert secret.startswith("mk_")
    (record,) = IdempotencyRecord.objects.all()
    assert secret.encode() not in bytes(record.response_body)


def upload(api, content: bytes, key: str = "idem-upload"):
    return api.post(
        "/v1/datasets",
        {"file": SimpleUploadedFile("t.csv", content)},
        format="multipart",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_a_multipart_body_is_fingerprinted_by_its_content(api, settings):
    settings.MAAS_USAGE_SINK = "database"
    first = upload(api, b"a,b\n1,2\n3,4\n")
    assert first.status_code == 201, first.json()
    again = upload(api, b"a,b\n1,2\n3,4\n")
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
    same_length = upload(api, b"a,b\n9,9\n9,9\n")
    assert_error(same_length, 409, "conflict_error", "idempotency_key_reused")
    assert Dataset.objects.count() == 1


def test_same_key_different_body_is_409_reused(api):
    post_key(api)
    response = post_key(api, body={"name": "other", "scopes": ["read"]})
    error = assert_error(response, 409, "conflict_error", "idempotency_key_reused")
    assert error["param"] == "Idempotency-Key"


def test_only_post_is_keyed(api):
    post_key(api)
    response = api.patch("/v1/tenant", {}, format="json", HTTP_IDEMPOTENCY_KEY="idem-1")
    assert response.status_code == 200  # only POST is idempotent-keyed; PATCH ignores the header


def in_flight(api, tenant, locked_at):
    """The record a request holding key idem-1 for post_key(api) leaves while it runs."""
    IdempotencyRecord.objects.create(
        tenant_id=tenant.pk,
        key="idem-1",
        request_hash=_fingerprint_of_post(api),
        method="POST",
        path="/v1/api-keys",
        locked_at=locked_at,
        expires_at=locked_at + timedelta(hours=24),
    )


def test_a_request_still_in_flight_is_409_in_use(api, tenant):
    in_flight(api, tenant, locked_at=timezone.now())
    error = assert_error(post_key(api), 409, "conflict_error", "idempotency_key_in_use")
    assert "still being processed" in error["message"]
    assert not ApiKey.objects.filter(name="deploy").exists()


def test_a_stale_lock_of_a_dead_request_is_taken_over(api, tenant, settings):
    long_ago = timezone.now() - timedelta(seconds=settings.MAAS_IDEMPOTENCY_LOCK_SECONDS + 1)
    in_flight(api, tenant, locked_at=long_ago)
    assert post_key(api).status_code == 201
    assert ApiKey.objects.filter(name="deploy").count() == 1


def test_keys_are_per_tenant(api, client_for, other_tenant):
    other = client_for(ApiKeyFactory(tenant=other_tenant))
    assert post_key(api).status_code == 201
    response = post_key(other)
    assert response.status_code == 201 and "Idempotent-Replayed" not in response.headers
    assert ApiKey.objects.filter(name="deploy").count() == 2


def test_errors_from_the_handler_are_stored_and_replayed(api):
    bad = {"name": "x", "scopes": ["nope"]}
    first = post_key(api, body=bad)
    assert first.status_code == 400
    second = post_key(api, body=bad)
    assert second.status_code == 400 and second.headers["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()


def test_a_500_releases_the_key(api, settings, tenant):
    settings.ROOT_URLCONF = "tests.maas.urls"
    response = api.post("/v1/_test/boom", HTTP_IDEMPOTENCY_KEY="idem-boom")
    assert response.status_code == 500
    assert not IdempotencyRecord.objects.filter(tenant_id=tenant.pk, key="idem-boom").exists()
    assert not ApiKey.objects.filter(name="written-before-failing").exists()


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there"])
def test_invalid_key_is_400(api, key):
    error = assert_error(post_key(api, key=key), 400, "invalid_request_error")
    assert error["code"] == "idempotency_key_invalid" and error["param"] == "Idempotency-Key"


def test_a_key_expires_after_24_hours(api, tenant):
    start = timezone.now()
    with freeze_time(start):
        assert post_key(api).status_code == 201
    with freeze_time(start + timedelta(hours=24, seconds=1)):
        response = post_key(api)
        assert response.status_code == 201 and "Idempotent-Replayed" not in response.headers
        assert ApiKey.objects.filter(name="deploy").count() == 2
    with freeze_time(start + timedelta(hours=49)):
        assert purge_expired_idempotency_records() == 1
        assert not IdempotencyRecord.objects.exists()


def test_begin_twice_without_completing_is_in_use(tenant):
    args = dict(tenant_id=tenant.pk, key="k", fingerprint="f", method="POST", path="/v1/x")
    record = idempotency_begin(**args)
    assert isinstance(record, IdempotencyRecord)
    with pytest.raises(Exception) as caught:
        idempotency_begin(**args)
    assert caught.value.code == "idempotency_key_in_use"


def _fingerprint_of_post(api) -> str:
    """The fingerprint the server computes for post_key(api), read back from a real request."""
    post_key(api, key="probe")
    record = IdempotencyRecord.objects.get(key="probe")
    ApiKey.objects.filter(name="deploy").delete()
    record.delete()
    return record.request_hash


@pytest.mark.parametrize("boundary", [b"b", b"----xyz123", b"ab" * 30])
def test_the_boundary_is_left_out_of_a_multipart_fingerprint_at_any_chunking(boundary):
    import hashlib
    import random

    from maas.idempotency import _BoundaryStripper

    body = b"--" + boundary + b"\r\nhead\r\n\r\n" + bytes(range(256)) * 20 + b"\r\n--"
    body += boundary + b"--\r\n" + boundary[:-1]
    whole = hashlib.sha256()
    stripper = _BoundaryStripper(boundary, whole)
    stripper.update(body)
    stripper.flush()
    rng = random.Random(0)
    for _ in range(50):
        digest = hashlib.sha256()
        stripper = _BoundaryStripper(boundary, digest)
        cuts = sorted(rng.sample(range(1, len(body)), 20))
        for start, end in zip([0, *cuts], [*cuts, len(body)], strict=True):
            stripper.update(body[start:end])
        stripper.flush()
        assert digest.hexdigest() == whole.hexdigest()
    expected = hashlib.sha256(body.replace(boundary, b"\0")).hexdigest()
    assert whole.hexdigest() == expected  # every boundary out, nothing else
