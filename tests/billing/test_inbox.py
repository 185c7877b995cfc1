"""The usage inbox's files (billing/inbox.py): drained from where the last drain stopped, a
file deleted once its writer is gone and it is drained, a line without its newline never taken."""

import subprocess
import sys

import pytest

from billing import inbox
from billing.models import UsageEvent
from billing.services import drain_usage_inbox
from billing.usage import usage_prepare
from tests.billing.conftest import events_stored
from tests.billing.subprocess_env import ROOT, child_env

pytestmark = pytest.mark.django_db(transaction=True)


def event(tenant, key: str) -> bytes:
    prepared = usage_prepare(
        tenant=tenant,
        meter="predictions",
        quantity=1,
        idempotency_key=key,
        dimensions={"price_tier": "light"},
        new_key=True,
    )
    return prepared.inbox_line


def files(settings) -> list:
    return sorted(settings.MAAS_USAGE_INBOX.glob(f"*{inbox.SUFFIX}"))


def test_a_living_writers_file_is_kept_and_drained_from_where_the_last_drain_stopped(
    tenant, settings
):
    inbox.inbox_append(event(tenant, "a"))
    assert drain_usage_inbox() == 1
    inbox.inbox_append(event(tenant, "b"))
    assert drain_usage_inbox() == 1  # only the new line: the offset was kept
    assert len(files(settings)) == 1  # this process still writes to it
    assert events_stored() == 2


def test_a_writer_follows_the_folder_the_settings_name(tenant, settings, tmp_path):
    inbox.inbox_append(event(tenant, "a"))
    before = files(settings)
    settings.MAAS_USAGE_INBOX = tmp_path / "elsewhere"
    inbox.inbox_append(event(tenant, "b"))
    assert len(before) == 1 and len(files(settings)) == 1
    assert before[0].read_bytes().count(b"\n") == 1


def test_a_dead_writers_file_is_drained_and_deleted(tenant, settings):
    code = (
        "import django, os, sys; django.setup()\n"
        "from billing.inbox import inbox_append\n"
        "for line in sys.stdin.buffer.read().splitlines(): inbox_append(line)\n"
        "os._exit(137)  # killed: no clean-up of any kind\n"
    )
    lines = b"\n".join(event(tenant, f"k{i}") for i in range(50))
    child = subprocess.run(
        [sys.executable, "-c", code],
        input=lines,
        cwd=ROOT,
        env=child_env(
            DJANGO_SETTINGS_MODULE="maas.settings",
            MAAS_USAGE_INBOX=str(settings.MAAS_USAGE_INBOX),
        ),
        capture_output=True,
        check=False,
    )
    assert child.returncode == 137, child.stderr.decode()[-2000:]
    assert len(files(settings)) == 1
    assert drain_usage_inbox(batch_size=20) == 50
    assert files(settings) == []  # its writer is gone and it is drained: deleted
    assert list(settings.MAAS_USAGE_INBOX.glob("*.offset")) == []


