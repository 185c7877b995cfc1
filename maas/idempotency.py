"""`Idempotency-Key` on POST (API.md "Idempotency"), stored per tenant for 24 hours.

Invariant: for one (tenant, key), the handler's effects happen at most once while the record lives.
- The first request inserts an `in_flight` record in its own committed statement; the unique
  (tenant_id, key) constraint makes that insert the lock, across processes and machines.
- The handler's writes and the stored answer commit in ONE transaction (the base view wraps both),
  so a process killed mid-request leaves neither; its stale lock is taken over after
  MAAS_IDEMPOTENCY_LOCK_SECONDS.
- A repeat with the same fingerprint gets the stored status, body and headers; a different
  fingerprint is 409 `idempotency_key_reused`; a repeat while the first still runs is 409
  `idempotency_key_in_use`.
- Answers a retry could change (402, 429, 5xx) are not stored: the key is released instead.
- A record never holds a secret: an answer that shows one once is stored without it
  (`idempotency_replay_as`), so its replay shows the object and not the secret.
"""

import hashlib
import re
import tempfile
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.http import parse_header_parameters

from maas.errors import Conflict, InvalidRequest
from maas.models import IdempotencyRecord

HEADER = "Idempotency-Key"
_META_KEY = (
    "HTTP_IDEMPOTENCY_KEY"  # request.headers builds a mapping of every header; this does not
)
_REPLAYED_HEADERS = ("Content-Type", "Location")
_NOT_STORED_STATUSES = frozenset({402, 429})
SPOOL_MEMORY_BYTES = 1024 * 1024
SPOOL_CHUNK_BYTES = 256 * 1024


# Visible ASCII: what an HTTP header carries unchanged (edge spaces are trimmed on the way).
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
_KEY = re.compile(KEY_PATTERN)


def idempotency_key_from(request: HttpRequest) -> str | None:
    key = request.META.get(_META_KEY)
    if key is None:
        return None
    if not _KEY.match(key):
        raise InvalidRequest(
            f"{HEADER} must be 1 to 255 visible ASCII characters (no spaces); a UUID is a good "
            "choice.",
            code="idempotency_key_invalid",
            param=HEADER,
        )
    return key


def request_fingerprint(request: HttpRequest) -> str:
    """sha256 of method, full path and body. A multipart upload (up to a gigabyte) is hashed as
    it is read, not held in memory: see `_spooled_body_digest`."""
    digest = hashlib.sha256()
    digest.update(request.method.encode() + b"\n" + request.get_full_path().encode() + b"\n")
    if request.META.get("CONTENT_TYPE", "").startswith("multipart/"):
        _spooled_body_digest(request, digest)
    else:
        digest.update(request.body)
    return digest.hexdigest()


def _spooled_body_digest(request: HttpRequest, digest) -> None:
    """Reads the body from the client once, hashing it on the way into a spool (memory up to
    SPOOL_MEMORY_BYTES, then an unlinked temporary file), and gives the request the spool to
    read from: the form parser that the view runs later reads the same bytes from here. Only
    a POST with an Idempotency-Key pays for it. The hash leaves out the multipart boundary,
    which clients draw at random per attempt (requests, curl): a retry of the same upload is
    the same request. Django's HttpRequest reads its body through `_stream` and refuses to
    parse once `_read_started`; both have been so since Django 1.x."""
    _, params = parse_header_parameters(request.META.get("CONTENT_TYPE", ""))
    boundary = params.get("boundary", "").encode("latin-1")
    without = _BoundaryStripper(boundary, digest) if boundary else digest
    # Lives as long as the request (its file is unlinked from the start): no context manager.
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)  # noqa: SIM115
    while chunk := request.read(SPOOL_CHUNK_BYTES):
        without.update(chunk)
        spool.write(chunk)
    if boundary:
        without.flush()
    spool.seek(0)
    request._stream = spool
    request._read_started = False


