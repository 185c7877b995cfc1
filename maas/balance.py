"""Spreading kept connections evenly over the web processes of a host.

The kernel hands each new connection to one process (SO_REUSEPORT hashes it), and a kept
connection stays there. Sixteen clients that connect once and keep their connections split
at random, 11 and 5 as often as 8 and 8, and the process with 11 answers each of its clients
more than twice as late: measured, that one split was the difference between a p99 of 11 ms
and one of 20-23 ms in otherwise equal rounds (docs/serving.md). gunicorn's `sync` worker never
has the problem (a connection per request), and pays for it in throughput.

So each process publishes how many client connections it served in the last moment (distinct
client addresses, `LoadShare.seen`), in a small table of shared memory the server's main
process made before it started the workers. A process that holds at least two more than its
fair share answers as many of its connections as it holds too many with `Connection: close`;
each such client reconnects and the kernel hashes it anew. A few rounds of this even the split
out, and a balanced or lightly loaded host closes nothing.
"""

import math
import multiprocessing
import os
import struct
from collections.abc import Iterable

_SLOT = struct.Struct("qq")  # pid, connections seen in the last period
_shared: tuple | None = None  # (the table, its lock, how many slots)


def share_create(processes: int) -> None:
    """In the server's main process, before the workers start (they inherit it by fork)."""
    global _shared
    if processes < 2:
        return
    table = multiprocessing.RawArray("b", _SLOT.size * processes * 2)  # room for respawns
    _shared = (table, multiprocessing.Lock(), processes * 2)


class LoadShare:
    """One web process's view of the table (see the module's docstring)."""

    def __init__(self) -> None:
        self.slot: int | None = None
        self.clients: set[str] = set()
        self.to_close = 0
        self.closed: set[str] = set()

    def _claim(self) -> int | None:
        """A slot of the table for this process (one a process that is gone held, or a free one)."""
        table, lock, slots = _shared
        with lock:
            for i in range(slots):
                pid, _ = _SLOT.unpack_from(table, i * _SLOT.size)
                if pid == 0 or not _alive(pid):
                    _SLOT.pack_into(table, i * _SLOT.size, os.getpid(), 0)
                    return i
        return None

    def seen(self, client: str) -> bool:
        """Notes a request from `client` (its address and port); True if this answer should
        close the connection, to move the client to another process."""
        self.clients.add(client)
        if self.to_close and client not in self.closed:
            self.to_close -= 1
            self.closed.add(client)
            return True
        return False

    def tick(self) -> None:
        """Every period: publish this process's count and decide how many to move."""
        if _shared is None:
            return
        if self.slot is None:
            self.slot = self._claim()
            if self.slot is None:
                return
        table, _, slots = _shared
        mine = len(self.clients)
        self.clients, self.closed = set(), set()
        _SLOT.pack_into(table, self.slot * _SLOT.size, os.getpid(), mine)
        counts = [
            count
            for i in range(slots)
            for pid, count in [_SLOT.unpack_from(table, i * _SLOT.size)]
            if pid and (i == self.slot or _alive(pid))
        ]
        self.to_close = moves(mine, counts)


def moves(mine: int, counts: Iterable[int]) -> int:
    """How many of `mine` connections to close, given every live process's count (`mine`
    among them): the excess over a fair share, when it is at least 2 over the least loaded."""
    counts = list(counts)
    if len(counts) < 2 or mine - min(counts) < 2:
        return 0
    return max(0, mine - math.ceil(sum(counts) / len(counts)))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
