"""Consecutive fMP4 media segments of one stream joined into one longer segment, without re-encoding.

ffmpeg's HLS muxer writes each segment as ``styp``, ``sidx``, then one fragment (``moof`` + ``mdat``).
A media segment may hold several fragments (RFC 8216 3.3; CMAF calls them chunks, and low-latency
HLS players read parts built the same way), so two segments become one by keeping the first ``styp``
and every fragment in order. The fragments' timing needs no change: each ``tfdt`` already carries
its decode time in the stream, and each ``trun`` points into its own ``mdat`` relative to its
``moof``, so a fragment can move as a whole. The ``sidx`` boxes go: each indexes only its own
segment, players of HLS do not need them, and a wrong index would be worse than none (so the
``styp`` no longer claims the "msix" brand, which promises one).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

_HEADER = struct.Struct(">I4s")
_BASE_DATA_OFFSET_PRESENT = 0x000001  # a tfhd flag: sample offsets counted from the file's start


class NotJoinable(ValueError):
    pass


def boxes(data: bytes) -> Iterator[tuple[str, bytes]]:
    """The top-level boxes of ``data``: (type, the whole box)."""
    position = 0
    while position < len(data):
        if len(data) - position < _HEADER.size:
            raise NotJoinable("a box header is cut short")
        size, kind = _HEADER.unpack_from(data, position)
        if size < _HEADER.size or position + size > len(data):  # 64-bit and to-the-end sizes: not ffmpeg's
            raise NotJoinable(f"box {kind!r} has a size this reader does not take ({size})")
        yield kind.decode("latin-1"), data[position : position + size]
        position += size


def _offsets_are_relative(moof: bytes) -> bool:
    for kind, traf in boxes(moof[_HEADER.size :]):
        if kind == "traf":
            for inner, tfhd in boxes(traf[_HEADER.size :]):
                if inner == "tfhd" and int.from_bytes(tfhd[9:12], "big") & _BASE_DATA_OFFSET_PRESENT:
                    return False
    return True


def _without_index_brand(styp: bytes) -> bytes:
    """The segment type without "msix" (which says a sidx indexes the segment: the join drops them)."""
    brands = [styp[i : i + 4] for i in range(_HEADER.size + 8, len(styp) - 3, 4)]
    kept = [brand for brand in brands if brand != b"msix"]
    body = styp[_HEADER.size : _HEADER.size + 8] + b"".join(kept)
    return _HEADER.pack(_HEADER.size + len(body), b"styp") + body


def join_segments(segments: list[bytes]) -> bytes:
    """One media segment holding the fragments of ``segments``, in order (one segment comes back as it is)."""
    if len(segments) == 1:
        return segments[0]
    joined: list[bytes] = []
    for index, segment in enumerate(segments):
        for kind, box in boxes(segment):
            if kind == "styp":
                if index == 0:
                    joined.append(_without_index_brand(box))
            elif kind == "moof":
                if not _offsets_are_relative(box):
                    raise NotJoinable("a fragment addresses its samples from the file's start")
                joined.append(box)
            elif kind == "mdat":
                joined.append(box)
            elif kind != "sidx":
                raise NotJoinable(f"unexpected box {kind!r} in a media segment")
    return b"".join(joined)
