"""The hot path's Redis calls: a lost connection is made again, a script Redis lost is loaded
again."""

import uuid

import pytest
from django.conf import settings

from maas.redis_calls import RedisScript, redis_call, redis_client

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL")


def test_a_call_after_the_connection_was_lost_connects_again_and_answers():
    own = redis_call("CLIENT", "ID")
    assert redis_client().client_kill_filter(_id=own) == 1  # Redis closes our connection
    assert redis_call("PING") in (b"PONG", True)
    assert redis_call("CLIENT", "ID") != own  # a new connection


def test_a_script_called_on_a_redis_without_it_loads_it_and_answers():
    script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])", keys=1)
    key = f"maas:test:{uuid.uuid4().hex}"
    redis_client().script_flush()
    assert script(key, 5) == 5  # the NOSCRIPT reply is answered by loading it and running again
    assert script(key, 1) == 6
    redis_client().delete(key)
