"""Artifacts in a real S3-compatible store (moto_server): written encrypted, read only after
their sha256 matches, cached on local disk by sha256 with a bound, and a cache that is
tampered with or deleted is a miss, never a wrong load."""

import hashlib
import os
import time

import boto3
import pytest

from catalog.artifacts import ArtifactCorrupted, artifact_read, artifact_stream, artifact_write


@pytest.fixture
def bucket(s3, settings, tmp_path):
    settings.MAAS_ARTIFACT_CACHE_DIR = tmp_path / "cache"
    client = boto3.client("s3", endpoint_url=s3["AWS_S3_ENDPOINT_URL"])
    return client, s3["bucket"]


def test_an_artifact_goes_to_the_bucket_encrypted_and_comes_back_checked(bucket, settings):
    client, name = bucket
    data = b"model bytes " * 1000
    path, sha256 = artifact_write("models/ten_1/mdl_1/1/model.onnx", data)
    assert sha256 == hashlib.sha256(data).hexdigest()
    stored = client.head_object(Bucket=name, Key=f"tenants/{path}")
    assert stored["ServerSideEncryption"] == "AES256"
    assert not settings.MEDIA_ROOT.exists() or not any(settings.MEDIA_ROOT.rglob("*"))
    assert artifact_read(path, sha256) == data
    size, chunks = artifact_stream(path, sha256)
    assert size == len(data) and b"".join(chunks) == data


def test_a_cached_artifact_is_served_from_disk_and_a_lost_cache_is_a_miss(bucket, settings):
    client, name = bucket
    data = b"weights" * 500
    path, sha256 = artifact_write("models/a.onnx", data)
    assert artifact_read(path, sha256) == data
    cached = settings.MAAS_ARTIFACT_CACHE_DIR / sha256
    assert cached.read_bytes() == data
    client.delete_object(Bucket=name, Key=f"tenants/{path}")
    assert artifact_read(path, sha256) == data  # from the cache: the bucket is not asked
    cached.unlink()
    settings.MAAS_ARTIFACT_CACHE_DIR.rmdir()
    with pytest.raises(FileNotFoundError):
        artifact_read(path, sha256)  # a miss goes to the bucket, which no longer has it


def test_a_tampered_cache_file_is_never_loaded(bucket, settings):
    data = b"the real model"
    path, sha256 = artifact_write("models/b.onnx", data)
    artifact_read(path, sha256)
    (settings.MAAS_ARTIFACT_CACHE_DIR / sha256).write_bytes(b"evil pickle")
    assert artifact_read(path, sha256) == data  # re-read from the bucket and checked
    assert (settings.MAAS_ARTIFACT_CACHE_DIR / sha256).read_bytes() == data


def test_a_changed_object_in_the_bucket_is_refused(bucket):
    client, name = bucket
    path, sha256 = artifact_write("models/c.onnx", b"original")
    client.put_object(Bucket=name, Key=f"tenants/{path}", Body=b"replaced")
    with pytest.raises(ArtifactCorrupted):
        artifact_read(path, sha256)


def test_the_cache_keeps_to_its_bound_dropping_the_least_recently_used(bucket, settings):
    settings.MAAS_ARTIFACT_CACHE_BYTES = 2500
    written = []
    for i in range(4):
        data = bytes([i]) * 1000
        written.append((*artifact_write(f"models/{i}.onnx", data), data))
    for i, (path, sha256, _) in enumerate(written):
        artifact_read(path, sha256)
        cached = settings.MAAS_ARTIFACT_CACHE_DIR / sha256
        if cached.exists():
            stamp = time.time() - 100 + i  # reads far enough apart for any clock
            os.utime(cached, (stamp, stamp))
    kept = sorted(p.name for p in settings.MAAS_ARTIFACT_CACHE_DIR.iterdir())
    assert kept == sorted(sha for _, sha, _ in written[2:])
