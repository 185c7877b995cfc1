"""The Python client of the maas API: `Maas(api_key=..., base_url=...)` (or MAAS_API_KEY and
MAAS_BASE_URL), typed results generated from the server's OpenAPI document, retries that never
create twice, typed errors, auto-paging lists, jobs that wait with a progress bar, streamed
uploads and downloads, and webhook verification (`maas_client.webhooks.verify`)."""

__version__ = "0.1.0"

from ._client import Maas
from .errors import (
    APIConnectionError,
    APIError,
    APIServerError,
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    JobTimeoutError,
    MaasError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    SpendLimitError,
    WebhookVerificationError,
)

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIServerError",
    "AuthenticationError",
    "ConflictError",
    "InvalidRequestError",
    "JobTimeoutError",
    "Maas",
    "MaasError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "SpendLimitError",
    "WebhookVerificationError",
]
