import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from maas.generation import hot_caches_clear
from tests.factories import ApiKeyFactory, TenantFactory
from tests.helpers import HttpApi, Receiver, web_start, web_stop


@pytest.fixture(autouse=True)
def _fast_tests(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MAAS_ACCESS_LOG = False
    # Each test its own usage stream, so no test drains events another left behind.
    settings.MAAS_USAGE_STREAM = f"maas:test:{uuid.uuid4().hex}"
    settings.MAAS_USAGE_INBOX = tmp_path / "usage-inbox"
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
def receiver(settings) -> Iterator[Receiver]:
    """A webhook receiver on 127.0.0.1 (tests/helpers.py), which this test may send to."""
    settings.MAAS_WEBHOOKS_ALLOW_PRIVATE = True
    found = Receiver()
    yield found
    found.close()


@pytest.fixture(scope="session")
def cancer_csv() -> bytes:
    """scikit-learn's breast cancer table as a CSV upload (tests/training/conftest.py)."""
    from tests.training.conftest import breast_cancer_csv

    return breast_cancer_csv()


@pytest.fixture
def price_books(db):
    """The plans' default price books (transactional tests flush what migrations seeded)."""
    from billing.models import MeterPrice, PriceBook
    from billing.price_book_defaults import ensure_default_price_books

    ensure_default_price_books(PriceBook, MeterPrice)


@pytest.fixture
def serve(settings, tmp_path) -> Iterator[Callable[..., str]]:
    """Starts maas's web server as the Procfile runs it (`python -m maas.web`), on this test's
    database and files, and answers its base URL; `serve(workers=2, log=path, MAAS_X="...")` (pass
    MAAS_DATA_DIR=str(settings.DATA_DIR) to share the e2e worker's broker folders). Needs a
    transactional test (the server is another process). Stopped when the test ends."""
    from tests.billing.subprocess_env import child_env

    processes = []

    def start(workers: int = 1, log: Path | None = None, **environment: str) -> str:
        env = child_env(
            **{
                "MAAS_MEDIA_ROOT": str(settings.MEDIA_ROOT),
                "MAAS_DATA_DIR": str(tmp_path / "data"),
                **environment,
            }
        )
        process, url = web_start(env, workers, log)
        processes.append(process)
        return url

    yield start
    for process in processes:
        web_stop(process)


@pytest.fixture(scope="module")
def module_server(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[str]:
    """One web server (2 worker processes) for a whole test module, on the test database, usage
    recorded in the database; tests in the module make their own tenants and keys."""
    from tests.billing.subprocess_env import child_env

    data = tmp_path_factory.mktemp("server")
    with django_db_blocker.unblock():
        env = child_env(
            MAAS_MEDIA_ROOT=str(data / "files"),
            MAAS_DATA_DIR=str(data / "data"),
            MAAS_USAGE_SINK="database",
        )
    process, url = web_start(env, workers=2)
    yield url
    web_stop(process)


@pytest.fixture
def served(serve) -> str:
    """One web server process serving this test (see `serve`)."""
    return serve()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory) -> Iterator[str]:
    """A real S3-compatible server (moto's standalone `moto_server`) on 127.0.0.1, for the
    whole run; answers its endpoint URL. Tests make their own buckets (the `s3` fixture).
    MAAS_TEST_S3_ENDPOINT names one already running (.ci/run starts it); else one is started."""
    if os.environ.get("MAAS_TEST_S3_ENDPOINT"):
        yield os.environ["MAAS_TEST_S3_ENDPOINT"]
        return
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            break
        except OSError:
            assert process.poll() is None and time.monotonic() < deadline, (
                "moto_server did not start"
            )
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)
    log.close()


@pytest.fixture
def s3(s3_server, settings, monkeypatch) -> dict[str, str]:
    """A new, empty bucket on the S3 server; answers the environment that points maas at it
    (web and worker processes take it as is) and points this test's own storage there too."""
    import boto3

    from maas.storage_url import s3_storage_options

    bucket = f"maas-test-{uuid.uuid4().hex[:12]}"
    environment = {
        "MAAS_STORAGE_URL": f"s3://{bucket}/tenants",
        "AWS_S3_ENDPOINT_URL": s3_server,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    for key, value in environment.items():
        if key.startswith("AWS_"):
            monkeypatch.setenv(key, value)
    boto3.client("s3", endpoint_url=s3_server).create_bucket(Bucket=bucket)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": s3_storage_options(environment["MAAS_STORAGE_URL"], endpoint_url=s3_server),
        },
    }
    return {**environment, "bucket": bucket}


@pytest.fixture
def console_for(db) -> Callable[..., object]:
    """A Django test client signed in to the console as a member of `tenant` with `role`."""
    from django.test import Client

    from tests.factories import MembershipFactory

    def make(tenant, role: str = "owner") -> Client:
        member = MembershipFactory(tenant=tenant, role=role)
        signed_in = Client()
        signed_in.force_login(member.user)
        signed_in.member = member
        return signed_in

    return make
