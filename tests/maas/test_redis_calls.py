"""Replies read later stay in step with the commands that were sent."""

import uuid

import pytest
from django.conf import settings

from maas.redis_calls import RedisScript, redis_call, redis_client, redis_send

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL")


def test_a_later_call_reads_the_replies_still_due_first():
    key = f"maas:test:{uuid.uuid4().hex}"
    first = redis_send("SET", key, "1", "EX", 60)
    second = redis_send("INCR", key)
    assert redis_call("GET", key) == b"2"  # both earlier replies were read, in order
    assert first.result() == b"OK" and second.result() == 2


def test_a_script_sent_early_to_a_redis_without_it_still_answers():
    script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])", keys=1)
    key = f"maas:test:{uuid.uuid4().hex}"
    redis_client().script_flush()
    result = script.send(key, 5)
    assert result() == 5  # the NOSCRIPT reply is answered by loading it and running it again
    assert script.send(key, 1)() == 6
    redis_client().delete(key)
