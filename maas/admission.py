"""The admission pipeline: every tenant request's rules, each written once.

Both request paths call it: the DRF base view that every tenant endpoint inherits
(maas/base_views.py), and the lean views of the predict hot path (maas/lean_views.py, served by
maas/handlers.py without Django's middleware chain). It knows no framework above Django's
HttpRequest: a handler is a callable that returns a `Result`, and the pipeline answers whatever
the handler or a rule says in one `Answer` (a `LeanResponse`, or an HttpResponse the handler made).

Per request, in this order (an earlier refusal wins):
1. request id and access log (`request_open` / `request_close`; also for every other route) and
   the body-size cap (`body_size_check`);
2. the method (405 with `Allow`; OPTIONS answers just `Allow`);
3. the API key (401; 403 for a suspended tenant), by the authenticator the tenants app registers
   with `configure` (maas sits below the apps and imports none of them);
4. the tenant's rate limit (429 with `Retry-After`); every authenticated answer carries the
   `X-RateLimit-*` headers;
5. the key's scope for the method (403);
6. the spend limit (402), for methods that start metered work, by billing's registered check;
7. `Idempotency-Key` on POST: a repeat answers the stored answer, a changed body or a key still in
   use is 409; the handler's writes and the stored answer commit in one transaction;
8. the handler, then its usage: recorded only once the count has admitted the request (with
   Redis the count can be made after the work and carry the usage event in its round trip),
   and counted at once toward the spend limit by this process (billing's `spend_admitted`);
9. any exception on the way becomes the contract's error answer (`error_answer`).

Invariant: a tenant's request reaches a handler only with `request.tenant` taken from its key,
after steps 2-7 have passed, and its usage is recorded at most once per admitted request.
"""

import logging
import tempfile
import time
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from contextvars import Token
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Protocol

import orjson
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.http import HttpRequest, HttpResponse

from maas.errors import (
    AuthenticationError,
    Forbidden,
    InvalidRequest,
    MethodNotAllowed,
    PayloadTooLarge,
    RateLimited,
    error_parts,
)
from maas.generation import generation_read
from maas.idempotency import (
    idempotency_begin,
    idempotency_complete,
    idempotency_key_from,
    idempotency_release,
    request_fingerprint,
    should_store,
)
from maas.logging import BatchedLines, accept_request_id, request_id_var
from maas.metrics import request_observe
from maas.models import IdempotencyRecord
from maas.principal import Principal
from maas.ratelimit import PendingCount, RateLimitState, TallyEntry, rate_limit_start
from maas.scopes import Scope
from maas.waiting import wait_rerun

access_log = BatchedLines(logging.getLogger("maas.access"))

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


# --- answers --------------------------------------------------------------------------------------


class LeanResponse:
    """An answer as plain values: a status, a JSON body and headers.

    An HttpResponse checks each header's name and value for its charset as it is set and keeps
    them in a case-insensitive mapping: ~25 µs for the nine headers of an answer here, more
    than the model. The hot path (maas.handlers) hands this to the WSGI server as it is; on
    Django's own chain `as_http_response()` converts it. It offers the part of HttpResponse's
    interface the pipeline and the hot path use (item access, `headers`, `status_code`,
    `content`). Header names are ours, each written in one spelling, and values are ours or
    checked before they get here (maas.logging.accept_request_id)."""

    __slots__ = ("content", "headers", "status_code")
    streaming = False

    def __init__(self, status_code: int, content: bytes, headers: dict[str, str]):
        self.status_code, self.content, self.headers = status_code, content, headers

    def __setitem__(self, name: str, value: str) -> None:
        self.headers[name] = value

    def __getitem__(self, name: str) -> str:
        return self.headers[name]

    def __contains__(self, name: str) -> bool:
        return name in self.headers

    has_header = __contains__

    def setdefault(self, name: str, value: str) -> None:
        self.headers.setdefault(name, value)

    @property
    def reason_phrase(self) -> str:
        return HTTPStatus(self.status_code).phrase

    def as_http_response(self) -> HttpResponse:
        response = HttpResponse(self.content, status=self.status_code)
        for name, value in self.headers.items():
            response[name] = value
        return response


