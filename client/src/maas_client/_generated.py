"""Generated from docs/openapi.json by client/scripts/generate.py: do not edit."""

# ruff: noqa: E501
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ._base import ApiObject, Operation
from ._jobs import JobMixin

API_VERSION = '1'

DtypeEnum = Literal['number', 'string', 'boolean', 'image']

EventTypeEnum = Literal['training_job.succeeded', 'training_job.failed', 'training_job.canceled', 'inference_job.succeeded', 'inference_job.failed', 'inference_job.canceled', 'model.version_created', 'model.alias_updated', 'spend.threshold_reached', 'invoice.finalized']

EventsEnum = Literal['training_job.succeeded', 'training_job.failed', 'training_job.canceled', 'inference_job.succeeded', 'inference_job.failed', 'inference_job.canceled', 'model.version_created', 'model.alias_updated', 'spend.threshold_reached', 'invoice.finalized', '*']

FormatEnum = Literal['csv', 'jsonl', 'images']

FrameworkEnum = Literal['sklearn', 'keras']

InvoiceStatus = Literal['draft', 'open', 'paid', 'void']

JobStatus = Literal['queued', 'running', 'cancelling', 'succeeded', 'failed', 'canceled']

KindEnum = Literal['usage', 'adjustment']

LevelEnum = Literal['info', 'warning', 'error']

MeterEnum = Literal['compute.cpu_seconds', 'compute.gpu_seconds', 'data.ingested_bytes', 'data.processed_rows', 'predictions', 'explanations']

MethodEnum = Literal['linear', 'tree_shap']

ParamTypeEnum = Literal['int', 'float', 'bool', 'choice', 'int_list']

PlanEnum = Literal['free', 'standard', 'enterprise']

PriceTierEnum = Literal['light', 'standard', 'heavy']

ScopesEnum = Literal['read', 'write', 'predict', 'billing', 'admin']

TaskEnum = Literal['classification', 'regression']

WebhookDeliveryStatus = Literal['pending', 'succeeded', 'failed']

WebhookEndpointStatus = Literal['enabled', 'disabled']


@dataclass(frozen=True, kw_only=True)
class Algorithm(ApiObject):
    """Algorithm (docs/openapi.json)."""

    name: str
    framework: FrameworkEnum
    task: TaskEnum
    price_tier: PriceTierEnum
    description: str
    params: dict[str, Param]


@dataclass(frozen=True, kw_only=True)
class AlgorithmList(ApiObject):
    """AlgorithmList (docs/openapi.json)."""

    data: list[Algorithm]


@dataclass(frozen=True, kw_only=True)
class Alias(ApiObject):
    """Alias (docs/openapi.json)."""

    object: Literal['model_alias']
    model: str
    alias: str
    version: int
    updated_at: str


@dataclass(frozen=True, kw_only=True)
class AliasDeleted(ApiObject):
    """AliasDeleted (docs/openapi.json)."""

    object: Literal['model_alias']
    model: str
    alias: str
    version: int
    updated_at: str
    deleted: bool | None = None


@dataclass(frozen=True, kw_only=True)
class ApiKey(ApiObject):
    """ApiKey (docs/openapi.json)."""

    id: str
    object: Literal['api_key']
    name: str
    prefix: str
    scopes: list[ScopesEnum]
    created_at: str
    last_used_at: str | None
    expires_at: str | None
    revoked_at: str | None


@dataclass(frozen=True, kw_only=True)
class ApiKeyCreated(ApiObject):
    """ApiKeyCreated (docs/openapi.json)."""

    id: str
    object: Literal['api_key']
    name: str
    prefix: str
    scopes: list[ScopesEnum]
    created_at: str
    last_used_at: str | None
    expires_at: str | None
    revoked_at: str | None
    api_key: str | None


@dataclass(frozen=True, kw_only=True)
class ApiKeyList(ApiObject):
    """A page of ApiKey objects, newest first."""

    data: list[ApiKey]
    next_cursor: str | None


@dataclass(frozen=True, kw_only=True)
class Column(ApiObject):
    """Column (docs/openapi.json)."""

    name: str
    dtype: DtypeEnum
    distinct: int
    missing: int


@dataclass(frozen=True, kw_only=True)
class ConfusionMatrix(ApiObject):
    """ConfusionMatrix (docs/openapi.json)."""

    labels: list[Any]
    matrix: list[list[int]]


