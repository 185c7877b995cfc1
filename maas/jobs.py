"""The one job lifecycle: training and batch inference jobs are both `Job`s, run through here.

    queued --claim--> running --finish--> succeeded | failed | canceled
      ^                 |  \\--cancel--> cancelling --(the worker stops, or no worker)--> canceled
      \\--- reap: no heartbeat for MAAS_JOB_HEARTBEAT_TIMEOUT, attempts left ---/

- `job_create_checked` creates a job under the tenant's concurrency limit and enqueues it when
  the transaction commits; `job_enqueue` sends the kind's Celery task by name (so an app's
  services need not import its tasks).
- A worker `job_claim`s the job (attempt + 1, its host and pid recorded), then runs it inside a
  `JobRun`, which beats (`heartbeat_at`, every MAAS_JOB_HEARTBEAT_SECONDS, from a thread of its
  own), reports progress, checks for cancellation, and finishes the job in a transaction that
  first checks the run still owns it (`JobRun.finishing`): a worker that lost its job to a retry
  can never finish it a second time.
- A job whose heartbeat is older than MAAS_JOB_HEARTBEAT_TIMEOUT lost its worker (a killed pool
  process or a whole killed worker). `job_reap` (beat, every MAAS_JOB_REAP_SECONDS) re-queues it
  while it has attempts left (MAAS_JOB_MAX_ATTEMPTS in all), fails it `worker_lost` after, and
  turns `cancelling` into `canceled`. A claim that finds the job running under a worker that is
  gone takes it over at once; `job_cancel` of a job whose worker is gone cancels it at once.
- Each kind's usage is recorded by its own `on_finish`, in the transaction that finishes the job,
  keyed by the job id: a job finishes once, so it is billed once.
"""

import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from django.conf import settings
from django.db import connections, models, transaction
from django.utils import timezone

from maas.errors import Conflict, RateLimited
from maas.waiting import wait_until

log = logging.getLogger("maas.jobs")


class JobStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    CANCELLING = "cancelling"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


ACTIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.CANCELLING)
RUN_STATUSES = (JobStatus.RUNNING, JobStatus.CANCELLING)  # a worker holds the job
FINISHED_STATUSES = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED)


class Job(models.Model):
    """What every job kind stores for its lifecycle."""

    Status = JobStatus
    ACTIVE = ACTIVE_STATUSES
    FINISHED = FINISHED_STATUSES

    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="%(app_label)s_jobs"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0)
    queue = models.CharField(max_length=30)
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(
        max_length=300, blank=True, help_text="host:pid of the process running the attempt"
    )
    error_code = models.CharField(max_length=50, blank=True)
    error_message = models.TextField(blank=True)
    compute_seconds = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal(0))
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class JobCanceled(Exception):
    """Raised in a run when its job was asked to stop."""


class JobFailed(Exception):
    """Raised in a run for a failure the tenant can act on: the job fails with this code and
    message (anything else fails it with the kind's generic code, logged for us)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


class JobLost(Exception):
    """The run no longer owns its job: it was re-queued (its heartbeat was taken for dead) and
    another attempt holds it, or it was finished meanwhile."""


@dataclass(frozen=True)
class JobKind:
    """One kind of job and what the lifecycle needs from its app."""

    model: type[Job]
    task: str  # the Celery task that runs one, by name: task(job_id)
    noun: str  # "training", "batch inference": in messages to the tenant
    error_code: str  # the code of an unexpected failure
    # Records the finished job's usage (and anything else it adds), in the finishing
    # transaction: on_finish(job, rows_read).
    on_finish: Callable[[Job, int], None]
    # Writes one line of the job's history, when the kind keeps one: event(job, message, level).
    event: Callable[..., None] | None = None
    # Loads what the job's code needs (framework imports) before its compute is metered:
    # tenants pay for their work, not for our start-up. warm(job).
    warm: Callable[[Job], None] | None = None
    # Whether the job is metered by the wall clock (a GPU job: the device is held whether or not
    # our process uses the CPU) instead of the process's CPU time. wall_clock(job).
    wall_clock: Callable[[Job], bool] | None = None

    def note(self, job: Job, message: str, level: str = "info", **data: Any) -> None:
        if self.event is not None:
            self.event(job, message, level, **data)


_kinds: list[JobKind] = []


def job_kinds() -> list[JobKind]:
    """Every registered kind (maas.erasure checks them all for unfinished jobs)."""
    return list(_kinds)


def job_kind_register(kind: JobKind) -> None:
    """Makes the kind's stale jobs part of `job_reap_all` (apps call this in ready())."""
    if kind not in _kinds:
        _kinds.append(kind)


