"""Writes of the catalog."""

from typing import Any

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction

from billing.services import usage_record

# Other apps store artifacts here (catalog.artifacts), as the files of a version to publish.
from catalog.artifacts import artifact_write as artifact_write
from catalog.artifacts import artifacts_delete
from catalog.images import summarize_images
from catalog.models import Dataset, Model, ModelAlias, ModelAliasMove, ModelVersion
from catalog.outputs import AliasOutput, ModelVersionOutput
from catalog.parsing import sniff_format, summarize
from catalog.selectors import alias_name_checked
from maas.errors import NotFound
from maas.ids import new_id
from webhooks.services import event_record


def dataset_create(*, tenant, upload: UploadedFile, name: str, sha256: str) -> Dataset:
    """Checks and describes the table (or the image archive), stores it, and records
    `data.ingested_bytes`. Raises catalog.parsing.TableError (catalog.images.ImageError for an
    archive) for a file that we cannot use, saying why."""
    upload.seek(0)
    fmt = sniff_format(upload.read(1024), upload.name or "")
    upload.seek(0)
    if fmt == "images":
        summary = summarize_images(upload.file, max_expanded=10 * tenant.limits.max_upload_bytes)
    else:
        summary = summarize(upload.file, fmt)
    upload.seek(0)
    dataset_id = new_id("ds")
    suffix = "zip" if fmt == "images" else fmt
    path = default_storage.save(f"datasets/{tenant.pk}/{dataset_id}.{suffix}", upload)
    try:
        with transaction.atomic():
            dataset = Dataset.objects.create(
                id=dataset_id,
                tenant=tenant,
                name=name,
                format=fmt,
                size_bytes=upload.size,
                sha256=sha256,
                n_rows=summary.n_rows,
                columns=summary.columns,
                images=getattr(summary, "images", None),
                file=path,
            )
            usage_record(
                tenant=tenant,
                meter="data.ingested_bytes",
                quantity=upload.size,
                idempotency_key=f"{dataset_id}:ingested_bytes",
            )
    except Exception:
        default_storage.delete(path)
        raise
    return dataset


def dataset_delete(*, dataset: Dataset) -> None:
    """Removes the stored file and the dataset; models trained from it keep their versions."""
    path = dataset.file
    with transaction.atomic():
        dataset.delete()
        transaction.on_commit(lambda: default_storage.delete(path))


class ModelTaskMismatch(ValueError):
    pass


def model_check_name(*, tenant, name: str, task: str) -> None:
    """Raises ModelTaskMismatch when the tenant's model of that name exists for another task."""
    existing = Model.objects.filter(tenant=tenant, name=name).values_list("task", flat=True).first()
    if existing is not None and existing != task:
        raise ModelTaskMismatch(
            f"Model {name!r} is a {existing} model; a {task} version cannot be added to it. "
            "Choose another model name."
        )


def model_version_publish(
    *,
    tenant,
    model_name: str,
    task: str,
    algorithm: str,
    framework: str,
    price_tier: str,
    params: dict[str, Any],
    metrics: dict[str, Any],
    signature: dict[str, Any],
    training_job: str,
    native: tuple[str, str],
    onnx: tuple[str, str] | None,
    onnx_parity: dict[str, Any],
    evaluation: dict[str, Any] | None = None,
    explainer: dict[str, Any] | None = None,
) -> ModelVersion:
    """Adds the next version to the tenant's model of that name (created if absent). Call it
    inside the transaction that finishes the training job, so both happen or neither."""
    with transaction.atomic():
        model_check_name(tenant=tenant, name=model_name, task=task)
        try:
            with transaction.atomic():
                Model.objects.get_or_create(tenant=tenant, name=model_name, defaults={"task": task})
        except IntegrityError:
            pass  # created by a concurrent job just now
        model = Model.objects.select_for_update().get(tenant=tenant, name=model_name)
        model.latest_version += 1
        model.save(update_fields=["latest_version", "updated_at"])
        version = ModelVersion.objects.create(
            model=model,
            version=model.latest_version,
            algorithm=algorithm,
            framework=framework,
            price_tier=price_tier,
            params=params,
            metrics=metrics,
            signature=signature,
            training_job=training_job,
            native_path=native[0],
            native_sha256=native[1],
            onnx_path=onnx[0] if onnx else "",
            onnx_sha256=onnx[1] if onnx else "",
            onnx_parity=onnx_parity,
            evaluation=evaluation or {},
            explainer=explainer or {},
        )
        event_record(
            tenant_id=tenant.pk, type="model.version_created", obj=ModelVersionOutput(version).data
        )
        return version


def model_delete(*, model: Model) -> None:
    """Removes the model and its versions from the catalog (and so from serving); their
    artifacts are deleted once that commits."""
    paths = [p for v in model.versions.all() for p in (v.native_path, v.onnx_path) if p]
    with transaction.atomic():
        model.delete()
        transaction.on_commit(lambda: artifacts_delete(paths))


def model_alias_set(*, model: Model, name: str, version: int, actor: str) -> ModelAlias:
    """Points the alias at `version` (created if absent), in one transaction with its audit
    record; the model row is locked, so concurrent moves of its aliases take turns. Every
    process serves the new version from its next request (the alias's save bumps the cache
    generation, maas.generation)."""
    name = alias_name_checked(name)
    with transaction.atomic():
        locked = Model.objects.select_for_update().get(pk=model.pk)
        if not ModelVersion.objects.filter(model=locked, version=version).exists():
            raise NotFound(
                f"Model {model.pk} has no version {version}; its latest is "
                f"{locked.latest_version}.",
                param="version",
            )
        alias = ModelAlias.objects.filter(model=locked, name=name).first()
        previous = alias.version if alias is not None else None
        if alias is None:
            alias = ModelAlias(model=locked, name=name, version=version)
        alias.version = version
        alias.save()
        if previous != version:
            ModelAliasMove.objects.create(
                model=locked, alias=name, from_version=previous, to_version=version, actor=actor
            )
            event_record(
                tenant_id=locked.tenant_id, type="model.alias_updated", obj=AliasOutput(alias).data
            )
    return alias


def model_alias_delete(*, model: Model, name: str, actor: str) -> ModelAlias:
    """Removes the alias (recorded in the audit trail); 404 if the model has none so named."""
    name = alias_name_checked(name)
    with transaction.atomic():
        locked = Model.objects.select_for_update().get(pk=model.pk)
        alias = ModelAlias.objects.filter(model=locked, name=name).first()
        if alias is None:
            raise NotFound(f"Model {model.pk} has no alias {name!r}.", param="alias")
        ModelAliasMove.objects.create(
            model=locked, alias=name, from_version=alias.version, to_version=None, actor=actor
        )
        alias.delete()
    return alias