class _BoundaryStripper:
    """Feeds `digest` a stream with every occurrence of `boundary` taken out, whatever the
    chunks' edges: the last len(boundary) - 1 bytes of each piece wait for the next one, since a
    boundary may begin there."""

    def __init__(self, boundary: bytes, digest):
        self.boundary, self.digest, self.pending = boundary, digest, b""

    def update(self, chunk: bytes) -> None:
        *whole, last = (self.pending + chunk).split(self.boundary)
        for part in whole:
            self.digest.update(part + b"\0")  # where a boundary was
        cut = max(0, len(last) - (len(self.boundary) - 1))
        self.digest.update(last[:cut])
        self.pending = last[cut:]

    def flush(self) -> None:
        self.digest.update(self.pending)
        self.pending = b""


def idempotency_begin(
    *, tenant_id: str, key: str, fingerprint: str, method: str, path: str
) -> IdempotencyRecord | HttpResponse:
    """Takes the key for this request (returns its record) or answers a repeat (returns the
    stored response). Raises Conflict when the key is in use or was used for another request."""
    for _ in range(3):  # a record can expire or be released between our insert and our read
        now = timezone.now()
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(
                    tenant_id=tenant_id,
                    key=key,
                    request_hash=fingerprint,
                    method=method,
                    path=path[:2048],
                    locked_at=now,
                    expires_at=now + timedelta(seconds=settings.MAAS_IDEMPOTENCY_TTL_SECONDS),
                )
        except IntegrityError:
            pass
        record = IdempotencyRecord.objects.filter(tenant_id=tenant_id, key=key).first()
        if record is None:
            continue
        if record.expires_at <= now:
            IdempotencyRecord.objects.filter(pk=record.pk, expires_at__lte=now).delete()
            continue
        if record.request_hash != fingerprint:
            raise Conflict(
                f"{HEADER} {key!r} was already used for a different request "
                f"({record.method} {record.path}). Use a new key for a new request.",
                code="idempotency_key_reused",
                param=HEADER,
            )
        if record.state == IdempotencyRecord.State.DONE:
            return _replay(record)
        stale = now - timedelta(seconds=settings.MAAS_IDEMPOTENCY_LOCK_SECONDS)
        if record.locked_at < stale:
            taken = IdempotencyRecord.objects.filter(
                pk=record.pk, state=IdempotencyRecord.State.IN_FLIGHT, locked_at=record.locked_at
            ).update(locked_at=now)
            if taken:
                record.locked_at = now
                return record
        raise Conflict(
            f"A request with {HEADER} {key!r} is still being processed. Retry after it finishes.",
            code="idempotency_key_in_use",
            param=HEADER,
        )
    raise Conflict(
        f"{HEADER} {key!r} is changing hands; retry the request.",
        code="idempotency_key_in_use",
        param=HEADER,
    )


def should_store(status_code: int) -> bool:
    return status_code < 500 and status_code not in _NOT_STORED_STATUSES


_REPLAY_CONTENT = "idempotency_replay_content"


def idempotency_replay_as(response: HttpResponse, content: bytes) -> HttpResponse:
    """Marks `response` to be stored, and so replayed, with `content` as its body: for an
    answer that holds what must be shown once (a new key's secret), which the record (kept 24 h,
    readable by any admin key of the tenant that repeats the request) must never hold."""
    setattr(response, _REPLAY_CONTENT, content)
    return response


def idempotency_complete(record: IdempotencyRecord, response: HttpResponse) -> None:
    """Stores the answer to replay: the rendered body, or the one `idempotency_replay_as` set.
    Call inside the transaction that holds the handler's writes."""
    record.state = IdempotencyRecord.State.DONE
    record.status_code = response.status_code
    replay = getattr(response, _REPLAY_CONTENT, None)
    record.response_body = bytes(response.content) if replay is None else replay
    record.response_headers = {h: response[h] for h in _REPLAYED_HEADERS if h in response}
    record.save(update_fields=["state", "status_code", "response_body", "response_headers"])


def idempotency_release(record: IdempotencyRecord) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk, state=IdempotencyRecord.State.IN_FLIGHT).delete()


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(bytes(record.response_body or b""), status=record.status_code)
    for header, value in record.response_headers.items():
        response[header] = value
    response["Idempotent-Replayed"] = "true"
    return response


def purge_expired_idempotency_records() -> int:
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
