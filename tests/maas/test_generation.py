"""The embedded generation: a stamp in a file that every process maps (maas.generation)."""

import os
import subprocess
import sys

import pytest

from maas import generation
from maas.generation import generation_read
from tests.billing.subprocess_env import ROOT, child_env


@pytest.fixture
def embedded(settings):
    settings.REDIS_URL = ""  # the file, whatever backend the suite runs on
    yield
    generation._stamp.map = None  # whatever a test did to the file, the next read maps it anew


def test_each_bump_is_a_new_generation(embedded):
    seen = [generation_read()]
    for _ in range(5):
        generation._bump_now()
        seen.append(generation_read())
    assert len(set(seen)) == 6


def test_a_bump_in_another_process_is_seen_at_once(embedded, settings):
    before = generation_read()
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from maas.generation import _bump_now; _bump_now()",
        ],
        env=child_env(
            REDIS_URL="", MAAS_USAGE_SINK="database", MAAS_DATA_DIR=str(settings.DATA_DIR)
        ),
        cwd=ROOT,
        check=True,
    )
    assert generation_read() != before


def test_a_file_deleted_and_made_again_is_seen_within_the_check_period(embedded, monkeypatch):
    before = generation_read()
    os.unlink(generation._path())
    generation._bump_now()  # a new file, which this process has not mapped
    monkeypatch.setattr(generation._SharedStamp, "CHECK_SECONDS", 0.0)
    assert generation_read() != before


def test_an_older_empty_stamp_file_is_taken_as_it_is(embedded):
    path = generation._path()
    os.unlink(path)
    path.touch()  # what a data folder made before the stamp was in the file holds
    generation._stamp.map = None  # as a process started now
    assert generation_read()[1] == bytes(8)
    generation._bump_now()
    assert generation_read()[1] != bytes(8)
