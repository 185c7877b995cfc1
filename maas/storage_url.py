"""MAAS_STORAGE_URL (`s3://bucket/prefix`) as django-storages' S3Storage options."""

from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

# Bytes of an object read into memory before the rest spools to a temporary file: reading a
# large dataset or result never holds it whole in memory.
MAX_MEMORY_BYTES = 8 * 1024 * 1024


def s3_storage_options(
    url: str,
    *,
    endpoint_url: str = "",
    region_name: str = "",
    encryption: str = "AES256",
    kms_key_id: str = "",
) -> dict:
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ImproperlyConfigured(
            f"MAAS_STORAGE_URL={url!r}: expected s3://bucket or s3://bucket/prefix."
        )
    object_parameters: dict[str, str] = {}
    if encryption:
        object_parameters["ServerSideEncryption"] = encryption
        if kms_key_id:
            object_parameters["SSEKMSKeyId"] = kms_key_id
    return {
        "bucket_name": parsed.netloc,
        "location": parsed.path.strip("/"),
        "endpoint_url": endpoint_url or None,
        "region_name": region_name or None,
        "object_parameters": object_parameters,
        "max_memory_size": MAX_MEMORY_BYTES,
        "default_acl": None,  # the bucket's own policy: private unless its owner says otherwise
        "querystring_auth": True,
        "file_overwrite": False,  # a name in use gets a new one, as on the filesystem
    }