@dataclass(frozen=True, kw_only=True)
class CrossValidation(ApiObject):
    """CrossValidation (docs/openapi.json)."""

    folds: int
    metrics: dict[str, FoldMetric]


@dataclass(frozen=True, kw_only=True)
class Dataset(ApiObject):
    """Dataset (docs/openapi.json)."""

    id: str
    object: Literal['dataset']
    name: str
    format: FormatEnum
    size_bytes: int
    sha256: str
    n_rows: int
    columns: list[Column]
    images: Images | None
    created_at: str


@dataclass(frozen=True, kw_only=True)
class DatasetDeleted(ApiObject):
    """DatasetDeleted (docs/openapi.json)."""

    id: str
    object: Literal['dataset']
    name: str
    format: FormatEnum
    size_bytes: int
    sha256: str
    n_rows: int
    columns: list[Column]
    images: Images | None
    created_at: str
    deleted: bool | None = None


@dataclass(frozen=True, kw_only=True)
class DatasetList(ApiObject):
    """A page of Dataset objects, newest first."""

    data: list[Dataset]
    next_cursor: str | None


@dataclass(frozen=True, kw_only=True)
class Evaluation(ApiObject):
    """Evaluation (docs/openapi.json)."""

    object: Literal['model_evaluation']
    model: str
    version: int
    validation: Validation
    cross_validation: CrossValidation | None
    feature_importance: list[FeatureImportance]


@dataclass(frozen=True, kw_only=True)
class Event(ApiObject):
    """Event (docs/openapi.json)."""

    id: str
    object: Literal['event']
    type: EventTypeEnum
    created_at: str
    data: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class EventList(ApiObject):
    """A page of Event objects, newest first."""

    data: list[Event]
    next_cursor: str | None


@dataclass(frozen=True, kw_only=True)
class Explain(ApiObject):
    """Explain (docs/openapi.json)."""

    model: str
    version: int
    predictions: list[Any]
    outputs: list[float]
    base_value: Any
    explanations: list[dict[str, float]]
    method: MethodEnum


@dataclass(frozen=True, kw_only=True)
class FeatureImportance(ApiObject):
    """FeatureImportance (docs/openapi.json)."""

    feature: str
    importance: float
    std: float


@dataclass(frozen=True, kw_only=True)
class FoldMetric(ApiObject):
    """FoldMetric (docs/openapi.json)."""

    mean: float | None
    std: float | None
    folds: list[float | None]


@dataclass(frozen=True, kw_only=True)
class Images(ApiObject):
    """Images (docs/openapi.json)."""

    width: int
    height: int
    channels: int
    classes: dict[str, int]


@dataclass(frozen=True, kw_only=True)
class InferenceJob(JobMixin, ApiObject):
    """InferenceJob (docs/openapi.json)."""

    id: str
    object: Literal['inference_job']
    status: JobStatus
    progress: float
    model: str
    version: int
    dataset: str
    request_counts: RequestCounts
    error: JobError | None
    usage: InferenceUsage
    created_at: str
    started_at: str | None
    finished_at: str | None


@dataclass(frozen=True, kw_only=True)
class InferenceJobList(ApiObject):
    """A page of InferenceJob objects, newest first."""

    data: list[InferenceJob]
    next_cursor: str | None


@dataclass(frozen=True, kw_only=True)
class InferenceUsage(ApiObject):
    """InferenceUsage (docs/openapi.json)."""

    compute_seconds: str


@dataclass(frozen=True, kw_only=True)
class Invoice(ApiObject):
    """A stored invoice, or the upcoming one (billing.invoicing.InvoiceDraft: no id, draft)."""

    id: str | None
    object: Literal['invoice']
    period_start: str
    period_end: str
    status: InvoiceStatus
    currency: str
    lines: list[InvoiceLine]
    subtotal: str
    total: str
    stripe_invoice_id: str | None
    finalized_at: str | None


@dataclass(frozen=True, kw_only=True)
class InvoiceLine(ApiObject):
    """InvoiceLine (docs/openapi.json)."""

    meter: MeterEnum
    description: str
    quantity: str
    unit_amount: str
    amount: str
    kind: KindEnum
    price_tier: str | None = None
    adjusts_invoice: str | None = None


@dataclass(frozen=True, kw_only=True)
class InvoiceList(ApiObject):
    """A page of Invoice objects, newest first."""

    data: list[Invoice]
    next_cursor: str | None