Answer = LeanResponse | HttpResponse  # a handler's own HttpResponse, or a stored replay


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> LeanResponse:
    return LeanResponse(
        status, orjson.dumps(body), {"Content-Type": "application/json", **(headers or {})}
    )


def error_answer(
    exc: Exception, request: HttpRequest | None, allow: str | None = None
) -> LeanResponse:
    """The contract's answer to any exception (maas.errors.error_parts says which)."""
    status, body, headers = error_parts(exc, request, allow)
    return json_response(status, body, headers)


class Metered(Protocol):
    """Usage a handler's work produced, not yet recorded (billing's PreparedUsage)."""

    @property
    def tally_entry(self) -> TallyEntry | None:
        """The event as one addition to a Redis tally that may ride in the rate-limit count's
        round trip; None when it must be recorded by `commit`."""

    def commit(self) -> object:
        """Records the event (exactly once per its idempotency key)."""


@dataclass(slots=True)
class Result:
    """A handler's answer, and the usage its work produced (recorded by the pipeline once the
    request is admitted; a 429 records nothing)."""

    answer: Answer
    usage: Metered | None = None


Handler = Callable[[HttpRequest, Principal], Result]


# --- what an endpoint asks of admission -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Policy:
    """The rules one endpoint is admitted under."""

    methods: tuple[str, ...]
    scopes: Mapping[str, Scope]  # the scope each method needs
    # Methods that start metered work (predictions, jobs): refused with 402 over the spend limit.
    spend_checked: frozenset[str] = frozenset()
    # A write method's handler runs in a transaction, rolled back if it fails.
    atomic_writes: bool = True
    # With an Idempotency-Key, the handler's writes and the stored answer commit together. False
    # only for a handler that streams for long and makes its own writes atomic (uploads).
    atomic_idempotent: bool = True
    # With Redis, count the request after the handler has worked, so that the count's round
    # trip can carry the usage event (the predict path). Otherwise it is counted first.
    count_after_work: bool = False
    allow: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "allow", ", ".join([*self.methods, "OPTIONS"]))


# --- registration: the apps above maas give the pipeline what it cannot import --------------------

Authenticate = Callable[
    [str, Callable[[str, int], PendingCount]], tuple[Principal, PendingCount, object] | None
]


@dataclass(slots=True)
class _Hooks:
    authenticate: Authenticate | None = None
    authenticate_again: Callable[[str, object], Principal] | None = None
    spend_check: Callable[[Any], None] | None = None
    spend_admitted: Callable[[Any, Metered], None] | None = None


_hooks = _Hooks()


def configure(
    *,
    authenticate: Authenticate | None = None,
    authenticate_again: Callable[[str, object], Principal] | None = None,
    spend_check: Callable[[Any], None] | None = None,
    spend_admitted: Callable[[Any, Metered], None] | None = None,
) -> None:
    """Registers the API-key authenticator (tenants) and the spend check (billing); each app
    calls this from its AppConfig.ready().

    `authenticate(authorization_header, start_count)` answers (principal, the request's count,
    the cache generation the principal is trusted under), or None without a key;
    `authenticate_again(header, generation)` checks the key against the database after that
    generation changed; `spend_check(tenant)` raises a 402 error over the spend limit;
    `spend_admitted(tenant, usage)` counts an admitted request's usage toward that limit at
    once, in this process."""
    if authenticate is not None:
        _hooks.authenticate = authenticate
    if authenticate_again is not None:
        _hooks.authenticate_again = authenticate_again
    if spend_check is not None:
        _hooks.spend_check = spend_check
    if spend_admitted is not None:
        _hooks.spend_admitted = spend_admitted


