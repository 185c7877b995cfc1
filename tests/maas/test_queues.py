"""Every queue a task can be sent to has a consumer where maas is started: the Procfile's
worker (make run) and docker-compose's worker take every CPU queue (the GPU queue has its own
workers). A queue left out is one whose tasks wait forever."""

import re
from pathlib import Path

import yaml

from maas.queues import CPU_QUEUES

ROOT = Path(__file__).resolve().parents[2]


def test_the_procfile_worker_takes_every_cpu_queue():
    worker = next(
        line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("worker:")
    )
    queues = re.search(r"-Q (\S+)", worker).group(1).split(",")
    assert sorted(queues) == sorted(CPU_QUEUES)


def test_the_compose_worker_takes_every_cpu_queue():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command = compose["services"]["worker"]["command"]
    queues = command[command.index("-Q") + 1].split(",")
    assert sorted(queues) == sorted(CPU_QUEUES)