def test_a_line_without_its_newline_is_never_taken(tenant, settings):
    # As a writer killed in the middle of a write (or an OS crash) would leave it: no process
    # holds the file, and its last line has no end.
    settings.MAAS_USAGE_INBOX.mkdir(parents=True, exist_ok=True)
    path = settings.MAAS_USAGE_INBOX / f"1-1{inbox.SUFFIX}"
    whole, torn = event(tenant, "whole"), event(tenant, "torn")
    path.write_bytes(whole + b"\n" + torn[: len(torn) // 2])
    assert drain_usage_inbox() == 1
    assert events_stored() == 1
    assert files(settings) == []


def test_a_writer_starts_a_new_file_past_the_size_and_the_old_one_is_finished(
    tenant, settings, monkeypatch
):
    monkeypatch.setattr(inbox, "MAX_FILE_BYTES", 300)
    for i in range(10):
        inbox.inbox_append(event(tenant, f"r{i}"))
    assert len(files(settings)) > 1
    assert drain_usage_inbox() == 10
    assert len(files(settings)) == 1  # the one it still writes to


def test_a_batch_read_again_after_its_commit_is_skipped_by_its_mark(tenant, settings):
    for key in ("a", "b", "c"):
        inbox.inbox_append(event(tenant, key))
    assert drain_usage_inbox() == 3
    # As a drainer killed after its commit and before it wrote the offset would leave it.
    for offset in settings.MAAS_USAGE_INBOX.glob("*.offset"):
        offset.unlink()
    inbox.inbox_append(event(tenant, "d"))
    assert drain_usage_inbox() == 1  # only the line after the marked batch
    assert events_stored(tenant=tenant) == 4
    assert sum(UsageEvent.objects.values_list("quantity", flat=True)) == 4


def test_a_batch_read_again_twice_is_still_skipped(tenant, settings):
    def drainer_dies_after_its_commit() -> None:
        for offset in settings.MAAS_USAGE_INBOX.glob("*.offset"):
            offset.unlink()

    for key in ("a", "b", "c"):
        inbox.inbox_append(event(tenant, key))
    assert drain_usage_inbox() == 3
    drainer_dies_after_its_commit()
    inbox.inbox_append(event(tenant, "d"))
    assert drain_usage_inbox() == 1  # a, b and c are marked: only d
    drainer_dies_after_its_commit()  # again, before the first batch's offset was ever written
    inbox.inbox_append(event(tenant, "e"))
    assert drain_usage_inbox() == 1  # the marks of both batches are kept: only e
    assert events_stored(tenant=tenant) == 5


def test_made_up_keys_are_stored_summed_per_model_and_minute(tenant, settings):
    from datetime import UTC, datetime

    from billing.usage import usage_prepare

    def line(quantity: int, model: str, second: int, minute: int = 7, json: bool = False) -> bytes:
        usage = usage_prepare(
            tenant=tenant,
            meter="predictions",
            quantity=quantity,
            idempotency_key=f"{model}-{minute}-{second}",
            occurred_at=datetime(2026, 12, 6, 10, minute, second, tzinfo=UTC),
            dimensions={"price_tier": "light", "model": model},
            new_key=True,
        )
        return usage.payload if json else usage.inbox_line

    # Tally lines, and one as JSON, as versions before them wrote every event: summed alike.
    lines = (line(2, "m1", 1), line(3, "m1", 59, json=True), line(5, "m2", 30), line(7, "m1", 0, 8))
    assert lines[0].startswith(b"+") and lines[1].startswith(b"{")
    for payload in lines:
        inbox.inbox_append(payload)
    assert drain_usage_inbox() == 4
    rows = {
        (row.dimensions["model"], row.occurred_at.minute): (row.quantity, row.event_count)
        for row in UsageEvent.objects.filter(tenant=tenant)
    }
    assert rows == {("m1", 7): (5, 2), ("m2", 7): (5, 1), ("m1", 8): (7, 1)}


def held_file(settings, content: bytes, size: int = 4096):
    """A file as a living writer's looks: `content`, then zeros, and a writer's shared lock on
    it (the open file, to be closed by the caller)."""
    import fcntl

    settings.MAAS_USAGE_INBOX.mkdir(parents=True, exist_ok=True)
    path = settings.MAAS_USAGE_INBOX / f"1-2{inbox.SUFFIX}"
    path.write_bytes(content + bytes(size - len(content)))
    holder = path.open("r+b")
    fcntl.flock(holder, fcntl.LOCK_SH)
    return path, holder


def test_a_line_being_written_is_taken_only_once_every_byte_of_it_is_there(tenant, settings):
    first, second = event(tenant, "first") + b"\n", event(tenant, "second") + b"\n"
    # The second line's end is there but a byte in its middle is not yet: a reader of a
    # writer's map may see bytes in any order.
    gap = len(second) // 2
    path, holder = held_file(settings, first + second[:gap] + b"\0" + second[gap + 1 :])
    try:
        assert drain_usage_inbox() == 1
        assert inbox.inbox_backlog()[0] == 0
        holder.seek(len(first) + gap)
        holder.write(second[gap : gap + 1])
        holder.flush()
        assert inbox.inbox_backlog() == (1, second.rstrip(b"\n"))
        assert drain_usage_inbox() == 1
        assert files(settings) == [path]  # its writer holds it
    finally:
        holder.close()
    assert drain_usage_inbox() == 0
    assert files(settings) == []
    assert events_stored(tenant=tenant) == 2


def test_a_drain_reads_only_what_was_written_in_steps_and_lines_across_steps_are_whole(
    tenant, settings, monkeypatch
):
    # Steps shorter than a line, so that every line is cut by a step's end; batches of 3 lines,
    # so that batches start and end inside steps.
    monkeypatch.setattr(inbox, "READ_BYTES", 64)
    lines = [event(tenant, f"s{i}") + b"\n" for i in range(10)]
    path, holder = held_file(settings, b"".join(lines), size=64 * 1024)
    reads = []
    pread = inbox.os.pread
    monkeypatch.setattr(inbox.os, "pread", lambda *a: reads.append(a[1]) or pread(*a))
    try:
        assert inbox.inbox_backlog() == (10, lines[0].rstrip(b"\n"))
        reads.clear()
        assert drain_usage_inbox(batch_size=3) == 10
    finally:
        holder.close()
    assert events_stored(tenant=tenant) == 10
    # What was written, and one step past it: not the zeros after it.
    assert sum(reads) <= len(b"".join(lines)) + 64
    assert int(inbox._offset_path(path).read_text()) == len(b"".join(lines))


def test_a_writer_cuts_the_file_it_leaves_to_what_it_wrote(tenant, settings, monkeypatch):
    monkeypatch.setattr(inbox, "MAX_FILE_BYTES", 1000)
    lines = [event(tenant, f"c{i}") + b"\n" for i in range(12)]
    for line in lines:
        inbox.inbox_append(line.rstrip(b"\n"))
    first, *_, current = files(settings)
    assert first.read_bytes() == b"".join(lines)[: first.stat().st_size]
    assert b"\0" not in first.read_bytes()
    assert current.stat().st_size == 1000  # the one it writes to: its whole length, zeros after
    assert drain_usage_inbox() == 12


def test_a_full_disk_fails_the_append_and_the_next_one_goes_on(tenant, settings, monkeypatch):
    import errno
    import os

    inbox.inbox_append(event(tenant, "before"))
    monkeypatch.setattr(inbox, "MAX_FILE_BYTES", inbox._writer.size + 10)  # the next one rolls

    def no_space(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", no_space)
    with pytest.raises(OSError):
        inbox.inbox_append(event(tenant, "refused"))
    monkeypatch.undo()
    inbox.inbox_append(event(tenant, "after"))
    assert drain_usage_inbox() == 2
    assert events_stored(tenant=tenant) == 2