def _hook(name: str) -> Callable:
    hook = getattr(_hooks, name)
    if hook is None:
        raise ImproperlyConfigured(f"maas.admission has no {name}: is its app installed?")
    return hook


# --- request id, access log, body size ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Opened:
    started: float
    token: Token


def request_open(request: HttpRequest) -> Opened:
    """Gives the request its id (a sane incoming `X-Request-Id`, else a new one) and puts it in
    the logs' context. Pair with `request_close` in a `finally`."""
    started = time.perf_counter()
    request.request_id = request_id = accept_request_id(request.META.get("HTTP_X_REQUEST_ID"))
    return Opened(started, request_id_var.set(request_id))


def request_close(request: HttpRequest, answer: Answer | None, opened: Opened) -> None:
    """Puts the id on the answer, counts it (maas.metrics), writes the access-log line, and
    leaves the logs' context."""
    try:
        if answer is not None:
            answer["X-Request-Id"] = request.request_id
            request_observe(request, answer.status_code, opened.started)
            if settings.MAAS_ACCESS_LOG:
                _access_log_write(request, answer.status_code, opened.started)
    finally:
        request_id_var.reset(opened.token)


def _access_log_write(request: HttpRequest, status: int, started: float) -> None:
    principal = getattr(request, "maas_principal", None)
    access_log.info(
        f"{request.method} {request.path} {status}",
        extra={
            "method": request.method,
            "path": request.path,
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
            "tenant_id": principal.tenant_id if principal else None,
        },
    )


def body_cap(content_type: str) -> int:
    """The most bytes a request body of this Content-Type may have."""
    multipart = content_type.startswith("multipart/")
    return settings.MAAS_MAX_UPLOAD_BODY_BYTES if multipart else settings.MAAS_MAX_JSON_BODY_BYTES


class BodySpool:
    """A request body as it is read, kept in memory up to 1 MB and then in an unlinked
    temporary file, and given to the application as `wsgi.input` with the length read. It
    stops taking bytes once past `cap` (the request is then refused with 413 by
    `body_size_check`, and the server closes the connection: the rest was never read)."""

    def __init__(self, cap: int):
        self.cap, self.size = cap, 0
        # Lives as long as the request (its file is unlinked from the start): no context manager.
        self.file = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115

    def want(self) -> int:
        """How many more bytes to read at most (0: enough, the cap is passed)."""
        return max(0, self.cap + 1 - self.size)

    def write(self, chunk: bytes) -> None:
        self.file.write(chunk)
        self.size += len(chunk)

    def install(self, environ: dict) -> None:
        self.file.seek(0)
        environ["wsgi.input"], environ["CONTENT_LENGTH"] = self.file, str(self.size)
        if self.size > self.cap:
            environ[UNSIZED_OVER_CAP] = True


def body_unsized(environ: dict) -> bool:
    """Whether the body comes without a Content-Length (`Transfer-Encoding: chunked`)."""
    return not environ.get("CONTENT_LENGTH") and "chunked" in (
        environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    )


def body_unsized_spool(environ: dict) -> None:
    """A body sent without a Content-Length (chunked; the server has undone the chunking) made
    readable as if it had one, through a BodySpool. Django reads a body without
    CONTENT_LENGTH as empty, so without this a chunked POST lost its body. maas.rsgi reads
    bodies before the application runs and gives them a length; this is for other WSGI servers
    (runserver, tests)."""
    if not body_unsized(environ):
        return
    spool = BodySpool(body_cap(environ.get("CONTENT_TYPE", "")))
    source = environ["wsgi.input"]
    while (want := spool.want()) and (chunk := source.read(min(256 * 1024, want))):
        spool.write(chunk)
    spool.install(environ)


UNSIZED_OVER_CAP = "maas.body_over_cap"