@dataclass(frozen=True, kw_only=True)
class JobError(ApiObject):
    """Why a job failed (maas.jobs): a stable code and a message for a person."""

    code: str
    message: str


@dataclass(frozen=True, kw_only=True)
class Limits(ApiObject):
    """Limits (docs/openapi.json)."""

    requests_per_minute: int
    max_concurrent_jobs: int
    max_upload_bytes: int


@dataclass(frozen=True, kw_only=True)
class MeterPrice(ApiObject):
    """MeterPrice (docs/openapi.json)."""

    meter: MeterEnum
    unit: str
    unit_amount: str
    allowance: str
    tiers: list[Tier]
    price_tiers: dict[str, Price] | None


@dataclass(frozen=True, kw_only=True)
class Model(ApiObject):
    """Model (docs/openapi.json)."""

    id: str
    object: Literal['model']
    name: str
    task: TaskEnum
    latest_version: int | None
    aliases: dict[str, int]
    created_at: str


@dataclass(frozen=True, kw_only=True)
class ModelDeleted(ApiObject):
    """ModelDeleted (docs/openapi.json)."""

    id: str
    object: Literal['model']
    name: str
    task: TaskEnum
    latest_version: int | None
    aliases: dict[str, int]
    created_at: str
    deleted: bool | None = None


@dataclass(frozen=True, kw_only=True)
class ModelList(ApiObject):
    """A page of Model objects, newest first."""

    data: list[Model]
    next_cursor: str | None


@dataclass(frozen=True, kw_only=True)
class ModelVersion(ApiObject):
    """ModelVersion (docs/openapi.json)."""

    object: Literal['model_version']
    model: str
    version: int
    algorithm: str
    framework: FrameworkEnum
    price_tier: PriceTierEnum
    params: dict[str, Any]
    metrics: dict[str, float | None]
    signature: Signature
    training_job: str | None
    onnx: Onnx
    created_at: str


@dataclass(frozen=True, kw_only=True)
class ModelVersionList(ApiObject):
    """A page of ModelVersion objects, newest first."""

    data: list[ModelVersion]
    next_cursor: str | None


@dataclass(frozen=True, kw_only=True)
class Onnx(ApiObject):
    """Onnx (docs/openapi.json)."""

    available: bool
    passed: bool | None = None
    rows: int | None = None
    max_abs_diff: float | None = None
    max_rel_diff: float | None = None
    label_agreement: float | None = None
    error: str | None = None


@dataclass(frozen=True, kw_only=True)
class Param(ApiObject):
    """Param (docs/openapi.json)."""

    type: ParamTypeEnum
    default: Any
    min: float | None = None
    max: float | None = None
    choices: list[str] | None = None
    nullable: bool | None = None
    description: str | None = None


@dataclass(frozen=True, kw_only=True)
class PerClass(ApiObject):
    """PerClass (docs/openapi.json)."""

    label: Any
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True, kw_only=True)
class Predict(ApiObject):
    """Predict (docs/openapi.json)."""

    model: str
    version: int
    predictions: list[Any]
    probabilities: list[list[float]] | None = None
    classes: list[Any] | None = None


@dataclass(frozen=True, kw_only=True)
class Price(ApiObject):
    """Price (docs/openapi.json)."""

    unit_amount: str
    allowance: str
    tiers: list[Tier]


@dataclass(frozen=True, kw_only=True)
class Pricing(ApiObject):
    """Pricing (docs/openapi.json)."""

    plan: str
    price_book: str
    currency: str
    meters: list[MeterPrice]


@dataclass(frozen=True, kw_only=True)
class RequestCounts(ApiObject):
    """RequestCounts (docs/openapi.json)."""

    total: int
    completed: int
    failed: int


@dataclass(frozen=True, kw_only=True)
class Signature(ApiObject):
    """Signature (docs/openapi.json)."""

    inputs: list[SignatureInput]
    target: str
    classes: list[Any] | None = None


@dataclass(frozen=True, kw_only=True)
class SignatureInput(ApiObject):
    """SignatureInput (docs/openapi.json)."""

    name: str
    dtype: DtypeEnum
    size: int | None = None
    channels: int | None = None


@dataclass(frozen=True, kw_only=True)
class Tenant(ApiObject):
    """Tenant (docs/openapi.json)."""

    id: str
    object: Literal['tenant']
    name: str
    plan: PlanEnum
    status: str
    limits: Limits
    spend_limit: str | None
    currency: str
    created_at: str


