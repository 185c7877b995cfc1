"""Run as a separate process by the concurrency tests: records usage with keys k0..k{N-1},
starting at a given wall-clock time so that two processes race over the same keys.

    python -m tests.billing.record_many TENANT_ID N START_AT
"""

import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maas.settings")
django.setup()

from billing.services import usage_record  # noqa: E402


def main() -> None:
    tenant_id, count, start_at = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    while time.time() < start_at:
        time.sleep(0.001)
    recorded = sum(
        usage_record(
            tenant=tenant_id,
            meter="predictions",
            quantity=1,
            idempotency_key=f"k{i}",
            dimensions={"price_tier": "light"},
        ).recorded
        for i in range(count)
    )
    print(recorded)


if __name__ == "__main__":
    main()
