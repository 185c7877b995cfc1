"""The job lifecycle (maas.jobs), on both kinds that use it: claim, heartbeat, finish, cancel,
retry after a lost worker, reaping."""

import dataclasses
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import UsageEvent
from inference.models import InferenceJob
from inference.services import INFERENCE
from maas.jobs import (
    JobFailed,
    JobLost,
    JobRun,
    job_cancel,
    job_claim,
    job_execute,
    job_reap,
    job_reap_all,
)
from tests.factories import InferenceJobFactory, TrainingJobFactory
from tests.helpers import assert_error, dead_worker, live_worker
from training.models import TrainingJob
from training.services import TRAINING

pytestmark = pytest.mark.django_db

KINDS = [(TRAINING, TrainingJobFactory), (INFERENCE, InferenceJobFactory)]


@pytest.fixture(autouse=True)
def _usage_in_the_database(settings):
    settings.MAAS_USAGE_SINK = "database"


def held(factory, worker: str, *, status: str = "running", attempts: int = 1, age: float = 0):
    """A job an attempt holds, last heard of `age` seconds ago."""
    beat = timezone.now() - timedelta(seconds=age)
    return factory(status=status, attempts=attempts, worker=worker, heartbeat_at=beat)


@pytest.mark.parametrize(("kind", "factory"), KINDS)
def test_a_claim_records_the_attempt_and_its_worker(kind, factory):
    job = job_claim(kind, factory().pk)
    assert job.status == "running" and job.attempts == 1 and job.worker == live_worker()
    assert job.heartbeat_at is not None


@pytest.mark.parametrize(("kind", "factory"), KINDS)
def test_a_second_delivery_leaves_a_job_to_its_live_worker(kind, factory):
    job = held(factory, live_worker())
    assert job_claim(kind, job.pk) is None
    assert kind.model.objects.get(pk=job.pk).attempts == 1


@pytest.mark.parametrize(("kind", "factory"), KINDS)
def test_a_claim_takes_over_from_a_worker_that_is_gone(kind, factory):
    job = held(factory, dead_worker())
    claimed = job_claim(kind, job.pk)
    assert claimed.attempts == 2 and claimed.worker == live_worker()


@pytest.mark.parametrize(("kind", "factory"), KINDS)
def test_a_claim_takes_over_from_a_silent_worker_on_another_host(kind, factory, settings):
    job = held(factory, "elsewhere:1", age=settings.MAAS_JOB_HEARTBEAT_TIMEOUT + 1)
    assert job_claim(kind, job.pk).attempts == 2
    fresh = held(factory, "elsewhere:1")
    assert job_claim(kind, fresh.pk) is None  # its heartbeat says it is alive


@pytest.mark.parametrize(("kind", "factory"), KINDS)
def test_after_its_last_attempt_a_lost_job_fails(kind, factory, settings):
    job = held(factory, dead_worker(), attempts=settings.MAAS_JOB_MAX_ATTEMPTS)
    assert job_claim(kind, job.pk) is None
    job.refresh_from_db()
    assert job.status == "failed" and job.error_code == "worker_lost"


@pytest.mark.parametrize(("kind", "factory"), KINDS)
def test_cancel(kind, factory):
    queued = factory()
    assert job_cancel(kind, queued).status == "canceled"
    with pytest.raises(Exception) as finished:
        job_cancel(kind, queued)
    assert finished.value.code == "job_finished"
    assert job_cancel(kind, held(factory, live_worker())).status == "cancelling"
    assert job_cancel(kind, held(factory, dead_worker())).status == "canceled"


@pytest.mark.parametrize(("kind", "factory"), KINDS)
def test_a_job_the_reaper_queued_again_is_lost_to_its_old_run(kind, factory, settings):
    run = JobRun(kind, job_claim(kind, factory().pk))
    kind.model.objects.filter(pk=run.job.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.MAAS_JOB_HEARTBEAT_TIMEOUT + 1),
        worker=dead_worker(),
    )
    assert job_reap(kind) == 1
    assert kind.model.objects.get(pk=run.job.pk).status == "queued"
    retry = job_claim(kind, run.job.pk)
    assert retry.attempts == 2
    with pytest.raises(JobLost):
        run.check_cancel()
    with pytest.raises(JobLost), run.finishing():
        pass