@dataclass(frozen=True, kw_only=True)
class Tier(ApiObject):
    """Tier (docs/openapi.json)."""

    up_to: str | None
    unit_amount: str
    flat_amount: str


@dataclass(frozen=True, kw_only=True)
class TrainingEvent(ApiObject):
    """TrainingEvent (docs/openapi.json)."""

    created_at: str
    level: LevelEnum
    message: str
    data: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class TrainingEventList(ApiObject):
    """A page of TrainingEvent objects, newest first."""

    data: list[TrainingEvent]
    next_cursor: str | None


@dataclass(frozen=True, kw_only=True)
class TrainingJob(JobMixin, ApiObject):
    """TrainingJob (docs/openapi.json)."""

    id: str
    object: Literal['training_job']
    status: JobStatus
    progress: float
    dataset: str
    algorithm: str
    params: dict[str, Any]
    target: str
    features: list[str]
    model: str | None
    model_name: str
    model_version: int | None
    metrics: dict[str, float | None] | None
    error: JobError | None
    usage: TrainingUsage
    validation_split: float
    cv_folds: int | None
    created_at: str
    started_at: str | None
    finished_at: str | None


@dataclass(frozen=True, kw_only=True)
class TrainingJobList(ApiObject):
    """A page of TrainingJob objects, newest first."""

    data: list[TrainingJob]
    next_cursor: str | None


@dataclass(frozen=True, kw_only=True)
class TrainingUsage(ApiObject):
    """TrainingUsage (docs/openapi.json)."""

    compute_seconds: str
    rows_processed: int


@dataclass(frozen=True, kw_only=True)
class Usage(ApiObject):
    """Usage (docs/openapi.json)."""

    data: list[UsageRow]
    currency: str


@dataclass(frozen=True, kw_only=True)
class UsageRow(ApiObject):
    """UsageRow (docs/openapi.json)."""

    meter: MeterEnum
    model: str | None = None
    day: str | None = None
    quantity: str
    amount: str


@dataclass(frozen=True, kw_only=True)
class Validation(ApiObject):
    """Validation (docs/openapi.json)."""

    n_rows: int
    metrics: dict[str, float | None]
    per_class: list[PerClass] | None = None
    confusion_matrix: ConfusionMatrix | None = None
    roc_auc: float | None = None


@dataclass(frozen=True, kw_only=True)
class WebhookDelivery(ApiObject):
    """WebhookDelivery (docs/openapi.json)."""

    id: str
    object: Literal['webhook_delivery']
    endpoint: str
    event: str
    type: str
    status: WebhookDeliveryStatus
    attempts: int
    response_status: int | None
    last_error: str
    next_attempt_at: str | None
    created_at: str


@dataclass(frozen=True, kw_only=True)
class WebhookDeliveryList(ApiObject):
    """A page of WebhookDelivery objects, newest first."""

    data: list[WebhookDelivery]
    next_cursor: str | None


@dataclass(frozen=True, kw_only=True)
class WebhookEndpoint(ApiObject):
    """WebhookEndpoint (docs/openapi.json)."""

    id: str
    object: Literal['webhook_endpoint']
    url: str
    events: list[EventsEnum]
    description: str
    status: WebhookEndpointStatus
    created_at: str


@dataclass(frozen=True, kw_only=True)
class WebhookEndpointCreated(ApiObject):
    """WebhookEndpointCreated (docs/openapi.json)."""

    id: str
    object: Literal['webhook_endpoint']
    url: str
    events: list[EventsEnum]
    description: str
    status: WebhookEndpointStatus
    created_at: str
    secret: str | None


@dataclass(frozen=True, kw_only=True)
class WebhookEndpointList(ApiObject):
    """A page of WebhookEndpoint objects, newest first."""

    data: list[WebhookEndpoint]
    next_cursor: str | None


