"""`Maas`: one HTTP connection pool, the retry rule, and the resources over them."""

from __future__ import annotations

import contextlib
import os
import random
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx

from . import __version__
from ._generated import OPERATIONS, TYPES
from .errors import APIConnectionError, MaasError, error_from

DEFAULT_BASE_URL = "http://localhost:8000"
# Worth retrying: the server (or a proxy) failed or was overloaded; the same call may succeed.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# A POST whose first try is still running on the server (API.md "Idempotency").
RETRY_CONFLICT_CODES = frozenset({"idempotency_key_in_use"})
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 8.0
# A Retry-After longer than this is not waited out: the error goes to the caller.
MAX_RETRY_AFTER_SECONDS = 60.0


class Maas:
    """The maas API. `api_key` and `base_url` default to MAAS_API_KEY and MAAS_BASE_URL
    (`http://localhost:8000`). Every call is retried `max_retries` times on connection errors,
    408/429/5xx (honouring `Retry-After`) with jittered exponential backoff; a POST carries one
    `Idempotency-Key` for all its tries, so a retry never creates twice."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 2,
        *,
        http_client: httpx.Client | None = None,
    ) -> None:
        from .resources import attach

        self.api_key = api_key or os.environ.get("MAAS_API_KEY") or ""
        if not self.api_key:
            raise MaasError("No API key: pass Maas(api_key=...) or set MAAS_API_KEY.")
        self.base_url = (base_url or os.environ.get("MAAS_BASE_URL") or DEFAULT_BASE_URL).rstrip(
            "/"
        )
        self.timeout = timeout
        self.max_retries = max_retries
        self._http = http_client or httpx.Client(timeout=timeout)
        self._headers = {
            "Authorization": f"Bearer {self.api_key}",
            "User-Agent": f"maas-client/{__version__}",
            "Accept": "application/json",
        }
        attach(self)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Maas:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- calls ---------------------------------------------------------------------------------

    def call(
        self,
        operation_id: str,
        path: dict[str, Any] | None = None,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        files: Any = None,
        data: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        idempotency_key: str | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Calls one operation of docs/openapi.json and answers its typed result."""
        response = self.send(
            operation_id,
            path,
            params=params,
            json=json,
            files=files,
            data=data,
            headers=headers,
            idempotency_key=idempotency_key,
            timeout=timeout,
        )
        return self.parse(operation_id, response.json())

    def parse(self, operation_id: str, body: Any) -> Any:
        name = OPERATIONS[operation_id].response
        return TYPES[name].from_json(body, self) if name in TYPES else body

    def send(
        self,
        operation_id: str,
        path: dict[str, Any] | None = None,
        *,
        stream: bool = False,
        params: dict[str, Any] | None = None,
        json: Any = None,
        files: Any = None,
        data: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        idempotency_key: str | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """The raw answer of one operation, after the retries; raises the typed error of a
        non-2xx answer. With `stream=True` the body is not read (close the response)."""
        operation = OPERATIONS[operation_id]
        url = self.base_url + operation.path.format(
            **{k: quote(str(v), safe="") for k, v in (path or {}).items()}
        )
        merged = dict(self._headers)
        if operation.method == "POST":
            merged["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
        merged.update(headers or {})
        query = {k: v for k, v in (params or {}).items() if v is not None}
        attempt = 0
        while True:
            try:
                request = self._http.build_request(
                    operation.method,
                    url,
                    params=query,
                    json=json,
                    files=files,
                    data=data,
                    headers=merged,
                    timeout=timeout if timeout is not None else self.timeout,
                )
                response = self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                if attempt >= self.max_retries:
                    raise APIConnectionError(
                        f"Could not reach maas at {self.base_url} ({type(exc).__name__}: {exc})."
                        " Is the server running, and is MAAS_BASE_URL right?"
                    ) from exc
                self._sleep(attempt, None)
                attempt += 1
                continue
            if response.is_success:
                return response
            response.read()
            body = _body_of(response)
            retryable = response.status_code in RETRY_STATUSES or (
                response.status_code == 409 and _code_of(body) in RETRY_CONFLICT_CODES
            )
            retry_after = _retry_after(response)
            if (
                retryable
                and attempt < self.max_retries
                and (retry_after is None or retry_after <= MAX_RETRY_AFTER_SECONDS)
            ):
                response.close()
                self._sleep(attempt, retry_after)
                attempt += 1
                continue
            raise error_from(response.status_code, body, response.headers.get("X-Request-Id"))

    @contextlib.contextmanager
    def stream(
        self, operation_id: str, path: dict[str, Any] | None = None, **kwargs: Any
    ) -> Iterator[httpx.Response]:
        response = self.send(operation_id, path, stream=True, **kwargs)
        try:
            yield response
        finally:
            response.close()

    @staticmethod
    def _sleep(attempt: int, retry_after: float | None) -> None:
        if retry_after is not None:
            time.sleep(retry_after)
            return
        # Exponential with jitter (half to full of the step), so clients retrying together
        # spread out. Not a secret, so the plain generator is right.
        step = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)
        time.sleep(step * random.uniform(0.5, 1.0))  # noqa: S311


def _body_of(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def _code_of(body: Any) -> str | None:
    error = body.get("error") if isinstance(body, dict) else None
    return error.get("code") if isinstance(error, dict) else None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
