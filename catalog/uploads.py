"""Streaming uploads: to a temporary file, hashed on the way, stopped at the tenant's limit."""

import hashlib

from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler
from django.http import HttpRequest


class QuotaHashingUploadHandler(TemporaryFileUploadHandler):
    """Writes each chunk to disk as it arrives (memory stays flat), computes the sha256 as it
    goes, and stops reading the moment the file passes `limit` bytes."""

    def __init__(self, request: HttpRequest, *, limit: int):
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.exceeded = False
        self.digest = hashlib.sha256()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.exceeded = True
            raise StopUpload(connection_reset=True)
        self.digest.update(raw_data)
        return super().receive_data_chunk(raw_data, start)