def test_the_reaper_cancels_a_cancelling_job_whose_worker_is_gone(settings):
    job = held(
        InferenceJobFactory,
        "elsewhere:1",
        status="cancelling",
        age=settings.MAAS_JOB_HEARTBEAT_TIMEOUT + 1,
    )
    alive = held(TrainingJobFactory, "elsewhere:1")
    assert job_reap_all() == 1  # every registered kind, the training job left alone
    assert InferenceJob.objects.get(pk=job.pk).status == "canceled"
    assert TrainingJob.objects.get(pk=alive.pk).status == "running"


def test_execute_ends_a_job_as_its_work_ends():
    def fails_for_the_tenant(run):
        run.rows = 7
        raise JobFailed("invalid_training_data", "Column x is empty.")

    job = TrainingJobFactory()
    job_execute(TRAINING, job.pk, fails_for_the_tenant)
    job.refresh_from_db()
    assert (job.status, job.error_code, job.error_message) == (
        "failed",
        "invalid_training_data",
        "Column x is empty.",
    )
    rows = UsageEvent.objects.get(tenant=job.tenant, meter="data.processed_rows")
    assert rows.quantity == 7  # what it read is billed, once

    def breaks(run):
        raise KeyError("internal detail")

    job = TrainingJobFactory()
    job_execute(TRAINING, job.pk, breaks)
    job.refresh_from_db()
    assert job.status == "failed" and job.error_code == "training_error"
    assert "internal detail" not in job.error_message and "KeyError" in job.error_message
    job_execute(TRAINING, job.pk, breaks)  # run twice: a finished job is left alone
    assert TrainingJob.objects.get(pk=job.pk).finished_at == job.finished_at


def test_cancel_over_http_of_a_job_with_no_worker(api, tenant):
    job = TrainingJobFactory(
        tenant=tenant,
        status="running",
        attempts=1,
        worker=dead_worker(),
        heartbeat_at=timezone.now(),
    )
    body = api.post(f"/v1/training-jobs/{job.pk}/cancel").json()
    assert body["status"] == "canceled"
    assert_error(api.post(f"/v1/training-jobs/{job.pk}/cancel"), 409, "conflict_error")


@pytest.mark.django_db(transaction=True)
def test_a_running_job_beats_from_its_own_thread(settings):
    settings.MAAS_JOB_HEARTBEAT_SECONDS = 0.05
    job = job_claim(TRAINING, TrainingJobFactory().pk)
    first = job.heartbeat_at
    with JobRun(TRAINING, job) as run:
        time.sleep(0.5)  # a long fit that reports nothing
        assert TrainingJob.objects.get(pk=job.pk).heartbeat_at > first
        assert run.seconds() < Decimal("0.4")  # waiting is not compute


def _spin(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_compute_is_the_processs_cpu_time_or_the_wall_clock_for_a_wall_clock_kind():
    job = job_claim(TRAINING, TrainingJobFactory().pk)
    with JobRun(TRAINING, job) as run:
        _spin(0.3)
        time.sleep(0.3)
        assert Decimal("0.3") <= run.seconds() < Decimal("0.5")
    wall = dataclasses.replace(TRAINING, wall_clock=lambda job: True)  # a GPU job holds its device
    with JobRun(wall, job) as run:
        time.sleep(0.3)
        assert run.seconds() >= Decimal("0.3")


def test_the_warm_up_runs_before_the_clock_starts(settings):
    settings.MAAS_USAGE_SINK = "database"
    job = TrainingJobFactory()
    warmed = []
    kind = dataclasses.replace(TRAINING, warm=lambda job: (warmed.append(job.pk), _spin(0.5)))

    def work(run):
        with run.finishing() as locked:
            run.finish(locked, "succeeded")

    job_execute(kind, job.pk, work)
    job.refresh_from_db()
    assert warmed == [job.pk] and job.status == "succeeded"
    assert job.compute_seconds < Decimal("0.3")  # the warm-up's 0.5 s of CPU is not billed
