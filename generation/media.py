"""A clip's media for its workspace's members only, wherever they are stored (local folder or S3-compatible bucket).

Local files are served by the member-only view (generation.views.clip_media), by Django itself with HTTP ranges,
or by a proxy told through X-Accel-Redirect / X-Sendfile. Bucket objects are private: members get presigned URLs
that expire after MEDIA_URL_EXPIRY seconds. Nothing here assumes `storage.path()` exists, except for local storage.
"""

from __future__ import annotations

import io
import mimetypes
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse

from core.urls import reverse_pk

if TYPE_CHECKING:
    from generation.models import Clip

KINDS = ("video", "gif", "poster")
STREAM_CHUNK = 256 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def is_local(storage: Storage) -> bool:
    return isinstance(storage, FileSystemStorage)


def media_url(clip: Clip, kind: str, request: HttpRequest | None = None) -> str | None:
    """Where a member fetches this clip's `kind` file: the member-only view, or a presigned URL of the bucket.

    Only call it for a clip the caller may see (a workspace-scoped queryset): a presigned URL needs no login."""
    field = getattr(clip, kind)
    if not field:
        return None
    if not is_local(field.storage):
        return field.storage.url(field.name)
    url = reverse_pk("clip_media", clip.pk, kind)
    return _absolute_base(request) + url if request is not None else url


# A page of clips asks for up to 150 URLs: the scheme and host are worked out once per request.
def _absolute_base(request: HttpRequest) -> str:
    base = getattr(request, "_clipcast_absolute_base", None)
    if base is None:
        base = request.build_absolute_uri("/")[:-1]
        request._clipcast_absolute_base = base
    return base


def serve(request: HttpRequest, clip: Clip, kind: str) -> HttpResponse:
    """The response for a member's request of one file (membership already checked by the caller)."""
    field = getattr(clip, kind)
    storage, name = field.storage, field.name
    if not is_local(storage):
        response: HttpResponse = HttpResponseRedirect(storage.url(name))
    elif settings.MEDIA_ACCEL == "x-accel-redirect":
        response = HttpResponse(content_type=_content_type(name))
        response["X-Accel-Redirect"] = settings.MEDIA_ACCEL_PREFIX + quote(name)
    elif settings.MEDIA_ACCEL == "x-sendfile":
        response = HttpResponse(content_type=_content_type(name))
        response["X-Sendfile"] = storage.path(name)
    else:
        response = ranged_response(request, storage.open(name, "rb"), storage.size(name), _content_type(name))
    # Members only: browsers may keep it, shared caches must not.
    response["Cache-Control"] = "private, max-age=300"
    return response


def _content_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def ranged_response(request: HttpRequest, handle: BinaryIO, size: int, content_type: str) -> HttpResponse:
    """The file, or the one byte range asked for (206), so a <video> can seek; 416 for a range past the end."""
    match = _RANGE.match(request.headers.get("Range", "").strip())
    if not match or not (match[1] or match[2]):
        response: HttpResponse = FileResponse(handle, content_type=content_type)
        response["Content-Length"] = str(size)
        response["Accept-Ranges"] = "bytes"
        return response
    if match[1]:
        start, end = int(match[1]), min(int(match[2]) if match[2] else size - 1, size - 1)
    else:  # "bytes=-N": the last N bytes
        start, end = max(0, size - int(match[2])), size - 1
    if start >= size or start > end:
        handle.close()
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    handle.seek(start)
    response = StreamingHttpResponse(_read_range(handle, end - start + 1), status=206, content_type=content_type)
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    return response


def _read_range(handle: BinaryIO, length: int) -> Iterator[bytes]:
    try:
        while length > 0:
            chunk = handle.read(min(STREAM_CHUNK, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk
    finally:
        handle.close()


class _RangedObject(io.RawIOBase):
    """A seekable, read-only view of one bucket object that fetches only the bytes asked for (HTTP range GETs)."""

    def __init__(self, s3_object, size: int) -> None:
        self._object, self._size, self._position = s3_object, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer) -> int:
        wanted = min(len(buffer), self._size - self._position)
        if wanted <= 0:
            return 0
        end = self._position + wanted - 1
        body = self._object.get(Range=f"bytes={self._position}-{end}")["Body"]
        try:
            view, filled = memoryview(buffer), 0
            while filled < wanted:
                chunk = body.read(wanted - filled)
                if not chunk:
                    break
                view[filled:filled + len(chunk)] = chunk
                filled += len(chunk)
        finally:
            body.close()
        self._position += filled
        return filled


def open_stream(storage: Storage, name: str, buffer_size: int = 4 * 1024 * 1024) -> BinaryIO:
    """A seekable binary file object of a stored file, for handing to code without Django (publishing/x/).

    A local file is opened as it is; a bucket object is read in ranges as the reader asks, so a large MP4 is
    streamed to X without first landing whole in memory or on this host's disk."""
    if is_local(storage) or not hasattr(storage, "bucket"):
        return storage.open(name, "rb")
    from storages.utils import clean_name

    s3_object = storage.bucket.Object(storage._normalize_name(clean_name(name)))
    raw = _RangedObject(s3_object, s3_object.content_length)
    return io.BufferedReader(raw, buffer_size=buffer_size)
