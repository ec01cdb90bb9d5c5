"""Where rendered media live: the local filesystem (`make run`) or an S3-compatible bucket (production)."""

from __future__ import annotations

from typing import Any

LOCAL_BACKEND = "django.core.files.storage.FileSystemStorage"
S3_BACKEND = "storages.backends.s3.S3Storage"


def s3_storage(*, bucket: str, endpoint_url: str = "", region: str = "us-east-1", access_key: str = "",
               secret_key: str = "", url_expiry: int = 3600) -> dict[str, Any]:
    """A STORAGES entry for django-storages' S3 backend on a private bucket, handing out presigned URLs only."""
    options: dict[str, Any] = {
        "bucket_name": bucket,
        "region_name": region,
        "default_acl": None,  # objects inherit the bucket's (private) policy, never public-read
        "querystring_auth": True,
        "querystring_expire": url_expiry,
        "file_overwrite": True,  # a render's retry replaces its own object under the same key
        "signature_version": "s3v4",
        # The publisher reads the MP4 in ranges (generation.media.open_stream); whole-object reads spill to disk.
        "max_memory_size": 8 * 1024 * 1024,
    }
    if endpoint_url:
        options["endpoint_url"] = endpoint_url
        # Self-hosted stores (MinIO, Garage, Ceph) answer on one host name: bucket in the path, not in DNS.
        options["addressing_style"] = "path"
    if access_key or secret_key:
        options["access_key"] = access_key
        options["secret_key"] = secret_key
    return {"BACKEND": S3_BACKEND, "OPTIONS": options}