OPERATIONS: dict[str, Operation] = {
    'cancel_inference_job': Operation('POST', '/v1/inference-jobs/{id}/cancel', 200, 'InferenceJob', 'application/json', ()),
    'cancel_training_job': Operation('POST', '/v1/training-jobs/{id}/cancel', 200, 'TrainingJob', 'application/json', ()),
    'create_api_key': Operation('POST', '/v1/api-keys', 201, 'ApiKeyCreated', 'application/json', ()),
    'create_dataset': Operation('POST', '/v1/datasets', 201, 'Dataset', 'application/json', ()),
    'create_inference_job': Operation('POST', '/v1/inference-jobs', 202, 'InferenceJob', 'application/json', ()),
    'create_training_job': Operation('POST', '/v1/training-jobs', 202, 'TrainingJob', 'application/json', ()),
    'create_webhook_endpoint': Operation('POST', '/v1/webhook-endpoints', 201, 'WebhookEndpointCreated', 'application/json', ()),
    'delete_dataset': Operation('DELETE', '/v1/datasets/{id}', 200, 'DatasetDeleted', 'application/json', ()),
    'delete_model': Operation('DELETE', '/v1/models/{id}', 200, 'ModelDeleted', 'application/json', ()),
    'delete_model_alias': Operation('DELETE', '/v1/models/{id}/aliases/{alias}', 200, 'AliasDeleted', 'application/json', ()),
    'delete_webhook_endpoint': Operation('DELETE', '/v1/webhook-endpoints/{id}', 200, 'WebhookEndpoint', 'application/json', ()),
    'explain': Operation('POST', '/v1/models/{id}/explain', 200, 'Explain', 'application/json', ()),
    'get_api_key': Operation('GET', '/v1/api-keys/{id}', 200, 'ApiKey', 'application/json', ()),
    'get_dataset': Operation('GET', '/v1/datasets/{id}', 200, 'Dataset', 'application/json', ()),
    'get_event': Operation('GET', '/v1/events/{id}', 200, 'Event', 'application/json', ()),
    'get_inference_job': Operation('GET', '/v1/inference-jobs/{id}', 200, 'InferenceJob', 'application/json', ()),
    'get_inference_job_errors': Operation('GET', '/v1/inference-jobs/{id}/errors', 200, None, 'application/x-ndjson', ('format',)),
    'get_inference_job_results': Operation('GET', '/v1/inference-jobs/{id}/results', 200, None, 'application/x-ndjson', ('format',)),
    'get_invoice': Operation('GET', '/v1/invoices/{id}', 200, 'Invoice', 'application/json', ()),
    'get_model': Operation('GET', '/v1/models/{id}', 200, 'Model', 'application/json', ()),
    'get_model_version': Operation('GET', '/v1/models/{id}/versions/{n}', 200, 'ModelVersion', 'application/json', ()),
    'get_model_version_evaluation': Operation('GET', '/v1/models/{id}/versions/{n}/evaluation', 200, 'Evaluation', 'application/json', ()),
    'get_model_version_onnx': Operation('GET', '/v1/models/{id}/versions/{n}/onnx', 200, None, 'application/octet-stream', ()),
    'get_pricing': Operation('GET', '/v1/pricing', 200, 'Pricing', 'application/json', ()),
    'get_tenant': Operation('GET', '/v1/tenant', 200, 'Tenant', 'application/json', ()),
    'get_training_job': Operation('GET', '/v1/training-jobs/{id}', 200, 'TrainingJob', 'application/json', ()),
    'get_upcoming_invoice': Operation('GET', '/v1/invoices/upcoming', 200, 'Invoice', 'application/json', ()),
    'get_usage': Operation('GET', '/v1/usage', 200, 'Usage', 'application/json', ('end', 'group_by', 'start')),
    'get_usage_csv': Operation('GET', '/v1/usage.csv', 200, None, 'text/csv', ('end', 'group_by', 'start')),
    'get_webhook_endpoint': Operation('GET', '/v1/webhook-endpoints/{id}', 200, 'WebhookEndpoint', 'application/json', ()),
    'list_algorithms': Operation('GET', '/v1/algorithms', 200, 'AlgorithmList', 'application/json', ()),
    'list_api_keys': Operation('GET', '/v1/api-keys', 200, 'ApiKeyList', 'application/json', ('cursor', 'limit')),
    'list_datasets': Operation('GET', '/v1/datasets', 200, 'DatasetList', 'application/json', ('cursor', 'limit')),
    'list_events': Operation('GET', '/v1/events', 200, 'EventList', 'application/json', ('cursor', 'limit')),
    'list_inference_jobs': Operation('GET', '/v1/inference-jobs', 200, 'InferenceJobList', 'application/json', ('cursor', 'limit')),
    'list_invoices': Operation('GET', '/v1/invoices', 200, 'InvoiceList', 'application/json', ('cursor', 'limit')),
    'list_model_versions': Operation('GET', '/v1/models/{id}/versions', 200, 'ModelVersionList', 'application/json', ('cursor', 'limit')),
    'list_models': Operation('GET', '/v1/models', 200, 'ModelList', 'application/json', ('cursor', 'limit')),
    'list_training_job_events': Operation('GET', '/v1/training-jobs/{id}/events', 200, 'TrainingEventList', 'application/json', ('cursor', 'limit')),
    'list_training_jobs': Operation('GET', '/v1/training-jobs', 200, 'TrainingJobList', 'application/json', ('cursor', 'limit')),
    'list_webhook_deliveries': Operation('GET', '/v1/webhook-endpoints/{id}/deliveries', 200, 'WebhookDeliveryList', 'application/json', ('cursor', 'limit')),
    'list_webhook_endpoints': Operation('GET', '/v1/webhook-endpoints', 200, 'WebhookEndpointList', 'application/json', ('cursor', 'limit')),
    'predict': Operation('POST', '/v1/models/{id}/predict', 200, 'Predict', 'application/json', ()),
    'redeliver_webhook_delivery': Operation('POST', '/v1/webhook-deliveries/{id}/redeliver', 202, 'WebhookDelivery', 'application/json', ()),
    'revoke_api_key': Operation('DELETE', '/v1/api-keys/{id}', 200, 'ApiKey', 'application/json', ()),
    'rotate_webhook_endpoint_secret': Operation('POST', '/v1/webhook-endpoints/{id}/rotate-secret', 200, 'WebhookEndpointCreated', 'application/json', ()),
    'set_model_alias': Operation('PUT', '/v1/models/{id}/aliases/{alias}', 200, 'Alias', 'application/json', ()),
    'update_tenant': Operation('PATCH', '/v1/tenant', 200, 'Tenant', 'application/json', ()),
    'update_webhook_endpoint': Operation('PATCH', '/v1/webhook-endpoints/{id}', 200, 'WebhookEndpoint', 'application/json', ()),
}