def body_size_check(request: HttpRequest) -> None:
    """Refuses a body larger than the cap from its Content-Length, before anything reads it:
    JSON bodies get MAAS_MAX_JSON_BODY_BYTES, multipart uploads MAAS_MAX_UPLOAD_BODY_BYTES (the
    largest plan's; the tenant's own limit is the upload endpoint's). A chunked body has been
    given a Content-Length by `body_unsized_spool`, which stopped reading past the cap."""
    raw = request.META.get("CONTENT_LENGTH")
    if not raw:
        return
    limit = body_cap(request.META.get("CONTENT_TYPE", ""))
    if request.META.get(UNSIZED_OVER_CAP):
        raise PayloadTooLarge(
            f"The request body (sent chunked) is larger than {limit} bytes, the most this "
            "endpoint accepts. Send less per request."
        )
    try:
        length = int(raw)
        if length < 0:
            raise ValueError
    except ValueError:
        raise InvalidRequest(
            f"Content-Length {raw!r} is not a byte count.", code="bad_request"
        ) from None
    if length > limit:
        raise PayloadTooLarge(
            f"The request body is {length} bytes; the most this endpoint accepts is "
            f"{limit} bytes. Send less per request."
        )


# --- the pipeline ---------------------------------------------------------------------------------


class _Restart(BaseException):
    """Rows this process had cached changed while the request ran: run it again from the
    database. A BaseException, so that the handler's `except Exception` lets it through and
    transaction.atomic rolls back whatever the first run wrote."""


class _Ticket:
    """An authenticated request: its principal, its rate-limit count (with Redis, made when
    first asked for) and the cache generation the principal was trusted under."""

    __slots__ = ("assumed", "pending", "principal")

    def __init__(self, principal: Principal, pending: PendingCount, assumed: object):
        self.principal, self.pending, self.assumed = principal, pending, assumed

    def state(self, tally: TallyEntry | None = None) -> RateLimitState:
        """Counts (once); raises _Restart if cached rows changed meanwhile. `tally` is added
        to its sum in the same round trip if the request is admitted."""
        state = self.pending.state(tally, self.assumed)
        if state.generation != self.assumed:
            raise _Restart()
        return state


def rate_limited(state: RateLimitState) -> RateLimited:
    return RateLimited(
        f"Too many requests: your plan allows {state.limit} per minute. "
        f"Retry in {state.reset_seconds} s.",
        retry_after=state.reset_seconds,
    )


def session_principal(request: HttpRequest) -> Principal | None:
    """The principal of a request authenticated by a signed-in session instead of an API key:
    the console (console.access) sets it on its own requests before it calls a handler, so that
    its actions are admitted, rate-limited, capped and metered as the API's are. Nothing sets it
    from what a client sends."""
    return getattr(request, "maas_session_principal", None)


def _authorization(request: HttpRequest) -> str:
    return request.META.get("HTTP_AUTHORIZATION", "")


def _rate_limit_peek(tenant_id: str, limit: int) -> PendingCount:
    return rate_limit_start(tenant_id, limit, peek=True)


def _authenticate(request: HttpRequest) -> _Ticket:
    # A request run again after its wait was counted on its first run (maas.waiting).
    count = _rate_limit_peek if wait_rerun() else rate_limit_start
    session = session_principal(request)
    if session is not None:
        # Read from the database for this request: current under the generation read before.
        generation = generation_read()
        return _Ticket(session, count(session.tenant_id, session.requests_per_minute), generation)
    found = _hook("authenticate")(_authorization(request), count)
    if found is None:
        raise AuthenticationError(
            "No API key provided. Send it as 'Authorization: Bearer mk_...'.",
            code="missing_api_key",
        )
    return _Ticket(*found)


