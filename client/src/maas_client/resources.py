"""The API by area, as `Maas` attributes (`client.datasets.upload(...)`). Each method names the
operations of docs/openapi.json it calls (`@uses`), and tests/client/test_generated.py fails when
the schema has an operation no method uses."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Generic, TypeVar

from . import _generated as t
from ._progress import JobBar, ProgressReader, byte_bar
from .errors import JobTimeoutError, MaasError

if TYPE_CHECKING:
    from ._client import Maas

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
CHUNK_BYTES = 1 << 16
# Seconds one long poll asks the server to hold the answer (API.md: at most 60). With a progress
# bar the polls are short, so the bar moves; either way a finished job answers at once.
LONG_POLL_SECONDS = 60
PROGRESS_POLL_SECONDS = 2


def uses(*operation_ids: str) -> Callable[[F], F]:
    def mark(function: F) -> F:
        function.__maas_operations__ = operation_ids  # type: ignore[attr-defined]
        return function

    return mark


class Page(Generic[T]):
    """An auto-paging list: iterating it follows `next_cursor` until `null`, one request a page
    (`limit` items each, default 20)."""

    def __init__(
        self, client: Maas, operation_id: str, path: dict[str, Any] | None, params: dict[str, Any]
    ):
        self._client = client
        self._operation_id = operation_id
        self._path = path
        self._params = params

    def pages(self) -> Iterator[Any]:
        cursor = self._params.get("cursor")
        while True:
            page = self._client.call(
                self._operation_id, self._path, params={**self._params, "cursor": cursor}
            )
            yield page
            cursor = page.next_cursor
            if cursor is None:
                return

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page.data

    def first(self, n: int | None = None) -> list[T]:
        """The first n items (default: one page) without paging further."""
        items: list[T] = []
        for item in self:
            items.append(item)
            if n is not None and len(items) >= n:
                break
            if n is None and len(items) >= int(self._params.get("limit") or 20):
                break
        return items


class Resource:
    def __init__(self, client: Maas) -> None:
        self._client = client

    def _list(
        self, operation_id: str, path: dict[str, Any] | None = None, **params: Any
    ) -> Page[Any]:
        return Page(self._client, operation_id, path, params)


class Tenant(Resource):
    @uses("get_tenant")
    def get(self) -> t.Tenant:
        return self._client.call("get_tenant")

    @uses("update_tenant")
    def update(self, *, spend_limit: str | None) -> t.Tenant:
        """`spend_limit`: a decimal string ("25.00"), or None to remove the cap."""
        return self._client.call("update_tenant", json={"spend_limit": spend_limit})


class ApiKeys(Resource):
    @uses("list_api_keys")
    def list(self, *, limit: int | None = None) -> Page[t.ApiKey]:
        return self._list("list_api_keys", limit=limit)

    @uses("create_api_key")
    def create(
        self,
        *,
        name: str,
        scopes: Iterable[str],
        expires_at: str | None = None,
        idempotency_key: str | None = None,
    ) -> t.ApiKeyCreated:
        """The new key with its secret (`api_key`), shown this once."""
        body: dict[str, Any] = {"name": name, "scopes": list(scopes)}
        if expires_at is not None:
            body["expires_at"] = expires_at
        return self._client.call("create_api_key", json=body, idempotency_key=idempotency_key)

    @uses("get_api_key")
    def get(self, key_id: str) -> t.ApiKey:
        return self._client.call("get_api_key", {"id": key_id})

    @uses("revoke_api_key")
    def revoke(self, key_id: str) -> t.ApiKey:
        return self._client.call("revoke_api_key", {"id": key_id})


class Datasets(Resource):
    @uses("create_dataset")
    def upload(
        self,
        file: str | Path | IO[bytes],
        *,
        name: str | None = None,
        progress: bool = False,
        idempotency_key: str | None = None,
    ) -> t.Dataset:
        """Uploads a CSV, JSON Lines or image ZIP file, streamed from disk in chunks (never whole in
        memory); `progress=True` draws a byte bar on stderr."""
        if isinstance(file, str | Path):
            with open(file, "rb") as handle:
                return self.upload(
                    handle, name=name, progress=progress, idempotency_key=idempotency_key
                )
        filename = Path(getattr(file, "name", "upload")).name
        total = _size_of(file)
        with byte_bar(f"upload {filename}", total, progress) as bar:
            reader = ProgressReader(file, bar.advance, bar.reset)
            return self._client.call(
                "create_dataset",
                files={"file": (filename, reader)},
                data={"name": name} if name else None,
                idempotency_key=idempotency_key,
                timeout=max(self._client.timeout, 600.0),
            )

    @uses("list_datasets")
    def list(self, *, limit: int | None = None) -> Page[t.Dataset]:
        return self._list("list_datasets", limit=limit)

    @uses("get_dataset")
    def get(self, dataset_id: str) -> t.Dataset:
        return self._client.call("get_dataset", {"id": dataset_id})

    @uses("delete_dataset")
    def delete(self, dataset_id: str) -> t.DatasetDeleted:
        return self._client.call("delete_dataset", {"id": dataset_id})


class Algorithms(Resource):
    @uses("list_algorithms")
    def list(self) -> list[t.Algorithm]:
        return self._client.call("list_algorithms").data

    def get(self, name: str) -> t.Algorithm:
        for algorithm in self.list():
            if algorithm.name == name:
                return algorithm
        raise MaasError(f"No algorithm named {name!r}; `maas algorithms` lists them.")


class _Jobs(Resource):
    """What training and inference jobs share: get (with a long poll), cancel, wait."""

    _get: str
    _cancel: str

    def _get_job(self, job_id: str, *, wait: float | None = None) -> Any:
        if not wait:
            return self._client.call(self._get, {"id": job_id})
        seconds = max(1, min(LONG_POLL_SECONDS, int(wait)))
        return self._client.call(
            self._get,
            {"id": job_id},
            headers={"Prefer": f"wait={seconds}"},
            timeout=self._client.timeout + seconds,
        )

    def get(self, job_id: str, *, wait: float | None = None) -> Any:
        raise NotImplementedError

    def _cancel_job(self, job_id: str) -> Any:
        return self._client.call(self._cancel, {"id": job_id})

    def wait(self, job: str | Any, *, timeout: float | None = None, progress: bool = False) -> Any:
        """Long-polls (`Prefer: wait`) until the job succeeds, fails or is canceled, and answers
        it (a failed job is answered, not raised: read `status` and `error`). `progress=True`
        draws a bar on stderr with the status, percentage and latest event. Raises
        JobTimeoutError after `timeout` seconds (None: no limit); the job goes on."""
        job_id = job if isinstance(job, str) else job.id
        deadline = None if timeout is None else time.monotonic() + timeout
        with JobBar(job_id, progress) as bar:
            current = self.get(job_id)
            while True:
                bar.show(
                    current.progress, current.status, self._latest(current) if bar.enabled else ""
                )
                if current.finished:
                    return current
                left = LONG_POLL_SECONDS if deadline is None else deadline - time.monotonic()
                if left <= 0:
                    raise JobTimeoutError(
                        f"{job_id} is still {current.status} after {timeout} s; it goes on.",
                        current,
                    )
                step = PROGRESS_POLL_SECONDS if bar.enabled else LONG_POLL_SECONDS
                current = self.get(job_id, wait=max(1, min(step, left)))

    def _latest(self, job: Any) -> str:
        return ""


class TrainingJobs(_Jobs):
    @uses("get_training_job")
    def get(self, job_id: str, *, wait: float | None = None) -> t.TrainingJob:
        """The job; `wait=N` (seconds, at most 60) holds the answer until it finishes or N pass."""
        return self._get_job(job_id, wait=wait)

    @uses("cancel_training_job")
    def cancel(self, job_id: str) -> t.TrainingJob:
        """Asks the job to stop (`cancelling`, then `canceled`); a finished job is 409."""
        return self._cancel_job(job_id)

    _get = "get_training_job"
    _cancel = "cancel_training_job"

    @uses("create_training_job")
    def create(
        self,
        *,
        dataset: str,
        target: str,
        algorithm: str,
        params: dict[str, Any] | None = None,
        features: list[str] | None = None,
        model: str | None = None,
        validation_split: float | None = None,
        cv_folds: int | None = None,
        idempotency_key: str | None = None,
    ) -> t.TrainingJob:
        body = _without_none(
            dataset=dataset,
            target=target,
            algorithm=algorithm,
            params=params,
            features=features,
            model=model,
            validation_split=validation_split,
            cv_folds=cv_folds,
        )
        return self._client.call("create_training_job", json=body, idempotency_key=idempotency_key)

    @uses("list_training_jobs")
    def list(self, *, limit: int | None = None) -> Page[t.TrainingJob]:
        return self._list("list_training_jobs", limit=limit)

    @uses("list_training_job_events")
    def events(self, job_id: str, *, limit: int | None = None) -> Page[t.TrainingEvent]:
        """The job's events, newest first (an epoch's losses for Keras)."""
        return self._list("list_training_job_events", {"id": job_id}, limit=limit)

    def _latest(self, job: Any) -> str:
        newest = self.events(job.id, limit=1).first(1)
        return describe_event(newest[0]) if newest else ""


class InferenceJobs(_Jobs):
    @uses("get_inference_job")
    def get(self, job_id: str, *, wait: float | None = None) -> t.InferenceJob:
        """The job; `wait=N` (seconds, at most 60) holds the answer until it finishes or N pass."""
        return self._get_job(job_id, wait=wait)

    @uses("cancel_inference_job")
    def cancel(self, job_id: str) -> t.InferenceJob:
        """Asks the job to stop (`cancelling`, then `canceled`); a finished job is 409."""
        return self._cancel_job(job_id)

    _get = "get_inference_job"
    _cancel = "cancel_inference_job"

    @uses("create_inference_job")
    def create(
        self,
        *,
        model: str,
        dataset: str,
        version: int | str | None = None,
        idempotency_key: str | None = None,
    ) -> t.InferenceJob:
        """`version`: a number, an alias, or None for the latest."""
        body = _without_none(model=model, dataset=dataset, version=version)
        return self._client.call("create_inference_job", json=body, idempotency_key=idempotency_key)

    @uses("list_inference_jobs")
    def list(self, *, limit: int | None = None) -> Page[t.InferenceJob]:
        return self._list("list_inference_jobs", limit=limit)

    @uses("get_inference_job_results")
    def download_results(
        self, job_id: str, path: str | Path, *, format: str = "csv", progress: bool = False
    ) -> Path:
        """Streams the results (`csv` or `jsonl`) to `path`, chunk by chunk."""
        return _download(
            self._client,
            "get_inference_job_results",
            {"id": job_id},
            path,
            progress,
            {"format": format},
        )

    @uses("get_inference_job_errors")
    def download_errors(
        self, job_id: str, path: str | Path, *, format: str = "jsonl", progress: bool = False
    ) -> Path:
        """Streams the rows that failed, and why, to `path`."""
        return _download(
            self._client,
            "get_inference_job_errors",
            {"id": job_id},
            path,
            progress,
            {"format": format},
        )

    def _latest(self, job: Any) -> str:
        counts = job.request_counts
        return f"{counts.completed}/{counts.total} rows, {counts.failed} failed" if counts else ""


class Models(Resource):
    @uses("list_models")
    def list(self, *, limit: int | None = None) -> Page[t.Model]:
        return self._list("list_models", limit=limit)

    @uses("get_model")
    def get(self, model_id: str) -> t.Model:
        return self._client.call("get_model", {"id": model_id})

    def find(self, name_or_id: str) -> t.Model:
        """A model by id (`mdl_...`) or by name."""
        if name_or_id.startswith("mdl_"):
            return self.get(name_or_id)
        for model in self.list(limit=100):
            if model.name == name_or_id:
                return model
        raise MaasError(f"No model named {name_or_id!r}; `maas models list` shows them.")

    @uses("delete_model")
    def delete(self, model_id: str) -> t.ModelDeleted:
        return self._client.call("delete_model", {"id": model_id})

    @uses("list_model_versions")
    def versions(self, model_id: str, *, limit: int | None = None) -> Page[t.ModelVersion]:
        return self._list("list_model_versions", {"id": model_id}, limit=limit)

    @uses("get_model_version")
    def version(self, model_id: str, version: int) -> t.ModelVersion:
        return self._client.call("get_model_version", {"id": model_id, "n": version})

    @uses("get_model_version_evaluation")
    def evaluation(self, model_id: str, version: int) -> t.Evaluation:
        return self._client.call("get_model_version_evaluation", {"id": model_id, "n": version})

    @uses("get_model_version_onnx")
    def download_onnx(
        self, model_id: str, version: int, path: str | Path, *, progress: bool = False
    ) -> Path:
        """Streams the version's ONNX file to `path` and checks it against `X-Content-SHA256`."""
        return _download(
            self._client,
            "get_model_version_onnx",
            {"id": model_id, "n": version},
            path,
            progress,
            {},
            check_sha256=True,
        )

    @uses("set_model_alias")
    def set_alias(self, model_id: str, alias: str, version: int) -> t.Alias:
        return self._client.call(
            "set_model_alias", {"id": model_id, "alias": alias}, json={"version": version}
        )

    @uses("delete_model_alias")
    def delete_alias(self, model_id: str, alias: str) -> t.AliasDeleted:
        return self._client.call("delete_model_alias", {"id": model_id, "alias": alias})

    @uses("predict")
    def predict(
        self,
        model_id: str,
        inputs: list[Any],
        *,
        version: int | str | None = None,
        idempotency_key: str | None = None,
    ) -> t.Predict:
        """Predictions for rows (objects keyed by feature, or lists in the signature's order)."""
        body = _without_none(inputs=inputs, version=version)
        return self._client.call(
            "predict", {"id": model_id}, json=body, idempotency_key=idempotency_key
        )

    @uses("explain")
    def explain(
        self,
        model_id: str,
        inputs: list[Any],
        *,
        version: int | str | None = None,
        idempotency_key: str | None = None,
    ) -> t.Explain:
        body = _without_none(inputs=inputs, version=version)
        return self._client.call(
            "explain", {"id": model_id}, json=body, idempotency_key=idempotency_key
        )