# --- creating -------------------------------------------------------------------------------------


def job_create_checked(kind: JobKind, *, tenant: Any, **fields: Any) -> Job:
    """Creates a queued job unless the tenant already runs `max_concurrent_jobs` of this kind
    (429 `concurrency_limit`), and enqueues it when the transaction commits."""
    with transaction.atomic():
        # Lock the tenant's row so two concurrent creates cannot both pass the limit.
        type(tenant).objects.select_for_update().filter(pk=tenant.pk).first()
        active = kind.model.objects.filter(tenant=tenant, status__in=ACTIVE_STATUSES).count()
        limit = tenant.limits.max_concurrent_jobs
        if active >= limit:
            raise RateLimited(
                f"You already have {active} {kind.noun} job(s) running; your plan allows {limit} "
                "at a time. Retry when one finishes, or cancel one.",
                retry_after=30,
                code="concurrency_limit",
            )
        job = kind.model.objects.create(tenant=tenant, **fields)
        kind.note(job, "queued", queue=job.queue)
        job_enqueue(kind, job)
    return job


def job_enqueue(kind: JobKind, job: Job) -> None:
    """Sends the job's task when the current transaction commits (at once outside one)."""
    from celery import current_app

    job_id, queue = job.pk, job.queue
    transaction.on_commit(lambda: current_app.send_task(kind.task, (job_id,), queue=queue))


# --- who holds a job ------------------------------------------------------------------------------


def _this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _pid_gone(pid: int) -> bool:
    """Whether no process runs as `pid` here (a zombie counts as gone: it runs nothing)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            state = stat.read().rsplit(b")", 1)[1].split()[0]
        return state in (b"Z", b"X")
    except FileNotFoundError:
        return True
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False


def _worker_gone(job: Job, now: datetime) -> bool:
    """Whether the attempt holding `job` has no live worker: its heartbeat is older than the
    timeout, or its process, on this very host, has ended."""
    timeout = timedelta(seconds=settings.MAAS_JOB_HEARTBEAT_TIMEOUT)
    if job.heartbeat_at is None or job.heartbeat_at < now - timeout:
        return True
    host, _, pid = job.worker.rpartition(":")
    return host == socket.gethostname() and pid.isdigit() and _pid_gone(int(pid))


# --- running (in the worker) ----------------------------------------------------------------------


def job_claim(kind: JobKind, job_id: str) -> Job | None:
    """Takes the job for a new attempt; None when there is nothing (more) to do: it is finished,
    it is held by a live worker (this is a second delivery of its task), or it was just ended
    here (its attempts are used up, or it was being canceled when its worker died)."""
    with transaction.atomic():
        job = kind.model.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status in FINISHED_STATUSES:
            return None
        now = timezone.now()
        if job.status in RUN_STATUSES:
            if not _worker_gone(job, now):
                return None
            if job.status == JobStatus.CANCELLING:
                _finish(kind, job, JobStatus.CANCELED, seconds=Decimal(0), rows=0)
                return None
            kind.note(job, "the previous worker stopped unexpectedly; retrying", "warning")
        if job.attempts >= settings.MAAS_JOB_MAX_ATTEMPTS:
            _give_up(kind, job)
            return None
        job.attempts += 1
        job.status = JobStatus.RUNNING
        job.worker = _this_worker()
        job.started_at = job.heartbeat_at = now
        job.save(update_fields=["attempts", "status", "worker", "started_at", "heartbeat_at"])
        kind.note(job, "started", attempt=job.attempts)
        return job


def _give_up(kind: JobKind, job: Job) -> None:
    job.error_code = "worker_lost"
    job.error_message = (
        f"The worker running this job stopped unexpectedly {job.attempts} times. Retry the "
        "job; if it keeps failing, try a smaller model or dataset."
    )
    _finish(kind, job, JobStatus.FAILED, seconds=Decimal(0), rows=0)


def _finish(kind: JobKind, job: Job, status: str, *, seconds: Decimal, rows: int) -> None:
    """Ends the job and records its usage (kind.on_finish). Call inside a transaction, with
    the job's row locked."""
    job.status = status
    job.finished_at = timezone.now()
    job.compute_seconds = seconds
    if status == JobStatus.SUCCEEDED:
        job.progress = 1.0
    job.save()
    kind.on_finish(job, rows)
    kind.note(job, status, compute_seconds=float(seconds), rows_processed=rows)


