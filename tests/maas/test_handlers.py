"""maas.wsgi.application: the predict route on a path of its own, the rest on Django's chain."""

import io
from contextlib import contextmanager, nullcontext
from unittest.mock import patch

import orjson
import pytest
from django.core import signals
from django.db import close_old_connections

from maas import handlers
from maas.wsgi import application

pytestmark = pytest.mark.django_db


@contextmanager
def _the_test_connection_kept():
    # As Django's test client does around each request: a real request closes the connection
    # when it finishes, which would end the test's transaction. (The test client connects the
    # handler again after each of its own requests, so this is done per call.) The predict
    # path calls the closing function itself.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        with patch.object(handlers, "close_old_connections", lambda: None):
            yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def call(
    method: str,
    path: str,
    body: bytes = b"",
    environ: dict | None = None,
    keep_connection: bool = True,
    **headers: str,
):
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json",
        **{f"HTTP_{k.upper()}": v for k, v in headers.items()},
        **(environ or {}),
    }
    started = {}

    def start_response(status, response_headers, exc_info=None):
        started["status"] = int(status.split()[0])
        started["headers"] = dict(response_headers)

    with _the_test_connection_kept() if keep_connection else nullcontext():
        answer = application(environ, start_response)
        content = b"".join(answer)
        getattr(answer, "close", lambda: None)()  # as a WSGI server does when it is done
    return started["status"], started["headers"], orjson.loads(content)


def test_predict_takes_the_short_chain_with_the_same_plumbing(api_key):
    status, headers, body = call(
        "POST", "/v1/models/mdl_nothing/predict", b"{}", authorization=f"Bearer {api_key.raw}"
    )
    assert status == 404 and body["error"]["param"] == "id"
    assert headers["X-Request-Id"].startswith("req_")
    assert headers["X-Content-Type-Options"] == "nosniff"  # security headers still apply
    assert "X-Frame-Options" not in headers  # the admin's middleware does not run here
    assert headers["X-RateLimit-Limit"]


def test_every_other_path_takes_djangos_chain(api_key):
    status, headers, body = call("GET", "/v1/tenant", authorization=f"Bearer {api_key.raw}")
    assert status == 200 and body["object"] == "tenant"
    assert headers["X-Frame-Options"] == "DENY" and headers["X-Request-Id"]


def test_errors_on_the_short_chain_keep_the_contract_shape():
    status, headers, body = call("POST", "/v1/models/mdl_x/predict", b"{}")
    assert headers["WWW-Authenticate"].startswith("Bearer")
    assert status == 401 and body["error"]["code"] == "missing_api_key"
    status, _, body = call(
        "POST", "/v1/models/mdl_x/predict", b"{}", environ={"CONTENT_LENGTH": str(10**9)}
    )
    assert status == 413 and body["error"]["code"] == "request_too_large"


def test_a_post_to_an_unknown_api_path_is_404_not_a_csrf_failure():
    status, _, body = call("POST", "/v1/nothing-here", b"{}")
    assert status == 404 and body["error"]["code"] == "route_not_found"


def test_a_prediction_through_the_short_path_answers_and_is_metered(api, api_key, cancer_dataset):
    from billing.models import UsageEvent
    from tests.training.test_training import create, run

    body = {"dataset": cancer_dataset.pk, "target": "diagnosis", "algorithm": "logistic_regression"}
    job = run(create(api, **body, model="lr").json()["id"])
    names = [c["name"] for c in cancer_dataset.columns if c["name"] != "diagnosis"]
    inputs = orjson.dumps({"inputs": [dict.fromkeys(names, 1.5)]})
    status, headers, answer = call(
        "POST", f"/v1/models/{job.model_id}/predict", inputs, authorization=f"Bearer {api_key.raw}"
    )
    assert status == 200 and answer["predictions"][0] in ("benign", "malignant")
    assert headers["Content-Type"] == "application/json" and headers["X-Request-Id"]
    assert headers["Content-Length"] == str(len(orjson.dumps(answer)))  # not sent chunked
    event = UsageEvent.objects.get(tenant=api_key.tenant, meter="predictions")
    assert event.quantity == 1 and event.dimensions["model"] == job.model_id


@pytest.mark.django_db(transaction=True)
def test_the_short_path_closes_a_database_connection_past_its_age(api_key):
    from django.db import connection

    connection.ensure_connection()
    connection.close_at = 0  # past CONN_MAX_AGE, as Django marks it
    status, _, _ = call(
        "POST",
        "/v1/models/mdl_nothing/predict",
        b"{}",
        keep_connection=False,
        authorization=f"Bearer {api_key.raw}",
    )
    assert status == 404
    assert connection.connection is None  # closed at the end of the request, as Django does