class Usage(Resource):
    @uses("get_usage")
    def get(
        self,
        *,
        start: str | None = None,
        end: str | None = None,
        group_by: str | Iterable[str] | None = None,
    ) -> t.Usage:
        """Usage from `start` to `end` (YYYY-MM-DD; default this month), by meter and any of
        `model`, `day`."""
        return self._client.call("get_usage", params=_usage_params(start, end, group_by))

    @uses("get_usage_csv")
    def download_csv(
        self,
        path: str | Path,
        *,
        start: str | None = None,
        end: str | None = None,
        group_by: str | Iterable[str] | None = None,
    ) -> Path:
        return _download(
            self._client, "get_usage_csv", None, path, False, _usage_params(start, end, group_by)
        )


class Pricing(Resource):
    @uses("get_pricing")
    def get(self) -> t.Pricing:
        return self._client.call("get_pricing")


class Invoices(Resource):
    @uses("list_invoices")
    def list(self, *, limit: int | None = None) -> Page[t.Invoice]:
        return self._list("list_invoices", limit=limit)

    @uses("get_invoice")
    def get(self, invoice_id: str) -> t.Invoice:
        return self._client.call("get_invoice", {"id": invoice_id})

    @uses("get_upcoming_invoice")
    def upcoming(self) -> t.Invoice:
        return self._client.call("get_upcoming_invoice")