TYPES: dict[str, type[ApiObject]] = {
    'Algorithm': Algorithm,
    'AlgorithmList': AlgorithmList,
    'Alias': Alias,
    'AliasDeleted': AliasDeleted,
    'ApiKey': ApiKey,
    'ApiKeyCreated': ApiKeyCreated,
    'ApiKeyList': ApiKeyList,
    'Column': Column,
    'ConfusionMatrix': ConfusionMatrix,
    'CrossValidation': CrossValidation,
    'Dataset': Dataset,
    'DatasetDeleted': DatasetDeleted,
    'DatasetList': DatasetList,
    'Evaluation': Evaluation,
    'Event': Event,
    'EventList': EventList,
    'Explain': Explain,
    'FeatureImportance': FeatureImportance,
    'FoldMetric': FoldMetric,
    'Images': Images,
    'InferenceJob': InferenceJob,
    'InferenceJobList': InferenceJobList,
    'InferenceUsage': InferenceUsage,
    'Invoice': Invoice,
    'InvoiceLine': InvoiceLine,
    'InvoiceList': InvoiceList,
    'JobError': JobError,
    'Limits': Limits,
    'MeterPrice': MeterPrice,
    'Model': Model,
    'ModelDeleted': ModelDeleted,
    'ModelList': ModelList,
    'ModelVersion': ModelVersion,
    'ModelVersionList': ModelVersionList,
    'Onnx': Onnx,
    'Param': Param,
    'PerClass': PerClass,
    'Predict': Predict,
    'Price': Price,
    'Pricing': Pricing,
    'RequestCounts': RequestCounts,
    'Signature': Signature,
    'SignatureInput': SignatureInput,
    'Tenant': Tenant,
    'Tier': Tier,
    'TrainingEvent': TrainingEvent,
    'TrainingEventList': TrainingEventList,
    'TrainingJob': TrainingJob,
    'TrainingJobList': TrainingJobList,
    'TrainingUsage': TrainingUsage,
    'Usage': Usage,
    'UsageRow': UsageRow,
    'Validation': Validation,
    'WebhookDelivery': WebhookDelivery,
    'WebhookDeliveryList': WebhookDeliveryList,
    'WebhookEndpoint': WebhookEndpoint,
    'WebhookEndpointCreated': WebhookEndpointCreated,
    'WebhookEndpointList': WebhookEndpointList,
}
