"""maas.balance: a web process with more than its share of kept connections closes the excess."""

import os

import pytest

from maas import balance


@pytest.mark.parametrize(
    ("mine", "counts", "moved"),
    [
        (11, [11, 5], 3),  # to 8 and 8
        (9, [9, 7], 1),  # one over: 8 and 8 if it lands there, else tried again
        (8, [8, 8], 0),
        (9, [9, 8], 0),  # within one of the other: left as it is
        (5, [11, 5], 0),  # the lighter process moves nothing
        (10, [10, 0], 5),  # a process that serves nobody (yet) takes half
        (7, [7, 3, 2], 3),  # three processes, 12 connections: 4 each
        (1, [1, 0], 0),  # a light load is left alone
        (6, [6], 0),  # one process: nowhere to go
    ],
)
def test_moves_take_a_process_to_its_fair_share(mine, counts, moved):
    assert balance.moves(mine, counts) == moved


@pytest.fixture
def shared(monkeypatch):
    monkeypatch.setattr(balance, "_shared", None)
    balance.share_create(2)
    yield balance._shared
    monkeypatch.setattr(balance, "_shared", None)


def test_a_process_over_its_share_closes_that_many_connections_once_each(shared):
    table, _, _ = shared
    other = os.getppid()  # a live process standing for the other web process
    balance._SLOT.pack_into(table, 0, other, 4)
    load = balance.LoadShare()
    for port in range(12):
        assert not load.seen(f"127.0.0.1:{port}")  # nothing is known before the first period
    load.tick()  # 12 here, 4 there: 4 too many
    assert load.slot == 1 and load.to_close == 4
    closed = [load.seen(f"127.0.0.1:{port}") for port in range(12) for _ in range(2)]
    assert sum(closed) == 4  # four distinct connections told to close, each once
    load.tick()
    assert balance._SLOT.unpack_from(table, balance._SLOT.size) == (os.getpid(), 12)


def test_a_slot_of_a_process_that_is_gone_is_taken_over(shared):
    table, _, slots = shared
    for i in range(slots):
        balance._SLOT.pack_into(table, i * balance._SLOT.size, 2**22 + 12345, 3)  # no such pid
    load = balance.LoadShare()
    load.tick()
    assert load.slot == 0
    assert load.to_close == 0  # the dead processes' counts are not counted


def test_without_a_shared_table_nothing_is_closed(monkeypatch):
    monkeypatch.setattr(balance, "_shared", None)
    load = balance.LoadShare()
    load.tick()
    assert not any(load.seen(f"c{i}") for i in range(100))