class WebhookEndpoints(Resource):
    @uses("create_webhook_endpoint")
    def create(
        self,
        *,
        url: str,
        events: Iterable[str] = ("*",),
        description: str | None = None,
        idempotency_key: str | None = None,
    ) -> t.WebhookEndpointCreated:
        """The endpoint with its signing `secret`, shown this once."""
        body = _without_none(url=url, events=list(events), description=description)
        return self._client.call(
            "create_webhook_endpoint", json=body, idempotency_key=idempotency_key
        )

    @uses("list_webhook_endpoints")
    def list(self, *, limit: int | None = None) -> Page[t.WebhookEndpoint]:
        return self._list("list_webhook_endpoints", limit=limit)

    @uses("get_webhook_endpoint")
    def get(self, endpoint_id: str) -> t.WebhookEndpoint:
        return self._client.call("get_webhook_endpoint", {"id": endpoint_id})

    @uses("update_webhook_endpoint")
    def update(self, endpoint_id: str, **fields: Any) -> t.WebhookEndpoint:
        """Changes any of `url`, `events`, `description`, `status` ("enabled" re-enables)."""
        return self._client.call("update_webhook_endpoint", {"id": endpoint_id}, json=fields)

    @uses("delete_webhook_endpoint")
    def delete(self, endpoint_id: str) -> t.WebhookEndpoint:
        return self._client.call("delete_webhook_endpoint", {"id": endpoint_id})

    @uses("rotate_webhook_endpoint_secret")
    def rotate_secret(self, endpoint_id: str) -> t.WebhookEndpointCreated:
        return self._client.call("rotate_webhook_endpoint_secret", {"id": endpoint_id})

    @uses("list_webhook_deliveries")
    def deliveries(self, endpoint_id: str, *, limit: int | None = None) -> Page[t.WebhookDelivery]:
        return self._list("list_webhook_deliveries", {"id": endpoint_id}, limit=limit)

    @uses("redeliver_webhook_delivery")
    def redeliver(self, delivery_id: str) -> t.WebhookDelivery:
        return self._client.call("redeliver_webhook_delivery", {"id": delivery_id})


