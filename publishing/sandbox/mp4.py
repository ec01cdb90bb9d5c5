"""Just enough ISO-BMFF parsing to check what X checks first: container, codec, duration, dimensions."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"udta"}
MIN_DURATION_S = 0.5
MAX_DURATION_S = 140.0


class InvalidMedia(ValueError):
    """The file is not a video X accepts; `name` follows X's processing_info.error.name values."""

    def __init__(self, message: str, name: str = "InvalidMedia") -> None:
        super().__init__(message)
        self.name = name


@dataclass
class VideoInfo:
    duration_s: float
    width: int = 0
    height: int = 0
    codecs: set[str] = field(default_factory=set)


def _boxes(data: bytes, start: int, end: int):
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        header = 8
        if size == 1:
            if pos + 16 > end:
                raise InvalidMedia("Truncated MP4 box header.")
            size = struct.unpack(">Q", data[pos + 8:pos + 16])[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise InvalidMedia(f"Corrupt MP4: box {kind!r} overruns the file.")
        yield kind, pos + header, pos + size
        pos += size


def probe(data: bytes) -> VideoInfo:
    """Parse an MP4 and return its duration, size and sample-entry codecs, or raise InvalidMedia."""
    if len(data) < 16 or data[4:8] != b"ftyp":
        raise InvalidMedia("Not an MP4 file: it must start with an 'ftyp' box.", "UnsupportedMedia")
    info = VideoInfo(duration_s=-1.0)
    found_moov = False

    def walk(start: int, end: int) -> None:
        nonlocal found_moov
        for kind, body, stop in _boxes(data, start, end):
            if kind == b"moov":
                found_moov = True
            if kind in CONTAINERS:
                walk(body, stop)
            elif kind == b"mvhd":
                version = data[body]
                if version == 1:
                    timescale, duration = struct.unpack(">IQ", data[body + 20:body + 32])
                else:
                    timescale, duration = struct.unpack(">II", data[body + 12:body + 20])
                if timescale == 0:
                    raise InvalidMedia("Corrupt MP4: movie timescale is 0.")
                info.duration_s = duration / timescale
            elif kind == b"tkhd":
                # width and height are the last 8 bytes, 16.16 fixed point
                w, h = struct.unpack(">II", data[stop - 8:stop])
                if w and h:
                    info.width, info.height = w >> 16, h >> 16
            elif kind == b"stsd":
                # full box header (4) + entry count (4), then sample entries, each a box
                for entry, _, _ in _boxes(data, body + 8, stop):
                    info.codecs.add(entry.decode("latin-1"))

    walk(0, len(data))
    if not found_moov:
        raise InvalidMedia("MP4 has no 'moov' box (the file is incomplete or not an MP4).")
    if info.duration_s < 0:
        raise InvalidMedia("MP4 has no 'mvhd' header, so its duration is unknown.")
    return info


def validate_video(data: bytes, max_bytes: int) -> VideoInfo:
    if len(data) > max_bytes:
        raise InvalidMedia(f"File size {len(data)} bytes exceeds the {max_bytes} byte limit.", "FileSizeExceeded")
    info = probe(data)
    if not info.codecs & {"avc1", "avc3"}:
        found = ", ".join(sorted(info.codecs)) or "none"
        raise InvalidMedia(f"Video codec must be H.264 (avc1); found {found}.", "UnsupportedMedia")
    if info.duration_s < MIN_DURATION_S or info.duration_s > MAX_DURATION_S:
        raise InvalidMedia(
            f"Video duration {info.duration_s:.1f} s is outside the allowed {MIN_DURATION_S}-{MAX_DURATION_S:.0f} s.",
            "InvalidDuration",
        )
    if info.width and info.height:
        # X documents 1280x1024 yet recommends 720x1280: treat the limit as long side x short side.
        long_side, short_side = max(info.width, info.height), min(info.width, info.height)
        if short_side < 32 or long_side > 1280 or short_side > 1024:
            raise InvalidMedia(f"Video is {info.width}x{info.height}; it must be 32x32 to 1280x1024.",
                               "InvalidDimensions")
        if not 1 / 3 <= info.width / info.height <= 3:
            raise InvalidMedia("Video aspect ratio must be between 1:3 and 3:1.", "InvalidDimensions")
    return info
