import logging

import pytest

pytestmark = pytest.mark.django_db


def test_every_response_has_a_request_id(client, api):
    for response in [client.get("/healthz"), client.get("/v1/tenant"), api.get("/v1/tenant")]:
        assert response.headers["X-Request-Id"].startswith("req_")
    ids = {client.get("/healthz").headers["X-Request-Id"] for _ in range(5)}
    assert len(ids) == 5


def test_a_sane_incoming_request_id_is_kept(api):
    response = api.get("/v1/tenant", HTTP_X_REQUEST_ID="trace-1234-abcd")
    assert response.headers["X-Request-Id"] == "trace-1234-abcd"


@pytest.mark.parametrize("bad", ["short", "has spaces in it", "x" * 200, "line\nbreak-injection"])
def test_an_insane_incoming_request_id_is_replaced(api, bad):
    response = api.get("/v1/tenant", HTTP_X_REQUEST_ID=bad)
    assert response.headers["X-Request-Id"].startswith("req_")


def test_logs_carry_the_request_id(client, settings, caplog):
    settings.MAAS_ACCESS_LOG = True
    with caplog.at_level(logging.INFO, logger="maas.access"):
        response = client.get("/healthz", HTTP_X_REQUEST_ID="trace-logs-0001")
    assert response.status_code == 200
    records = [r for r in caplog.records if r.name == "maas.access"]
    assert records and records[-1].request_id == "trace-logs-0001"
    assert records[-1].status == 200