class Events(Resource):
    @uses("list_events")
    def list(self, *, limit: int | None = None) -> Page[t.Event]:
        return self._list("list_events", limit=limit)

    @uses("get_event")
    def get(self, event_id: str) -> t.Event:
        return self._client.call("get_event", {"id": event_id})


RESOURCES: dict[str, type[Resource]] = {
    "tenant": Tenant,
    "api_keys": ApiKeys,
    "datasets": Datasets,
    "algorithms": Algorithms,
    "training_jobs": TrainingJobs,
    "models": Models,
    "inference_jobs": InferenceJobs,
    "usage": Usage,
    "pricing": Pricing,
    "invoices": Invoices,
    "webhook_endpoints": WebhookEndpoints,
    "events": Events,
}


def attach(client: Maas) -> None:
    for name, resource in RESOURCES.items():
        setattr(client, name, resource(client))


def covered_operations() -> set[str]:
    """Every operation some resource method calls."""
    found: set[str] = set()
    for resource in RESOURCES.values():
        for attribute in dir(resource):
            found.update(getattr(getattr(resource, attribute), "__maas_operations__", ()))
    return found


def describe_event(event: Any) -> str:
    """An event as one line: its message and numbers (`epoch 3 loss=0.21 val_loss=0.25`)."""
    numbers = " ".join(
        f"{k}={v:.4g}"
        for k, v in (event.data or {}).items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    )
    return f"{event.message} {numbers}".strip()


