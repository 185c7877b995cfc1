"""maas.broker: the filesystem transport's messages appear in the queue folder only whole."""

import os

import pytest
from kombu import Connection
from kombu.exceptions import ChannelError


@pytest.fixture
def channel(tmp_path):
    queue = tmp_path / "queue"
    queue.mkdir()
    options = {"data_folder_in": str(queue), "data_folder_out": str(queue)}
    with Connection(
        "filesystem://", transport="maas.broker:Transport", transport_options=options
    ) as c:
        yield c.default_channel, queue


def test_a_message_put_is_got_whole(channel):
    chan, _ = channel
    chan._put("default", {"body": "x" * 10_000})
    assert chan._get("default") == {"body": "x" * 10_000}


def test_a_message_is_never_in_the_queue_folder_half_written(channel, monkeypatch):
    chan, queue = channel
    seen_while_writing = []
    real_open = open

    def watching_open(path, *args, **kwargs):
        seen_while_writing.append(sorted(os.listdir(queue)))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", watching_open)
    chan._put("default", {"n": 1})
    assert seen_while_writing == [[]]  # written elsewhere, then moved in
    assert len(os.listdir(queue)) == 1

    def failing_replace(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(ChannelError):
        chan._put("default", {"n": 2})
    assert len(os.listdir(queue)) == 1  # the failed message left nothing a consumer could take