def serve(request: HttpRequest, policy: Policy, handler: Handler) -> Answer:
    """Admits `request` under `policy`, runs `handler(request, principal)` and records its usage;
    answers the handler's answer or the refusal, with the rate-limit headers."""
    if request.method == "OPTIONS":  # what the path takes; nothing of any tenant's
        return LeanResponse(204, b"", {"Allow": policy.allow})
    if request.method not in policy.methods:
        refusal = MethodNotAllowed(f"{request.method} is not allowed on {request.path}.")
        return error_answer(refusal, request, policy.allow)
    state: RateLimitState | None = None
    try:
        ticket = _authenticate(request)
        try:
            answer = _admitted(request, policy, ticket, handler)
            state = ticket.state()
        except _Restart:
            state = ticket.pending.state()  # already counted: trusted now under its generation
            principal = session_principal(request) or _hook("authenticate_again")(
                _authorization(request), state.generation
            )
            ticket = _Ticket(principal, ticket.pending, state.generation)
            answer = _admitted(request, policy, ticket, handler)
        if not state.allowed:
            answer = error_answer(rate_limited(state), request)
    except Exception as exc:
        answer = error_answer(exc, request)
    if state is not None:
        for name, value in state.headers().items():
            answer[name] = value
    return answer


def _admitted(request: HttpRequest, policy: Policy, ticket: _Ticket, handler: Handler) -> Answer:
    """Steps 4-9 for an authenticated request; errors come back as answers, so that the request
    is still counted (with Redis, when the caller asks for its state)."""
    principal = ticket.principal
    request.maas_principal = principal  # the access log's tenant
    request.tenant = principal.tenant
    # What the handler may read from per-process caches (maas.generation).
    request.maas_generation = ticket.assumed
    method = request.method
    try:
        counted_first = ticket.pending.ready or not policy.count_after_work
        if counted_first and not ticket.state().allowed:
            return error_answer(rate_limited(ticket.state()), request)
        scope = policy.scopes[method]
        if not principal.has_scope(scope):
            raise Forbidden(
                f"This API key lacks the {scope.value!r} scope that {method} "
                f"{request.path} needs. Use a key with that scope (POST /v1/api-keys)."
            )
        if method in policy.spend_checked:
            _hook("spend_check")(principal.tenant)
        key = idempotency_key_from(request) if method == "POST" else None
        if key is None:
            atomic = policy.atomic_writes and method in WRITE_METHODS
            return _run(request, ticket, handler, atomic)
        return _idempotent(request, policy, ticket, handler, key)
    except Exception as exc:
        return error_answer(exc, request)


def _run(request: HttpRequest, ticket: _Ticket, handler: Handler, atomic: bool) -> Answer:
    if atomic:
        with transaction.atomic():
            return _run_and_record(request, ticket, handler)
    return _run_and_record(request, ticket, handler)


def _run_and_record(request: HttpRequest, ticket: _Ticket, handler: Handler) -> Answer:
    result = handler(request, ticket.principal)
    usage = result.usage
    if usage is not None:
        # The rate limit and the caches' generation are settled before any usage is recorded;
        # with Redis the event rides in the count's round trip, added to the usage tally only
        # if the request is admitted under the generation it trusted.
        state = ticket.state(usage.tally_entry)
        if not state.allowed:
            raise rate_limited(state)
        if not state.tallied:
            usage.commit()
        if _hooks.spend_admitted is not None:
            _hooks.spend_admitted(ticket.principal.tenant, usage)
    return result.answer


def _idempotent(
    request: HttpRequest, policy: Policy, ticket: _Ticket, handler: Handler, key: str
) -> Answer:
    started = idempotency_begin(
        tenant_id=ticket.principal.tenant_id,
        key=key,
        fingerprint=request_fingerprint(request),
        method=request.method,
        path=request.get_full_path(),
    )
    if not isinstance(started, IdempotencyRecord):
        return started  # a repeat: the first answer again
    stored = False
    try:
        with transaction.atomic() if policy.atomic_idempotent else nullcontext():
            try:
                answer = _run(request, ticket, handler, policy.atomic_idempotent)
            except Exception as exc:  # the handler's writes rolled back; its error is stored
                answer = error_answer(exc, request)
            if should_store(answer.status_code):
                idempotency_complete(started, answer)
                stored = True
    finally:
        if not stored:
            idempotency_release(started)
    return answer