class JobRun:
    """One attempt at a claimed job, in the worker. A context manager: inside it, a thread
    beats every MAAS_JOB_HEARTBEAT_SECONDS, so a run is known alive even while a long fit
    reports nothing.

    `rows` is what the attempt has read so far (billed on every end, as `data.processed_rows`
    through the kind's on_finish)."""

    def __init__(self, kind: JobKind, job: Job):
        self.kind, self.job = kind, job
        self.attempt = job.attempts
        self.rows = 0
        wall = kind.wall_clock is not None and kind.wall_clock(job)
        # CPU time of the whole process (every thread a fit uses), from here: after the warm-up.
        self._clock = time.monotonic if wall else time.process_time
        self._started = self._clock()
        self._stop = threading.Event()
        self._beater = threading.Thread(target=self._beat, name=f"heartbeat {job.pk}", daemon=True)

    def __enter__(self) -> "JobRun":
        self._beater.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._beater.join()

    def _beat(self) -> None:
        model, pk, attempt = self.kind.model, self.job.pk, self.attempt
        try:
            while not self._stop.wait(settings.MAAS_JOB_HEARTBEAT_SECONDS):
                try:
                    model.objects.filter(pk=pk, attempts=attempt, status__in=RUN_STATUSES).update(
                        heartbeat_at=timezone.now()
                    )
                except Exception:  # a busy database: the next beat tries again
                    log.warning("heartbeat of %s failed", pk, exc_info=True)
        finally:
            connections.close_all()  # this thread's own connections

    def seconds(self) -> Decimal:
        """The compute this attempt has used so far: the process's CPU seconds (wall seconds
        for a wall-clock kind), counted from the end of the warm-up."""
        elapsed = Decimal(str(max(0.0, self._clock() - self._started)))
        return elapsed.quantize(Decimal("0.001"), rounding=ROUND_HALF_EVEN)

    def progress(self, fraction: float, **fields: Any) -> None:
        """Stores the progress (0..1) and any of the kind's own counters, and beats."""
        self.kind.model.objects.filter(pk=self.job.pk, attempts=self.attempt).update(
            progress=round(min(max(fraction, 0.0), 1.0), 4), heartbeat_at=timezone.now(), **fields
        )

    def check_cancel(self) -> None:
        """Raises JobCanceled if the job was asked to stop (or JobLost if it is another
        attempt's now)."""
        row = (
            self.kind.model.objects.filter(pk=self.job.pk).values_list("status", "attempts").first()
        )
        if row is None or row[0] in (JobStatus.CANCELLING, JobStatus.CANCELED):
            raise JobCanceled()
        if row[1] != self.attempt or row[0] != JobStatus.RUNNING:
            raise JobLost()

    @contextmanager
    def finishing(self) -> Iterator[Job]:
        """A transaction holding the job's row, entered only while this run owns the job (else
        JobLost): what ends the job (a published model, its results) commits with its end."""
        with transaction.atomic():
            job = self.kind.model.objects.select_for_update().filter(pk=self.job.pk).first()
            if job is None or job.attempts != self.attempt or job.status not in RUN_STATUSES:
                raise JobLost()
            self.job = job
            yield job

    def finish(self, job: Job, status: str) -> None:
        """Ends the job inside `finishing()`, with this attempt's seconds and rows."""
        _finish(self.kind, job, status, seconds=self.seconds(), rows=self.rows)

    def end(self, status: str, *, code: str = "", message: str = "") -> None:
        """Ends the job as canceled or failed (with the error's code and message)."""
        try:
            with self.finishing() as job:
                job.error_code, job.error_message = code, message
                self.finish(job, status)
        except JobLost:
            log.warning("%s %s: attempt %s lost its job", self.kind.noun, self.job.pk, self.attempt)


