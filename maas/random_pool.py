"""Random hex strings from os.urandom, drawn from the kernel 4 KiB at a time.

The predict path takes two per request (its request id and its usage key). Each os.urandom call
is a system call that lets go of the GIL, and under load a request that lets go of it waits
for whichever other thread of the web process takes it (granian's; inference.linear says
more). The bytes are the kernel's all the same, and a forked child starts with an empty pool,
never its parent's bytes."""

import os
import threading

_POOL_BYTES = 4096
_pool = [b"", 0]  # bytes from os.urandom, and how many of them were handed out
_lock = threading.Lock()


def random_hex(n: int) -> str:
    """`n` random bytes as hex, as `secrets.token_hex(n)` gives them."""
    with _lock:
        pool, used = _pool
        if used + n > len(pool):
            pool, used = os.urandom(max(_POOL_BYTES, n)), 0
            _pool[0] = pool
        _pool[1] = used + n
    return pool[used : used + n].hex()


def _forget() -> None:
    _pool[:] = [b"", 0]


os.register_at_fork(after_in_child=_forget)
