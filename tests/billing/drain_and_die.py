"""Run as a separate process by the crash tests: drains usage in batches of 100 and dies (as a
SIGKILL would leave it: no cleanup, exit status 137) at the given point of the first batch.

    python -m tests.billing.drain_and_die stream|inbox after_read|after_commit

after_read: the batch was taken from the sink and nothing of it was stored.
after_commit: the batch is stored, but not yet acknowledged (stream), deleted (the Redis tally) or
marked drained (inbox).
"""

import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maas.settings")
django.setup()

from billing import drain  # noqa: E402


def die(*args, **kwargs) -> None:
    os._exit(137)


def main() -> None:
    sink, point = sys.argv[1], sys.argv[2]
    if point == "after_read":
        drain.insert_events = die
    elif sink == "stream":
        import redis

        redis.Redis.xack = die
        drain._tally_forget = die
    else:
        from billing import inbox

        inbox._offset_write = die
    run = drain.drain_usage_redis if sink == "stream" else drain.drain_usage_inbox
    run(batch_size=100)


if __name__ == "__main__":
    main()
