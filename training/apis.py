"""Algorithms and training jobs (API.md "Algorithms", "Training jobs")."""

import re
import time
from decimal import Decimal

from django.db.models import QuerySet
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from maas.base_views import TenantAPIView
from maas.errors import InvalidRequest, NotFound
from maas.serializers import iso_utc as _iso
from training import services
from training.algorithms import ALGORITHMS
from training.models import TrainingEvent, TrainingJob

MAX_WAIT_SECONDS = 60
_PREFER_WAIT = re.compile(r"(?:^|[;,\s])wait=(\d+)")


def job_json(job: TrainingJob) -> dict:
    return {
        "id": job.pk,
        "object": "training_job",
        "status": job.status,
        "progress": job.progress,
        "dataset": job.dataset_ref,
        "algorithm": job.algorithm,
        "params": job.params,
        "target": job.target,
        "features": job.features,
        "model": job.model_id,
        "model_name": job.model_name,
        "model_version": job.model_version,
        "metrics": job.metrics,
        "error": {"code": job.error_code, "message": job.error_message} if job.error_code else None,
        "usage": {
            "compute_seconds": format(Decimal(job.compute_seconds).normalize(), "f"),
            "rows_processed": job.rows_processed,
        },
        "validation_split": job.validation_split,
        "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
    }


def event_json(e: TrainingEvent) -> dict:
    return {
        "created_at": _iso(e.created_at),
        "level": e.level,
        "message": e.message,
        "data": e.data,
    }


class AlgorithmListApi(TenantAPIView):
    def tenant_queryset(self) -> QuerySet:
        return TrainingJob.objects.none()  # a static table, the same for every tenant

    def get(self, request: Request) -> Response:
        return Response({"data": [a.to_json() for a in ALGORITHMS.values()]})


class _TrainingJobView(TenantAPIView):
    resource_name = "training job"

    def tenant_queryset(self) -> QuerySet[TrainingJob]:
        return TrainingJob.objects.filter(tenant=self.request.tenant)


class TrainingJobListApi(_TrainingJobView):
    spend_checked = frozenset({"POST"})

    def get(self, request: Request) -> Response:
        return self.list_response(self.get_queryset(), job_json)

    def post(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            raise InvalidRequest("The body must be a JSON object.")
        unknown = sorted(
            set(request.data)
            - {"dataset", "target", "features", "algorithm", "params", "model", "validation_split"}
        )
        if unknown:
            raise InvalidRequest(
                f"Unknown parameter {unknown[0]!r}.", code="parameter_unknown", param=unknown[0]
            )
        job = services.training_job_create(tenant=request.tenant, data=dict(request.data))
        return Response(job_json(job), status=status.HTTP_202_ACCEPTED)


class TrainingJobDetailApi(_TrainingJobView):
    def get(self, request: Request, id: str) -> Response:
        job = self.get_object()
        wait = _prefer_wait(request)
        deadline = time.monotonic() + wait
        while job.status not in TrainingJob.FINISHED and time.monotonic() < deadline:
            time.sleep(0.2)
            job.refresh_from_db()
        return Response(job_json(job))


def _prefer_wait(request: Request) -> float:
    match = _PREFER_WAIT.search(request.headers.get("Prefer", ""))
    return min(int(match.group(1)), MAX_WAIT_SECONDS) if match else 0


class TrainingJobCancelApi(_TrainingJobView):
    def post(self, request: Request, id: str) -> Response:
        return Response(job_json(services.training_job_cancel(job=self.get_object())))


class TrainingJobEventListApi(TenantAPIView):
    resource_name = "training job"
    tenant_field = "job__tenant_id"

    def tenant_queryset(self) -> QuerySet[TrainingEvent]:
        return TrainingEvent.objects.filter(job_id=self.kwargs["id"])

    def get(self, request: Request, id: str) -> Response:
        if not TrainingJob.objects.filter(tenant=request.tenant, pk=id).exists():
            raise NotFound(f"No such training job: {id!r}.", param="id")
        return self.list_response(self.get_queryset(), event_json)