def job_execute(kind: JobKind, job_id: str, work: Callable[[JobRun], None]) -> None:
    """A worker's whole handling of one task: claim, run `work` in a JobRun, and end the job
    however the work ends. `work` finishes a successful job itself, inside `run.finishing()`;
    it raises JobCanceled when asked to stop and JobFailed for a failure the tenant can act on.
    Safe to run twice: a finished job, or one a live worker holds, is left alone."""
    job = job_claim(kind, job_id)
    if job is None:
        return
    if kind.warm is not None:
        kind.warm(job)  # before the JobRun starts its clock
    with JobRun(kind, job) as run:
        try:
            work(run)
        except JobCanceled:
            run.end(JobStatus.CANCELED)
        except JobFailed as exc:
            run.end(JobStatus.FAILED, code=exc.code, message=exc.message)
        except JobLost:
            log.warning("%s %s: attempt %s lost its job", kind.noun, job_id, run.attempt)
        except Exception as exc:
            log.exception("%s job %s failed", kind.noun, job_id)
            run.end(
                JobStatus.FAILED,
                code=kind.error_code,
                message=f"The job failed ({type(exc).__name__}). The team has the details; "
                "retry, or contact support quoting the job id.",
            )


# --- from the API ---------------------------------------------------------------------------------


def job_cancel(kind: JobKind, job: Job) -> Job:
    """A queued job is canceled at once (it will never start); a running one is asked to stop
    and stops at its next check; one whose worker is gone is canceled at once; a finished one
    is 409 `job_finished`."""
    with transaction.atomic():
        job = kind.model.objects.select_for_update().get(pk=job.pk)
        if job.status in FINISHED_STATUSES:
            raise Conflict(
                f"Job {job.pk} already {job.status}; there is nothing to cancel.",
                code="job_finished",
            )
        if job.status == JobStatus.QUEUED or _worker_gone(job, timezone.now()):
            kind.note(job, "canceled with no worker running it")
            _finish(kind, job, JobStatus.CANCELED, seconds=Decimal(0), rows=0)
        elif job.status == JobStatus.RUNNING:
            job.status = JobStatus.CANCELLING
            job.save(update_fields=["status"])
            kind.note(job, "cancellation requested")
    return job


# --- reaping (beat) -------------------------------------------------------------------------------


def job_reap(kind: JobKind, *, now: datetime | None = None) -> int:
    """Ends or re-queues the kind's jobs whose heartbeat is older than the timeout; returns
    how many it touched."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.MAAS_JOB_HEARTBEAT_TIMEOUT)
    reaped = 0
    candidates = kind.model.objects.filter(status__in=RUN_STATUSES, heartbeat_at__lt=stale)
    for job_id in candidates.values_list("pk", flat=True):
        with transaction.atomic():
            job = kind.model.objects.select_for_update().filter(pk=job_id).first()
            if job is None or job.status not in RUN_STATUSES or not _worker_gone(job, now):
                continue
            if job.status == JobStatus.CANCELLING:
                _finish(kind, job, JobStatus.CANCELED, seconds=Decimal(0), rows=0)
            elif job.attempts >= settings.MAAS_JOB_MAX_ATTEMPTS:
                _give_up(kind, job)
            else:
                job.status, job.worker = JobStatus.QUEUED, ""
                job.save(update_fields=["status", "worker"])
                kind.note(job, "no heartbeat from its worker; queued again", "warning")
                job_enqueue(kind, job)
            reaped += 1
    return reaped


def job_reap_all(*, now: datetime | None = None) -> int:
    return sum(job_reap(kind, now=now) for kind in _kinds)


# --- waiting (the API's `Prefer: wait=N`) ---------------------------------------------------------

MAX_WAIT_SECONDS = 60
_PREFER_WAIT = re.compile(r"(?:^|[;,\s])wait=(\d+)")


def prefer_wait(header: str) -> float:
    """Seconds a `Prefer: wait=N` header asks to wait (at most 60); 0 without one."""
    match = _PREFER_WAIT.search(header or "")
    return min(int(match.group(1)), MAX_WAIT_SECONDS) if match else 0


def job_wait(job: Job, *, seconds: float) -> Job:
    """The job once it is finished, or as it is after `seconds` (maas.waiting: under the web
    server the wait holds no thread; the request is run again when it ends)."""
    if job.status in FINISHED_STATUSES:
        return job
    model, pk = type(job), job.pk

    def finished() -> bool:
        return model.objects.filter(pk=pk, status__in=FINISHED_STATUSES).exists()

    if wait_until(finished, seconds):
        job.refresh_from_db()
    return job
