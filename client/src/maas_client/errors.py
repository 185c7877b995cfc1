"""Typed errors: one class per error `type` of API.md, so callers catch what they can handle."""

from __future__ import annotations

from typing import Any


class MaasError(Exception):
    """Base of everything this client raises."""


class APIConnectionError(MaasError):
    """The server could not be reached (or stopped answering) after every retry."""


class APIError(MaasError):
    """A non-2xx answer: the fields of API.md's error body, plus the HTTP status."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        type: str,
        code: str | None = None,
        param: str | None = None,
        request_id: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.code = code
        self.param = param
        self.request_id = request_id
        self.body = body

    def __str__(self) -> str:
        where = f" (param {self.param})" if self.param else ""
        kind = self.code or self.type
        return f"{self.status} {kind}: {self.message}{where} [request {self.request_id}]"


class InvalidRequestError(APIError):
    """400, 413, 415: the request must change before it can succeed."""


class AuthenticationError(APIError):
    """401: the API key is missing, unknown, revoked or expired."""


class PermissionDeniedError(APIError):
    """403: the key lacks the scope this call needs."""


class NotFoundError(APIError):
    """404: no such object (or another tenant's, which answers the same)."""


class ConflictError(APIError):
    """409: the object's state forbids the call (a finished job, a reused idempotency key...)."""


class SpendLimitError(APIError):
    """402: this month's spend reached the tenant's cap; retrying will not help."""


class RateLimitError(APIError):
    """429: too many requests or concurrent jobs; retried by the client before it is raised."""


class APIServerError(APIError):
    """5xx: the server failed; retried by the client before it is raised."""


class WebhookVerificationError(MaasError):
    """A webhook whose signature or timestamp does not check out (maas_client.webhooks.verify)."""


class JobTimeoutError(MaasError):
    """`wait(timeout=...)` ran out before the job finished; the job itself goes on."""

    def __init__(self, message: str, job: Any) -> None:
        super().__init__(message)
        self.job = job


BY_TYPE: dict[str, type[APIError]] = {
    "invalid_request_error": InvalidRequestError,
    "authentication_error": AuthenticationError,
    "permission_error": PermissionDeniedError,
    "not_found_error": NotFoundError,
    "conflict_error": ConflictError,
    "spend_limit_error": SpendLimitError,
    "rate_limit_error": RateLimitError,
    "api_error": APIServerError,
}


def error_from(status: int, body: Any, request_id: str | None) -> APIError:
    """The typed error for an answer; a body that is not API.md's shape (a proxy's page) still
    gives one, typed by its status."""
    detail = body.get("error") if isinstance(body, dict) else None
    if not isinstance(detail, dict):
        kind = "api_error" if status >= 500 else "invalid_request_error"
        text = body if isinstance(body, str) and body else f"HTTP {status}"
        return BY_TYPE[kind](
            str(text)[:500], status=status, type=kind, request_id=request_id, body=body
        )
    kind = detail.get("type") or ("api_error" if status >= 500 else "invalid_request_error")
    return BY_TYPE.get(kind, APIError)(
        detail.get("message") or f"HTTP {status}",
        status=status,
        type=kind,
        code=detail.get("code"),
        param=detail.get("param"),
        request_id=detail.get("request_id") or request_id,
        body=body,
    )
