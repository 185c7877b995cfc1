"""Erasing a tenant's data (`manage.py erase_tenant`): each app registers what it holds of a
tenant (rows to delete, storage folders to empty), and `tenant_erase` runs them all in one
transaction, then empties the folders once it has committed. Accounting records stay: apps
simply register nothing for them (invoices, usage events and roll-ups; docs/deploy.md).

`maas` imports no app, so apps register here (in their AppConfig.ready), as job kinds do."""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.files.storage import default_storage
from django.db import transaction

from maas.jobs import ACTIVE_STATUSES, job_kinds
from maas.models import IdempotencyRecord, RateLimitCounter


@dataclass
class Erased:
    """What one app removed: row counts by name, and storage folders it owned."""

    counts: dict[str, int] = field(default_factory=dict)
    folders: list[str] = field(default_factory=list)


# (order, eraser): lower orders run first, so what points at a row goes before the row.
_erasers: list[tuple[int, Callable[[str], Erased]]] = []


def eraser_register(order: int, eraser: Callable[[str], Erased]) -> None:
    if (order, eraser) not in _erasers:
        _erasers.append((order, eraser))
        _erasers.sort(key=lambda item: item[0])


class TenantBusy(Exception):
    """The tenant has jobs a worker may still be writing files for."""


def tenant_erase(tenant_id: str) -> dict[str, int]:
    """Deletes everything the registered apps hold of the tenant; answers what it removed (rows
    by kind, and `files`: objects deleted from the default storage). Raises TenantBusy while
    any of its jobs is queued, running or cancelling: cancel them, or let them finish, first."""
    active = [
        job_id
        for kind in job_kinds()
        for job_id in kind.model.objects.filter(
            tenant_id=tenant_id, status__in=ACTIVE_STATUSES
        ).values_list("pk", flat=True)
    ]
    if active:
        raise TenantBusy(
            f"{tenant_id} has unfinished jobs ({', '.join(sorted(active))}): cancel them "
            "(POST /v1/training-jobs/{id}/cancel or /v1/inference-jobs/{id}/cancel) and try again."
        )
    counts: dict[str, int] = {}
    folders: list[str] = []
    with transaction.atomic():
        for _, eraser in _erasers:
            erased = eraser(tenant_id)
            counts.update(erased.counts)
            folders += erased.folders
        counts["idempotency_records"] = IdempotencyRecord.objects.filter(
            tenant_id=tenant_id
        ).delete()[0]
        counts["rate_limit_windows"] = RateLimitCounter.objects.filter(
            bucket__startswith=f"{tenant_id}:"
        ).delete()[0]
    # Files go once the rows that name them are gone for good: a rollback keeps both.
    counts["files"] = sum(storage_tree_delete(folder) for folder in folders)
    return counts


def storage_tree_delete(folder: str) -> int:
    """Deletes every file under `folder` in the default storage (filesystem or bucket);
    answers how many."""
    deleted = 0
    try:
        directories, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return 0
    for name in files:
        default_storage.delete(f"{folder}/{name}")
        deleted += 1
    for name in directories:
        deleted += storage_tree_delete(f"{folder}/{name}")
    return deleted
