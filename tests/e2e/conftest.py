"""The e2e worker: a real Celery worker process on the test database and files."""

import os
import signal
import subprocess
import sys
import time

import pytest

from maas.celery import app as celery_app
from tests.billing.subprocess_env import ROOT, child_env

# Short enough that a test sees a lost worker reaped in seconds (the defaults: 5 s, 60 s, 15 s).
JOB_TIMING = {
    "MAAS_JOB_HEARTBEAT_SECONDS": "0.5",
    "MAAS_JOB_HEARTBEAT_TIMEOUT": "3",
    "MAAS_JOB_REAP_SECONDS": "1",
    # A webhook send held by a dead worker is sent again after this (the default: 60 s).
    "MAAS_WEBHOOK_LEASE_SECONDS": "2",
}


@pytest.fixture
def worker(settings, tmp_path):
    """Yields `start(slow=False, beat=False, **environment)`: a worker process (with its pool)
    on the training, inference and default queues, in a process group of its own. `slow`: its
    jobs take seconds (tests/e2e/slow_worker.py); `beat`: it runs beat too, which reaps jobs of
    lost workers; `environment`: variables for it, over the test's own."""
    settings.MAAS_USAGE_SINK = "database"
    processes = []

    def start(*, slow: bool = False, beat: bool = False, **environment: str) -> subprocess.Popen:
        if not processes:
            celery_app.control.purge()
        launcher = ["-m", "tests.e2e.slow_worker"] if slow else ["-m", "celery"]
        process = subprocess.Popen(
            [
                sys.executable,
                *launcher,
                "-A",
                "maas",
                "worker",
                "-Q",
                "training,inference,webhooks,default",
                "-c",
                "1",
                "--pool",
                "prefork",
                "-l",
                "warning",
                "--without-heartbeat",
                "--without-mingle",
                "--without-gossip",
                *(["-B", "-s", str(tmp_path / f"beat-{len(processes)}")] if beat else []),
            ],
            cwd=ROOT,
            env=child_env(
                **{
                    "MAAS_MEDIA_ROOT": str(settings.MEDIA_ROOT),
                    "MAAS_USAGE_SINK": "database",
                    # Receivers in tests listen on 127.0.0.1.
                    "MAAS_WEBHOOKS_ALLOW_PRIVATE": "true",
                    **JOB_TIMING,
                    **environment,
                }
            ),
            stdout=subprocess.DEVNULL,
            stderr=open(tmp_path / f"worker-{len(processes)}.log", "w"),  # noqa: SIM115
            start_new_session=True,
        )
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def kill_whole_worker(process: subprocess.Popen) -> None:
    """SIGKILL to the worker and every process of its pool: nothing of it gets to clean up.
    Returns once none of them runs any more (a pool process dies a moment after its parent on
    a busy machine; a zombie runs nothing)."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 10
    while _group_members_alive(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def _group_members_alive(group: int) -> list[int]:
    alive = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue  # it ended while we looked
        state, pgrp = fields[0], int(fields[2])
        if pgrp == group and state != b"Z":
            alive.append(int(entry))
    return alive
