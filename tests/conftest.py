import uuid
from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from maas.generation import hot_caches_clear
from tests.factories import ApiKeyFactory, TenantFactory
from tests.helpers import HttpApi


@pytest.fixture(autouse=True)
def _fast_tests(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MAAS_ACCESS_LOG = False
    # Each test its own usage stream, so no test drains events another left behind.
    settings.MAAS_USAGE_STREAM = f"maas:test:{uuid.uuid4().hex}"
    settings.MAAS_USAGE_INBOX = tmp_path / "usage-inbox.sqlite3"
    settings.MEDIA_ROOT = tmp_path / "files"  # uploads and artifacts of this test only
    hot_caches_clear()  # rows cached by an earlier test were rolled back with it
    # A job run in a test's transaction cannot be seen, let alone beaten, from the heartbeat's
    # own connection (tests/maas/test_jobs.py beats for real, outside one).
    settings.MAAS_JOB_HEARTBEAT_SECONDS = 3600


@pytest.fixture
def tenant(db):
    return TenantFactory()


@pytest.fixture
def other_tenant(db):
    return TenantFactory(name="Other Company")


@pytest.fixture
def api_key(tenant):
    return ApiKeyFactory(tenant=tenant)


@pytest.fixture
def client_for() -> Callable[..., APIClient]:
    """An API client authenticated with the given key (an ApiKey from the factory or a raw key)."""

    def make(key) -> APIClient:
        client = APIClient()
        raw = key if isinstance(key, str) else key.raw
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client

    return make


@pytest.fixture
def api(api_key, client_for) -> APIClient:
    """A client with every scope on `tenant`."""
    return client_for(api_key)


@pytest.fixture
def http(live_server) -> Callable[[str | None], HttpApi]:
    return lambda key=None: HttpApi(live_server.url, key)


@pytest.fixture
def price_books(db):
    """The plans' default price books (transactional tests flush what migrations seeded)."""
    from billing.models import MeterPrice, PriceBook
    from billing.price_book_defaults import ensure_default_price_books

    ensure_default_price_books(PriceBook, MeterPrice)
