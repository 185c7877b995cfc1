"""Environment for a child process that must use this test run's database and usage sinks."""

import os
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def child_env(**extra: str) -> dict[str, str]:
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        host = f"{db['HOST']}:{db['PORT'] or 5432}"
        url = f"postgres://{db['USER']}:{db['PASSWORD']}@{host}/{db['NAME']}"
    else:
        url = f"sqlite:///{db['NAME']}"
    return {
        **os.environ,
        "DATABASE_URL": url,
        "MAAS_USAGE_SINK": settings.MAAS_USAGE_SINK,
        "MAAS_USAGE_STREAM": settings.MAAS_USAGE_STREAM,
        "MAAS_USAGE_INBOX": str(settings.MAAS_USAGE_INBOX),
        **extra,
    }