def _without_none(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _usage_params(
    start: str | None, end: str | None, group_by: str | Iterable[str] | None
) -> dict[str, Any]:
    if group_by is not None and not isinstance(group_by, str):
        group_by = ",".join(group_by)
    return _without_none(start=start, end=end, group_by=group_by)


def _size_of(file: IO[bytes]) -> int | None:
    try:
        here = file.tell()
        end = file.seek(0, 2)
        file.seek(here)
        return end - here
    except (OSError, AttributeError, ValueError):
        return None


def _download(
    client: Maas,
    operation_id: str,
    path_params: dict[str, Any] | None,
    target: str | Path,
    progress: bool,
    params: dict[str, Any],
    *,
    check_sha256: bool = False,
) -> Path:
    """Streams an answer to a file chunk by chunk (a `.part` file renamed once complete, so a
    broken transfer never leaves a file that looks whole)."""
    target = Path(target)
    partial = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    with client.stream(
        operation_id, path_params, params=params, timeout=max(client.timeout, 600.0)
    ) as response:
        length = response.headers.get("Content-Length")
        with (
            byte_bar(f"download {target.name}", int(length) if length else None, progress) as bar,
            open(partial, "wb") as out,
        ):
            for chunk in response.iter_bytes(CHUNK_BYTES):
                out.write(chunk)
                digest.update(chunk)
                bar.advance(len(chunk))
        expected = response.headers.get("X-Content-SHA256")
    if check_sha256 and expected and digest.hexdigest() != expected:
        partial.unlink(missing_ok=True)
        raise MaasError(
            f"{target.name}: sha256 {digest.hexdigest()} is not the server's {expected}; try again."
        )
    partial.replace(target)
    return target
