import os
import threading

from maas.random_pool import random_hex


def test_hex_strings_of_the_length_asked_never_repeat_across_refills():
    drawn = [random_hex(12) for _ in range(2000)]  # ~6 pools of 4 KiB
    assert all(len(h) == 24 and int(h, 16) >= 0 for h in drawn)
    assert len(set(drawn)) == len(drawn)
    assert len(random_hex(5000)) == 10000  # more than a pool at once


def test_threads_never_get_the_same_bytes():
    drawn: list[str] = []

    def draw() -> None:
        mine = [random_hex(8) for _ in range(3000)]
        drawn.extend(mine)

    threads = [threading.Thread(target=draw) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(drawn) == len(set(drawn)) == 24000


def test_a_forked_child_does_not_reuse_its_parents_pool():
    random_hex(8)  # the pool is filled, and most of it is left
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next values, to the parent
        os.write(write, "".join(random_hex(8) for _ in range(50)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 10000).decode()
    os.close(read)
    parent = "".join(random_hex(8) for _ in range(50))
    assert len(child) == len(parent) == 800 and child != parent
    child_values = {child[i : i + 16] for i in range(0, 800, 16)}
    assert not child_values & {parent[i : i + 16] for i in range(0, 800, 16)}
